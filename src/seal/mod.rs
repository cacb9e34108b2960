//! Sealing: recpipe's encrypted file format (`docs/seal-format.md`).
//!
//! A sealed file is a header (magic, version, one stanza per recipient that
//! wraps a random 32-byte file key, and an HMAC over all of it under a key
//! derived from the file key) followed by the payload: AES-256-GCM in the
//! STREAM construction over 64 KiB segments, whose nonces carry the segment
//! counter and a last-segment flag, so truncation, reordering, duplication
//! and appending are all detected.
//!
//! The pipeline uses [`SealWriter`] (a streaming `Write` that hashes the
//! plaintext and the ciphertext in the same pass) and, for
//! `[cleanup] after = "sealed"`, [`verify_sealed`] with the file key that
//! [`SealWriter::finish`] hands back. Decrypting uses [`OpenReader`] or
//! [`decrypt`]; the file-level operations the CLI runs (keygen, sealing a
//! file, decrypting to a temporary file that becomes the output only once
//! the last segment authenticates) live in [`file`].
//!
//! Invariants: no key, file key or passphrase is ever formatted into an
//! error or a `Debug` string; every secret is zeroized on drop; plaintext is
//! released by [`OpenReader`] only after the segment holding it has
//! authenticated, and end of file is reported only after the last segment
//! has.

mod error;
pub mod file;
mod header;
mod keys;
mod reader;
mod sink;
mod stanza;
mod stream;
mod writer;

#[cfg(test)]
mod tests;

pub use crate::digest::Sha256Digest;
pub use error::{KeyError, OpenError, SealError};
pub use header::{Header, Stanza, parse_header};
pub use keys::{FileKey, Identity, Passphrase, Recipient, parse_identities, parse_recipients};
pub use reader::{OpenReader, OpenSummary, Unlock, decrypt, verify_sealed};
pub use stanza::Argon2Params;
pub use writer::{SealSummary, SealWriter, Sealed};

/// The first bytes of every sealed file.
pub const MAGIC: &[u8; 12] = b"recpipe-seal";
/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Plaintext bytes per payload segment (every segment but the last is full).
pub const SEGMENT_SIZE: usize = 64 * 1024;
/// Bytes an AES-GCM tag adds to each segment.
pub const TAG_SIZE: usize = 16;
/// Bytes of the random payload nonce that follows the header.
pub const PAYLOAD_NONCE_SIZE: usize = 16;
/// Most stanzas a header may hold.
pub const MAX_STANZAS: usize = 32;
/// The file-name extension sealed files get (`interview.m4a.sealed`).
pub const SEALED_EXTENSION: &str = "sealed";
