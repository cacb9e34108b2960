//! `recpipe status`: what every journal says, and, oldest first, every
//! recording not yet done with since when its interim copy has been on
//! the PC and what it waits for (from the journals and from what the
//! notifications remember of recordings that never got past their check).
//!
//! The JSON document and every line written when stdout is not a
//! terminal carry ids, start times, steps and scrubbed messages only. The
//! recording folder (whose name holds the meeting topic) is shown only on
//! the user's own terminal, where it helps them find the recording; see
//! docs/pipeline.md.

use super::fail;
use super::setup::open_state;
use clap::Args as ClapArgs;
use recpipe::exit::ExitStatus;
use recpipe::journal::Journal;
use recpipe::notify::{self, Memory};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
pub struct StatusArgs {
    /// Print one JSON document (ids, steps and messages; no names).
    #[arg(long)]
    json: bool,
    /// The state folder (default: the per-user one, or $RECPIPE_STATE_DIR).
    #[arg(long, value_name = "DIR", env = "RECPIPE_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

/// A journal as `status` shows it: nothing that names the recording.
#[derive(serde::Serialize)]
struct Shown<'j> {
    id: &'j str,
    start: &'j str,
    step: String,
    waits_for: Option<&'j str>,
    last_error: Option<&'j str>,
    outputs: Vec<&'j str>,
    started: &'j str,
    updated: &'j str,
}

fn shown(j: &Journal) -> Shown<'_> {
    Shown {
        id: &j.id,
        start: &j.stamp,
        step: j.step.to_string(),
        waits_for: j.waits_for.as_deref(),
        last_error: j.last_error.as_deref(),
        outputs: j.outputs.iter().map(|o| o.remote.as_str()).collect(),
        started: &j.started,
        updated: &j.updated,
    }
}

/// A recording not yet done, as `status` lists it: since when its interim
/// copy has been on the PC and what it waits for.
#[derive(serde::Serialize)]
struct Waiting {
    id: Option<String>,
    start: String,
    /// RFC 3339, UTC.
    on_pc_since: String,
    waited_secs: u64,
    waits_for: String,
    #[serde(skip)]
    since: i64,
}

/// Every recording not yet done, oldest first: the unfinished journals,
/// then what the memory of notifications holds of recordings that have no
/// journal (their check found them broken or their marks unplaceable).
fn waiting(open: &[Journal], memory: &Memory, now: i64) -> Vec<Waiting> {
    let mut out: Vec<Waiting> = Vec::new();
    for j in open {
        let remembered = memory.recordings.get(&j.id);
        let since = notify::stamp_time(&j.stamp)
            .or(remembered.map(|s| s.since))
            .or_else(|| {
                j.started
                    .parse::<jiff::Timestamp>()
                    .ok()
                    .map(|t| t.as_second())
            })
            .unwrap_or(now);
        let waits_for = j
            .waits_for
            .clone()
            .or_else(|| {
                remembered
                    .and_then(|s| s.need)
                    .map(|n| n.lines().1.to_string())
            })
            .or_else(|| {
                j.last_error
                    .as_ref()
                    .map(|e| format!("a run to finish it (last error: {e})"))
            })
            .unwrap_or_else(|| format!("the next run (it reached: {})", j.step));
        out.push(Waiting {
            id: Some(j.id.clone()),
            start: j.stamp.clone(),
            on_pc_since: notify::rfc3339(since),
            waited_secs: (now - since).max(0) as u64,
            waits_for,
            since,
        });
    }
    for (key, seen) in &memory.recordings {
        if open.iter().any(|j| &j.id == key) {
            continue;
        }
        out.push(Waiting {
            id: None,
            start: seen.start.clone(),
            on_pc_since: notify::rfc3339(seen.since),
            waited_secs: (now - seen.since).max(0) as u64,
            waits_for: match seen.need {
                Some(n) => n.lines().1.to_string(),
                None => "Zoom to finish it, or its check".to_string(),
            },
            since: seen.since,
        });
    }
    out.sort_by_key(|w| w.since);
    out
}

pub fn status(args: &StatusArgs) -> ExitStatus {
    let state = match open_state(args.state_dir.as_deref()) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let (open, done) = match (state.unfinished(), state.finished()) {
        (Ok(o), Ok(d)) => (o, d),
        (Err(e), _) | (_, Err(e)) => return fail(e, "", ExitStatus::Error),
    };
    let memory = Memory::read(&state.root().join(notify::MEMORY_FILE)).unwrap_or_default();
    let waiting = waiting(&open, &memory, super::notify::now());
    if args.json {
        let doc = serde_json::json!({
            "waiting": waiting,
            "unfinished": open.iter().map(shown).collect::<Vec<_>>(),
            "done": done.iter().map(shown).collect::<Vec<_>>(),
            "log": super::log::path(&state),
        });
        match serde_json::to_string_pretty(&doc) {
            Ok(t) => println!("{t}"),
            Err(e) => return fail(e, "", ExitStatus::Error),
        }
        return ExitStatus::Success;
    }
    let own_terminal = std::io::stdout().is_terminal();
    if open.is_empty() && done.is_empty() {
        println!("No recordings in {}.", state.root().display());
    }
    println!("Log of every run: {}", super::log::path(&state).display());
    if !waiting.is_empty() {
        println!("Not yet done, oldest first:");
    }
    for w in &waiting {
        println!(
            "  {} ({}): on this PC since {} ({}); waits for: {}",
            notify::label(&w.start),
            w.id.as_deref().unwrap_or("not admitted"),
            w.on_pc_since,
            notify::waited(std::time::Duration::from_secs(w.waited_secs)),
            w.waits_for
        );
    }
    for j in &open {
        if own_terminal {
            println!(
                "{} ({}) from {}: {}",
                j.id,
                j.stamp,
                j.source.display(),
                j.step
            );
        } else {
            println!("{} ({}): {}", j.id, j.stamp, j.step);
        }
        if let Some(w) = &j.waits_for {
            println!("  waits for: {w}");
        }
        if let Some(e) = &j.last_error {
            println!("  last error: {e}");
        }
        println!("  updated {}", j.updated);
    }
    for j in &done {
        println!("{} ({}): done {}", j.id, j.stamp, j.updated);
    }
    ExitStatus::Success
}
