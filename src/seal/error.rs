//! Error types of the sealing format. None of them ever holds a key, a file
//! key or a passphrase: recipients may be named (they are public), secrets
//! are only ever described.

use std::io;

/// Why a recipient or identity text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "this is a secret key (identity), not a recipient; use the 'recpipe1…' line that keygen printed"
    )]
    IdentityGivenAsRecipient,
    #[error(
        "this is a recipient (public key), not an identity; give the secret key file that keygen wrote"
    )]
    RecipientGivenAsIdentity,
    #[error("not a recpipe recipient: it must start with 'recpipe1'")]
    NotRecipient,
    #[error("not a recpipe identity: it must start with 'RECPIPE-SECRET-KEY-1'")]
    NotIdentity,
    #[error("the key text is damaged (bad characters or checksum); copy it again")]
    BadEncoding,
    #[error("the key has {0} bytes where 32 are expected")]
    WrongLength(usize),
}

/// Why sealing failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("nothing to seal to: give at least one recipient")]
    NoRecipients,
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error(
        "a recipient key is not a valid X25519 point (it would give an all-zero shared secret)"
    )]
    WeakRecipient,
    #[error("too many recipients ({0}); at most {max} fit in a header", max = super::MAX_STANZAS)]
    TooManyRecipients(usize),
    #[error("the file is too large to seal (more than 2^32 segments)")]
    TooLarge,
    #[error("the passphrase key derivation failed: {0}")]
    Argon2(String),
    #[error("writing the sealed output failed: {0}")]
    Io(#[from] io::Error),
}

/// Why a sealed stream could not be opened or failed part way.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("not a recpipe sealed file (it does not start with 'recpipe-seal')")]
    NotSealed,
    #[error("sealed with format version {0}, which this recpipe cannot read; use a newer recpipe")]
    UnsupportedVersion(u8),
    #[error("the header is malformed: {0}")]
    MalformedHeader(&'static str),
    #[error("none of the given identities can open it (it was sealed to other recipients)")]
    NoMatch,
    #[error("it was sealed with a passphrase; decrypt it with --passphrase")]
    NeedsPassphrase,
    #[error("it was sealed to public keys, not a passphrase; decrypt it with -i IDENTITY_FILE")]
    NeedsIdentity,
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    #[error(
        "its passphrase stanza asks for {0}, more work than recpipe allows; it was not made by recpipe"
    )]
    ExcessiveWork(String),
    #[error("the header was altered or damaged (its MAC does not match)")]
    HeaderMac,
    #[error("segment {index} does not authenticate: the file was altered or damaged")]
    Segment { index: u64 },
    #[error("the file is truncated: it ends before its last segment")]
    Truncated,
    #[error("the sealed file is not the one that was written (its {0} differs)")]
    Mismatch(&'static str),
    #[error("the passphrase key derivation failed: {0}")]
    Argon2(String),
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
}

impl OpenError {
    /// Turns an I/O error from [`crate::seal::OpenReader`] back into the
    /// open error it carries, if it carries one.
    pub fn from_io(e: io::Error) -> OpenError {
        if e.get_ref().is_some_and(|inner| inner.is::<OpenError>()) {
            match e.into_inner().map(|inner| inner.downcast::<OpenError>()) {
                Some(Ok(open)) => *open,
                _ => OpenError::Io(io::Error::other("unreadable error")),
            }
        } else {
            OpenError::Io(e)
        }
    }

    /// Whether the data itself is bad (altered, damaged, truncated, not a
    /// sealed file), as opposed to a wrong key or a failing disk.
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            OpenError::NotSealed
                | OpenError::UnsupportedVersion(_)
                | OpenError::MalformedHeader(_)
                | OpenError::HeaderMac
                | OpenError::Segment { .. }
                | OpenError::Truncated
                | OpenError::Mismatch(_)
        )
    }
}
