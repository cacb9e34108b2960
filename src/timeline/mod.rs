//! A picture of what will be removed: one recording's plan drawn as a
//! self-contained SVG timeline (`recpipe plan --timeline FILE`, and
//! `timeline.svg` beside what `recpipe preview` writes).
//!
//! One row per output: its waveform envelope (audio, the peak of each
//! slice of the recording's own audio) or its keyframes (video), the ranges
//! the marks ask for (orange, the padded and merged ranges) and the ranges
//! actually removed from that output (red: a video cut widened to
//! keyframes shows wider than the mark), and where the output ends. The
//! time axis is the recording's timeline, in offsets and, when the start is
//! known, wall-clock time.
//!
//! Invariants: the SVG references nothing outside itself (no scripts, no
//! fonts, no links), so it opens offline in any browser. Rows are labelled
//! by track kind and number only — never by file name, which for Zoom's
//! participant audio holds the participant's name. Media is read as a
//! stream, one frame at a time.

use crate::config::TrackKind;
use crate::media::audio::{AacFrames, AudioError, Frame, aac_decoder};
use crate::media::mp4::{Mp4Error, Mp4File};
use crate::redact::plan::{Fate, FilePlan};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use symphonia::core::audio::SampleBuffer;
use time::PrimitiveDateTime;

/// Slices of the waveform envelope across an audio row.
pub const ENVELOPE_SLICES: usize = 800;

/// Drawing geometry, in SVG user units (= CSS pixels at 100 %).
pub const WIDTH: f64 = 1200.0;
pub const LEFT: f64 = 170.0;
pub const RIGHT: f64 = 20.0;
pub const AXIS_HEIGHT: f64 = 56.0;
pub const MARKS_HEIGHT: f64 = 26.0;
pub const ROW_HEIGHT: f64 = 74.0;
/// The solid strip at the bottom of a row that shows what is removed.
pub const STRIP_HEIGHT: f64 = 10.0;
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
    /// The output's length after removal, seconds.
    pub duration: f64,
    /// Removed from this output, seconds.
    pub removed: Vec<(f64, f64)>,
    pub content: Content,
}

/// Everything the picture shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Wall-clock time at offset 0, when known.
    pub start: Option<PrimitiveDateTime>,
    /// The recording's length (its longest input), seconds: what the axis
    /// spans.
    pub length: f64,
    /// The ranges the marks ask for, after padding and merging, seconds.
    pub marked: Vec<(f64, f64)>,
    pub rows: Vec<Row>,
}

impl Timeline {
    /// The length the axis spans: the recording, or any output or mark
    /// reaching further.
    pub fn duration(&self) -> f64 {
        self.rows
            .iter()
            .map(|r| r.duration)
            .chain(self.marked.iter().map(|m| m.1))
            .fold(self.length, f64::max)
            .max(1.0)
    }

    /// The x coordinate of time `t`.
    pub fn x(&self, t: f64) -> f64 {
        LEFT + (t / self.duration()).clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }

    /// The top of row `i`.
    pub fn row_top(i: usize) -> f64 {
        AXIS_HEIGHT + MARKS_HEIGHT + i as f64 * ROW_HEIGHT
    }

    pub fn height(&self) -> f64 {
        Self::row_top(self.rows.len()) + LEGEND_HEIGHT
    }
}

/// The rows for a plan's media outputs (dropped files and copied text get
/// none), in the plan's order, each labelled by kind and number.
pub fn rows(files: &[FilePlan]) -> Result<Vec<Row>, TimelineError> {
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

fn clock(start: Option<PrimitiveDateTime>, t: f64) -> Option<String> {
    let at = start? + time::Duration::seconds_f64(t);
    let fmt = time::macros::format_description!("[hour]:[minute]:[second]");
    at.format(&fmt).ok()
}

fn offset(t: f64) -> String {
    let s = t.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Tick spacing that gives roughly ten ticks.
fn tick_step(duration: f64) -> f64 {
    [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|s| duration / s <= 12.0)
    .unwrap_or(7200.0)
}

/// The picture as a standalone SVG document.
pub fn render_svg(tl: &Timeline) -> String {
    let w = WIDTH;
    let h = tl.height();
    let d = tl.duration();
    let plot_right = w - RIGHT;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        "<title>recpipe: what will be removed (orange: marked, red: removed)</title>"
    );
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##
    );
    // The axis: offsets above, wall clock below.
    let _ = writeln!(
        s,
        r##"<text x="8" y="20" fill="#333">offset</text><text x="8" y="40" fill="#333">{}</text>"##,
        if tl.start.is_some() {
            "clock time"
        } else {
            "clock time unknown"
        }
    );
    let step = tick_step(d);
    let mut t = 0.0;
    while t <= d + 1e-9 {
        let x = tl.x(t);
        let _ = writeln!(
            s,
            r##"<line class="tick" x1="{x:.2}" y1="46" x2="{x:.2}" y2="{:.2}" stroke="#dddddd"/><text x="{x:.2}" y="20" text-anchor="middle" fill="#333">{}</text>"##,
            Timeline::row_top(tl.rows.len()),
            offset(t)
        );
        if let Some(c) = clock(tl.start, t) {
            let _ = writeln!(
                s,
                r##"<text x="{x:.2}" y="40" text-anchor="middle" fill="#333">{c}</text>"##
            );
        }
        t += step;
    }
    // The marks.
    let my = AXIS_HEIGHT;
    let _ = writeln!(
        s,
        r##"<text x="8" y="{:.2}" fill="#333">marked</text>"##,
        my + 17.0
    );
    for (a, b) in &tl.marked {
        let (x1, x2) = (tl.x(*a), tl.x(*b));
        let _ = writeln!(
            s,
            r##"<rect class="marked" data-start="{a:.3}" data-end="{b:.3}" x="{x1:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{MARKED_COLOUR}"/>"##,
            my + 4.0,
            (x2 - x1).max(1.0),
            MARKS_HEIGHT - 8.0
        );
    }
    for (i, row) in tl.rows.iter().enumerate() {
        let top = Timeline::row_top(i);
        let body = ROW_HEIGHT - STRIP_HEIGHT - 8.0;
        let mid = top + 4.0 + body / 2.0;
        let end = tl.x(d);
        let _ = writeln!(
            s,
            r##"<g class="row" data-label="{}"><text x="8" y="{:.2}" fill="#111">{}</text><text x="8" y="{:.2}" fill="#666" font-size="11">output {} long</text>"##,
            row.label,
            mid - 2.0,
            row.label,
            mid + 13.0,
            offset(row.duration)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{:.2}" width="{:.2}" height="{body:.2}" fill="#f3f4f6"/>"##,
            top + 4.0,
            end - LEFT
        );
        match &row.content {
            Content::Envelope(peaks) => {
                let n = peaks.len().max(1) as f64;
                let mut path = String::new();
                for (k, p) in peaks.iter().enumerate() {
                    let x = tl.x(row.duration * k as f64 / n);
                    let half = f64::from(*p) * body / 2.0;
                    let _ = write!(
                        path,
                        "M{x:.2} {:.2}V{:.2}",
                        mid - half - 0.5,
                        mid + half + 0.5
                    );
                }
                let _ = writeln!(
                    s,
                    r#"<path class="envelope" d="{path}" stroke="{WAVE_COLOUR}" stroke-width="1"/>"#
                );
            }
            Content::Keyframes(times) => {
                for t in times {
                    let x = tl.x(*t);
                    let _ = writeln!(
                        s,
                        r#"<line class="keyframe" data-t="{t:.3}" x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="{WAVE_COLOUR}" stroke-width="1.5"/>"#,
                        top + 8.0,
                        top + 4.0 + body - 4.0
                    );
                }
            }
        }
        for (a, b) in &row.removed {
            let (x1, x2) = (tl.x(*a), tl.x(*b));
            let width = (x2 - x1).max(1.0);
            let _ = writeln!(
                s,
                r##"<rect class="removed-shade" x="{x1:.2}" y="{:.2}" width="{width:.2}" height="{body:.2}" fill="{REMOVED_COLOUR}" fill-opacity="0.25"/><rect class="removed" data-start="{a:.3}" data-end="{b:.3}" x="{x1:.2}" y="{:.2}" width="{width:.2}" height="{STRIP_HEIGHT}" fill="{REMOVED_COLOUR}"/>"##,
                top + 4.0,
                top + 4.0 + body
            );
        }
        s.push_str("</g>\n");
    }
    // The marks' edges across every row, to compare with what is removed.
    let rows_bottom = Timeline::row_top(tl.rows.len());
    for (a, b) in &tl.marked {
        for t in [a, b] {
            let x = tl.x(*t);
            let _ = writeln!(
                s,
                r#"<line class="mark-edge" x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{rows_bottom:.2}" stroke="{MARKED_COLOUR}" stroke-dasharray="4 3"/>"#,
                AXIS_HEIGHT + MARKS_HEIGHT
            );
        }
    }
    let ly = rows_bottom + 24.0;
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{:.2}" width="14" height="10" fill="{MARKED_COLOUR}"/><text x="{:.2}" y="{ly:.2}" fill="#333">marked (padded)</text><rect x="{:.2}" y="{:.2}" width="14" height="10" fill="{REMOVED_COLOUR}"/><text x="{:.2}" y="{ly:.2}" fill="#333">removed from this output (video: widened to keyframes)</text><text x="{plot_right}" y="{ly:.2}" text-anchor="end" fill="#333">blue: sound level / keyframes</text>"##,
        ly - 9.0,
        LEFT + 20.0,
        LEFT + 140.0,
        ly - 9.0,
        LEFT + 160.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Timeline {
        Timeline {
            start: Some(time::macros::datetime!(2026-11-20 14:03:11)),
            length: 159.0,
            marked: vec![(53.0, 67.0)],
            rows: vec![
                Row {
                    label: "video".into(),
                    duration: 159.0,
                    removed: vec![(50.0, 70.0)],
                    content: Content::Keyframes(vec![0.0, 50.0, 70.0]),
                },
                Row {
                    label: "mixed audio".into(),
                    duration: 159.0,
                    removed: vec![(53.0, 67.0)],
                    content: Content::Envelope(vec![0.5; 10]),
                },
            ],
        }
    }

    #[test]
    fn ranges_are_drawn_where_the_plan_says() {
        let tl = sample();
        let svg = render_svg(&tl);
        let x = |t: f64| format!("x=\"{:.2}\"", tl.x(t));
        let marked = svg
            .lines()
            .find(|l| l.contains("class=\"marked\""))
            .unwrap();
        assert!(marked.contains(&x(53.0)), "{marked}");
        let removed: Vec<&str> = svg
            .lines()
            .filter(|l| l.contains("class=\"removed\""))
            .collect();
        assert_eq!(removed.len(), 2);
        assert!(removed[0].contains(&x(50.0)));
        assert!(removed[1].contains(&x(53.0)));
        assert!(svg.contains(">14:03:11<"), "wall clock at offset 0");
        assert!(svg.contains(">0:30<"));
    }

    #[test]
    fn self_contained() {
        let svg = render_svg(&sample());
        for banned in ["<script", "href", "url(", "@import", "http://w", "https:"] {
            let hits = svg.matches(banned).count();
            // The one namespace URI is the only "http" allowed.
            assert!(hits == 0 || (banned == "http://w" && hits == 1), "{banned}");
        }
    }

    #[test]
    fn tick_steps() {
        assert_eq!(tick_step(159.0), 15.0);
        assert_eq!(tick_step(3600.0), 300.0);
        assert_eq!(tick_step(5.0), 1.0);
    }
}
