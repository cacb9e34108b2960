//! The upload protocol every destination shares: [`send`] a sealed file so
//! that `NAME` appears at the destination only complete and verified, and
//! [`verify`] a file already there.
//!
//! Invariants: an existing `NAME` is never replaced; a partial is resumed
//! from its length, and checked (read-back SHA-256 or size) before it is
//! renamed; a partial that fails the check is removed so the next attempt
//! starts clean. The caller passes the SHA-256 and length it computed while
//! sealing, so the local file is read once, to upload it.

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

/// How a [`send`] ended (it only returns `Ok` once `NAME` is verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Uploaded now; `resumed_from` is the length of the partial an earlier
    /// attempt had left (0 for a fresh upload).
    Uploaded { resumed_from: u64 },
    /// `NAME` was already there with the expected content (an earlier run
    /// finished the upload but not its bookkeeping).
    AlreadyThere,
}

/// Uploads `local` as `name` and verifies it as `mode` says. Returns only
/// when `name` exists at the destination and passed the check; safe to
/// repeat after any failure (it resumes or finds the work done).
pub fn send(
    dest: &mut dyn Destination,
    local: &Path,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
    progress: Progress<'_>,
) -> Result<Sent, DestError> {
    check_name(name)?;
    if dest.stat(name)?.is_some() {
        return finished_or_conflict(dest, name, expected, mode);
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
    dest.upload(name, &mut file, offset, progress)?;

    if let Err(e) = check(dest, &partial, expected, mode) {
        if matches!(e, DestError::VerifyMismatch { .. }) {
            dest.remove_partial(name)?;
        }
        return Err(e);
    }

    match dest.rename_into_place(name) {
        Ok(()) => {}
        Err(DestError::Exists { .. }) => {
            // Someone else put `name` there between our stat and rename.
            return finished_or_conflict(dest, name, expected, mode);
        }
        Err(e) => return Err(e),
    }
    match dest.stat(name)? {
        Some(len) if len == expected.len => Ok(Sent::Uploaded {
            resumed_from: offset,
        }),
        other => Err(DestError::VerifyMismatch {
            location: dest.location(),
            name: name.to_string(),
            what: format!(
                "after the rename it is {} bytes, expected {}",
                other.map_or("missing, 0".into(), |l| l.to_string()),
                expected.len
            ),
        }),
    }
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

fn finished_or_conflict(
    dest: &mut dyn Destination,
    name: &str,
    expected: &Expected,
    mode: VerifyMode,
) -> Result<Sent, DestError> {
    match check(dest, name, expected, mode) {
        Ok(()) => Ok(Sent::AlreadyThere),
        Err(DestError::VerifyMismatch { .. }) => Err(DestError::Exists {
            location: dest.location(),
            name: name.to_string(),
        }),
        Err(e) => Err(e),
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
