//! Where Windows differs: default folders, names with non-ASCII letters and
//! spaces end to end (check, journal, cleanup, the command line), and the
//! state folder lock. These run on every platform the suite runs on; CI
//! runs them on Linux and, through Wine, on Windows. Holding files open and
//! access lists are tested beside their code (`src/shred.rs`,
//! `src/fsutil.rs`).

use crate::util::{Kind, Recording, recpipe, stderr, stdout};
use recpipe::discover::{CheckOptions, Verdict, check_recording};
use recpipe::journal::{Journal, StateDir};
use recpipe::shred::{self, Method};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const NORWEGIAN: &str = "2026-11-20 14.03.11 Intervju med Åse Ødegård på Bø";
const JAPANESE: &str = "2026-11-21 09.30.00 インタビュー 第2回 山田さん";

fn check(dir: &Path) -> recpipe::discover::RecordingReport {
    let opts = CheckOptions {
        settle: Duration::from_secs(30),
        now: SystemTime::now() + Duration::from_secs(3600),
        marks: "recpipe-marks.txt".into(),
        stall: recpipe::discover::DEFAULT_STALL,
    };
    check_recording(dir, &opts).expect("check runs")
}

fn with_participants(folder: &str, names: &[&str]) -> Recording {
    let r = Recording::new(folder);
    r.media("video2461873050.mp4", Kind::VideoMoovFirst);
    r.media("audio2461873050.m4a", Kind::Audio);
    for name in names {
        r.media(
            &format!("Audio Record/audio{name}2461873050.m4a"),
            Kind::Audio,
        );
    }
    r
}

#[cfg(windows)]
#[test]
fn the_default_interim_folder_is_documents_zoom_in_the_profile() {
    let profile = PathBuf::from(std::env::var_os("USERPROFILE").expect("USERPROFILE is set"));
    let zoom = recpipe::config::default_zoom_dir();
    assert!(zoom.starts_with(&profile), "{}", zoom.display());
    assert!(
        zoom.ends_with(Path::new("Documents").join("Zoom")),
        "{}",
        zoom.display()
    );
    assert!(zoom.is_absolute());
}

#[cfg(windows)]
#[test]
fn the_default_state_folder_is_under_local_app_data() {
    let local = PathBuf::from(std::env::var_os("LOCALAPPDATA").expect("LOCALAPPDATA is set"));
    assert_eq!(StateDir::default_location().unwrap(), local.join("recpipe"));
}

#[cfg(unix)]
#[test]
fn the_default_folders_on_linux_are_in_the_home_folder() {
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    assert!(recpipe::config::default_zoom_dir().ends_with("Zoom"));
    assert!(StateDir::default_location().unwrap().starts_with(&home));
}

#[test]
fn recordings_named_in_norwegian_and_japanese_are_checked_with_their_names() {
    let r = with_participants(NORWEGIAN, &["Åse Ødegård", "山田 太郎"]);
    let report = check(&r.dir);
    assert_eq!(report.verdict, Verdict::Complete, "{:?}", report.reasons);
    assert_eq!(
        report.name.as_ref().unwrap().topic,
        "Intervju med Åse Ødegård på Bø"
    );
    let participants: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| match &f.role {
            recpipe::discover::Role::ParticipantAudio { participant } => Some(participant.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(participants.len(), 2, "{participants:?}");
    assert!(participants.contains(&"Åse Ødegård".to_string()));
    assert!(participants.contains(&"山田 太郎".to_string()));

    let japanese = with_participants(JAPANESE, &["佐藤 花子"]);
    let report = check(&japanese.dir);
    assert_eq!(report.verdict, Verdict::Complete, "{:?}", report.reasons);
    assert_eq!(
        report.name.as_ref().unwrap().topic,
        "インタビュー 第2回 山田さん"
    );
}

#[test]
fn the_command_line_takes_and_reports_non_ascii_paths_with_spaces() {
    let r = with_participants(NORWEGIAN, &["Åse Ødegård"]);
    let japanese = r.sibling(JAPANESE);
    std::fs::copy(
        r.dir.join("audio2461873050.m4a"),
        japanese.join("audio2461873050.m4a"),
    )
    .unwrap();
    let root = r.root.path().to_str().unwrap();
    let out = recpipe(&["check", "--json", "--settle", "0s", root]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let mut topics: Vec<&str> = doc["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rec| rec["name"]["topic"].as_str().unwrap())
        .collect();
    topics.sort();
    assert_eq!(
        topics,
        [
            "Intervju med Åse Ødegård på Bø",
            "インタビュー 第2回 山田さん"
        ]
    );

    let out = recpipe(&["check", "--settle", "0s", japanese.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("インタビュー"), "{}", stdout(&out));
}

#[test]
fn a_non_ascii_recording_is_cleaned_up_whole_from_its_check_inventory() {
    let r = with_participants(JAPANESE, &["佐藤 花子", "Åse Ødegård"]);
    let report = check(&r.dir);
    assert_eq!(report.verdict, Verdict::Complete, "{:?}", report.reasons);
    let expected = &report.inventory.entries;
    assert_eq!(expected.len(), 4);
    let cleanup = shred::remove_interim(&r.dir, expected, "marks.txt", Method::Shred);
    assert!(cleanup.is_clean(), "{cleanup:?}");
    assert_eq!(cleanup.removed.len(), 4);
    assert!(!r.dir.exists(), "the emptied recording folder is gone");
}

#[test]
fn a_state_folder_under_a_non_ascii_profile_keeps_journals_and_its_lock() {
    let root = tempfile::tempdir().unwrap();
    let local = root
        .path()
        .join("Users")
        .join("Åse Ødegård")
        .join("AppData")
        .join("Local")
        .join("recpipe");
    let state = StateDir::open(&local).unwrap();
    let lock = state.lock().unwrap().expect("the first lock is taken");
    assert!(state.lock().unwrap().is_none(), "a second is refused");

    let source: PathBuf = root.path().join("Documents").join("Zoom").join(JAPANESE);
    let mut journal = Journal::new(
        "0123456789abcdef".into(),
        source.clone(),
        "20261121-093000".into(),
        "usn-red-tsd".into(),
        Vec::new(),
    );
    state.save(&mut journal).unwrap();
    let found = state.find("0123456789abcdef").unwrap().expect("saved");
    assert_eq!(found.source, source);
    drop(lock);
    // Another test of this process may be starting a program at this
    // instant: its forked child holds a copy of every descriptor, the
    // lock's too, until its exec closes them (close-on-exec). So the lock
    // is free once that child has started, not necessarily at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while state.lock().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "not released with the first"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
