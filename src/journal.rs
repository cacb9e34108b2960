//! The crash-safe journal: one JSON file per recording in the per-user
//! state folder, recording how far the pipeline got and everything needed
//! to resume (inventory, staged file names, SHA-256s, remote names, what
//! was verified).
//!
//! Invariants:
//! - Every save is atomic and durable ([`crate::fsutil::write_atomic`]):
//!   after a crash the journal holds the last completed step, never a torn
//!   one. The pipeline saves before it starts the next step, so every step
//!   it redoes after a crash is one that is safe to repeat.
//! - Journals are keyed by a recording id (a hash of the folder name and
//!   its inventory), never by the meeting topic; the id is what logs show.
//! - A finished journal moves to `done/`, which is how a recording that
//!   completed is recognised and never uploaded again.
//! - One process at a time works on a state folder ([`StateDir::lock`]);
//!   taking the lock removes the temporaries an interrupted save left
//!   (they hold folder paths, file names and mark notes).
//! - The state folder and its sub-folders are the user's own (0700 on
//!   Unix, an owner-only access list on Windows); journals are written
//!   0600.
//! - Journals store the inventory as [`discover::Entry`] rows; rows of
//!   journals written before rows had a `kind` still read (version 1).
//! - Version 2 adds what admission decided about each file
//!   ([`FileRecord`]: role, segment, place in its segment's time, the
//!   ranges to remove from it). A version 1 journal still reads, with no
//!   records; the pipeline derives them from the names once, as version 1
//!   did, and saves them (`pipeline::model::migrate`).

use crate::digest::Sha256Digest;
use crate::discover;
use crate::fsutil::{FileId, create_private_dir, remove_stale_temps, write_atomic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The journal format version written by this build.
pub const VERSION: u32 = 2;

/// The oldest journal version this build still reads (and migrates).
pub const OLDEST_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("state folder {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("journal {}: cannot be read ({why}); move it aside and run again to redo that recording", path.display())]
    Corrupt { path: PathBuf, why: String },
    #[error("no per-user state folder could be found (no home folder?); give one with --state-dir")]
    NoStateDir,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How far a recording got. Each step is recorded only once it is
/// complete and durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Checked complete; the inventory is recorded.
    Checked,
    /// Every output is produced and staged (sealed where the pipeline seals).
    Staged,
    /// Every output is uploaded and verified at the destination.
    Verified,
    /// The interim copy is removed (or kept, as the pipeline says).
    CleanedUp,
    /// The audit manifest is uploaded and verified; nothing is left to do.
    Done,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Checked => "checked",
            Step::Staged => "outputs staged",
            Step::Verified => "outputs verified at the destination",
            Step::CleanedUp => "interim copy dealt with as the pipeline says",
            Step::Done => "done",
        })
    }
}

/// One output (or the manifest) on its way to the destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// Name at the destination (relative to the destination folder).
    pub remote: String,
    /// The staged file (sealed, or plaintext inside the recording folder
    /// for unsealed pipelines).
    pub staged: PathBuf,
    /// The inventory entries it was made from.
    pub inputs: Vec<PathBuf>,
    /// What it is, in plain words (e.g. "participant audio, WAV").
    pub kind: String,
    /// SHA-256 and length of the plaintext.
    pub plain_sha256: Sha256Digest,
    pub plain_len: u64,
    /// SHA-256 and length of the staged bytes that are uploaded.
    pub staged_sha256: Sha256Digest,
    pub staged_len: u64,
    /// Time ranges removed or silenced, in seconds from the start.
    pub ranges: Vec<(f64, f64)>,
    pub verified: bool,
    /// Made from audio that is silent throughout (a muted microphone):
    /// a warning in the summary and the manifest.
    #[serde(default)]
    pub silent: bool,
}

/// Where one upload stands at the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Its upload passed every check and was being put in place under its
    /// final name: a file of its size there with nothing of the upload left
    /// is this upload's, also where the destination cannot read back.
    #[serde(default)]
    pub finishing: bool,
    /// What was checked of it at the destination, in words, once verified.
    #[serde(default)]
    pub checked: Option<String>,
    /// The server did not sync it to its disk (it offers no fsync): a red
    /// or yellow recording's interim copy then waits ([`crate::config::Cleanup::unsynced_wait`]).
    #[serde(default)]
    pub unsynced: bool,
}

/// What cleanup did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleanup {
    /// `shred`, `delete` or `keep`.
    pub method: String,
    pub removed: usize,
    /// How many of those had other names (hard links) and were unlinked,
    /// not overwritten (their data stays under the other names).
    #[serde(default)]
    pub unlinked_only: usize,
    pub left: Vec<(PathBuf, String)>,
    pub at: String,
}

/// One mark as applied, for the sealed audit manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkRecord {
    pub line: usize,
    pub text: String,
    pub note: Option<String>,
}

/// What admission decided about one file of the recording, once: the
/// pipeline, `plan` and the manifest read it and never derive it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// What the file is (Zoom's video, a participant's audio, the marks
    /// file, litter, unknown …), by its name and place.
    #[serde(flatten)]
    pub role: discover::Role,
    /// The segment of a media file; none for the files of the whole folder.
    pub segment: Option<u32>,
    /// Where the file's own time 0 lies in its segment's time (a leading
    /// empty edit), in nanoseconds.
    #[serde(default)]
    pub offset_ns: u64,
    /// The marks' ranges in the file's own time, nanoseconds: what is
    /// removed from it (before the format widens them).
    #[serde(default)]
    pub ranges_ns: Vec<(u64, u64)>,
    /// The burned-in clock read in a video file where wall-clock marks
    /// were placed through it (see `clock::Span`): per stretch in which
    /// it ran with the media, `(from, to, offset)` in milliseconds — media
    /// time of its first frame read and of the end of its last, and the
    /// clock's calendar (no zone) less media time. Empty when not read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clock_ms: Vec<(i64, i64, i64)>,
}

/// The journal of one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub id: String,
    /// The recording folder it came from. Cleared (with every other name)
    /// once the recording is done: see [`Journal::forget_names`].
    pub source: PathBuf,
    /// The recording's start as `YYYYMMDD-HHMMSS` (from the folder name),
    /// or `unknown-start`: what reports show instead of the topic.
    pub stamp: String,
    pub pipeline: String,
    pub started: String,
    pub updated: String,
    pub step: Step,
    pub inventory: Vec<discover::Entry>,
    /// What each inventory file is, in the same order (version 2; empty in
    /// a version 1 journal until it is migrated).
    #[serde(default)]
    pub files: Vec<FileRecord>,
    /// SHA-256 of each inventory file, in the same order (`None` for a
    /// symbolic link).
    pub input_sha256: Vec<Option<Sha256Digest>>,
    /// The marks applied, and the ranges they resolved to (nanoseconds
    /// from the start), fixed when the recording was checked so a resumed
    /// run produces the very same outputs.
    pub marks: Vec<MarkRecord>,
    pub ranges_ns: Vec<(u64, u64)>,
    /// The ranges per segment `(segment, start, end)` in ns from that
    /// segment's start; empty in journals of one segment written before.
    #[serde(default)]
    pub segment_ranges_ns: Vec<(u32, u64, u64)>,
    /// The meeting's span for live marks, fixed at admission: its start
    /// (local time, `YYYY-MM-DDTHH:MM:SS`) and length in milliseconds. A
    /// pending live mark within it, found before an output is sent or the
    /// interim copy removed, means the marks changed.
    #[serde(default)]
    pub meeting: Option<(String, u64)>,
    /// Inventory files whose audio the check found silent throughout
    /// (below −60 dBFS): delivered all the same, with a warning.
    #[serde(default)]
    pub silent_inputs: Vec<PathBuf>,
    pub outputs: Vec<Output>,
    pub manifest: Option<Output>,
    /// How each output and the manifest reached the destination, by remote
    /// name (empty in journals written before).
    #[serde(default)]
    pub deliveries: std::collections::BTreeMap<String, Delivery>,
    pub cleanup: Option<Cleanup>,
    /// What the recording waits for (e.g. an interactive login), if anything.
    pub waits_for: Option<String>,
    pub last_error: Option<String>,
}

impl Journal {
    pub fn new(
        id: String,
        source: PathBuf,
        stamp: String,
        pipeline: String,
        inventory: Vec<discover::Entry>,
    ) -> Journal {
        let now = now_text();
        Journal {
            version: VERSION,
            id,
            source,
            stamp,
            pipeline,
            started: now.clone(),
            updated: now,
            step: Step::Checked,
            inventory,
            files: Vec::new(),
            input_sha256: Vec::new(),
            marks: Vec::new(),
            ranges_ns: Vec::new(),
            segment_ranges_ns: Vec::new(),
            meeting: None,
            silent_inputs: Vec::new(),
            outputs: Vec::new(),
            manifest: None,
            deliveries: Default::default(),
            cleanup: None,
            waits_for: None,
            last_error: None,
        }
    }

    /// Drops every name (folder, files, participants, mark notes) once the recording is
    /// done and its sealed manifest holds them: a finished journal keeps
    /// the id, hashes, times and outcomes only.
    pub fn forget_names(&mut self) {
        self.source = PathBuf::new();
        for (i, e) in self.inventory.iter_mut().enumerate() {
            e.rel = PathBuf::from(format!("file-{}", i + 1));
        }
        for f in &mut self.files {
            if let discover::Role::ParticipantAudio { participant } = &mut f.role {
                participant.clear();
            }
        }
        self.marks.clear();
        self.silent_inputs.clear();
        for o in self.outputs.iter_mut().chain(self.manifest.iter_mut()) {
            o.inputs.clear();
            o.staged = PathBuf::new();
        }
        if let Some(c) = &mut self.cleanup {
            for (i, (path, _)) in c.left.iter_mut().enumerate() {
                *path = PathBuf::from(format!("left-{}", i + 1));
            }
        }
    }
}

/// The recording id: a hash of the folder name and the inventory (names,
/// sizes, mtimes), so the same recording always gets the same id and a
/// different recording under the same name gets another. 16 hex digits.
pub fn recording_id(folder_name: &str, inventory: &[discover::Entry]) -> String {
    let mut h = Sha256::new();
    h.update(b"recpipe recording id v1\0");
    h.update(folder_name.as_bytes());
    for e in inventory {
        h.update(b"\0");
        h.update(e.rel.to_string_lossy().as_bytes());
        let FileId { size, mtime_ns, .. } = e.id;
        h.update(size.to_le_bytes());
        h.update(mtime_ns.to_le_bytes());
    }
    crate::digest::hex(&h.finalize()[..8])
}

/// One journal file as read: the journal, or why it cannot be read.
pub type JournalRead = Result<Journal, JournalError>;

/// The per-user state folder: journals, staged files and the lock.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

/// Held while a process works on a state folder; released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl StateDir {
    /// `%LOCALAPPDATA%\recpipe` on Windows, `$XDG_STATE_HOME/recpipe` or
    /// `~/.local/state/recpipe` on Linux, `~/Library/Application Support/recpipe` on macOS.
    pub fn default_location() -> Result<PathBuf, JournalError> {
        #[cfg(windows)]
        {
            // The local (not roaming) application data folder: journals
            // and staged files belong to this PC.
            let base = directories::BaseDirs::new().ok_or(JournalError::NoStateDir)?;
            Ok(base.data_local_dir().join("recpipe"))
        }
        #[cfg(not(windows))]
        {
            let dirs = directories::ProjectDirs::from("", "", "recpipe")
                .ok_or(JournalError::NoStateDir)?;
            Ok(dirs
                .state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf())
        }
    }

    /// Opens (creating) a state folder at `root`, keeping it and its
    /// sub-folders to the current user (an existing one is narrowed).
    pub fn open(root: &Path) -> Result<StateDir, JournalError> {
        create_private_dir(root).map_err(io_err(root))?;
        for sub in ["journals", "done", "staged"] {
            create_private_dir(&root.join(sub)).map_err(io_err(root))?;
        }
        Ok(StateDir {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the lock, or `None` when another process holds it. Only the
    /// holder saves journals, so once it is taken every journal temporary
    /// in the folder is one an interrupted save left: they are removed.
    pub fn lock(&self) -> Result<Option<Lock>, JournalError> {
        let path = self.root.join("lock");
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(None),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
        }
        for sub in ["journals", "done"] {
            let dir = self.root.join(sub);
            remove_stale_temps(&dir).map_err(io_err(&dir))?;
        }
        Ok(Some(Lock { _file: file }))
    }

    /// The file where `recpipe mark` keeps live marks until a recording
    /// claims them.
    pub fn pending_marks(&self) -> PathBuf {
        self.root.join("pending-marks.txt")
    }

    /// The folder for one recording's staged files (sealed outputs).
    pub fn staging(&self, id: &str) -> PathBuf {
        self.root.join("staged").join(id)
    }

    fn journal_path(&self, id: &str) -> PathBuf {
        self.root.join("journals").join(format!("{id}.json"))
    }

    fn done_path(&self, id: &str) -> PathBuf {
        self.root.join("done").join(format!("{id}.json"))
    }

    /// Records a journal durably.
    pub fn save(&self, journal: &mut Journal) -> Result<(), JournalError> {
        journal.updated = now_text();
        let path = if journal.step == Step::Done {
            self.done_path(&journal.id)
        } else {
            self.journal_path(&journal.id)
        };
        let text = serde_json::to_vec_pretty(journal).map_err(|e| JournalError::Corrupt {
            path: path.clone(),
            why: e.to_string(),
        })?;
        write_atomic(&path, &text).map_err(io_err(&path))?;
        if journal.step == Step::Done {
            // The done record is durable; now the open one may go.
            match fs::remove_file(self.journal_path(&journal.id)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        Ok(())
    }

    /// Drops the journal of a recording that is to be admitted afresh.
    pub fn discard(&self, id: &str) -> Result<(), JournalError> {
        let path = self.journal_path(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// The unfinished journals, oldest first.
    pub fn unfinished(&self) -> Result<Vec<Journal>, JournalError> {
        self.read_all(&self.root.join("journals"))
    }

    /// The finished journals.
    pub fn finished(&self) -> Result<Vec<Journal>, JournalError> {
        self.read_all(&self.root.join("done"))
    }

    /// The journal of a recording id, finished or not.
    pub fn find(&self, id: &str) -> Result<Option<Journal>, JournalError> {
        for path in [self.journal_path(id), self.done_path(id)] {
            if path.exists() {
                return read(&path).map(Some);
            }
        }
        Ok(None)
    }

    /// The unfinished journals, oldest first, each read on its own: one
    /// that cannot be read is its own error (with its id), not the list's.
    pub fn unfinished_each(&self) -> Result<Vec<(String, JournalRead)>, JournalError> {
        let dir = self.root.join("journals");
        let mut out: Vec<(String, JournalRead)> = self
            .journal_files(&dir)?
            .into_iter()
            .map(|path| {
                let id = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (id, read(&path))
            })
            .collect();
        out.sort_by(|(a_id, a), (b_id, b)| match (a, b) {
            (Ok(a), Ok(b)) => a.started.cmp(&b.started).then(a.id.cmp(&b.id)),
            _ => a_id.cmp(b_id),
        });
        Ok(out)
    }

    fn journal_files(&self, dir: &Path) -> Result<Vec<PathBuf>, JournalError> {
        let mut out = Vec::new();
        for item in fs::read_dir(dir).map_err(io_err(dir))? {
            let path = item.map_err(io_err(dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
        Ok(out)
    }

    fn read_all(&self, dir: &Path) -> Result<Vec<Journal>, JournalError> {
        let mut out = Vec::new();
        for path in self.journal_files(dir)? {
            out.push(read(&path)?);
        }
        out.sort_by(|a, b| a.started.cmp(&b.started).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}

fn read(path: &Path) -> Result<Journal, JournalError> {
    let bytes = fs::read(path).map_err(io_err(path))?;
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| JournalError::Corrupt {
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    if !(OLDEST_VERSION..=VERSION).contains(&journal.version) {
        return Err(JournalError::Corrupt {
            path: path.to_path_buf(),
            why: format!(
                "it is version {}, this recpipe reads {OLDEST_VERSION} to {VERSION}",
                journal.version
            ),
        });
    }
    Ok(journal)
}

/// Now, as RFC 3339 UTC.
pub fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests;
