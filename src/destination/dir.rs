//! The folder destination: a local or mounted folder (a network share, an
//! encrypted volume). Same contract as SFTP: partials are created
//! exclusively and synced to disk, and the rename into place is a hard link
//! then an unlink, which fails rather than replace an existing file. Where
//! the filesystem has no hard links (FAT, some shares), it checks that the
//! name is free and renames; that check and the rename are not one atomic
//! step there.

use super::stream::{copy_read_ahead, hash_stream};
use super::{DestError, Destination, Progress, partial_name};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Files in one folder.
#[derive(Debug)]
pub struct DirDestination {
    root: PathBuf,
}

impl DirDestination {
    /// Opens the folder, creating it (and its parents) if missing.
    pub fn open(root: &Path) -> Result<DirDestination, DestError> {
        fs::create_dir_all(root).map_err(|e| DestError::io("create folder", root, e))?;
        if !root.is_dir() {
            return Err(DestError::NotAFile {
                location: root.display().to_string(),
                name: ".".into(),
            });
        }
        Ok(DirDestination {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Makes a rename or a new file in the folder survive a power cut.
    fn sync_folder(&self) -> Result<(), DestError> {
        #[cfg(unix)]
        {
            File::open(&self.root)
                .and_then(|d| d.sync_all())
                .map_err(|e| DestError::io("sync folder", &self.root, e))?;
        }
        Ok(())
    }
}

impl Destination for DirDestination {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        let path = self.path(name);
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Err(DestError::NotAFile {
                location: self.location(),
                name: name.to_string(),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DestError::io("stat", path, e)),
        }
    }

    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        let path = self.path(&partial_name(name));
        let mut out = if offset == 0 {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| DestError::io("create", &path, e))?
        } else {
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| DestError::io("open", &path, e))?;
            let actual = f
                .metadata()
                .map_err(|e| DestError::io("stat", &path, e))?
                .len();
            if actual != offset {
                return Err(DestError::PartialChanged {
                    location: self.location(),
                    name: name.to_string(),
                    expected: offset,
                    actual,
                });
            }
            f
        };
        out.seek(SeekFrom::Start(offset))
            .map_err(|e| DestError::io("seek", &path, e))?;
        src.seek(SeekFrom::Start(offset))
            .map_err(|e| DestError::io("seek", &path, e))?;
        let mut pos = offset;
        copy_read_ahead(
            src,
            |chunk| {
                out.write_all(chunk)
                    .map_err(|e| DestError::io("write", &path, e))?;
                pos += chunk.len() as u64;
                progress(pos);
                Ok(())
            },
            |e| DestError::io("read", &path, e),
        )?;
        out.sync_all()
            .map_err(|e| DestError::io("sync", &path, e))?;
        self.sync_folder()?;
        Ok(pos)
    }

    fn read_back(
        &mut self,
        name: &str,
        progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        let path = self.path(name);
        let mut f = File::open(&path).map_err(|e| DestError::io("open", &path, e))?;
        hash_stream(&mut f, progress).map_err(|e| DestError::io("read", &path, e))
    }

    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        let from = self.path(&partial_name(name));
        let to = self.path(name);
        let exists = || DestError::Exists {
            location: self.location(),
            name: name.to_string(),
            why: "a file of that name is there already".into(),
        };
        match fs::hard_link(&from, &to) {
            Ok(()) => {
                fs::remove_file(&from).map_err(|e| DestError::io("remove", &from, e))?;
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(DestError::io("rename", &from, e));
            }
            Err(_) => {
                // No hard links here: check, then rename.
                if fs::symlink_metadata(&to).is_ok() {
                    return Err(exists());
                }
                fs::rename(&from, &to).map_err(|e| DestError::io("rename", &from, e))?;
            }
        }
        self.sync_folder()
    }

    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        let path = self.path(&partial_name(name));
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DestError::io("remove", path, e)),
        }
    }
}
