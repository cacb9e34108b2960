//! `recpipe run` and `recpipe status`: process recordings once, and show
//! what every journal says. Output names recordings by id and start time
//! only, never by topic or participant.

use super::{fail, pipeline_file::config_error, prompt::Terminal};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use recpipe::config::Pipeline;
use recpipe::destination::{NoTerminal, Prompter, RetryPolicy};
use recpipe::exit::ExitStatus;
use recpipe::journal::StateDir;
use recpipe::pipeline::{self, Event, Options, Outcome};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(ClapArgs, Debug)]
pub struct RunArgs {
    /// The pipeline file (pipelines/*.toml).
    #[arg(long, short = 'p', value_name = "FILE")]
    pipeline: PathBuf,
    /// Recording folders, or folders holding them (default: the pipeline's [source] dir).
    paths: Vec<PathBuf>,
    /// Print one JSON summary instead of lines.
    #[arg(long)]
    json: bool,
    /// The recording's start time for wall-clock marks, when the folder name
    /// does not give it: "YYYY-MM-DD HH:MM:SS" (local time).
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// The state folder (journals, staged files, lock). Default: the
    /// per-user one, or $RECPIPE_STATE_DIR.
    #[arg(long, value_name = "DIR", env = "RECPIPE_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(ClapArgs, Debug)]
pub struct StatusArgs {
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// The state folder (default: the per-user one, or $RECPIPE_STATE_DIR).
    #[arg(long, value_name = "DIR", env = "RECPIPE_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

fn open_state(dir: Option<&Path>) -> Result<StateDir, ExitStatus> {
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
/// recipients, the state folder and its lock.
struct Setup {
    pipeline: Pipeline,
    recipients: Vec<recpipe::seal::Recipient>,
    start: Option<time::PrimitiveDateTime>,
    state: StateDir,
}

fn setup(
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
    })
}

/// Takes the state folder's lock, or says another recpipe has it; with
/// the lock, starts the log (only the run holding the lock writes it).
fn lock(state: &StateDir) -> Result<recpipe::journal::Lock, ExitStatus> {
    match state.lock() {
        Ok(Some(lock)) => {
            super::log::start(state).map_err(|e| {
                fail(
                    format!(
                        "cannot open the log {}: {e}",
                        super::log::path(state).display()
                    ),
                    "Check that the state folder is writable.",
                    ExitStatus::Error,
                )
            })?;
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

pub fn run(args: &RunArgs) -> ExitStatus {
    let s = match setup(
        &args.pipeline,
        args.start.as_deref(),
        args.state_dir.as_deref(),
    ) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let _lock = match lock(&s.state) {
        Ok(l) => l,
        Err(status) => return status,
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let prompter: &dyn Prompter = if terminal { &Terminal } else { &NoTerminal };
    let fault = FaultHook::from_env();
    let hook = |point: &str| fault.reached(point);
    let opts = Options {
        pipeline: &s.pipeline,
        recipients: s.recipients.clone(),
        state: &s.state,
        prompter,
        retry: RetryPolicy::default(),
        start: s.start,
        fault_hook: &hook,
        stop: stop_on_ctrl_c(),
    };
    let mut printer = Printer::new(terminal && !args.json, args.json);
    let result = pipeline::run(&opts, &args.paths, &mut |e| {
        super::log::record(&e);
        printer.event(e)
    });
    printer.finish();
    match result {
        Ok(summary) => {
            if args.json {
                match serde_json::to_string_pretty(&summary) {
                    Ok(t) => println!("{t}"),
                    Err(e) => return fail(e, "", ExitStatus::Error),
                }
            } else if summary.recordings.is_empty() {
                println!("Nothing to do: no recordings found.");
            }
            summary.exit()
        }
        Err(e) => fail(
            e,
            "Nothing was deleted; fix the cause and run again.",
            ExitStatus::Error,
        ),
    }
}

/// A flag set by the first Ctrl-C (stop after the step in progress; the
/// journal resumes the rest). A second Ctrl-C ends the process at once,
/// which the journal also survives.
fn stop_on_ctrl_c() -> &'static AtomicBool {
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

pub(super) fn parse_start(text: &str) -> Result<time::PrimitiveDateTime, ()> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(text.trim(), &format).map_err(|_| ())
}

/// A test-only hook: `RECPIPE_FAULT_AT=<point>[:<n>]` stops the process
/// abruptly (as a power cut would) the n-th time (default first) the run
/// reaches that durable point, so the crash tests can check a rerun.
struct FaultHook {
    point: Option<(String, u32)>,
    seen: std::cell::Cell<u32>,
}

impl FaultHook {
    fn from_env() -> FaultHook {
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

    fn reached(&self, point: &str) {
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

/// Prints events: progress bars on a terminal, plain lines otherwise.
struct Printer {
    bars: bool,
    quiet: bool,
    bar: Option<ProgressBar>,
    current: String,
}

impl Printer {
    fn new(bars: bool, quiet: bool) -> Printer {
        Printer {
            bars,
            quiet,
            bar: None,
            current: String::new(),
        }
    }

    fn line(&mut self, text: String) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Skipped {
                stamp,
                verdict,
                reasons,
            } => self.line(format!(
                "recording {stamp}: {verdict}, not processed: {}",
                reasons.join("; ")
            )),
            Event::AlreadyDone { id, stamp } => {
                self.line(format!("recording {id} ({stamp}): already done"))
            }
            Event::Started { id, stamp, resumed } => self.line(format!(
                "recording {id} ({stamp}): {}",
                if resumed { "resuming" } else { "starting" }
            )),
            // `Finished` follows with "done" and the summary.
            Event::Step {
                step: recpipe::journal::Step::Done,
                ..
            } => {}
            Event::Step { id, step } => {
                self.end_bar();
                self.line(format!("recording {id}: {step}"));
            }
            Event::Progress {
                id,
                what,
                output,
                done,
                total,
            } => {
                if !self.bars {
                    return;
                }
                let key = format!("{id}/{what}/{output}");
                if self.current != key {
                    self.end_bar();
                    let bar = match total {
                        Some(t) => ProgressBar::new(t),
                        None => ProgressBar::no_length(),
                    };
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_message(format!("{what} {output}"));
                    self.bar = Some(bar);
                    self.current = key;
                }
                if let Some(bar) = &self.bar {
                    bar.set_position(done);
                }
            }
            Event::Retry {
                attempt,
                wait_secs,
                error,
            } => self.line(format!(
                "  try {attempt} failed ({error}); trying again in {wait_secs} s"
            )),
            Event::Finished { id, summary } => {
                self.end_bar();
                let mut lines = vec![format!("recording {id}: done")];
                for name in &summary.uploaded {
                    lines.push(format!(
                        "  uploaded and verified ({:?}): {name}",
                        summary.verify
                    ));
                }
                lines.push(format!("  destination: {}", summary.destination));
                if summary.dropped > 0 {
                    lines.push(format!(
                        "  {} file(s) not kept (not in [keep] tracks)",
                        summary.dropped
                    ));
                }
                for (a, b) in &summary.removed {
                    lines.push(format!("  removed or silenced: {a:.2} s – {b:.2} s"));
                }
                lines.push(match summary.cleanup.as_str() {
                    "keep" => {
                        "  interim copy kept (the pipeline says interim = \"keep\")".to_string()
                    }
                    how => format!(
                        "  interim copy: {} file(s) removed ({how})",
                        summary.interim_removed
                    ),
                });
                for why in &summary.left {
                    lines.push(format!("  a file was left in the interim folder: {why}"));
                }
                for l in lines {
                    self.line(l);
                }
            }
            Event::Stopped { id, outcome } => {
                self.end_bar();
                let text = match outcome {
                    Outcome::Waiting(w) => format!("waits: {w}"),
                    Outcome::Broken(w) => format!("needs a person: {w}"),
                    Outcome::Failed(w) => format!("failed (resumes next run): {w}"),
                    Outcome::Done | Outcome::AlreadyDone => "done".into(),
                };
                self.line(format!("recording {id}: {text}"));
            }
        }
    }

    fn end_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.current.clear();
    }

    fn finish(&mut self) {
        self.end_bar();
    }
}

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
    let s = match setup(&args.pipeline, None, args.state_dir.as_deref()) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let _lock = match lock(&s.state) {
        Ok(l) => l,
        Err(status) => return status,
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let prompter: &dyn Prompter = if terminal { &Terminal } else { &NoTerminal };
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| s.pipeline.source.dir.clone());
    let opts = Options {
        pipeline: &s.pipeline,
        recipients: s.recipients.clone(),
        state: &s.state,
        prompter,
        retry: RetryPolicy::default(),
        start: None,
        fault_hook: &|_| {},
        stop: stop_on_ctrl_c(),
    };
    let wopts = pipeline::WatchOptions {
        poll: args.poll,
        rescan: args.rescan.0,
        ..Default::default()
    };
    let mut printer = Printer::new(terminal, false);
    let mut on_watch = |e: pipeline::WatchEvent| match e {
        pipeline::WatchEvent::FolderMissing(d) => {
            eprintln!("recpipe: {} is not there; waiting for it", d.display())
        }
        pipeline::WatchEvent::Watching { dir, poll } => eprintln!(
            "recpipe: watching {}{} (Ctrl-C stops after the step in progress)",
            dir.display(),
            if poll { " by polling" } else { "" }
        ),
        pipeline::WatchEvent::Pass(_) => {}
    };
    let result = pipeline::watch(&opts, &dir, &wopts, &mut on_watch, &mut |e| {
        super::log::record(&e);
        printer.event(e)
    });
    printer.finish();
    match result {
        Ok(last) => last.exit(),
        Err(e) => fail(
            e,
            "Nothing was deleted; fix the cause and run again.",
            ExitStatus::Error,
        ),
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
        let doc = serde_json::json!({ "unfinished": open, "done": done });
        match serde_json::to_string_pretty(&doc) {
            Ok(t) => println!("{t}"),
            Err(e) => return fail(e, "", ExitStatus::Error),
        }
        return ExitStatus::Success;
    }
    if open.is_empty() && done.is_empty() {
        println!("No recordings in {}.", state.root().display());
    }
    println!("Log of every run: {}", super::log::path(&state).display());
    let mut by_step: HashMap<String, usize> = HashMap::new();
    for j in &open {
        *by_step.entry(j.step.to_string()).or_default() += 1;
        println!(
            "{} ({}) from {}: {}",
            j.id,
            j.stamp,
            j.source.display(),
            j.step
        );
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
