//! Test harness: a real OpenSSH `sshd` on 127.0.0.1, and a TCP relay that
//! can cut a connection after N bytes.
//!
//! Each [`Sshd`] lives in its own temporary folder: its own ed25519 host key,
//! a client key in `authorized_keys`, a `files/` folder for uploads and an
//! `sshd_config` with `UsePAM no`, `StrictModes no` and
//! `Subsystem sftp internal-sftp`. It runs as the current user (root in CI,
//! where sshd needs `/run/sshd`, created if missing). Killing it also kills
//! the processes serving its connections; dropping it kills it.

use recpipe::destination::sftp::Target;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";
/// OpenSSH's SFTP server program (Debian's place for it).
pub const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

/// How the server is set up.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `internal-sftp -R`: every write is refused with "permission denied".
    pub read_only: bool,
    /// More `internal-sftp` flags, e.g. `-P fsync` (refuse fsync@openssh.com).
    pub sftp_flags: Vec<String>,
    /// Serve SFTP by OpenSSH's external `sftp-server`, logging every request
    /// it serves to a file ([`Sshd::sftp_log`]).
    pub log_sftp_requests: bool,
    /// Extra `sshd_config` lines.
    pub extra: Vec<String>,
    /// Log in only by keyboard-interactive through PAM: a password, then a
    /// one-time code (see [`PamLogin`]).
    pub pam: Option<PamLogin>,
}

/// A TSD-like login: PAM asks "Password: " (checked by a script through
/// `pam_exec`) and then "Verification code: " (`pam_google_authenticator`,
/// whose single-use scratch codes are the one-time codes). Needs root (PAM
/// reads `/etc/pam.d`, where the harness puts a service file named for this
/// server and removes it on drop) and `libpam-google-authenticator`.
#[derive(Debug, Clone)]
pub struct PamLogin {
    pub password: String,
    /// 8-digit codes, each accepted once.
    pub codes: Vec<String>,
}

/// Whether PAM's one-time-code module is installed (in a multiarch folder).
fn google_authenticator_installed() -> bool {
    ["/lib", "/usr/lib"].iter().any(|root| {
        std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .any(|arch| {
                arch.path()
                    .join("security/pam_google_authenticator.so")
                    .exists()
            })
    })
}

/// Whether a test of a PAM-backed server cannot run here: then it says
/// `NOT EXERCISED` and why, and under `CI=true` it fails instead.
pub fn skip_without_pam(test: &str) -> bool {
    let Some(why) = pam_unavailable() else {
        return false;
    };
    super::skip::not_exercised(&format!("{test}: {why}"));
    true
}

/// Why a PAM-backed server cannot run here, if it cannot.
fn pam_unavailable() -> Option<String> {
    if !current_uid_is_root() {
        Some("the tests do not run as root, so they cannot add a PAM service".into())
    } else if !google_authenticator_installed() {
        Some("pam_google_authenticator.so is missing (libpam-google-authenticator)".into())
    } else {
        None
    }
}

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// Where uploads land (the SFTP path to use).
    pub files: PathBuf,
    /// A private key (no passphrase) the server accepts.
    pub client_key: PathBuf,
    /// The server's public host key, `TYPE BASE64`.
    pub host_key: String,
    pub user: String,
    options: Options,
    child: Option<Child>,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a helper program");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes an ed25519 key pair at `path` (and `path.pub`).
pub fn keygen(path: &Path, passphrase: &str) {
    run(Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            "recpipe-test",
            "-f",
        ])
        .arg(path));
}

/// The `TYPE BASE64` part of a `.pub` file.
pub fn public_key_text(pub_path: &Path) -> String {
    let text = std::fs::read_to_string(pub_path).unwrap();
    let mut parts = text.split_whitespace();
    format!("{} {}", parts.next().unwrap(), parts.next().unwrap())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Sshd {
    /// The SFTP target of this server's user and client key, reached at
    /// `port` (the server's, or a relay's in front of it), uploading to
    /// `path`, trusting the host keys in `known_hosts`.
    pub fn target(&self, port: u16, known_hosts: PathBuf, path: &Path) -> Target {
        Target {
            host: "127.0.0.1".into(),
            port,
            user: self.user.clone(),
            path: path.display().to_string(),
            known_hosts,
            identity_file: Some(self.client_key.clone()),
            timeout: Duration::from_secs(20),
        }
    }

    pub fn start() -> Sshd {
        Sshd::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (scripts/test.sh does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_ed25519"), "");
        keygen(&d.join("client_ed25519"), "");
        std::fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let files = d.join("files");
        std::fs::create_dir(&files).unwrap();
        if current_uid_is_root() && !Path::new("/run/sshd").exists() {
            // sshd's privilege-separation folder, normally made by its service.
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        let mut sshd = Sshd {
            port: free_port(),
            files,
            client_key: d.join("client_ed25519"),
            host_key: public_key_text(&d.join("host_ed25519.pub")),
            user: current_user(),
            options,
            child: None,
            dir,
        };
        sshd.write_config();
        sshd.spawn();
        sshd
    }

    fn write_config(&self) {
        let d = self.dir.path();
        let mut sftp = if self.options.log_sftp_requests {
            use std::os::unix::fs::PermissionsExt;
            let wrapper = d.join("sftp-server-logged");
            std::fs::write(
                &wrapper,
                format!(
                    "#!/bin/sh\nexec {SFTP_SERVER} -e -l DEBUG3 2>>{}\n",
                    d.join("sftp.log").display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
            wrapper.display().to_string()
        } else {
            String::from("internal-sftp")
        };
        if self.options.read_only {
            sftp.push_str(" -R");
        }
        for flag in &self.options.sftp_flags {
            sftp.push(' ');
            sftp.push_str(flag);
        }
        let pam = self.options.pam.is_some();
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut lines = vec![
            format!("ListenAddress 127.0.0.1:{}", self.port),
            format!("HostKey {}", d.join("host_ed25519").display()),
            format!("PidFile {}", d.join("sshd.pid").display()),
            format!("AuthorizedKeysFile {}", d.join("authorized_keys").display()),
            format!("UsePAM {}", yes_no(pam)),
            "StrictModes no".into(),
            "PermitRootLogin yes".into(),
            "PasswordAuthentication no".into(),
            format!("KbdInteractiveAuthentication {}", yes_no(pam)),
            format!("PubkeyAuthentication {}", yes_no(!pam)),
            format!("AllowUsers {}", self.user),
            "MaxStartups 100".into(),
            "LogLevel VERBOSE".into(),
            format!("Subsystem sftp {sftp}"),
        ];
        if let Some(login) = &self.options.pam {
            lines.push("AuthenticationMethods keyboard-interactive".into());
            self.write_pam_service(login);
        }
        lines.extend(self.options.extra.iter().cloned());
        std::fs::write(d.join("sshd_config"), lines.join("\n") + "\n").unwrap();
    }

    /// sshd names its PAM service after argv[0]; this server's is unique.
    fn pam_service(&self) -> String {
        format!("recpipe-test-sshd-{}", self.port)
    }

    fn write_pam_service(&self, login: &PamLogin) {
        use std::os::unix::fs::PermissionsExt;
        let d = self.dir.path();
        let check = d.join("check-password");
        std::fs::write(
            &check,
            format!(
                "#!/bin/sh\nIFS= read -r pw\n[ \"$pw\" = '{}' ]\n",
                login.password
            ),
        )
        .unwrap();
        std::fs::set_permissions(&check, std::fs::Permissions::from_mode(0o700)).unwrap();
        let secret = d.join("google_authenticator");
        let mut text = String::from("JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n");
        for code in &login.codes {
            text.push_str(code);
            text.push('\n');
        }
        std::fs::write(&secret, text).unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let service = format!(
            "auth required pam_exec.so expose_authtok quiet {}\n\
             auth required pam_google_authenticator.so secret={} user=root\n\
             account required pam_permit.so\n\
             session required pam_permit.so\n\
             password required pam_deny.so\n",
            check.display(),
            secret.display()
        );
        std::fs::write(Path::new("/etc/pam.d").join(self.pam_service()), service).unwrap();
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("sshd.log"))
            .unwrap();
        let mut cmd = Command::new(SSHD);
        if self.options.pam.is_some() {
            // argv[0] names the PAM service; -r keeps sshd from re-executing
            // itself by that name.
            cmd.arg0(self.pam_service()).arg("-r");
        }
        let child = cmd
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                // Wait for the banner: then sshd really serves.
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut b = [0u8; 4];
                if s.read_exact(&mut b).is_ok() && &b == b"SSH-" {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("sshd exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The requests the SFTP server served so far (with
    /// [`Options::log_sftp_requests`]).
    pub fn sftp_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sftp.log")).unwrap_or_default()
    }

    /// sshd's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Kills sshd and every connection it serves. The per-connection
    /// processes start their own sessions (setsid), so they are found as
    /// sshd's descendants in /proc and killed by id.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let mut pids = descendants(child.id());
            pids.retain(|&p| p != child.id());
            let _ = child.kill();
            for pid in pids {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            let _ = child.wait();
        }
    }

    /// Kills sshd and starts it again on the same port with the same keys.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// A known_hosts line for this server at `port` (its own, or a relay's).
    pub fn known_hosts_line(&self, port: u16) -> String {
        format!("[127.0.0.1]:{port} {}\n", self.host_key)
    }

    /// Writes a known_hosts file trusting this server at its port.
    pub fn known_hosts(&self) -> PathBuf {
        let path = self.dir.path().join("known_hosts");
        std::fs::write(&path, self.known_hosts_line(self.port)).unwrap();
        path
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill();
        if self.options.pam.is_some() {
            let _ = std::fs::remove_file(Path::new("/etc/pam.d").join(self.pam_service()));
        }
    }
}

/// `root` and every process below it, from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found
}

fn current_uid_is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A TCP relay on 127.0.0.1 to a target port. The first connection is cut
/// (both directions) once `cut_after` bytes went from client to server, or,
/// started with [`Relay::stall`], stalls there: nothing more is passed
/// either way and nothing is closed, as a dead link or a hung server looks.
/// Later connections pass through untouched.
pub struct Relay {
    pub port: u16,
    connections: Arc<AtomicUsize>,
    forwarded: Arc<AtomicU64>,
}

/// What happens to the first connection at its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AtLimit {
    Cut,
    Stall,
}

impl Relay {
    pub fn start(target: u16, cut_after: Option<u64>) -> Relay {
        Relay::start_with(target, cut_after, AtLimit::Cut)
    }

    /// A relay whose first connection stalls after `after` bytes from the
    /// client: it stays open, and nothing more passes in either direction.
    pub fn stall(target: u16, after: u64) -> Relay {
        Relay::start_with(target, Some(after), AtLimit::Stall)
    }

    fn start_with(target: u16, cut_after: Option<u64>, at_limit: AtLimit) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let (c, f) = (connections.clone(), forwarded.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let n = c.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let limit = if n == 0 { cut_after } else { None };
                pipe(client, server, limit, at_limit, f.clone());
            }
        });
        Relay {
            port,
            connections,
            forwarded,
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Bytes passed from clients to the server so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::SeqCst)
    }
}

fn pipe(
    client: TcpStream,
    server: TcpStream,
    limit: Option<u64>,
    at_limit: AtLimit,
    count: Arc<AtomicU64>,
) {
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stalled2 = stalled.clone();
    // Client to server, counting and maybe cutting or stalling.
    std::thread::spawn(move || {
        let (mut from, mut to) = (client, server);
        let mut buf = vec![0u8; 64 * 1024];
        let mut sent = 0u64;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let n = match limit {
                Some(l) if sent + n as u64 >= l => {
                    let _ = to.write_all(&buf[..(l - sent) as usize]);
                    count.fetch_add(l - sent, Ordering::SeqCst);
                    if at_limit == AtLimit::Stall {
                        // Hold both sockets open and pass nothing more
                        // until the client gives up and closes its end.
                        stalled.store(true, Ordering::SeqCst);
                        while from.read(&mut buf).is_ok_and(|n| n > 0) {}
                    }
                    break;
                }
                _ => n,
            };
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n as u64;
            count.fetch_add(n as u64, Ordering::SeqCst);
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
    // Server to client, until the other direction stalls.
    std::thread::spawn(move || {
        let (mut from, mut to) = (s2, c2);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if stalled2.load(Ordering::SeqCst) {
                // Swallow what the server still says; the client gets nothing.
                continue;
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        if !stalled2.load(Ordering::SeqCst) {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        }
    });
}
