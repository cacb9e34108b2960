//! The fail-closed oracle for marks: a whole run of the pipeline on a
//! [`World`], then either every delivered output is decoded by ffmpeg and
//! the marked passage is silent (WAV) or cut (MP4) in it, or nothing was
//! delivered, the exit is 4 and every interim file is as it was.

use super::media_gen::{ffmpeg_pcm, ffprobe_duration};
use super::world::{World, copy_dir, same_tree};
use std::fs;
use std::path::{Path, PathBuf};

/// The sample's marked passage, in seconds from its start: 14:04:05 to
/// 14:04:17 on a recording that started 14:03:11.
pub const PASSAGE: (f64, f64) = (54.0, 66.0);

/// The sample video's length, seconds.
const SAMPLE_VIDEO: f64 = 158.7;

/// What a run did.
#[derive(Debug)]
pub enum Verdict {
    /// Outputs were delivered (file names), each checked.
    Delivered(Vec<String>),
    /// Nothing delivered, exit 4, the interim copy intact: what it said.
    Stopped(String),
    /// Nothing delivered and the interim copy intact, with another exit
    /// code (a recording that waits): its code and what it said.
    Held(i32, String),
}

/// Runs `w` once and checks the invariant for `passage` (seconds, in the
/// time of every delivered audio output).
pub fn run(w: &World, passage: (f64, f64)) -> Verdict {
    run_with(w, |_| passage)
}

/// [`run`] with the passage in each output's own time, by output name (a
/// file that starts later than the others has it earlier).
pub fn run_with(w: &World, passage_of: impl Fn(&str) -> (f64, f64)) -> Verdict {
    let original = w.path("original");
    let _ = fs::remove_dir_all(&original);
    copy_dir(&w.recording(), &original);
    let out = w.run();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let delivered: Vec<PathBuf> = w.delivered(&w.path("out"));
    if delivered.is_empty() {
        assert!(
            same_tree(&original, &w.recording()),
            "nothing delivered, yet the interim copy changed: {said}"
        );
        let code = out.status.code().unwrap_or(-1);
        return if code == 4 {
            Verdict::Stopped(said)
        } else {
            Verdict::Held(code, said)
        };
    }
    for f in &delivered {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        check_output(w, f, passage_of(&name), &said);
    }
    Verdict::Delivered(
        delivered
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect(),
    )
}

/// One delivered output: opened with the world's key and decoded by
/// ffmpeg; the passage silent in audio, cut from video. An empty passage
/// (an output the marks do not reach, such as another segment's) is only
/// opened.
pub fn check_output(w: &World, sealed: &Path, passage: (f64, f64), said: &str) {
    let name = sealed.file_name().unwrap().to_string_lossy().into_owned();
    if name.contains("_manifest.") {
        return;
    }
    if passage.1 <= passage.0 {
        w.open(sealed);
        return;
    }
    let ext = if name.contains(".wav") {
        "wav"
    } else if name.contains(".mp4") {
        "mp4"
    } else if name.contains(".m4a") {
        "m4a"
    } else {
        panic!("{name}: an output of a kind the oracle does not know ({said})");
    };
    let plain = w.open(sealed);
    let tmp = w.path(&format!("oracle-check.{ext}"));
    fs::write(&tmp, &plain).unwrap();
    if ext == "mp4" {
        let d = ffprobe_duration(&tmp, "v:0");
        assert!(
            d <= SAMPLE_VIDEO - (passage.1 - passage.0) + 0.5,
            "{name}: the video is {d} s long, so the marked passage was not cut ({said})"
        );
    } else {
        let (rate, pcm) = decoded(&tmp, ext);
        let (a, b) = (
            ((passage.0 + 0.05) * rate as f64) as usize,
            ((passage.1 - 0.05) * rate as f64) as usize,
        );
        assert!(pcm.len() > b, "{name}: shorter than the passage ({said})");
        let peak = pcm[a..b].iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!(
            peak < 1e-4,
            "{name}: the marked passage is not silent (peak {peak}) ({said})"
        );
    }
    fs::remove_file(&tmp).unwrap();
}

/// An audio output's samples (mono, the loudest channel of each frame)
/// and their rate. ffmpeg decodes them; under Wine, where ffmpeg's
/// results are taken from the Linux run by the file's content, a WAV is
/// read with hound instead, since the Windows build's AAC decoder may
/// differ from the Linux build's in the last bit of a sample (its own
/// libm), so the content, and with it the stored result, is not the same.
fn decoded(file: &Path, ext: &str) -> (u32, Vec<f32>) {
    if cfg!(windows) && ext == "wav" {
        let mut r = hound::WavReader::open(file).unwrap();
        let spec = r.spec();
        let channels = usize::from(spec.channels.max(1));
        let samples: Vec<f32> = r
            .samples::<i16>()
            .map(|s| f32::from(s.unwrap()) / 32768.0)
            .collect();
        let pcm = samples
            .chunks(channels)
            .map(|f| f.iter().fold(0f32, |m, s| m.max(s.abs())))
            .collect();
        (spec.sample_rate, pcm)
    } else {
        (8000, ffmpeg_pcm(file, 8000))
    }
}

/// The loudest sample of `file`'s audio in `passage`, decoded as
/// [`check_output`] decodes it (ffmpeg; a WAV under Wine with hound): what
/// shows the passage is there to be removed, or the rest kept.
pub fn loudness(file: &Path, passage: (f64, f64)) -> f32 {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let (rate, pcm) = decoded(file, ext);
    let (a, b) = (
        (passage.0 * rate as f64) as usize,
        (passage.1 * rate as f64) as usize,
    );
    pcm[a.min(pcm.len())..b.min(pcm.len())]
        .iter()
        .fold(0f32, |m, s| m.max(s.abs()))
}
