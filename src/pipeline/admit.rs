//! Admitting a recording: the folder is listed and checked; a complete
//! recording that is not done yet gets a journal holding its inventory,
//! the SHA-256 of every input and the marks' ranges, fixed before anything
//! is made from it. Nothing here writes outside the state folder except
//! live marks, which are appended to the recording's own marks file.
//!
//! Invariants:
//! - The folder is listed once: the listing decides whether the recording
//!   is already done (its id is a hash of names, sizes and times) and is
//!   then the inventory that the check reads and cleanup later trusts.
//! - Whatever goes wrong with one folder is that folder's [`Admission`]
//!   (a typed [`Problem`], scrubbed of its names), never the run's error.
//! - A leaf: it calls discovery, the journal and the marks, never back
//!   into the rest of the pipeline.

use super::names::{file_ref, stamp_of};
use super::types::{Event, Findings, Hidden, Names, Options, Outcome, Problem};
use crate::digest::Sha256Digest;
use crate::discover::{self, CheckOptions, DiscoverError, Reasons, Role, Verdict};
use crate::journal::{self, Journal, Step};
use crate::redact::clock::Clocks;
use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

/// How a recording found on disk starts.
pub enum Admission {
    /// Not processed in this run: in progress, broken, or unreadable.
    NotNow {
        stamp: String,
        outcome: Outcome,
    },
    AlreadyDone {
        id: String,
        stamp: String,
    },
    New(Box<Journal>),
}

/// Checks a recording folder and, when it is complete and new, opens its
/// journal (recording the inventory and the marks) durably.
pub fn admit(
    opts: &Options<'_>,
    dir: &Path,
    check: &CheckOptions,
    events: &mut dyn FnMut(Event),
) -> Admission {
    let stamp = stamp_of(dir);
    let not_now = |problem: Problem, events: &mut dyn FnMut(Event)| {
        let outcome = problem.outcome();
        let verdict = match outcome {
            Outcome::Waiting(_) => Verdict::InProgress,
            _ => Verdict::Broken,
        };
        if let Some(p) = outcome.problem() {
            events(Event::Skipped {
                stamp: stamp.clone(),
                verdict,
                why: p.clone(),
            });
        }
        Admission::NotNow {
            stamp: stamp.clone(),
            outcome,
        }
    };
    let folder_only = Names {
        dir: dir.to_path_buf(),
        files: Vec::new(),
    };
    let inventory = match discover::take_inventory(dir) {
        Ok(inv) => inv,
        // Something was removed or renamed while the folder was listed.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return not_now(Problem::ListingChanged, events);
        }
        Err(source) => {
            let e = DiscoverError::Read {
                path: dir.to_path_buf(),
                source,
            };
            return not_now(Problem::Unreadable(Hidden::new(e, &folder_only)), events);
        }
    };
    // A recording that is done is known by its inventory alone: no need
    // to read its media again.
    let id = journal::recording_id(&folder_name(dir), &inventory.entries);
    match opts.state.find(&id) {
        Ok(Some(j)) if j.step == Step::Done => return Admission::AlreadyDone { id, stamp },
        Ok(_) => {}
        Err(e) => return not_now(Problem::Journal(Hidden::new(e, &folder_only)), events),
    }
    let report = discover::check_inventory(dir, inventory, check);
    // The marks file's name is the pipeline's, not the meeting's: messages
    // keep it, so they can say which name to use.
    let marks_name = std::ffi::OsStr::new(&opts.pipeline.redact.marks);
    let names = Names {
        dir: dir.to_path_buf(),
        files: report
            .files
            .iter()
            .map(|f| f.path.clone())
            .filter(|p| p.file_name() != Some(marks_name))
            .collect(),
    };
    if report.verdict != Verdict::Complete {
        let reasons = Findings::new(Reasons(report.reasons.clone()), &names);
        let why = match report.verdict {
            Verdict::InProgress => Problem::InProgress(reasons),
            _ => Problem::Broken(reasons),
        };
        events(Event::Skipped {
            stamp: stamp.clone(),
            verdict: report.verdict,
            why: why.clone(),
        });
        let outcome = why.outcome();
        return Admission::NotNow { stamp, outcome };
    }
    match take_live_marks(opts, dir, &report, check.stall) {
        Ok(0) => {}
        Ok(n) => return not_now(Problem::LiveMarksAdded(n), events),
        Err(p) => return not_now(p, events),
    }
    let inventory = report.inventory.entries.clone();
    let mut j = Journal::new(
        id,
        dir.to_path_buf(),
        stamp.clone(),
        opts.pipeline.name.clone(),
        inventory,
    );
    j.silent_inputs = report
        .files
        .iter()
        .filter(|f| f.silent)
        .map(|f| f.path.clone())
        .collect();
    j.meeting = meeting_span(opts, &report).map(|(start, span)| {
        (
            crate::redact::pending::stamp(start),
            span.as_millis() as u64,
        )
    });
    if let Err(p) = prepare(opts, &mut j, &report, &names) {
        return not_now(p, events);
    }
    if let Err(e) = opts.state.save(&mut j) {
        return not_now(Problem::Journal(Hidden::new(e, &names)), events);
    }
    (opts.fault_hook)("checked");
    Admission::New(Box::new(j))
}

/// Moves the live marks (`recpipe mark`) whose times fall within the
/// recording into its marks file: written and synced there first, then
/// taken out of the pending file. Returns how many were moved; the
/// recording then waits one settle time, since its marks file changed.
fn take_live_marks(
    opts: &Options<'_>,
    dir: &Path,
    report: &discover::RecordingReport,
    stall: Duration,
) -> Result<usize, Problem> {
    let Some((start, span)) = meeting_span(opts, report) else {
        return Ok(0);
    };
    let pending = opts.state.pending_marks();
    if !pending.exists() {
        return Ok(0);
    }
    let marks_err = |e: crate::redact::pending::PendingError| Problem::LiveMarks(e.to_string());
    // A mark still open may end anywhere in the recording: wait for it,
    // and past the stall time, for a person.
    let all = crate::redact::pending::load(&pending).map_err(marks_err)?;
    let end = start
        .checked_add(span)
        .unwrap_or(jiff::civil::DateTime::MAX);
    let open = all.iter().any(|m| m.to.is_none() && m.from < end);
    if open {
        let quiet = fs::metadata(&pending)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        return Err(if quiet >= stall {
            Problem::LiveMarkLeftOpen(crate::duration::HumanDuration(Duration::from_secs(
                quiet.as_secs(),
            )))
        } else {
            Problem::LiveMarkOpen
        });
    }
    // A closed mark that runs past the recording's end but began before
    // its files were finished belongs to this meeting (after a stop or a
    // pause) and cannot be placed: it stops the recording, and nothing is
    // claimed.
    let clocks = Clocks::new(&opts.pipeline.redact.clock).map_err(Problem::Marks)?;
    let files_end = report
        .files
        .iter()
        .filter(|f| f.role.is_media())
        .filter_map(|f| f.modified)
        .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .max()
        .unwrap_or(0)
        .max(clocks.folder_instant(end));
    if all
        .iter()
        .any(|m| m.to.is_some_and(|to| to > end) && clocks.folder_instant(m.from) < files_end)
    {
        return Err(Problem::LiveMarkUnplaced);
    }
    let lines =
        crate::redact::pending::matching(&pending, start, span, &clocks).map_err(marks_err)?;
    if lines.is_empty() {
        return Ok(0);
    }
    let marks_file = dir.join(&opts.pipeline.redact.marks);
    let append = || -> io::Result<()> {
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
    append()
        .map_err(|e| Problem::LiveMarks(format!("cannot add live marks to the marks file: {e}")))?;
    crate::redact::pending::claim(&pending, start, span, &clocks).map_err(marks_err)?;
    Ok(lines.len())
}

/// The span of the meeting a recording covers, for live marks: from its
/// start (`--start`, else the folder name's) for the length of all its
/// segments together; `None` when its start is unknown.
pub fn meeting_span(
    opts: &Options<'_>,
    report: &discover::RecordingReport,
) -> Option<(jiff::civil::DateTime, Duration)> {
    let start = opts.start.or(report.name.as_ref().map(|n| n.start))?;
    let secs: f64 = report.segments.iter().filter_map(|s| s.duration).sum();
    Some((start, Duration::from_secs_f64(secs.max(longest(report)))))
}

/// Hashes the inputs and fixes the marks' ranges, before anything is made.
fn prepare(
    opts: &Options<'_>,
    j: &mut Journal,
    report: &discover::RecordingReport,
    names: &Names,
) -> Result<(), Problem> {
    let dir = j.source.clone();
    let marks_name = &opts.pipeline.redact.marks;
    for e in &j.inventory {
        if e.is_symlink() {
            j.input_sha256.push(None);
            continue;
        }
        let sha =
            Sha256Digest::of_file(&dir.join(&e.rel), &e.id).map_err(|err| Problem::Input {
                what: file_ref(&e.rel, &e.role(marks_name)),
                error: Hidden::new(err, names),
            })?;
        j.input_sha256.push(Some(sha));
    }
    let text = match report.files.iter().find(|f| f.role == Role::Marks) {
        Some(f) => {
            let listed = j.inventory.iter().find(|e| e.rel == f.path).map(|e| e.id);
            Some(
                super::model::read_marks(&dir.join(&f.path), listed.as_ref())
                    .map_err(|e| Problem::Marks(e.to_string()))?,
            )
        }
        None => None,
    };
    let model = super::model::resolve(report, text.as_deref(), opts.start, &opts.pipeline.redact)
        .map_err(|e| Problem::Marks(e.to_string()))?;
    j.files = model.files;
    j.marks = model.marks;
    j.ranges_ns = model
        .ranges
        .pairs()
        .map(|(_, r)| (r.start.as_nanos() as u64, r.end.as_nanos() as u64))
        .collect();
    j.segment_ranges_ns = model
        .ranges
        .pairs()
        .map(|(s, r)| (s, r.start.as_nanos() as u64, r.end.as_nanos() as u64))
        .collect();
    Ok(())
}

/// The longest media duration of the recording, in seconds.
fn longest(report: &discover::RecordingReport) -> f64 {
    report
        .files
        .iter()
        .filter_map(|f| f.duration)
        .fold(0.0f64, f64::max)
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
