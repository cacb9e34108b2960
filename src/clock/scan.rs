//! Reading a video's clock into a [`ClockMap`]: learn the glyphs from the
//! first dozen seconds, read every keyframe, group the readings into spans
//! of one offset (clock − media time), and decode the frames around each
//! change of offset to find the jump to the frame.
//!
//! Between two keyframes whose readings disagree, the frames can only be
//! decoded in order from the first keyframe (each depends on the ones
//! before it), so "bisection" here is one decoding pass over that stretch
//! that reads every frame; reading costs little beside decoding.
//!
//! Keyframes are independent of each other, so they are read on up to
//! [`MAX_THREADS`] threads, each with its own decoder and file handle
//! ([`Video::reopen`]), taking the next keyframe not yet taken. Learning
//! needs a few frames of every second, not all: it skips the disposable
//! frames (B-frames no other frame refers to), which the decoder may leave
//! out without changing any other picture.
//!
//! Invariants: a reading starts a new span only when the reading after it
//! agrees (a misread keyframe is dropped, never trusted); an offset is the
//! intersection of what all its readings allow, so it is exact to the frame
//! once a change of the seconds digit has been seen; the frames decoded
//! beyond the keyframes are bounded ([`MAX_SCANS`] stretches of at most one
//! keyframe interval each, none decoded twice), and nothing but the current
//! picture is kept, per thread.

use super::ClockError;
use super::glyphs::{self, Digits};
use super::learn::{self, Glyphs};
use super::map::{ClockMap, Span};
use super::video::{Disposable, Frame, Video};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Seconds of frames decoded to learn the glyphs.
const LEARN_SECONDS: f64 = 12.0;
/// Dense stretches decoded at most (boundaries and refinements).
const MAX_SCANS: usize = 200;
/// Threads reading keyframes at most (each holds a decoder's few frames).
const MAX_THREADS: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Reading {
    time: f64,
    clock: i64,
}

#[derive(Debug, Clone, Copy)]
struct Building {
    first: f64,
    last: f64,
    lo: f64,
    hi: f64,
}

impl Building {
    fn new(r: Reading) -> Self {
        Building {
            first: r.time,
            last: r.time,
            lo: r.clock as f64 - r.time,
            hi: r.clock as f64 + 1.0 - r.time,
        }
    }

    fn agrees(&self, r: Reading, tol: f64) -> bool {
        let (lo, hi) = (r.clock as f64 - r.time, r.clock as f64 + 1.0 - r.time);
        lo < self.hi + tol && hi > self.lo - tol
    }

    fn add(&mut self, r: Reading) {
        let (lo, hi) = (r.clock as f64 - r.time, r.clock as f64 + 1.0 - r.time);
        if lo.max(self.lo) < hi.min(self.hi) {
            self.lo = self.lo.max(lo);
            self.hi = self.hi.min(hi);
        }
        self.first = self.first.min(r.time);
        self.last = self.last.max(r.time);
    }
}

struct Reader {
    video: Video,
    frames: Vec<Frame>,
    frame_duration: f64,
    scans: usize,
    /// Stretches already decoded densely (from, to): not decoded again.
    scanned: Vec<(f64, f64)>,
    finder: glyphs::Finder,
}

/// The clock map of an opened video, or `None` when no clock was found.
pub fn map(video: Video) -> Result<Option<ClockMap>, ClockError> {
    let frames: Vec<Frame> = video.frames().collect();
    if frames.is_empty() {
        return Ok(None);
    }
    let frame_duration = video.frame_duration();
    let mut r = Reader {
        video,
        frames,
        frame_duration,
        scans: 0,
        scanned: Vec::new(),
        finder: glyphs::Finder::default(),
    };
    let keys: Vec<usize> = (0..r.frames.len())
        .filter(|&i| r.frames[i].sample.is_sync)
        .collect();
    let Some(&first_key) = keys.first() else {
        return Ok(None);
    };
    let duration = r.frames.iter().map(|f| f.time).fold(0.0, f64::max) + frame_duration;

    // Learn at the start, or failing that half-way through.
    let mut tries = vec![first_key];
    if let Some(&mid) = keys.iter().find(|&&k| r.frames[k].time >= duration / 2.0)
        && r.frames[mid].time > r.frames[first_key].time + LEARN_SECONDS
    {
        tries.push(mid);
    }
    let mut learned = None;
    for key in tries {
        let start = r.frames[key].time;
        let seen = r.dense(key, start, start + LEARN_SECONDS, Disposable::Skip)?;
        let found: Vec<(f64, Digits)> = seen
            .into_iter()
            .filter_map(|(t, d)| d.map(|d| (t, d)))
            .collect();
        if let Some(g) = learn::learn(&found) {
            learned = Some((g, found));
            break;
        }
    }
    let Some((glyphs, learning)) = learned else {
        return Ok(None);
    };
    let mut readings: Vec<Reading> = learning
        .iter()
        .filter_map(|(t, d)| glyphs.read(d).map(|clock| Reading { time: *t, clock }))
        .collect();
    let learned_until = learning.last().map_or(0.0, |(t, _)| *t);
    let learned_from = learning.first().map_or(0.0, |(t, _)| *t);
    let unread: Vec<usize> = keys
        .iter()
        .copied()
        .filter(|&k| !(learned_from..=learned_until).contains(&r.frames[k].time))
        .collect();
    readings.extend(r.read_keys(&unread, &glyphs)?);
    // The stretch after the last reading, so that the last span reaches
    // the end (a pause there is seen like any other).
    let last_read = readings.iter().map(|r| r.time).fold(0.0, f64::max);
    r.add_dense(&mut readings, &glyphs, last_read, duration)?;

    let mut spans = segments(&mut readings, r.frame_duration / 2.0);
    for _ in 0..2 {
        let mut scanned = false;
        for w in spans.windows(2) {
            r.add_dense(&mut readings, &glyphs, w[0].last, w[1].first + 1.2)?;
            scanned = true;
        }
        for s in &spans {
            if s.hi - s.lo > 1.5 * r.frame_duration {
                r.add_dense(&mut readings, &glyphs, s.first, s.first + 1.2)?;
                scanned = true;
            }
        }
        if !scanned {
            break;
        }
        spans = segments(&mut readings, r.frame_duration / 2.0);
    }
    if spans.is_empty() {
        return Ok(None);
    }
    for i in 1..spans.len() {
        let (a, b) = (spans[i - 1], spans[i]);
        if b.first - a.last > 1.5 * r.frame_duration {
            let (last, first) = r.settle_gap(&glyphs, &a, &b)?;
            spans[i - 1].last = last;
            spans[i].first = first;
        }
    }
    Ok(Some(ClockMap {
        spans: spans
            .iter()
            .map(|s| Span {
                from: s.first,
                to: s.last + r.frame_duration,
                offset: s.lo,
            })
            .collect(),
        duration,
    }))
}

/// Readings grouped into spans of one offset, in media order. A reading
/// that agrees with neither the span before it nor the reading after it
/// is dropped.
fn segments(readings: &mut Vec<Reading>, tol: f64) -> Vec<Building> {
    readings.sort_by(|a, b| a.time.total_cmp(&b.time));
    readings.dedup_by(|a, b| a.time == b.time);
    let mut spans: Vec<Building> = Vec::new();
    for (i, &r) in readings.iter().enumerate() {
        if let Some(cur) = spans.last_mut()
            && cur.agrees(r, tol)
        {
            cur.add(r);
            continue;
        }
        let candidate = Building::new(r);
        let confirmed = match readings.get(i + 1) {
            Some(&next) => candidate.agrees(next, tol),
            None => spans.is_empty(),
        };
        if confirmed {
            spans.push(candidate);
        }
    }
    spans
}

impl Reader {
    /// Between two spans, the frames whose clock could not be read are
    /// compared with what each span's clock would show there: the jump is
    /// at the first frame that looks like the later clock, with every
    /// frame after it too. Frames where the clock was not even found stay
    /// unknown, so the jump can only move to a frame that was seen.
    fn settle_gap(
        &mut self,
        glyphs: &Glyphs,
        a: &Building,
        b: &Building,
    ) -> Result<(f64, f64), ClockError> {
        let (mut last, mut first) = (a.last, b.first);
        let key = (0..self.frames.len())
            .filter(|&i| self.frames[i].sample.is_sync && self.frames[i].time <= a.last + 1e-9)
            .max_by(|&x, &y| self.frames[x].time.total_cmp(&self.frames[y].time));
        let Some(key) = key else {
            return Ok((last, first));
        };
        let seen = self.dense(key, a.last, b.first, Disposable::Decode)?;
        let clock_at = |s: &Building, t: f64| (t + s.lo + 1e-6).floor() as i64;
        let mut looks: Vec<(f64, Option<bool>)> = Vec::new();
        for (t, digits) in seen {
            let later = digits.and_then(|d| {
                let da = glyphs.distance_to(&d, clock_at(a, t))?;
                let db = glyphs.distance_to(&d, clock_at(b, t))?;
                (da != db).then_some(db < da)
            });
            looks.push((t, later));
        }
        // The earliest frame from which every seen frame looks later.
        for (i, &(t, later)) in looks.iter().enumerate() {
            if later == Some(true) && looks[i..].iter().all(|(_, l)| *l != Some(false)) {
                first = first.min(t);
                break;
            }
            if later == Some(false) {
                last = last.max(t);
            }
        }
        Ok((last, first))
    }

    /// The readings of keyframes `keys`, each decoded alone, on as many
    /// threads as the machine has cores (up to [`MAX_THREADS`]); each
    /// thread cuts digits with a copy of the finder learning left, so they
    /// are cut alike on all.
    fn read_keys(&mut self, keys: &[usize], glyphs: &Glyphs) -> Result<Vec<Reading>, ClockError> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS)
            .min(keys.len().max(1));
        let mut others = (1..threads)
            .map(|_| Ok((self.video.reopen()?, self.finder.clone())))
            .collect::<Result<Vec<_>, ClockError>>()?;
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let frames = &self.frames;
        let work = |video: &mut Video, finder: &mut glyphs::Finder| {
            let mut out = Vec::new();
            while !failed.load(Ordering::Relaxed) {
                let Some(&k) = keys.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                match read_key(video, finder, &frames[k], glyphs) {
                    Ok(r) => out.extend(r),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok(out)
        };
        let (video, finder) = (&mut self.video, &mut self.finder);
        let results: Vec<Result<Vec<Reading>, ClockError>> = std::thread::scope(|s| {
            let handles: Vec<_> = others
                .iter_mut()
                .map(|(v, f)| s.spawn(|| work(v, f)))
                .collect();
            let mut results = vec![work(video, finder)];
            results.extend(handles.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }));
            results
        });
        let mut readings = Vec::new();
        for r in results {
            readings.extend(r?);
        }
        Ok(readings)
    }

    /// Reads every frame shown between media times `from` and `to` into
    /// `readings`.
    fn add_dense(
        &mut self,
        readings: &mut Vec<Reading>,
        glyphs: &Glyphs,
        from: f64,
        to: f64,
    ) -> Result<(), ClockError> {
        let done = |&(a, b): &(f64, f64)| a <= from + 1e-9 && b >= to - 1e-9;
        if self.scans >= MAX_SCANS || self.scanned.iter().any(done) {
            return Ok(());
        }
        self.scans += 1;
        self.scanned.push((from, to));
        let key = (0..self.frames.len())
            .filter(|&i| self.frames[i].sample.is_sync && self.frames[i].time <= from + 1e-9)
            .max_by(|&a, &b| self.frames[a].time.total_cmp(&self.frames[b].time));
        let Some(key) = key else { return Ok(()) };
        for (time, digits) in self.dense(key, from, to, Disposable::Decode)? {
            if let Some(clock) = digits.and_then(|d| glyphs.read(&d)) {
                readings.push(Reading { time, clock });
            }
        }
        Ok(())
    }

    /// Decodes from keyframe `key` in decode order and returns the digits
    /// of each frame shown between `from` and `to`, in display order
    /// (disposable frames left out if `disposable` says so).
    fn dense(
        &mut self,
        key: usize,
        from: f64,
        to: f64,
        disposable: Disposable,
    ) -> Result<Vec<(f64, Option<Digits>)>, ClockError> {
        let mut out = Vec::new();
        let mut broken = false;
        for i in key..self.frames.len() {
            let frame = self.frames[i];
            if i > key && frame.sample.is_sync && frame.time > to {
                break;
            }
            if frame.time > to + 2.0 {
                break;
            }
            if broken && !frame.sample.is_sync {
                continue;
            }
            broken = false;
            match self.video.decode(&frame, disposable) {
                Ok(Some(crop)) if frame.time >= from - 1e-9 && frame.time <= to => {
                    out.push((frame.time, self.finder.find(&crop)));
                }
                Ok(_) => {}
                // What depends on a frame that failed is not trusted up to
                // the next keyframe.
                Err(ClockError::Decode(_)) => broken = true,
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(out)
    }
}

/// The reading of keyframe `frame` decoded alone (a frame the decoder
/// fails on has none).
fn read_key(
    video: &mut Video,
    finder: &mut glyphs::Finder,
    frame: &Frame,
    glyphs: &Glyphs,
) -> Result<Option<Reading>, ClockError> {
    let crop = match video.decode(frame, Disposable::Decode) {
        Ok(c) => c,
        Err(ClockError::Decode(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(crop
        .and_then(|c| finder.find(&c))
        .and_then(|d| glyphs.read(&d))
        .map(|clock| Reading {
            time: frame.time,
            clock,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings(list: &[(f64, i64)]) -> Vec<Reading> {
        list.iter()
            .map(|&(time, clock)| Reading { time, clock })
            .collect()
    }

    #[test]
    fn a_change_of_second_pins_the_offset_and_a_jump_starts_a_span() {
        let mut r = readings(&[
            (0.0, 1000),
            (0.4, 1000),
            (0.5, 1001),
            (2.0, 1002),
            (4.0, 1004),
            (4.5, 1050), // after a 45 s pause
            (6.0, 1051),
        ]);
        let spans = segments(&mut r, 0.05);
        assert_eq!(spans.len(), 2);
        assert!((spans[0].lo - 1000.5).abs() < 1e-9);
        assert!((spans[0].hi - 1000.6).abs() < 1e-9);
        assert_eq!((spans[1].first, spans[1].last), (4.5, 6.0));
    }

    #[test]
    fn a_misread_keyframe_is_dropped() {
        let mut r = readings(&[(0.0, 1000), (2.0, 1002), (4.0, 1904), (6.0, 1006)]);
        let spans = segments(&mut r, 0.05);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].last, 6.0);
    }
}
