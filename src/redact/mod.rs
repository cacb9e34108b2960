//! Redaction and track selection: the marks a researcher writes, turned
//! into time ranges; those ranges silenced or cut out of audio (decoded to
//! WAV, or AAC frames remuxed to M4A) and cut out of MP4 video at keyframes;
//! and the plan that says, for each file of a recording, what becomes of it.
//!
//! Invariants: every output is written into a caller-supplied
//! [`std::io::Write`] in one pass over its input, so the caller decides
//! where plaintext goes (the pipeline passes a sealing writer). Nothing
//! here creates a file. Ranges only ever widen: a redacted range is never
//! rounded inward, and the range actually removed is reported.

pub mod audio;
pub mod clock;
pub mod m4a;
pub mod marks;
mod nal;
pub mod pending;
pub mod plan;
pub mod video;

use crate::media::audio::AudioError;
use crate::media::mp4::Mp4Error;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::config::RedactMode;

/// A span of a recording's presentation timeline, `start` inclusive, `end`
/// exclusive, measured from the start of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Range {
    pub start: Duration,
    pub end: Duration,
}

impl Range {
    pub fn new(start: Duration, end: Duration) -> Range {
        Range { start, end }
    }

    /// A range from seconds; negative or non-finite values count as 0.
    pub fn secs(start: f64, end: f64) -> Range {
        let d = |s: f64| Duration::try_from_secs_f64(s).unwrap_or_default();
        Range::new(d(start), d(end))
    }

    pub fn len(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether this range includes all of `other`.
    pub fn covers(&self, other: &Range) -> bool {
        self.start <= other.start && self.end >= other.end
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} - {}", clock(self.start), clock(self.end))
    }
}

/// `+H:MM:SS.mmm`, the offset form used in marks files.
pub fn clock(d: Duration) -> String {
    let ms = d.as_millis();
    format!(
        "+{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Sorts ranges, drops empty ones and merges those that overlap or touch.
pub fn merge(mut ranges: Vec<Range>) -> Vec<Range> {
    ranges.retain(|r| !r.is_empty());
    ranges.sort();
    let mut out: Vec<Range> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// What a redaction wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The ranges actually silenced or removed, in the input's timeline;
    /// each covers the requested range it came from.
    pub removed: Vec<Range>,
    /// Length of the output's timeline.
    pub duration: Duration,
    /// Bytes written to the output.
    pub bytes: u64,
}

/// Why a redaction could not be made. Nothing written to the output so far
/// may be used.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("{}: {source}", path.display())]
    Mp4 {
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
    #[error("{}: {why}", path.display())]
    Unsupported { path: PathBuf, why: String },
    #[error("{}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the output of {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RedactError {
    /// Whether the input is one recpipe cannot handle (as opposed to broken
    /// or unreadable).
    pub fn is_unsupported(&self) -> bool {
        match self {
            RedactError::Unsupported { .. } => true,
            RedactError::Mp4 { source, .. } => source.is_unsupported(),
            RedactError::Audio { source, .. } => matches!(source, AudioError::Unsupported(_)),
            _ => false,
        }
    }
}

/// An input file opened and its track chosen.
pub(crate) struct Input {
    pub path: PathBuf,
    pub file: crate::media::mp4::Mp4File,
    /// Index into `file.movie.tracks` of the chosen audio track.
    pub audio: Option<usize>,
}

impl Input {
    /// Opens `path`; picks the audio track with id `track`, or the first
    /// audio track.
    pub fn open(path: &std::path::Path, track: Option<u32>) -> Result<Input, RedactError> {
        let file = crate::media::mp4::Mp4File::open(path).map_err(|source| RedactError::Mp4 {
            path: path.to_path_buf(),
            source,
        })?;
        let audio = file
            .movie
            .tracks
            .iter()
            .position(|t| t.is_audio() && track.is_none_or(|id| t.id == id));
        Ok(Input {
            path: path.to_path_buf(),
            file,
            audio,
        })
    }

    pub fn audio_track(&self) -> Result<&crate::media::mp4::Track, RedactError> {
        self.audio
            .map(|i| &self.file.movie.tracks[i])
            .ok_or_else(|| RedactError::Unsupported {
                path: self.path.clone(),
                why: "it has no audio track".into(),
            })
    }

    pub fn unsupported(&self, why: impl Into<String>) -> RedactError {
        RedactError::Unsupported {
            path: self.path.clone(),
            why: why.into(),
        }
    }

    pub fn read_err(&self, source: std::io::Error) -> RedactError {
        RedactError::Read {
            path: self.path.clone(),
            source,
        }
    }

    pub fn write_err(&self, source: std::io::Error) -> RedactError {
        RedactError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

/// Where a track's presentation starts in its media timeline and how long
/// it lasts, from its edit list: the first edit that maps media (encoder
/// priming for AAC, the B-frame delay for video) and its length. Empty
/// edits (leading gaps) are not reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeline {
    pub timescale: u32,
    /// Media time of the first presented instant.
    pub start: u64,
    /// Presentation length in media units.
    pub length: u64,
}

impl Timeline {
    pub fn of(track: &crate::media::mp4::Track, movie_timescale: u32) -> Timeline {
        // The last instant shown: with composition offsets (B-frames) the
        // last picture shown is not the last decoded.
        let total: u64 = if track.samples.ctts.is_empty() {
            track
                .samples
                .stts
                .iter()
                .map(|(n, d)| *n as u64 * *d as u64)
                .sum()
        } else {
            track
                .samples()
                .map(|s| (s.dts as i64 + s.cts_offset as i64 + s.duration as i64).max(0) as u64)
                .max()
                .unwrap_or(0)
        };
        let edit = track.edits.iter().find(|e| e.media_time >= 0);
        let start = edit.map_or(0, |e| e.media_time as u64).min(total);
        let mut length = total - start;
        if let Some(e) = edit
            && e.segment_duration > 0
            && movie_timescale > 0
        {
            let seg = (e.segment_duration as u128 * track.timescale as u128
                / movie_timescale as u128) as u64;
            // A writer's rounding may make the edit a unit longer than the
            // media; a shorter edit trims the end (AAC padding).
            length = length.min(seg.max(1));
        }
        Timeline {
            timescale: track.timescale,
            start,
            length,
        }
    }

    /// Presentation seconds → media units, rounded down.
    pub fn floor(&self, d: Duration) -> u64 {
        (d.as_nanos() * self.timescale as u128 / 1_000_000_000) as u64
    }

    /// Presentation seconds → media units, rounded up.
    pub fn ceil(&self, d: Duration) -> u64 {
        (d.as_nanos() * self.timescale as u128).div_ceil(1_000_000_000) as u64
    }

    /// Media units → presentation time, rounded down.
    pub fn time_floor(&self, units: u64) -> Duration {
        Duration::from_nanos((units as u128 * 1_000_000_000 / self.timescale as u128) as u64)
    }

    /// Media units → presentation time, rounded up.
    pub fn time_ceil(&self, units: u64) -> Duration {
        Duration::from_nanos(
            (units as u128 * 1_000_000_000).div_ceil(self.timescale as u128) as u64,
        )
    }
}

/// Output byte counter.
pub(crate) struct Counting<W> {
    pub inner: W,
    pub bytes: u64,
}

impl<W: std::io::Write> std::io::Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_joins_overlapping_and_touching_ranges() {
        let got = merge(vec![
            Range::secs(10.0, 20.0),
            Range::secs(5.0, 6.0),
            Range::secs(15.0, 25.0),
            Range::secs(25.0, 26.0),
            Range::secs(30.0, 30.0),
        ]);
        assert_eq!(got, vec![Range::secs(5.0, 6.0), Range::secs(10.0, 26.0)]);
    }

    #[test]
    fn clock_formats_offsets() {
        assert_eq!(clock(Duration::from_millis(3_723_045)), "+1:02:03.045");
    }
}
