//! Test harness for the Windows build: the real OpenSSH `sshd` that its
//! SFTP tests talk to. sshd cannot run under Wine, so
//! `scripts/test-windows.sh` starts one on the Linux side before it runs
//! the Windows tests (with `scripts/loopback-sshd.sh`), and names its
//! folder in `RECPIPE_WINE_SSHD` (a Linux path; Wine shows the Linux root
//! as drive `Z:`). The folder holds `port`, `user`, `client_ed25519` (a key
//! the server accepts), `known_hosts` (trusting the server's ed25519 host
//! key), `host_fingerprint` (that key's SHA-256 fingerprint as
//! `ssh-keygen -l` prints it), `other_key` (a `TYPE BASE64` key that is not
//! the server's) and `files/`, which the server serves. Each
//! [`SharedSshd`] is a fresh folder under `files/`, so tests running at once
//! never meet.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct SharedSshd {
    pub port: u16,
    pub user: String,
    pub client_key: PathBuf,
    pub known_hosts: PathBuf,
    pub host_fingerprint: String,
    pub other_key: String,
    /// This test's own folder, as the test (Windows) sees it.
    pub files: PathBuf,
    /// The same folder as the server sees it (a Linux path).
    pub remote_files: String,
    /// The server's log, as Windows sees it (for failure messages).
    log: PathBuf,
}

/// A Linux absolute path as Wine shows it to Windows programs.
fn windows_view(linux: &str) -> PathBuf {
    PathBuf::from(format!("Z:{linux}"))
}

impl SharedSshd {
    /// The server, with a new empty folder for the calling test.
    pub fn get() -> SharedSshd {
        let dir = std::env::var("RECPIPE_WINE_SSHD").expect(
            "RECPIPE_WINE_SSHD is not set: the Windows SFTP tests need the OpenSSH server \
             that scripts/test-windows.sh starts on the Linux side",
        );
        let read = |name: &str| {
            let path = windows_view(&format!("{dir}/{name}"));
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .trim()
                .to_string()
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let sub = format!(
            "t{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let remote_files = format!("{dir}/files/{sub}");
        let files = windows_view(&remote_files);
        std::fs::create_dir_all(&files).unwrap();
        SharedSshd {
            port: read("port").parse().expect("a port number"),
            user: read("user"),
            client_key: windows_view(&format!("{dir}/client_ed25519")),
            known_hosts: windows_view(&format!("{dir}/known_hosts")),
            host_fingerprint: read("host_fingerprint"),
            other_key: read("other_key"),
            files,
            remote_files,
            log: windows_view(&format!("{dir}/sshd.log")),
        }
    }

    /// A path inside this test's folder, as the server sees it.
    pub fn remote(&self, rel: &str) -> String {
        format!("{}/{rel}", self.remote_files)
    }

    /// The end of the server's log (it serves every test of the run).
    pub fn log(&self) -> String {
        tail(&self.log)
    }
}

/// The last 4000 bytes or so of a shared server's log, for a failure
/// message.
pub fn tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_string()
}
