//! Video cut at keyframes: an MP4 (H.264 or HEVC + its audio) remuxed
//! without re-encoding, each redacted range widened outward to whole groups
//! of pictures — from the keyframe at or before the range start to the
//! keyframe at or after its end — and removed, with the audio losing the
//! same widened span so sound and picture stay in sync.
//!
//! Invariants: nothing kept depends on a removed picture: a cut starts at a
//! keyframe in decode order, and pictures after the resuming keyframe that
//! are shown before it (open-GOP leading pictures, which reference the
//! removed group) are removed with it. B-frames keep their composition
//! offsets; the edit list puts the first shown picture at time 0. Audio
//! frames starting inside a removed span go, and so does every audio frame
//! whose transform reaches into a requested range, so no sound of a range
//! survives either. Tracks other than video and audio are dropped. Output
//! streams through [`crate::media::mp4::write`].

use super::m4a::mux_err;
use super::{Input, Range, RedactError, Report, Timeline, merge};
use crate::media::mp4::write::{self, Brand, OutSample, OutTrack, Source};
use crate::media::mp4::{Codec, Sample, Track};
use std::io::Write;
use std::path::Path;

/// Remuxes the MP4 at `path` to `out` with `ranges` removed, widened to
/// keyframes. `Report::removed` holds the widened ranges.
pub fn cut(path: &Path, ranges: &[Range], out: impl Write) -> Result<Report, RedactError> {
    let input = Input::open(path, None)?;
    let p = prepare(&input, ranges)?;
    let mut out = out;
    let bytes = write::write(path, &input.file, &p.tracks, Brand::Mp4, &mut out)
        .map_err(|e| mux_err(&input, e))?;
    out.flush().map_err(|e| input.write_err(e))?;
    Ok(Report {
        removed: p.removed,
        duration: p.duration,
        bytes,
    })
}

/// What [`cut`] would do: the widened ranges, the output's length and its
/// exact size. Reads the index only; writes nothing.
pub fn plan(path: &Path, ranges: &[Range]) -> Result<Report, RedactError> {
    let input = Input::open(path, None)?;
    let p = prepare(&input, ranges)?;
    let bytes =
        write::size(path, &input.file, &p.tracks, Brand::Mp4).map_err(|e| mux_err(&input, e))?;
    Ok(Report {
        removed: p.removed,
        duration: p.duration,
        bytes,
    })
}

struct Prepared<'a> {
    tracks: Vec<OutTrack<'a>>,
    removed: Vec<Range>,
    duration: std::time::Duration,
}

fn prepare<'a>(input: &'a Input, ranges: &[Range]) -> Result<Prepared<'a>, RedactError> {
    let movie = &input.file.movie;
    let video = movie
        .tracks
        .iter()
        .find(|t| t.is_video() && t.sample_count() > 0)
        .ok_or_else(|| input.unsupported("it has no video track with pictures"))?;
    if !matches!(&video.codec, Codec::Video { name, .. } if *name == "H.264" || *name == "HEVC") {
        return Err(input.unsupported(format!(
            "its video is {}; recpipe cuts H.264 and HEVC",
            video.codec.name()
        )));
    }
    let ranges = merge(ranges.to_vec());
    let vt = Timeline::of(video, movie.timescale);
    let samples: Vec<Sample> = video.samples().collect();
    let keep = keep_mask(&samples, &vt, &ranges);
    let mut removed: Vec<Range> = Vec::new();
    let mut out_video = Vec::with_capacity(samples.len());
    let mut removed_units = 0u64;
    let mut new_dts = 0u64;
    let mut first_shown: Option<i64> = None;
    for (s, &k) in samples.iter().zip(&keep) {
        if k {
            out_video.push(OutSample {
                source: Source::File(s.offset),
                size: s.size,
                duration: s.duration,
                cts_offset: s.cts_offset,
                is_sync: s.is_sync,
            });
            let shown = new_dts as i64 + s.cts_offset as i64;
            first_shown = Some(first_shown.map_or(shown, |f| f.min(shown)));
            new_dts += s.duration as u64;
        } else {
            removed_units += s.duration as u64;
            let (p0, p1) = shown(s, &vt);
            removed.push(Range::new(vt.time_floor(p0), vt.time_ceil(p1)));
        }
    }
    let removed = merge(removed);
    if out_video.is_empty() {
        return Err(
            input.unsupported("the redacted ranges, widened to keyframes, cover the whole video; nothing would be left")
        );
    }
    let mut tracks = vec![OutTrack {
        track: video,
        samples: out_video,
        edit: Some((
            first_shown.unwrap_or(0).max(0) as u64,
            vt.length.saturating_sub(removed_units),
        )),
        filler: Vec::new(),
    }];
    for t in movie
        .tracks
        .iter()
        .filter(|t| t.is_audio() && t.sample_count() > 0)
    {
        tracks.push(audio_track(t, movie.timescale, &removed, &ranges));
    }
    Ok(Prepared {
        tracks,
        removed,
        duration: vt.time_floor(vt.length.saturating_sub(removed_units)),
    })
}

/// A sample's shown span `[start, end)` in presentation units (0 = the
/// first shown instant), clamped at 0.
fn shown(s: &Sample, tl: &Timeline) -> (u64, u64) {
    let p = (s.dts as i64 + s.cts_offset as i64 - tl.start as i64).max(0) as u64;
    (p, p + s.duration as u64)
}

/// Which samples (decode order) to keep: for each range, everything from
/// the last keyframe shown at or before its start up to the first keyframe
/// shown at or after its end goes, and so do the leading pictures after
/// that keyframe that are shown before it (they reference the removed
/// group).
fn keep_mask(samples: &[Sample], tl: &Timeline, ranges: &[Range]) -> Vec<bool> {
    let mut keep = vec![true; samples.len()];
    let keys: Vec<usize> = (0..samples.len()).filter(|&i| samples[i].is_sync).collect();
    let key_at = |i: usize| shown(&samples[i], tl).0;
    for r in ranges {
        let (a, b) = (tl.floor(r.start), tl.ceil(r.end));
        let from = keys
            .iter()
            .rev()
            .find(|&&k| key_at(k) <= a)
            .copied()
            .unwrap_or(0);
        let to = keys
            .iter()
            .find(|&&k| k > from && key_at(k) >= b)
            .copied()
            .unwrap_or(samples.len());
        keep[from..to].iter_mut().for_each(|k| *k = false);
        if to < samples.len() {
            let resume = key_at(to);
            for i in to + 1..samples.len() {
                if samples[i].is_sync {
                    break;
                }
                if shown(&samples[i], tl).0 < resume {
                    keep[i] = false;
                }
            }
        }
    }
    keep
}

/// An audio track losing every frame that starts inside a removed
/// (widened) span, and every frame whose transform reaches into a
/// requested range.
fn audio_track<'a>(
    t: &'a Track,
    movie_timescale: u32,
    removed: &[Range],
    requested: &[Range],
) -> OutTrack<'a> {
    let at = Timeline::of(t, movie_timescale);
    let cut: Vec<(u64, u64)> = removed
        .iter()
        .map(|r| (at.start + at.floor(r.start), at.start + at.floor(r.end)))
        .collect();
    let heard: Vec<(u64, u64)> = requested
        .iter()
        .map(|r| (at.start + at.floor(r.start), at.start + at.ceil(r.end)))
        .collect();
    let mut samples = Vec::with_capacity(t.sample_count() as usize);
    let mut dropped = 0u64;
    for s in t.samples() {
        let reach = s.dts + 2 * s.duration as u64;
        let gone = cut.iter().any(|&(a, b)| s.dts >= a && s.dts < b)
            || heard.iter().any(|&(a, b)| s.dts < b && reach > a);
        if gone {
            dropped += s.duration as u64;
        } else {
            samples.push(OutSample {
                source: Source::File(s.offset),
                size: s.size,
                duration: s.duration,
                cts_offset: s.cts_offset,
                is_sync: s.is_sync,
            });
        }
    }
    OutTrack {
        track: t,
        samples,
        edit: Some((at.start, at.length.saturating_sub(dropped))),
        filler: Vec::new(),
    }
}
