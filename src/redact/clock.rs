//! The two clocks behind a wall-clock mark: the PC's, in which Zoom names
//! the recording folder (`2026-11-20 14.03.11 …`), and the one Zoom burns
//! into the picture, which shows the time in the host's Zoom-profile time
//! zone (`[redact] clock`: "local", a fixed offset like "+01:00", or an
//! IANA zone like "Europe/Oslo"). Both are turned into instants (UTC), so
//! the zones may differ and a summer-time change during the meeting moves
//! nothing.
//!
//! Invariants: zone data comes from the operating system, or from the
//! copy bundled into the program where the system has none (Windows), via
//! `jiff`; a time of day the clock showed twice (the hour repeated when
//! summer time ends) gives both instants, and choosing between them is
//! the caller's job, never a guess made here.

use crate::config::ClockSetting;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{Timestamp, civil};

/// The PC's zone (for folder names) and the burned-in clock's zone.
#[derive(Debug, Clone)]
pub struct Clocks {
    folder: TimeZone,
    clock: TimeZone,
    /// Which clock zone is used, in words, for `plan`.
    pub label: String,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

impl Clocks {
    /// The clocks for a setting, with the PC's zone for folder names.
    pub fn new(setting: &ClockSetting) -> Result<Clocks, String> {
        let local = TimeZone::system();
        let clock = match setting {
            ClockSetting::Local => local.clone(),
            ClockSetting::Fixed(s) => TimeZone::fixed(
                Offset::from_seconds(*s).map_err(|e| format!("offset {setting}: {e}"))?,
            ),
            ClockSetting::Zone(z) => TimeZone::get(z).map_err(|e| format!("{z}: {e}"))?,
        };
        let label = match setting {
            ClockSetting::Local => match local.iana_name() {
                Some(n) => format!("local ({n})"),
                None => "local".into(),
            },
            other => other.to_string(),
        };
        Ok(Clocks {
            folder: local,
            clock,
            label,
        })
    }

    /// Clocks with given zones (for tests, and a PC whose zone is known).
    pub fn with_zones(folder: TimeZone, clock: TimeZone, label: &str) -> Clocks {
        Clocks {
            folder,
            clock,
            label: label.into(),
        }
    }

    /// Both clocks in UTC: what the tests of pure offsets use.
    pub fn utc() -> Clocks {
        Clocks::with_zones(TimeZone::UTC, TimeZone::UTC, "UTC")
    }

    /// The instant (ms since 1970, UTC) of a folder-name time (PC's local
    /// time; in the repeated hour, the earlier).
    pub fn folder_instant(&self, t: civil::DateTime) -> i64 {
        instants(&self.folder, t)
            .first()
            .copied()
            .unwrap_or_default()
    }

    /// What the burned-in clock showed at `instant` (ms since 1970, UTC).
    pub fn clock_reading(&self, instant: i64) -> Option<civil::DateTime> {
        Some(
            self.clock
                .to_datetime(Timestamp::from_millisecond(instant).ok()?),
        )
    }

    /// The instant at which the burned-in clock showed `dt` (its calendar):
    /// of the two in a repeated hour, the one nearer `near`; the earlier
    /// without one.
    pub fn clock_instant_near(&self, dt: civil::DateTime, near: Option<i64>) -> Option<i64> {
        let all = instants(&self.clock, dt);
        match near {
            Some(n) => all.into_iter().min_by_key(|i| (i - n).abs()),
            None => all.first().copied(),
        }
    }

    /// Every instant within `(lo, hi]` at which the burned-in clock showed
    /// `ms_of_day` (ms since midnight, may exceed a day by the minute a
    /// range rounds out to), in order.
    pub fn clock_instants(&self, ms_of_day: u64, lo: i64, hi: i64) -> Vec<i64> {
        let Ok(mid) = Timestamp::from_millisecond(lo.saturating_add(hi) / 2) else {
            return Vec::new();
        };
        let date = self.clock.to_datetime(mid).date();
        let extra_days = (ms_of_day / DAY_MS as u64) as i64;
        let ms = (ms_of_day % DAY_MS as u64) as i64;
        let mut out = Vec::new();
        for shift in -2..=2i64 {
            let Ok(d) = date.checked_add(jiff::Span::new().days(shift + extra_days)) else {
                continue;
            };
            let Ok(t) = civil::Time::new(
                (ms / 3_600_000) as i8,
                (ms / 60_000 % 60) as i8,
                (ms / 1000 % 60) as i8,
                (ms % 1000 * 1_000_000) as i32,
            ) else {
                continue;
            };
            for i in instants(&self.clock, d.to_datetime(t)) {
                if i > lo && i <= hi && !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out.sort();
        out
    }
}

/// The instants of a civil time in a zone: one, or two in a repeated hour
/// (a time skipped by a jump forward maps as the clock would have read).
fn instants(tz: &TimeZone, dt: civil::DateTime) -> Vec<i64> {
    let amb = tz.to_ambiguous_timestamp(dt);
    match amb.offset() {
        AmbiguousOffset::Fold { .. } => [amb.earlier(), amb.later()]
            .into_iter()
            .filter_map(Result::ok)
            .map(Timestamp::as_millisecond)
            .collect(),
        _ => amb
            .compatible()
            .map(|t| vec![t.as_millisecond()])
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repeated_hour_gives_two_instants() {
        let oslo = TimeZone::get("Europe/Oslo").unwrap();
        let c = Clocks::with_zones(oslo.clone(), oslo, "Europe/Oslo");
        // Summer time ended 2026-10-25 at 03:00 CEST → 02:00 CET.
        let start = c.folder_instant(
            "2026-10-25T02:10:00"
                .parse::<jiff::civil::DateTime>()
                .unwrap(),
        );
        let at = 2 * 3_600_000 + 30 * 60_000;
        let both = c.clock_instants(at, start - DAY_MS / 2, start + DAY_MS / 2);
        assert_eq!(both.len(), 2);
        assert_eq!(both[1] - both[0], 3_600_000);
    }

    #[test]
    fn the_clock_reads_in_its_own_zone() {
        let c = Clocks::with_zones(
            TimeZone::UTC,
            TimeZone::fixed(Offset::from_seconds(3600).unwrap()),
            "+01:00",
        );
        let at = c.folder_instant(
            "2026-11-27T09:01:12.5"
                .parse::<jiff::civil::DateTime>()
                .unwrap(),
        );
        assert_eq!(
            c.clock_reading(at),
            Some(
                "2026-11-27T10:01:12.5"
                    .parse::<jiff::civil::DateTime>()
                    .unwrap()
            )
        );
    }
}
