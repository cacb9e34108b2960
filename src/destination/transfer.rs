//! The upload protocol every destination shares: [`send`] a sealed file so
//! that `NAME` appears at the destination only complete and verified, and
//! [`verify`] a file already there.
//!
//! Invariants: an existing `NAME` is never replaced, and counts as this
//! upload's only when recpipe can show it is: read back with the sealed
//! file's SHA-256, or, where the destination cannot read back, the caller's
//! own record (its journal) that recpipe was putting this very file in
//! place after every check had passed ([`prepare`]'s `finishing`); any
//! other file there is an occupied name. A partial is resumed from its
//! length only when it is proven a prefix of this file, and a partial whose
//! length cannot be checked is removed and the upload starts over. The
//! partial's size is checked before the rename (a partial of another size
//! is removed), and after the rename the final name is checked as the
//! verify mode says: with `readback` the file is read back once, under the
//! name that counts, so what is reported is what is there (a second pass
//! over the partial before the rename would cost the link a third crossing
//! per byte and could not make that report any truer).
//! The caller passes the SHA-256 and length it computed while sealing, so
//! the local file is read once, to upload it.

use super::{DestError, Destination, Progress, partial_name};
use crate::config::VerifyMode;
use std::fs::File;

use std::path::Path;

/// What the sealed local file is: its length and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub len: u64,
    pub sha256: [u8; 32],
}

/// How a file at the destination was shown to be the sealed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Read back whole; its SHA-256 is the sealed file's.
    ReadBack,
    /// Uploaded now: the server's MD5 of every chunk was the MD5 of the
    /// bytes sent, and the size compared.
    ChunkMd5,
    /// Its size only (green pipelines).
    Size,
    /// It was there already: the caller's record says recpipe itself was
    /// putting this file in place after every chunk or size check passed,
    /// and its size is the sealed file's.
    OwnRecord,
}

impl Checked {
    /// What was checked, in words for the summary and the manifest.
    pub fn describe(self) -> &'static str {
        match self {
            Checked::ReadBack => "read back and its SHA-256 compared",
            Checked::ChunkMd5 => "every chunk's MD5 and the size compared",
            Checked::Size => "size compared",
            Checked::OwnRecord => {
                "already there from this recording's own upload (the journal records it passed every check before it was put in place); size compared"
            }
        }
    }

    /// What an upload verified as `mode` says has checked.
    pub fn of(mode: VerifyMode) -> Checked {
        match mode {
            VerifyMode::Readback => Checked::ReadBack,
            VerifyMode::ChunkMd5 => Checked::ChunkMd5,
            VerifyMode::Size => Checked::Size,
        }
    }
}

/// How a [`send`] ended (it only returns `Ok` once `NAME` is verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Uploaded now; `resumed_from` is the length of the partial an earlier
    /// attempt had left (0 for a fresh upload).
    Uploaded { resumed_from: u64 },
    /// `NAME` was already there and shown to be this file (an earlier run
    /// finished the upload but not its bookkeeping).
    AlreadyThere { checked: Checked },
}

impl Sent {
    /// What was checked of `NAME` before this returned.
    pub fn checked(self, mode: VerifyMode) -> Checked {
        match self {
            Sent::Uploaded { .. } => Checked::of(mode),
            Sent::AlreadyThere { checked } => checked,
        }
    }
}

/// Where [`prepare`] left an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// Nothing left to do: `NAME` is there and shown to be this file.
    Done(Sent),
    /// The partial holds the whole file, its size checked; [`finish`] puts
    /// it in place and checks it there. A caller that keeps a record writes
    /// down now that it is finishing this file, and passes that to later
    /// [`prepare`]s.
    Ready { resumed_from: u64 },
}

/// Uploads `local` as `name` and verifies it as `mode` says. Returns only
/// when `name` exists at the destination and passed the check; safe to
/// repeat after any failure (it resumes or finds the work done). Without a
/// record of its own, a `name` already there counts as done only when it
/// is read back ([`VerifyMode::Readback`]).
pub fn send(
    dest: &mut dyn Destination,
    local: &Path,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
    progress: Progress<'_>,
) -> Result<Sent, DestError> {
    match prepare(dest, local, name, expected, mode, false, progress)? {
        Prepared::Done(sent) => Ok(sent),
        Prepared::Ready { resumed_from } => finish(dest, name, expected, mode, resumed_from),
    }
}

/// The first half of [`send`]: everything up to the rename. `finishing`
/// says that the caller's own record shows an earlier [`prepare`] of this
/// very file returned [`Prepared::Ready`] (so a `name` of its size with no
/// partial left is that upload, put in place before the record was
/// updated).
pub fn prepare(
    dest: &mut dyn Destination,
    local: &Path,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
    finishing: bool,
    progress: Progress<'_>,
) -> Result<Prepared, DestError> {
    check_name(name)?;
    if dest.stat(name)?.is_some() {
        return already_there(dest, name, expected, mode, finishing).map(Prepared::Done);
    }

    let partial = partial_name(name);
    let mut file = File::open(local).map_err(|e| DestError::io("open", local, e))?;
    let actual = file
        .metadata()
        .map_err(|e| DestError::io("stat", local, e))?
        .len();
    if actual != expected.len {
        return Err(DestError::LocalChanged {
            path: local.to_path_buf(),
            expected: expected.len,
            actual,
        });
    }

    // A partial an earlier attempt left is continued only if it is provably
    // a prefix of this very file; anything else (another sealing of the
    // same recording, a damaged or foreign file) is removed and the upload
    // starts over.
    let offset = match dest.stat(&partial)? {
        None => 0,
        Some(len)
            if len > 0
                && len <= expected.len
                && dest.partial_is_prefix(&partial, &mut file, len)? =>
        {
            len
        }
        Some(_) => {
            dest.remove_partial(name)?;
            0
        }
    };

    // Also when the partial is already complete: the upload then writes
    // nothing but still makes the partial durable before it is renamed.
    let offset = match dest.upload(name, &mut file, offset, &mut *progress) {
        Ok(_) => offset,
        // The server cannot say how long the partial is (no fstat): it is
        // removed and the upload starts over, so no rerun is stuck on it.
        Err(DestError::PartialUncheckable { .. }) => {
            dest.remove_partial(name)?;
            dest.upload(name, &mut file, 0, progress)?;
            0
        }
        Err(e) => return Err(e),
    };

    // Its size only: its content is read back after the rename, under
    // `name` ([`finish`]). Chunk MD5s were compared as it was uploaded.
    let before = match mode {
        VerifyMode::Readback => VerifyMode::Size,
        other => other,
    };
    if let Err(e) = check(dest, &partial, expected, before) {
        if matches!(e, DestError::VerifyMismatch { .. }) {
            dest.remove_partial(name)?;
        }
        return Err(e);
    }
    Ok(Prepared::Ready {
        resumed_from: offset,
    })
}

/// The second half of [`send`]: renames the partial to `name` (never
/// replacing a file there) and checks `name` as `mode` says (with
/// `readback`, the one read-back of the upload). A `name` that then is not
/// the file sent is left as it is, and the error says so: whether the
/// server's disk damaged it or another writer replaced it, only a person
/// can tell.
pub fn finish(
    dest: &mut dyn Destination,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
    resumed_from: u64,
) -> Result<Sent, DestError> {
    match dest.rename_into_place(name) {
        Ok(()) => {}
        Err(DestError::Exists { .. }) => {
            // Someone else put `name` there between our look and the
            // rename (the retry wrapper already counts a rename whose reply
            // was lost as done): only a read-back can show it is this file.
            return already_there(dest, name, expected, mode, false);
        }
        Err(e) => return Err(e),
    }
    match check(dest, name, expected, mode) {
        Ok(()) => Ok(Sent::Uploaded { resumed_from }),
        Err(DestError::VerifyMismatch { location, what, .. }) => Err(DestError::DeliveredDiffers {
            location,
            name: name.to_string(),
            what,
        }),
        Err(e) => Err(e),
    }
}

/// Whether the file at `name` is this upload's, by the same rule as
/// [`prepare`] applies to a `name` it finds (a read-back, or the caller's
/// record of `finishing` it): for a caller whose local copy is gone. A
/// missing `name` is a [`DestError::VerifyMismatch`].
pub fn recognise(
    dest: &mut dyn Destination,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
    finishing: bool,
) -> Result<Sent, DestError> {
    check_name(name)?;
    if dest.stat(name)?.is_none() {
        return Err(DestError::VerifyMismatch {
            location: dest.location(),
            name: name.to_string(),
            what: "it is missing".into(),
        });
    }
    already_there(dest, name, expected, mode, finishing)
}

/// Checks that `name` at the destination is the expected file: its SHA-256
/// (`Readback`, reading it whole) or its size (`Size`). Changes nothing.
pub fn verify(
    dest: &mut dyn Destination,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
) -> Result<(), DestError> {
    check_name(name)?;
    check(dest, name, expected, mode)
}

fn check(
    dest: &mut dyn Destination,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
) -> Result<(), DestError> {
    let mismatch = |dest: &dyn Destination, what: String| DestError::VerifyMismatch {
        location: dest.location(),
        name: name.to_string(),
        what,
    };
    match mode {
        // Chunk MD5s were compared by the backend as it uploaded; the size
        // is what is left to check.
        VerifyMode::Size | VerifyMode::ChunkMd5 => match dest.stat(name)? {
            Some(len) if len == expected.len => Ok(()),
            Some(len) => Err(mismatch(
                dest,
                format!("{len} bytes, expected {}", expected.len),
            )),
            None => Err(mismatch(dest, "it is missing".into())),
        },
        VerifyMode::Readback => {
            let (sha, len) = dest.read_back(name, &mut |_| {})?;
            if len != expected.len {
                Err(mismatch(
                    dest,
                    format!("read back {len} bytes, expected {}", expected.len),
                ))
            } else if sha != expected.sha256 {
                Err(mismatch(
                    dest,
                    "its SHA-256 differs from the sealed file's".into(),
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// `name` is there already: this file when a read-back shows it, or when
/// the caller's record says recpipe was finishing it and nothing of the
/// upload is left but a file of its size; any other file is an occupied
/// name ([`DestError::Exists`]), left as it is.
fn already_there(
    dest: &mut dyn Destination,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
    finishing: bool,
) -> Result<Sent, DestError> {
    let occupied = |dest: &dyn Destination, why: &str| DestError::Exists {
        location: dest.location(),
        name: name.to_string(),
        why: why.to_string(),
    };
    if mode == VerifyMode::Readback {
        return match check(dest, name, expected, mode) {
            Ok(()) => Ok(Sent::AlreadyThere {
                checked: Checked::ReadBack,
            }),
            Err(DestError::VerifyMismatch { .. }) => {
                Err(occupied(dest, "read back, it is not this upload's file"))
            }
            Err(e) => Err(e),
        };
    }
    if !finishing {
        return Err(occupied(
            dest,
            "this destination cannot read it back and recpipe has no record of putting it there, so it cannot be shown to be this upload's file",
        ));
    }
    let partial_left = dest.stat(&partial_name(name))?.is_some();
    match dest.stat(name)? {
        Some(len) if len == expected.len && !partial_left => Ok(Sent::AlreadyThere {
            checked: Checked::OwnRecord,
        }),
        _ => Err(occupied(
            dest,
            "it is not what recpipe's record says it was putting there",
        )),
    }
}

/// Refuses names that would leave the destination folder or hide in it.
pub(crate) fn check_name(name: &str) -> Result<(), DestError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.ends_with(super::PARTIAL_SUFFIX);
    if bad {
        Err(DestError::BadName {
            name: name.to_string(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_folders_or_the_partial_suffix_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "../x",
            "x.recpipe-partial",
            ".hidden.age",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        check_name("rec 2026-01-01.m4a.age").unwrap();
    }
}
