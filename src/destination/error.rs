//! Why a destination operation failed, and whether trying again can help.
//!
//! Every error names the host, file or folder it concerns and carries an
//! [`ErrorClass`]: the retry wrapper retries only `Retryable` errors, and the
//! pipeline keeps the sealed files and reports "waiting" for
//! `NeedsInteractiveLogin`. No variant holds a password, passphrase or
//! one-time code: answers never reach an error.

use std::path::PathBuf;

/// Whether an error can go away by trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A network or server hiccup: reconnecting and trying again may work.
    Retryable,
    /// Trying again gives the same answer until a person changes something.
    Permanent,
    /// The login needs a person at a terminal (a password, one-time code or
    /// key passphrase) and none is there.
    NeedsInteractiveLogin,
}

#[derive(Debug, thiserror::Error)]
pub enum DestError {
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },

    #[error("SSH connection to {host}:{port} failed during {stage}: {message}")]
    Ssh {
        host: String,
        port: u16,
        stage: &'static str,
        message: String,
        class: ErrorClass,
    },

    #[error(
        "the host key of {host}:{port} is not in {}: refusing to connect. \
         The server offered {key_type} key {fingerprint}. If that is the server's real key \
         (ask its administrators, or compare with their published fingerprint), \
         trust it with `recpipe trust-host {host}:{port} --known-hosts {}`",
        known_hosts.display(), known_hosts.display()
    )]
    UnknownHostKey {
        host: String,
        port: u16,
        key_type: String,
        fingerprint: String,
        known_hosts: PathBuf,
    },

    #[error(
        "the host key of {host}:{port} DOES NOT MATCH the one in {}: refusing to connect. \
         The server offered {key_type} key {fingerprint}. Someone may be intercepting the \
         connection, or the server's key was changed. Ask the server's administrators; only if \
         they confirm a new key, remove the old entry (`ssh-keygen -R '[{host}]:{port}' -f {}`) \
         and run `recpipe trust-host {host}:{port}`",
        known_hosts.display(), known_hosts.display()
    )]
    HostKeyMismatch {
        host: String,
        port: u16,
        key_type: String,
        fingerprint: String,
        known_hosts: PathBuf,
    },

    #[error(
        "the host key of {host}:{port} ({key_type} {fingerprint}) is marked @revoked in {}: \
         refusing to connect. A revoked key must never be used again; ask the server's \
         administrators for its current key",
        known_hosts.display()
    )]
    HostKeyRevoked {
        host: String,
        port: u16,
        key_type: String,
        fingerprint: String,
        known_hosts: PathBuf,
    },

    #[error("cannot read known hosts file {}: {message}", path.display())]
    KnownHosts { path: PathBuf, message: String },

    #[error(
        "logging in to {host}:{port} as {user} needs a person at a terminal (a password, \
         one-time code or key passphrase); nothing was uploaded and the sealed files are kept. \
         Finish by running `recpipe run` from a terminal"
    )]
    NeedsInteractiveLogin {
        host: String,
        port: u16,
        user: String,
    },

    #[error(
        "{host}:{port} refused the login as {user} (tried: {tried}; the server offers: {offered})"
    )]
    LoginRefused {
        host: String,
        port: u16,
        user: String,
        tried: String,
        offered: String,
    },

    #[error("cannot use the key file {}: {message}", path.display())]
    KeyFile { path: PathBuf, message: String },

    #[error("cannot ask for {what}: {message}")]
    Prompt { what: String, message: String },

    #[error("{op} {path} at {location} failed: {message}")]
    Remote {
        location: String,
        op: &'static str,
        path: String,
        message: String,
        class: ErrorClass,
    },

    #[error("{op} {} failed: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
        class: ErrorClass,
    },

    #[error(
        "{name} already exists at {location} and is not counted as delivered ({why}); it was \
         not overwritten and nothing was removed. Find out what it is, then move it away or \
         give this upload another name"
    )]
    Exists {
        location: String,
        name: String,
        why: String,
    },

    #[error(
        "{name} at {location} is not the file sent after it was put in place ({what}); it was \
         left there as it is and nothing was removed here. Find out what happened to it \
         before anything else is sent there"
    )]
    DeliveredDiffers {
        location: String,
        name: String,
        what: String,
    },

    #[error(
        "the partial upload of {name} at {location} cannot be checked ({why}); it is removed \
         and the upload starts over"
    )]
    PartialUncheckable {
        location: String,
        name: String,
        why: String,
    },

    #[error(
        "{location} replaces an existing file when it renames one (tried at connect time with \
         two scratch files); recpipe cannot then promise never to replace a file there, so it \
         does not upload there. Use a server whose rename refuses to replace (OpenSSH's \
         sftp-server), or ask its administrators"
    )]
    RenameReplaces { location: String },

    #[error("{name} at {location} is not a regular file")]
    NotAFile { location: String, name: String },

    #[error("{name:?} is not a plain file name (no folders, not empty, not . or ..)")]
    BadName { name: String },

    #[error(
        "the partial upload of {name} at {location} is {actual} bytes, not the {expected} \
         it was to be continued from"
    )]
    PartialChanged {
        location: String,
        name: String,
        expected: u64,
        actual: u64,
    },

    #[error(
        "{name} at {location} failed verification ({what}); the partial upload was removed \
         and will be sent again"
    )]
    VerifyMismatch {
        location: String,
        name: String,
        what: String,
    },

    #[error(
        "local file {} is {actual} bytes, but {expected} were expected: it changed after it \
         was sealed; nothing was uploaded",
        path.display()
    )]
    LocalChanged {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },

    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        attempts: u32,
        #[source]
        last: Box<DestError>,
    },
}

impl DestError {
    /// Whether trying again can help.
    pub fn class(&self) -> ErrorClass {
        match self {
            DestError::Connect { .. } => ErrorClass::Retryable,
            DestError::Ssh { class, .. }
            | DestError::Remote { class, .. }
            | DestError::Io { class, .. } => *class,
            DestError::NeedsInteractiveLogin { .. } => ErrorClass::NeedsInteractiveLogin,
            DestError::PartialChanged { .. } | DestError::VerifyMismatch { .. } => {
                ErrorClass::Retryable
            }
            DestError::GaveUp { last, .. } => last.class(),
            DestError::UnknownHostKey { .. }
            | DestError::HostKeyMismatch { .. }
            | DestError::HostKeyRevoked { .. }
            | DestError::KnownHosts { .. }
            | DestError::LoginRefused { .. }
            | DestError::KeyFile { .. }
            | DestError::Prompt { .. }
            | DestError::Exists { .. }
            | DestError::DeliveredDiffers { .. }
            | DestError::PartialUncheckable { .. }
            | DestError::RenameReplaces { .. }
            | DestError::NotAFile { .. }
            | DestError::BadName { .. }
            | DestError::LocalChanged { .. } => ErrorClass::Permanent,
        }
    }

    /// A local I/O error, classed by its kind: errors a network mount or a
    /// busy disk can recover from are retryable, the rest permanent.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> DestError {
        use std::io::ErrorKind as K;
        let class = match source.kind() {
            K::TimedOut
            | K::Interrupted
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::WouldBlock
            | K::UnexpectedEof => ErrorClass::Retryable,
            _ => ErrorClass::Permanent,
        };
        DestError::Io {
            op,
            path: path.into(),
            source,
            class,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_classed_by_kind() {
        let e = DestError::io("write", "/x", std::io::ErrorKind::TimedOut.into());
        assert_eq!(e.class(), ErrorClass::Retryable);
        let e = DestError::io("write", "/x", std::io::ErrorKind::PermissionDenied.into());
        assert_eq!(e.class(), ErrorClass::Permanent);
    }

    #[test]
    fn gave_up_keeps_the_class_of_the_last_error() {
        let last = DestError::io("write", "/x", std::io::ErrorKind::TimedOut.into());
        let e = DestError::GaveUp {
            attempts: 3,
            last: Box::new(last),
        };
        assert_eq!(e.class(), ErrorClass::Retryable);
        assert!(e.to_string().contains("3 attempts"));
    }
}
