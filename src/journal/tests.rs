//! The journal's unit tests.

use super::*;

fn expected(rel: &str, size: u64) -> discover::Entry {
    discover::Entry {
        rel: rel.into(),
        kind: crate::fsutil::FileKind::File,
        id: FileId {
            size,
            mtime_ns: 1,
            identity: (1, 2),
        },
    }
}

#[test]
fn ids_are_stable_and_tell_recordings_apart() {
    let inv = vec![expected("video1.mp4", 10)];
    let a = recording_id("2026-11-20 14.03.11 A", &inv);
    assert_eq!(a.len(), 16);
    assert_eq!(a, recording_id("2026-11-20 14.03.11 A", &inv));
    assert_ne!(a, recording_id("2026-11-20 14.03.11 B", &inv));
    assert_ne!(
        a,
        recording_id("2026-11-20 14.03.11 A", &[expected("video1.mp4", 11)])
    );
}

#[test]
fn journals_round_trip_and_move_to_done() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::open(dir.path()).unwrap();
    let mut j = Journal::new(
        "abc".into(),
        "/z/rec".into(),
        "20261120-140311".into(),
        "p".into(),
        vec![expected("a.m4a", 3)],
    );
    state.save(&mut j).unwrap();
    assert_eq!(state.unfinished().unwrap(), vec![j.clone()]);
    j.step = Step::Done;
    state.save(&mut j).unwrap();
    assert!(state.unfinished().unwrap().is_empty());
    assert_eq!(state.finished().unwrap().len(), 1);
    assert_eq!(state.find("abc").unwrap().unwrap().step, Step::Done);
}

#[test]
fn file_records_round_trip_and_a_version_1_journal_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::open(dir.path()).unwrap();
    let mut j = Journal::new(
        "rec".into(),
        "/z/rec".into(),
        "20261120-140311".into(),
        "p".into(),
        vec![expected("Audio Record/audioKari11.m4a", 3)],
    );
    j.files = vec![FileRecord {
        role: discover::Role::ParticipantAudio {
            participant: "Kari".into(),
        },
        segment: Some(1),
        offset_ns: 30_000_000_000,
        ranges_ns: vec![(1, 2)],
        clock_ms: vec![(0, 50_000, 1_795_167_000_000)],
    }];
    state.save(&mut j).unwrap();
    assert_eq!(state.find("rec").unwrap().unwrap(), j);

    let mut old: serde_json::Value = serde_json::to_value(&j).unwrap();
    old["version"] = 1.into();
    old.as_object_mut().unwrap().remove("files");
    fs::write(
        dir.path().join("journals/rec.json"),
        serde_json::to_vec(&old).unwrap(),
    )
    .unwrap();
    let read = state.find("rec").unwrap().unwrap();
    assert_eq!((read.version, read.files.len()), (1, 0));

    j.forget_names();
    assert!(!serde_json::to_string(&j).unwrap().contains("Kari"));
}

#[test]
fn a_torn_journal_is_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::open(dir.path()).unwrap();
    fs::write(dir.path().join("journals/x.json"), b"{\"version\":1,").unwrap();
    assert!(matches!(
        state.unfinished(),
        Err(JournalError::Corrupt { .. })
    ));
}

#[test]
fn taking_the_lock_removes_what_an_interrupted_save_left() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::open(dir.path()).unwrap();
    let mut j = Journal::new(
        "abc".into(),
        "/z/2026-11-20 14.03.11 Topic".into(),
        "20261120-140311".into(),
        "p".into(),
        vec![expected("a.m4a", 3)],
    );
    state.save(&mut j).unwrap();
    let journals = dir.path().join("journals");
    let stale = [
        journals.join(format!("{}abc.json.k3J9aQ", crate::fsutil::TEMP_PREFIX)),
        journals.join("abc.json.tmp-00aa11bb22cc"),
    ];
    for p in &stale {
        fs::write(p, b"{\"source\": \"/z/2026-11-20 14.03.11 Topic\"").unwrap();
    }
    let lock = state.lock().unwrap().expect("free");
    for p in &stale {
        assert!(!p.exists(), "{} is left", p.display());
    }
    assert_eq!(
        state.unfinished().unwrap(),
        vec![j],
        "the journal itself stays"
    );
    drop(lock);
}

#[cfg(unix)]
#[test]
fn the_state_folder_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("state");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    let state = StateDir::open(&root).unwrap();
    let mut j = Journal::new(
        "abc".into(),
        "/z/rec".into(),
        "s".into(),
        "p".into(),
        Vec::new(),
    );
    state.save(&mut j).unwrap();
    let _lock = state.lock().unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&root), 0o700);
    for sub in ["journals", "done", "staged"] {
        assert_eq!(mode(&root.join(sub)), 0o700, "{sub}");
    }
    assert_eq!(mode(&root.join("journals/abc.json")), 0o600);
    assert_eq!(mode(&root.join("lock")), 0o600);
}

#[test]
fn a_second_lock_on_the_same_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::open(dir.path()).unwrap();
    let held = state.lock().unwrap();
    assert!(held.is_some());
    assert!(state.lock().unwrap().is_none());
    drop(held);
    assert!(state.lock().unwrap().is_some());
}
