//! `recpipe init`: a guided first setup. Asks, in plain words, what the
//! data is, where Zoom records, what to keep, where it goes and the
//! project's public key; trusts the SFTP host after the user compares its
//! fingerprint; writes the pipeline into the per-user config folder; checks
//! it as `recpipe pipeline check` does; offers the scheduled run.
//!
//! Every answer is also a flag; with `--yes` nothing is asked (scripted
//! setups by IT) and whatever no flag gives takes its default. Without
//! `--yes`, questions need a terminal: with none, init refuses (exit 2)
//! rather than guess.

use super::{fail, pipeline_file};
use destination::{sftp_answers, trust, tsd_api_answers};

mod destination;
use clap::{Args as ClapArgs, ValueEnum};
use recpipe::config::{AudioFormat, Classification, TrackKind, default_zoom_dir};
use recpipe::exit::ExitStatus;
use recpipe::setup::{self, Answers, DestinationAnswer, SetupError, schedule};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Class {
    Green,
    Yellow,
    Red,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// TSD (or another server) by SFTP.
    Sftp,
    /// TSD's HTTPS file API (for a scheduled run: no one-time code).
    TsdApi,
    /// A folder.
    Dir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Route {
    /// The API key alone, from an address TSD allow-listed for it.
    Basic,
    /// An import link the project owner made in TSD.
    ImportLink,
    /// A TSD user's password and one-time code at the terminal.
    Login,
}

#[derive(ClapArgs, Debug)]
pub struct InitArgs {
    /// Ask nothing: take every answer from the flags, defaults for the rest.
    #[arg(long)]
    yes: bool,
    /// The pipeline file to write (default: pipeline.toml in the per-user
    /// config folder, %APPDATA%\recpipe or ~/.config/recpipe).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace an existing pipeline file.
    #[arg(long)]
    force: bool,
    /// A name for the pipeline (shown in logs and the manifest).
    #[arg(long)]
    name: Option<String>,
    /// How sensitive the recordings are (default red: interview audio).
    #[arg(long, value_enum)]
    classification: Option<Class>,
    /// Where Zoom records locally (default: Documents\Zoom).
    #[arg(long, value_name = "DIR")]
    zoom_dir: Option<PathBuf>,
    /// Tracks to keep, comma-separated: participant-audio, mixed-audio,
    /// video, chat, captions (default: participant-audio,mixed-audio).
    #[arg(long, value_name = "LIST")]
    tracks: Option<String>,
    /// Audio format of the outputs.
    #[arg(long, value_name = "wav|m4a")]
    audio_format: Option<String>,
    /// Where sealed files go (default sftp: TSD's file import).
    #[arg(long, value_enum)]
    destination: Option<Kind>,
    /// TSD project number, such as p11 (sftp).
    #[arg(long)]
    project: Option<String>,
    /// Your user name in the project (sftp; the login is PROJECT-USER).
    #[arg(long)]
    user: Option<String>,
    /// SFTP host (default TSD's, tsd-fx01.tsd.usit.no).
    #[arg(long)]
    host: Option<String>,
    /// SFTP port.
    #[arg(long)]
    port: Option<u16>,
    /// Folder on the SFTP server (default: the project's file import).
    #[arg(long, value_name = "PATH")]
    remote_path: Option<String>,
    /// known_hosts file for the SFTP host key.
    #[arg(long, value_name = "FILE")]
    known_hosts: Option<String>,
    /// Destination folder (dir).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// How the TSD API destination gets its tokens (tsd-api).
    #[arg(long, value_enum)]
    tsd_auth: Option<Route>,
    /// The import link, or its id (tsd-api, import-link).
    #[arg(long, value_name = "LINK")]
    link: Option<String>,
    /// The file holding the import link's secret (tsd-api, a link with one).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<String>,
    /// The file holding the API key TSD registered for this client (tsd-api).
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<String>,
    /// The project's recipient (recpipe1…), or a file holding it.
    #[arg(long)]
    recipient: Option<String>,
    /// Trust the SFTP host's key without asking (compare its fingerprint
    /// with the published one first). Without it, --yes leaves the host
    /// untrusted and says how to trust it.
    #[arg(long)]
    trust_host: bool,
    /// Register the scheduled run (systemd user timer or Task Scheduler).
    #[arg(long)]
    schedule: bool,
    /// No desktop notifications when a recording needs you (they are on
    /// by default; [notify] in the pipeline file).
    #[arg(long)]
    no_notify: bool,
    /// Start `recpipe watch` at login, without a window (a systemd user
    /// service, or a Task Scheduler task "at log on").
    #[arg(long)]
    watch_at_login: bool,
}

/// Asks questions on the terminal, or answers them with defaults.
struct Asker {
    interactive: bool,
}

impl Asker {
    /// Asks `question` unless its flag `given` answered it; an empty answer
    /// takes `default`. `check` turns an answer into a value or says what is
    /// wrong, and the question is asked again (a wrong flag or default with
    /// --yes is an error: exit 2).
    fn ask<T>(
        &self,
        question: &str,
        given: Option<&str>,
        default: &str,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ExitStatus> {
        if given.is_some() || !self.interactive {
            let answer = given.unwrap_or(default);
            return check(answer).map_err(|why| {
                fail(
                    format!("{question}: {why}"),
                    "Nothing was written.",
                    ExitStatus::Usage,
                )
            });
        }
        loop {
            let mut err = std::io::stderr();
            if default.is_empty() {
                let _ = write!(err, "{question}: ");
            } else {
                let _ = write!(err, "{question} [{default}]: ");
            }
            let _ = err.flush();
            let mut line = String::new();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => {
                    return Err(fail(
                        "setup stopped: no more answers",
                        "Nothing was written.",
                        ExitStatus::Usage,
                    ));
                }
                Ok(_) => {}
            }
            let answer = line.trim();
            let answer = if answer.is_empty() { default } else { answer };
            match check(answer) {
                Ok(v) => return Ok(v),
                Err(why) => eprintln!("  {why}"),
            }
        }
    }

    fn yes_no(&self, question: &str, default: bool) -> Result<bool, ExitStatus> {
        self.ask(question, None, if default { "y" } else { "n" }, |a| match a
            .to_ascii_lowercase()
            .as_str()
        {
            "y" | "yes" | "j" | "ja" => Ok(true),
            "n" | "no" | "nei" => Ok(false),
            _ => Err("answer y or n".into()),
        })
    }

    fn say(&self, text: &str) {
        if self.interactive {
            eprintln!("{text}");
        }
    }
}

fn parse_tracks(text: &str) -> Result<Vec<TrackKind>, String> {
    let mut out = Vec::new();
    for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let kind = match t {
            "participant-audio" => TrackKind::ParticipantAudio,
            "mixed-audio" => TrackKind::MixedAudio,
            "video" => TrackKind::Video,
            "chat" => TrackKind::Chat,
            "captions" => TrackKind::Captions,
            _ => {
                return Err(format!(
                    "\"{t}\" is not a track: participant-audio, mixed-audio, video, chat, captions"
                ));
            }
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    if out.is_empty() {
        return Err("keep at least one track".into());
    }
    Ok(out)
}

fn setup_error(e: SetupError) -> ExitStatus {
    match e {
        SetupError::Exists { .. }
        | SetupError::NotARecipient { .. }
        | SetupError::NotAProject(_) => fail(e, "Nothing was written.", ExitStatus::Usage),
        other => fail(other, "", ExitStatus::Error),
    }
}

pub fn run(args: &InitArgs) -> ExitStatus {
    let interactive = !args.yes;
    if interactive && !std::io::stdin().is_terminal() {
        return fail(
            "recpipe init asks its questions at a terminal, and there is none",
            "For a scripted setup give --yes and the answers as flags (recpipe init --help).",
            ExitStatus::Usage,
        );
    }
    match collect(args, &Asker { interactive }) {
        Ok(status) => status,
        Err(status) => status,
    }
}

fn collect(args: &InitArgs, q: &Asker) -> Result<ExitStatus, ExitStatus> {
    let output = match &args.output {
        Some(p) => p.clone(),
        None => setup::default_pipeline_path().map_err(setup_error)?,
    };
    if output.exists() && !args.force {
        return Err(setup_error(SetupError::Exists { path: output }));
    }
    q.say("recpipe setup. Press Enter to take the answer in [brackets].\n");

    q.say("How sensitive are the recordings?");
    q.say(setup::CLASSIFICATION_HELP);
    let given_class = args.classification.map(|c| match c {
        Class::Green => "green",
        Class::Yellow => "yellow",
        Class::Red => "red",
    });
    let classification = q.ask(
        "Classification (green, yellow, red)",
        given_class,
        "red",
        |a| match a.to_ascii_lowercase().as_str() {
            "green" => Ok(Classification::Green),
            "yellow" => Ok(Classification::Yellow),
            "red" => Ok(Classification::Red),
            _ => Err("answer green, yellow or red".into()),
        },
    )?;

    q.say("\nWhere does Zoom save local recordings? (Zoom: Settings > Recording > Store my recording at)");
    let given_zoom = args.zoom_dir.as_ref().map(|d| d.to_string_lossy());
    let source_dir = q.ask(
        "Zoom's recording folder",
        given_zoom.as_deref(),
        &default_zoom_dir().to_string_lossy(),
        |a| Ok(setup::typed_path(a)),
    )?;
    if !source_dir.is_dir() {
        q.say("  (that folder does not exist yet; Zoom creates it with the first recording)");
    }

    q.say("\nWhich tracks leave the PC? participant-audio (one file per person), mixed-audio,");
    q.say("video, chat, captions. Keep only what the project needs.");
    let tracks = q.ask(
        "Tracks, comma-separated",
        args.tracks.as_deref(),
        "participant-audio,mixed-audio",
        parse_tracks,
    )?;
    let audio_format = q.ask(
        "Audio as wav (decoded, large) or m4a (the original AAC, small)",
        args.audio_format.as_deref(),
        "wav",
        |a| match a.to_ascii_lowercase().as_str() {
            "wav" => Ok(AudioFormat::Wav),
            "m4a" => Ok(AudioFormat::M4a),
            _ => Err("answer wav or m4a".into()),
        },
    )?;

    q.say("\nWhere do the sealed recordings go?");
    q.say("  sftp    - TSD's file import by SFTP (password and one-time code at the terminal)");
    q.say("  tsd-api - TSD's HTTPS file API (an API key; a scheduled run needs no one)");
    q.say("  dir     - a folder (a mounted share)");
    let kind = q.ask(
        "Destination (sftp, tsd-api, dir)",
        args.destination.map(|k| match k {
            Kind::Dir => "dir",
            Kind::Sftp => "sftp",
            Kind::TsdApi => "tsd-api",
        }),
        "sftp",
        |a| match a.to_ascii_lowercase().as_str() {
            "sftp" | "tsd" => Ok(Kind::Sftp),
            "tsd-api" | "api" => Ok(Kind::TsdApi),
            "dir" | "folder" => Ok(Kind::Dir),
            _ => Err("answer sftp, tsd-api or dir".into()),
        },
    )?;
    let destination = match kind {
        Kind::Sftp => sftp_answers(args, q)?,
        Kind::TsdApi => tsd_api_answers(args, q)?,
        Kind::Dir => {
            let given = args.dir.as_ref().map(|d| d.to_string_lossy());
            let path = q.ask("Destination folder", given.as_deref(), "", |a| {
                if a.is_empty() {
                    Err("give the folder the sealed files go to".into())
                } else {
                    Ok(setup::typed_path(a))
                }
            })?;
            DestinationAnswer::Dir { path }
        }
    };

    q.say("\nThe project's public key (its recipient, recpipe1...): made inside TSD with");
    q.say("`recpipe keygen` (docs/tsd.md). Paste it, or give a file that holds it.");
    let recipient = q.ask(
        if classification.is_protected() {
            "Recipient"
        } else {
            "Recipient (Enter: none; green data need not be sealed)"
        },
        args.recipient.as_deref(),
        "",
        |a| {
            if a.is_empty() {
                if classification.is_protected() {
                    Err(format!(
                        "{classification} data must be sealed: give the project's recipient"
                    ))
                } else {
                    Ok(None)
                }
            } else {
                setup::read_recipient(a)
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
        },
    )?;

    let name = args.name.clone().unwrap_or_else(|| match &destination {
        DestinationAnswer::Sftp { user, .. } => format!("{classification}-{user}"),
        DestinationAnswer::TsdApi { project, .. } => format!("{classification}-{project}-api"),
        DestinationAnswer::Dir { .. } => format!("{classification}-folder"),
    });
    let notify = !args.no_notify
        && (!q.interactive
            || q.yes_no(
                "\nShow a desktop notification when a recording needs you (a TSD login, a problem)?",
                true,
            )?);
    let answers = Answers {
        name,
        classification,
        source_dir,
        tracks,
        audio_format,
        destination,
        recipient,
        notify,
    };

    if let DestinationAnswer::Sftp {
        host,
        port,
        known_hosts,
        ..
    } = &answers.destination
    {
        trust(args, q, host, *port, known_hosts)?;
    }

    setup::write_new(&output, &setup::render(&answers), args.force).map_err(setup_error)?;
    eprintln!("\nWrote {}.", output.display());
    let status = pipeline_file::check(&output);
    if status != ExitStatus::Success {
        return Ok(status);
    }
    offer_schedule(args, q, &output)?;
    offer_watch_at_login(args, q, &output)?;
    println!(
        "Next: `recpipe watch --pipeline \"{}\"` while you work, or `recpipe run --pipeline \"{}\"` once.",
        output.display(),
        output.display()
    );
    Ok(ExitStatus::Success)
}

/// Whether an entry that starts recpipe without the person is wanted (its
/// flag, or yes at the prompt), and if so the program and the pipeline
/// file, as absolute paths, that the entry names.
fn entry_wanted(
    flag: bool,
    q: &Asker,
    question: &str,
    pipeline: &std::path::Path,
) -> Result<Option<(std::path::PathBuf, std::path::PathBuf)>, ExitStatus> {
    if !(flag || (q.interactive && q.yes_no(question, false)?)) {
        return Ok(None);
    }
    let exe = std::env::current_exe().map_err(|e| fail(e, "", ExitStatus::Error))?;
    let pipeline = std::path::absolute(pipeline).unwrap_or_else(|_| pipeline.to_path_buf());
    Ok(Some((exe, pipeline)))
}

/// The per-user folder of systemd units, or why there is none.
fn systemd_user_dir() -> Result<std::path::PathBuf, ExitStatus> {
    schedule::systemd_user_dir().ok_or_else(|| {
        fail(
            "no per-user configuration folder for systemd",
            "",
            ExitStatus::Error,
        )
    })
}

fn offer_schedule(
    args: &InitArgs,
    q: &Asker,
    pipeline: &std::path::Path,
) -> Result<(), ExitStatus> {
    let Some((exe, pipeline)) = entry_wanted(
        args.schedule,
        q,
        "\nRun it every 10 minutes in the background (a scheduled task)?",
        pipeline,
    )?
    else {
        return Ok(());
    };
    if cfg!(windows) {
        let status = std::process::Command::new("schtasks")
            .args(schedule::schtasks_args(&exe, &pipeline))
            .status();
        match status {
            Ok(s) if s.success() => {
                eprintln!("Registered the task \"recpipe\" (Task Scheduler, every 10 minutes).");
                Ok(())
            }
            _ => Err(fail(
                "Task Scheduler did not register the task",
                "See docs/scheduling.md to register it by hand.",
                ExitStatus::Error,
            )),
        }
    } else {
        let dir = systemd_user_dir()?;
        let [service, timer] = schedule::write_systemd_units(&dir, &exe, &pipeline)
            .map_err(|e| fail(format!("{}: {e}", dir.display()), "", ExitStatus::Error))?;
        eprintln!(
            "Wrote {} and {}. Start it with:\n  systemctl --user daemon-reload && systemctl --user enable --now recpipe.timer",
            service.display(),
            timer.display()
        );
        Ok(())
    }
}

/// Offers to start `recpipe watch` at login with no window: a systemd user
/// service, or a Task Scheduler task with an "at log on" trigger.
fn offer_watch_at_login(
    args: &InitArgs,
    q: &Asker,
    pipeline: &std::path::Path,
) -> Result<(), ExitStatus> {
    let Some((exe, pipeline)) = entry_wanted(
        args.watch_at_login,
        q,
        "\nStart recpipe watch when you log in, without a window (it works in the background and notifies you)?",
        pipeline,
    )?
    else {
        return Ok(());
    };
    if cfg!(windows) {
        let dir = setup::config_dir().map_err(setup_error)?;
        let xml = dir.join("recpipe-watch-task.xml");
        schedule::write_watch_task(&xml, &exe, &pipeline)
            .map_err(|e| fail(format!("{}: {e}", xml.display()), "", ExitStatus::Error))?;
        let status = std::process::Command::new("schtasks")
            .args(schedule::schtasks_watch_args(&xml))
            .status();
        match status {
            Ok(s) if s.success() => {
                eprintln!(
                    "Registered the task \"recpipe watch\" (Task Scheduler, at log on); it starts at your next login."
                );
                Ok(())
            }
            _ => Err(fail(
                format!(
                    "Task Scheduler did not register the task in {}",
                    xml.display()
                ),
                "Import that file in Task Scheduler (Action > Import Task...), see docs/scheduling.md.",
                ExitStatus::Error,
            )),
        }
    } else {
        let dir = systemd_user_dir()?;
        let unit = schedule::write_systemd_watch_unit(&dir, &exe, &pipeline)
            .map_err(|e| fail(format!("{}: {e}", dir.display()), "", ExitStatus::Error))?;
        eprintln!(
            "Wrote {}. Start it now and at every login with:\n  systemctl --user daemon-reload && systemctl --user enable --now recpipe-watch.service",
            unit.display()
        );
        Ok(())
    }
}
