//! Media: reading Zoom's MP4/M4A files and decoding their audio.

pub mod audio;
pub mod mp4;
