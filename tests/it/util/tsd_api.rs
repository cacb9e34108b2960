//! The TSD file-API harness: TSD's real server code (the vendored
//! `tsd-file-api`, unmodified) started on 127.0.0.1 from a fresh copy of
//! its folder, in the tests' venv (`RECPIPE_PYTHON`, made by
//! scripts/test-venv.sh), with TSD's authentication API emulated beside it
//! by `tsd_server.py` (what was assumed: docs/destinations.md).
//!
//! One server per test, in a temp folder of its own; it is killed on drop.
//! The server needs `sudo` and the group `p11-member-group`; the harness
//! creates the group when it runs as root. Without the server folder or the
//! venv a test is skipped with a note, and under `CI=true` it fails.

use recpipe::config::{self, TsdAuth};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The vendored server folder: `RECPIPE_TSD_FILE_API`, else
/// `../shared/vendor/tsd-file-api` beside the repository.
pub fn vendor_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RECPIPE_TSD_FILE_API")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vendor/tsd-file-api")
        });
    dir.join("tsdfileapi/api.py").is_file().then_some(dir)
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("RECPIPE_PYTHON").map(PathBuf::from)?;
    let ok = Command::new(&p)
        .args([
            "-c",
            "import tornado, jwcrypto, pyresumable, pysquril, magic, libnacl",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(p)
}

/// The API key the harness registers, and the link it makes.
pub const API_KEY: &str = "recpipe-test-api-key-0001";
pub const LINK_ID: &str = "0a1b2c3d-0000-4000-8000-00000000abcd";
pub const LINK_SECRET: &str = "link-secret-0001";
pub const USER: &str = "p11-alice";
pub const PASSWORD: &str = "correct horse";
pub const OTP: &str = "123456";

pub struct TsdServer {
    child: Option<Child>,
    pub port: u16,
    tmp: tempfile::TempDir,
    server_dir: PathBuf,
    python: PathBuf,
    state: Value,
}

impl TsdServer {
    /// Starts a server, or returns `None` (with a note) when its parts are
    /// missing outside CI.
    pub fn start() -> Option<TsdServer> {
        let (Some(vendor), Some(python)) = (vendor_dir(), python()) else {
            super::skip::not_exercised(
                "TSD's file API needs ../shared/vendor/tsd-file-api (or RECPIPE_TSD_FILE_API) and the venv from scripts/test-venv.sh in RECPIPE_PYTHON",
            );
            return None;
        };
        ensure_group();
        let tmp = tempfile::tempdir().unwrap();
        let server_dir = tmp.path().join("server");
        copy_dir(&vendor, &server_dir);
        std::fs::create_dir_all(tmp.path().join("root")).unwrap();
        std::fs::write(
            tmp.path().join("tsd_server.py"),
            include_str!("tsd_server.py"),
        )
        .unwrap();
        let secret = {
            use base64::Engine;
            let mut b = [0u8; 32];
            getrandom::fill(&mut b).unwrap();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        };
        let state = json!({
            "secret": secret,
            "api_keys": { API_KEY: { "name": "recpipe" } },
            "basic_allowed": ["127.0.0.1"],
            "token_seconds": 3600,
            "refreshes": 5,
            "links": { LINK_ID: { "project": "p11", "secret": LINK_SECRET } },
            "users": { USER: { "password": PASSWORD, "otp": OTP } },
        });
        let mut s = TsdServer {
            child: None,
            port: 0,
            tmp,
            server_dir,
            python,
            state,
        };
        s.write_state();
        for f in ["api-key", "link-secret"] {
            let text = if f == "api-key" { API_KEY } else { LINK_SECRET };
            std::fs::write(s.tmp.path().join(f), format!("{text}\n")).unwrap();
        }
        s.port = crate::util::sshd::free_port();
        s.spawn();
        Some(s)
    }

    fn write_state(&self) {
        std::fs::write(
            self.tmp.path().join("state.json"),
            serde_json::to_vec_pretty(&self.state).unwrap(),
        )
        .unwrap();
    }

    /// Changes what the emulated auth service accepts (read per request).
    pub fn update_state(&mut self, f: impl FnOnce(&mut Value)) {
        f(&mut self.state);
        self.write_state();
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.tmp.path().join("server.log"))
            .unwrap();
        let child = Command::new(&self.python)
            .arg(self.tmp.path().join("tsd_server.py"))
            .current_dir(&self.server_dir)
            .env("RECPIPE_TSD_ROOT", self.tmp.path().join("root"))
            .env("RECPIPE_TSD_PORT", self.port.to_string())
            .env("RECPIPE_TSD_STATE", self.tmp.path().join("state.json"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the TSD file API");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the TSD file API exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the TSD file API did not listen within 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server at once (as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and folders.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("server.log")).unwrap_or_default()
    }

    /// Lines of the auth service's log (route and outcome).
    pub fn auth_log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.tmp.path().join("root/auth.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// How many tokens the auth service issued on `route`.
    pub fn issued(&self, route: &str) -> usize {
        self.auth_log()
            .iter()
            .filter(|l| l["route"] == route && l["outcome"] == "issued")
            .count()
    }

    /// The member group's folder in the project's import folder on disk
    /// (`/tsd/p11/data/durable/file-import/p11-member-group` in TSD), where
    /// `PATH/NAME` lands.
    pub fn group_dir(&self) -> PathBuf {
        self.tmp.path().join("root/p11/import/p11-member-group")
    }

    /// The folder under the member group that is this test's: all of it,
    /// since the server is the test's own.
    pub fn base(&self) -> &str {
        ""
    }

    /// The whole log (the same as [`TsdServer::log`]: the server is this
    /// test's own); the shared server under Wine has the same call.
    pub fn full_log(&self) -> String {
        self.log()
    }

    pub fn api_key_file(&self) -> PathBuf {
        self.tmp.path().join("api-key")
    }

    pub fn link_secret_file(&self) -> PathBuf {
        self.tmp.path().join("link-secret")
    }

    /// The pipeline's view of this server: project p11, `path` under the
    /// member group, `auth` as given, small chunks.
    pub fn config(&self, path: &str, auth: TsdAuth, chunk_size: u64) -> config::Tsd {
        config::Tsd {
            project: "p11".into(),
            url: self.url(),
            group: "p11-member-group".into(),
            path: path.into(),
            auth,
            api_key_file: self.api_key_file(),
            chunk_size,
            verify: config::VerifyMode::ChunkMd5,
        }
    }

    /// The `[destination]` table of a pipeline file for this server.
    pub fn toml(&self, path: &str, auth: &str) -> String {
        let mut t = format!(
            "[destination]\nkind = \"tsd\"\nproject = \"p11\"\nurl = \"{}\"\npath = \"{path}\"\nauth = \"{auth}\"\napi_key_file = '{}'\nchunk_size = 262144\n",
            self.url(),
            self.api_key_file().display()
        );
        if auth == "import-link" {
            t.push_str(&format!(
                "link = \"https://data.tsd.usit.no/c/{LINK_ID}\"\nsecret_file = '{}'\n",
                self.link_secret_file().display()
            ));
        }
        t
    }
}

impl Drop for TsdServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn ensure_group() {
    let have = Command::new("getent")
        .args(["group", "p11-member-group"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        // As root (CI, scripts/test.sh); -f: another test may race us.
        let _ = Command::new("groupadd")
            .args(["-f", "p11-member-group"])
            .status();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
