//! Admitting a recording: the folder is listed and checked; a complete
//! recording that is not done yet gets a journal holding its inventory,
//! the SHA-256 of every input and the marks' ranges, fixed before anything
//! is made from it. Nothing here writes outside the state folder except
//! live marks, which are appended to the recording's own marks file.
//!
//! The folder is listed once: the listing decides whether the recording is
//! already done (its id is a hash of names, sizes and times) and is then
//! the inventory that the check reads and cleanup later trusts.

use super::names::scrub;
use super::recording::{Context, Stop};
use super::{Event, Outcome, PipelineError, stamp_of};
use crate::digest::Sha256Digest;
use crate::discover::{self, CheckOptions, DiscoverError, Role, Verdict};
use crate::journal::{self, Journal, MarkRecord, Step};
use crate::redact::clock::Clocks;
use crate::redact::marks;
use crate::shred::Expected as Inventoried;
use std::fs;
use std::path::Path;

/// How a recording found on disk starts.
pub enum Start {
    Skipped { stamp: String, outcome: Outcome },
    AlreadyDone { id: String, stamp: String },
    New(Box<Journal>),
}

impl Context<'_> {
    /// Checks a recording folder and, when it is complete and new, opens
    /// its journal (recording the inventory and the marks).
    pub fn start(
        &mut self,
        dir: &Path,
        check: &CheckOptions,
        events: &mut dyn FnMut(Event),
    ) -> Result<Start, PipelineError> {
        self.handled.insert(dir.to_path_buf());
        let stamp = stamp_of(dir);
        let inventory =
            discover::take_inventory(dir, &check.marks).map_err(|source| DiscoverError::Read {
                path: dir.to_path_buf(),
                source,
            })?;
        // A recording that is done is known by its inventory alone: no need
        // to read its media again.
        let id = journal::recording_id(&folder_name(dir), &listed(&inventory));
        if let Some(j) = self.opts.state.find(&id)?
            && j.step == Step::Done
        {
            return Ok(Start::AlreadyDone { id, stamp });
        }
        let report = discover::check_inventory(dir, inventory, check);
        if report.verdict != Verdict::Complete {
            let files: Vec<&Path> = report.files.iter().map(|f| f.path.as_path()).collect();
            let reasons: Vec<String> = report
                .reasons
                .iter()
                .map(|r| scrub(&r.text, dir, &files))
                .collect();
            events(Event::Skipped {
                stamp: stamp.clone(),
                verdict: report.verdict,
                reasons: reasons.clone(),
            });
            let why = reasons.join("; ");
            let outcome = match report.verdict {
                Verdict::InProgress => Outcome::Waiting(why),
                _ => Outcome::Broken(format!(
                    "{why} (run `recpipe check` on the folder for details)"
                )),
            };
            return Ok(Start::Skipped { stamp, outcome });
        }
        if let Some(waiting) = self.take_live_marks(dir, &report)? {
            events(Event::Skipped {
                stamp: stamp.clone(),
                verdict: Verdict::InProgress,
                reasons: vec![waiting.clone()],
            });
            return Ok(Start::Skipped {
                stamp,
                outcome: Outcome::Waiting(waiting),
            });
        }
        let inventory = listed(&report.inventory);
        let id = journal::recording_id(&folder_name(dir), &inventory);
        if let Some(j) = self.opts.state.find(&id)?
            && j.step == Step::Done
        {
            return Ok(Start::AlreadyDone { id, stamp });
        }
        let mut j = Journal::new(
            id,
            dir.to_path_buf(),
            stamp,
            self.opts.pipeline.name.clone(),
            inventory,
        );
        if let Err(stop) = self.prepare(&mut j, &report) {
            let outcome: Outcome = stop.into();
            let (verdict, why) = match &outcome {
                Outcome::Waiting(w) => (Verdict::InProgress, w.clone()),
                Outcome::Broken(w) | Outcome::Failed(w) => (Verdict::Broken, w.clone()),
                Outcome::Done | Outcome::AlreadyDone => (Verdict::Complete, String::new()),
            };
            events(Event::Skipped {
                stamp: j.stamp.clone(),
                verdict,
                reasons: vec![why],
            });
            return Ok(Start::Skipped {
                stamp: j.stamp.clone(),
                outcome,
            });
        }
        self.opts.state.save(&mut j)?;
        (self.opts.fault_hook)("checked");
        Ok(Start::New(Box::new(j)))
    }

    /// Moves the live marks (`recpipe mark`) whose times fall within the
    /// recording into its marks file: written and synced there first, then
    /// taken out of the pending file. The recording then waits one settle
    /// time, since its marks file just changed.
    fn take_live_marks(
        &self,
        dir: &Path,
        report: &discover::RecordingReport,
    ) -> Result<Option<String>, PipelineError> {
        let Some(name) = &report.name else {
            return Ok(None);
        };
        let pending = self.opts.state.pending_marks();
        if !pending.exists() {
            return Ok(None);
        }
        let duration = report
            .files
            .iter()
            .filter_map(|f| f.duration)
            .fold(0.0f64, f64::max);
        let span = std::time::Duration::from_secs_f64(duration);
        let start = self.opts.start.unwrap_or(name.start);
        let marks_err =
            |e: crate::redact::pending::PendingError| PipelineError::LiveMarks(e.to_string());
        let lines = crate::redact::pending::matching(&pending, start, span).map_err(marks_err)?;
        if lines.is_empty() {
            return Ok(None);
        }
        let marks_file = dir.join(&self.opts.pipeline.redact.marks);
        let append = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&marks_file)?;
            writeln!(f, "# added from `recpipe mark`")?;
            for l in &lines {
                writeln!(f, "{l}")?;
            }
            f.sync_all()
        };
        append().map_err(|e| {
            PipelineError::LiveMarks(format!("cannot add live marks to the marks file: {e}"))
        })?;
        crate::redact::pending::claim(&pending, start, span).map_err(marks_err)?;
        Ok(Some(format!(
            "{} live mark(s) from `recpipe mark` were added to its marks file; it is processed once that settles",
            lines.len()
        )))
    }

    /// Hashes the inputs and fixes the marks' ranges, before anything is made.
    fn prepare(&self, j: &mut Journal, report: &discover::RecordingReport) -> Result<(), Stop> {
        let dir = j.source.clone();
        let names: Vec<&Path> = j.inventory.iter().map(|e| e.rel.as_path()).collect();
        let scrubbed = |t: String| scrub(&t, &dir, &names);
        for e in &j.inventory {
            if e.is_symlink {
                j.input_sha256.push(None);
                continue;
            }
            let sha = Sha256Digest::of_file(&dir.join(&e.rel))
                .map_err(|err| Stop::Failed(scrubbed(format!("{}: {err}", e.rel.display()))))?;
            j.input_sha256.push(Some(sha));
        }
        let marks_entry = report.files.iter().find(|f| f.role == Role::Marks);
        if let Some(f) = marks_entry {
            let text = fs::read_to_string(dir.join(&f.path))
                .map_err(|e| Stop::Broken(format!("the marks file cannot be read: {e}")))?;
            let parsed = marks::parse(&text).map_err(|e| {
                Stop::Broken(format!("{e}; fix the marks file, nothing was processed"))
            })?;
            let spans = discover::segments::spans(report, self.opts.start);
            let clocks = Clocks::new(&self.opts.pipeline.redact.clock).map_err(Stop::Broken)?;
            let ranges = parsed
                .resolve_segments(&spans, &clocks, self.opts.pipeline.redact.pad.0)
                .map_err(|e| {
                    Stop::Broken(if e.is_unplaceable() {
                        format!("{e}; nothing was processed or deleted")
                    } else {
                        format!("{e}; fix the marks file, nothing was processed")
                    })
                })?;
            let lines: Vec<&str> = text.lines().collect();
            j.marks = parsed
                .marks
                .iter()
                .map(|m| MarkRecord {
                    line: m.line,
                    text: lines
                        .get(m.line - 1)
                        .map(|l| l.trim().to_string())
                        .unwrap_or_default(),
                    note: m.note.clone(),
                })
                .collect();
            j.ranges_ns = ranges
                .pairs()
                .map(|(_, r)| (r.start.as_nanos() as u64, r.end.as_nanos() as u64))
                .collect();
            j.segment_ranges_ns = ranges
                .pairs()
                .map(|(s, r)| (s, r.start.as_nanos() as u64, r.end.as_nanos() as u64))
                .collect();
        }
        Ok(())
    }
}

/// What cleanup may remove: the inventory's files with their identities.
fn listed(inv: &discover::Inventory) -> Vec<Inventoried> {
    inv.entries
        .iter()
        .map(|e| Inventoried {
            rel: e.rel.clone(),
            id: e.id,
            is_symlink: e.is_symlink,
        })
        .collect()
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
