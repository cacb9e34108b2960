//! `recpipe check [--json] PATH...`: the completeness report for every
//! recording at the given paths, and the exit status it implies.
//!
//! Folder and file names come from whoever made them: every line printed
//! for a person goes through [`escape_controls`], so a name holding escape
//! sequences or newlines cannot move the cursor, recolour the terminal or
//! forge report lines. (`--json` escapes them by JSON's own rules.)

use super::{fail, pipeline_file::config_error};
use recpipe::clock::{self, ClockError, ClockMap};
use recpipe::config::Pipeline;
use recpipe::discover::{
    CheckOptions, FileReport, RecordingReport, Role, Verdict, check_recording, find_recordings,
};
use recpipe::duration::HumanDuration;
use recpipe::exit::ExitStatus;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_SETTLE: Duration = Duration::from_secs(30);
const DEFAULT_MARKS: &str = "recpipe-marks.txt";

pub fn run(
    paths: &[PathBuf],
    json: bool,
    pipeline: Option<&Path>,
    settle: Option<HumanDuration>,
) -> ExitStatus {
    let (mut settle_from_file, mut marks) = (DEFAULT_SETTLE, DEFAULT_MARKS.to_string());
    if let Some(file) = pipeline {
        match Pipeline::load(file) {
            Ok(p) => {
                settle_from_file = p.source.settle.0;
                marks = p.redact.marks;
            }
            Err(e) => return config_error(&e),
        }
    }
    let opts = CheckOptions::new(settle.map_or(settle_from_file, |s| s.0), &marks);

    let mut reports = Vec::new();
    for path in paths {
        let dirs = match find_recordings(path) {
            Ok(d) => d,
            Err(e) => {
                return fail(
                    escape_controls(&e.to_string()),
                    "Give a recording folder or a folder that holds recordings.",
                    ExitStatus::Usage,
                );
            }
        };
        if dirs.is_empty() {
            return fail(
                escape_controls(&format!("{}: no Zoom recording here", path.display())),
                "A recording folder is named like '2026-11-20 14.03.11 Interview' and holds Zoom's video*.mp4 or audio*.m4a files; give such a folder or the folder that holds them.",
                ExitStatus::Usage,
            );
        }
        for dir in dirs {
            match check_recording(&dir, &opts) {
                Ok(r) => reports.push(r),
                Err(e) => {
                    return fail(
                        escape_controls(&e.to_string()),
                        "Check that the folder is readable.",
                        ExitStatus::Error,
                    );
                }
            }
        }
    }

    let status = reports.iter().fold(ExitStatus::Success, |s, r| {
        s.worst(match r.verdict {
            Verdict::Complete => ExitStatus::Success,
            Verdict::InProgress => ExitStatus::Waiting,
            Verdict::Broken => ExitStatus::Broken,
        })
    });
    let clocks: Vec<Vec<Option<Clock>>> = reports
        .iter()
        .map(|r| r.files.iter().map(|f| read_clock(r, f)).collect())
        .collect();
    if json {
        let mut recordings = match serde_json::to_value(&reports) {
            Ok(v) => v,
            Err(e) => return fail(e, "", ExitStatus::Error),
        };
        add_clocks(&mut recordings, &clocks);
        let doc = serde_json::json!({
            "recordings": recordings,
            "exit": status.code(),
        });
        match serde_json::to_string_pretty(&doc) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(e, "", ExitStatus::Error),
        }
    } else {
        for (r, clocks) in reports.iter().zip(&clocks) {
            print_report(r, clocks);
        }
        print_summary(&reports);
    }
    status
}

/// A video file's clock as read, or why it could not be.
type Clock = Result<Option<ClockMap>, ClockError>;

/// The clock of a video file whose media checked out; `None` for every
/// other file.
fn read_clock(r: &RecordingReport, f: &FileReport) -> Option<Clock> {
    (f.role == Role::Video && f.duration.is_some()).then(|| clock::read(&r.dir.join(&f.path)))
}

/// `"clock"` on each video file of the JSON report: the map's summary, or
/// null where none was found; `"clock_problem"` where it could not be read.
fn add_clocks(recordings: &mut serde_json::Value, clocks: &[Vec<Option<Clock>>]) {
    let Some(recordings) = recordings.as_array_mut() else {
        return;
    };
    for (r, clocks) in recordings.iter_mut().zip(clocks) {
        let Some(files) = r.get_mut("files").and_then(|f| f.as_array_mut()) else {
            continue;
        };
        for (f, clock) in files.iter_mut().zip(clocks) {
            let (Some(f), Some(clock)) = (f.as_object_mut(), clock) else {
                continue;
            };
            let value = match clock {
                Ok(Some(map)) => serde_json::to_value(map.report()).unwrap_or_default(),
                Ok(None) => serde_json::Value::Null,
                Err(e) => {
                    f.insert("clock_problem".into(), e.to_string().into());
                    serde_json::Value::Null
                }
            };
            f.insert("clock".into(), value);
        }
    }
}

/// The clock in words: "clock from 2026-11-20 14:03:11.000; paused 45 s
/// at 0:50".
fn describe_clock(clock: &Clock) -> String {
    match clock {
        Ok(None) => "no clock found in the picture".into(),
        Err(e) => format!("clock not read: {e}"),
        Ok(Some(map)) => {
            let report = map.report();
            let mut text = format!("clock from {}", report.first.replacen('T', " ", 1));
            for j in &report.jumps {
                let what = if j.by >= 0.0 {
                    "paused"
                } else {
                    "clock set back"
                };
                text.push_str(&format!(
                    "; {what} {} at {}",
                    span_words(j.by.abs()),
                    clock_time(j.at)
                ));
            }
            text
        }
    }
}

/// "45 s", "2 min 5 s", "1 h 0 min".
pub(super) fn span_words(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s / 60 % 60),
    }
}

fn print_report(r: &RecordingReport, clocks: &[Option<Clock>]) {
    say(&format!("{}: {}", r.dir.display(), r.verdict));
    if r.name.is_none() {
        println!("  (the folder name is not in Zoom's form, so its start time is unknown)");
    }
    let width = r
        .files
        .iter()
        .map(|f| f.path.to_string_lossy().chars().count())
        .max()
        .unwrap_or(0);
    for (i, f) in r.files.iter().enumerate() {
        let path = f.path.to_string_lossy();
        let pad = width - path.chars().count();
        let mut line = format!(
            "  {path}{:pad$}  {:<28} {:>10}",
            "",
            f.role.describe(),
            human_size(f.size)
        );
        if let Some(d) = f.duration {
            line.push_str(&format!("  {}", clock_time(d)));
        }
        if !f.codecs.is_empty() {
            line.push_str(&format!("  {}", f.codecs.join(", ")));
        }
        if let (true, Some(n)) = (r.segments.len() > 1, f.segment) {
            line.push_str(&format!("  segment {n}"));
        }
        if f.silent {
            line.push_str("  silent throughout");
        }
        say(line.trim_end());
        if let Some(Some(c)) = clocks.get(i) {
            say(&format!("    {}", describe_clock(c)));
        }
    }
    if r.segments.len() > 1 {
        say(&format!(
            "  {} segments (the recording was stopped and restarted):",
            r.segments.len()
        ));
        for seg in &r.segments {
            let start = seg.start.map_or_else(
                || "start not in the folder name (for wall-clock marks, a line `segment N starts HH:MM:SS` in the marks file gives it)".into(),
                |t| format!("started {:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
            );
            let length = seg
                .duration
                .map(|d| format!(", {}", clock_time(d)))
                .unwrap_or_default();
            say(&format!("    segment {}: {start}{length}", seg.number));
        }
    }
    for reason in &r.reasons {
        let tag = match reason.verdict {
            Verdict::Broken => "broken",
            _ => "waits",
        };
        say(&format!("  {tag}: {reason}"));
    }
}

fn print_summary(reports: &[RecordingReport]) {
    let count = |v| reports.iter().filter(|r| r.verdict == v).count();
    println!(
        "{} recording(s): {} complete, {} in progress, {} broken.",
        reports.len(),
        count(Verdict::Complete),
        count(Verdict::InProgress),
        count(Verdict::Broken)
    );
    if count(Verdict::Broken) > 0 {
        println!("Broken recordings are never processed automatically; look at each reason above.");
    }
}

/// Prints one report line with its control characters escaped.
fn say(line: &str) {
    println!("{}", escape_controls(line));
}

/// `text` with every control character (C0, DEL, C1: newlines, tabs and the
/// ESC that starts terminal sequences among them) written as `\u{..}`
/// (`\n`, `\r`, `\t` for those three), so it prints as one inert line.
pub(super) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `h:mm:ss` or `m:ss`.
pub(super) fn clock_time(seconds: f64) -> String {
    let s = seconds.round() as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape_controls("2026-11-20 14.03.11 Møte\u{1b}[2J\nfake: complete\t\u{7f}\u{9b}x"),
            "2026-11-20 14.03.11 Møte\\u{1b}[2J\\nfake: complete\\t\\u{7f}\\u{9b}x"
        );
        assert_eq!(escape_controls("plain – ünicode"), "plain – ünicode");
    }
}
