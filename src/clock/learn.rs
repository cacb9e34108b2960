//! Learning the clock's ten digit glyphs from the recording itself, and
//! reading a clock with them.
//!
//! Over ten seconds the last digit of the seconds shows every digit once,
//! in order; the frame where the digit before it (tens of seconds) changes
//! too is the one whose last digit is 0. So from the frames of the first
//! dozen seconds the glyphs are labelled without knowing the font, the size
//! or the date: consecutive frames are grouped into runs of one look of the
//! last digit, the runs into glyphs, and the glyph after the tens change is
//! 0, the next 1, and so on.
//!
//! Invariants: learning succeeds only when the runs show ten distinct
//! glyphs that each get one label; a digit is read only when its nearest
//! glyph is near enough and clearly nearer than the next; a reading is a
//! valid date and time or nothing.

use super::glyphs::{Digit, Digits, Patch};

/// Patches nearer than this are one glyph.
const SAME: f32 = 0.10;
/// A second whose mean look is nearer than this to its digit's fits it.
const SAME_GLYPH: f32 = 0.2;
/// A digit is read when its glyph is this near …
const ACCEPT: f32 = 0.25;
/// … and the second-nearest is this much further.
const MARGIN: f32 = 0.04;

/// The ten glyphs, index = digit.
#[derive(Debug, Clone)]
pub struct Glyphs {
    pub digits: Vec<Patch>,
}

/// Learns the glyphs from `(media time, digits)` of consecutive frames in
/// display order.
pub fn learn(frames: &[(f64, Digits)]) -> Option<Glyphs> {
    // Runs of one look of the last digit: (first frame's time, its tens).
    let mut runs: Vec<(f64, Vec<&Patch>, Vec<&Patch>)> = Vec::new();
    for (t, d) in frames {
        let (ones, tens) = (d[13].patch(), d[12].patch());
        match runs.last_mut() {
            Some((_, ps, ts)) if ps[ps.len() - 1].distance(ones) < SAME => {
                ps.push(ones);
                ts.push(tens);
            }
            _ => runs.push((*t, vec![ones], vec![tens])),
        }
    }
    // Runs much shorter than a second are changes the encoder blurred.
    let span = frames.last().map_or(0.0, |f| f.0) - frames.first().map_or(0.0, |f| f.0);
    let fps = frames.len() as f64 / span.max(1e-3);
    let min_len = ((fps * 0.25).round() as usize).max(1);
    runs.retain(|(_, ps, _)| ps.len() >= min_len);
    // The run where the tens digit changes most starts the second whose
    // last digit is 0; from there the clock runs one digit a second (a
    // pause in these seconds fails the checks below).
    let tens: Vec<Patch> = runs.iter().map(|(_, _, ts)| Patch::mean(ts)).collect();
    let (change, zero) = (1..runs.len())
        .map(|i| (tens[i].distance(&tens[i - 1]), i))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    if change < SAME {
        return None;
    }
    let t0 = runs[zero].0;
    // Each frame well inside a second (away from the changes, which the
    // encoder may blur) goes to its second, and the second to its digit.
    let mut seconds: std::collections::BTreeMap<i64, Vec<&Patch>> = Default::default();
    for (t, d) in frames {
        let phase = t - t0;
        let frac = phase - phase.floor();
        if (0.15..=0.85).contains(&frac) {
            seconds
                .entry(phase.floor() as i64)
                .or_default()
                .push(d[13].patch());
        }
    }
    let digits: Vec<Patch> = (0..10)
        .map(|d| {
            let all: Vec<&Patch> = seconds
                .iter()
                .filter(|(s, _)| s.rem_euclid(10) == d)
                .flat_map(|(_, ps)| ps.iter().copied())
                .collect();
            (!all.is_empty()).then(|| Patch::mean(&all))
        })
        .collect::<Option<_>>()?;
    // Every second looks like its digit, and the ten digits differ.
    let fits = seconds
        .iter()
        .all(|(s, ps)| Patch::mean(ps).distance(&digits[s.rem_euclid(10) as usize]) < SAME_GLYPH);
    let distinct = (0..10).all(|a| (a + 1..10).all(|b| digits[a].distance(&digits[b]) >= SAME));
    (fits && distinct).then_some(Glyphs { digits })
}

impl Glyphs {
    /// The digit a patch shows, if it is clearly one.
    pub fn digit(&self, p: &Digit) -> Option<u8> {
        let mut d: Vec<(f32, usize)> = self
            .digits
            .iter()
            .enumerate()
            .map(|(i, g)| (p.distance(g), i))
            .collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0));
        (d[0].0 < ACCEPT && d[1].0 - d[0].0 > MARGIN).then_some(d[0].1 as u8)
    }

    /// How far the digits are from what the clock would show at `clock`
    /// (seconds as [`Glyphs::read`] gives them): the sum over the digits of
    /// the distance to the glyph expected there. Used to tell which of two
    /// clocks a frame too blurred to read shows.
    pub fn distance_to(&self, digits: &Digits, clock: i64) -> Option<f32> {
        let ts = jiff::Timestamp::from_second(clock).ok()?;
        let text = jiff::tz::Offset::UTC
            .to_datetime(ts)
            .strftime("%Y%m%d%H%M%S")
            .to_string();
        (text.len() == digits.len()).then(|| {
            text.bytes()
                .zip(digits)
                .map(|(b, d)| d.distance(&self.digits[(b - b'0') as usize]))
                .sum()
        })
    }

    /// The clock's reading as seconds since 1970-01-01 00:00:00 of the
    /// clock's own calendar (no time zone).
    pub fn read(&self, digits: &Digits) -> Option<i64> {
        let d: Vec<i64> = digits
            .iter()
            .map(|p| self.digit(p).map(i64::from))
            .collect::<Option<_>>()?;
        let num = |r: std::ops::Range<usize>| d[r].iter().fold(0, |n, v| n * 10 + v);
        let date = jiff::civil::Date::new(
            i16::try_from(num(0..4)).ok()?,
            i8::try_from(num(4..6)).ok()?,
            i8::try_from(num(6..8)).ok()?,
        )
        .ok()?;
        let time = jiff::civil::Time::new(
            i8::try_from(num(8..10)).ok()?,
            i8::try_from(num(10..12)).ok()?,
            i8::try_from(num(12..14)).ok()?,
            0,
        )
        .ok()?;
        let ts = jiff::tz::Offset::UTC
            .to_timestamp(date.to_datetime(time))
            .ok()?;
        Some(ts.as_second())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::glyphs::{PATCH_H, PATCH_W};

    /// A made-up glyph for digit `n`: a distinct pixel lit.
    fn glyph(n: usize) -> Patch {
        let mut px = [0f32; PATCH_W * PATCH_H];
        px[n * 9] = 1.0;
        px[n * 9 + 1] = 1.0;
        px[n * 9 + 2] = 1.0;
        px[n * 9 + 3] = 1.0;
        px[n * 9 + 4] = 1.0;
        px[n * 9 + 5] = 1.0;
        px[n * 9 + 6] = 1.0;
        px[n * 9 + 7] = 1.0;
        px[n * 9 + 8] = 1.0;
        Patch { px, aspect: 0.6 }
    }

    fn digits_of(text: &str) -> Digits {
        text.bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| Digit {
                cuts: vec![glyph((b - b'0') as usize)],
            })
            .collect()
    }

    fn clip(start: i64, seconds: i64, fps: i64) -> Vec<(f64, Digits)> {
        (0..seconds * fps)
            .map(|f| {
                let t = start + f / fps;
                let (m, s) = (t / 60, t % 60);
                (
                    f as f64 / fps as f64,
                    digits_of(&format!("2026-11-20 14:{m:02}:{s:02}")),
                )
            })
            .collect()
    }

    #[test]
    fn twelve_seconds_teach_every_digit_and_read_back() {
        let frames = clip(3 * 60 + 47, 12, 10);
        let glyphs = learn(&frames).expect("learned");
        let when = glyphs.read(&digits_of("2026-11-20 14:05:09")).unwrap();
        assert_eq!(
            when,
            jiff::tz::Offset::UTC
                .to_timestamp(jiff::civil::date(2026, 11, 20).at(14, 5, 9, 0))
                .unwrap()
                .as_second()
        );
    }

    #[test]
    fn fewer_than_ten_seconds_teach_nothing() {
        assert!(learn(&clip(3 * 60 + 47, 8, 10)).is_none());
    }

    #[test]
    fn an_impossible_date_is_no_reading() {
        let glyphs = learn(&clip(3 * 60 + 47, 12, 10)).unwrap();
        assert_eq!(glyphs.read(&digits_of("2026-13-20 14:05:09")), None);
        assert_eq!(glyphs.read(&digits_of("2026-11-20 25:05:09")), None);
    }
}
