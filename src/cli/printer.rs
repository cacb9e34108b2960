//! Prints a run's events for a person: progress bars on a terminal, plain
//! lines otherwise. Events carry ids, start times and scrubbed problems
//! only, so nothing printed here names a topic, a person or a file.

use indicatif::{ProgressBar, ProgressStyle};
use recpipe::pipeline::{Event, Outcome, Problem};

/// Prints events: progress bars on a terminal, plain lines otherwise.
pub(super) struct Printer {
    bars: bool,
    quiet: bool,
    bar: Option<ProgressBar>,
    current: String,
}

impl Printer {
    pub(super) fn new(bars: bool, quiet: bool) -> Printer {
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

    pub(super) fn event(&mut self, e: Event) {
        match e {
            Event::Skipped {
                stamp,
                verdict,
                why,
            } => self.line(format!(
                "recording {stamp}: {verdict}, not processed: {}",
                skipped(&why)
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
                wait,
                error,
            } => self.line(format!(
                "  try {attempt} failed ({error}); trying again in {:.1} s (Ctrl-C stops)",
                wait.as_secs_f64()
            )),
            Event::Note { text } => self.line(format!("  note: {text}")),
            Event::Finished { id, summary } => {
                self.end_bar();
                let mut lines = vec![format!("recording {id}: done")];
                for (name, how) in summary.uploaded.iter().zip(&summary.checked) {
                    lines.push(format!("  delivered, {how}: {name}"));
                }
                lines.push(format!("  destination: {}", summary.destination));
                if summary.dropped > 0 {
                    lines.push(format!(
                        "  {} file(s) not kept (not in [keep] tracks)",
                        summary.dropped
                    ));
                }
                for (remote, kind, a, b) in &summary.removed {
                    let how = if kind.starts_with("video") {
                        "cut (widened to keyframes)"
                    } else {
                        "removed or silenced"
                    };
                    lines.push(format!(
                        "  {how} in {remote} ({kind}): {a:.2} s – {b:.2} s of its own time"
                    ));
                }
                for name in &summary.silent {
                    lines.push(format!(
                        "  warning: {name} is silent throughout (below -60 dBFS: a muted microphone?); delivered all the same"
                    ));
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
                if summary.interim_unlinked_only > 0 {
                    lines.push(format!(
                        "  {} of them had other names (hard links) elsewhere: unlinked here, not overwritten",
                        summary.interim_unlinked_only
                    ));
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

    pub(super) fn finish(&mut self) {
        self.end_bar();
    }
}

/// What a skipped recording's line says: the check's reasons as they are
/// (without the pointer to `recpipe check` a run's summary adds), or the
/// problem that stopped it before.
pub(super) fn skipped(why: &Problem) -> String {
    match why {
        Problem::InProgress(reasons) | Problem::Broken(reasons) => reasons.to_string(),
        p => p.to_string(),
    }
}
