//! Recording discovery and the completeness check: which folders under a
//! path are Zoom recordings, and is each one `complete` (safe to process),
//! `in-progress` (Zoom is still writing or converting; wait) or `broken`
//! (needs a person; never processed automatically)?
//!
//! Invariants: nothing here writes, moves or deletes; every rule that
//! fires is reported as a typed [`Reason`], and the verdict is
//! the most serious one (broken > in progress > complete). Media files are
//! checked deeply (every sample inside the file, audio decoding to the
//! end) only when nothing says Zoom is still at work on them.

mod conf;
mod inventory;
mod media_check;
pub mod name;
mod reason;
pub mod role;
pub mod segments;

pub use inventory::{Entry, Inventory, MAX_DEPTH, take as take_inventory};
pub use name::FolderName;
pub use reason::{Conversion, MediaProblem, Reason, Reasons, Why};
pub use role::{PARTICIPANT_DIR, Role};

/// The folder inside a recording where an unsealed (green) pipeline stages
/// its outputs. It is recpipe's own, so it is not part of the recording.
pub const STAGING_DIR: &str = ".recpipe-staging";

use crate::fsutil::FileKind;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where discovery could not even look.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not a folder")]
    NotAFolder(PathBuf),
}

/// The verdict on one recording folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Complete,
    InProgress,
    Broken,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Complete => "complete",
            Verdict::InProgress => "in progress",
            Verdict::Broken => "broken",
        })
    }
}

/// One file of a recording, as the check saw it.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Relative to the recording folder.
    pub path: PathBuf,
    #[serde(flatten)]
    pub role: Role,
    pub size: u64,
    #[serde(serialize_with = "serialize_time")]
    pub modified: Option<SystemTime>,
    /// Seconds; known for media files that were checked.
    pub duration: Option<f64>,
    pub codecs: Vec<String>,
    /// The segment (1, 2, …) a media file belongs to; none for the files
    /// of the whole folder (see [`segments`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<u32>,
    /// Its audio stays below −60 dBFS throughout (a muted microphone,
    /// Zoom's silence): a warning for the summary and the manifest; the
    /// file is still delivered.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
    /// Seconds of a leading empty edit: the file starts this far into its
    /// segment, as the file itself says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<f64>,
}

impl FileReport {
    /// Where the file ends in its segment's time, seconds: its lead plus
    /// its duration.
    pub fn end_in_segment(&self) -> Option<f64> {
        self.duration.map(|d| d + self.lead.unwrap_or(0.0))
    }
}

/// One segment of a recording: a stretch between a start and a stop of
/// the recording within the meeting.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentReport {
    pub number: u32,
    /// Wall-clock start, local time, when the folder says it (the first
    /// segment, from the folder name); later segments' starts are only
    /// known from the marks file (`segment 2 starts 10:00:40`).
    #[serde(serialize_with = "serialize_start")]
    pub start: Option<jiff::civil::DateTime>,
    /// Seconds: the latest end of its checked media files (a file's lead
    /// included).
    pub duration: Option<f64>,
    /// Its media files, relative to the recording folder.
    pub files: Vec<PathBuf>,
}

/// The full report on one recording folder.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingReport {
    pub dir: PathBuf,
    /// What the folder name says; `None` when it is not in Zoom's form.
    pub name: Option<FolderName>,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub files: Vec<FileReport>,
    /// The segments, in recording order; one for a recording that was not
    /// stopped and restarted.
    pub segments: Vec<SegmentReport>,
    /// Files recpipe does not know, by kind and count (never by name):
    /// they are never delivered and never removed.
    pub unknown: Vec<(String, usize)>,
    /// The inventory the verdict was based on (what cleanup may remove).
    #[serde(skip)]
    pub inventory: Inventory,
}

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Quiet time: a change within this long before `now` means Zoom may
    /// still be writing.
    pub settle: Duration,
    pub now: SystemTime,
    /// The marks file name looked for in each recording folder.
    pub marks: String,
    /// A conversion that left its files (`.zoom`, `.tmp`, `recording.conf`
    /// below 100 %) unchanged this long has stalled: broken, not waiting.
    pub stall: Duration,
}

/// The default of `[source] stall`.
pub const DEFAULT_STALL: Duration = Duration::from_secs(2 * 3600);

impl CheckOptions {
    pub fn new(settle: Duration, marks: &str) -> CheckOptions {
        CheckOptions {
            settle,
            now: SystemTime::now(),
            marks: marks.to_string(),
            stall: DEFAULT_STALL,
        }
    }
}

/// The recording folders at `path`: `path` itself when it is one,
/// otherwise the recording folders directly inside it, sorted by name
/// (which is by start time for Zoom's names). An empty list means `path`
/// holds no recording.
pub fn find_recordings(path: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let read_err = |source| DiscoverError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(read_err)?;
    if !meta.is_dir() {
        return Err(DiscoverError::NotAFolder(path.to_path_buf()));
    }
    if is_recording(path).map_err(read_err)? {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    for item in fs::read_dir(path).map_err(read_err)? {
        let item = item.map_err(read_err)?;
        let hidden = item.file_name().to_string_lossy().starts_with('.');
        // `file_type` does not follow links: a linked folder is not walked.
        let is_dir = item.file_type().map_err(read_err)?.is_dir();
        // A folder that cannot be read is a recording when its name says
        // so (then its own check says what is wrong); otherwise it is not
        // recognisably Zoom's, and one unreadable folder never stops the
        // others from being found.
        if is_dir && !hidden && is_recording(&item.path()).unwrap_or(false) {
            found.push(item.path());
        }
    }
    found.sort();
    Ok(found)
}

/// A folder is a recording when its name is in Zoom's form or it directly
/// holds a file only Zoom writes (media, chat, playlist, conversion files).
fn is_recording(dir: &Path) -> std::io::Result<bool> {
    let named = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FolderName::parse(n).is_some());
    if named {
        return Ok(true);
    }
    for item in fs::read_dir(dir)? {
        let item = item?;
        if let Some(name) = item.file_name().to_str()
            && !matches!(
                role::role_of(name, false, ""),
                Role::Unknown | Role::Litter | Role::Marks
            )
        {
            return Ok(true);
        }
        if item.file_name() == PARTICIPANT_DIR {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Checks one recording folder.
pub fn check_recording(dir: &Path, opts: &CheckOptions) -> Result<RecordingReport, DiscoverError> {
    let inventory = inventory::take(dir).map_err(|source| DiscoverError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(check_inventory(dir, inventory, opts))
}

/// Checks one recording folder whose listing was just taken (with
/// [`take_inventory`]): the same as [`check_recording`] without listing
/// the folder a second time.
pub fn check_inventory(dir: &Path, inventory: Inventory, opts: &CheckOptions) -> RecordingReport {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(FolderName::parse);
    let mut reasons = Vec::new();
    let waiting = |file: Option<&Path>, why: Why| Reason {
        verdict: Verdict::InProgress,
        file: file.map(Path::to_path_buf),
        why,
    };
    let broken = |file: Option<&Path>, why: Why| Reason {
        verdict: Verdict::Broken,
        file: file.map(Path::to_path_buf),
        why,
    };

    let roles: Vec<Role> = inventory
        .entries
        .iter()
        .map(|e| e.role(&opts.marks))
        .collect();
    let quiet = inventory
        .newest
        .map(|n| opts.now.duration_since(n).unwrap_or(Duration::ZERO));
    let stalled = quiet.filter(|q| *q >= opts.stall);
    for (e, role) in inventory.entries.iter().zip(&roles) {
        match role {
            Role::Unfinished => reasons.push(match stalled {
                Some(quiet) => broken(Some(&e.rel), Why::ConversionStalled { quiet }),
                None => waiting(Some(&e.rel), Why::StillConverting),
            }),
            Role::ConversionStatus => reasons.extend(conversion_status(dir, e, &inventory).map(
                |status| match stalled {
                    Some(quiet) => {
                        broken(Some(&e.rel), Why::ConversionStatusStalled { status, quiet })
                    }
                    None => waiting(Some(&e.rel), Why::Conversion(status)),
                },
            )),
            Role::ConversionError => reasons.push(broken(Some(&e.rel), Why::ConversionError)),
            _ => {}
        }
        if let Some(why) = not_a_file(e) {
            reasons.push(broken(Some(&e.rel), why));
        }
        // A file that may hold marks recpipe would not read: nothing of
        // the recording goes until a person has named it right.
        if *role != Role::Marks && role::misplaced_marks(&e.rel, &opts.marks) {
            let marks = opts.marks.clone();
            reasons.push(broken(Some(&e.rel), Why::MisplacedMarks { marks }));
        } else if *role == Role::Unknown
            && e.is_file()
            && !opts.marks.is_empty()
            && role::is_text_document(&e.rel)
        {
            // A person's notes beside the recording may say what to cut
            // under any name: they are read by a person, not guessed at.
            let marks = opts.marks.clone();
            reasons.push(broken(Some(&e.rel), Why::UnknownText { marks }));
        }
    }
    // A folder is walked, not listed, so one under the marks file's name
    // has no row: it takes the place where marks are read, and the
    // recording stops as for a file of another kind there.
    let marks = Path::new(&opts.marks);
    if !opts.marks.is_empty()
        && !inventory.entries.iter().any(|e| e.rel == marks)
        && fs::symlink_metadata(dir.join(marks)).is_ok_and(|m| m.is_dir())
    {
        reasons.push(broken(Some(marks), Why::MarksFolder));
    }
    reasons.extend(marks_beside(dir, &opts.marks).into_iter().map(|rel| {
        broken(
            Some(&rel),
            Why::MarksOutside {
                marks: opts.marks.clone(),
            },
        )
    }));
    if let Some(newest) = inventory.newest {
        let age = opts.now.duration_since(newest).unwrap_or(Duration::ZERO);
        if age < opts.settle {
            let settle = opts.settle;
            reasons.push(waiting(None, Why::Changed { ago: age, settle }));
        }
    }

    let zoom_at_work = reasons.iter().any(|r| r.verdict == Verdict::InProgress);
    let deep = |e: &Entry, role: &Role| role.is_media() && e.is_file() && !zoom_at_work;
    let jobs: Vec<(PathBuf, u64)> = inventory
        .entries
        .iter()
        .zip(&roles)
        .filter(|(e, role)| deep(e, role))
        .map(|(e, _)| (dir.join(&e.rel), e.id.size))
        .collect();
    let mut checked = media_check::check_all(&jobs).into_iter();
    let mut files = Vec::new();
    let mut media = 0;
    let grouping = segments::group(
        &inventory.entries,
        &roles,
        playlist_text(dir, &inventory, &roles).as_deref(),
    );
    let mut unknown: std::collections::BTreeMap<String, usize> = Default::default();
    for ((e, role), placed) in inventory.entries.iter().zip(&roles).zip(&grouping.placed) {
        let shown = match (role, &placed.participant) {
            (Role::ParticipantAudio { .. }, Some(p)) => Role::ParticipantAudio {
                participant: p.clone(),
            },
            (role, _) => role.clone(),
        };
        if *role == Role::Unknown {
            let name = e.rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
            *unknown
                .entry(role::kind_of_unknown(name).to_string())
                .or_default() += 1;
        }
        if role.is_media() && placed.segment.is_none() {
            let segments = grouping.count;
            reasons.push(broken(Some(&e.rel), Why::NoSegment { segments }));
        }
        let mut report = FileReport {
            path: e.rel.clone(),
            role: shown,
            size: e.id.size,
            modified: e.modified(),
            duration: None,
            codecs: Vec::new(),
            segment: placed.segment,
            silent: false,
            lead: None,
        };
        if role.is_media() && e.is_file() {
            media += 1;
            if deep(e, role) {
                let facts = checked
                    .next()
                    .unwrap_or_else(media_check::MediaFacts::not_checked);
                report.duration = facts.duration;
                report.codecs = facts.codecs;
                report.silent = facts.silent;
                report.lead = facts.lead;
                if let Some(p) = facts.problem {
                    reasons.push(broken(Some(&e.rel), Why::Media(p)));
                }
            }
        }
        files.push(report);
    }
    if media == 0 && !zoom_at_work {
        reasons.push(broken(None, Why::NoMedia));
    }

    let segments = (1..=grouping.count)
        .map(|number| {
            let of: Vec<&FileReport> = files.iter().filter(|f| f.segment == Some(number)).collect();
            SegmentReport {
                number,
                start: (number == 1)
                    .then(|| name.as_ref().map(|n| n.start))
                    .flatten(),
                duration: of
                    .iter()
                    .filter_map(|f| f.end_in_segment())
                    .reduce(f64::max),
                files: of.iter().map(|f| f.path.clone()).collect(),
            }
        })
        .collect();
    let verdict = reasons
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::Complete);
    RecordingReport {
        dir: dir.to_path_buf(),
        name,
        verdict,
        reasons,
        files,
        segments,
        unknown: unknown.into_iter().collect(),
        inventory,
    }
}

/// The marks files, or files that look like one, in the folder that holds
/// the recording's folder (Zoom's folder: one marks file kept there for
/// every recording), relative to the recording's folder (`../NAME`).
/// recpipe reads no marks there and cannot tell which recording they are
/// for. A folder that cannot be listed has none to report.
fn marks_beside(dir: &Path, marks: &str) -> Vec<PathBuf> {
    let Some(items) = fs::canonicalize(dir)
        .ok()
        .and_then(|d| fs::read_dir(d.parent()?).ok())
    else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = items
        .flatten()
        .filter(|item| !item.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|item| item.file_name().to_str().map(str::to_string))
        .filter(|name| !marks.is_empty() && (name == marks || role::looks_like_marks(name, marks)))
        .map(|name| Path::new("..").join(name))
        .collect();
    found.sort();
    found
}

/// Why an entry that is not a regular file stops the recording: recpipe
/// opens only regular files, follows no link, and lists only as deep as
/// [`MAX_DEPTH`]. `None` for a regular file.
fn not_a_file(e: &Entry) -> Option<Why> {
    match e.kind {
        FileKind::File => None,
        FileKind::Symlink => Some(Why::Symlink),
        FileKind::Folder => Some(Why::NestedFolder),
        kind => Some(Why::NotAFile(kind)),
    }
}

impl RecordingReport {
    /// What the run says about the files recpipe does not know, by kind and
    /// count, never by name; `None` when there are none.
    pub fn unknown_files_left(&self) -> Option<String> {
        unknown_files_text(&self.unknown)
    }
}

/// "2 files recpipe does not know (1 document, 1 image) were left in the
/// interim folder: move them, then run again"; `None` for none.
pub fn unknown_files_text(kinds: &[(String, usize)]) -> Option<String> {
    let total: usize = kinds.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let each: Vec<String> = kinds
        .iter()
        .map(|(k, n)| {
            if *n == 1 {
                format!("1 {k}")
            } else {
                format!("{n} {k}s")
            }
        })
        .collect();
    let (files, were) = if total == 1 {
        ("1 file".to_string(), "was")
    } else {
        (format!("{total} files"), "were")
    };
    Some(format!(
        "{files} recpipe does not know ({}) {were} left in the interim folder, neither delivered nor removed: move them elsewhere, then run again",
        each.join(", ")
    ))
}

/// The playlist's text (small files only), for the segments' order.
fn playlist_text(dir: &Path, inv: &Inventory, roles: &[Role]) -> Option<String> {
    let (e, _) = inv
        .entries
        .iter()
        .zip(roles)
        .find(|(e, role)| **role == Role::Playlist && e.is_file() && e.id.size <= 64 * 1024)?;
    crate::fsutil::read_text(&dir.join(&e.rel), Some(&e.id)).ok()
}

fn serialize_start<S: serde::Serializer>(
    t: &Option<jiff::civil::DateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        None => s.serialize_none(),
        Some(t) => name::serialize_local(t, s),
    }
}

/// What `recording.conf` says, as a reason to wait, if any.
fn conversion_status(dir: &Path, e: &Entry, inv: &Inventory) -> Option<Conversion> {
    if !e.is_file() {
        // Reported by `not_a_file`; never opened.
        return None;
    }
    let read = || -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let opened = crate::fsutil::open_checked(
            &dir.join(&e.rel),
            crate::fsutil::Access::Read,
            Some(&e.id),
        )?;
        let mut bytes = Vec::new();
        opened.file.take(1024 * 1024 + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let text = match read() {
        Ok(bytes) if bytes.len() <= 1024 * 1024 => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(_) => return Some(Conversion::TooLarge),
        Err(err) => return Some(Conversion::CannotRead(err.to_string())),
    };
    match conf::parse(&text) {
        conf::ConversionStatus::Converting { percent } => Some(Conversion::Converting { percent }),
        conf::ConversionStatus::Unreadable(why) => Some(Conversion::NotUnderstood(why)),
        conf::ConversionStatus::Done { files } => {
            let missing: Vec<&String> = files
                .iter()
                .filter(|f| {
                    !inv.entries
                        .iter()
                        .any(|e| e.rel.file_name().is_some_and(|n| n == f.as_str()))
                })
                .collect();
            (!missing.is_empty()).then_some(Conversion::Missing(missing.len()))
        }
    }
}

fn serialize_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        None => s.serialize_none(),
        Some(t) => {
            let t = jiff::Timestamp::try_from(*t).map_err(serde::ser::Error::custom)?;
            s.serialize_str(&t.to_string())
        }
    }
}
