//! Unit tests of removing the interim copy: what is removed, what is left
//! and reported, files held open (Windows), and a shred cut short by a crash.

use super::*;

const MARKS: &str = "marks.txt";

fn expect(dir: &Path, rel: &str) -> Entry {
    let meta = fs::symlink_metadata(dir.join(rel)).unwrap();
    Entry {
        rel: rel.into(),
        kind: FileKind::of(meta.file_type()),
        id: FileId::of(&dir.join(rel), &meta),
    }
}

fn remove_interim(dir: &Path, expected: &[Entry], method: Method) -> Report {
    super::remove_interim(dir, expected, MARKS, method)
}

fn recording() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("2026-11-20 14.03.11 Interview");
    fs::create_dir_all(dir.join("Audio Record")).unwrap();
    fs::write(dir.join("video1.mp4"), vec![7u8; 3 * CHUNK + 5]).unwrap();
    fs::write(dir.join("Audio Record/audioA11.m4a"), b"participant").unwrap();
    (root, dir)
}

#[test]
fn removes_inventoried_files_and_emptied_folders() {
    let (_root, dir) = recording();
    let expected = vec![
        expect(&dir, "video1.mp4"),
        expect(&dir, "Audio Record/audioA11.m4a"),
    ];
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.removed.len(), 2);
    assert!(!dir.exists(), "the emptied recording folder is removed");
}

#[cfg(unix)]
#[test]
fn shredding_overwrites_the_file_itself_not_just_its_name() {
    use std::os::unix::fs::FileExt;
    let (_root, dir) = recording();
    // A handle kept open shows what happened to the file's data.
    let watcher = fs::File::open(dir.join("video1.mp4")).unwrap();
    let expected = vec![expect(&dir, "video1.mp4")];
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert_eq!(report.removed, vec![PathBuf::from("video1.mp4")]);
    assert!(report.unlinked_only.is_empty());
    assert_eq!(watcher.metadata().unwrap().len(), 0, "truncated");
    let mut byte = [0u8; 1];
    assert_eq!(watcher.read_at(&mut byte, 0).unwrap(), 0);
}

#[test]
fn a_file_with_another_name_is_unlinked_and_the_other_name_keeps_its_data() {
    let (root, dir) = recording();
    let other_name = root.path().join("hard-link");
    fs::hard_link(dir.join("video1.mp4"), &other_name).unwrap();
    let before = fs::read(&other_name).unwrap();
    let expected = vec![expect(&dir, "video1.mp4")];
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert_eq!(report.removed, vec![PathBuf::from("video1.mp4")]);
    assert_eq!(report.unlinked_only, vec![PathBuf::from("video1.mp4")]);
    assert!(!dir.join("video1.mp4").exists());
    assert_eq!(
        fs::read(&other_name).unwrap(),
        before,
        "not a byte overwritten"
    );
}

#[test]
fn the_marks_file_goes_last_and_only_when_nothing_else_is_left() {
    let (_root, dir) = recording();
    fs::write(dir.join(MARKS), b"0:10 - 0:20").unwrap();
    let expected = vec![
        expect(&dir, MARKS),
        expect(&dir, "video1.mp4"),
        expect(&dir, "Audio Record/audioA11.m4a"),
    ];
    // The participant audio is replaced after the check: it stays, and
    // so do the marks it needs.
    fs::remove_file(dir.join("Audio Record/audioA11.m4a")).unwrap();
    fs::write(dir.join("Audio Record/audioA11.m4a"), b"participant").unwrap();
    let report = remove_interim(&dir, &expected, Method::Delete);
    assert_eq!(report.removed, vec![PathBuf::from("video1.mp4")]);
    assert_eq!(report.kept.len(), 1, "{report:?}");
    assert_eq!(report.kept[0].0, PathBuf::from(MARKS));
    assert!(dir.join(MARKS).exists());
    let left: Vec<PathBuf> = report.left().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        left,
        vec![
            PathBuf::from("Audio Record/audioA11.m4a"),
            PathBuf::from(MARKS)
        ]
    );
    // Once the rest is gone, the marks file goes too.
    fs::remove_file(dir.join("Audio Record/audioA11.m4a")).unwrap();
    let report = remove_interim(&dir, &expected, Method::Delete);
    assert!(report.is_clean(), "{report:?}");
    assert!(!dir.exists());
}

#[test]
fn a_changed_or_new_file_is_left_and_reported() {
    let (_root, dir) = recording();
    let expected = vec![
        expect(&dir, "video1.mp4"),
        expect(&dir, "Audio Record/audioA11.m4a"),
    ];
    fs::write(
        dir.join("Audio Record/audioA11.m4a"),
        b"participant, longer now",
    )
    .unwrap();
    fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let report = remove_interim(&dir, &expected, Method::Delete);
    assert_eq!(report.removed, vec![PathBuf::from("video1.mp4")]);
    assert_eq!(report.changed.len(), 1);
    assert_eq!(
        report.changed[0].1,
        "its size changed after the check, from 11 to 23 bytes"
    );
    assert_eq!(report.new_files, vec![PathBuf::from("notes.txt")]);
    assert!(dir.join("notes.txt").exists());
    assert!(dir.join("Audio Record/audioA11.m4a").exists());
    assert!(!report.is_clean());
}

#[cfg(unix)]
#[test]
fn a_symlink_is_removed_as_a_link_and_its_target_survives() {
    let (root, dir) = recording();
    let target = root.path().join("target.m4a");
    fs::write(&target, b"precious").unwrap();
    std::os::unix::fs::symlink(&target, dir.join("audio2.m4a")).unwrap();
    let expected = vec![expect(&dir, "audio2.m4a")];
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert_eq!(report.removed, vec![PathBuf::from("audio2.m4a")]);
    assert_eq!(fs::read(&target).unwrap(), b"precious");
}

/// Holds `path` open the way another program would, with `share` as
/// its share mode, for `hold`.
#[cfg(windows)]
fn held_open(path: &Path, share: u32, hold: Duration) -> std::thread::JoinHandle<()> {
    use std::os::windows::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .share_mode(share)
        .open(path)
        .unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(hold);
        drop(file);
    })
}

#[cfg(windows)]
#[test]
fn a_file_held_open_without_sharing_is_retried_then_reported_and_left_whole() {
    let (_root, dir) = recording();
    let video = dir.join("video1.mp4");
    let before = fs::read(&video).unwrap();
    let expected = vec![
        expect(&dir, "video1.mp4"),
        expect(&dir, "Audio Record/audioA11.m4a"),
    ];
    let holder = held_open(&video, 0, OPEN_RETRY_WAIT * (OPEN_ATTEMPTS + 3));
    let started = std::time::Instant::now();
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert!(
        started.elapsed() >= OPEN_RETRY_WAIT * (OPEN_ATTEMPTS - 1),
        "it retried"
    );
    assert_eq!(
        report.removed,
        vec![PathBuf::from("Audio Record/audioA11.m4a")]
    );
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, PathBuf::from("video1.mp4"));
    assert!(
        report.failed[0]
            .1
            .contains("another program holds the file open")
    );
    assert!(!report.is_clean());
    holder.join().unwrap();
    assert_eq!(fs::read(&video).unwrap(), before, "not a byte overwritten");
    assert!(dir.exists(), "the folder with the file left stays");
}

#[cfg(windows)]
#[test]
fn a_file_held_without_sharing_deletion_is_not_overwritten() {
    use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE};
    let (_root, dir) = recording();
    let video = dir.join("video1.mp4");
    let before = fs::read(&video).unwrap();
    let expected = vec![expect(&dir, "video1.mp4")];
    // An antivirus scanning it: shares reading and writing, not deletion.
    let holder = held_open(
        &video,
        FILE_SHARE_READ | FILE_SHARE_WRITE,
        OPEN_RETRY_WAIT * (OPEN_ATTEMPTS + 3),
    );
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    holder.join().unwrap();
    assert_eq!(fs::read(&video).unwrap(), before, "not a byte overwritten");
}

#[cfg(windows)]
#[test]
fn a_file_released_while_retrying_is_shredded() {
    let (_root, dir) = recording();
    let expected = vec![expect(&dir, "video1.mp4")];
    let holder = held_open(&dir.join("video1.mp4"), 0, OPEN_RETRY_WAIT);
    let report = remove_interim(&dir, &expected, Method::Shred);
    holder.join().unwrap();
    assert_eq!(
        report.removed,
        vec![PathBuf::from("video1.mp4")],
        "{report:?}"
    );
    assert!(!dir.join("video1.mp4").exists());
}

#[test]
fn a_shred_cut_short_by_a_crash_is_finished_next_time() {
    let (_root, dir) = recording();
    let expected = vec![expect(&dir, "video1.mp4")];
    // What a crash after the rename leaves: the file under its hidden name.
    fs::rename(
        dir.join("video1.mp4"),
        dir.join(".recpipe-shred-0123456789abcdef"),
    )
    .unwrap();
    fs::remove_file(dir.join("Audio Record/audioA11.m4a")).unwrap();
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.already_gone, vec![PathBuf::from("video1.mp4")]);
    assert!(!dir.exists());
}

#[test]
fn only_names_of_exactly_the_hidden_form_are_finished() {
    assert!(is_ours(OsStr::new(".recpipe-shred-0123456789abcdef")));
    for other in [
        ".recpipe-shred-0123456789abcde",
        ".recpipe-shred-0123456789abcdef0",
        ".recpipe-shred-0123456789ABCDEF",
        ".recpipe-shred-notes.txt",
        "recpipe-shred-0123456789abcdef",
    ] {
        assert!(!is_ours(OsStr::new(other)), "{other}");
    }
    let (_root, dir) = recording();
    let lookalike = dir.join(".recpipe-shred-mine.txt");
    fs::write(&lookalike, b"keep").unwrap();
    let report = remove_interim(&dir, &[], Method::Shred);
    assert_eq!(fs::read(&lookalike).unwrap(), b"keep");
    assert!(
        report
            .new_files
            .contains(&PathBuf::from(".recpipe-shred-mine.txt"))
    );
}

#[test]
fn a_file_already_gone_is_reported_as_such() {
    let (_root, dir) = recording();
    let expected = vec![expect(&dir, "video1.mp4")];
    fs::remove_file(dir.join("video1.mp4")).unwrap();
    let report = remove_interim(&dir, &expected, Method::Shred);
    assert_eq!(report.already_gone, vec![PathBuf::from("video1.mp4")]);
}
