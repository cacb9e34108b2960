//! What `run` and `watch` set up before the pipeline starts: the validated
//! pipeline and its recipients, the state folder and its lock (with the
//! log, which only the lock's holder writes, but for a watch with no
//! terminal, whose passes each take the lock and which appends to the log
//! throughout), the prompter, Ctrl-C, and the crash tests' fault hook.

use super::{fail, pipeline_file::config_error, prompt::Terminal};
use recpipe::config::Pipeline;
use recpipe::destination::{NoTerminal, Prompter};
use recpipe::exit::ExitStatus;
use recpipe::journal::StateDir;
use recpipe::pipeline;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub(super) fn open_state(dir: Option<&Path>) -> Result<StateDir, ExitStatus> {
    let root = match dir {
        Some(d) => d.to_path_buf(),
        None => StateDir::default_location().map_err(|e| fail(e, "", ExitStatus::Error))?,
    };
    StateDir::open(&root).map_err(|e| {
        fail(
            e,
            "Check that the state folder is writable.",
            ExitStatus::Error,
        )
    })
}

/// What `run` and `watch` both set up: a validated pipeline, its
/// recipients, the state folder and its lock (held while this lives,
/// unless each pass takes it: see [`setup_unlocked_with_log`]).
pub(super) struct Setup {
    pub pipeline: Pipeline,
    pub recipients: Vec<recpipe::seal::Recipient>,
    pub start: Option<jiff::civil::DateTime>,
    pub state: StateDir,
    _lock: Option<recpipe::journal::Lock>,
}

pub(super) fn setup(
    pipeline_file: &Path,
    start: Option<&str>,
    state_dir: Option<&Path>,
) -> Result<Setup, ExitStatus> {
    let mut s = setup_without_lock(pipeline_file, start, state_dir)?;
    s._lock = Some(lock(&s.state)?);
    Ok(s)
}

/// As [`setup`], for a watch at a terminal: while another recpipe holds
/// the lock (the watch started at login, mid-pass), it waits for it rather
/// than ending, since the person opened it to log in.
pub(super) fn setup_waiting_for_lock(
    pipeline_file: &Path,
    state_dir: Option<&Path>,
) -> Result<Setup, ExitStatus> {
    let mut s = setup_without_lock(pipeline_file, None, state_dir)?;
    let stop = stop_on_ctrl_c();
    let mut said = false;
    loop {
        match s.state.lock() {
            Ok(Some(lock)) => {
                start_log(&s.state)?;
                s._lock = Some(lock);
                return Ok(s);
            }
            Ok(None) if !said => {
                said = true;
                eprintln!(
                    "recpipe: another recpipe is working on {} (the watch started at login?); this one starts when it is done (Ctrl-C stops)",
                    s.state.root().display()
                );
            }
            Ok(None) => {}
            Err(e) => return Err(fail(e, "", ExitStatus::Error)),
        }
        if stop.load(Ordering::SeqCst) {
            return Err(ExitStatus::Success);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// As [`setup`], for a watch with no terminal whose passes each take the
/// lock: the log is started whoever holds the lock (lines are appended
/// whole, so two writers do not mix within a line).
pub(super) fn setup_unlocked_with_log(
    pipeline_file: &Path,
    state_dir: Option<&Path>,
) -> Result<Setup, ExitStatus> {
    let s = setup_without_lock(pipeline_file, None, state_dir)?;
    start_log(&s.state)?;
    Ok(s)
}

fn setup_without_lock(
    pipeline_file: &Path,
    start: Option<&str>,
    state_dir: Option<&Path>,
) -> Result<Setup, ExitStatus> {
    let pipeline = Pipeline::load(pipeline_file).map_err(|e| config_error(&e))?;
    let recipients = pipeline::recipients(&pipeline).map_err(|e| {
        fail(
            e,
            "Fix the recipients in the pipeline file.",
            ExitStatus::Usage,
        )
    })?;
    let start = start.map(parse_start).transpose().map_err(|()| {
        fail(
            "--start must look like \"2026-11-20 14:03:11\"",
            "",
            ExitStatus::Usage,
        )
    })?;
    let state = open_state(state_dir)?;
    Ok(Setup {
        pipeline,
        recipients,
        start,
        state,
        _lock: None,
    })
}

/// Takes the state folder's lock, or says another recpipe has it; with
/// the lock, starts the log (only the run holding the lock writes it).
fn lock(state: &StateDir) -> Result<recpipe::journal::Lock, ExitStatus> {
    match state.lock() {
        Ok(Some(lock)) => {
            start_log(state)?;
            Ok(lock)
        }
        Ok(None) => {
            eprintln!(
                "recpipe: another recpipe run is working on {}; this one has nothing to do.",
                state.root().display()
            );
            Err(ExitStatus::Success)
        }
        Err(e) => Err(fail(e, "", ExitStatus::Error)),
    }
}

fn start_log(state: &StateDir) -> Result<(), ExitStatus> {
    super::log::start(state).map_err(|e| {
        fail(
            format!(
                "cannot open the log {}: {e}",
                super::log::path(state).display()
            ),
            "Check that the state folder is writable.",
            ExitStatus::Error,
        )
    })
}

/// Whether a person is at this terminal (stdin and stderr both are one).
pub(super) fn at_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The prompter for logins: the terminal, or none for a scheduled job.
pub(super) fn prompter(terminal: bool) -> &'static dyn Prompter {
    if terminal { &Terminal } else { &NoTerminal }
}

/// A flag set by the first Ctrl-C (stop after the step in progress; the
/// journal resumes the rest). A second Ctrl-C ends the process at once,
/// which the journal also survives.
pub(super) fn stop_on_ctrl_c() -> &'static AtomicBool {
    static STOP: AtomicBool = AtomicBool::new(false);
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("recpipe: stopping after the step in progress (Ctrl-C again to stop at once; the next run resumes)");
        });
    });
    &STOP
}

pub(super) fn parse_start(text: &str) -> Result<jiff::civil::DateTime, ()> {
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text.trim()).map_err(|_| ())
}

/// A test-only hook: `RECPIPE_FAULT_AT=<point>[:<n>]` stops the process
/// abruptly (as a power cut would) the n-th time (default first) the run
/// reaches that durable point, so the crash tests can check a rerun.
pub(super) struct FaultHook {
    point: Option<(String, u32)>,
    seen: std::cell::Cell<u32>,
}

impl FaultHook {
    pub(super) fn from_env() -> FaultHook {
        let point = std::env::var("RECPIPE_FAULT_AT")
            .ok()
            .map(|v| match v.split_once(':') {
                Some((p, n)) => (p.to_string(), n.parse().unwrap_or(1)),
                None => (v, 1),
            });
        FaultHook {
            point,
            seen: std::cell::Cell::new(0),
        }
    }

    pub(super) fn reached(&self, point: &str) {
        if let Some((p, n)) = &self.point
            && p == point
        {
            self.seen.set(self.seen.get() + 1);
            if self.seen.get() == *n {
                std::process::abort();
            }
        }
    }
}
