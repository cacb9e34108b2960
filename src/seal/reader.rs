//! Opening: [`OpenReader`] (a streaming `Read` over the plaintext),
//! [`decrypt`] (reader to writer) and [`verify_sealed`] (does a written
//! file open with its file key, and is it the one that was written?).
//!
//! The reader holds one segment at a time. To know whether a segment is the
//! last one, it reads one byte past a full segment: a segment followed by
//! more data must authenticate as not-last, one that ends the stream as
//! last. Plaintext is handed out only after its segment authenticated, and
//! end of file only after the last segment did; an error is sticky.

use super::error::OpenError;
use super::header::{Header, Stanza, parse_header};
use super::keys::{FileKey, Identity, Passphrase};
use super::stanza::{Argon2Params, argon2_unwrap, x25519_unwrap};
use super::stream::PayloadCipher;
use super::writer::SealSummary;
use super::{PAYLOAD_NONCE_SIZE, SEGMENT_SIZE, TAG_SIZE};
use crate::digest::Sha256Digest;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read, Write};
use zeroize::{Zeroize, Zeroizing};

/// What opens a sealed stream.
#[derive(Debug, Clone, Copy)]
pub enum Unlock<'a> {
    /// Any of these identities (X25519 stanzas).
    Identities(&'a [Identity]),
    /// A passphrase (the Argon2id stanza).
    Passphrase(&'a Passphrase),
}

/// Length and SHA-256 of the plaintext an open produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenSummary {
    pub plaintext_len: u64,
    pub plaintext_sha256: Sha256Digest,
}

/// Reads through to `inner`, hashing what passes when asked to.
struct Source<R> {
    inner: R,
    hash: Option<Sha256>,
    len: u64,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hash {
            h.update(&buf[..n]);
        }
        self.len += n as u64;
        Ok(n)
    }
}

/// A `Read` that yields the authenticated plaintext of a sealed stream.
pub struct OpenReader<R: Read> {
    source: Source<R>,
    cipher: PayloadCipher,
    /// Ciphertext read ahead: at most one segment plus one byte. It is the
    /// other half of a buffer swap with `plain`, so its spare capacity held
    /// plaintext: zeroized too.
    ahead: Zeroizing<Vec<u8>>,
    /// Plaintext of the current segment and how much of it was read.
    plain: Zeroizing<Vec<u8>>,
    pos: usize,
    index: u32,
    done: bool,
    failed: bool,
    plain_hash: Sha256,
    plain_len: u64,
}

impl<R: Read> fmt::Debug for OpenReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenReader")
            .field("segment", &self.index)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Finds the file key in `header` with `unlock` and checks the header MAC.
fn unlock_header(header: &Header, unlock: Unlock<'_>) -> Result<FileKey, OpenError> {
    let is_passphrase = header
        .stanzas
        .iter()
        .any(|s| matches!(s, Stanza::Argon2id { .. }));
    let key = match unlock {
        Unlock::Identities(_) if is_passphrase => return Err(OpenError::NeedsPassphrase),
        Unlock::Passphrase(_) if !is_passphrase => return Err(OpenError::NeedsIdentity),
        Unlock::Identities(ids) => header
            .stanzas
            .iter()
            .find_map(|s| match s {
                Stanza::X25519 { ephemeral, wrapped } => ids
                    .iter()
                    .find_map(|id| x25519_unwrap(ephemeral, wrapped, id)),
                _ => None,
            })
            .ok_or(OpenError::NoMatch)?,
        Unlock::Passphrase(pass) => match &header.stanzas[..] {
            [
                Stanza::Argon2id {
                    salt,
                    m_cost_kib,
                    t_cost,
                    p_cost,
                    wrapped,
                },
            ] => {
                let params = Argon2Params {
                    m_cost_kib: *m_cost_kib,
                    t_cost: *t_cost,
                    p_cost: *p_cost,
                };
                argon2_unwrap(params, salt, wrapped, pass)?
            }
            _ => {
                return Err(OpenError::MalformedHeader(
                    "a passphrase stanza must be the only stanza",
                ));
            }
        },
    };
    header.verify_mac(&key)?;
    Ok(key)
}

impl<R: Read> OpenReader<R> {
    /// Reads and checks the header of a sealed stream and unlocks it.
    pub fn new(reader: R, unlock: Unlock<'_>) -> Result<OpenReader<R>, OpenError> {
        OpenReader::start(reader, |header| unlock_header(header, unlock), false)
    }

    fn start(
        reader: R,
        key_for: impl FnOnce(&Header) -> Result<FileKey, OpenError>,
        hash_sealed: bool,
    ) -> Result<OpenReader<R>, OpenError> {
        let mut source = Source {
            inner: reader,
            hash: hash_sealed.then(Sha256::new),
            len: 0,
        };
        let header = parse_header(&mut source)?;
        let file_key = key_for(&header)?;
        let mut nonce = [0u8; PAYLOAD_NONCE_SIZE];
        source.read_exact(&mut nonce).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => OpenError::Truncated,
            _ => OpenError::Io(e),
        })?;
        Ok(OpenReader {
            source,
            cipher: PayloadCipher::new(&file_key, &nonce),
            ahead: Zeroizing::new(Vec::with_capacity(SEGMENT_SIZE + TAG_SIZE + 1)),
            plain: Zeroizing::new(Vec::with_capacity(SEGMENT_SIZE + TAG_SIZE + 1)),
            pos: 0,
            index: 0,
            done: false,
            failed: false,
            plain_hash: Sha256::new(),
            plain_len: 0,
        })
    }

    /// Reads, authenticates and decrypts the next segment into `plain`.
    fn next_segment(&mut self) -> Result<(), OpenError> {
        const FULL: usize = SEGMENT_SIZE + TAG_SIZE;
        while self.ahead.len() < FULL + 1 {
            let have = self.ahead.len();
            self.ahead.resize(FULL + 1, 0);
            match self.source.read(&mut self.ahead[have..]) {
                Ok(0) => {
                    self.ahead.truncate(have);
                    break;
                }
                Ok(n) => self.ahead.truncate(have + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.ahead.truncate(have),
                Err(e) => {
                    self.ahead.truncate(have);
                    return Err(OpenError::Io(e));
                }
            }
        }
        let last = self.ahead.len() <= FULL;
        if self.ahead.len() < TAG_SIZE {
            return Err(OpenError::Truncated);
        }
        if last && self.ahead.len() == TAG_SIZE && self.index != 0 {
            // Only an empty file has an empty last segment.
            return Err(OpenError::Segment {
                index: u64::from(self.index),
            });
        }
        if !last && self.index == u32::MAX {
            return Err(OpenError::Segment {
                index: u64::from(self.index),
            });
        }
        // Swap buffers: the segment becomes `plain`, the look-ahead byte
        // (if any) starts the next `ahead`.
        std::mem::swap(&mut *self.ahead, &mut *self.plain);
        // What it held is the previous segment's plaintext: wipe it now,
        // not only when the reader is dropped.
        self.ahead.zeroize();
        if !last {
            self.ahead.push(self.plain[FULL]);
            self.plain.truncate(FULL);
        }
        let full_len = self.plain.len() == FULL;
        let saved = if last && full_len {
            Some(self.plain.clone())
        } else {
            None
        };
        if !self.cipher.open(self.index, last, &mut self.plain) {
            // A full segment that fails as last but opens as not-last means
            // the stream was cut at a segment boundary.
            if let Some(mut again) = saved
                && self.cipher.open(self.index, false, &mut again)
            {
                return Err(OpenError::Truncated);
            }
            return Err(OpenError::Segment {
                index: u64::from(self.index),
            });
        }
        self.plain_hash.update(&self.plain[..]);
        self.plain_len += self.plain.len() as u64;
        self.pos = 0;
        self.index = self.index.wrapping_add(1);
        self.done = last;
        Ok(())
    }

    /// The next authenticated plaintext segment, or `None` at the end.
    fn segment(&mut self) -> Result<Option<&[u8]>, OpenError> {
        if self.failed {
            return Err(OpenError::Io(io::Error::other(
                "an earlier segment failed; nothing more is read",
            )));
        }
        while self.pos == self.plain.len() {
            if self.done {
                return Ok(None);
            }
            if let Err(e) = self.next_segment() {
                self.failed = true;
                self.plain.clear();
                self.pos = 0;
                return Err(e);
            }
        }
        Ok(Some(&self.plain[self.pos..]))
    }

    /// Length and hash of the plaintext read so far (all of it, once `read`
    /// has returned 0).
    pub fn summary(&self) -> OpenSummary {
        OpenSummary {
            plaintext_len: self.plain_len,
            plaintext_sha256: Sha256Digest::of(self.plain_hash.clone()),
        }
    }
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = match self.segment() {
            Ok(None) => return Ok(0),
            Ok(Some(seg)) => {
                let n = seg.len().min(out.len());
                out[..n].copy_from_slice(&seg[..n]);
                n
            }
            Err(OpenError::Io(e)) => return Err(e),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        self.pos += n;
        Ok(n)
    }
}

/// Decrypts a whole sealed stream into `writer`. On error, `writer` may
/// hold plaintext of the segments that did authenticate: write to a
/// temporary place and keep it only on success (as
/// [`super::file::decrypt_file`] does).
pub fn decrypt<R: Read, W: Write>(
    reader: R,
    unlock: Unlock<'_>,
    writer: &mut W,
) -> Result<OpenSummary, OpenError> {
    let mut open = OpenReader::new(reader, unlock)?;
    drain(&mut open, |seg| {
        writer.write_all(seg).map_err(OpenError::Io)
    })?;
    Ok(open.summary())
}

fn drain<R: Read>(
    open: &mut OpenReader<R>,
    mut sink: impl FnMut(&[u8]) -> Result<(), OpenError>,
) -> Result<(), OpenError> {
    while let Some(seg) = open.segment()? {
        sink(seg)?;
        let n = seg.len();
        open.pos += n;
    }
    Ok(())
}

/// Checks that `reader` holds the sealed stream described by `expected`:
/// it opens with `file_key` (header MAC and every segment authenticate)
/// and its sealed and plaintext lengths and SHA-256 match. No plaintext
/// leaves this function. The pipeline calls it on a staged file with the
/// key from [`super::Sealed`] before `[cleanup] after = "sealed"` deletes
/// the interim copy.
pub fn verify_sealed<R: Read>(
    reader: R,
    file_key: &FileKey,
    expected: &SealSummary,
) -> Result<(), OpenError> {
    let key = FileKey(file_key.0);
    let mut open = OpenReader::start(
        reader,
        |header| {
            header.verify_mac(&key)?;
            Ok(key)
        },
        true,
    )?;
    drain(&mut open, |_| Ok(()))?;
    // Anything after the last segment would already have failed it, but
    // make sure the source is at its end before comparing lengths.
    let mut probe = [0u8; 1];
    if open.source.read(&mut probe)? != 0 {
        return Err(OpenError::Mismatch("length"));
    }
    let sealed_len = open.source.len;
    let sealed_sha256 = Sha256Digest::of(open.source.hash.take().unwrap_or_default());
    let plain = open.summary();
    if sealed_len != expected.sealed_len || plain.plaintext_len != expected.plaintext_len {
        return Err(OpenError::Mismatch("length"));
    }
    if sealed_sha256 != expected.sealed_sha256 {
        return Err(OpenError::Mismatch("sealed SHA-256"));
    }
    if plain.plaintext_sha256 != expected.plaintext_sha256 {
        return Err(OpenError::Mismatch("plaintext SHA-256"));
    }
    Ok(())
}
