//! recpipe: moves Zoom research-interview recordings from the interim folder
//! to sealed final storage without a person having to remember each step.
//!
//! The library holds the whole behaviour; the binary (`main.rs`, `src/cli/`)
//! only parses arguments, prints what the library returns and exits with the
//! code the library chose. The library never prints and never exits.

pub mod clock;
pub mod config;
pub mod destination;
pub mod digest;
pub mod discover;
pub mod duration;
pub mod exit;
pub mod fsutil;
pub mod journal;
pub mod media;
pub mod notify;
pub mod pipeline;
pub mod redact;
pub mod seal;
pub mod setup;
pub mod shred;
pub mod timeline;
