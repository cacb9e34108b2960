//! The scheduled run `recpipe init` offers to register: a systemd user
//! timer on Linux, a Task Scheduler task on Windows, both running
//! `recpipe run --pipeline FILE` every 10 minutes with no terminal (as
//! docs/scheduling.md describes them), so a login that needs a person waits
//! (exit 3) instead of hanging.
//!
//! It also makes the entries that start `recpipe watch --pipeline FILE`
//! when the user logs in, with no console window and no terminal: a
//! systemd user service (`recpipe-watch.service`, its output in the
//! user's journal) and a Task Scheduler task with an "at log on" trigger
//! (its output appended to `watch-output.log` in the state folder).
//!
//! This module only makes the texts and writes the files; starting
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

/// `recpipe-watch.service`: `recpipe watch` from login to logout, with no
/// terminal (a login that needs the person waits, and the desktop
/// notification says so), started again a minute after it fails.
pub fn systemd_watch_unit(exe: &Path, pipeline: &Path) -> String {
    format!(
        "[Unit]\n\
         Description=recpipe watch: process finished Zoom recordings while you are logged in (written by recpipe init)\n\n\
         [Service]\n\
         Type=simple\n\
         ExecStart={} watch --pipeline {}\n\
         # No terminal: a login that needs a one-time code waits, and a desktop notification says so.\n\
         StandardInput=null\n\
         # What it prints goes to the user's journal: journalctl --user -u recpipe-watch\n\
         StandardOutput=journal\n\
         StandardError=journal\n\
         Restart=on-failure\n\
         RestartSec=1min\n\
         Nice=10\n\
         IOSchedulingClass=idle\n\n\
         [Install]\n\
         WantedBy=default.target\n",
        unit_quote(exe),
        unit_quote(pipeline)
    )
}

/// Writes `recpipe-watch.service` into `dir`; returns its path.
pub fn write_systemd_watch_unit(
    dir: &Path,
    exe: &Path,
    pipeline: &Path,
) -> Result<PathBuf, std::io::Error> {
    fs::create_dir_all(dir)?;
    let path = dir.join("recpipe-watch.service");
    fs::write(&path, systemd_watch_unit(exe, pipeline))?;
    Ok(path)
}

/// `text` with XML's special characters escaped.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The Task Scheduler task that starts `recpipe watch` at log on: as the
/// user, only while logged on, in a headless console whose input is `NUL`
/// (no window, no questions), its output appended to `watch-output.log` in
/// the state folder, never two at once and with no time limit.
pub fn watch_task_xml(exe: &Path, pipeline: &Path) -> String {
    let command = format!(
        "--headless %SystemRoot%\\System32\\cmd.exe /d /s /c \"\"{}\" watch --pipeline \"{}\" <NUL >>\"%LOCALAPPDATA%\\recpipe\\watch-output.log\" 2>&1\"",
        exe.display(),
        pipeline.display()
    );
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>recpipe watch: from log on, process finished Zoom recordings in the background (written by recpipe init; see docs/scheduling.md).</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>%SystemRoot%\System32\conhost.exe</Command>
      <Arguments>{}</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        xml_escape(&command)
    )
}

/// Writes the at-log-on task as Task Scheduler's own exports are written
/// (UTF-16 LE with a byte-order mark), for `schtasks /Create /XML`.
pub fn write_watch_task(path: &Path, exe: &Path, pipeline: &Path) -> Result<(), std::io::Error> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut bytes = vec![0xFF, 0xFE];
    for unit in watch_task_xml(exe, pipeline).encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    crate::fsutil::write_atomic(path, &bytes)
}

/// The arguments of `schtasks` that register the at-log-on task written
/// to `xml`.
pub fn schtasks_watch_args(xml: &Path) -> Vec<String> {
    ["/Create", "/F", "/TN", "recpipe watch", "/XML"]
        .iter()
        .map(|s| s.to_string())
        .chain([xml.display().to_string()])
        .collect()
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
    fn the_watch_service_starts_at_login_without_a_terminal() {
        let unit = systemd_watch_unit(
            Path::new("/home/åse/bin/recpipe"),
            Path::new("/home/åse/p.toml"),
        );
        assert!(unit.contains(
            "ExecStart=\"/home/åse/bin/recpipe\" watch --pipeline \"/home/åse/p.toml\"\n"
        ));
        assert!(unit.contains("StandardInput=null\n"));
        assert!(unit.contains("WantedBy=default.target\n"));
    }

    #[test]
    fn the_watch_task_starts_at_log_on_headless_and_logs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("recpipe-watch-task.xml");
        let exe = Path::new(r"C:\Users\a\AppData\Local\Programs\recpipe\recpipe.exe");
        let pipeline = Path::new(r"C:\Users\a\R&D <2026>\pipeline.toml");
        write_watch_task(&file, exe, pipeline).unwrap();
        let bytes = fs::read(&file).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16 LE with its mark");
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let xml = String::from_utf16(&units).unwrap();
        assert_eq!(xml, watch_task_xml(exe, pipeline));
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>"));
        let triggers = &xml[xml.find("<Triggers>").unwrap()..xml.find("</Triggers>").unwrap()];
        assert_eq!(
            triggers.trim_start_matches("<Triggers>").trim(),
            "<LogonTrigger>\n      <Enabled>true</Enabled>\n    </LogonTrigger>"
        );
        assert!(xml.contains("<LogonType>InteractiveToken</LogonType>"));
        assert!(xml.contains("<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>"));
        assert!(xml.contains(
            "<Arguments>--headless %SystemRoot%\\System32\\cmd.exe /d /s /c &quot;&quot;C:\\Users\\a\\AppData\\Local\\Programs\\recpipe\\recpipe.exe&quot; watch --pipeline &quot;C:\\Users\\a\\R&amp;D &lt;2026&gt;\\pipeline.toml&quot; &lt;NUL &gt;&gt;&quot;%LOCALAPPDATA%\\recpipe\\watch-output.log&quot; 2&gt;&amp;1&quot;</Arguments>"
        ), "{xml}");
        assert_eq!(
            schtasks_watch_args(&file)[..5],
            ["/Create", "/F", "/TN", "recpipe watch", "/XML"]
        );
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
