//! Stand-ins for sealed files in the destination tests: pseudo-random
//! bytes (what sealed bytes look like) with the length and SHA-256 a
//! destination must deliver, and the check that two files are the same.

use recpipe::destination::Expected;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `len` pseudo-random bytes (xorshift from `seed`): what sealed files
/// look like, different for each seed, the same on every run.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes [`random_bytes`] to `dir/name`; returns the file and what it
/// must arrive as.
pub fn random_file(dir: &Path, name: &str, len: usize, seed: u64) -> (PathBuf, Expected) {
    let data = random_bytes(len, seed);
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    let expected = Expected {
        len: len as u64,
        sha256: Sha256::digest(&data).into(),
    };
    (path, expected)
}

pub fn assert_same(a: &Path, b: &Path) {
    assert!(
        std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
        "{} and {} differ",
        a.display(),
        b.display()
    );
}
