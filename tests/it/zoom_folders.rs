//! Real Zoom folder shapes through whole runs: a recording stopped and
//! restarted (two segments) with marks after the restart, files recpipe
//! does not know beside the recording, litter, and a cloud-synced interim
//! folder; and the shipped two-segment sample recording through `check`,
//! `plan` and `run`. ffprobe is the oracle for the outputs' lengths; the silence of
//! the marked passage is read from the delivered WAV.

use crate::util::ffprobe_duration;
use crate::util::tools::ffmpeg;
use crate::util::world::{World, copy_dir, peak};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const FOLDER: &str = "2026-11-23 10.00.00 Intervju 4";

/// A tone of `secs` seconds, AAC-LC 32 kHz mono as Zoom writes audio.
fn tone(path: &Path, secs: u32) {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:sample_rate=32000:duration={secs}"),
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            "-ac",
            "1",
        ],
        path,
    );
}

/// A world whose interim folder holds one two-segment recording (a 6 s
/// false start, then 10 s), a consent form and a desktop.ini, and the
/// given marks.
fn two_segments(marks: &str) -> (World, PathBuf) {
    let w = World::new(&World::dir_destination(), "");
    fs::remove_dir_all(w.recording()).unwrap();
    let dir = w.path("zoom").join(FOLDER);
    fs::create_dir_all(&dir).unwrap();
    tone(&dir.join("audio14213977051.m4a"), 6);
    tone(&dir.join("audio24213977051.m4a"), 10);
    fs::write(dir.join("Samtykke Kari Nordmann.pdf"), b"%PDF-1.4 consent").unwrap();
    fs::write(dir.join("desktop.ini"), b"[.ShellClassInfo]\n").unwrap();
    fs::write(dir.join("recpipe-marks.txt"), marks).unwrap();
    (w, dir)
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_mark_after_the_restart_without_the_segments_start_needs_a_person() {
    let (w, dir) = two_segments("10:00:24 - 10:00:26 Kari is named\n");
    let out = w.run();
    let said = text(&out);
    assert_eq!(code(&out), 4, "{said}");
    assert!(said.contains("segment 2 starts"), "{said}");
    assert!(
        !said.contains("Kari"),
        "a note or a file name leaks: {said}"
    );
    assert!(
        w.delivered(&w.path("out")).is_empty(),
        "nothing is uploaded"
    );
    for f in [
        "audio14213977051.m4a",
        "audio24213977051.m4a",
        "Samtykke Kari Nordmann.pdf",
    ] {
        assert!(dir.join(f).exists(), "{f} was deleted");
    }
}

#[test]
fn marks_land_in_their_segment_and_unknown_files_survive() {
    // Segment 2 began at 10:00:20 on Zoom's clock: 10:00:24–10:00:26 is
    // 4–6 s into it (padded by 1 s). The offset mark is in segment 1.
    let (w, dir) = two_segments(
        "segment 2 starts 10:00:20\n10:00:24 - 10:00:26 Kari is named\n1 +00:00:01 - +00:00:02\n",
    );
    let out = w.run();
    let said = text(&out);
    assert_eq!(code(&out), 4, "unknown files left: needs a person. {said}");
    assert!(said.contains("recpipe does not know"), "{said}");
    assert!(
        !said.contains("Samtykke") && !said.contains("Kari"),
        "{said}"
    );

    let delivered = w.delivered(&w.path("out"));
    let names: Vec<String> = delivered
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let find = |s: &str| {
        delivered
            .iter()
            .find(|p| p.to_string_lossy().contains(s))
            .unwrap_or_else(|| panic!("no output {s} in {names:?}"))
    };
    let s1 = w.open(find("-s1.wav"));
    let s2 = w.open(find("-s2.wav"));
    for (plain, want, name) in [(&s1, 6.0, "s1"), (&s2, 10.0, "s2")] {
        let tmp = w.path(&format!("{name}.wav"));
        fs::write(&tmp, plain).unwrap();
        let d = ffprobe_duration(&tmp);
        assert!((d - want).abs() < 0.1, "{name}: {d} s, want {want}");
    }
    assert_eq!(
        peak(&s2, 3.05, 6.95),
        0,
        "the marked passage is silent in segment 2"
    );
    assert!(
        peak(&s2, 0.5, 2.5) > 1000,
        "segment 2 outside the mark is kept"
    );
    assert!(
        peak(&s2, 7.5, 9.5) > 1000,
        "segment 2 outside the mark is kept"
    );
    assert_eq!(
        peak(&s1, 0.05, 2.95),
        0,
        "the offset mark is silent in segment 1"
    );
    assert!(
        peak(&s1, 3.5, 5.5) > 1000,
        "segment 1 is not touched by segment 2's mark"
    );

    assert!(
        dir.join("Samtykke Kari Nordmann.pdf").exists(),
        "the consent form survives"
    );
    assert!(
        !dir.join("desktop.ini").exists(),
        "litter goes with the recording"
    );
    assert!(!dir.join("audio14213977051.m4a").exists());
    // A second run delivers nothing more and still leaves the form.
    let again = w.run();
    assert!(
        dir.join("Samtykke Kari Nordmann.pdf").exists(),
        "{}",
        text(&again)
    );
}

#[test]
fn newer_chat_is_chat() {
    let w = World::new(&World::dir_destination(), "");
    let dir = w.recording();
    fs::rename(dir.join("chat.txt"), dir.join("meeting_saved_new_chat.txt")).unwrap();
    let report = recpipe::discover::check_recording(
        &dir,
        &recpipe::discover::CheckOptions::new(std::time::Duration::ZERO, "recpipe-marks.txt"),
    )
    .unwrap();
    let f = report
        .files
        .iter()
        .find(|f| f.path == Path::new("meeting_saved_new_chat.txt"))
        .unwrap();
    assert_eq!(f.role, recpipe::discover::Role::Chat);
}

#[test]
fn a_cloud_synced_interim_folder_is_refused_for_red_and_warned_for_green() {
    let red = "name = \"r\"\nclassification = \"red\"\n[source]\ndir = \"/home/kari/OneDrive - USN/Documents/Zoom\"\n[keep]\ntracks = [\"mixed-audio\"]\n[seal]\nrecipients = [\"age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\"]\n[destination]\nkind = \"dir\"\npath = \"/tmp/out\"\n";
    let err = recpipe::config::Pipeline::from_toml(red, Path::new("p.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("OneDrive") && msg.contains("[source] dir"),
        "{msg}"
    );
    let green = "name = \"g\"\nclassification = \"green\"\n[source]\ndir = \"/home/kari/Dropbox/Zoom\"\n[keep]\ntracks = [\"mixed-audio\"]\n";
    match recpipe::config::Pipeline::from_toml(green, Path::new("p.toml")) {
        Ok(p) => assert_eq!(p.source.synced_by, Some("Dropbox")),
        Err(e) => panic!("a green pipeline loads: {e}"),
    }
}

/// Records `dir` as a sync client's folder the way the client itself does:
/// on Linux Dropbox's `~/.dropbox/info.json` (under the `home` given); on
/// Windows a Cloud Files sync root in the registry, removed by the guard.
struct SyncRoot {
    #[cfg(windows)]
    key: String,
}

impl SyncRoot {
    #[cfg(unix)]
    fn register(home: &Path, dir: &Path) -> SyncRoot {
        fs::create_dir_all(home.join(".dropbox")).unwrap();
        let info = serde_json::json!({
            "personal": { "path": dir, "host": 5, "is_team": false }
        });
        fs::write(home.join(".dropbox/info.json"), info.to_string()).unwrap();
        SyncRoot {}
    }

    #[cfg(windows)]
    fn register(_home: &Path, dir: &Path) -> SyncRoot {
        let client = format!(
            "Dropbox!S-1-5-21-recpipe-test!{}",
            dir.file_name().unwrap().to_string_lossy()
        );
        let key = format!(
            r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\SyncRootManager\{client}"
        );
        let st = Command::new("reg")
            .args([
                "add",
                &format!(r"{key}\UserSyncRoots"),
                "/v",
                "S-1-5-21-recpipe-test",
            ])
            .args(["/t", "REG_SZ", "/f", "/d"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success());
        SyncRoot { key }
    }
}

#[cfg(windows)]
impl Drop for SyncRoot {
    fn drop(&mut self) {
        let _ = Command::new("reg")
            .args(["delete", &self.key, "/f"])
            .status();
    }
}

/// `pipeline check` of the world's pipeline with `home` as HOME; asserts
/// the exit status and returns what it said.
fn check_with_home(w: &World, home: &Path, status: i32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["pipeline", "check"])
        .arg(w.path("pipeline.toml"))
        .env("HOME", home)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(status), "{said}");
    said
}

/// A folder that a sync client records as its own is synced, whatever it
/// is called: a red pipeline on it is refused, naming the service.
#[test]
fn a_folder_a_sync_client_records_as_its_own_is_refused_for_red() {
    let w = World::new(&World::dir_destination(), "");
    let home = w.path("home");
    fs::create_dir_all(&home).unwrap();
    check_with_home(&w, &home, 0);
    let _root = SyncRoot::register(&home, w.root.path());
    let said = check_with_home(&w, &home, 2);
    assert!(
        said.contains("lies in Dropbox") && said.contains("[source] dir"),
        "{said}"
    );
}

/// An interim folder that is a link into a synced folder is synced too:
/// recpipe looks at the folder as the file system resolves it.
#[cfg(unix)]
#[test]
fn an_interim_folder_linked_into_a_synced_folder_is_refused_for_red() {
    let w = World::new(&World::dir_destination(), "");
    let home = w.path("home");
    let synced = w.path("Synk");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&synced).unwrap();
    fs::rename(w.path("zoom"), synced.join("Zoom")).unwrap();
    std::os::unix::fs::symlink(synced.join("Zoom"), w.path("zoom")).unwrap();
    check_with_home(&w, &home, 0);
    let _root = SyncRoot::register(&home, &synced);
    let said = check_with_home(&w, &home, 2);
    assert!(said.contains("lies in Dropbox"), "{said}");
}

/// The shipped sample of a recording stopped after a false start and
/// restarted (made by sample-data/make-sample.sh follow-up).
const SAMPLE_TWO: &str = "2026-11-27 10.00.05 Follow-up interview";
const CONSENT: &str = "Consent form - signed.pdf";

/// Seconds of "HH:MM:SS", or of an offset "+HH:MM:SS".
fn clock_secs(t: &str) -> f64 {
    let t = t.trim_start_matches('+');
    t.split(':')
        .map(|p| {
            p.parse::<f64>()
                .unwrap_or_else(|_| panic!("not a time: {t}"))
        })
        .fold(0.0, |acc, p| acc * 60.0 + p)
}

/// A `Duration` as serde writes it: `{"secs": .., "nanos": ..}`.
fn json_secs(v: &Value) -> f64 {
    v["secs"].as_f64().unwrap() + v["nanos"].as_f64().unwrap() / 1e9
}

fn run_json(args: &[&str], state: &Path) -> (i32, Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(args)
        .env("RECPIPE_STATE_DIR", state)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {}", text(&out)));
    (code(&out), doc)
}

#[test]
fn the_two_segment_sample_places_its_marks_in_segment_2_and_keeps_the_consent_form() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("zoom").join(SAMPLE_TWO);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-data")
            .join(SAMPLE_TWO),
        &dir,
    );
    let consent = fs::read(dir.join(CONSENT)).unwrap();
    let pad = 1.0;
    let pipeline = root.path().join("pipeline.toml");
    fs::write(
        &pipeline,
        format!(
            "name = \"sample-two\"\nclassification = \"green\"\n[source]\ndir = \"zoom\"\nsettle = \"0s\"\n[redact]\nmarks = \"recpipe-marks.txt\"\npad = \"{pad}s\"\n[keep]\ntracks = [\"mixed-audio\"]\naudio_format = \"wav\"\n[destination]\nkind = \"dir\"\npath = \"out\"\n[cleanup]\ninterim = \"delete\"\n"
        ),
    )
    .unwrap();
    let state = root.path().join("state");

    // What the marks file says: segment 2's start on Zoom's clock, one
    // wall-clock mark and one offset mark in segment 2.
    let marks = fs::read_to_string(dir.join("recpipe-marks.txt")).unwrap();
    let lines: Vec<&str> = marks
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let range = |l: &str| {
        let t: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(t[1], "-", "{l}");
        (clock_secs(t[0]), clock_secs(t[2]))
    };
    let start2 = lines
        .iter()
        .find_map(|l| l.strip_prefix("segment 2 starts "))
        .map(clock_secs)
        .expect("a `segment 2 starts` line");
    let wall = lines
        .iter()
        .find(|l| !l.starts_with("segment") && !l.starts_with("2 +"))
        .map(|l| range(l))
        .expect("a wall-clock mark");
    let offset = lines
        .iter()
        .find_map(|l| l.strip_prefix("2 +"))
        .map(|l| range(&format!("+{l}")))
        .expect("an offset mark in segment 2");
    assert!(wall.0 > start2, "the wall-clock mark is after the restart");
    let mut want = vec![
        (wall.0 - start2 - pad, wall.1 - start2 + pad),
        (offset.0 - pad, offset.1 + pad),
    ];
    want.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(want[0].1 < want[1].0, "the sample's marks do not merge");

    // check: complete, two segments, the form is a file recpipe does not know.
    let dir_s = dir.to_str().unwrap();
    let (status, doc) = run_json(&["check", "--json", "--settle", "0s", dir_s], &state);
    assert_eq!(status, 0, "{doc:#}");
    let report = &doc["recordings"][0];
    assert_eq!(report["verdict"], "complete", "{report:#}");
    let segments = report["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2, "{report:#}");
    for (n, s) in segments.iter().enumerate() {
        assert_eq!(s["number"], n + 1);
        assert_eq!(s["files"].as_array().unwrap().len(), 4, "{s:#}");
    }
    let role = |name: &str| {
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| slashed(&f["path"]) == name)
            .unwrap_or_else(|| panic!("no {name} in {report:#}"))
            .clone()
    };
    assert_eq!(role(CONSENT)["role"], "unknown");
    assert_eq!(report["unknown"], serde_json::json!([["document", 1]]));
    let participant = role("Audio Record/audioOlaNordmann287329014462.m4a");
    assert_eq!(participant["role"], "participant-audio");
    assert_eq!(participant["segment"], 2);
    // The text form shows the same: each media file's segment, and the
    // segments.
    let shown = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["check", "--settle", "0s", dir_s])
        .env("RECPIPE_STATE_DIR", &state)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    let line_of = |name: &str| {
        shown
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in\n{shown}"))
    };
    assert!(
        line_of("video287329014462.mp4").ends_with("segment 2"),
        "{shown}"
    );
    assert!(
        line_of("video187329014462.mp4").ends_with("segment 1"),
        "{shown}"
    );
    assert!(
        shown.contains("2 segments (the recording was stopped and restarted)"),
        "{shown}"
    );
    assert!(shown.contains("segment 1: started 10:00:05"), "{shown}");

    // plan: both marks land in segment 2 at the marks file's seconds; the
    // form is dropped, never an output.
    let pipeline_s = pipeline.to_str().unwrap();
    let (status, plan) = run_json(&["plan", "--json", "--pipeline", pipeline_s, dir_s], &state);
    assert_eq!(status, 0, "{plan:#}");
    let files = plan["files"].as_array().unwrap();
    let file = |name: &str| {
        files
            .iter()
            .find(|f| slashed(&f["path"]).ends_with(name))
            .unwrap_or_else(|| panic!("no {name} in {plan:#}"))
    };
    for (name, segment) in [("/audio187329014462.m4a", 1), ("/audio287329014462.m4a", 2)] {
        let f = file(name);
        assert_eq!(f["segment"], segment, "{f:#}");
        let marked: Vec<(f64, f64)> = f["marked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (json_secs(&r["start"]), json_secs(&r["end"])))
            .collect();
        let expected = if segment == 2 { want.clone() } else { vec![] };
        assert_eq!(
            marked.len(),
            expected.len(),
            "{name}: {marked:?}, want {expected:?}"
        );
        for (got, want) in marked.iter().zip(&expected) {
            assert!(
                (got.0 - want.0).abs() < 1e-3 && (got.1 - want.1).abs() < 1e-3,
                "{name}: {marked:?}, want {expected:?}"
            );
        }
    }
    let form = file(CONSENT);
    assert_eq!(
        form["fate"]["fate"], "left",
        "left in place, not dropped: {form:#}"
    );
    assert!(form["output"].is_null(), "{form:#}");

    // run, with the interim copy deleted: the recording's files go, the
    // form stays byte for byte, and a person is told (exit 4).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(["run", "--pipeline", pipeline_s])
        .env("RECPIPE_STATE_DIR", &state)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(code(&out), 4, "{said}");
    assert!(said.contains("recpipe does not know"), "{said}");
    assert!(!said.contains("Consent"), "a file name leaks: {said}");
    assert_eq!(fs::read(dir.join(CONSENT)).unwrap(), consent);
    assert!(!dir.join("audio287329014462.m4a").exists());
    let delivered: Vec<String> = fs::read_dir(root.path().join("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for s in ["-s1.wav", "-s2.wav"] {
        assert!(
            delivered.iter().any(|n| n.ends_with(s)),
            "{s}: {delivered:?}"
        );
    }
}

/// A path from a JSON report with `/` between its parts, as on Windows
/// the reports give them with `\`.
fn slashed(path: &Value) -> String {
    path.as_str().unwrap_or_default().replace('\\', "/")
}
