//! The Windows build's SFTP against a real OpenSSH sshd: the libssh2 that
//! Windows users get (OpenSSL, vendored, for ed25519 and curve25519) checks
//! host keys and logs in with an ed25519 key. Under Wine in CI the server
//! runs on the Linux side (tests/it/util/wine_sshd.rs); uploads themselves
//! are covered by the conformance suite and the end-to-end run, which use
//! the same server on Windows.
#![cfg(windows)]

use crate::util::wine_sshd;

use recpipe::destination::sftp::{SftpDestination, Target};
use recpipe::destination::{DestError, Destination, ErrorClass, NoTerminal};
use std::path::PathBuf;
use std::time::Duration;

fn target(s: &wine_sshd::SharedSshd, known_hosts: PathBuf) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port: s.port,
        user: s.user.clone(),
        path: s.remote("up"),
        known_hosts,
        identity_file: Some(s.client_key.clone()),
        timeout: Duration::from_secs(20),
    }
}

#[test]
fn a_trusted_ed25519_host_key_and_key_login_connect() {
    let s = wine_sshd::SharedSshd::get();
    let mut d = SftpDestination::connect(&target(&s, s.known_hosts.clone()), &NoTerminal)
        .unwrap_or_else(|e| panic!("connect: {e}\nsshd log:\n{}", s.log()));
    assert_eq!(d.stat("nothing-here").unwrap(), None);
}

#[test]
fn an_unknown_or_mismatched_host_key_is_refused_with_its_fingerprint() {
    let s = wine_sshd::SharedSshd::get();
    let unknown = s.files.join("known_hosts-empty");
    std::fs::write(&unknown, "# nothing trusted\n").unwrap();
    let err = SftpDestination::connect(&target(&s, unknown), &NoTerminal)
        .err()
        .expect("refused");
    match &err {
        DestError::UnknownHostKey {
            fingerprint,
            key_type,
            ..
        } => {
            assert_eq!(fingerprint, &s.host_fingerprint);
            assert_eq!(key_type, "ssh-ed25519");
        }
        other => panic!("expected UnknownHostKey, got {other}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);

    let mismatched = s.files.join("known_hosts-other");
    std::fs::write(
        &mismatched,
        format!("[127.0.0.1]:{} {}\n", s.port, s.other_key),
    )
    .unwrap();
    let err = SftpDestination::connect(&target(&s, mismatched), &NoTerminal)
        .err()
        .expect("refused");
    assert!(matches!(err, DestError::HostKeyMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&s.host_fingerprint), "{err}");
    assert!(
        !s.files.join("up").exists(),
        "nothing may happen before the key is trusted"
    );
}
