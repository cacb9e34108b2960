//! Key, secret and list files that are not regular files (issue 26 item
//! 4): a FIFO with no writer, `/dev/zero`, a file far too large. Each is
//! refused at once, with a message naming the file and what it is, and
//! nothing is sealed, decrypted, uploaded or removed.
#![cfg(unix)]

use crate::util::sshd;
use recpipe::config::{self, TsdAuth};
use recpipe::destination::sftp::SftpDestination;
use recpipe::destination::{self, DestError, ErrorClass, NoTerminal, RetryPolicy};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    p
}

/// Runs recpipe in `dir`, killing it (and failing) if it is still running
/// after 20 s: a FIFO must never hold it.
fn recpipe(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            panic!("recpipe {args:?} hangs on a file that is not a regular file");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn identity_and_recipients_files_that_are_not_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = recpipe(d, &["keygen", "-o", "id"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recipient = String::from_utf8_lossy(&o.stdout).trim().to_string();
    std::fs::write(d.join("plain"), b"data").unwrap();
    fifo(d, "fifo");
    for (what, args) in [
        ("recipients FIFO", vec!["seal", "-R", "fifo", "plain"]),
        (
            "recipients /dev/zero",
            vec!["seal", "-R", "/dev/zero", "plain"],
        ),
    ] {
        let o = recpipe(d, &args);
        assert_ne!(o.status.code(), Some(0), "{what}");
        let err = stderr(&o);
        assert!(err.contains("not a regular file"), "{what}: {err}");
        assert!(!d.join("plain.sealed").exists(), "{what}: sealed anyway");
    }
    let o = recpipe(d, &["seal", "-r", &recipient, "plain"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (what, id) in [
        ("identity FIFO", "fifo"),
        ("identity /dev/zero", "/dev/zero"),
    ] {
        let o = recpipe(d, &["decrypt", "-i", id, "-o", "out/", "plain.sealed"]);
        assert_ne!(o.status.code(), Some(0), "{what}");
        let err = stderr(&o);
        assert!(err.contains("not a regular file"), "{what}: {err}");
        assert!(!d.join("out").join("plain").exists(), "{what}");
    }
    // A pipeline file that is a FIFO.
    let o = recpipe(d, &["pipeline", "check", "fifo"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("named pipe"), "{}", stderr(&o));
    // The sealed file and the plain one are where they were.
    assert_eq!(std::fs::read(d.join("plain")).unwrap(), b"data");
    assert!(d.join("plain.sealed").exists());
}

#[test]
fn known_hosts_and_key_files_that_are_not_files_are_refused_at_once() {
    let s = sshd::Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let kh = fifo(dir.path(), "known_hosts");
    for (what, known_hosts, identity) in [
        ("known_hosts FIFO", kh.clone(), Some(s.client_key.clone())),
        (
            "known_hosts /dev/zero",
            PathBuf::from("/dev/zero"),
            Some(s.client_key.clone()),
        ),
        (
            "identity /dev/zero",
            s.known_hosts(),
            Some(PathBuf::from("/dev/zero")),
        ),
        (
            "identity FIFO",
            s.known_hosts(),
            Some(fifo(dir.path(), "id_fifo")),
        ),
    ] {
        let mut t = s.target(s.port, known_hosts, &s.files.join("up"));
        t.identity_file = identity;
        let started = Instant::now();
        let err = SftpDestination::connect(&t, &NoTerminal)
            .err()
            .unwrap_or_else(|| panic!("{what}: connected"));
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        assert_eq!(err.class(), ErrorClass::Permanent, "{what}: {err}");
        let text = err.to_string();
        assert!(text.contains("not a regular file"), "{what}: {text}");
        assert!(
            matches!(
                err,
                DestError::KnownHosts { .. } | DestError::KeyFile { .. }
            ),
            "{what}: {err:?}"
        );
    }
    assert!(!s.files.join("up").exists(), "something was written");
}

#[test]
fn tsd_key_and_secret_files_that_are_not_files_are_refused_at_once() {
    static STOP: AtomicBool = AtomicBool::new(false);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'k'; 100 << 10]).unwrap();
    for (what, key, needle) in [
        ("api key FIFO", fifo(dir.path(), "key"), "named pipe"),
        (
            "api key /dev/zero",
            PathBuf::from("/dev/zero"),
            "not a regular file",
        ),
        ("api key of 100 KiB", big, "larger than 64 KiB"),
    ] {
        let cfg = config::Tsd {
            project: "p11".into(),
            // Nothing listens here: the file is refused before any request.
            url: "http://127.0.0.1:9".into(),
            group: "p11-member-group".into(),
            path: String::new(),
            auth: TsdAuth::Basic,
            api_key_file: key,
            chunk_size: config::TSD_DEFAULT_CHUNK_SIZE,
            verify: config::VerifyMode::ChunkMd5,
        };
        let policy = RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        };
        let started = Instant::now();
        let err = destination::open(
            &config::Destination::Tsd(cfg),
            &NoTerminal,
            policy,
            &STOP,
            &mut |_| {},
        )
        .err()
        .unwrap_or_else(|| panic!("{what}: opened"));
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        assert!(matches!(err, DestError::KeyFile { .. }), "{what}: {err}");
        assert!(err.to_string().contains(needle), "{what}: {err}");
    }
}
