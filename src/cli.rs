//! The command line: the only module that knows clap. It turns arguments
//! into validated library calls, prints what they return, and maps every
//! outcome to an [`ExitStatus`]. Nothing past this file parses arguments.

use clap::{Parser, Subcommand};
use recpipe::exit::ExitStatus;

#[derive(Parser, Debug)]
#[command(
    name = "recpipe",
    version,
    about = "Moves Zoom interview recordings to sealed final storage, safely."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {}

pub fn main() -> ExitStatus {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Success
            };
        }
    };
    match cli.command {}
}
