//! The index of a remuxed file: `ftyp`, and a `moov` whose tracks keep
//! their source's headers and sample descriptions byte for byte and get new
//! sample tables (`stts`, `ctts`, `stss`, `stsc`, `stsz`, `stco`/`co64`),
//! durations and a one-entry edit list.

use super::super::Mp4Error;
use super::super::boxes::{children, find};
use super::{Brand, Chunk, OutTrack};

pub(super) fn ftyp(brand: Brand) -> Vec<u8> {
    let (major, compat): (&[u8; 4], &[&[u8; 4]]) = match brand {
        Brand::Mp4 => (b"isom", &[b"isom", b"iso2", b"avc1", b"mp41"]),
        Brand::M4a => (b"M4A ", &[b"M4A ", b"isom", b"iso2", b"mp41"]),
    };
    let mut b = Vec::new();
    boxed(&mut b, b"ftyp", |b| {
        b.extend_from_slice(major);
        b.extend_from_slice(&512u32.to_be_bytes());
        for c in compat {
            b.extend_from_slice(*c);
        }
    });
    b
}

/// Appends a box of type `kind` whose body `body` writes.
fn boxed(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(kind);
    body(out);
    let size = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// Appends a copy of a source box body under its type.
fn copy_box(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
    boxed(out, kind, |b| b.extend_from_slice(body));
}

/// A copy of an `mvhd`/`mdhd`/`tkhd` body with its duration replaced.
/// `at` gives the duration's offset for version 0 and version 1.
fn with_duration(body: &[u8], at: (usize, usize), duration: u64) -> Result<Vec<u8>, Mp4Error> {
    let mut b = body.to_vec();
    let short = || Mp4Error::Malformed("a movie or track header is cut short".into());
    match b.first() {
        Some(0) => {
            let d = u32::try_from(duration).unwrap_or(u32::MAX);
            b.get_mut(at.0..at.0 + 4)
                .ok_or_else(short)?
                .copy_from_slice(&d.to_be_bytes());
        }
        Some(1) => b
            .get_mut(at.1..at.1 + 8)
            .ok_or_else(short)?
            .copy_from_slice(&duration.to_be_bytes()),
        _ => return Err(short()),
    }
    Ok(b)
}

fn scale(v: u64, from: u32, to: u32) -> u64 {
    (v as u128 * to as u128 / from.max(1) as u128) as u64
}

/// The source `trak` body of track `id`.
fn source_trak(moov: &[u8], id: u32) -> Result<&[u8], Mp4Error> {
    for child in children(moov) {
        let child = child?;
        if &child.kind != b"trak" {
            continue;
        }
        if let Some(tkhd) = find(child.body, b"tkhd")? {
            let at = if tkhd.first() == Some(&1) { 20 } else { 12 };
            if tkhd
                .get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                == Some(id)
            {
                return Ok(child.body);
            }
        }
    }
    Err(Mp4Error::Malformed(format!(
        "track {id} is not in the index"
    )))
}

pub(super) fn build_moov(
    src: &[u8],
    tracks: &[OutTrack<'_>],
    chunks: &[Chunk],
    offsets: &[u64],
    movie_ts: u32,
    co64: bool,
) -> Result<Vec<u8>, Mp4Error> {
    let mvhd = find(src, b"mvhd")?
        .ok_or_else(|| Mp4Error::Malformed("the index has no 'mvhd' header".into()))?;
    let movie_duration = tracks
        .iter()
        .map(|t| scale(t.presented(), t.track.timescale, movie_ts))
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut err = None;
    boxed(&mut out, b"moov", |b| {
        let result = (|| {
            copy_box(b, b"mvhd", &with_duration(mvhd, (16, 24), movie_duration)?);
            for (ti, t) in tracks.iter().enumerate() {
                let trak = source_trak(src, t.track.id)?;
                let mine: Vec<(usize, &Chunk)> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.track == ti)
                    .collect();
                let offs: Vec<u64> = mine
                    .iter()
                    .map(|(i, _)| offsets.get(*i).copied().unwrap_or(0))
                    .collect();
                let counts: Vec<u32> = mine.iter().map(|(_, c)| c.count as u32).collect();
                build_trak(b, trak, t, &counts, &offs, movie_ts, co64)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            err = Some(e);
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn build_trak(
    out: &mut Vec<u8>,
    trak: &[u8],
    t: &OutTrack<'_>,
    chunk_counts: &[u32],
    chunk_offsets: &[u64],
    movie_ts: u32,
    co64: bool,
) -> Result<(), Mp4Error> {
    let id = t.track.id;
    let missing = |what: &str| Mp4Error::Malformed(format!("track {id} has no '{what}' box"));
    let tkhd = find(trak, b"tkhd")?.ok_or_else(|| missing("tkhd"))?;
    let mdia = find(trak, b"mdia")?.ok_or_else(|| missing("mdia"))?;
    let mdhd = find(mdia, b"mdhd")?.ok_or_else(|| missing("mdhd"))?;
    let hdlr = find(mdia, b"hdlr")?.ok_or_else(|| missing("hdlr"))?;
    let minf = find(mdia, b"minf")?.ok_or_else(|| missing("minf"))?;
    let stbl = find(minf, b"stbl")?.ok_or_else(|| missing("stbl"))?;
    let stsd = find(stbl, b"stsd")?.ok_or_else(|| missing("stsd"))?;
    let presented = scale(t.presented(), t.track.timescale, movie_ts);
    let tkhd = with_duration(tkhd, (20, 28), presented)?;
    let mdhd = with_duration(mdhd, (16, 24), t.media_duration())?;
    let mut minf_rest = Vec::new();
    for child in children(minf) {
        let child = child?;
        if &child.kind != b"stbl" {
            copy_box(&mut minf_rest, &child.kind, child.body);
        }
    }
    boxed(out, b"trak", |b| {
        copy_box(b, b"tkhd", &tkhd);
        if let Some((media_time, _)) = t.edit {
            boxed(b, b"edts", |b| {
                boxed(b, b"elst", |b| {
                    b.extend_from_slice(&[1, 0, 0, 0]);
                    b.extend_from_slice(&1u32.to_be_bytes());
                    b.extend_from_slice(&presented.to_be_bytes());
                    b.extend_from_slice(&media_time.to_be_bytes());
                    b.extend_from_slice(&0x0001_0000u32.to_be_bytes());
                })
            });
        }
        boxed(b, b"mdia", |b| {
            copy_box(b, b"mdhd", &mdhd);
            copy_box(b, b"hdlr", hdlr);
            boxed(b, b"minf", |b| {
                b.extend_from_slice(&minf_rest);
                boxed(b, b"stbl", |b| {
                    copy_box(b, b"stsd", stsd);
                    sample_tables(b, t, chunk_counts, chunk_offsets, co64);
                });
            });
        });
    });
    Ok(())
}

/// Run-length encodes `values` as (count, value) pairs.
fn runs<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> Vec<(u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some((n, last)) if *last == v => *n += 1,
            _ => out.push((1, v)),
        }
    }
    out
}

fn sample_tables(b: &mut Vec<u8>, t: &OutTrack<'_>, counts: &[u32], offsets: &[u64], co64: bool) {
    let s = &t.samples;
    let u32s = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_be_bytes());
    let stts = runs(s.iter().map(|s| s.duration));
    boxed(b, b"stts", |b| {
        u32s(b, 0);
        u32s(b, stts.len() as u32);
        for (n, d) in &stts {
            u32s(b, *n);
            u32s(b, *d);
        }
    });
    if s.iter().any(|s| s.cts_offset != 0) {
        let ctts = runs(s.iter().map(|s| s.cts_offset));
        let version = u8::from(ctts.iter().any(|(_, o)| *o < 0));
        boxed(b, b"ctts", |b| {
            b.extend_from_slice(&[version, 0, 0, 0]);
            u32s(b, ctts.len() as u32);
            for (n, o) in &ctts {
                u32s(b, *n);
                b.extend_from_slice(&o.to_be_bytes());
            }
        });
    }
    if s.iter().any(|s| !s.is_sync) {
        let sync: Vec<u32> = (0..s.len())
            .filter(|&i| s[i].is_sync)
            .map(|i| i as u32 + 1)
            .collect();
        boxed(b, b"stss", |b| {
            u32s(b, 0);
            u32s(b, sync.len() as u32);
            for i in sync {
                u32s(b, i);
            }
        });
    }
    let stsc = runs(counts.iter().copied());
    boxed(b, b"stsc", |b| {
        u32s(b, 0);
        u32s(b, stsc.len() as u32);
        let mut chunk = 1u32;
        for (n, per) in &stsc {
            u32s(b, chunk);
            u32s(b, *per);
            u32s(b, 1);
            chunk += n;
        }
    });
    boxed(b, b"stsz", |b| {
        u32s(b, 0);
        match s.first() {
            Some(first) if s.iter().all(|x| x.size == first.size) => {
                u32s(b, first.size);
                u32s(b, s.len() as u32);
            }
            _ => {
                u32s(b, 0);
                u32s(b, s.len() as u32);
                for x in s {
                    u32s(b, x.size);
                }
            }
        }
    });
    // `offsets` is empty while the moov is measured: widths, not values.
    let offset = |i: usize| offsets.get(i).copied().unwrap_or(0);
    if co64 {
        boxed(b, b"co64", |b| {
            u32s(b, 0);
            u32s(b, counts.len() as u32);
            for i in 0..counts.len() {
                b.extend_from_slice(&offset(i).to_be_bytes());
            }
        });
    } else {
        boxed(b, b"stco", |b| {
            u32s(b, 0);
            u32s(b, counts.len() as u32);
            for i in 0..counts.len() {
                u32s(b, offset(i) as u32);
            }
        });
    }
}
