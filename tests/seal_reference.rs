//! The vectors opened by an independent implementation: the Python opener
//! beside them (`tests/vectors/seal/reference_open.py`), written from
//! `docs/seal-format.md` alone with the `cryptography` package. It needs
//! Python 3 with `cryptography` ≥ 44 (for Argon2id); where that is missing
//! this test says so on stderr and checks nothing else.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn an_independent_opener_agrees_on_every_vector() {
    let available = Command::new("python3")
        .args([
            "-c",
            "from cryptography.hazmat.primitives.kdf.argon2 import Argon2id",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("skipped: python3 with cryptography >= 44 is not installed");
        return;
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/seal/reference_open.py");
    let out = Command::new("python3").arg(&script).output().unwrap();
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
