//! One segment's media tied to the wall clock: by the stretches in which
//! Zoom's burned-in clock was read running with the media
//! ([`ClockPiece`]), with the pauses between them and the stretches whose
//! clock is unknown, or, where no clock was read, by the segment's start
//! alone. [`super::place`] asks it which media times a range of instants
//! covers.
//!
//! Invariants: media whose clock is unknown is never given a time; a gap
//! of more than [`PAUSE_GAP_MS`] between two read stretches is unknown,
//! not a pause; instants are ms since 1970, UTC.

/// A stretch of a segment over which Zoom's clock ran with the media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockPiece {
    /// Segment time (ms) of its first frame read.
    pub from: i64,
    /// Segment time (ms) of the end of its last frame read.
    pub to: i64,
    /// The instant (ms since 1970, UTC) the clock showed at `from`.
    pub at: i64,
}

impl ClockPiece {
    /// The instant the clock showed at `to`.
    pub fn end(&self) -> i64 {
        self.at + (self.to - self.from)
    }
}

/// Media closer than this around a jump of the clock counts as one frame
/// to the next: the jump is a pause. A wider stretch between two read
/// stretches is one whose clock is unknown.
pub(super) const PAUSE_GAP_MS: i64 = 1000;

/// One segment's time against the wall clock: the stretches in which the
/// clock ran with the media, the pauses between them, and the stretches
/// whose clock is unknown (as instants).
#[derive(Debug, Clone)]
pub(super) struct Timeline {
    /// Segment length, ms.
    pub(super) dur: i64,
    /// The instant at segment time 0; none when the start is unknown.
    pub(super) start: Option<i64>,
    /// Read stretches (or, without a clock, one from the start).
    pieces: Vec<ClockPiece>,
    /// Instants at which the recording was paused.
    pauses: Vec<(i64, i64)>,
    /// Instants that may lie in the media where the clock is unknown.
    unknown: Vec<(i64, i64)>,
}

impl Timeline {
    pub(super) fn new(clock: &[ClockPiece], start: Option<i64>, dur: i64) -> Timeline {
        let mut t = Timeline {
            dur,
            start,
            pieces: Vec::new(),
            pauses: Vec::new(),
            unknown: Vec::new(),
        };
        let (Some(first), Some(last)) = (clock.first(), clock.last()) else {
            if let Some(at) = start {
                t.pieces.push(ClockPiece {
                    from: 0,
                    to: dur,
                    at,
                });
            }
            return t;
        };
        t.pieces = clock.to_vec();
        if first.from > 0 {
            t.unknown.push((first.at - first.from, first.at));
        }
        for w in clock.windows(2) {
            let (a, b) = (w[0], w[1]);
            let gap = b.from - a.to;
            if gap > PAUSE_GAP_MS {
                // Media nobody read: it ran at the clock's pace from
                // either side, with a jump anywhere in it.
                t.unknown
                    .push(((a.end()).min(b.at - gap), b.at.max(a.end() + gap)));
            } else if b.at > a.end() {
                t.pauses.push((a.end(), b.at));
            }
        }
        if last.to < dur {
            t.unknown.push((last.end(), last.end() + (dur - last.to)));
        }
        t
    }

    /// The instant at the segment's end.
    pub(super) fn end(&self) -> Option<i64> {
        let last = self.pieces.last()?;
        Some(last.end() + (self.dur - last.to))
    }

    /// How long the segment ran on the wall clock: its length and its
    /// pauses (its length alone where no clock was read).
    pub(super) fn ran(&self) -> i64 {
        match (self.start, self.end()) {
            (Some(s), Some(e)) => e - s,
            _ => self.dur,
        }
    }

    /// The segment times `[from, to)` (instants) covers, in order.
    pub(super) fn media(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        self.pieces
            .iter()
            .filter_map(|p| {
                let (x, y) = (from.max(p.at), to.min(p.end()));
                (x < y).then(|| (x - p.at + p.from, y - p.at + p.from))
            })
            .collect()
    }

    /// Whether `[from, to)` touches a stretch whose clock is unknown.
    pub(super) fn touches_unknown(&self, from: i64, to: i64) -> bool {
        self.unknown.iter().any(|&(a, b)| from < b && to > a)
    }

    /// Whether `[from, to)` touches a pause.
    pub(super) fn touches_pause(&self, from: i64, to: i64) -> bool {
        self.pauses.iter().any(|&(a, b)| from < b && to > a)
    }

    /// The segment time at which the clock showed `instant`: in a pause,
    /// the frame after it.
    pub(super) fn at(&self, instant: i64) -> Option<i64> {
        if let Some(p) = self
            .pieces
            .iter()
            .find(|p| instant >= p.at && instant < p.end())
        {
            return Some(instant - p.at + p.from);
        }
        if self.touches_unknown(instant, instant + 1) {
            return None;
        }
        let pause = self
            .pauses
            .iter()
            .position(|&(a, b)| instant >= a && instant < b)?;
        Some(self.pieces[pause + 1].from)
    }
}
