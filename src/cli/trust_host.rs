//! `recpipe trust-host HOST[:PORT] [--known-hosts FILE] [--yes] [--login USER]`:
//! show a server's host key fingerprint and add the key to a known_hosts
//! file, only after the user confirms (or with `--yes`). A host whose key is
//! already there is left alone; a host listed with a different key is never
//! changed here. With `--login`, it then logs in once (asking for the
//! password and one-time code at the terminal) to show the login works.

use super::{fail, prompt};
use recpipe::destination::sftp::{self, HostKeyStatus, SftpDestination, Target};
use recpipe::destination::{DestError, ErrorClass};
use recpipe::exit::ExitStatus;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server, as HOST, HOST:PORT or [HOST]:PORT (port 22 if not given).
    host: String,
    /// The known_hosts file to check and add to.
    #[arg(long, value_name = "FILE", default_value = "~/.ssh/known_hosts")]
    known_hosts: String,
    /// Add the key without asking (only after checking the fingerprint yourself).
    #[arg(long)]
    yes: bool,
    /// Afterwards, log in as USER to check the login works (asks at the terminal).
    #[arg(long, value_name = "USER")]
    login: Option<String>,
    /// A private key file for --login.
    #[arg(long, value_name = "FILE", requires = "login")]
    identity_file: Option<PathBuf>,
}

pub fn run(args: &Args) -> ExitStatus {
    let Some((host, port)) = split_host_port(&args.host) else {
        return fail(
            format!("{:?} is not HOST, HOST:PORT or [HOST]:PORT", args.host),
            "For example: recpipe trust-host data.tsd.usit.no:22",
            ExitStatus::Usage,
        );
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let known_hosts = recpipe::config::resolve_path(&args.known_hosts, &cwd);

    let key = match sftp::probe_host_key(&host, port, sftp::DEFAULT_TIMEOUT) {
        Ok(k) => k,
        Err(e) => return dest_error(&e),
    };
    println!(
        "{host}:{port} offers this {} host key:\n  {}",
        key.key_type(),
        key.fingerprint()
    );
    let status = match sftp::host_key_status(&known_hosts, &host, port, &key) {
        Ok(s) => s,
        Err(e) => return dest_error(&e),
    };
    match status {
        HostKeyStatus::Known => {
            println!("It is already trusted in {}.", known_hosts.display());
        }
        HostKeyStatus::Mismatch => {
            return fail(
                format!(
                    "{} lists a DIFFERENT key for {host}:{port}; nothing was changed",
                    known_hosts.display()
                ),
                "Ask the server's administrators whether its key changed. Only if they confirm, \
                 remove the old entry (ssh-keygen -R '[HOST]:PORT' -f FILE) and run this again.",
                ExitStatus::Broken,
            );
        }
        HostKeyStatus::Revoked => {
            return fail(
                format!(
                    "{} marks this key @revoked for {host}:{port}; it was not added",
                    known_hosts.display()
                ),
                "A revoked key must never be trusted again. Ask the server's administrators \
                 for its current key.",
                ExitStatus::Broken,
            );
        }
        HostKeyStatus::Unknown => {
            let yes = args.yes
                || match prompt::confirm(&format!(
                    "Is this the server's real key, and add it to {}?",
                    known_hosts.display()
                )) {
                    Some(answer) => answer,
                    None => {
                        return fail(
                            "the key was not added: there is no terminal to confirm on",
                            "Compare the fingerprint with the one the server's administrators \
                             publish, then run again with --yes.",
                            ExitStatus::Usage,
                        );
                    }
                };
            if !yes {
                println!("Not added.");
                return ExitStatus::Error;
            }
            if let Err(e) = sftp::known_hosts::append(&known_hosts, &host, port, &key) {
                return dest_error(&e);
            }
            println!("Added to {}.", known_hosts.display());
        }
    }
    match &args.login {
        Some(user) => check_login(
            &host,
            port,
            user,
            &known_hosts,
            args.identity_file.as_deref(),
        ),
        None => ExitStatus::Success,
    }
}

fn check_login(
    host: &str,
    port: u16,
    user: &str,
    known_hosts: &Path,
    identity_file: Option<&Path>,
) -> ExitStatus {
    let target = Target {
        host: host.to_string(),
        port,
        user: user.to_string(),
        path: ".".into(),
        known_hosts: known_hosts.to_path_buf(),
        identity_file: identity_file.map(Path::to_path_buf),
        timeout: sftp::DEFAULT_TIMEOUT,
    };
    let prompter = prompt::for_this_run();
    match SftpDestination::connect(&target, &*prompter) {
        Ok(_) => {
            println!("Logged in to {host}:{port} as {user}: SFTP works.");
            ExitStatus::Success
        }
        Err(e) => dest_error(&e),
    }
}

fn dest_error(e: &DestError) -> ExitStatus {
    match e.class() {
        ErrorClass::NeedsInteractiveLogin => fail(e, "", ExitStatus::Waiting),
        ErrorClass::Retryable => fail(
            e,
            "Check the host name and port and the network, then try again.",
            ExitStatus::Error,
        ),
        ErrorClass::Permanent => fail(e, "", ExitStatus::Error),
    }
}

/// `HOST`, `HOST:PORT` or `[HOST]:PORT` (brackets for IPv6 addresses).
fn split_host_port(text: &str) -> Option<(String, u16)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => 22,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        return (!host.is_empty() && port != 0).then(|| (host.to_string(), port));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, p.parse().ok()?),
        Some(_) => (text, 22), // a bare IPv6 address
        None => (text, 22),
    };
    (!host.is_empty() && port != 0).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn host_port_forms() {
        let hp = |s| split_host_port(s);
        assert_eq!(hp("tsd.example"), Some(("tsd.example".into(), 22)));
        assert_eq!(hp("tsd.example:2222"), Some(("tsd.example".into(), 2222)));
        assert_eq!(hp("[::1]:2222"), Some(("::1".into(), 2222)));
        assert_eq!(hp("[::1]"), Some(("::1".into(), 22)));
        assert_eq!(hp("::1"), Some(("::1".into(), 22)));
        assert_eq!(hp("host:0"), None);
        assert_eq!(hp("host:x"), None);
        assert_eq!(hp(":22"), None);
    }
}
