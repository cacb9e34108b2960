//! ffmpeg and ffprobe for the tests, on Linux and on Windows under Wine.
//!
//! The tests make real media with ffmpeg and use ffmpeg/ffprobe as the
//! independent oracle. The Windows test executables run under Wine in CI,
//! where the Linux tools cannot be started, so every run of a tool can go
//! through a cache folder named by `RECPIPE_TOOL_CACHE`:
//!
//! - unset: the tool runs and nothing is stored (a plain `cargo test`, on
//!   Linux or on a Windows PC with ffmpeg on its PATH);
//! - set, on Unix: a stored result of the same invocation is used; without
//!   one the tool runs and its result is stored;
//! - set, on Windows: the stored result must be there (the Linux run that
//!   `scripts/test.sh` does first stores it); without one the test fails
//!   and names the invocation.
//!
//! An invocation is keyed by the tool, its arguments, the contents (never
//! the paths) of the files it reads and the file name of the file it
//! writes; its entry holds the exit code, stdout, stderr and the written
//! file. `scripts/test.sh` makes a fresh cache folder for each run, so an
//! entry never outlives the ffmpeg that made it.

use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the cache folder.
pub const CACHE_VAR: &str = "RECPIPE_TOOL_CACHE";

enum Arg {
    Text(OsString),
    /// A file the tool reads: keyed by its contents.
    Input(PathBuf),
    /// The file the tool writes: stored in the cache entry.
    Output(PathBuf),
}

/// One invocation of an external tool, built like a [`Command`].
pub struct Tool {
    program: &'static str,
    args: Vec<Arg>,
}

/// What a tool run gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The exit code; `None` when it was killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl Tool {
    pub fn new(program: &'static str) -> Tool {
        Tool {
            program,
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Tool {
        self.args.push(Arg::Text(arg.as_ref().to_os_string()));
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Tool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// A file the tool reads (given as an argument at this place).
    pub fn input(mut self, path: &Path) -> Tool {
        self.args.push(Arg::Input(path.to_path_buf()));
        self
    }

    /// The file the tool writes (given as an argument at this place).
    pub fn output(mut self, path: &Path) -> Tool {
        assert!(
            !self.args.iter().any(|a| matches!(a, Arg::Output(_))),
            "a tool invocation writes one file at most"
        );
        self.args.push(Arg::Output(path.to_path_buf()));
        self
    }

    /// The command line, for messages.
    pub fn describe(&self) -> String {
        let mut text = self.program.to_string();
        for a in &self.args {
            text.push(' ');
            let part = match a {
                Arg::Text(t) => t.to_string_lossy().into_owned(),
                Arg::Input(p) | Arg::Output(p) => p.display().to_string(),
            };
            if part.contains(' ') || part.is_empty() {
                text.push_str(&format!("'{part}'"));
            } else {
                text.push_str(&part);
            }
        }
        text
    }

    /// Runs the tool (or takes its stored result), whatever its exit code.
    pub fn run(&self) -> Run {
        self.try_run().unwrap_or_else(|| {
            panic!(
                "no stored result for `{}` in {} ({CACHE_VAR}): the Linux run of \
                 scripts/test.sh stores it before the Windows run; run that, or make \
                 sure the Linux tests make the same call",
                self.describe(),
                self.entry()
                    .map(|e| e.display().to_string())
                    .unwrap_or_default()
            )
        })
    }

    /// Like [`Tool::run`], but `None` where the tool cannot run and no
    /// result is stored (Windows, with a cache that lacks the entry). For
    /// oracles over outputs whose bytes may legitimately differ from the
    /// Linux run's (floating-point decoding differs in the last bit
    /// between C libraries).
    pub fn try_run(&self) -> Option<Run> {
        let Some(entry) = self.entry() else {
            return Some(self.execute());
        };
        if let Some(run) = self.load(&entry) {
            return Some(run);
        }
        if cfg!(windows) {
            return None;
        }
        let run = self.execute();
        self.store(entry.parent().unwrap(), &entry, &run);
        Some(run)
    }

    fn entry(&self) -> Option<PathBuf> {
        std::env::var_os(CACHE_VAR).map(|cache| PathBuf::from(cache).join(self.key()))
    }

    /// Runs the tool and fails the test unless it exits 0.
    pub fn run_ok(&self) -> Run {
        let run = self.run();
        assert!(
            run.success(),
            "`{}` failed ({:?}): {}",
            self.describe(),
            run.code,
            run.stderr_text()
        );
        run
    }

    fn execute(&self) -> Run {
        let mut cmd = Command::new(self.program);
        for a in &self.args {
            match a {
                Arg::Text(t) => cmd.arg(t),
                Arg::Input(p) | Arg::Output(p) => cmd.arg(p),
            };
        }
        let out = cmd.output().unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): scripts/test.sh installs it; under Wine set {CACHE_VAR} \
                 to the folder a Linux run filled",
                self.program
            )
        });
        Run {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }

    fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"recpipe tool cache v1\0");
        h.update(self.program.as_bytes());
        for a in &self.args {
            match a {
                Arg::Text(t) => {
                    h.update(b"\0t");
                    h.update(t.to_string_lossy().as_bytes());
                }
                Arg::Input(p) => {
                    h.update(b"\0i");
                    match fs::read(p) {
                        Ok(bytes) => h.update(Sha256::digest(&bytes)),
                        Err(_) => h.update(b"missing"),
                    }
                }
                Arg::Output(p) => {
                    h.update(b"\0o");
                    let name = p.file_name().unwrap_or_default();
                    h.update(name.to_string_lossy().as_bytes());
                }
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn output_path(&self) -> Option<&Path> {
        self.args.iter().find_map(|a| match a {
            Arg::Output(p) => Some(p.as_path()),
            _ => None,
        })
    }

    /// A stored result, with its written file copied into place.
    fn load(&self, entry: &Path) -> Option<Run> {
        let code = fs::read_to_string(entry.join("code")).ok()?;
        let run = Run {
            code: code.trim().parse().ok(),
            stdout: fs::read(entry.join("stdout")).expect("cache entry stdout"),
            stderr: fs::read(entry.join("stderr")).expect("cache entry stderr"),
        };
        if let Some(out) = self.output_path() {
            let stored = entry.join("output");
            if stored.exists() {
                fs::copy(&stored, out).unwrap_or_else(|e| {
                    panic!("copy {} to {}: {e}", stored.display(), out.display())
                });
            }
        }
        Some(run)
    }

    /// Stores a result whole or not at all: a folder filled under a
    /// temporary name, then renamed. When another test stored the same
    /// invocation first, its entry stays.
    fn store(&self, cache: &Path, entry: &Path, run: &Run) {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        fs::create_dir_all(cache).expect("create the tool cache folder");
        let tmp = cache.join(format!(
            "tmp-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&tmp).expect("create a tool cache entry");
        let code = run.code.map(|c| c.to_string()).unwrap_or_default();
        fs::write(tmp.join("code"), code).unwrap();
        fs::write(tmp.join("stdout"), &run.stdout).unwrap();
        fs::write(tmp.join("stderr"), &run.stderr).unwrap();
        fs::write(tmp.join("command"), self.describe()).unwrap();
        if let Some(out) = self.output_path()
            && out.exists()
        {
            fs::copy(out, tmp.join("output")).unwrap();
        }
        if fs::rename(&tmp, entry).is_err() {
            fs::remove_dir_all(&tmp).unwrap();
            assert!(
                entry.join("code").exists(),
                "could not store {}",
                entry.display()
            );
        }
    }
}

/// `ffmpeg -v error -y ARGS OUT`; fails the test unless ffmpeg succeeds.
pub fn ffmpeg(args: &[&str], out: &Path) {
    Tool::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output(out)
        .run_ok();
}

/// `ffprobe -v error ARGS INPUT`'s standard output; fails the test unless
/// ffprobe succeeds.
pub fn ffprobe(args: &[&str], input: &Path) -> String {
    Tool::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .input(input)
        .run_ok()
        .stdout_text()
}
