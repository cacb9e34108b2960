//! After each pass of `run` or `watch`: the desktop notifications (when
//! the pipeline's `[notify] desktop` is on) and the log lines of what they
//! could not do, and the red or yellow recordings that have waited on the
//! PC longer than `[source] max_wait`.
//!
//! The clock is the system's; the tests set `RECPIPE_NOW` (Unix seconds)
//! to move it, as `RECPIPE_FAULT_AT` stops a run for the crash tests.

use recpipe::config::Pipeline;
use recpipe::journal::StateDir;
use recpipe::notify::{Herald, Notifier, Overdue, Pass, desktop::Desktop};
use recpipe::pipeline::RunSummary;
use std::time::Duration;
use tracing::warn;

/// Now, as Unix seconds.
pub(super) fn now() -> i64 {
    if let Some(t) = std::env::var("RECPIPE_NOW")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return t;
    }
    jiff::Timestamp::now().as_second()
}

/// Tells the person what a pass found that needs them; returns the
/// recordings that have waited too long (for [`say_overdue`]).
pub(super) fn after_pass(
    state: &StateDir,
    pipeline: &Pipeline,
    summary: &RunSummary,
    complete: bool,
) -> Vec<Overdue> {
    let mut herald = Herald::open(state.root());
    let pass = Pass {
        summary,
        now: now(),
        protected: pipeline.classification.is_protected(),
        max_wait: pipeline.source.max_wait.0,
        interim: &pipeline.source.dir,
        complete,
    };
    let notifier: Option<&dyn Notifier> = pipeline.notify.desktop.then_some(&Desktop);
    let report = herald.after_pass(&pass, notifier);
    if let Some(e) = report.no_service {
        warn!(
            error = %e,
            "desktop notifications cannot be shown here; recpipe goes on without them (said once)"
        );
    }
    for e in &report.refused {
        warn!(error = %e, "a desktop notification was not shown");
    }
    if let Some(e) = report.not_saved {
        warn!(error = %e, "what the notifications said is not remembered; one may be repeated");
    }
    report.overdue
}

/// Says in the log, and on stderr, that a recording has waited too long.
pub(super) fn say_overdue(o: &Overdue, max_wait: &recpipe::duration::HumanDuration) {
    warn!(
        recording = o.id.as_deref().unwrap_or("-"),
        start = %o.start,
        on_pc_since = %o.on_pc_since,
        waited = %recpipe::notify::waited(Duration::from_secs(o.waited_secs)),
        %max_wait,
        "red or yellow data has waited on this PC longer than [source] max_wait"
    );
    eprintln!(
        "recpipe: the recording of {} ({}) has been on this PC for {} (since {}), longer than [source] max_wait ({max_wait}); `recpipe status` says what it waits for",
        recpipe::notify::label(&o.start),
        o.id.as_deref().unwrap_or(&o.start),
        recpipe::notify::waited(Duration::from_secs(o.waited_secs)),
        o.on_pc_since
    );
}
