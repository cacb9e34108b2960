//! Placement through the clock read from the video: pauses, unknown
//! stretches, restarts and start lines checked against the clock.

use super::super::{MarkProblem, Unplaceable, parse};
use super::*;

/// 2026-11-20 09:30:00 UTC, ms.
const T: i64 = 1_795_167_000_000;

fn segment(number: u32, secs: u64, clock: Vec<ClockPiece>) -> SegmentSpan {
    SegmentSpan {
        number,
        duration: Duration::from_secs(secs),
        start: (number == 1).then_some(jiff::civil::date(2026, 11, 20).at(9, 30, 0, 0)),
        clock,
    }
}

fn piece(from: i64, to: i64, at: i64) -> ClockPiece {
    ClockPiece { from, to, at }
}

/// 120 s of media, paused 45 s at 50 s: the clock jumps from 09:30:50
/// to 09:31:35.
fn paused() -> Vec<SegmentSpan> {
    vec![segment(
        1,
        120,
        vec![piece(0, 50_000, T), piece(50_000, 120_000, T + 95_000)],
    )]
}

fn place(text: &str, segs: &[SegmentSpan]) -> Result<Vec<(u32, f64, f64)>, MarkProblem> {
    let marks = parse(text).map_err(|e| e.why)?;
    let r = marks
        .resolve_segments(segs, &Clocks::utc(), Duration::ZERO)
        .map_err(|e| e.why)?;
    Ok(r.pairs()
        .map(|(s, r)| (s, r.start.as_secs_f64(), r.end.as_secs_f64()))
        .collect())
}

#[test]
fn a_pause_moves_the_marks_after_it_by_its_length() {
    assert_eq!(
        place("09:31:55 - 09:32:05", &paused()),
        Ok(vec![(1, 70.0, 80.0)])
    );
    // Before the pause: as the folder name would have placed it.
    assert_eq!(
        place("09:30:10 - 09:30:20", &paused()),
        Ok(vec![(1, 10.0, 20.0)])
    );
    // Across the pause: both sides, joined at the jump.
    assert_eq!(
        place("09:30:45 - 09:31:40", &paused()),
        Ok(vec![(1, 45.0, 55.0)])
    );
}

#[test]
fn a_mark_wholly_in_a_pause_is_an_error() {
    assert_eq!(
        place("09:30:55 - 09:31:20", &paused()),
        Err(MarkProblem::InPause)
    );
}

#[test]
fn a_mark_where_the_clock_is_unknown_needs_a_person() {
    // 10 s of media nobody could read between 50 s and 60 s.
    let segs = vec![segment(
        1,
        120,
        vec![piece(0, 50_000, T), piece(60_000, 120_000, T + 105_000)],
    )];
    assert_eq!(
        place("09:31:00 - 09:31:05", &segs),
        Err(MarkProblem::Unplaceable(Unplaceable::ClockUnknown {
            segment: 1
        }))
    );
    assert_eq!(
        place("09:30:10 - 09:30:20", &segs),
        Ok(vec![(1, 10.0, 20.0)])
    );
    // The tail after the last reading is unknown too.
    let segs = vec![segment(1, 120, vec![piece(0, 100_000, T)])];
    assert_eq!(
        place("09:31:50 - 09:31:55", &segs),
        Err(MarkProblem::Unplaceable(Unplaceable::ClockUnknown {
            segment: 1
        }))
    );
}

#[test]
fn a_restart_read_from_the_clock_needs_no_start_line() {
    // Segment 2 began at 09:40:00 by its own clock.
    let segs = vec![
        segment(1, 120, vec![piece(0, 120_000, T)]),
        segment(2, 60, vec![piece(0, 60_000, T + 600_000)]),
    ];
    assert_eq!(
        place("09:40:20 - 09:40:30", &segs),
        Ok(vec![(2, 20.0, 30.0)])
    );
    // A start line is checked against the clock: within its second
    // it is accepted, a minute off it is an error naming the line.
    assert_eq!(
        place("segment 2 starts 09:40:00\n09:40:20 - 09:40:30", &segs),
        Ok(vec![(2, 20.0, 30.0)])
    );
    assert_eq!(
        place("segment 2 starts 09:41:00\n09:40:20 - 09:40:30", &segs),
        Err(MarkProblem::StartDisagrees {
            segment: 2,
            read: (9 * 3600 + 40 * 60) * 1000
        })
    );
}

#[test]
fn without_a_clock_the_start_places_the_marks_as_before() {
    let segs = vec![segment(1, 120, Vec::new())];
    assert_eq!(
        place("09:31:55 - 09:32:05", &segs),
        Ok(vec![(1, 115.0, 120.0)])
    );
    assert_eq!(
        place("+00:01:10 - +00:01:20", &segs),
        Ok(vec![(1, 70.0, 80.0)])
    );
}

#[test]
fn an_offset_mark_with_a_clock_end_maps_through_the_pause() {
    assert_eq!(
        place("+00:01:00 - 09:31:55", &paused()),
        Ok(vec![(1, 60.0, 70.0)])
    );
}
