//! Faults injected into the interim copy and the state folder (Linux, run
//! as root where a fault needs it): a named pipe and a socket, a file that
//! cannot be removed (`chattr +i` stands in for a file Windows holds
//! locked), symbolic links swapped in or planted under recpipe's own
//! temporary names, hard links, twenty `recpipe mark` calls at once, an
//! unreadable sub-folder, and stale journal
//! temporaries. Each test ends by checking the invariant: the files are
//! intact where they were (or gone only where they were verified).
//!
//! Anything that could hang runs with a deadline ([`within`]): a hang
//! fails the test instead of blocking the suite.
#![cfg(target_os = "linux")]

use crate::util::world::World;
use crate::util::{Recording, stderr, stdout};
use recpipe::discover::{Entry, take_inventory};
use recpipe::shred::{self, Method};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const NEWER: &str = "2026-11-20 14.03.11 Interview";
const MARKS: &str = "recpipe-marks.txt";

/// Runs `cmd`, killing it and failing the test if it has not ended after
/// `limit`.
fn within(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start recpipe");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("recpipe ran"),
        Err(_) => {
            // SAFETY: `pid` is the child started above, not yet reaped.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("recpipe did not finish within {limit:?}: it hangs");
        }
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_recpipe"))
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Every regular file under `dir` with its bytes: what "intact" is
/// compared against.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(root, &e.path(), out);
            } else if t.is_file() {
                let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, fs::read(e.path()).unwrap()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn inventory(dir: &Path) -> Vec<Entry> {
    take_inventory(dir).unwrap().entries
}

/// `chattr +i` on `path`, undone on drop so the temp tree can go.
struct Immutable(PathBuf);

impl Immutable {
    /// `None` (and a loud failure under `CI=true`) where the file system
    /// or the container does not allow it.
    fn set(path: &Path) -> Option<Immutable> {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            crate::util::skip::not_exercised("chattr +i does not work here");
            return None;
        }
        Some(Immutable(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn a_named_pipe_or_socket_in_a_recording_is_broken_and_nothing_hangs() {
    let r = Recording::newer_client(NEWER);
    // Not media, so nothing but the type from the listing tells it apart:
    // a reader that opened it would block.
    mkfifo(&r.dir.join("notes.txt"));
    let _socket =
        std::os::unix::net::UnixListener::bind(r.dir.join("Audio Record/x.sock")).unwrap();
    let before = snapshot(&r.dir);
    let mut cmd = bin();
    cmd.args(["check", "--settle", "0s"]).arg(&r.dir);
    let out = within(cmd, Duration::from_secs(60));
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("notes.txt is a named pipe (FIFO)"), "{text}");
    assert!(text.contains("is a socket"), "{text}");
    assert_eq!(snapshot(&r.dir), before);
    assert!(r.dir.join("notes.txt").exists());
}

#[test]
fn a_folder_deeper_than_the_inventory_reaches_makes_the_recording_broken() {
    let r = Recording::newer_client(NEWER);
    r.file("extra/more/deeper/audio1.m4a", b"not looked at");
    let before = snapshot(&r.dir);
    let mut cmd = bin();
    cmd.args(["check", "--settle", "0s"]).arg(&r.dir);
    let out = within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(4), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("extra/more/deeper is a folder nested deeper than Zoom ever writes"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&r.dir), before);
}

#[test]
fn a_run_over_a_recording_holding_a_named_pipe_ends_and_leaves_it_whole() {
    let w = World::new(&World::dir_destination(), "");
    mkfifo(&w.recording().join("Audio Record/notes"));
    let before = snapshot(&w.recording());
    let mut cmd = w.command();
    cmd.stdin(Stdio::null());
    let out = within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("named pipe"), "{}", stderr(&out));
    assert!(w.delivered(&w.path("out")).is_empty(), "nothing delivered");
    assert_eq!(snapshot(&w.recording()), before);
    // The lock is free again: a second run is not told another one works.
    let again = within(w.command(), Duration::from_secs(120));
    assert!(
        !stderr(&again).contains("another recpipe run"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_symlink_swapped_in_after_the_check_is_never_written_through() {
    let r = Recording::newer_client(NEWER);
    let outside = r.root.path().join("outside.m4a");
    fs::write(&outside, b"someone else's data").unwrap();
    let listed = inventory(&r.dir);
    // Between the check and the shred, the mixed audio becomes a link.
    let audio = r.dir.join("audio2461873050.m4a");
    fs::remove_file(&audio).unwrap();
    std::os::unix::fs::symlink(&outside, &audio).unwrap();
    let report = shred::remove_interim(&r.dir, &listed, MARKS, Method::Shred);
    assert_eq!(fs::read(&outside).unwrap(), b"someone else's data");
    assert!(
        fs::symlink_metadata(&audio)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is left"
    );
    let (_, why) = report
        .changed
        .iter()
        .find(|(p, _)| p == Path::new("audio2461873050.m4a"))
        .unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(why, "it was replaced by a symbolic link after the check");
}

#[test]
fn symlinks_named_like_the_shred_temporary_are_never_followed() {
    let r = Recording::newer_client(NEWER);
    let outside = r.root.path().join("outside.txt");
    fs::write(&outside, b"precious").unwrap();
    let listed = inventory(&r.dir);
    // Planted after the check: at the top, in Audio Record/, and deeper
    // than the inventory reaches.
    let planted = [
        ".recpipe-shred-0123456789abcdef",
        "Audio Record/.recpipe-shred-00112233445566ff",
        "a/b/c/d/.recpipe-shred-0123456789abcdef",
    ];
    for rel in planted {
        let at = r.dir.join(rel);
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&outside, &at).unwrap();
    }
    let report = shred::remove_interim(&r.dir, &listed, MARKS, Method::Shred);
    assert_eq!(fs::read(&outside).unwrap(), b"precious");
    for rel in planted {
        assert!(
            fs::symlink_metadata(r.dir.join(rel)).is_ok(),
            "{rel} is left"
        );
    }
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(
        report
            .new_files
            .contains(&PathBuf::from(".recpipe-shred-0123456789abcdef")),
        "{report:?}"
    );
    // What the inventory named is gone all the same.
    assert!(!r.dir.join("audio2461873050.m4a").exists());
}

#[test]
fn a_hard_linked_chat_keeps_its_outside_copy_through_a_whole_run() {
    let w = World::new(&World::dir_destination(), "");
    let chat = w.recording().join("chat.txt");
    let outside = w.path("my-chat-copy.txt");
    fs::hard_link(&chat, &outside).unwrap();
    let before = fs::read(&outside).unwrap();
    let out = within(w.command(), Duration::from_secs(300));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(w.delivered(&w.path("out")).len(), 5);
    assert!(!w.recording().exists(), "the interim copy is gone");
    assert_eq!(
        fs::read(&outside).unwrap(),
        before,
        "the other name keeps its data"
    );
    let done: Vec<serde_json::Value> = fs::read_dir(w.path("state/done"))
        .unwrap()
        .flatten()
        .map(|e| serde_json::from_slice(&fs::read(e.path()).unwrap()).unwrap())
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["cleanup"]["unlinked_only"], 1, "the record says so");
}

#[test]
fn a_hard_linked_file_is_unlinked_and_the_report_says_so() {
    let r = Recording::newer_client(NEWER);
    let outside = r.root.path().join("copy.txt");
    fs::hard_link(r.dir.join("chat.txt"), &outside).unwrap();
    let before = fs::read(&outside).unwrap();
    let report = shred::remove_interim(&r.dir, &inventory(&r.dir), MARKS, Method::Shred);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.unlinked_only, vec![PathBuf::from("chat.txt")]);
    assert_eq!(fs::read(&outside).unwrap(), before);
    assert!(!r.dir.exists());
}

#[test]
fn a_file_that_cannot_be_removed_is_left_whole_and_keeps_its_marks() {
    let r = Recording::newer_client(NEWER);
    r.file(MARKS, "+0:00:10 - +0:00:20 a name\n");
    let audio = r.dir.join("audio2461873050.m4a");
    let listed = inventory(&r.dir);
    let before = fs::read(&audio).unwrap();
    let Some(_locked) = Immutable::set(&audio) else {
        return;
    };
    let report = shred::remove_interim(&r.dir, &listed, MARKS, Method::Shred);
    assert_eq!(fs::read(&audio).unwrap(), before, "not a byte overwritten");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, PathBuf::from("audio2461873050.m4a"));
    assert!(
        report.failed[0].1.starts_with("it could not be removed ("),
        "{report:?}"
    );
    assert_eq!(report.kept.len(), 1, "{report:?}");
    assert_eq!(
        fs::read_to_string(r.dir.join(MARKS)).unwrap(),
        "+0:00:10 - +0:00:20 a name\n",
        "the marks stay with the media left"
    );
    assert!(!r.dir.join("video2461873050.mp4").exists());
    assert!(!report.is_clean());
}

#[test]
fn twenty_marks_at_once_are_all_kept() {
    let state = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..20)
        .map(|i| {
            bin()
                .args([
                    "mark",
                    &format!("00:{i:02}:00"),
                    &format!("00:{i:02}:30"),
                    "--note",
                    &format!("mark{i}"),
                ])
                .env("RECPIPE_STATE_DIR", state.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let text = fs::read_to_string(state.path().join("pending-marks.txt")).unwrap();
    for i in 0..20 {
        assert!(
            text.lines().any(|l| l.ends_with(&format!(" mark{i}"))),
            "mark{i} is lost:\n{text}"
        );
    }
    assert_eq!(text.lines().count(), 20, "{text}");
    let names: Vec<String> = fs::read_dir(state.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(names.is_empty(), "temporaries left: {names:?}");
}

#[test]
fn an_unreadable_sub_folder_is_reported_and_left_whole() {
    // As root every folder is readable; the check runs as `nobody`.
    if !Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        crate::util::skip::not_exercised("setpriv is missing");
        return;
    }
    let r = Recording::newer_client(NEWER);
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(r.root.path())
        .status()
        .unwrap();
    assert!(chown.success());
    use std::os::unix::fs::PermissionsExt;
    let sub = r.dir.join("Audio Record");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_recpipe"))
        .args(["check", "--settle", "0s"])
        .arg(&r.dir);
    let out = within(cmd, Duration::from_secs(60));
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(text.contains("Permission denied"), "{text}");
    // Still all there.
    assert_eq!(
        snapshot(&r.dir).len(),
        6,
        "{:?}",
        snapshot(&r.dir).iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
}

#[test]
fn stale_journal_temporaries_are_removed_and_the_state_folder_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new(&World::dir_destination(), "");
    let journals = w.path("state/journals");
    fs::create_dir_all(&journals).unwrap();
    fs::set_permissions(w.path("state"), fs::Permissions::from_mode(0o755)).unwrap();
    let leak = format!("{{\"source\": \"{}\"", w.recording().display());
    let stale = [
        journals.join(".recpipe-tmp-0123456789abcdef.json.a1B2c3"),
        journals.join("0123456789abcdef.json.tmp-00aa11bb22cc"),
    ];
    for p in &stale {
        fs::write(p, &leak).unwrap();
    }
    let out = within(w.command(), Duration::from_secs(300));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for p in &stale {
        assert!(!p.exists(), "{} is left", p.display());
    }
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&w.path("state")), 0o700);
    for e in fs::read_dir(w.path("state/done")).unwrap().flatten() {
        assert_eq!(mode(&e.path()), 0o600, "{}", e.path().display());
    }
    assert_eq!(
        w.delivered(&w.path("out")).len(),
        5,
        "and the run did its work"
    );
}
