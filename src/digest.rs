//! SHA-256 digests and lower-case hex, shared by sealing, the journal and
//! the audit manifest.
//!
//! A [`Sha256Digest`] is written as 64 lower-case hex digits wherever it
//! leaves the program (journal, manifest, messages); parsing accepts only
//! exactly that form, so a damaged journal is refused rather than guessed at.
//!
//! [`Sha256Digest::of_file`] reads a recording's file only through
//! [`crate::fsutil::open_checked`], and only while it is the inventoried
//! file.

use crate::fsutil::{Access, FileId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A SHA-256 digest; `Display` is lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    pub(crate) fn of(hasher: Sha256) -> Sha256Digest {
        Sha256Digest(hasher.finalize().into())
    }

    /// The digest of a byte string.
    pub fn of_bytes(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// The digest of one of a recording's files, read once from start to
    /// end: opened as [`crate::fsutil::open_checked`] opens (a regular
    /// file, not through a link, without blocking) and only while it is
    /// still the file `expected` describes.
    pub fn of_file(path: &Path, expected: &FileId) -> io::Result<Sha256Digest> {
        let mut f = crate::fsutil::open_checked(path, Access::Read, Some(expected))?.file;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            h.update(&buf[..n]);
        }
        Ok(Sha256Digest::of(h))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// Why a text is not a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 digest (64 lower-case hex digits expected)")]
pub struct NotADigest;

impl FromStr for Sha256Digest {
    type Err = NotADigest;

    fn from_str(s: &str) -> Result<Sha256Digest, NotADigest> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return Err(NotADigest);
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(NotADigest),
        };
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = digit(b[2 * i])? << 4 | digit(b[2 * i + 1])?;
        }
        Ok(Sha256Digest(out))
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Sha256Digest, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn digest_text_round_trips_and_rejects_other_forms() {
        let d = Sha256Digest::of_bytes(b"abc");
        let text = d.to_string();
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(text.parse::<Sha256Digest>(), Ok(d));
        assert_eq!(text.to_uppercase().parse::<Sha256Digest>(), Err(NotADigest));
        assert_eq!(text[1..].parse::<Sha256Digest>(), Err(NotADigest));
        assert_eq!(format!("{text}0").parse::<Sha256Digest>(), Err(NotADigest));
        assert_eq!(
            text.replace('b', "g").parse::<Sha256Digest>(),
            Err(NotADigest)
        );
    }

    #[test]
    fn digest_serializes_as_its_hex_text() {
        let d = Sha256Digest::of_bytes(b"");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Sha256Digest>(&json).unwrap(), d);
        assert!(serde_json::from_str::<Sha256Digest>("\"00\"").is_err());
    }

    #[test]
    fn file_digest_matches_bytes_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let id = FileId::of(&path, &std::fs::symlink_metadata(&path).unwrap());
        assert_eq!(
            Sha256Digest::of_file(&path, &id).unwrap(),
            Sha256Digest::of_bytes(&data)
        );
    }

    #[test]
    fn a_file_that_changed_since_its_listing_is_not_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"as checked").unwrap();
        let id = FileId::of(&path, &std::fs::symlink_metadata(&path).unwrap());
        std::fs::write(&path, b"as checked, and more").unwrap();
        let err = Sha256Digest::of_file(&path, &id).unwrap_err();
        assert!(err.to_string().contains("size changed"), "{err}");
    }
}
