//! File-level sealing operations: identity and recipients files, sealing a
//! file, decrypting one.
//!
//! Every output is first written to a temporary file beside it (readable
//! only by its owner on Unix), synced, and only then linked into place
//! under its final name; an existing file is never overwritten. A decrypt
//! that fails anywhere (wrong key, altered header, a segment that does not
//! authenticate, truncation) removes the temporary file, so no plaintext
//! and no partial output is left behind.

use super::SEALED_EXTENSION;
use super::error::{KeyError, OpenError, SealError};
use super::keys::{Identity, Recipient, parse_identities, parse_recipients, random};
use super::reader::{OpenSummary, Unlock, decrypt};
use super::writer::{SealSummary, SealWriter};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
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
    #[error("cannot seal {}: {source}", path.display())]
    Seal { path: PathBuf, source: SealError },
    #[error("cannot decrypt {}: {source}", path.display())]
    Open { path: PathBuf, source: OpenError },
}

/// Writes a new identity file at `path` (refusing to overwrite; mode 0600
/// on Unix, an access list for the current user alone on Windows) with the
/// creation time and the recipient as comments.
pub fn write_identity_file(path: &Path, identity: &Identity) -> Result<(), FileError> {
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut text = Zeroizing::new(String::new());
    text.push_str(&format!(
        "# created: {created}\n# recipient: {}\n",
        identity.recipient()
    ));
    text.push_str(&identity.to_secret_text());
    text.push('\n');
    let mut out = TempOutput::beside(path)?;
    // Restricted before a byte of the secret is in it.
    #[cfg(windows)]
    crate::fsutil::restrict_to_owner(&out.path).map_err(|source| write_err(&out.path, source))?;
    let written = out.file()?.write_all(text.as_bytes());
    written.map_err(|source| write_err(&out.path, source))?;
    out.commit(path)
}

/// Reads an identity file (see [`parse_identities`]).
pub fn read_identity_file(path: &Path) -> Result<Vec<Identity>, FileError> {
    let mut text = Zeroizing::new(String::new());
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|source| read_err(path, source))?;
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
    Ok(ids)
}

/// Reads a recipients file (see [`parse_recipients`]).
pub fn read_recipients_file(path: &Path) -> Result<Vec<Recipient>, FileError> {
    let text = fs::read_to_string(path).map_err(|source| read_err(path, source))?;
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

/// Seals `input` into `output` (which must not exist) for `recipients`.
pub fn seal_file(
    input: &Path,
    output: &Path,
    recipients: &[Recipient],
) -> Result<SealSummary, FileError> {
    let mut source = File::open(input).map_err(|source| read_err(input, source))?;
    if output.exists() {
        return Err(FileError::Exists {
            path: output.to_path_buf(),
        });
    }
    let mut tmp = TempOutput::beside(output)?;
    let seal_err = |source| FileError::Seal {
        path: input.to_path_buf(),
        source,
    };
    let tmp_path = tmp.path.clone();
    let mut writer = SealWriter::new(BufWriter::new(tmp.file()?), recipients).map_err(seal_err)?;
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
    let mut tmp = TempOutput::beside(output)?;
    let tmp_path = tmp.path.clone();
    let mut writer = BufWriter::new(tmp.file()?);
    let summary = decrypt(
        io::BufReader::with_capacity(1 << 17, source),
        unlock,
        &mut writer,
    )
    .map_err(|source| FileError::Open {
        path: input.to_path_buf(),
        source,
    })?;
    writer
        .flush()
        .map_err(|source| write_err(&tmp_path, source))?;
    drop(writer);
    tmp.commit(output)?;
    Ok(summary)
}

enum Copy {
    Read(io::Error),
    Write(io::Error),
}

fn copy(from: &mut impl Read, to: &mut impl Write) -> Result<(), Copy> {
    let mut buf = vec![0u8; 1 << 17];
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

/// A temporary file beside a final path; removed on drop unless committed.
/// The file is closed before it is renamed or removed (Windows refuses
/// to remove an open file).
struct TempOutput {
    path: PathBuf,
    file: Option<File>,
    committed: bool,
}

impl TempOutput {
    fn beside(target: &Path) -> Result<TempOutput, FileError> {
        let mut tag = [0u8; 6];
        random(&mut tag).map_err(|e| write_err(target, io::Error::other(e.to_string())))?;
        let tag = crate::digest::hex(&tag);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = target.with_file_name(format!(".{name}.{tag}.partial"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|source| write_err(&path, source))?;
        Ok(TempOutput {
            path,
            file: Some(file),
            committed: false,
        })
    }

    /// The open temporary file (open from `beside` until `commit`).
    fn file(&mut self) -> Result<&mut File, FileError> {
        let path = &self.path;
        self.file
            .as_mut()
            .ok_or_else(|| write_err(path, io::Error::other("already closed")))
    }

    /// Syncs the file and gives it its final name, never replacing a file.
    fn commit(mut self, target: &Path) -> Result<(), FileError> {
        if let Some(file) = self.file.take() {
            file.sync_all()
                .map_err(|source| write_err(&self.path, source))?;
        }
        match fs::hard_link(&self.path, target) {
            Ok(()) => {
                let _ = fs::remove_file(&self.path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(FileError::Exists {
                    path: target.to_path_buf(),
                });
            }
            // Filesystems without hard links: check, then rename.
            Err(_) => {
                if target.exists() {
                    return Err(FileError::Exists {
                        path: target.to_path_buf(),
                    });
                }
                fs::rename(&self.path, target).map_err(|source| write_err(target, source))?;
            }
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        self.file.take();
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
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
