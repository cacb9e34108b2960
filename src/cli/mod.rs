//! The command line: the only module that knows clap. It turns arguments
//! into validated library calls, prints what they return, and maps every
//! outcome to an [`ExitStatus`]. Nothing past this module parses arguments.

mod assets;
mod check;
mod init;
mod log;
mod notify;
mod pipeline_file;
mod plan;
mod printer;
mod prompt;
mod run;
mod setup;
mod status;
mod trust_host;
mod watch;

mod seal;

use clap::{CommandFactory, Parser, Subcommand};
use recpipe::duration::HumanDuration;
use recpipe::exit::ExitStatus;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "recpipe",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("RECPIPE_COMMIT"), ")"),
    about = "Moves Zoom interview recordings to sealed final storage, safely."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check recording folders: complete, in progress or broken, and why.
    ///
    /// Exit status: 0 every recording is complete, 3 some is in progress
    /// (and none broken), 4 some is broken, 1 an error, 2 bad usage.
    Check {
        /// A recording folder, or a folder holding several (such as ~/Documents/Zoom).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print one JSON document instead of the human-readable report.
        #[arg(long)]
        json: bool,
        /// Take the quiet time and marks file name from this pipeline file.
        #[arg(long, value_name = "FILE")]
        pipeline: Option<PathBuf>,
        /// Quiet time before a recording counts as finished (e.g. 30s, 2m).
        #[arg(long, value_name = "DURATION")]
        settle: Option<HumanDuration>,
    },
    /// Work with pipeline files.
    #[command(subcommand)]
    Pipeline(PipelineCommand),
    /// Show an SFTP server's host key fingerprint and trust it after you confirm.
    ///
    /// Exit status: 0 trusted (now or before), 4 a different key is on file,
    /// 2 no terminal to confirm on and no --yes, 1 an error or "no".
    TrustHost(trust_host::Args),
    /// Process every complete recording once: redact, keep the wanted
    /// tracks, seal, upload, verify, remove the interim copy.
    ///
    /// Exit status: 0 all done or nothing to do (also when another run holds
    /// the lock), 3 something waits (in progress, or a login needs a
    /// person), 4 something is broken and needs a person, 1 an error.
    Run(run::RunArgs),
    /// Keep processing the interim folder while you work: every recording
    /// is processed once it is complete and has settled.
    Watch(watch::WatchArgs),
    /// Dry run for one recording: every file's fate, the marks and the exact
    /// ranges removed, the start-time mapping, the size. Writes nothing.
    Plan(plan::PlanArgs),
    /// Write one recording's outputs unsealed into a folder of your choice,
    /// to listen before anything leaves the PC (that folder holds red data).
    Preview(plan::PreviewArgs),
    /// Mark a passage to remove, while the meeting runs: `recpipe mark` opens
    /// a mark now, again closes it; or give FROM [TO]. Made for a hotkey.
    Mark(plan::MarkArgs),
    /// Show every recording's journal: step reached, what it waits for,
    /// the last error.
    Status(status::StatusArgs),
    /// Make a new identity (secret key) and print its recipient (public key).
    Keygen(seal::KeygenArgs),
    /// Seal (encrypt) a file to recipients, as the pipeline does.
    Seal(seal::SealArgs),
    /// Decrypt sealed files; output appears only if the whole file authenticates.
    Decrypt(seal::DecryptArgs),
    /// Set recpipe up, guided: what the data is, where Zoom records, what to
    /// keep, where it goes; writes the pipeline file and checks it.
    ///
    /// Every answer is also a flag; --yes asks nothing (for IT).
    Init(Box<init::InitArgs>),
    /// Write shell completions and man pages into a folder (for packaging).
    #[command(hide = true)]
    GenerateAssets(assets::Args),
}

#[derive(Subcommand, Debug)]
enum PipelineCommand {
    /// Validate a pipeline file and say in plain words what it will do.
    Check {
        /// The pipeline file (pipelines/*.toml).
        file: PathBuf,
    },
}

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
    match cli.command {
        Command::Check {
            paths,
            json,
            pipeline,
            settle,
        } => check::run(&paths, json, pipeline.as_deref(), settle),
        Command::Pipeline(PipelineCommand::Check { file }) => pipeline_file::check(&file),
        Command::TrustHost(args) => trust_host::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Watch(args) => watch::watch(&args),
        Command::Plan(args) => plan::plan(&args),
        Command::Preview(args) => plan::preview_cmd(&args),
        Command::Mark(args) => plan::mark(&args),
        Command::Status(args) => status::status(&args),
        Command::Keygen(args) => seal::keygen(args),
        Command::Seal(args) => seal::seal(args),
        Command::Decrypt(args) => seal::decrypt(args),
        Command::Init(args) => init::run(&args),
        Command::GenerateAssets(args) => assets::run(&args, Cli::command()),
    }
}

/// Prints an error the way every command does: what happened, then what
/// to do next.
fn fail(what: impl std::fmt::Display, next: &str, status: ExitStatus) -> ExitStatus {
    eprintln!("recpipe: {what}");
    if !next.is_empty() {
        eprintln!("  {next}");
    }
    status
}
