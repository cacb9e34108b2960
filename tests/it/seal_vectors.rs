//! The specification's test vectors (`tests/vectors/seal/*.vec`), opened
//! through the public API: each must succeed with the stated plaintext
//! length and SHA-256, or fail the way its `expect:` line says.
//! (`src/seal/tests.rs` checks that the format reproduces each file byte
//! for byte from its fixed keys and nonces.)

use recpipe::seal::{Identity, OpenError, Passphrase, Unlock, decrypt};
use std::path::PathBuf;

struct Vector {
    name: String,
    expect: String,
    identity: Option<Identity>,
    passphrase: Option<Passphrase>,
    plaintext_len: Option<u64>,
    plaintext_sha256: Option<String>,
    sealed: Vec<u8>,
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn load(path: &std::path::Path) -> Vector {
    let text = std::fs::read_to_string(path).unwrap();
    let (head, body) = text.split_once("---\n").expect("a '---' line");
    let mut v = Vector {
        name: String::new(),
        expect: String::new(),
        identity: None,
        passphrase: None,
        plaintext_len: None,
        plaintext_sha256: None,
        sealed: hex(body),
    };
    for line in head.lines() {
        let (key, value) = line.split_once(": ").expect("key: value");
        match key {
            "name" => v.name = value.to_string(),
            "comment" => {}
            "expect" => v.expect = value.to_string(),
            "identity" => v.identity = Some(value.parse().unwrap()),
            "passphrase" => v.passphrase = Some(Passphrase::new(value.to_string())),
            "plaintext-length" => v.plaintext_len = Some(value.parse().unwrap()),
            "plaintext-sha256" => v.plaintext_sha256 = Some(value.to_string()),
            other => panic!("{}: unknown key {other}", path.display()),
        }
    }
    v
}

#[test]
fn every_vector_opens_or_fails_as_stated() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/seal");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vec"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 15, "only {} vectors", paths.len());
    let mut seen_failures = std::collections::BTreeSet::new();
    for path in &paths {
        let v = load(path);
        let ids: Vec<Identity> = v.identity.iter().cloned().collect();
        let unlock = match &v.passphrase {
            Some(p) => Unlock::Passphrase(p),
            None => Unlock::Identities(&ids),
        };
        let mut out = Vec::new();
        let result = decrypt(&v.sealed[..], unlock, &mut out);
        match (v.expect.as_str(), result) {
            ("success", Ok(summary)) => {
                assert_eq!(Some(summary.plaintext_len), v.plaintext_len, "{}", v.name);
                assert_eq!(out.len() as u64, summary.plaintext_len, "{}", v.name);
                assert_eq!(
                    Some(summary.plaintext_sha256.to_string()),
                    v.plaintext_sha256,
                    "{}",
                    v.name
                );
            }
            ("success", Err(e)) => panic!("{}: expected success, got {e}", v.name),
            (expect, Ok(_)) => panic!("{}: expected failure '{expect}', it opened", v.name),
            (expect, Err(e)) => {
                let ok = match expect {
                    "no match" => matches!(e, OpenError::NoMatch),
                    "header" => matches!(e, OpenError::HeaderMac),
                    "payload" => matches!(e, OpenError::Segment { .. }),
                    "truncated" => matches!(e, OpenError::Truncated),
                    "not sealed" => matches!(e, OpenError::NotSealed),
                    "unsupported version" => matches!(e, OpenError::UnsupportedVersion(2)),
                    other => panic!("{}: unknown expectation {other}", v.name),
                };
                assert!(ok, "{}: expected '{expect}', got {e:?}", v.name);
                seen_failures.insert(expect.to_string());
            }
        }
    }
    assert_eq!(
        seen_failures.len(),
        6,
        "failure kinds covered: {seen_failures:?}"
    );
}
