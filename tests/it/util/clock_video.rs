//! Videos with Zoom's burned-in clock, drawn by ffmpeg's drawtext at the
//! bottom right in a chosen font, size, box opacity and background; a
//! pause is made by joining parts whose clocks lie apart. Used by the
//! clock reader's tests and by the tests that place marks through it.

use super::tools::ffmpeg;
use std::path::{Path, PathBuf};

pub const DEJAVU_SANS: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
pub const DEJAVU_MONO: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
pub const LIBERATION_SANS: &str = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf";
/// 2026-11-20 09:30:00 on the clock's calendar.
pub const EPOCH: i64 = 1_795_167_000;
pub const FPS: u32 = 25;

/// How a test video looks.
pub struct Look {
    pub width: u32,
    pub height: u32,
    pub font: &'static str,
    pub size: u32,
    pub box_opacity: f32,
    /// A lavfi source without size, rate or length (`testsrc2`,
    /// `mandelbrot`, `color=c=0x23395d`).
    pub background: &'static str,
    /// Keyframe interval in seconds.
    pub keyint: u32,
}

/// One stretch of a test video: this long, its clock starting at `clock`.
pub struct Part {
    pub seconds: u32,
    pub clock: i64,
}

impl Part {
    /// Two stretches: the clock starts at `clock` and runs `before`
    /// seconds, jumps by `pause` seconds (a pause; negative, a clock set
    /// back), then runs `after` seconds.
    pub fn paused(clock: i64, before: u32, pause: i64, after: u32) -> [Part; 2] {
        [
            Part {
                seconds: before,
                clock,
            },
            Part {
                seconds: after,
                clock: clock + i64::from(before) + pause,
            },
        ]
    }
}

/// Makes the video: each part's picture with its own clock drawn by
/// drawtext at the bottom right, joined, in H.264 High with B-frames.
pub fn video(dir: &Path, look: &Look, parts: &[Part], clock: bool) -> PathBuf {
    let out = dir.join("video.mp4");
    let mut args: Vec<String> = Vec::new();
    let mut filters = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let source = if look.background.contains('=') {
            format!("{}:", look.background)
        } else {
            format!("{}=", look.background)
        };
        args.extend([
            "-f".into(),
            "lavfi".into(),
            "-t".into(),
            p.seconds.to_string(),
            "-i".into(),
            format!("{source}s={}x{}:r={FPS}", look.width, look.height),
        ]);
        let draw = if clock {
            format!(
                r"drawtext=fontfile={}:fontsize={}:fontcolor=white:box=1:boxcolor=black@{}:x=w-tw-6:y=h-th-6:text='%{{pts\:gmtime\:{}\:%Y-%m-%d %H\\\:%M\\\:%S}}',",
                look.font, look.size, look.box_opacity, p.clock
            )
        } else {
            String::new()
        };
        filters.push(format!("[{i}:v]{draw}format=yuv420p[v{i}]"));
    }
    let inputs: String = (0..parts.len()).map(|i| format!("[v{i}]")).collect();
    filters.push(format!("{inputs}concat=n={}:v=1[out]", parts.len()));
    let keyint = (look.keyint * FPS).to_string();
    args.extend(
        [
            "-filter_complex",
            &filters.join(";"),
            "-map",
            "[out]",
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-bf",
            "3",
            "-g",
            &keyint,
            "-keyint_min",
            &keyint,
            "-sc_threshold",
            "0",
            "-crf",
            "30",
            "-preset",
            "veryfast",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&args, &out);
    out
}
