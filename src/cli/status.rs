//! `recpipe status`: what every journal says.
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

pub fn status(args: &StatusArgs) -> ExitStatus {
    let state = match open_state(args.state_dir.as_deref()) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let (open, done) = match (state.unfinished(), state.finished()) {
        (Ok(o), Ok(d)) => (o, d),
        (Err(e), _) | (_, Err(e)) => return fail(e, "", ExitStatus::Error),
    };
    if args.json {
        let doc = serde_json::json!({
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
