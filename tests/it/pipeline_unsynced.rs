//! The fsync rule for red data (issue 26 item 7, docs/destinations.md):
//! when the server cannot sync an upload to its disk (OpenSSH's
//! `sftp-server -P fsync`), the interim copy of a red recording is removed
//! only after `[cleanup] unsynced_wait` has passed and every such output
//! was read back again. A crash at that point keeps the interim copy, and
//! the rerun finishes; a server that syncs costs no wait.
#![cfg(unix)]

use crate::util::sshd;
use crate::util::world::{World, check_delivery};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn destination(server: &sshd::Sshd) -> (String, PathBuf) {
    let dest = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npath = \"{}\"\nknown_hosts = \"{}\"\nidentity_file = \"{}\"\n",
        server.port,
        server.user,
        server.files.join("interviews").display(),
        server.known_hosts().display(),
        server.client_key.display()
    );
    (dest, server.files.join("interviews"))
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn without_fsync_a_red_recordings_interim_copy_waits_and_is_read_back_again() {
    let server = sshd::Sshd::start_with(sshd::Options {
        sftp_flags: vec!["-P".into(), "fsync".into()],
        log_sftp_requests: false,
        ..Default::default()
    });
    let (dest, delivered) = destination(&server);
    let w = World::new(&dest, "unsynced_wait = \"3s\"");
    // Killed right after the wait, before the second read-back: the
    // interim copy is still there, every output already delivered.
    let out = w.run_with_fault("unsynced-wait");
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        w.recording().exists(),
        "the interim copy went: {}",
        text(&out)
    );
    assert_eq!(w.delivered(&delivered).len(), 4, "{}", text(&out));
    // The rerun waits again, reads back, and finishes.
    let started = Instant::now();
    let out = w.run();
    let took = started.elapsed();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("could not sync 4 output(s)"), "{t}");
    assert!(t.contains("waits 3 s"), "{t}");
    assert!(took >= Duration::from_secs(3), "did not wait: {took:?}");
    check_delivery(&w, &w.delivered(&delivered));
    assert!(!w.recording().exists(), "the interim copy is still there");
}

#[test]
fn a_server_that_syncs_costs_no_wait() {
    let server = sshd::Sshd::start();
    let (dest, delivered) = destination(&server);
    let w = World::new(&dest, "unsynced_wait = \"1h\"");
    let out = w.run();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(!t.contains("could not sync"), "{t}");
    check_delivery(&w, &w.delivered(&delivered));
    assert!(!w.recording().exists());
}
