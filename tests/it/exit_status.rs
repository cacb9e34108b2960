//! The exit statuses the README's command table gives, run here for each
//! command that reads or processes recordings (issue 13 item 9): every
//! status a row lists is produced by a case below, and no other. `keygen`,
//! `seal` and `decrypt` are run the same way in `seal_cli`.

use crate::util::world::{self, World};
use crate::util::{assert_readme_row, stderr, stdout};
use std::fs;
use std::process::Output;

/// The status of a command, and a record of it for the row check.
fn status(ran: &mut Vec<i32>, expected: i32, out: Output) {
    assert_eq!(
        out.status.code(),
        Some(expected),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    ran.push(expected);
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// A recording whose marks file has a line that is not a mark.
fn with_bad_marks(w: &World) {
    fs::write(w.recording().join("recpipe-marks.txt"), "14:70 - 14:71\n").unwrap();
}

#[test]
fn check_exits_0_complete_3_in_progress_4_broken() {
    let mut ran = Vec::new();
    let w = World::new(&World::dir_destination(), "");
    let rec = w.recording();
    status(&mut ran, 0, w.cli(&["check", "--settle", "0s", s(&rec)]));
    // Just copied: within an hour of settling it is still being written.
    status(&mut ran, 3, w.cli(&["check", "--settle", "1h", s(&rec)]));
    let video = rec.join("video84213977051.mp4");
    let bytes = fs::read(&video).unwrap();
    fs::write(&video, &bytes[..bytes.len() / 2]).unwrap();
    status(&mut ran, 4, w.cli(&["check", "--settle", "0s", s(&rec)]));
    assert_readme_row("check", &ran);
}

#[test]
fn pipeline_check_exits_0_valid_2_refused() {
    let mut ran = Vec::new();
    let w = World::new(&World::dir_destination(), "");
    let pipeline = w.path("pipeline.toml");
    status(&mut ran, 0, w.cli(&["pipeline", "check", s(&pipeline)]));
    fs::write(w.path("bad.toml"), "name = 1\n").unwrap();
    status(
        &mut ran,
        2,
        w.cli(&["pipeline", "check", s(&w.path("bad.toml"))]),
    );
    assert_readme_row("pipeline check", &ran);
}

#[test]
fn run_exits_0_done_3_waits_4_needs_a_person_1_failed() {
    let mut ran = Vec::new();
    let done = World::new(&World::dir_destination(), "");
    status(&mut ran, 0, done.run());
    world::check_delivery(&done, &done.delivered(&done.path("out")));

    let waits = World::with_settle(&World::dir_destination(), "", "1h");
    status(&mut ran, 3, waits.run());

    let person = World::new(&World::dir_destination(), "");
    with_bad_marks(&person);
    status(&mut ran, 4, person.run());

    // The destination folder's place holds a file: sending fails, and the
    // recording resumes next run once that is fixed.
    let failed = World::new(&World::dir_destination(), "");
    fs::write(failed.path("out"), b"not a folder").unwrap();
    status(&mut ran, 1, failed.run());
    assert!(failed.recording().join("video84213977051.mp4").exists());
    fs::remove_file(failed.path("out")).unwrap();
    assert_eq!(failed.run().status.code(), Some(0));
    assert_readme_row("run", &ran);
}

#[test]
fn plan_and_preview_exit_0_2_and_4_as_the_readme_says() {
    let (mut plan, mut preview) = (Vec::new(), Vec::new());
    let w = World::new(&World::dir_destination(), "");
    let p = w.path("pipeline.toml");
    let rec = w.recording();
    status(&mut plan, 0, w.cli(&["plan", "-p", s(&p), s(&rec)]));
    let listen = w.path("listen");
    let args = |out: &std::path::Path| {
        vec![
            "preview".to_string(),
            "-p".into(),
            s(&p).into(),
            "--out".into(),
            s(out).into(),
            s(&rec).into(),
        ]
    };
    let run = |a: Vec<String>| w.cli(&a.iter().map(String::as_str).collect::<Vec<_>>());
    status(&mut preview, 0, run(args(&listen)));
    status(&mut preview, 2, run(args(&w.path("zoom/inside"))));
    with_bad_marks(&w);
    status(&mut plan, 4, w.cli(&["plan", "-p", s(&p), s(&rec)]));
    status(&mut preview, 4, run(args(&w.path("listen-again"))));
    assert_readme_row("plan", &plan);
    assert_readme_row("preview", &preview);
}

#[test]
fn mark_status_and_init_exit_as_the_readme_says() {
    let w = World::new(&World::dir_destination(), "");
    let mut mark = Vec::new();
    status(&mut mark, 0, w.cli(&["mark", "--note", "a name was said"]));
    status(&mut mark, 0, w.cli(&["mark"]));
    assert_readme_row("mark", &mark);

    let mut st = Vec::new();
    status(&mut st, 0, w.cli(&["status"]));
    status(&mut st, 0, w.cli(&["status", "--json"]));
    assert_readme_row("status", &st);

    let mut init = Vec::new();
    let recipient = w.identity.recipient().to_string();
    let out_file = w.path("config/pipeline.toml");
    let dest = w.path("sealed");
    status(
        &mut init,
        0,
        w.cli(&[
            "init",
            "--yes",
            "--destination",
            "dir",
            "--dir",
            s(&dest),
            "--zoom-dir",
            s(&w.path("zoom")),
            "--recipient",
            &recipient,
            "--output",
            s(&out_file),
        ]),
    );
    // No terminal and no --yes: nothing is asked, nothing written.
    status(
        &mut init,
        2,
        w.cli(&["init", "--output", s(&w.path("other.toml"))]),
    );
    assert!(!w.path("other.toml").exists());
    assert_readme_row("init", &init);
}
