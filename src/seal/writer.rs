//! [`SealWriter`]: seals a stream as it is written, hashing the plaintext
//! and the sealed bytes in the same pass (the sealed bytes on a helper
//! thread, [`SealedSink`]).
//!
//! The writer keeps at most one segment (64 KiB) of plaintext: a full
//! segment is sealed only when more data arrives, because the last segment
//! must carry the last flag and only [`SealWriter::finish`] knows which one
//! that is. An I/O error poisons the writer: later writes fail rather than
//! produce a file with a hole in it.

use super::error::SealError;
use super::header::{Header, Stanza};
use super::keys::{FileKey, Passphrase, Recipient, random};
use super::sink::SealedSink;
use super::stanza::{Argon2Params, argon2_wrap, x25519_wrap};
use super::stream::PayloadCipher;
use super::{MAX_STANZAS, PAYLOAD_NONCE_SIZE, SEGMENT_SIZE, TAG_SIZE};
use crate::digest::Sha256Digest;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Write};
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

/// What sealing one stream produced: lengths and SHA-256 of the plaintext
/// (for the audit manifest) and of the sealed bytes (for upload checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealSummary {
    pub plaintext_len: u64,
    pub plaintext_sha256: Sha256Digest,
    pub sealed_len: u64,
    pub sealed_sha256: Sha256Digest,
}

/// The result of [`SealWriter::finish`]: the inner writer back, the
/// summary, and the file key, which [`super::verify_sealed`] uses to check
/// that the written file opens. Drop the key (it zeroizes) once verified.
#[derive(Debug)]
pub struct Sealed<W> {
    pub writer: W,
    pub summary: SealSummary,
    pub file_key: FileKey,
}

/// A `Write` that seals everything written to it into `W`.
///
/// Call [`SealWriter::finish`] at the end: it seals the last segment. A
/// writer dropped without `finish` leaves a stream that never opens (its
/// last segment is missing), so an interrupted seal cannot pass for a
/// whole file.
pub struct SealWriter<W: Write + Send + 'static> {
    /// Hashes and writes the sealed bytes, on a helper thread (the plaintext
    /// is hashed and sealed on the caller's): two cores.
    out: SealedSink<W>,
    sealed_len: u64,
    cipher: PayloadCipher,
    /// Plaintext of the segment being filled; sealed in place.
    segment: Zeroizing<Vec<u8>>,
    index: u32,
    plain_hash: Sha256,
    plain_len: u64,
    file_key: FileKey,
    poisoned: bool,
}

impl<W: Write + Send + 'static> fmt::Debug for SealWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealWriter")
            .field("plaintext_len", &self.plain_len)
            .field("sealed_len", &self.sealed_len)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send + 'static> SealWriter<W> {
    /// Starts a sealed stream to `recipients` (at least one, at most 32)
    /// and writes its header to `writer`.
    pub fn new(writer: W, recipients: &[Recipient]) -> Result<SealWriter<W>, SealError> {
        if recipients.is_empty() {
            return Err(SealError::NoRecipients);
        }
        if recipients.len() > MAX_STANZAS {
            return Err(SealError::TooManyRecipients(recipients.len()));
        }
        let file_key = FileKey::generate()?;
        let mut stanzas = Vec::with_capacity(recipients.len());
        for r in recipients {
            let mut eph = Zeroizing::new([0u8; 32]);
            random(eph.as_mut())?;
            stanzas.push(x25519_wrap(&file_key, r, StaticSecret::from(*eph))?);
        }
        let mut nonce = [0u8; PAYLOAD_NONCE_SIZE];
        random(&mut nonce)?;
        SealWriter::from_parts(writer, file_key, stanzas, nonce)
    }

    /// Starts a sealed stream that opens with `passphrase` (Argon2id).
    pub fn with_passphrase(
        writer: W,
        passphrase: &Passphrase,
        params: Argon2Params,
    ) -> Result<SealWriter<W>, SealError> {
        let file_key = FileKey::generate()?;
        let mut salt = [0u8; 16];
        random(&mut salt)?;
        let stanza = argon2_wrap(&file_key, passphrase, params, salt)?;
        let mut nonce = [0u8; PAYLOAD_NONCE_SIZE];
        random(&mut nonce)?;
        SealWriter::from_parts(writer, file_key, vec![stanza], nonce)
    }

    /// Starts a stream from fixed parts (test vectors use this).
    pub(crate) fn from_parts(
        writer: W,
        file_key: FileKey,
        stanzas: Vec<Stanza>,
        payload_nonce: [u8; PAYLOAD_NONCE_SIZE],
    ) -> Result<SealWriter<W>, SealError> {
        let mut header = Header {
            stanzas,
            mac: [0; 32],
        };
        header.mac = header.compute_mac(&file_key);
        let mut head = header.to_bytes();
        head.extend_from_slice(&payload_nonce);
        let mut out = SealedSink::new(writer);
        out.push(&head)?;
        Ok(SealWriter {
            out,
            sealed_len: head.len() as u64,
            cipher: PayloadCipher::new(&file_key, &payload_nonce),
            segment: Zeroizing::new(Vec::with_capacity(SEGMENT_SIZE + TAG_SIZE)),
            index: 0,
            plain_hash: Sha256::new(),
            plain_len: 0,
            file_key,
            poisoned: false,
        })
    }

    /// Seals the buffered segment and writes it out.
    fn emit(&mut self, last: bool) -> io::Result<()> {
        if !last && self.index == u32::MAX {
            self.poisoned = true;
            return Err(io::Error::other(SealError::TooLarge));
        }
        self.cipher.seal(self.index, last, &mut self.segment);
        let result = self.out.push(&self.segment);
        if result.is_err() {
            self.poisoned = true;
        }
        result?;
        self.sealed_len += self.segment.len() as u64;
        self.segment.clear();
        self.index = self.index.wrapping_add(1);
        Ok(())
    }

    /// Seals the last segment, flushes, and returns the inner writer, the
    /// summary and the file key.
    pub fn finish(mut self) -> Result<Sealed<W>, SealError> {
        if self.poisoned {
            return Err(SealError::Io(io::Error::other(
                "an earlier write failed; the sealed output is incomplete",
            )));
        }
        self.emit(true)?;
        let (writer, sealed_sha256) = self.out.finish()?;
        Ok(Sealed {
            summary: SealSummary {
                plaintext_len: self.plain_len,
                plaintext_sha256: Sha256Digest::of(self.plain_hash),
                sealed_len: self.sealed_len,
                sealed_sha256,
            },
            writer,
            file_key: self.file_key,
        })
    }
}

impl<W: Write + Send + 'static> Write for SealWriter<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        if self.poisoned {
            return Err(io::Error::other(
                "an earlier write failed; the sealed output is incomplete",
            ));
        }
        let n = data.len();
        while !data.is_empty() {
            if self.segment.len() == SEGMENT_SIZE {
                self.emit(false)?;
            }
            let take = (SEGMENT_SIZE - self.segment.len()).min(data.len());
            self.segment.extend_from_slice(&data[..take]);
            self.plain_hash.update(&data[..take]);
            self.plain_len += take as u64;
            data = &data[take..];
        }
        Ok(n)
    }

    /// Flushes the inner writer while it is on the caller's thread (`finish`
    /// always does). The segment being filled stays buffered: it can only
    /// be sealed once it is known whether it is the last.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
