//! Durable file operations shared by the journal, staging, live marks and
//! cleanup, and the one way recpipe opens a recording's file ([`open`]).
//!
//! Invariants: [`write_atomic`] leaves either the old content or the new
//! content under the final name, never a mix, even across a power cut
//! (write a uniquely named temporary file in the same folder, fsync it,
//! rename, fsync the folder); its temporaries start with [`TEMP_PREFIX`],
//! so what a crash leaves is recognised ([`remove_stale_temps`]) and is
//! readable by its owner only. [`FileId`] tells whether a path still names
//! the very file that was seen before (same size, mtime and file
//! identity). [`restrict_to_owner`] keeps a secret file (an identity, a
//! key) to the current user: mode 0600 on Unix, an access list on Windows;
//! [`create_private_dir`] does the same for a folder (0700).

use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

pub mod open;
pub mod small;
#[cfg(windows)]
mod windows;
mod writeback;

pub use open::{Access, OpenError, Opened, open_checked, open_input, read_text};
pub use small::{Small, open_small, read_small, read_small_text};
pub use writeback::{FileWriter, WriteBack};

/// How every temporary file [`write_atomic`] makes begins.
pub const TEMP_PREFIX: &str = ".recpipe-tmp-";

/// Writes `bytes` to `path` so that a crash leaves the old or the new
/// content, never a partial file. The new file is readable and writable by
/// its owner only (on Unix; on Windows it inherits the folder's access).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}.", name.to_string_lossy()))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // On failure the temporary file is removed when `tmp` is dropped.
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Removes what interrupted [`write_atomic`]s left in `dir`: files named
/// with [`TEMP_PREFIX`], and those of the form `<name>.tmp-<12 hex digits>`
/// that recpipe 0.1 wrote. Only call it where no other process may be
/// writing at the same time (under the lock that guards `dir`). Returns how
/// many it removed.
pub fn remove_stale_temps(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for item in fs::read_dir(dir)? {
        let item = item?;
        let name = item.file_name();
        let name = name.to_string_lossy();
        let legacy = name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, h)| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if (name.starts_with(TEMP_PREFIX) || legacy) && item.file_type()?.is_file() {
            match fs::remove_file(item.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// Makes a folder's entries (creations, renames, removals) durable.
/// A no-op where the platform cannot open folders (Windows: NTFS journals
/// metadata itself).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    fill_random(&mut bytes);
    // Spelled out rather than taken from `digest`, which builds on this
    // module: foundations call only the ones below them.
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fills `buf` from the operating system's random source.
pub fn fill_random(buf: &mut [u8]) {
    // The OS random source failing is not something recpipe can recover
    // from or work around safely.
    getrandom::fill(buf).expect("the operating system's random source failed");
}

/// What a folder entry is, as listed (links are not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    File,
    Symlink,
    Folder,
    /// A named pipe (FIFO).
    Fifo,
    Socket,
    /// A block or character device.
    Device,
    /// Anything else the system reports.
    Other,
}

impl FileKind {
    pub fn of(t: fs::FileType) -> FileKind {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                return FileKind::Fifo;
            }
            if t.is_socket() {
                return FileKind::Socket;
            }
            if t.is_block_device() || t.is_char_device() {
                return FileKind::Device;
            }
        }
        if t.is_symlink() {
            FileKind::Symlink
        } else if t.is_dir() {
            FileKind::Folder
        } else if t.is_file() {
            FileKind::File
        } else {
            FileKind::Other
        }
    }

    /// In words, with its article: "a named pipe (FIFO)".
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::File => "a regular file",
            FileKind::Symlink => "a symbolic link",
            FileKind::Folder => "a folder",
            FileKind::Fifo => "a named pipe (FIFO)",
            FileKind::Socket => "a socket",
            FileKind::Device => "a device",
            FileKind::Other => "a special file of a kind recpipe does not know",
        }
    }
}

/// What identifies one file on disk at one moment: if any part differs
/// when seen again, it is not the file that was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileId {
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
    /// Device and inode (Unix) or volume serial number and file index
    /// (Windows): tells a file from another one that took its name.
    pub identity: (u64, u64),
}

impl FileId {
    /// The identity of `path`, which `meta` describes (from
    /// `symlink_metadata`).
    pub fn of(path: &Path, meta: &Metadata) -> FileId {
        FileId {
            size: meta.len(),
            mtime_ns: mtime_ns(meta),
            identity: identity(path, meta),
        }
    }

    /// The identity of an open file, whose metadata (from the handle) is
    /// `meta`, and how many names (hard links) it has.
    pub fn of_open(file: &fs::File, meta: &Metadata) -> io::Result<(FileId, u64)> {
        #[cfg(unix)]
        let (identity, links) = {
            use std::os::unix::fs::MetadataExt;
            let _ = file;
            ((meta.dev(), meta.ino()), meta.nlink())
        };
        #[cfg(windows)]
        let (identity, links) = windows::handle_identity(file)?;
        Ok((
            FileId {
                size: meta.len(),
                mtime_ns: mtime_ns(meta),
                identity,
            },
            links,
        ))
    }

    /// How this file differs from `before`, as words that follow the
    /// file's name or role and a colon; `None` when it is the same file,
    /// unchanged.
    pub fn change_since(&self, before: &FileId) -> Option<String> {
        if self.identity != before.identity {
            Some("it was replaced by another file after the check".into())
        } else if self.size != before.size {
            Some(format!(
                "its size changed after the check, from {} to {} bytes",
                before.size, self.size
            ))
        } else if self.mtime_ns != before.mtime_ns {
            Some("it was modified after the check".into())
        } else {
            None
        }
    }
}

fn mtime_ns(meta: &Metadata) -> i128 {
    meta.modified()
        .ok()
        .map(|t| match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        })
        .unwrap_or(0)
}

#[cfg(unix)]
fn identity(_path: &Path, meta: &Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(windows)]
use windows::identity;

/// Makes `path` readable and writable by the current user only: mode 0600
/// on Unix; on Windows an access list with one entry, full access for the
/// current user, that inherits nothing from the folder. (Administrators
/// can still take ownership of a file on Windows, as root can read any
/// file on Unix; `docs/windows.md` says what this protects.)
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
    }
    #[cfg(windows)]
    {
        windows::restrict_to_owner(path, false)
    }
}

/// Creates `path` (and its parents) if need be and keeps it to the current
/// user: mode 0700 on Unix (an existing folder is set so too); on Windows
/// the owner-only access list of [`restrict_to_owner`], inherited by what
/// is created inside.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
    }
    #[cfg(windows)]
    {
        fs::create_dir_all(path)?;
        windows::restrict_to_owner(path, true)
    }
}

/// Whether only the current user may get at `path`: no group or other
/// permission bits on Unix; on Windows every entry of its access list
/// that allows anything names the current user.
pub fn is_owner_only(path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(fs::metadata(path)?.permissions().mode() & 0o077 == 0)
    }
    #[cfg(windows)]
    {
        windows::is_owner_only(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_temporaries_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let keep = ["abc.json", "notes.tmp-x", "abc.json.tmp-zz0011223344"];
        for name in keep {
            fs::write(dir.path().join(name), b"keep").unwrap();
        }
        let stale = [
            format!("{TEMP_PREFIX}abc.json.Xy12ab"),
            "abc.json.tmp-0123456789ab".to_string(),
        ];
        for name in &stale {
            fs::write(dir.path().join(name), b"stale").unwrap();
        }
        assert_eq!(remove_stale_temps(dir.path()).unwrap(), 2);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(left, want);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_and_private_folders_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        create_private_dir(&dir.join("journals")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "an existing folder is narrowed");
        assert_eq!(mode(&dir.join("journals")), 0o700);
        write_atomic(&dir.join("j.json"), b"x").unwrap();
        assert_eq!(mode(&dir.join("j.json")), 0o600);
    }

    #[test]
    fn file_id_changes_with_content_and_with_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        fs::write(&path, b"abc").unwrap();
        let id = |p: &Path| FileId::of(p, &fs::symlink_metadata(p).unwrap());
        let first = id(&path);
        assert_eq!(first, id(&path));
        fs::write(&path, b"abcd").unwrap();
        let grown = id(&path);
        assert_ne!(first, grown);
        assert_eq!(first.identity, grown.identity, "still the same file");
    }

    #[test]
    fn file_id_tells_a_replacement_under_the_same_name_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        let id = |p: &Path| FileId::of(p, &fs::symlink_metadata(p).unwrap());
        fs::write(&path, b"abc").unwrap();
        let first = id(&path);
        // Another file of the same size takes the name (NTFS would even
        // hand it the old creation time).
        let other = dir.path().join("b");
        fs::write(&other, b"xyz").unwrap();
        fs::remove_file(&path).unwrap();
        fs::rename(&other, &path).unwrap();
        assert_ne!(first.identity, id(&path).identity);
    }

    #[test]
    fn a_file_restricted_to_its_owner_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity");
        fs::write(&path, b"secret").unwrap();
        restrict_to_owner(&path).unwrap();
        assert_eq!(
            fs::read(&path).unwrap(),
            b"secret",
            "the owner still reads it"
        );
        #[cfg(windows)]
        if windows::is_wine() {
            // Wine 8 accepts an access list but does not keep it: it shows
            // every file as readable by Everyone, which the check sees.
            assert!(!is_owner_only(&path).unwrap());
            return;
        }
        assert!(is_owner_only(&path).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_file_is_not_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity");
        fs::write(&path, b"secret").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!is_owner_only(&path).unwrap());
    }

    #[test]
    fn random_hex_is_hex_of_the_asked_length() {
        let a = random_hex(8);
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(8));
    }
}
