//! The deep check of one audio or video file: is it a whole MP4 whose
//! every sample lies inside the file, and does every audio track decode
//! from the first frame to the last?
//!
//! Invariants: the file is only read; decoded audio goes nowhere; a file
//! recpipe cannot handle is reported as unsupported (a person decides),
//! never guessed at. [`check_all`] checks several files at once, one per
//! core, each streamed as [`check`] streams it.

use crate::media::audio::{AudioError, decode_to_end};
use crate::media::mp4::{Codec, Mp4Error, Mp4File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// −60 dBFS as a sample's absolute value.
const SILENT_PEAK: f32 = 0.001;

/// What the deep check learnt about one media file.
#[derive(Debug, Clone, Default)]
pub struct MediaFacts {
    /// Length in seconds (the movie header's, or the decoded audio's).
    pub duration: Option<f64>,
    /// One description per track, e.g. `H.264 1280x720`, `AAC-LC 32000 Hz 1 ch`.
    pub codecs: Vec<String>,
    pub problem: Option<Problem>,
    /// Whether every decoded audio track stays below −60 dBFS.
    pub silent: bool,
    /// Seconds of a leading empty edit (a gap before the track starts, as
    /// the file's edit list says): where the file's own time 0 lies in the
    /// timeline it was written for. The longest of its tracks'.
    pub lead: Option<f64>,
}

/// Why a media file cannot be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// 0 bytes.
    Empty,
    /// No audio or video track.
    NoTrack,
    /// This many audio tracks and no video: an audio output is made from
    /// one, so the others would be lost.
    AudioTracks(usize),
    /// The MP4 reader refused it (not MP4, no `moov`, cut short, a layout
    /// recpipe does not handle, ...): its words, and whether the file may
    /// be fine but uses something recpipe does not handle.
    Mp4 { unsupported: bool, text: String },
    /// An audio track does not decode to its end (or uses a codec recpipe
    /// does not decode): its words, and whether it is unsupported.
    Audio { unsupported: bool, text: String },
    /// The check did not finish.
    NotChecked,
}

impl Problem {
    /// True when the file may be fine but uses something recpipe does not
    /// handle (fragmented MP4, HE-AAC, several audio tracks, ...); false
    /// when it is damaged.
    pub fn unsupported(&self) -> bool {
        match self {
            Problem::AudioTracks(_) => true,
            Problem::Mp4 { unsupported, .. } | Problem::Audio { unsupported, .. } => *unsupported,
            Problem::Empty | Problem::NoTrack | Problem::NotChecked => false,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Empty => f.write_str("it is empty (0 bytes)"),
            Problem::NoTrack => f.write_str("it holds no audio or video track"),
            Problem::AudioTracks(n) => write!(
                f,
                "it holds {n} audio tracks and recpipe makes an audio output from one, so the others would be lost; a person must split it into one file per track"
            ),
            Problem::Mp4 { text, .. } | Problem::Audio { text, .. } => f.write_str(text),
            Problem::NotChecked => f.write_str("its check did not finish; run again"),
        }
    }
}

/// Checks one media file that is `size` bytes long.
pub fn check(path: &Path, size: u64) -> MediaFacts {
    let mut facts = MediaFacts::default();
    if size == 0 {
        facts.problem = Some(Problem::Empty);
        return facts;
    }
    let file = match Mp4File::open(path) {
        Ok(f) => f,
        Err(e) => {
            facts.problem = Some(Problem::from(&e));
            return facts;
        }
    };
    let movie = &file.movie;
    facts.codecs = movie.tracks.iter().map(describe_codec).collect();
    if movie.duration > 0 {
        facts.duration = Some(movie.duration_secs());
    }
    if movie.timescale > 0 {
        facts.lead = movie
            .tracks
            .iter()
            .filter(|t| t.is_audio() || t.is_video())
            .filter_map(|t| t.edits.first())
            .filter(|e| e.media_time == -1)
            .map(|e| e.segment_duration as f64 / movie.timescale as f64)
            .reduce(f64::max);
    }
    let media_tracks = movie
        .tracks
        .iter()
        .filter(|t| t.is_audio() || t.is_video())
        .count();
    if media_tracks == 0 {
        facts.problem = Some(Problem::NoTrack);
        return facts;
    }
    let audio_tracks = movie.tracks.iter().filter(|t| t.is_audio()).count();
    if audio_tracks > 1 && !movie.tracks.iter().any(|t| t.is_video()) {
        // An audio output is made from one track; the others would be
        // lost without a word.
        facts.problem = Some(Problem::AudioTracks(audio_tracks));
        return facts;
    }
    for track in movie.tracks.iter().filter(|t| t.is_audio()) {
        match decode_to_end(path, track) {
            Ok(decoded) => {
                facts.silent = decoded.peak < SILENT_PEAK;
                if facts.duration.is_none() {
                    facts.duration = Some(decoded.seconds);
                }
            }
            Err(e) => {
                facts.problem = Some(Problem::Audio {
                    unsupported: matches!(e, AudioError::Unsupported(_)),
                    text: e.to_string(),
                });
                return facts;
            }
        }
    }
    facts
}

/// Checks every `(path, size)` like [`check`], on as many threads as there
/// are cores (at most one a file); the facts come back in the same order.
pub fn check_all(files: &[(PathBuf, u64)]) -> Vec<MediaFacts> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if threads <= 1 {
        return files.iter().map(|(p, size)| check(p, *size)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<MediaFacts>> = vec![None; files.len()];
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((path, size)) = files.get(i) else {
                            return done;
                        };
                        done.push((i, check(path, *size)));
                    }
                })
            })
            .collect();
        for worker in workers {
            match worker.join() {
                Ok(done) => done.into_iter().for_each(|(i, f)| results[i] = Some(f)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    results
        .into_iter()
        .map(|f| f.unwrap_or_else(MediaFacts::not_checked))
        .collect()
}

impl MediaFacts {
    /// Facts of a file whose check did not run: never taken as complete.
    pub fn not_checked() -> MediaFacts {
        MediaFacts {
            problem: Some(Problem::NotChecked),
            ..MediaFacts::default()
        }
    }
}

fn describe_codec(track: &crate::media::mp4::Track) -> String {
    match &track.codec {
        Codec::Video {
            name,
            width,
            height,
            ..
        } => format!("{name} {width}x{height}"),
        Codec::Aac { config, .. } => format!(
            "{} {} Hz {} ch",
            config.name(),
            config.sample_rate,
            config.channels
        ),
        other => other.name(),
    }
}

impl From<&Mp4Error> for Problem {
    fn from(e: &Mp4Error) -> Problem {
        Problem::Mp4 {
            unsupported: e.is_unsupported(),
            text: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_all_keeps_the_order_of_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.m4a");
        let text = dir.path().join("text.m4a");
        std::fs::write(&empty, b"").unwrap();
        std::fs::write(&text, b"this is not an MP4 file at all").unwrap();
        let files: Vec<(PathBuf, u64)> = (0..7)
            .map(|i| {
                if i % 2 == 0 {
                    (empty.clone(), 0)
                } else {
                    (text.clone(), 30)
                }
            })
            .collect();
        let facts = check_all(&files);
        assert_eq!(facts.len(), files.len());
        for (i, f) in facts.iter().enumerate() {
            let p = f.problem.as_ref().expect("both kinds are broken");
            assert_eq!(p.to_string().contains("empty"), i % 2 == 0, "{i}: {p}");
        }
        assert!(check_all(&[]).is_empty());
    }
}
