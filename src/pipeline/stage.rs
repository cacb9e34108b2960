//! Staging one output: the planned output of an input file is produced
//! (redacted, converted) as a stream straight into the sealing writer, and
//! the sealed bytes land in a staged file, hashed on the way.
//!
//! Invariants:
//! - Plaintext exists only as a stream between the producer and the
//!   sealer. A pipeline without `[seal]` (green data only) stages the
//!   plaintext inside the recording's own folder, never elsewhere.
//! - The staged file appears under its final name only when it is whole
//!   and on disk (written as `NAME.partial`, fsynced, renamed): a crash
//!   leaves either a complete staged file or a partial that is redone.
//! - SHA-256 of the plaintext and of the staged bytes are computed in the
//!   same pass that writes them.

use crate::digest::Sha256Digest;
use crate::fsutil::{WriteBack, sync_dir};
use crate::redact::plan::{FilePlan, PlanError, produce};
use crate::redact::{Range, RedactMode, Report};
use crate::seal::{OpenError, Recipient, SealError, SealWriter, verify_sealed};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("cannot write the staged file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Produce(#[from] PlanError),
    #[error("sealing failed: {0}")]
    Seal(#[from] SealError),
    #[error("the staged file {} does not open with its own key: {source}", path.display())]
    DoesNotOpen {
        path: PathBuf,
        #[source]
        source: OpenError,
    },
}

/// How outputs are protected before they are staged.
#[derive(Debug, Clone, Copy)]
pub enum Protection<'a> {
    /// Sealed to these recipients.
    Sealed(&'a [Recipient]),
    /// Not sealed (green pipelines without `[seal]`).
    Plain,
}

/// A staged output.
#[derive(Debug, Clone)]
pub struct Staged {
    pub report: Report,
    pub plain_sha256: Sha256Digest,
    pub plain_len: u64,
    pub staged_sha256: Sha256Digest,
    pub staged_len: u64,
}

/// Produces `file`'s output into `staged` (which must not exist yet; a
/// leftover `staged.partial` from a crash is overwritten). With
/// `check_opens`, a sealed output is read back once and must open with the
/// file key still in memory (for `[cleanup] after = "sealed"`).
pub fn stage(
    file: &FilePlan,
    mode: RedactMode,
    ranges: &[Range],
    protection: Protection<'_>,
    staged: &Path,
    check_opens: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Staged, StageError> {
    let (partial, out) = open_partial(staged)?;
    let write_err = |source| StageError::Write {
        path: partial.clone(),
        source,
    };
    let staged_info = match protection {
        Protection::Sealed(recipients) => {
            let mut sealer = SealWriter::new(
                BufWriter::with_capacity(1 << 20, WriteBack::new(out)),
                recipients,
            )?;
            let report = produce_into(file, mode, ranges, &mut sealer, progress)?;
            let sealed = sealer.finish()?;
            let file_handle = sealed
                .writer
                .into_inner()
                .map_err(|e| write_err(e.into_error()))?
                .into_inner();
            file_handle.sync_all().map_err(write_err)?;
            drop(file_handle);
            if check_opens {
                let reader = File::open(&partial).map_err(write_err)?;
                verify_sealed(
                    io::BufReader::with_capacity(1 << 20, reader),
                    &sealed.file_key,
                    &sealed.summary,
                )
                .map_err(|source| StageError::DoesNotOpen {
                    path: staged.to_path_buf(),
                    source,
                })?;
            }
            let s = sealed.summary;
            Staged {
                report,
                plain_sha256: s.plaintext_sha256,
                plain_len: s.plaintext_len,
                staged_sha256: s.sealed_sha256,
                staged_len: s.sealed_len,
            }
        }
        Protection::Plain => {
            let mut hashing = HashingWriter {
                inner: BufWriter::with_capacity(1 << 20, WriteBack::new(out)),
                hash: Sha256::new(),
                len: 0,
            };
            let report = produce_into(file, mode, ranges, &mut hashing, progress)?;
            let HashingWriter { inner, hash, len } = hashing;
            let file_handle = inner
                .into_inner()
                .map_err(|e| write_err(e.into_error()))?
                .into_inner();
            file_handle.sync_all().map_err(write_err)?;
            let sha = Sha256Digest::of(hash);
            Staged {
                report,
                plain_sha256: sha,
                plain_len: len,
                staged_sha256: sha,
                staged_len: len,
            }
        }
    };
    fs::rename(&partial, staged).map_err(write_err)?;
    if let Some(parent) = staged.parent() {
        sync_dir(parent).map_err(write_err)?;
    }
    Ok(staged_info)
}

/// Opens `NAME.partial` for a fresh write (a leftover from a crash is
/// overwritten), creating its folder.
fn open_partial(staged: &Path) -> Result<(PathBuf, File), StageError> {
    let partial = partial_path(staged);
    let write_err = |source| StageError::Write {
        path: partial.clone(),
        source,
    };
    if let Some(parent) = partial.parent() {
        fs::create_dir_all(parent).map_err(write_err)?;
    }
    let out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&partial)
        .map_err(write_err)?;
    Ok((partial, out))
}

/// `NAME` → `NAME.partial`.
pub fn partial_path(staged: &Path) -> PathBuf {
    let mut name = staged.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn produce_into(
    file: &FilePlan,
    mode: RedactMode,
    ranges: &[Range],
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, StageError> {
    let mut counting = Counting {
        inner: out,
        n: 0,
        progress,
    };
    let report = produce(file, mode, ranges, &mut counting)?;
    // A planned output always produces something; a dropped one is never staged.
    Ok(report.unwrap_or(Report {
        removed: Vec::new(),
        duration: std::time::Duration::ZERO,
        bytes: counting.n,
    }))
}

/// Counts bytes for progress reports.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    n: u64,
    progress: &'a mut dyn FnMut(u64),
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let before = self.n >> 20;
        self.n += n as u64;
        if self.n >> 20 != before {
            (self.progress)(self.n);
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Stages `bytes` (the audit manifest) the same way an output is staged.
pub fn stage_bytes(
    bytes: &[u8],
    protection: Protection<'_>,
    staged: &Path,
) -> Result<Staged, StageError> {
    let (partial, out) = open_partial(staged)?;
    let write_err = |source| StageError::Write {
        path: partial.clone(),
        source,
    };
    let info = match protection {
        Protection::Sealed(recipients) => {
            let mut sealer = SealWriter::new(BufWriter::new(out), recipients)?;
            sealer.write_all(bytes).map_err(write_err)?;
            let sealed = sealer.finish()?;
            let f = sealed
                .writer
                .into_inner()
                .map_err(|e| write_err(e.into_error()))?;
            f.sync_all().map_err(write_err)?;
            Staged {
                report: empty_report(bytes.len() as u64),
                plain_sha256: sealed.summary.plaintext_sha256,
                plain_len: bytes.len() as u64,
                staged_sha256: sealed.summary.sealed_sha256,
                staged_len: sealed.summary.sealed_len,
            }
        }
        Protection::Plain => {
            let mut f = out;
            f.write_all(bytes).map_err(write_err)?;
            f.sync_all().map_err(write_err)?;
            let plain_sha = Sha256Digest::of_bytes(bytes);
            Staged {
                report: empty_report(bytes.len() as u64),
                plain_sha256: plain_sha,
                plain_len: bytes.len() as u64,
                staged_sha256: plain_sha,
                staged_len: bytes.len() as u64,
            }
        }
    };
    fs::rename(&partial, staged).map_err(write_err)?;
    if let Some(parent) = staged.parent() {
        sync_dir(parent).map_err(write_err)?;
    }
    Ok(info)
}

fn empty_report(bytes: u64) -> Report {
    Report {
        removed: Vec::new(),
        duration: std::time::Duration::ZERO,
        bytes,
    }
}
