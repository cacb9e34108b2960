//! Marks taken live (`recpipe mark`), waiting in the per-user state dir
//! until a recording claims them.
//!
//! The state file holds one mark per line, in local wall-clock time:
//! `2026-11-23T14:32:10 2026-11-23T14:33:00 note` for a closed mark, `-` in
//! place of the end for one still open. [`record`] adds to it: with no times
//! it opens a mark at *now*, or closes the open one at *now*; with a start
//! only it opens one there; with both it adds a closed one. [`claim`] moves
//! the closed marks that fall inside a recording's time span into lines of
//! that recording's marks file, leaving the rest pending.
//!
//! Invariants: fast and non-interactive (it runs from a hotkey). Every
//! change is a read-modify-write under an exclusive lock on a lock file
//! beside the state file (`pending-marks.lock`), written with
//! [`crate::fsutil::write_atomic`] (a unique temporary name, fsync, rename,
//! fsync of the folder): calls made at the same moment follow one another,
//! so every call that returns `Ok` has its mark on disk, and a crash leaves
//! the old or the new state, never half of one. Temporaries a crash left
//! are removed under the lock. Notes stay on one line; errors never quote
//! them.

use super::clock::Clocks;
use super::marks::{Point, parse_point};
use crate::fsutil::{TEMP_PREFIX, write_atomic};
use jiff::SignedDuration;
use jiff::civil::DateTime;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the state file writes a time (`strftime`): `2026-11-23T14:32:10`,
/// local.
pub const STAMP: &str = "%Y-%m-%dT%H:%M:%S";

/// A state-file time as text.
pub fn stamp(t: DateTime) -> String {
    t.strftime(STAMP).to_string()
}

/// A state-file time read back.
pub fn parse_stamp(text: &str) -> Option<DateTime> {
    DateTime::strptime(STAMP, text).ok()
}

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// One pending mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub from: DateTime,
    /// `None` while the mark is open.
    pub to: Option<DateTime>,
    pub note: Option<String>,
}

/// What [`record`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Opened(DateTime),
    Closed(DateTime, DateTime),
}

#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}, line {line}: not a pending mark; fix or delete the line", path.display())]
    Corrupt { path: PathBuf, line: usize },
    #[error("'{0}' is not a time of day (write HH:MM or HH:MM:SS)")]
    BadTime(String),
    #[error("the mark would end before or where it starts")]
    Backwards,
    #[error("the time given is in the future")]
    Future,
}

/// Reads the pending marks (none when the file does not exist).
pub fn load(path: &Path) -> Result<Vec<Pending>, PendingError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(PendingError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let corrupt = || PendingError::Corrupt {
            path: path.to_path_buf(),
            line: i + 1,
        };
        let mut parts = line.splitn(3, ' ');
        let from = parts.next().and_then(parse_stamp);
        let to = match parts.next() {
            Some("-") => Some(None),
            Some(t) => parse_stamp(t).map(Some),
            None => None,
        };
        let (Some(from), Some(to)) = (from, to) else {
            return Err(corrupt());
        };
        let note = parts.next().map(str::trim).filter(|n| !n.is_empty());
        out.push(Pending {
            from,
            to,
            note: note.map(str::to_string),
        });
    }
    Ok(out)
}

fn save(path: &Path, marks: &[Pending]) -> Result<(), PendingError> {
    let io = |source| PendingError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut text = String::new();
    for m in marks {
        text.push_str(&stamp(m.from));
        text.push(' ');
        text.push_str(&m.to.map_or("-".to_string(), stamp));
        if let Some(n) = &m.note {
            text.push(' ');
            text.push_str(n);
        }
        text.push('\n');
    }
    write_atomic(path, text.as_bytes()).map_err(io)
}

/// Held while one call reads, changes and writes the state file at `path`;
/// released on drop.
struct Locked {
    _file: File,
}

/// Waits for the exclusive lock on the lock file beside `path`, then
/// removes what interrupted saves of `path` left (no one else writes it
/// while the lock is held).
fn lock(path: &Path) -> Result<Locked, PendingError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let lock_path = path.with_extension("lock");
    let io = |source| PendingError::Io {
        path: lock_path.clone(),
        source,
    };
    fs::create_dir_all(dir).map_err(io)?;
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&lock_path).map_err(io)?;
    file.lock().map_err(io)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let ours = format!("{TEMP_PREFIX}{name}.");
    // What recpipe 0.1 used: one shared name for every call.
    let legacy = path.with_extension("tmp");
    for item in fs::read_dir(dir).map_err(io)?.flatten() {
        let stale = item.file_name().to_string_lossy().starts_with(&ours) || item.path() == legacy;
        if stale && item.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(item.path());
        }
    }
    Ok(Locked { _file: file })
}

/// A time of day `HH:MM[:SS]` on the day of `now` (the day before when
/// that would be in the future, so a mark just after midnight works).
fn at(now: DateTime, text: &str, is_end: bool) -> Result<DateTime, PendingError> {
    let bad = || PendingError::BadTime(text.to_string());
    let Ok(Point::Wall { ms, minute }) = parse_point(text) else {
        return Err(bad());
    };
    let ms = if is_end && minute { ms + 60_000 } else { ms };
    let t = now
        .date()
        .to_datetime(jiff::civil::Time::midnight())
        .checked_add(Duration::from_millis(ms))
        .map_err(|_| bad())?;
    let soon = now
        .checked_add(SignedDuration::from_secs(60))
        .unwrap_or(now);
    Ok(if t > soon {
        t.checked_sub(DAY).map_err(|_| bad())?
    } else {
        t
    })
}

/// Records a mark in the state file at `path`; see the module docs.
pub fn record(
    path: &Path,
    now: DateTime,
    from: Option<&str>,
    to: Option<&str>,
    note: Option<&str>,
) -> Result<Recorded, PendingError> {
    let _locked = lock(path)?;
    let mut marks = load(path)?;
    let note = note
        .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|n| !n.is_empty());
    let done = match (from, to) {
        (None, _) => match marks.iter_mut().rev().find(|m| m.to.is_none()) {
            Some(open) => {
                if now <= open.from {
                    return Err(PendingError::Backwards);
                }
                open.to = Some(now);
                if open.note.is_none() {
                    open.note = note;
                }
                Recorded::Closed(open.from, now)
            }
            None => {
                marks.push(Pending {
                    from: now,
                    to: None,
                    note,
                });
                Recorded::Opened(now)
            }
        },
        (Some(f), None) => {
            let from = at(now, f, false)?;
            if from > now {
                return Err(PendingError::Future);
            }
            marks.push(Pending {
                from,
                to: None,
                note,
            });
            Recorded::Opened(from)
        }
        (Some(f), Some(t)) => {
            let from = at(now, f, false)?;
            let mut to = at(now, t, true)?;
            if let Ok(next_day) = to.checked_add(DAY)
                && to < from
                && next_day.duration_since(from) < SignedDuration::from_hours(12)
            {
                to = next_day;
            }
            if to <= from {
                return Err(PendingError::Backwards);
            }
            marks.push(Pending {
                from,
                to: Some(to),
                note,
            });
            Recorded::Closed(from, to)
        }
    };
    save(path, &marks)?;
    Ok(done)
}

/// Takes the closed marks that overlap a recording starting at `start` and
/// lasting `duration` out of the state file, and returns them as lines for
/// that recording's marks file: `HH:MM:SS.mmm - HH:MM:SS.mmm note`, the PC
/// times as Zoom's burned-in clock showed them (`clocks`), so they are
/// placed like every wall-clock mark — through the clock read from the
/// video where there is one, so a pause moves them too. Open marks and
/// marks of other times stay pending.
pub fn claim(
    path: &Path,
    start: DateTime,
    duration: Duration,
    clocks: &Clocks,
) -> Result<Vec<String>, PendingError> {
    take(path, start, duration, clocks, true)
}

/// The lines [`claim`] would return, without taking them out of the state
/// file: the pipeline writes them into the recording's marks file first,
/// durably, and only then claims them, so a crash in between repeats a
/// mark (harmless: ranges merge) instead of losing one.
pub fn matching(
    path: &Path,
    start: DateTime,
    duration: Duration,
    clocks: &Clocks,
) -> Result<Vec<String>, PendingError> {
    take(path, start, duration, clocks, false)
}

fn take(
    path: &Path,
    start: DateTime,
    duration: Duration,
    clocks: &Clocks,
    remove: bool,
) -> Result<Vec<String>, PendingError> {
    let _locked = if remove { Some(lock(path)?) } else { None };
    let marks = load(path)?;
    let end = start.checked_add(duration).unwrap_or(DateTime::MAX);
    let (mine, rest): (Vec<Pending>, Vec<Pending>) = marks
        .into_iter()
        .partition(|m| m.to.is_some_and(|to| to > start && m.from < end));
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let on_clock = |t: DateTime| {
        let shown = clocks.clock_reading(clocks.folder_instant(t)).unwrap_or(t);
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            shown.hour(),
            shown.minute(),
            shown.second(),
            shown.millisecond()
        )
    };
    let lines = mine
        .iter()
        .map(|m| {
            let to = m.to.unwrap_or(m.from);
            match &m.note {
                Some(n) => format!("{} - {}   {n}", on_clock(m.from), on_clock(to)),
                None => format!("{} - {}", on_clock(m.from), on_clock(to)),
            }
        })
        .collect();
    if remove {
        save(path, &rest)?;
    }
    Ok(lines)
}
