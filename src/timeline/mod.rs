//! A picture of what will be removed: one recording's plan drawn as a
//! self-contained SVG timeline (`recpipe plan --timeline FILE`, and
//! `timeline.svg` beside what `recpipe preview` writes).
//!
//! One group per segment (a recording stopped and started again has
//! several), named by its number and its start on the burned-in clock,
//! with its own time axis: offsets from the segment's start and, when that
//! start is known, the clock's time, ticked where the clock reads round
//! times, and a pause the clock showed (its reading jumps there) drawn
//! as a line across the segment. In each group, the ranges the marks ask for in that segment
//! (orange, padded and merged) and one row per output of the segment: its
//! waveform envelope (audio, the peak of each slice of the file's own
//! audio) or its keyframes (video), placed where the file starts in its
//! segment, the ranges actually removed from that output (red: a video
//! cut widened to keyframes shows wider than the mark), and where the
//! output ends.
//!
//! Invariants: the SVG references nothing outside itself (no scripts, no
//! fonts, no links), so it opens offline in any browser. Rows are labelled
//! by track kind and number only — never by file name, which for Zoom's
//! participant audio holds the participant's name. Every time drawn in a
//! group is in that segment's own time, and a segment's clock labels come
//! from its own start (the one its wall-clock marks were placed from),
//! never from another segment's. Media is read as a stream, one frame at
//! a time.

mod svg;

pub use svg::render_svg;

use crate::config::TrackKind;
use crate::media::audio::{AacFrames, AudioError, Frame, aac_decoder};
use crate::media::mp4::{Mp4Error, Mp4File};
use crate::redact::plan::{Fate, FilePlan};
use jiff::civil::DateTime;
use std::path::{Path, PathBuf};
use symphonia::core::audio::SampleBuffer;

/// Slices of the waveform envelope across an audio row.
pub const ENVELOPE_SLICES: usize = 800;

/// Drawing geometry, in SVG user units (= CSS pixels at 100 %).
pub const WIDTH: f64 = 1200.0;
pub const LEFT: f64 = 170.0;
pub const RIGHT: f64 = 20.0;
/// The segment's name above its axis.
pub const HEADING_HEIGHT: f64 = 26.0;
pub const AXIS_HEIGHT: f64 = 56.0;
pub const MARKS_HEIGHT: f64 = 26.0;
pub const ROW_HEIGHT: f64 = 74.0;
/// The solid strip at the bottom of a row that shows what is removed.
pub const STRIP_HEIGHT: f64 = 10.0;
/// Space below a segment's last row.
pub const SEGMENT_GAP: f64 = 18.0;
pub const LEGEND_HEIGHT: f64 = 40.0;
pub const MARKED_COLOUR: &str = "#f5a623";
pub const REMOVED_COLOUR: &str = "#d0021b";
pub const WAVE_COLOUR: &str = "#3b6ea8";

#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("{}: {source}", path.display())]
    Media {
        path: PathBuf,
        #[source]
        source: Mp4Error,
    },
    #[error("{}: {source}", path.display())]
    Audio {
        path: PathBuf,
        #[source]
        source: AudioError,
    },
}

/// What a row draws inside it.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Peak amplitude (0..=1) of each of [`ENVELOPE_SLICES`] equal slices
    /// of the row's duration.
    Envelope(Vec<f32>),
    /// Keyframe times in seconds.
    Keyframes(Vec<f64>),
}

/// One output.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// "video", "mixed audio", "participant audio 2": never a file name.
    pub label: String,
    /// Where the file starts in its segment's time, seconds.
    pub lead: f64,
    /// The output's length after removal, seconds.
    pub duration: f64,
    /// Removed from this output, seconds of the file's own time.
    pub removed: Vec<(f64, f64)>,
    pub content: Content,
}

/// One segment: its own clock and the outputs made from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// 1, 2, … in recording order.
    pub number: u32,
    /// What the burned-in clock showed at the segment's start, when known.
    pub start: Option<DateTime>,
    /// The segment's length (its longest input, lead included), seconds.
    pub length: f64,
    /// The ranges the marks ask for in it, after padding and merging,
    /// seconds of the segment's time.
    pub marked: Vec<(f64, f64)>,
    /// The pauses the clock read from its video showed: the segment time
    /// of the first frame after each and how far the clock jumped there,
    /// seconds, in order.
    pub pauses: Vec<(f64, f64)>,
    pub rows: Vec<Row>,
}

impl Segment {
    /// The length the axis spans: the segment, or any output or mark
    /// reaching further.
    pub fn duration(&self) -> f64 {
        self.rows
            .iter()
            .map(|r| r.lead + r.duration)
            .chain(self.marked.iter().map(|m| m.1))
            .fold(self.length, f64::max)
            .max(1.0)
    }

    /// The x coordinate of time `t` of the segment.
    pub fn x(&self, t: f64) -> f64 {
        LEFT + (t / self.duration()).clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }

    /// How far the clock at segment time `t` is ahead of its start plus
    /// `t`: the pauses before `t`, seconds.
    pub fn paused_before(&self, t: f64) -> f64 {
        self.pauses
            .iter()
            .filter(|(at, _)| *at <= t + 1e-9)
            .map(|(_, by)| by)
            .sum()
    }

    /// Its height in the picture.
    pub fn height(&self) -> f64 {
        row_top(0.0, self.rows.len()) + SEGMENT_GAP
    }

    /// Its name: "segment 2, from 10:01:12", or that only offsets are known.
    pub fn name(&self) -> String {
        match svg::clock(self.start, 0.0) {
            Some(c) => format!("segment {}, from {c}", self.number),
            None => format!(
                "segment {}, clock time unknown: offsets from its start only",
                self.number
            ),
        }
    }
}

/// The top of a segment's marks strip, for a segment drawn from `top`.
pub fn marks_top(top: f64) -> f64 {
    top + HEADING_HEIGHT + AXIS_HEIGHT
}

/// The top of row `i` of a segment drawn from `top`.
pub fn row_top(top: f64, i: usize) -> f64 {
    marks_top(top) + MARKS_HEIGHT + i as f64 * ROW_HEIGHT
}

/// Everything the picture shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub segments: Vec<Segment>,
}

impl Timeline {
    /// The top of segment `i`.
    pub fn segment_top(&self, i: usize) -> f64 {
        self.segments[..i.min(self.segments.len())]
            .iter()
            .map(Segment::height)
            .sum()
    }

    pub fn height(&self) -> f64 {
        self.segment_top(self.segments.len()) + LEGEND_HEIGHT
    }
}

/// The rows for the media outputs of segment `segment` of a plan (dropped
/// files and copied text get none; a plan of one segment gives its files
/// no segment, and they are segment 1's), in the plan's order, each
/// labelled by kind and number within the segment.
pub fn rows(files: &[FilePlan], segment: u32) -> Result<Vec<Row>, TimelineError> {
    let files: Vec<&FilePlan> = files
        .iter()
        .filter(|f| f.segment.unwrap_or(1) == segment)
        .collect();
    let participants = files
        .iter()
        .filter(|f| f.kind == Some(TrackKind::ParticipantAudio) && f.output.is_some())
        .count();
    let mut participant = 0;
    let mut out = Vec::new();
    for f in files {
        let (Some(duration), Some(_)) = (f.duration, &f.output) else {
            continue;
        };
        let label = match f.kind {
            Some(TrackKind::ParticipantAudio) => {
                participant += 1;
                if participants > 1 {
                    format!("participant audio {participant}")
                } else {
                    "participant audio".to_string()
                }
            }
            Some(TrackKind::MixedAudio) => "mixed audio".to_string(),
            Some(TrackKind::Video) if matches!(f.fate, Fate::Video) => "video".to_string(),
            Some(TrackKind::Video) => "audio of the video".to_string(),
            _ => continue,
        };
        let content = match f.fate {
            Fate::Video => Content::Keyframes(keyframes(&f.path)?),
            Fate::Audio { .. } => Content::Envelope(envelope(&f.path, ENVELOPE_SLICES)?),
            Fate::Copy | Fate::Drop { .. } | Fate::Left { .. } => continue,
        };
        out.push(Row {
            label,
            lead: f.lead.as_secs_f64(),
            duration: duration.as_secs_f64(),
            removed: f
                .removed
                .iter()
                .map(|r| (r.start.as_secs_f64(), r.end.as_secs_f64()))
                .collect(),
            content,
        });
    }
    Ok(out)
}

fn open(path: &Path) -> Result<Mp4File, TimelineError> {
    Mp4File::open(path).map_err(|source| TimelineError::Media {
        path: path.to_path_buf(),
        source,
    })
}

/// Presentation times of the video track's keyframes.
pub fn keyframes(path: &Path) -> Result<Vec<f64>, TimelineError> {
    let mp4 = open(path)?;
    let Some(track) = mp4.movie.tracks.iter().find(|t| t.is_video()) else {
        return Ok(Vec::new());
    };
    let scale = f64::from(track.timescale.max(1));
    Ok(track
        .samples()
        .filter(|s| s.is_sync)
        .map(|s| (s.dts as f64 + f64::from(s.cts_offset)) / scale)
        .collect())
}

/// The peak amplitude of each of `slices` equal slices of the first audio
/// track, decoding it frame by frame.
pub fn envelope(path: &Path, slices: usize) -> Result<Vec<f32>, TimelineError> {
    let mp4 = open(path)?;
    let mut peaks = vec![0f32; slices];
    let Some(track) = mp4.movie.tracks.iter().find(|t| t.is_audio()) else {
        return Ok(peaks);
    };
    let audio_err = |source| TimelineError::Audio {
        path: path.to_path_buf(),
        source,
    };
    let total = track.duration.max(1) as f64;
    let mut decoded = aac_decoder(track)
        .and_then(|d| AacFrames::new(path, track, d))
        .map_err(audio_err)?;
    let mut pcm: Option<SampleBuffer<f32>> = None;
    while let Some(Frame { sample, audio }) = decoded.next_frame().map_err(audio_err)? {
        let frames = audio.frames() * audio.spec().channels.count();
        let buf = match &mut pcm {
            Some(b) if b.capacity() >= audio.capacity() * audio.spec().channels.count() => b,
            slot => slot.insert(SampleBuffer::new(audio.capacity() as u64, *audio.spec())),
        };
        buf.copy_interleaved_ref(audio);
        let peak = buf.samples()[..frames]
            .iter()
            .fold(0f32, |m, s| m.max(s.abs()));
        let first = ((sample.dts as f64 / total) * slices as f64) as usize;
        let last = (((sample.dts + u64::from(sample.duration)) as f64 / total) * slices as f64)
            .ceil() as usize;
        for p in &mut peaks[first.min(slices)..last.min(slices)] {
            *p = p.max(peak.min(1.0));
        }
    }
    Ok(peaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reaching_past_its_segment_widens_the_axis() {
        let seg = Segment {
            number: 2,
            start: None,
            length: 50.0,
            marked: vec![(10.0, 20.0)],
            pauses: vec![(30.0, 45.0)],
            rows: vec![Row {
                label: "mixed audio".into(),
                lead: 5.0,
                duration: 55.0,
                removed: Vec::new(),
                content: Content::Envelope(Vec::new()),
            }],
        };
        assert_eq!(seg.duration(), 60.0);
        assert_eq!(seg.paused_before(29.0), 0.0);
        assert_eq!(seg.paused_before(30.0), 45.0);
        assert_eq!(seg.x(60.0), WIDTH - RIGHT);
        assert_eq!(
            seg.name(),
            "segment 2, clock time unknown: offsets from its start only"
        );
    }
}
