//! A small tmpfs on a fresh folder, standing in for a full disk, and the
//! root check the tests that mount one (or use chattr) make first. Linux's
//! `mount`; without root such a test prints `NOT EXERCISED` and why, and fails
//! under `CI=true`, where every case must run.

use std::path::PathBuf;
use std::process::Command;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `true` if the test can run; otherwise says loudly why not (and fails
/// under CI, where every case must run).
pub fn needs_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    super::skip::not_exercised(&format!(
        "{test} needs root (it mounts a tmpfs or uses chattr)"
    ));
    false
}

/// A tmpfs of `size` mounted on a fresh folder; unmounted on drop.
pub struct Tmpfs {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Tmpfs {
    pub fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&path));
        Tmpfs { _dir: dir, path }
    }

    pub fn resize(&self, size: &str) {
        run(Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Runs `cmd`, which must succeed.
pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
