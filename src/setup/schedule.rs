//! The scheduled run `recpipe init` offers to register: a systemd user
//! timer on Linux, a Task Scheduler task on Windows, both running
//! `recpipe run --pipeline FILE` every 10 minutes with no terminal (as
//! docs/scheduling.md describes them), so a login that needs a person waits
//! (exit 3) instead of hanging.
//!
//! This module only makes the texts and writes the unit files; starting
//! `systemctl` or `schtasks` is the CLI's.

use std::fs;
use std::path::{Path, PathBuf};

/// The systemd user folder: `$XDG_CONFIG_HOME/systemd/user`, else
/// `~/.config/systemd/user`.
pub fn systemd_user_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.config_dir().join("systemd").join("user"))
}

/// Quotes a path for a systemd `ExecStart=` line.
fn unit_quote(p: &Path) -> String {
    let s = p.to_string_lossy();
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('%', "%%")
    )
}

/// `recpipe.service` and `recpipe.timer` for `exe` and `pipeline`.
pub fn systemd_units(exe: &Path, pipeline: &Path) -> (String, String) {
    let service = format!(
        "[Unit]\n\
         Description=recpipe: process finished Zoom recordings (written by recpipe init)\n\n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={} run --pipeline {}\n\
         # No terminal: recpipe never asks; an upload needing a one-time code waits (exit 3).\n\
         StandardInput=null\n\
         SuccessExitStatus=3\n\
         Nice=10\n\
         IOSchedulingClass=idle\n",
        unit_quote(exe),
        unit_quote(pipeline)
    );
    let timer = "[Unit]\n\
                 Description=Run recpipe every 10 minutes\n\n\
                 [Timer]\n\
                 OnCalendar=*:0/10\n\
                 OnStartupSec=2min\n\
                 AccuracySec=30s\n\n\
                 [Install]\n\
                 WantedBy=timers.target\n"
        .to_string();
    (service, timer)
}

/// Writes the two units into `dir`; returns their paths.
pub fn write_systemd_units(
    dir: &Path,
    exe: &Path,
    pipeline: &Path,
) -> Result<[PathBuf; 2], std::io::Error> {
    fs::create_dir_all(dir)?;
    let (service, timer) = systemd_units(exe, pipeline);
    let s = dir.join("recpipe.service");
    let t = dir.join("recpipe.timer");
    fs::write(&s, service)?;
    fs::write(&t, timer)?;
    Ok([s, t])
}

/// The arguments of `schtasks` that register the task for the current
/// user: every 10 minutes, `recpipe run` with no terminal and no window
/// (a headless console whose standard input is `NUL`, as in
/// docs/scheduling.md).
pub fn schtasks_args(exe: &Path, pipeline: &Path) -> Vec<String> {
    let command = format!(
        "%SystemRoot%\\System32\\conhost.exe --headless %SystemRoot%\\System32\\cmd.exe /d /s /c \"\"{}\" run --pipeline \"{}\" <NUL\"",
        exe.display(),
        pipeline.display()
    );
    [
        "/Create", "/F", "/SC", "MINUTE", "/MO", "10", "/TN", "recpipe", "/TR",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([command])
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_quote_paths_with_spaces_and_percent() {
        let (service, timer) = systemd_units(
            Path::new("/home/åse/bin/recpipe"),
            Path::new("/home/åse/My 100% pipeline.toml"),
        );
        assert!(service.contains(
            "ExecStart=\"/home/åse/bin/recpipe\" run --pipeline \"/home/åse/My 100%% pipeline.toml\"\n"
        ));
        assert!(timer.contains("OnCalendar=*:0/10"));
    }

    #[test]
    fn schtasks_runs_the_pipeline() {
        let args = schtasks_args(
            Path::new(r"C:\Users\a\AppData\Local\Programs\recpipe\recpipe.exe"),
            Path::new(r"C:\Users\a\AppData\Roaming\recpipe\pipeline.toml"),
        );
        assert_eq!(
            args.last().unwrap(),
            r#"%SystemRoot%\System32\conhost.exe --headless %SystemRoot%\System32\cmd.exe /d /s /c ""C:\Users\a\AppData\Local\Programs\recpipe\recpipe.exe" run --pipeline "C:\Users\a\AppData\Roaming\recpipe\pipeline.toml" <NUL""#
        );
    }
}
