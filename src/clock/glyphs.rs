//! Finding the clock's text in a crop and cutting out its fourteen digits.
//!
//! The clock is one line `YYYY-MM-DD HH:MM:SS` of light text on a darker
//! box. Nothing here knows a font or a size: the crop is thresholded at a
//! few levels, the connected light shapes are grouped into lines of equal
//! top and bottom, and a line is the clock only when its glyphs, read left
//! to right, have the shape pattern of that text — four tall glyphs, a
//! short bar, two, a bar, two, a wider gap, two, two stacked dots, two,
//! dots, two. The lowest such line wins (Zoom draws the clock at the
//! bottom). Each digit becomes a [`Patch`]: its grey levels resampled to a
//! fixed grid and stretched to 0..1, so patches of one font and size
//! compare by plain distance.
//!
//! Invariants: work is bounded by the crop's size (a threshold that gives
//! more than [`MAX_SHAPES`] shapes is skipped); nothing is guessed — a
//! crop without the whole pattern gives `None`.

use super::video::Crop;

/// The resampled size of a digit.
pub const PATCH_W: usize = 8;
pub const PATCH_H: usize = 12;
/// Shapes beyond this many at one threshold mean a busy picture, not text.
const MAX_SHAPES: usize = 4000;
/// (seed, reach) levels: a shape is the pixels at or above `reach`
/// connected to one at or above `seed` (hysteresis), so thin, dim strokes
/// of small text stay in one piece without the box joining them.
/// Each level is tried plain first: where the box fits the text tightly,
/// a light picture around it would join every glyph at the lower level.
const THRESHOLDS: [(u8, u8); 8] = [
    (200, 200),
    (200, 150),
    (170, 170),
    (170, 120),
    (140, 140),
    (140, 100),
    (115, 115),
    (115, 80),
];

/// One digit's picture, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    pub px: [f32; PATCH_W * PATCH_H],
    /// Ink width over line height.
    pub aspect: f32,
}

impl Patch {
    /// Mean absolute difference, plus the difference in shape.
    pub fn distance(&self, other: &Patch) -> f32 {
        let sum: f32 = self
            .px
            .iter()
            .zip(other.px.iter())
            .map(|(a, b)| (a - b).abs())
            .sum();
        sum / self.px.len() as f32 + (self.aspect - other.aspect).abs()
    }

    /// The mean of several patches.
    pub fn mean(patches: &[&Patch]) -> Patch {
        let mut px = [0f32; PATCH_W * PATCH_H];
        let mut aspect = 0.0;
        for p in patches {
            for (a, b) in px.iter_mut().zip(p.px.iter()) {
                *a += b;
            }
            aspect += p.aspect;
        }
        let n = patches.len().max(1) as f32;
        px.iter_mut().for_each(|v| *v /= n);
        Patch {
            px,
            aspect: aspect / n,
        }
    }
}

/// The fourteen digits of one clock reading, left to right.
pub type Digits = Vec<Patch>;

#[derive(Debug, Clone, Copy)]
struct Shape {
    x0: usize,
    x1: usize, // inclusive
    y0: usize,
    y1: usize, // inclusive
}

impl Shape {
    fn h(&self) -> usize {
        self.y1 - self.y0 + 1
    }
    fn w(&self) -> usize {
        self.x1 - self.x0 + 1
    }
}

/// A glyph: shapes that overlap in x within one line.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    bbox: Shape,
    parts: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Digit,
    Dash,
    Colon,
    Other,
}

/// The clock's digits in `crop`, or `None` when no line has its pattern.
pub fn find(crop: &Crop) -> Option<Digits> {
    THRESHOLDS
        .iter()
        .find_map(|&(seed, reach)| find_at(crop, seed, reach))
}

fn find_at(crop: &Crop, seed: u8, reach: u8) -> Option<Digits> {
    let shapes = shapes(crop, seed, reach)?;
    let mut best: Option<(usize, Digits)> = None;
    for (top, bottom) in lines(&shapes) {
        if let Some(digits) = read_line(crop, &shapes, top, bottom)
            && best.as_ref().is_none_or(|(b, _)| bottom > *b)
        {
            best = Some((bottom, digits));
        }
    }
    best.map(|(_, d)| d)
}

/// The 8-connected light shapes of the crop: pixels at or above `reach`
/// joined to a pixel at or above `seed`.
fn shapes(crop: &Crop, seed: u8, reach: u8) -> Option<Vec<Shape>> {
    let (w, h) = (crop.width, crop.height);
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || crop.luma[start] < seed {
            continue;
        }
        if out.len() >= MAX_SHAPES {
            return None;
        }
        seen[start] = true;
        stack.push(start);
        let mut s = Shape {
            x0: start % w,
            x1: start % w,
            y0: start / w,
            y1: start / w,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            s.x0 = s.x0.min(x);
            s.x1 = s.x1.max(x);
            s.y0 = s.y0.min(y);
            s.y1 = s.y1.max(y);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if !seen[j] && crop.luma[j] >= reach {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(s);
    }
    Some(out)
}

/// Candidate text lines: (top, bottom) rows shared by at least ten
/// digit-like shapes.
fn lines(shapes: &[Shape]) -> Vec<(usize, usize)> {
    let tall: Vec<&Shape> = shapes
        .iter()
        .filter(|s| s.h() >= 5 && s.w() <= s.h() && s.h() <= 120)
        .collect();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for s in &tall {
        let tol = (s.h() / 8).max(1);
        let near = |a: usize, b: usize| a.abs_diff(b) <= tol;
        if out.iter().any(|&(t, b)| near(t, s.y0) && near(b, s.y1)) {
            continue;
        }
        let count = tall
            .iter()
            .filter(|o| near(o.y0, s.y0) && near(o.y1, s.y1))
            .count();
        if count >= 10 {
            out.push((s.y0, s.y1));
        }
    }
    out
}

fn read_line(crop: &Crop, shapes: &[Shape], top: usize, bottom: usize) -> Option<Digits> {
    let height = bottom - top + 1;
    let tol = (height / 8).max(1);
    let mut parts: Vec<Shape> = shapes
        .iter()
        .filter(|s| s.y0 + tol >= top && s.y1 <= bottom + tol && s.w() <= height)
        .copied()
        .collect();
    parts.sort_by_key(|s| s.x0);
    let mut glyphs: Vec<Glyph> = Vec::new();
    for s in parts {
        match glyphs.last_mut() {
            // Overlapping in x, or a stroke broken by a pixel of dim
            // anti-aliasing where the whole stays digit-narrow.
            Some(g)
                if s.x0 <= g.bbox.x1
                    || (s.x0 <= g.bbox.x1 + 2
                        && (s.x1.max(g.bbox.x1) - g.bbox.x0) * 4 <= height * 3) =>
            {
                g.bbox.x1 = g.bbox.x1.max(s.x1);
                g.bbox.y0 = g.bbox.y0.min(s.y0);
                g.bbox.y1 = g.bbox.y1.max(s.y1);
                g.parts += 1;
            }
            _ => glyphs.push(Glyph { bbox: s, parts: 1 }),
        }
    }
    let kinds: Vec<Kind> = glyphs.iter().map(|g| kind(g, top, height)).collect();
    use Kind::{Colon as C, Dash as B, Digit as D};
    const PATTERN: [Kind; 18] = [D, D, D, D, B, D, D, B, D, D, D, D, C, D, D, C, D, D];
    // The rightmost match: Zoom draws the clock at the right edge.
    let start = (0..=kinds.len().checked_sub(PATTERN.len())?)
        .rev()
        .find(|&i| kinds[i..i + PATTERN.len()] == PATTERN)?;
    let line = &glyphs[start..start + PATTERN.len()];
    // The space between date and time is wider than the gaps around it.
    let gap = |i: usize| line[i + 1].bbox.x0.saturating_sub(line[i].bbox.x1);
    if gap(9) <= gap(8).max(gap(10)) {
        return None;
    }
    Some(
        line.iter()
            .zip(PATTERN)
            .filter(|(_, k)| *k == D)
            .map(|(g, _)| patch(crop, g.bbox.x0, g.bbox.x1, top, bottom))
            .collect(),
    )
}

fn kind(g: &Glyph, top: usize, height: usize) -> Kind {
    let b = g.bbox;
    let h = b.h();
    let mid = (b.y0 + b.y1) as f32 / 2.0 - top as f32;
    if h * 10 >= height * 8 && b.w() <= height {
        Kind::Digit
    } else if h * 10 <= height * 3
        && b.w() >= h
        && mid > height as f32 * 0.25
        && mid < height as f32 * 0.8
    {
        Kind::Dash
    } else if g.parts >= 2 && h * 10 >= height * 3 && h * 10 <= height * 9 && b.w() * 2 <= height {
        Kind::Colon
    } else {
        Kind::Other
    }
}

/// The grey levels of columns `x0..=x1`, rows `top..=bottom`, resampled
/// to the patch grid by area and stretched to 0..1.
fn patch(crop: &Crop, x0: usize, x1: usize, top: usize, bottom: usize) -> Patch {
    let (w, h) = (x1 - x0 + 1, bottom - top + 1);
    let mut px = [0f32; PATCH_W * PATCH_H];
    for (i, v) in px.iter_mut().enumerate() {
        let (gx, gy) = (i % PATCH_W, i / PATCH_W);
        let (ax, bx) = (x0 + gx * w / PATCH_W, x0 + ((gx + 1) * w).div_ceil(PATCH_W));
        let (ay, by) = (
            top + gy * h / PATCH_H,
            top + ((gy + 1) * h).div_ceil(PATCH_H),
        );
        let mut sum = 0u32;
        let mut n = 0u32;
        for y in ay..by.max(ay + 1) {
            for x in ax..bx.max(ax + 1) {
                sum += crop.at(x.min(crop.width - 1), y.min(crop.height - 1)) as u32;
                n += 1;
            }
        }
        *v = sum as f32 / n as f32;
    }
    let (lo, hi) = px
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    // Stretched to 0..1, then the lower part (the box, and the picture
    // showing through it) cut to 0: only the ink is compared.
    let range = (hi - lo).max(1.0);
    px.iter_mut()
        .for_each(|v| *v = (((*v - lo) / range - 0.3) / 0.7).clamp(0.0, 1.0));
    Patch {
        px,
        aspect: w as f32 / h as f32,
    }
}
