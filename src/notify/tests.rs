use super::*;
use crate::pipeline::{Outcome, Problem, RecordingResult, RunSummary};
use std::cell::RefCell;

/// Records what it is asked to show.
#[derive(Default)]
struct Shown(RefCell<Vec<Notice>>);

impl Notifier for Shown {
    fn show(&self, notice: &Notice) -> Result<(), NotifyError> {
        self.0.borrow_mut().push(notice.clone());
        Ok(())
    }
}

struct Missing;

impl Notifier for Missing {
    fn show(&self, _: &Notice) -> Result<(), NotifyError> {
        Err(NotifyError::NoService("no bus".into()))
    }
}

fn summary(outcomes: Vec<(&str, Outcome)>) -> RunSummary {
    RunSummary {
        recordings: outcomes
            .into_iter()
            .map(|(id, outcome)| RecordingResult {
                id: Some(id.into()),
                stamp: "20261120-140311".into(),
                outcome,
            })
            .collect(),
    }
}

fn pass(s: &RunSummary, now: i64) -> Pass<'_> {
    Pass {
        summary: s,
        now,
        protected: true,
        max_wait: Duration::from_secs(24 * 3600),
        interim: Path::new("/zoom"),
        complete: true,
    }
}

const NOW: i64 = 1_800_000_000;

#[test]
fn a_state_is_said_once_and_again_a_day_later() {
    let dir = tempfile::tempdir().unwrap();
    let shown = Shown::default();
    let s = summary(vec![("r1", Outcome::Broken(Problem::Marks("x".into())))]);
    let mut h = Herald::open(dir.path());
    assert_eq!(h.after_pass(&pass(&s, NOW), Some(&shown)).shown, 1);
    // A new process (the next scheduled run) remembers it.
    let mut h = Herald::open(dir.path());
    assert_eq!(h.after_pass(&pass(&s, NOW + 600), Some(&shown)).shown, 0);
    assert_eq!(h.after_pass(&pass(&s, NOW + 86_400), Some(&shown)).shown, 1);
    let said = shown.0.borrow();
    assert_eq!(said[0].action, Need::Marks.lines().1);
    assert!(
        said[1].title.contains("still needs you"),
        "{}",
        said[1].title
    );
}

#[test]
fn failures_count_and_green_data_gets_no_reminder() {
    let dir = tempfile::tempdir().unwrap();
    let shown = Shown::default();
    let failed = summary(vec![(
        "r1",
        Outcome::Failed(Problem::LiveMarks("x".into())),
    )]);
    let mut h = Herald::open(dir.path());
    let mut p = pass(&failed, NOW);
    p.protected = false;
    for _ in 0..FAILING_AFTER - 1 {
        assert_eq!(h.after_pass(&p, Some(&shown)).shown, 0);
    }
    assert_eq!(h.after_pass(&p, Some(&shown)).shown, 1);
    p.now += 3 * 86_400;
    assert_eq!(h.after_pass(&p, Some(&shown)).shown, 0);
    assert!(shown.0.borrow()[0].title.contains("keeps failing"));
}

#[test]
fn a_missing_service_is_reported_once_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let s = summary(vec![("r1", Outcome::Broken(Problem::NoDestination))]);
    let mut h = Herald::open(dir.path());
    assert!(
        h.after_pass(&pass(&s, NOW), Some(&Missing))
            .no_service
            .is_some()
    );
    assert!(
        h.after_pass(&pass(&s, NOW + 1), Some(&Missing))
            .no_service
            .is_none()
    );
    // Once a service is there, the state is still told.
    let shown = Shown::default();
    assert_eq!(h.after_pass(&pass(&s, NOW + 2), Some(&shown)).shown, 1);
}

#[test]
fn done_recordings_are_forgotten_and_old_ones_reported() {
    let dir = tempfile::tempdir().unwrap();
    let s = summary(vec![
        ("r1", Outcome::Waiting(Problem::ListingChanged)),
        ("r2", Outcome::Waiting(Problem::ListingChanged)),
    ]);
    let mut h = Herald::open(dir.path());
    let since = stamp_time("20261120-140311").unwrap();
    let r = h.after_pass(&pass(&s, since + 25 * 3600), None);
    assert_eq!(r.overdue.len(), 2);
    assert_eq!(r.overdue[0].waited_secs, 25 * 3600);
    let s = summary(vec![("r1", Outcome::Done)]);
    let r = h.after_pass(&pass(&s, since + 26 * 3600), None);
    assert!(r.overdue.is_empty());
    assert!(h.memory().recordings.is_empty());
}

#[test]
fn labels_and_waits_read_as_people_write_them() {
    assert_eq!(label("20261120-140311"), "20 Nov 2026 14:03");
    assert_eq!(label("unknown-start"), "of unknown start");
    assert_eq!(waited(Duration::from_secs(40 * 60)), "40 min");
    assert_eq!(waited(Duration::from_secs(5 * 3600 + 720)), "5 h 12 min");
    assert_eq!(
        waited(Duration::from_secs(3 * 86_400 + 4 * 3600)),
        "3 d 4 h"
    );
}
