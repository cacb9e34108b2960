//! Destinations that are not what the protocol leads one to expect
//! (issue 26): a server without `fstat`, and a destination whose final name
//! after the rename is not the file that was renamed. Each test ends with
//! the invariant: the sealed file intact where it was or verified where it
//! went, nothing at the destination replaced, every report true.
#![cfg(unix)]

use crate::util::intercept::{Hooks, Intercept};
use crate::util::sealed::{check_folder, quick, sealed};
use crate::util::sshd;
use recpipe::config::VerifyMode;
use recpipe::destination::sftp::SftpDestination;
use recpipe::destination::{
    self, DestError, Destination, ErrorClass, NoTerminal, Retrying, Sent, dir::DirDestination,
    partial_name,
};
use std::path::PathBuf;

/// Issue 26 item 5: a server that refuses fstat (`internal-sftp -P fstat`)
/// cannot say how long a leftover partial is on the handle that would
/// continue it. The partial is removed and the upload starts over, so a
/// rerun is never stuck on it.
#[test]
fn without_fstat_a_leftover_partial_is_removed_and_sent_again() {
    let s = sshd::Sshd::start_with(sshd::Options {
        sftp_flags: vec!["-P".into(), "fstat".into()],
        ..Default::default()
    });
    let out = s.files.join("up");
    std::fs::create_dir(&out).unwrap();
    let t = s.target(s.port, s.known_hosts(), &out);
    let tmp = tempfile::tempdir().unwrap();
    let f = sealed(tmp.path(), "f", 300_000, 26);
    // A true prefix, left by an earlier run.
    let bytes = std::fs::read(&f.path).unwrap();
    std::fs::write(out.join(partial_name("f.sealed")), &bytes[..100_000]).unwrap();
    let mut d = Retrying::new(
        Box::new(|| Ok(Box::new(SftpDestination::connect(&t, &NoTerminal)?) as _)),
        quick(3),
    )
    .unwrap();
    let sent = destination::send(
        &mut d,
        &f.path,
        "f.sealed",
        &f.expected,
        VerifyMode::Readback,
        &mut |_| {},
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", s.log()));
    // Sent again from the start: the report says it was not resumed.
    assert_eq!(sent, Sent::Uploaded { resumed_from: 0 });
    check_folder(&out, &[("f.sealed", &f)]);
}

/// A folder whose rename puts other bytes (of the same length) under the
/// final name, as a server with a stale cache or a broken rename could, or
/// whose disk damages the partial just before the rename.
struct SwapsOnRename {
    root: PathBuf,
    /// Damage the partial before the rename instead of the final name
    /// after it.
    partial: bool,
}

impl SwapsOnRename {
    fn damage(&self, name: &str) {
        let path = self.root.join(name);
        let mut bytes = std::fs::read(&path).unwrap();
        for b in &mut bytes {
            *b ^= 0x5a;
        }
        std::fs::write(&path, bytes).unwrap();
    }
}

impl Hooks for SwapsOnRename {
    fn rename_into_place(
        &mut self,
        inner: &mut dyn Destination,
        name: &str,
    ) -> Result<(), DestError> {
        if self.partial {
            self.damage(&partial_name(name));
        }
        inner.rename_into_place(name)?;
        if !self.partial {
            self.damage(name);
        }
        Ok(())
    }
}

/// Issue 26 item 6: after the rename the final name's content is what is
/// compared (readback), and the message says what is really left there:
/// no "the partial was removed and will be sent again" when there is no
/// partial any more; the file is left for a person, nothing removed.
/// Issue 27: the partial is not read back before the rename, so a partial
/// the server's disk damaged (same size) is caught there, after it, the
/// same way.
#[test]
fn after_the_rename_the_final_name_is_read_back_and_the_message_is_true() {
    for partial in [false, true] {
        final_name_differs(partial);
    }
}

fn final_name_differs(partial: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let f = sealed(tmp.path(), "g", 200_000, 27);
    let mut d = Intercept {
        inner: DirDestination::open(&out).unwrap(),
        hooks: SwapsOnRename {
            root: out.clone(),
            partial,
        },
    };
    let err = destination::send(
        &mut d,
        &f.path,
        "g.sealed",
        &f.expected,
        VerifyMode::Readback,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, DestError::DeliveredDiffers { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    let text = err.to_string();
    assert!(text.contains("SHA-256"), "{text}");
    assert!(text.contains("left there"), "{text}");
    assert!(!text.contains("will be sent again"), "{text}");
    // What the message says is left is what is left: the swapped file
    // under the final name, no partial; the sealed file intact here.
    assert!(out.join("g.sealed").exists());
    assert!(!out.join(partial_name("g.sealed")).exists());
    assert_eq!(
        std::fs::metadata(&f.path).unwrap().len(),
        f.expected.len,
        "the local sealed file changed"
    );
    // A rerun does not count the swapped file as delivered.
    let err = destination::send(
        &mut d,
        &f.path,
        "g.sealed",
        &f.expected,
        VerifyMode::Readback,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, DestError::Exists { .. }), "{err}");
    // The same upload to an honest folder is delivered and opens.
    let honest = tmp.path().join("honest");
    let mut d = DirDestination::open(&honest).unwrap();
    destination::send(
        &mut d,
        &f.path,
        "g.sealed",
        &f.expected,
        VerifyMode::Readback,
        &mut |_| {},
    )
    .unwrap();
    check_folder(&honest, &[("g.sealed", &f)]);
}
