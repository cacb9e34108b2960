//! The marks file: one range to redact per line, as a researcher writes it
//! during or after the meeting.
//!
//! ```text
//! 14:32:10 - 14:33:00   name of a third party   # wall-clock time
//! +00:12:30 - +00:13:05                         # offset from the start
//! 14:40 - 14:41                                 # seconds may be left out
//! 2 +00:01:10 - +00:01:20                       # offset in segment 2
//! segment 2 starts 10:00:40                     # the clock at its start
//! ```
//!
//! A time is a wall-clock time of day `HH:MM[:SS[.fff]]` (as on Zoom's
//! burned-in clock) or an offset from the start of the recording
//! `+H:MM:SS[.fff]` or `+MM:SS[.fff]`. A wall-clock time without seconds
//! covers its whole minute, so `14:40 - 14:41` is 14:40:00 to 14:42:00:
//! ranges are rounded outward, never inward. Anything after the second time
//! is a note; `#` starts a comment; blank lines are ignored.
//!
//! As people write them on Windows: `.` may separate hours, minutes and
//! seconds (`14.04.05`), a time may follow `kl.`, and `-`, `–`, `—` or `−`
//! may stand between the times; the bytes may be UTF-8 (with or without a
//! BOM), UTF-16 with a BOM or Windows-1252, with any line end
//! ([`decode`], [`lines`]). A note that holds another time is an error, so
//! a second range on a line is never taken for a note.
//!
//! A recording stopped and restarted has several segments (see
//! `discover::segments`). Marks are resolved per segment, never across: an
//! offset mark then names its segment (`2 +00:01:10 - +00:01:20`); a
//! wall-clock mark is placed through the clock read from each segment's
//! video where there is one ([`ClockPiece`], so a pause moves it), else
//! in the segments whose wall-clock start is
//! known (the first from the folder name, a later one from a line
//! `segment N starts HH:MM:SS`), and one that might fall in a segment
//! whose start is unknown is [`MarkProblem::Unplaceable`]: the recording
//! waits for a person, never for a guess.
//!
//! Invariants: errors name the line and never quote a note (notes may name
//! people); a token that is not a time is quoted only as far as it looks
//! like a time, and at most [`QUOTE_MAX`] characters of it; a file with any
//! bad line resolves to nothing.

use std::fmt;
use std::time::Duration;

mod place;
mod text;
mod wall;

pub use place::{PlacedMark, SegmentRanges, SegmentSpan};
pub use text::{MAX_BYTES, TextError, decode, lines};
pub use wall::ClockPiece;

const DAY: u64 = 24 * 3600;

/// The most characters of a bad token an error quotes.
pub const QUOTE_MAX: usize = 16;

/// What `plan` says when wall-clock marks are used in a segment whose
/// clock could not be read from its video: a pause cannot be seen in the
/// files there, so it shifts every wall-clock mark after it.
pub const PAUSE_NOTE: &str = "no clock was found in the video of every segment, and where there is none a paused recording cannot be detected: the file goes on while Zoom's clock jumps, so a wall-clock mark after a pause lands early by the pause's length; if the recording was paused, write the marks after it as +offsets";

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
    /// The segment the line names (`2 +00:01:10 - …`), if it names one.
    pub segment: Option<u32>,
    pub from: Point,
    pub to: Point,
    pub note: Option<String>,
}

impl Mark {
    /// Whether either end is a wall-clock time.
    pub fn uses_wall_clock(&self) -> bool {
        matches!(self.from, Point::Wall { .. }) || matches!(self.to, Point::Wall { .. })
    }
}

/// A line `segment N starts HH:MM:SS`: the burned-in clock when segment N
/// began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentStart {
    pub line: usize,
    pub segment: u32,
    /// Milliseconds since midnight on the burned-in clock.
    pub ms: u64,
}

/// A parsed marks file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marks {
    pub marks: Vec<Mark>,
    pub starts: Vec<SegmentStart>,
}

/// What is wrong with a line of the marks file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("marks file, line {line}: {why}")]
pub struct MarksError {
    pub line: usize,
    pub why: MarkProblem,
}

impl MarksError {
    /// Whether the line is well formed but cannot be placed without a fact
    /// only a person can add (which segment, when a segment started).
    pub fn is_unplaceable(&self) -> bool {
        matches!(self.why, MarkProblem::Unplaceable(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkProblem {
    /// The line does not start with a time.
    NoStart,
    /// A time-like token that is not a valid time (quoted cut short).
    BadTime(String),
    /// A time with text run into it (`14:04:17KariNordmann`): the time
    /// part, never the text.
    RunsIn(String),
    /// No `-` and second time after the first.
    NoEnd,
    /// The note after the range holds another time (a second range on
    /// the same line would never be applied).
    TimeInNote,
    /// The range ends before, or where, it starts.
    Backwards,
    /// A wall-clock time but the recording's start time is unknown.
    NoStartTime,
    /// The whole range lies before the recording started.
    BeforeStart,
    /// The whole range lies after the recording ended.
    AfterEnd,
    /// The range lies between two segments, where nothing was recorded.
    BetweenSegments,
    /// The line names a segment the recording does not have.
    NoSuchSegment { segment: u32, count: u32 },
    /// A `segment N starts` line is given twice, or for segment 1.
    BadSegmentStart,
    /// A `segment N starts` line disagrees with the clock read from the
    /// segment's video, which showed `read` (ms since midnight) there.
    StartDisagrees { segment: u32, read: u64 },
    /// The range lies wholly in a pause of the recording, as the clock
    /// read from the video shows: nothing was recorded then.
    InPause,
    /// It cannot be placed without guessing.
    Unplaceable(Unplaceable),
}

/// What a person must add so a mark can be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unplaceable {
    /// An offset mark in a recording of several segments names none.
    WhichSegment { count: u32 },
    /// The mark may lie in a segment whose wall-clock start is unknown.
    SegmentStart { segment: u32 },
    /// The clock showed the time twice (summer time ended) and both lie in
    /// the recording.
    Repeated,
    /// The mark may lie in a stretch of the segment whose burned-in clock
    /// could not be read.
    ClockUnknown { segment: u32 },
}

impl fmt::Display for MarkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FORMS: &str =
            "write e.g. '14:32:10 - 14:33:00', '14:40 - 14:41' or '+00:12:30 - +00:13:05'";
        match self {
            MarkProblem::NoStart => write!(f, "it does not start with a time ({FORMS})"),
            MarkProblem::BadTime(t) => write!(f, "'{t}' is not a time ({FORMS})"),
            MarkProblem::RunsIn(t) => write!(
                f,
                "the time '{t}' runs straight into the text after it; put a space between a time and a note"
            ),
            MarkProblem::NoEnd => write!(f, "it has a start but no '- end' time ({FORMS})"),
            MarkProblem::TimeInNote => write!(
                f,
                "the text after the range holds another time; write one range per line (a note must not contain a time)"
            ),
            MarkProblem::Backwards => write!(f, "the range ends before or where it starts"),
            MarkProblem::NoStartTime => write!(
                f,
                "it uses wall-clock times but the recording's start time is unknown; give it with --start or use +offsets"
            ),
            MarkProblem::BeforeStart => write!(f, "the range lies before the recording started"),
            MarkProblem::AfterEnd => write!(f, "the range lies after the recording ended"),
            MarkProblem::BetweenSegments => write!(
                f,
                "the range lies between two segments, where the recording was stopped and nothing was recorded"
            ),
            MarkProblem::NoSuchSegment { segment, count } => write!(
                f,
                "it names segment {segment}, but the recording has {count} segment(s)"
            ),
            MarkProblem::BadSegmentStart => write!(
                f,
                "a 'segment N starts HH:MM:SS' line is given twice for one segment, or for segment 1 (whose start is the folder's)"
            ),
            MarkProblem::StartDisagrees { segment, read } => write!(
                f,
                "it says where segment {segment} starts, but the clock burned into that segment's video shows {} at its beginning; correct the line or remove it (recpipe reads the clock from the video)",
                wall_text(*read)
            ),
            MarkProblem::InPause => write!(
                f,
                "the range lies wholly in a pause of the recording (Zoom's clock, read from the video, jumps over it): nothing was recorded then; check the times"
            ),
            MarkProblem::Unplaceable(u) => match u {
                Unplaceable::WhichSegment { count } => write!(
                    f,
                    "the recording has {count} segments (it was stopped and restarted) and this +offset names none; put the segment's number first, e.g. '2 +00:01:10 - +00:01:20'"
                ),
                Unplaceable::SegmentStart { segment } => write!(
                    f,
                    "the range may lie in segment {segment}, whose wall-clock start is unknown; add a line 'segment {segment} starts HH:MM:SS' with the time Zoom's clock shows at its beginning, or write this mark as '{segment} +H:MM:SS - +H:MM:SS'"
                ),
                Unplaceable::Repeated => write!(
                    f,
                    "the clock showed this time twice (summer time ended during the recording); write the mark as +offsets"
                ),
                Unplaceable::ClockUnknown { segment } => write!(
                    f,
                    "the range may lie in a stretch of segment {segment} where Zoom's clock could not be read from the video, so where it lies is unknown; a person must find the passage and write this mark as '{segment} +H:MM:SS - +H:MM:SS'"
                ),
            },
        }
    }
}

/// A time of day (ms since midnight) as `HH:MM:SS.s`.
fn wall_text(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000 / 100
    )
}

/// A token quoted in an error: at most [`QUOTE_MAX`] characters.
fn quote(t: &str) -> String {
    let mut out: String = t.chars().take(QUOTE_MAX).collect();
    if out.len() < t.len() {
        out.push('…');
    }
    out
}

/// Parses a marks file. Every line must be blank, a comment, a segment
/// start or a range.
pub fn parse(text: &str) -> Result<Marks, MarksError> {
    let mut marks = Vec::new();
    let mut starts: Vec<SegmentStart> = Vec::new();
    for (i, raw) in lines(text).enumerate() {
        let line = i + 1;
        let body = raw.split('#').next().unwrap_or("").trim();
        if body.is_empty() {
            continue;
        }
        let err = |why| MarksError { line, why };
        if let Some(start) = segment_start(body, line)? {
            if start.segment < 2 || starts.iter().any(|s| s.segment == start.segment) {
                return Err(err(MarkProblem::BadSegmentStart));
            }
            starts.push(start);
            continue;
        }
        let (segment, body) = leading_segment(body);
        let (from_text, rest) = time_token(strip_kl(body));
        if from_text.is_empty() {
            return Err(err(MarkProblem::NoStart));
        }
        let from = parse_point(from_text).map_err(err)?;
        if rest.starts_with(|c: char| !c.is_whitespace() && !is_dash(c)) {
            return Err(err(MarkProblem::RunsIn(quote(from_text))));
        }
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix(is_dash) else {
            return Err(err(MarkProblem::NoEnd));
        };
        let (to_text, rest) = time_token(strip_kl(rest.trim_start()));
        if to_text.is_empty() {
            return Err(err(MarkProblem::NoEnd));
        }
        let to = parse_point(to_text).map_err(err)?;
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return Err(err(MarkProblem::RunsIn(quote(to_text))));
        }
        let note = rest.trim();
        // A second range written on the same line would otherwise become
        // part of the note and never be applied.
        if holds_a_time(note) {
            return Err(err(MarkProblem::TimeInNote));
        }
        if let (Point::Offset(a), Point::Offset(b)) = (from, to)
            && b <= a
        {
            return Err(err(MarkProblem::Backwards));
        }
        marks.push(Mark {
            line,
            segment,
            from,
            to,
            note: (!note.is_empty()).then(|| note.to_string()),
        });
    }
    Ok(Marks { marks, starts })
}

/// The dashes accepted between two times: hyphen-minus, en dash, em dash
/// and minus sign (what editors turn a typed `-` into).
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2212}')
}

/// `s` without a leading `kl.` or `kl` ("klokka", as Norwegians write a
/// time of day).
fn strip_kl(s: &str) -> &str {
    let lower = s.get(..3).map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("kl.") => s[3..].trim_start(),
        Some(p) if p.starts_with("kl") && s[2..].starts_with(char::is_whitespace) => {
            s[2..].trim_start()
        }
        _ => s,
    }
}

/// Whether a note holds something that reads as a time (`14:05`,
/// `14.05`, `+00:12`): digits, a `:` or `.`, two digits.
fn holds_a_time(note: &str) -> bool {
    let b = note.as_bytes();
    (1..b.len().saturating_sub(2)).any(|i| {
        (b[i] == b':' || b[i] == b'.')
            && b[i - 1].is_ascii_digit()
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && b.get(i + 3).is_none_or(|c| !c.is_ascii_digit())
    })
}

/// `segment N starts HH:MM[:SS]`, if the line is one.
fn segment_start(body: &str, line: usize) -> Result<Option<SegmentStart>, MarksError> {
    let err = |why| MarksError { line, why };
    let mut words = body.split_whitespace();
    if !words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("segment"))
    {
        return Ok(None);
    }
    let n = words.next().and_then(|w| w.parse::<u32>().ok());
    let starts = words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("starts"));
    let t = match words.next() {
        Some(w) if w.eq_ignore_ascii_case("kl.") || w.eq_ignore_ascii_case("kl") => words.next(),
        t => t,
    };
    let (Some(segment), true, Some(t)) = (n, starts, t) else {
        return Err(err(MarkProblem::BadTime(
            "segment N starts HH:MM:SS".into(),
        )));
    };
    let (time_text, rest) = time_token(t);
    if !rest.is_empty() {
        return Err(err(MarkProblem::RunsIn(quote(time_text))));
    }
    match parse_point(time_text).map_err(err)? {
        Point::Wall { ms, .. } => Ok(Some(SegmentStart { line, segment, ms })),
        Point::Offset(_) => Err(err(MarkProblem::BadTime(quote(t)))),
    }
}

/// A segment number before the first time (`2 +00:01:10 - …`).
fn leading_segment(body: &str) -> (Option<u32>, &str) {
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits)
        && body[digits..].starts_with(char::is_whitespace)
        && let Ok(n) = body[..digits].parse::<u32>()
    {
        let rest = body[digits..].trim_start();
        if rest.starts_with(|c: char| c.is_ascii_digit() || c == '+') {
            return (Some(n), rest);
        }
    }
    (None, body)
}

/// Splits off a leading token made of time characters.
fn time_token(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == ':' || *c == '.' || (*c == '+' && *i == 0)))
        .map_or(s.len(), |(i, _)| i);
    s.split_at(end)
}

pub(crate) fn parse_point(text: &str) -> Result<Point, MarkProblem> {
    let bad = || MarkProblem::BadTime(quote(text));
    // `14.04.05` and `14.04` (Norwegian notation): with no `:`, a dot
    // separates hours, minutes and seconds; a fourth part is a fraction.
    let colons;
    let text = if !text.contains(':') && text.contains('.') {
        let parts: Vec<&str> = text.split('.').collect();
        colons = match parts.as_slice() {
            [h, m] => format!("{h}:{m}"),
            [h, m, s] => format!("{h}:{m}:{s}"),
            [h, m, s, f] => format!("{h}:{m}:{s}.{f}"),
            _ => return Err(bad()),
        };
        colons.as_str()
    } else {
        text
    };
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
