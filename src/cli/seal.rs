//! `recpipe keygen`, `recpipe seal` and `recpipe decrypt`: argument
//! handling and messages around [`recpipe::seal`]. Passphrases are only
//! ever read from the terminal (the CLI's prompter), without echo, never
//! from arguments, and are zeroized.

use super::prompt::Terminal;
use clap::Args;
use recpipe::destination::{PromptError, Prompter};
use recpipe::exit::ExitStatus;
use recpipe::seal::file::{
    FileError, SealTo, decrypted_name, read_identity_file, read_recipients_file,
    remove_stale_partials, seal_file, seal_file_to, sealed_name, write_identity_file,
};
use recpipe::seal::{Identity, KeyError, OpenError, Passphrase, Recipient, SealSummary, Unlock};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Write the identity to this file (created readable only by you; never
    /// overwritten). Without it, the identity is printed.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "recipient_of"
    )]
    output: Option<PathBuf>,
    /// Print the recipient (public key) of an existing identity file.
    #[arg(short = 'y', value_name = "IDENTITY_FILE")]
    recipient_of: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SealArgs {
    /// A recipient (`recpipe1…`) to seal to; repeat for several.
    #[arg(short = 'r', long = "recipient", value_name = "RECIPIENT")]
    recipients: Vec<String>,
    /// A file of recipients, one a line (`#` starts a comment); repeatable.
    #[arg(short = 'R', long = "recipients-file", value_name = "FILE")]
    recipients_files: Vec<PathBuf>,
    /// Seal to a passphrase asked for twice on the terminal (never taken
    /// from arguments), for someone without key files; open it with
    /// `recpipe decrypt --passphrase`.
    #[arg(long, conflicts_with_all = ["recipients", "recipients_files"])]
    passphrase: bool,
    /// Where to write the sealed file (default: FILE.sealed). Never overwritten.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// The file to seal.
    file: PathBuf,
}

#[derive(Args, Debug)]
pub struct DecryptArgs {
    /// An identity file; repeat for several.
    #[arg(
        short = 'i',
        long = "identity",
        value_name = "IDENTITY_FILE",
        required_unless_present = "passphrase"
    )]
    identities: Vec<PathBuf>,
    /// Ask for the passphrase on the terminal (it is never taken from arguments).
    #[arg(long, conflicts_with = "identities")]
    passphrase: bool,
    /// Where the decrypted output goes (default: beside each sealed file).
    /// With one FILE: an existing folder, a folder to create when OUT ends
    /// with `/`, or else the output file itself. With several: a folder,
    /// created if missing. Never overwrites a file.
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "output-dir",
        value_name = "OUT"
    )]
    output: Option<PathBuf>,
    /// Sealed files; `name.sealed` decrypts to `name`.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn keygen(args: KeygenArgs) -> ExitStatus {
    if let Some(path) = args.recipient_of {
        return match read_identity_file(&path) {
            Ok(ids) => {
                for id in ids {
                    println!("{}", id.recipient());
                }
                ExitStatus::Success
            }
            Err(e) => fail(&e),
        };
    }
    let id = match Identity::generate() {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    match args.output {
        Some(path) => match write_identity_file(&path, &id) {
            Ok(()) => {
                eprintln!(
                    "Wrote the identity to {}. Keep it secret; give others the recipient:",
                    path.display()
                );
                println!("{}", id.recipient());
                ExitStatus::Success
            }
            Err(e) => fail(&e),
        },
        None => {
            println!("# recipient: {}", id.recipient());
            println!("{}", *id.to_secret_text());
            eprintln!("Recipient: {}", id.recipient());
            ExitStatus::Success
        }
    }
}

pub fn seal(args: SealArgs) -> ExitStatus {
    if args.passphrase {
        let passphrase = match new_passphrase() {
            Ok(p) => p,
            Err(status) => return status,
        };
        let output = args.output.unwrap_or_else(|| sealed_name(&args.file));
        return report_sealed(
            &output,
            seal_file_to(&args.file, &output, SealTo::Passphrase(&passphrase)),
        );
    }
    let mut recipients = Vec::new();
    for text in &args.recipients {
        match text.parse::<Recipient>() {
            Ok(r) => recipients.push(r),
            Err(e) => {
                // Never echo what may be a secret key.
                let shown = match e {
                    KeyError::IdentityGivenAsRecipient => "…".to_string(),
                    _ => shorten(text),
                };
                eprintln!("error: -r {shown}: {e}");
                return ExitStatus::Usage;
            }
        }
    }
    for path in &args.recipients_files {
        match read_recipients_file(path) {
            Ok(list) => recipients.extend(list),
            Err(e) => return fail(&e),
        }
    }
    if recipients.is_empty() {
        eprintln!("error: nothing to seal to: give -r RECIPIENT or -R RECIPIENTS_FILE");
        return ExitStatus::Usage;
    }
    let output = args.output.unwrap_or_else(|| sealed_name(&args.file));
    report_sealed(&output, seal_file(&args.file, &output, &recipients))
}

fn report_sealed(output: &Path, result: Result<SealSummary, FileError>) -> ExitStatus {
    match result {
        Ok(summary) => {
            println!(
                "{}\tsha256:{}\tplaintext-sha256:{}",
                output.display(),
                summary.sealed_sha256,
                summary.plaintext_sha256
            );
            ExitStatus::Success
        }
        Err(e) => fail(&e),
    }
}

/// Asks twice, through the CLI's terminal prompter, for a new passphrase.
/// The answers are zeroizing [`recpipe::destination::Secret`]s, moved (not
/// copied) into a zeroizing [`Passphrase`].
fn new_passphrase() -> Result<Passphrase, ExitStatus> {
    let ask = |question: &str| match Terminal.ask(question, false) {
        Ok(answer) => Ok(answer),
        Err(PromptError::NoTerminal) => {
            eprintln!("error: --passphrase asks on the terminal, and there is none here");
            eprintln!("  run recpipe seal --passphrase in a terminal");
            Err(ExitStatus::Usage)
        }
        Err(e) => {
            eprintln!("error: cannot read a passphrase from the terminal: {e}");
            Err(ExitStatus::Usage)
        }
    };
    let first = ask("New passphrase: ")?;
    let again = ask("The same passphrase again: ")?;
    if first.expose() != again.expose() {
        eprintln!("error: the two passphrases differ; nothing was sealed");
        return Err(ExitStatus::Usage);
    }
    if first.expose().is_empty() {
        eprintln!("error: the passphrase is empty; nothing was sealed");
        return Err(ExitStatus::Usage);
    }
    Ok(Passphrase::new(first.into_string()))
}

pub fn decrypt(args: DecryptArgs) -> ExitStatus {
    let passphrase;
    let mut identities = Vec::new();
    let unlock = if args.passphrase {
        if !std::io::stdin().is_terminal() {
            eprintln!("error: --passphrase asks on the terminal, and there is none here");
            eprintln!("  run recpipe decrypt --passphrase in a terminal");
            return ExitStatus::Usage;
        }
        passphrase = match Terminal.ask("Passphrase: ", false) {
            Ok(p) if !p.expose().is_empty() => Passphrase::new(p.into_string()),
            Ok(_) => {
                eprintln!("error: the passphrase is empty");
                return ExitStatus::Usage;
            }
            Err(e) => {
                eprintln!("error: cannot read a passphrase from the terminal: {e}");
                eprintln!("  run recpipe decrypt --passphrase in a terminal");
                return ExitStatus::Usage;
            }
        };
        Unlock::Passphrase(&passphrase)
    } else {
        for path in &args.identities {
            match read_identity_file(path) {
                Ok(ids) => identities.extend(ids),
                Err(e) => return fail(&e),
            }
        }
        Unlock::Identities(&identities)
    };
    let target = match output_target(args.output.as_deref(), args.files.len()) {
        Ok(t) => t,
        Err(status) => return status,
    };
    interruption_removes_partials();
    let mut cleaned = std::collections::HashSet::new();
    let mut status = ExitStatus::Success;
    for (i, file) in args.files.iter().enumerate() {
        let untried = &args.files[i + 1..];
        let output = match &target {
            Target::Beside => decrypted_name(file, None),
            Target::Folder(dir) => decrypted_name(file, Some(dir)),
            Target::File(path) => path.clone(),
        };
        // What a killed decrypt left in this folder goes first.
        let folder = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if cleaned.insert(folder.clone()) {
            match remove_stale_partials(&folder) {
                Ok(0) => {}
                Ok(n) => eprintln!(
                    "Removed {n} partial output(s) a stopped decrypt had left in {}.",
                    folder.display()
                ),
                Err(e) => return not_tried(fail(&e), untried, file),
            }
        }
        match recpipe::seal::file::decrypt_file(file, &output, unlock) {
            Ok(_) => println!("{}", output.display()),
            Err(e) => {
                let s = fail(&e);
                if s != ExitStatus::Broken {
                    return not_tried(s, untried, file);
                }
                status = ExitStatus::Broken;
            }
        }
    }
    status
}

/// Says which files a decrypt that stopped at `at` never tried, and
/// returns `status`. An altered file does not stop it; other errors do,
/// since they concern every file (a key, an output folder).
fn not_tried(status: ExitStatus, untried: &[PathBuf], at: &Path) -> ExitStatus {
    if !untried.is_empty() {
        eprintln!(
            "  stopped at {}: {} file(s) after it were not tried:",
            at.display(),
            untried.len()
        );
        for f in untried {
            eprintln!("    {}", f.display());
        }
    }
    status
}

/// Where `decrypt` writes.
enum Target {
    Beside,
    Folder(PathBuf),
    File(PathBuf),
}

/// Reads `-o OUT` (see [`DecryptArgs`]), creating the folder it names.
fn output_target(out: Option<&Path>, inputs: usize) -> Result<Target, ExitStatus> {
    let Some(out) = out else {
        return Ok(Target::Beside);
    };
    let text = out.as_os_str().to_string_lossy();
    let names_folder = text.ends_with('/') || (cfg!(windows) && text.ends_with('\\'));
    if out.is_dir() {
        return Ok(Target::Folder(out.to_path_buf()));
    }
    if inputs == 1 && !names_folder {
        return Ok(Target::File(out.to_path_buf()));
    }
    match std::fs::create_dir_all(out) {
        Ok(()) => Ok(Target::Folder(out.to_path_buf())),
        Err(e) => {
            eprintln!(
                "error: cannot create the output folder {}: {e}",
                out.display()
            );
            Err(ExitStatus::Error)
        }
    }
}

/// Ctrl-C, SIGTERM, SIGHUP or closing the console while decrypting removes
/// the partial plaintext before the process ends (exit status 130).
fn interruption_removes_partials() {
    let _ = ctrlc::set_handler(|| {
        let removed = recpipe::seal::file::remove_open_partials();
        eprintln!(
            "recpipe: stopped; {removed} partial output(s) removed, nothing decrypted was kept"
        );
        std::process::exit(130);
    });
}

/// Prints the error with what to do next and chooses the exit status.
fn fail(e: &FileError) -> ExitStatus {
    eprintln!("error: {e}");
    let (hint, status) = match e {
        FileError::Exists { .. } => (None, ExitStatus::Usage),
        FileError::Key { .. } | FileError::Empty { .. } => (None, ExitStatus::Usage),
        FileError::Unprotected { .. } => (
            Some(if cfg!(windows) {
                "let only your own account read it (file Properties > Security), or make a new key pair with recpipe keygen -o FILE"
            } else {
                "make it readable only by you: chmod 600 FILE"
            }),
            ExitStatus::Usage,
        ),
        FileError::Open { source, .. } if source.is_corrupt() => (
            Some("nothing was written; get a fresh copy of the sealed file"),
            ExitStatus::Broken,
        ),
        FileError::Open {
            source: OpenError::Io(_),
            ..
        } => (Some("nothing was written"), ExitStatus::Error),
        FileError::Open { .. } => (
            Some("nothing was written; check the identity file or passphrase"),
            ExitStatus::Usage,
        ),
        FileError::Read { .. } | FileError::Write { .. } | FileError::Seal { .. } => {
            (None, ExitStatus::Error)
        }
    };
    if let Some(hint) = hint {
        eprintln!("  {hint}");
    }
    status
}

/// A recipient shortened for messages.
fn shorten(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 24 {
        text.to_string()
    } else {
        format!("{}…", chars[..20].iter().collect::<String>())
    }
}
