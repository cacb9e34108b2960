//! The timeline picture of `recpipe plan --timeline` and `recpipe preview`:
//! drawn from the plan of the sample recording, its ranges are where the
//! plan says — checked in the SVG's coordinates against the plan's JSON,
//! and in the pixels headless Chromium renders (orange where marked, red
//! where removed, not red elsewhere) — and it names no participant.

use crate::util::{recpipe, stderr, stdout};
use recpipe::timeline::{LEFT, RIGHT, ROW_HEIGHT, STRIP_HEIGHT, WIDTH, row_top};
#[cfg(unix)]
use recpipe::timeline::{MARKS_HEIGHT, marks_top};
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::Command;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/2026-11-20 14.03.11 Pilot interview")
}

/// The sample recording that was stopped and started again: two segments.
fn follow_up() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data/2026-11-27 10.00.05 Follow-up interview")
}

fn demo_pipeline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/demo-local.toml")
}

/// `(attribute value)` of every `name="…"` in an SVG element line.
fn attr(line: &str, name: &str) -> f64 {
    let key = format!(" {name}=\"");
    let at = line
        .find(&key)
        .unwrap_or_else(|| panic!("{name} in {line}"))
        + key.len();
    line[at..].split('"').next().unwrap().parse().unwrap()
}

struct Drawn {
    svg: String,
    plan: serde_json::Value,
}

fn draw(dir: &Path) -> Drawn {
    draw_recording(dir, &sample())
}

fn draw_recording(dir: &Path, recording: &Path) -> Drawn {
    let svg_path = dir.join("timeline.svg");
    let out = recpipe(&[
        "plan",
        "--json",
        "--pipeline",
        demo_pipeline().to_str().unwrap(),
        "--timeline",
        svg_path.to_str().unwrap(),
        recording.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    Drawn {
        svg: std::fs::read_to_string(&svg_path).unwrap(),
        plan: serde_json::from_str(&stdout(&out)).unwrap(),
    }
}

/// The outputs the plan makes, with their removed ranges and duration.
fn outputs(plan: &serde_json::Value) -> Vec<(Vec<(f64, f64)>, f64)> {
    plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["duration"].is_object() && !f["output"].is_null())
        .map(|f| {
            let removed = f["removed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (secs(&r["start"]), secs(&r["end"])))
                .collect();
            (removed, secs(&f["duration"]))
        })
        .collect()
}

/// The axis spans the recording: its longest input.
fn recording_length(plan: &serde_json::Value) -> f64 {
    plan["report"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["duration"].as_f64())
        .fold(0.0, f64::max)
}

fn secs(v: &serde_json::Value) -> f64 {
    v["secs"].as_f64().unwrap() + v["nanos"].as_f64().unwrap() / 1e9
}

#[test]
fn ranges_are_drawn_where_the_plan_says() {
    let tmp = tempfile::tempdir().unwrap();
    let Drawn { svg, plan } = draw(tmp.path());
    let outs = outputs(&plan);
    assert_eq!(outs.len(), 4, "video, mixed and two participants: {plan}");
    let duration = recording_length(&plan);
    let x = |t: f64| LEFT + t / duration * (WIDTH - LEFT - RIGHT);
    let marked: Vec<(f64, f64)> = plan["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap()))
        .collect();
    assert!(!marked.is_empty(), "the sample has a mark");
    let marked_rects: Vec<&str> = svg
        .lines()
        .filter(|l| l.contains("class=\"marked\""))
        .collect();
    assert_eq!(marked_rects.len(), marked.len());
    for (line, (a, b)) in marked_rects.iter().zip(&marked) {
        assert!((attr(line, "x") - x(*a)).abs() < 0.01, "{line}");
        assert!(
            (attr(line, "x") + attr(line, "width") - x(*b)).abs() < 0.02,
            "{line}"
        );
    }
    let removed_rects: Vec<&str> = svg
        .lines()
        .filter(|l| l.contains("class=\"removed\""))
        .collect();
    let expected: Vec<(usize, f64, f64)> = outs
        .iter()
        .enumerate()
        .flat_map(|(i, (r, _))| r.iter().map(move |(a, b)| (i, *a, *b)))
        .collect();
    assert_eq!(removed_rects.len(), expected.len());
    for (line, (row, a, b)) in removed_rects.iter().zip(&expected) {
        let part = line.split("<rect class=\"removed\"").nth(1).unwrap();
        let part = format!(" {part}");
        assert!((attr(&part, "x") - x(*a)).abs() < 0.01, "{line}");
        assert!(
            (attr(&part, "x") + attr(&part, "width") - x(*b)).abs() < 0.02,
            "{line}"
        );
        let top = row_top(0.0, *row);
        assert!(
            (attr(&part, "y") - (top + ROW_HEIGHT - STRIP_HEIGHT - 4.0)).abs() < 0.01,
            "{line}"
        );
    }
    // The video's cut is widened to keyframes: wider than the mark.
    let video = &outs[plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["duration"].is_object() && !f["output"].is_null())
        .position(|f| f["fate"]["fate"] == "video")
        .expect("the sample keeps its video")];
    assert!(
        video.0[0].0 < marked[0].0 && video.0[0].1 > marked[0].1,
        "{:?} vs {marked:?}",
        video.0
    );
    // Wall-clock time from the folder name: 14:03:11 at offset 0.
    assert!(svg.contains(">14:03:11<"), "wall clock on the axis");
    assert!(svg.contains(">0:00<"), "offsets on the axis");
    for name in [
        "Ingrid",
        "Haugen",
        "Ola",
        "Nordmann",
        "audio84213977051",
        "Pilot interview",
    ] {
        assert!(!svg.contains(name), "the picture names {name}");
    }
    assert!(
        !svg.contains("<script") && !svg.contains("href"),
        "self-contained"
    );
}

/// The lines of segment `n`'s group in an SVG.
fn segment_group(svg: &str, n: u32) -> Vec<&str> {
    let open = format!("<g class=\"segment\" data-segment=\"{n}\"");
    let mut lines = svg.lines().skip_while(|l| !l.starts_with(&open));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("segment {n} in {svg}"));
    std::iter::once(first)
        .chain(lines.take_while(|l| !l.starts_with("<g class=\"segment\"")))
        .collect()
}

/// `(x, text)` of every clock label in a group.
fn clock_labels(group: &[&str]) -> Vec<(f64, String)> {
    group
        .iter()
        .filter(|l| l.starts_with("<text class=\"clock\""))
        .map(|l| {
            let text = l.split('>').nth(1).unwrap().split('<').next().unwrap();
            (attr(l, "x"), text.to_string())
        })
        .collect()
}

/// The follow-up sample was stopped and started again; its marks file
/// says segment 2 started at 10:01:12 and marks a passage from 10:01:35.
/// Each segment has its own clock, so the passage is drawn under the tick
/// that reads 10:01:35 on segment 2's axis, 23 s into segment 2 — not at
/// 10:00:27 on one axis from 10:00:05 — and segment 1 reads from 10:00:05.
#[test]
fn each_segment_is_drawn_on_its_own_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let Drawn { svg, plan } = draw_recording(tmp.path(), &follow_up());
    let segments = plan["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2, "{plan}");
    let span = |t: f64, d: f64| LEFT + t / d * (WIDTH - LEFT - RIGHT);

    let one = segment_group(&svg, 1);
    assert!(one[0].contains(">segment 1, from 10:00:05<"), "{}", one[0]);
    let labels = clock_labels(&one);
    assert_eq!(labels[0], (LEFT, "10:00:05".to_string()), "{labels:?}");
    let length1 = segments[0]["length"].as_f64().unwrap();
    assert!(length1 < 25.0, "segment 1 is the false start: {length1}");
    for (_, text) in &labels {
        assert!(
            text.as_str() >= "10:00:05" && text.as_str() <= "10:00:25",
            "segment 1's clock reads only its own {length1} s: {labels:?}"
        );
    }
    assert!(one.iter().all(|l| !l.contains("class=\"marked\"")));

    let two = segment_group(&svg, 2);
    assert!(two[0].contains(">segment 2, from 10:01:12<"), "{}", two[0]);
    let length2 = segments[1]["length"].as_f64().unwrap();
    let x2 = |t: f64| span(t, length2);
    let labels = clock_labels(&two);
    let (tick, _) = labels
        .iter()
        .find(|(_, text)| text == "10:01:35")
        .unwrap_or_else(|| panic!("no tick reads 10:01:35: {labels:?}"));
    // 10:01:35 is 23 s after segment 2's stated start, 10:01:12.
    assert!((tick - x2(23.0)).abs() < 0.01, "{tick} vs {}", x2(23.0));
    let marked: Vec<&&str> = two
        .iter()
        .filter(|l| l.contains("class=\"marked\""))
        .collect();
    assert_eq!(marked.len(), 2, "two passages in segment 2: {marked:?}");
    let (mx, mw) = (attr(marked[0], "x"), attr(marked[0], "width"));
    assert!(
        mx < *tick && *tick < mx + mw,
        "the tick reading 10:01:35 lies in the first orange range: {mx}..{}",
        mx + mw
    );
    // What each output of segment 2 loses is drawn on segment 2's axis.
    let files: Vec<&serde_json::Value> = plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["segment"] == 2 && f["duration"].is_object() && !f["output"].is_null())
        .collect();
    assert_eq!(files.len(), 4, "video, mixed and two participants: {plan}");
    let removed: Vec<&&str> = two
        .iter()
        .filter(|l| l.contains("class=\"removed\""))
        .collect();
    let expected: Vec<f64> = files
        .iter()
        .flat_map(|f| {
            let lead = f.get("lead").map_or(0.0, secs);
            f["removed"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |r| lead + secs(&r["start"]))
        })
        .collect();
    assert_eq!(removed.len(), expected.len());
    for (line, a) in removed.iter().zip(&expected) {
        let part = format!(" {}", line.split("<rect class=\"removed\"").nth(1).unwrap());
        assert!((attr(&part, "x") - x2(*a)).abs() < 0.01, "{line}");
    }
    for name in ["Ingrid", "Haugen", "Ola", "Nordmann", "Follow-up"] {
        assert!(!svg.contains(name), "the picture names {name}");
    }
}

#[cfg(unix)]
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .map(|c| Path::new("/usr/bin").join(c))
        .find(|p| p.is_file());
    if found.is_none() {
        crate::util::skip::not_exercised("chromium is missing (scripts/test.sh installs it)");
    }
    found
}

#[cfg(unix)]
#[test]
fn chromium_renders_marked_and_removed_ranges_where_the_plan_says() {
    let Some(browser) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Drawn { svg, plan } = draw(tmp.path());
    let outs = outputs(&plan);
    let duration = recording_length(&plan);
    let x = |t: f64| LEFT + t / duration * (WIDTH - LEFT - RIGHT);
    let height = attr(svg.lines().next().unwrap(), "height");
    let png = tmp.path().join("shot.png");
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={},{}", WIDTH as u32, height as u32))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!(
            "file://{}",
            tmp.path().join("timeline.svg").display()
        ))
        .output()
        .unwrap();
    assert!(
        png.is_file(),
        "chromium made no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixel = |px: f64, py: f64| {
        let (px, py) = (px.round() as usize, py.round() as usize);
        let i = (py * info.width as usize + px) * channels;
        (buf[i], buf[i + 1], buf[i + 2])
    };
    let close = |p: (u8, u8, u8), hex: &str| {
        let c = |k: usize| u8::from_str_radix(&hex[1 + 2 * k..3 + 2 * k], 16).unwrap() as i32;
        (p.0 as i32 - c(0)).abs() < 12
            && (p.1 as i32 - c(1)).abs() < 12
            && (p.2 as i32 - c(2)).abs() < 12
    };
    let red = recpipe::timeline::REMOVED_COLOUR;
    let orange = recpipe::timeline::MARKED_COLOUR;
    let marked = &plan["ranges"][0];
    let (ma, mb) = (marked[0].as_f64().unwrap(), marked[1].as_f64().unwrap());
    let my = marks_top(0.0) + MARKS_HEIGHT / 2.0;
    assert!(
        close(pixel(x((ma + mb) / 2.0), my), orange),
        "marked: {:?}",
        pixel(x((ma + mb) / 2.0), my)
    );
    assert!(!close(pixel(x(mb + 20.0), my), orange), "after the mark");
    for (row, (removed, _)) in outs.iter().enumerate() {
        let sy = row_top(0.0, row) + ROW_HEIGHT - 4.0 - STRIP_HEIGHT / 2.0;
        for (a, b) in removed {
            assert!(
                close(pixel(x((a + b) / 2.0), sy), red),
                "row {row}: removed {a}-{b}: {:?}",
                pixel(x((a + b) / 2.0), sy)
            );
            assert!(
                close(pixel(x(a + 0.3), sy), red),
                "row {row}: just inside {a}"
            );
            assert!(
                !close(pixel(x(a - 1.0), sy), red),
                "row {row}: just before {a}"
            );
            assert!(
                !close(pixel(x(b + 1.0), sy), red),
                "row {row}: just after {b}"
            );
        }
        assert!(
            !close(pixel(x(5.0), sy), red),
            "row {row}: nothing removed at 5 s"
        );
    }
}

#[test]
fn preview_writes_the_timeline_beside_the_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("listen");
    let out = recpipe(&[
        "preview",
        "--pipeline",
        demo_pipeline().to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(out_dir.join("timeline.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("class=\"removed\""));
    assert!(stdout(&out).contains("timeline.svg"));
}
