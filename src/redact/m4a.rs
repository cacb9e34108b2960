//! Audio kept as AAC: the frames of an audio track (from an M4A, or the
//! audio of an MP4) remuxed into an audio-only M4A without re-encoding,
//! with each redacted range's frames replaced by silent AAC-LC frames of
//! the same channel layout (`silence`: the timeline is unchanged) or
//! removed (`cut`).
//!
//! Invariants: an AAC frame's transform spans its own and the next frame's
//! output, so every frame whose transform touches a range is replaced or
//! removed; no frame carrying any of the range's sound is left in the file.
//! The range removed therefore widens by up to two AAC frames (2048
//! samples) each side, never narrows, and is reported. Output streams
//! through [`crate::media::mp4::write`]; nothing is re-encoded.

use super::{Input, Range, RedactError, RedactMode, Report, Timeline, merge};
use crate::media::mp4::write::{self, Brand, MuxError, OutSample, OutTrack, Source};
use crate::media::mp4::{Codec, Track};
use std::io::Write;
use std::path::Path;

/// Remuxes the audio track `track` (or the first audio track) of `path`
/// into an M4A written to `out`, with `ranges` silenced or cut.
pub fn remux(
    path: &Path,
    track: Option<u32>,
    ranges: &[Range],
    mode: RedactMode,
    out: impl Write,
) -> Result<Report, RedactError> {
    let input = Input::open(path, track)?;
    let p = prepare(&input, ranges, mode)?;
    let mut out = out;
    let bytes = write::write(path, &input.file, &[p.track], Brand::M4a, &mut out)
        .map_err(|e| mux_err(&input, e))?;
    out.flush().map_err(|e| input.write_err(e))?;
    Ok(Report {
        removed: p.removed,
        duration: p.duration,
        bytes,
    })
}

/// What [`remux`] would do: the widened ranges, the output's length and
/// its exact size. Reads the index only; writes nothing.
pub fn plan(
    path: &Path,
    track: Option<u32>,
    ranges: &[Range],
    mode: RedactMode,
) -> Result<Report, RedactError> {
    let input = Input::open(path, track)?;
    let p = prepare(&input, ranges, mode)?;
    let bytes =
        write::size(path, &input.file, &[p.track], Brand::M4a).map_err(|e| mux_err(&input, e))?;
    Ok(Report {
        removed: p.removed,
        duration: p.duration,
        bytes,
    })
}

struct Prepared<'a> {
    track: OutTrack<'a>,
    removed: Vec<Range>,
    duration: std::time::Duration,
}

fn prepare<'a>(
    input: &'a Input,
    ranges: &[Range],
    mode: RedactMode,
) -> Result<Prepared<'a>, RedactError> {
    let t = input.audio_track()?;
    let ranges = merge(ranges.to_vec());
    let (config, entry_channels) = match &t.codec {
        Codec::Aac {
            config,
            entry_channels,
            ..
        } => (config, *entry_channels),
        other => {
            return Err(input.unsupported(format!(
                "its audio is {}, which recpipe cannot remux (it handles AAC, as Zoom writes)",
                other.name()
            )));
        }
    };
    let channels = if config.channels > 0 {
        config.channels
    } else {
        entry_channels.min(255) as u8
    };
    let filler = if ranges.is_empty() {
        Vec::new()
    } else if !config.is_plain_lc() {
        return Err(input.unsupported(format!(
            "its audio is {}; recpipe redacts AAC-LC only, as Zoom writes",
            config.name()
        )));
    } else {
        silent_frame(channels).ok_or_else(|| {
            input.unsupported(format!("AAC-LC with channel configuration {channels}"))
        })?
    };
    let tl = Timeline::of(t, input.file.movie.timescale);
    let plan = plan_track(t, &tl, &ranges, mode, filler.len() as u32);
    let presented = match mode {
        RedactMode::Silence => tl.length,
        RedactMode::Cut => tl.length.saturating_sub(plan.dropped),
    };
    Ok(Prepared {
        track: OutTrack {
            track: t,
            samples: plan.samples,
            edit: Some((tl.start, presented)),
            filler,
            patches: Vec::new(),
        },
        removed: plan.removed,
        duration: tl.time_floor(presented),
    })
}

pub(crate) fn mux_err(input: &Input, e: MuxError) -> RedactError {
    match e {
        MuxError::Source(source) => RedactError::Mp4 {
            path: input.path.clone(),
            source,
        },
        MuxError::Read(e) => input.read_err(e),
        MuxError::Write(e) => input.write_err(e),
    }
}

pub(crate) struct TrackPlan {
    pub samples: Vec<OutSample>,
    /// Media units of samples dropped.
    pub dropped: u64,
    /// Presentation spans whose sound is gone: the output slots both of
    /// whose contributing frames were replaced or removed.
    pub removed: Vec<Range>,
}

/// Decides each AAC frame's fate. A frame at decode time `dts` lasting
/// `d` carries the sound of output `[dts, dts + 2d)` (its transform
/// overlaps the next frame's), so it is hit when that span meets a range.
/// Output slot `[dts, dts + d)` of frame k is then gone when frames k-1
/// and k are both hit: for a run of hit frames, from the second frame's
/// slot to the last's, which covers the range and exceeds it by less than
/// one frame on each side. The slots just outside are the neighbouring
/// sound, faded (silence) or blended across the seam (cut).
pub(crate) fn plan_track(
    t: &Track,
    tl: &Timeline,
    ranges: &[Range],
    mode: RedactMode,
    filler_len: u32,
) -> TrackPlan {
    let spans: Vec<(u64, u64)> = ranges
        .iter()
        .map(|r| (tl.start + tl.floor(r.start), tl.start + tl.ceil(r.end)))
        .collect();
    let mut samples = Vec::with_capacity(t.sample_count() as usize);
    let mut hit: Vec<Range> = Vec::new();
    let mut dropped = 0u64;
    let mut span = 0;
    let mut prev_hit = false;
    for s in t.samples() {
        let (lo, hi) = (s.dts, s.dts + 2 * s.duration as u64);
        while span < spans.len() && spans[span].1 <= lo {
            span += 1;
        }
        let is_hit = spans.get(span).is_some_and(|&(a, b)| lo < b && hi > a);
        if is_hit && prev_hit {
            let slot_end = s.dts + s.duration as u64;
            let from = tl.time_floor(lo.saturating_sub(tl.start).min(tl.length));
            let to = tl.time_ceil(slot_end.saturating_sub(tl.start).min(tl.length));
            hit.push(Range::new(from, to));
        }
        prev_hit = is_hit;
        match (is_hit, mode) {
            (false, _) => samples.push(OutSample {
                source: Source::File(s.offset),
                size: s.size,
                duration: s.duration,
                cts_offset: s.cts_offset,
                is_sync: true,
            }),
            (true, RedactMode::Silence) => samples.push(OutSample {
                source: Source::Filler,
                size: filler_len,
                duration: s.duration,
                cts_offset: s.cts_offset,
                is_sync: true,
            }),
            (true, RedactMode::Cut) => dropped += s.duration as u64,
        }
    }
    TrackPlan {
        samples,
        dropped,
        removed: merge(hit),
    }
}

/// A raw AAC-LC frame (no ADTS header) that decodes to digital silence for
/// a channel configuration 1–7: each element (SCE, CPE, LFE per ISO/IEC
/// 14496-3 table 1.19) with a long window and no scale-factor bands, then
/// END.
pub fn silent_frame(channel_config: u8) -> Option<Vec<u8>> {
    const SCE: u32 = 0;
    const CPE: u32 = 1;
    const LFE: u32 = 3;
    let layout: &[u32] = match channel_config {
        1 => &[SCE],
        2 => &[CPE],
        3 => &[SCE, CPE],
        4 => &[SCE, CPE, SCE],
        5 => &[SCE, CPE, CPE],
        6 => &[SCE, CPE, CPE, LFE],
        7 => &[SCE, CPE, CPE, CPE, LFE],
        _ => return None,
    };
    let mut w = BitWriter::default();
    let mut tags = [0u32; 4];
    let ics = |w: &mut BitWriter| {
        w.put(8, 100); // global_gain
        w.put(1, 0); // ics_reserved_bit
        w.put(2, 0); // window_sequence: ONLY_LONG
        w.put(1, 0); // window_shape
        w.put(6, 0); // max_sfb
        w.put(1, 0); // predictor_data_present
        w.put(1, 0); // pulse_data_present
        w.put(1, 0); // tns_data_present
        w.put(1, 0); // gain_control_data_present
    };
    for &element in layout {
        w.put(3, element);
        w.put(4, tags[element as usize]);
        tags[element as usize] += 1;
        if element == CPE {
            w.put(1, 0); // common_window
            ics(&mut w);
        }
        ics(&mut w);
    }
    w.put(3, 7); // ID_END
    Some(w.finish())
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    bits: u32,
    acc: u64,
}

impl BitWriter {
    fn put(&mut self, n: u32, value: u32) {
        self.acc = (self.acc << n) | value as u64;
        self.bits += n;
        while self.bits >= 8 {
            self.bits -= 8;
            self.bytes.push((self.acc >> self.bits) as u8);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            let pad = 8 - self.bits;
            self.put(pad, 0);
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_frames_are_a_few_bytes_for_every_layout() {
        assert_eq!(silent_frame(1).unwrap().len(), 4);
        for c in 1..=7 {
            let f = silent_frame(c).unwrap();
            assert!(!f.is_empty() && f.len() < 32, "{c}: {f:?}");
        }
        assert!(silent_frame(0).is_none());
        assert!(silent_frame(8).is_none());
    }
}
