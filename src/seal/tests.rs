//! The specification's test vectors (`tests/vectors/seal/*.vec`): each is
//! rebuilt here from its fixed keys, nonces and salts and must match the
//! stored file byte for byte. `tests/seal_vectors.rs` checks, through the
//! public API only, that each opens (or fails) as its header states.
//!
//! To regenerate after a deliberate format change (which needs a new
//! format version): `RECPIPE_WRITE_VECTORS=1 cargo test --lib seal::tests`.

use super::header::Stanza;
use super::keys::{FileKey, Identity, Passphrase};
use super::stanza::{Argon2Params, argon2_wrap, x25519_wrap};
use super::stream::PayloadCipher;
use super::writer::SealWriter;
use super::{SEGMENT_SIZE, Sha256Digest};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::PathBuf;
use x25519_dalek::StaticSecret;

const FILE_KEY: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];
const IDENTITY_A: [u8; 32] = [0xa1; 32];
const IDENTITY_B: [u8; 32] = [0xb2; 32];
const EPHEMERAL_1: [u8; 32] = [0xe1; 32];
const EPHEMERAL_2: [u8; 32] = [0xe2; 32];
const PAYLOAD_NONCE: [u8; 16] = [0x4e; 16];
const SALT: [u8; 16] = [0x5a; 16];
const PASSPHRASE: &str = "correct horse battery staple";
const SMALL_ARGON: Argon2Params = Argon2Params {
    m_cost_kib: 64,
    t_cost: 1,
    p_cost: 1,
};

fn to_a(eph: [u8; 32]) -> Stanza {
    x25519_wrap(
        &FileKey(FILE_KEY),
        &Identity::from(IDENTITY_A).recipient(),
        StaticSecret::from(eph),
    )
    .unwrap()
}

fn to_b(eph: [u8; 32]) -> Stanza {
    x25519_wrap(
        &FileKey(FILE_KEY),
        &Identity::from(IDENTITY_B).recipient(),
        StaticSecret::from(eph),
    )
    .unwrap()
}

fn seal(stanzas: Vec<Stanza>, plaintext: &[u8]) -> Vec<u8> {
    let mut w =
        SealWriter::from_parts(Vec::new(), FileKey(FILE_KEY), stanzas, PAYLOAD_NONCE).unwrap();
    w.write_all(plaintext).unwrap();
    w.finish().unwrap().writer
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn hello() -> Vec<u8> {
    b"Interview 7, consent form attached.\n".to_vec()
}

/// One vector: how it is made and what opening it must give.
struct Vector {
    name: &'static str,
    comment: &'static str,
    /// `success`, or the failure: `no match`, `header`, `payload`,
    /// `truncated`, `not sealed`, `unsupported version`.
    expect: &'static str,
    /// `identity: …` or `passphrase: …`.
    unlock: String,
    plaintext: Vec<u8>,
    sealed: Vec<u8>,
}

fn identity_line(secret: [u8; 32]) -> String {
    format!("identity: {}", *Identity::from(secret).to_secret_text())
}

fn vectors() -> Vec<Vector> {
    let a = || identity_line(IDENTITY_A);
    let good = seal(vec![to_a(EPHEMERAL_1)], &hello());
    let two_seg = pattern(SEGMENT_SIZE + 1);
    let two_seg_sealed = seal(vec![to_a(EPHEMERAL_1)], &two_seg);
    let header_len = 12 + 1 + 1 + 3 + 80 + 32;
    let flip = |bytes: &[u8], at: usize| {
        let mut b = bytes.to_vec();
        b[at] ^= 0x01;
        b
    };
    // One segment sealed with the last flag clear: it claims more follows.
    let unflagged = {
        let mut head = good[..header_len + 16].to_vec();
        let mut seg = hello();
        PayloadCipher::new(&FileKey(FILE_KEY), &PAYLOAD_NONCE).seal(0, false, &mut seg);
        head.extend_from_slice(&seg);
        head
    };
    let passphrase_stanza = argon2_wrap(
        &FileKey(FILE_KEY),
        &Passphrase::new(PASSPHRASE.into()),
        SMALL_ARGON,
        SALT,
    )
    .unwrap();
    vec![
        Vector {
            name: "x25519_empty",
            comment: "an empty file: one empty last segment",
            expect: "success",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: seal(vec![to_a(EPHEMERAL_1)], &[]),
        },
        Vector {
            name: "x25519_short",
            comment: "a short file to one recipient",
            expect: "success",
            unlock: a(),
            plaintext: hello(),
            sealed: good.clone(),
        },
        Vector {
            name: "x25519_two_segments",
            comment: "65537 bytes (i mod 251): a full segment, then a 1-byte last segment",
            expect: "success",
            unlock: a(),
            plaintext: two_seg.clone(),
            sealed: two_seg_sealed.clone(),
        },
        Vector {
            name: "x25519_two_recipients",
            comment: "sealed to A then B; opened with B's identity",
            expect: "success",
            unlock: identity_line(IDENTITY_B),
            plaintext: hello(),
            sealed: seal(vec![to_a(EPHEMERAL_1), to_b(EPHEMERAL_2)], &hello()),
        },
        Vector {
            name: "argon2id_short",
            comment: "a passphrase stanza (Argon2id m=64 KiB, t=1, p=1)",
            expect: "success",
            unlock: format!("passphrase: {PASSPHRASE}"),
            plaintext: hello(),
            sealed: seal(vec![passphrase_stanza], &hello()),
        },
        Vector {
            name: "wrong_identity",
            comment: "x25519_short opened with B's identity",
            expect: "no match",
            unlock: identity_line(IDENTITY_B),
            plaintext: Vec::new(),
            sealed: good.clone(),
        },
        Vector {
            name: "bad_magic",
            comment: "x25519_short with the first byte changed",
            expect: "not sealed",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: flip(&good, 0),
        },
        Vector {
            name: "bad_version",
            comment: "x25519_short with version 2",
            expect: "unsupported version",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: {
                let mut b = good.clone();
                b[12] = 2;
                b
            },
        },
        Vector {
            name: "stanza_altered",
            comment: "x25519_short with a bit of the wrapped file key flipped",
            expect: "no match",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: flip(&good, 12 + 1 + 1 + 3 + 40),
        },
        Vector {
            name: "other_stanza_altered",
            comment: "x25519_two_recipients with A's stanza altered, opened with B",
            expect: "header",
            unlock: identity_line(IDENTITY_B),
            plaintext: Vec::new(),
            sealed: flip(
                &seal(vec![to_a(EPHEMERAL_1), to_b(EPHEMERAL_2)], &hello()),
                12 + 1 + 1 + 3 + 40,
            ),
        },
        Vector {
            name: "mac_altered",
            comment: "x25519_short with a bit of the header MAC flipped",
            expect: "header",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: flip(&good, header_len - 1),
        },
        Vector {
            name: "nonce_altered",
            comment: "x25519_short with a bit of the payload nonce flipped",
            expect: "payload",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: flip(&good, header_len),
        },
        Vector {
            name: "segment_altered",
            comment: "x25519_two_segments with a bit of the first segment flipped",
            expect: "payload",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: flip(&two_seg_sealed, header_len + 16 + 100),
        },
        Vector {
            name: "last_flag_clear",
            comment: "x25519_short's segment sealed with the last flag clear",
            expect: "payload",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: unflagged,
        },
        Vector {
            name: "truncated_at_boundary",
            comment: "x25519_two_segments cut after its first (full) segment",
            expect: "truncated",
            unlock: a(),
            plaintext: Vec::new(),
            sealed: two_seg_sealed[..header_len + 16 + SEGMENT_SIZE + 16].to_vec(),
        },
    ]
}

/// The vector file: `key: value` lines, `---`, then the sealed bytes as
/// hex, 32 bytes a line.
fn render(v: &Vector) -> String {
    let mut out = format!(
        "name: {}\ncomment: {}\nexpect: {}\n{}\n",
        v.name, v.comment, v.expect, v.unlock
    );
    if v.expect == "success" {
        let digest = Sha256Digest(Sha256::digest(&v.plaintext).into());
        out.push_str(&format!(
            "plaintext-length: {}\nplaintext-sha256: {digest}\n",
            v.plaintext.len()
        ));
    }
    out.push_str("---\n");
    for line in v.sealed.chunks(32) {
        for b in line {
            out.push_str(&format!("{b:02x}"));
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_stored_vectors_are_reproduced_byte_for_byte() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/seal");
    let write = std::env::var_os("RECPIPE_WRITE_VECTORS").is_some();
    let all = vectors();
    assert!(all.len() >= 15);
    for v in &all {
        let path = dir.join(format!("{}.vec", v.name));
        let expected = render(v);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &expected).unwrap();
        }
        let stored =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            stored == expected,
            "{} differs from what the format produces",
            path.display()
        );
    }
}
