//! The destination questions of `recpipe init`: SFTP (TSD's file import,
//! with the host key trusted only once the user has compared its
//! fingerprint) and TSD's HTTPS file API (project, folder, route, API key
//! file). Each answer is checked as it is given, so the pipeline written
//! loads with exactly what was answered.

use super::super::fail;
use super::{Asker, InitArgs, Route};
use recpipe::config::TsdAuth;
use recpipe::destination::sftp::{self, HostKeyStatus};
use recpipe::exit::ExitStatus;
use recpipe::setup::{self, DestinationAnswer};

/// The TSD project number, asked by both TSD routes.
fn ask_project(args: &InitArgs, q: &Asker) -> Result<String, ExitStatus> {
    q.ask(
        "TSD project number (such as p11)",
        args.project.as_deref(),
        "",
        |a| setup::tsd_project(a).map_err(|e| e.to_string()),
    )
}

pub(super) fn sftp_answers(args: &InitArgs, q: &Asker) -> Result<DestinationAnswer, ExitStatus> {
    let project = ask_project(args, q)?;
    let user = q.ask(
        "Your user name in the project (the part after pXX-)",
        args.user.as_deref(),
        "",
        |a| {
            let a = a.strip_prefix(&format!("{project}-")).unwrap_or(a);
            if a.is_empty()
                || !a
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                Err("give your TSD user name (letters, digits, - or _)".into())
            } else {
                Ok(a.to_string())
            }
        },
    )?;
    let (login, tsd_path) = setup::tsd_sftp_defaults(&project, &user);
    let host = q.ask(
        "SFTP host",
        args.host.as_deref(),
        setup::TSD_SFTP_HOST,
        |a| Ok(a.to_string()),
    )?;
    let port = q.ask(
        "SFTP port",
        args.port.map(|p| p.to_string()).as_deref(),
        "22",
        |a| {
            a.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| "give a port number".to_string())
        },
    )?;
    let path = q.ask(
        "Folder on the server",
        args.remote_path.as_deref(),
        &tsd_path,
        |a| Ok(a.to_string()),
    )?;
    Ok(DestinationAnswer::Sftp {
        host,
        port,
        user: login,
        path,
        known_hosts: args
            .known_hosts
            .clone()
            .unwrap_or_else(|| "~/.ssh/known_hosts".into()),
    })
}

pub(super) fn tsd_api_answers(args: &InitArgs, q: &Asker) -> Result<DestinationAnswer, ExitStatus> {
    let project = ask_project(args, q)?;
    let path = q.ask(
        &format!("Folder under {project}-member-group"),
        args.remote_path.as_deref(),
        "interviews",
        |a| Ok(a.trim_matches('/').to_string()),
    )?;
    q.say("\nHow does recpipe get its tokens from TSD?");
    q.say("  import-link - a link the project owner makes in TSD (no one needed at the PC)");
    q.say("  basic       - the API key alone, from an address TSD allow-listed for it");
    q.say("  login       - your password and one-time code at the terminal");
    let route = q.ask(
        "Route (import-link, basic, login)",
        args.tsd_auth.map(|r| match r {
            Route::Basic => "basic",
            Route::ImportLink => "import-link",
            Route::Login => "login",
        }),
        "import-link",
        |a| match a.to_ascii_lowercase().as_str() {
            "import-link" | "link" => Ok(Route::ImportLink),
            "basic" => Ok(Route::Basic),
            "login" => Ok(Route::Login),
            _ => Err("answer import-link, basic or login".into()),
        },
    )?;
    let auth = match route {
        Route::Basic => TsdAuth::Basic,
        Route::Login => TsdAuth::Login,
        Route::ImportLink => {
            let (link_id, needs_secret) = q.ask(
                "The import link (https://data.tsd.usit.no/i/... or /c/...), or its id",
                args.link.as_deref(),
                "",
                |a| recpipe::config::parse_link(a.trim()),
            )?;
            let secret_file = if needs_secret {
                Some(q.ask(
                    "File holding the link's secret (only you may read it)",
                    args.secret_file.as_deref(),
                    "",
                    |a| {
                        if a.is_empty() {
                            Err("this link (/c/) has a secret: give the file that holds it".into())
                        } else {
                            Ok(setup::typed_path(a))
                        }
                    },
                )?)
            } else {
                None
            };
            TsdAuth::ImportLink {
                link_id,
                secret_file,
            }
        }
    };
    let default_key = setup::config_dir()
        .map(|d| d.join("tsd-api-key").to_string_lossy().into_owned())
        .unwrap_or_default();
    let api_key_file = q.ask(
        "File holding the API key TSD registered for this client",
        args.api_key_file.as_deref(),
        &default_key,
        |a| {
            if a.is_empty() {
                Err("give the file that holds the API key".into())
            } else if a.starts_with('~') {
                Ok(a.to_string())
            } else {
                Ok(setup::typed_path(a).to_string_lossy().into_owned())
            }
        },
    )?;
    Ok(DestinationAnswer::TsdApi {
        project,
        path,
        auth,
        api_key_file,
    })
}

/// Shows the host's key fingerprint and adds it to known_hosts once the
/// user confirms it (or `--trust-host`). A server that cannot be reached
/// now is not an error: the pipeline is still written, with the command to
/// trust it later.
pub(super) fn trust(
    args: &InitArgs,
    q: &Asker,
    host: &str,
    port: u16,
    known_hosts: &str,
) -> Result<(), ExitStatus> {
    let later = format!("recpipe trust-host {host}:{port} --known-hosts \"{known_hosts}\"");
    if !q.interactive && !args.trust_host {
        eprintln!("The SFTP host is not trusted yet; before the first run: {later}");
        return Ok(());
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let file = recpipe::config::resolve_path(known_hosts, &cwd);
    let key = match sftp::probe_host_key(host, port, sftp::DEFAULT_TIMEOUT) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("Cannot reach {host}:{port} now ({e}); trust it later: {later}");
            return Ok(());
        }
    };
    let status = sftp::host_key_status(&file, host, port, &key)
        .map_err(|e| fail(e, "", ExitStatus::Error))?;
    match status {
        HostKeyStatus::Known => {
            eprintln!(
                "{host}:{port}'s key is already trusted in {}.",
                file.display()
            );
            Ok(())
        }
        HostKeyStatus::Revoked => Err(fail(
            format!(
                "{} marks the key {host}:{port} offers as @revoked; nothing was changed",
                file.display()
            ),
            "Ask the server's administrators which key is in use now.",
            ExitStatus::Broken,
        )),
        HostKeyStatus::Mismatch => Err(fail(
            format!(
                "{} lists a DIFFERENT key for {host}:{port}; nothing was changed",
                file.display()
            ),
            "Ask the server's administrators whether its key changed.",
            ExitStatus::Broken,
        )),
        HostKeyStatus::Unknown => {
            eprintln!(
                "\n{host}:{port} offers this {} host key:\n  {}",
                key.key_type(),
                key.fingerprint()
            );
            let yes = args.trust_host
                || q.yes_no(
                    "Is it the same as the fingerprint the server's administrators publish (TSD: on its web pages)?",
                    false,
                )?;
            if yes {
                sftp::known_hosts::append(&file, host, port, &key)
                    .map_err(|e| fail(e, "", ExitStatus::Error))?;
                eprintln!("Trusted: added to {}.", file.display());
            } else {
                eprintln!("Not trusted. Compare it, then: {later}");
            }
            Ok(())
        }
    }
}
