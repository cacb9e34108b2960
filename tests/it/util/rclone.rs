//! Test harness: rclone's `serve sftp` (Go's pkg/sftp over rclone's VFS),
//! a second SFTP server implementation beside OpenSSH's, on 127.0.0.1.
//!
//! Each [`Rclone`] lives in its own temporary folder: an ed25519 host key,
//! a client key in `authorized_keys`, and `files/`, the folder it serves
//! (its SFTP root is that folder, so paths are relative to it). It keeps
//! rclone's default directory cache (five minutes), so a file put into
//! `files/` behind its back is not in its listing: the "cached listing"
//! of issue 26. Dropping it kills the server.

use super::sshd::{free_port, keygen, public_key_text};
use recpipe::destination::sftp::Target;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const RCLONE: &str = "/usr/bin/rclone";

pub struct Rclone {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The folder the server serves (its SFTP root).
    pub files: PathBuf,
    client_key: PathBuf,
    host_key: String,
    child: Child,
}

impl Rclone {
    /// Starts a server, or says why it cannot (see [`super::skip`]).
    pub fn start() -> Option<Rclone> {
        if !Path::new(RCLONE).exists() {
            super::skip::not_exercised(
                "rclone is missing (scripts/test.sh installs it: apt-get install rclone)",
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_ed25519"), "");
        keygen(&d.join("client_ed25519"), "");
        std::fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let files = d.join("files");
        std::fs::create_dir(&files).unwrap();
        let port = free_port();
        let log = std::fs::File::create(d.join("rclone.log")).unwrap();
        let child = Command::new(RCLONE)
            .args(["serve", "sftp"])
            .arg(&files)
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .arg("--key")
            .arg(d.join("host_ed25519"))
            .arg("--authorized-keys")
            .arg(d.join("authorized_keys"))
            .args(["--user", "recpipe", "--config", "/dev/null"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rclone");
        let r = Rclone {
            port,
            files,
            client_key: d.join("client_ed25519"),
            host_key: public_key_text(&d.join("host_ed25519.pub")),
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rclone did not start: {}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(r)
    }

    /// The target of this server, uploading to `path` under its root.
    pub fn target(&self, path: &str) -> Target {
        let known_hosts = self.dir.path().join("known_hosts");
        std::fs::write(
            &known_hosts,
            format!("[127.0.0.1]:{} {}\n", self.port, self.host_key),
        )
        .unwrap();
        Target {
            host: "127.0.0.1".into(),
            port: self.port,
            user: "recpipe".into(),
            path: path.into(),
            known_hosts,
            identity_file: Some(self.client_key.clone()),
            timeout: Duration::from_secs(20),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rclone.log")).unwrap_or_default()
    }
}

impl Drop for Rclone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
