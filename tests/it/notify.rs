//! Desktop notifications, on a real session bus (`dbus-daemon --session`)
//! whose notification server is a stand-in that records every `Notify`
//! call: each state that needs the person is told once, by the
//! recording's start and with no names; a second run tells nothing; a day
//! later (the clock moved by `RECPIPE_NOW`) a reminder comes; without a
//! bus the log says so once and the exit status is the same.

use crate::util::notification_bus::{Call, NotificationBus};
use crate::util::world::World;
use std::fs;
use std::process::Output;

/// A minute after the sample recording started (20 Nov 2026 14:03:11 in
/// the tests' time zone, whatever it is: the test reads it back).
fn now_after(hours: i64) -> String {
    let start = recpipe::notify::stamp_time("20261120-140311").unwrap();
    (start + 60 + hours * 3600).to_string()
}

fn run(w: &World, bus: &str, now: &str) -> Output {
    w.command()
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("RECPIPE_NOW", now)
        .output()
        .unwrap()
}

/// `recpipe status` at `now`.
fn status(w: &World, now: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .arg("status")
        .args(args)
        .env("RECPIPE_STATE_DIR", w.path("state"))
        .env("RECPIPE_NOW", now)
        .output()
        .unwrap()
}

/// A world whose marks file has a line that cannot be placed (16:00 is
/// after the sample recording): a recording that needs the researcher.
fn unplaceable_mark(pipeline_extra: &str) -> World {
    let w = World::new(&World::dir_destination(), pipeline_extra);
    fs::write(
        w.recording().join("recpipe-marks.txt"),
        "16:00:00 - 16:00:05\n",
    )
    .unwrap();
    w
}

/// The notification names no topic, participant or file, and has a title
/// and two lines.
fn check_text(call: &Call, title: &str, action: &str) {
    assert_eq!(call.app_name, "recpipe");
    assert_eq!(call.summary, title);
    let lines: Vec<&str> = call.body.lines().collect();
    assert_eq!(lines.len(), 2, "{call:?}");
    assert_eq!(lines[1], action, "{call:?}");
    for name in [
        "Pilot",
        "interview",
        "84213977051",
        "third party",
        ".m4a",
        "marks.txt",
    ] {
        assert!(
            !format!("{}{}", call.summary, call.body).contains(name),
            "{name} in {call:?}"
        );
    }
}

#[test]
fn a_mark_that_cannot_be_placed_is_told_once_then_daily() {
    let bus = NotificationBus::start();
    let w = World::new(&World::dir_destination(), "");
    fs::write(
        w.recording().join("recpipe-marks.txt"),
        "16:00:00 - 16:00:05   the third party again\n",
    )
    .unwrap();
    let first = run(&w, &bus.address, &now_after(0));
    assert_eq!(first.status.code(), Some(4), "{first:?}");
    let calls = bus.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    check_text(
        &calls[0],
        "recpipe: the recording of 20 Nov 2026 14:03 needs you",
        "Open the recording's folder: the marks file has a line that cannot be placed",
    );
    // The next scheduled run finds the same: nothing more.
    let second = run(&w, &bus.address, &now_after(0));
    assert_eq!(second.status.code(), Some(4));
    assert_eq!(bus.calls().len(), 1);
    // A day later it is still there: one reminder, which says how long.
    run(&w, &bus.address, &now_after(25));
    let calls = bus.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    check_text(
        &calls[1],
        "recpipe: the recording of 20 Nov 2026 14:03 still needs you (1 d 1 h on this PC)",
        "Open the recording's folder: the marks file has a line that cannot be placed",
    );
    run(&w, &bus.address, &now_after(26));
    assert_eq!(bus.calls().len(), 2);
    // The run said it waited longer than [source] max_wait, and status
    // shows since when.
    let late = run(&w, &bus.address, &now_after(27));
    let err = String::from_utf8_lossy(&late.stderr);
    assert!(err.contains("longer than [source] max_wait (24h)"), "{err}");
    let json = status(&w, &now_after(27), &["--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let waiting = doc["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{doc}");
    assert_eq!(waiting[0]["start"], "20261120-140311");
    assert_eq!(
        waiting[0]["waits_for"],
        "Open the recording's folder: the marks file has a line that cannot be placed"
    );
    assert_eq!(waiting[0]["waited_secs"].as_u64().unwrap() / 3600, 27);
    let text = status(&w, &now_after(27), &[]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("20 Nov 2026 14:03 (not admitted): on this PC since 2026-11-20T")
            && text.contains("(1 d 3 h); waits for: Open the recording's folder"),
        "{text}"
    );
    assert!(!text.contains("Pilot"), "{text}");
}

/// `recpipe watch` looks every second; the state is told once all the same.
#[test]
fn a_watch_tells_a_state_once_across_its_looks() {
    let bus = NotificationBus::start();
    let w = unplaceable_mark("");
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["watch", "--rescan", "1s", "--pipeline"])
        .arg(w.path("pipeline.toml"))
        .env("RECPIPE_STATE_DIR", w.path("state"))
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while bus.calls().is_empty() && t.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Several more looks, each of which logs what it found.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let _ = watch.kill();
    let _ = watch.wait();
    let calls = bus.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    check_text(
        &calls[0],
        "recpipe: the recording of 20 Nov 2026 14:03 needs you",
        "Open the recording's folder: the marks file has a line that cannot be placed",
    );
    let log = fs::read_to_string(w.path("state").join("recpipe.log")).unwrap();
    assert!(
        log.matches("not processed").count() >= 3,
        "fewer looks than expected:\n{log}"
    );
}

#[test]
fn files_recpipe_does_not_know_are_told_once() {
    let bus = NotificationBus::start();
    let w = World::new(&World::dir_destination(), "");
    fs::write(w.recording().join("Interview notes.pdf"), "notes").unwrap();
    let first = run(&w, &bus.address, &now_after(0));
    assert_eq!(first.status.code(), Some(4), "{first:?}");
    let second = run(&w, &bus.address, &now_after(1));
    assert_eq!(second.status.code(), Some(4), "{second:?}");
    let calls = bus.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    check_text(
        &calls[0],
        "recpipe: the recording of 20 Nov 2026 14:03 needs you",
        "Open the recording's folder and move those files where they belong",
    );
    assert!(!calls[0].body.contains("notes"), "{calls:?}");
}

#[test]
fn a_recording_that_fails_run_after_run_is_told_once() {
    let bus = NotificationBus::start();
    // The destination folder cannot be made: a file is in its way.
    let w = World::new(
        "[destination]\nkind = \"dir\"\npath = \"blocked/out\"\n",
        "",
    );
    fs::write(w.path("blocked"), "a file").unwrap();
    for run_no in 1..=4 {
        let out = run(&w, &bus.address, &now_after(0));
        assert_eq!(out.status.code(), Some(1), "run {run_no}: {out:?}");
        let expected = usize::from(run_no >= recpipe::notify::FAILING_AFTER);
        assert_eq!(bus.calls().len(), expected, "run {run_no}");
    }
    check_text(
        &bus.calls()[0],
        "recpipe: the recording of 20 Nov 2026 14:03 keeps failing",
        "Run recpipe status to see the error",
    );
}

#[test]
fn without_a_bus_the_log_says_so_once_and_the_exit_status_is_the_same() {
    let w = unplaceable_mark("");
    let gone = format!("unix:path={}", w.path("no-bus").display());
    for _ in 0..2 {
        let out = run(&w, &gone, &now_after(0));
        assert_eq!(out.status.code(), Some(4), "{out:?}");
    }
    let log = fs::read_to_string(w.path("state").join("recpipe.log")).unwrap();
    assert_eq!(
        log.matches("desktop notifications cannot be shown here")
            .count(),
        1,
        "{log}"
    );
}

#[test]
fn a_notification_server_that_never_answers_holds_nothing_up() {
    let bus = NotificationBus::start_hung();
    let w = unplaceable_mark("");
    let t = std::time::Instant::now();
    let out = run(&w, &bus.address, &now_after(0));
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let took = t.elapsed();
    assert!(
        took < recpipe::notify::desktop::ANSWER + std::time::Duration::from_secs(20),
        "{took:?}"
    );
    let log = fs::read_to_string(w.path("state").join("recpipe.log")).unwrap();
    assert!(log.contains("did not answer within 10s"), "{log}");
}

#[test]
fn notifications_off_in_the_pipeline_file_show_nothing() {
    let bus = NotificationBus::start();
    let w = unplaceable_mark("[notify]\ndesktop = false\n");
    let out = run(&w, &bus.address, &now_after(0));
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(bus.calls(), vec![]);
}

#[test]
fn an_upload_that_waits_for_a_login_is_told_once() {
    use std::os::unix::fs::PermissionsExt;
    let bus = NotificationBus::start();
    // TSD's login route (password and one-time code) from a scheduled
    // run: no terminal, so it waits for the person before connecting.
    let w = World::new(
        "[destination]\nkind = \"tsd\"\nproject = \"p11\"\nurl = \"http://127.0.0.1:9\"\npath = \"recpipe\"\nauth = \"login\"\napi_key_file = \"api.key\"\n",
        "",
    );
    let key = w.path("api.key");
    fs::write(&key, "a-test-api-key\n").unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    for _ in 0..2 {
        let out = run(&w, &bus.address, &now_after(0));
        assert_eq!(out.status.code(), Some(3), "{out:?}");
    }
    let calls = bus.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    check_text(
        &calls[0],
        "recpipe: the recording of 20 Nov 2026 14:03 waits for your login",
        "Open recpipe watch and log in to TSD",
    );
}
