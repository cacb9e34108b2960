//! `recpipe plan`, `preview` and `mark` against the sample recording.

use crate::util::world;

use std::fs;
use world::World;

fn listing(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = walk(dir);
    v.sort();
    v
}

fn walk(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            v.extend(walk(&e.path()));
        } else {
            v.push((e.path().display().to_string(), e.metadata().unwrap().len()));
        }
    }
    v
}

#[test]
fn plan_shows_fates_ranges_and_the_start_mapping_and_writes_nothing() {
    let w = World::new(&World::dir_destination(), "");
    let before = listing(w.root.path());
    let out = w.plan(&w.recording(), true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["start"], "2026-11-20 14:03:11");
    assert_eq!(doc["ranges"][0][0], 53.0);
    assert_eq!(doc["ranges"][0][1], 67.0);
    let files = doc["files"].as_array().unwrap();
    let fate = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap()["fate"]["fate"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(fate("chat.txt"), "drop");
    assert_eq!(fate("video84213977051.mp4"), "video");
    assert_eq!(fate("audio84213977051.m4a"), "audio");
    assert_eq!(listing(w.root.path()), before, "plan writes nothing");
}

#[test]
fn preview_writes_plaintext_only_where_asked_and_refuses_the_interim_folder() {
    let w = World::new(&World::dir_destination(), "");
    let pipeline = w.path("pipeline.toml");
    let inside = w.path("zoom/preview");
    let out = w.cli(&[
        "preview",
        "-p",
        pipeline.to_str().unwrap(),
        "--out",
        inside.to_str().unwrap(),
        w.recording().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!inside.exists());

    let target = w.path("listen");
    let out = w.cli(&[
        "preview",
        "-p",
        pipeline.to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
        w.recording().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("red data"));
    let wav = fs::read(target.join("Audio Record/audioOla Nordmann284213977051.wav")).unwrap();
    assert!(world::peak(&wav, 30.0, 50.0) > 1000);
    assert_eq!(world::peak(&wav, 53.3, 66.7), 0);
    assert!(target.join("video84213977051.mp4").exists());
    assert!(
        !target.join("chat.txt").exists(),
        "what is not kept is not written"
    );
}

#[test]
fn a_live_mark_is_claimed_by_the_recording_it_falls_in() {
    let w = World::new(&World::dir_destination(), "");
    // A recording that started a minute ago, today.
    let start = jiff::tz::TimeZone::system()
        .to_datetime(jiff::Timestamp::now())
        .checked_sub(jiff::SignedDuration::from_secs(60))
        .unwrap();
    let folder = format!("{} Live", start.strftime("%Y-%m-%d %H.%M.%S"));
    fs::rename(w.recording(), w.path("zoom").join(&folder)).unwrap();
    fs::remove_file(w.path("zoom").join(&folder).join("recpipe-marks.txt")).unwrap();
    // The sample video's burned-in clock shows the sample's own day, not
    // today: a live mark (a wall-clock time) would be checked against it
    // and stop the recording, as it should. Without the video, the audio
    // carries no clock and the mark is placed from the folder name.
    for f in ["video84213977051.mp4", "playback84213977051.m3u"] {
        fs::remove_file(w.path("zoom").join(&folder).join(f)).unwrap();
    }

    let opened = w.cli(&["mark", "--note", "said a name"]);
    assert_eq!(
        opened.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    assert!(String::from_utf8_lossy(&opened.stdout).contains("mark opened"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let closed = w.cli(&["mark"]);
    assert!(String::from_utf8_lossy(&closed.stdout).contains("marked"));

    let pipeline = w.path("pipeline.toml");
    let first = w.cli(&["run", "-p", pipeline.to_str().unwrap()]);
    assert_eq!(
        first.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let marks = fs::read_to_string(w.path("zoom").join(&folder).join("recpipe-marks.txt")).unwrap();
    assert!(marks.contains("said a name"), "{marks}");
    assert!(
        !fs::read_to_string(w.path("state/pending-marks.txt"))
            .unwrap_or_default()
            .contains("said a name")
    );

    let second = w.cli(&["run", "-p", pipeline.to_str().unwrap()]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let manifest = w
        .delivered(&w.path("out"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("manifest"))
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&w.open(&manifest)).unwrap();
    assert_eq!(m["marks"][0]["note"], "said a name");
    let (a, b) = (
        m["ranges_seconds"][0][0].as_f64().unwrap(),
        m["ranges_seconds"][0][1].as_f64().unwrap(),
    );
    assert!(
        (57.0..=63.0).contains(&a) && b > a,
        "the mark is about 60 s in: {a}..{b} (padded by 1 s)"
    );
}
