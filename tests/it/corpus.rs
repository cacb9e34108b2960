//! `check` over the shared corpus of real MP4/M4A/MOV files from other
//! projects' test suites (`../shared/corpus/mp4`, read in place, never
//! copied into the repository). Each file is placed alone in a temp
//! recording folder. The promises: no panic; every file ffprobe rejects is
//! called broken; every other file is complete, or broken with a reason.

use recpipe::discover::{CheckOptions, Verdict, check_recording};
use std::path::Path;
use std::time::{Duration, SystemTime};

struct Entry {
    file: String,
    ffprobe_rejects: bool,
}

fn manifest(dir: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Entry {
                file: cols[0].to_string(),
                ffprobe_rejects: cols.get(5).is_some_and(|c| c.starts_with("BROKEN")),
            }
        })
        .collect()
}

#[test]
fn check_never_panics_and_calls_what_ffprobe_rejects_broken() {
    let Some(dir) = crate::util::shared_corpus() else {
        return;
    };
    let entries = manifest(&dir);
    assert!(
        entries.len() >= 30,
        "the corpus lists {} files",
        entries.len()
    );
    let opts = CheckOptions {
        settle: Duration::from_secs(30),
        now: SystemTime::now() + Duration::from_secs(3600),
        marks: "recpipe-marks.txt".into(),
        stall: recpipe::discover::DEFAULT_STALL,
    };
    let (mut complete, mut broken) = (0, 0);
    for e in &entries {
        let root = tempfile::tempdir().unwrap();
        let rec = root.path().join("2026-01-01 10.00.00 corpus");
        std::fs::create_dir(&rec).unwrap();
        let name = if e.file.ends_with(".m4a") || e.file.ends_with(".m4b") {
            "audio1.m4a"
        } else {
            "video1.mp4"
        };
        std::fs::copy(dir.join(&e.file), rec.join(name)).unwrap();
        let report = std::panic::catch_unwind(|| check_recording(&rec, &opts))
            .unwrap_or_else(|_| panic!("check panicked on {}", e.file))
            .expect("check runs");
        let why: Vec<String> = report.reasons.iter().map(|r| r.to_string()).collect();
        match report.verdict {
            Verdict::Complete => complete += 1,
            Verdict::Broken => {
                broken += 1;
                assert!(!why.is_empty(), "{}: broken without a reason", e.file);
                assert!(
                    why.iter()
                        .all(|w| w.starts_with(name) && w.len() > name.len() + 10),
                    "{}: every reason names the file and says what: {why:?}",
                    e.file
                );
            }
            Verdict::InProgress => panic!("{}: in progress with old files: {why:?}", e.file),
        }
        if e.ffprobe_rejects {
            assert_eq!(
                report.verdict,
                Verdict::Broken,
                "{}: ffprobe rejects it",
                e.file
            );
        }
        eprintln!(
            "{:<70} {:<9} {}",
            e.file,
            report.verdict.to_string(),
            why.join(" | ")
        );
    }
    // Most of the corpus is ordinary H.264/AAC that must pass.
    assert!(complete >= 15, "only {complete} complete ({broken} broken)");
}
