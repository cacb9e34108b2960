//! SFTP-only behaviour against a real OpenSSH sshd on 127.0.0.1: login (key
//! file, passphrase, wrong key, no terminal, keyboard-interactive with a
//! one-time code, a person fetched to the desk), server-side refusals, and
//! uploads that survive a cut connection or a killed server; the bytes
//! delivered through libssh2's write pipeline (the sliding buffer, with
//! many partial acknowledgements) and its read-ahead. Host-key checking is
//! in `destination_sftp_host_keys.rs`.
//!
//! Unix-only: these tests start OpenSSH's `sshd`, which the Windows test run
//! under Wine cannot.
#![cfg(unix)]

use crate::util::sshd;

use crate::util::payload::random_file;
use recpipe::config::{self, VerifyMode};
use recpipe::destination::sftp::sliding::SlidingWriter;
use recpipe::destination::sftp::{Levers, SftpDestination, Target, session};
use recpipe::destination::{
    self, DestError, Destination, ErrorClass, NoTerminal, Notice, PromptError, Prompter,
    RetryPolicy, Retrying, Secret, Sent,
};
use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

static NO_STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The target of the test's server, uploading to its `files/up`.
fn target(s: &sshd::Sshd, port: u16, known_hosts: PathBuf) -> Target {
    s.target(port, known_hosts, &s.files.join("up"))
}

fn connect(t: &Target) -> Result<SftpDestination, DestError> {
    SftpDestination::connect(t, &NoTerminal)
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

/// Sizes around libssh2's 30,000-byte requests and recpipe's chunks, each
/// uploaded (through the sliding buffer, and as whole chunks) and read
/// back; the bytes on the server are compared with the local file.
#[test]
fn odd_sizes_arrive_whole_through_the_write_pipeline() {
    let s = sshd::Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    let chunk = destination::CHUNK;
    let sizes = [
        0,
        1,
        29_999,
        30_000,
        30_001,
        2 << 20,
        chunk - 1,
        chunk + 1,
        2 * chunk + 12_345,
    ];
    let all_on = Levers::default();
    let settings = [
        all_on,
        Levers {
            sliding_write: false,
        },
    ];
    for (i, levers) in settings.into_iter().enumerate() {
        let mut d = connect(&target(&s, s.port, s.known_hosts())).unwrap();
        d.set_levers(levers);
        for (j, len) in sizes.into_iter().enumerate() {
            let name = format!("f{i}-{len}.age");
            let (local, e) = random_file(tmp.path(), &name, len, (i * 100 + j) as u64);
            let mut positions = Vec::new();
            let sent =
                destination::send(&mut d, &local, &name, &e, VerifyMode::Readback, &mut |p| {
                    positions.push(p)
                })
                .unwrap();
            assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
            assert!(positions.windows(2).all(|w| w[1] > w[0]), "{positions:?}");
            assert_eq!(positions.last().copied().unwrap_or(0), len as u64);
            assert!(
                std::fs::read(s.files.join("up").join(&name)).unwrap()
                    == std::fs::read(&local).unwrap(),
                "{name} ({levers:?}) differs on the server"
            );
        }
    }
}

/// The sliding buffer straight on a libssh2 file handle: small buffers and
/// odd-sized pushes, so nearly every write is acknowledged in part, starts
/// mid-request and is followed by a compaction; what the server holds is
/// compared with what was pushed.
#[test]
fn the_sliding_buffer_survives_partial_acknowledgements_on_a_real_server() {
    let s = sshd::Sshd::start();
    let t = target(&s, s.port, s.known_hosts());
    let session = session::login(session::open_checked(&t).unwrap(), &t, &NoTerminal).unwrap();
    let sftp = session.sftp().unwrap();
    let data = crate::util::payload::random_bytes(1_234_567, 3);
    for capacity in [30_000, 30_001, 65_543, 1 << 20, 3_000_000] {
        let path = s.files.join(format!("slide-{capacity}"));
        let file = sftp.create(&path).unwrap();
        let mut w = SlidingWriter::new(file, capacity);
        let mut rest = &data[..];
        for step in [1usize, 7, 29_999, 30_001, 65_537, 1, 100_003]
            .iter()
            .cycle()
        {
            if rest.is_empty() {
                break;
            }
            let n = (*step).min(rest.len());
            w.push(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
        let (total, mut file) = w.finish().unwrap();
        file.close().unwrap();
        assert_eq!(total, data.len() as u64);
        assert!(
            std::fs::read(&path).unwrap() == data,
            "capacity {capacity}: the server's bytes differ"
        );
    }
}
