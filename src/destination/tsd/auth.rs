//! Tokens from TSD's authentication API, for the life of a `run` or `watch`.
//!
//! The requests are those tacl (PyPI tsd-api-client, `authapi.py`) sends:
//! `POST {url}/v1/{project}/auth/basic/token?type=import`,
//! `POST {url}/v1/all/auth/instances/token?type=import` with
//! `{"id", "secret_challenge"}`, `POST {url}/v1/{project}/auth/tsd/token?type=import`
//! with `{"user_name", "password", "otp"}`, and
//! `POST {url}/v1/{project}/auth/refresh/token` with `{"refresh_token"}`, each
//! with `Authorization: Bearer API_KEY`; the answer's `token` and
//! `refresh_token` are kept.
//!
//! Invariants: the API key, a link's secret, the typed password and one-time
//! code and every token live only in zeroizing buffers in memory, are sent
//! only to the configured URL, and never reach an error or a log. A token is
//! renewed before it expires (a third of its life, at most five minutes,
//! before), with its refresh token when there is one, else by logging in
//! again; only the login route needs a person for that, and only when the
//! refresh tokens are used up.

use super::http::{Api, Reply};
use crate::config::{Tsd, TsdAuth};
use crate::destination::{DestError, ErrorClass, PromptError, Prompter};
use std::time::{SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// A token pair and when the access token stops working.
struct Tokens {
    access: Zeroizing<String>,
    refresh: Option<Zeroizing<String>>,
    /// The access token's `exp` claim (Unix seconds).
    expires: i64,
    /// When it was received (Unix seconds).
    received: i64,
}

impl Tokens {
    /// Time to renew: within a third of its life (at most 5 minutes) of `exp`.
    fn due(&self, now: i64) -> bool {
        let margin = ((self.expires - self.received) / 3).clamp(0, 300);
        now >= self.expires - margin
    }
}

/// What the session logs in with, read from the files the pipeline names.
pub struct Session<'p> {
    cfg: Tsd,
    prompter: &'p dyn Prompter,
    tokens: Option<Tokens>,
    /// Renewals so far (for the tests and the progress log).
    pub renewals: u32,
    /// The overall deadline of each request ([`super::http::REQUEST_DEADLINE`]).
    pub deadline: std::time::Duration,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl<'p> Session<'p> {
    pub fn new(cfg: Tsd, prompter: &'p dyn Prompter) -> Session<'p> {
        Session {
            cfg,
            prompter,
            tokens: None,
            renewals: 0,
            deadline: super::http::REQUEST_DEADLINE,
        }
    }

    pub fn cfg(&self) -> &Tsd {
        &self.cfg
    }

    /// Forgets the access token (the file API refused it), so the next
    /// [`Session::bearer`] renews it.
    pub fn invalidate(&mut self) {
        if let Some(t) = &mut self.tokens {
            t.expires = 0;
        }
    }

    /// A valid access token, renewed first when it is due.
    pub fn bearer(&mut self, api: &Api) -> Result<Zeroizing<String>, DestError> {
        let now = now();
        if let Some(t) = &self.tokens {
            if !t.due(now) {
                return Ok(t.access.clone());
            }
            let refresh = t.refresh.clone();
            let (access, expires) = (t.access.clone(), t.expires);
            if let Some(refresh) = refresh {
                match self.refresh(api, &refresh) {
                    Ok(fresh) => {
                        self.renewals += 1;
                        let access = fresh.access.clone();
                        self.tokens = Some(fresh);
                        return Ok(access);
                    }
                    Err(e) if e.class() == ErrorClass::Retryable => return Err(e),
                    // A refused refresh: log in again below.
                    Err(_) => {}
                }
            }
            // The login route cannot renew without a person: keep using the
            // token while it still works rather than ask early.
            if matches!(self.cfg.auth, TsdAuth::Login) && now < expires {
                return Ok(access);
            }
        }
        let fresh = self.log_in(api)?;
        if self.tokens.is_some() {
            self.renewals += 1;
        }
        let access = fresh.access.clone();
        self.tokens = Some(fresh);
        Ok(access)
    }

    fn api_key(&self) -> Result<Zeroizing<String>, DestError> {
        read_secret_file(&self.cfg.api_key_file, "API key")
    }

    fn log_in(&mut self, api: &Api) -> Result<Tokens, DestError> {
        let key = self.api_key()?;
        let project = self.cfg.project.clone();
        match self.cfg.auth.clone() {
            TsdAuth::Basic => {
                let url = format!("{}/v1/{project}/auth/basic/token?type=import", api.base());
                let reply = api.post_json(&url, &key, None)?;
                self.tokens_from(api, reply, "auth = \"basic\"")
            }
            TsdAuth::ImportLink {
                link_id,
                secret_file,
            } => {
                let mut body = serde_json::json!({ "id": link_id });
                let secret = match &secret_file {
                    Some(f) => Some(read_secret_file(f, "import link secret")?),
                    None => None,
                };
                if let Some(s) = &secret {
                    body["secret_challenge"] = serde_json::Value::String(s.to_string());
                }
                let body = Zeroizing::new(body.to_string().into_bytes());
                let url = format!("{}/v1/all/auth/instances/token?type=import", api.base());
                let reply = api.post_json(&url, &key, Some(&body))?;
                self.tokens_from(api, reply, "auth = \"import-link\"")
            }
            TsdAuth::Login => {
                // Nothing is open while the person is fetched: the
                // questions come first, then one request.
                let destination = format!("TSD project {project}");
                self.prompter
                    .fetch_person(&destination)
                    .map_err(|e| self.prompt_failed("a login", e))?;
                let who = self.ask("TSD user name (such as p11-alice): ", true)?;
                let password = self.ask("TSD password: ", false)?;
                let otp = self.ask("TSD one-time code: ", false)?;
                let body = Zeroizing::new(
                    serde_json::json!({
                        "user_name": who.as_str(),
                        "password": password.as_str(),
                        "otp": otp.as_str(),
                    })
                    .to_string()
                    .into_bytes(),
                );
                drop((password, otp));
                let url = format!("{}/v1/{project}/auth/tsd/token?type=import", api.base());
                let reply = api.post_json(&url, &key, Some(&body))?;
                self.tokens_from(api, reply, "auth = \"login\"")
            }
        }
    }

    fn ask(&self, question: &str, echo: bool) -> Result<Zeroizing<String>, DestError> {
        match self.prompter.ask(question, echo) {
            Ok(s) => Ok(Zeroizing::new(s.expose().trim().to_string())),
            Err(e) => Err(self.prompt_failed(question.trim().trim_end_matches(':'), e)),
        }
    }

    fn prompt_failed(&self, what: &str, e: PromptError) -> DestError {
        match e {
            PromptError::NoTerminal => {
                let (host, port) = host_port(&self.cfg.url);
                DestError::NeedsInteractiveLogin {
                    host,
                    port,
                    user: format!("a {} user", self.cfg.project),
                }
            }
            e => DestError::Prompt {
                what: what.to_string(),
                message: e.to_string(),
            },
        }
    }

    fn refresh(&mut self, api: &Api, refresh: &str) -> Result<Tokens, DestError> {
        let key = self.api_key()?;
        let url = format!("{}/v1/{}/auth/refresh/token", api.base(), self.cfg.project);
        let body = Zeroizing::new(
            serde_json::json!({ "refresh_token": refresh })
                .to_string()
                .into_bytes(),
        );
        let reply = api.post_json(&url, &key, Some(&body))?;
        self.tokens_from(api, reply, "the token refresh")
    }

    /// Reads the token pair from an answer, or says why there is none.
    fn tokens_from(&self, api: &Api, reply: Reply, route: &str) -> Result<Tokens, DestError> {
        let refused = |message: String| {
            api.error(
                "log in",
                &format!("with {route}"),
                message,
                ErrorClass::Permanent,
            )
        };
        match reply.status {
            200 | 201 => {}
            403 if route == "auth = \"basic\"" => {
                return Err(refused(
                    "basic auth is not authorized from this address (403): ask TSD to allow-list this PC's public address for the API key, or use auth = \"import-link\"".into(),
                ));
            }
            401 | 403 => {
                return Err(refused(format!(
                    "TSD refused it ({}): check that the API key in {} is current and not revoked{}",
                    reply.status,
                    self.cfg.api_key_file.display(),
                    match &self.cfg.auth {
                        TsdAuth::ImportLink { .. } => ", and that the import link is still valid",
                        TsdAuth::Login => ", and the user name, password and one-time code",
                        TsdAuth::Basic => "",
                    }
                )));
            }
            s if s >= 500 => {
                return Err(api.error(
                    "log in",
                    &format!("with {route}"),
                    format!("the authentication service answered {s}"),
                    ErrorClass::Retryable,
                ));
            }
            s => {
                return Err(refused(format!("TSD answered {s}: {}", reply.short_text())));
            }
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            token: Option<String>,
            refresh_token: Option<String>,
        }
        let answer: Answer = serde_json::from_slice(&reply.body)
            .map_err(|e| refused(format!("the answer is not the JSON expected: {e}")))?;
        let access = Zeroizing::new(
            answer
                .token
                .ok_or_else(|| refused("the answer holds no token".into()))?,
        );
        let claims = claims(&access).ok_or_else(|| refused("the token is not a JWT".into()))?;
        if let Some(proj) = claims.get("proj").and_then(|p| p.as_str())
            && proj != self.cfg.project
        {
            return Err(refused(format!(
                "the token is for project {proj}, not {}: check the link and the pipeline's project",
                self.cfg.project
            )));
        }
        let expires = claims
            .get("exp")
            .and_then(|e| e.as_i64())
            .ok_or_else(|| refused("the token has no expiry".into()))?;
        Ok(Tokens {
            access,
            refresh: answer.refresh_token.map(Zeroizing::new),
            expires,
            received: now(),
        })
    }
}

/// The claims of a JWT (the middle part), without checking its signature:
/// only the file API can, and it does.
fn claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let middle = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(middle.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The host and port of a base URL, for messages.
pub(super) fn host_port(url: &str) -> (String, u16) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host_port = rest.split('/').next().unwrap_or_default();
    match host_port.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h.to_string(), p.parse().unwrap_or(443)),
        _ => (
            host_port.to_string(),
            if scheme == "http" { 80 } else { 443 },
        ),
    }
}

/// The first line of a secret file, trimmed; the file must not be empty.
fn read_secret_file(path: &std::path::Path, what: &str) -> Result<Zeroizing<String>, DestError> {
    let text = Zeroizing::new(
        crate::fsutil::read_small_text(path, crate::fsutil::Small::Secret).map_err(|e| {
            DestError::KeyFile {
                path: path.to_path_buf(),
                message: format!("cannot read the {what}: {e}"),
            }
        })?,
    );
    let first = text.lines().next().unwrap_or_default().trim();
    if first.is_empty() {
        return Err(DestError::KeyFile {
            path: path.to_path_buf(),
            message: format!("the file is empty; it should hold the {what}"),
        });
    }
    Ok(Zeroizing::new(first.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_due_a_third_of_their_life_early_at_most_five_minutes() {
        let t = Tokens {
            access: Zeroizing::new(String::new()),
            refresh: None,
            expires: 1000 + 3600,
            received: 1000,
        };
        assert!(!t.due(1000 + 3600 - 301));
        assert!(t.due(1000 + 3600 - 300));
        let short = Tokens {
            expires: 1000 + 6,
            ..t
        };
        assert!(!short.due(1003));
        assert!(short.due(1004));
    }

    #[test]
    fn claims_are_read_from_the_middle_part() {
        use base64::Engine;
        let mid =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":123,"proj":"p11"}"#);
        let c = claims(&format!("x.{mid}.y")).unwrap();
        assert_eq!(c["exp"], 123);
        assert!(claims("nodots").is_none());
    }

    #[test]
    fn host_and_port_of_urls() {
        assert_eq!(
            host_port("https://api.tsd.usit.no"),
            ("api.tsd.usit.no".into(), 443)
        );
        assert_eq!(
            host_port("http://127.0.0.1:3003"),
            ("127.0.0.1".into(), 3003)
        );
    }
}
