//! The destination conformance suite: every check here runs against every
//! backend — a folder, SFTP to a real OpenSSH sshd on 127.0.0.1, and (the
//! checks that apply to it) TSD's real file API — so all keep the same
//! contract (see `src/destination/mod.rs`).
//!
//! The suite reaches behind each backend through the local path its files
//! land in (the sshd serves a temporary folder), to plant conflicting files
//! and corrupt uploads the way a broken disk or another program would.
//!
//! On Unix each SFTP or TSD check starts its own server; the Windows build
//! (under Wine, where neither can run) uses the ones `scripts/test-windows.sh`
//! starts on the Linux side, with a fresh folder per check.

#[cfg(unix)]
use crate::util::sshd;
#[cfg(windows)]
use crate::util::wine_sshd;

mod retries;

use crate::util::intercept::{Hooks, Intercept};
use crate::util::payload::{assert_same, random_file};
use recpipe::config::VerifyMode;
use recpipe::destination::{
    self, Checked, DestError, Destination, ErrorClass, Expected, Prepared, Sent,
    dir::DirDestination, partial_name,
};
use recpipe::destination::{
    NoTerminal,
    sftp::{SftpDestination, Target},
};
use retries::retries_resume_retryable_failures_and_stop_at_permanent_ones;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A backend under test: how to open it, and where its files are locally.
trait Backend {
    fn open(&self) -> Box<dyn Destination>;
    fn local(&self, name: &str) -> PathBuf;
    /// Whether a partial is a file at [`Backend::local`] of its partial
    /// name (TSD's are the server's resumable records instead).
    fn partials_are_files(&self) -> bool {
        true
    }
    /// The verify modes this backend offers, its default first.
    fn modes(&self) -> Vec<VerifyMode> {
        vec![VerifyMode::Readback, VerifyMode::Size]
    }
    fn mode(&self) -> VerifyMode {
        self.modes()[0]
    }
}

struct DirBackend {
    tmp: tempfile::TempDir,
}

impl DirBackend {
    fn new() -> DirBackend {
        DirBackend {
            tmp: tempfile::tempdir().unwrap(),
        }
    }
    fn root(&self) -> PathBuf {
        self.tmp.path().join("out/sub")
    }
}

impl Backend for DirBackend {
    fn open(&self) -> Box<dyn Destination> {
        Box::new(DirDestination::open(&self.root()).unwrap())
    }
    fn local(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }
}

struct SftpBackend {
    #[cfg(unix)]
    sshd: sshd::Sshd,
    #[cfg(windows)]
    sshd: wine_sshd::SharedSshd,
    target: Target,
    /// Where the server's `out/sub` folder is, seen from here.
    local_root: PathBuf,
}

impl SftpBackend {
    #[cfg(unix)]
    fn new() -> SftpBackend {
        let sshd = sshd::Sshd::start();
        let target = Target {
            host: "127.0.0.1".into(),
            port: sshd.port,
            user: sshd.user.clone(),
            path: sshd.files.join("out/sub").display().to_string(),
            known_hosts: sshd.known_hosts(),
            identity_file: Some(sshd.client_key.clone()),
            timeout: Duration::from_secs(20),
        };
        let local_root = sshd.files.join("out/sub");
        SftpBackend {
            sshd,
            target,
            local_root,
        }
    }

    #[cfg(windows)]
    fn new() -> SftpBackend {
        let sshd = wine_sshd::SharedSshd::get();
        let target = Target {
            host: "127.0.0.1".into(),
            port: sshd.port,
            user: sshd.user.clone(),
            path: sshd.remote("out/sub"),
            known_hosts: sshd.known_hosts.clone(),
            identity_file: Some(sshd.client_key.clone()),
            timeout: Duration::from_secs(20),
        };
        let local_root = sshd.files.join("out").join("sub");
        SftpBackend {
            sshd,
            target,
            local_root,
        }
    }
}

impl Backend for SftpBackend {
    fn open(&self) -> Box<dyn Destination> {
        match SftpDestination::connect(&self.target, &NoTerminal) {
            Ok(d) => Box::new(d),
            Err(e) => panic!("connect: {e}\nsshd log:\n{}", self.sshd.log()),
        }
    }
    fn local(&self, name: &str) -> PathBuf {
        self.local_root.join(name)
    }
}

const LEN: usize = 3 * destination::CHUNK + 12345;

fn send(
    d: &mut dyn Destination,
    local: &Path,
    name: &str,
    e: &Expected,
    mode: VerifyMode,
) -> Result<Sent, DestError> {
    destination::send(d, local, name, e, mode, &mut |_| {})
}

fn upload_creates_the_folder_and_verifies(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "a.age", LEN, 1);
    let mut d = b.open();
    assert_eq!(d.stat("a.age").unwrap(), None);
    for mode in b.modes() {
        let name = format!("a-{mode:?}.age");
        assert_eq!(
            send(&mut *d, &local, &name, &e, mode).unwrap(),
            Sent::Uploaded { resumed_from: 0 }
        );
        assert_same(&local, &b.local(&name));
        assert_eq!(d.stat(&name).unwrap(), Some(LEN as u64));
        assert_eq!(d.stat(&destination::partial_name(&name)).unwrap(), None);
        for check in b.modes() {
            destination::verify(&mut *d, &name, &e, check).unwrap();
        }
    }
}

fn empty_file_uploads(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "empty.age", 0, 2);
    let mut d = b.open();
    send(&mut *d, &local, "empty.age", &e, b.mode()).unwrap();
    assert_eq!(std::fs::metadata(b.local("empty.age")).unwrap().len(), 0);
}

fn resume_after_a_killed_partial(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "r.age", LEN, 3);
    // What an upload killed after 1.5 chunks leaves behind.
    let cut = destination::CHUNK + destination::CHUNK / 2;
    let prefix = tmp.path().join("prefix");
    std::fs::write(&prefix, &std::fs::read(&local).unwrap()[..cut]).unwrap();
    let mut d = b.open();
    let n = d
        .upload("r.age", &mut File::open(&prefix).unwrap(), 0, &mut |_| {})
        .unwrap();
    assert_eq!(n, cut as u64);
    let mut positions = Vec::new();
    let sent = destination::send(&mut *d, &local, "r.age", &e, b.mode(), &mut |p| {
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
    assert_same(&local, &b.local("r.age"));
}

fn an_empty_partial_left_by_a_killed_upload_is_redone(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "z.age", LEN, 7);
    let mut d = b.open();
    // An upload killed right after it created its partial (seen on
    // Windows, where a kill at a random instant landed there).
    let empty = tmp.path().join("nothing");
    std::fs::write(&empty, b"").unwrap();
    d.upload("z.age", &mut File::open(&empty).unwrap(), 0, &mut |_| {})
        .unwrap();
    assert_eq!(
        std::fs::metadata(b.local(&partial_name("z.age")))
            .unwrap()
            .len(),
        0
    );
    let sent = send(&mut *d, &local, "z.age", &e, VerifyMode::Readback).unwrap();
    assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    assert_same(&local, &b.local("z.age"));
    assert!(!b.local(&partial_name("z.age")).exists());
}

fn a_corrupt_partial_is_removed_and_redone(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "c.age", LEN, 4);
    let mut d = b.open();
    // A partial whose bytes are not the file's (damaged, or another file).
    for mode in [VerifyMode::Readback, VerifyMode::Size] {
        let name = format!("c-{mode:?}.age");
        std::fs::write(b.local(&partial_name(&name)), vec![0u8; 1000]).unwrap();
        assert_eq!(
            send(&mut *d, &local, &name, &e, mode).unwrap(),
            Sent::Uploaded { resumed_from: 0 }
        );
        assert_same(&local, &b.local(&name));
        assert!(!b.local(&partial_name(&name)).exists());
    }
}

/// Issue 13 item 1: a partial left by an earlier sealing of the same
/// recording (same name, same length, other bytes) is never completed with
/// this sealing's bytes, whatever the verify mode: it is removed and the
/// upload starts over. A complete one is never renamed into place either.
fn a_partial_of_another_sealing_is_never_completed(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "s.age", LEN, 20);
    let (earlier, _) = random_file(tmp.path(), "earlier", LEN, 21);
    let earlier_bytes = std::fs::read(&earlier).unwrap();
    let mut d = b.open();
    for mode in [VerifyMode::Size, VerifyMode::Readback] {
        for cut in [destination::CHUNK + 777, LEN] {
            let name = format!("s-{mode:?}-{cut}.age");
            let prefix = tmp.path().join("prefix");
            std::fs::write(&prefix, &earlier_bytes[..cut]).unwrap();
            d.upload(&name, &mut File::open(&prefix).unwrap(), 0, &mut |_| {})
                .unwrap();
            let sent = send(&mut *d, &local, &name, &e, mode).unwrap();
            assert_eq!(sent, Sent::Uploaded { resumed_from: 0 }, "{name}");
            assert_same(&local, &b.local(&name));
            assert!(!b.local(&partial_name(&name)).exists());
        }
    }
}

/// A partial that is this very file, complete: renamed (after it is made
/// durable) without sending a byte again.
fn a_complete_partial_of_this_file_is_renamed(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "f.age", LEN, 22);
    let mut d = b.open();
    for mode in b.modes() {
        let name = format!("f-{mode:?}.age");
        d.upload(&name, &mut File::open(&local).unwrap(), 0, &mut |_| {})
            .unwrap();
        let mut sent_bytes = Vec::new();
        let sent = destination::send(&mut *d, &local, &name, &e, mode, &mut |p| {
            sent_bytes.push(p)
        })
        .unwrap();
        assert_eq!(
            sent,
            Sent::Uploaded {
                resumed_from: LEN as u64
            }
        );
        assert!(sent_bytes.is_empty(), "{sent_bytes:?}");
        assert_same(&local, &b.local(&name));
    }
}

/// The partial is a dot-file (TSD's importer skips those).
fn the_partial_is_a_dot_file(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, _) = random_file(tmp.path(), "d.age", 100, 23);
    let mut d = b.open();
    d.upload("d.age", &mut File::open(&local).unwrap(), 0, &mut |_| {})
        .unwrap();
    assert!(b.local(".d.age.recpipe-partial").is_file());
}

fn a_different_existing_file_is_never_overwritten(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "x.age", LEN, 5);
    let mut d = b.open();
    // TSD makes the folder with the first upload; the others already have.
    std::fs::create_dir_all(b.local("x.age").parent().unwrap()).unwrap();
    std::fs::write(b.local("x.age"), b"someone else's file").unwrap();
    for mode in b.modes() {
        let err = send(&mut *d, &local, "x.age", &e, mode).unwrap_err();
        assert!(matches!(err, DestError::Exists { .. }), "{err}");
        assert_eq!(err.class(), ErrorClass::Permanent);
        assert!(err.to_string().contains("x.age"), "{err}");
    }
    // Same size, other bytes: a read-back tells; where there is none, a
    // file recpipe has no record of putting there is not counted either.
    let (other, _) = random_file(tmp.path(), "other", LEN, 6);
    std::fs::copy(&other, b.local("y.age")).unwrap();
    let err = send(&mut *d, &local, "y.age", &e, b.mode()).unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    assert_same(&other, &b.local("y.age"));
    assert_eq!(
        std::fs::read(b.local("x.age")).unwrap(),
        b"someone else's file"
    );
}

fn rename_into_place_never_replaces(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, _) = random_file(tmp.path(), "n.age", 1000, 7);
    let mut d = b.open();
    d.upload("n.age", &mut File::open(&local).unwrap(), 0, &mut |_| {})
        .unwrap();
    std::fs::write(b.local("n.age"), b"already here").unwrap();
    let err = d.rename_into_place("n.age").unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read(b.local("n.age")).unwrap(), b"already here");
    if b.partials_are_files() {
        assert_same(&local, &b.local(&partial_name("n.age")));
    } else {
        assert_eq!(d.stat(&partial_name("n.age")).unwrap(), Some(1000));
    }
}

fn an_identical_existing_file_counts_as_done(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "i.age", LEN, 8);
    let mut d = b.open();
    send(&mut *d, &local, "i.age", &e, b.mode()).unwrap();
    for mode in b.modes() {
        if mode == VerifyMode::Readback {
            assert_eq!(
                send(&mut *d, &local, "i.age", &e, mode).unwrap(),
                Sent::AlreadyThere {
                    checked: Checked::ReadBack
                }
            );
            continue;
        }
        // By size (or chunk MD5s, which only an upload can compare), only
        // recpipe's own record of putting it there makes it this upload's
        // file; without one it is an occupied name.
        let err = send(&mut *d, &local, "i.age", &e, mode).unwrap_err();
        assert!(matches!(err, DestError::Exists { .. }), "{err}");
        let again = destination::prepare(&mut *d, &local, "i.age", &e, mode, true, &mut |_| {});
        assert_eq!(
            again.unwrap(),
            Prepared::Done(Sent::AlreadyThere {
                checked: Checked::OwnRecord
            })
        );
    }
    assert_same(&local, &b.local("i.age"));
}

fn readback_detects_a_corrupted_remote_file(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "v.age", LEN, 9);
    let mut d = b.open();
    send(&mut *d, &local, "v.age", &e, VerifyMode::Readback).unwrap();
    let mut bytes = std::fs::read(b.local("v.age")).unwrap();
    bytes[LEN / 2] ^= 0x40;
    std::fs::write(b.local("v.age"), &bytes).unwrap();
    let err = destination::verify(&mut *d, "v.age", &e, VerifyMode::Readback).unwrap_err();
    assert!(matches!(err, DestError::VerifyMismatch { .. }), "{err}");
    assert!(err.to_string().contains("SHA-256"), "{err}");
    // A size check cannot see a flipped bit; that is what readback is for.
    destination::verify(&mut *d, "v.age", &e, VerifyMode::Size).unwrap();
    // A truncated file fails both.
    std::fs::write(b.local("v.age"), &bytes[..100]).unwrap();
    for mode in [VerifyMode::Readback, VerifyMode::Size] {
        let err = destination::verify(&mut *d, "v.age", &e, mode).unwrap_err();
        assert!(matches!(err, DestError::VerifyMismatch { .. }), "{err}");
    }
}

fn upload_contract_exclusive_create_and_exact_resume(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, _) = random_file(tmp.path(), "u.age", 5000, 10);
    let mut d = b.open();
    let mut src = File::open(&local).unwrap();
    d.upload("u.age", &mut src, 0, &mut |_| {}).unwrap();
    // offset 0 never truncates an existing partial.
    assert!(d.upload("u.age", &mut src, 0, &mut |_| {}).is_err());
    // Resuming from the wrong length is refused and retryable.
    let err = d.upload("u.age", &mut src, 10, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, DestError::PartialChanged { actual: 5000, .. }),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Retryable);
    // Resuming from the right length is a no-op here (nothing left).
    assert_eq!(
        d.upload("u.age", &mut src, 5000, &mut |_| {}).unwrap(),
        5000
    );
    if b.partials_are_files() {
        assert_same(&local, &b.local(&partial_name("u.age")));
    }
    d.remove_partial("u.age").unwrap();
    d.remove_partial("u.age").unwrap();
    assert_eq!(d.stat(&destination::partial_name("u.age")).unwrap(), None);
}

fn bad_names_are_refused(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "b.age", 10, 11);
    let mut d = b.open();
    for name in [
        "../escape.age",
        "sub/b.age",
        "",
        "b.age.recpipe-partial",
        ".hidden.age",
    ] {
        let err = send(&mut *d, &local, name, &e, VerifyMode::Size).unwrap_err();
        assert!(matches!(err, DestError::BadName { .. }), "{name:?}: {err}");
    }
}

fn a_changed_local_file_is_not_uploaded(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, mut e) = random_file(tmp.path(), "l.age", 1000, 12);
    e.len += 1;
    let mut d = b.open();
    let err = send(&mut *d, &local, "l.age", &e, VerifyMode::Readback).unwrap_err();
    assert!(matches!(err, DestError::LocalChanged { .. }), "{err}");
    assert_eq!(d.stat("l.age").unwrap(), None);
}

/// Records the name of every read-back asked of a backend.
#[derive(Default)]
struct ReadBacks(Vec<String>);

impl Hooks for ReadBacks {
    fn read_back(
        &mut self,
        inner: &mut dyn Destination,
        name: &str,
        progress: destination::Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        self.0.push(name.to_string());
        inner.read_back(name, progress)
    }
}

/// Issue 27: `readback` reads an upload back once, under its final name
/// (the partial's size is checked before the rename), so each byte crosses
/// the link twice, not three times; a resumed upload also reads back the
/// partial it continues, which is how it proves that partial a prefix.
fn an_upload_is_read_back_once_under_its_final_name(b: &dyn Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, e) = random_file(tmp.path(), "o.age", LEN, 23);
    let mut d = Intercept {
        inner: b.open(),
        hooks: ReadBacks::default(),
    };
    assert_eq!(
        send(&mut d, &local, "o.age", &e, VerifyMode::Readback).unwrap(),
        Sent::Uploaded { resumed_from: 0 }
    );
    assert_eq!(d.hooks.0, ["o.age"]);
    assert_same(&local, &b.local("o.age"));

    let cut = destination::CHUNK + 99;
    let prefix = tmp.path().join("prefix");
    std::fs::write(&prefix, &std::fs::read(&local).unwrap()[..cut]).unwrap();
    d.upload("p.age", &mut File::open(&prefix).unwrap(), 0, &mut |_| {})
        .unwrap();
    d.hooks.0.clear();
    assert_eq!(
        send(&mut d, &local, "p.age", &e, VerifyMode::Readback).unwrap(),
        Sent::Uploaded {
            resumed_from: cut as u64
        }
    );
    assert_eq!(d.hooks.0, [partial_name("p.age"), "p.age".to_string()]);
    assert_same(&local, &b.local("p.age"));
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod dir {
            $( #[test] fn $check() { super::$check(&super::DirBackend::new()); } )*
        }
        mod sftp {
            $( #[test] fn $check() { super::$check(&super::SftpBackend::new()); } )*
        }
    };
}

conformance!(
    upload_creates_the_folder_and_verifies,
    empty_file_uploads,
    resume_after_a_killed_partial,
    an_empty_partial_left_by_a_killed_upload_is_redone,
    a_corrupt_partial_is_removed_and_redone,
    a_partial_of_another_sealing_is_never_completed,
    a_complete_partial_of_this_file_is_renamed,
    the_partial_is_a_dot_file,
    a_different_existing_file_is_never_overwritten,
    rename_into_place_never_replaces,
    an_identical_existing_file_counts_as_done,
    readback_detects_a_corrupted_remote_file,
    upload_contract_exclusive_create_and_exact_resume,
    bad_names_are_refused,
    a_changed_local_file_is_not_uploaded,
    an_upload_is_read_back_once_under_its_final_name,
    retries_resume_retryable_failures_and_stop_at_permanent_ones,
);

/// TSD's file API: every check that applies (the module says why the
/// rest cannot).
mod tsd;
