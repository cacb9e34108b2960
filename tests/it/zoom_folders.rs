//! Real Zoom folder shapes through whole runs: a recording stopped and
//! restarted (two segments) with marks after the restart, files recpipe
//! does not know beside the recording, litter, and a cloud-synced interim
//! folder. ffprobe is the oracle for the outputs' lengths; the silence of
//! the marked passage is read from the delivered WAV.

use crate::util::ffprobe_duration;
use crate::util::tools::ffmpeg;
use crate::util::world::{World, peak};
use std::fs;
use std::path::{Path, PathBuf};

const FOLDER: &str = "2026-11-23 10.00.00 Intervju 4";

/// A tone of `secs` seconds, AAC-LC 32 kHz mono as Zoom writes audio.
fn tone(path: &Path, secs: u32) {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:sample_rate=32000:duration={secs}"),
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            "-ac",
            "1",
        ],
        path,
    );
}

/// A world whose interim folder holds one two-segment recording (a 6 s
/// false start, then 10 s), a consent form and a desktop.ini, and the
/// given marks.
fn two_segments(marks: &str) -> (World, PathBuf) {
    let w = World::new(&World::dir_destination(), "");
    fs::remove_dir_all(w.recording()).unwrap();
    let dir = w.path("zoom").join(FOLDER);
    fs::create_dir_all(&dir).unwrap();
    tone(&dir.join("audio14213977051.m4a"), 6);
    tone(&dir.join("audio24213977051.m4a"), 10);
    fs::write(dir.join("Samtykke Kari Nordmann.pdf"), b"%PDF-1.4 consent").unwrap();
    fs::write(dir.join("desktop.ini"), b"[.ShellClassInfo]\n").unwrap();
    fs::write(dir.join("recpipe-marks.txt"), marks).unwrap();
    (w, dir)
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_mark_after_the_restart_without_the_segments_start_needs_a_person() {
    let (w, dir) = two_segments("10:00:24 - 10:00:26 Kari is named\n");
    let out = w.run();
    let said = text(&out);
    assert_eq!(code(&out), 4, "{said}");
    assert!(said.contains("segment 2 starts"), "{said}");
    assert!(
        !said.contains("Kari"),
        "a note or a file name leaks: {said}"
    );
    assert!(
        w.delivered(&w.path("out")).is_empty(),
        "nothing is uploaded"
    );
    for f in [
        "audio14213977051.m4a",
        "audio24213977051.m4a",
        "Samtykke Kari Nordmann.pdf",
    ] {
        assert!(dir.join(f).exists(), "{f} was deleted");
    }
}

#[test]
fn marks_land_in_their_segment_and_unknown_files_survive() {
    // Segment 2 began at 10:00:20 on Zoom's clock: 10:00:24–10:00:26 is
    // 4–6 s into it (padded by 1 s). The offset mark is in segment 1.
    let (w, dir) = two_segments(
        "segment 2 starts 10:00:20\n10:00:24 - 10:00:26 Kari is named\n1 +00:00:01 - +00:00:02\n",
    );
    let out = w.run();
    let said = text(&out);
    assert_eq!(code(&out), 4, "unknown files left: needs a person. {said}");
    assert!(said.contains("recpipe does not know"), "{said}");
    assert!(
        !said.contains("Samtykke") && !said.contains("Kari"),
        "{said}"
    );

    let delivered = w.delivered(&w.path("out"));
    let names: Vec<String> = delivered
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let find = |s: &str| {
        delivered
            .iter()
            .find(|p| p.to_string_lossy().contains(s))
            .unwrap_or_else(|| panic!("no output {s} in {names:?}"))
    };
    let s1 = w.open(find("-s1.wav"));
    let s2 = w.open(find("-s2.wav"));
    for (plain, want, name) in [(&s1, 6.0, "s1"), (&s2, 10.0, "s2")] {
        let tmp = w.path(&format!("{name}.wav"));
        fs::write(&tmp, plain).unwrap();
        let d = ffprobe_duration(&tmp);
        assert!((d - want).abs() < 0.1, "{name}: {d} s, want {want}");
    }
    assert_eq!(
        peak(&s2, 3.05, 6.95),
        0,
        "the marked passage is silent in segment 2"
    );
    assert!(
        peak(&s2, 0.5, 2.5) > 1000,
        "segment 2 outside the mark is kept"
    );
    assert!(
        peak(&s2, 7.5, 9.5) > 1000,
        "segment 2 outside the mark is kept"
    );
    assert_eq!(
        peak(&s1, 0.05, 2.95),
        0,
        "the offset mark is silent in segment 1"
    );
    assert!(
        peak(&s1, 3.5, 5.5) > 1000,
        "segment 1 is not touched by segment 2's mark"
    );

    assert!(
        dir.join("Samtykke Kari Nordmann.pdf").exists(),
        "the consent form survives"
    );
    assert!(
        !dir.join("desktop.ini").exists(),
        "litter goes with the recording"
    );
    assert!(!dir.join("audio14213977051.m4a").exists());
    // A second run delivers nothing more and still leaves the form.
    let again = w.run();
    assert!(
        dir.join("Samtykke Kari Nordmann.pdf").exists(),
        "{}",
        text(&again)
    );
}

#[test]
fn newer_chat_is_chat() {
    let w = World::new(&World::dir_destination(), "");
    let dir = w.recording();
    fs::rename(dir.join("chat.txt"), dir.join("meeting_saved_new_chat.txt")).unwrap();
    let report = recpipe::discover::check_recording(
        &dir,
        &recpipe::discover::CheckOptions::new(std::time::Duration::ZERO, "recpipe-marks.txt"),
    )
    .unwrap();
    let f = report
        .files
        .iter()
        .find(|f| f.path == Path::new("meeting_saved_new_chat.txt"))
        .unwrap();
    assert_eq!(f.role, recpipe::discover::Role::Chat);
}

#[test]
fn a_cloud_synced_interim_folder_is_refused_for_red_and_warned_for_green() {
    let red = "name = \"r\"\nclassification = \"red\"\n[source]\ndir = \"/home/kari/OneDrive - USN/Documents/Zoom\"\n[keep]\ntracks = [\"mixed-audio\"]\n[seal]\nrecipients = [\"age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\"]\n[destination]\nkind = \"dir\"\npath = \"/tmp/out\"\n";
    let err = recpipe::config::Pipeline::from_toml(red, Path::new("p.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("OneDrive") && msg.contains("[source] dir"),
        "{msg}"
    );
    let green = "name = \"g\"\nclassification = \"green\"\n[source]\ndir = \"/home/kari/Dropbox/Zoom\"\n[keep]\ntracks = [\"mixed-audio\"]\n";
    match recpipe::config::Pipeline::from_toml(green, Path::new("p.toml")) {
        Ok(p) => assert_eq!(p.source.synced_by, Some("Dropbox")),
        Err(e) => panic!("a green pipeline loads: {e}"),
    }
}
