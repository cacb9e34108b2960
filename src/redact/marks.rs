//! The marks file: one range to redact per line, as a researcher writes it
//! during or after the meeting.
//!
//! ```text
//! 14:32:10 - 14:33:00   name of a third party   # wall-clock time
//! +00:12:30 - +00:13:05                         # offset from the start
//! 14:40 - 14:41                                 # seconds may be left out
//! ```
//!
//! A time is a wall-clock time of day `HH:MM[:SS[.fff]]` (as on Zoom's
//! burned-in clock) or an offset from the start of the recording
//! `+H:MM:SS[.fff]` or `+MM:SS[.fff]`. A wall-clock time without seconds
//! covers its whole minute, so `14:40 - 14:41` is 14:40:00 to 14:42:00:
//! ranges are rounded outward, never inward. Anything after the second time
//! is a note; `#` starts a comment; blank lines are ignored.
//!
//! Invariants: errors name the line and never quote a note (notes may name
//! people); a file with any bad line resolves to nothing.

use super::{Range, merge};
use std::fmt;
use std::time::Duration;
use time::PrimitiveDateTime;

const DAY: u64 = 24 * 3600;

/// One end of a mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Time of day in milliseconds since midnight; `minute` when the
    /// seconds were left out.
    Wall { ms: u64, minute: bool },
    /// Offset from the start of the recording.
    Offset(Duration),
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// 1-based line number in the marks file.
    pub line: usize,
    pub from: Point,
    pub to: Point,
    pub note: Option<String>,
}

/// A parsed marks file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marks {
    pub marks: Vec<Mark>,
}

/// What is wrong with a line of the marks file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("marks file, line {line}: {why}")]
pub struct MarksError {
    pub line: usize,
    pub why: MarkProblem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkProblem {
    /// The line does not start with a time.
    NoStart,
    /// A time-like token that is not a valid time.
    BadTime(String),
    /// No `-` and second time after the first.
    NoEnd,
    /// The range ends before, or where, it starts.
    Backwards,
    /// A wall-clock time but the recording's start time is unknown.
    NoStartTime,
    /// The whole range lies before the recording started.
    BeforeStart,
    /// The whole range lies after the recording ended.
    AfterEnd,
}

impl fmt::Display for MarkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FORMS: &str =
            "write e.g. '14:32:10 - 14:33:00', '14:40 - 14:41' or '+00:12:30 - +00:13:05'";
        match self {
            MarkProblem::NoStart => write!(f, "it does not start with a time ({FORMS})"),
            MarkProblem::BadTime(t) => write!(f, "'{t}' is not a time ({FORMS})"),
            MarkProblem::NoEnd => write!(f, "it has a start but no '- end' time ({FORMS})"),
            MarkProblem::Backwards => write!(f, "the range ends before or where it starts"),
            MarkProblem::NoStartTime => write!(
                f,
                "it uses wall-clock times but the recording's start time is unknown; give it with --start or use +offsets"
            ),
            MarkProblem::BeforeStart => write!(f, "the range lies before the recording started"),
            MarkProblem::AfterEnd => write!(f, "the range lies after the recording ended"),
        }
    }
}

/// Parses a marks file. Every line must be blank, a comment or a range.
pub fn parse(text: &str) -> Result<Marks, MarksError> {
    let mut marks = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let body = raw.split('#').next().unwrap_or("").trim();
        if body.is_empty() {
            continue;
        }
        let err = |why| MarksError { line, why };
        let (from_text, rest) = time_token(body);
        if from_text.is_empty() {
            return Err(err(MarkProblem::NoStart));
        }
        let from = parse_point(from_text).map_err(err)?;
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('-') else {
            return Err(err(MarkProblem::NoEnd));
        };
        let (to_text, rest) = time_token(rest.trim_start());
        if to_text.is_empty() {
            return Err(err(MarkProblem::NoEnd));
        }
        let to = parse_point(to_text).map_err(err)?;
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return Err(err(MarkProblem::BadTime(format!(
                "{to_text}{}",
                time_like_prefix(rest)
            ))));
        }
        let note = rest.trim();
        if let (Point::Offset(a), Point::Offset(b)) = (from, to)
            && b <= a
        {
            return Err(err(MarkProblem::Backwards));
        }
        marks.push(Mark {
            line,
            from,
            to,
            note: (!note.is_empty()).then(|| note.to_string()),
        });
    }
    Ok(Marks { marks })
}

/// Splits off a leading token made of time characters.
fn time_token(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == ':' || *c == '.' || (*c == '+' && *i == 0)))
        .map_or(s.len(), |(i, _)| i);
    s.split_at(end)
}

/// The time-like characters at the start of `s`, for quoting in an error
/// (never the note).
fn time_like_prefix(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == ':' || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    &s[..end.min(12)]
}

pub(crate) fn parse_point(text: &str) -> Result<Point, MarkProblem> {
    let bad = || MarkProblem::BadTime(text.to_string());
    let (offset, body) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (hms, frac_ms) = match body.split_once('.') {
        Some((hms, frac)) => {
            if frac.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let ms: u64 = frac.parse().map_err(|_| bad())?;
            (hms, ms * 10u64.pow(3 - frac.len() as u32))
        }
        None => (body, 0),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let nums: Vec<u64> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    if offset {
        let (h, m, s) = match nums.as_slice() {
            [m, s] => (0, *m, *s),
            [h, m, s] => (*h, *m, *s),
            _ => return Err(bad()),
        };
        if m >= 60 || s >= 60 || (nums.len() == 2 && parts[0].len() != 2) {
            return Err(bad());
        }
        Ok(Point::Offset(Duration::from_millis(
            ((h * 60 + m) * 60 + s) * 1000 + frac_ms,
        )))
    } else {
        let (h, m, s, minute) = match nums.as_slice() {
            [h, m] if frac_ms == 0 && !body.contains('.') => (*h, *m, 0, true),
            [h, m, s] => (*h, *m, *s, false),
            _ => return Err(bad()),
        };
        if h >= 24
            || m >= 60
            || s >= 60
            || parts[1].len() != 2
            || parts.get(2).is_some_and(|p| p.len() != 2)
        {
            return Err(bad());
        }
        Ok(Point::Wall {
            ms: ((h * 60 + m) * 60 + s) * 1000 + frac_ms,
            minute,
        })
    }
}

impl Marks {
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Whether any mark uses wall-clock time (and so needs a start time).
    pub fn uses_wall_clock(&self) -> bool {
        self.marks
            .iter()
            .any(|m| matches!(m.from, Point::Wall { .. }) || matches!(m.to, Point::Wall { .. }))
    }

    /// Turns the marks into ranges of a recording that started at `start`
    /// (local wall-clock time, from the folder name or `--start`) and lasts
    /// `duration`: each widened by `pad` on both sides, clipped to the
    /// recording, sorted and merged. A range wholly outside the recording,
    /// or backwards, is an error naming its line; one that runs past an end
    /// is clipped there.
    pub fn resolve(
        &self,
        start: Option<PrimitiveDateTime>,
        duration: Duration,
        pad: Duration,
    ) -> Result<Vec<Range>, MarksError> {
        let mut ranges = Vec::with_capacity(self.marks.len());
        for mark in &self.marks {
            let err = |why| MarksError {
                line: mark.line,
                why,
            };
            let from = offset_of(mark.from, false, start, duration).map_err(err)?;
            let to = offset_of(mark.to, true, start, duration).map_err(err)?;
            let (from, to) = match (from, to) {
                (Ok(f), Ok(t)) => (f, t),
                (Err(side), _) | (_, Err(side)) => return Err(err(side)),
            };
            if to <= from {
                return Err(err(MarkProblem::Backwards));
            }
            if from >= duration {
                return Err(err(MarkProblem::AfterEnd));
            }
            let range = Range::new(
                from.saturating_sub(pad),
                to.saturating_add(pad).min(duration),
            );
            ranges.push(range);
        }
        Ok(merge(ranges))
    }
}

/// The offset of a point; `Ok(Err(..))` when it falls outside the
/// recording in a way that depends on the other end.
fn offset_of(
    point: Point,
    is_end: bool,
    start: Option<PrimitiveDateTime>,
    duration: Duration,
) -> Result<Result<Duration, MarkProblem>, MarkProblem> {
    match point {
        Point::Offset(d) => Ok(Ok(d)),
        Point::Wall { ms, minute } => {
            let start = start.ok_or(MarkProblem::NoStartTime)?;
            let ms = if is_end && minute { ms + 60_000 } else { ms };
            let t = start.time();
            let start_ms = (t.hour() as u64 * 3600 + t.minute() as u64 * 60 + t.second() as u64)
                * 1000
                + t.millisecond() as u64;
            let day_ms = DAY * 1000;
            if ms >= start_ms {
                Ok(Ok(Duration::from_millis(ms - start_ms)))
            } else if Duration::from_millis(ms + day_ms - start_ms)
                <= duration + Duration::from_secs(60)
            {
                // The recording ran past midnight.
                Ok(Ok(Duration::from_millis(ms + day_ms - start_ms)))
            } else if is_end {
                Ok(Err(MarkProblem::BeforeStart))
            } else {
                // A start before the recording began is clipped to 0 when
                // the end lies inside it.
                Ok(Ok(Duration::ZERO))
            }
        }
    }
}
