//! The marks file: every accepted form, every error (each naming its line,
//! none quoting a note), the mapping of wall-clock times to offsets, and a
//! property test that merging and padding never shrink a range.

use proptest::prelude::*;
use recpipe::redact::marks::{self, MarkProblem, Point};
use recpipe::redact::{Range, merge};
use std::time::Duration;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn accepted_forms() {
    let text = "\
# marks for the interview
14:32:10 - 14:33:00   name of a third party      # wall-clock time

+00:12:30 - +00:13:05                            # offset
14:40 - 14:41
+05:00-+05:30.5 trailing note
14:32:10.250 - 14:32:11.5
   +1:02:03 - +1:02:04   # hours in an offset
";
    let m = marks::parse(text).unwrap();
    let got: Vec<(usize, Point, Point, Option<&str>)> = m
        .marks
        .iter()
        .map(|m| (m.line, m.from, m.to, m.note.as_deref()))
        .collect();
    let wall = |h: u64, mi: u64, s: u64, ms: u64, minute| Point::Wall {
        ms: ((h * 60 + mi) * 60 + s) * 1000 + ms,
        minute,
    };
    let off = |s: f64| Point::Offset(secs(s));
    assert_eq!(
        got,
        vec![
            (
                2,
                wall(14, 32, 10, 0, false),
                wall(14, 33, 0, 0, false),
                Some("name of a third party")
            ),
            (4, off(750.0), off(785.0), None),
            (5, wall(14, 40, 0, 0, true), wall(14, 41, 0, 0, true), None),
            (6, off(300.0), off(330.5), Some("trailing note")),
            (
                7,
                wall(14, 32, 10, 250, false),
                wall(14, 32, 11, 500, false),
                None
            ),
            (8, off(3723.0), off(3724.0), None),
        ]
    );
    assert!(m.uses_wall_clock());
    assert!(marks::parse("# only comments\n\n   \n").unwrap().is_empty());
}

#[test]
fn every_parse_error_names_its_line() {
    let bad = |t: &str| t.to_string();
    let cases: &[(&str, usize, MarkProblem)] = &[
        ("Kari said something", 1, MarkProblem::NoStart),
        ("# fine\n14:32:10", 2, MarkProblem::NoEnd),
        ("14:32:10 14:33:00", 1, MarkProblem::NoEnd),
        ("14:32:10 -", 1, MarkProblem::NoEnd),
        ("14:32:10 - Kari", 1, MarkProblem::NoEnd),
        ("25:00 - 25:01", 1, MarkProblem::BadTime(bad("25:00"))),
        ("14:60 - 14:61", 1, MarkProblem::BadTime(bad("14:60"))),
        (
            "14:32:61 - 14:33:00",
            1,
            MarkProblem::BadTime(bad("14:32:61")),
        ),
        ("14:3 - 14:04", 1, MarkProblem::BadTime(bad("14:3"))),
        ("14 - 15", 1, MarkProblem::BadTime(bad("14"))),
        ("1:2:3:4 - 14:00", 1, MarkProblem::BadTime(bad("1:2:3:4"))),
        (
            "14:32:10. - 14:33",
            1,
            MarkProblem::BadTime(bad("14:32:10.")),
        ),
        (
            "14:32:10.1234 - 14:33",
            1,
            MarkProblem::BadTime(bad("14:32:10.1234")),
        ),
        ("14:32.5 - 14:33", 1, MarkProblem::BadTime(bad("14:32.5"))),
        ("+00:70 - +01:00", 1, MarkProblem::BadTime(bad("+00:70"))),
        ("+5 - +6", 1, MarkProblem::BadTime(bad("+5"))),
        ("+1:00 - +2:00", 1, MarkProblem::BadTime(bad("+1:00"))),
        (
            "14:32:10 - 14:33:00x",
            1,
            MarkProblem::RunsIn(bad("14:33:00")),
        ),
        (
            "14:04:10 - 14:04:17KariNordmann is named",
            1,
            MarkProblem::RunsIn(bad("14:04:17")),
        ),
        (
            "14:04:17KariNordmann - 14:05",
            1,
            MarkProblem::RunsIn(bad("14:04:17")),
        ),
        ("\n\n+00:13:05 - +00:12:30", 3, MarkProblem::Backwards),
        ("+00:12:30 - +00:12:30", 1, MarkProblem::Backwards),
    ];
    for (text, line, why) in cases {
        let err = marks::parse(text).unwrap_err();
        assert_eq!((err.line, &err.why), (*line, why), "for {text:?}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("line {line}")), "{msg}");
        assert!(!msg.contains("Kari"), "an error quotes a note: {msg}");
    }
}

#[test]
fn wall_clock_maps_from_the_start_time() {
    let start = Some(dt("2026-11-23T14:30:00"));
    let m = marks::parse("14:32:10 - 14:33:00\n14:40 - 14:41\n+00:00:05 - +00:00:06").unwrap();
    let r = m.resolve(start, secs(3600.0), Duration::ZERO).unwrap();
    assert_eq!(
        r,
        vec![
            Range::secs(5.0, 6.0),
            Range::secs(130.0, 180.0),
            // seconds left out: the whole minutes, outward
            Range::secs(600.0, 720.0),
        ]
    );
}

#[test]
fn resolve_pads_clips_and_merges() {
    let m = marks::parse("+00:00:01 - +00:00:03\n+00:00:04 - +00:00:05\n+00:00:58 - +00:01:30")
        .unwrap();
    let r = m.resolve(None, secs(60.0), secs(1.0)).unwrap();
    assert_eq!(r, vec![Range::secs(0.0, 6.0), Range::secs(57.0, 60.0)]);
}

#[test]
fn a_recording_past_midnight() {
    let start = Some(dt("2026-11-23T23:50:00"));
    let m = marks::parse("23:59:00 - 00:01:00").unwrap();
    let r = m.resolve(start, secs(1800.0), Duration::ZERO).unwrap();
    assert_eq!(r, vec![Range::secs(540.0, 660.0)]);
}

#[test]
fn every_resolve_error_names_its_line() {
    let start = Some(dt("2026-11-23T14:30:00"));
    let hour = secs(3600.0);
    let cases: &[(&str, Option<jiff::civil::DateTime>, MarkProblem)] = &[
        (
            "+00:00:01 - +00:00:02\n14:32 - 14:33",
            None,
            MarkProblem::NoStartTime,
        ),
        (
            "+00:00:01 - +00:00:02\n14:10 - 14:20",
            start,
            MarkProblem::BeforeStart,
        ),
        (
            "+00:00:01 - +00:00:02\n16:00 - 16:10",
            start,
            MarkProblem::AfterEnd,
        ),
        (
            "+00:00:01 - +00:00:02\n+02:00:00 - +02:00:05",
            start,
            MarkProblem::AfterEnd,
        ),
        (
            "+00:00:01 - +00:00:02\n14:33 - 14:32:10",
            start,
            MarkProblem::Backwards,
        ),
    ];
    for (text, start, why) in cases {
        let err = marks::parse(text)
            .unwrap()
            .resolve(*start, hour, Duration::ZERO)
            .unwrap_err();
        assert_eq!((err.line, &err.why), (2, why), "for {text:?}");
        assert!(err.to_string().starts_with("marks file, line 2:"), "{err}");
    }
}

#[test]
fn a_start_before_the_recording_is_clipped_to_its_start() {
    let start = Some(dt("2026-11-23T14:30:00"));
    let r = marks::parse("14:29 - 14:31")
        .unwrap()
        .resolve(start, secs(3600.0), Duration::ZERO)
        .unwrap();
    assert_eq!(r, vec![Range::secs(0.0, 120.0)]);
}

proptest! {
    #[test]
    fn merge_and_pad_never_shrink_a_range(
        raw in prop::collection::vec((0u32..7200, 1u32..600), 1..20),
        pad in 0u32..30,
    ) {
        let duration = secs(8000.0);
        let text: String = raw
            .iter()
            .map(|(s, l)| {
                let e = s + l;
                format!("+{}:{:02}:{:02} - +{}:{:02}:{:02}\n", s / 3600, s / 60 % 60, s % 60, e / 3600, e / 60 % 60, e % 60)
            })
            .collect();
        let resolved = marks::parse(&text).unwrap().resolve(None, duration, secs(pad as f64)).unwrap();
        for (s, l) in &raw {
            let want = Range::secs(*s as f64, ((s + l) as f64).min(8000.0));
            prop_assert!(resolved.iter().any(|r| r.covers(&want)), "{want:?} not covered by {resolved:?}");
        }
        // sorted, disjoint, non-empty
        for w in resolved.windows(2) {
            prop_assert!(w[0].end < w[1].start);
        }
        prop_assert_eq!(merge(resolved.clone()), resolved);
    }
}

mod segments {
    use super::*;
    use recpipe::redact::clock::Clocks;
    use recpipe::redact::marks::{SegmentSpan, Unplaceable};

    /// The case: a 20 s false start at 10:00:00, then a 100 s
    /// segment.
    fn two(second_start: Option<jiff::civil::DateTime>) -> Vec<SegmentSpan> {
        vec![
            SegmentSpan {
                number: 1,
                duration: secs(20.0),
                start: Some(dt("2026-11-23T10:00:00")),
                clock: Vec::new(),
            },
            SegmentSpan {
                number: 2,
                duration: secs(100.0),
                start: second_start,
                clock: Vec::new(),
            },
        ]
    }

    fn resolve(text: &str, segs: &[SegmentSpan]) -> Result<Vec<(u32, Range)>, marks::MarksError> {
        marks::parse(text)
            .unwrap()
            .resolve_segments(segs, &Clocks::utc(), Duration::ZERO)
            .map(|r| r.pairs().collect())
    }

    #[test]
    fn a_segment_start_read_before_the_previous_end_widens_the_mark_to_both_readings() {
        // Segment 1 ends at 10:00:20; the clock read 10:00:19 at the
        // restart. Read from 10:00:20 the mark is 30–35 s into segment 2,
        // read from 10:00:19 it is 31–36 s: both are removed.
        let text = "segment 2 starts 10:00:19\n10:00:50 - 10:00:55\n";
        let got = resolve(text, &two(None)).unwrap();
        assert_eq!(got, vec![(2, Range::new(secs(30.0), secs(36.0)))]);
        // An offset mark does not depend on the clock.
        let got = resolve(
            "segment 2 starts 10:00:19\n2 +00:00:30 - +00:00:35\n",
            &two(None),
        )
        .unwrap();
        assert_eq!(got, vec![(2, Range::new(secs(30.0), secs(35.0)))]);
    }

    #[test]
    fn a_wall_clock_mark_after_the_restart_needs_the_segments_start() {
        let err = resolve("10:01:10 - 10:01:20", &two(None)).unwrap_err();
        assert_eq!(err.line, 1);
        assert_eq!(
            err.why,
            MarkProblem::Unplaceable(Unplaceable::SegmentStart { segment: 2 })
        );
        assert!(err.is_unplaceable());
        assert!(
            err.to_string().contains("segment 2 starts HH:MM:SS"),
            "{err}"
        );
    }

    #[test]
    fn a_stated_segment_start_places_it_in_that_segment() {
        let r = resolve("segment 2 starts 10:00:40\n10:01:10 - 10:01:20", &two(None)).unwrap();
        assert_eq!(r, vec![(2, Range::secs(30.0, 40.0))]);
        // The same start known otherwise (as `watch` saw it).
        let r = resolve("10:01:10 - 10:01:20", &two(Some(dt("2026-11-23T10:00:40")))).unwrap();
        assert_eq!(r, vec![(2, Range::secs(30.0, 40.0))]);
    }

    #[test]
    fn a_mark_in_the_first_segment_is_placed_without_the_second_start() {
        // Segment 2 cannot begin before 10:00:20, so this is certain.
        let r = resolve("10:00:05 - 10:00:10", &two(None)).unwrap();
        assert_eq!(r, vec![(1, Range::secs(5.0, 10.0))]);
        // One that runs past 10:00:20 might reach into segment 2.
        let err = resolve("10:00:15 - 10:00:25", &two(None)).unwrap_err();
        assert!(err.is_unplaceable());
    }

    #[test]
    fn a_mark_across_the_stop_is_cut_into_both_segments() {
        let r = resolve("segment 2 starts 10:00:40\n10:00:15 - 10:00:45", &two(None)).unwrap();
        assert_eq!(
            r,
            vec![(1, Range::secs(15.0, 20.0)), (2, Range::secs(0.0, 5.0))]
        );
        let err =
            resolve("segment 2 starts 10:00:40\n10:00:25 - 10:00:30", &two(None)).unwrap_err();
        assert_eq!(err.why, MarkProblem::BetweenSegments);
    }

    #[test]
    fn offset_marks_name_their_segment() {
        let r = resolve("2 +00:01:10 - +00:01:20\n1 +00:05 - +00:06", &two(None)).unwrap();
        assert_eq!(
            r,
            vec![(1, Range::secs(5.0, 6.0)), (2, Range::secs(70.0, 80.0))]
        );
        let err = resolve("+00:01:10 - +00:01:20", &two(None)).unwrap_err();
        assert_eq!(
            err.why,
            MarkProblem::Unplaceable(Unplaceable::WhichSegment { count: 2 })
        );
        let err = resolve("3 +00:00:01 - +00:00:02", &two(None)).unwrap_err();
        assert_eq!(
            err.why,
            MarkProblem::NoSuchSegment {
                segment: 3,
                count: 2
            }
        );
        let err = resolve("2 +00:02:00 - +00:02:10", &two(None)).unwrap_err();
        assert_eq!(err.why, MarkProblem::AfterEnd);
    }

    #[test]
    fn a_single_segment_behaves_as_before() {
        let one = &two(None)[..1];
        let r = resolve(
            "10:00:05 - 10:00:10\n+00:00:01 - +00:00:02\n1 +00:12 - +00:13",
            one,
        )
        .unwrap();
        assert_eq!(
            r,
            vec![
                (1, Range::secs(1.0, 2.0)),
                (1, Range::secs(5.0, 10.0)),
                (1, Range::secs(12.0, 13.0))
            ]
        );
    }

    #[test]
    fn the_clock_zone_moves_the_marks_and_a_dst_change_moves_nothing() {
        use jiff::tz::{Offset, TimeZone};
        // The PC runs on UTC; Zoom's clock shows +01:00.
        let clocks = Clocks::with_zones(
            TimeZone::UTC,
            TimeZone::fixed(Offset::constant(1)),
            "+01:00",
        );
        let segs = two(None);
        let r = marks::parse("11:00:05 - 11:00:10")
            .unwrap()
            .resolve_segments(&segs[..1], &clocks, Duration::ZERO)
            .unwrap();
        assert_eq!(
            r.pairs().collect::<Vec<_>>(),
            vec![(1, Range::secs(5.0, 10.0))]
        );

        // Oslo, 2026-03-29: 02:00 CET jumps to 03:00 CEST. A recording
        // from 01:50 for 20 minutes; the clock reads 03:05 five minutes
        // after the jump, 15 minutes in.
        let oslo = TimeZone::get("Europe/Oslo").unwrap();
        let clocks = Clocks::with_zones(oslo.clone(), oslo, "Europe/Oslo");
        let span = [SegmentSpan {
            number: 1,
            duration: secs(1200.0),
            start: Some(dt("2026-03-29T01:50:00")),
            clock: Vec::new(),
        }];
        let r = marks::parse("03:05 - 03:05:30")
            .unwrap()
            .resolve_segments(&span, &clocks, Duration::ZERO)
            .unwrap();
        assert_eq!(
            r.pairs().collect::<Vec<_>>(),
            vec![(1, Range::secs(900.0, 930.0))]
        );

        // Autumn: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice,
        // both inside a recording from 01:50 lasting 2 hours.
        let span = [SegmentSpan {
            number: 1,
            duration: secs(7200.0),
            start: Some(dt("2026-10-25T01:50:00")),
            clock: Vec::new(),
        }];
        let err = marks::parse("02:30 - 02:31")
            .unwrap()
            .resolve_segments(&span, &clocks, Duration::ZERO)
            .unwrap_err();
        assert_eq!(err.why, MarkProblem::Unplaceable(Unplaceable::Repeated));
    }
}

#[test]
fn bad_tokens_are_quoted_cut_short_and_never_past_the_time() {
    let huge = format!("14:00 - {}", "1".repeat(50 * 1024 * 1024));
    let err = marks::parse(&huge).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.len() < 400,
        "the message copies the token: {} bytes",
        msg.len()
    );
    assert!(msg.contains('…'), "{msg}");
    for text in [
        "14:04:10 - 14:04:17KariNordmann is named",
        "14:04:17KariNordmann is named - 14:05",
        "14:04:17KariNordmann",
        "1 14:04:17Kari - 14:05",
        "segment 2 starts 10:00:40Kari",
        "+00:01:02Kari - +00:01:05",
    ] {
        let msg = marks::parse(text).unwrap_err().to_string();
        assert!(!msg.contains("Kari"), "{text:?} → {msg}");
    }
}

/// A civil date and time, as written (`2026-11-23T14:30:00`).
fn dt(text: &str) -> jiff::civil::DateTime {
    text.parse().unwrap()
}
