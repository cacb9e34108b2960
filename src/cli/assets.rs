//! `recpipe generate-assets DIR` (hidden): writes the shell completions and
//! man pages made from the clap definitions, for the packages
//! (scripts/dist.sh). What it writes always matches the binary that wrote it.
//!
//! Layout under DIR: `completions/` (`recpipe.bash`, `_recpipe` for zsh,
//! `recpipe.fish`, `_recpipe.ps1` for PowerShell, `recpipe.elv`) and
//! `man/` (`recpipe.1` and one `recpipe-COMMAND.1` per subcommand, as
//! clap_mangen names them).

use super::fail;
use clap::Args as ClapArgs;
use clap_complete::Shell;
use recpipe::exit::ExitStatus;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The folder to write `completions/` and `man/` into (created).
    out: PathBuf,
}

pub fn run(args: &Args, cmd: clap::Command) -> ExitStatus {
    match write_all(&args.out, cmd) {
        Ok(()) => ExitStatus::Success,
        Err((path, e)) => fail(
            format!("{}: cannot write it: {e}", path.display()),
            "",
            ExitStatus::Error,
        ),
    }
}

type WriteError = (PathBuf, std::io::Error);

fn write_all(out: &Path, mut cmd: clap::Command) -> Result<(), WriteError> {
    let completions = out.join("completions");
    let man = out.join("man");
    for d in [&completions, &man] {
        fs::create_dir_all(d).map_err(|e| (d.clone(), e))?;
    }
    // clap_mangen builds its own copy, without the `help` subcommands.
    let for_man = cmd.clone();
    cmd.build();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        clap_complete::generate_to(shell, &mut cmd, "recpipe", &completions)
            .map_err(|e| (completions.clone(), e))?;
    }
    // One page per command: `recpipe.1`, `recpipe-run.1`, ...
    clap_mangen::generate_to(for_man, &man).map_err(|e| (man.clone(), e))
}
