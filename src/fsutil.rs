//! Durable file operations shared by the journal, staging and cleanup.
//!
//! Invariants: [`write_atomic`] leaves either the old content or the new
//! content under the final name, never a mix, even across a power cut
//! (write a temp file in the same folder, fsync it, rename, fsync the
//! folder). [`FileId`] tells whether a path still names the very file that
//! was seen before (same size, mtime and file identity).
//! [`restrict_to_owner`] keeps a secret file (an identity, a key) to the
//! current user: mode 0600 on Unix, an access list on Windows.

use std::fs::{self, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

#[cfg(windows)]
mod windows;

/// Writes `bytes` to `path` so that a crash leaves the old or the new
/// content, never a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp-{}", random_hex(6)));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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
    crate::digest::hex(&bytes)
}

/// Fills `buf` from the operating system's random source.
pub fn fill_random(buf: &mut [u8]) {
    // The OS random source failing is not something recpipe can recover
    // from or work around safely.
    getrandom::fill(buf).expect("the operating system's random source failed");
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
        let mtime_ns = meta
            .modified()
            .ok()
            .map(|t| match t.duration_since(SystemTime::UNIX_EPOCH) {
                Ok(d) => d.as_nanos() as i128,
                Err(e) => -(e.duration().as_nanos() as i128),
            })
            .unwrap_or(0);
        FileId {
            size: meta.len(),
            mtime_ns,
            identity: identity(path, meta),
        }
    }
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
        windows::restrict_to_owner(path)
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
