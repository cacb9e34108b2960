//! Video cut at keyframes on real colour-coded H.264 (B-frames, a keyframe
//! every 3 s) + tone-coded AAC built with ffmpeg: the redacted block's
//! colour and tone must be gone from every frame and second of the output,
//! everything outside the widened range present and in order, sound and
//! picture the same length, and ffmpeg must decode it without an error.

use crate::util::media_gen::*;
use recpipe::media::mp4::Mp4File;
use recpipe::redact::{Range, video};
use std::path::Path;

/// Expected block at output time `t` given the widened removed spans (in
/// input seconds), with 10-s blocks.
fn source_time(t: f64, removed: &[(f64, f64)]) -> f64 {
    let mut src = t;
    for &(a, b) in removed {
        if src >= a {
            src += b - a;
        }
    }
    src
}

fn check_output(out: &Path, removed: &[(f64, f64)], gone: usize, blocks: usize) {
    assert_eq!(ffmpeg_errors(out), "", "ffmpeg reports errors");
    let kept = blocks as f64 * 10.0 - removed.iter().map(|(a, b)| b - a).sum::<f64>();
    let v = ffprobe_duration(out, "v");
    let a = ffprobe_duration(out, "a");
    assert!((v - kept).abs() < 0.1, "video lasts {v} s, expected {kept}");
    assert!((a - kept).abs() < 0.1, "audio lasts {a} s, expected {kept}");

    let frames = frame_colours(out);
    assert!(
        (frames.len() as f64 / 25.0 - kept).abs() < 0.1,
        "{} frames",
        frames.len()
    );
    for (t, rgb) in &frames {
        let block = colour_index(*rgb);
        assert_ne!(
            block,
            Some(gone),
            "frame at {t:.2} s shows the redacted colour"
        );
        let src = source_time(*t, removed);
        let near_edge = (src % 10.0) < 0.1 || (src % 10.0) > 9.9;
        if !near_edge {
            assert_eq!(
                block,
                Some((src / 10.0) as usize),
                "frame at {t:.2} s (source {src:.2} s)"
            );
        }
    }
    let pcm = ffmpeg_pcm(out, 48000);
    for (q, w) in pcm.chunks(12000).enumerate() {
        let p = goertzel(w, 48000, TONES[gone]);
        assert!(
            p < 1e-6,
            "quarter-second {q}: the redacted tone is still there ({p:e})"
        );
    }
    for (s, w) in pcm.chunks_exact(48000).enumerate() {
        let src = source_time(s as f64 + 0.5, removed);
        if (src % 10.0) > 1.0 && (src % 10.0) < 9.0 {
            let got = dominant_tone(w, 48000).map(|t| t.0);
            assert_eq!(
                got,
                Some((src / 10.0) as usize),
                "second {s} (source {src:.1} s)"
            );
        }
    }
}

fn run_cut(faststart: bool) {
    let dir = tempfile::tempdir().unwrap();
    let input = colour_mp4(dir.path(), "video.mp4", 4, 10.0, 3.0, faststart);
    let src = Mp4File::open(&input).unwrap();
    assert_eq!(src.moov_first, faststart);
    let v = src.movie.tracks.iter().find(|t| t.is_video()).unwrap();
    assert!(
        !v.samples.ctts.is_empty(),
        "the test input must have B-frames"
    );

    let out = dir.path().join("out.mp4");
    let range = Range::secs(10.0, 20.0);
    let report = video::cut(&input, &[range], std::fs::File::create(&out).unwrap()).unwrap();
    assert_eq!(report.removed.len(), 1);
    let w = report.removed[0];
    assert!(w.covers(&range), "{w:?}");
    // keyframes every 3 s: 9 s is the last at or before 10 s, 21 s the first at or after 20 s
    assert!((w.start.as_secs_f64() - 9.0).abs() < 0.01, "{w:?}");
    assert!((w.end.as_secs_f64() - 21.0).abs() < 0.01, "{w:?}");
    assert!(
        (report.duration.as_secs_f64() - 28.0).abs() < 0.05,
        "{:?}",
        report.duration
    );
    assert_eq!(report.bytes, std::fs::metadata(&out).unwrap().len());
    check_output(&out, &[(9.0, 21.0)], 1, 4);
    let ours = Mp4File::open(&out).unwrap();
    assert!(ours.moov_first);
}

#[test]
fn cut_with_moov_at_the_end() {
    run_cut(false);
}

#[test]
fn cut_with_moov_at_the_start() {
    run_cut(true);
}

#[test]
fn two_ranges_and_one_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let input = colour_mp4(dir.path(), "video.mp4", 4, 10.0, 3.0, false);
    let out = dir.path().join("out.mp4");
    // Block 0 from its start, and block 2 (20..30 → keyframes 18..30).
    let report = video::cut(
        &input,
        &[Range::secs(0.0, 10.0), Range::secs(20.5, 29.5)],
        std::fs::File::create(&out).unwrap(),
    )
    .unwrap();
    let got: Vec<(f64, f64)> = report
        .removed
        .iter()
        .map(|r| (r.start.as_secs_f64(), r.end.as_secs_f64()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        (got[0].0 - 0.0).abs() < 0.01 && (got[0].1 - 12.0).abs() < 0.01,
        "{got:?}"
    );
    assert!(
        (got[1].0 - 18.0).abs() < 0.01 && (got[1].1 - 30.0).abs() < 0.01,
        "{got:?}"
    );
    assert_eq!(ffmpeg_errors(&out), "");
    let frames = frame_colours(&out);
    assert!(
        frames
            .iter()
            .all(|(_, c)| colour_index(*c) != Some(0) && colour_index(*c) != Some(2))
    );
    assert!(frames.iter().any(|(_, c)| colour_index(*c) == Some(1)));
    assert!(frames.iter().any(|(_, c)| colour_index(*c) == Some(3)));
}

#[test]
fn no_ranges_copies_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let input = colour_mp4(dir.path(), "video.mp4", 2, 5.0, 2.0, false);
    let out = dir.path().join("out.mp4");
    let report = video::cut(&input, &[], std::fs::File::create(&out).unwrap()).unwrap();
    assert!(report.removed.is_empty());
    assert_eq!(ffmpeg_errors(&out), "");
    assert_eq!(frame_colours(&out), frame_colours(&input));
    assert_eq!(ffmpeg_pcm(&out, 48000), ffmpeg_pcm(&input, 48000));
}

#[test]
fn an_audio_only_file_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let input = tone_m4a(dir.path(), "audio.m4a", 1, 2.0, 32000);
    let err = video::cut(&input, &[], std::io::sink()).unwrap_err();
    assert!(err.is_unsupported(), "{err}");
    assert!(err.to_string().contains("audio.m4a"), "{err}");
}

/// Cuts block 1 (2–4 s) of an open-GOP input and checks the output with
/// ffmpeg: no decoding error, frames in strictly increasing display order,
/// no frame of the marked block, the blocks after the resume point there.
/// Returns the widened range removed, in seconds.
fn cut_open_gop(kind: OpenGop) -> (f64, f64, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let input = open_gop_mp4(dir.path(), "video.mp4", 4, kind);
    let src = Mp4File::open(&input).unwrap();
    let v = src.movie.tracks.iter().find(|t| t.is_video()).unwrap();
    let syncs = v.samples().filter(|s| s.is_sync).count();
    assert!(
        syncs >= 8,
        "the input must mark its open-GOP pictures sync ({syncs})"
    );
    assert_eq!(
        ffmpeg_errors(&input),
        "",
        "the input itself decodes cleanly"
    );

    let out = dir.path().join("out.mp4");
    let range = Range::secs(2.0, 4.0);
    let report = video::cut(&input, &[range], std::fs::File::create(&out).unwrap()).unwrap();
    assert_eq!(report.removed.len(), 1, "{:?}", report.removed);
    let w = report.removed[0];
    assert!(w.covers(&range), "{w:?}");
    assert_eq!(report.bytes, std::fs::metadata(&out).unwrap().len());

    assert_eq!(ffmpeg_errors(&out), "", "ffmpeg reports errors");
    let times = frame_times(&out);
    assert!(
        times.windows(2).all(|p| p[1] > p[0]),
        "frames out of display order: {times:?}"
    );
    let kept = 8.0 - (w.end.as_secs_f64() - w.start.as_secs_f64());
    assert!(
        (times.len() as f64 / 25.0 - kept).abs() < 0.1,
        "{} frames for {kept} s",
        times.len()
    );
    let frames = frame_colours(&out);
    assert_eq!(frames.len(), times.len());
    assert!(
        frames.iter().all(|(_, c)| colour_index(*c) != Some(1)),
        "a frame of the marked block survives"
    );
    assert!(frames.iter().any(|(_, c)| colour_index(*c) == Some(0)));
    assert!(frames.iter().any(|(_, c)| colour_index(*c) == Some(3)));
    (w.start.as_secs_f64(), w.end.as_secs_f64(), out, dir)
}

#[test]
fn open_gop_h264_resumes_at_the_next_idr_not_an_open_i_picture() {
    // I-pictures every second (non-IDR, marked sync), an IDR at 6 s.
    let (start, end, _, _dir) = cut_open_gop(OpenGop::H264 { idr_at: 6 });
    assert!(start <= 2.0 && start > 1.8, "cut starts at {start}");
    assert!(
        (end - 6.0).abs() < 0.01,
        "cut resumes at {end}, not the IDR"
    );
}

#[test]
fn open_gop_h264_with_no_idr_after_the_cut_drops_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let input = open_gop_mp4(dir.path(), "video.mp4", 4, OpenGop::H264 { idr_at: 0 });
    let out = dir.path().join("out.mp4");
    let report = video::cut(
        &input,
        &[Range::secs(2.0, 4.0)],
        std::fs::File::create(&out).unwrap(),
    )
    .unwrap();
    let w = report.removed[0];
    assert!((w.end.as_secs_f64() - 8.0).abs() < 0.05, "{w:?}");
    assert_eq!(ffmpeg_errors(&out), "");
    let frames = frame_colours(&out);
    assert!(!frames.is_empty());
    assert!(frames.iter().all(|(_, c)| colour_index(*c) == Some(0)));
}

#[test]
fn open_gop_hevc_resumes_at_the_next_cra_made_bla() {
    let (start, end, out, _dir) = cut_open_gop(OpenGop::Hevc);
    assert!(start <= 2.0 && start > 1.8, "cut starts at {start}");
    assert!((end - 4.0).abs() < 0.01, "cut resumes at {end}");
    // ffmpeg's own reading of the NAL headers: the resume point is a BLA.
    let trace = crate::util::tools::Tool::new("ffmpeg")
        .args(["-v", "trace", "-i"])
        .input(&out)
        .args(["-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"])
        .run_ok()
        .stderr_text();
    let types: Vec<u32> = trace
        .lines()
        .filter(|l| l.contains("nal_unit_type"))
        .filter_map(|l| l.split('=').next_back()?.trim().parse().ok())
        .collect();
    assert_eq!(
        types.iter().filter(|&&t| t == 16).count(),
        1,
        "one BLA_W_LP: {types:?}"
    );
}
