//! The pipeline end to end: every complete recording under the given paths
//! is checked, redacted and reduced to the wanted tracks, sealed, uploaded
//! and verified, and its interim copy removed, with the journal recording
//! each step before the next one starts.
//!
//! Invariants (the promises this module exists to keep):
//! - An interim file is removed only after every output made from it is
//!   verified at the destination (`after = "verified"`), or sealed, staged
//!   and checked to open (`after = "sealed"`), and only if it is still the
//!   file that was checked.
//! - A crash at any instant leaves every recording intact where it was or
//!   verified where it went; the next run resumes every unfinished journal
//!   first and finishes the job. No step, repeated, does harm.
//! - Plaintext never leaves the recording's folder: outputs are sealed as
//!   they are produced (unsealed green pipelines stage inside the folder).
//! - What is reported ([`Event`]) carries recording ids and start times,
//!   never topics or participant names; errors are scrubbed of names.
//! - The library never prints or prompts by itself: events go to the
//!   caller's callback and questions to the caller's [`Prompter`].

mod admit;
mod manifest;
pub mod names;
mod outputs;
pub mod preview;
mod recording;
pub mod stage;
mod watch;

pub use watch::{WatchEvent, WatchOptions, watch};

use crate::config::{Pipeline, VerifyMode};
use crate::destination::{DestError, Prompter, RetryPolicy};
use crate::discover::{self, CheckOptions, DiscoverError, Verdict};
use crate::exit::ExitStatus;
use crate::journal::{JournalError, StateDir, Step};
use crate::seal::{self, Recipient};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use time::PrimitiveDateTime;

/// Why a run could not start or go on at all (per-recording trouble is an
/// [`Outcome`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error("{}: {why}", file.display())]
    Recipients { file: PathBuf, why: String },
    #[error("live marks: {0}")]
    LiveMarks(String),
}

/// Everything a run needs besides the paths.
pub struct Options<'a> {
    pub pipeline: &'a Pipeline,
    /// The recipients outputs are sealed to; empty when the pipeline does
    /// not seal (see [`recipients`]).
    pub recipients: Vec<Recipient>,
    pub state: &'a StateDir,
    /// Asks for login secrets; [`crate::destination::NoTerminal`] for a
    /// scheduled job, which then never waits for an answer.
    pub prompter: &'a dyn Prompter,
    pub retry: RetryPolicy,
    /// Overrides the start time taken from the folder name (for marks).
    pub start: Option<PrimitiveDateTime>,
    /// Called at each durable step with its name (`checked`, `staged-output`,
    /// `staged`, `uploaded-output`, `verified`, `cleaned-up`, `done`).
    /// Does nothing in normal use; the crash tests make it stop the process.
    pub fault_hook: &'a dyn Fn(&str),
    /// Set (e.g. by Ctrl-C) to stop after the step in progress: the
    /// journal resumes the recording next time.
    pub stop: &'a AtomicBool,
}

impl Options<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// What happened, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A folder that is not (yet) processed: in progress or broken.
    Skipped {
        stamp: String,
        verdict: Verdict,
        reasons: Vec<String>,
    },
    /// A recording that an earlier run finished.
    AlreadyDone {
        id: String,
        stamp: String,
    },
    Started {
        id: String,
        stamp: String,
        resumed: bool,
    },
    /// A step is complete and recorded.
    Step {
        id: String,
        step: Step,
    },
    /// Bytes done of a long operation (`seal`, `upload`, `read-back`).
    Progress {
        id: String,
        what: &'static str,
        output: String,
        done: u64,
        total: Option<u64>,
    },
    /// The destination failed and is tried again.
    Retry {
        attempt: u32,
        wait_secs: u64,
        error: String,
    },
    Finished {
        id: String,
        summary: Summary,
    },
    Stopped {
        id: String,
        outcome: Outcome,
    },
}

/// What a finished recording became.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Remote names of the outputs and the manifest.
    pub uploaded: Vec<String>,
    /// Inputs not written anywhere.
    pub dropped: usize,
    /// Ranges removed or silenced, in seconds, over all outputs.
    pub removed: Vec<(f64, f64)>,
    pub destination: String,
    pub verify: VerifyMode,
    /// Interim files removed, and how (`shred`, `delete`, `keep`).
    pub interim_removed: usize,
    pub cleanup: String,
    /// Files left in the interim folder (changed or new), with why.
    pub left: Vec<String>,
}

/// How one recording ended in this run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", content = "why", rename_all = "kebab-case")]
pub enum Outcome {
    Done,
    AlreadyDone,
    /// In progress, or waiting for a person to log in.
    Waiting(String),
    /// Needs a person; nothing of it was deleted.
    Broken(String),
    /// recpipe failed on it (I/O, destination); it resumes next run.
    Failed(String),
}

impl Outcome {
    fn exit(&self) -> ExitStatus {
        match self {
            Outcome::Done | Outcome::AlreadyDone => ExitStatus::Success,
            Outcome::Waiting(_) => ExitStatus::Waiting,
            Outcome::Broken(_) => ExitStatus::Broken,
            Outcome::Failed(_) => ExitStatus::Error,
        }
    }
}

/// One line of a run's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordingResult {
    /// The recording id, when it got one (complete recordings).
    pub id: Option<String>,
    pub stamp: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The result of a run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunSummary {
    pub recordings: Vec<RecordingResult>,
}

impl RunSummary {
    /// 0 all done (or nothing to do), 3 something waits, 4 something is
    /// broken, 1 recpipe failed on something.
    pub fn exit(&self) -> ExitStatus {
        let worst = self
            .recordings
            .iter()
            .map(|r| r.outcome.exit())
            .fold(ExitStatus::Success, ExitStatus::worst);
        if self
            .recordings
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed(_)))
            && worst != ExitStatus::Broken
        {
            ExitStatus::Error
        } else {
            worst
        }
    }
}

/// The recipients a pipeline seals to: `[seal] recipients` and the lines
/// of `recipients_file`. Empty when the pipeline has no `[seal]`.
pub fn recipients(pipeline: &Pipeline) -> Result<Vec<Recipient>, PipelineError> {
    let Some(s) = &pipeline.seal else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, text) in s.recipients.iter().enumerate() {
        let r = text
            .parse::<Recipient>()
            .map_err(|e| PipelineError::Recipients {
                file: pipeline.file.clone(),
                why: format!("[seal] recipients, entry {}: {e}", i + 1),
            })?;
        out.push(r);
    }
    if let Some(file) = &s.recipients_file {
        let list =
            seal::file::read_recipients_file(file).map_err(|e| PipelineError::Recipients {
                file: file.clone(),
                why: e.to_string(),
            })?;
        out.extend(list);
    }
    let demo = out
        .iter()
        .any(|r| r.to_string() == crate::config::DEMO_RECIPIENT);
    if demo && pipeline.classification.is_protected() {
        return Err(PipelineError::Recipients {
            file: pipeline.file.clone(),
            why: format!(
                "[seal] names the public demo key, whose secret anyone can read; {} data must be sealed to your project's own key (make one with `recpipe keygen`)",
                pipeline.classification
            ),
        });
    }
    Ok(out)
}

/// Processes every unfinished journal, then every complete recording at
/// `paths` (default: the pipeline's source folder), once.
pub fn run(
    opts: &Options<'_>,
    paths: &[PathBuf],
    events: &mut dyn FnMut(Event),
) -> Result<RunSummary, PipelineError> {
    let mut summary = RunSummary::default();
    let mut ctx = recording::Context::new(opts);

    // First, finish what an earlier run started.
    for journal in opts.state.unfinished()? {
        if opts.stopping() {
            return Ok(summary);
        }
        let stamp = journal.stamp.clone();
        let id = journal.id.clone();
        events(Event::Started {
            id: id.clone(),
            stamp: stamp.clone(),
            resumed: true,
        });
        let outcome = ctx.advance(journal, events);
        report(&mut summary, Some(id), stamp, outcome, events);
    }

    let default_paths = [opts.pipeline.source.dir.clone()];
    let paths = if paths.is_empty() {
        &default_paths[..]
    } else {
        paths
    };
    let mut check = CheckOptions::new(opts.pipeline.source.settle.0, &opts.pipeline.redact.marks);
    check.stall = opts.pipeline.source.stall.0;
    for path in paths {
        for dir in discover::find_recordings(path)? {
            if opts.stopping() {
                return Ok(summary);
            }
            if ctx.was_handled(&dir) {
                continue;
            }
            match ctx.start(&dir, &check, events)? {
                admit::Start::Skipped { stamp, outcome } => {
                    report(&mut summary, None, stamp, outcome, events)
                }
                admit::Start::AlreadyDone { id, stamp } => {
                    events(Event::AlreadyDone {
                        id: id.clone(),
                        stamp: stamp.clone(),
                    });
                    summary.recordings.push(RecordingResult {
                        id: Some(id),
                        stamp,
                        outcome: Outcome::AlreadyDone,
                    });
                }
                admit::Start::New(journal) => {
                    let (id, stamp) = (journal.id.clone(), journal.stamp.clone());
                    events(Event::Started {
                        id: id.clone(),
                        stamp: stamp.clone(),
                        resumed: false,
                    });
                    let outcome = ctx.advance(*journal, events);
                    report(&mut summary, Some(id), stamp, outcome, events);
                }
            }
        }
    }
    Ok(summary)
}

fn report(
    summary: &mut RunSummary,
    id: Option<String>,
    stamp: String,
    outcome: Outcome,
    events: &mut dyn FnMut(Event),
) {
    if let (Some(id), false) = (&id, matches!(outcome, Outcome::Done)) {
        events(Event::Stopped {
            id: id.clone(),
            outcome: outcome.clone(),
        });
    }
    summary
        .recordings
        .push(RecordingResult { id, stamp, outcome });
}

/// `YYYYMMDD-HHMMSS` of a recording folder's start, or `unknown-start`.
pub fn stamp_of(dir: &Path) -> String {
    dir.file_name()
        .and_then(|n| n.to_str())
        .and_then(discover::FolderName::parse)
        .map(|n| {
            let t = n.start;
            format!(
                "{:04}{:02}{:02}-{:02}{:02}{:02}",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_else(|| "unknown-start".into())
}

/// Whether a destination error means "a person must log in".
fn needs_person(e: &DestError) -> bool {
    e.class() == crate::destination::ErrorClass::NeedsInteractiveLogin
}
