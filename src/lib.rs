//! recpipe: moves Zoom research-interview recordings from the interim folder
//! to sealed final storage without a person having to remember each step.
//!
//! The library holds the whole behaviour; the binary (`main.rs`, `cli.rs`)
//! only parses arguments, prints what the library returns and exits with the
//! code the library chose. The library never prints and never exits.

pub mod exit;
