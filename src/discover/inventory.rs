//! The inventory of a recording folder: every file in it (and in Zoom's
//! `Audio Record/` sub-folder), with its role, size and modification time.
//!
//! Invariants: nothing is opened here, only listed; symbolic links are
//! listed as links and never followed; the walk is bounded in depth, so a
//! hostile tree cannot make it run away.

use super::role::{PARTICIPANT_DIR, Role, role_of};
use crate::fsutil::FileId;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Zoom writes at most one level of sub-folders; deeper ones are listed
/// as "other" without descending further than this.
const MAX_DEPTH: usize = 3;

/// One entry of a recording folder.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path relative to the recording folder.
    pub rel: PathBuf,
    pub role: Role,
    pub size: u64,
    pub modified: Option<SystemTime>,
    pub is_symlink: bool,
    /// Size, mtime and file identity when listed: cleanup removes the
    /// file only if they still match.
    pub id: FileId,
}

/// What the walk found: files, plus the newest modification time of any
/// file or folder in the tree (a folder's mtime changes when a file in it
/// is created, renamed or removed).
#[derive(Debug, Clone)]
pub struct Inventory {
    pub entries: Vec<Entry>,
    pub newest: Option<SystemTime>,
}

/// Lists a recording folder. `marks` is the pipeline's marks file name.
pub fn take(dir: &Path, marks: &str) -> io::Result<Inventory> {
    let mut inv = Inventory {
        entries: Vec::new(),
        newest: fs::metadata(dir)?.modified().ok(),
    };
    walk(dir, Path::new(""), 0, marks, &mut inv)?;
    inv.entries.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(inv)
}

fn walk(root: &Path, rel: &Path, depth: usize, marks: &str, inv: &mut Inventory) -> io::Result<()> {
    let in_participant_dir = depth == 1 && rel == Path::new(PARTICIPANT_DIR);
    for item in fs::read_dir(root.join(rel))? {
        let item = item?;
        let name = item.file_name();
        if depth == 0 && name == super::STAGING_DIR {
            continue;
        }
        let rel_path = rel.join(&name);
        let meta = fs::symlink_metadata(item.path())?;
        let modified = meta.modified().ok();
        newer(&mut inv.newest, modified);
        if meta.is_dir() {
            if depth + 1 < MAX_DEPTH {
                walk(root, &rel_path, depth + 1, marks, inv)?;
            }
            continue;
        }
        let role = match name.to_str() {
            // Roles at the top are by name alone; inside `Audio Record/`
            // the name carries the participant.
            Some(text) if depth == 0 || in_participant_dir => {
                role_of(text, in_participant_dir, marks)
            }
            Some(text) if role_of(text, false, marks) == Role::Unfinished => Role::Unfinished,
            _ => Role::Unknown,
        };
        inv.entries.push(Entry {
            rel: rel_path,
            role,
            size: meta.len(),
            modified,
            is_symlink: meta.file_type().is_symlink(),
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
