//! Wall-clock marks placed through the clock read from the video (issue
//! 25): a recording paused mid-interview, a clock a time zone away from
//! the folder name, a mark in a pause. Each recording is made here in
//! Zoom's layout — a video with the clock drawn by ffmpeg, a mixed-audio
//! M4A of one steady tone for the whole meeting — and run through the
//! whole pipeline with an audio-only pipeline (the clock is still read
//! from the video); ffmpeg decodes what was delivered: the marked passage
//! silent, the rest loud.

use crate::util::Recording;
use crate::util::clock_video::{DEJAVU_SANS, EPOCH, Look, Part, video};
use crate::util::marks_oracle::{self, Verdict, loudness};
use crate::util::media_gen::tone_m4a;
use crate::util::world::{self, World};
use std::fs;
use std::path::Path;

/// The folder of a recording that started at [`EPOCH`] (09:30:00).
const FOLDER: &str = "2026-11-20 09.30.00 Paused interview";

const LOOK: Look = Look {
    width: 640,
    height: 360,
    font: DEJAVU_SANS,
    size: 18,
    box_opacity: 0.6,
    background: "color=c=0x23395d",
    keyint: 2,
};

/// A world whose interim folder holds one recording: its video's clock
/// runs through `parts` (a pause between two), the mixed audio one tone
/// as long as the video, and `marks` as its marks file. The pipeline
/// keeps the mixed audio only.
fn world(parts: &[Part], marks: &str) -> World {
    world_in(FOLDER, parts, marks, true)
}

/// [`world`] with the recording in `folder`, its clock drawn or not.
fn world_in(folder: &str, parts: &[Part], marks: &str, clock: bool) -> World {
    let r = Recording::new(folder);
    let made = video(&r.dir, &LOOK, parts, clock);
    fs::rename(made, r.dir.join("video1795167000.mp4")).unwrap();
    let seconds: u32 = parts.iter().map(|p| p.seconds).sum();
    tone_m4a(&r.dir, "audio1795167000.m4a", 1, seconds as f64, 8000);
    r.file("playback1795167000.m3u", "video1795167000.mp4\n");
    r.file("recpipe-marks.txt", marks);
    let mut w = World::new(&World::dir_destination(), "");
    fs::remove_dir_all(w.path("zoom")).unwrap();
    w.folder = folder.into();
    world::copy_dir(&r.dir, &w.recording());
    audio_only(&w);
    w
}

/// Makes `w`'s pipeline keep the audio only.
fn audio_only(w: &World) {
    let pipeline = w.path("pipeline.toml");
    let text = fs::read_to_string(&pipeline).unwrap().replace(
        r#"tracks = ["participant-audio", "mixed-audio", "video"]"#,
        r#"tracks = ["participant-audio", "mixed-audio"]"#,
    );
    fs::write(&pipeline, text).unwrap();
}

/// 50 s, then a pause of 45 s, then 70 s: the clock jumps from 09:30:50
/// to 09:31:35 at media time 50 s.
fn paused() -> [Part; 2] {
    Part::paused(EPOCH, 50, 45, 70)
}

/// The delivered mixed audio, decoded: where a range is loud.
fn delivered_loudness(w: &World, passage: (f64, f64)) -> f32 {
    let out = w.delivered(&w.path("out"));
    let wav = out
        .iter()
        .find(|p| p.to_string_lossy().contains(".wav"))
        .expect("the mixed audio was delivered");
    let plain = w.path("loudness.wav");
    fs::write(&plain, w.open(wav)).unwrap();
    loudness(&plain, passage)
}

#[test]
fn a_mark_after_a_pause_is_silenced_where_the_clock_puts_it() {
    // 09:31:55 - 09:32:05 is 20-30 s after the resume: media 70-80 s.
    // From the folder name alone it would land at 145 s, past the end.
    let w = world(&paused(), "09:31:55 - 09:32:05   a third party is named\n");
    let plan = w.plan(&w.recording(), false);
    let said = String::from_utf8_lossy(&plan.stdout);
    assert!(
        said.contains("paused 45 s at 0:50") && said.contains("at 1:10 – 1:20"),
        "plan says where the clock put the mark: {said}"
    );
    // The pad (1 s) widens it to 69-81 s.
    match marks_oracle::run(&w, (69.0, 81.0)) {
        Verdict::Delivered(files) => assert!(!files.is_empty()),
        other => panic!("the recording should be delivered: {other:?}"),
    }
    assert!(
        delivered_loudness(&w, (82.0, 118.0)) > 0.1,
        "the rest of the audio is loud"
    );
    assert!(
        delivered_loudness(&w, (2.0, 68.0)) > 0.1,
        "the audio before the mark is loud"
    );
}

#[test]
fn a_mark_in_the_pause_stops_the_recording_and_names_its_line() {
    let w = world(&paused(), "# notes\n09:31:00 - 09:31:10\n");
    match marks_oracle::run(&w, (0.0, 0.0)) {
        Verdict::Stopped(said) => assert!(
            said.contains("line 2") && said.contains("pause"),
            "the message names the line and the pause: {said}"
        ),
        other => panic!("a mark in a pause must stop the recording: {other:?}"),
    }
}

#[test]
fn a_clock_an_hour_off_the_folder_name_needs_a_person_with_both_readings() {
    // The clock shows 10:30:00 where the PC named the folder 09.30.00.
    let parts = [Part {
        seconds: 30,
        clock: EPOCH + 3600,
    }];
    let w = world(&parts, "10:30:10 - 10:30:15\n");
    match marks_oracle::run(&w, (0.0, 0.0)) {
        Verdict::Stopped(said) => assert!(
            said.contains("2026-11-20 10:30:00")
                && said.contains("2026-11-20 09:30:00")
                && said.contains("1 h 00 min apart"),
            "both readings and how far apart: {said}"
        ),
        other => panic!("a clock a zone off must stop the recording: {other:?}"),
    }
    // The person confirms the clock's start with --start: delivered, the
    // mark placed by the clock (10-15 s, padded 9-16 s).
    let out = w
        .command()
        .args(["--start", "2026-11-20 10:30:00"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(delivered_loudness(&w, (9.1, 15.9)) < 1e-4, "silenced");
    assert!(delivered_loudness(&w, (17.0, 29.0)) > 0.1, "the rest loud");
}

#[test]
fn the_follow_up_sample_needs_no_segment_start_line() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join("2026-11-27 10.00.05 Follow-up interview");
    let mut w = World::new(&World::dir_destination(), "");
    fs::remove_dir_all(w.path("zoom")).unwrap();
    w.folder = sample.file_name().unwrap().to_string_lossy().into_owned();
    let rec = w.recording();
    world::copy_dir(&sample, &rec);
    audio_only(&w);
    // Its consent form is left in place (a person's), so nothing would
    // finish; and its `segment 2 starts` line goes: the clock says it.
    fs::remove_file(rec.join("Consent form - signed.pdf")).unwrap();
    let marks = rec.join("recpipe-marks.txt");
    let text = fs::read_to_string(&marks).unwrap();
    assert!(text.contains("segment 2 starts"), "the sample has the line");
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("segment 2 starts"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&marks, without).unwrap();
    // Segment 2 began at 10:01:12: 10:01:35-10:01:42 is 23-30 s into it,
    // and `2 +00:00:47 - +00:00:55` 47-55 s; each padded by 1 s. The
    // outputs of segment 1 hold neither (no passage to check).
    let verdict = marks_oracle::run_with(&w, |name| {
        if name.contains("-s2.") {
            (22.0, 31.0)
        } else {
            (0.0, 0.0)
        }
    });
    match verdict {
        Verdict::Delivered(files) => assert!(
            files.iter().filter(|f| f.contains("-s2.")).count() == 3,
            "segment 2's three audio files: {files:?}"
        ),
        other => panic!("the follow-up should be delivered: {other:?}"),
    }
}

/// Summer time ended in Oslo on 2026-10-25: at 03:00 CEST the clock went
/// back to 02:00 CET. A recording over that hour: the clock jumps back an
/// hour without a pause, and a mark at a time the clock showed twice is
/// placed in the one that lies in the recording. The PC's zone is given
/// to the child as `TZ`, which Wine does not pass on to Windows' zone, so
/// this runs on Unix only.
#[cfg(unix)]
#[test]
fn summer_time_ending_mid_recording_moves_no_mark() {
    // 2026-10-25 02:59:40 on the clock's calendar (as drawn, no zone).
    const DST: i64 = 1_792_897_180;
    let parts = Part::paused(DST, 20, -3600, 40);
    // 02:00:10 - 02:00:20 CET: 30-40 s into the recording.
    let mut w = world_in(
        "2026-10-25 02.59.40 Night shift interview",
        &parts,
        "02:00:10 - 02:00:20\n",
        true,
    );
    w.env.push(("TZ", "Europe/Oslo".into()));
    match marks_oracle::run(&w, (29.0, 41.0)) {
        Verdict::Delivered(files) => assert!(!files.is_empty()),
        other => panic!("the recording should be delivered: {other:?}"),
    }
    assert!(delivered_loudness(&w, (2.0, 28.0)) > 0.1, "before: loud");
    assert!(delivered_loudness(&w, (42.0, 59.0)) > 0.1, "after: loud");
}

/// "Add a timestamp to the recording" was off: no clock in the picture.
/// The mark is placed from the folder name's time, as before the clock
/// was read, and `plan` says that a pause cannot be seen.
#[test]
fn without_a_clock_marks_are_placed_from_the_folder_name() {
    let parts = [Part {
        seconds: 30,
        clock: EPOCH,
    }];
    let w = world_in(FOLDER, &parts, "09:30:10 - 09:30:15\n", false);
    let plan = w.plan(&w.recording(), false);
    let said = String::from_utf8_lossy(&plan.stdout);
    assert!(
        said.contains("a paused recording cannot be detected")
            && said.contains("at 0:10 – 0:15 (from the segment's start)"),
        "{said}"
    );
    match marks_oracle::run(&w, (9.0, 16.0)) {
        Verdict::Delivered(files) => assert!(!files.is_empty()),
        other => panic!("the recording should be delivered: {other:?}"),
    }
    assert!(delivered_loudness(&w, (17.0, 29.0)) > 0.1, "the rest loud");
}

/// DejaVu Sans at 16 px over a plain background: a size at which the
/// reader has been seen to take the hour's 9 for a 0. Whatever it reads,
/// the marked passage is never delivered audible: the recording is
/// delivered with it silent, or it stops (the clock 9 h off the folder
/// name's time) with nothing sent.
#[test]
fn a_misread_clock_never_lets_the_passage_out() {
    let r = Recording::new(FOLDER);
    let look = Look { size: 16, ..LOOK };
    let w = world(&paused(), "09:31:55 - 09:32:05\n");
    let small = video(&r.dir, &look, &paused(), true);
    fs::copy(small, w.recording().join("video1795167000.mp4")).unwrap();
    match marks_oracle::run(&w, (69.0, 81.0)) {
        Verdict::Delivered(files) => assert!(!files.is_empty()),
        Verdict::Stopped(said) => assert!(said.contains("clock"), "{said}"),
        Verdict::Held(code, said) => panic!("exit {code}: {said}"),
    }
}
