//! SFTP host-key checking against a real OpenSSH sshd on 127.0.0.1: an
//! unknown key (refused, with its fingerprint as `ssh-keygen -l` prints
//! it), a mismatched one, plain or hashed; a revoked key; a
//! `@cert-authority` line, which is never trust; hashed and `[host]:port`
//! entries.
//!
//! Unix-only: these tests start OpenSSH's `sshd`, which the Windows test run
//! under Wine cannot.
#![cfg(unix)]

use crate::util::sshd;
use recpipe::destination::sftp::{SftpDestination, Target};
use recpipe::destination::{DestError, ErrorClass, NoTerminal};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target of the test's server, uploading to its `files/up`.
fn target(s: &sshd::Sshd, port: u16, known_hosts: PathBuf) -> Target {
    s.target(port, known_hosts, &s.files.join("up"))
}

fn connect(t: &Target) -> Result<SftpDestination, DestError> {
    SftpDestination::connect(t, &NoTerminal)
}

/// OpenSSH's own fingerprint of a public key file: the oracle for ours.
fn ssh_keygen_fingerprint(pub_file: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(pub_file)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().nth(1).unwrap().to_string()
}

fn host_fingerprint(s: &sshd::Sshd) -> String {
    ssh_keygen_fingerprint(&s.dir.path().join("host_ed25519.pub"))
}

/// A key that is not the server's, as a `TYPE BASE64` string.
fn other_key(dir: &Path) -> String {
    let path = dir.join("other_key");
    sshd::keygen(&path, "");
    sshd::public_key_text(&path.with_extension("pub"))
}

/// Hashes every host name in a known_hosts file with OpenSSH's own tool.
fn hash_known_hosts(path: &Path) {
    let out = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("|1|"), "not hashed: {text}");
}

#[test]
fn an_unknown_host_key_is_refused_with_its_fingerprint() {
    let s = sshd::Sshd::start();
    let missing = s.dir.path().join("no-such-known_hosts");
    let others = s.dir.path().join("others");
    std::fs::write(&others, format!("otherhost {}\n# comment\n", s.host_key)).unwrap();
    for kh in [missing, others] {
        let err = connect(&target(&s, s.port, kh.clone()))
            .err()
            .expect("refused");
        match &err {
            DestError::UnknownHostKey {
                fingerprint,
                key_type,
                ..
            } => {
                assert_eq!(fingerprint, &host_fingerprint(&s));
                assert_eq!(key_type, "ssh-ed25519");
            }
            other => panic!("expected UnknownHostKey, got {other}"),
        }
        assert_eq!(err.class(), ErrorClass::Permanent);
        let msg = err.to_string();
        assert!(msg.contains(&host_fingerprint(&s)), "{msg}");
        assert!(msg.contains("recpipe trust-host 127.0.0.1:"), "{msg}");
    }
    assert!(
        !s.files.join("up").exists(),
        "nothing may happen before the key is trusted"
    );
}

#[test]
fn a_mismatched_host_key_is_refused_plain_or_hashed() {
    let s = sshd::Sshd::start();
    let kh = s.dir.path().join("kh");
    std::fs::write(
        &kh,
        format!("[127.0.0.1]:{} {}\n", s.port, other_key(s.dir.path())),
    )
    .unwrap();
    let err = connect(&target(&s, s.port, kh.clone())).err().unwrap();
    assert!(matches!(err, DestError::HostKeyMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&host_fingerprint(&s)), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);

    hash_known_hosts(&kh);
    let err = connect(&target(&s, s.port, kh)).err().unwrap();
    assert!(matches!(err, DestError::HostKeyMismatch { .. }), "{err}");
}

/// Issue 13 item 3: a key marked `@revoked` is refused even when a plain
/// line trusts it (as OpenSSH refuses it; `ssh` is the oracle), and says so.
#[test]
fn a_revoked_host_key_is_refused_even_beside_a_line_that_trusts_it() {
    let s = sshd::Sshd::start();
    let kh = s.dir.path().join("kh");
    std::fs::write(
        &kh,
        format!("@revoked * {}\n{}", s.host_key, s.known_hosts_line(s.port)),
    )
    .unwrap();
    let err = connect(&target(&s, s.port, kh.clone())).err().unwrap();
    assert!(matches!(err, DestError::HostKeyRevoked { .. }), "{err}");
    assert!(err.to_string().contains("@revoked"), "{err}");
    assert!(err.to_string().contains(&host_fingerprint(&s)), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    // OpenSSH refuses the same file.
    let out = Command::new("ssh")
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .arg("-i")
        .arg(&s.client_key)
        .args(["-p", &s.port.to_string(), "127.0.0.1", "true"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("REVOKED"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Hashing the plain line changes nothing.
    hash_known_hosts_keeping_markers(&kh);
    let err = connect(&target(&s, s.port, kh)).err().unwrap();
    assert!(matches!(err, DestError::HostKeyRevoked { .. }), "{err}");
}

/// `ssh-keygen -H` refuses files with marker lines, so hash the plain line
/// alone and put the marker back.
fn hash_known_hosts_keeping_markers(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let (markers, plain): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('@'));
    std::fs::write(path, plain.join("\n") + "\n").unwrap();
    hash_known_hosts(path);
    let hashed = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, markers.join("\n") + "\n" + &hashed).unwrap();
}

/// `@cert-authority` lines are never trust: recpipe does not check host
/// certificates, so the server's own key as a "CA" leaves it unknown.
#[test]
fn a_cert_authority_line_is_never_trust() {
    let s = sshd::Sshd::start();
    let kh = s.dir.path().join("kh");
    std::fs::write(
        &kh,
        format!("@cert-authority [127.0.0.1]:{},* {}\n", s.port, s.host_key),
    )
    .unwrap();
    let err = connect(&target(&s, s.port, kh)).err().unwrap();
    assert!(matches!(err, DestError::UnknownHostKey { .. }), "{err}");
}

#[test]
fn hashed_and_bracketed_port_entries_are_recognised() {
    let s = sshd::Sshd::start();
    // A plain [host]:port entry, among lines libssh2 cannot parse.
    let kh = s.dir.path().join("kh");
    std::fs::write(
        &kh,
        format!(
            "@cert-authority *.example ssh-ed25519 AAAA\nbroken line\n{}",
            s.known_hosts_line(s.port)
        ),
    )
    .unwrap();
    connect(&target(&s, s.port, kh.clone())).unwrap();
    // The same entry, hashed by ssh-keygen -H.
    std::fs::write(&kh, s.known_hosts_line(s.port)).unwrap();
    hash_known_hosts(&kh);
    connect(&target(&s, s.port, kh.clone())).unwrap();
    // An entry for another port of the same host does not vouch for this one.
    std::fs::write(&kh, s.known_hosts_line(s.port.wrapping_add(1))).unwrap();
    let err = connect(&target(&s, s.port, kh.clone())).err().unwrap();
    assert!(matches!(err, DestError::UnknownHostKey { .. }), "{err}");
    hash_known_hosts(&kh);
    let err = connect(&target(&s, s.port, kh)).err().unwrap();
    assert!(matches!(err, DestError::UnknownHostKey { .. }), "{err}");
}
