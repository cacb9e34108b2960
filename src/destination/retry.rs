//! Retries as a wrapper around any destination. [`Retrying`] holds a way to
//! open the backend (connect and log in) and retries each operation whose
//! error is [`ErrorClass::Retryable`]: it drops the connection, waits
//! (doubling from `first_delay` up to `max_delay`), reopens and tries again,
//! at most `attempts` times in all. Permanent errors and "needs interactive
//! login" return at once. An interrupted upload is resumed from the
//! partial's length as the server reports it after reconnecting, as the
//! [`Destination::upload`] contract allows.

use super::{DestError, Destination, ErrorClass, Progress, partial_name};
use std::fs::File;
use std::time::Duration;

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

/// One retry, as reported to the event callback.
#[derive(Debug)]
pub struct RetryEvent<'a> {
    /// The try that failed (from 1).
    pub attempt: u32,
    pub error: &'a DestError,
    /// How long the wrapper waits before the next try.
    pub delay: Duration,
}

/// Opens (connects to, logs in to) a backend.
pub type Opener<'p> = Box<dyn FnMut() -> Result<Box<dyn Destination + 'p>, DestError> + 'p>;

/// A destination that reconnects and retries retryable failures.
pub struct Retrying<'p> {
    open: Opener<'p>,
    current: Option<Box<dyn Destination + 'p>>,
    location: String,
    policy: RetryPolicy,
    on_retry: Box<dyn FnMut(&RetryEvent<'_>) + 'p>,
}

impl<'p> Retrying<'p> {
    /// Opens the backend now (with retries), so that a refused host key or
    /// login is reported before any work starts.
    pub fn new(open: Opener<'p>, policy: RetryPolicy) -> Result<Retrying<'p>, DestError> {
        let mut r = Retrying {
            open,
            current: None,
            location: String::new(),
            policy,
            on_retry: Box::new(|_| {}),
        };
        r.run(|_, _| Ok(()))?;
        Ok(r)
    }

    /// Calls `f` before each wait, e.g. to tell the user "retrying in 4 s".
    pub fn on_retry(mut self, f: impl FnMut(&RetryEvent<'_>) + 'p) -> Retrying<'p> {
        self.on_retry = Box::new(f);
        self
    }

    fn run<T>(
        &mut self,
        mut op: impl FnMut(&mut dyn Destination, u32) -> Result<T, DestError>,
    ) -> Result<T, DestError> {
        let mut attempt = 1;
        loop {
            let result = match self.connected() {
                Ok(d) => op(d, attempt),
                Err(e) => Err(e),
            };
            let error = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if error.class() != ErrorClass::Retryable {
                return Err(error);
            }
            // The connection may be broken; never reuse it after a failure.
            self.current = None;
            if attempt >= self.policy.attempts {
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
            (self.on_retry)(&RetryEvent {
                attempt,
                error: &error,
                delay,
            });
            std::thread::sleep(delay);
            attempt += 1;
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
}

impl Destination for Retrying<'_> {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        self.run(|d, _| d.stat(name))
    }

    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        let partial = partial_name(name);
        self.run(|d, attempt| {
            // After a failure, continue from what actually reached the
            // destination, which may be more or less than was sent.
            let from = if attempt == 1 {
                offset
            } else {
                d.stat(&partial)?.unwrap_or(0)
            };
            if attempt > 1 && from == 0 {
                d.remove_partial(name)?;
            }
            d.upload(name, src, from, &mut *progress)
        })
    }

    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        self.run(|d, _| d.read_back(name, &mut *progress))
    }

    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        self.run(|d, attempt| match d.rename_into_place(name) {
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

    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        self.run(|d, _| d.remove_partial(name))
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
