//! The inventory of a recording folder: every entry in it (and in Zoom's
//! `Audio Record/` sub-folder) with its kind and identity. One [`Entry`]
//! is the row that the check reads, the journal records and cleanup
//! trusts.
//!
//! Invariants: nothing is opened here, only listed; the kind comes from the
//! listing, so a named pipe, socket or device is recorded as what it is and
//! never opened; symbolic links are listed as links and never followed;
//! the walk is bounded in depth, and a folder deeper than the bound is
//! recorded as a row of kind `Folder` (which the check refuses), never
//! skipped without a word.

use super::role::{PARTICIPANT_DIR, Role, role_of};
use crate::fsutil::{FileId, FileKind};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How many folder levels are listed: the recording folder and two levels
/// below it (Zoom writes one, `Audio Record/`). A folder found at the last
/// level is not entered; it becomes a `Folder` row instead.
pub const MAX_DEPTH: usize = 3;

/// One entry of a recording folder, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredEntry")]
pub struct Entry {
    /// Path relative to the recording folder.
    pub rel: PathBuf,
    pub kind: FileKind,
    /// Size, mtime and file identity when listed: cleanup removes the
    /// file only if they still match.
    pub id: FileId,
}

/// An entry as journals store it; journals written before `kind` existed
/// have `is_symlink` instead (and held only files and links).
#[derive(Deserialize)]
struct StoredEntry {
    rel: PathBuf,
    id: FileId,
    #[serde(default)]
    kind: Option<FileKind>,
    #[serde(default)]
    is_symlink: bool,
}

impl From<StoredEntry> for Entry {
    fn from(s: StoredEntry) -> Entry {
        let kind = s.kind.unwrap_or(if s.is_symlink {
            FileKind::Symlink
        } else {
            FileKind::File
        });
        Entry {
            rel: s.rel,
            kind,
            id: s.id,
        }
    }
}

impl Entry {
    /// What the entry is in the recording, by its name and place; `marks`
    /// is the pipeline's marks file name. At the top and inside
    /// `Audio Record/` the name says it; deeper, only Zoom's unfinished
    /// files are recognised.
    pub fn role(&self, marks: &str) -> Role {
        let Some(name) = self.rel.file_name().and_then(|n| n.to_str()) else {
            return Role::Unknown;
        };
        let parent = self.rel.parent().unwrap_or(Path::new(""));
        let top = parent.as_os_str().is_empty();
        let in_participant_dir = parent == Path::new(PARTICIPANT_DIR);
        if top || in_participant_dir {
            return role_of(name, in_participant_dir, marks);
        }
        match role_of(name, false, marks) {
            Role::Unfinished => Role::Unfinished,
            _ => Role::Unknown,
        }
    }

    pub fn is_symlink(&self) -> bool {
        self.kind == FileKind::Symlink
    }

    pub fn is_file(&self) -> bool {
        self.kind == FileKind::File
    }

    /// The modification time when listed.
    pub fn modified(&self) -> Option<SystemTime> {
        let ns = self.id.mtime_ns;
        let d = Duration::from_nanos(u64::try_from(ns.unsigned_abs()).ok()?);
        if ns >= 0 {
            SystemTime::UNIX_EPOCH.checked_add(d)
        } else {
            SystemTime::UNIX_EPOCH.checked_sub(d)
        }
    }
}

/// What the walk found: its entries, plus the newest modification time of
/// any file or folder in the tree (a folder's mtime changes when a file in
/// it is created, renamed or removed).
#[derive(Debug, Clone)]
pub struct Inventory {
    pub entries: Vec<Entry>,
    pub newest: Option<SystemTime>,
}

/// Lists a recording folder.
pub fn take(dir: &Path) -> io::Result<Inventory> {
    let mut inv = Inventory {
        entries: Vec::new(),
        newest: fs::metadata(dir)?.modified().ok(),
    };
    walk(dir, Path::new(""), 0, &mut inv)?;
    inv.entries.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(inv)
}

fn walk(root: &Path, rel: &Path, depth: usize, inv: &mut Inventory) -> io::Result<()> {
    for item in fs::read_dir(root.join(rel))? {
        let item = item?;
        let name = item.file_name();
        if depth == 0 && name == super::STAGING_DIR {
            continue;
        }
        let rel_path = rel.join(&name);
        let meta = fs::symlink_metadata(item.path())?;
        newer(&mut inv.newest, meta.modified().ok());
        let kind = FileKind::of(meta.file_type());
        if kind == FileKind::Folder && depth + 1 < MAX_DEPTH {
            walk(root, &rel_path, depth + 1, inv)?;
            continue;
        }
        inv.entries.push(Entry {
            rel: rel_path,
            kind,
            id: FileId::of(&item.path(), &meta),
        });
    }
    Ok(())
}

fn newer(newest: &mut Option<SystemTime>, t: Option<SystemTime>) {
    if let Some(t) = t
        && newest.is_none_or(|n| t > n)
    {
        *newest = Some(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_deeper_than_the_walk_is_a_row_not_a_silence() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b/c")).unwrap();
        fs::write(dir.path().join("a/b/c/hidden.m4a"), b"x").unwrap();
        fs::write(dir.path().join("a/b/seen.txt"), b"x").unwrap();
        let inv = take(dir.path()).unwrap();
        let rows: Vec<(String, FileKind)> = inv
            .entries
            .iter()
            .map(|e| (e.rel.to_string_lossy().replace('\\', "/"), e.kind))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("a/b/c".to_string(), FileKind::Folder),
                ("a/b/seen.txt".to_string(), FileKind::File)
            ]
        );
    }

    #[test]
    fn roles_follow_name_and_place() {
        let row = |rel: &str| Entry {
            rel: rel.into(),
            kind: FileKind::File,
            id: FileId {
                size: 1,
                mtime_ns: 1_000_000_007,
                identity: (1, 2),
            },
        };
        assert_eq!(row("audio1.m4a").role("marks.txt"), Role::MixedAudio);
        assert_eq!(row("marks.txt").role("marks.txt"), Role::Marks);
        assert!(matches!(
            row("Audio Record/audioAse11.m4a").role("marks.txt"),
            Role::ParticipantAudio { .. }
        ));
        assert_eq!(row("x/audio1.m4a").role("marks.txt"), Role::Unknown);
        assert_eq!(row("x/video1.mp4.tmp").role("m"), Role::Unfinished);
        assert_eq!(
            row("a").modified(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(1_000_000_007))
        );
    }

    #[test]
    fn rows_of_journals_written_before_kinds_still_read() {
        let old = r#"{"rel":"audio1.m4a","id":{"size":3,"mtime_ns":5,"identity":[1,2]},"is_symlink":true}"#;
        let e: Entry = serde_json::from_str(old).unwrap();
        assert_eq!(e.kind, FileKind::Symlink);
        let again: Entry = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(again, e);
    }
}
