//! The local log: what `run` and `watch` did, one line per step per
//! recording, by recording id, appended through `tracing` to `recpipe.log`
//! in the state folder, so that a scheduled job nobody watches leaves a
//! record (`recpipe status` shows where each recording stands now).
//!
//! Invariant: the log is written only from the library's events, which
//! carry recording ids, start times, steps, counts and scrubbed error
//! texts, never a topic, a participant name or a note. It is kept to about
//! [`KEEP`] bytes: a longer log is moved to `recpipe.log.1` (replacing the
//! one before) when a run starts. It is created readable by its owner only
//! (0600 on Unix).

use recpipe::journal::StateDir;
use recpipe::pipeline::{Event, Outcome};
use std::fs::{self, OpenOptions};
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;
use tracing::{error, info, warn};

/// The size past which the log is rotated at the next start.
const KEEP: u64 = 8 << 20;

/// Where the log of a state folder is.
pub fn path(state: &StateDir) -> PathBuf {
    state.root().join("recpipe.log")
}

/// Sends this process's log lines to the state folder's log.
pub fn start(state: &StateDir) -> io::Result<()> {
    let path = path(state);
    if fs::metadata(&path).is_ok_and(|m| m.len() > KEEP) {
        // Not rotated (say, another program holds it open): it grows.
        let _ = fs::rename(&path, path.with_extension("log.1"));
    }
    let file = open_private(&path)?;
    let subscriber = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_target(false)
        .finish();
    // Set once per process; a second call (never made) would keep the first.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(())
}

/// Opens the log for appending, readable by its owner only (0600 on Unix);
/// a log made before with wider rights is narrowed.
fn open_private(path: &std::path::Path) -> io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// Logs one event (progress is not logged).
pub fn record(e: &Event) {
    match e {
        Event::Skipped {
            stamp,
            verdict,
            why,
        } => {
            info!(start = %stamp, %verdict, reasons = %super::printer::skipped(why), "not processed")
        }
        Event::AlreadyDone { id, stamp } => info!(recording = %id, start = %stamp, "already done"),
        Event::Started { id, stamp, resumed } => {
            info!(recording = %id, start = %stamp, resumed, "started")
        }
        Event::Step { id, step } => info!(recording = %id, %step, "step recorded"),
        Event::Progress { .. } => {}
        Event::Retry {
            attempt,
            wait,
            error,
        } => warn!(
            attempt,
            wait_secs = wait.as_secs_f64(),
            %error,
            "the destination failed; trying again"
        ),
        Event::Note { text } => warn!(%text, "destination"),
        Event::Finished { id, summary } => {
            for output in &summary.silent {
                warn!(recording = %id, %output, "silent throughout (below -60 dBFS), delivered");
            }
            info!(
                recording = %id,
                uploaded = summary.uploaded.len(),
                dropped = summary.dropped,
                ranges = summary.removed.len(),
                interim_removed = summary.interim_removed,
                "done"
            )
        }
        Event::Stopped { id, outcome } => match outcome {
            Outcome::Waiting(why) => info!(recording = %id, waits = %why, "stopped"),
            Outcome::Broken(why) => error!(recording = %id, needs_a_person = %why, "stopped"),
            Outcome::Failed(why) => warn!(recording = %id, failed = %why, "stopped"),
            Outcome::Done | Outcome::AlreadyDone => info!(recording = %id, "done"),
        },
    }
}
