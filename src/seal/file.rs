//! File-level sealing operations: identity and recipients files, sealing a
//! file, decrypting one.
//!
//! Every output is first written to a temporary file beside it,
//! `.NAME.XXXXXX.KIND.recpipe-partial` (readable only by its owner on Unix),
//! synced, and only then linked into place under its final name; an
//! existing file is never overwritten. A decrypt that fails anywhere (wrong
//! key, altered header, a segment that does not authenticate, truncation)
//! removes the temporary file, so no plaintext and no partial output is left
//! behind; an interrupted one is removed by [`remove_open_partials`] (the
//! CLI's Ctrl-C, SIGTERM and console-close handler), and one left by a
//! killed process by [`remove_stale_partials`] on the next decrypt there.

use super::SEALED_EXTENSION;
use super::error::{KeyError, OpenError, SealError};
use super::keys::{Identity, Passphrase, Recipient, parse_identities, parse_recipients};
use super::reader::{OpenSummary, Unlock, decrypt};
use super::stanza::Argon2Params;
use super::writer::{SealSummary, SealWriter};
use crate::fsutil::WriteBack;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tempfile::NamedTempFile;
use zeroize::Zeroizing;

/// Why a file-level sealing operation failed; each names its file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{} already exists; recpipe never overwrites a file (move it away or choose another name)", path.display())]
    Exists { path: PathBuf },
    #[error("{}:{line}: {source}", path.display())]
    Key {
        path: PathBuf,
        line: usize,
        source: KeyError,
    },
    #[error("{} holds no {what}", path.display())]
    Empty { path: PathBuf, what: &'static str },
    #[error(
        "{} can be read by other users, so it is not used: an identity (secret key) must be readable only by you",
        path.display()
    )]
    Unprotected { path: PathBuf },
    #[error("cannot seal {}: {source}", path.display())]
    Seal { path: PathBuf, source: SealError },
    #[error("cannot decrypt {}: {source}", path.display())]
    Open { path: PathBuf, source: OpenError },
}

/// Writes a new identity file at `path` (refusing to overwrite; mode 0600
/// on Unix, an access list for the current user alone on Windows) with the
/// creation time and the recipient as comments.
pub fn write_identity_file(path: &Path, identity: &Identity) -> Result<(), FileError> {
    let created = jiff::Timestamp::now().to_string();
    let mut text = Zeroizing::new(String::new());
    text.push_str(&format!(
        "# created: {created}\n# recipient: {}\n",
        identity.recipient()
    ));
    text.push_str(&identity.to_secret_text());
    text.push('\n');
    let mut out = TempOutput::beside(path, Kind::Identity)?;
    // Restricted before a byte of the secret is in it.
    #[cfg(windows)]
    crate::fsutil::restrict_to_owner(&out.path).map_err(|source| write_err(&out.path, source))?;
    let written = out.file()?.write_all(text.as_bytes());
    written.map_err(|source| write_err(&out.path, source))?;
    out.commit(path)
}

/// Reads an identity file (see [`parse_identities`]); refuses one that
/// other users can read (group or other permission bits on Unix; an access
/// list granting anyone but its owner on Windows).
pub fn read_identity_file(path: &Path) -> Result<Vec<Identity>, FileError> {
    let text = Zeroizing::new(
        crate::fsutil::read_small_text(path, crate::fsutil::Small::Identity)
            .map_err(|source| read_err(path, source))?,
    );
    let ids = parse_identities(&text).map_err(|(line, source)| FileError::Key {
        path: path.to_path_buf(),
        line,
        source,
    })?;
    if ids.is_empty() {
        return Err(FileError::Empty {
            path: path.to_path_buf(),
            what: "identity",
        });
    }
    // As OpenSSH refuses a private key others can read: a key that others
    // could have copied protects nothing, and the person should know.
    if !crate::fsutil::is_owner_only(path).map_err(|source| read_err(path, source))? {
        return Err(FileError::Unprotected {
            path: path.to_path_buf(),
        });
    }
    Ok(ids)
}

/// Reads a recipients file (see [`parse_recipients`]).
pub fn read_recipients_file(path: &Path) -> Result<Vec<Recipient>, FileError> {
    let text = crate::fsutil::read_small_text(path, crate::fsutil::Small::Recipients)
        .map_err(|source| read_err(path, source))?;
    let list = parse_recipients(&text).map_err(|(line, source)| FileError::Key {
        path: path.to_path_buf(),
        line,
        source,
    })?;
    if list.is_empty() {
        return Err(FileError::Empty {
            path: path.to_path_buf(),
            what: "recipient",
        });
    }
    Ok(list)
}

/// `interview.m4a` → `interview.m4a.sealed`.
pub fn sealed_name(input: &Path) -> PathBuf {
    let mut name = input.as_os_str().to_owned();
    name.push(".");
    name.push(SEALED_EXTENSION);
    PathBuf::from(name)
}

/// `interview.m4a.sealed` → `interview.m4a` in `dir` (or beside the input);
/// a name without `.sealed` gets `.decrypted` appended instead.
pub fn decrypted_name(input: &Path, dir: Option<&Path>) -> PathBuf {
    let file_name = input.file_name().map(PathBuf::from).unwrap_or_default();
    let name = match file_name.extension() {
        Some(ext) if ext == SEALED_EXTENSION && file_name.file_stem().is_some() => {
            file_name.with_extension("")
        }
        _ => {
            let mut n = file_name.into_os_string();
            n.push(".decrypted");
            PathBuf::from(n)
        }
    };
    match dir {
        Some(d) => d.join(name),
        None => input.with_file_name(name),
    }
}

/// What a sealed file opens with.
#[derive(Debug, Clone, Copy)]
pub enum SealTo<'a> {
    /// Any of these recipients' identities.
    Recipients(&'a [Recipient]),
    /// This passphrase (Argon2id with [`Argon2Params::SEAL`]).
    Passphrase(&'a Passphrase),
}

/// Seals `input` into `output` (which must not exist) for `recipients`.
pub fn seal_file(
    input: &Path,
    output: &Path,
    recipients: &[Recipient],
) -> Result<SealSummary, FileError> {
    seal_file_to(input, output, SealTo::Recipients(recipients))
}

/// Seals `input` into `output` (which must not exist) to open with `to`.
pub fn seal_file_to(input: &Path, output: &Path, to: SealTo<'_>) -> Result<SealSummary, FileError> {
    let mut source = File::open(input).map_err(|source| read_err(input, source))?;
    if output.exists() {
        return Err(FileError::Exists {
            path: output.to_path_buf(),
        });
    }
    let mut tmp = TempOutput::beside(output, Kind::Seal)?;
    let seal_err = |source| FileError::Seal {
        path: input.to_path_buf(),
        source,
    };
    let tmp_path = tmp.path.clone();
    // A handle of its own: the sealed bytes are written on a helper thread.
    let file = tmp
        .file()?
        .try_clone()
        .map_err(|e| write_err(&tmp_path, e))?;
    let out = BufWriter::with_capacity(1 << 20, WriteBack::new(file));
    let mut writer = match to {
        SealTo::Recipients(recipients) => SealWriter::new(out, recipients),
        SealTo::Passphrase(p) => SealWriter::with_passphrase(out, p, Argon2Params::SEAL),
    }
    .map_err(seal_err)?;
    copy(&mut source, &mut writer).map_err(|e| match e {
        Copy::Read(source) => read_err(input, source),
        Copy::Write(source) => write_err(&tmp_path, source),
    })?;
    let summary = writer.finish().map_err(seal_err)?.summary;
    tmp.commit(output)?;
    Ok(summary)
}

/// Decrypts `input` into `output` (which must not exist). The plaintext is
/// written to a temporary file that becomes `output` only after the last
/// segment authenticated; on any failure nothing is left.
pub fn decrypt_file(
    input: &Path,
    output: &Path,
    unlock: Unlock<'_>,
) -> Result<OpenSummary, FileError> {
    let source = File::open(input).map_err(|source| read_err(input, source))?;
    if output.exists() {
        return Err(FileError::Exists {
            path: output.to_path_buf(),
        });
    }
    let mut tmp = TempOutput::beside(output, Kind::Decrypt)?;
    // Segments come out whole (64 KiB), so no write buffer (which would be
    // one more unwiped copy of plaintext) is needed.
    let summary = decrypt(
        io::BufReader::with_capacity(1 << 17, source),
        unlock,
        tmp.file()?,
    )
    .map_err(|source| FileError::Open {
        path: input.to_path_buf(),
        source,
    })?;
    tmp.commit(output)?;
    Ok(summary)
}

enum Copy {
    Read(io::Error),
    Write(io::Error),
}

fn copy(from: &mut impl Read, to: &mut impl Write) -> Result<(), Copy> {
    // Plaintext passes through it: wiped when done.
    let mut buf = Zeroizing::new(vec![0u8; 1 << 17]);
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(Copy::Write)?;
    }
}

fn read_err(path: &Path, source: io::Error) -> FileError {
    FileError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn write_err(path: &Path, source: io::Error) -> FileError {
    FileError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// What a temporary output holds, which names it: `.NAME.XXXXXX.KIND.recpipe-partial`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Decrypted plaintext.
    Decrypt,
    /// A sealed file being written.
    Seal,
    /// A new identity (secret key).
    Identity,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::Decrypt => DECRYPT_SUFFIX,
            Kind::Seal => ".seal.recpipe-partial",
            Kind::Identity => ".identity.recpipe-partial",
        }
    }
}

/// How the temporary file of a decrypt ends; see [`remove_stale_partials`].
const DECRYPT_SUFFIX: &str = ".decrypt.recpipe-partial";

/// The temporary outputs open in this process, for [`remove_open_partials`].
static OPEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn open_list() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every temporary output this process has open (decrypted
/// plaintext, a sealed file or identity being written). For a signal or
/// console-close handler that ends the process next: nothing partial is
/// left behind. Returns how many were removed.
pub fn remove_open_partials() -> usize {
    let mut removed = 0;
    for path in open_list().drain(..) {
        if fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Removes what earlier decrypts into `dir` left when they were killed:
/// files named as a decrypt's temporary output whose owner is gone (a live
/// decrypt holds a lock on its own, so it is never touched). Only regular
/// files are considered. Returns how many were removed.
pub fn remove_stale_partials(dir: &Path) -> Result<usize, FileError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(source) => return Err(read_err(dir, source)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.ends_with(DECRYPT_SUFFIX)) {
            continue;
        }
        let path = entry.path();
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else {
            continue;
        };
        if file.try_lock().is_ok() {
            fs::remove_file(&path).map_err(|source| write_err(&path, source))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A temporary file beside a final path (owner-only on Unix, locked while
/// open, listed for [`remove_open_partials`]); removed on drop unless
/// committed. tempfile's `NamedTempFile` creates it exclusively and gives
/// it its final name without ever replacing a file (`persist_noclobber`).
struct TempOutput {
    file: Option<NamedTempFile>,
    path: PathBuf,
}

impl TempOutput {
    fn beside(target: &Path, kind: Kind) -> Result<TempOutput, FileError> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let file = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(kind.suffix())
            .rand_bytes(6)
            .tempfile_in(dir)
            .map_err(|source| write_err(target, source))?;
        let path = file.path().to_path_buf();
        // A decrypt that finds this file unlocked knows its owner is gone.
        let _ = file.as_file().try_lock();
        open_list().push(path.clone());
        Ok(TempOutput {
            file: Some(file),
            path,
        })
    }

    /// The open temporary file (open from `beside` until `commit`).
    fn file(&mut self) -> Result<&mut File, FileError> {
        let path = &self.path;
        self.file
            .as_mut()
            .map(|f| f.as_file_mut())
            .ok_or_else(|| write_err(path, io::Error::other("already closed")))
    }

    /// Syncs the file and gives it its final name, never replacing a file.
    fn commit(mut self, target: &Path) -> Result<(), FileError> {
        let Some(file) = self.file.take() else {
            return Err(write_err(&self.path, io::Error::other("already closed")));
        };
        file.as_file()
            .sync_all()
            .map_err(|source| write_err(&self.path, source))?;
        match file.persist_noclobber(target) {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Err(FileError::Exists {
                path: target.to_path_buf(),
            }),
            // Dropping the returned temporary file removes it.
            Err(e) => Err(write_err(target, e.error)),
        }
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        // Closing first: Windows refuses to remove an open file.
        drop(self.file.take());
        open_list().retain(|p| p != &self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names() {
        assert_eq!(
            sealed_name(Path::new("a/interview.m4a")),
            Path::new("a/interview.m4a.sealed")
        );
        assert_eq!(
            decrypted_name(Path::new("a/interview.m4a.sealed"), None),
            Path::new("a/interview.m4a")
        );
        assert_eq!(
            decrypted_name(Path::new("a/interview.m4a.sealed"), Some(Path::new("out"))),
            Path::new("out/interview.m4a")
        );
        assert_eq!(
            decrypted_name(Path::new("notes"), None),
            Path::new("notes.decrypted")
        );
        assert_eq!(
            decrypted_name(Path::new(".sealed"), None),
            Path::new(".sealed.decrypted")
        );
    }
}
