//! Retries as a wrapper around any destination. [`Retrying`] holds a way to
//! open the backend (connect and log in) and retries each operation whose
//! error is [`ErrorClass::Retryable`]: it drops the connection, waits
//! (doubling from `first_delay` up to `max_delay`), reopens and tries again,
//! at most `attempts` times in all. Permanent errors and "needs interactive
//! login" return at once. An interrupted upload is resumed from the
//! partial's length as the server reports it after reconnecting, as the
//! [`Destination::upload`] contract allows.
//!
//! Every wait is reported to an observer first ([`Notice::Retry`]), so a
//! wait of up to `max_delay` is never silent, and ends at once when the stop
//! flag (Ctrl-C) is set. Backend notes ([`Note`]) are passed on once each.

use super::{DestError, Destination, ErrorClass, Note, Progress, partial_name};
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1 = no retries).
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Five tries over about a minute: 2 s, 4 s, 8 s, 16 s between them.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before try number `attempt + 1` (`attempt` counts from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << (attempt.saturating_sub(1)).min(16);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// One retry, as reported to the observer.
#[derive(Debug)]
pub struct RetryEvent<'a> {
    /// The try that failed (from 1).
    pub attempt: u32,
    pub error: &'a DestError,
    /// How long the wrapper waits before the next try.
    pub delay: Duration,
}

/// What the wrapper tells its observer as it goes.
#[derive(Debug)]
pub enum Notice<'a> {
    /// A try failed and the wrapper waits before the next.
    Retry(RetryEvent<'a>),
    /// A backend's [`Note`], passed on once per kind for the wrapper's life.
    Note(&'a Note),
}

/// Opens (connects to, logs in to) a backend.
pub type Opener<'p> = Box<dyn FnMut() -> Result<Box<dyn Destination + 'p>, DestError> + 'p>;

/// Receives the wrapper's notices.
type Observer<'o> = dyn FnMut(&Notice<'_>) + 'o;

/// A destination that reconnects and retries retryable failures.
pub struct Retrying<'p> {
    open: Opener<'p>,
    current: Option<Box<dyn Destination + 'p>>,
    location: String,
    policy: RetryPolicy,
    observer: Box<Observer<'p>>,
    /// Set (Ctrl-C) to end a wait at once, with the error that caused it.
    stop: Option<&'p AtomicBool>,
    /// Notes already passed on.
    said: Vec<Note>,
}

/// How often a wait looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

impl<'p> Retrying<'p> {
    /// Opens the backend now (with retries), so that a refused host key or
    /// login is reported before any work starts.
    pub fn new(open: Opener<'p>, policy: RetryPolicy) -> Result<Retrying<'p>, DestError> {
        Retrying::start(open, policy, None, &mut |_| {})
    }

    /// As [`Retrying::new`], and every wait (also while opening) ends as soon
    /// as `stop` is set: the operation then fails with the error that made
    /// it wait, and nothing more is tried. `opening` receives the notices
    /// of the tries to open it (a server that is down shows as retries).
    pub fn with_stop(
        open: Opener<'p>,
        policy: RetryPolicy,
        stop: &'p AtomicBool,
        opening: &mut Observer<'_>,
    ) -> Result<Retrying<'p>, DestError> {
        Retrying::start(open, policy, Some(stop), opening)
    }

    fn start(
        open: Opener<'p>,
        policy: RetryPolicy,
        stop: Option<&'p AtomicBool>,
        opening: &mut Observer<'_>,
    ) -> Result<Retrying<'p>, DestError> {
        let mut r = Retrying {
            open,
            current: None,
            location: String::new(),
            policy,
            observer: Box::new(|_| {}),
            stop,
            said: Vec::new(),
        };
        r.run(opening, |_, _| Ok(()))?;
        Ok(r)
    }

    /// Calls `f` with every notice for the wrapper's life: before each wait
    /// (e.g. to tell the user "retrying in 4 s") and with each note.
    pub fn on_notice(mut self, f: impl FnMut(&Notice<'_>) + 'p) -> Retrying<'p> {
        self.observer = Box::new(f);
        self
    }

    /// This destination with a second observer for a while: for a caller
    /// whose event sink lives shorter than the wrapper (one upload's).
    pub fn observed<'s>(&'s mut self, f: &'s mut Observer<'s>) -> Observed<'s, 'p> {
        Observed {
            inner: self,
            observer: f,
        }
    }

    fn run<T>(
        &mut self,
        extra: &mut Observer<'_>,
        mut op: impl FnMut(&mut dyn Destination, u32) -> Result<T, DestError>,
    ) -> Result<T, DestError> {
        let mut attempt = 1;
        loop {
            let result = match self.connected() {
                Ok(d) => op(d, attempt),
                Err(e) => Err(e),
            };
            self.pass_notes(extra);
            let error = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if error.class() != ErrorClass::Retryable {
                return Err(error);
            }
            // The connection may be broken; never reuse it after a failure.
            self.current = None;
            if attempt >= self.policy.attempts || self.stopping() {
                return Err(if attempt == 1 {
                    error
                } else {
                    DestError::GaveUp {
                        attempts: attempt,
                        last: Box::new(error),
                    }
                });
            }
            let delay = self.policy.delay(attempt);
            let notice = Notice::Retry(RetryEvent {
                attempt,
                error: &error,
                delay,
            });
            (self.observer)(&notice);
            extra(&notice);
            if !self.wait(delay) {
                return Err(DestError::GaveUp {
                    attempts: attempt,
                    last: Box::new(error),
                });
            }
            attempt += 1;
        }
    }

    fn stopping(&self) -> bool {
        self.stop.is_some_and(|s| s.load(Ordering::SeqCst))
    }

    /// Sleeps `delay`, or less if the stop flag is set; `false` if it was.
    fn wait(&self, delay: Duration) -> bool {
        let end = Instant::now() + delay;
        loop {
            if self.stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            std::thread::sleep((end - now).min(STOP_POLL));
        }
    }

    /// Passes on the backend's notes not said before.
    fn pass_notes(&mut self, extra: &mut Observer<'_>) {
        let Some(d) = self.current.as_mut() else {
            return;
        };
        for note in d.take_notes() {
            let kind = std::mem::discriminant(&note);
            if self.said.iter().any(|n| std::mem::discriminant(n) == kind) {
                continue;
            }
            let notice = Notice::Note(&note);
            (self.observer)(&notice);
            extra(&notice);
            self.said.push(note);
        }
    }

    fn connected(&mut self) -> Result<&mut dyn Destination, DestError> {
        if self.current.is_none() {
            let d = (self.open)()?;
            self.location = d.location();
            self.current = Some(d);
        }
        Ok(self.current.as_deref_mut().expect("set just above"))
    }

    fn upload_with(
        &mut self,
        extra: &mut Observer<'_>,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        let partial = partial_name(name);
        let total = src
            .metadata()
            .map_err(|e| DestError::io("stat", partial.clone(), e))?
            .len();
        self.run(extra, |d, attempt| {
            // After a failure, continue from what actually reached the
            // destination, which may be more or less than was sent. The
            // partial is the one this very call started or continued (the
            // caller proved its prefix), so what is there came from `src`;
            // a partial longer than `src` cannot have, and is redone.
            let mut from = if attempt == 1 {
                offset
            } else {
                d.stat(&partial)?.unwrap_or(0)
            };
            if attempt > 1 && from > total {
                from = 0;
            }
            if attempt > 1 && from == 0 {
                d.remove_partial(name)?;
            }
            d.upload(name, src, from, &mut *progress)
        })
    }

    fn rename_with(&mut self, extra: &mut Observer<'_>, name: &str) -> Result<(), DestError> {
        self.run(extra, |d, attempt| match d.rename_into_place(name) {
            // A rename whose reply was lost may have happened: if the
            // partial is gone and the name is there, it did.
            Err(DestError::Exists { .. })
                if attempt > 1 && d.stat(&partial_name(name))?.is_none() =>
            {
                Ok(())
            }
            other => other,
        })
    }
}

/// A [`Retrying`] destination with a second, shorter-lived observer (see
/// [`Retrying::observed`]).
pub struct Observed<'s, 'p> {
    inner: &'s mut Retrying<'p>,
    observer: &'s mut Observer<'s>,
}

impl Destination for Observed<'_, '_> {
    fn location(&self) -> String {
        self.inner.location.clone()
    }

    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        self.inner.run(self.observer, |d, _| d.stat(name))
    }

    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        self.inner
            .upload_with(self.observer, name, src, offset, progress)
    }

    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        self.inner
            .run(self.observer, |d, _| d.read_back(name, &mut *progress))
    }

    fn partial_is_prefix(
        &mut self,
        partial: &str,
        local: &mut File,
        len: u64,
    ) -> Result<bool, DestError> {
        self.inner.run(self.observer, |d, _| {
            d.partial_is_prefix(partial, local, len)
        })
    }

    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        self.inner.rename_with(self.observer, name)
    }

    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        self.inner.run(self.observer, |d, _| d.remove_partial(name))
    }

    fn writes_synced(&self) -> bool {
        self.inner.writes_synced()
    }
}

impl Destination for Retrying<'_> {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        self.run(&mut |_| {}, |d, _| d.stat(name))
    }

    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        self.upload_with(&mut |_| {}, name, src, offset, progress)
    }

    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        self.run(&mut |_| {}, |d, _| d.read_back(name, &mut *progress))
    }

    fn partial_is_prefix(
        &mut self,
        partial: &str,
        local: &mut File,
        len: u64,
    ) -> Result<bool, DestError> {
        self.run(&mut |_| {}, |d, _| d.partial_is_prefix(partial, local, len))
    }

    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        self.rename_with(&mut |_| {}, name)
    }

    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        self.run(&mut |_| {}, |d, _| d.remove_partial(name))
    }

    /// False once any connection said it does not offer fsync.
    fn writes_synced(&self) -> bool {
        !self
            .said
            .iter()
            .any(|n| matches!(n, Note::FsyncNotOffered { .. }))
            && self.current.as_ref().is_none_or(|d| d.writes_synced())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_maximum() {
        let p = RetryPolicy {
            attempts: 10,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
        };
        let d: Vec<u64> = (1..=6).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(d, [2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn default_policy_is_bounded() {
        let p = RetryPolicy::default();
        let total: Duration = (1..p.attempts).map(|a| p.delay(a)).sum();
        assert!(p.attempts > 1 && total <= Duration::from_secs(120));
    }
}
