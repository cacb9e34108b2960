//! The SFTP destination (TSD's file import, or any OpenSSH server), on the
//! ssh2 crate (libssh2).
//!
//! Invariants: the session is only used after the host key matched
//! known_hosts and the login succeeded ([`session`]); partials are created
//! with `O_EXCL` and written through one sliding buffer ([`sliding`]), so
//! libssh2 keeps its 30,000-byte requests in flight from one chunk to the
//! next; a finished partial is fsynced on the server
//! with `fsync@openssh.com` where the server offers it (a server that does
//! not, or refuses it as `sftp-server -P fsync` does, gets one
//! [`Note::FsyncNotOffered`] and no error, and [`Destination::writes_synced`]
//! says so); the rename into place is SFTP's plain rename without the
//! overwrite flag, which OpenSSH's server performs as link + unlink and
//! which therefore fails instead of replacing an existing file
//! (`posix-rename@openssh.com` would replace it, so it is not used); a
//! server whose rename replaces is found at connect time and refused
//! ([`DestError::RenameReplaces`]); a partial whose length the server will
//! not give on its handle (no fstat) is [`DestError::PartialUncheckable`].

pub mod known_hosts;
pub mod session;
pub mod sliding;

use super::stream::{copy_read_ahead, hash_stream};
use super::{CHUNK, DestError, Destination, ErrorClass, Note, Progress, Prompter, partial_name};
use ssh2::{ErrorCode, OpenFlags, OpenType, RenameFlags, Session, Sftp};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use known_hosts::{HostKey, HostKeyStatus};
use sliding::SlidingWriter;

/// The upload's sliding buffer ([`SlidingWriter`]): at most this much is
/// queued in libssh2 at once, four times the server's channel window
/// (OpenSSH's sshd: 2 MiB), so the window never waits for recpipe.
const SLIDE: usize = CHUNK;

/// How the transfers use libssh2; every lever is on by default.
/// `benches/upload.rs` switches one off at a time to measure what each
/// pays, in the same run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levers {
    /// Upload through one sliding buffer ([`SlidingWriter`]) instead of a
    /// `write_all` per chunk (which drains libssh2's pipeline each time).
    pub sliding_write: bool,
}

impl Default for Levers {
    fn default() -> Levers {
        Levers {
            sliding_write: true,
        }
    }
}

/// How long a connect, or any single exchange with the server, may take
/// before the connection counts as broken (a retryable error).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where and how to log in.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The remote folder; relative paths are relative to the login folder.
    pub path: String,
    pub known_hosts: PathBuf,
    pub identity_file: Option<PathBuf>,
    pub timeout: Duration,
}

/// A logged-in SFTP session writing into one remote folder.
pub struct SftpDestination {
    sftp: Sftp,
    session: Session,
    root: String,
    location: String,
    /// Whether `fsync@openssh.com` is still worth asking for.
    fsync_offered: bool,
    notes: Vec<Note>,
    levers: Levers,
}

/// The rename into place: atomic where the server can, and never replacing
/// an existing file. libssh2's default (`None`) asks to overwrite; with
/// SFTP v3, which OpenSSH speaks, libssh2 sends no flags at all and the
/// server's plain rename refuses to replace, but the request says what is
/// meant should a server speak a later version.
const NO_OVERWRITE: RenameFlags = RenameFlags::ATOMIC.union(RenameFlags::NATIVE);

// SFTP status codes (draft-ietf-secsh-filexfer-02).
const FX_NO_SUCH_FILE: i32 = 2;
const FX_PERMISSION_DENIED: i32 = 3;
const FX_OP_UNSUPPORTED: i32 = 8;
const FX_FILE_ALREADY_EXISTS: i32 = 11;

impl SftpDestination {
    /// Connects, checks the host key, logs in, starts SFTP and creates the
    /// remote folder if it is missing.
    pub fn connect(target: &Target, prompter: &dyn Prompter) -> Result<SftpDestination, DestError> {
        let session = session::login(session::open_checked(target)?, target, prompter)?;
        let sftp = session.sftp().map_err(session::ssh_error(
            &target.host,
            target.port,
            "starting SFTP",
        ))?;
        let root = match target.path.trim_end_matches('/') {
            "" if target.path.starts_with('/') => "/".to_string(),
            "" => ".".to_string(),
            p => p.to_string(),
        };
        let dest = SftpDestination {
            location: format!(
                "sftp://{}@{}:{}/{}",
                target.user,
                target.host,
                target.port,
                root.trim_start_matches('/')
            ),
            sftp,
            session,
            root,
            fsync_offered: true,
            notes: Vec::new(),
            levers: Levers::default(),
        };
        dest.make_root()?;
        dest.check_rename()?;
        Ok(dest)
    }

    /// Switches levers off (or on again); for the benchmarks.
    pub fn set_levers(&mut self, levers: Levers) {
        self.levers = levers;
    }

    /// Finds out whether the server's rename replaces an existing file: two
    /// scratch dot-files in the destination folder, the first renamed onto
    /// the second as an upload's rename is asked for, both removed after.
    /// OpenSSH's server refuses (link + unlink); a server that replaces
    /// (Go's pkg/sftp behind rclone) cannot keep "never replaces", whatever
    /// recpipe looks at first, since its listing may be cached, so it is
    /// refused ([`DestError::RenameReplaces`]).
    fn check_rename(&self) -> Result<(), DestError> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let stem = format!(".recpipe-rename-check-{}-{stamp}", std::process::id());
        let (a, b) = (
            self.remote(&format!("{stem}.a")),
            self.remote(&format!("{stem}.b")),
        );
        match self.scratch(&a) {
            Ok(()) => {}
            // Nothing can be written there (a read-only login): every upload
            // fails at its create, so no rename is ever asked for.
            Err(e) if e.class() == ErrorClass::Permanent => return Ok(()),
            Err(e) => return Err(e),
        }
        let result = self.scratch(&b).map(|()| {
            let renamed = self
                .sftp
                .rename(Path::new(&a), Path::new(&b), Some(NO_OVERWRITE))
                .is_ok();
            let first_left = self.sftp.stat(Path::new(&a)).is_ok();
            renamed || !first_left
        });
        for p in [&a, &b] {
            let _ = self.sftp.unlink(Path::new(p));
        }
        if result? {
            return Err(DestError::RenameReplaces {
                location: self.location.clone(),
            });
        }
        Ok(())
    }

    /// Creates `path` exclusively, holding one byte.
    fn scratch(&self, path: &str) -> Result<(), DestError> {
        let mut f = self
            .sftp
            .open_mode(
                Path::new(path),
                OpenFlags::WRITE | OpenFlags::EXCLUSIVE,
                0o600,
                OpenType::File,
            )
            .map_err(|e| self.error("create", path, e))?;
        f.write_all(b"r")
            .map_err(|e| self.io_error("write", path, e))?;
        f.close().map_err(|e| self.error("close", path, e))
    }

    fn remote(&self, name: &str) -> String {
        if self.root == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.root)
        }
    }

    fn error(&self, op: &'static str, path: &str, e: ssh2::Error) -> DestError {
        DestError::Remote {
            location: self.location.clone(),
            op,
            path: path.to_string(),
            message: describe(&e),
            class: session::class_of(&e),
        }
    }

    /// An I/O error from reading or writing a remote file: the ssh2 crate
    /// drops the code, so ask the session what went wrong.
    fn io_error(&self, op: &'static str, path: &str, e: std::io::Error) -> DestError {
        let class = match ssh2::Error::last_session_error(&self.session) {
            Some(last) => session::class_of(&last),
            None => ErrorClass::Retryable,
        };
        DestError::Remote {
            location: self.location.clone(),
            op,
            path: path.to_string(),
            message: e.to_string(),
            class,
        }
    }

    /// `mkdir -p` of the root, folder by folder. A root that is a folder
    /// already (every connection after the first) costs one round trip,
    /// not one per folder of its path.
    fn make_root(&self) -> Result<(), DestError> {
        if let Ok(st) = self.sftp.stat(Path::new(&self.root))
            && st.is_dir()
        {
            return Ok(());
        }
        let mut prefix = String::new();
        for part in self.root.split('/') {
            if part.is_empty() {
                if prefix.is_empty() {
                    prefix.push('/');
                }
                continue;
            }
            if !prefix.is_empty() && !prefix.ends_with('/') {
                prefix.push('/');
            }
            prefix.push_str(part);
            if part == "." || part == ".." {
                continue;
            }
            let p = Path::new(&prefix);
            match self.sftp.stat(p) {
                Ok(st) if st.is_dir() => continue,
                Ok(_) => {
                    return Err(DestError::NotAFile {
                        location: self.location.clone(),
                        name: prefix.clone(),
                    });
                }
                Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => {}
                Err(e) => return Err(self.error("stat", &prefix, e)),
            }
            if let Err(e) = self.sftp.mkdir(p, 0o700) {
                // Someone else may have made it meanwhile.
                if !self.sftp.stat(p).map(|s| s.is_dir()).unwrap_or(false) {
                    return Err(self.error("create folder", &prefix, e));
                }
            }
        }
        Ok(())
    }
}

/// Whether a failed request (`fsync@openssh.com`, fstat) means the server
/// does not offer it (unsupported, or refused by its configuration) rather
/// than that it failed.
fn fsync_refused(e: &ssh2::Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::SFTP(FX_OP_UNSUPPORTED | FX_PERMISSION_DENIED)
    )
}

/// libssh2's message, with the SFTP status spelled out where it helps.
fn describe(e: &ssh2::Error) -> String {
    match e.code() {
        ErrorCode::SFTP(FX_NO_SUCH_FILE) => "no such file or folder".into(),
        ErrorCode::SFTP(FX_PERMISSION_DENIED) => "permission denied by the server".into(),
        ErrorCode::SFTP(4) => {
            "the server refused without saying why (a full disk or quota is common)".into()
        }
        ErrorCode::SFTP(FX_OP_UNSUPPORTED) => "the server does not support this".into(),
        ErrorCode::SFTP(FX_FILE_ALREADY_EXISTS) => "it already exists".into(),
        _ => e.message().to_string(),
    }
}

impl Destination for SftpDestination {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        let path = self.remote(name);
        match self.sftp.stat(Path::new(&path)) {
            Ok(st) if st.is_file() => Ok(Some(st.size.unwrap_or(0))),
            Ok(_) => Err(DestError::NotAFile {
                location: self.location.clone(),
                name: name.to_string(),
            }),
            Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => Ok(None),
            Err(e) => Err(self.error("stat", &path, e)),
        }
    }

    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        let path = self.remote(&partial_name(name));
        let p = Path::new(&path);
        let mut out = if offset == 0 {
            self.sftp
                .open_mode(
                    p,
                    OpenFlags::WRITE | OpenFlags::EXCLUSIVE,
                    0o600,
                    OpenType::File,
                )
                .map_err(|e| self.error("create", &path, e))?
        } else {
            let mut f = self
                .sftp
                .open_mode(p, OpenFlags::WRITE, 0o600, OpenType::File)
                .map_err(|e| self.error("open", &path, e))?;
            let actual = match f.stat() {
                Ok(st) => st.size.unwrap_or(0),
                // No fstat here: the partial's length cannot be checked on
                // the handle that would continue it.
                Err(e) if fsync_refused(&e) => {
                    return Err(DestError::PartialUncheckable {
                        location: self.location.clone(),
                        name: partial_name(name),
                        why: format!("the server refuses fstat: {}", describe(&e)),
                    });
                }
                Err(e) => return Err(self.error("stat", &path, e)),
            };
            if actual != offset {
                return Err(DestError::PartialChanged {
                    location: self.location.clone(),
                    name: name.to_string(),
                    expected: offset,
                    actual,
                });
            }
            f.seek(SeekFrom::Start(offset))
                .map_err(|e| self.io_error("seek", &path, e))?;
            f
        };
        src.seek(SeekFrom::Start(offset))
            .map_err(|e| DestError::io("seek", PathBuf::from(&path), e))?;
        let pos = if self.levers.sliding_write {
            // One sliding buffer: libssh2's requests for the next chunk are
            // queued while the last chunk's are still in flight.
            let mut w = SlidingWriter::new(&mut out, SLIDE);
            let mut reported = 0;
            copy_read_ahead(
                src,
                |chunk| {
                    w.push(chunk)
                        .map_err(|e| self.io_error("write", &path, e))?;
                    if w.acked() > reported {
                        reported = w.acked();
                        progress(offset + reported);
                    }
                    Ok(())
                },
                |e| DestError::io("read", PathBuf::from(&path), e),
            )?;
            let (sent, _) = w.finish().map_err(|e| self.io_error("write", &path, e))?;
            if sent > reported {
                progress(offset + sent);
            }
            offset + sent
        } else {
            // Each chunk written whole: the pipeline drains at its end.
            let mut pos = offset;
            copy_read_ahead(
                src,
                |chunk| {
                    out.write_all(chunk)
                        .map_err(|e| self.io_error("write", &path, e))?;
                    pos += chunk.len() as u64;
                    progress(pos);
                    Ok(())
                },
                |e| DestError::io("read", PathBuf::from(&path), e),
            )?;
            pos
        };
        if self.fsync_offered {
            match out.fsync() {
                Ok(()) => {}
                // fsync@openssh.com not supported (OP_UNSUPPORTED) or
                // switched off (`sftp-server -P fsync`: PERMISSION_DENIED):
                // the server's close is all there is. Said once, never an
                // error, and not asked again on this connection.
                Err(e) if fsync_refused(&e) => {
                    self.fsync_offered = false;
                    self.notes.push(Note::FsyncNotOffered {
                        location: self.location.clone(),
                    });
                }
                Err(e) => return Err(self.error("fsync", &path, e)),
            }
        }
        out.close().map_err(|e| self.error("close", &path, e))?;
        Ok(pos)
    }

    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        let path = self.remote(name);
        let mut f = self
            .sftp
            .open(Path::new(&path))
            .map_err(|e| self.error("open", &path, e))?;
        // Whole chunks: libssh2 reads up to 8 MiB ahead either way, and
        // smaller reads (2 MiB, so it tops its read-ahead up more often)
        // were slower (benches/upload.rs: 0.78 on loopback, 0.97 at 40 ms;
        // docs/destinations.md).
        let result = hash_stream(&mut f, progress);
        result.map_err(|e| self.io_error("read", &path, e))
    }

    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        let from = self.remote(&partial_name(name));
        let to = self.remote(name);
        let exists = |location: String| DestError::Exists {
            location,
            name: name.to_string(),
            why: "a file of that name is there already".into(),
        };
        // No look first: the server's rename refuses to replace (shown at
        // connect, [`Self::check_rename`]), and a look would only cost a
        // round trip and race.
        match self
            .sftp
            .rename(Path::new(&from), Path::new(&to), Some(NO_OVERWRITE))
        {
            Ok(()) => Ok(()),
            // Refused because `name` is there (someone else's file, or this
            // rename's own when its reply was lost: the retry tells them
            // apart by the partial).
            Err(e) => {
                if self.stat(name)?.is_some() {
                    Err(exists(self.location.clone()))
                } else {
                    Err(self.error("rename", &from, e))
                }
            }
        }
    }

    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        let path = self.remote(&partial_name(name));
        match self.sftp.unlink(Path::new(&path)) {
            Ok(()) => Ok(()),
            Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => Ok(()),
            Err(e) => Err(self.error("remove", &path, e)),
        }
    }

    fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    fn writes_synced(&self) -> bool {
        self.fsync_offered
    }
}

/// Connects to `host:port` and returns the host key it presents, without
/// checking it or logging in (for `recpipe trust-host`).
pub fn probe_host_key(host: &str, port: u16, timeout: Duration) -> Result<HostKey, DestError> {
    let session = session::handshake(host, port, timeout)?;
    HostKey::of(&session).ok_or_else(|| DestError::Ssh {
        host: host.to_string(),
        port,
        stage: "handshake",
        message: "the server sent no host key".into(),
        class: ErrorClass::Permanent,
    })
}

/// What `known_hosts` says about `key` for `host:port`.
pub fn host_key_status(
    known_hosts: &Path,
    host: &str,
    port: u16,
    key: &HostKey,
) -> Result<HostKeyStatus, DestError> {
    let session = Session::new().map_err(session::ssh_error(host, port, "setup"))?;
    known_hosts::status(&session, known_hosts, host, port, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rename_never_asks_to_overwrite() {
        assert!(!NO_OVERWRITE.contains(RenameFlags::OVERWRITE));
        assert!(NO_OVERWRITE.contains(RenameFlags::ATOMIC));
    }
}
