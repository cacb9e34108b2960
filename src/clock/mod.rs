//! Zoom's burned-in clock ("Add a timestamp to the recording"): read from
//! the video's pictures into a [`ClockMap`] of media time ↔ clock time,
//! with every pause (a jump of the clock) located to the frame.
//!
//! The pipeline is [`video`] (MP4 samples decoded to the bottom-right of
//! the luma plane) → [`glyphs`] (the clock's line found by its shape, its
//! digits cut out) → [`learn`] (the ten digit glyphs learnt from the
//! recording itself) → [`scan`] (keyframes read, spans built, jumps found)
//! → [`map`].
//!
//! Invariants: no font, size or colour is assumed, only the text's form
//! `YYYY-MM-DD HH:MM:SS` at the bottom right; a stretch that cannot be read
//! is unknown, never guessed; memory stays bounded by a few decoded frames
//! and the sample table; hostile input gives a [`ClockError`], never a
//! panic or a hang (decoding is bounded by the file's samples).

mod glyphs;
mod learn;
mod map;
mod scan;
mod video;

pub use map::{ClockMap, ClockReport, Jump, Placement, Span};

use crate::media::mp4::Mp4Error;
use std::path::Path;

/// Why a video's clock could not be read (as opposed to: there is none).
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("{0}")]
    Mp4(#[from] Mp4Error),
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("its video is damaged: {0}")]
    Malformed(String),
    #[error("its video cannot be decoded: {0}")]
    Decode(String),
    #[error("its video is not one recpipe can read a clock from: {0}")]
    Unsupported(String),
}

/// The clock map of a video file: `Ok(None)` when the file has no video
/// track or no clock could be found in it.
pub fn read(path: &Path) -> Result<Option<ClockMap>, ClockError> {
    match video::Video::open(path)? {
        Some(v) => scan::map(v),
        None => Ok(None),
    }
}
