//! Host-key checking against an OpenSSH `known_hosts` file, and adding a
//! key to one (`recpipe trust-host`).
//!
//! Matching is libssh2's: plain and hashed (`|1|salt|hash`) host names,
//! `[host]:port` for a port other than 22. The file is fed to libssh2 line
//! by line so that a line it cannot parse (a key type it does not know) is
//! skipped instead of failing the whole file; a skipped line can only make a
//! host unknown, never trusted. Marker lines are read here, not by libssh2:
//! a key on an `@revoked` line is refused whatever else the file says and
//! whatever host the line names (stricter than OpenSSH, which matches the
//! host too); `@cert-authority` lines are never trust (recpipe does not
//! check certificates), so they count as absent.
//! Fingerprints are OpenSSH's: `SHA256:` and the unpadded base64 of the
//! SHA-256 of the key blob.

use crate::destination::DestError;
use crate::fsutil::{Small, read_small};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};
use ssh2::{CheckResult, KnownHostFileKind, Session};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// A server's public host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// The key in SSH wire format, as known_hosts stores it in base64.
    pub blob: Vec<u8>,
}

impl HostKey {
    /// The key the server presented during the handshake.
    pub fn of(session: &Session) -> Option<HostKey> {
        session.host_key().map(|(blob, _)| HostKey {
            blob: blob.to_vec(),
        })
    }

    /// The key type named inside the blob, e.g. `ssh-ed25519`.
    pub fn key_type(&self) -> String {
        let b = &self.blob;
        if b.len() >= 4 {
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            if let Some(name) = b.get(4..4 + n) {
                return String::from_utf8_lossy(name).into_owned();
            }
        }
        "unknown-type".into()
    }

    /// OpenSSH's fingerprint: `SHA256:` + unpadded base64 of the SHA-256.
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&self.blob))
        )
    }

    /// The key as a known_hosts line has it after the host: `TYPE BASE64`.
    pub fn openssh_text(&self) -> String {
        format!("{} {}", self.key_type(), STANDARD.encode(&self.blob))
    }
}

/// What a known_hosts file says about a host's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// The file lists this key for the host.
    Known,
    /// The file has no key for the host.
    Unknown,
    /// The file lists another key for the host.
    Mismatch,
    /// The file marks this very key `@revoked`.
    Revoked,
}

/// How known_hosts names `host` at `port`: `host` for 22, else `[host]:port`.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Looks `key` up for `host:port` in the known_hosts file at `path`. A
/// missing file knows no host.
pub fn status(
    session: &Session,
    path: &Path,
    host: &str,
    port: u16,
    key: &HostKey,
) -> Result<HostKeyStatus, DestError> {
    let failed = |message: String| DestError::KnownHosts {
        path: path.to_path_buf(),
        message,
    };
    let text = match read_small(path, Small::KnownHosts) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
        Err(e) => return Err(failed(e.to_string())),
    };
    let mut hosts = session
        .known_hosts()
        .map_err(|e| failed(e.message().to_string()))?;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('@') {
            if revokes(line, key) {
                return Ok(HostKeyStatus::Revoked);
            }
            // `@cert-authority` (and any other marker): never trust.
            continue;
        }
        // Unparseable lines are skipped; see the module comment.
        let _ = hosts.read_str(line, KnownHostFileKind::OpenSSH);
    }
    match hosts.check_port(host, port, &key.blob) {
        CheckResult::Match => Ok(HostKeyStatus::Known),
        CheckResult::NotFound => Ok(HostKeyStatus::Unknown),
        CheckResult::Mismatch => Ok(HostKeyStatus::Mismatch),
        CheckResult::Failure => Err(failed("libssh2 could not check the host key".into())),
    }
}

/// Whether `line` is `@revoked HOSTS TYPE BASE64 [COMMENT]` naming `key`.
fn revokes(line: &str, key: &HostKey) -> bool {
    let mut fields = line.split_whitespace();
    if fields.next() != Some("@revoked") {
        return false;
    }
    let (_hosts, _kind) = (fields.next(), fields.next());
    fields
        .next()
        .and_then(|b64| STANDARD.decode(b64).ok())
        .is_some_and(|blob| blob == key.blob)
}

/// Appends a plain `HOST-PATTERN TYPE BASE64` line for `host:port` to the
/// known_hosts file at `path`, creating it (and its folder) if needed. Other
/// lines are left exactly as they were.
pub fn append(path: &Path, host: &str, port: u16, key: &HostKey) -> Result<(), DestError> {
    let failed = |e: std::io::Error| DestError::KnownHosts {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let existing = match read_small(path, Small::KnownHosts) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(failed(e)),
    };
    let mut line = String::new();
    if !existing.is_empty() && !existing.ends_with(b"\n") {
        line.push('\n');
    }
    line.push_str(&format!(
        "{} {}\n",
        host_pattern(host, port),
        key.openssh_text()
    ));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(failed)?;
    f.write_all(line.as_bytes()).map_err(failed)?;
    f.sync_all().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(kind: &str, body: &[u8]) -> HostKey {
        let mut b = (kind.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind.as_bytes());
        b.extend_from_slice(body);
        HostKey { blob: b }
    }

    #[test]
    fn key_type_is_read_from_the_blob() {
        assert_eq!(blob("ssh-ed25519", &[1, 2, 3]).key_type(), "ssh-ed25519");
        assert_eq!(HostKey { blob: vec![0, 0] }.key_type(), "unknown-type");
    }

    #[test]
    fn fingerprint_is_openssh_style() {
        let fp = blob("ssh-ed25519", &[7; 36]).fingerprint();
        assert!(fp.starts_with("SHA256:"));
        assert!(!fp.ends_with('='));
        assert_eq!(fp.len(), "SHA256:".len() + 43);
    }

    #[test]
    fn a_revoked_line_names_a_key_by_its_blob() {
        let key = blob("ssh-ed25519", &[5; 32]);
        let other = blob("ssh-ed25519", &[6; 32]);
        let line = format!("@revoked * {}", key.openssh_text());
        assert!(revokes(&line, &key));
        assert!(!revokes(&line, &other));
        assert!(!revokes(
            &format!("@cert-authority * {}", key.openssh_text()),
            &key
        ));
        assert!(!revokes("@revoked", &key));
    }

    #[test]
    fn non_default_ports_use_brackets() {
        assert_eq!(host_pattern("tsd.uio.no", 22), "tsd.uio.no");
        assert_eq!(host_pattern("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }

    #[test]
    fn append_keeps_other_lines_and_adds_a_newline_where_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "# mine\nother ssh-rsa AAAA").unwrap();
        let key = blob("ssh-ed25519", &[9; 4]);
        append(&path, "h", 2222, &key).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!(
                "# mine\nother ssh-rsa AAAA\n[h]:2222 {}\n",
                key.openssh_text()
            )
        );
    }
}
