//! Removing the interim copy of a recording: only the files in the
//! inventory taken when the recording was checked, and only while each is
//! still that very file.
//!
//! Invariants:
//! - A file whose size, mtime or identity changed since the check is left
//!   and reported; so is anything new in the folder.
//! - A symbolic link is removed as a link; its target is never opened.
//! - Shredding renames the file to a hidden random name (`.recpipe-shred-…`),
//!   overwrites it once with random bytes, flushes it to disk, truncates it
//!   and unlinks it. A crash part way leaves only such a hidden file, which
//!   the next cleanup of the folder shreds and removes. What
//!   overwriting cannot promise (SSDs, copy-on-write file systems, synced
//!   folders) is written down in `docs/deletion.md`.
//! - A file that cannot be opened for writing (held open by Zoom or an
//!   antivirus on Windows) is retried, then reported; it is never left
//!   half-overwritten because of a failed open.
//! - Emptied folders (`Audio Record/`, the recording folder) are removed;
//!   a folder that is not empty is left.

use crate::fsutil::{FileId, fill_random, random_hex, sync_dir};
use std::fs::{self, OpenOptions};
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

/// One file the check saw, that cleanup may remove.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expected {
    /// Relative to the recording folder.
    pub rel: PathBuf,
    pub id: FileId,
    pub is_symlink: bool,
}

/// What cleanup did, file by file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub removed: Vec<PathBuf>,
    /// Files the inventory named that were already gone.
    pub already_gone: Vec<PathBuf>,
    /// Files left because they changed since the check, with why.
    pub changed: Vec<(PathBuf, String)>,
    /// Files that were not in the inventory, left in place.
    pub new_files: Vec<PathBuf>,
    /// Files that could not be removed, with the error.
    pub failed: Vec<(PathBuf, String)>,
    pub folders_removed: Vec<PathBuf>,
}

impl Report {
    /// Everything in the inventory is gone and nothing else was there.
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.new_files.is_empty() && self.failed.is_empty()
    }
}

/// Tries to open a file held by another program this many times.
const OPEN_ATTEMPTS: u32 = 5;
const OPEN_RETRY_WAIT: Duration = Duration::from_millis(400);
const CHUNK: usize = 1024 * 1024;
/// The name a file being shredded has, so a crash mid-shred is recognised.
const SHRED_PREFIX: &str = ".recpipe-shred-";

/// Removes the inventoried files of the recording folder `dir`.
pub fn remove_interim(dir: &Path, expected: &[Expected], method: Method) -> Report {
    let mut report = Report::default();
    finish_interrupted(dir, &mut report);
    for e in expected {
        let path = dir.join(&e.rel);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                report.already_gone.push(e.rel.clone());
                continue;
            }
            Err(err) => {
                report.failed.push((e.rel.clone(), err.to_string()));
                continue;
            }
        };
        let now = FileId::of(&path, &meta);
        if meta.file_type().is_symlink() != e.is_symlink || now != e.id {
            report
                .changed
                .push((e.rel.clone(), describe_change(&e.id, &now)));
            continue;
        }
        let result = if e.is_symlink || method == Method::Delete {
            fs::remove_file(&path)
        } else {
            shred_file(&path, e.id.size)
        };
        match result {
            Ok(()) => report.removed.push(e.rel.clone()),
            Err(err) => report.failed.push((e.rel.clone(), err.to_string())),
        }
    }
    report.new_files = leftovers(dir, expected);
    remove_empty_folders(dir, &mut report);
    report
}

fn describe_change(before: &FileId, now: &FileId) -> String {
    if before.identity != now.identity {
        "it was replaced by another file".into()
    } else if before.size != now.size {
        format!(
            "its size changed from {} to {} bytes",
            before.size, now.size
        )
    } else {
        "it was modified".into()
    }
}

/// Renames to a random name, overwrites, flushes, truncates, unlinks. The
/// file stays open until it is gone: on Windows that handle includes the
/// right to delete, so a program that holds the file without sharing
/// deletion makes the open fail before it is renamed or overwritten, and
/// no program can open it in a way that stops the deletion afterwards.
fn shred_file(path: &Path, size: u64) -> io::Result<()> {
    let mut file = open_for_overwrite(path)?;
    // First out of the recording's name: a crash from here on leaves a file
    // only recpipe names this way, which the next cleanup finishes.
    let dir = path.parent().unwrap_or(Path::new("."));
    let hidden = dir.join(format!("{SHRED_PREFIX}{}", random_hex(8)));
    fs::rename(path, &hidden)?;
    sync_dir(dir)?;
    overwrite(&mut file, size)?;
    fs::remove_file(&hidden)?;
    drop(file);
    sync_dir(dir)
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
/// names (anywhere in the recording folder).
fn finish_interrupted(dir: &Path, report: &mut Report) {
    let mut found = Vec::new();
    collect(dir, Path::new(""), 0, &mut found);
    for rel in found.into_iter().filter(|r| is_ours(r)) {
        let path = dir.join(&rel);
        let result = (|| {
            let mut f = open_for_overwrite(&path)?;
            let size = f.metadata()?.len();
            overwrite(&mut f, size)?;
            drop(f);
            fs::remove_file(&path)
        })();
        match result {
            Ok(()) => report.removed.push(rel),
            Err(e) => report.failed.push((rel, e.to_string())),
        }
    }
}

fn is_ours(rel: &Path) -> bool {
    rel.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(SHRED_PREFIX))
}

/// Opens for writing without truncating; retries while another program
/// holds the file (Windows sharing violations), then gives up cleanly.
fn open_for_overwrite(path: &Path) -> io::Result<fs::File> {
    let mut attempt = 1;
    loop {
        match overwrite_options().open(path) {
            Ok(f) => return Ok(f),
            Err(e) if attempt < OPEN_ATTEMPTS && is_busy(&e) => {
                attempt += 1;
                std::thread::sleep(OPEN_RETRY_WAIT);
            }
            Err(e) if is_busy(&e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "another program holds the file open ({e}); close Zoom or wait, then run again"
                    ),
                ));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(not(windows))]
fn overwrite_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true);
    o
}

/// Write and delete rights, sharing reading, writing and deletion (the
/// standard library's default share mode).
#[cfg(windows)]
fn overwrite_options() -> OpenOptions {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{DELETE, FILE_GENERIC_WRITE};
    let mut o = OpenOptions::new();
    o.write(true).access_mode(FILE_GENERIC_WRITE | DELETE);
    o
}

fn is_busy(e: &io::Error) -> bool {
    // ERROR_SHARING_VIOLATION (32) and ERROR_LOCK_VIOLATION (33) on Windows.
    cfg!(windows) && matches!(e.raw_os_error(), Some(32) | Some(33))
        || e.kind() == io::ErrorKind::ResourceBusy
}

/// Files under `dir` that the inventory did not name.
fn leftovers(dir: &Path, expected: &[Expected]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    collect(dir, Path::new(""), 0, &mut found);
    found.retain(|rel| !expected.iter().any(|e| &e.rel == rel));
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
            Ok(t) if t.is_dir() && depth < 4 => collect(root, &rel, depth + 1, out),
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
                if item.file_type().is_ok_and(|t| t.is_dir()) && depth < 4 {
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
mod tests {
    use super::*;

    fn expect(dir: &Path, rel: &str) -> Expected {
        let meta = fs::symlink_metadata(dir.join(rel)).unwrap();
        Expected {
            rel: rel.into(),
            id: FileId::of(&dir.join(rel), &meta),
            is_symlink: meta.file_type().is_symlink(),
        }
    }

    fn recording() -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("2026-11-20 14.03.11 Interview");
        fs::create_dir_all(dir.join("Audio Record")).unwrap();
        fs::write(dir.join("video1.mp4"), vec![7u8; 3 * CHUNK + 5]).unwrap();
        fs::write(dir.join("Audio Record/audioA11.m4a"), b"participant").unwrap();
        (root, dir)
    }

    #[test]
    fn removes_inventoried_files_and_emptied_folders() {
        let (_root, dir) = recording();
        let expected = vec![
            expect(&dir, "video1.mp4"),
            expect(&dir, "Audio Record/audioA11.m4a"),
        ];
        let report = remove_interim(&dir, &expected, Method::Shred);
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.removed.len(), 2);
        assert!(!dir.exists(), "the emptied recording folder is removed");
    }

    #[test]
    fn shredding_overwrites_the_file_itself_not_just_its_name() {
        let (root, dir) = recording();
        // A second name for the same file shows what happened to its data.
        let other_name = root.path().join("hard-link");
        fs::hard_link(dir.join("video1.mp4"), &other_name).unwrap();
        let expected = vec![expect(&dir, "video1.mp4")];
        let report = remove_interim(&dir, &expected, Method::Shred);
        assert_eq!(report.removed, vec![PathBuf::from("video1.mp4")]);
        assert_eq!(fs::metadata(&other_name).unwrap().len(), 0);
    }

    #[test]
    fn a_changed_or_new_file_is_left_and_reported() {
        let (_root, dir) = recording();
        let expected = vec![
            expect(&dir, "video1.mp4"),
            expect(&dir, "Audio Record/audioA11.m4a"),
        ];
        fs::write(
            dir.join("Audio Record/audioA11.m4a"),
            b"participant, longer now",
        )
        .unwrap();
        fs::write(dir.join("notes.txt"), b"mine").unwrap();
        let report = remove_interim(&dir, &expected, Method::Delete);
        assert_eq!(report.removed, vec![PathBuf::from("video1.mp4")]);
        assert_eq!(report.changed.len(), 1);
        assert!(report.changed[0].1.contains("size changed"));
        assert_eq!(report.new_files, vec![PathBuf::from("notes.txt")]);
        assert!(dir.join("notes.txt").exists());
        assert!(dir.join("Audio Record/audioA11.m4a").exists());
        assert!(!report.is_clean());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_removed_as_a_link_and_its_target_survives() {
        let (root, dir) = recording();
        let target = root.path().join("target.m4a");
        fs::write(&target, b"precious").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("audio2.m4a")).unwrap();
        let expected = vec![expect(&dir, "audio2.m4a")];
        let report = remove_interim(&dir, &expected, Method::Shred);
        assert_eq!(report.removed, vec![PathBuf::from("audio2.m4a")]);
        assert_eq!(fs::read(&target).unwrap(), b"precious");
    }

    /// Holds `path` open the way another program would, with `share` as
    /// its share mode, for `hold`.
    #[cfg(windows)]
    fn held_open(path: &Path, share: u32, hold: Duration) -> std::thread::JoinHandle<()> {
        use std::os::windows::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .share_mode(share)
            .open(path)
            .unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(hold);
            drop(file);
        })
    }

    #[cfg(windows)]
    #[test]
    fn a_file_held_open_without_sharing_is_retried_then_reported_and_left_whole() {
        let (_root, dir) = recording();
        let video = dir.join("video1.mp4");
        let before = fs::read(&video).unwrap();
        let expected = vec![
            expect(&dir, "video1.mp4"),
            expect(&dir, "Audio Record/audioA11.m4a"),
        ];
        let holder = held_open(&video, 0, OPEN_RETRY_WAIT * (OPEN_ATTEMPTS + 3));
        let started = std::time::Instant::now();
        let report = remove_interim(&dir, &expected, Method::Shred);
        assert!(
            started.elapsed() >= OPEN_RETRY_WAIT * (OPEN_ATTEMPTS - 1),
            "it retried"
        );
        assert_eq!(
            report.removed,
            vec![PathBuf::from("Audio Record/audioA11.m4a")]
        );
        assert_eq!(report.failed.len(), 1, "{report:?}");
        assert_eq!(report.failed[0].0, PathBuf::from("video1.mp4"));
        assert!(
            report.failed[0]
                .1
                .contains("another program holds the file open")
        );
        assert!(!report.is_clean());
        holder.join().unwrap();
        assert_eq!(fs::read(&video).unwrap(), before, "not a byte overwritten");
        assert!(dir.exists(), "the folder with the file left stays");
    }

    #[cfg(windows)]
    #[test]
    fn a_file_held_without_sharing_deletion_is_not_overwritten() {
        use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE};
        let (_root, dir) = recording();
        let video = dir.join("video1.mp4");
        let before = fs::read(&video).unwrap();
        let expected = vec![expect(&dir, "video1.mp4")];
        // An antivirus scanning it: shares reading and writing, not deletion.
        let holder = held_open(
            &video,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            OPEN_RETRY_WAIT * (OPEN_ATTEMPTS + 3),
        );
        let report = remove_interim(&dir, &expected, Method::Shred);
        assert_eq!(report.failed.len(), 1, "{report:?}");
        holder.join().unwrap();
        assert_eq!(fs::read(&video).unwrap(), before, "not a byte overwritten");
    }

    #[cfg(windows)]
    #[test]
    fn a_file_released_while_retrying_is_shredded() {
        let (_root, dir) = recording();
        let expected = vec![expect(&dir, "video1.mp4")];
        let holder = held_open(&dir.join("video1.mp4"), 0, OPEN_RETRY_WAIT);
        let report = remove_interim(&dir, &expected, Method::Shred);
        holder.join().unwrap();
        assert_eq!(
            report.removed,
            vec![PathBuf::from("video1.mp4")],
            "{report:?}"
        );
        assert!(!dir.join("video1.mp4").exists());
    }

    #[test]
    fn a_shred_cut_short_by_a_crash_is_finished_next_time() {
        let (_root, dir) = recording();
        let expected = vec![expect(&dir, "video1.mp4")];
        // What a crash after the rename leaves: the file under its hidden name.
        fs::rename(
            dir.join("video1.mp4"),
            dir.join(".recpipe-shred-0123456789abcdef"),
        )
        .unwrap();
        fs::remove_file(dir.join("Audio Record/audioA11.m4a")).unwrap();
        let report = remove_interim(&dir, &expected, Method::Shred);
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.already_gone, vec![PathBuf::from("video1.mp4")]);
        assert!(!dir.exists());
    }

    #[test]
    fn a_file_already_gone_is_reported_as_such() {
        let (_root, dir) = recording();
        let expected = vec![expect(&dir, "video1.mp4")];
        fs::remove_file(dir.join("video1.mp4")).unwrap();
        let report = remove_interim(&dir, &expected, Method::Shred);
        assert_eq!(report.already_gone, vec![PathBuf::from("video1.mp4")]);
    }
}
