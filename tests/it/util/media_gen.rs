//! Real media for the redaction tests, built with ffmpeg, and the oracles
//! that check outputs independently of recpipe: ffmpeg decoding to raw PCM
//! or 1×1-pixel RGB, ffprobe durations, a Goertzel tone detector.
//!
//! Tone-coded audio: each block of `block` seconds is a sine of its own
//! frequency. Colour-coded video: each block is a solid colour of its own,
//! with the block's tone as audio. Redacting a block must make its tone or
//! colour vanish from the output while every other block stays.
//!
//! ffmpeg and ffprobe run through [`tools`], so that the Windows run under
//! Wine uses what the Linux run computed.

use super::tools::Tool;
use std::path::{Path, PathBuf};

/// Frequencies of consecutive tone blocks (far apart, none a harmonic of
/// another within the set's range).
pub const TONES: [f64; 6] = [440.0, 700.0, 1000.0, 1300.0, 1700.0, 2100.0];
/// Colours of consecutive video blocks, with their RGB values.
pub const COLOURS: [(&str, [u8; 3]); 6] = [
    ("red", [255, 0, 0]),
    ("lime", [0, 255, 0]),
    ("blue", [0, 0, 255]),
    ("yellow", [255, 255, 0]),
    ("magenta", [255, 0, 255]),
    ("cyan", [0, 255, 255]),
];

fn sine_inputs(mut cmd: Tool, blocks: usize, block: f64, rate: u32) -> Tool {
    for f in &TONES[..blocks] {
        cmd = cmd.args(["-f", "lavfi", "-i"]).arg(format!(
            "sine=frequency={f}:sample_rate={rate}:duration={block}"
        ));
    }
    cmd
}

/// AAC-LC in M4A: `blocks` tone blocks of `block` seconds, mono at `rate`.
pub fn tone_m4a(dir: &Path, name: &str, blocks: usize, block: f64, rate: u32) -> PathBuf {
    let path = dir.join(name);
    let cmd = Tool::new("ffmpeg").args(["-v", "error", "-y"]);
    let cmd = sine_inputs(cmd, blocks, block, rate);
    let concat: String = (0..blocks).map(|i| format!("[{i}:a]")).collect();
    cmd.args(["-filter_complex"])
        .arg(format!("{concat}concat=n={blocks}:v=0:a=1[a]"))
        .args(["-map", "[a]", "-c:a", "aac", "-b:a", "64k"])
        .output(&path)
        .run_ok();
    path
}

/// H.264 (with B-frames, a keyframe every `gop` seconds) + AAC-LC in MP4:
/// `blocks` colour blocks of `block` seconds at 25 fps, 160×120, each with
/// its block's tone. `faststart` puts the moov first.
pub fn colour_mp4(
    dir: &Path,
    name: &str,
    blocks: usize,
    block: f64,
    gop: f64,
    faststart: bool,
) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = Tool::new("ffmpeg").args(["-v", "error", "-y"]);
    for (c, _) in &COLOURS[..blocks] {
        cmd = cmd
            .args(["-f", "lavfi", "-i"])
            .arg(format!("color=c={c}:s=160x120:r=25:d={block}"));
    }
    cmd = sine_inputs(cmd, blocks, block, 48000);
    let concat: String = (0..blocks)
        .map(|i| format!("[{i}:v][{}:a]", blocks + i))
        .collect();
    let gop_frames = (gop * 25.0).round() as u32;
    cmd = cmd
        .args(["-filter_complex"])
        .arg(format!("{concat}concat=n={blocks}:v=1:a=1[v][a]"))
        .args(["-map", "[v]", "-map", "[a]"])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-bf", "2",
        ])
        .args([
            "-g",
            &gop_frames.to_string(),
            "-keyint_min",
            &gop_frames.to_string(),
        ])
        .args(["-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k"]);
    if faststart {
        cmd = cmd.args(["-movflags", "+faststart"]);
    }
    cmd.output(&path).run_ok();
    path
}

/// Mono f32 PCM of a file's first audio stream, decoded by ffmpeg.
pub fn ffmpeg_pcm(path: &Path, rate: u32) -> Vec<f32> {
    let out = Tool::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .input(path)
        .args([
            "-vn",
            "-ac",
            "1",
            "-ar",
            &rate.to_string(),
            "-f",
            "f32le",
            "-",
        ])
        .run_ok();
    out.stdout
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Everything ffmpeg says at level `error` while decoding the whole file;
/// empty for a clean file.
pub fn ffmpeg_errors(path: &Path) -> String {
    let out = Tool::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .input(path)
        .args(["-f", "null", "-"])
        .run();
    let mut text = out.stderr_text();
    if !out.success() {
        text.push_str(&format!(" (exit {:?})", out.code));
    }
    text
}

/// ffprobe's duration of a stream type (`a` or `v`) in seconds.
pub fn ffprobe_duration(path: &Path, stream: &str) -> f64 {
    Tool::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream])
        .args(["-show_entries", "stream=duration", "-of", "csv=p=0"])
        .input(path)
        .run_ok()
        .stdout_text()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no {stream} duration from ffprobe for {}", path.display()))
}

/// The average colour of every video frame, decoded by ffmpeg, with its
/// presentation time in seconds.
pub fn frame_colours(path: &Path) -> Vec<(f64, [u8; 3])> {
    let out = Tool::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .input(path)
        .args(["-an", "-vf", "scale=1:1", "-fps_mode", "passthrough"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .run_ok();
    out.stdout
        .chunks_exact(3)
        .enumerate()
        .map(|(i, c)| (i as f64 / 25.0, [c[0], c[1], c[2]]))
        .collect()
}

/// Which of [`COLOURS`] an RGB value is, if any.
pub fn colour_index(rgb: [u8; 3]) -> Option<usize> {
    COLOURS.iter().position(|(_, c)| {
        c.iter()
            .zip(rgb)
            .all(|(&want, got)| (want as i32 - got as i32).abs() < 40)
    })
}

/// Relative power of `freq` in `samples` (Goertzel), normalised so that a
/// full-scale sine scores about 0.25 and silence 0.
pub fn goertzel(samples: &[f32], rate: u32, freq: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * freq / rate as f64;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = x as f64 + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    power / (samples.len() as f64 * samples.len() as f64)
}

/// The strongest of [`TONES`] in a window, with its power; `None` when the
/// window is (near) silent.
pub fn dominant_tone(samples: &[f32], rate: u32) -> Option<(usize, f64)> {
    let powers: Vec<f64> = TONES.iter().map(|&f| goertzel(samples, rate, f)).collect();
    let (best, &p) = powers
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    (p > 1e-4).then_some((best, p))
}

/// Which encoder [`open_gop_mp4`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenGop {
    /// x264 with `open_gop=1`: a non-IDR I-picture (marked sync) every
    /// second, and one IDR at `idr_at` seconds.
    H264 { idr_at: u32 },
    /// x265 with `open-gop=1`: a CRA (marked sync) every second.
    Hevc,
}

/// Open-GOP video with B-frames and no audio: `blocks` colour blocks of 2 s
/// at 25 fps, 320×180, a random-access picture every second whose leading
/// pictures reference the group before it.
pub fn open_gop_mp4(dir: &Path, name: &str, blocks: usize, kind: OpenGop) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = Tool::new("ffmpeg").args(["-v", "error", "-y"]);
    for (c, _) in &COLOURS[..blocks] {
        cmd = cmd
            .args(["-f", "lavfi", "-i"])
            .arg(format!("color=c={c}:s=320x180:r=25:d=2"));
    }
    let concat: String = (0..blocks).map(|i| format!("[{i}:v]")).collect();
    cmd = cmd
        .args(["-filter_complex"])
        .arg(format!(
            "{concat}concat=n={blocks}:v=1:a=0,noise=alls=30:allf=t[v]"
        ))
        .args(["-map", "[v]", "-pix_fmt", "yuv420p"]);
    cmd = match kind {
        OpenGop::H264 { idr_at } => cmd
            .args(["-c:v", "libx264", "-preset", "veryfast", "-bf", "2"])
            .args([
                "-x264-params",
                "open_gop=1:keyint=25:min-keyint=25:scenecut=0",
            ])
            .args(["-force_key_frames"])
            .arg(format!("expr:eq(t,{idr_at})"))
            .args(["-forced-idr", "1"]),
        OpenGop::Hevc => cmd
            .args(["-c:v", "libx265", "-x265-params"])
            .arg("open-gop=1:keyint=25:min-keyint=25:scenecut=0:bframes=3:log-level=error"),
    };
    cmd.output(&path).run_ok();
    path
}

/// Presentation times (in seconds) of a file's video frames in the order
/// ffmpeg's decoder outputs them.
pub fn frame_times(path: &Path) -> Vec<f64> {
    Tool::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v"])
        .args(["-show_entries", "frame=pts_time", "-of", "csv=p=0"])
        .input(path)
        .run_ok()
        .stdout_text()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let t = l.trim().split(',').next().unwrap_or_default();
            t.parse()
                .unwrap_or_else(|_| panic!("ffprobe frame time {l:?}"))
        })
        .collect()
}
