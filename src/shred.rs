//! Removing the interim copy of a recording: only the files in the
//! inventory taken when the recording was checked, and only while each is
//! still that very file.
//!
//! Invariants:
//! - A file whose kind, size, mtime or identity changed since the check is
//!   left and reported; so is anything new in the folder. Identity is
//!   compared on the opened handle ([`crate::fsutil::open_checked`]:
//!   regular files only, never through a link, never blocking) before a
//!   byte is written, and again on the hidden name after the rename.
//! - A symbolic link is removed as a link; its target is never opened.
//! - A file with other names (hard links, link count above 1) is unlinked,
//!   not overwritten: its data belongs to the other names too. The report
//!   lists it in `unlinked_only`.
//! - Shredding renames the file to a hidden random name
//!   (`.recpipe-shred-` and 16 hex digits), overwrites it once with random
//!   bytes, flushes it to disk, truncates it and unlinks it. A crash part
//!   way leaves only such a hidden file, which the next cleanup finishes:
//!   that pass touches only names of exactly that form, only directly in
//!   the folders the inventory lists files in, only regular files (a link
//!   or anything else under such a name is left and reported as new).
//!   What overwriting cannot promise (SSDs, copy-on-write file systems,
//!   synced folders) is written down in `docs/deletion.md`.
//! - A file that cannot be opened for writing (held open by Zoom or an
//!   antivirus on Windows) is retried, then reported; it is never left
//!   half-overwritten because of a failed open.
//! - The marks file goes last, and only when every other file of the
//!   recording is gone and nothing new is there: a file that stays behind
//!   (and may be taken for a recording again) never stays without its
//!   marks.
//! - Emptied folders (`Audio Record/`, the recording folder) are removed;
//!   a folder that is not empty is left.

use crate::discover::{Entry, MAX_DEPTH, Role};
use crate::fsutil::{
    Access, FileId, FileKind, OpenError, Opened, fill_random, open_checked, random_hex, sync_dir,
};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the interim files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Overwrite with random bytes, flush, truncate, rename, unlink.
    Shred,
    /// Unlink only.
    Delete,
}

/// What cleanup did, file by file. Every reason is worded to follow the
/// file's name or role and a colon ("the mixed audio: it was replaced by
/// another file after the check").
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub removed: Vec<PathBuf>,
    /// Removed files that had other names (hard links): only their name
    /// here was removed, their data was not overwritten, since the other
    /// names still hold it. Each is also in `removed`.
    pub unlinked_only: Vec<PathBuf>,
    /// Files the inventory named that were already gone.
    pub already_gone: Vec<PathBuf>,
    /// Files left because they changed since the check, with why.
    pub changed: Vec<(PathBuf, String)>,
    /// Files that were not in the inventory, left in place.
    pub new_files: Vec<PathBuf>,
    /// Files that could not be removed, with why; each is intact.
    pub failed: Vec<(PathBuf, String)>,
    /// The marks file, kept on purpose while other files are left.
    pub kept: Vec<(PathBuf, String)>,
    pub folders_removed: Vec<PathBuf>,
}

impl Report {
    /// Everything in the inventory is gone and nothing else was there.
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty()
            && self.new_files.is_empty()
            && self.failed.is_empty()
            && self.kept.is_empty()
    }

    /// Every file left in the folder, with why.
    pub fn left(&self) -> Vec<(PathBuf, String)> {
        let mut left = self.changed.clone();
        left.extend(
            self.new_files
                .iter()
                .map(|p| (p.clone(), NEW_FILE.to_string())),
        );
        left.extend(self.failed.iter().cloned());
        left.extend(self.kept.iter().cloned());
        left
    }
}

const NEW_FILE: &str =
    "it appeared in the folder after the check, and recpipe removes only what it checked";
const MARKS_KEPT: &str = "the marks file is kept while other files of the recording are left, so that they are never without their marks";

/// Tries to open a file held by another program this many times.
const OPEN_ATTEMPTS: u32 = 5;
const OPEN_RETRY_WAIT: Duration = Duration::from_millis(400);
const CHUNK: usize = 1024 * 1024;
/// The name a file being shredded has, so a crash mid-shred is recognised:
/// this prefix and [`SHRED_HEX`] lower-case hex digits.
const SHRED_PREFIX: &str = ".recpipe-shred-";
const SHRED_HEX: usize = 16;

/// Removes the inventoried files of the recording folder `dir`; `marks` is
/// the pipeline's marks file name, whose file goes last.
pub fn remove_interim(dir: &Path, inventory: &[Entry], marks: &str, method: Method) -> Report {
    let mut report = Report::default();
    finish_interrupted(dir, inventory, &mut report);
    let (marks_files, media): (Vec<&Entry>, Vec<&Entry>) =
        inventory.iter().partition(|e| e.role(marks) == Role::Marks);
    for e in media {
        remove_one(dir, e, method, &mut report);
    }
    report.new_files = leftovers(dir, inventory);
    for e in marks_files {
        if report.is_clean() {
            remove_one(dir, e, method, &mut report);
        } else {
            report.kept.push((e.rel.clone(), MARKS_KEPT.into()));
        }
    }
    remove_empty_folders(dir, &mut report);
    report
}

/// What became of one inventoried file that is not there any more.
enum Gone {
    Removed,
    /// Unlinked; its data stays under its other names.
    UnlinkedOnly,
}

/// Why one inventoried file is still there.
enum Left {
    Changed(String),
    Failed(String),
}

fn remove_one(dir: &Path, e: &Entry, method: Method, report: &mut Report) {
    let path = dir.join(&e.rel);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            report.already_gone.push(e.rel.clone());
            return;
        }
        Err(err) => {
            report.failed.push((e.rel.clone(), cannot_remove(&err)));
            return;
        }
    };
    let kind = FileKind::of(meta.file_type());
    let result = if kind != e.kind {
        Err(Left::Changed(format!(
            "it was replaced by {} after the check",
            kind.describe()
        )))
    } else {
        match e.kind {
            FileKind::Symlink => remove_link(&path, &meta, &e.id),
            FileKind::File => remove_file(&path, &e.id, method),
            other => Err(Left::Failed(format!(
                "it is {}, which recpipe never removes",
                other.describe()
            ))),
        }
    };
    match result {
        Ok(Gone::Removed) => report.removed.push(e.rel.clone()),
        Ok(Gone::UnlinkedOnly) => {
            report.removed.push(e.rel.clone());
            report.unlinked_only.push(e.rel.clone());
        }
        Err(Left::Changed(why)) => report.changed.push((e.rel.clone(), why)),
        Err(Left::Failed(why)) => report.failed.push((e.rel.clone(), why)),
    }
}

fn cannot_remove(e: &io::Error) -> String {
    format!("it could not be removed ({e}); it is left as it was")
}

fn remove_link(path: &Path, meta: &fs::Metadata, expected: &FileId) -> Result<Gone, Left> {
    if let Some(why) = FileId::of(path, meta).change_since(expected) {
        return Err(Left::Changed(why));
    }
    fs::remove_file(path).map_err(|e| Left::Failed(cannot_remove(&e)))?;
    Ok(Gone::Removed)
}

/// Removes one regular file, shredding it unless it has other names or
/// `method` says delete.
fn remove_file(path: &Path, expected: &FileId, method: Method) -> Result<Gone, Left> {
    let access = match method {
        Method::Shred => Access::Overwrite,
        Method::Delete => Access::Read,
    };
    let Opened {
        mut file,
        id,
        links,
        ..
    } = open_retrying(path, access, Some(expected))?;
    let failed = |e: io::Error| Left::Failed(cannot_remove(&e));
    let dir = path.parent().unwrap_or(Path::new("."));
    if method == Method::Delete || links > 1 {
        if !names(path, &id) {
            return Err(Left::Changed(SWAPPED.into()));
        }
        fs::remove_file(path).map_err(failed)?;
        drop(file);
        sync_dir(dir).map_err(failed)?;
        return Ok(if method == Method::Shred {
            Gone::UnlinkedOnly
        } else {
            Gone::Removed
        });
    }
    // First out of the recording's name: a crash from here on leaves a file
    // only recpipe names this way, which the next cleanup finishes.
    let hidden = dir.join(format!("{SHRED_PREFIX}{}", random_hex(SHRED_HEX / 2)));
    fs::rename(path, &hidden).map_err(failed)?;
    if !names(&hidden, &id) {
        // Another file took the name between the open and the rename.
        let _ = fs::rename(&hidden, path);
        return Err(Left::Changed(SWAPPED.into()));
    }
    sync_dir(dir).map_err(failed)?;
    overwrite(&mut file, id.size).map_err(|e| {
        Left::Failed(format!(
            "overwriting it failed ({e}); it is left under the name {}, which the next run finishes removing",
            hidden.file_name().unwrap_or_default().to_string_lossy()
        ))
    })?;
    fs::remove_file(&hidden).map_err(failed)?;
    drop(file);
    sync_dir(dir).map_err(failed)?;
    Ok(Gone::Removed)
}

const SWAPPED: &str = "it was replaced by another file while recpipe was removing it";

/// Whether `path` (not followed) is the opened file `id` describes.
fn names(path: &Path, id: &FileId) -> bool {
    fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_file() && FileId::of(path, &m).identity == id.identity)
}

/// Overwrites `size` bytes with random ones, flushes, truncates, flushes.
fn overwrite(file: &mut fs::File, size: u64) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK.min(size as usize).max(1)];
    let mut left = size;
    file.seek(SeekFrom::Start(0))?;
    while left > 0 {
        let n = (left as usize).min(buf.len());
        fill_random(&mut buf[..n]);
        file.write_all(&buf[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    file.set_len(0)?;
    file.sync_all()
}

/// Finishes shredding what a crashed cleanup left under recpipe's hidden
/// names: directly in the recording folder and in the folders the
/// inventory lists files in, regular files only, never through a link.
fn finish_interrupted(dir: &Path, inventory: &[Entry], report: &mut Report) {
    let mut folders: Vec<&Path> = vec![Path::new("")];
    for e in inventory {
        let parent = e.rel.parent().unwrap_or(Path::new(""));
        if !folders.contains(&parent) {
            folders.push(parent);
        }
    }
    for folder in folders {
        let at = dir.join(folder);
        // The folder itself, not a link put in its place.
        if !fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let Ok(items) = fs::read_dir(&at) else {
            continue;
        };
        for item in items.flatten() {
            let name = item.file_name();
            if !is_ours(&name) || !item.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let rel = folder.join(&name);
            match finish_one(&at.join(&name)) {
                Ok(()) => report.removed.push(rel),
                Err(why) => report.failed.push((rel, why)),
            }
        }
    }
}

fn finish_one(path: &Path) -> Result<(), String> {
    let Opened {
        mut file, links, ..
    } = open_retrying(path, Access::Overwrite, None).map_err(|l| match l {
        Left::Changed(w) | Left::Failed(w) => w,
    })?;
    let failed = |e: io::Error| cannot_remove(&e);
    if links == 1 {
        let size = file.metadata().map_err(failed)?.len();
        overwrite(&mut file, size).map_err(failed)?;
    }
    drop(file);
    fs::remove_file(path).map_err(failed)
}

/// Exactly the names [`remove_file`] gives: the prefix and 16 lower-case
/// hex digits.
fn is_ours(name: &OsStr) -> bool {
    name.to_str()
        .and_then(|n| n.strip_prefix(SHRED_PREFIX))
        .is_some_and(|hex| {
            hex.len() == SHRED_HEX && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

/// Opens as [`open_checked`] does; retries while another program holds
/// the file (Windows sharing violations), then gives up cleanly.
fn open_retrying(path: &Path, access: Access, expected: Option<&FileId>) -> Result<Opened, Left> {
    let mut attempt = 1;
    loop {
        match open_checked(path, access, expected) {
            Ok(o) => return Ok(o),
            Err(OpenError::Io(e)) if attempt < OPEN_ATTEMPTS && is_busy(&e) => {
                attempt += 1;
                std::thread::sleep(OPEN_RETRY_WAIT);
            }
            Err(OpenError::Io(e)) if is_busy(&e) => {
                return Err(Left::Failed(format!(
                    "another program holds the file open ({e}); close Zoom or that program, or wait, then run again; the file is intact"
                )));
            }
            Err(OpenError::Io(e)) => return Err(Left::Failed(cannot_remove(&e))),
            Err(e @ OpenError::NotRegular(_)) | Err(e @ OpenError::Changed(_)) => {
                return Err(Left::Changed(e.to_string()));
            }
        }
    }
}

fn is_busy(e: &io::Error) -> bool {
    // ERROR_SHARING_VIOLATION (32) and ERROR_LOCK_VIOLATION (33) on Windows.
    cfg!(windows) && matches!(e.raw_os_error(), Some(32) | Some(33))
        || e.kind() == io::ErrorKind::ResourceBusy
}

/// Files under `dir` that the inventory did not name, walked as deep as
/// the inventory walks; a folder deeper than that is named itself.
fn leftovers(dir: &Path, inventory: &[Entry]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    collect(dir, Path::new(""), 0, &mut found);
    found.retain(|rel| !inventory.iter().any(|e| &e.rel == rel));
    found.sort();
    found
}

fn collect(root: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(items) = fs::read_dir(root.join(rel)) else {
        return;
    };
    for item in items.flatten() {
        let rel = rel.join(item.file_name());
        match item.file_type() {
            Ok(t) if t.is_dir() && depth + 1 < MAX_DEPTH => collect(root, &rel, depth + 1, out),
            _ => out.push(rel),
        }
    }
}

/// Removes folders left empty, deepest first, then `dir` itself.
fn remove_empty_folders(dir: &Path, report: &mut Report) {
    let mut folders: Vec<PathBuf> = Vec::new();
    fn walk(root: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        if let Ok(items) = fs::read_dir(root.join(rel)) {
            for item in items.flatten() {
                if item.file_type().is_ok_and(|t| t.is_dir()) && depth + 1 < MAX_DEPTH {
                    let rel = rel.join(item.file_name());
                    walk(root, &rel, depth + 1, out);
                    out.push(rel);
                }
            }
        }
    }
    walk(dir, Path::new(""), 0, &mut folders);
    for rel in folders {
        if fs::remove_dir(dir.join(&rel)).is_ok() {
            report.folders_removed.push(rel);
        }
    }
    if fs::remove_dir(dir).is_ok() {
        report.folders_removed.push(PathBuf::new());
        if let Some(parent) = dir.parent() {
            let _ = sync_dir(parent);
        }
    }
}

#[cfg(test)]
mod tests;
