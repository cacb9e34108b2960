//! The deep check of one audio or video file: is it a whole MP4 whose
//! every sample lies inside the file, and does every audio track decode
//! from the first frame to the last?
//!
//! Invariants: the file is only read; decoded audio goes nowhere; a file
//! recpipe cannot handle is reported as unsupported (a person decides),
//! never guessed at.

use crate::media::audio::{AudioError, decode_to_end};
use crate::media::mp4::{Codec, Mp4Error, Mp4File};
use std::path::Path;

/// What the deep check learnt about one media file.
#[derive(Debug, Clone, Default)]
pub struct MediaFacts {
    /// Length in seconds (the movie header's, or the decoded audio's).
    pub duration: Option<f64>,
    /// One description per track, e.g. `H.264 1280x720`, `AAC-LC 32000 Hz 1 ch`.
    pub codecs: Vec<String>,
    pub problem: Option<Problem>,
}

/// Why a media file cannot be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// True when the file may be fine but uses something recpipe does not
    /// handle (fragmented MP4, HE-AAC, ...); false when it is damaged.
    pub unsupported: bool,
    pub text: String,
}

/// Checks one media file that is `size` bytes long.
pub fn check(path: &Path, size: u64) -> MediaFacts {
    let mut facts = MediaFacts::default();
    if size == 0 {
        facts.problem = Some(Problem {
            unsupported: false,
            text: "it is empty (0 bytes)".into(),
        });
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
    let media_tracks = movie
        .tracks
        .iter()
        .filter(|t| t.is_audio() || t.is_video())
        .count();
    if media_tracks == 0 {
        facts.problem = Some(Problem {
            unsupported: false,
            text: "it holds no audio or video track".into(),
        });
        return facts;
    }
    for track in movie.tracks.iter().filter(|t| t.is_audio()) {
        match decode_to_end(path, track) {
            Ok(decoded) => {
                if facts.duration.is_none() {
                    facts.duration = Some(decoded.seconds);
                }
            }
            Err(e) => {
                facts.problem = Some(Problem {
                    unsupported: matches!(e, AudioError::Unsupported(_)),
                    text: e.to_string(),
                });
                return facts;
            }
        }
    }
    facts
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
        Problem {
            unsupported: e.is_unsupported(),
            text: e.to_string(),
        }
    }
}
