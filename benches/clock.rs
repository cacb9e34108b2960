//! One read of a video's burned-in clock, for `benches/clock-vs-ffmpeg.sh`
//! (which times it against ffmpeg decoding the same keyframes, under
//! /usr/bin/time, in paired rounds).
//!
//! `clock FILE` calls `recpipe::clock::read(FILE)` once and prints the map
//! as `check --json` shows it (`{"first": ..., "jumps": [...]}`, or `null`
//! when no clock was found) on stdout, and the seconds it took on stderr.
//! Run without a file (as `cargo bench` does) it only says how to use it.

use std::time::Instant;

fn main() {
    let Some(path) = std::env::args_os().skip(1).find(|a| a != "--bench") else {
        eprintln!("usage: clock FILE (benches/clock-vs-ffmpeg.sh runs it)");
        return;
    };
    let start = Instant::now();
    let map = match recpipe::clock::read(std::path::Path::new(&path)) {
        Ok(map) => map,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            std::process::exit(1);
        }
    };
    let took = start.elapsed().as_secs_f64();
    let report = map.map(|m| m.report());
    println!(
        "{}",
        serde_json::to_string(&report).expect("a report serialises")
    );
    eprintln!("read in {took:.3} s");
}
