//! Delivering one output (the upload, the journal's record of finishing
//! it and of what was checked) and the fsync rule's wait: the part of a
//! recording's steps that talks to the destination.
//!
//! Invariants: before a checked upload is put in place under its name, the
//! journal records that recpipe is finishing it (so a rerun knows that file
//! for its own where the destination cannot read back), and after it, what
//! was checked and whether the server synced it; a red or yellow
//! recording's interim copy waits while an output is unsynced.

use super::Context;
use crate::config::{CleanupAfter, VerifyMode};
use crate::destination::{self, Checked, Destination, Expected, Notice, Prepared};
use crate::journal::{self, Journal};
use crate::pipeline::types::{Event, Hidden, Names, Problem};
use std::time::Duration;

impl Context<'_> {
    /// The fsync rule for red and yellow data (docs/destinations.md): an
    /// output the server could not sync to its disk may still sit in its
    /// write-back cache, so before the interim copy may go, recpipe waits
    /// `[cleanup] unsynced_wait` (longer than a server's write-back) and
    /// then reads each such output back again. A stop or crash during the
    /// wait leaves the step at staged, so the next run waits again.
    pub(super) fn settle_unsynced(
        &mut self,
        j: &Journal,
        mode: VerifyMode,
        names: &Names,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), Problem> {
        let pipeline = self.opts.pipeline;
        let unsynced: Vec<&journal::Output> = j
            .outputs
            .iter()
            .filter(|o| j.deliveries.get(&o.remote).is_some_and(|d| d.unsynced))
            .collect();
        if !pipeline.classification.is_protected()
            || pipeline.cleanup.after == CleanupAfter::Sealed
            || unsynced.is_empty()
        {
            return Ok(());
        }
        let wait = pipeline.cleanup.unsynced_wait;
        events(Event::Note {
            text: format!(
                "the server could not sync {} output(s) to its disk (no fsync): the interim copy waits {} s, then each is read back again",
                unsynced.len(),
                wait.as_secs()
            ),
        });
        let end = std::time::Instant::now() + wait;
        while std::time::Instant::now() < end {
            if self.opts.stopping() {
                return Err(Problem::StoppedOnRequest);
            }
            std::thread::sleep(Duration::from_millis(100).min(wait));
        }
        (self.opts.fault_hook)("unsynced-wait");
        let mut notices = |n: &Notice<'_>| events(Event::of_notice(n, names));
        let dest = self.destination(names, &mut notices)?;
        let mut dest = dest.observed(&mut notices);
        for o in unsynced {
            let expected = Expected {
                len: o.staged_len,
                sha256: o.staged_sha256.0,
            };
            destination::verify(&mut dest, &o.remote, &expected, mode)
                .map_err(|e| Problem::destination(e, names))?;
        }
        Ok(())
    }

    /// Sends one staged file and verifies it at the destination; a staged
    /// file that is gone was sent and cleaned up before a crash, so it
    /// must be verified there. Before the checked upload is put in place
    /// under its name, the journal records that it is (so a rerun knows
    /// that file for its own where the destination cannot read back), and
    /// after it, what was checked.
    pub(super) fn deliver(
        &mut self,
        j: &mut Journal,
        o: &journal::Output,
        mode: VerifyMode,
        names: &Names,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), Problem> {
        let expected = Expected {
            len: o.staged_len,
            sha256: o.staged_sha256.0,
        };
        let opts = self.opts;
        let id = j.id.clone();
        // The retry wrapper's notices and the upload's progress both go to
        // `events`; they never overlap (a notice comes between tries).
        let events = std::cell::RefCell::new(events);
        let mut notices = |n: &Notice<'_>| (events.borrow_mut())(Event::of_notice(n, names));
        let dest = self.destination(names, &mut notices)?;
        let mut dest = dest.observed(&mut notices);
        let record =
            |j: &mut Journal, checked: Option<Checked>, finishing: bool, unsynced: bool| {
                let d = j.deliveries.entry(o.remote.clone()).or_default();
                d.finishing = finishing;
                d.unsynced = unsynced;
                d.checked = checked.map(|c| c.describe().to_string());
                opts.state
                    .save(j)
                    .map_err(|e| Problem::Journal(Hidden::new(e, names)))
            };
        let finishing = j.deliveries.get(&o.remote).is_some_and(|d| d.finishing);
        if !o.staged.exists() {
            let sent = destination::recognise(&mut dest, &o.remote, &expected, mode, finishing)
                .map_err(|e| Problem::StagedGone {
                    remote: o.remote.clone(),
                    error: Hidden::new(e, names),
                })?;
            return record(j, Some(sent.checked(mode)), false, false);
        }
        let mut progress = |done: u64| {
            (events.borrow_mut())(Event::Progress {
                id: id.clone(),
                what: "upload",
                output: o.remote.clone(),
                done,
                total: Some(o.staged_len),
            })
        };
        let prepared = destination::prepare(
            &mut dest,
            &o.staged,
            &o.remote,
            &expected,
            mode,
            finishing,
            &mut progress,
        );
        let sent = match prepared {
            Ok(Prepared::Done(sent)) => Ok(sent),
            Ok(Prepared::Ready { resumed_from }) => {
                record(j, None, true, false)?;
                destination::finish(&mut dest, &o.remote, &expected, mode, resumed_from)
            }
            Err(e) => Err(e),
        };
        let unsynced = !dest.writes_synced();
        match sent {
            Ok(sent) => record(j, Some(sent.checked(mode)), false, unsynced),
            Err(e) => {
                let p = Problem::destination(e, names);
                if matches!(p, Problem::Login(_)) {
                    self.login_wait = Some(p.clone());
                }
                Err(p)
            }
        }
    }
}
