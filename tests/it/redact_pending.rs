//! Live marks (`recpipe mark`): opened and closed at "now", given times,
//! kept in a state file, and claimed by the recording whose span holds
//! them as marks-file lines that parse back to the same ranges.

use recpipe::redact::clock::Clocks;
use recpipe::redact::pending::{self, PendingError, Recorded};
use recpipe::redact::{Range, marks};
use std::time::Duration;

#[test]
fn now_opens_then_closes_and_the_recording_claims_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state/pending-marks.txt");
    let t0 = dt("2026-11-23T14:32:10");
    assert_eq!(
        pending::record(&state, t0, None, None, Some("a third\nparty")).unwrap(),
        Recorded::Opened(t0)
    );
    let t1 = dt("2026-11-23T14:33:00");
    assert_eq!(
        pending::record(&state, t1, None, None, None).unwrap(),
        Recorded::Closed(t0, t1)
    );
    // Given times, seconds left out: the whole minute, outward.
    assert_eq!(
        pending::record(&state, t1, Some("14:20"), Some("14:21"), None).unwrap(),
        Recorded::Closed(dt("2026-11-23T14:20:00"), dt("2026-11-23T14:22:00"))
    );
    // An open mark not yet closed stays pending.
    pending::record(&state, t1, Some("14:33"), None, None).unwrap();
    assert_eq!(pending::load(&state).unwrap().len(), 3);

    // A recording 14:30 - 15:00 claims the first mark only.
    let start = dt("2026-11-23T14:30:00");
    let utc = Clocks::utc();
    let lines = pending::claim(&state, start, Duration::from_secs(1800), &utc).unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].ends_with("a third party"), "{lines:?}");
    let parsed = marks::parse(&lines.join("\n")).unwrap();
    let ranges = parsed
        .resolve(Some(start), Duration::from_secs(1800), Duration::ZERO)
        .unwrap();
    assert_eq!(ranges, vec![Range::secs(130.0, 180.0)]);
    assert_eq!(
        pending::load(&state).unwrap().len(),
        2,
        "the others stay pending"
    );
    assert!(
        pending::claim(&state, start, Duration::from_secs(1800), &utc)
            .unwrap()
            .is_empty()
    );

    // An earlier recording claims the 14:20 mark.
    let lines = pending::claim(
        &state,
        dt("2026-11-23T14:00:00"),
        Duration::from_secs(1800),
        &utc,
    )
    .unwrap();
    assert_eq!(lines, vec!["14:20:00.000 - 14:22:00.000".to_string()]);
}

#[test]
fn errors_are_clear_and_never_quote_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("pending-marks.txt");
    let now = dt("2026-11-23T14:32:10");
    assert!(matches!(
        pending::record(&state, now, Some("25:00"), None, None),
        Err(PendingError::BadTime(_))
    ));
    assert!(matches!(
        pending::record(&state, now, Some("14:31"), Some("14:30:00"), None),
        Err(PendingError::Backwards)
    ));
    std::fs::write(&state, "2026-11-23T14:00:00 - Kari\nnonsense Kari\n").unwrap();
    let err = pending::load(&state).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("line 2") && !msg.contains("Kari"), "{msg}");
}

#[test]
fn a_mark_just_after_midnight_belongs_to_the_day_before() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("pending-marks.txt");
    let now = dt("2026-11-24T00:02:00");
    assert_eq!(
        pending::record(&state, now, Some("23:59:00"), Some("00:01:00"), None).unwrap(),
        Recorded::Closed(dt("2026-11-23T23:59:00"), dt("2026-11-24T00:01:00"))
    );
}

/// A civil date and time, as written (`2026-11-23T14:30:00`).
fn dt(text: &str) -> jiff::civil::DateTime {
    text.parse().unwrap()
}
