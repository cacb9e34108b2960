//! The one way recpipe opens a recording's file: regular files only, never
//! through a symbolic link, never blocking, and — where the inventory's row
//! is at hand — only while it is the very file that was checked.
//!
//! Invariants:
//! - A named pipe, socket or device is never waited on: on Unix the open
//!   uses `O_NONBLOCK` (cleared again once the handle is known to be a
//!   regular file), so opening a FIFO returns at once and the type check on
//!   the handle refuses it before a byte is read.
//! - A symbolic link is never followed: `O_NOFOLLOW` on Unix,
//!   `FILE_FLAG_OPEN_REPARSE_POINT` on Windows (the link itself is opened,
//!   and refused as not a regular file).
//! - Type, identity (device and inode; volume serial and file index), size
//!   and modification time are taken from the opened handle, so what is
//!   compared is what will be read or written, not what a name pointed to
//!   a moment earlier.

use super::{FileId, FileKind};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// What the handle is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Writing in place without truncating (and, on Windows, the right to
    /// delete, so the file can be renamed and removed through the handle's
    /// share mode).
    Overwrite,
}

/// A file opened by [`open_checked`], with what its handle says.
#[derive(Debug)]
pub struct Opened {
    pub file: File,
    /// Size, mtime and identity of the opened file.
    pub id: FileId,
    /// How many names (hard links) the file has.
    pub links: u64,
}

/// Why a file was not opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A FIFO, socket, device, folder or link: recpipe never reads those.
    #[error("it is {}, not a regular file, and recpipe opens only regular files", .0.describe())]
    NotRegular(FileKind),
    /// The name now holds another file, or the file changed.
    #[error("{0}")]
    Changed(String),
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl From<OpenError> for io::Error {
    fn from(e: OpenError) -> io::Error {
        match e {
            OpenError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// Opens one of a recording's files for reading: regular files only,
/// without following a link or blocking. What every reader of a
/// recording's file (hashing, the media reader, copying) goes through.
pub fn open_input(path: &Path) -> io::Result<File> {
    Ok(open_checked(path, Access::Read, None)?.file)
}

/// Reads one of a recording's text files (the marks file) whole, opened
/// as [`open_checked`] opens, only while it is `expected` when given.
pub fn read_text(path: &Path, expected: Option<&FileId>) -> io::Result<String> {
    io::read_to_string(open_checked(path, Access::Read, expected)?.file)
}

/// Opens `path` as [`open_input`] does, for `access`; when `expected` is
/// given, also refuses it unless the opened file is still that file (same
/// identity, size and modification time).
pub fn open_checked(
    path: &Path,
    access: Access,
    expected: Option<&FileId>,
) -> Result<Opened, OpenError> {
    let file = options(access).open(path).map_err(|e| {
        if is_link_refusal(&e) {
            OpenError::NotRegular(FileKind::Symlink)
        } else {
            OpenError::Io(e)
        }
    })?;
    let meta = file.metadata()?;
    let kind = FileKind::of(meta.file_type());
    if kind != FileKind::File {
        return Err(OpenError::NotRegular(kind));
    }
    let (id, links) = super::FileId::of_open(&file, &meta)?;
    if let Some(before) = expected
        && let Some(why) = id.change_since(before)
    {
        return Err(OpenError::Changed(why));
    }
    #[cfg(unix)]
    clear_nonblocking(&file)?;
    Ok(Opened { file, id, links })
}

#[cfg(unix)]
fn options(access: Access) -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    match access {
        Access::Read => o.read(true),
        Access::Overwrite => o.write(true),
    };
    o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    o
}

/// Reading or writing with reading, writing and deletion shared (the
/// standard library's default share mode), on the link itself if it is one.
#[cfg(windows)]
fn options(access: Access) -> OpenOptions {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{
        DELETE, FILE_FLAG_OPEN_REPARSE_POINT, FILE_GENERIC_WRITE,
    };
    let mut o = OpenOptions::new();
    match access {
        Access::Read => o.read(true),
        Access::Overwrite => o.write(true).access_mode(FILE_GENERIC_WRITE | DELETE),
    };
    o.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    o
}

/// `O_NOFOLLOW` on a link fails with `ELOOP` (Linux, macOS) or `EMLINK`
/// (FreeBSD).
fn is_link_refusal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EMLINK))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Reads and writes on the regular file block as usual from here on.
#[cfg(unix)]
fn clear_nonblocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is open for the duration of both calls.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; only the O_NONBLOCK bit changes.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;

    fn id_of(p: &Path) -> FileId {
        FileId::of(p, &fs::symlink_metadata(p).unwrap())
    }

    #[test]
    fn a_regular_file_opens_and_matches_its_listing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.m4a");
        fs::write(&path, b"abc").unwrap();
        let mut o = open_checked(&path, Access::Read, Some(&id_of(&path))).unwrap();
        assert_eq!(o.links, 1);
        let mut text = String::new();
        o.file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "abc");
    }

    #[test]
    fn a_file_replaced_under_its_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.m4a");
        fs::write(&path, b"abc").unwrap();
        let before = id_of(&path);
        let other = dir.path().join("b");
        fs::write(&other, b"xyz").unwrap();
        fs::rename(&other, &path).unwrap();
        let err = open_checked(&path, Access::Read, Some(&before)).unwrap_err();
        assert!(matches!(err, OpenError::Changed(_)), "{err}");
        assert!(err.to_string().contains("replaced"), "{err}");
    }

    #[test]
    fn a_folder_is_not_opened_as_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = open_checked(dir.path(), Access::Read, None).unwrap_err();
        assert!(
            matches!(err, OpenError::NotRegular(FileKind::Folder))
                || matches!(err, OpenError::Io(_)),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"precious").unwrap();
        let link = dir.path().join("audio1.m4a");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_checked(&link, Access::Overwrite, None).unwrap_err();
        assert!(
            matches!(err, OpenError::NotRegular(FileKind::Symlink)),
            "{err}"
        );
        assert_eq!(fs::read(&target).unwrap(), b"precious");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("audio1.m4a");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = open_input(&fifo).unwrap_err();
        assert!(err.to_string().contains("named pipe"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_regular_file_is_left_blocking() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        fs::write(&path, b"abc").unwrap();
        let f = open_input(&path).unwrap();
        // SAFETY: the descriptor is open.
        let flags = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0);
    }
}
