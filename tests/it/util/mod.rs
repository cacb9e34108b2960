//! Shared helpers for the integration tests: a builder of Zoom-like
//! recording folders in a fresh temp dir, with real media made by ffmpeg,
//! and a runner for the built `recpipe` binary. ffmpeg and ffprobe are run
//! through [`tools`], which lets the Windows run under Wine use the results
//! of the Linux run.

pub mod clock_video;
pub mod intercept;
pub mod marks_oracle;
pub mod media_gen;
#[cfg(unix)]
pub mod notification_bus;
#[cfg(unix)]
pub mod pane;
pub mod payload;
#[cfg(unix)]
pub mod rclone;
#[cfg(unix)]
pub mod sealed;
pub mod skip;
#[cfg(unix)]
pub mod sshd;
#[cfg(unix)]
pub mod tmpfs;
pub mod tools;
#[cfg(unix)]
pub mod tsd_api;
#[cfg(windows)]
pub mod wine_sshd;
#[cfg(windows)]
pub mod wine_tsd;
pub mod world;

/// TSD's file API for one test, the same calls on both builds: on Unix a
/// server of the test's own, under Wine the shared one on the Linux side
/// with a folder of the test's own ([`TsdApi::base`]).
#[cfg(unix)]
pub use tsd_api::TsdServer as TsdApi;
#[cfg(windows)]
pub use wine_tsd::SharedTsd as TsdApi;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tempfile::TempDir;
use tools::ffmpeg;

/// A folder name in Zoom's newer form (no meeting id).
pub const NEWER: &str = "2026-11-20 14.03.11 Interview om heimesjukepleie";
/// A folder name in Zoom's older form (with the meeting id).
pub const OLDER: &str = "2021-03-04 09.15.00 Intervju 3 84213977051";

/// Real media made once per test process and copied into each recording.
struct Media {
    dir: TempDir,
}

fn media() -> &'static Media {
    static MEDIA: OnceLock<Media> = OnceLock::new();
    MEDIA.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        // 4 s of speech-band tone, AAC-LC 32 kHz mono, as Zoom writes audio.
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:sample_rate=32000:duration=4",
                "-c:a",
                "aac",
                "-b:a",
                "32k",
                "-ac",
                "1",
            ],
            &d.join("audio.m4a"),
        );
        for (name, flags) in [
            ("video-moov-first.mp4", "+faststart"),
            ("video-moov-last.mp4", ""),
        ] {
            let mut args = vec![
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=160x90:rate=10:duration=4",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=330:sample_rate=32000:duration=4",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-g",
                "20",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "32k",
                "-ac",
                "1",
                "-shortest",
            ];
            if !flags.is_empty() {
                args.extend(["-movflags", flags]);
            }
            ffmpeg(&args, &d.join(name));
        }
        Media { dir }
    })
}

/// Which kind of generated media to place.
#[derive(Clone, Copy)]
pub enum Kind {
    Audio,
    VideoMoovFirst,
    VideoMoovLast,
}

impl Kind {
    fn source(self) -> PathBuf {
        media().dir.path().join(match self {
            Kind::Audio => "audio.m4a",
            Kind::VideoMoovFirst => "video-moov-first.mp4",
            Kind::VideoMoovLast => "video-moov-last.mp4",
        })
    }
}

/// A recording folder under a fresh temp root.
pub struct Recording {
    pub root: TempDir,
    pub dir: PathBuf,
}

impl Recording {
    pub fn new(folder: &str) -> Recording {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        Recording { root, dir }
    }

    /// A second recording folder in the same root.
    pub fn sibling(&self, folder: &str) -> PathBuf {
        let dir = self.root.path().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Places generated media at `rel` (parents created).
    pub fn media(&self, rel: &str, kind: Kind) -> PathBuf {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(kind.source(), &path).unwrap();
        path
    }

    /// Writes `bytes` at `rel` (parents created).
    pub fn file(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The newer client's full set: video, mixed audio, two participants,
    /// chat and playlist.
    pub fn newer_client(folder: &str) -> Recording {
        let r = Recording::new(folder);
        r.media("video2461873050.mp4", Kind::VideoMoovFirst);
        r.media("audio2461873050.m4a", Kind::Audio);
        // Zoom writes `audio<Name><number>.m4a`, the name without spaces.
        r.media("Audio Record/audioIngridHaugen2461873050.m4a", Kind::Audio);
        r.media("Audio Record/audioSørenØlstad2461873050.m4a", Kind::Audio);
        r.file(
            "chat.txt",
            "14:03:20 From Ingrid Haugen to Everyone:\n\thei\n",
        );
        r.file("playback2461873050.m3u", "video2461873050.mp4\n");
        r
    }
}

/// Runs the built binary.
pub fn recpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recpipe"))
        .args(args)
        .output()
        .expect("run recpipe")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The duration ffprobe reports for a file: the independent oracle.
pub fn ffprobe_duration(path: &Path) -> f64 {
    tools::ffprobe(
        &["-show_entries", "format=duration", "-of", "csv=p=0"],
        path,
    )
    .trim()
    .parse()
    .unwrap_or_else(|_| panic!("ffprobe gave no duration for {}", path.display()))
}

/// The shared corpus of real MP4/M4A/MOV files (`../shared/corpus/mp4`,
/// read in place). `None` when it is absent on a developer's machine; under
/// `CI=true` its absence fails the test, so no corpus test passes by
/// having nothing to read.
pub fn shared_corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mp4");
    if dir.join("MANIFEST.tsv").is_file() {
        return Some(dir);
    }
    skip::not_exercised(&format!(
        "the media corpus is absent ({}); CI has it beside the repository",
        dir.display()
    ));
    None
}

/// Under Wine, makes a file recpipe wrote owner-only on the Linux side;
/// elsewhere does nothing, so the tests see what recpipe itself did.
///
/// Wine 8 answers "done" to setting a file's access list but keeps none of
/// it (it even widens the Unix mode), while it reports the access list
/// from the file's Unix mode. So an identity file `recpipe keygen` writes
/// under Wine really is readable by other Unix users, and recpipe rightly
/// refuses it (docs/windows.md). Tests that go on to use such a file make
/// it private the only way Wine allows: `chmod 600` on the host, which a
/// Windows program under Wine can start as a Unix program.
pub fn private_under_wine(path: &Path) {
    #[cfg(windows)]
    if std::env::var_os("WINEPREFIX").is_some() {
        let unix = Command::new("winepath.exe")
            .arg("-u")
            .arg(path)
            .output()
            .expect("run winepath");
        let unix = String::from_utf8_lossy(&unix.stdout).trim().to_string();
        assert!(unix.starts_with('/'), "winepath gave {unix:?}");
        // Wine starts a Unix program but cannot wait for it (the wait
        // fails with "invalid handle"), so what counts is the mode Wine
        // then reports, looked at until the chmod has happened.
        let _ = Command::new(r"Z:\bin\chmod").args(["600", &unix]).status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !recpipe::fsutil::is_owner_only(path).unwrap() {
            assert!(
                std::time::Instant::now() < deadline,
                "{} is still open to others under Wine",
                path.display()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    #[cfg(not(windows))]
    let _ = path;
}

/// The exit statuses the README's command table lists for `recpipe
/// COMMAND` (its last column's numbers), sorted.
pub fn readme_exit_codes(command: &str) -> Vec<i32> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with(&format!("| `recpipe {command} ")))
        .unwrap_or_else(|| panic!("no README row for {command}"));
    let last = row.trim_end_matches('|').rsplit('|').next().unwrap();
    let mut codes: Vec<i32> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Asserts that the statuses a test ran for `command` are exactly the
/// README's row for it.
pub fn assert_readme_row(command: &str, ran: &[i32]) {
    let mut ran = ran.to_vec();
    ran.sort();
    ran.dedup();
    assert_eq!(readme_exit_codes(command), ran, "README row of {command}");
}
