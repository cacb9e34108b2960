//! `recpipe watch`: keeps processing the interim folder, in a window a
//! researcher may start from the Start menu and glance at. It says in
//! plain words what it does and what it waits for: one status line when
//! the state changes (not every minute), each recording's wait or problem
//! once (not again at every look), and, when a login needs the person,
//! "press Enter" before any connection is opened. Closing the window ends
//! the process at once; the journal makes that as safe as a crash, and the
//! next watch or run resumes. Output names recordings by id and start time
//! only, never by topic or participant.

use super::printer::Printer;
use super::prompt::Terminal;
use super::setup::{
    at_terminal, prompter, setup_unlocked_with_log, setup_waiting_for_lock, stop_on_ctrl_c,
};
use clap::Args as ClapArgs;
use recpipe::destination::{PromptError, Prompter, RetryPolicy, Secret};
use recpipe::discover::Verdict;
use recpipe::exit::ExitStatus;
use recpipe::pipeline::{self, Event, Options, Outcome, Problem, RunSummary, WatchEvent};
use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
pub struct WatchArgs {
    /// The pipeline file (pipelines/*.toml).
    #[arg(long, short = 'p', value_name = "FILE")]
    pipeline: PathBuf,
    /// The folder to watch (default: the pipeline's [source] dir).
    dir: Option<PathBuf>,
    /// Poll instead of using the system's file events (network drives,
    /// synced folders).
    #[arg(long)]
    poll: bool,
    /// Look at the folder at least this often, events or not.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    rescan: recpipe::duration::HumanDuration,
    /// The state folder (default: the per-user one, or $RECPIPE_STATE_DIR).
    #[arg(long, value_name = "DIR", env = "RECPIPE_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

pub fn watch(args: &WatchArgs) -> ExitStatus {
    let status = watch_until_stopped(args);
    // Started from the Start menu, the window closes when recpipe ends:
    // keep it open until what it said has been read.
    if at_terminal() && window_of_its_own() {
        eprint!("recpipe watch has stopped. Press Enter to close this window. ");
        let _ = std::io::stdin().lock().read_line(&mut String::new());
    }
    status
}

/// Whether this process is alone in its console window: started from the
/// Start menu or Explorer rather than from a shell that stays open.
#[cfg(windows)]
fn window_of_its_own() -> bool {
    use windows_sys::Win32::System::Console::GetConsoleProcessList;
    let mut ids = [0u32; 2];
    // SAFETY: the buffer holds `ids.len()` process ids.
    unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) == 1 }
}

#[cfg(not(windows))]
fn window_of_its_own() -> bool {
    false
}

fn watch_until_stopped(args: &WatchArgs) -> ExitStatus {
    let terminal = at_terminal();
    // With nobody at a terminal (started at login), each pass takes the
    // lock, so that a watch opened to log in can have it in between; that
    // one waits for a pass in progress to end.
    let s = match if terminal {
        setup_waiting_for_lock(&args.pipeline, args.state_dir.as_deref())
    } else {
        setup_unlocked_with_log(&args.pipeline, args.state_dir.as_deref())
    } {
        Ok(s) => s,
        Err(status) => return status,
    };
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| s.pipeline.source.dir.clone());
    let opts = Options {
        pipeline: &s.pipeline,
        recipients: s.recipients.clone(),
        state: &s.state,
        prompter: if terminal {
            &AtTheDesk
        } else {
            prompter(false)
        },
        retry: RetryPolicy::default(),
        start: None,
        fault_hook: &|_| {},
        stop: stop_on_ctrl_c(),
    };
    let wopts = pipeline::WatchOptions {
        poll: args.poll,
        rescan: args.rescan.0,
        lock_each_pass: !terminal,
        ..Default::default()
    };
    let shown = RefCell::new(Shown::default());
    // The recordings already said to have waited too long.
    let mut overdue_said: HashSet<String> = HashSet::new();
    // That another recpipe holds the lock, said once until a pass runs.
    let mut busy_said = false;
    let mut printer = Printer::new(terminal, false);
    let mut on_watch = |e: WatchEvent| match e {
        WatchEvent::FolderMissing(d) => eprintln!(
            "recpipe: {} is not there; waiting for it to appear",
            d.display()
        ),
        WatchEvent::Watching { dir, poll } => eprintln!(
            "recpipe: watching {}{} for recordings (Ctrl-C, or closing this window, stops; the next start resumes)",
            dir.display(),
            if poll { " by polling" } else { "" }
        ),
        WatchEvent::Pass(summary) => {
            busy_said = false;
            if let Some(line) = shown.borrow_mut().pass_ended(&summary) {
                eprintln!("recpipe: {} {line}", now());
            }
            let overdue = super::notify::after_pass(&s.state, &s.pipeline, &summary, true);
            let keys: HashSet<String> = overdue.iter().map(|o| o.start.clone()).collect();
            for o in overdue.iter().filter(|o| !overdue_said.contains(&o.start)) {
                super::notify::say_overdue(o, &s.pipeline.source.max_wait);
            }
            overdue_said = keys;
        }
        WatchEvent::PassFailed(why) => eprintln!(
            "recpipe: this look at the folder could not be made ({why}); nothing was deleted, and the next one tries again"
        ),
        WatchEvent::Busy => {
            if !busy_said {
                busy_said = true;
                eprintln!(
                    "recpipe: another recpipe is working on the recordings; this one looks again when it is done"
                );
            }
        }
        WatchEvent::Resumed(after) => eprintln!(
            "recpipe: back after {} (the PC slept?); looking at the folder again",
            recpipe::duration::HumanDuration(std::time::Duration::from_secs(after.as_secs()))
        ),
    };
    let last = pipeline::watch(&opts, &dir, &wopts, &mut on_watch, &mut |e| {
        super::log::record(&e);
        if shown.borrow_mut().is_new(&e) {
            printer.event(e)
        }
    });
    printer.finish();
    last.exit()
}

/// The time of day for a status line.
fn now() -> String {
    jiff::ZonedDateTime::now().strftime("%H:%M").to_string()
}

/// What the window has shown, so that a look at the folder that finds
/// what the last one found prints nothing.
#[derive(Default)]
struct Shown {
    /// A recording's wait, problem or "already done", as of the last look.
    last: Vec<Standing>,
    this: Vec<Standing>,
    status: Option<String>,
}

/// A recording's standing after a look, with the durations left out of
/// its problem: two looks at one wait compare equal.
#[derive(Debug, PartialEq)]
enum Standing {
    Skipped {
        stamp: String,
        verdict: Verdict,
        why: Problem,
    },
    AlreadyDone {
        id: String,
        stamp: String,
    },
    Stopped {
        id: String,
        outcome: Outcome,
    },
}

impl Standing {
    /// The standing `e` reports; `None` for progress, which is always news.
    fn of(e: &Event) -> Option<Standing> {
        Some(match e {
            Event::Skipped {
                stamp,
                verdict,
                why,
            } => Standing::Skipped {
                stamp: stamp.clone(),
                verdict: *verdict,
                why: why.without_times(),
            },
            Event::AlreadyDone { id, stamp } => Standing::AlreadyDone {
                id: id.clone(),
                stamp: stamp.clone(),
            },
            Event::Stopped { id, outcome } => Standing::Stopped {
                id: id.clone(),
                outcome: match outcome {
                    Outcome::Waiting(p) => Outcome::Waiting(p.without_times()),
                    Outcome::Broken(p) => Outcome::Broken(p.without_times()),
                    Outcome::Failed(p) => Outcome::Failed(p.without_times()),
                    done => done.clone(),
                },
            },
            _ => return None,
        })
    }
}

impl Shown {
    /// Whether `e` is news; a recording's standing is not news when the
    /// look before this one showed it already. A duration does not make it
    /// news: "a file changed 3s ago" and, a look later, "… 9s ago" are the
    /// same wait for Zoom, shown once.
    fn is_new(&mut self, e: &Event) -> bool {
        let Some(standing) = Standing::of(e) else {
            return true;
        };
        let new = !self.last.contains(&standing);
        if !self.this.contains(&standing) {
            self.this.push(standing);
        }
        new
    }

    /// The status line after a look, when it differs from the last one.
    fn pass_ended(&mut self, summary: &RunSummary) -> Option<String> {
        self.last = std::mem::take(&mut self.this);
        let line = status(summary);
        (self.status.as_ref() != Some(&line)).then(|| {
            self.status = Some(line.clone());
            line
        })
    }
}

/// One line in plain words: what waits, what needs the person, what is
/// tried again, or that there is nothing to do.
fn status(summary: &RunSummary) -> String {
    let count =
        |f: fn(&Outcome) -> bool| summary.recordings.iter().filter(|r| f(&r.outcome)).count();
    let waiting = count(|o| matches!(o, Outcome::Waiting(_)));
    let broken = count(|o| matches!(o, Outcome::Broken(_)));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let mut parts = Vec::new();
    let n = |k: usize| {
        if k == 1 {
            "1 recording".to_string()
        } else {
            format!("{k} recordings")
        }
    };
    if waiting > 0 {
        parts.push(format!(
            "{} {} for Zoom to finish or for a login",
            n(waiting),
            if waiting == 1 { "waits" } else { "wait" }
        ));
    }
    if broken > 0 {
        parts.push(format!(
            "{} {} you (see above)",
            n(broken),
            if broken == 1 { "needs" } else { "need" }
        ));
    }
    if failed > 0 {
        parts.push(format!(
            "{} could not be finished and {} tried again at the next look",
            n(failed),
            if failed == 1 { "is" } else { "are" }
        ));
    }
    if parts.is_empty() {
        "nothing to do; waiting for new recordings".to_string()
    } else {
        format!("{}; watching for new recordings", parts.join(", "))
    }
}

/// The terminal, for a watch: before a login that needs answers it asks
/// the person to press Enter, since nobody may be at the desk when a
/// recording becomes ready.
struct AtTheDesk;

impl Prompter for AtTheDesk {
    fn ask(&self, question: &str, echo: bool) -> Result<Secret, PromptError> {
        Terminal.ask(question, echo)
    }

    fn fetch_person(&self, destination: &str) -> Result<bool, PromptError> {
        let mut err = std::io::stderr();
        write!(
            err,
            "recpipe: {} a recording is ready to go to {destination}, and the login needs you. Log in: press Enter. ",
            now()
        )?;
        err.flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            return Err(PromptError::Declined);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recpipe::discover::{MediaProblem, Reason, Reasons, Why};
    use recpipe::duration::HumanDuration;
    use recpipe::pipeline::{Findings, Names, RecordingResult};
    use std::time::Duration;

    fn summary(outcomes: Vec<Outcome>) -> RunSummary {
        RunSummary {
            recordings: outcomes
                .into_iter()
                .map(|outcome| RecordingResult {
                    id: None,
                    stamp: String::new(),
                    outcome,
                })
                .collect(),
        }
    }

    #[test]
    fn the_status_says_what_waits_and_what_needs_the_person() {
        assert_eq!(
            status(&summary(vec![])),
            "nothing to do; waiting for new recordings"
        );
        assert_eq!(
            status(&summary(vec![Outcome::Done, Outcome::AlreadyDone])),
            "nothing to do; waiting for new recordings"
        );
        let s = status(&summary(vec![
            Outcome::Waiting(Problem::ListingChanged),
            Outcome::Broken(Problem::NoDestination),
            Outcome::Broken(Problem::NoDestination),
        ]));
        assert_eq!(
            s,
            "1 recording waits for Zoom to finish or for a login, 2 recordings need you (see above); watching for new recordings"
        );
    }

    #[test]
    fn a_look_that_finds_the_same_shows_nothing() {
        let mut shown = Shown::default();
        let waits = || Event::Stopped {
            id: "r1".into(),
            outcome: Outcome::Waiting(Problem::ListingChanged),
        };
        let waiting = summary(vec![Outcome::Waiting(Problem::ListingChanged)]);
        assert!(shown.is_new(&waits()));
        assert!(shown.pass_ended(&waiting).is_some());
        // The next look finds the same: neither the line nor the status.
        assert!(!shown.is_new(&waits()));
        assert_eq!(shown.pass_ended(&waiting), None);
        // Progress is always news.
        assert!(shown.is_new(&Event::Note { text: "x".into() }));
        // Once it is gone, it is news when it comes back.
        assert!(shown.pass_ended(&summary(vec![])).is_some());
        assert_eq!(shown.pass_ended(&summary(vec![])), None);
        assert!(shown.is_new(&waits()));
    }

    /// A folder's wait for Zoom, or trouble with `file`, as admission
    /// reports it.
    fn skipped(stamp: &str, reason: Reason) -> Event {
        let names = Names {
            dir: format!("/z/{stamp} Kari Nordmann").into(),
            files: vec!["a2.m4a".into(), "a3.m4a".into()],
        };
        let verdict = reason.verdict;
        let reasons = Findings::new(Reasons(vec![reason]), &names);
        Event::Skipped {
            stamp: stamp.into(),
            verdict,
            why: match verdict {
                Verdict::InProgress => Problem::InProgress(reasons),
                _ => Problem::Broken(reasons),
            },
        }
    }

    fn changed(secs: u64) -> Reason {
        Reason {
            verdict: Verdict::InProgress,
            file: None,
            why: Why::Changed {
                ago: Duration::from_secs(secs),
                settle: Duration::from_secs(30),
            },
        }
    }

    fn cut_short(file: &str) -> Reason {
        Reason {
            verdict: Verdict::Broken,
            file: Some(file.into()),
            why: Why::Media(MediaProblem::Empty),
        }
    }

    #[test]
    fn a_wait_whose_text_counts_seconds_is_shown_once() {
        let mut shown = Shown::default();
        let stamp = "2026-11-20 14.03.11";
        let waiting = summary(vec![]);
        assert!(shown.is_new(&skipped(stamp, changed(3))));
        shown.pass_ended(&waiting);
        assert!(!shown.is_new(&skipped(stamp, changed(12))));
        shown.pass_ended(&waiting);
        // Another reason is news.
        let converting = Reason {
            verdict: Verdict::InProgress,
            file: Some("double_click_to_convert_01.zoom".into()),
            why: Why::StillConverting,
        };
        assert!(shown.is_new(&skipped(stamp, converting)));
    }

    #[test]
    fn only_durations_are_left_out_of_what_makes_a_standing_news() {
        let mut shown = Shown::default();
        let waiting = summary(vec![]);
        assert!(shown.is_new(&skipped("2026-11-20 14.03.11", changed(3))));
        shown.pass_ended(&waiting);
        // Another recording, whose stamp differs only in its digits.
        assert!(shown.is_new(&skipped("2026-11-20 15.10.42", changed(3))));
        // Another file of the same recording.
        assert!(shown.is_new(&skipped("2026-11-20 14.03.11", cut_short("a2.m4a"))));
        shown.pass_ended(&waiting);
        assert!(shown.is_new(&skipped("2026-11-20 14.03.11", cut_short("a3.m4a"))));
        assert!(!shown.is_new(&skipped("2026-11-20 15.10.42", changed(72))));
    }

    #[test]
    fn a_live_mark_left_open_is_one_standing_however_long() {
        let mut shown = Shown::default();
        let open = |secs| Event::Stopped {
            id: "r1".into(),
            outcome: Problem::LiveMarkLeftOpen(HumanDuration(Duration::from_secs(secs))).outcome(),
        };
        assert!(shown.is_new(&open(7200)));
        shown.pass_ended(&summary(vec![]));
        assert!(!shown.is_new(&open(7260)));
    }
}
