//! The remuxers over the real-world corpus beside the repository
//! (`../shared/corpus/mp4/`, 40 MP4/M4A/MOV files from other projects'
//! test suites, many deliberately broken): every file either remuxes to an
//! output ffprobe accepts or fails with an error naming the file; nothing
//! panics. The files are read where they are, never copied into the repo.

use crate::util::tools;

use recpipe::redact::{Range, RedactMode, audio, m4a, video};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use tools::Tool;

/// ffmpeg's complaints while decoding the whole file; empty when clean.
fn ffmpeg_errors(path: &Path) -> String {
    let out = Tool::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .input(path)
        .args(["-f", "null", "-"])
        .run();
    let mut text = out.stderr_text();
    if !out.success() {
        text.push_str(" (ffmpeg failed)");
    }
    text
}

/// Whether ffprobe accepts the output; `Ok(false)` when it cannot be asked:
/// under Wine, for an output whose bytes differ from the Linux run's.
fn ffprobe_accepts(path: &Path) -> Result<bool, String> {
    let Some(out) = Tool::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .input(path)
        .try_run()
    else {
        return Ok(false);
    };
    if out.success() && !out.stdout_text().trim().is_empty() {
        Ok(true)
    } else {
        Err(format!("ffprobe rejects it: {}", out.stderr_text()))
    }
}

#[derive(Default)]
struct Tally {
    ok: usize,
    refused: usize,
    failures: Vec<String>,
    /// Outputs ffprobe could not be asked about (Windows only, see
    /// [`ffprobe_accepts`]).
    unchecked: Vec<String>,
}

impl Tally {
    fn check(
        &mut self,
        what: &str,
        input: &Path,
        out: &Path,
        input_clean: bool,
        run: impl FnOnce(std::fs::File) -> Result<recpipe::redact::Report, recpipe::redact::RedactError>,
    ) {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let file = std::fs::File::create(out).unwrap();
        match catch_unwind(AssertUnwindSafe(|| run(file))) {
            Err(_) => self.failures.push(format!("{what} {name}: PANIC")),
            Ok(Err(e)) => {
                let msg = e.to_string();
                if std::env::var_os("RECPIPE_CORPUS_VERBOSE").is_some() {
                    eprintln!("{what}: {msg}");
                }
                if msg.contains(&name) && msg.len() > name.len() + 10 {
                    self.refused += 1;
                } else {
                    self.failures
                        .push(format!("{what} {name}: unclear error: {msg}"));
                }
            }
            Ok(Ok(_)) => match ffprobe_accepts(out) {
                Err(why) => self.failures.push(format!("{what} {name}: {why}")),
                Ok(false) => self.unchecked.push(format!("{what} {name}")),
                // What decoded cleanly before must decode cleanly after.
                Ok(true) if input_clean => match ffmpeg_errors(out) {
                    e if e.is_empty() => self.ok += 1,
                    e => self.failures.push(format!(
                        "{what} {name}: the output decodes with errors: {e}"
                    )),
                },
                Ok(true) => self.ok += 1,
            },
        }
    }
}

#[test]
fn every_corpus_file_remuxes_or_fails_clearly() {
    let Some(dir) = crate::util::shared_corpus() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "MANIFEST.tsv") && p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "the corpus has only {} files",
        files.len()
    );
    let mut tally = Tally::default();
    let range = [Range::secs(0.3, 0.6)];
    for f in &files {
        let out = tmp.path().join("out");
        let clean = ffmpeg_errors(f).is_empty();
        tally.check("remux", f, &out.with_extension("mp4"), clean, |w| {
            video::cut(f, &[], w)
        });
        tally.check("cut", f, &out.with_extension("mp4"), clean, |w| {
            video::cut(f, &range, w)
        });
        tally.check("m4a silence", f, &out.with_extension("m4a"), clean, |w| {
            m4a::remux(f, None, &range, RedactMode::Silence, w)
        });
        tally.check("m4a cut", f, &out.with_extension("m4a"), clean, |w| {
            m4a::remux(f, None, &range, RedactMode::Cut, w)
        });
        tally.check("wav", f, &out.with_extension("wav"), clean, |w| {
            audio::to_wav(f, None, &range, RedactMode::Silence, w)
        });
    }
    eprintln!(
        "corpus: {} files, {} outputs ffprobe accepts, {} clear refusals",
        files.len(),
        tally.ok,
        tally.refused
    );
    if !tally.unchecked.is_empty() {
        eprintln!(
            "not checked by ffprobe here: these outputs differ in their bytes from the \
             Linux run's (floating-point AAC decoding differs in the last bit between C \
             libraries), so no ffprobe result is stored for them:\n  {}",
            tally.unchecked.join("\n  ")
        );
    }
    assert!(
        cfg!(windows) || tally.unchecked.is_empty(),
        "ffprobe runs for every output on Unix"
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    assert!(tally.ok >= 40, "only {} outputs", tally.ok);
}

#[test]
fn he_aac_is_refused_by_name() {
    let Some(dir) = crate::util::shared_corpus() else {
        return;
    };
    let path = dir.join("UniversalMediaServer__UniversalMediaServer__video-h264-heaac.mp4");
    let range = [Range::secs(1.0, 2.0)];
    let errors = [
        audio::to_wav(&path, None, &range, RedactMode::Silence, std::io::sink()).unwrap_err(),
        m4a::remux(&path, None, &range, RedactMode::Silence, std::io::sink()).unwrap_err(),
        m4a::remux(&path, None, &range, RedactMode::Cut, std::io::sink()).unwrap_err(),
    ];
    for err in errors {
        assert!(err.is_unsupported(), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("HE-AAC") && msg.contains("video-h264-heaac.mp4"),
            "{msg}"
        );
    }
}
