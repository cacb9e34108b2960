//! A program running in a tmux pane: what a person at a terminal sees, and
//! keys typed into it (`recpipe init`'s questions, a watch's login).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A program running in a tmux pane of a private tmux server: what a
/// person at a terminal sees, and keys typed into it.
pub struct Pane {
    socket: PathBuf,
}

impl Pane {
    /// Whether tmux is here; under CI=true its absence fails the test.
    pub fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            crate::util::skip::not_exercised("tmux is missing (scripts/test.sh installs it)");
        }
        ok
    }

    pub fn start(dir: &Path, env: &[(&str, &Path)], args: &[&str]) -> Pane {
        let socket = dir.join("tmux.sock");
        let mut command = String::from("env");
        for (k, v) in env {
            command.push_str(&format!(" {k}='{}'", v.display()));
        }
        command.push_str(&format!(" '{}'", env!("CARGO_BIN_EXE_recpipe")));
        for a in args {
            command.push_str(&format!(" '{a}'"));
        }
        command.push_str("; echo \"EXIT=$?\"; sleep 600");
        let st = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "60",
                "-s",
                "init",
                &command,
            ])
            .status()
            .unwrap();
        assert!(st.success());
        Pane { socket }
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["capture-pane", "-p", "-J", "-S", "-2000", "-t", "init"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text` (at most 60 s).
    pub fn wait_for(&self, text: &str) -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                std::time::Instant::now() < until,
                "waited for {text:?}; the screen:\n{s}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Waits for the question, then types the answer and Enter. Each
    /// question is distinct, or the test first waits for what comes
    /// between two askings of it.
    pub fn answer(&self, question: &str, text: &str) {
        self.wait_for(question);
        let keys = |args: &[&str]| {
            let st = Command::new("tmux")
                .arg("-S")
                .arg(&self.socket)
                .args(["send-keys", "-t", "init"])
                .args(args)
                .status()
                .unwrap();
            assert!(st.success());
        };
        if !text.is_empty() {
            keys(&["-l", text]);
        }
        keys(&["Enter"]);
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}
