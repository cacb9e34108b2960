//! The clock map of one video file: for each stretch of media time in
//! which the clock ran with the media (a span), the clock's offset from
//! media time; between two spans, a jump (the recording was paused).
//!
//! Invariants: spans are in media order and do not overlap; each span's
//! offset is what every reading in it agreed on, to the frame where a
//! change of the seconds digit was seen; media time outside every span is
//! unknown — [`ClockMap::media_at`] and [`ClockMap::clock_at`] say so
//! rather than extrapolate past a stretch nobody read.

use jiff::civil::DateTime;

/// A stretch of media time over which the clock ran with the media.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// Media time (seconds) of the first frame read in the span.
    pub from: f64,
    /// Media time (seconds) of the end of the last frame read in it.
    pub to: f64,
    /// Clock minus media time, in seconds since 1970-01-01 of the clock's
    /// calendar (no time zone).
    pub offset: f64,
}

impl Span {
    /// What the clock showed at the span's first frame (its calendar, no
    /// time zone).
    pub fn clock_at_from(&self) -> DateTime {
        to_civil(self.from + self.offset)
    }
}

/// A pause: the clock jumped at a frame.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Jump {
    /// Media time of the first frame after the jump.
    pub at: f64,
    /// How far the clock jumped, in seconds.
    pub by: f64,
}

/// What `check` shows of a clock map: the clock at media time 0 and the
/// jumps, times in seconds rounded to the millisecond.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClockReport {
    /// `YYYY-MM-DDTHH:MM:SS.fff`, the clock's calendar (no time zone).
    pub first: String,
    pub jumps: Vec<Jump>,
}

/// Where a clock time falls in the media.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// At this media time (seconds).
    Media(f64),
    /// While the recording was paused: between the end of the span before
    /// (media time) and the jump.
    Paused { at: f64 },
    /// In a stretch whose clock is unknown (before, after or between what
    /// could be read).
    Unknown,
}

/// Media time ↔ clock time for one video file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockMap {
    /// In media order; at least one.
    pub spans: Vec<Span>,
    /// The video's length (seconds).
    pub duration: f64,
}

impl ClockMap {
    /// The clock at media time 0, extrapolated from the first span.
    pub fn first(&self) -> DateTime {
        to_civil(self.spans[0].offset)
    }

    /// The summary `check` reports.
    pub fn report(&self) -> ClockReport {
        let ms = |v: f64| (v * 1000.0).round() / 1000.0;
        let first = self.first();
        ClockReport {
            first: format!(
                "{}.{:03}",
                first.strftime("%Y-%m-%dT%H:%M:%S"),
                first.subsec_nanosecond() / 1_000_000
            ),
            jumps: self
                .jumps()
                .into_iter()
                .map(|j| Jump {
                    at: ms(j.at),
                    by: ms(j.by),
                })
                .collect(),
        }
    }

    /// Every jump between consecutive spans.
    pub fn jumps(&self) -> Vec<Jump> {
        self.spans
            .windows(2)
            .map(|w| Jump {
                at: w[1].from,
                by: w[1].offset - w[0].offset,
            })
            .collect()
    }

    /// The span a media time belongs to, if any was read there.
    fn span_at(&self, media: f64) -> Option<&Span> {
        self.spans.iter().find(|s| media >= s.from && media < s.to)
    }

    /// The clock shown at a media time, if known.
    pub fn clock_at(&self, media: f64) -> Option<DateTime> {
        self.span_at(media).map(|s| to_civil(media + s.offset))
    }

    /// Where the clock showed `clock` (its calendar, no time zone).
    pub fn media_at(&self, clock: DateTime) -> Placement {
        let c = from_civil(clock);
        for (i, s) in self.spans.iter().enumerate() {
            let media = c - s.offset;
            if media >= s.from && media < s.to {
                return Placement::Media(media);
            }
            if let Some(next) = self.spans.get(i + 1) {
                // The clock's time during the pause: after this span's end
                // and before the next span's start, on the clock.
                let (end, start) = (s.to + s.offset, next.from + next.offset);
                if c >= end && c < start && next.from - s.to <= 1.0 {
                    return Placement::Paused { at: next.from };
                }
            }
        }
        Placement::Unknown
    }
}

/// Seconds since 1970 of the clock's calendar as a date and time, to the
/// millisecond.
pub fn to_civil(seconds: f64) -> DateTime {
    let millis = (seconds * 1000.0).round() as i64;
    jiff::tz::Offset::UTC.to_datetime(
        jiff::Timestamp::from_millisecond(millis).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    )
}

fn from_civil(t: DateTime) -> f64 {
    jiff::tz::Offset::UTC
        .to_timestamp(t)
        .map(|z| z.as_millisecond() as f64 / 1000.0)
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn map() -> ClockMap {
        let base = from_civil(date(2026, 11, 20).at(9, 30, 0, 0));
        ClockMap {
            spans: vec![
                Span {
                    from: 0.0,
                    to: 50.0,
                    offset: base,
                },
                Span {
                    from: 50.0,
                    to: 120.0,
                    offset: base + 45.0,
                },
            ],
            duration: 120.0,
        }
    }

    #[test]
    fn a_pause_moves_later_marks_and_swallows_its_own_time() {
        let m = map();
        assert_eq!(m.first(), date(2026, 11, 20).at(9, 30, 0, 0));
        assert_eq!(m.jumps(), vec![Jump { at: 50.0, by: 45.0 }]);
        assert_eq!(
            m.media_at(date(2026, 11, 20).at(9, 30, 10, 0)),
            Placement::Media(10.0)
        );
        assert_eq!(
            m.media_at(date(2026, 11, 20).at(9, 31, 55, 0)),
            Placement::Media(70.0)
        );
        assert_eq!(
            m.media_at(date(2026, 11, 20).at(9, 31, 0, 0)),
            Placement::Paused { at: 50.0 }
        );
        assert_eq!(
            m.media_at(date(2026, 11, 20).at(9, 40, 0, 0)),
            Placement::Unknown
        );
        assert_eq!(
            m.report(),
            ClockReport {
                first: "2026-11-20T09:30:00.000".into(),
                jumps: vec![Jump { at: 50.0, by: 45.0 }]
            }
        );
        assert_eq!(m.clock_at(70.0), Some(date(2026, 11, 20).at(9, 31, 55, 0)));
        assert_eq!(m.clock_at(130.0), None);
    }
}
