//! A second SFTP server implementation: rclone's `serve sftp` (Go's
//! pkg/sftp over rclone's VFS, from Debian). Its plain rename replaces an
//! existing file, and its listing is cached, so a file put at a final name
//! behind its back is invisible to any look recpipe takes first: "never
//! replaces" cannot be kept there by the client. recpipe finds this out at
//! connect time (two scratch files, one renamed onto the other) and
//! refuses the route; these tests show it, each ending with the invariant:
//! the recording intact where it was, nothing at the destination replaced,
//! the report true.
//!
//! The conformance suite cannot run its upload checks against rclone for
//! the same reason: every connection is refused before an upload starts
//! (`a_connection_to_rclone_is_refused_before_anything_is_written` is its
//! check here).
#![cfg(unix)]

use crate::util::rclone::Rclone;
use crate::util::world::{World, same_tree};
use recpipe::destination::sftp::SftpDestination;
use recpipe::destination::{DestError, ErrorClass, NoTerminal};

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_connection_to_rclone_is_refused_before_anything_is_written() {
    let Some(r) = Rclone::start() else {
        return;
    };
    let up = r.files.join("up");
    std::fs::create_dir(&up).unwrap();
    let t = r.target("up");
    // Warm the server's listing of `up`, then put a file there behind its
    // back: the cached listing does not show it.
    let first = SftpDestination::connect(&t, &NoTerminal);
    std::fs::write(up.join("r.sealed"), b"someone else's file").unwrap();
    let err = SftpDestination::connect(&t, &NoTerminal)
        .err()
        .expect("rclone's route is refused");
    for e in [first.err().expect("refused the first time too"), err] {
        assert!(matches!(e, DestError::RenameReplaces { .. }), "{e}");
        assert_eq!(e.class(), ErrorClass::Permanent, "{e}");
        let text = e.to_string();
        assert!(text.contains("replaces an existing file"), "{text}");
        assert!(text.contains("does not upload there"), "{text}");
    }
    // Nothing replaced, the scratch files of the check removed.
    assert_eq!(files_in(&up), vec!["r.sealed".to_string()], "{}", r.log());
    assert_eq!(
        std::fs::read(up.join("r.sealed")).unwrap(),
        b"someone else's file"
    );
}

#[test]
fn a_run_to_rclone_keeps_the_recording_and_says_why() {
    let Some(r) = Rclone::start() else {
        return;
    };
    let t = r.target("interviews");
    let dest = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npath = \"interviews\"\nknown_hosts = \"{}\"\nidentity_file = \"{}\"\nverify = \"readback\"\n",
        t.port,
        t.user,
        t.known_hosts.display(),
        t.identity_file.as_ref().unwrap().display()
    );
    let w = World::new(&dest, "");
    let before = tempfile::tempdir().unwrap();
    crate::util::world::copy_dir(&w.recording(), before.path());
    let out = w.run();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("replaces an existing file"), "{text}");
    assert!(!text.contains(": done"), "{text}");
    // The recording is intact where it was; nothing reached the server.
    assert!(same_tree(before.path(), &w.recording()), "{text}");
    let delivered = r.files.join("interviews");
    let left = if delivered.exists() {
        files_in(&delivered)
    } else {
        Vec::new()
    };
    assert!(left.is_empty(), "{left:?}");
}
