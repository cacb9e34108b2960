//! `recpipe check` and the completeness rules, over recording folders
//! built fresh in a temp dir with real media from ffmpeg.

use crate::util::{Kind, NEWER, OLDER, Recording, ffprobe_duration, recpipe, stderr, stdout};
use recpipe::discover::{CheckOptions, RecordingReport, Role, Verdict, check_recording};
use std::time::{Duration, SystemTime};

/// Checks as if an hour had passed since the files were written.
fn check(r: &Recording) -> RecordingReport {
    let opts = CheckOptions {
        settle: Duration::from_secs(30),
        now: SystemTime::now() + Duration::from_secs(3600),
        marks: "recpipe-marks.txt".into(),
        stall: recpipe::discover::DEFAULT_STALL,
    };
    check_recording(&r.dir, &opts).expect("check runs")
}

fn reasons(report: &RecordingReport) -> String {
    report
        .reasons
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn newer_client_recording_is_complete_with_roles_durations_and_codecs() {
    let r = Recording::newer_client(NEWER);
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Complete, "{}", reasons(&report));
    assert!(report.reasons.is_empty());
    let name = report.name.as_ref().expect("Zoom folder name parsed");
    assert_eq!(name.topic, "Interview om heimesjukepleie");
    assert_eq!(name.meeting_id, None);

    let role = |p: &str| {
        report
            .files
            .iter()
            .find(|f| f.path == std::path::Path::new(p))
            .unwrap_or_else(|| panic!("{p} in the report"))
    };
    assert_eq!(role("video2461873050.mp4").role, Role::Video);
    assert_eq!(role("audio2461873050.m4a").role, Role::MixedAudio);
    assert_eq!(role("chat.txt").role, Role::Chat);
    assert_eq!(role("playback2461873050.m3u").role, Role::Playlist);
    assert_eq!(
        role("Audio Record/audioSørenØlstad2461873050.m4a").role,
        Role::ParticipantAudio {
            participant: "SørenØlstad".into()
        }
    );
    let video = role("video2461873050.mp4");
    assert_eq!(video.codecs, vec!["H.264 160x90", "AAC-LC 32000 Hz 1 ch"]);
    let oracle = ffprobe_duration(&r.dir.join("video2461873050.mp4"));
    let ours = video.duration.expect("video duration");
    assert!(
        (ours - oracle).abs() < 0.1,
        "ours {ours} vs ffprobe {oracle}"
    );
    let audio = role("audio2461873050.m4a");
    let oracle = ffprobe_duration(&r.dir.join("audio2461873050.m4a"));
    assert!((audio.duration.unwrap() - oracle).abs() < 0.1);
    assert_eq!(
        audio.size,
        std::fs::metadata(r.dir.join("audio2461873050.m4a"))
            .unwrap()
            .len()
    );
}

#[test]
fn older_client_recording_is_complete() {
    let r = Recording::new(OLDER);
    r.media("zoom_0.mp4", Kind::VideoMoovLast);
    r.media("zoom_1.mp4", Kind::VideoMoovFirst);
    r.media("audio_only.m4a", Kind::Audio);
    r.media("audio_only_1.m4a", Kind::Audio);
    r.file("playback.m3u", "zoom_0.mp4\n");
    r.file("meeting_saved_chat.txt", "hei\n");
    r.file("meeting_saved_closed_caption.txt", "hei\n");
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Complete, "{}", reasons(&report));
    assert_eq!(
        report.name.as_ref().unwrap().meeting_id.as_deref(),
        Some("84213977051")
    );
    let roles: Vec<&Role> = report.files.iter().map(|f| &f.role).collect();
    assert_eq!(roles.iter().filter(|r| ***r == Role::Video).count(), 2);
    assert_eq!(roles.iter().filter(|r| ***r == Role::MixedAudio).count(), 2);
    assert!(roles.contains(&&Role::Captions));
}

#[test]
fn moov_at_start_and_at_end_are_both_complete() {
    for kind in [Kind::VideoMoovFirst, Kind::VideoMoovLast] {
        let r = Recording::new(NEWER);
        let path = r.media("video1.mp4", kind);
        let file = recpipe::media::mp4::Mp4File::open(&path).unwrap();
        assert_eq!(file.moov_first, matches!(kind, Kind::VideoMoovFirst));
        let report = check(&r);
        assert_eq!(report.verdict, Verdict::Complete, "{}", reasons(&report));
    }
}

#[test]
fn a_zoom_file_means_converting() {
    let r = Recording::new(NEWER);
    r.file("double_click_to_convert_01.zoom", b"zoom data");
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::InProgress);
    assert!(reasons(&report).contains("double_click_to_convert_01.zoom"));
}

#[test]
fn an_mp4_tmp_means_still_writing_and_media_is_not_judged_yet() {
    let r = Recording::new(NEWER);
    // A half-written MP4 beside its .tmp must not be called broken.
    let video = r.media("video1.mp4", Kind::VideoMoovLast);
    let len = std::fs::metadata(&video).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&video)
        .unwrap();
    f.set_len(len / 2).unwrap();
    r.file("video1.mp4.tmp", b"partial");
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::InProgress, "{}", reasons(&report));
    assert!(reasons(&report).contains("video1.mp4.tmp"));
}

#[test]
fn recording_conf_under_100_or_naming_a_missing_file_means_converting() {
    let r = Recording::new(NEWER);
    r.media("video1.mp4", Kind::VideoMoovFirst);
    r.file(
        "recording.conf",
        r#"{"items":[{"process":60,"file":"video1.mp4"}]}"#,
    );
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::InProgress);
    assert!(
        reasons(&report).contains("60 % done"),
        "{}",
        reasons(&report)
    );

    r.file(
        "recording.conf",
        r#"{"items":[{"process":100,"file":"video1.mp4"},{"process":100,"file":"audio1.m4a"}]}"#,
    );
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::InProgress);
    assert!(reasons(&report).contains("not there yet"));

    r.media("audio1.m4a", Kind::Audio);
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Complete, "{}", reasons(&report));

    r.file("recording.conf", "{\"items\": [");
    assert_eq!(check(&r).verdict, Verdict::InProgress);
}

#[test]
fn a_recent_change_means_in_progress_until_settle_passes() {
    let r = Recording::newer_client(NEWER);
    let opts = CheckOptions::new(Duration::from_secs(30), "recpipe-marks.txt");
    let report = check_recording(&r.dir, &opts).unwrap();
    assert_eq!(report.verdict, Verdict::InProgress);
    assert!(reasons(&report).contains("counts as finished after 30s"));
}

#[test]
fn truncated_mp4_is_broken() {
    // moov first, mdat cut: samples lie past the end of the file.
    let r = Recording::new(NEWER);
    let video = r.media("video1.mp4", Kind::VideoMoovFirst);
    let len = std::fs::metadata(&video).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&video)
        .unwrap()
        .set_len(len - 5000)
        .unwrap();
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken);
    assert!(
        reasons(&report).contains("cut short"),
        "{}",
        reasons(&report)
    );

    // moov last, cut before it: no index at all.
    let r = Recording::new(NEWER);
    let video = r.media("video1.mp4", Kind::VideoMoovLast);
    let len = std::fs::metadata(&video).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&video)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken);
    let text = reasons(&report);
    assert!(
        text.contains("moov") || text.contains("cut short"),
        "{text}"
    );
}

#[test]
fn zero_byte_and_garbage_m4a_are_broken() {
    let r = Recording::new(NEWER);
    r.media("video1.mp4", Kind::VideoMoovFirst);
    r.file("Audio Record/audioKari Nordmann11.m4a", b"");
    r.file(
        "audio1.m4a",
        "this is not audio at all, just text that has the right name\n".repeat(20),
    );
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken);
    let text = reasons(&report);
    assert!(
        text.contains("audioKari Nordmann11.m4a: it is empty"),
        "{text}"
    );
    assert!(text.contains("audio1.m4a: it is not an MP4 file"), "{text}");
    assert_eq!(report.reasons.len(), 2, "{text}");
}

#[test]
fn xcode_error_log_is_broken_even_with_whole_media() {
    let r = Recording::newer_client(NEWER);
    r.file("xcode_error.log", "error");
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken);
    assert!(reasons(&report).contains("conversion error"));
}

#[test]
fn a_folder_without_media_is_broken() {
    let r = Recording::new(NEWER);
    r.file("chat.txt", "hei\n");
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken);
    assert!(reasons(&report).contains("no video or audio"));
}

#[cfg(unix)]
#[test]
fn a_symlink_is_broken_and_not_followed() {
    let r = Recording::newer_client(NEWER);
    let outside = r.root.path().join("elsewhere.m4a");
    std::fs::write(&outside, b"").unwrap();
    std::os::unix::fs::symlink(&outside, r.dir.join("audio99.m4a")).unwrap();
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken);
    assert!(reasons(&report).contains("symbolic link"));
}

// The command line: exit codes, JSON, and the folder that is not a recording.

#[test]
fn cli_exit_codes_follow_the_worst_verdict() {
    let r = Recording::newer_client(NEWER);
    let root = r.root.path().to_str().unwrap().to_string();
    let out = recpipe(&["check", "--settle", "0s", &root]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("1 complete, 0 in progress, 0 broken"));

    let converting = r.sibling("2026-11-21 10.00.00 Second interview");
    std::fs::write(converting.join("double_click_to_convert_01.zoom"), b"x").unwrap();
    let out = recpipe(&["check", "--settle", "0s", &root]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));

    let broken = r.sibling("2026-11-22 10.00.00 Third interview");
    std::fs::write(broken.join("audio1.m4a"), b"").unwrap();
    let out = recpipe(&["check", "--settle", "0s", &root]);
    assert_eq!(out.status.code(), Some(4), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 complete, 1 in progress, 1 broken"));
}

#[test]
fn cli_json_is_one_document_with_verdicts_and_files() {
    let r = Recording::newer_client(NEWER);
    let out = recpipe(&["check", "--json", "--settle", "0s", r.dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let rec = &doc["recordings"][0];
    assert_eq!(rec["verdict"], "complete");
    assert_eq!(rec["name"]["start"], "2026-11-20T14:03:11");
    let files = rec["files"].as_array().unwrap();
    let participant = files
        .iter()
        .find(|f| f["role"] == "participant-audio" && f["participant"] == "IngridHaugen")
        .expect("participant in JSON");
    assert!(participant["duration"].as_f64().unwrap() > 3.9);
    assert_eq!(doc["exit"], 0);
}

#[test]
fn cli_refuses_a_folder_that_is_not_a_recording() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hei").unwrap();
    std::fs::create_dir(dir.path().join("holiday photos")).unwrap();
    let out = recpipe(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no Zoom recording here"),
        "{}",
        stderr(&out)
    );

    let out = recpipe(&["check", dir.path().join("notes.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a folder"));
}

#[test]
fn cli_checks_the_shipped_sample_recording() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data");
    let out = recpipe(&["check", "--settle", "0s", sample]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("audio of Ola Nordmann"), "{text}");
    assert!(text.contains("redaction marks"));
}

#[test]
fn two_segments_unknown_files_and_a_stalled_conversion() {
    let r = Recording::new(NEWER);
    r.media("video14213977051.mp4", Kind::VideoMoovFirst);
    r.media("video24213977051.mp4", Kind::VideoMoovFirst);
    r.media("audio14213977051.m4a", Kind::Audio);
    r.media("audio24213977051.m4a", Kind::Audio);
    r.media("Audio Record/audioP324213977051.m4a", Kind::Audio);
    r.file("Samtykke.pdf", "%PDF");
    r.file("Intervjuguide.pdf", "%PDF");
    r.file("Thumbs.db", "x");
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Complete, "{}", reasons(&report));
    assert_eq!(report.segments.len(), 2);
    assert_eq!(report.segments[1].files.len(), 3);
    let p3 = report
        .files
        .iter()
        .find(|f| f.path.ends_with("audioP324213977051.m4a"))
        .unwrap();
    assert_eq!(
        p3.role,
        Role::ParticipantAudio {
            participant: "P3".into()
        }
    );
    assert_eq!(p3.segment, Some(2));
    assert_eq!(report.unknown, vec![("document".to_string(), 2)]);
    let left = report.unknown_files_left().unwrap();
    assert!(left.starts_with("2 files recpipe does not know"), "{left}");
    assert!(!left.contains("Samtykke"), "{left}");

    // A .zoom file unchanged for longer than the stall time: broken.
    r.file("double_click_to_convert_01.zoom", "x");
    let opts = CheckOptions {
        settle: Duration::from_secs(30),
        now: SystemTime::now() + Duration::from_secs(3 * 3600),
        marks: "recpipe-marks.txt".into(),
        stall: recpipe::discover::DEFAULT_STALL,
    };
    let report = check_recording(&r.dir, &opts).unwrap();
    assert_eq!(report.verdict, Verdict::Broken, "{}", reasons(&report));
    assert!(reasons(&report).contains("Convert"), "{}", reasons(&report));
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::InProgress, "{}", reasons(&report));

    // A document a person writes notes in may hold passages to remove.
    std::fs::remove_file(r.dir.join("double_click_to_convert_01.zoom")).unwrap();
    r.file("notes.docx", "x");
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken, "{}", reasons(&report));
    assert!(
        reasons(&report).contains("may hold passages to remove"),
        "{}",
        reasons(&report)
    );
}

#[test]
fn a_silent_track_is_flagged_and_a_tone_is_not() {
    let r = Recording::newer_client(NEWER);
    let muted = r.dir.join("Audio Record/audioMutedPerson2461873050.m4a");
    crate::util::tools::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=32000:cl=mono",
            "-t",
            "3",
            "-c:a",
            "aac",
            "-b:a",
            "32k",
        ],
        &muted,
    );
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Complete, "{}", reasons(&report));
    let silent: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.silent)
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(
        silent,
        vec![std::path::PathBuf::from(
            "Audio Record/audioMutedPerson2461873050.m4a"
        )]
    );
}

#[test]
fn an_audio_file_with_two_audio_tracks_is_refused_not_cut_to_one() {
    let r = Recording::new(NEWER);
    let one = r.media("one.m4a", Kind::Audio);
    crate::util::tools::Tool::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .input(&one)
        .arg("-i")
        .input(&one)
        .args(["-map", "0:a", "-map", "1:a", "-c", "copy"])
        .output(&r.dir.join("audio2461873050.m4a"))
        .run_ok();
    std::fs::remove_file(&one).unwrap();
    let report = check(&r);
    assert_eq!(report.verdict, Verdict::Broken, "{}", reasons(&report));
    assert!(
        reasons(&report).contains("2 audio tracks"),
        "{}",
        reasons(&report)
    );
}
