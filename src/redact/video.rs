//! Video cut at clean random-access points: an MP4 (H.264 or HEVC + its
//! audio) remuxed without re-encoding, each redacted range widened outward
//! to whole groups of pictures — from the keyframe at or before the range
//! start to the first clean random-access point ([`super::nal`]) at or
//! after its end — and removed, with the audio losing the same widened span
//! so sound and picture stay in sync.
//!
//! Invariants: nothing kept depends on a removed picture: a cut starts at a
//! keyframe in decode order and resumes at an H.264 IDR, an HEVC IDR/BLA, or
//! an HEVC CRA rewritten to a BLA in the copy — never at an open-GOP
//! I-picture, whose followers may reference the removed group. Pictures
//! after the resume point that are shown before it (leading pictures) are
//! removed with it. When no clean point follows a range, the rest of the
//! video goes. Every kept picture is shown at its source time less the
//! removed pictures shown before it, so display order is kept; the edit list
//! puts the first shown picture at time 0. Audio frames starting inside a
//! removed span go, and so does every audio frame whose transform reaches
//! into a requested range, so no sound of a range survives either. Tracks
//! other than video and audio are dropped. Output streams through
//! [`crate::media::mp4::write`].

use super::m4a::mux_err;
use super::nal::{Access, NalReader};
use super::{Input, Range, RedactError, Report, Timeline, merge};
use crate::media::mp4::write::{self, Brand, OutSample, OutTrack, Patch, Source};
use crate::media::mp4::{Codec, Sample, Track};
use std::io::Write;
use std::path::Path;

/// Remuxes the MP4 at `path` to `out` with `ranges` removed, widened to
/// clean random-access points. `Report::removed` holds the widened ranges.
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
/// exact size. Reads the index and the NAL headers of candidate resume
/// points only; writes nothing.
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
    let (keep, patches) = if ranges.is_empty() {
        (vec![true; samples.len()], Vec::new())
    } else {
        let mut nal =
            NalReader::open(&input.path, &video.codec).map_err(|e| input.unsupported(e))?;
        keep_mask(&samples, &vt, &ranges, |s| {
            nal.access(s).map_err(|e| input.read_err(e))
        })?
    };
    let mut removed: Vec<Range> = Vec::new();
    let mut removed_units = 0u64;
    for (s, _) in samples.iter().zip(&keep).filter(|(_, k)| !**k) {
        removed_units += s.duration as u64;
        let (p0, p1) = shown(s, &vt);
        removed.push(Range::new(vt.time_floor(p0), vt.time_ceil(p1)));
    }
    let (out_video, first_shown) = retime(&samples, &keep);
    let removed = merge(removed);
    if out_video.is_empty() {
        return Err(
            input.unsupported("the redacted ranges, widened to keyframes, cover the whole video; nothing would be left")
        );
    }
    let mut tracks = vec![OutTrack {
        track: video,
        samples: out_video,
        edit: Some((first_shown, vt.length.saturating_sub(removed_units))),
        filler: Vec::new(),
        patches,
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

/// The kept samples with new composition offsets: each picture is shown at
/// its source time less the durations of the removed pictures shown before
/// it, so display order and spacing are kept even when pictures shown
/// before a resume point but decoded after it are removed. Returns them with
/// the first shown instant (≥ 0) for the edit list.
fn retime(samples: &[Sample], keep: &[bool]) -> (Vec<OutSample>, u64) {
    let shifts = Shifts::of(samples, keep);
    let mut out = Vec::with_capacity(samples.len());
    let mut new_dts = 0i64;
    let mut first = i64::MAX;
    for (s, _) in samples.iter().zip(keep).filter(|(_, k)| **k) {
        let pts = s.dts as i64 + s.cts_offset as i64;
        let new_pts = pts - shifts.before(pts);
        first = first.min(new_pts);
        out.push(OutSample {
            source: Source::File(s.offset),
            size: s.size,
            duration: s.duration,
            cts_offset: (new_pts - new_dts) as i32,
            is_sync: s.is_sync,
        });
        new_dts += s.duration as i64;
    }
    // A kept picture may now be shown before its decode time; the edit
    // list cannot start before 0, so every picture moves later alike.
    if first < 0 {
        for o in &mut out {
            o.cts_offset -= first as i32;
        }
        first = 0;
    }
    (out, first.max(0) as u64)
}

/// Durations of the removed pictures by the time they are shown.
struct Shifts {
    /// (source presentation time, sum of removed durations shown before it)
    gone: Vec<(i64, i64)>,
}

impl Shifts {
    fn of(samples: &[Sample], keep: &[bool]) -> Shifts {
        let mut gone: Vec<(i64, i64)> = samples
            .iter()
            .zip(keep)
            .filter(|(_, k)| !**k)
            .map(|(s, _)| (s.dts as i64 + s.cts_offset as i64, s.duration as i64))
            .collect();
        gone.sort_unstable();
        let mut sum = 0;
        for g in &mut gone {
            sum += g.1;
            g.1 = sum;
        }
        Shifts { gone }
    }

    /// How much earlier a kept picture shown at source time `pts` is shown
    /// in the output.
    fn before(&self, pts: i64) -> i64 {
        match self.gone.partition_point(|g| g.0 < pts) {
            0 => 0,
            n => self.gone[n - 1].1,
        }
    }
}

/// Which samples (decode order) to keep, and the bytes to rewrite: for each
/// range, everything from the last keyframe shown at or before its start up
/// to the first clean random-access point (`access`) shown at or after its
/// end goes, and so do the leading pictures after that point that are shown
/// before it (they may reference the removed group). A CRA resumed at is
/// made a BLA. With no clean point after a range, the rest goes.
fn keep_mask<E>(
    samples: &[Sample],
    tl: &Timeline,
    ranges: &[Range],
    mut access: impl FnMut(&Sample) -> Result<Access, E>,
) -> Result<(Vec<bool>, Vec<Patch>), E> {
    let mut keep = vec![true; samples.len()];
    let mut patches = Vec::new();
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
        let mut to = samples.len();
        for &k in keys.iter().filter(|&&k| k > from && key_at(k) >= b) {
            match access(&samples[k])? {
                Access::Clean => {}
                Access::Cra(bytes) => patches.extend(bytes),
                Access::NotClean => continue,
            }
            to = k;
            break;
        }
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
    Ok((keep, patches))
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
        patches: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples of 1-unit frames in decode order, from each one's display
    /// position and whether it is marked sync.
    fn samples(display: &[(i64, bool)]) -> Vec<Sample> {
        display
            .iter()
            .enumerate()
            .map(|(i, &(pts, sync))| Sample {
                index: i as u32,
                offset: 100 * i as u64,
                size: 100,
                dts: i as u64,
                duration: 1,
                cts_offset: (pts - i as i64) as i32,
                is_sync: sync,
            })
            .collect()
    }

    fn shown_at(out: &[OutSample], first: u64) -> Vec<i64> {
        let mut dts = 0i64;
        let mut pts: Vec<i64> = out
            .iter()
            .map(|o| {
                let p = dts + o.cts_offset as i64 - first as i64;
                dts += o.duration as i64;
                p
            })
            .collect();
        pts.sort_unstable();
        pts
    }

    /// A cut that resumes at an open-GOP picture whose two leading
    /// pictures (decoded after it, shown before it) are removed: the kept
    /// pictures are shown one after another from 0, none twice, none out
    /// of order — rebuilding times from kept durations alone would show the
    /// pictures after the resume point before it.
    #[test]
    fn dropping_leading_pictures_keeps_display_order() {
        // Display positions, decode order: I(2) B(0) B(1) | I(5) B(3) B(4)
        // | CRA(8) RASL(6) RASL(7) P(11) B(9) B(10)
        let s = samples(&[
            (2, true),
            (0, false),
            (1, false),
            (5, true),
            (3, false),
            (4, false),
            (8, true),
            (6, false),
            (7, false),
            (11, false),
            (9, false),
            (10, false),
        ]);
        // Remove the second group and the CRA's leading pictures.
        let keep: Vec<bool> = (0..s.len())
            .map(|i| !(3..6).contains(&i) && i != 7 && i != 8)
            .collect();
        let (out, first) = retime(&s, &keep);
        assert_eq!(out.len(), 7);
        assert_eq!(shown_at(&out, first), (0..7).collect::<Vec<_>>());
        // The CRA (the 4th kept in decode order) is shown right after the
        // first group, before the pictures decoded after it.
        let mut dts = 0i64;
        let pts: Vec<i64> = out
            .iter()
            .map(|o| {
                let p = dts + o.cts_offset as i64 - first as i64;
                dts += 1;
                p
            })
            .collect();
        assert_eq!(pts, vec![2, 0, 1, 3, 6, 4, 5]);
    }
}
