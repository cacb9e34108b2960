//! A run: every unfinished journal first (the resume-first rule), then
//! every recording folder under the given paths, each admitted
//! ([`super::admit`]) and taken as far as it goes
//! ([`super::recording::Context::process`]).
//!
//! Invariants:
//! - A folder whose journal is unfinished is never admitted as a new
//!   recording: it is resumed (and handled) first, whatever state its
//!   files are in.
//! - Trouble with one recording or one journal is that recording's
//!   outcome; the run goes on with the others. Only a state folder that
//!   cannot be read or a path that is not there ends the run.
//! - A stop request ends the run between recordings (and, inside one,
//!   after the step in progress).

use super::admit::{Admission, admit};
use super::recording::Context;
use super::types::{
    Event, Hidden, Names, Options, Outcome, PipelineError, Problem, RecordingResult, RunSummary,
};
use crate::discover::{self, CheckOptions};
use std::collections::HashSet;
use std::path::PathBuf;

/// Processes every unfinished journal, then every complete recording at
/// `paths` (default: the pipeline's source folder), once.
pub fn run(
    opts: &Options<'_>,
    paths: &[PathBuf],
    events: &mut dyn FnMut(Event),
) -> Result<RunSummary, PipelineError> {
    let mut summary = RunSummary::default();
    let mut ctx = Context::new(opts);
    let mut handled: HashSet<PathBuf> = HashSet::new();

    // First, finish what an earlier run started.
    for (id, journal) in opts.state.unfinished_each()? {
        if opts.stopping() {
            return Ok(summary);
        }
        let journal = match journal {
            Ok(j) => j,
            Err(e) => {
                let outcome = Problem::Journal(Hidden::new(e, &Names::default())).outcome();
                report(
                    &mut summary,
                    Some(id),
                    "unknown-start".into(),
                    outcome,
                    events,
                );
                continue;
            }
        };
        handled.insert(journal.source.clone());
        let stamp = journal.stamp.clone();
        events(Event::Started {
            id: id.clone(),
            stamp: stamp.clone(),
            resumed: true,
        });
        let outcome = ctx.process(journal, events);
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
            if !handled.insert(dir.clone()) {
                continue;
            }
            match admit(opts, &dir, &check, events) {
                Admission::NotNow { stamp, outcome } => {
                    report(&mut summary, None, stamp, outcome, events)
                }
                Admission::AlreadyDone { id, stamp } => {
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
                Admission::New(journal) => {
                    let (id, stamp) = (journal.id.clone(), journal.stamp.clone());
                    events(Event::Started {
                        id: id.clone(),
                        stamp: stamp.clone(),
                        resumed: false,
                    });
                    let outcome = ctx.process(*journal, events);
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
