//! Build script: names the commit the binary was built from, for
//! `recpipe --version` (the `RECPIPE_COMMIT` compile-time variable).
//!
//! `RECPIPE_COMMIT` set in the environment wins (a build from a source
//! tarball without `.git`); otherwise `git rev-parse` is asked; without git
//! the commit is "unknown". Reruns only when HEAD or the branch it names
//! moves, so ordinary edits do not rerun it.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=RECPIPE_COMMIT");
    let commit = match std::env::var("RECPIPE_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            for name in ["HEAD", "packed-refs"] {
                if let Some(p) = git(&["rev-parse", "--git-path", name]) {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
                && let Some(p) = git(&["rev-parse", "--git-path", &branch])
            {
                println!("cargo:rerun-if-changed={p}");
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=RECPIPE_COMMIT={commit}");
}
