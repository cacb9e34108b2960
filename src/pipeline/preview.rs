//! `plan` and `preview`: what the pipeline would make of one recording,
//! without sending anything.
//!
//! Invariants: [`plan_recording`] writes nothing. [`preview`] writes the
//! outputs exactly as they would be sealed, but in plaintext, into a
//! folder the user names: that is the one exception to "no plaintext
//! outside the recording's folder", asked for by name, and it refuses a
//! folder inside the watched interim folder or the destination.

use crate::config::{Destination, Pipeline};
use crate::discover::{self, CheckOptions, RecordingReport, Role};
use crate::redact::clock::Clocks;
use crate::redact::marks::{self, SegmentRanges};
use crate::redact::plan::{FilePlan, plan_segments, produce};
use jiff::civil::DateTime;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error("{0}")]
    Marks(String),
    #[error(transparent)]
    Plan(#[from] crate::redact::plan::PlanError),
    #[error("{}: {why}", dir.display())]
    Refused { dir: PathBuf, why: String },
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The plan for one recording.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordingPlan {
    pub report: RecordingReport,
    /// The start time marks are mapped from, and where it came from.
    pub start: Option<String>,
    pub start_from: &'static str,
    /// The marks file's lines as parsed, with the ranges they resolve to
    /// (after padding and merging), in seconds.
    pub marks: Vec<String>,
    /// Where each mark was placed, before padding.
    pub placements: Vec<MarkPlacement>,
    pub ranges: Vec<(f64, f64)>,
    /// Each segment on its own clock (one for a recording never stopped).
    pub segments: Vec<SegmentPlan>,
    /// The time zone Zoom's clock was read in (`[redact] clock`).
    pub clock: String,
    /// Said when wall-clock marks are used in a segment whose clock was
    /// not read from its video: a pause cannot be seen there.
    pub pause_note: Option<&'static str>,
    pub files: Vec<FilePlan>,
    /// Bytes of all outputs before sealing.
    pub total_bytes: u64,
}

/// One segment of a recording as the plan places it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SegmentPlan {
    /// 1, 2, … in recording order.
    pub number: u32,
    /// What the burned-in clock showed at its start, when known: the
    /// start its wall-clock marks were placed from.
    #[serde(serialize_with = "clock_text")]
    pub start: Option<DateTime>,
    /// Its length, seconds (the latest end of its media files).
    pub length: f64,
    /// The marks' ranges in it (padded, merged), seconds of its own time.
    pub ranges: Vec<(f64, f64)>,
    /// Whether the clock burned into its video was read and placed its
    /// wall-clock marks.
    pub clock_read: bool,
    /// The pauses that clock showed: the segment time of the first frame
    /// after each and how long it lasted, seconds.
    pub pauses: Vec<(f64, f64)>,
}

/// Where one mark was placed: its line, and per segment the range in the
/// segment's own time (seconds, before padding).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MarkPlacement {
    pub line: usize,
    pub ranges: Vec<(u32, f64, f64)>,
    /// Placed by the clock read from the video (else from the segment's
    /// start, or as an offset).
    pub by_clock: bool,
}

fn clock_text<S: serde::Serializer>(t: &Option<DateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.strftime("%Y-%m-%d %H:%M:%S").to_string()),
        None => s.serialize_none(),
    }
}

/// Plans a recording under `pipeline`; `start` overrides the folder name's
/// start time.
pub fn plan_recording(
    pipeline: &Pipeline,
    dir: &Path,
    start: Option<DateTime>,
) -> Result<(RecordingPlan, SegmentRanges), PreviewError> {
    let check = CheckOptions::new(Duration::ZERO, &pipeline.redact.marks);
    let report = discover::check_recording(dir, &check)?;
    let (start, start_from) = match (start, &report.name) {
        (Some(s), _) => (Some(s), "--start"),
        (None, Some(n)) => (Some(n.start), "the folder name (local time)"),
        (None, None) => (None, "unknown"),
    };
    let text = match report.files.iter().find(|f| f.role == Role::Marks) {
        Some(f) => Some(
            super::model::read_marks(&dir.join(&f.path), None)
                .map_err(|e| PreviewError::Marks(e.to_string()))?,
        ),
        None => None,
    };
    let model = super::model::resolve(&report, text.as_deref(), start, &pipeline.redact)
        .map_err(|e| PreviewError::Marks(e.to_string()))?;
    let clocks = Clocks::new(&pipeline.redact.clock).map_err(PreviewError::Marks)?;
    let unread = report
        .segments
        .iter()
        .any(|seg| !model.clock_read.contains(&seg.number));
    let pause_note = (model.wall_clock && unread).then_some(marks::PAUSE_NOTE);
    let placements = model
        .placed
        .iter()
        .map(|p| MarkPlacement {
            line: p.line,
            ranges: p
                .ranges
                .iter()
                .map(|(s, r)| (*s, r.start.as_secs_f64(), r.end.as_secs_f64()))
                .collect(),
            by_clock: p.by_clock,
        })
        .collect();
    let lines = model
        .marks
        .iter()
        .map(|m| format!("line {}: {}", m.line, m.text))
        .collect();
    let rels = report.inventory.entries.iter().map(|e| e.rel.as_path());
    let files = super::model::plan_files(dir, rels, &model.files);
    let ranges = model.ranges;
    let secs = |r: &crate::redact::Range| (r.start.as_secs_f64(), r.end.as_secs_f64());
    let segments = report
        .segments
        .iter()
        .map(|seg| SegmentPlan {
            number: seg.number,
            start: model
                .segment_starts
                .iter()
                .find(|(n, _)| *n == seg.number)
                .and_then(|(_, at)| *at),
            length: seg.duration.unwrap_or(0.0),
            ranges: ranges.of(Some(seg.number)).iter().map(secs).collect(),
            clock_read: model.clock_read.contains(&seg.number),
            pauses: model
                .pauses
                .iter()
                .filter(|(n, _, _)| *n == seg.number)
                .map(|&(_, at, by)| (at, by))
                .collect(),
        })
        .collect();
    let plans = plan_segments(
        &files,
        &pipeline.keep,
        pipeline.redact.mode,
        !ranges.is_empty(),
    )?;
    let total_bytes = plans
        .iter()
        .filter(|p| p.output.is_some())
        .filter_map(|p| p.bytes)
        .sum();
    Ok((
        RecordingPlan {
            report,
            start: start.map(|s| s.strftime("%Y-%m-%d %H:%M:%S").to_string()),
            start_from,
            marks: lines,
            placements,
            ranges: ranges
                .pairs()
                .map(|(_, r)| (r.start.as_secs_f64(), r.end.as_secs_f64()))
                .collect(),
            segments,
            clock: clocks.label.clone(),
            pause_note,
            files: plans,
            total_bytes,
        },
        ranges,
    ))
}

/// Writes every planned output of `dir`, in plaintext, into `out` (created;
/// it must be empty or absent). Refuses an `out` inside the interim folder
/// or the destination. Returns the files written.
pub fn preview(
    pipeline: &Pipeline,
    dir: &Path,
    start: Option<DateTime>,
    out: &Path,
) -> Result<Vec<PathBuf>, PreviewError> {
    let refuse = |why: &str| PreviewError::Refused {
        dir: out.to_path_buf(),
        why: why.to_string(),
    };
    let out_abs = absolute(out);
    if out_abs.starts_with(absolute(&pipeline.source.dir)) || out_abs.starts_with(absolute(dir)) {
        return Err(refuse(
            "it lies inside the interim folder, where plaintext could be taken for a recording; choose a folder elsewhere",
        ));
    }
    if let Some(Destination::Dir { path, .. }) = &pipeline.destination
        && out_abs.starts_with(absolute(path))
    {
        return Err(refuse(
            "it lies inside the destination, which must only receive sealed files",
        ));
    }
    if out.exists()
        && fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(refuse("it is not empty; give a new or empty folder"));
    }
    let (plan, _) = plan_recording(pipeline, dir, start)?;
    let write_err = |path: &Path, source| PreviewError::Write {
        path: path.to_path_buf(),
        source,
    };
    fs::create_dir_all(out).map_err(|e| write_err(out, e))?;
    let mut written = Vec::new();
    for p in plan.files.iter().filter(|p| p.output.is_some()) {
        let rel = p.path.strip_prefix(dir).unwrap_or(&p.path);
        let name = rel.with_file_name(p.output.as_ref().expect("filtered"));
        let target = out.join(name);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| write_err(parent, e))?;
        }
        let f = fs::File::create(&target).map_err(|e| write_err(&target, e))?;
        let mut w = BufWriter::new(f);
        produce(p, pipeline.redact.mode, &p.marked, &mut w)?;
        w.flush().map_err(|e| write_err(&target, e))?;
        written.push(target);
    }
    Ok(written)
}

/// `p` with its longest existing ancestor canonicalized and the rest
/// appended, so that a folder that does not exist yet compares with one
/// that does: canonical forms differ from merely absolute ones (links; on
/// Windows the `\\?\` prefix canonicalize adds).
fn absolute(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(found) = fs::canonicalize(existing) {
            return rest.iter().rev().fold(found, |acc, name| acc.join(name));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return abs,
        }
    }
}
