//! Build script: names the commit the binary was built from, for
//! `recpipe --version` (the `RECPIPE_COMMIT` compile-time variable).
//!
//! `RECPIPE_COMMIT` set in the environment wins (a build from a source
//! tarball without `.git`); otherwise `git rev-parse` is asked; without git
//! the commit is "unknown". Reruns only when HEAD or the branch it names
//! moves (those of its files that exist), so ordinary edits do not rerun it.

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
            // Only files that exist: cargo counts a missing one as changed
            // at every build (a repository that never packed its refs has
            // no packed-refs), which would rebuild recpipe every time. A
            // ref that is not a file of its own is in packed-refs.
            let mut watch = vec![String::from("HEAD"), String::from("packed-refs")];
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch.push(branch);
            }
            for name in watch {
                if let Some(p) = git(&["rev-parse", "--git-path", &name])
                    && std::path::Path::new(&p).is_file()
                {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=RECPIPE_COMMIT={commit}");
}
