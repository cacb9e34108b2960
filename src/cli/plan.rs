//! `recpipe plan`, `recpipe preview` and `recpipe mark`: look before
//! anything leaves the PC (in words, and as a timeline picture with
//! `plan --timeline FILE` and the `timeline.svg` preview writes), and take
//! marks while the meeting runs.

use super::check::{clock_time, span_words};
use super::{fail, pipeline_file::config_error, setup::parse_start};
use clap::Args as ClapArgs;
use recpipe::config::Pipeline;
use recpipe::exit::ExitStatus;
use recpipe::journal::StateDir;
use recpipe::pipeline::preview::{PreviewError, RecordingPlan, plan_recording, preview};
use recpipe::redact::pending::{self, Recorded};
use std::path::{Path, PathBuf};

#[derive(ClapArgs, Debug)]
pub struct PlanArgs {
    #[arg(long, short = 'p', value_name = "FILE")]
    pipeline: PathBuf,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// The recording's start time for wall-clock marks: "YYYY-MM-DD HH:MM:SS".
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// Also draw the plan as a timeline picture (SVG, opens in any browser).
    #[arg(long, value_name = "FILE")]
    timeline: Option<PathBuf>,
    /// The recording folder.
    recording: PathBuf,
}

#[derive(ClapArgs, Debug)]
pub struct PreviewArgs {
    #[arg(long, short = 'p', value_name = "FILE")]
    pipeline: PathBuf,
    /// A new or empty folder for the plaintext outputs (red data!).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// The recording folder.
    recording: PathBuf,
}

#[derive(ClapArgs, Debug)]
pub struct MarkArgs {
    /// A note kept with the mark (it goes only into the sealed manifest).
    #[arg(long)]
    note: Option<String>,
    /// Start (HH:MM or HH:MM:SS today); without it: now, or the end of the open mark.
    from: Option<String>,
    /// End (HH:MM or HH:MM:SS).
    to: Option<String>,
    /// The state folder (default: the per-user one, or $RECPIPE_STATE_DIR).
    #[arg(long, value_name = "DIR", env = "RECPIPE_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

fn load(
    file: &Path,
    start: Option<&str>,
) -> Result<(Pipeline, Option<jiff::civil::DateTime>), ExitStatus> {
    let p = Pipeline::load(file).map_err(|e| config_error(&e))?;
    let start = start.map(parse_start).transpose().map_err(|()| {
        fail(
            "--start must look like \"2026-11-20 14:03:11\"",
            "",
            ExitStatus::Usage,
        )
    })?;
    Ok((p, start))
}

fn preview_error(e: PreviewError) -> ExitStatus {
    match e {
        PreviewError::Refused { .. } => fail(e, "", ExitStatus::Usage),
        PreviewError::Marks(_) => fail(
            e,
            "Fix the marks file; nothing was written.",
            ExitStatus::Broken,
        ),
        PreviewError::Plan(ref p) => {
            let status = if matches!(p, recpipe::redact::plan::PlanError::Read { .. }) {
                ExitStatus::Error
            } else {
                ExitStatus::Broken
            };
            fail(e, "Nothing was written.", status)
        }
        other => fail(other, "", ExitStatus::Error),
    }
}

pub fn plan(args: &PlanArgs) -> ExitStatus {
    let (pipeline, start) = match load(&args.pipeline, args.start.as_deref()) {
        Ok(v) => v,
        Err(s) => return s,
    };
    let (plan, _) = match plan_recording(&pipeline, &args.recording, start) {
        Ok(p) => p,
        Err(e) => return preview_error(e),
    };
    if let Some(file) = &args.timeline
        && let Err(status) = write_timeline(&plan, file)
    {
        return status;
    }
    if args.json {
        return match serde_json::to_string_pretty(&plan) {
            Ok(t) => {
                println!("{t}");
                ExitStatus::Success
            }
            Err(e) => fail(e, "", ExitStatus::Error),
        };
    }
    println!("{}: {}", args.recording.display(), plan.report.verdict);
    match &plan.start {
        Some(s) => println!(
            "  start: {s} (from {}); wall-clock marks are offsets from it",
            plan.start_from
        ),
        None => println!("  start: unknown (give --start for wall-clock marks)"),
    }
    for seg in plan.segments.iter().filter(|s| s.clock_read) {
        let pauses: Vec<String> = seg
            .pauses
            .iter()
            .map(|(at, by)| {
                if *by >= 0.0 {
                    format!("paused {} at {}", span_words(*by), clock_time(*at))
                } else {
                    format!("clock set back {} at {}", span_words(-by), clock_time(*at))
                }
            })
            .collect();
        println!(
            "  segment {}: Zoom's clock read from its video{}",
            seg.number,
            if pauses.is_empty() {
                ", no pause".to_string()
            } else {
                format!("; {}", pauses.join(", "))
            }
        );
    }
    for (m, p) in plan.marks.iter().zip(&plan.placements) {
        println!("  mark {m}");
        let how = if p.by_clock {
            "where the clock read from the video put it"
        } else {
            "from the segment's start"
        };
        for (seg, a, b) in &p.ranges {
            println!(
                "      in segment {seg} at {} – {} ({how})",
                clock_time(*a),
                clock_time(*b)
            );
        }
    }
    if let Some(note) = plan.pause_note {
        println!("  note: {note}");
    }
    for (a, b) in &plan.ranges {
        println!("  range to redact (padded, merged): {a:.2} s – {b:.2} s");
    }
    for f in &plan.files {
        let rel = f.path.strip_prefix(&args.recording).unwrap_or(&f.path);
        let fate = match &f.fate {
            recpipe::redact::plan::Fate::Video => {
                "kept as MP4 (remuxed, cut at keyframes)".to_string()
            }
            recpipe::redact::plan::Fate::Audio { format } => {
                format!("converted to {}", format!("{format:?}").to_uppercase())
            }
            recpipe::redact::plan::Fate::Copy => "copied".to_string(),
            recpipe::redact::plan::Fate::Drop { why } => format!("dropped ({why})"),
            recpipe::redact::plan::Fate::Left { why } => format!("left in place ({why})"),
        };
        println!("  {}: {fate}", rel.display());
        for r in &f.removed {
            println!(
                "      removes {:.2} s – {:.2} s",
                r.start.as_secs_f64(),
                r.end.as_secs_f64()
            );
        }
        if let (Some(d), Some(b)) = (f.duration, f.bytes) {
            println!("      {:.1} s, {} bytes before sealing", d.as_secs_f64(), b);
        }
    }
    println!("  total before sealing: {} bytes", plan.total_bytes);
    ExitStatus::Success
}

pub fn preview_cmd(args: &PreviewArgs) -> ExitStatus {
    let (pipeline, start) = match load(&args.pipeline, args.start.as_deref()) {
        Ok(v) => v,
        Err(s) => return s,
    };
    match preview(&pipeline, &args.recording, start, &args.out) {
        Ok(files) => {
            for f in &files {
                println!("{}", f.display());
            }
            let picture = args.out.join("timeline.svg");
            let drawn = plan_recording(&pipeline, &args.recording, start)
                .map_err(preview_error)
                .and_then(|(plan, _)| write_timeline(&plan, &picture));
            if let Err(status) = drawn {
                return status;
            }
            println!("{}", picture.display());
            eprintln!(
                "recpipe: {} holds unsealed interview data (red data). Listen, then delete it.",
                args.out.display()
            );
            ExitStatus::Success
        }
        Err(e) => preview_error(e),
    }
}

pub fn mark(args: &MarkArgs) -> ExitStatus {
    let root = match &args.state_dir {
        Some(d) => d.clone(),
        None => match StateDir::default_location() {
            Ok(d) => d,
            Err(e) => return fail(e, "", ExitStatus::Error),
        },
    };
    let state = match StateDir::open(&root) {
        Ok(s) => s,
        Err(e) => return fail(e, "", ExitStatus::Error),
    };
    let now = match jiff::tz::TimeZone::try_system() {
        Ok(zone) => zone.to_datetime(jiff::Timestamp::now()),
        Err(_) => {
            return fail(
                "cannot tell the local time zone, so the mark's time would be wrong",
                "Give the times explicitly: recpipe mark 14:32 14:33",
                ExitStatus::Error,
            );
        }
    };
    let show = |t: jiff::civil::DateTime| t.strftime("%H:%M:%S").to_string();
    match pending::record(
        &state.pending_marks(),
        now,
        args.from.as_deref(),
        args.to.as_deref(),
        args.note.as_deref(),
    ) {
        Ok(Recorded::Opened(t)) => {
            println!(
                "mark opened at {}; run `recpipe mark` again to close it",
                show(t)
            );
            ExitStatus::Success
        }
        Ok(Recorded::Closed(a, b)) => {
            println!("marked {} – {}", show(a), show(b));
            ExitStatus::Success
        }
        Err(e) => fail(e, "", ExitStatus::Usage),
    }
}

/// Draws `plan` as an SVG timeline into `file` (see `recpipe::timeline`):
/// each segment on its own clock, with the rows of its own outputs.
fn write_timeline(plan: &RecordingPlan, file: &Path) -> Result<(), ExitStatus> {
    let segments = plan
        .segments
        .iter()
        .map(|seg| {
            Ok(recpipe::timeline::Segment {
                number: seg.number,
                start: seg.start,
                length: seg.length,
                marked: seg.ranges.clone(),
                pauses: seg.pauses.clone(),
                rows: recpipe::timeline::rows(&plan.files, seg.number)?,
            })
        })
        .collect::<Result<Vec<_>, recpipe::timeline::TimelineError>>()
        .map_err(|e| fail(e, "The timeline was not written.", ExitStatus::Broken))?;
    let tl = recpipe::timeline::Timeline { segments };
    std::fs::write(file, recpipe::timeline::render_svg(&tl)).map_err(|e| {
        fail(
            format!("{}: cannot write the timeline: {e}", file.display()),
            "",
            ExitStatus::Error,
        )
    })
}
