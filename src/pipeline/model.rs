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
//! - Where marks use wall-clock times, the clock burned into each
//!   segment's video is read once, here ([`crate::clock::read`]), and
//!   places them (a pause moves the marks after it); its map is kept in
//!   the video's record. A clock more than [`START_SLACK_MS`] from the
//!   folder name's time (another zone, or a misread digit), or one that
//!   runs back, stops the recording with what was read; where no clock is
//!   drawn the marks are placed from the segments' starts, as before.

use super::names::file_ref;
use crate::clock::{ClockError, ClockMap};
use crate::config::{Redact, TrackKind};
use crate::discover::{self, RecordingReport, Role};
use crate::journal::{FileRecord, Journal, MarkRecord};
use crate::redact::Range;
use crate::redact::clock::Clocks;
use crate::redact::marks::{self, ClockPiece, MarksError, PlacedMark, SegmentRanges, SegmentSpan};
use crate::redact::plan::{PlanFile, SegmentFile};
use jiff::civil::DateTime;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    pub segment_starts: Vec<(u32, Option<DateTime>)>,
    /// Where each mark was placed, before padding.
    pub placed: Vec<PlacedMark>,
    /// The segments whose clock was read from their video (wall-clock
    /// marks were placed through it).
    pub clock_read: Vec<u32>,
    /// The pauses the clock showed: segment, segment time of the first
    /// frame after it and how long it lasted, seconds.
    pub pauses: Vec<(u32, f64, f64)>,
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
        "the clock burned into {what} cannot be read ({error}), and the marks use wall-clock times; a person must check the video, or write the marks as +offsets, then run again"
    )]
    ClockRead {
        what: super::names::FileRef,
        error: ClockError,
    },
    #[error(
        "the clock burned into the video shows {clock} at the recording's start, but the folder name (or --start) says {folder}: {apart} apart, read in the clock zone {zone}. recpipe places wall-clock marks by that clock only where the two agree within two minutes. If Zoom's clock shows another time zone than the PC's, set [redact] clock to it (e.g. \"+01:00\"); if the recording really started at the clock's time, give that with --start; if the clock was misread, write the marks as +offsets; then run again"
    )]
    ClockZone {
        clock: String,
        folder: String,
        apart: String,
        zone: String,
    },
    #[error(
        "the clock burned into {what} goes back {by:.1} s at {at:.1} s into it, which is no change of summer time: a clock set back, or one recpipe misread. A person must check the video and write the marks after that point as +offsets, then run again"
    )]
    ClockBack {
        what: super::names::FileRef,
        at: f64,
        by: f64,
    },
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
    start: Option<DateTime>,
    redact: &Redact,
) -> Result<Model, ModelError> {
    let mut model = Model {
        files: Vec::new(),
        marks: Vec::new(),
        ranges: SegmentRanges::default(),
        wall_clock: false,
        segment_starts: Vec::new(),
        placed: Vec::new(),
        clock_read: Vec::new(),
        pauses: Vec::new(),
    };
    let mut maps: Vec<(usize, ClockMap)> = Vec::new();
    let mut spans = segment_spans(report, start);
    if let Some(text) = marks_text {
        let parsed = marks::parse(text)?;
        // Marks are placed per segment, never across (docs/redaction.md);
        // one that cannot be placed without guessing stops the recording.
        let clocks = Clocks::new(&redact.clock).map_err(ModelError::Clock)?;
        model.wall_clock = parsed.uses_wall_clock();
        if model.wall_clock {
            maps = read_clocks(report)?;
        }
        tie_clocks(&mut spans, &maps, report, &clocks)?;
        check_zone(&spans, &clocks)?;
        for sp in spans.iter().filter(|s| !s.clock.is_empty()) {
            model.clock_read.push(sp.number);
            let pauses = sp.jumps().into_iter().map(|(at, by)| (sp.number, at, by));
            model.pauses.extend(pauses);
        }
        model.placed = parsed.place_each(&spans, &clocks)?;
        model.ranges = SegmentRanges::padded(&model.placed, &spans, redact.pad.0);
        model.segment_starts = clock_starts(&parsed, &spans, &clocks)?;
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
    for (i, f) in report.files.iter().enumerate() {
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
                    what: file_ref(&f.path, &f.role),
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
            clock_ms: maps
                .iter()
                .find(|(at, _)| *at == i)
                .map(|(_, m)| {
                    let ms = |v: f64| (v * 1000.0).round() as i64;
                    m.spans
                        .iter()
                        .map(|s| (ms(s.from), ms(s.to), ms(s.offset)))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(model)
}

/// How far the clock's start may be from the folder name's time (Zoom
/// names the folder when the recording starts, from the same PC clock)
/// and still be taken as read: a clock further off is in another zone,
/// or misread, and needs a person.
const START_SLACK_MS: i64 = 2 * 60 * 1000;

/// How far a clock may run back between two stretches before it counts
/// as set back (a frame's rounding, no more).
const BACK_SLACK_MS: i64 = 100;

/// Reads the clock of each segment's video: per segment, the index of
/// the video in the check's listing and its map. A video without a clock
/// (or in a format the reader does not know) has none; one that cannot be
/// read stops the recording.
fn read_clocks(report: &RecordingReport) -> Result<Vec<(usize, ClockMap)>, ModelError> {
    let mut out = Vec::new();
    for seg in &report.segments {
        let Some((i, f)) = report.files.iter().enumerate().find(|(_, f)| {
            f.role == Role::Video && f.segment == Some(seg.number) && f.duration.is_some()
        }) else {
            continue;
        };
        match crate::clock::read(&report.dir.join(&f.path)) {
            Ok(Some(map)) => out.push((i, map)),
            Ok(None) | Err(ClockError::Unsupported(_)) => {}
            Err(error) => {
                return Err(ModelError::ClockRead {
                    what: file_ref(&f.path, &f.role),
                    error,
                });
            }
        }
    }
    Ok(out)
}

/// Ties each segment with a read clock to the wall clock: its map's
/// spans as instants (the clock's zone), in the segment's time (the
/// video's lead added). In a repeated hour the instant nearer the
/// previous one is taken, so summer time ending moves nothing.
fn tie_clocks(
    spans: &mut [SegmentSpan],
    maps: &[(usize, ClockMap)],
    report: &RecordingReport,
    clocks: &Clocks,
) -> Result<(), ModelError> {
    let mut near = spans
        .first()
        .and_then(|s| s.start)
        .map(|t| clocks.folder_instant(t));

    for span in spans.iter_mut() {
        let Some((i, map)) = maps
            .iter()
            .find(|(i, _)| report.files[*i].segment == Some(span.number))
        else {
            near = None;
            continue;
        };
        let lead = report.files[*i].lead.unwrap_or(0.0).max(0.0);
        let ms = |v: f64| ((v + lead) * 1000.0).round() as i64;
        for s in &map.spans {
            let Some(at) = clocks.clock_instant_near(s.clock_at_from(), near) else {
                return Err(ModelError::Clock(format!(
                    "the clock read in segment {}'s video shows a time that does not exist in the clock zone {}",
                    span.number, clocks.label
                )));
            };
            let piece = ClockPiece {
                from: ms(s.from),
                to: ms(s.to),
                at,
            };
            if let Some(prev) = span.clock.last()
                && at < prev.end() - BACK_SLACK_MS
            {
                return Err(ModelError::ClockBack {
                    what: file_ref(&report.files[*i].path, &report.files[*i].role),
                    at: s.from,
                    by: (prev.end() - at) as f64 / 1000.0,
                });
            }
            near = Some(piece.end());
            span.clock.push(piece);
        }
    }
    Ok(())
}

/// Stops a recording whose clock, read in the clock zone, starts more
/// than [`START_SLACK_MS`] away from the folder name's time (or
/// `--start`): a clock in another zone than `[redact] clock` says, or a
/// misread digit, would otherwise move every mark.
fn check_zone(spans: &[SegmentSpan], clocks: &Clocks) -> Result<(), ModelError> {
    let Some(first) = spans.first() else {
        return Ok(());
    };
    let (Some(start), Some(piece)) = (first.start, first.clock.first()) else {
        return Ok(());
    };
    let folder = clocks.folder_instant(start);
    let clock = piece.at - piece.from;
    let apart = (clock - folder).abs();
    if apart <= START_SLACK_MS {
        return Ok(());
    }
    let text = |t: Option<DateTime>| {
        t.map_or_else(
            || "?".into(),
            |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        )
    };
    let mins = (apart + 30_000) / 60_000;
    Err(ModelError::ClockZone {
        clock: text(clocks.clock_reading(clock)),
        folder: text(clocks.clock_reading(folder)),
        apart: format!("{} h {:02} min", mins / 60, mins % 60),
        zone: clocks.label.clone(),
    })
}

/// What the burned-in clock showed at each segment's start, where known.
fn clock_starts(
    parsed: &marks::Marks,
    spans: &[marks::SegmentSpan],
    clocks: &Clocks,
) -> Result<Vec<(u32, Option<DateTime>)>, ModelError> {
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

/// The role admission gave the file at `rel` (relative to the recording
/// folder) in a journal: from its record (a version 1 journal's from its
/// name), unknown if the journal does not list it.
pub fn role_in(j: &Journal, rel: &Path, marks_name: &str) -> Role {
    j.inventory
        .iter()
        .position(|e| e.rel == rel)
        .map_or(Role::Unknown, |i| match j.files.get(i) {
            Some(f) => f.role.clone(),
            None => j.inventory[i].role(marks_name),
        })
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
    let Some(start) = crate::redact::pending::parse_stamp(start) else {
        return true;
    };
    let end = start
        .checked_add(Duration::from_millis(*span_ms))
        .unwrap_or(DateTime::MAX);
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
            clock_ms: Vec::new(),
        })
        .collect()
}

/// The segments of a checked recording as marks are resolved against
/// them: the first starts at `start` (`--start`) or at the folder name's
/// time; later ones' starts come from the marks file.
fn segment_spans(report: &RecordingReport, start: Option<DateTime>) -> Vec<SegmentSpan> {
    let start = start.or_else(|| report.name.as_ref().map(|n| n.start));
    report
        .segments
        .iter()
        .map(|s| SegmentSpan {
            number: s.number,
            duration: Duration::from_secs_f64(s.duration.unwrap_or(0.0).max(0.0)),
            start: if s.number == 1 { start } else { s.start },
            clock: Vec::new(),
        })
        .collect()
}
