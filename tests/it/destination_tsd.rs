//! The TSD destination against TSD's real file-API server (started per test
//! by [`crate::util::tsd_api`]), where the test needs the server in hand:
//! resume after the server is killed and after a connection is cut
//! mid-upload; chunks out of order; a token expiring mid-upload; a wrong or
//! revoked API key; each auth route; and whole scheduled runs of the CLI.
//! The contract itself, on every platform: `destination_tsd_contract`.
#![cfg(unix)]

/// Never set: these tests do not stop their uploads.
static NO_STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

use crate::destination_tsd_contract::{CH, LEN, MODE, partial, send};
use crate::util::payload::{assert_same, random_file};
use crate::util::sshd::Relay;
use crate::util::tsd_api::{self, TsdServer};
use crate::util::world::{self, World};
use recpipe::config::{self, TsdAuth};
use recpipe::destination::tsd::{Session, TsdDestination};
use recpipe::destination::{
    self, DestError, Destination, ErrorClass, Expected, NoTerminal, PromptError, Prompter,
    RetryPolicy, Secret, Sent,
};
use std::cell::RefCell;
use std::fs::File;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

macro_rules! server {
    () => {
        match TsdServer::start() {
            Some(s) => s,
            None => return,
        }
    };
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 6,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
    }
}

fn open_with<'p>(
    cfg: config::Tsd,
    prompter: &'p dyn Prompter,
) -> Result<destination::Retrying<'p>, DestError> {
    destination::open(
        &config::Destination::Tsd(cfg),
        prompter,
        quick(),
        &NO_STOP,
        &mut |_| {},
    )
}

fn open_basic(s: &TsdServer, path: &str) -> destination::Retrying<'static> {
    open_with(s.config(path, TsdAuth::Basic, CH), &NoTerminal)
        .unwrap_or_else(|e| panic!("open: {e}\n{}", s.log()))
}

/// The backend alone, without the retry wrapper (as the conformance suite
/// calls backends), so its errors are seen.
fn open_raw(s: &TsdServer, path: &str) -> TsdDestination<'static> {
    let session = Session::new(s.config(path, TsdAuth::Basic, CH), &NoTerminal);
    TsdDestination::connect(Rc::new(RefCell::new(session))).unwrap()
}

fn landed(s: &TsdServer, path: &str, name: &str) -> PathBuf {
    s.group_dir().join(path).join(name)
}

#[test]
fn the_server_killed_mid_upload_is_resumed() {
    let mut s = server!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "k", LEN, 11);
    let cfg = s.config("k", TsdAuth::Basic, CH);
    let restarted = RefCell::new(false);
    let sent = {
        let mut d = open_with(cfg, &NoTerminal).unwrap();
        destination::send(&mut d, &local, "k.sealed", &e, MODE, &mut |p| {
            if p > 3 * CH + 1000 && !*restarted.borrow() {
                *restarted.borrow_mut() = true;
                s.restart();
            }
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(*restarted.borrow());
    assert!(
        matches!(sent, Sent::Uploaded { resumed_from: 0 }),
        "{sent:?}"
    );
    assert_same(&local, &landed(&s, "k", "k.sealed"));
    // Resumed from the server's record: chunk 4 was sent twice at most.
    let patches = s.log().matches("PATCH /v1/p11/files/stream").count();
    assert!(patches <= 9, "{patches} PATCHes");
}

#[test]
fn a_connection_cut_mid_upload_is_resumed() {
    let s = server!();
    let relay = Relay::start(s.port, Some(3 * CH + 5000));
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "t", LEN, 12);
    let mut cfg = s.config("", TsdAuth::Basic, CH);
    cfg.url = format!("http://127.0.0.1:{}", relay.port);
    let mut d = open_with(cfg, &NoTerminal).unwrap();
    send(&mut d, &local, "t.sealed", &e).unwrap_or_else(|e| panic!("{e}"));
    assert!(relay.connections() >= 2, "the connection was not cut");
    assert_same(&local, &landed(&s, "", "t.sealed"));
}

#[test]
fn chunks_out_of_order_never_corrupt_an_upload() {
    let s = server!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "o", LEN, 13);
    let bytes = std::fs::read(&local).unwrap();
    let mut d = open_raw(&s, "");
    partial(&mut d, tmp.path(), &local, "o.sealed", 2 * CH as usize);
    // Someone sends chunk 5 of this upload (chunk 3 is next): refused.
    let list = ureq_get(&s, "/v1/p11/files/resumables");
    let id = list["resumables"][0]["id"].as_str().unwrap().to_string();
    let status = raw_patch(&s, &format!("o.sealed?chunk=5&id={id}"), &bytes[..1000]);
    assert_eq!(status, 400);
    // A chunk the server took but whose answer was lost: the server is
    // ahead of what the client last heard, and it resumes from the server.
    let status = raw_patch(
        &s,
        &format!("o.sealed?chunk=3&id={id}"),
        &bytes[2 * CH as usize..3 * CH as usize],
    );
    assert_eq!(status, 201);
    let err = d
        .upload(
            "o.sealed",
            &mut File::open(&local).unwrap(),
            2 * CH,
            &mut |_| {},
        )
        .unwrap_err();
    assert!(matches!(err, DestError::PartialChanged { .. }), "{err}");
    assert_eq!(
        send(&mut d, &local, "o.sealed", &e).unwrap(),
        Sent::Uploaded {
            resumed_from: 3 * CH
        }
    );
    assert_same(&local, &landed(&s, "", "o.sealed"));
}

/// A token straight from the emulated auth service, for requests the
/// tests make themselves.
fn token(s: &TsdServer) -> String {
    let mut resp = ureq::post(format!("{}/v1/p11/auth/basic/token?type=import", s.url()))
        .header("Authorization", format!("Bearer {}", tsd_api::API_KEY))
        .send_empty()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn ureq_get(s: &TsdServer, path: &str) -> serde_json::Value {
    let mut resp = ureq::get(format!("{}{path}", s.url()))
        .header("Authorization", format!("Bearer {}", token(s)))
        .call()
        .unwrap();
    serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
}

fn raw_patch(s: &TsdServer, tail: &str, body: &[u8]) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .patch(format!(
            "{}/v1/p11/files/stream/p11-member-group/{tail}",
            s.url()
        ))
        .header("Authorization", format!("Bearer {}", token(s)))
        .send(body)
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn a_token_expiring_mid_upload_is_renewed_before_it_expires() {
    let mut s = server!();
    s.update_state(|v| {
        v["token_seconds"] = 3.into();
        v["refreshes"] = 100.into();
    });
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "e", LEN, 14);
    let mut d = open_basic(&s, "");
    let mut last = 0;
    destination::send(&mut d, &local, "e.sealed", &e, MODE, &mut |p| {
        // Slow the upload down to about 5 s: the token lives 3 s.
        if p / CH > last {
            last = p / CH;
            std::thread::sleep(Duration::from_millis(700));
        }
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", s.log()));
    assert_same(&local, &landed(&s, "", "e.sealed"));
    assert_eq!(s.issued("basic"), 1, "{:?}", s.auth_log());
    assert!(s.issued("refresh") >= 2, "{:?}", s.auth_log());
    // Renewed before expiry: the file API never refused a token.
    assert!(!s.log().contains(" 403 "), "{}", s.log());
}

#[test]
fn a_wrong_or_revoked_api_key_is_a_clear_error_and_deletes_nothing() {
    let mut s = server!();
    let tmp = tempfile::tempdir().unwrap();
    let wrong = tmp.path().join("wrong-key");
    std::fs::write(&wrong, "not-the-key\n").unwrap();
    let mut cfg = s.config("", TsdAuth::Basic, CH);
    cfg.api_key_file = wrong.clone();
    let err = open_with(cfg, &NoTerminal)
        .err()
        .expect("a wrong key opens");
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("API key") && text.contains(&wrong.display().to_string()),
        "{text}"
    );
    assert!(!text.contains("not-the-key"), "{text}");

    // Revoked while a partial is there: the partial and the local file stay.
    s.update_state(|v| {
        v["token_seconds"] = 2.into();
    });
    let (local, e) = random_file(tmp.path(), "v", LEN, 15);
    let mut d = open_basic(&s, "");
    partial(&mut d, tmp.path(), &local, "v.sealed", CH as usize);
    s.update_state(|v| {
        v["api_keys"][tsd_api::API_KEY]["revoked"] = true.into();
    });
    std::thread::sleep(Duration::from_secs(3));
    let err = send(&mut d, &local, "v.sealed", &e).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    assert!(err.to_string().contains("revoked"), "{err}");
    assert!(!err.to_string().contains(tsd_api::API_KEY), "{err}");
    assert_eq!(std::fs::metadata(&local).unwrap().len(), LEN as u64);
    s.update_state(|v| {
        v["api_keys"][tsd_api::API_KEY]["revoked"] = false.into();
    });
    let mut d = open_basic(&s, "");
    assert_eq!(
        d.stat(&destination::partial_name("v.sealed")).unwrap(),
        Some(CH)
    );
}

/// Answers the login questions as a person would, and counts them.
struct Person {
    asked: RefCell<Vec<String>>,
}

impl Prompter for Person {
    fn ask(&self, question: &str, _echo: bool) -> Result<Secret, PromptError> {
        self.asked.borrow_mut().push(question.to_string());
        let q = question.to_lowercase();
        let answer = if q.contains("user") {
            tsd_api::USER
        } else if q.contains("password") {
            tsd_api::PASSWORD
        } else {
            tsd_api::OTP
        };
        Ok(Secret::new(answer.to_string()))
    }
}

#[test]
fn the_login_route_asks_once_and_needs_a_terminal() {
    let s = server!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "l", LEN, 16);
    let person = Person {
        asked: RefCell::new(Vec::new()),
    };
    {
        let mut d = open_with(s.config("", TsdAuth::Login, CH), &person).unwrap();
        send(&mut d, &local, "l.sealed", &e).unwrap();
    }
    assert_eq!(
        person.asked.borrow().len(),
        3,
        "{:?}",
        person.asked.borrow()
    );
    assert_same(&local, &landed(&s, "", "l.sealed"));
    assert_eq!(s.issued("tsd"), 1);
    // A one-time code works once.
    let err = open_with(s.config("", TsdAuth::Login, CH), &person)
        .err()
        .expect("a reused one-time code");
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    assert!(!err.to_string().contains(tsd_api::PASSWORD), "{err}");
    // Nobody at a terminal: the "needs interactive login" class (exit 3).
    let err = open_with(s.config("", TsdAuth::Login, CH), &NoTerminal)
        .err()
        .expect("a login without a terminal");
    assert_eq!(err.class(), ErrorClass::NeedsInteractiveLogin, "{err}");
}

#[test]
fn the_import_link_route_uploads_and_a_wrong_secret_is_refused() {
    let s = server!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "i", LEN, 17);
    let link = |secret: PathBuf| TsdAuth::ImportLink {
        link_id: tsd_api::LINK_ID.into(),
        secret_file: Some(secret),
    };
    let mut d = open_with(s.config("", link(s.link_secret_file()), CH), &NoTerminal).unwrap();
    send(&mut d, &local, "i.sealed", &e).unwrap();
    assert_same(&local, &landed(&s, "", "i.sealed"));
    assert_eq!(s.issued("instances"), 1);
    let wrong = tmp.path().join("wrong-secret");
    std::fs::write(&wrong, "nope\n").unwrap();
    let err = open_with(s.config("", link(wrong), CH), &NoTerminal)
        .err()
        .expect("a wrong link secret");
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    assert!(err.to_string().contains("import link"), "{err}");
}

/// The "done when": a scheduled run (no terminal: stdin null)
/// delivers the sample recording, sealed, and removes the interim copy only
/// after every output is verified at TSD.
fn scheduled_run(auth: &str) {
    let s = server!();
    let w = World::new(&s.toml("recpipe", auth), "");
    let out = w.run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", s.log());
    let folder = s.group_dir().join("recpipe");
    let files = w.delivered(&folder);
    world::check_delivery(&w, &files);
    let manifest = files
        .iter()
        .find(|f| f.to_string_lossy().contains("manifest"))
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&w.open(manifest)).unwrap();
    assert_eq!(
        m["verification"], "chunk-md5",
        "the manifest says how it was verified"
    );
    assert!(!w.recording().exists(), "the interim copy is still there");
    assert!(!stderr.contains(tsd_api::API_KEY) && !stderr.contains(tsd_api::LINK_SECRET));
}

#[test]
fn a_scheduled_run_delivers_with_basic_auth() {
    scheduled_run("basic");
}

#[test]
fn a_scheduled_run_delivers_with_an_import_link() {
    scheduled_run("import-link");
}

#[test]
fn a_scheduled_run_with_the_login_route_waits_and_keeps_the_recording() {
    let s = server!();
    let w = World::new(&s.toml("recpipe", "login"), "");
    let out = w.run();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        w.recording().exists(),
        "the interim copy went without an upload"
    );
    assert!(w.delivered(&s.group_dir().join("recpipe")).is_empty());
}

/// The login route from a terminal (tmux): the user name, password and
/// one-time code asked once, hidden where they are secrets; the recording
/// delivered and verified chunk by chunk, the interim copy removed after;
/// no answer on the screen but the user name.
#[test]
fn a_login_route_run_from_a_terminal_delivers() {
    use crate::util::pane::Pane;
    let s = server!();
    if !Pane::available() {
        return;
    }
    let w = World::new(&s.toml("recpipe", "login"), "");
    let pipeline = w.path("pipeline.toml");
    let pane = Pane::start(
        w.root.path(),
        &[("RECPIPE_STATE_DIR", &w.path("state"))],
        &["run", "--pipeline", pipeline.to_str().unwrap()],
    );
    pane.answer("TSD user name", tsd_api::USER);
    pane.answer("TSD password", tsd_api::PASSWORD);
    pane.answer("TSD one-time code", tsd_api::OTP);
    let screen = pane.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}\n{}", s.log());
    assert!(screen.contains(tsd_api::USER), "{screen}");
    assert!(
        !screen.contains(tsd_api::PASSWORD) && !screen.contains(tsd_api::OTP),
        "{screen}"
    );
    assert_eq!(s.issued("tsd"), 1, "{:?}", s.auth_log());
    let files = w.delivered(&s.group_dir().join("recpipe"));
    world::check_delivery(&w, &files);
    assert!(!w.recording().exists(), "the interim copy is still there");
}

/// Not a test: the recpipe side of benches/tsd-vs-tacl.sh, which times it.
/// Uploads every file in `RECPIPE_TSD_BENCH_DIR` to the server at
/// `RECPIPE_TSD_BENCH_URL` (basic auth, the API key in
/// `RECPIPE_TSD_BENCH_KEY`), 50 MB chunks as tacl's default, then checks
/// each landed with its size.
#[test]
#[ignore = "run by benches/tsd-vs-tacl.sh"]
fn bench_upload() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
    let cfg = config::Tsd {
        project: "p11".into(),
        url: var("RECPIPE_TSD_BENCH_URL"),
        group: "p11-member-group".into(),
        path: "recpipe".into(),
        auth: TsdAuth::Basic,
        api_key_file: var("RECPIPE_TSD_BENCH_KEY").into(),
        chunk_size: config::TSD_DEFAULT_CHUNK_SIZE,
        verify: MODE,
    };
    let mut d = open_with(cfg, &NoTerminal).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(var("RECPIPE_TSD_BENCH_DIR"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let len = std::fs::metadata(&f).unwrap().len();
        // The size is what the bench checks; the SHA-256 is not needed.
        let e = Expected {
            len,
            sha256: [0; 32],
        };
        let sent = send(&mut d, &f, &name, &e).unwrap();
        assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    }
}
