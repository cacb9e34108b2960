//! Every mark reaches every file it covers, or nothing leaves the PC
//! (docs/redaction.md, "Fail closed"). Each test writes and places the
//! marks as a researcher does — Notepad's bytes, Explorer's names, a
//! hotkey pressed once, a mark added while a run works, a participant who
//! joined late — runs the whole pipeline on the pilot sample, and holds
//! the outcome to the oracle (`util::marks_oracle`): the marked passage
//! silent or cut in every delivered output, decoded by ffmpeg, or nothing
//! delivered, exit 4 (or a wait) and the interim copy intact.

use crate::util::marks_oracle::{self, PASSAGE, Verdict};
use crate::util::tools::Tool;
use crate::util::world::World;
use proptest::prelude::*;
use recpipe::redact::marks;
use std::fs;

const OLA: &str = "Audio Record/audioOla Nordmann284213977051.m4a";

fn world_with_marks(bytes: &[u8]) -> World {
    let w = World::new(&World::dir_destination(), "");
    fs::write(w.recording().join("recpipe-marks.txt"), bytes).unwrap();
    w
}

/// The pilot with its marks file moved to `name` (relative to the
/// recording folder), where recpipe does not read marks.
fn world_with_marks_moved_to(name: &str) -> World {
    let w = World::new(&World::dir_destination(), "");
    let rec = w.recording();
    let text = fs::read(rec.join("recpipe-marks.txt")).unwrap();
    fs::remove_file(rec.join("recpipe-marks.txt")).unwrap();
    let path = rec.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    w
}

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let mut out = if le {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

fn delivered_all(v: Verdict, what: &str) {
    match v {
        // Four outputs and the manifest, each checked by the oracle.
        Verdict::Delivered(names) => assert_eq!(names.len(), 5, "{what}: {names:?}"),
        v => panic!("{what}: {v:?}"),
    }
}

fn stopped(v: Verdict, what: &str) -> String {
    match v {
        Verdict::Stopped(said) => said,
        v => panic!("{what}: {v:?}"),
    }
}

#[test]
fn the_passage_is_loud_in_the_sample_so_the_oracle_can_fail() {
    let w = World::new(&World::dir_destination(), "");
    assert!(marks_oracle::loudness(&w.recording().join(OLA), PASSAGE) > 0.05);
}

#[test]
fn marks_saved_as_windows_editors_save_them_are_applied_to_every_output() {
    let mark = "14:04:05 - 14:04:17 Søren is named";
    let variants: Vec<(&str, Vec<u8>)> = vec![
        (
            "lone CR line ends",
            format!("# marks\r{mark}\r").into_bytes(),
        ),
        ("CR LF", format!("# marks\r\n{mark}\r\n").into_bytes()),
        (
            "U+2028 line ends",
            format!("# marks\u{2028}{mark}").into_bytes(),
        ),
        ("NEL line ends", format!("# marks\u{85}{mark}").into_bytes()),
        ("UTF-8 with BOM", format!("\u{FEFF}{mark}\r\n").into_bytes()),
        (
            "UTF-16 LE (Notepad's Unicode)",
            utf16(&format!("{mark}\r\n"), true),
        ),
        ("UTF-16 BE", utf16(&format!("{mark}\r\n"), false)),
        (
            "Windows-1252 (Notepad's ANSI) with an en dash",
            b"14:04:05 \x96 14:04:17 S\xF8ren is named\r\n".to_vec(),
        ),
        ("dots", b"14.04.05 - 14.04.17\n".to_vec()),
        (
            "kl. and an en dash",
            "kl. 14.04.05 – kl. 14.04.17\n".as_bytes().to_vec(),
        ),
        (
            "em dash, no spaces",
            "14:04:05—14:04:17\n".as_bytes().to_vec(),
        ),
        ("minutes with dots", b"kl 14.04 - 14.04\n".to_vec()),
    ];
    for (what, bytes) in variants {
        let w = world_with_marks(&bytes);
        delivered_all(marks_oracle::run(&w, PASSAGE), what);
    }
}

#[test]
fn a_second_range_written_into_the_note_stops_the_recording() {
    let w = world_with_marks(b"14:02:00 - 14:02:10 and 14:04:05 - 14:04:17\n");
    let said = stopped(marks_oracle::run(&w, PASSAGE), "two ranges on a line");
    assert!(
        said.contains("line 1") && said.contains("one range per line"),
        "{said}"
    );
}

#[test]
fn a_marks_file_under_another_name_or_place_stops_the_recording() {
    for name in [
        "Recpipe-marks.txt",
        "RECPIPE-MARKS.TXT",
        "recpipe-marks.txt.txt",
        "recpipe-marks.txt ",
        "Audio Record/recpipe-marks.txt",
        "Kari/recpipe-marks.txt",
    ] {
        let w = world_with_marks_moved_to(name);
        if cfg!(windows) && name.ends_with(' ') {
            // Windows drops a name's trailing space when the file is made,
            // so this is the marks file itself there: applied, not refused.
            delivered_all(marks_oracle::run(&w, PASSAGE), name);
            continue;
        }
        let said = stopped(marks_oracle::run(&w, PASSAGE), name);
        assert!(
            said.contains("rename it to exactly 'recpipe-marks.txt'"),
            "{name}: {said}"
        );
    }
    // Also beside the real one: its copy may hold marks the real one lacks.
    let w = World::new(&World::dir_destination(), "");
    let rec = w.recording();
    fs::copy(
        rec.join("recpipe-marks.txt"),
        rec.join("Audio Record/recpipe-marks.txt"),
    )
    .unwrap();
    stopped(marks_oracle::run(&w, PASSAGE), "a copy in Audio Record");
}

/// A folder under the marks file's name (made by a slip in Explorer, or a
/// sync client's conflict copy) takes the place where marks are read: the
/// recording stops at once, saying so. It used to be read as "no marks"
/// and then, at the check before sending, as a marks file that changed:
/// a wait, every run, for ever.
#[test]
fn a_folder_under_the_marks_files_name_stops_the_recording() {
    let w = World::new(&World::dir_destination(), "");
    let marks = w.recording().join("recpipe-marks.txt");
    fs::remove_file(&marks).unwrap();
    fs::create_dir(&marks).unwrap();
    for run in ["first run", "second run"] {
        let said = stopped(marks_oracle::run(&w, PASSAGE), run);
        assert!(
            said.contains("recpipe-marks.txt is a folder, where recpipe reads the marks file"),
            "{run}: {said}"
        );
    }
}

/// A researcher's own notes of what to cut, under a name of their own (in
/// Norwegian, in a sub-folder, an editor's backup): a document recpipe
/// does not know may hold passages to remove, so the recording stops
/// before anything leaves. Before, it was delivered with the passage
/// audible, and only then said a file was left behind.
#[test]
fn a_document_of_notes_beside_the_recording_stops_it() {
    for name in [
        "marks.txt",
        "Merknader.docx",
        "Kari/notater.md",
        "notes.txt.bak",
    ] {
        let w = world_with_marks_moved_to(name);
        let said = stopped(marks_oracle::run(&w, PASSAGE), name);
        assert!(
            said.contains("may hold passages to remove"),
            "{name}: {said}"
        );
    }
}

/// One marks file kept in Zoom's folder, beside the recordings' folders
/// rather than in one: recpipe reads no marks there and cannot tell which
/// recording they are for, so every recording there stops. Before, the
/// recording was delivered with the passage audible and exit 0.
#[test]
fn a_marks_file_beside_the_recordings_folder_stops_it() {
    for name in ["recpipe-marks.txt", "Recpipe-marks.txt"] {
        let w = World::new(&World::dir_destination(), "");
        let rec = w.recording();
        fs::rename(
            rec.join("recpipe-marks.txt"),
            rec.parent().unwrap().join(name),
        )
        .unwrap();
        let said = stopped(marks_oracle::run(&w, PASSAGE), name);
        assert!(
            said.contains("lies beside the recording's folder, not in it"),
            "{name}: {said}"
        );
    }
}

fn pending(w: &World, lines: &str) {
    fs::create_dir_all(w.path("state")).unwrap();
    fs::write(w.path("state/pending-marks.txt"), lines).unwrap();
}

#[test]
fn a_live_mark_left_open_makes_the_recording_wait() {
    let w = World::new(&World::dir_destination(), "");
    fs::remove_file(w.recording().join("recpipe-marks.txt")).unwrap();
    // The hotkey pressed once, at 14:04:05.
    pending(&w, "2026-11-20T14:04:05 -\n");
    match marks_oracle::run(&w, PASSAGE) {
        Verdict::Held(3, said) => assert!(said.contains("still open"), "{said}"),
        v => panic!("{v:?}"),
    }
    // Closed, it is claimed and applied.
    pending(&w, "2026-11-20T14:04:05 2026-11-20T14:04:17\n");
    assert!(matches!(
        marks_oracle::run(&w, PASSAGE),
        Verdict::Held(3, _)
    ));
    delivered_all(marks_oracle::run(&w, PASSAGE), "a closed live mark");
}

#[test]
fn a_live_mark_after_the_recording_but_before_its_files_were_done_stops_it() {
    let w = World::new(&World::dir_destination(), "");
    fs::remove_file(w.recording().join("recpipe-marks.txt")).unwrap();
    // 14:06:00 is after folder start + the recording's length (14:05:50):
    // a second segment or a pause. The files are newer than it.
    pending(&w, "2026-11-20T14:06:00 2026-11-20T14:06:10\n");
    let said = stopped(marks_oracle::run(&w, PASSAGE), "a late live mark");
    assert!(
        said.contains("write it into the marks file by hand"),
        "{said}"
    );
    assert!(
        fs::read_to_string(w.path("state/pending-marks.txt"))
            .unwrap()
            .contains("14:06:00"),
        "not claimed"
    );
}

#[test]
fn live_marks_follow_start_for_a_folder_not_named_by_zoom() {
    let w = World::new(&World::dir_destination(), "");
    let renamed = w.path("zoom/Pilot interview");
    fs::rename(w.recording(), &renamed).unwrap();
    fs::remove_file(renamed.join("recpipe-marks.txt")).unwrap();
    pending(&w, "2026-11-20T14:04:05 2026-11-20T14:04:17\n");
    let run = |w: &World| {
        w.command()
            .args(["--start", "2026-11-20 14:03:11"])
            .output()
            .unwrap()
    };
    let first = run(&w);
    assert_eq!(
        first.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let marks = fs::read_to_string(renamed.join("recpipe-marks.txt")).unwrap();
    // The PC's times as Zoom's clock showed them.
    assert!(marks.contains("14:04:05.000 - 14:04:17.000"), "{marks}");
    let second = run(&w);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    for f in w.delivered(&w.path("out")) {
        marks_oracle::check_output(&w, &f, PASSAGE, "");
    }
}

#[test]
fn a_mark_added_after_outputs_were_made_discards_them_and_the_recording_is_taken_again() {
    // Outputs are all sealed and staged before any is sent.
    let w = World::new(&World::dir_destination(), "after = \"sealed\"");
    fs::write(w.recording().join("recpipe-marks.txt"), "# nothing yet\n").unwrap();
    let first = w.run_with_fault("staged");
    assert_ne!(first.status.code(), Some(0));
    fs::write(
        w.recording().join("recpipe-marks.txt"),
        "# nothing yet\n14:04:05 - 14:04:17\n",
    )
    .unwrap();
    let second = marks_oracle::run(&w, PASSAGE);
    assert!(matches!(second, Verdict::Held(3, _)), "{second:?}");
    delivered_all(
        marks_oracle::run(&w, PASSAGE),
        "taken again with the new mark",
    );
}

#[test]
fn a_live_mark_pressed_while_outputs_are_made_stops_their_delivery() {
    let w = World::new(&World::dir_destination(), "");
    fs::write(w.recording().join("recpipe-marks.txt"), "# nothing yet\n").unwrap();
    // The first output is staged, not sent yet, when the hotkey is pressed.
    let first = w.run_with_fault("staged-output");
    assert_ne!(first.status.code(), Some(0));
    assert!(w.delivered(&w.path("out")).is_empty());
    pending(&w, "2026-11-20T14:04:05 2026-11-20T14:04:17\n");
    // What was made without the mark is discarded; the next run claims
    // the live mark into the marks file (the one change recpipe makes to
    // an interim folder) and waits for it to settle; the one after applies it.
    let second = marks_oracle::run(&w, PASSAGE);
    assert!(matches!(second, Verdict::Held(3, _)), "{second:?}");
    let third = w.run();
    assert_eq!(third.status.code(), Some(3));
    assert!(w.delivered(&w.path("out")).is_empty());
    let marks = fs::read_to_string(w.recording().join("recpipe-marks.txt")).unwrap();
    // The PC's times as Zoom's clock showed them.
    assert!(marks.contains("14:04:05.000 - 14:04:17.000"), "{marks}");
    delivered_all(
        marks_oracle::run(&w, PASSAGE),
        "taken again with the live mark",
    );
}

/// Ola's track as a participant who joined 30 s late: `lead` writes the
/// gap as the leading empty edit ffmpeg's muxer makes of a start offset.
fn late_joiner(w: &World, lead: bool) {
    let ola = w.recording().join(OLA);
    let short = w.path("short.m4a");
    // Inputs named as inputs, so that the Windows run finds the Linux
    // run's stored result by the files' content, not their paths.
    Tool::new("ffmpeg")
        .args(["-v", "error", "-y", "-ss", "30", "-i"])
        .input(&ola)
        .args(["-c", "copy"])
        .output(&short)
        .run_ok();
    if lead {
        Tool::new("ffmpeg")
            .args(["-v", "error", "-y", "-itsoffset", "30", "-i"])
            .input(&short)
            .args(["-c", "copy"])
            .output(&ola)
            .run_ok();
    } else {
        fs::copy(&short, &ola).unwrap();
    }
    fs::remove_file(&short).unwrap();
}

#[test]
fn a_participant_file_that_starts_late_without_saying_so_stops_the_recording() {
    let w = World::new(&World::dir_destination(), "");
    late_joiner(&w, false);
    let said = stopped(marks_oracle::run(&w, PASSAGE), "a shorter file");
    assert!(said.contains("joined late"), "{said}");
}

#[test]
fn a_participant_file_with_a_leading_empty_edit_is_redacted_in_its_own_time() {
    let w = World::new(&World::dir_destination(), "");
    late_joiner(&w, true);
    let v = marks_oracle::run_with(&w, |name| {
        if name.contains("participant-2") {
            (PASSAGE.0 - 30.0, PASSAGE.1 - 30.0)
        } else {
            PASSAGE
        }
    });
    delivered_all(v, "a file that says where it starts");
}

/// One line of a generated marks file: its text and whether it is a mark
/// (or a segment start) that must be placed.
fn line() -> impl Strategy<Value = (String, bool)> {
    let time = prop_oneof![
        Just(("14:04:05", "14:04:17")),
        Just(("14.04.05", "14.04.17")),
        Just(("kl. 14.04", "kl. 14.05")),
        Just(("kl 14:04:05.5", "kl 14:04:06")),
        Just(("+00:00:54", "+00:01:06")),
    ];
    let dash = prop_oneof![Just("-"), Just("–"), Just("—"), Just(" - "), Just(" – ")];
    let note = prop_oneof![
        Just(""),
        Just("  a third party is named"),
        Just("  Søren Ølstad")
    ];
    let mark = (time, dash, note).prop_map(|((a, b), d, n)| (format!("{a}{d}{b}{n}"), true));
    let stray = prop_oneof![
        Just("remember to check this"),
        Just("14:04:05"),
        Just("14:04:05 to 14:04:17"),
        Just("- 14:04:17"),
        Just("14:04:05 - 14:04:17 and 14:05:00 - 14:05:10"),
        Just("14,04,05 - 14,04,17"),
    ]
    .prop_map(|s| (s.to_string(), false));
    let quiet =
        prop_oneof![Just("# a comment"), Just(""), Just("   ")].prop_map(|s| (s.to_string(), true));
    prop_oneof![4 => mark, 2 => quiet, 1 => stray]
}

fn encode(text: &str, how: u8) -> Vec<u8> {
    match how {
        0 => text.as_bytes().to_vec(),
        1 => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        2 => utf16(text, true),
        3 => utf16(text, false),
        _ => text
            .chars()
            .map(|c| match c {
                '–' => 0x96,
                '—' => 0x97,
                c => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            })
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Every line of a generated marks file, in any encoding and with any
    /// line end, is placed — or the file is refused naming a line; never
    /// is a line skipped or read as a note.
    #[test]
    fn every_line_is_placed_or_the_file_is_refused(
        lines in proptest::collection::vec(line(), 1..12),
        end in prop_oneof![Just("\n"), Just("\r\n"), Just("\r"), Just("\u{2028}")],
        how in 0u8..5,
    ) {
        // Windows-1252 has no U+2028.
        let how = if end == "\u{2028}" { how % 4 } else { how };
        let text: String = lines.iter().map(|(l, _)| format!("{l}{end}")).collect();
        let decoded = marks::decode(&encode(&text, how)).expect("a text editor's bytes");
        prop_assert_eq!(&decoded, &text);
        let expected = lines.iter().filter(|(l, ok)| *ok && !l.trim().is_empty() && !l.starts_with('#')).count();
        match marks::parse(&decoded) {
            Ok(parsed) => {
                prop_assert!(lines.iter().all(|(_, ok)| *ok), "a stray line was accepted: {:?}", text);
                prop_assert_eq!(parsed.marks.len(), expected);
                let placed = parsed.resolve(None, std::time::Duration::from_secs(3600), std::time::Duration::ZERO);
                // Wall-clock marks need a start; offsets place.
                if !parsed.uses_wall_clock() {
                    prop_assert_eq!(placed.map(|r| r.is_empty()), Ok(parsed.marks.is_empty()));
                }
            }
            Err(e) => {
                let bad = &lines[e.line - 1];
                prop_assert!(!bad.1, "line {} refused: {:?} ({})", e.line, bad.0, e);
            }
        }
    }
}

#[test]
fn every_encoding_of_a_line_reads_as_the_same_mark() {
    let want = marks::parse("14:04:05 - 14:04:17").unwrap().marks[0].clone();
    for how in 0..5 {
        let text = marks::decode(&encode("kl. 14.04.05 – 14.04.17\r\n", how)).unwrap();
        let got = marks::parse(&text).unwrap().marks[0].clone();
        assert_eq!((got.from, got.to), (want.from, want.to), "encoding {how}");
    }
}
