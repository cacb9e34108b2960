//! TSD's file API behind a misbehaving network (issue 26 items 3 and 8):
//! a proxy that trickles an answer a byte at a time, and a server whose
//! certificate nobody vouches for. Each ends with the invariant: nothing
//! lost, nothing at the destination replaced, the report true, and no run
//! held longer than its deadline.
#![cfg(unix)]

use crate::util::payload::random_file;
use crate::util::tsd_api::TsdServer;
use recpipe::config::{self, TsdAuth};
use recpipe::destination::tsd::{Session, TsdDestination};
use recpipe::destination::{
    self, DestError, ErrorClass, NoTerminal, Notice, RetryPolicy, Retrying, Sent,
};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NO_STOP: AtomicBool = AtomicBool::new(false);

/// A relay to `target` whose first connection sends the answer back one
/// byte every half second (and never finishes in time); later
/// connections are forwarded as they come. Returns its port and the count
/// of connections.
fn trickling_relay(target: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(Shutdown::Write);
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                if n > 0 {
                    let _ = std::io::copy(&mut s_in, &mut c_out);
                    let _ = c_out.shutdown(Shutdown::Write);
                    return;
                }
                let mut byte = [0u8; 1];
                while s_in.read_exact(&mut byte).is_ok() {
                    if c_out.write_all(&byte).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
    });
    (port, count)
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
    }
}

/// Opens `cfg` with every request's deadline set to `deadline`, telling
/// `notices` of every retry.
fn open<'p>(
    cfg: config::Tsd,
    deadline: Duration,
    notices: &mut dyn FnMut(&Notice<'_>),
) -> Result<Retrying<'p>, DestError> {
    let mut session = Session::new(cfg, &NoTerminal);
    session.deadline = deadline;
    let session = Rc::new(RefCell::new(session));
    Retrying::with_stop(
        Box::new(move || Ok(Box::new(TsdDestination::connect(session.clone())?) as _)),
        quick(),
        &NO_STOP,
        notices,
    )
}

/// Issue 26 item 3: an answer trickled a byte at a time no longer holds a
/// run: the request ends at its deadline (2 s here), the retry
/// reconnects, and the upload is delivered.
#[test]
fn a_trickling_answer_ends_at_the_deadline_and_the_retry_delivers() {
    let Some(s) = TsdServer::start() else {
        return;
    };
    let (port, connections) = trickling_relay(s.port);
    let mut cfg = s.config("trickle", TsdAuth::Basic, 1 << 18);
    cfg.url = format!("http://127.0.0.1:{port}");
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "t", 600_000, 31);
    let started = Instant::now();
    let mut retries = Vec::new();
    let mut d = open(cfg, Duration::from_secs(2), &mut |n| {
        if let Notice::Retry(r) = n {
            retries.push(r.error.to_string());
        }
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", s.log()));
    let sent = destination::send(
        &mut d,
        &local,
        "t.sealed",
        &e,
        config::VerifyMode::ChunkMd5,
        &mut |_| {},
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", s.log()));
    let took = started.elapsed();
    assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert!(
        retries[0].contains("no whole answer within 2 s"),
        "{retries:?}"
    );
    assert!(connections.load(Ordering::SeqCst) >= 2);
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(30), "held {took:?}");
    crate::util::payload::assert_same(&local, &s.group_dir().join("trickle").join("t.sealed"));
}

/// Issue 26 item 8: a self-signed certificate is refused at once, as a
/// permanent error that says what to check, not retried five times.
#[test]
fn a_self_signed_certificate_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        crate::util::skip::not_exercised("openssl could not make a certificate");
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        "import http.server, ssl\n\
         s = http.server.HTTPServer(('127.0.0.1', {port}), http.server.BaseHTTPRequestHandler)\n\
         c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
         c.load_cert_chain('{}', '{}')\n\
         s.socket = c.wrap_socket(s.socket, server_side=True)\n\
         s.serve_forever()\n",
        cert.display(),
        key.display()
    );
    let mut server = std::process::Command::new("python3")
        .args(["-c", &script])
        .spawn()
        .expect("python3");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let key_file = dir.path().join("api-key");
    std::fs::write(&key_file, "not-a-real-key").unwrap();
    let cfg = config::Tsd {
        project: "p11".into(),
        url: format!("https://localhost:{port}"),
        group: "p11-member-group".into(),
        path: String::new(),
        auth: TsdAuth::Basic,
        api_key_file: key_file,
        chunk_size: config::TSD_DEFAULT_CHUNK_SIZE,
        verify: config::VerifyMode::ChunkMd5,
    };
    let mut retries = 0;
    let started = Instant::now();
    let err = open(cfg, Duration::from_secs(10), &mut |n| {
        if let Notice::Retry(_) = n {
            retries += 1;
        }
    })
    .err()
    .expect("refused");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(retries, 0, "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    let text = err.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("does not change by trying again"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
