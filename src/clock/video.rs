//! The frames of an MP4 file's H.264 track, decoded to the part of the
//! luma plane where Zoom draws its clock (the bottom right).
//!
//! Invariants: samples are read one at a time through
//! [`SampleReader`](crate::media::mp4::reader::SampleReader) and converted
//! from the MP4 form (length-prefixed NAL units) to Annex B for the
//! decoder; the decoder holds its reference pictures and nothing else is
//! kept but the current crop, so memory is bounded by a few frames (per
//! [`Video::reopen`]ed copy: each has its own decoder and file handle, and
//! shares the sample table). A panic inside the decoder on hostile input is
//! caught and becomes [`ClockError::Decode`]; the decoder is then replaced
//! by a fresh one. A disposable frame (one no other frame refers to:
//! `nal_ref_idc` 0 in every slice) may be skipped unread by the decoder,
//! which the H.264 standard allows without changing any other picture.

use super::ClockError;
use crate::media::mp4::reader::SampleReader;
use crate::media::mp4::{Codec, Mp4File, Sample, Track};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest picture decoded (8K); a larger one is refused before the
/// decoder allocates for it.
const MAX_SIDE: usize = 8192;

/// The part of a decoded picture searched for the clock: the bottom
/// quarter, the right three fifths.
#[derive(Debug, Clone)]
pub struct Crop {
    pub width: usize,
    pub height: usize,
    pub luma: Vec<u8>,
}

impl Crop {
    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.luma[y * self.width + x]
    }

    /// Columns `x0..=x1` of rows `top..=bottom` as a crop of their own
    /// (cut to this crop where they reach past it).
    pub fn window(&self, x0: usize, x1: usize, top: usize, bottom: usize) -> Crop {
        let x1 = x1.min(self.width.saturating_sub(1));
        let bottom = bottom.min(self.height.saturating_sub(1));
        let (x0, top) = (x0.min(x1), top.min(bottom));
        let mut luma = Vec::with_capacity((x1 - x0 + 1) * (bottom - top + 1));
        for row in top..=bottom {
            luma.extend_from_slice(&self.luma[row * self.width + x0..=row * self.width + x1]);
        }
        Crop {
            width: x1 - x0 + 1,
            height: bottom - top + 1,
            luma,
        }
    }
}

/// One sample of the video track with its presentation time.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub sample: Sample,
    /// Media time in seconds (presentation time after the edit list).
    pub time: f64,
}

/// Whether [`Video::decode`] decodes a disposable frame or skips it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Disposable {
    Decode,
    Skip,
}

/// An opened H.264 track, ready to decode.
pub struct Video {
    path: PathBuf,
    reader: SampleReader,
    track: Arc<Track>,
    /// SPS and PPS in Annex B form, given before every keyframe.
    params: Vec<u8>,
    nal_len: usize,
    /// Seconds added to (pts − `origin`) / timescale: empty edits.
    lead: f64,
    origin: i64,
    decoder: rusty_h264_decoder::Decoder,
    buf: Vec<u8>,
    annex_b: Vec<u8>,
}

impl Video {
    /// Opens the file's first H.264 track; `Ok(None)` when it has no video
    /// track at all.
    pub fn open(path: &Path) -> Result<Option<Video>, ClockError> {
        let file = Mp4File::open(path)?;
        let movie_scale = file.movie.timescale.max(1) as f64;
        let Some(track) = file.movie.tracks.into_iter().find(|t| t.is_video()) else {
            return Ok(None);
        };
        let config = match &track.codec {
            Codec::Video {
                name: "H.264",
                config: Some(config),
                ..
            } => config.clone(),
            other => return Err(ClockError::Unsupported(other.name())),
        };
        if track.timescale == 0 {
            return Err(ClockError::Malformed(
                "the video track has no timescale".into(),
            ));
        }
        let (params, nal_len) = parse_avcc(&config)?;
        let mut lead = 0.0;
        let mut origin = 0;
        for edit in &track.edits {
            if edit.media_time < 0 {
                lead += edit.segment_duration as f64 / movie_scale;
            } else {
                origin = edit.media_time;
                break;
            }
        }
        Ok(Some(Video {
            path: path.to_path_buf(),
            reader: SampleReader::open(path)?,
            track: Arc::new(track),
            params,
            nal_len,
            lead,
            origin,
            decoder: rusty_h264_decoder::Decoder::new(),
            buf: Vec::new(),
            annex_b: Vec::new(),
        }))
    }

    /// The same track opened once more, with a decoder of its own (to
    /// decode keyframes on another thread).
    pub fn reopen(&self) -> Result<Video, ClockError> {
        Ok(Video {
            path: self.path.clone(),
            reader: SampleReader::open(&self.path)?,
            track: Arc::clone(&self.track),
            params: self.params.clone(),
            nal_len: self.nal_len,
            lead: self.lead,
            origin: self.origin,
            decoder: rusty_h264_decoder::Decoder::new(),
            buf: Vec::new(),
            annex_b: Vec::new(),
        })
    }

    /// Every sample in decode order with its media time.
    pub fn frames(&self) -> impl Iterator<Item = Frame> + '_ {
        let scale = self.track.timescale as f64;
        self.track.samples().map(move |sample| {
            let pts = sample.dts as i64 + sample.cts_offset as i64 - self.origin;
            Frame {
                sample,
                time: pts as f64 / scale + self.lead,
            }
        })
    }

    /// The track's nominal frame duration in seconds (the first sample's).
    pub fn frame_duration(&self) -> f64 {
        let scale = self.track.timescale as f64;
        self.track
            .samples()
            .next()
            .map_or(0.04, |s| (s.duration as f64 / scale).clamp(0.001, 1.0))
    }

    /// Decodes one sample; the crop of its picture, or `None` when the
    /// decoder gives no picture for it or it is disposable and
    /// `disposable` says to skip it. Keyframes are preceded by the
    /// parameter sets, so decoding may start at any keyframe.
    pub fn decode(
        &mut self,
        frame: &Frame,
        disposable: Disposable,
    ) -> Result<Option<Crop>, ClockError> {
        self.reader.read(&frame.sample, &mut self.buf)?;
        if disposable == Disposable::Skip
            && !frame.sample.is_sync
            && is_disposable(&self.buf, self.nal_len)
        {
            return Ok(None);
        }
        self.annex_b.clear();
        if frame.sample.is_sync {
            self.annex_b.extend_from_slice(&self.params);
        }
        to_annex_b(&self.buf, self.nal_len, &mut self.annex_b).map_err(|e| {
            ClockError::Malformed(format!("video sample {}: {e}", frame.sample.index + 1))
        })?;
        let decoder = &mut self.decoder;
        let data = &self.annex_b;
        let result = catch_unwind(AssertUnwindSafe(|| decoder.decode(data)));
        let picture = match result {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                return Err(ClockError::Decode(format!(
                    "video sample {}: {e:?}",
                    frame.sample.index + 1
                )));
            }
            Err(_) => {
                self.decoder = rusty_h264_decoder::Decoder::new();
                return Err(ClockError::Decode(format!(
                    "video sample {}: the decoder failed on it",
                    frame.sample.index + 1
                )));
            }
        };
        let Some(p) = picture else { return Ok(None) };
        if p.width == 0 || p.height == 0 || p.width > MAX_SIDE || p.height > MAX_SIDE {
            return Err(ClockError::Unsupported(format!(
                "a {}x{} picture",
                p.width, p.height
            )));
        }
        if p.y.len() < p.width * p.height {
            return Err(ClockError::Decode("a picture shorter than its size".into()));
        }
        let (x0, y0) = (p.width * 2 / 5, p.height * 3 / 4);
        let (width, height) = (p.width - x0, p.height - y0);
        let mut luma = Vec::with_capacity(width * height);
        for row in y0..p.height {
            luma.extend_from_slice(&p.y[row * p.width + x0..(row + 1) * p.width]);
        }
        Ok(Some(Crop {
            width,
            height,
            luma,
        }))
    }
}

/// The SPS and PPS of an `avcC` record in Annex B form, and the length of
/// the NAL unit size fields.
fn parse_avcc(avcc: &[u8]) -> Result<(Vec<u8>, usize), ClockError> {
    let bad = || ClockError::Malformed("the H.264 configuration ('avcC') is cut short".into());
    if avcc.len() < 6 {
        return Err(bad());
    }
    let nal_len = (avcc[4] & 3) as usize + 1;
    if nal_len == 3 {
        return Err(ClockError::Malformed(
            "the H.264 configuration gives 3-byte NAL sizes".into(),
        ));
    }
    let mut out = Vec::new();
    let mut pos = 5;
    for set in 0..2 {
        let count = *avcc.get(pos).ok_or_else(bad)? as usize & if set == 0 { 0x1f } else { 0xff };
        pos += 1;
        for _ in 0..count {
            let len = u16::from_be_bytes([
                *avcc.get(pos).ok_or_else(bad)?,
                *avcc.get(pos + 1).ok_or_else(bad)?,
            ]) as usize;
            let nal = avcc.get(pos + 2..pos + 2 + len).ok_or_else(bad)?;
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
            pos += 2 + len;
        }
    }
    Ok((out, nal_len))
}

/// Whether no other frame may refer to this sample's picture: it has a
/// slice, and every slice has `nal_ref_idc` 0. A sample that cannot be
/// parsed is not disposable (decoding it reports the damage).
fn is_disposable(sample: &[u8], nal_len: usize) -> bool {
    let mut pos = 0;
    let mut slices = 0;
    while pos < sample.len() {
        let Some(head) = sample.get(pos..pos + nal_len) else {
            return false;
        };
        let len = head.iter().fold(0usize, |n, b| n << 8 | *b as usize);
        pos += nal_len;
        let Some(&first) = sample.get(pos) else {
            return false;
        };
        // Coded slices: non-IDR (1), data partition A (2), IDR (5).
        if matches!(first & 0x1f, 1 | 2 | 5) {
            if first & 0x60 != 0 {
                return false;
            }
            slices += 1;
        }
        pos += len;
    }
    slices > 0
}

/// Appends the sample's NAL units to `out`, each after a start code.
fn to_annex_b(sample: &[u8], nal_len: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut pos = 0;
    while pos < sample.len() {
        let head = sample
            .get(pos..pos + nal_len)
            .ok_or("a NAL unit size is cut short")?;
        let len = head.iter().fold(0usize, |n, b| n << 8 | *b as usize);
        pos += nal_len;
        let nal = sample
            .get(pos..pos + len)
            .ok_or("a NAL unit runs past the end of its sample")?;
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
        pos += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avcc_gives_start_coded_parameter_sets() {
        let avcc = [1, 100, 0, 31, 0xff, 0xe1, 0, 2, 0x67, 1, 1, 0, 1, 0x68];
        let (params, nal_len) = parse_avcc(&avcc).unwrap();
        assert_eq!(nal_len, 4);
        assert_eq!(params, [0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68]);
        assert!(parse_avcc(&avcc[..9]).is_err());
    }

    #[test]
    fn length_prefixed_nal_units_become_annex_b() {
        let mut out = Vec::new();
        to_annex_b(&[0, 2, 0x65, 9, 0, 1, 0x41], 2, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 9, 0, 0, 0, 1, 0x41]);
        assert!(to_annex_b(&[0, 9, 0x65], 2, &mut Vec::new()).is_err());
        assert!(to_annex_b(&[0], 2, &mut Vec::new()).is_err());
    }

    #[test]
    fn only_a_sample_of_unreferenced_slices_is_disposable() {
        // A non-reference B slice (nal_ref_idc 0) after an SEI.
        assert!(is_disposable(&[0, 2, 0x06, 5, 0, 2, 0x01, 9], 2));
        // A reference slice beside it makes the sample needed.
        assert!(!is_disposable(&[0, 2, 0x01, 9, 0, 2, 0x21, 9], 2));
        // No slice, or a size cut short: decoded, not skipped.
        assert!(!is_disposable(&[0, 2, 0x06, 5], 2));
        assert!(!is_disposable(&[0, 9], 2));
        assert!(!is_disposable(&[0, 2, 0x01, 9, 0], 2));
    }
}
