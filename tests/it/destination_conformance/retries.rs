//! The conformance check of the retry wrapper over a real backend, with
//! a fault injector ([`Flaky`]) that makes uploads fail half-way.

use super::{Backend, LEN, send};
use crate::util::intercept::{Hooks, Intercept};
use crate::util::payload::{assert_same, random_file};
use recpipe::destination::{
    self, DestError, Destination, ErrorClass, Notice, RetryPolicy, Retrying, Sent,
};
use std::cell::Cell;
use std::fs::File;
use std::time::Duration;

/// A fault injector around a real backend: its first `fail` uploads write
/// half of the data for real and then fail with `kind`, like a connection
/// that died mid-file.
struct Flaky<'a> {
    fail: &'a Cell<u32>,
    kind: std::io::ErrorKind,
}

impl Hooks for Flaky<'_> {
    fn upload(
        &mut self,
        inner: &mut dyn Destination,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: destination::Progress<'_>,
    ) -> Result<u64, DestError> {
        if self.fail.get() == 0 {
            return inner.upload(name, src, offset, progress);
        }
        self.fail.set(self.fail.get() - 1);
        let len = src.metadata().unwrap().len();
        let half = tempfile::NamedTempFile::new().unwrap();
        let mut all = Vec::new();
        std::io::Seek::rewind(src).unwrap();
        std::io::Read::read_to_end(src, &mut all).unwrap();
        let stop = (offset + (len - offset) / 2) as usize;
        std::fs::write(half.path(), &all[..stop]).unwrap();
        inner.upload(
            name,
            &mut File::open(half.path()).unwrap(),
            offset,
            progress,
        )?;
        Err(DestError::io("write", "/flaky", self.kind.into()))
    }
}

/// `b`'s backend behind a [`Flaky`].
fn flaky<'a>(
    b: &dyn Backend,
    fail: &'a Cell<u32>,
    kind: std::io::ErrorKind,
) -> Box<dyn Destination + 'a> {
    Box::new(Intercept {
        inner: b.open(),
        hooks: Flaky { fail, kind },
    })
}

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
    }
}

pub(super) fn retries_resume_retryable_failures_and_stop_at_permanent_ones(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "t.age", LEN, 13);

    // Two connection deaths mid-file: reopened twice, resumed, verified.
    let fail = Cell::new(2);
    let opens = Cell::new(0);
    let mut retries = Vec::new();
    {
        let mut d = Retrying::new(
            Box::new(|| {
                opens.set(opens.get() + 1);
                Ok(flaky(b, &fail, std::io::ErrorKind::ConnectionReset))
            }),
            quick(5),
        )
        .unwrap()
        .on_notice(|n| {
            if let Notice::Retry(ev) = n {
                retries.push((ev.attempt, ev.delay))
            }
        });
        let sent = send(&mut d, &local, "t.age", &e, b.mode()).unwrap();
        assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    }
    assert_same(&local, &b.local("t.age"));
    assert_eq!(opens.get(), 3);
    assert_eq!(
        retries,
        [
            (1, Duration::from_millis(10)),
            (2, Duration::from_millis(20))
        ]
    );

    // A permanent failure is returned at once, without reconnecting.
    let fail = Cell::new(1);
    let opens = Cell::new(0);
    let mut d = Retrying::new(
        Box::new(|| {
            opens.set(opens.get() + 1);
            Ok(flaky(b, &fail, std::io::ErrorKind::PermissionDenied))
        }),
        quick(5),
    )
    .unwrap();
    let err = send(&mut d, &local, "p.age", &e, b.mode()).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    assert_eq!(opens.get(), 1);
    drop(d);

    // Retryable failures forever: bounded, then "gave up after 3 attempts".
    let fail = Cell::new(u32::MAX);
    let opens = Cell::new(0);
    let mut d = Retrying::new(
        Box::new(|| {
            opens.set(opens.get() + 1);
            Ok(flaky(b, &fail, std::io::ErrorKind::TimedOut))
        }),
        quick(3),
    )
    .unwrap();
    let err = send(&mut d, &local, "g.age", &e, b.mode()).unwrap_err();
    assert!(
        matches!(err, DestError::GaveUp { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(opens.get(), 3);
    assert!(!b.local("g.age").exists());
}
