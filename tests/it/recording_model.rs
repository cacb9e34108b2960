//! The recording model (docs/architecture.md): what admission decides
//! about each file is what `plan` shows and what `run` does. `plan` and
//! `run` agree output by output over the sample data and generated
//! folders, and a media file in a sub-folder Zoom does not make is a file
//! recpipe does not know, never an output.

use crate::util::marks_oracle::{self, PASSAGE, Verdict};
use crate::util::world::{self, World};
use crate::util::{Kind, Recording};
use std::fs;
use std::path::Path;

/// A world whose interim folder holds `folder` (copied) instead of the pilot.
fn world_of(folder: &Path) -> World {
    let w = World::new(&World::dir_destination(), "");
    fs::remove_dir_all(w.path("zoom")).unwrap();
    world::copy_dir(folder, &w.path("zoom").join(folder.file_name().unwrap()));
    w
}

fn recording_of(w: &World) -> std::path::PathBuf {
    fs::read_dir(w.path("zoom"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path()
}

fn seconds(v: &serde_json::Value) -> f64 {
    v["secs"].as_f64().unwrap() + v["nanos"].as_f64().unwrap() / 1e9
}

/// Runs `plan --json` and then `run` on `w`'s one recording, and holds
/// every delivered output to its plan: same input, same removed ranges,
/// same plaintext size; and every planned output delivered.
fn plan_equals_run(w: &World) {
    let rec = recording_of(w);
    let out = w.plan(&rec, true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let planned: Vec<&serde_json::Value> = plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["output"].is_null())
        .collect();
    assert!(!planned.is_empty());

    let run = w.run();
    assert!(
        matches!(run.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let delivered = w.delivered(&w.path("out"));
    let manifest = delivered
        .iter()
        .find(|p| p.to_string_lossy().contains("_manifest."))
        .expect("a manifest");
    let m: serde_json::Value = serde_json::from_slice(&w.open(manifest)).unwrap();
    let outputs = m["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), planned.len(), "{m:#}\n{plan:#}");
    for o in outputs {
        let input = o["made_from"][0].as_str().unwrap();
        let p = planned
            .iter()
            .find(|p| p["path"].as_str().unwrap().ends_with(input))
            .unwrap_or_else(|| panic!("{input} delivered but not planned"));
        assert_eq!(o["plaintext"]["size"], p["bytes"], "{input}");
        let ran: Vec<(f64, f64)> = o["removed_seconds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap()))
            .collect();
        let shown: Vec<(f64, f64)> = p["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (seconds(&r["start"]), seconds(&r["end"])))
            .collect();
        assert_eq!(ran.len(), shown.len(), "{input}: {ran:?} vs {shown:?}");
        for (a, b) in ran.iter().zip(&shown) {
            assert!(
                (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6,
                "{input}: run removed {a:?}, plan showed {b:?}"
            );
        }
    }
}

#[test]
fn plan_shows_what_run_removes_in_the_pilot_sample() {
    plan_equals_run(&World::new(&World::dir_destination(), ""));
}

#[test]
fn plan_shows_what_run_removes_in_the_two_segment_sample() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join("2026-11-27 10.00.05 Follow-up interview");
    let w = world_of(&folder);
    // Its consent form is left in place, so no manifest would be sent.
    fs::remove_file(recording_of(&w).join("Consent form - signed.pdf")).unwrap();
    plan_equals_run(&w);
}

#[test]
fn plan_shows_what_run_removes_in_a_generated_folder() {
    let r = Recording::newer_client("2026-11-20 14.03.11 Generated");
    r.media("Audio Record/audioKari2461873050.m4a", Kind::Audio);
    // Its 4-s video would be cut whole (keyframes 2 s apart, a pad of
    // 1 s): audio only.
    fs::remove_file(r.dir.join("video2461873050.mp4")).unwrap();
    fs::remove_file(r.dir.join("playback2461873050.m3u")).unwrap();
    r.file(
        "recpipe-marks.txt",
        "+00:00:01 - +00:00:02\n14:03:13.5 - 14:03:13.8\n",
    );
    plan_equals_run(&world_of(&r.dir));
}

#[test]
fn media_in_a_sub_folder_zoom_does_not_make_is_never_delivered() {
    let w = World::new(&World::dir_destination(), "");
    let rec = w.recording();
    // Ola's track, where the marked passage is loud, copied under a name
    // that is Zoom's at the top of the folder.
    let ola = rec.join("Audio Record/audioOla Nordmann284213977051.m4a");
    assert!(
        marks_oracle::loudness(&ola, PASSAGE) > 0.05,
        "the passage is there"
    );
    fs::create_dir_all(rec.join("Kari")).unwrap();
    fs::copy(&ola, rec.join("Kari/audio84213977051.m4a")).unwrap();
    match marks_oracle::run(&w, PASSAGE) {
        Verdict::Delivered(names) => {
            // The recording's own four outputs, nothing of Kari/ (and no
            // manifest yet: a file recpipe does not know is left).
            assert_eq!(names.len(), 4, "{names:?}");
            assert!(
                !names.iter().any(|n| n.contains("mixed-audio-2")),
                "{names:?}"
            );
        }
        v => panic!("{v:?}"),
    }
    assert!(
        rec.join("Kari/audio84213977051.m4a").exists(),
        "left in place"
    );
}

#[test]
fn a_file_recpipe_does_not_know_is_reported_when_the_interim_copy_is_kept() {
    let w = World::new(&World::dir_destination(), "");
    fs::write(
        w.path("pipeline.toml"),
        "name = \"g\"\nclassification = \"green\"\n[source]\ndir = \"zoom\"\nsettle = \"0s\"\n\
         [keep]\ntracks = [\"mixed-audio\"]\naudio_format = \"wav\"\n\
         [destination]\nkind = \"dir\"\npath = \"out\"\n[cleanup]\ninterim = \"keep\"\n",
    )
    .unwrap();
    fs::write(w.recording().join("Consent form.pdf"), b"%PDF-1.4\n").unwrap();
    let out = w.run();
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(said.contains("recpipe does not know it"), "{said}");
    assert!(!said.contains("Consent"), "never by name: {said}");
    assert!(w.recording().join("Consent form.pdf").exists());
    // Moved away, the recording finishes.
    fs::rename(
        w.recording().join("Consent form.pdf"),
        w.path("consent.pdf"),
    )
    .unwrap();
    let again = w.run();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn plan_says_a_file_recpipe_does_not_know_is_left_in_place_not_dropped() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join("2026-11-27 10.00.05 Follow-up interview");
    let w = world_of(&folder);
    let rec = recording_of(&w);
    let out = w.plan(&rec, false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name}: {text}"))
            .to_string()
    };
    assert!(line("Consent form").contains("left in place"), "{text}");
    assert!(line("playback").contains("dropped"), "{text}");
}

#[test]
fn the_summary_names_the_output_and_kind_of_every_removed_range() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join("2026-11-27 10.00.05 Follow-up interview");
    let w = world_of(&folder);
    fs::remove_file(recording_of(&w).join("Consent form - signed.pdf")).unwrap();
    let out = w.run();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let removed: Vec<&str> = said
        .lines()
        .filter(|l| l.contains(" s of its own time"))
        .collect();
    // Both marks lie in segment 2: every line says so by the output's name.
    assert!(!removed.is_empty(), "{said}");
    assert!(removed.iter().all(|l| l.contains("-s2.")), "{said}");
    assert!(
        removed
            .iter()
            .any(|l| l.contains("cut (widened to keyframes) in") && l.contains("video")),
        "{said}"
    );
    assert!(
        removed
            .iter()
            .any(|l| l.contains("removed or silenced in") && l.contains("participant-audio")),
        "{said}"
    );
}
