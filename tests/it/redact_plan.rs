//! The plan of a recording: each file's fate from `[keep]`, the widened
//! ranges and exact sizes it predicts (checked against what is then
//! produced), text refused when there are marks, nothing written by
//! planning.

use crate::util::media_gen::*;
use recpipe::config::{AudioFormat, Keep, TrackKind};
use recpipe::redact::plan::{self, Fate, PlanError, PlanFile};
use recpipe::redact::{Range, RedactMode};
use std::path::Path;

fn recording(dir: &Path, with_mixed: bool) -> Vec<PlanFile> {
    let video = colour_mp4(dir, "video1.mp4", 2, 5.0, 2.0, false);
    let mut files = vec![PlanFile {
        path: video,
        kind: Some(TrackKind::Video),
    }];
    if with_mixed {
        files.push(PlanFile {
            path: tone_m4a(dir, "audio1.m4a", 2, 5.0, 32000),
            kind: Some(TrackKind::MixedAudio),
        });
    }
    let part = dir.join("Audio Record");
    std::fs::create_dir_all(&part).unwrap();
    files.push(PlanFile {
        path: tone_m4a(&part, "audioKari1.m4a", 2, 5.0, 32000),
        kind: Some(TrackKind::ParticipantAudio),
    });
    std::fs::write(dir.join("chat.txt"), "12:00:01 From Kari : hello\n").unwrap();
    files.push(PlanFile {
        path: dir.join("chat.txt"),
        kind: Some(TrackKind::Chat),
    });
    std::fs::write(dir.join("playback.m3u"), "#EXTM3U\n").unwrap();
    files.push(PlanFile {
        path: dir.join("playback.m3u"),
        kind: None,
    });
    files
}

fn keep(tracks: &[TrackKind], audio_format: AudioFormat) -> Keep {
    Keep {
        tracks: tracks.to_vec(),
        audio_format,
        allow_chat: false,
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = walk(dir);
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p)
            } else {
                vec![p.display().to_string()]
            }
        })
        .collect()
}

#[test]
fn fates_follow_keep_and_sizes_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let files = recording(dir.path(), true);
    let before = listing(dir.path());
    let ranges = [Range::secs(5.5, 6.0)];
    for format in [AudioFormat::Wav, AudioFormat::M4a] {
        let k = keep(&[TrackKind::Video, TrackKind::MixedAudio], format);
        let plans = plan::plan(&files, &k, RedactMode::Silence, &ranges).unwrap();
        assert_eq!(listing(dir.path()), before, "planning wrote something");
        let fates: Vec<&Fate> = plans.iter().map(|p| &p.fate).collect();
        assert_eq!(fates[0], &Fate::Video);
        assert_eq!(fates[1], &Fate::Audio { format });
        assert!(matches!(fates[2], Fate::Drop { .. }), "{:?}", fates[2]);
        assert!(matches!(fates[3], Fate::Drop { .. }), "{:?}", fates[3]);
        assert!(matches!(fates[4], Fate::Drop { .. }), "{:?}", fates[4]);
        // keyframes every 2 s: 4 s is the last at or before 5.5 s, 6 s the first at or after 6 s
        let v = &plans[0].removed;
        assert_eq!(v.len(), 1);
        assert!((v[0].start.as_secs_f64() - 4.0).abs() < 0.01, "{v:?}");
        assert!((v[0].end.as_secs_f64() - 6.0).abs() < 0.01, "{v:?}");
        assert!(plans[1].removed[0].covers(&ranges[0]));
        let ext = match format {
            AudioFormat::Wav => "wav",
            AudioFormat::M4a => "m4a",
        };
        assert_eq!(
            plans[1].output.as_deref(),
            Some(Path::new(&format!("audio1.{ext}")))
        );

        for p in &plans {
            let mut out = Vec::new();
            let made = plan::produce(p, RedactMode::Silence, &ranges, &mut out).unwrap();
            match (&p.fate, made) {
                (Fate::Drop { .. }, made) => {
                    assert!(made.is_none());
                    assert!(out.is_empty());
                }
                (_, Some(report)) => {
                    assert_eq!(Some(report.bytes), p.bytes, "{}", p.path.display());
                    assert_eq!(out.len() as u64, report.bytes);
                    assert_eq!(report.removed, p.removed);
                    assert_eq!(Some(report.duration), p.duration);
                }
                (_, None) => panic!("{} made nothing", p.path.display()),
            }
        }
    }
}

#[test]
fn without_video_or_a_mixed_file_the_video_becomes_audio() {
    let dir = tempfile::tempdir().unwrap();
    let files = recording(dir.path(), false);
    let k = keep(
        &[TrackKind::MixedAudio, TrackKind::ParticipantAudio],
        AudioFormat::M4a,
    );
    let plans = plan::plan(&files, &k, RedactMode::Cut, &[]).unwrap();
    assert_eq!(
        plans[0].fate,
        Fate::Audio {
            format: AudioFormat::M4a
        }
    );
    assert_eq!(plans[0].output.as_deref(), Some(Path::new("video1.m4a")));
    assert_eq!(
        plans[1].fate,
        Fate::Audio {
            format: AudioFormat::M4a
        }
    );
    let out = dir.path().join("out.m4a");
    plan::produce(
        &plans[0],
        RedactMode::Cut,
        &[],
        std::fs::File::create(&out).unwrap(),
    )
    .unwrap();
    assert_eq!(ffmpeg_errors(&out), "");

    // With a mixed-audio file present, the video is dropped instead.
    let files = recording(dir.path(), true);
    let plans = plan::plan(&files, &k, RedactMode::Cut, &[]).unwrap();
    assert!(matches!(plans[0].fate, Fate::Drop { .. }));
}

#[test]
fn text_is_copied_without_marks_and_refused_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let files = recording(dir.path(), true);
    let k = Keep {
        tracks: vec![TrackKind::Chat],
        audio_format: AudioFormat::Wav,
        allow_chat: true,
    };
    let plans = plan::plan(&files, &k, RedactMode::Silence, &[]).unwrap();
    assert_eq!(plans[3].fate, Fate::Copy);
    let mut out = Vec::new();
    plan::produce(&plans[3], RedactMode::Silence, &[], &mut out).unwrap();
    assert_eq!(out, std::fs::read(dir.path().join("chat.txt")).unwrap());

    let err = plan::plan(&files, &k, RedactMode::Silence, &[Range::secs(1.0, 2.0)]).unwrap_err();
    assert!(matches!(err, PlanError::TextWithMarks { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("chat.txt") && msg.contains("[keep] tracks"),
        "{msg}"
    );
    assert!(!msg.contains("Kari"), "{msg}");
}

#[test]
fn a_broken_media_file_fails_the_whole_plan() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = recording(dir.path(), true);
    std::fs::write(&files[1].path, b"not audio").unwrap();
    files.swap(0, 1);
    let k = keep(&[TrackKind::Video, TrackKind::MixedAudio], AudioFormat::Wav);
    let err = plan::plan(&files, &k, RedactMode::Silence, &[]).unwrap_err();
    assert!(err.to_string().contains("audio1.m4a"), "{err}");
}
