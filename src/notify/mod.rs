//! Telling the researcher when a recording needs them: after each pass of
//! `run` or `watch`, [`Herald::after_pass`] looks at how every recording
//! ended and sends one desktop notification (through a [`Notifier`] the CLI
//! supplies) when a recording enters a state that needs a person — it
//! needs a person, it waits for a login, or it failed [`FAILING_AFTER`]
//! passes in a row — and, for red and yellow data, a reminder once a day
//! while it stays there.
//!
//! Invariants:
//! - A notification names a recording by its start date and time only
//!   ([`label`]), never by topic, participant names, file names or notes:
//!   its reason and action are fixed sentences chosen by the kind of
//!   trouble ([`Need`]), never the text of an error.
//! - No repeats: what was said about each recording lives in `notify.json`
//!   in the state folder, written crash-safely
//!   ([`crate::fsutil::write_atomic`]); a state is announced once, and
//!   again only as the daily reminder.
//! - Notifications never decide anything: a missing notification service,
//!   or a memory that cannot be read or written, is reported (once, for
//!   the service) and changes no outcome and no exit status.

pub mod desktop;
mod memory;
pub mod toast;

pub use memory::{Memory, Seen};

use crate::pipeline::{Outcome, Problem, RunSummary};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file in the state folder that remembers what was said.
pub const MEMORY_FILE: &str = "notify.json";

/// Failed passes in a row after which a recording "fails repeatedly".
pub const FAILING_AFTER: u32 = 3;

/// How often a red or yellow recording that still needs the person is
/// brought up again.
pub const REMINDER: Duration = Duration::from_secs(24 * 3600);

/// The application's identity on Windows (AppUserModelID): toasts show
/// under "recpipe".
pub const APP_ID: &str = "recpipe";

/// One notification: a title naming the recording by its start, the
/// reason and the action, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub reason: String,
    pub action: String,
    /// What clicking it opens, where the platform allows: the interim
    /// folder (whose name holds no topic), or nothing.
    pub open: Option<PathBuf>,
}

impl Notice {
    /// The body: the reason, then the action.
    pub fn body(&self) -> String {
        format!("{}\n{}", self.reason, self.action)
    }
}

/// Why a notification could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No notification service here (a server, a session without a
    /// desktop, no session bus).
    #[error("no desktop notification service: {0}")]
    NoService(String),
    #[error("the notification service refused a notification: {0}")]
    Refused(String),
    #[error("{}: {source}", path.display())]
    Memory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Shows notifications: the desktop's service ([`desktop::Desktop`]), or a
/// test's.
pub trait Notifier {
    fn show(&self, notice: &Notice) -> Result<(), NotifyError>;
}

/// The kinds of trouble that need the person, each with its own reason and
/// action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// An upload waits for an interactive login (TSD's one-time code).
    Login,
    /// The marks file has a line that cannot be placed.
    Marks,
    /// Zoom's files are broken or unfinished (a stalled conversion).
    Files,
    /// Files recpipe does not know were left in the recording's folder.
    Unknown,
    /// A file changed after outputs were delivered.
    Changed,
    /// The destination already holds a file of an output's name.
    Occupied,
    /// The pipeline file has no destination.
    NoDestination,
    /// Anything else that needs a person.
    Other,
    /// Failed [`FAILING_AFTER`] passes in a row.
    Failing,
}

impl Need {
    /// The need of an outcome that is not a failure (failures count).
    fn of(outcome: &Outcome) -> Option<Need> {
        match outcome {
            Outcome::Waiting(Problem::Login(_)) => Some(Need::Login),
            Outcome::Broken(p) => Some(match p {
                Problem::Marks(_) => Need::Marks,
                Problem::Broken(_) | Problem::Unreadable(_) => Need::Files,
                Problem::Left(_) => Need::Unknown,
                Problem::ChangedAfterDelivery(_) => Need::Changed,
                Problem::Occupied(_) => Need::Occupied,
                Problem::NoDestination => Need::NoDestination,
                _ => Need::Other,
            }),
            _ => None,
        }
    }

    /// Its reason and action, one line each, naming nothing.
    pub fn lines(self) -> (&'static str, &'static str) {
        match self {
            Need::Login => (
                "It is sealed and ready, and the upload needs your TSD login (one-time code).",
                "Open recpipe watch and log in to TSD",
            ),
            Need::Marks => (
                "Nothing of it was processed.",
                "Open the recording's folder: the marks file has a line that cannot be placed",
            ),
            Need::Files => (
                "Zoom's files of it are broken or unfinished (a conversion may have stalled).",
                "Open the recording's folder and run recpipe check on it; it says what to do",
            ),
            Need::Unknown => (
                "It was delivered, but files recpipe does not know are still in its folder.",
                "Open the recording's folder and move those files where they belong",
            ),
            Need::Changed => (
                "A file of it changed after some of it was delivered; nothing was deleted.",
                "Open the recording's folder and put the file back as it was, then run recpipe again",
            ),
            Need::Occupied => (
                "The destination already holds a file of the same name; nothing is replaced.",
                "Run recpipe status to see which one, and move it aside at the destination",
            ),
            Need::NoDestination => (
                "The pipeline file says nowhere to send it.",
                "Add a [destination] to the pipeline file (recpipe init writes one)",
            ),
            Need::Other => (
                "recpipe cannot finish it without you; nothing of it was deleted.",
                "Run recpipe status to see why",
            ),
            Need::Failing => (
                "Its processing failed several times in a row; recpipe keeps trying.",
                "Run recpipe status to see the error",
            ),
        }
    }

    fn headline(self) -> &'static str {
        match self {
            Need::Login => "waits for your login",
            Need::Failing => "keeps failing",
            _ => "needs you",
        }
    }

    /// Whether clicking opens the interim folder (the trouble is there).
    fn in_the_folder(self) -> bool {
        matches!(
            self,
            Need::Marks | Need::Files | Need::Unknown | Need::Changed
        )
    }
}

/// A recording's start as people read it ("20 Nov 2026 14:03") from its
/// stamp (`YYYYMMDD-HHMMSS`), or "of unknown start".
pub fn label(stamp: &str) -> String {
    match jiff::civil::DateTime::strptime("%Y%m%d-%H%M%S", stamp) {
        Ok(t) => t.strftime("%-d %b %Y %H:%M").to_string(),
        Err(_) => "of unknown start".to_string(),
    }
}

/// When a recording started (its stamp, local time), as Unix seconds.
pub fn stamp_time(stamp: &str) -> Option<i64> {
    let civil = jiff::civil::DateTime::strptime("%Y%m%d-%H%M%S", stamp).ok()?;
    let zoned = civil.to_zoned_datetime(jiff::tz::TimeZone::system()).ok()?;
    Some(zoned.timestamp().as_second())
}

/// A wait as people read it: "3 d 4 h", "5 h 12 min", "40 min".
pub fn waited(d: Duration) -> String {
    let m = d.as_secs() / 60;
    let (days, hours, mins) = (m / 1440, (m / 60) % 24, m % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else {
        format!("{mins} min")
    }
}

/// What a pass needs to decide what to say.
pub struct Pass<'a> {
    pub summary: &'a RunSummary,
    /// Now, as Unix seconds (the CLI's clock; tests move it).
    pub now: i64,
    /// Red or yellow data: reminders once a day, and [`Overdue`] reports.
    pub protected: bool,
    pub max_wait: Duration,
    /// The interim folder, which clicking a notification opens.
    pub interim: &'a Path,
    /// Whether the pass looked at every recording of the interim folder
    /// (a run given other paths did not): recordings it did not see are
    /// then forgotten.
    pub complete: bool,
}

/// A red or yellow recording that has waited on the PC longer than
/// `[source] max_wait`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Overdue {
    pub id: Option<String>,
    pub start: String,
    /// Since when its interim copy has been on the PC (RFC 3339).
    pub on_pc_since: String,
    pub waited_secs: u64,
}

/// What a pass did about notifications, for the CLI to log.
#[derive(Debug, Default)]
pub struct Report {
    /// Notifications shown.
    pub shown: usize,
    /// The service is missing, said the first time only (the memory keeps
    /// that it was said, until one is shown again).
    pub no_service: Option<NotifyError>,
    /// Another failure to show one.
    pub refused: Vec<NotifyError>,
    /// The memory could not be saved (the next pass may repeat one).
    pub not_saved: Option<NotifyError>,
    pub overdue: Vec<Overdue>,
}

/// Decides and sends the notifications of each pass, remembering what was
/// said in the state folder (written only when it changed: a watch looks
/// every minute).
pub struct Herald {
    path: PathBuf,
    memory: Memory,
}

impl Herald {
    /// Opens the memory of the state folder at `root`; one that cannot be
    /// read starts empty (at worst a notification is repeated).
    pub fn open(root: &Path) -> Herald {
        let path = root.join(MEMORY_FILE);
        let memory = Memory::read(&path).unwrap_or_default();
        Herald { path, memory }
    }

    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// Looks at a pass's outcomes; shows what is new or due through
    /// `notifier` (none: notifications are off, the memory is still kept
    /// for `status` and the overdue reports) and saves the memory.
    pub fn after_pass(&mut self, pass: &Pass<'_>, notifier: Option<&dyn Notifier>) -> Report {
        let mut report = Report::default();
        let before = self.memory.clone();
        let mut seen_now = std::collections::HashSet::new();
        for r in &pass.summary.recordings {
            let key = match &r.id {
                Some(id) => id.clone(),
                None => format!("start-{}", r.stamp),
            };
            if matches!(r.outcome, Outcome::Done | Outcome::AlreadyDone) {
                self.memory.recordings.remove(&key);
                if let Some(id) = &r.id {
                    // The same recording, seen before it had an id.
                    self.memory.recordings.remove(&format!("start-{}", r.stamp));
                    seen_now.insert(id.clone());
                }
                continue;
            }
            seen_now.insert(key.clone());
            let entry = self.memory.recordings.entry(key).or_insert_with(|| Seen {
                start: r.stamp.clone(),
                since: stamp_time(&r.stamp).map_or(pass.now, |t| t.min(pass.now)),
                need: None,
                failures: 0,
                notified: None,
            });
            let need = if matches!(r.outcome, Outcome::Failed(_)) {
                entry.failures += 1;
                (entry.failures >= FAILING_AFTER).then_some(Need::Failing)
            } else {
                entry.failures = 0;
                Need::of(&r.outcome)
            };
            let waited = Duration::from_secs((pass.now - entry.since).max(0) as u64);
            if pass.protected && waited > pass.max_wait {
                report.overdue.push(Overdue {
                    id: r.id.clone(),
                    start: r.stamp.clone(),
                    on_pc_since: rfc3339(entry.since),
                    waited_secs: waited.as_secs(),
                });
            }
            let Some(need) = need else {
                entry.need = None;
                entry.notified = None;
                continue;
            };
            let new = entry.need != Some(need);
            entry.need = Some(need);
            if new {
                entry.notified = None;
            }
            let due = match entry.notified {
                None => true,
                Some(t) => pass.protected && pass.now - t >= REMINDER.as_secs() as i64,
            };
            let Some(notifier) = notifier.filter(|_| due) else {
                continue;
            };
            let notice = notice(
                need,
                &r.stamp,
                entry.notified.is_some().then_some(waited),
                pass.interim,
            );
            match notifier.show(&notice) {
                Ok(()) => {
                    entry.notified = Some(pass.now);
                    report.shown += 1;
                    self.memory.no_service_said = false;
                }
                Err(e @ NotifyError::NoService(_)) => {
                    if !self.memory.no_service_said {
                        self.memory.no_service_said = true;
                        report.no_service = Some(e);
                    }
                }
                Err(e) => report.refused.push(e),
            }
        }
        if pass.complete {
            self.memory.recordings.retain(|k, _| seen_now.contains(k));
        }
        if self.memory != before
            && let Err(e) = self.memory.write(&self.path)
        {
            report.not_saved = Some(e);
        }
        report
    }
}

/// The notification for `need` of the recording started at `stamp`; a
/// reminder (`waited` known) says how long it has waited.
pub fn notice(need: Need, stamp: &str, waited_for: Option<Duration>, interim: &Path) -> Notice {
    let (reason, action) = need.lines();
    let title = match waited_for {
        None => format!(
            "recpipe: the recording of {} {}",
            label(stamp),
            need.headline()
        ),
        Some(d) => format!(
            "recpipe: the recording of {} still {} ({} on this PC)",
            label(stamp),
            need.headline(),
            waited(d)
        ),
    };
    Notice {
        title,
        reason: reason.to_string(),
        action: action.to_string(),
        open: need.in_the_folder().then(|| interim.to_path_buf()),
    }
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
