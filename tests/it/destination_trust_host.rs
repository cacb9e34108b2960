//! `recpipe trust-host` against a real sshd: it shows OpenSSH's fingerprint,
//! adds the key only with `--yes` (there is no terminal in tests to confirm
//! on), leaves a known key alone and never replaces a different one; and
//! the file it writes is one recpipe's SFTP destination then trusts.
//!
//! The tests that start OpenSSH's `sshd` are Unix-only: the Windows test
//! run under Wine cannot start it. The unreachable server runs everywhere.

#[cfg(unix)]
use crate::util::sshd;

#[cfg(unix)]
use recpipe::destination::NoTerminal;
#[cfg(unix)]
use recpipe::destination::sftp::{SftpDestination, Target};
#[cfg(unix)]
use std::path::Path;
use std::process::{Command, Output, Stdio};
#[cfg(unix)]
use std::time::Duration;

fn trust_host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .arg("trust-host")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[cfg(unix)]
fn fingerprint(pub_file: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(pub_file)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[cfg(unix)]
#[test]
fn trust_host_adds_the_key_only_when_confirmed_and_recpipe_then_connects() {
    let s = sshd::Sshd::start();
    let fp = fingerprint(&s.dir.path().join("host_ed25519.pub"));
    let kh = s.dir.path().join("ssh/known_hosts");
    let kh_arg = kh.to_str().unwrap();
    let host = format!("127.0.0.1:{}", s.port);

    // No terminal, no --yes: fingerprint shown, nothing written.
    let out = trust_host(&[&host, "--known-hosts", kh_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains(&fp), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(!kh.exists());

    // With --yes it is added, as OpenSSH writes a non-22 port.
    let out = trust_host(&[&host, "--known-hosts", kh_arg, "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(text, format!("[127.0.0.1]:{} {}\n", s.port, s.host_key));

    // Again: already trusted, file unchanged.
    let out = trust_host(&[&host, "--known-hosts", kh_arg, "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already trusted"));
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), text);

    // OpenSSH's own client accepts the file recpipe wrote ...
    let ssh = Command::new("ssh-keygen")
        .args(["-F", &format!("[127.0.0.1]:{}", s.port), "-f", kh_arg])
        .output()
        .unwrap();
    assert!(ssh.status.success());
    // ... and so does recpipe's SFTP destination.
    let t = Target {
        host: "127.0.0.1".into(),
        port: s.port,
        user: s.user.clone(),
        path: s.files.join("up").display().to_string(),
        known_hosts: kh.clone(),
        identity_file: Some(s.client_key.clone()),
        timeout: Duration::from_secs(10),
    };
    SftpDestination::connect(&t, &NoTerminal).unwrap();
}

#[cfg(unix)]
#[test]
fn trust_host_never_replaces_a_different_key() {
    let s = sshd::Sshd::start();
    let other = s.dir.path().join("other");
    sshd::keygen(&other, "");
    let kh = s.dir.path().join("known_hosts");
    let line = format!(
        "[127.0.0.1]:{} {}\n",
        s.port,
        sshd::public_key_text(&other.with_extension("pub"))
    );
    std::fs::write(&kh, &line).unwrap();
    let out = trust_host(&[
        &format!("[127.0.0.1]:{}", s.port),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DIFFERENT"));
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), line);
}

#[cfg(unix)]
#[test]
fn trust_host_check_login_without_a_terminal_reports_waiting() {
    let s = sshd::Sshd::start();
    let locked = s.dir.path().join("locked");
    sshd::keygen(&locked, "secret words");
    let kh = s.dir.path().join("known_hosts");
    let out = trust_host(&[
        &format!("127.0.0.1:{}", s.port),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--yes",
        "--login",
        &s.user,
        "--identity-file",
        locked.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("needs a person at a terminal"), "{stderr}");
}

#[test]
fn trust_host_reports_an_unreachable_server() {
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = trust_host(&[&format!("127.0.0.1:{port}"), "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

/// A key the file marks `@revoked` is never added (exit 4), even with --yes.
#[cfg(unix)]
#[test]
fn trust_host_never_adds_a_revoked_key() {
    let s = sshd::Sshd::start();
    let kh = s.dir.path().join("known_hosts");
    let revoked = format!("@revoked * {}\n", s.host_key);
    std::fs::write(&kh, &revoked).unwrap();
    let host = format!("127.0.0.1:{}", s.port);
    let out = trust_host(&[&host, "--known-hosts", kh.to_str().unwrap(), "--yes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("@revoked"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), revoked);
}
