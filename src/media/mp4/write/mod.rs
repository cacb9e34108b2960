//! A streaming MP4 muxer for remuxes of a file opened with
//! [`super::Mp4File`]: chosen tracks, each with its own list of output
//! samples (copied from the source file or given as bytes, such as silent
//! AAC frames), written as `ftyp`, `moov`, `mdat` in one pass.
//!
//! Invariants: the whole layout (chunk offsets included) is computed from
//! the sample lists before the first byte is written, so `moov` comes first
//! and the output needs no seeking: any [`Write`] will do. Sample bytes are
//! copied from the source in output order through one buffered reader;
//! nothing but the index is held in memory. Single source bytes can be
//! replaced on the way ([`OutTrack::patches`], e.g. a NAL unit type); the
//! size of nothing changes. Each track keeps its source's
//! headers (`tkhd`, `mdhd`, `hdlr`, media header, `dinf`) and sample
//! descriptions (`stsd`) byte for byte; only the sample tables, durations
//! and edit list are new. `co64` and a 64-bit `mdat` header are used when
//! the file passes 4 GiB.

mod index;

use super::reader::{CopyError, SampleReader};
use super::{Mp4Error, Mp4File, Track};
use index::{build_moov, ftyp};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Where an output sample's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `size` bytes at this offset of the source file.
    File(u64),
    /// The track's [`OutTrack::filler`] bytes.
    Filler,
}

/// A source byte replaced while copying: (file offset, new byte).
pub type Patch = (u64, u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutSample {
    pub source: Source,
    pub size: u32,
    pub duration: u32,
    pub cts_offset: i32,
    pub is_sync: bool,
}

/// One track of the output.
pub struct OutTrack<'a> {
    pub track: &'a Track,
    pub samples: Vec<OutSample>,
    /// The edit list: media time of the first presented instant and the
    /// presentation length, both in the track's timescale.
    pub edit: Option<(u64, u64)>,
    /// Bytes of every [`Source::Filler`] sample.
    pub filler: Vec<u8>,
    /// Source bytes replaced while copying.
    pub patches: Vec<Patch>,
}

impl OutTrack<'_> {
    fn media_duration(&self) -> u64 {
        self.samples.iter().map(|s| s.duration as u64).sum()
    }

    /// Presentation length in the track's timescale.
    fn presented(&self) -> u64 {
        match self.edit {
            Some((_, len)) => len,
            None => self.media_duration(),
        }
    }
}

/// Which brand family the output declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brand {
    /// Video MP4.
    Mp4,
    /// Audio-only M4A.
    M4a,
}

#[derive(Debug, thiserror::Error)]
pub enum MuxError {
    #[error("{0}")]
    Source(#[from] Mp4Error),
    #[error("cannot read the source: {0}")]
    Read(io::Error),
    #[error("cannot write the output: {0}")]
    Write(io::Error),
}

/// Seconds of media per chunk: tracks are interleaved at this grain.
const CHUNK_SECONDS: u64 = 1;
/// Past this many bytes, 32-bit chunk offsets and box sizes no longer do.
const SMALL_LIMIT: u64 = u32::MAX as u64;
/// Bytes per chunk at most.
const CHUNK_BYTES: u64 = 4 << 20;

struct Chunk {
    track: usize,
    first: usize,
    count: usize,
    /// Decode time of the first sample, in seconds × track timescale
    /// cross-multiplied for ordering.
    start: (u64, u32),
    bytes: u64,
}

/// The output's bytes before the sample data, and where the data goes.
struct Layout {
    head: Vec<u8>,
    chunks: Vec<Chunk>,
    data_len: u64,
}

/// Lays out the output: chunks interleaved by decode time, offsets fixed,
/// `ftyp` + `moov` + `mdat` header serialised.
fn layout(
    path: &Path,
    file: &Mp4File,
    tracks: &[OutTrack<'_>],
    brand: Brand,
    limit: u64,
) -> Result<Layout, MuxError> {
    let moov_src = read_moov(path, file)?;
    for t in tracks {
        if t.track.samples.stsc.iter().any(|e| e.description != 1) {
            return Err(Mp4Error::Unsupported(format!(
                "track {} switches between sample descriptions",
                t.track.id
            ))
            .into());
        }
    }

    // Chunks per track, then interleaved by decode time.
    let mut chunks = Vec::new();
    for (ti, t) in tracks.iter().enumerate() {
        let ts = t.track.timescale as u64;
        let mut dts = 0u64;
        let mut i = 0;
        while i < t.samples.len() {
            let (first, start) = (i, dts);
            let mut bytes = 0u64;
            while i < t.samples.len()
                && (i == first || (dts - start < CHUNK_SECONDS * ts && bytes < CHUNK_BYTES))
            {
                bytes += t.samples[i].size as u64;
                dts += t.samples[i].duration as u64;
                i += 1;
            }
            chunks.push(Chunk {
                track: ti,
                first,
                count: i - first,
                start: (start, t.track.timescale),
                bytes,
            });
        }
    }
    chunks.sort_by(|a, b| {
        let l = a.start.0 as u128 * b.start.1 as u128;
        let r = b.start.0 as u128 * a.start.1 as u128;
        l.cmp(&r).then(a.track.cmp(&b.track))
    });
    let data_len: u64 = chunks.iter().map(|c| c.bytes).sum();

    let ftyp = ftyp(brand);
    let movie_ts = if file.movie.timescale > 0 {
        file.movie.timescale
    } else {
        1000
    };
    // The moov's size does not depend on the offsets' values, only on
    // their width: build it to measure (32-bit offsets first, 64-bit when
    // the file's end would pass the limit), then once for real.
    let mdat_header: u64 = if data_len + 8 > limit { 16 } else { 8 };
    let mut co64 = false;
    let mut probe = build_moov(&moov_src, tracks, &chunks, &[], movie_ts, co64)?;
    if ftyp.len() as u64 + probe.len() as u64 + mdat_header + data_len > limit {
        co64 = true;
        probe = build_moov(&moov_src, tracks, &chunks, &[], movie_ts, co64)?;
    }
    let base = ftyp.len() as u64 + probe.len() as u64 + mdat_header;
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut at = base;
    for c in &chunks {
        offsets.push(at);
        at += c.bytes;
    }
    let moov = build_moov(&moov_src, tracks, &chunks, &offsets, movie_ts, co64)?;
    debug_assert_eq!(moov.len(), probe.len());

    let mut head = ftyp;
    head.extend_from_slice(&moov);
    if mdat_header == 16 {
        head.extend_from_slice(&1u32.to_be_bytes());
        head.extend_from_slice(b"mdat");
        head.extend_from_slice(&(data_len + 16).to_be_bytes());
    } else {
        head.extend_from_slice(&((data_len + 8) as u32).to_be_bytes());
        head.extend_from_slice(b"mdat");
    }
    Ok(Layout {
        head,
        chunks,
        data_len,
    })
}

/// The exact size [`write`] would produce, without writing anything.
pub fn size(
    path: &Path,
    file: &Mp4File,
    tracks: &[OutTrack<'_>],
    brand: Brand,
) -> Result<u64, MuxError> {
    let l = layout(path, file, tracks, brand, SMALL_LIMIT)?;
    Ok(l.head.len() as u64 + l.data_len)
}

/// Writes `tracks` (in this order) as a complete MP4 file to `out`,
/// copying sample bytes from `path`, the file `file` was opened from.
/// Returns the number of bytes written.
pub fn write(
    path: &Path,
    file: &Mp4File,
    tracks: &[OutTrack<'_>],
    brand: Brand,
    out: &mut impl Write,
) -> Result<u64, MuxError> {
    write_limited(path, file, tracks, brand, out, SMALL_LIMIT)
}

/// [`write`], switching to 64-bit offsets past `limit` bytes.
fn write_limited(
    path: &Path,
    file: &Mp4File,
    tracks: &[OutTrack<'_>],
    brand: Brand,
    out: &mut impl Write,
    limit: u64,
) -> Result<u64, MuxError> {
    let Layout {
        head,
        chunks,
        data_len,
    } = layout(path, file, tracks, brand, limit)?;
    out.write_all(&head).map_err(MuxError::Write)?;
    let mut reader = SampleReader::open(path).map_err(MuxError::Read)?;
    let mut patches: Vec<Patch> = tracks.iter().flat_map(|t| t.patches.clone()).collect();
    patches.sort_unstable();
    patches.dedup();
    // Runs of samples contiguous in the source are copied as one.
    let mut run: Option<(u64, u64)> = None;
    let flush = |run: &mut Option<(u64, u64)>,
                 reader: &mut SampleReader,
                 out: &mut dyn Write|
     -> Result<(), MuxError> {
        if let Some((offset, len)) = run.take() {
            copy_patched(reader, offset, len, &patches, out)?;
        }
        Ok(())
    };
    let mut out: &mut dyn Write = out;
    for c in &chunks {
        let t = &tracks[c.track];
        for s in &t.samples[c.first..c.first + c.count] {
            match s.source {
                Source::File(offset) => match &mut run {
                    Some((start, len)) if *start + *len == offset => *len += s.size as u64,
                    _ => {
                        flush(&mut run, &mut reader, &mut out)?;
                        run = Some((offset, s.size as u64));
                    }
                },
                Source::Filler => {
                    flush(&mut run, &mut reader, &mut out)?;
                    out.write_all(&t.filler).map_err(MuxError::Write)?;
                }
            }
        }
    }
    flush(&mut run, &mut reader, &mut out)?;
    Ok(head.len() as u64 + data_len)
}

/// Copies `len` source bytes at `offset` to `out`, with the bytes that
/// `patches` (sorted by offset) names replaced.
fn copy_patched(
    reader: &mut SampleReader,
    offset: u64,
    len: u64,
    patches: &[Patch],
    out: &mut dyn Write,
) -> Result<(), MuxError> {
    let copy = |reader: &mut SampleReader, at: u64, n: u64, out: &mut dyn Write| {
        reader.copy_to(at, n, out).map_err(|e| match e {
            CopyError::Read(e) => MuxError::Read(e),
            CopyError::Write(e) => MuxError::Write(e),
        })
    };
    let end = offset + len;
    let mut at = offset;
    let first = patches.partition_point(|&(p, _)| p < offset);
    for &(p, byte) in patches[first..].iter().take_while(|&&(p, _)| p < end) {
        copy(reader, at, p - at, out)?;
        copy(reader, p, 1, &mut io::sink())?;
        out.write_all(&[byte]).map_err(MuxError::Write)?;
        at = p + 1;
    }
    copy(reader, at, end - at, out)
}

fn read_moov(path: &Path, file: &Mp4File) -> Result<Vec<u8>, MuxError> {
    let moov = file
        .boxes
        .iter()
        .find(|b| &b.kind == b"moov")
        .ok_or(Mp4Error::NoMoov)?;
    let mut f = BufReader::new(crate::fsutil::open_input(path).map_err(MuxError::Read)?);
    f.seek(SeekFrom::Start(moov.body_offset()))
        .map_err(MuxError::Read)?;
    let mut body = vec![0u8; moov.body_len() as usize];
    f.read_exact(&mut body).map_err(MuxError::Read)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    /// Every packet of the first track as an independent demuxer
    /// (symphonia's, a dev-only feature) reads it.
    fn packets_by_symphonia(path: &Path) -> Vec<Vec<u8>> {
        let file = File::open(path).unwrap();
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        hint.with_extension("m4a");
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .unwrap();
        let mut format = probed.format;
        let mut out = Vec::new();
        while let Ok(p) = format.next_packet() {
            out.push(p.data.to_vec());
        }
        out
    }

    /// The 64-bit forms (`co64`, a `largesize` mdat header), forced on a
    /// small file (the sample interview's mixed audio): another demuxer
    /// must read exactly the source's frames from the result.
    #[test]
    fn sixty_four_bit_offsets_read_like_the_source() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-data/2026-11-20 14.03.11 Pilot interview/audio84213977051.m4a");
        let dir = tempfile::tempdir().unwrap();
        let file = Mp4File::open(&src).unwrap();
        let track = &file.movie.tracks[0];
        let samples = track
            .samples()
            .map(|s| OutSample {
                source: Source::File(s.offset),
                size: s.size,
                duration: s.duration,
                cts_offset: s.cts_offset,
                is_sync: true,
            })
            .collect();
        let edit = track.edits.first().map(|e| {
            let len = e.segment_duration * track.timescale as u64 / file.movie.timescale as u64;
            (e.media_time as u64, len)
        });
        let tracks = [OutTrack {
            track,
            samples,
            edit,
            filler: Vec::new(),
            patches: Vec::new(),
        }];
        let out = dir.path().join("out.m4a");
        let mut w = File::create(&out).unwrap();
        let n = write_limited(&src, &file, &tracks, Brand::M4a, &mut w, 0).unwrap();
        drop(w);
        assert_eq!(n, std::fs::metadata(&out).unwrap().len());

        let ours = Mp4File::open(&out).unwrap();
        let mdat = ours.boxes.iter().find(|b| &b.kind == b"mdat").unwrap();
        assert_eq!(mdat.header_len, 16, "a 64-bit mdat header");
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.windows(4).any(|w| w == b"co64"));
        assert!(!bytes.windows(4).any(|w| w == b"stco"));
        let (a, b) = (packets_by_symphonia(&src), packets_by_symphonia(&out));
        assert!(a.len() > 100, "the sample has {} frames", a.len());
        assert_eq!(a, b);
    }

    /// Patched bytes: the output differs from the unpatched one exactly at
    /// the patched bytes (one inside a run of contiguous samples, one at a
    /// sample's last byte) and holds the new values there.
    #[test]
    fn patches_replace_single_bytes_while_copying() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-data/2026-11-20 14.03.11 Pilot interview/audio84213977051.m4a");
        let file = Mp4File::open(&src).unwrap();
        let track = &file.movie.tracks[0];
        let all: Vec<_> = track.samples().collect();
        let samples: Vec<OutSample> = all
            .iter()
            .map(|s| OutSample {
                source: Source::File(s.offset),
                size: s.size,
                duration: s.duration,
                cts_offset: s.cts_offset,
                is_sync: true,
            })
            .collect();
        let (p1, p2) = (all[3].offset + 1, all[7].offset + all[7].size as u64 - 1);
        let out = |patches: Vec<Patch>| {
            let tracks = [OutTrack {
                track,
                samples: samples.clone(),
                edit: None,
                filler: Vec::new(),
                patches,
            }];
            let mut w = Vec::new();
            write(&src, &file, &tracks, Brand::M4a, &mut w).unwrap();
            w
        };
        let plain = out(Vec::new());
        let patched = out(vec![(p2, 0xA5), (p1, 0x5A)]);
        assert_eq!(plain.len(), patched.len());
        let diff: Vec<(u8, u8)> = plain
            .iter()
            .zip(&patched)
            .filter(|(a, b)| a != b)
            .map(|(&a, &b)| (a, b))
            .collect();
        let source = std::fs::read(&src).unwrap();
        let want: Vec<(u8, u8)> = [(p1, 0x5A), (p2, 0xA5)]
            .iter()
            .map(|&(at, new)| (source[at as usize], new))
            .filter(|(old, new)| old != new)
            .collect();
        assert_eq!(diff, want);
        assert_eq!(want.len(), 2, "pick bytes that the patch changes");
    }
}
