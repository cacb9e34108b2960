//! A fresh world for pipeline tests: an interim folder holding a copy of
//! the sample recording, a key, a pipeline file, a destination folder and
//! a state folder, and helpers to run the binary and check deliveries.
//! ffmpeg runs through [`super::tools`].

use super::tools;
use recpipe::seal::{Identity, Unlock, decrypt};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const FOLDER: &str = "2026-11-20 14.03.11 Pilot interview";

/// A fresh world: interim folder with the sample recording, a key, a
/// pipeline file, a destination folder and a state folder.
pub struct World {
    pub root: tempfile::TempDir,
    pub identity: Identity,
    /// Environment variables every command of this world gets (e.g. the
    /// PC's time zone, `TZ`).
    pub env: Vec<(&'static str, String)>,
    /// The recording's folder name in the interim folder ([`FOLDER`]
    /// unless a test put another recording there).
    pub folder: String,
}

impl World {
    pub fn new(destination: &str, extra: &str) -> World {
        World::with_settle(destination, extra, "0s")
    }

    pub fn with_settle(destination: &str, extra: &str, settle: &str) -> World {
        let root = tempfile::tempdir().unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("sample-data")
                .join(FOLDER),
            &root.path().join("zoom").join(FOLDER),
        );
        let identity = Identity::generate().unwrap();
        let pipeline = format!(
            r#"name = "test-red"
classification = "red"
[source]
dir = "zoom"
settle = "{settle}"
[redact]
pad = "1s"
[keep]
tracks = ["participant-audio", "mixed-audio", "video"]
audio_format = "wav"
[seal]
recipients = ["{}"]
{destination}
[cleanup]
interim = "shred"
{extra}
"#,
            identity.recipient()
        );
        fs::write(root.path().join("pipeline.toml"), pipeline).unwrap();
        World {
            root,
            identity,
            env: Vec::new(),
            folder: FOLDER.into(),
        }
    }

    pub fn dir_destination() -> String {
        "[destination]\nkind = \"dir\"\npath = \"out\"\n".into()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn recording(&self) -> PathBuf {
        self.path("zoom").join(&self.folder)
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_recpipe"));
        c.args(["run", "--pipeline"])
            .arg(self.path("pipeline.toml"))
            .env("RECPIPE_STATE_DIR", self.path("state"))
            .env_remove("RECPIPE_FAULT_AT")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null());
        c
    }

    /// Runs any recpipe command in this world: its state and per-user
    /// config folders, no terminal.
    pub fn cli(&self, args: &[&str]) -> Output {
        output(
            Command::new(env!("CARGO_BIN_EXE_recpipe"))
                .args(args)
                .env("RECPIPE_STATE_DIR", self.path("state"))
                .env("RECPIPE_CONFIG_DIR", self.path("config"))
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdin(std::process::Stdio::null()),
        )
    }

    /// `recpipe plan` of the recording at `rec` with this world's pipeline
    /// (`--json` when `json`).
    pub fn plan(&self, rec: &Path, json: bool) -> Output {
        let pipeline = self.path("pipeline.toml");
        let mut args = vec!["plan"];
        if json {
            args.push("--json");
        }
        args.extend(["-p", pipeline.to_str().unwrap(), rec.to_str().unwrap()]);
        self.cli(&args)
    }

    pub fn run(&self) -> Output {
        output(&mut self.command())
    }

    pub fn run_with_fault(&self, point: &str) -> Output {
        output(self.command().env("RECPIPE_FAULT_AT", point))
    }

    /// The final (non-partial) files at the destination folder.
    pub fn delivered(&self, out: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(out)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| !p.to_string_lossy().ends_with(".recpipe-partial"));
        v.sort();
        v
    }

    pub fn open(&self, sealed: &Path) -> Vec<u8> {
        let mut plain = Vec::new();
        decrypt(
            fs::File::open(sealed).unwrap(),
            Unlock::Identities(std::slice::from_ref(&self.identity)),
            &mut plain,
        )
        .unwrap_or_else(|e| panic!("{} does not open: {e}", sealed.display()));
        plain
    }
}

/// Runs `cmd` to its end and returns what it printed. Under Wine on a busy
/// machine, starting a process now and then fails before it runs, with
/// Windows' ERROR_INTERNAL_ERROR (1359); such a start is tried again, twice
/// at most. The process never ran, so nothing is done twice. Any other
/// failure to start is the test's failure.
fn output(cmd: &mut Command) -> Output {
    const ERROR_INTERNAL_ERROR: i32 = 1359;
    let mut tries = 0;
    loop {
        match cmd.output() {
            Err(e)
                if cfg!(windows) && e.raw_os_error() == Some(ERROR_INTERNAL_ERROR) && tries < 2 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            other => {
                return other.unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
            }
        }
    }
}

/// Runs a pipeline (`extra` added to its `[cleanup]`) once undisturbed to
/// learn how long it takes, then `kills` times in fresh worlds, each killed
/// (SIGKILL; TerminateProcess on Windows) at an instant spread over that
/// time, and hands each world to `check` with a label.
pub fn kill_at_spread_instants(extra: &str, kills: u32, check: impl Fn(&World, &str)) {
    let w = World::new(&World::dir_destination(), extra);
    let t = std::time::Instant::now();
    assert_eq!(w.run().status.code(), Some(0), "an undisturbed run");
    let full = t.elapsed();
    for i in 1..=kills {
        let w = World::new(&World::dir_destination(), extra);
        let mut child = w
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full * i / (kills + 1));
        let _ = child.kill();
        let _ = child.wait();
        check(&w, &format!("kill {i}"));
    }
}

/// Whether every file under `original` is under `copy` with the same
/// bytes (one level of sub-folders, as Zoom writes them).
pub fn same_tree(original: &Path, copy: &Path) -> bool {
    let Ok(items) = fs::read_dir(original) else {
        return false;
    };
    items.flatten().all(|e| {
        let there = copy.join(e.file_name());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            same_tree(&e.path(), &there)
        } else {
            fs::read(e.path())
                .ok()
                .is_some_and(|a| fs::read(&there).ok() == Some(a))
        }
    })
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Largest absolute sample of a 16-bit WAV between two times (seconds).
pub fn peak(wav: &[u8], from: f64, to: f64) -> i32 {
    let mut r = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
    let rate = r.spec().sample_rate as f64;
    let (a, b) = ((from * rate) as usize, (to * rate) as usize);
    r.samples::<i16>()
        .enumerate()
        .filter(|(i, _)| *i >= a && *i < b)
        .map(|(_, s)| (s.unwrap() as i32).abs())
        .max()
        .unwrap_or(0)
}

/// What every delivered file must be: sealed to our key, the WAVs silent in
/// the marked passage (14:04:05–14:04:17 on the clock, 54–66 s, padded by
/// 1 s), the manifest complete.
pub fn check_delivery(w: &World, files: &[PathBuf]) {
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 5, "{names:?}");
    check_files(w, files);
}

/// The four outputs are delivered and right, and the manifest not yet: it
/// is sent once the recording's cleanup is complete.
pub fn check_outputs(w: &World, files: &[PathBuf]) {
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 4, "{names:?}");
    assert!(!names.iter().any(|n| n.contains("manifest")), "{names:?}");
    check_files(w, files);
}

/// Each delivered file is sealed, named without names, and right (any
/// number of them: what a run that stopped half-way had sent).
pub fn check_files(w: &World, files: &[PathBuf]) {
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for n in &names {
        assert!(n.ends_with(".sealed"), "{n} is not sealed");
        assert!(
            !n.contains("Pilot") && !n.contains("Ola") && !n.contains("Ingrid"),
            "{n} leaks a name"
        );
    }
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let plain = w.open(f);
        if name.contains("participant-2") {
            // Ola's track: the marked passage is his answer naming a third party.
            assert!(
                peak(&plain, 30.0, 50.0) > 1000,
                "speech outside the mark is kept"
            );
            assert_eq!(peak(&plain, 53.3, 66.7), 0, "the marked passage is silent");
        }
        if name.contains("manifest") {
            let m: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            assert_eq!(m["recording"]["folder"], FOLDER);
            assert_eq!(m["outputs"].as_array().unwrap().len(), 4);
            assert!(
                m["outputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|o| o["verified"] == true)
            );
            assert_eq!(m["cleanup"]["method"], "shred");
            assert_eq!(m["marks"][0]["note"], "a third party is named");
        }
        if name.contains("video-1") {
            let tmp = w.path("check-video.mp4");
            fs::write(&tmp, &plain).unwrap();
            let out = tools::Tool::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .input(&tmp)
                .args(["-f", "null", "-"])
                .run();
            assert!(
                out.success() && out.stderr.is_empty(),
                "video decodes cleanly: {}",
                out.stderr_text()
            );
        }
    }
}
