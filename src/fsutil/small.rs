//! The one way recpipe reads the small files a pipeline or a command names
//! (identity and recipients files, API keys and link secrets, known_hosts,
//! the pipeline file itself): whole, as a regular file only, never
//! blocking, and never past a size fit for its kind.
//!
//! Invariants:
//! - A named pipe, socket or device (`/dev/zero`, `/dev/stdin`) is refused
//!   before a byte is read: on Unix the open uses `O_NONBLOCK`, so a FIFO
//!   with no writer does not hold recpipe, and the handle's type is
//!   checked; on Windows the handle's type is checked the same way.
//! - A symbolic link is followed (these files often live in a dotfiles
//!   folder), but what is read is what the opened handle is, a regular
//!   file.
//! - No more than the kind's limit plus one byte is ever read, also from a
//!   file whose size the system reports wrongly (`/proc`), so a wrong file
//!   named by mistake cannot fill memory.

use super::FileKind;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// What a small file is, for its size limit and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Small {
    /// An identity (private key) file.
    Identity,
    /// A recipients file.
    Recipients,
    /// An API key or a link's secret.
    Secret,
    /// An SSH known_hosts file.
    KnownHosts,
    /// A pipeline file.
    Pipeline,
}

impl Small {
    /// The most bytes a file of this kind may hold.
    pub fn limit(self) -> u64 {
        match self {
            Small::Identity | Small::Secret => 64 << 10,
            Small::Recipients | Small::Pipeline => 1 << 20,
            Small::KnownHosts => 16 << 20,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Small::Identity => "an identity file",
            Small::Recipients => "a recipients file",
            Small::Secret => "a key or secret file",
            Small::KnownHosts => "a known_hosts file",
            Small::Pipeline => "a pipeline file",
        }
    }
}

/// Opens `path` as [`read_small`] does and returns the handle of the
/// regular file (for a caller that hands the name on, such as a key file
/// libssh2 reads itself: this refuses a FIFO or device before it can).
pub fn open_small(path: &Path, kind: Small) -> io::Result<File> {
    let file = options().open(path)?;
    let meta = file.metadata()?;
    let found = FileKind::of(meta.file_type());
    if found != FileKind::File {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file, and recpipe reads {} only from a regular file",
                found.describe(),
                kind.what()
            ),
        ));
    }
    if meta.len() > kind.limit() {
        return Err(too_large(kind));
    }
    Ok(file)
}

/// Reads the small file `path` of `kind` whole: regular files only, never
/// blocking, at most [`Small::limit`] bytes.
pub fn read_small(path: &Path, kind: Small) -> io::Result<Vec<u8>> {
    let file = open_small(path, kind)?;
    // Sized once, so a secret is not left behind in grown-out buffers.
    let len = file.metadata()?.len().min(kind.limit()) as usize;
    let mut bytes = Vec::with_capacity(len + 1);
    file.take(kind.limit() + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > kind.limit() {
        return Err(too_large(kind));
    }
    Ok(bytes)
}

/// [`read_small`] as UTF-8 text.
pub fn read_small_text(path: &Path, kind: Small) -> io::Result<String> {
    String::from_utf8(read_small(path, kind)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is not text (UTF-8), as {} is", kind.what()),
        )
    })
}

fn too_large(kind: Small) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "it is larger than {} KiB, more than {} ever holds: is it the right file?",
            kind.limit() >> 10,
            kind.what()
        ),
    )
}

#[cfg(unix)]
fn options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    o
}

#[cfg(not(unix))]
fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.read(true);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_regular_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, b"secret\n").unwrap();
        assert_eq!(read_small(&p, Small::Secret).unwrap(), b"secret\n");
        assert_eq!(read_small_text(&p, Small::Secret).unwrap(), "secret\n");
    }

    #[test]
    fn a_file_past_its_kinds_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, vec![b'a'; (64 << 10) + 1]).unwrap();
        let err = read_small(&p, Small::Secret).unwrap_err();
        assert!(err.to_string().contains("larger than 64 KiB"), "{err}");
        assert!(read_small(&p, Small::Recipients).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_and_a_device_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("api-key");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_small(&fifo, Small::Secret).unwrap_err();
        assert!(err.to_string().contains("named pipe"), "{err}");
        let err = read_small(Path::new("/dev/zero"), Small::KnownHosts).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_regular_file_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_small(&link, Small::Identity).unwrap(), b"x");
    }
}
