//! The timeline drawn: one SVG document, a group per segment (its name,
//! its axis, its marks, its rows), and a legend.
//!
//! Invariants: every x in a segment's group is that segment's
//! [`Segment::x`] of a time in its own time (a row's times shifted by the
//! row's lead); clock labels are read from the segment's own start and
//! the pauses before them; the document references nothing outside
//! itself.

use super::{
    Content, HEADING_HEIGHT, LEFT, MARKED_COLOUR, MARKS_HEIGHT, REMOVED_COLOUR, RIGHT, ROW_HEIGHT,
    Row, STRIP_HEIGHT, Segment, Timeline, WAVE_COLOUR, WIDTH, marks_top, row_top,
};
use jiff::SignedDuration;
use jiff::civil::DateTime;
use std::fmt::Write as _;

/// What the clock that read `start` at time 0 reads at time `t`, to the
/// second.
pub(super) fn clock(start: Option<DateTime>, t: f64) -> Option<String> {
    // A microsecond more, so that a tick computed to fall on a whole
    // second is not read as the second before through rounding error.
    let at = start?
        .checked_add(SignedDuration::try_from_secs_f64(t + 1e-6).ok()?)
        .ok()?;
    Some(at.strftime("%H:%M:%S").to_string())
}

fn offset(t: f64) -> String {
    let s = t.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Tick spacing that gives ten to fifteen ticks (a minute in 5 s steps,
/// so a clock time a person noted falls on or near a tick).
fn tick_step(duration: f64) -> f64 {
    [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|s| duration / s <= 15.0)
    .unwrap_or(7200.0)
}

/// Where a segment's clock is labelled: at its start (time 0), then at
/// the times (up to `d`) at which the clock, `start` at time 0, reads a
/// whole multiple of `step` seconds, leaving out any too close to the
/// start's label to be read beside it.
fn clock_ticks(start: DateTime, d: f64, step: f64) -> Vec<f64> {
    let t0 = start.time();
    let of_day = f64::from(t0.hour()) * 3600.0
        + f64::from(t0.minute()) * 60.0
        + f64::from(t0.second())
        + f64::from(t0.subsec_nanosecond()) / 1e9;
    let first = (of_day / step - 1e-9).ceil() * step - of_day;
    std::iter::once(0.0)
        .chain(
            (0..)
                .map(|k| first + k as f64 * step)
                .skip_while(|t| *t < 0.7 * step)
                .take_while(|t| *t <= d + 1e-9),
        )
        .collect()
}

/// The picture as a standalone SVG document.
pub fn render_svg(tl: &Timeline) -> String {
    let w = WIDTH;
    let h = tl.height();
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        "<title>recpipe: what will be removed (orange: marked, red: removed)</title>"
    );
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##
    );
    for (i, seg) in tl.segments.iter().enumerate() {
        segment_svg(&mut s, seg, tl.segment_top(i));
    }
    let ly = tl.segment_top(tl.segments.len()) + 24.0;
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{:.2}" width="14" height="10" fill="{MARKED_COLOUR}"/><text x="{:.2}" y="{ly:.2}" fill="#333">marked (padded)</text><rect x="{:.2}" y="{:.2}" width="14" height="10" fill="{REMOVED_COLOUR}"/><text x="{:.2}" y="{ly:.2}" fill="#333">removed from this output (video: widened to keyframes)</text><text x="{}" y="{ly:.2}" text-anchor="end" fill="#333">blue: sound level / keyframes</text>"##,
        ly - 9.0,
        LEFT + 20.0,
        LEFT + 140.0,
        ly - 9.0,
        LEFT + 160.0,
        w - RIGHT
    );
    s.push_str("</svg>\n");
    s
}

/// One segment's group, drawn from `top`: its name, its axis, its marks
/// and its rows.
fn segment_svg(s: &mut String, seg: &Segment, top: f64) {
    let d = seg.duration();
    let rows_bottom = row_top(top, seg.rows.len());
    let ay = top + HEADING_HEIGHT;
    let _ = writeln!(
        s,
        r##"<g class="segment" data-segment="{}"><text class="segment-name" x="8" y="{:.2}" fill="#111" font-weight="bold">{}</text>"##,
        seg.number,
        top + 18.0,
        seg.name()
    );
    // The axis: offsets from the segment's start above, its clock below.
    let _ = writeln!(
        s,
        r##"<text x="8" y="{:.2}" fill="#333">offset</text><text x="8" y="{:.2}" fill="#333">{}</text>"##,
        ay + 20.0,
        ay + 40.0,
        if seg.start.is_some() {
            "clock time"
        } else {
            "clock time unknown"
        }
    );
    let step = tick_step(d);
    let offsets: Vec<f64> = (0..)
        .map(|k| k as f64 * step)
        .take_while(|t| *t <= d + 1e-9)
        .collect();
    for t in &offsets {
        let x = seg.x(*t);
        let _ = writeln!(
            s,
            r##"<line class="offset-tick" data-t="{t:.3}" x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="#999999"/><text x="{x:.2}" y="{:.2}" text-anchor="middle" fill="#333">{}</text>"##,
            ay + 24.0,
            ay + 28.0,
            ay + 20.0,
            offset(*t)
        );
    }
    // Grid lines where the clock reads round times (in each stretch
    // between pauses), or at the offsets when the clock is unknown.
    let grid = match seg.start {
        Some(start) => {
            let edges: Vec<f64> = std::iter::once(0.0)
                .chain(seg.pauses.iter().map(|(at, _)| *at))
                .chain(std::iter::once(d + 1e-9))
                .collect();
            edges
                .windows(2)
                .flat_map(|w| {
                    let shift = SignedDuration::try_from_secs_f64(seg.paused_before(w[0]))
                        .unwrap_or(SignedDuration::ZERO);
                    let mut ticks = clock_ticks(start.checked_add(shift).unwrap_or(start), d, step);
                    ticks.retain(|t| *t >= w[0] && *t < w[1]);
                    if !ticks.contains(&w[0]) && w[0] < d {
                        ticks.insert(0, w[0]);
                    }
                    ticks
                })
                .collect()
        }
        None => offsets,
    };
    for (at, by) in &seg.pauses {
        let x = seg.x(*at);
        let _ = writeln!(
            s,
            r##"<line class="pause" data-t="{at:.3}" data-by="{by:.3}" x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{rows_bottom:.2}" stroke="#222222" stroke-width="2"/><text x="{:.2}" y="{:.2}" fill="#222">{}</text>"##,
            ay + 30.0,
            x + 3.0,
            ay + 52.0,
            if *by >= 0.0 {
                format!("paused {}", offset(*by))
            } else {
                format!("clock back {}", offset(-by))
            }
        );
    }
    for t in grid {
        let x = seg.x(t);
        let _ = writeln!(
            s,
            r##"<line class="tick" data-t="{t:.3}" x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{rows_bottom:.2}" stroke="#dddddd"/>"##,
            ay + 46.0
        );
        if let Some(c) = clock(seg.start, t + seg.paused_before(t)) {
            let _ = writeln!(
                s,
                r##"<text class="clock" data-t="{t:.3}" x="{x:.2}" y="{:.2}" text-anchor="middle" fill="#333">{c}</text>"##,
                ay + 40.0
            );
        }
    }
    // The marks.
    let my = marks_top(top);
    let _ = writeln!(
        s,
        r##"<text x="8" y="{:.2}" fill="#333">marked</text>"##,
        my + 17.0
    );
    for (a, b) in &seg.marked {
        let (x1, x2) = (seg.x(*a), seg.x(*b));
        let _ = writeln!(
            s,
            r##"<rect class="marked" data-start="{a:.3}" data-end="{b:.3}" x="{x1:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{MARKED_COLOUR}"/>"##,
            my + 4.0,
            (x2 - x1).max(1.0),
            MARKS_HEIGHT - 8.0
        );
    }
    for (i, row) in seg.rows.iter().enumerate() {
        row_svg(s, seg, row, row_top(top, i));
    }
    // The marks' edges across every row, to compare with what is removed.
    for (a, b) in &seg.marked {
        for t in [a, b] {
            let x = seg.x(*t);
            let _ = writeln!(
                s,
                r#"<line class="mark-edge" x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{rows_bottom:.2}" stroke="{MARKED_COLOUR}" stroke-dasharray="4 3"/>"#,
                my + MARKS_HEIGHT
            );
        }
    }
    s.push_str("</g>\n");
}

/// One output's row, drawn from `top`, in its segment's time.
fn row_svg(s: &mut String, seg: &Segment, row: &Row, top: f64) {
    let body = ROW_HEIGHT - STRIP_HEIGHT - 8.0;
    let mid = top + 4.0 + body / 2.0;
    let at = |t: f64| seg.x(row.lead + t);
    let _ = writeln!(
        s,
        r##"<g class="row" data-label="{}"><text x="8" y="{:.2}" fill="#111">{}</text><text x="8" y="{:.2}" fill="#666" font-size="11">output {} long</text>"##,
        row.label,
        mid - 2.0,
        row.label,
        mid + 13.0,
        offset(row.duration)
    );
    // From where the file starts in its segment to the axis' end: the
    // file's own times (its keyframes, what is removed) are the input's,
    // which a cut output is shorter than.
    let (x0, x1) = (at(0.0), seg.x(seg.duration()));
    let _ = writeln!(
        s,
        r##"<rect x="{x0:.2}" y="{:.2}" width="{:.2}" height="{body:.2}" fill="#f3f4f6"/>"##,
        top + 4.0,
        (x1 - x0).max(0.0)
    );
    match &row.content {
        Content::Envelope(peaks) => {
            let n = peaks.len().max(1) as f64;
            let mut path = String::new();
            for (k, p) in peaks.iter().enumerate() {
                let x = at(row.duration * k as f64 / n);
                let half = f64::from(*p) * body / 2.0;
                let _ = write!(
                    path,
                    "M{x:.2} {:.2}V{:.2}",
                    mid - half - 0.5,
                    mid + half + 0.5
                );
            }
            let _ = writeln!(
                s,
                r#"<path class="envelope" d="{path}" stroke="{WAVE_COLOUR}" stroke-width="1"/>"#
            );
        }
        Content::Keyframes(times) => {
            for t in times {
                let x = at(*t);
                let _ = writeln!(
                    s,
                    r#"<line class="keyframe" data-t="{t:.3}" x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="{WAVE_COLOUR}" stroke-width="1.5"/>"#,
                    top + 8.0,
                    top + 4.0 + body - 4.0
                );
            }
        }
    }
    for (a, b) in &row.removed {
        let (x1, x2) = (at(*a), at(*b));
        let width = (x2 - x1).max(1.0);
        let _ = writeln!(
            s,
            r##"<rect class="removed-shade" x="{x1:.2}" y="{:.2}" width="{width:.2}" height="{body:.2}" fill="{REMOVED_COLOUR}" fill-opacity="0.25"/><rect class="removed" data-start="{a:.3}" data-end="{b:.3}" x="{x1:.2}" y="{:.2}" width="{width:.2}" height="{STRIP_HEIGHT}" fill="{REMOVED_COLOUR}"/>"##,
            top + 4.0,
            top + 4.0 + body
        );
    }
    s.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Timeline {
        Timeline {
            segments: vec![
                Segment {
                    number: 1,
                    start: Some("2026-11-27T10:00:05".parse::<DateTime>().unwrap()),
                    length: 19.4,
                    marked: Vec::new(),
                    pauses: Vec::new(),
                    rows: vec![Row {
                        label: "video".into(),
                        lead: 0.0,
                        duration: 19.4,
                        removed: Vec::new(),
                        content: Content::Keyframes(vec![0.0, 10.0]),
                    }],
                },
                Segment {
                    number: 2,
                    start: Some("2026-11-27T10:01:12.4".parse::<DateTime>().unwrap()),
                    length: 60.1,
                    marked: vec![(21.6, 30.6)],
                    pauses: Vec::new(),
                    rows: vec![
                        Row {
                            label: "video".into(),
                            lead: 0.0,
                            duration: 45.0,
                            removed: vec![(20.0, 35.0)],
                            content: Content::Keyframes(vec![0.0, 20.0, 35.0]),
                        },
                        Row {
                            label: "participant audio".into(),
                            lead: 2.0,
                            duration: 58.1,
                            removed: vec![(19.6, 28.6)],
                            content: Content::Envelope(vec![0.5; 10]),
                        },
                    ],
                },
            ],
        }
    }

    /// The lines of segment `n`'s group.
    fn group(svg: &str, n: u32) -> Vec<&str> {
        let open = format!("<g class=\"segment\" data-segment=\"{n}\"");
        let mut lines = svg.lines().skip_while(|l| !l.starts_with(&open));
        let first = lines.next().expect("the segment's group");
        std::iter::once(first)
            .chain(lines.take_while(|l| !l.starts_with("<g class=\"segment\"")))
            .collect()
    }

    fn x_of(line: &str) -> f64 {
        let at = line.find(" x=\"").unwrap() + 4;
        line[at..].split('"').next().unwrap().parse().unwrap()
    }

    #[test]
    fn each_segment_on_its_own_clock() {
        let tl = sample();
        let svg = render_svg(&tl);
        assert!(svg.contains(">segment 1, from 10:00:05<"), "{svg}");
        assert!(svg.contains(">segment 2, from 10:01:12<"), "{svg}");
        let two = group(&svg, 2);
        // 10:01:35 is 22.6 s into segment 2: where its mark (padded by
        // 1 s) starts 1 s later than the rect.
        let tick = two
            .iter()
            .find(|l| l.contains("class=\"clock\"") && l.contains(">10:01:35<"))
            .expect("a tick reading 10:01:35");
        let seg = &tl.segments[1];
        assert!((x_of(tick) - seg.x(22.6)).abs() < 0.01, "{tick}");
        let marked = two.iter().find(|l| l.contains("class=\"marked\"")).unwrap();
        assert!((x_of(marked) - seg.x(21.6)).abs() < 0.01, "{marked}");
        // A row that starts 2 s into its segment has its ranges there.
        let removed: Vec<&&str> = two
            .iter()
            .filter(|l| l.contains("class=\"removed\""))
            .collect();
        let part = removed[1].split("<rect class=\"removed\"").nth(1).unwrap();
        assert!((x_of(part) - seg.x(21.6)).abs() < 0.01, "{part}");
        // Segment 1's clock never reads segment 2's times.
        let one = group(&svg, 1);
        assert!(one.iter().all(|l| !l.contains(">10:01:")));
        assert!(
            one.iter()
                .any(|l| l.contains("class=\"clock\"") && l.contains(">10:00:05<"))
        );
    }

    #[test]
    fn an_unknown_start_shows_offsets_only() {
        let mut tl = sample();
        tl.segments[1].start = None;
        let svg = render_svg(&tl);
        let two = group(&svg, 2);
        assert!(
            two.iter()
                .any(|l| l.contains("offsets from its start only"))
        );
        assert!(two.iter().all(|l| !l.contains("class=\"clock\"")));
        assert!(two.iter().any(|l| l.contains(">0:20<")));
    }

    #[test]
    fn a_pause_moves_the_clock_labels_after_it() {
        let mut tl = sample();
        // Segment 2 (10:01:12.4) paused 45 s at 30 s.
        tl.segments[1].pauses = vec![(30.0, 45.0)];
        let svg = render_svg(&tl);
        let g = group(&svg, 2);
        assert!(
            g.iter().any(
                |l| l.contains(r#"class="pause" data-t="30.000""#) && l.contains("paused 0:45")
            ),
            "{g:#?}"
        );
        // The first frame after it reads 10:01:12.4 + 30 s + 45 s.
        assert!(
            g.iter()
                .any(|l| l.contains(r#"class="clock" data-t="30.000""#) && l.contains("10:02:27")),
            "{g:#?}"
        );
        // Before it, the clock runs from the start.
        assert!(
            g.iter()
                .any(|l| l.contains(r#"class="clock" data-t="0.000""#) && l.contains("10:01:12")),
            "{g:#?}"
        );
    }

    #[test]
    fn self_contained() {
        let svg = render_svg(&sample());
        for banned in ["<script", "href", "url(", "@import", "http://w", "https:"] {
            let hits = svg.matches(banned).count();
            // The one namespace URI is the only "http" allowed.
            assert!(hits == 0 || (banned == "http://w" && hits == 1), "{banned}");
        }
    }

    #[test]
    fn tick_steps() {
        assert_eq!(tick_step(159.0), 15.0);
        assert_eq!(tick_step(3600.0), 300.0);
        assert_eq!(tick_step(5.0), 1.0);
        assert_eq!(tick_step(60.1), 5.0);
    }

    #[test]
    fn clock_ticks_fall_on_round_readings() {
        let start = "2026-11-27T10:01:12.4".parse::<DateTime>().unwrap();
        let ticks = clock_ticks(start, 60.1, 5.0);
        // The start, then 10:01:20 (10:01:15 is too near the start's label).
        assert_eq!(ticks[0], 0.0);
        assert!((ticks[1] - 7.6).abs() < 1e-9, "{ticks:?}");
        assert_eq!(ticks.len(), 12);
        assert_eq!(clock(Some(start), ticks[0]).unwrap(), "10:01:12");
        assert_eq!(clock(Some(start), ticks[4]).unwrap(), "10:01:35");
    }
}
