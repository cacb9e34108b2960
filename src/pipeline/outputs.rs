//! The outputs of a recording and their production: which outputs are
//! still to be made (with their remote names), and a helper thread that
//! makes, seals and stages them one after the other while the calling
//! thread takes each as soon as it is staged (to record and send it).
//!
//! Invariants:
//! - The helper only writes staged files and reports them; the journal,
//!   the destination and the caller's events stay on the calling thread.
//! - The quickest outputs are made first (copies, remuxes, then decoded
//!   audio), so the first upload can start as soon as it can.
//! - Production stops after the output in progress once the caller
//!   abandons it, once a stop is requested, or at its first failure.
//! - A leaf: it calls staging and the redaction plan, never back into the
//!   rest of the pipeline.

use super::names::{label, remote_name};
use super::stage::{Protection, StageError, Staged, stage};
use crate::config::{AudioFormat, TrackKind};
use crate::journal::{self, Journal};
use crate::redact::RedactMode;
use crate::redact::plan::{Fate, FilePlan};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

/// One output to stage.
pub struct Job<'p> {
    pub plan: &'p FilePlan,
    pub remote: String,
    pub staged: PathBuf,
    /// The input it is made from, relative to the recording folder.
    pub input: PathBuf,
    pub ext: String,
    /// The check found the input's audio silent throughout.
    pub silent: bool,
}

/// What the helper thread reports.
pub enum Report {
    Progress {
        job: usize,
        done: u64,
    },
    Staged {
        job: usize,
        result: Result<Staged, StageError>,
    },
}

/// How production runs.
#[derive(Clone, Copy)]
pub struct Production<'a> {
    pub mode: RedactMode,
    pub protection: Protection<'a>,
    /// Read each sealed output back once and check it opens.
    pub check_opens: bool,
    /// The run's stop request.
    pub stop: &'a AtomicBool,
}

/// Runs production of `jobs` on a helper thread and `body` on this one.
/// `body` receives the helper's reports in order and a flag that, once
/// set, makes the helper stop after the output it is making; its result
/// is returned once the helper has ended.
pub fn produce<T>(
    jobs: &[Job<'_>],
    how: Production<'_>,
    body: impl FnOnce(&Receiver<Report>, &AtomicBool) -> T,
) -> T {
    let abandon = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (tx, rx) = channel();
        let abandon_ref = &abandon;
        s.spawn(move || make_all(jobs, how, abandon_ref, tx));
        let result = body(&rx, &abandon);
        // The helper may still be making an output: it sees the flag (or
        // the closed channel) once that output is done.
        abandon.store(true, Ordering::SeqCst);
        drop(rx);
        result
    })
}

/// The outputs still to stage, with their remote names (numbered per kind
/// in plan order over every output, staged before or not), quickest to
/// make first.
pub fn jobs<'p>(j: &Journal, plans: &'p [FilePlan], staging: &Path, sealed: bool) -> Vec<Job<'p>> {
    let mut counts: HashMap<(Option<TrackKind>, Option<u32>), usize> = HashMap::new();
    let mut jobs = Vec::new();
    for p in plans.iter().filter(|p| p.output.is_some()) {
        let n = counts.entry((p.kind, p.segment)).or_insert(0);
        *n += 1;
        let ext = p
            .output
            .as_ref()
            .and_then(|o| o.extension())
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        // In a recording of several segments, names say which (`-s2`).
        let what = match p.segment {
            Some(s) => format!("{}-s{s}", label(p.kind, *n)),
            None => label(p.kind, *n),
        };
        let remote = remote_name(&j.stamp, &j.id, &what, &ext, sealed);
        if j.outputs.iter().any(|o| o.remote == remote) {
            continue; // staged before a crash
        }
        let input = p
            .path
            .strip_prefix(&j.source)
            .unwrap_or(&p.path)
            .to_path_buf();
        jobs.push(Job {
            plan: p,
            staged: staging.join(&remote),
            remote,
            silent: j.silent_inputs.contains(&input),
            input,
            ext,
        });
    }
    jobs.sort_by_key(|job| making_cost(&job.plan.fate));
    jobs
}

/// How much work making an output of this fate is, per byte, as a rank.
fn making_cost(fate: &Fate) -> u8 {
    match fate {
        Fate::Copy => 0,
        Fate::Video => 1,
        Fate::Audio {
            format: AudioFormat::M4a,
        } => 2,
        Fate::Audio {
            format: AudioFormat::Wav,
        } => 3,
        Fate::Drop { .. } | Fate::Left { .. } => 4,
    }
}

/// The helper thread: stages each job in turn, reporting progress and
/// each result; stops after the first failure, when a stop is requested
/// or the output is abandoned, or when nobody listens any more.
fn make_all(jobs: &[Job<'_>], how: Production<'_>, abandon: &AtomicBool, tx: Sender<Report>) {
    for (i, job) in jobs.iter().enumerate() {
        if how.stop.load(Ordering::SeqCst) || abandon.load(Ordering::SeqCst) {
            return;
        }
        let mut progress = |done: u64| {
            let _ = tx.send(Report::Progress { job: i, done });
        };
        let result = stage(
            job.plan,
            how.mode,
            &job.plan.marked,
            how.protection,
            &job.staged,
            how.check_opens,
            &mut progress,
        );
        let failed = result.is_err();
        if tx.send(Report::Staged { job: i, result }).is_err() || failed {
            return;
        }
    }
}

/// The journal's record of a staged output.
pub fn record(job: &Job<'_>, staged: Staged) -> journal::Output {
    journal::Output {
        remote: job.remote.clone(),
        staged: job.staged.clone(),
        inputs: vec![job.input.clone()],
        kind: describe(job.plan.kind, &job.ext),
        plain_sha256: staged.plain_sha256,
        plain_len: staged.plain_len,
        staged_sha256: staged.staged_sha256,
        staged_len: staged.staged_len,
        ranges: staged
            .report
            .removed
            .iter()
            .map(|r| (r.start.as_secs_f64(), r.end.as_secs_f64()))
            .collect(),
        verified: false,
        silent: job.silent,
    }
}

/// An output's kind in plain words, e.g. "participant audio (WAV)".
pub fn describe(kind: Option<TrackKind>, ext: &str) -> String {
    let what = kind.map(|k| k.to_string()).unwrap_or_else(|| "file".into());
    format!("{what} ({})", ext.to_uppercase())
}
