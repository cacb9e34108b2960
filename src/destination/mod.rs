//! Destinations: where sealed outputs go (a folder, or an SFTP server such as
//! TSD), behind one [`Destination`] trait whose every method states what it
//! promises and what is safe to repeat.
//!
//! The upload protocol on top of the trait ([`send`]) is the same for every
//! backend: a file is written to `.NAME.recpipe-partial` (a dot-file, which
//! importers such as TSD's skip), resumed after a failure only from a prefix
//! proven to be this very file's, verified (SHA-256 read-back or size) while
//! it is still a partial, made durable, and only then renamed to `NAME`
//! without ever replacing an existing `NAME`. So `NAME` at a destination only
//! ever holds a complete, verified file, and a crash at any instant leaves
//! either nothing, a partial to resume or remove, or the verified file.
//!
//! Retries are not inside any backend: [`retry::Retrying`] wraps a backend and
//! retries by the error's [`ErrorClass`], reconnecting between attempts.
//! Errors never contain a password, passphrase or one-time code.

pub mod dir;
mod error;
pub mod prompt;
pub mod retry;
pub mod sftp;
mod stream;
mod transfer;
pub mod tsd;

pub use error::{DestError, ErrorClass};
pub use prompt::{NoTerminal, PromptError, Prompter, Secret};
pub use retry::{Notice, Observed, RetryEvent, RetryPolicy, Retrying};
pub use transfer::{Checked, Expected, Prepared, Sent, finish, prepare, recognise, send, verify};

use crate::config;
use std::fs::File;
use std::sync::atomic::AtomicBool;

/// The suffix of the file an upload is written to before it is verified and
/// renamed into place.
pub const PARTIAL_SUFFIX: &str = ".recpipe-partial";

/// Size of each write and read: libssh2 splits a write into 30,000-byte
/// packets and sends them ahead; SFTP uploads hand it one sliding buffer of
/// this size (`sftp::sliding`) so requests stay in flight from one chunk
/// to the next. At a 40 ms round trip 8 MiB reads and writes beat 1 MiB
/// ones (docs/destinations.md); a run's peak memory stays near 60 MiB.
pub const CHUNK: usize = 8 << 20;

/// The name of the partial file an upload of `name` is written to:
/// `.NAME.recpipe-partial`. The leading dot hides it from importers that
/// skip dot-files (TSD's), so a growing partial is never imported.
pub fn partial_name(name: &str) -> String {
    format!(".{name}{PARTIAL_SUFFIX}")
}

/// Receives the byte position reached by an upload or a read-back.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// Something a backend noticed that is worth saying once but is no error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The server does not offer `fsync@openssh.com` (or refuses it): files
    /// are as durable as the server's close makes them.
    FsyncNotOffered { location: String },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::FsyncNotOffered { location } => write!(
                f,
                "{location} does not offer fsync: uploads are as durable as the server's close makes them"
            ),
        }
    }
}

/// A place sealed files are stored. Names are plain file names (no `/`),
/// relative to the destination's folder, which exists once the destination
/// is open.
pub trait Destination {
    /// Where this destination writes, for messages (`sftp://user@host:port/path`
    /// or a folder path). Never contains a secret.
    fn location(&self) -> String;

    /// The size of the regular file `name`, or `None` if there is none.
    /// Changes nothing; safe to repeat. A directory or other non-file at
    /// `name` is an error.
    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError>;

    /// Writes the bytes of `src` from `offset` to its end into
    /// `partial_name(name)`, at the same offsets, then makes the partial
    /// durable (fsync where the backend offers it) and returns its length.
    ///
    /// `offset == 0` creates the partial exclusively: an existing partial is
    /// an error, never truncated. `offset > 0` continues an existing partial
    /// whose length must be exactly `offset` ([`DestError::PartialChanged`]
    /// otherwise). Repeating the call with the partial's current length as
    /// `offset` is always safe; this is how an interrupted upload resumes.
    /// Never touches `name` itself. Reports the position reached to
    /// `progress`.
    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError>;

    /// Reads the file `name` (which may be a partial's name) from start to end
    /// and returns its SHA-256 and length. Changes nothing; safe to repeat.
    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError>;

    /// Whether the partial `partial` (of `len` bytes) is a prefix of the
    /// local file `local`, so an upload may continue it. By default it is
    /// read back and its SHA-256 compared with the local file's first `len`
    /// bytes; a backend that cannot read back proves it its own way (TSD:
    /// the MD5 of the last chunk the server holds, checked when the upload
    /// continues). Changes nothing; safe to repeat.
    fn partial_is_prefix(
        &mut self,
        partial: &str,
        local: &mut File,
        len: u64,
    ) -> Result<bool, DestError> {
        let (remote_sha, remote_len) = self.read_back(partial, &mut |_| {})?;
        if remote_len != len {
            return Ok(false);
        }
        local
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|e| DestError::io("seek", "the sealed file", e))?;
        use std::io::{Read, Seek};
        let (local_sha, local_len) = stream::hash_stream(&mut local.take(len), &mut |_| {})
            .map_err(|e| DestError::io("read", "the sealed file", e))?;
        Ok(local_len == len && local_sha == remote_sha)
    }

    /// Renames `partial_name(name)` to `name`, never replacing an existing
    /// `name`: if `name` exists this fails with [`DestError::Exists`] and
    /// changes nothing. Atomic where the backend allows (a hard link then an
    /// unlink in a folder; SFTP's own rename, which OpenSSH performs the same
    /// way). Once it succeeded, repeating it fails with `Exists`.
    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError>;

    /// Removes `partial_name(name)`. An absent partial is success, so it is
    /// safe to repeat. Never touches `name` itself.
    fn remove_partial(&mut self, name: &str) -> Result<(), DestError>;

    /// Hands over (and forgets) what the backend noticed since the last
    /// call; [`Retrying`] passes each kind on once. None by default.
    fn take_notes(&mut self) -> Vec<Note> {
        Vec::new()
    }

    /// Whether every upload so far was synced to the server's disk (false
    /// once a server did not offer fsync). True by default.
    fn writes_synced(&self) -> bool {
        true
    }
}

impl<D: Destination + ?Sized> Destination for Box<D> {
    fn location(&self) -> String {
        (**self).location()
    }
    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        (**self).stat(name)
    }
    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        (**self).upload(name, src, offset, progress)
    }
    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        (**self).read_back(name, progress)
    }
    fn partial_is_prefix(
        &mut self,
        partial: &str,
        local: &mut File,
        len: u64,
    ) -> Result<bool, DestError> {
        (**self).partial_is_prefix(partial, local, len)
    }
    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        (**self).rename_into_place(name)
    }
    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        (**self).remove_partial(name)
    }
    fn take_notes(&mut self) -> Vec<Note> {
        (**self).take_notes()
    }
    fn writes_synced(&self) -> bool {
        (**self).writes_synced()
    }
}

/// Opens the destination a pipeline names, wrapped in retries: connects
/// (SFTP: checks the host key against `known_hosts`, logs in, asking
/// `prompter` for a passphrase, password or one-time code when the server
/// wants one) and creates the destination folder if it is missing.
///
/// With [`NoTerminal`] as prompter a login that needs a person fails with
/// [`DestError::NeedsInteractiveLogin`] instead of asking. Setting `stop`
/// (Ctrl-C) ends any wait between retries at once. `opening` is told of
/// each failed try to open it before the wait (see [`Retrying::with_stop`]).
pub fn open<'p>(
    dest: &config::Destination,
    prompter: &'p dyn Prompter,
    policy: RetryPolicy,
    stop: &'p AtomicBool,
    opening: &mut dyn FnMut(&Notice<'_>),
) -> Result<Retrying<'p>, DestError> {
    match dest {
        config::Destination::Dir { path, .. } => {
            let path = path.clone();
            Retrying::with_stop(
                Box::new(move || Ok(Box::new(dir::DirDestination::open(&path)?) as _)),
                policy,
                stop,
                opening,
            )
        }
        config::Destination::Sftp {
            host,
            port,
            user,
            path,
            known_hosts,
            identity_file,
            ..
        } => {
            let target = sftp::Target {
                host: host.clone(),
                port: *port,
                user: user.clone(),
                path: path.clone(),
                known_hosts: known_hosts.clone(),
                identity_file: identity_file.clone(),
                timeout: sftp::DEFAULT_TIMEOUT,
            };
            Retrying::with_stop(
                Box::new(move || {
                    Ok(Box::new(sftp::SftpDestination::connect(&target, prompter)?) as _)
                }),
                policy,
                stop,
                opening,
            )
        }
        config::Destination::Tsd(cfg) => {
            // One session for every reconnect: tokens outlive connections.
            let session = std::rc::Rc::new(std::cell::RefCell::new(tsd::Session::new(
                cfg.clone(),
                prompter,
            )));
            Retrying::with_stop(
                Box::new(move || Ok(Box::new(tsd::TsdDestination::connect(session.clone())?) as _)),
                policy,
                stop,
                opening,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_name_appends_the_suffix() {
        assert_eq!(partial_name("a.age"), ".a.age.recpipe-partial");
    }
}
