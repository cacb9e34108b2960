//! Finding the clock's text in a crop and cutting out its fourteen digits.
//!
//! The clock is one line `YYYY-MM-DD HH:MM:SS` of light text on a darker
//! box. Nothing here knows a font or a size: the crop is thresholded at a
//! few levels, the connected light shapes are grouped into lines of equal
//! top and bottom, and a line is the clock only when its glyphs, read left
//! to right, have the shape pattern of that text — four tall glyphs, a
//! short bar, two, a bar, two, a wider gap, two, two stacked dots, two,
//! dots, two. The lowest such line wins (Zoom draws the clock at the
//! bottom); once found, the clock is looked for first where it was, in a
//! window around it, and in the whole crop only when it is not there.
//! Each digit becomes a [`Patch`]: its grey levels resampled to a fixed
//! grid and stretched to 0..1, so patches of one font and size compare by
//! plain distance.
//!
//! Invariants: work is bounded by the crop's size (a threshold that gives
//! more than [`MAX_SHAPES`] shapes is skipped); nothing is guessed — a
//! crop without the whole pattern gives `None`.

use super::video::Crop;

/// The resampled size of a digit.
pub const PATCH_W: usize = 8;
pub const PATCH_H: usize = 12;
/// Shapes beyond this many at one threshold mean a busy picture, not text.
const MAX_SHAPES: usize = 1500;
/// (seed, reach) levels: a shape is the pixels at or above `seed` joined
/// through neighbours at or above `reach` next to them (hysteresis one
/// pixel deep), so thin, dim strokes of small text stay in one piece.
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

/// One digit as cut out, and as cut with its left and right edges a pixel
/// either way: glyphs drawn at fractional positions differ by a pixel of
/// ink from one place to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Digit {
    /// The cut as found first, then the shifted ones.
    pub cuts: Vec<Patch>,
}

impl Digit {
    pub fn patch(&self) -> &Patch {
        &self.cuts[0]
    }

    /// The nearest of its cuts to `glyph`.
    pub fn distance(&self, glyph: &Patch) -> f32 {
        self.cuts
            .iter()
            .map(|c| c.distance(glyph))
            .fold(f32::MAX, f32::min)
    }
}

/// The fourteen digits of one clock reading, left to right.
pub type Digits = Vec<Digit>;

#[derive(Debug, Clone, Copy)]
struct Shape {
    x0: usize,
    x1: usize, // inclusive
    y0: usize,
    y1: usize, // inclusive
    /// Connected pieces it was made of.
    parts: usize,
}

impl Shape {
    fn join(&self, o: &Shape) -> Shape {
        Shape {
            x0: self.x0.min(o.x0),
            x1: self.x1.max(o.x1),
            y0: self.y0.min(o.y0),
            y1: self.y1.max(o.y1),
            parts: self.parts + o.parts,
        }
    }

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
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Digit,
    Dash,
    Colon,
    Other,
}

/// Where a clock was found in a crop: its first and last glyph's columns
/// and its rows.
#[derive(Debug, Clone, Copy)]
struct Place {
    x0: usize,
    x1: usize,
    top: usize,
    bottom: usize,
}

/// Finds the clock in crop after crop, trying first the levels that found
/// it first: one recording's digits are then cut at the same levels, so
/// the same digit gives the same patch. Where it was last found is
/// searched first, in a window a few line heights around it (Zoom draws
/// the clock in one place for the whole recording); the whole crop only
/// when it is not found there.
#[derive(Debug, Default, Clone)]
pub struct Finder {
    levels: Option<usize>,
    last: Option<Place>,
}

impl Finder {
    /// The clock's digits in `crop`, or `None` when no line has its
    /// pattern at any level.
    pub fn find(&mut self, crop: &Crop) -> Option<Digits> {
        if let (Some(i), Some(p)) = (self.levels, self.last) {
            let margin = 2 * (p.bottom - p.top + 1);
            let (x0, top) = (p.x0.saturating_sub(margin), p.top.saturating_sub(margin));
            let window = crop.window(x0, p.x1 + margin, top, p.bottom + margin);
            if let Some((d, at)) = find_at(&window, THRESHOLDS[i].0, THRESHOLDS[i].1) {
                self.last = Some(Place {
                    x0: at.x0 + x0,
                    x1: at.x1 + x0,
                    top: at.top + top,
                    bottom: at.bottom + top,
                });
                return Some(d);
            }
        }
        let found = match self.levels {
            Some(i) => find_at(crop, THRESHOLDS[i].0, THRESHOLDS[i].1).map(|f| (i, f)),
            None => None,
        };
        let (i, (d, at)) = found.or_else(|| {
            THRESHOLDS
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != self.levels)
                .find_map(|(i, &(seed, reach))| find_at(crop, seed, reach).map(|f| (i, f)))
        })?;
        self.levels.get_or_insert(i);
        self.last = Some(at);
        Some(d)
    }
}

/// The lowest line with the clock's pattern at one level, and where it is.
fn find_at(crop: &Crop, seed: u8, reach: u8) -> Option<(Digits, Place)> {
    let shapes = shapes(crop, seed, reach)?;
    let mut best: Option<(Digits, Place)> = None;
    for (top, bottom) in lines(&shapes) {
        if let Some((digits, (x0, x1))) = read_line(crop, &shapes, top, bottom)
            && best.as_ref().is_none_or(|(_, p)| bottom > p.bottom)
        {
            best = Some((
                digits,
                Place {
                    x0,
                    x1,
                    top,
                    bottom,
                },
            ));
        }
    }
    best
}

/// The 8-connected light shapes of the crop: pixels at or above `seed`,
/// and the ones at or above `reach` beside them.
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
            parts: 1,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            // From a seed pixel a shape reaches dimmer neighbours; from a
            // dim one only seeds: a one-pixel bridge joins the pieces of a
            // stroke, a light picture around the box is not flooded.
            let floor = if crop.luma[i] >= seed { reach } else { seed };
            s.x0 = s.x0.min(x);
            s.x1 = s.x1.max(x);
            s.y0 = s.y0.min(y);
            s.y1 = s.y1.max(y);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if !seen[j] && crop.luma[j] >= floor {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(s);
    }
    Some(knit(out))
}

/// Pieces of one stroke broken by dim anti-aliased pixels, joined again:
/// two shapes overlapping in x with at most one row between them become
/// one where the whole stays glyph-shaped (no wider than tall).
fn knit(mut shapes: Vec<Shape>) -> Vec<Shape> {
    // Each join rescans the pairs: bounded for a busy crop by leaving
    // its pieces as they are.
    if shapes.len() > 200 {
        return shapes;
    }
    let mut changed = true;
    while changed {
        changed = false;
        'outer: for i in 0..shapes.len() {
            for j in i + 1..shapes.len() {
                let (a, b) = (shapes[i], shapes[j]);
                let x_overlap = a.x0 <= b.x1 && b.x0 <= a.x1;
                let gap = b.y0.saturating_sub(a.y1).max(a.y0.saturating_sub(b.y1));
                let joined = a.join(&b);
                if x_overlap && gap <= 2 && joined.h() <= 120 && joined.w() <= joined.h() {
                    shapes[i] = joined;
                    shapes.swap_remove(j);
                    changed = true;
                    break 'outer;
                }
            }
        }
    }
    shapes
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

/// The digits of the clock in the line `top..=bottom`, and the columns
/// from its first glyph to its last.
fn read_line(
    crop: &Crop,
    shapes: &[Shape],
    top: usize,
    bottom: usize,
) -> Option<(Digits, (usize, usize))> {
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
                g.bbox = g.bbox.join(&s);
            }
            _ => glyphs.push(Glyph { bbox: s }),
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
    let digits = line
        .iter()
        .zip(PATTERN)
        .filter(|(_, k)| *k == D)
        .map(|(g, _)| digit(crop, g.bbox.x0, g.bbox.x1, top, bottom))
        .collect();
    Some((digits, (line[0].bbox.x0, line[PATTERN.len() - 1].bbox.x1)))
}

fn kind(g: &Glyph, top: usize, height: usize) -> Kind {
    let b = g.bbox;
    let h = b.h();
    let mid = (b.y0 + b.y1) as f32 / 2.0 - top as f32;
    // Two stacked dots, narrow and shorter than the digits (a dot may
    // carry a row of the box's edge, so "shorter" is generous).
    if b.parts >= 2 && h * 10 >= height * 3 && h * 10 <= height * 9 && b.w() * 2 <= height {
        Kind::Colon
    } else if h * 10 >= height * 8 && b.w() <= height {
        Kind::Digit
    } else if h * 10 <= height * 3
        && b.w() >= h
        && mid > height as f32 * 0.25
        && mid < height as f32 * 0.8
    {
        Kind::Dash
    } else {
        Kind::Other
    }
}

fn digit(crop: &Crop, x0: usize, x1: usize, top: usize, bottom: usize) -> Digit {
    let mut cuts = vec![patch(crop, x0, x1, top, bottom)];
    for (a, b) in [
        (-1, 0),
        (1, 0),
        (0, -1),
        (0, 1),
        (-1, -1),
        (1, 1),
        (-1, 1),
        (1, -1),
    ] {
        let (a, b) = (x0 as i64 + a, x1 as i64 + b);
        if a >= 0 && b >= a && (b as usize) < crop.width {
            cuts.push(patch(crop, a as usize, b as usize, top, bottom));
        }
    }
    Digit { cuts }
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
