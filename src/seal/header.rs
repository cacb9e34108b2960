//! The header: its byte layout, a parser that reads exactly the header's
//! bytes from a stream (never into the payload), and its MAC.
//!
//! Layout (all integers big-endian; `docs/seal-format.md` is normative):
//! magic `recpipe-seal` (12) · version (1) · stanza count (1, 1..=32) ·
//! stanzas, each kind (1) · body length (2) · body · header MAC (32).
//! Encoding is canonical: known stanza kinds have one fixed body length, so
//! re-encoding a parsed header reproduces its bytes exactly and the MAC is
//! computed over that re-encoding.
//!
//! The parser never panics and never allocates more than a header can hold
//! (at most 32 stanzas of at most 1 KiB each), whatever it is fed.

use super::error::OpenError;
use super::keys::FileKey;
use super::{MAGIC, MAX_STANZAS, VERSION};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::io::{self, Read};
use zeroize::Zeroizing;

/// Largest body an unknown stanza kind may have.
const MAX_UNKNOWN_BODY: usize = 1024;

pub(crate) const KIND_X25519: u8 = 1;
pub(crate) const KIND_ARGON2ID: u8 = 2;
/// Body length of an X25519 stanza: ephemeral share (32) + wrapped key (48).
pub(crate) const X25519_BODY: usize = 32 + 48;
/// Body length of an Argon2id stanza: salt (16) + m, t, p (3 × 4) + wrapped key (48).
pub(crate) const ARGON2ID_BODY: usize = 16 + 12 + 48;

/// HKDF info strings: one per derived key, so no two keys coincide.
pub(crate) const INFO_HEADER: &[u8] = b"recpipe-seal v1 header";

/// One recipient's wrapping of the file key.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Stanza {
    /// To an X25519 recipient.
    X25519 {
        ephemeral: [u8; 32],
        wrapped: [u8; 48],
    },
    /// To a passphrase, through Argon2id with the stated parameters.
    Argon2id {
        salt: [u8; 16],
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
        wrapped: [u8; 48],
    },
    /// A kind this version does not know; kept (it is covered by the MAC)
    /// but never opened.
    Unknown { kind: u8, body: Vec<u8> },
}

impl Stanza {
    fn kind(&self) -> u8 {
        match self {
            Stanza::X25519 { .. } => KIND_X25519,
            Stanza::Argon2id { .. } => KIND_ARGON2ID,
            Stanza::Unknown { kind, .. } => *kind,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Stanza::X25519 { ephemeral, wrapped } => {
                out.extend_from_slice(ephemeral);
                out.extend_from_slice(wrapped);
            }
            Stanza::Argon2id {
                salt,
                m_cost_kib,
                t_cost,
                p_cost,
                wrapped,
            } => {
                out.extend_from_slice(salt);
                out.extend_from_slice(&m_cost_kib.to_be_bytes());
                out.extend_from_slice(&t_cost.to_be_bytes());
                out.extend_from_slice(&p_cost.to_be_bytes());
                out.extend_from_slice(wrapped);
            }
            Stanza::Unknown { body, .. } => out.extend_from_slice(body),
        }
    }

    fn decode(kind: u8, body: &[u8]) -> Result<Stanza, OpenError> {
        match kind {
            KIND_X25519 => {
                if body.len() != X25519_BODY {
                    return Err(OpenError::MalformedHeader(
                        "an X25519 stanza has the wrong length",
                    ));
                }
                Ok(Stanza::X25519 {
                    ephemeral: array(&body[..32]),
                    wrapped: array(&body[32..]),
                })
            }
            KIND_ARGON2ID => {
                if body.len() != ARGON2ID_BODY {
                    return Err(OpenError::MalformedHeader(
                        "a passphrase stanza has the wrong length",
                    ));
                }
                Ok(Stanza::Argon2id {
                    salt: array(&body[..16]),
                    m_cost_kib: u32::from_be_bytes(array(&body[16..20])),
                    t_cost: u32::from_be_bytes(array(&body[20..24])),
                    p_cost: u32::from_be_bytes(array(&body[24..28])),
                    wrapped: array(&body[28..]),
                })
            }
            0 => Err(OpenError::MalformedHeader("a stanza has kind 0")),
            _ if body.len() > MAX_UNKNOWN_BODY => Err(OpenError::MalformedHeader(
                "a stanza of unknown kind is too long",
            )),
            _ => Ok(Stanza::Unknown {
                kind,
                body: body.to_vec(),
            }),
        }
    }
}

/// Copies a slice whose length the caller has checked into an array.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

/// A parsed header: its stanzas and the MAC that closes it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Header {
    pub stanzas: Vec<Stanza>,
    pub mac: [u8; 32],
}

impl Header {
    /// The bytes the MAC covers: everything from the magic to the last stanza.
    pub fn mac_input(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(14 + self.stanzas.len() * (3 + ARGON2ID_BODY));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        // The writer and parser both keep the count within MAX_STANZAS.
        out.push(self.stanzas.len() as u8);
        for s in &self.stanzas {
            out.push(s.kind());
            let at = out.len();
            out.extend_from_slice(&[0, 0]);
            s.encode_body(&mut out);
            let len = (out.len() - at - 2) as u16;
            out[at..at + 2].copy_from_slice(&len.to_be_bytes());
        }
        out
    }

    /// The whole header as written.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.mac_input();
        out.extend_from_slice(&self.mac);
        out
    }

    /// Computes the MAC for these stanzas under `file_key`.
    pub(crate) fn compute_mac(&self, file_key: &FileKey) -> [u8; 32] {
        let mut mac = header_mac(file_key);
        mac.update(&self.mac_input());
        mac.finalize().into_bytes().into()
    }

    /// Checks the MAC in constant time.
    pub(crate) fn verify_mac(&self, file_key: &FileKey) -> Result<(), OpenError> {
        let mut mac = header_mac(file_key);
        mac.update(&self.mac_input());
        mac.verify_slice(&self.mac)
            .map_err(|_| OpenError::HeaderMac)
    }
}

fn header_mac(file_key: &FileKey) -> Hmac<Sha256> {
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
    let _ = Hkdf::<Sha256>::new(None, &file_key.0).expand(INFO_HEADER, key.as_mut());
    <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_ref())
        .expect("HMAC accepts keys of any length")
}

/// Reads exactly one header from `reader`, leaving it at the payload
/// nonce. Checks structure only; the MAC is checked once a stanza has
/// yielded the file key.
pub fn parse_header<R: Read>(reader: &mut R) -> Result<Header, OpenError> {
    let mut magic = [0u8; 12];
    read_exact(reader, &mut magic, OpenError::NotSealed)?;
    if &magic != MAGIC {
        return Err(OpenError::NotSealed);
    }
    let mut byte = [0u8; 1];
    read_exact(reader, &mut byte, OpenError::Truncated)?;
    if byte[0] != VERSION {
        return Err(OpenError::UnsupportedVersion(byte[0]));
    }
    read_exact(reader, &mut byte, OpenError::Truncated)?;
    let count = usize::from(byte[0]);
    if count == 0 {
        return Err(OpenError::MalformedHeader("it has no recipient stanzas"));
    }
    if count > MAX_STANZAS {
        return Err(OpenError::MalformedHeader("it has more than 32 stanzas"));
    }
    let mut stanzas = Vec::with_capacity(count);
    let mut body = Vec::new();
    for _ in 0..count {
        let mut head = [0u8; 3];
        read_exact(reader, &mut head, OpenError::Truncated)?;
        let len = usize::from(u16::from_be_bytes([head[1], head[2]]));
        if len > MAX_UNKNOWN_BODY {
            return Err(OpenError::MalformedHeader("a stanza is too long"));
        }
        body.resize(len, 0);
        read_exact(reader, &mut body, OpenError::Truncated)?;
        stanzas.push(Stanza::decode(head[0], &body)?);
    }
    let passphrase = stanzas.iter().any(|s| matches!(s, Stanza::Argon2id { .. }));
    if passphrase && count != 1 {
        return Err(OpenError::MalformedHeader(
            "a passphrase stanza must be the only stanza",
        ));
    }
    let mut mac = [0u8; 32];
    read_exact(reader, &mut mac, OpenError::Truncated)?;
    Ok(Header { stanzas, mac })
}

/// `read_exact`, with end of file reported as `eof`.
fn read_exact<R: Read>(reader: &mut R, buf: &mut [u8], eof: OpenError) -> Result<(), OpenError> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(eof),
        Err(e) => Err(OpenError::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            stanzas: vec![
                Stanza::X25519 {
                    ephemeral: [1; 32],
                    wrapped: [2; 48],
                },
                Stanza::Unknown {
                    kind: 9,
                    body: vec![3; 5],
                },
            ],
            mac: [4; 32],
        }
    }

    #[test]
    fn encoding_round_trips_and_stops_at_the_payload() {
        let h = sample();
        let mut bytes = h.to_bytes();
        bytes.extend_from_slice(b"payload");
        let mut r = &bytes[..];
        assert_eq!(parse_header(&mut r).unwrap(), h);
        assert_eq!(r, b"payload");
    }

    #[test]
    fn structural_errors_are_named() {
        let good = sample().to_bytes();
        let mut bad = good.clone();
        bad[0] ^= 1;
        assert!(matches!(
            parse_header(&mut &bad[..]),
            Err(OpenError::NotSealed)
        ));
        let mut bad = good.clone();
        bad[12] = 2;
        assert!(matches!(
            parse_header(&mut &bad[..]),
            Err(OpenError::UnsupportedVersion(2))
        ));
        let mut bad = good.clone();
        bad[13] = 0;
        assert!(matches!(
            parse_header(&mut &bad[..]),
            Err(OpenError::MalformedHeader(_))
        ));
        let mut bad = good.clone();
        bad[16] = 79; // X25519 body length 80 -> 79
        assert!(matches!(
            parse_header(&mut &bad[..]),
            Err(OpenError::MalformedHeader(_))
        ));
        for cut in [5, 13, 20, good.len() - 1] {
            assert!(matches!(
                parse_header(&mut &good[..cut]),
                Err(OpenError::NotSealed | OpenError::Truncated)
            ));
        }
    }

    #[test]
    fn a_passphrase_stanza_must_stand_alone() {
        let mut h = sample();
        h.stanzas[1] = Stanza::Argon2id {
            salt: [0; 16],
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
            wrapped: [0; 48],
        };
        assert!(matches!(
            parse_header(&mut &h.to_bytes()[..]),
            Err(OpenError::MalformedHeader(_))
        ));
    }

    #[test]
    fn the_mac_depends_on_every_byte_and_the_key() {
        let key = FileKey([5; 32]);
        let mut h = sample();
        h.mac = h.compute_mac(&key);
        h.verify_mac(&key).unwrap();
        assert!(h.verify_mac(&FileKey([6; 32])).is_err());
        let mut other = h.clone();
        other.stanzas[0] = Stanza::X25519 {
            ephemeral: [1; 32],
            wrapped: [3; 48],
        };
        assert!(other.verify_mac(&key).is_err());
    }
}
