//! Audio redaction to WAV on real tone-coded AAC-LC built with ffmpeg:
//! the redacted block's tone must be gone from every window of the output,
//! every other block's tone present where it belongs, and the lengths those
//! of silence (unchanged) and cut (shorter by the block).

use crate::util::media_gen::*;
use recpipe::redact::{Range, RedactMode, audio};
use std::path::Path;
use std::time::Duration;

const RATE: u32 = 32000;

fn wav_samples(bytes: &[u8]) -> (hound::WavSpec, Vec<f32>) {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a WAV file");
    let spec = reader.spec();
    let samples = reader
        .into_samples::<i16>()
        .map(|s| s.expect("a sample") as f32 / 32768.0)
        .collect();
    (spec, samples)
}

/// Checks each whole second of `pcm` against the block it should come
/// from (`expect(second)`; `None` = silence), skipping seconds that touch a
/// block boundary, and that the `gone` tone is absent from every second.
fn check_windows(pcm: &[f32], rate: u32, expect: impl Fn(usize) -> Option<usize>, gone: usize) {
    let seconds = pcm.len() / rate as usize;
    assert!(seconds > 0);
    for s in 0..seconds {
        let w = &pcm[s * rate as usize..(s + 1) * rate as usize];
        let gone_power = goertzel(w, rate, TONES[gone]);
        assert!(
            gone_power < 1e-6,
            "second {s}: the redacted {} Hz tone is still there (power {gone_power:e})",
            TONES[gone]
        );
        let boundary = s % 10 == 9 || s % 10 == 0;
        if boundary {
            continue;
        }
        match expect(s) {
            None => assert!(
                w.iter().all(|x| x.abs() < 1e-3),
                "second {s} should be silent"
            ),
            Some(block) => {
                let got = dominant_tone(w, rate).map(|(i, _)| i);
                assert_eq!(got, Some(block), "second {s} should carry block {block}");
            }
        }
    }
}

fn check_clean(path: &Path) {
    let errors = ffmpeg_errors(path);
    assert!(
        errors.is_empty(),
        "ffmpeg decodes {} with errors: {errors}",
        path.display()
    );
}

#[test]
fn silence_mode_keeps_the_timeline_and_removes_the_tone() {
    let dir = tempfile::tempdir().unwrap();
    let input = tone_m4a(dir.path(), "audio.m4a", 4, 10.0, RATE);
    let mut wav = Vec::new();
    let ranges = [Range::secs(10.0, 20.0)];
    let report = audio::to_wav(&input, None, &ranges, RedactMode::Silence, &mut wav).unwrap();

    assert_eq!(report.removed.len(), 1);
    assert!(report.removed[0].covers(&ranges[0]), "{:?}", report.removed);
    assert!(report.removed[0].len() <= ranges[0].len() + Duration::from_millis(1));
    assert_eq!(report.bytes, wav.len() as u64);
    assert!(
        (report.duration.as_secs_f64() - 40.0).abs() < 0.05,
        "{:?}",
        report.duration
    );

    let (spec, pcm) = wav_samples(&wav);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (RATE, 1, 16)
    );
    assert!(
        (pcm.len() as f64 / RATE as f64 - 40.0).abs() < 0.05,
        "{} samples",
        pcm.len()
    );
    // Digital silence, exactly, over the whole range.
    let range = &pcm[10 * RATE as usize..20 * RATE as usize];
    assert!(
        range.iter().all(|&x| x == 0.0),
        "the range is not digital silence"
    );
    check_windows(&pcm, RATE, |s| (s / 10 != 1).then_some(s / 10), 1);

    // ffmpeg, as an independent decoder of what was written.
    let out = dir.path().join("out.wav");
    std::fs::write(&out, &wav).unwrap();
    check_clean(&out);
    assert!((ffprobe_duration(&out, "a") - 40.0).abs() < 0.05);
    let theirs = ffmpeg_pcm(&out, RATE);
    check_windows(&theirs, RATE, |s| (s / 10 != 1).then_some(s / 10), 1);
}

#[test]
fn cut_mode_removes_the_block_and_moves_later_audio_up() {
    let dir = tempfile::tempdir().unwrap();
    let input = tone_m4a(dir.path(), "audio.m4a", 4, 10.0, RATE);
    let mut wav = Vec::new();
    let report = audio::to_wav(
        &input,
        None,
        &[Range::secs(10.0, 20.0)],
        RedactMode::Cut,
        &mut wav,
    )
    .unwrap();
    assert!(
        (report.duration.as_secs_f64() - 30.0).abs() < 0.05,
        "{:?}",
        report.duration
    );
    let (_, pcm) = wav_samples(&wav);
    assert!((pcm.len() as f64 / RATE as f64 - 30.0).abs() < 0.05);
    let expect = |s: usize| Some(if s < 10 { 0 } else { s / 10 + 1 });
    check_windows(&pcm, RATE, expect, 1);

    let out = dir.path().join("out.wav");
    std::fs::write(&out, &wav).unwrap();
    check_clean(&out);
    assert!((ffprobe_duration(&out, "a") - 30.0).abs() < 0.05);
}

#[test]
fn several_ranges_and_a_range_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let input = tone_m4a(dir.path(), "audio.m4a", 3, 10.0, RATE);
    let mut wav = Vec::new();
    // Block 0's last two seconds and block 2 up to past the end.
    let ranges = [Range::secs(8.0, 10.0), Range::secs(20.0, 35.0)];
    let report = audio::to_wav(&input, None, &ranges, RedactMode::Cut, &mut wav).unwrap();
    assert_eq!(report.removed.len(), 2);
    assert!(
        (report.duration.as_secs_f64() - 18.0).abs() < 0.05,
        "{:?}",
        report.duration
    );
    let (_, pcm) = wav_samples(&wav);
    let tones: Vec<Option<usize>> = pcm
        .chunks(RATE as usize)
        .map(|w| dominant_tone(w, RATE).map(|t| t.0))
        .collect();
    assert_eq!(tones[1..7], [Some(0); 6]);
    assert_eq!(tones[9..17], [Some(1); 8]);
    assert!(pcm[..8 * RATE as usize].iter().any(|&x| x != 0.0));
}

#[test]
fn a_file_that_is_not_mp4_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audio.m4a");
    std::fs::write(&path, b"this is not an mp4 file at all").unwrap();
    let err = audio::to_wav(&path, None, &[], RedactMode::Silence, std::io::sink()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("audio.m4a"), "{msg}");
}
