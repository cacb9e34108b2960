//! `recpipe run`: processes recordings once. Output names recordings by id
//! and start time only, never by topic or participant.

use super::fail;
use super::printer::Printer;
use super::setup::{FaultHook, at_terminal, prompter, setup, stop_on_ctrl_c};
use clap::Args as ClapArgs;
use recpipe::destination::RetryPolicy;
use recpipe::exit::ExitStatus;
use recpipe::pipeline::{self, Options};
use std::path::PathBuf;

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

pub fn run(args: &RunArgs) -> ExitStatus {
    let s = match setup(
        &args.pipeline,
        args.start.as_deref(),
        args.state_dir.as_deref(),
    ) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let terminal = at_terminal();
    let fault = FaultHook::from_env();
    let hook = |point: &str| fault.reached(point);
    let opts = Options {
        pipeline: &s.pipeline,
        recipients: s.recipients.clone(),
        state: &s.state,
        prompter: prompter(terminal),
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
            let overdue =
                super::notify::after_pass(&s.state, &s.pipeline, &summary, args.paths.is_empty());
            if args.json {
                let mut doc = match serde_json::to_value(&summary) {
                    Ok(v) => v,
                    Err(e) => return fail(e, "", ExitStatus::Error),
                };
                doc["overdue"] = serde_json::json!(overdue);
                match serde_json::to_string_pretty(&doc) {
                    Ok(t) => println!("{t}"),
                    Err(e) => return fail(e, "", ExitStatus::Error),
                }
            } else {
                if summary.recordings.is_empty() {
                    println!("Nothing to do: no recordings found.");
                }
            }
            for o in &overdue {
                super::notify::say_overdue(o, &s.pipeline.source.max_wait);
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
