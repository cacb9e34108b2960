//! Opening an SSH session: TCP connect, handshake, host-key check, login.
//!
//! Invariants: no byte of a login is sent before the host key matched the
//! known_hosts file; a refused key shows its fingerprint and how to trust
//! it. Login tries, in order and as the server offers them: the configured
//! key file (asking for its passphrase only if it has one), ssh-agent,
//! keyboard-interactive (each server prompt, e.g. password then one-time
//! code, asked through the [`Prompter`]), password. Before the first
//! question the prompter fetches the person; when it had to wait, the
//! login goes on over a new session, since the server may have dropped
//! the first at its login time limit. With a prompter that
//! cannot ask, a login that needs an answer ends in
//! [`DestError::NeedsInteractiveLogin`]. Answers are handed to libssh2 and
//! never kept, logged or put in an error; recpipe's own copy is a
//! [`Secret`], wiped when dropped. The ssh2 crate's safe API copies a
//! password or key passphrase into a `CString`, and copies keyboard-
//! interactive answers into libssh2's memory before dropping the `String`
//! it was given; those copies are freed, not wiped, by ssh2 and libssh2.

use super::Target;
use super::known_hosts::{self, HostKey, HostKeyStatus};
use crate::destination::{DestError, ErrorClass, PromptError, Prompter, Secret};
use ssh2::{ErrorCode, KeyboardInteractivePrompt, MethodType, Prompt, Session};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

// libssh2 error codes (libssh2.h) that concern a login, not the connection.
const ERR_FILE: i32 = -16;
const ERR_AUTHENTICATION_FAILED: i32 = -18;
const ERR_PUBLICKEY_UNVERIFIED: i32 = -19;
const ERR_KEYFILE_AUTH_FAILED: i32 = -48;

/// Host-key algorithms in OpenSSH's order of preference, so the key libssh2
/// asks for is the one `ssh` would have asked for and stored.
const HOST_KEY_PREFERENCE: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
];

/// Ciphers in order of preference, all ones OpenSSH offers by default.
/// ChaCha20-Poly1305 first: libssh2 seals a whole packet in one call with
/// it, but calls the AES-GCM cipher once per 16-byte block, which costs more
/// than the AES instructions save (measured: upload 0.57 -> 0.67 and
/// read-back 0.59 -> 0.77 of OpenSSH's speed, benches/upload-vs-sftp.sh).
const CIPHER_PREFERENCE: &[&str] = &[
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
];

/// Sets `kind`'s preference to the supported ones of `wanted`, in order.
fn prefer(session: &Session, kind: MethodType, wanted: &[&str]) -> Result<(), ssh2::Error> {
    let supported = session.supported_algs(kind)?;
    let prefs: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|a| supported.contains(a))
        .collect();
    if !prefs.is_empty() {
        session.method_pref(kind, &prefs.join(","))?;
    }
    Ok(())
}

/// Connects and completes the SSH handshake; checks nothing yet.
pub fn handshake(host: &str, port: u16, timeout: Duration) -> Result<Session, DestError> {
    let connect_err = |source| DestError::Connect {
        host: host.to_string(),
        port,
        source,
    };
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(connect_err)?
        .collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let stream = stream.ok_or_else(|| connect_err(last))?;
    let _ = stream.set_nodelay(true);

    let ssh = |stage| ssh_error(host, port, stage);
    let mut session = Session::new().map_err(ssh("setup"))?;
    session.set_tcp_stream(stream);
    session.set_timeout(u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX));
    prefer(&session, MethodType::HostKey, HOST_KEY_PREFERENCE).map_err(ssh("setup"))?;
    prefer(&session, MethodType::CryptCs, CIPHER_PREFERENCE).map_err(ssh("setup"))?;
    prefer(&session, MethodType::CryptSc, CIPHER_PREFERENCE).map_err(ssh("setup"))?;
    session.handshake().map_err(ssh("handshake"))?;
    Ok(session)
}

/// Opens a session whose host key is in `target.known_hosts`.
pub fn open_checked(target: &Target) -> Result<Session, DestError> {
    let session = handshake(&target.host, target.port, target.timeout)?;
    let key = HostKey::of(&session).ok_or_else(|| DestError::Ssh {
        host: target.host.clone(),
        port: target.port,
        stage: "handshake",
        message: "the server sent no host key".into(),
        class: ErrorClass::Permanent,
    })?;
    let status = known_hosts::status(
        &session,
        &target.known_hosts,
        &target.host,
        target.port,
        &key,
    )?;
    let (host, port, key_type, fingerprint, known_hosts) = (
        target.host.clone(),
        target.port,
        key.key_type(),
        key.fingerprint(),
        target.known_hosts.clone(),
    );
    match status {
        HostKeyStatus::Known => Ok(session),
        HostKeyStatus::Unknown => Err(DestError::UnknownHostKey {
            host,
            port,
            key_type,
            fingerprint,
            known_hosts,
        }),
        HostKeyStatus::Mismatch => Err(DestError::HostKeyMismatch {
            host,
            port,
            key_type,
            fingerprint,
            known_hosts,
        }),
        HostKeyStatus::Revoked => Err(DestError::HostKeyRevoked {
            host,
            port,
            key_type,
            fingerprint,
            known_hosts,
        }),
    }
}

/// Logs in as `target.user`: first without a person (a key file without
/// passphrase, ssh-agent); then, when the server wants answers, fetches
/// the person ([`Prompter::fetch_person`]) before asking them, on a new
/// session when the wait may have outlived the server's login time.
/// Returns the session that is logged in.
pub fn login(
    session: Session,
    target: &Target,
    prompter: &dyn Prompter,
) -> Result<Session, DestError> {
    let mut tried = Vec::new();
    let (offered, key_wants_passphrase) = match login_unattended(&session, target, &mut tried)? {
        Unattended::LoggedIn => return Ok(session),
        Unattended::NeedsAnswers {
            offered,
            key_wants_passphrase,
        } => (offered, key_wants_passphrase),
    };
    let asks = key_wants_passphrase
        || offered.contains("keyboard-interactive")
        || offered.contains("password");
    if !asks {
        return Err(refused(target, &tried, offered));
    }
    let destination = format!("{}@{}", target.user, target.host);
    let waited = prompter
        .fetch_person(&destination)
        .map_err(|e| prompt_error(target, "a login", e))?;
    let session = if waited {
        drop(session);
        open_checked(target)?
    } else {
        session
    };
    login_with_answers(
        &session,
        target,
        prompter,
        &offered,
        key_wants_passphrase,
        &mut tried,
    )?;
    Ok(session)
}

/// What a login without a person came to.
enum Unattended {
    LoggedIn,
    /// The methods the server offers, and whether the key file is there but
    /// locked by a passphrase.
    NeedsAnswers {
        offered: String,
        key_wants_passphrase: bool,
    },
}

fn login_unattended(
    session: &Session,
    target: &Target,
    tried: &mut Vec<&'static str>,
) -> Result<Unattended, DestError> {
    let ssh = |stage| ssh_error(&target.host, target.port, stage);
    let offered = session
        .auth_methods(&target.user)
        .map_err(ssh("login"))?
        .to_string();
    if session.authenticated() {
        return Ok(Unattended::LoggedIn);
    }
    let mut key_wants_passphrase = false;
    if offered.contains("publickey") {
        if let Some(key) = &target.identity_file {
            tried.push("key file");
            match key_file(session, target, key, None)? {
                KeyLogin::LoggedIn => return Ok(Unattended::LoggedIn),
                KeyLogin::Refused => {}
                KeyLogin::WantsPassphrase => key_wants_passphrase = true,
            }
        }
        tried.push("ssh-agent");
        if session.userauth_agent(&target.user).is_ok() && session.authenticated() {
            return Ok(Unattended::LoggedIn);
        }
    }
    Ok(Unattended::NeedsAnswers {
        offered,
        key_wants_passphrase,
    })
}

fn login_with_answers(
    session: &Session,
    target: &Target,
    prompter: &dyn Prompter,
    offered: &str,
    key_wants_passphrase: bool,
    tried: &mut Vec<&'static str>,
) -> Result<(), DestError> {
    if key_wants_passphrase && let Some(key) = &target.identity_file {
        let question = format!("Passphrase for key {}: ", key.display());
        let passphrase = prompter
            .ask(&question, false)
            .map_err(|e| prompt_error(target, "the key's passphrase", e))?;
        match key_file(session, target, key, Some(&passphrase))? {
            KeyLogin::LoggedIn => return Ok(()),
            KeyLogin::Refused => {}
            KeyLogin::WantsPassphrase => {
                return Err(DestError::KeyFile {
                    path: key.to_path_buf(),
                    message: "wrong passphrase, or a key format libssh2 cannot read".into(),
                });
            }
        }
    }
    if offered.contains("keyboard-interactive") {
        tried.push("keyboard-interactive");
        let mut answerer = Answerer {
            prompter,
            failure: None,
        };
        let result = session.userauth_keyboard_interactive(&target.user, &mut answerer);
        if let Some(e) = answerer.failure {
            return Err(prompt_error(target, "the server's login questions", e));
        }
        match result {
            Ok(()) if session.authenticated() => return Ok(()),
            Ok(()) => {}
            Err(e) => refused_or_fail(target, "keyboard-interactive login", e)?,
        }
    }
    if offered.contains("password") {
        tried.push("password");
        let question = format!("{}@{}'s password: ", target.user, target.host);
        let password = prompter
            .ask(&question, false)
            .map_err(|e| prompt_error(target, "a password", e))?;
        match session.userauth_password(&target.user, password.expose()) {
            Ok(()) if session.authenticated() => return Ok(()),
            Ok(()) => {}
            Err(e) => refused_or_fail(target, "password login", e)?,
        }
    }
    Err(refused(target, tried, offered.to_string()))
}

fn refused(target: &Target, tried: &[&str], offered: String) -> DestError {
    DestError::LoginRefused {
        host: target.host.clone(),
        port: target.port,
        user: target.user.clone(),
        tried: if tried.is_empty() {
            "nothing recpipe can use".into()
        } else {
            tried.join(", ")
        },
        offered,
    }
}

/// What one try of the key file came to.
enum KeyLogin {
    LoggedIn,
    /// The server refused the key.
    Refused,
    /// The file did not open without a passphrase (or with the one given).
    WantsPassphrase,
}

/// Tries the key file, with `passphrase` if one was given.
fn key_file(
    session: &Session,
    target: &Target,
    key: &std::path::Path,
    passphrase: Option<&Secret>,
) -> Result<KeyLogin, DestError> {
    // libssh2 reads the file itself, by name: a FIFO or device there
    // would hold it, so the name must be a regular file of a key's size.
    if let Err(e) = crate::fsutil::open_small(key, crate::fsutil::Small::Identity) {
        return Err(DestError::KeyFile {
            path: key.to_path_buf(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "there is no such file".into()
            } else {
                e.to_string()
            },
        });
    }
    let result =
        session.userauth_pubkey_file(&target.user, None, key, passphrase.map(|p| p.expose()));
    match result {
        Ok(()) if session.authenticated() => Ok(KeyLogin::LoggedIn),
        Ok(()) => Ok(KeyLogin::Refused),
        Err(e) => match e.code() {
            ErrorCode::Session(ERR_FILE | ERR_KEYFILE_AUTH_FAILED) => Ok(KeyLogin::WantsPassphrase),
            _ => {
                refused_or_fail(target, "key login", e)?;
                Ok(KeyLogin::Refused)
            }
        },
    }
}

/// A refused login is `Ok` (try the next method); anything else is an error.
fn refused_or_fail(target: &Target, stage: &'static str, e: ssh2::Error) -> Result<(), DestError> {
    match e.code() {
        ErrorCode::Session(ERR_AUTHENTICATION_FAILED | ERR_PUBLICKEY_UNVERIFIED) => Ok(()),
        _ => Err(ssh_error(&target.host, target.port, stage)(e)),
    }
}

fn prompt_error(target: &Target, what: &str, e: PromptError) -> DestError {
    match e {
        PromptError::NoTerminal => DestError::NeedsInteractiveLogin {
            host: target.host.clone(),
            port: target.port,
            user: target.user.clone(),
        },
        other => DestError::Prompt {
            what: what.to_string(),
            message: other.to_string(),
        },
    }
}

/// Answers keyboard-interactive prompts through a [`Prompter`]; the first
/// prompt it cannot answer stops the answering and is reported afterwards.
struct Answerer<'a> {
    prompter: &'a dyn Prompter,
    failure: Option<PromptError>,
}

impl KeyboardInteractivePrompt for Answerer<'_> {
    fn prompt<'b>(
        &mut self,
        _username: &str,
        instructions: &str,
        prompts: &[Prompt<'b>],
    ) -> Vec<String> {
        let mut answers = Vec::with_capacity(prompts.len());
        for (i, p) in prompts.iter().enumerate() {
            if self.failure.is_some() {
                break;
            }
            let question = if i == 0 && !instructions.trim().is_empty() {
                format!("{}\n{}", instructions.trim_end(), p.text)
            } else {
                p.text.to_string()
            };
            match self.prompter.ask(&question, p.echo) {
                // Moved, not copied: ssh2 copies it into libssh2's memory
                // and drops it (see the module comment).
                Ok(answer) => answers.push(answer.into_string()),
                Err(e) => self.failure = Some(e),
            }
        }
        answers
    }
}

/// Turns a libssh2 error into a [`DestError::Ssh`] classed by its code.
pub fn ssh_error(host: &str, port: u16, stage: &'static str) -> impl Fn(ssh2::Error) -> DestError {
    let host = host.to_string();
    move |e| DestError::Ssh {
        host: host.clone(),
        port,
        stage,
        message: e.message().to_string(),
        class: class_of(&e),
    }
}

/// Whether a libssh2 error is the connection's fault (retryable) or an
/// answer that will not change (permanent).
pub fn class_of(e: &ssh2::Error) -> ErrorClass {
    match e.code() {
        // SSH_FX_NO_CONNECTION, SSH_FX_CONNECTION_LOST
        ErrorCode::SFTP(6 | 7) => ErrorClass::Retryable,
        ErrorCode::SFTP(_) => ErrorClass::Permanent,
        // Login, key-file, misuse and unsupported-algorithm errors.
        ErrorCode::Session(
            -15 | -16 | -18 | -19 | -31 | -33 | -34 | -39 | -41 | -46 | -48 | -51,
        ) => ErrorClass::Permanent,
        ErrorCode::Session(_) => ErrorClass::Retryable,
    }
}
