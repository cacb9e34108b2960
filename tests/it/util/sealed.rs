//! Really sealed files for the destination fault tests, and their closing
//! check: nothing partial under a final name, and what is under a final
//! name is the sealed file and opens.

use super::payload::random_bytes;
use recpipe::destination::{self, Expected, RetryPolicy, partial_name};
use recpipe::seal::{Identity, SealWriter, Unlock, decrypt};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A sealed file of about `len` bytes of plaintext, and its identity.
pub struct SealedFile {
    pub path: PathBuf,
    pub expected: Expected,
    pub identity: Identity,
    pub plain: Vec<u8>,
}

pub fn sealed(dir: &Path, name: &str, len: usize, seed: u64) -> SealedFile {
    let plain = random_bytes(len, seed);
    let identity = Identity::generate().unwrap();
    let path = dir.join(name);
    let mut w = SealWriter::new(File::create(&path).unwrap(), &[identity.recipient()]).unwrap();
    w.write_all(&plain).unwrap();
    let done = w.finish().unwrap();
    let expected = Expected {
        len: done.summary.sealed_len,
        sha256: done.summary.sealed_sha256.0,
    };
    assert_eq!(std::fs::metadata(&path).unwrap().len(), expected.len);
    SealedFile {
        path,
        expected,
        identity,
        plain,
    }
}

/// The closing check of every test: no partial under a final name (every
/// file in `folder` either is a `.NAME.recpipe-partial` or has no partial
/// suffix at all), and each of `delivered` is the sealed file and opens.
pub fn check_folder(folder: &Path, delivered: &[(&str, &SealedFile)]) {
    for e in std::fs::read_dir(folder).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(destination::PARTIAL_SUFFIX) {
            assert!(name.starts_with('.'), "a partial not hidden: {name}");
        } else {
            assert!(
                delivered.iter().any(|(n, _)| *n == name),
                "{name} under a final name was not delivered by this test"
            );
        }
    }
    for (name, f) in delivered {
        let path = folder.join(name);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&f.path).unwrap(),
            "{name} is not the sealed file"
        );
        let mut plain = Vec::new();
        decrypt(
            File::open(&path).unwrap(),
            Unlock::Identities(std::slice::from_ref(&f.identity)),
            &mut plain,
        )
        .unwrap_or_else(|e| panic!("{name} does not open: {e}"));
        assert!(plain == f.plain, "{name} opens to other bytes");
        assert!(
            !folder.join(partial_name(name)).exists(),
            "{name} delivered but its partial is still there"
        );
    }
}

pub fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
    }
}
