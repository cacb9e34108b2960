//! The recording model: what admission decides, once, about every file of
//! a recording folder — its role (Zoom's track, the marks file, Zoom's
//! book-keeping, litter, or a file recpipe does not know), its segment,
//! its place in its segment's time — and the marks resolved into the
//! ranges to remove from each file. `admit` keeps it in the journal;
//! `run` (through `outputs`), `plan`, `preview`, the timeline and the
//! manifest read it. [`resolve`] is the one function that turns a marks
//! file into ranges, for all of them.
//!
//! Invariants:
//! - A role comes from the check's listing ([`discover::Entry::role`]):
//!   only the top of the folder and `Audio Record/` hold Zoom's files; a
//!   file in any other sub-folder is unknown whatever its name, and an
//!   unknown file has no track kind, so it is never delivered.
//! - A mark is placed in a file only where the file's place in time is
//!   known. In a segment with marks, a media file whose end differs from
//!   the segment's end by more than [`ALIGN_TOLERANCE`] (a participant who
//!   joined late, a file cut short) and whose own edit list does not
//!   explain it stops the recording: "needs a person", never a guess.

use super::names::file_ref;
use crate::config::{Redact, TrackKind};
use crate::discover::{self, RecordingReport, Role};
use crate::journal::{FileRecord, Journal, MarkRecord};
use crate::redact::Range;
use crate::redact::clock::Clocks;
use crate::redact::marks::{self, MarksError, SegmentRanges, SegmentSpan};
use crate::redact::plan::{PlanFile, SegmentFile};
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::PrimitiveDateTime;

/// How far a media file's end may lie from its segment's end and still be
/// taken to start where the segment starts. Zoom's files of one segment
/// end within a fraction of a second of each other; a participant who
/// joined later than this is caught.
pub const ALIGN_TOLERANCE: Duration = Duration::from_secs(1);

/// The model of one recording, as admission decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// One record per file of the check's listing, in its order.
    pub files: Vec<FileRecord>,
    /// The marks file's lines that are marks, as written.
    pub marks: Vec<MarkRecord>,
    /// The ranges per segment, in each segment's own time.
    pub ranges: SegmentRanges,
    /// Whether any mark uses wall-clock time (so a pause would shift it).
    pub wall_clock: bool,
    /// Each segment's number and what the burned-in clock showed at its
    /// start, where that is known (the first's from the folder name or
    /// `--start`, a later one's from the marks file's `segment N starts`):
    /// the start the marks were placed from.
    pub segment_starts: Vec<(u32, Option<PrimitiveDateTime>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the marks file cannot be read: {0}")]
    Read(String),
    #[error(transparent)]
    Marks(#[from] MarksError),
    #[error("{0}")]
    Clock(String),
    #[error(
        "segment {segment} has marks, but {what} ends {gap:.1} s away from the segment's other files and does not say where it starts (a participant who joined late, or a file cut short); recpipe cannot tell where the marks lie in it. A person must cut that file by hand or move it out of the recording folder, then run again"
    )]
    Unaligned {
        what: super::names::FileRef,
        segment: u32,
        gap: f64,
    },
}

/// Resolves a checked recording: every file's record, and the marks (the
/// marks file's text, when there is one) placed in every file they cover.
/// `start` is `--start`, else the folder name's time is used.
pub fn resolve(
    report: &RecordingReport,
    marks_text: Option<&str>,
    start: Option<PrimitiveDateTime>,
    redact: &Redact,
) -> Result<Model, ModelError> {
    let mut model = Model {
        files: Vec::new(),
        marks: Vec::new(),
        ranges: SegmentRanges::default(),
        wall_clock: false,
        segment_starts: Vec::new(),
    };
    let spans = segment_spans(report, start);
    if let Some(text) = marks_text {
        let parsed = marks::parse(text)?;
        // Marks are placed per segment, never across (docs/redaction.md);
        // one that cannot be placed without guessing stops the recording.
        let clocks = Clocks::new(&redact.clock).map_err(ModelError::Clock)?;
        model.ranges = parsed.resolve_segments(&spans, &clocks, redact.pad.0)?;
        model.segment_starts = clock_starts(&parsed, &spans, &clocks)?;
        model.wall_clock = parsed.uses_wall_clock();
        let lines: Vec<&str> = marks::lines(text).collect();
        model.marks = parsed
            .marks
            .iter()
            .map(|m| MarkRecord {
                line: m.line,
                text: lines
                    .get(m.line - 1)
                    .map(|l| l.trim().to_string())
                    .unwrap_or_default(),
                note: m.note.clone(),
            })
            .collect();
    } else if let Ok(clocks) = Clocks::new(&redact.clock) {
        model.segment_starts = clock_starts(&marks::Marks::default(), &spans, &clocks)?;
    }
    for f in &report.files {
        let lead = Duration::from_secs_f64(f.lead.unwrap_or(0.0).max(0.0));
        let segment_ranges = model.ranges.of(f.segment);
        if f.role.is_media()
            && !segment_ranges.is_empty()
            && let Some(segment) = f.segment
        {
            let seg_end = report
                .segments
                .iter()
                .find(|s| s.number == segment)
                .and_then(|s| s.duration)
                .unwrap_or(0.0);
            let gap = (seg_end - f.end_in_segment().unwrap_or(0.0)).abs();
            if gap > ALIGN_TOLERANCE.as_secs_f64() {
                return Err(ModelError::Unaligned {
                    what: file_ref(&f.path, &redact.marks),
                    segment,
                    gap,
                });
            }
        }
        model.files.push(FileRecord {
            role: f.role.clone(),
            segment: f.segment,
            offset_ns: lead.as_nanos() as u64,
            ranges_ns: in_file_time(segment_ranges, lead)
                .iter()
                .map(|r| (r.start.as_nanos() as u64, r.end.as_nanos() as u64))
                .collect(),
        });
    }
    Ok(model)
}

/// What the burned-in clock showed at each segment's start, where known.
fn clock_starts(
    parsed: &marks::Marks,
    spans: &[marks::SegmentSpan],
    clocks: &Clocks,
) -> Result<Vec<(u32, Option<PrimitiveDateTime>)>, ModelError> {
    let starts = parsed.segment_starts(spans, clocks)?;
    Ok(spans
        .iter()
        .zip(starts)
        .map(|(s, at)| (s.number, at.and_then(|i| clocks.clock_reading(i))))
        .collect())
}

/// Reads the marks file at `path` (`expected`: the file as listed, so a
/// file changed since is refused) as text, in any encoding
/// [`marks::decode`] reads.
pub fn read_marks(
    path: &Path,
    expected: Option<&crate::fsutil::FileId>,
) -> Result<String, ModelError> {
    use std::io::Read;
    let opened = crate::fsutil::open_checked(path, crate::fsutil::Access::Read, expected)
        .map_err(|e| ModelError::Read(e.to_string()))?;
    let mut bytes = Vec::new();
    opened
        .file
        .take(marks::MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ModelError::Read(e.to_string()))?;
    marks::decode(&bytes).map_err(|e| ModelError::Read(e.to_string()))
}

/// A journal's inventory split by what cleanup may do: the files it may
/// remove, and those recpipe does not know (left in place), by the roles
/// admission gave them (a version 1 journal's from their names).
pub fn by_cleanup(j: &Journal, marks_name: &str) -> (Vec<discover::Entry>, Vec<discover::Entry>) {
    let (mut removable, mut unknown) = (Vec::new(), Vec::new());
    for (i, e) in j.inventory.iter().enumerate() {
        let may = match j.files.get(i) {
            Some(f) => f.role.cleanup_may_remove(),
            None => e.role(marks_name).cleanup_may_remove(),
        };
        if may {
            removable.push(e.clone());
        } else {
            unknown.push(e.clone());
        }
    }
    (removable, unknown)
}

/// Whether the marks a journal's outputs were made with may have changed:
/// the marks file differs from the one listed, or is there when none was
/// (a marks file that is gone takes no mark away, and cleanup removes it
/// last), or a live mark (open or closed) is pending within the meeting's
/// span (`pending`: the pending marks file; one that cannot be read counts
/// as a mark). Returns the marks file's path, relative to the folder.
pub fn marks_changed(j: &Journal, marks_name: &str, pending: &Path) -> Option<PathBuf> {
    let rel = Path::new(marks_name);
    let path = j.source.join(rel);
    let now = std::fs::symlink_metadata(&path)
        .ok()
        .map(|m| crate::fsutil::FileId::of(&path, &m));
    let listed = j.inventory.iter().find(|e| e.rel == rel).map(|e| e.id);
    ((now.is_some() && now != listed) || live_mark_pending(j, pending)).then(|| rel.to_path_buf())
}

/// Whether a live mark is pending within the journal's meeting span.
fn live_mark_pending(j: &Journal, pending: &Path) -> bool {
    let Some((start, span_ms)) = &j.meeting else {
        return false;
    };
    let Ok(start) = PrimitiveDateTime::parse(start, crate::redact::pending::STAMP) else {
        return true;
    };
    let end = start + Duration::from_millis(*span_ms);
    match crate::redact::pending::load(pending) {
        Ok(marks) => marks
            .iter()
            .any(|m| m.from < end && m.to.is_none_or(|to| to > start)),
        Err(_) => true,
    }
}

/// A segment's ranges in the time of a file that starts `lead` into it:
/// shifted, and clipped at the file's start.
fn in_file_time(ranges: &[Range], lead: Duration) -> Vec<Range> {
    ranges
        .iter()
        .filter(|r| r.end > lead)
        .map(|r| Range::new(r.start.saturating_sub(lead), r.end - lead))
        .collect()
}

/// The kind of track a file holds, from the role admission gave it: none
/// for anything that is not a recording track (and so never delivered).
pub fn track_kind(role: &Role) -> Option<TrackKind> {
    match role {
        Role::Video => Some(TrackKind::Video),
        Role::MixedAudio => Some(TrackKind::MixedAudio),
        Role::ParticipantAudio { .. } => Some(TrackKind::ParticipantAudio),
        Role::Chat => Some(TrackKind::Chat),
        Role::Captions => Some(TrackKind::Captions),
        _ => None,
    }
}

/// The files to plan, as the model has them: `dir` the recording folder,
/// `rels` the listing's paths in the records' order.
pub fn plan_files<'a>(
    dir: &Path,
    rels: impl IntoIterator<Item = &'a Path>,
    files: &[FileRecord],
) -> Vec<SegmentFile> {
    let ns = Duration::from_nanos;
    rels.into_iter()
        .zip(files)
        .map(|(rel, f)| SegmentFile {
            file: PlanFile {
                path: dir.join(rel),
                kind: track_kind(&f.role),
            },
            segment: f.segment,
            lead: ns(f.offset_ns),
            unknown: f.role == Role::Unknown,
            marked: f
                .ranges_ns
                .iter()
                .map(|&(a, b)| Range::new(ns(a), ns(b)))
                .collect(),
        })
        .collect()
}

/// The records of a journal written before they were kept (version 1):
/// derived from the names once, as that version did, with the ranges of
/// each file's segment, every file taken to start at its segment's start.
pub fn migrate(j: &Journal, marks_name: &str) -> Vec<FileRecord> {
    let rels: Vec<std::path::PathBuf> = j.inventory.iter().map(|e| e.rel.clone()).collect();
    let playlist = j
        .inventory
        .iter()
        .find(|e| e.role(marks_name) == Role::Playlist && e.is_file())
        .and_then(|e| crate::fsutil::read_text(&j.source.join(&e.rel), Some(&e.id)).ok());
    let segments = discover::segments::of_paths(&rels, marks_name, playlist.as_deref());
    let ns = Duration::from_nanos;
    let ranges = if j.segment_ranges_ns.is_empty() {
        SegmentRanges::single(
            j.ranges_ns
                .iter()
                .map(|&(a, b)| Range::new(ns(a), ns(b)))
                .collect(),
        )
    } else {
        SegmentRanges::from_pairs(
            j.segment_ranges_ns
                .iter()
                .map(|&(s, a, b)| (s, Range::new(ns(a), ns(b)))),
        )
    };
    j.inventory
        .iter()
        .zip(segments)
        .map(|(e, segment)| FileRecord {
            role: e.role(marks_name),
            segment,
            offset_ns: 0,
            ranges_ns: ranges
                .of(segment)
                .iter()
                .map(|r| (r.start.as_nanos() as u64, r.end.as_nanos() as u64))
                .collect(),
        })
        .collect()
}

/// The segments of a checked recording as marks are resolved against
/// them: the first starts at `start` (`--start`) or at the folder name's
/// time; later ones' starts come from the marks file.
fn segment_spans(report: &RecordingReport, start: Option<PrimitiveDateTime>) -> Vec<SegmentSpan> {
    let start = start.or_else(|| report.name.as_ref().map(|n| n.start));
    report
        .segments
        .iter()
        .map(|s| SegmentSpan {
            number: s.number,
            duration: Duration::from_secs_f64(s.duration.unwrap_or(0.0).max(0.0)),
            start: if s.number == 1 { start } else { s.start },
        })
        .collect()
}
