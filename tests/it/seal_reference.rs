//! The vectors opened by an independent implementation: the Python opener
//! beside them (`tests/vectors/seal/reference_open.py`), written from
//! `docs/seal-format.md` alone with the `cryptography` package. It needs
//! Python 3 with `cryptography` ≥ 44 (for Argon2id): `scripts/test.sh`
//! makes a venv with it and names its python in `RECPIPE_PYTHON`. Where
//! it is missing this test says so on stderr, and fails under `CI=true`.
//! Linux only: the vectors are the same files for every build, and the
//! Windows run under Wine cannot start the Linux python.
#![cfg(unix)]

use std::path::PathBuf;
use std::process::Command;

#[test]
fn an_independent_opener_agrees_on_every_vector() {
    let python = std::env::var_os("RECPIPE_PYTHON").unwrap_or_else(|| "python3".into());
    let available = Command::new(&python)
        .args([
            "-c",
            "from cryptography.hazmat.primitives.kdf.argon2 import Argon2id",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        crate::util::skip::not_exercised(
            "python with cryptography >= 44 is missing (RECPIPE_PYTHON)",
        );
        return;
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/seal/reference_open.py");
    let out = Command::new(&python).arg(&script).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.lines().filter(|l| l.starts_with("ok ")).count() >= 15,
        "{report}"
    );
}
