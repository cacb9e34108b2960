//! The marks file: every accepted form, every error (each naming its line,
//! none quoting a note), the mapping of wall-clock times to offsets, and a
//! property test that merging and padding never shrink a range.

use proptest::prelude::*;
use recpipe::redact::marks::{self, MarkProblem, Point};
use recpipe::redact::{Range, merge};
use std::time::Duration;
use time::macros::datetime;

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
            MarkProblem::BadTime(bad("14:33:00x")),
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
    let start = Some(datetime!(2026-11-23 14:30:00));
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
    let start = Some(datetime!(2026-11-23 23:50:00));
    let m = marks::parse("23:59:00 - 00:01:00").unwrap();
    let r = m.resolve(start, secs(1800.0), Duration::ZERO).unwrap();
    assert_eq!(r, vec![Range::secs(540.0, 660.0)]);
}

#[test]
fn every_resolve_error_names_its_line() {
    let start = Some(datetime!(2026-11-23 14:30:00));
    let hour = secs(3600.0);
    let cases: &[(&str, Option<time::PrimitiveDateTime>, MarkProblem)] = &[
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
    let start = Some(datetime!(2026-11-23 14:30:00));
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
