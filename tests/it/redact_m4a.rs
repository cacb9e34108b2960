//! Audio kept as AAC: tone-coded AAC-LC remuxed to M4A with a block
//! silenced (silent AAC frames, timeline unchanged) or cut, decoded by
//! symphonia and by ffmpeg; the block's tone must be gone, the others
//! present, the original frames of the range absent from the file.

use crate::util::media_gen::*;
use crate::util::tools;
use recpipe::media::audio::decode_to_end;
use recpipe::media::mp4::Mp4File;
use recpipe::redact::{Range, RedactMode, m4a};
use std::path::Path;

const RATE: u32 = 32000;

/// Per whole second of ffmpeg-decoded PCM: the dominant tone, if any.
fn tones(path: &Path) -> Vec<Option<usize>> {
    ffmpeg_pcm(path, RATE)
        .chunks_exact(RATE as usize)
        .map(|w| dominant_tone(w, RATE).map(|t| t.0))
        .collect()
}

fn gone_everywhere(path: &Path, tone: usize) {
    let pcm = ffmpeg_pcm(path, RATE);
    for (s, w) in pcm.chunks(RATE as usize / 4).enumerate() {
        let p = goertzel(w, RATE, TONES[tone]);
        assert!(
            p < 1e-6,
            "quarter-second {s}: {} Hz still there ({p:e})",
            TONES[tone]
        );
    }
}

fn symphonia_seconds(path: &Path) -> f64 {
    let file = Mp4File::open(path).unwrap();
    let track = file.movie.tracks.iter().find(|t| t.is_audio()).unwrap();
    decode_to_end(path, track).unwrap().seconds
}

#[test]
fn silence_replaces_the_frames_and_keeps_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let input = tone_m4a(dir.path(), "audio.m4a", 4, 10.0, RATE);
    let out = dir.path().join("out.m4a");
    let range = Range::secs(10.0, 20.0);
    let mut bytes = Vec::new();
    let report = m4a::remux(&input, None, &[range], RedactMode::Silence, &mut bytes).unwrap();
    std::fs::write(&out, &bytes).unwrap();
    assert_eq!(report.bytes, bytes.len() as u64);
    assert_eq!(report.removed.len(), 1);
    let removed = report.removed[0];
    assert!(removed.covers(&range), "{removed:?}");
    // widened by less than one AAC frame each side
    let frame = 1024.0 / RATE as f64;
    assert!(removed.start.as_secs_f64() > 10.0 - frame, "{removed:?}");
    assert!(removed.end.as_secs_f64() < 20.0 + frame, "{removed:?}");

    assert_eq!(ffmpeg_errors(&out), "");
    assert!((ffprobe_duration(&out, "a") - 40.0).abs() < 0.05);
    // ffmpeg decodes the reported range to (near) digital silence.
    let pcm = ffmpeg_pcm(&out, RATE);
    let (a, b) = (
        (removed.start.as_secs_f64() * RATE as f64).ceil() as usize,
        (removed.end.as_secs_f64() * RATE as f64).floor() as usize,
    );
    let loudest = pcm[a..b].iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(
        loudest < 1e-4,
        "the reported range is not silent: peak {loudest}"
    );
    let t = tones(&out);
    assert_eq!(t.len(), 40);
    for (s, got) in t.iter().enumerate() {
        let want = match s {
            10..=19 => None,
            _ => Some(s / 10),
        };
        if s % 10 != 0 && s % 10 != 9 {
            assert_eq!(*got, want, "second {s}");
        }
    }
    gone_everywhere(&out, 1);
    assert!((symphonia_seconds(&out) - symphonia_seconds(&input)).abs() < 1e-9);

    // The original frames of the range are not in the file.
    let src = Mp4File::open(&input).unwrap();
    let track = src.movie.tracks.iter().find(|t| t.is_audio()).unwrap();
    let original = std::fs::read(&input).unwrap();
    let inside: Vec<&[u8]> = track
        .samples()
        .filter(|s| s.dts >= 11 * RATE as u64 && s.dts < 19 * RATE as u64)
        .map(|s| &original[s.offset as usize..s.offset as usize + s.size as usize])
        .collect();
    assert!(inside.len() > 200);
    for frame in inside {
        assert!(
            !bytes.windows(frame.len()).any(|w| w == frame),
            "an original frame of the range is still in the output"
        );
    }
    assert!(bytes.len() < original.len() * 8 / 10);
}

#[test]
fn cut_removes_the_frames_and_shortens_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let input = tone_m4a(dir.path(), "audio.m4a", 4, 10.0, RATE);
    let out = dir.path().join("out.m4a");
    let file = std::fs::File::create(&out).unwrap();
    let report = m4a::remux(
        &input,
        None,
        &[Range::secs(10.0, 20.0)],
        RedactMode::Cut,
        file,
    )
    .unwrap();
    assert_eq!(ffmpeg_errors(&out), "");
    let d = ffprobe_duration(&out, "a");
    assert!((d - 30.0).abs() < 0.15, "{d}");
    assert!(
        (report.duration.as_secs_f64() - d).abs() < 0.05,
        "{:?} vs {d}",
        report.duration
    );
    let t = tones(&out);
    for (s, got) in t.iter().enumerate() {
        let want = if s < 10 { 0 } else { s / 10 + 1 };
        if s % 10 != 0 && s % 10 != 9 {
            assert_eq!(*got, Some(want), "second {s}");
        }
    }
    gone_everywhere(&out, 1);
}

#[test]
fn no_ranges_is_a_plain_remux_and_the_audio_of_an_mp4_becomes_an_m4a() {
    let dir = tempfile::tempdir().unwrap();
    let input = colour_mp4(dir.path(), "video.mp4", 2, 5.0, 2.0, false);
    let out = dir.path().join("audio.m4a");
    let file = std::fs::File::create(&out).unwrap();
    m4a::remux(&input, None, &[], RedactMode::Silence, file).unwrap();
    assert_eq!(ffmpeg_errors(&out), "");
    let probe = tools::Tool::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .input(&out)
        .run_ok();
    assert_eq!(probe.stdout_text().trim(), "audio");
    assert!((ffprobe_duration(&out, "a") - ffprobe_duration(&input, "a")).abs() < 0.01);
    let ours = ffmpeg_pcm(&out, RATE);
    let theirs = ffmpeg_pcm(&input, RATE);
    assert_eq!(ours, theirs, "the remuxed audio decodes differently");
}

#[test]
fn stereo_silence_decodes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mono = tone_m4a(dir.path(), "mono.m4a", 2, 5.0, 48000);
    let input = dir.path().join("stereo.m4a");
    tools::Tool::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .input(&mono)
        .args(["-ac", "2", "-c:a", "aac", "-b:a", "96k"])
        .output(&input)
        .run_ok();
    let out = dir.path().join("out.m4a");
    let file = std::fs::File::create(&out).unwrap();
    m4a::remux(
        &input,
        None,
        &[Range::secs(5.0, 10.0)],
        RedactMode::Silence,
        file,
    )
    .unwrap();
    assert_eq!(ffmpeg_errors(&out), "");
    let pcm = ffmpeg_pcm(&out, 48000);
    for (s, w) in pcm.chunks(48000).enumerate() {
        assert!(goertzel(w, 48000, TONES[1]) < 1e-6, "second {s}");
    }
    assert!(symphonia_seconds(&out) > 9.9);
}
