//! Redaction speed against ffmpeg, in the same run (criterion).
//!
//! Inputs are generated here with ffmpeg, never committed: a 32 kHz mono
//! AAC-LC M4A and a 1280×720 H.264 (B-frames, keyframe every 2 s) + AAC
//! MP4, each `RECPIPE_BENCH_MINUTES` long (default 10; the target
//! is 60). Each group times recpipe and the command a person would use:
//!
//! - `audio_wav`: decode + silence one range + 16-bit WAV, against
//!   `ffmpeg -af volume=enable='between(t,A,B)':volume=0`;
//! - `audio_remux`: the MP4's audio to an M4A without re-encoding, against
//!   `ffmpeg -vn -c copy`;
//! - `keyframe_cut`: one range cut out of the MP4 at keyframes, against
//!   ffmpeg's split (`-ss`/`-to` with `-c copy`) and concat demuxer.
//!
//! Outputs go to files in the same temporary directory for both. The peak
//! resident memory of this process (VmHWM) is printed at the end: it stays
//! flat in the input size because nothing holds a whole file.

use criterion::{Criterion, criterion_group, criterion_main};
use recpipe::redact::{Range, RedactMode, audio, m4a, video};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn minutes() -> u64 {
    std::env::var("RECPIPE_BENCH_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10)
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Inputs {
    dir: PathBuf,
    audio: PathBuf,
    video: PathBuf,
    secs: u64,
}

fn inputs() -> Inputs {
    let secs = minutes() * 60;
    let dir = std::env::var_os("RECPIPE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("recpipe-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let audio = dir.join(format!("audio-{secs}s.m4a"));
    if !audio.exists() {
        let src = format!("sine=frequency=440:sample_rate=32000:duration={secs}");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &src,
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            audio.to_str().unwrap(),
        ]);
    }
    let video = dir.join(format!("video-{secs}s.mp4"));
    if !video.exists() {
        let v = format!("testsrc2=s=1280x720:r=25:d={secs}");
        let a = format!("sine=frequency=440:sample_rate=48000:duration={secs}");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &v,
            "-f",
            "lavfi",
            "-i",
            &a,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "2",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            video.to_str().unwrap(),
        ]);
    }
    Inputs {
        dir,
        audio,
        video,
        secs,
    }
}

fn file(dir: &Path, name: &str) -> std::fs::File {
    std::fs::File::create(dir.join(name)).unwrap()
}

fn benches(c: &mut Criterion) {
    let inp = inputs();
    // One range a third of the way in, a minute long (or a tenth).
    let a = inp.secs / 3;
    let b = a + (inp.secs / 10).clamp(1, 60);
    let range = [Range::secs(a as f64, b as f64)];
    let d = &inp.dir;

    let mut g = c.benchmark_group(format!("audio_wav_{}min", inp.secs / 60));
    g.sample_size(10);
    g.bench_function("recpipe", |bench| {
        bench.iter(|| {
            audio::to_wav(
                &inp.audio,
                None,
                &range,
                RedactMode::Silence,
                file(d, "r.wav"),
            )
            .unwrap()
        })
    });
    let af = format!("volume=enable='between(t,{a},{b})':volume=0");
    let out = d.join("f.wav");
    g.bench_function("ffmpeg", |bench| {
        bench.iter(|| {
            ffmpeg(&[
                "-i",
                inp.audio.to_str().unwrap(),
                "-af",
                &af,
                "-c:a",
                "pcm_s16le",
                out.to_str().unwrap(),
            ])
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("audio_remux_{}min", inp.secs / 60));
    g.sample_size(10);
    g.bench_function("recpipe", |bench| {
        bench.iter(|| {
            m4a::remux(&inp.video, None, &[], RedactMode::Silence, file(d, "r.m4a")).unwrap()
        })
    });
    let out = d.join("f.m4a");
    g.bench_function("ffmpeg", |bench| {
        bench.iter(|| {
            ffmpeg(&[
                "-i",
                inp.video.to_str().unwrap(),
                "-vn",
                "-c",
                "copy",
                out.to_str().unwrap(),
            ])
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("keyframe_cut_{}min", inp.secs / 60));
    g.sample_size(10);
    g.bench_function("recpipe", |bench| {
        bench.iter(|| video::cut(&inp.video, &range, file(d, "r.mp4")).unwrap())
    });
    let (p1, p2, out) = (d.join("p1.mp4"), d.join("p2.mp4"), d.join("f.mp4"));
    let list = d.join("list.txt");
    std::fs::write(
        &list,
        format!("file '{}'\nfile '{}'\n", p1.display(), p2.display()),
    )
    .unwrap();
    let (a_s, b_s) = (a.to_string(), b.to_string());
    g.bench_function("ffmpeg_split_concat", |bench| {
        bench.iter(|| {
            let v = inp.video.to_str().unwrap();
            ffmpeg(&["-to", &a_s, "-i", v, "-c", "copy", p1.to_str().unwrap()]);
            ffmpeg(&["-ss", &b_s, "-i", v, "-c", "copy", p2.to_str().unwrap()]);
            ffmpeg(&[
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                list.to_str().unwrap(),
                "-c",
                "copy",
                out.to_str().unwrap(),
            ]);
        })
    });
    g.finish();

    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "VmHWM unknown".into());
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len() / (1 << 20))
            .unwrap_or(0)
    };
    eprintln!(
        "inputs: audio {} MiB, video {} MiB; this process's peak memory: {hwm}",
        size(&inp.audio),
        size(&inp.video)
    );
}

criterion_group! {
    name = redact;
    config = Criterion::default().measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(redact);
