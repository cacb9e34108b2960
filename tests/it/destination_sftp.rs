//! SFTP-only behaviour against a real OpenSSH sshd on 127.0.0.1: host-key
//! checking (unknown, mismatched, hashed, `[host]:port`), login (key file,
//! passphrase, wrong key, no terminal), server-side refusals, and uploads
//! that survive a cut connection or a killed server.
//!
//! Unix-only: these tests start OpenSSH's `sshd`, which the Windows test run
//! under Wine cannot.
#![cfg(unix)]

use crate::util::sshd;

use crate::util::payload::random_file;
use recpipe::config::{self, VerifyMode};
use recpipe::destination::sftp::{SftpDestination, Target};
use recpipe::destination::{
    self, DestError, Destination, ErrorClass, NoTerminal, Notice, PromptError, Prompter,
    RetryPolicy, Retrying, Secret, Sent,
};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

static NO_STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn target(s: &sshd::Sshd, port: u16, known_hosts: PathBuf) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port,
        user: s.user.clone(),
        path: s.files.join("up").display().to_string(),
        known_hosts,
        identity_file: Some(s.client_key.clone()),
        timeout: Duration::from_secs(10),
    }
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

/// Answers questions from a script, and remembers what was asked.
struct Scripted {
    answers: RefCell<Vec<String>>,
    asked: RefCell<Vec<(String, bool)>>,
    /// Each `fetch_person` call: the destination it named.
    fetched: RefCell<Vec<String>>,
    /// How long fetching the person takes, and what it then says.
    fetch: (Duration, bool),
}

impl Scripted {
    fn new(answers: &[&str]) -> Scripted {
        Scripted {
            answers: RefCell::new(answers.iter().rev().map(|s| s.to_string()).collect()),
            asked: RefCell::new(Vec::new()),
            fetched: RefCell::new(Vec::new()),
            fetch: (Duration::ZERO, false),
        }
    }

    /// A person who comes to the desk after `wait`; `waited` is what the
    /// prompter then reports.
    fn away(answers: &[&str], wait: Duration, waited: bool) -> Scripted {
        Scripted {
            fetch: (wait, waited),
            ..Scripted::new(answers)
        }
    }
}

impl Prompter for Scripted {
    fn ask(&self, question: &str, echo: bool) -> Result<Secret, PromptError> {
        self.asked.borrow_mut().push((question.to_string(), echo));
        self.answers
            .borrow_mut()
            .pop()
            .map(Secret::new)
            .ok_or(PromptError::Declined)
    }

    fn fetch_person(&self, destination: &str) -> Result<bool, PromptError> {
        assert!(
            self.asked.borrow().is_empty(),
            "the person is fetched before any question"
        );
        self.fetched.borrow_mut().push(destination.to_string());
        std::thread::sleep(self.fetch.0);
        Ok(self.fetch.1)
    }
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

#[test]
fn a_wrong_or_missing_key_is_refused() {
    let s = sshd::Sshd::start();
    let mut t = target(&s, s.port, s.known_hosts());
    let wrong = s.dir.path().join("wrong");
    sshd::keygen(&wrong, "");
    t.identity_file = Some(wrong);
    let err = connect(&t).err().unwrap();
    assert!(matches!(err, DestError::LoginRefused { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("key file"), "{err}");

    t.identity_file = Some(s.dir.path().join("absent"));
    let err = connect(&t).err().unwrap();
    assert!(matches!(err, DestError::KeyFile { .. }), "{err}");
}

#[test]
fn a_key_passphrase_is_asked_for_and_never_shown() {
    let s = sshd::Sshd::start();
    let key = s.dir.path().join("locked");
    sshd::keygen(&key, "correct horse");
    let authorized = s.dir.path().join("authorized_keys");
    let mut keys = std::fs::read_to_string(&authorized).unwrap();
    keys.push_str(&std::fs::read_to_string(key.with_extension("pub")).unwrap());
    std::fs::write(&authorized, keys).unwrap();
    let mut t = target(&s, s.port, s.known_hosts());
    t.identity_file = Some(key.clone());

    // Nobody at a terminal: the distinct "needs interactive login" state.
    let err = connect(&t).err().unwrap();
    assert!(
        matches!(err, DestError::NeedsInteractiveLogin { .. }),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::NeedsInteractiveLogin);
    assert!(err.to_string().contains("recpipe run"), "{err}");

    // Someone types it: fetched first, asked once, without echo, and the
    // login works.
    let p = Scripted::new(&["correct horse"]);
    SftpDestination::connect(&t, &p).unwrap();
    assert_eq!(*p.fetched.borrow(), [format!("{}@127.0.0.1", s.user)]);
    let asked = p.asked.borrow();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].0.contains("Passphrase") && !asked[0].1,
        "{asked:?}"
    );

    // A wrong passphrase: a clear error that does not repeat it.
    let p = Scripted::new(&["battery staple"]);
    let err = SftpDestination::connect(&t, &p).err().unwrap();
    assert!(matches!(err, DestError::KeyFile { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains("battery"), "{err}");
}

#[test]
fn without_a_usable_method_the_login_is_refused_saying_what_was_offered() {
    // This server offers only publickey, and no key is configured.
    let s = sshd::Sshd::start();
    let mut t = target(&s, s.port, s.known_hosts());
    t.identity_file = None;
    let err = connect(&t).err().unwrap();
    // ssh-agent is tried (and has nothing here), then nothing is left.
    assert!(matches!(err, DestError::LoginRefused { .. }), "{err}");
    assert!(err.to_string().contains("publickey"), "{err}");
}

#[test]
fn keyboard_interactive_password_and_one_time_code() {
    if sshd::skip_without_pam("keyboard-interactive login with a one-time code") {
        return;
    }
    let s = sshd::Sshd::start_with(sshd::Options {
        pam: Some(sshd::PamLogin {
            password: "open sesame".into(),
            codes: vec!["12345678".into(), "87654321".into()],
        }),
        ..Default::default()
    });
    let mut t = target(&s, s.port, s.known_hosts());
    t.identity_file = None;

    // A scheduled job: nobody to ask, so the distinct waiting state.
    let err = connect(&t).err().unwrap();
    assert!(
        matches!(err, DestError::NeedsInteractiveLogin { .. }),
        "{err}"
    );

    // A person answers both questions, hidden: logged in, and it uploads.
    let p = Scripted::new(&["open sesame", "12345678"]);
    let mut d =
        SftpDestination::connect(&t, &p).unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", s.log()));
    {
        let asked = p.asked.borrow();
        assert_eq!(asked.len(), 2, "{asked:?}");
        assert!(asked[0].0.contains("Password"), "{asked:?}");
        assert!(asked[1].0.contains("Verification code"), "{asked:?}");
        assert!(asked.iter().all(|(_, echo)| !echo), "{asked:?}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "sealed.age", 50_000, 7);
    destination::send(
        &mut d,
        &local,
        "otp.age",
        &e,
        VerifyMode::Readback,
        &mut |_| {},
    )
    .unwrap();
    drop(d);

    // A one-time code works once.
    let p = Scripted::new(&["open sesame", "12345678"]);
    let err = SftpDestination::connect(&t, &p).err().unwrap();
    assert!(matches!(err, DestError::LoginRefused { .. }), "{err}");
    // A wrong password is refused, and neither answer shows in the error.
    let p = Scripted::new(&["not-it-42", "87654321"]);
    let err = SftpDestination::connect(&t, &p).err().unwrap();
    assert!(matches!(err, DestError::LoginRefused { .. }), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("not-it-42") && !shown.contains("87654321"),
        "{shown}"
    );
}

/// A key that needs nothing typed never fetches the person.
#[test]
fn a_login_without_questions_fetches_nobody() {
    let s = sshd::Sshd::start();
    let t = target(&s, s.port, s.known_hosts());
    let p = Scripted::new(&[]);
    SftpDestination::connect(&t, &p).unwrap();
    assert!(p.fetched.borrow().is_empty());
    assert!(p.asked.borrow().is_empty());
}

/// `watch` finds a recording while nobody is at the desk: the person is
/// fetched before the login's questions, and a wait longer than the
/// server's login time (here 2 s) goes on over a new connection.
#[test]
fn a_person_fetched_after_the_servers_login_time_still_logs_in() {
    if sshd::skip_without_pam("fetching the person for a one-time code") {
        return;
    }
    let s = sshd::Sshd::start_with(sshd::Options {
        pam: Some(sshd::PamLogin {
            password: "open sesame".into(),
            codes: vec!["12345678".into(), "87654321".into()],
        }),
        extra: vec!["LoginGraceTime 2".into()],
        ..Default::default()
    });
    let mut t = target(&s, s.port, s.known_hosts());
    t.identity_file = None;
    let away = Duration::from_secs(4);

    // Came back late and logged in on a new connection.
    let p = Scripted::away(&["open sesame", "12345678"], away, true);
    SftpDestination::connect(&t, &p).unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", s.log()));
    assert_eq!(p.fetched.borrow().len(), 1);
    assert_eq!(p.asked.borrow().len(), 2);

    // The same wait on the first connection fails: the server dropped it,
    // so the new connection above is what made the login work.
    let p = Scripted::away(&["open sesame", "87654321"], away, false);
    let err = SftpDestination::connect(&t, &p).err().unwrap();
    assert!(
        !matches!(err, DestError::NeedsInteractiveLogin { .. }),
        "{err}"
    );
}

#[test]
fn a_read_only_server_gives_permission_denied_and_nothing_is_lost() {
    let s = sshd::Sshd::start_with(sshd::Options {
        read_only: true,
        ..Default::default()
    });
    std::fs::create_dir(s.files.join("up")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "sealed.age", 100_000, 7);
    let mut d = connect(&target(&s, s.port, s.known_hosts())).unwrap();
    let err = destination::send(
        &mut d,
        &local,
        "a.age",
        &e,
        VerifyMode::Readback,
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    assert!(err.to_string().contains("permission denied"), "{err}");
    assert!(local.exists());
    assert_eq!(std::fs::read_dir(s.files.join("up")).unwrap().count(), 0);
}

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(400),
    }
}

#[test]
fn a_connection_cut_mid_file_is_resumed() {
    let s = sshd::Sshd::start();
    // The first connection through the relay dies after 6 MB.
    let relay = sshd::Relay::start(s.port, Some(6_000_000));
    let t = target(&s, relay.port, {
        let kh = s.dir.path().join("kh-relay");
        std::fs::write(&kh, s.known_hosts_line(relay.port)).unwrap();
        kh
    });
    let tmp = tempfile::tempdir().unwrap();
    let len = 8_000_999;
    let (local, e) = random_file(tmp.path(), "sealed.age", len, 7);
    let mut retries = 0;
    let mut positions = Vec::new();
    let sent = {
        let mut d = Retrying::new(Box::new(|| Ok(Box::new(connect(&t)?) as _)), quick(4))
            .unwrap()
            .on_notice(|n| {
                if matches!(n, Notice::Retry(_)) {
                    retries += 1
                }
            });
        destination::send(
            &mut d,
            &local,
            "cut.age",
            &e,
            VerifyMode::Readback,
            &mut |p| positions.push(p),
        )
        .unwrap()
    };
    assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    assert_eq!(retries, 1);
    assert_eq!(relay.connections(), 2);
    // After the cut the upload continued from what had arrived, not from 0:
    // positions only grow, and the relay carried the file once plus what
    // was in flight at the cut (up to the server's 2 MiB window) and SSH's
    // framing, less than the 6 MB before the cut plus the whole file again.
    assert!(positions.windows(2).all(|w| w[1] > w[0]), "{positions:?}");
    assert!(
        relay.forwarded() < (len + 4_000_000) as u64,
        "{}",
        relay.forwarded()
    );
    assert_eq!(
        std::fs::read(s.files.join("up/cut.age")).unwrap(),
        std::fs::read(&local).unwrap()
    );
}

#[test]
fn a_killed_server_is_reconnected_to_and_the_upload_resumed() {
    let mut s = sshd::Sshd::start();
    let t = target(&s, s.port, s.known_hosts());
    let tmp = tempfile::tempdir().unwrap();
    let len = 10 * destination::CHUNK;
    let (local, e) = random_file(tmp.path(), "sealed.age", len, 7);
    let sshd = RefCell::new(&mut s);
    let mut killed_at = None;
    let mut positions = Vec::new();
    let mut retries = 0;
    let sent = {
        let mut d = Retrying::new(Box::new(|| Ok(Box::new(connect(&t)?) as _)), quick(5))
            .unwrap()
            .on_notice(|n| {
                if matches!(n, Notice::Retry(_)) {
                    retries += 1
                }
            });
        destination::send(
            &mut d,
            &local,
            "k.age",
            &e,
            VerifyMode::Readback,
            &mut |p| {
                positions.push(p);
                if killed_at.is_none() && p >= 4 * destination::CHUNK as u64 {
                    killed_at = Some(p);
                    sshd.borrow_mut().restart();
                }
            },
        )
        .unwrap()
    };
    assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    assert!(killed_at.is_some());
    assert_eq!(retries, 1);
    // Resumed, not restarted: a restart from 0 would report 1 MiB again.
    assert!(positions.windows(2).all(|w| w[1] > w[0]), "{positions:?}");
    let s = sshd.into_inner();
    assert_eq!(
        std::fs::read(s.files.join("up/k.age")).unwrap(),
        std::fs::read(&local).unwrap()
    );
}

#[test]
fn a_dead_server_is_retried_a_bounded_number_of_times() {
    let mut s = sshd::Sshd::start();
    let t = target(&s, s.port, s.known_hosts());
    s.kill();
    let opens = std::cell::Cell::new(0);
    let started = Instant::now();
    let err = Retrying::new(
        Box::new(|| {
            opens.set(opens.get() + 1);
            Ok(Box::new(connect(&t)?) as _)
        }),
        quick(3),
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, DestError::GaveUp { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(opens.get(), 3);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn open_builds_a_retrying_destination_from_the_pipeline_config() {
    let s = sshd::Sshd::start();
    let cfg = config::Destination::Sftp {
        host: "127.0.0.1".into(),
        port: s.port,
        user: s.user.clone(),
        path: s.files.join("from-config").display().to_string(),
        known_hosts: s.known_hosts(),
        identity_file: Some(s.client_key.clone()),
        verify: VerifyMode::Readback,
    };
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "sealed.age", 12345, 7);
    let mut d = destination::open(
        &cfg,
        &NoTerminal,
        RetryPolicy::default(),
        &NO_STOP,
        &mut |_| {},
    )
    .unwrap();
    assert!(d.location().starts_with("sftp://"), "{}", d.location());
    destination::send(&mut d, &local, "c.age", &e, cfg.verify(), &mut |_| {}).unwrap();
    assert!(s.files.join("from-config/c.age").is_file());

    let cfg = config::Destination::Dir {
        path: tmp.path().join("dest"),
        verify: VerifyMode::Size,
    };
    let mut d = destination::open(
        &cfg,
        &NoTerminal,
        RetryPolicy::default(),
        &NO_STOP,
        &mut |_| {},
    )
    .unwrap();
    destination::send(&mut d, &local, "c.age", &e, cfg.verify(), &mut |_| {}).unwrap();
    assert!(tmp.path().join("dest/c.age").is_file());
}
