//! Placing the parsed marks: each mark becomes ranges of the segments it
//! falls in, measured from each segment's own start, padded, clipped to
//! the segment, sorted and merged (the rules are in [`super`]'s text).
//!
//! A segment's time is tied to the wall clock in one of two ways: by
//! Zoom's burned-in clock read from its video ([`ClockPiece`]s: every
//! stretch in which the clock ran with the media, so a pause moves the
//! marks after it), or, where no clock was read, by its start alone (the
//! folder name's time or a `segment N starts` line), the media taken to
//! run with the clock from there.
//!
//! Invariants: a mark is placed only where it provably lies: a wall-clock
//! mark that might fall in a segment whose start is unknown, between
//! segments, or in a stretch whose clock could not be read is an error
//! naming its line, never a guess; one wholly in a pause is an error too
//! (nothing was recorded then); nothing here quotes a note.

use super::super::clock::Clocks;
use super::super::{Range, merge};
use super::wall::ClockPiece;
use super::wall::{PAUSE_GAP_MS, Timeline};
use super::{DAY, Mark, MarkProblem, Marks, MarksError, Point, Unplaceable};
use jiff::civil::DateTime;
use std::collections::BTreeMap;
use std::time::Duration;

/// One segment of a recording, as the check measured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSpan {
    /// 1, 2, … in recording order.
    pub number: u32,
    pub duration: Duration,
    /// Its wall-clock start in the PC's local time, when known (the first
    /// segment's from the folder name or `--start`).
    pub start: Option<DateTime>,
    /// The burned-in clock as read from the segment's video, in media
    /// order; empty when none was read (then `start` ties it to the wall
    /// clock). Where it is read it decides, and `start` is not used.
    pub clock: Vec<ClockPiece>,
}

impl SegmentSpan {
    /// The jumps of its clock between stretches a frame apart (pauses, or
    /// summer time): segment time of the first frame after each, and how
    /// far the clock jumped in instants, seconds.
    pub fn jumps(&self) -> Vec<(f64, f64)> {
        self.clock
            .windows(2)
            .filter(|w| w[1].from - w[0].to <= PAUSE_GAP_MS && w[1].at != w[0].end())
            .map(|w| {
                (
                    w[1].from as f64 / 1000.0,
                    (w[1].at - w[0].end()) as f64 / 1000.0,
                )
            })
            .collect()
    }
}

/// Where one mark was placed: per segment, its range in the segment's own
/// time before padding, and whether Zoom's clock read from that segment's
/// video placed it (else the segment's start, or an offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedMark {
    pub line: usize,
    pub ranges: Vec<(u32, Range)>,
    pub by_clock: bool,
}

/// The resolved ranges of each segment, measured from that segment's own
/// start: sorted, merged and padded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SegmentRanges {
    per: BTreeMap<u32, Vec<Range>>,
}

impl SegmentRanges {
    /// The ranges of a recording of one segment.
    pub fn single(ranges: Vec<Range>) -> SegmentRanges {
        let mut per = BTreeMap::new();
        if !ranges.is_empty() {
            per.insert(1, ranges);
        }
        SegmentRanges { per }
    }

    /// From `(segment, ranges)` pairs (as a journal keeps them).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u32, Range)>) -> SegmentRanges {
        let mut per: BTreeMap<u32, Vec<Range>> = BTreeMap::new();
        for (s, r) in pairs {
            per.entry(s).or_default().push(r);
        }
        for v in per.values_mut() {
            *v = merge(std::mem::take(v));
        }
        SegmentRanges { per }
    }

    /// The placed marks' ranges, each widened by `pad` on both sides,
    /// clipped to its segment's end, sorted and merged per segment.
    pub fn padded(placed: &[PlacedMark], segments: &[SegmentSpan], pad: Duration) -> SegmentRanges {
        let mut per: BTreeMap<u32, Vec<Range>> = BTreeMap::new();
        for (seg, r) in placed.iter().flat_map(|p| &p.ranges) {
            let d = segments
                .get(*seg as usize - 1)
                .map_or(Duration::ZERO, |s| s.duration);
            per.entry(*seg).or_default().push(Range::new(
                r.start.saturating_sub(pad),
                r.end.saturating_add(pad).min(d),
            ));
        }
        for v in per.values_mut() {
            *v = merge(std::mem::take(v));
        }
        SegmentRanges { per }
    }

    /// The ranges of a segment (none for a file of the whole folder).
    pub fn of(&self, segment: Option<u32>) -> &[Range] {
        segment
            .and_then(|s| self.per.get(&s))
            .map_or(&[], Vec::as_slice)
    }

    /// Every range with its segment, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, Range)> + '_ {
        self.per
            .iter()
            .flat_map(|(s, rs)| rs.iter().map(move |r| (*s, *r)))
    }

    pub fn is_empty(&self) -> bool {
        self.per.values().all(Vec::is_empty)
    }
}

const DAY_MS: i64 = DAY as i64 * 1000;
const HALF_DAY_MS: i64 = DAY_MS / 2;
/// Zoom's clock shows whole seconds; a segment's start stated from it may
/// read up to this much before the end of the segment before it.
const CLOCK_SLACK_MS: i64 = 2000;

impl Marks {
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Whether any mark uses wall-clock time (and so needs a start time).
    pub fn uses_wall_clock(&self) -> bool {
        self.marks.iter().any(Mark::uses_wall_clock)
    }

    /// Turns the marks into ranges of a one-segment recording that started
    /// at `start` (local wall-clock time, from the folder name or
    /// `--start`, read on the same clock as the marks) and lasts
    /// `duration`: each widened by `pad` on both sides, clipped to the
    /// recording, sorted and merged. A range wholly outside the recording,
    /// or backwards, is an error naming its line; one that runs past an end
    /// is clipped there.
    pub fn resolve(
        &self,
        start: Option<DateTime>,
        duration: Duration,
        pad: Duration,
    ) -> Result<Vec<Range>, MarksError> {
        let span = SegmentSpan {
            number: 1,
            duration,
            start,
            clock: Vec::new(),
        };
        let r = self.resolve_segments(&[span], &Clocks::utc(), pad)?;
        Ok(r.of(Some(1)).to_vec())
    }

    /// Turns the marks into ranges per segment (see the module's text):
    /// folder times are read in the PC's zone and clock times in the
    /// burned-in clock's, both through `clocks`.
    pub fn resolve_segments(
        &self,
        segments: &[SegmentSpan],
        clocks: &Clocks,
        pad: Duration,
    ) -> Result<SegmentRanges, MarksError> {
        let placed = self.place_each(segments, clocks)?;
        Ok(SegmentRanges::padded(&placed, segments, pad))
    }

    /// Places each mark, in order: per segment, its range in the
    /// segment's own time before padding (a clock-time mark in a segment
    /// whose start was stated is widened to cover both readings of it).
    pub fn place_each(
        &self,
        segments: &[SegmentSpan],
        clocks: &Clocks,
    ) -> Result<Vec<PlacedMark>, MarksError> {
        let one = [SegmentSpan {
            number: 1,
            duration: Duration::ZERO,
            start: None,
            clock: Vec::new(),
        }];
        let segs = if segments.is_empty() {
            &one[..]
        } else {
            segments
        };
        let count = segs.len() as u32;
        let dur: Vec<i64> = segs.iter().map(|s| s.duration.as_millis() as i64).collect();
        let (starts, slack) = self.starts(segs, &dur, clocks)?;
        let lines: Vec<Timeline> = segs
            .iter()
            .zip(&starts)
            .zip(&dur)
            .map(|((s, start), d)| Timeline::new(&s.clock, *start, *d))
            .collect();
        let ran: Vec<i64> = lines.iter().map(Timeline::ran).collect();

        let mut out = Vec::with_capacity(self.marks.len());
        for mark in &self.marks {
            let err = |why| MarksError {
                line: mark.line,
                why,
            };
            if let Some(s) = mark.segment
                && (s == 0 || s > count)
            {
                return Err(err(MarkProblem::NoSuchSegment { segment: s, count }));
            }
            let wall = |p: Point| matches!(p, Point::Wall { .. });
            let placed = if wall(mark.from) && wall(mark.to) {
                place_wall(mark, &lines, &ran, clocks).map_err(err)?
            } else {
                place_offset(mark, &lines, clocks, count).map_err(err)?
            };
            let by_clock = mark.uses_wall_clock();
            let ranges: Vec<(u32, Range)> = placed
                .into_iter()
                .map(|(seg, from, to)| {
                    let widen = if by_clock { slack[seg as usize - 1] } else { 0 };
                    let to = to.saturating_add(Duration::from_millis(widen as u64));
                    (seg, Range::new(from, to))
                })
                .collect();
            out.push(PlacedMark {
                line: mark.line,
                by_clock: by_clock
                    && ranges
                        .iter()
                        .any(|(seg, _)| !segs[*seg as usize - 1].clock.is_empty()),
                ranges,
            });
        }
        Ok(out)
    }

    /// The instant (ms since 1970, UTC) at which each of `segments`
    /// starts, where it is known: from the clock read in its video, else
    /// the first's from the folder name or `--start` and a later one's
    /// from its `segment N starts` line — the same instants
    /// [`Marks::resolve_segments`] places the marks from.
    pub fn segment_starts(
        &self,
        segments: &[SegmentSpan],
        clocks: &Clocks,
    ) -> Result<Vec<Option<i64>>, MarksError> {
        let dur: Vec<i64> = segments
            .iter()
            .map(|s| s.duration.as_millis() as i64)
            .collect();
        Ok(self.starts(segments, &dur, clocks)?.0)
    }

    /// Each segment's start instant, where known, and how much earlier
    /// than that instant its stated start read (see below).
    fn starts(
        &self,
        segs: &[SegmentSpan],
        dur: &[i64],
        clocks: &Clocks,
    ) -> Result<(Vec<Option<i64>>, Vec<i64>), MarksError> {
        let count = segs.len() as u32;
        // A segment whose clock was read starts where its clock says.
        let mut starts: Vec<Option<i64>> = segs
            .iter()
            .map(|s| match s.clock.first() {
                Some(p) => Some(p.at - p.from),
                None => s.start.map(|t| clocks.folder_instant(t)),
            })
            .collect();
        // How long each segment ran on the clock: its length and pauses.
        let ran: Vec<i64> = segs
            .iter()
            .zip(&starts)
            .zip(dur)
            .map(|((s, start), d)| Timeline::new(&s.clock, *start, *d).ran())
            .collect();
        // How much earlier than the segment can start a stated start read:
        // Zoom's clock shows whole seconds, so a start up to
        // CLOCK_SLACK_MS before the previous segment's end is taken at
        // that end, and the marks placed from it are widened to cover
        // both readings.
        let mut slack = vec![0i64; segs.len()];
        let mut stated = self.starts.clone();
        stated.sort_by_key(|s| s.segment);
        for st in &stated {
            let err = |why| MarksError { line: st.line, why };
            let k = st.segment as usize;
            if st.segment > count {
                return Err(err(MarkProblem::NoSuchSegment {
                    segment: st.segment,
                    count,
                }));
            }
            // Where the clock was read, the line is a check of it.
            if !segs[k - 1].clock.is_empty() {
                let read = starts[k - 1].unwrap_or_default();
                let near = clocks.clock_instants(st.ms, read - HALF_DAY_MS, read + HALF_DAY_MS);
                let off = near.iter().map(|i| (i - read).abs()).min();
                if off.is_none_or(|o| o > CLOCK_SLACK_MS) {
                    return Err(err(MarkProblem::StartDisagrees {
                        segment: st.segment,
                        read: clocks.clock_reading(read).map_or(0, |t| {
                            let ms = ((i64::from(t.hour()) * 60 + i64::from(t.minute())) * 60
                                + i64::from(t.second()))
                                * 1000
                                + i64::from(t.millisecond());
                            ms as u64
                        }),
                    }));
                }
                continue;
            }
            let Some(lower) = lower_bound(&starts, &ran, k - 1) else {
                return Err(err(MarkProblem::NoStartTime));
            };
            let found = clocks.clock_instants(st.ms, lower - CLOCK_SLACK_MS - 1, lower + DAY_MS);
            let Some(at) = found.first() else {
                return Err(err(MarkProblem::BeforeStart));
            };
            slack[k - 1] = (lower - *at).max(0);
            starts[k - 1] = Some((*at).max(lower));
        }
        Ok((starts, slack))
    }
}

/// The earliest instant segment `k` (0-based) can start: the nearest
/// earlier segment with a known start, plus how long the segments in
/// between ran on the clock (`ran`).
fn lower_bound(starts: &[Option<i64>], ran: &[i64], k: usize) -> Option<i64> {
    (0..k)
        .rev()
        .find_map(|j| starts[j].map(|s| s + ran[j..k].iter().sum::<i64>()))
}

/// The latest instant segment `k` (0-based) can end: the nearest later
/// segment with a known start, less how long those in between ran.
fn upper_bound(starts: &[Option<i64>], ran: &[i64], k: usize) -> Option<i64> {
    (k + 1..starts.len()).find_map(|m| starts[m].map(|s| s - ran[k + 1..m].iter().sum::<i64>()))
}

type Placed = Vec<(u32, Duration, Duration)>;

/// An offset mark (or one mixing an offset with a clock time): in the
/// segment it names, or the only one.
fn place_offset(
    mark: &Mark,
    lines: &[Timeline],
    clocks: &Clocks,
    count: u32,
) -> Result<Placed, MarkProblem> {
    let seg = match mark.segment {
        Some(s) => s,
        None if count == 1 => 1,
        None => {
            return Err(MarkProblem::Unplaceable(Unplaceable::WhichSegment {
                count,
            }));
        }
    };
    let line = &lines[seg as usize - 1];
    let offset =
        |p: Point, is_end: bool| -> Result<i64, MarkProblem> {
            match p {
                Point::Offset(d) => Ok(d.as_millis() as i64),
                Point::Wall { ms, minute } => {
                    let start = line.start.ok_or(if seg == 1 {
                        MarkProblem::NoStartTime
                    } else {
                        MarkProblem::Unplaceable(Unplaceable::SegmentStart { segment: seg })
                    })?;
                    let ms = if is_end && minute { ms + 60_000 } else { ms };
                    let at = clocks.clock_instants(ms, start - HALF_DAY_MS, start + HALF_DAY_MS);
                    match at.as_slice() {
                        [one] if *one < start => Ok(0),
                        [one] if Some(*one) >= line.end() => Ok(line.dur),
                        [one] => line.at(*one).ok_or(MarkProblem::Unplaceable(
                            Unplaceable::ClockUnknown { segment: seg },
                        )),
                        [] => Err(MarkProblem::AfterEnd),
                        _ => Err(MarkProblem::Unplaceable(Unplaceable::Repeated)),
                    }
                }
            }
        };
    let (from, to) = (offset(mark.from, false)?, offset(mark.to, true)?);
    if to <= from {
        return Err(MarkProblem::Backwards);
    }
    if from >= line.dur {
        return Err(MarkProblem::AfterEnd);
    }
    let ms = |v: i64| Duration::from_millis(v.max(0) as u64);
    Ok(vec![(seg, ms(from), ms(to.min(line.dur)))])
}

/// A mark of two clock times: in every segment with a known start that it
/// overlaps; an error if it may overlap one whose start is unknown.
fn place_wall(
    mark: &Mark,
    lines: &[Timeline],
    ran: &[i64],
    clocks: &Clocks,
) -> Result<Placed, MarkProblem> {
    let (Point::Wall { ms: a, .. }, Point::Wall { ms: b, minute }) = (mark.from, mark.to) else {
        return Ok(Vec::new());
    };
    let b = if minute { b + 60_000 } else { b };
    let Some(anchor) = lines.iter().find_map(|l| l.start) else {
        return Err(match mark.segment {
            Some(s) if s > 1 => MarkProblem::Unplaceable(Unplaceable::SegmentStart { segment: s }),
            _ => MarkProblem::NoStartTime,
        });
    };
    let mut results: Vec<Result<Placed, MarkProblem>> = Vec::new();
    for from in clocks.clock_instants(a, anchor - HALF_DAY_MS, anchor + HALF_DAY_MS) {
        let Some(to) = clocks
            .clock_instants(b, from, from + HALF_DAY_MS)
            .first()
            .copied()
        else {
            results.push(Err(MarkProblem::Backwards));
            continue;
        };
        results.push(place_instants(mark.segment, from, to, lines, ran));
    }
    let touching: Vec<&Result<Placed, MarkProblem>> = results
        .iter()
        .filter(|r| match r {
            Ok(_) => true,
            Err(MarkProblem::Unplaceable(_) | MarkProblem::InPause) => true,
            Err(_) => false,
        })
        .collect();
    match touching.as_slice() {
        [one] => (*one).clone(),
        [] => results
            .into_iter()
            .next()
            .unwrap_or(Err(MarkProblem::AfterEnd)),
        _ => Err(MarkProblem::Unplaceable(Unplaceable::Repeated)),
    }
}

fn place_instants(
    only: Option<u32>,
    from: i64,
    to: i64,
    lines: &[Timeline],
    ran: &[i64],
) -> Result<Placed, MarkProblem> {
    let targets: Vec<usize> = match only {
        Some(s) => vec![s as usize - 1],
        None => (0..lines.len()).collect(),
    };
    let starts: Vec<Option<i64>> = lines.iter().map(|l| l.start).collect();
    for &k in &targets {
        if starts[k].is_some() {
            continue;
        }
        if only.is_some() {
            return Err(MarkProblem::Unplaceable(Unplaceable::SegmentStart {
                segment: k as u32 + 1,
            }));
        }
        let lo = lower_bound(&starts, ran, k).unwrap_or(i64::MIN);
        let hi = upper_bound(&starts, ran, k).unwrap_or(i64::MAX);
        if from < hi && to > lo {
            return Err(MarkProblem::Unplaceable(Unplaceable::SegmentStart {
                segment: k as u32 + 1,
            }));
        }
    }
    let mut placed = Vec::new();
    let (mut first, mut last_end, mut paused) = (i64::MAX, i64::MIN, false);
    for &k in &targets {
        let line = &lines[k];
        let (Some(s), Some(e)) = (line.start, line.end()) else {
            continue;
        };
        first = first.min(s);
        last_end = last_end.max(e);
        if from >= e || to <= s {
            continue;
        }
        if line.touches_unknown(from, to) {
            return Err(MarkProblem::Unplaceable(Unplaceable::ClockUnknown {
                segment: k as u32 + 1,
            }));
        }
        paused |= line.touches_pause(from, to);
        let ms = |v: i64| Duration::from_millis(v.max(0) as u64);
        for (x, y) in line.media(from, to) {
            placed.push((k as u32 + 1, ms(x), ms(y)));
        }
    }
    if !placed.is_empty() {
        return Ok(placed);
    }
    Err(if paused {
        MarkProblem::InPause
    } else if to <= first {
        MarkProblem::BeforeStart
    } else if from >= last_end {
        MarkProblem::AfterEnd
    } else {
        MarkProblem::BetweenSegments
    })
}

#[cfg(test)]
mod tests;
