//! What a run takes and what it reports: [`Options`], the [`Event`]s sent
//! as it goes, and how each recording ended ([`Outcome`], with a typed
//! [`Problem`] when it did not get to done).
//!
//! Invariants: nothing here carries a meeting topic, a participant's name,
//! a file name from the recording folder or a mark's note. A [`Problem`]
//! that wraps an error from a lower layer keeps it typed together with the
//! names to take out of it, and takes them out whenever it is formatted.

use super::names::{FileRef, scrub};
use crate::config::{Pipeline, VerifyMode};
use crate::destination::{DestError, ErrorClass, Notice, Prompter, RetryPolicy};
use crate::discover::{DiscoverError, Reasons, Verdict};
use crate::exit::ExitStatus;
use crate::journal::{JournalError, StateDir, Step};
use crate::seal::Recipient;
use jiff::civil::DateTime;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Why a run could not start or go on at all. Trouble with one recording
/// is that recording's [`Outcome`], never a `PipelineError`.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error("{}: {why}", file.display())]
    Recipients { file: PathBuf, why: String },
}

/// Everything a run needs besides the paths.
pub struct Options<'a> {
    pub pipeline: &'a Pipeline,
    /// The recipients outputs are sealed to; empty when the pipeline does
    /// not seal (see [`super::recipients`]).
    pub recipients: Vec<Recipient>,
    pub state: &'a StateDir,
    /// Asks for login secrets; [`crate::destination::NoTerminal`] for a
    /// scheduled job, which then never waits for an answer.
    pub prompter: &'a dyn Prompter,
    pub retry: RetryPolicy,
    /// Overrides the start time taken from the folder name (for marks).
    pub start: Option<DateTime>,
    /// Called at each durable step with its name (`checked`,
    /// `staged-output`, `staged`, `removing-interim`, `uploaded-output`,
    /// `verified`, `cleaned-up`, `done`). Does nothing in normal use; the
    /// crash tests make it stop the process.
    pub fault_hook: &'a dyn Fn(&str),
    /// Set (e.g. by Ctrl-C) to stop after the step in progress: the
    /// journal resumes the recording next time.
    pub stop: &'a AtomicBool,
}

impl Options<'_> {
    pub(super) fn stopping(&self) -> bool {
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
        why: Problem,
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
    /// Bytes done of a long operation: `seal` (made and sealed) or
    /// `upload` (sent to the destination).
    Progress {
        id: String,
        what: &'static str,
        output: String,
        done: u64,
        total: Option<u64>,
    },
    /// The destination failed (try `attempt`, from 1) and is tried again
    /// after `wait`; `error` holds no names of the recording.
    Retry {
        attempt: u32,
        wait: Duration,
        error: String,
    },
    /// Something about the destination the user should know, said once a
    /// run (e.g. that the server does not offer fsync).
    Note {
        text: String,
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

impl Event {
    /// What the user is told of a retry wrapper's notice; an error's text
    /// is scrubbed of the recording's names.
    pub(super) fn of_notice(n: &Notice<'_>, names: &Names) -> Event {
        match n {
            Notice::Retry(r) => Event::Retry {
                attempt: r.attempt,
                wait: r.delay,
                error: names.scrub(&r.error.to_string()),
            },
            Notice::Note(note) => Event::Note {
                text: names.scrub(&note.to_string()),
            },
        }
    }
}

/// What a finished recording became.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Remote names of the outputs and the manifest.
    pub uploaded: Vec<String>,
    /// For each of `uploaded`, in order: what was checked of it at the
    /// destination, in words.
    pub checked: Vec<String>,
    /// Inputs not written anywhere.
    pub dropped: usize,
    /// Ranges removed or silenced, in seconds of each output's own
    /// timeline: `(output's remote name, its kind in words, from, to)`.
    pub removed: Vec<(String, String, f64, f64)>,
    pub destination: String,
    pub verify: VerifyMode,
    /// Interim files removed, and how (`shred`, `delete`, `keep`).
    pub interim_removed: usize,
    /// Of those, files that had other names (hard links): unlinked, not
    /// overwritten, since overwriting would destroy the other names' data.
    pub interim_unlinked_only: usize,
    pub cleanup: String,
    /// Remote names of outputs made from audio that is silent throughout
    /// (below −60 dBFS: a muted microphone): delivered, with a warning.
    pub silent: Vec<String>,
}

/// How one recording ended in this run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", content = "why", rename_all = "kebab-case")]
pub enum Outcome {
    Done,
    AlreadyDone,
    /// In progress, or waiting for a person to log in.
    Waiting(Problem),
    /// Needs a person; nothing of it was deleted that is not delivered.
    Broken(Problem),
    /// recpipe failed on it (I/O, destination); it resumes next run.
    Failed(Problem),
}

impl Outcome {
    pub fn exit(&self) -> ExitStatus {
        match self {
            Outcome::Done | Outcome::AlreadyDone => ExitStatus::Success,
            Outcome::Waiting(_) => ExitStatus::Waiting,
            Outcome::Broken(_) => ExitStatus::Broken,
            Outcome::Failed(_) => ExitStatus::Error,
        }
    }

    /// The problem, for an outcome that is not done.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Outcome::Waiting(p) | Outcome::Broken(p) | Outcome::Failed(p) => Some(p),
            Outcome::Done | Outcome::AlreadyDone => None,
        }
    }
}

/// The names a message must not show: the recording folder and its files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

impl Names {
    pub fn scrub(&self, text: &str) -> String {
        let files: Vec<&Path> = self.files.iter().map(PathBuf::as_path).collect();
        scrub(text, &self.dir, &files)
    }
}

/// An error from a lower layer, kept typed, with the names to take out of
/// its text whenever it is shown.
#[derive(Debug)]
pub struct Hidden<E> {
    error: Arc<E>,
    names: Arc<Names>,
}

impl<E> Hidden<E> {
    pub fn new(error: E, names: &Names) -> Hidden<E> {
        Hidden {
            error: Arc::new(error),
            names: Arc::new(names.clone()),
        }
    }

    /// The typed error (its own text may hold names: format the `Hidden`).
    pub fn error(&self) -> &E {
        &self.error
    }
}

impl<E> Clone for Hidden<E> {
    fn clone(&self) -> Hidden<E> {
        Hidden {
            error: Arc::clone(&self.error),
            names: Arc::clone(&self.names),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Hidden<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names.scrub(&self.error.to_string()))
    }
}

impl<E: fmt::Display> PartialEq for Hidden<E> {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// What the check found against a recording, typed, with the names to
/// take out of its text whenever it is shown. Two are equal when their
/// typed reasons are.
#[derive(Debug, Clone, PartialEq)]
pub struct Findings {
    reasons: Reasons,
    names: Arc<Names>,
}

impl Findings {
    pub fn new(reasons: Reasons, names: &Names) -> Findings {
        Findings {
            reasons,
            names: Arc::new(names.clone()),
        }
    }

    /// The typed reasons (their own text may hold names: format the
    /// `Findings`).
    pub fn reasons(&self) -> &Reasons {
        &self.reasons
    }

    /// The same findings with their durations left out.
    pub fn without_times(&self) -> Findings {
        Findings {
            reasons: self.reasons.without_times(),
            names: Arc::clone(&self.names),
        }
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names.scrub(&self.reasons.to_string()))
    }
}

/// Why a recording did not get to done, typed. Each kind is either a wait,
/// a matter for a person, or a failure that the next run retries
/// ([`Problem::outcome`]); its text says what happened and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    // Waits.
    #[error("stopped on request after a completed step; the next run resumes it")]
    StoppedOnRequest,
    /// What the check found: Zoom is still at work.
    #[error("{0}")]
    InProgress(Findings),
    #[error(
        "{0} live mark(s) from `recpipe mark` were added to its marks file; it is processed once that settles"
    )]
    LiveMarksAdded(usize),
    #[error("the folder changed while it was being listed; it is looked at again next time")]
    ListingChanged,
    #[error(
        "a live mark (`recpipe mark`) is still open within the recording's time; it is processed once the mark is closed (run `recpipe mark` again)"
    )]
    LiveMarkOpen,
    #[error(
        "{0} changed after the recording was checked, before anything of it was delivered; it is checked again once it settles"
    )]
    ChangedBeforeDelivery(FileRef),
    #[error("{0}")]
    Login(Hidden<DestError>),

    // Needs a person.
    /// What the check found: the folder cannot be processed as it is.
    #[error("{0} (run `recpipe check` on the folder for details)")]
    Broken(Findings),
    #[error("{0}")]
    Unreadable(Hidden<DiscoverError>),
    #[error("{0}; fix the marks file, nothing was processed")]
    Marks(String),
    #[error("{0}; nothing of this recording was processed")]
    Plan(String),
    #[error(
        "{what} changed after the recording was checked, and {delivered} of its outputs were already delivered; nothing was deleted. Put the file back as it was and run again, or move the recording folder out of the interim folder and process it on its own with `recpipe run FOLDER`",
        what = .0.0,
        delivered = .0.1
    )]
    ChangedAfterDelivery(Box<(FileRef, usize)>),
    #[error("{0}")]
    Produce(Hidden<super::stage::StageError>),
    #[error("the pipeline has no [destination]")]
    NoDestination,
    /// The destination holds something else under an output's final name:
    /// recpipe never replaces it, so a rerun alone cannot finish.
    #[error("{0}")]
    Occupied(Hidden<DestError>),
    #[error(
        "uploaded and verified, but {} in the interim folder: {}",
        if .0.len() == 1 { "one file was left" } else { "files were left" },
        .0.join("; ")
    )]
    Left(Vec<String>),

    // Failures, retried next run.
    #[error("{0}")]
    Journal(Hidden<JournalError>),
    #[error("{what} cannot be read: {error}")]
    Input {
        what: FileRef,
        error: Hidden<std::io::Error>,
    },
    #[error("{0}")]
    Stage(Hidden<super::stage::StageError>),
    #[error("{0}")]
    Destination(Hidden<DestError>),
    #[error(
        "{remote}: the staged file is gone and the destination does not hold it ({error}); the recording must be processed again"
    )]
    StagedGone {
        remote: String,
        error: Hidden<DestError>,
    },
    #[error("live marks: {0}")]
    LiveMarks(String),
    #[error(
        "a live mark (`recpipe mark`) within the recording's time was opened and not closed for {0}; nothing of the recording goes until a person closes it (`recpipe mark`, or `recpipe mark FROM TO` with the times) or removes it from the pending marks, then runs again"
    )]
    LiveMarkLeftOpen(crate::duration::HumanDuration),
    #[error(
        "a live mark (`recpipe mark`) lies after the recording's end but before its files were finished (the recording was stopped and restarted, or paused), so where it falls in the files cannot be known; write it into the marks file by hand (e.g. '2 +00:01:10 - +00:01:20' for segment 2, or as wall-clock times with a 'segment N starts' line), delete its line from pending-marks.txt in recpipe's state folder, then run again"
    )]
    LiveMarkUnplaced,
}

impl Problem {
    /// A destination error: a login that needs a person waits, anything
    /// else is a failure the next run retries.
    pub fn destination(e: DestError, names: &Names) -> Problem {
        if e.class() == ErrorClass::NeedsInteractiveLogin {
            Problem::Login(Hidden::new(e, names))
        } else if matches!(
            e,
            DestError::Exists { .. }
                | DestError::NotAFile { .. }
                | DestError::DeliveredDiffers { .. }
        ) {
            Problem::Occupied(Hidden::new(e, names))
        } else {
            Problem::Destination(Hidden::new(e, names))
        }
    }

    /// The problem with its durations left out: equal for two looks at
    /// the same wait or the same trouble while the time it counts grows.
    pub fn without_times(&self) -> Problem {
        match self {
            Problem::InProgress(f) => Problem::InProgress(f.without_times()),
            Problem::Broken(f) => Problem::Broken(f.without_times()),
            Problem::LiveMarkLeftOpen(_) => {
                Problem::LiveMarkLeftOpen(crate::duration::HumanDuration(Duration::ZERO))
            }
            p => p.clone(),
        }
    }

    /// The outcome this problem makes of a recording.
    pub fn outcome(self) -> Outcome {
        match self {
            Problem::StoppedOnRequest
            | Problem::InProgress(_)
            | Problem::LiveMarksAdded(_)
            | Problem::LiveMarkOpen
            | Problem::ListingChanged
            | Problem::ChangedBeforeDelivery(_)
            | Problem::Login(_) => Outcome::Waiting(self),
            Problem::Broken(_)
            | Problem::Unreadable(_)
            | Problem::Marks(_)
            | Problem::Plan(_)
            | Problem::ChangedAfterDelivery(_)
            | Problem::Produce(_)
            | Problem::NoDestination
            | Problem::Occupied(_)
            | Problem::LiveMarkLeftOpen(_)
            | Problem::LiveMarkUnplaced
            | Problem::Left(_) => Outcome::Broken(self),
            Problem::Journal(_)
            | Problem::Input { .. }
            | Problem::Stage(_)
            | Problem::Destination(_)
            | Problem::StagedGone { .. }
            | Problem::LiveMarks(_) => Outcome::Failed(self),
        }
    }
}

impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
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
    /// 4 something needs a person, else 1 recpipe failed on something,
    /// else 3 something waits, else 0 (all done, or nothing to do).
    pub fn exit(&self) -> ExitStatus {
        self.recordings
            .iter()
            .fold(ExitStatus::Success, |worst, r| {
                worst.worst(r.outcome.exit())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: Outcome) -> RecordingResult {
        RecordingResult {
            id: None,
            stamp: String::new(),
            outcome,
        }
    }

    #[test]
    fn the_worst_outcome_decides_the_exit_status() {
        let wait = Outcome::Waiting(Problem::StoppedOnRequest);
        let fail = Outcome::Failed(Problem::LiveMarks("x".into()));
        let broken = Outcome::Broken(Problem::NoDestination);
        let exit = |outcomes: Vec<Outcome>| {
            RunSummary {
                recordings: outcomes.into_iter().map(result).collect(),
            }
            .exit()
        };
        assert_eq!(exit(vec![]), ExitStatus::Success);
        assert_eq!(exit(vec![Outcome::Done, wait.clone()]), ExitStatus::Waiting);
        assert_eq!(exit(vec![wait.clone(), fail.clone()]), ExitStatus::Error);
        assert_eq!(exit(vec![fail, broken, wait]), ExitStatus::Broken);
    }

    #[test]
    fn a_hidden_error_shows_no_names() {
        let names = Names {
            dir: "/z/2026-11-20 14.03.11 Kari Nordmann".into(),
            files: vec!["Audio Record/audioKariNordmann11.m4a".into()],
        };
        let e = std::io::Error::other(
            "/z/2026-11-20 14.03.11 Kari Nordmann/Audio Record/audioKariNordmann11.m4a: gone",
        );
        let text = Hidden::new(e, &names).to_string();
        assert!(!text.contains("Kari"), "{text}");
        assert!(text.contains("gone"), "{text}");
    }

    #[test]
    fn findings_show_no_names_and_compare_without_their_times() {
        use crate::discover::{MediaProblem, Reason, Why};
        let names = Names {
            dir: "/z/2026-11-20 14.03.11 Kari Nordmann".into(),
            files: vec!["Audio Record/audioKariNordmann11.m4a".into()],
        };
        let cut = Reason {
            verdict: Verdict::Broken,
            file: Some("Audio Record/audioKariNordmann11.m4a".into()),
            why: Why::Media(MediaProblem::Empty),
        };
        let changed = |secs| Reason {
            verdict: Verdict::InProgress,
            file: None,
            why: Why::Changed {
                ago: Duration::from_secs(secs),
                settle: Duration::from_secs(30),
            },
        };
        let found = |secs| Findings::new(Reasons(vec![cut.clone(), changed(secs)]), &names);
        let text = Problem::Broken(found(3)).to_string();
        assert!(!text.contains("Kari"), "{text}");
        assert!(
            text.contains("<file 1>: it is empty (0 bytes); a file changed 3s ago"),
            "{text}"
        );
        assert!(text.ends_with("(run `recpipe check` on the folder for details)"));
        assert_ne!(found(3), found(9));
        assert_eq!(found(3).without_times(), found(9).without_times());
    }

    #[test]
    fn a_problem_serialises_as_its_sentence() {
        let o = Problem::LiveMarksAdded(2).outcome();
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["outcome"], "waiting");
        assert!(json["why"].as_str().unwrap().starts_with("2 live mark(s)"));
    }
}
