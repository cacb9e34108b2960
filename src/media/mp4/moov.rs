//! The movie box: tracks, their handlers, timescales, codecs and sample
//! tables, parsed from a `moov` body held in memory. Tables are read as
//! stored (compact run-length forms are kept compact); nothing is expanded
//! per sample here.

use super::boxes::{children, find, kind_name};
use super::bytes::{Bytes, Short};
use super::{Codec, Edit, Movie, Mp4Error, SampleSizes, SampleTable, StscEntry, Track, aac};

fn short(what: &str) -> impl Fn(Short) -> Mp4Error + '_ {
    move |_| Mp4Error::Malformed(format!("the '{what}' box is cut short"))
}

/// Parses the body of a `moov` box.
pub fn parse_moov(body: &[u8]) -> Result<Movie, Mp4Error> {
    let mut movie = Movie {
        timescale: 0,
        duration: 0,
        tracks: Vec::new(),
        fragmented: false,
    };
    for child in children(body) {
        let child = child?;
        match &child.kind {
            b"mvhd" => {
                let mut b = Bytes::new(child.body);
                let s = short("mvhd");
                let (version, _) = b.full_box().map_err(&s)?;
                if version == 1 {
                    b.skip(16).map_err(&s)?;
                    movie.timescale = b.u32().map_err(&s)?;
                    movie.duration = b.u64().map_err(&s)?;
                } else {
                    b.skip(8).map_err(&s)?;
                    movie.timescale = b.u32().map_err(&s)?;
                    movie.duration = b.u32().map_err(&s)? as u64;
                }
            }
            b"trak" => movie.tracks.push(parse_trak(child.body)?),
            b"mvex" => movie.fragmented = true,
            _ => {}
        }
    }
    Ok(movie)
}

fn parse_trak(body: &[u8]) -> Result<Track, Mp4Error> {
    let tkhd = find(body, b"tkhd")?
        .ok_or_else(|| Mp4Error::Malformed("a track has no 'tkhd' header".into()))?;
    let mut b = Bytes::new(tkhd);
    let s = short("tkhd");
    let (version, _) = b.full_box().map_err(&s)?;
    b.skip(if version == 1 { 16 } else { 8 }).map_err(&s)?;
    let id = b.u32().map_err(&s)?;

    let edits = match find(body, b"edts")? {
        Some(edts) => match find(edts, b"elst")? {
            Some(elst) => parse_elst(elst)?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };

    let mdia = find(body, b"mdia")?
        .ok_or_else(|| Mp4Error::Malformed(format!("track {id} has no 'mdia' box")))?;
    let mdhd = find(mdia, b"mdhd")?
        .ok_or_else(|| Mp4Error::Malformed(format!("track {id} has no 'mdhd' box")))?;
    let mut b = Bytes::new(mdhd);
    let s = short("mdhd");
    let (version, _) = b.full_box().map_err(&s)?;
    let (timescale, duration) = if version == 1 {
        b.skip(16).map_err(&s)?;
        (b.u32().map_err(&s)?, b.u64().map_err(&s)?)
    } else {
        b.skip(8).map_err(&s)?;
        (b.u32().map_err(&s)?, b.u32().map_err(&s)? as u64)
    };
    if timescale == 0 {
        return Err(Mp4Error::Malformed(format!(
            "track {id} has a timescale of 0"
        )));
    }
    let handler = match find(mdia, b"hdlr")? {
        Some(hdlr) => {
            let mut b = Bytes::new(hdlr);
            let s = short("hdlr");
            b.skip(8).map_err(&s)?;
            b.fourcc().map_err(&s)?
        }
        None => *b"none",
    };
    let stbl = find(mdia, b"minf")?
        .map(|minf| find(minf, b"stbl"))
        .transpose()?
        .flatten()
        .ok_or_else(|| Mp4Error::Malformed(format!("track {id} has no sample table")))?;
    let codec = match find(stbl, b"stsd")? {
        Some(stsd) => parse_stsd(stsd)?,
        None => Codec::Missing,
    };
    let samples = parse_stbl(stbl, id)?;
    Ok(Track {
        id,
        handler,
        timescale,
        duration,
        codec,
        edits,
        samples,
    })
}

fn parse_elst(body: &[u8]) -> Result<Vec<Edit>, Mp4Error> {
    let mut b = Bytes::new(body);
    let s = short("elst");
    let (version, _) = b.full_box().map_err(&s)?;
    let count = b.u32().map_err(&s)?;
    let width = if version == 1 { 20 } else { 12 };
    b.table(count, width, |b| {
        let (segment_duration, media_time) = if version == 1 {
            (b.u64()?, b.u64()? as i64)
        } else {
            (b.u32()? as u64, b.u32()? as i32 as i64)
        };
        b.skip(4)?; // media rate
        Ok(Edit {
            segment_duration,
            media_time,
        })
    })
    .map_err(&s)
}

fn parse_stsd(body: &[u8]) -> Result<Codec, Mp4Error> {
    let mut b = Bytes::new(body);
    let s = short("stsd");
    b.full_box().map_err(&s)?;
    let count = b.u32().map_err(&s)?;
    if count == 0 {
        return Ok(Codec::Missing);
    }
    let rest = b.take(b.remaining()).map_err(&s)?;
    let Some(entry) = children(rest).next() else {
        return Ok(Codec::Missing);
    };
    let entry = entry?;
    match &entry.kind {
        b"avc1" | b"avc3" => parse_visual(entry.body, "H.264"),
        b"hvc1" | b"hev1" => parse_visual(entry.body, "HEVC"),
        b"mp4a" => parse_mp4a(entry.body),
        other => Ok(Codec::Other(kind_name(other))),
    }
}

fn parse_visual(body: &[u8], name: &'static str) -> Result<Codec, Mp4Error> {
    let mut b = Bytes::new(body);
    let s = short("visual sample entry");
    b.skip(24).map_err(&s)?;
    let width = b.u16().map_err(&s)?;
    let height = b.u16().map_err(&s)?;
    b.skip(50).map_err(&s)?;
    let rest = b.take(b.remaining()).map_err(&s)?;
    let config = if name == "H.264" {
        find(rest, b"avcC")?.map(|c| c.to_vec())
    } else {
        find(rest, b"hvcC")?.map(|c| c.to_vec())
    };
    Ok(Codec::Video {
        name,
        width,
        height,
        config,
    })
}

fn parse_mp4a(body: &[u8]) -> Result<Codec, Mp4Error> {
    let mut b = Bytes::new(body);
    let s = short("mp4a");
    b.skip(8).map_err(&s)?;
    let qt_version = b.u16().map_err(&s)?;
    b.skip(6).map_err(&s)?;
    let channels = b.u16().map_err(&s)?;
    b.skip(6).map_err(&s)?;
    let rate = b.u32().map_err(&s)? >> 16;
    match qt_version {
        0 => {}
        1 => b.skip(16).map_err(&s)?,
        2 => b.skip(36).map_err(&s)?,
        v => {
            return Err(Mp4Error::Unsupported(format!(
                "QuickTime sound description version {v}"
            )));
        }
    }
    let rest = b.take(b.remaining()).map_err(&s)?;
    let esds = match find(rest, b"esds")? {
        Some(esds) => esds,
        None => match find(rest, b"wave")? {
            Some(wave) => find(wave, b"esds")?.ok_or_else(|| {
                Mp4Error::Malformed("the AAC track has no 'esds' decoder configuration".into())
            })?,
            None => {
                return Err(Mp4Error::Malformed(
                    "the AAC track has no 'esds' decoder configuration".into(),
                ));
            }
        },
    };
    let asc = aac::asc_from_esds(esds)?;
    let config = aac::AudioSpecificConfig::parse(&asc)?;
    Ok(Codec::Aac {
        config,
        asc,
        entry_channels: channels,
        entry_rate: rate,
    })
}

fn parse_stbl(stbl: &[u8], track: u32) -> Result<SampleTable, Mp4Error> {
    let missing = |what: &str| Mp4Error::Malformed(format!("track {track} has no '{what}' table"));
    let stsz = match find(stbl, b"stsz")? {
        Some(body) => {
            let mut b = Bytes::new(body);
            let s = short("stsz");
            b.full_box().map_err(&s)?;
            let fixed = b.u32().map_err(&s)?;
            let count = b.u32().map_err(&s)?;
            if fixed != 0 {
                SampleSizes::Fixed { size: fixed, count }
            } else {
                SampleSizes::Table(b.table(count, 4, |b| b.u32()).map_err(&s)?)
            }
        }
        None => match find(stbl, b"stz2")? {
            Some(body) => parse_stz2(body)?,
            None => return Err(missing("stsz")),
        },
    };
    let chunk_offsets = if let Some(body) = find(stbl, b"stco")? {
        let mut b = Bytes::new(body);
        let s = short("stco");
        b.full_box().map_err(&s)?;
        let count = b.u32().map_err(&s)?;
        b.table(count, 4, |b| b.u32().map(u64::from)).map_err(&s)?
    } else if let Some(body) = find(stbl, b"co64")? {
        let mut b = Bytes::new(body);
        let s = short("co64");
        b.full_box().map_err(&s)?;
        let count = b.u32().map_err(&s)?;
        b.table(count, 8, |b| b.u64()).map_err(&s)?
    } else {
        return Err(missing("stco"));
    };
    let stsc = {
        let body = find(stbl, b"stsc")?.ok_or_else(|| missing("stsc"))?;
        let mut b = Bytes::new(body);
        let s = short("stsc");
        b.full_box().map_err(&s)?;
        let count = b.u32().map_err(&s)?;
        b.table(count, 12, |b| {
            Ok(StscEntry {
                first_chunk: b.u32()?,
                samples_per_chunk: b.u32()?,
                description: b.u32()?,
            })
        })
        .map_err(&s)?
    };
    let stts = {
        let body = find(stbl, b"stts")?.ok_or_else(|| missing("stts"))?;
        let mut b = Bytes::new(body);
        let s = short("stts");
        b.full_box().map_err(&s)?;
        let count = b.u32().map_err(&s)?;
        b.table(count, 8, |b| Ok((b.u32()?, b.u32()?)))
            .map_err(&s)?
    };
    let ctts = match find(stbl, b"ctts")? {
        Some(body) => {
            let mut b = Bytes::new(body);
            let s = short("ctts");
            b.full_box().map_err(&s)?;
            let count = b.u32().map_err(&s)?;
            // Version 0 offsets are unsigned by the letter of the spec, but
            // writers put negative offsets there too; both read as i32.
            b.table(count, 8, |b| Ok((b.u32()?, b.u32()? as i32)))
                .map_err(&s)?
        }
        None => Vec::new(),
    };
    let sync = match find(stbl, b"stss")? {
        Some(body) => {
            let mut b = Bytes::new(body);
            let s = short("stss");
            b.full_box().map_err(&s)?;
            let count = b.u32().map_err(&s)?;
            Some(b.table(count, 4, |b| b.u32()).map_err(&s)?)
        }
        None => None,
    };
    Ok(SampleTable {
        sizes: stsz,
        chunk_offsets,
        stsc,
        stts,
        ctts,
        sync,
    })
}

fn parse_stz2(body: &[u8]) -> Result<SampleSizes, Mp4Error> {
    let mut b = Bytes::new(body);
    let s = short("stz2");
    b.full_box().map_err(&s)?;
    b.skip(3).map_err(&s)?;
    let field = b.u8().map_err(&s)?;
    let count = b.u32().map_err(&s)?;
    let sizes = match field {
        8 => b.table(count, 1, |b| b.u8().map(u32::from)),
        16 => b.table(count, 2, |b| b.u16().map(u32::from)),
        4 => {
            let bytes = b.take((count as usize).div_ceil(2)).map_err(&s)?;
            Ok((0..count as usize)
                .map(|i| {
                    let byte = bytes[i / 2];
                    u32::from(if i % 2 == 0 { byte >> 4 } else { byte & 0x0f })
                })
                .collect())
        }
        other => {
            return Err(Mp4Error::Malformed(format!(
                "'stz2' has a field size of {other} bits"
            )));
        }
    }
    .map_err(&s)?;
    Ok(SampleSizes::Table(sizes))
}
