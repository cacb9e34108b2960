//! `watch`: keeps processing the interim folder while the researcher
//! works. File-system events (notify) are hints that something changed; a
//! periodic rescan catches what events miss (network drives, a watcher
//! that died), and the polling watcher can be forced where native events
//! are unreliable. Every pass is an ordinary [`super::run`]: a recording is
//! processed only when it is complete and has settled.
//!
//! Invariants: a folder that is absent is waited for, not an error; a pass
//! that fails as a whole (the state folder or the interim folder cannot be
//! read) is reported and tried again at the next rescan, never the end of
//! watching; events that arrive while a pass runs are kept and start the
//! next pass; a stop request ends the loop after the step in progress.
//!
//! A watch with no terminal (started at login) takes the state folder's
//! lock for each pass only ([`WatchOptions::lock_each_pass`]), so that
//! between passes a `recpipe watch` or `run` from a terminal can take it,
//! to log in where a login needs the person; while another holds it, the
//! passes wait.
//!
//! A PC that slept (or a process that was stopped) is noticed when a short
//! wait for events took far longer than asked, by either the wall clock or
//! the monotonic one (Linux's stands still across a suspend, Windows' goes
//! on): the watcher is set up anew, since a native one may not survive a
//! resume (network drives), and a pass runs at once.

use super::run::run;
use super::types::{Event, Options, Outcome, RunSummary};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant, SystemTime};

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Use the polling watcher (network drives, synced folders).
    pub poll: bool,
    /// Rescan at least this often, whatever the events say.
    pub rescan: Duration,
    /// Wait this long without events before a pass starts.
    pub quiet: Duration,
    /// Take the state folder's lock for each pass (and skip the pass while
    /// another process holds it), rather than the caller holding it
    /// throughout.
    pub lock_each_pass: bool,
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        WatchOptions {
            poll: false,
            rescan: Duration::from_secs(60),
            quiet: Duration::from_secs(1),
            lock_each_pass: false,
        }
    }
}

/// What watching reports besides the passes' own events.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// The folder is not there; waiting for it.
    FolderMissing(PathBuf),
    /// Watching the folder (with the polling watcher when `poll`).
    Watching { dir: PathBuf, poll: bool },
    /// A pass ended.
    Pass(RunSummary),
    /// A pass could not run; the next rescan tries again.
    PassFailed(String),
    /// The PC slept (or watching was held up) for about this long; the
    /// folder is looked at again now.
    Resumed(Duration),
    /// Another recpipe holds the state folder's lock (with
    /// [`WatchOptions::lock_each_pass`]): this pass is left to it.
    Busy,
}

/// A wait this much longer than asked means the PC slept.
const SLEPT: Duration = Duration::from_secs(10);

/// How long the PC slept during a wait of `asked`, measured by the wall
/// clock and by the monotonic clock; `None` when it did not.
fn slept(asked: Duration, wall: Option<Duration>, monotonic: Duration) -> Option<Duration> {
    // A wall clock set back (`None`) says nothing either way.
    let took = wall.unwrap_or_default().max(monotonic);
    (took > asked + SLEPT).then_some(took)
}

/// Watches `dir` until `opts.stop` is set; returns the last pass.
pub fn watch(
    opts: &Options<'_>,
    dir: &Path,
    wopts: &WatchOptions,
    on_watch: &mut dyn FnMut(WatchEvent),
    events: &mut dyn FnMut(Event),
) -> RunSummary {
    let mut last = RunSummary::default();
    let tick = Duration::from_millis(200);
    // Recordings that wait for their settle time need a pass when it ends.
    let settle = opts.pipeline.source.settle.0;
    while !opts.stop.load(Ordering::SeqCst) {
        if !dir.is_dir() {
            on_watch(WatchEvent::FolderMissing(dir.to_path_buf()));
            while !dir.is_dir() && !opts.stop.load(Ordering::SeqCst) {
                std::thread::sleep(tick);
            }
            continue;
        }
        let (tx, rx) = channel();
        let watcher: Option<Box<dyn Watcher>> = if wopts.poll {
            let config = notify::Config::default().with_poll_interval(Duration::from_secs(2));
            PollWatcher::new(tx, config).ok().map(|w| Box::new(w) as _)
        } else {
            RecommendedWatcher::new(tx, notify::Config::default())
                .ok()
                .map(|w| Box::new(w) as _)
        };
        // Without a working watcher, the periodic rescan still does the job.
        let mut watcher = watcher;
        if let Some(w) = watcher.as_mut()
            && w.watch(dir, RecursiveMode::Recursive).is_err()
        {
            watcher = None;
        }
        on_watch(WatchEvent::Watching {
            dir: dir.to_path_buf(),
            poll: wopts.poll || watcher.is_none(),
        });
        // Recordings already there are processed at once.
        let mut due = Some(Instant::now());
        let mut last_pass = Instant::now();
        while dir.is_dir() && !opts.stop.load(Ordering::SeqCst) {
            if due.is_some_and(|t| Instant::now() >= t) || last_pass.elapsed() >= wopts.rescan {
                due = None;
                last_pass = Instant::now();
                let _lock = if wopts.lock_each_pass {
                    match opts.state.lock() {
                        Ok(Some(lock)) => Some(lock),
                        Ok(None) => {
                            on_watch(WatchEvent::Busy);
                            continue;
                        }
                        Err(e) => {
                            on_watch(WatchEvent::PassFailed(e.to_string()));
                            continue;
                        }
                    }
                } else {
                    None
                };
                match run(opts, &[dir.to_path_buf()], events) {
                    Ok(summary) => last = summary,
                    Err(e) => {
                        on_watch(WatchEvent::PassFailed(e.to_string()));
                        continue;
                    }
                }
                // Something still settling: look again when it may be done.
                if last
                    .recordings
                    .iter()
                    .any(|r| matches!(r.outcome, Outcome::Waiting(_)))
                {
                    due = Some(Instant::now() + settle.max(wopts.quiet));
                }
                on_watch(WatchEvent::Pass(last.clone()));
            }
            let (wall, monotonic) = (SystemTime::now(), Instant::now());
            let event = next_event(&rx, tick);
            if let Some(took) = slept(tick, wall.elapsed().ok(), monotonic.elapsed()) {
                on_watch(WatchEvent::Resumed(took));
                break;
            }
            match event {
                Some(true) => due = Some(Instant::now() + wopts.quiet),
                Some(false) => {}
                None => {
                    // The watcher is gone (folder removed?): start over.
                    if watcher.is_some() {
                        break;
                    }
                    std::thread::sleep(tick);
                }
            }
        }
        drop(watcher);
    }
    last
}

/// `Some(true)` when an event came, `Some(false)` on timeout, `None` when
/// the watcher hung up.
fn next_event(rx: &Receiver<notify::Result<notify::Event>>, wait: Duration) -> Option<bool> {
    match rx.recv_timeout(wait) {
        Ok(Ok(e)) => Some(!is_own(&e)),
        Ok(Err(_)) => Some(true),
        Err(RecvTimeoutError::Timeout) => Some(false),
        Err(RecvTimeoutError::Disconnected) => None,
    }
}

/// recpipe's own staging writes are not news.
fn is_own(e: &notify::Event) -> bool {
    !e.paths.is_empty()
        && e.paths.iter().all(|p| {
            p.components()
                .any(|c| c.as_os_str() == crate::discover::STAGING_DIR)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(200);

    #[test]
    fn a_wait_that_took_what_was_asked_is_no_sleep() {
        let t = Duration::from_millis(250);
        assert_eq!(slept(TICK, Some(t), t), None);
        // A busy machine delays a wake-up by seconds, not a sleep.
        let t = Duration::from_secs(5);
        assert_eq!(slept(TICK, Some(t), t), None);
    }

    #[test]
    fn a_sleep_shows_on_either_clock() {
        let hour = Duration::from_secs(3600);
        // Linux: the monotonic clock stood still across the suspend.
        assert_eq!(slept(TICK, Some(hour), TICK), Some(hour));
        // Windows: both clocks went on.
        assert_eq!(slept(TICK, Some(hour), hour), Some(hour));
        // A wall clock set back says nothing; the monotonic one still does.
        assert_eq!(slept(TICK, None, hour), Some(hour));
        assert_eq!(slept(TICK, None, TICK), None);
    }
}
