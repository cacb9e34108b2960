//! The TSD destination's contract against TSD's real file-API server, on
//! every platform: on Unix a server per test ([`crate::util::tsd_api`]);
//! under Wine the one `scripts/test-windows.sh` started on the Linux side
//! ([`crate::util::wine_tsd`]), each test in a folder of its own. Uploads
//! verified chunk by chunk, an empty file, resuming a partial after its last
//! chunk is checked, a partial of other bytes, existing files never
//! overwritten, names TSD's importer refuses (exclusive create and exact
//! resume run in `destination_conformance`, as for every backend). What needs the server in
//! hand (killed, its connection cut, a key revoked, a token expiring) is in
//! `destination_tsd`, on Unix.

use crate::util::TsdApi;
use crate::util::payload::{assert_same, random_file};
use recpipe::config::{self, TsdAuth, VerifyMode};
use recpipe::destination::tsd::{Session, TsdDestination};
use recpipe::destination::{
    self, Checked, DestError, Destination, ErrorClass, Expected, NoTerminal, Prepared, RetryPolicy,
    Sent,
};
use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

pub const CH: u64 = 256 * 1024;
pub const LEN: usize = 6 * CH as usize + 12345;
pub const MODE: VerifyMode = VerifyMode::ChunkMd5;

/// Never set: these tests do not stop their uploads.
static NO_STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// TSD's file API as one test sees it.
struct Side {
    server: TsdApi,
}

macro_rules! side {
    () => {
        match TsdApi::start() {
            Some(server) => Side { server },
            None => return,
        }
    };
}

impl Side {
    /// This test's `path` under the member group, as the pipeline names it.
    fn path(&self, path: &str) -> String {
        [self.server.base(), path]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/")
    }

    fn config(&self, path: &str) -> config::Tsd {
        self.server.config(&self.path(path), TsdAuth::Basic, CH)
    }

    /// Where `name` uploaded under `path` lands, seen from here.
    fn landed(&self, path: &str, name: &str) -> PathBuf {
        self.server.group_dir().join(self.path(path)).join(name)
    }

    /// The server's log lines of this test's PATCH requests under `path`.
    fn patches(&self, path: &str) -> Vec<String> {
        let wanted = format!(
            "PATCH /v1/p11/files/stream/p11-member-group/{}/",
            self.path(path)
        );
        self.server
            .full_log()
            .lines()
            .filter(|l| l.contains(&wanted))
            .map(str::to_string)
            .collect()
    }

    fn log(&self) -> String {
        self.server.log()
    }
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 6,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
    }
}

fn open_basic(s: &Side, path: &str) -> destination::Retrying<'static> {
    destination::open(
        &config::Destination::Tsd(s.config(path)),
        &NoTerminal,
        quick(),
        &NO_STOP,
        &mut |_| {},
    )
    .unwrap_or_else(|e| panic!("open: {e}\n{}", s.log()))
}

/// The backend alone, without the retry wrapper (as the conformance suite
/// calls backends), so its errors are seen.
fn open_raw(s: &Side, path: &str) -> TsdDestination<'static> {
    let session = Session::new(s.config(path), &NoTerminal);
    TsdDestination::connect(Rc::new(RefCell::new(session))).unwrap()
}

fn landed(s: &Side, path: &str, name: &str) -> PathBuf {
    s.landed(path, name)
}

pub fn send(
    d: &mut dyn Destination,
    local: &Path,
    name: &str,
    e: &Expected,
) -> Result<Sent, DestError> {
    destination::send(d, local, name, e, MODE, &mut |_| {})
}

/// Uploads the first `cut` bytes of `local` as the partial of `name`.
pub fn partial(d: &mut dyn Destination, dir: &Path, local: &Path, name: &str, cut: usize) {
    let prefix = dir.join(format!("{name}.prefix"));
    std::fs::write(&prefix, &std::fs::read(local).unwrap()[..cut]).unwrap();
    let n = d
        .upload(name, &mut File::open(&prefix).unwrap(), 0, &mut |_| {})
        .unwrap();
    assert_eq!(n, cut as u64);
}

#[test]
fn uploads_land_in_the_import_folder_verified_chunk_by_chunk() {
    let s = side!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "a", LEN, 1);
    let mut d = open_basic(&s, "interviews/2026");
    assert_eq!(d.stat("a.sealed").unwrap(), None);
    let mut seen = Vec::new();
    let sent =
        destination::send(&mut d, &local, "a.sealed", &e, MODE, &mut |p| seen.push(p)).unwrap();
    assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    assert_same(&local, &landed(&s, "interviews/2026", "a.sealed"));
    assert_eq!(d.stat("a.sealed").unwrap(), Some(LEN as u64));
    assert_eq!(
        d.stat(&destination::partial_name("a.sealed")).unwrap(),
        None
    );
    assert_eq!(*seen.last().unwrap(), LEN as u64);
    // Seven chunks, each with the server's MD5 returned and compared.
    let patches = s.patches("interviews/2026");
    assert_eq!(patches.len(), 8, "7 chunks and the end:\n{patches:?}");
    assert!(
        patches
            .iter()
            .filter(|p| !p.contains("chunk=end"))
            .all(|p| p.contains("md5sum=return")),
        "{patches:?}"
    );
    // Again: with recpipe's record of putting it there, found whole and
    // nothing sent; without one, an import token cannot show it is this
    // file, so it is an occupied name.
    let before = s.patches("interviews/2026").len();
    let err = send(&mut d, &local, "a.sealed", &e).unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    assert_eq!(
        destination::prepare(&mut d, &local, "a.sealed", &e, MODE, true, &mut |_| {}).unwrap(),
        Prepared::Done(Sent::AlreadyThere {
            checked: Checked::OwnRecord
        })
    );
    assert_eq!(s.patches("interviews/2026").len(), before);
    destination::verify(&mut d, "a.sealed", &e, MODE).unwrap();
    // No read-back with an import token.
    let err = destination::verify(&mut d, "a.sealed", &e, VerifyMode::Readback).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    assert!(err.to_string().contains("chunk-md5"), "{err}");
}

#[test]
fn empty_file_uploads() {
    let s = side!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "z", 0, 2);
    let mut d = open_basic(&s, "");
    send(&mut d, &local, "empty.sealed", &e).unwrap();
    assert_eq!(
        std::fs::metadata(landed(&s, "", "empty.sealed"))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn resume_after_a_killed_partial_checks_the_last_chunk() {
    let s = side!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "r", LEN, 3);
    let mut d = open_basic(&s, "p");
    let cut = (CH + CH / 2) as usize;
    partial(&mut d, tmp.path(), &local, "r.sealed", cut);
    assert_eq!(
        d.stat(&destination::partial_name("r.sealed")).unwrap(),
        Some(cut as u64)
    );
    let mut positions = Vec::new();
    let sent = destination::send(&mut d, &local, "r.sealed", &e, MODE, &mut |p| {
        positions.push(p)
    })
    .unwrap();
    assert_eq!(
        sent,
        Sent::Uploaded {
            resumed_from: cut as u64
        }
    );
    assert!(positions.iter().all(|&p| p > cut as u64), "{positions:?}");
    assert_same(&local, &landed(&s, "p", "r.sealed"));
}

#[test]
fn a_partial_of_other_bytes_is_caught_by_its_last_chunk_and_redone() {
    let s = side!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "c", LEN, 4);
    let (other, _) = random_file(tmp.path(), "other", LEN, 40);
    let mut d = open_raw(&s, "");
    // Another version of the file was being uploaded under this name.
    partial(&mut d, tmp.path(), &other, "c.sealed", 2 * CH as usize);
    let err = d
        .upload(
            "c.sealed",
            &mut File::open(&local).unwrap(),
            2 * CH,
            &mut |_| {},
        )
        .unwrap_err();
    assert!(matches!(err, DestError::VerifyMismatch { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(
        d.stat(&destination::partial_name("c.sealed")).unwrap(),
        None
    );
    assert!(!landed(&s, "", "c.sealed").exists());
    assert_eq!(
        send(&mut d, &local, "c.sealed", &e).unwrap(),
        Sent::Uploaded { resumed_from: 0 }
    );
    assert_same(&local, &landed(&s, "", "c.sealed"));
}

#[test]
fn an_existing_file_is_never_overwritten() {
    let s = side!();
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "x", LEN, 5);
    let mut d = open_basic(&s, "f");
    // The folder exists once something was uploaded into it.
    let (seed, se) = random_file(tmp.path(), "seed", 10, 50);
    send(&mut d, &seed, "seed.sealed", &se).unwrap();
    std::fs::write(landed(&s, "f", "x.sealed"), b"someone else's file").unwrap();
    let err = send(&mut d, &local, "x.sealed", &e).unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(
        std::fs::read(landed(&s, "f", "x.sealed")).unwrap(),
        b"someone else's file"
    );
    // Finishing an upload never replaces a file that appeared meanwhile.
    partial(&mut d, tmp.path(), &local, "n.sealed", 1000);
    std::fs::write(landed(&s, "f", "n.sealed"), b"already here").unwrap();
    let err = d.rename_into_place("n.sealed").unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    assert_eq!(
        std::fs::read(landed(&s, "f", "n.sealed")).unwrap(),
        b"already here"
    );
    assert_eq!(
        d.stat(&destination::partial_name("n.sealed")).unwrap(),
        Some(1000)
    );
    // A foreign file of the same size is not counted as delivered: an
    // import token cannot read it back and recpipe never put it there.
    let (same, _) = random_file(tmp.path(), "same", LEN, 6);
    std::fs::copy(&same, landed(&s, "f", "y.sealed")).unwrap();
    let err = send(&mut d, &local, "y.sealed", &e).unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("cannot be shown"), "{err}");
    assert_same(&same, &landed(&s, "f", "y.sealed"));
    // The same rule where the local copy is gone (the pipeline's "staged
    // file gone" path): no record, no delivery; a missing name is missing.
    let err = destination::recognise(&mut d, "y.sealed", &e, MODE, false).unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    let err = destination::recognise(&mut d, "nothing.sealed", &e, MODE, true).unwrap_err();
    assert!(matches!(err, DestError::VerifyMismatch { .. }), "{err}");
    // Nor with a record of finishing it while a partial of it is left:
    // the rename of that upload has not happened.
    partial(&mut d, tmp.path(), &local, "y.sealed", 1000);
    let err =
        destination::prepare(&mut d, &local, "y.sealed", &e, MODE, true, &mut |_| {}).unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    assert_same(&same, &landed(&s, "f", "y.sealed"));
}

#[test]
fn names_outside_what_tsds_importer_accepts_are_refused() {
    let s = side!();
    let mut d = open_raw(&s, "");
    for bad in ["a b.sealed", ".hidden", "æ.sealed"] {
        let err = d.stat(bad).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Permanent, "{bad}: {err}");
    }
}
