//! The HTTP client of the TSD destination: ureq (blocking, rustls; no
//! OpenSSL), one agent per connection attempt, timeouts on every phase.
//!
//! Invariants: a status is never an error here (the caller decides what a
//! 404 or 403 means); every request has an overall deadline, first byte to
//! last, so a server or proxy that trickles its answer a byte at a time
//! cannot hold a run (and its lock) beyond it; transport failures and a
//! missed deadline are retryable (the retry resumes), a TLS failure such as
//! a certificate nobody vouches for is not (retrying cannot change it); a
//! request body is
//! streamed from its reader with an exact `Content-Length`; answers are read
//! into memory only up to a small limit (they are JSON or empty). Bearer
//! tokens and API keys go into headers only, never into a message.

use crate::destination::{DestError, ErrorClass};
use std::io::Read;
use std::time::Duration;

/// How long to wait for a connection, and for any one read or write.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const IO_TIMEOUT: Duration = Duration::from_secs(120);
/// The most of an answer that is read (answers are small JSON documents).
const MAX_ANSWER: u64 = 1 << 20;
/// How long a request may take in all, first byte to last, before the
/// upload of its body; a chunk's upload gets more ([`SLOWEST_UPLOAD`]).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(180);
/// The slowest upload a chunk is given time for, in bytes per second: a
/// 50 MB chunk may take 13 minutes on top of the deadline at 64 KiB/s.
const SLOWEST_UPLOAD: u64 = 64 << 10;

/// An answer: its status, the headers recpipe reads, and its body.
pub struct Reply {
    pub status: u16,
    pub content_length: Option<u64>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text, cut to one short line, for messages.
    pub fn short_text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let line: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
        if line.is_empty() {
            "(no text)".into()
        } else {
            line
        }
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One connection pool to the API at `base` (`https://api.tsd.usit.no`).
pub struct Api {
    agent: ureq::Agent,
    base: String,
    location: String,
    deadline: Duration,
}

impl Api {
    /// A client whose every request ends after `deadline` at the latest
    /// (plus the time a body needs at [`SLOWEST_UPLOAD`]).
    pub fn new(base: &str, location: String, deadline: Duration) -> Api {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(IO_TIMEOUT))
            .timeout_per_write(Some(IO_TIMEOUT))
            .max_redirects(0)
            .user_agent(concat!("recpipe/", env!("CARGO_PKG_VERSION")))
            .build();
        Api {
            agent: config.into(),
            base: base.to_string(),
            location,
            deadline,
        }
    }

    /// The deadline of a request sending `body` bytes.
    fn deadline(&self, body: u64) -> Option<Duration> {
        Some(self.deadline + Duration::from_secs(body / SLOWEST_UPLOAD))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// An error about `op` on `path` at this destination.
    pub fn error(
        &self,
        op: &'static str,
        path: &str,
        message: String,
        class: ErrorClass,
    ) -> DestError {
        DestError::Remote {
            location: self.location.clone(),
            op,
            path: path.to_string(),
            message,
            class,
        }
    }

    fn transport(&self, op: &'static str, path: &str, e: ureq::Error, body: u64) -> DestError {
        if let ureq::Error::Timeout(_) = e {
            let secs = self.deadline(body).unwrap_or_default().as_secs();
            return self.error(
                op,
                path,
                format!("no whole answer within {secs} s (the server or a proxy on the way stalled or trickles)"),
                ErrorClass::Retryable,
            );
        }
        if tls_refused(&e) {
            return self.error(
                op,
                path,
                format!("the TLS connection was refused: {e}. A certificate the system does not trust (self-signed, or a proxy's) does not change by trying again: check the url, and the network's proxy"),
                ErrorClass::Permanent,
            );
        }
        let class = match &e {
            ureq::Error::BadUri(_)
            | ureq::Error::Http(_)
            | ureq::Error::InvalidProxyUrl
            | ureq::Error::RedirectFailed => ErrorClass::Permanent,
            _ => ErrorClass::Retryable,
        };
        self.error(op, path, format!("the connection failed: {e}"), class)
    }

    fn finish(
        &self,
        op: &'static str,
        path: &str,
        body_len: u64,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, DestError> {
        let mut resp = result.map_err(|e| self.transport(op, path, e, body_len))?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_length = header("content-length").and_then(|v| v.trim().parse().ok());
        let content_type = header("content-type");
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut body)
            .map_err(|e| match ureq::Error::from(e) {
                e @ ureq::Error::Timeout(_) => self.transport(op, path, e, body_len),
                e => self.error(
                    op,
                    path,
                    format!("reading the answer failed: {e}"),
                    ErrorClass::Retryable,
                ),
            })?;
        Ok(Reply {
            status,
            content_length,
            content_type,
            body,
        })
    }

    /// `POST url` with `Authorization: Bearer KEY` and an optional JSON body.
    pub fn post_json(
        &self,
        url: &str,
        bearer: &str,
        body: Option<&[u8]>,
    ) -> Result<Reply, DestError> {
        let req = self
            .agent
            .post(url)
            .config()
            .timeout_global(self.deadline(0))
            .build()
            .header("Authorization", format!("Bearer {bearer}"))
            .header("Content-Type", "application/json");
        let path = strip_query(url);
        let result = match body {
            Some(b) => req.send(b),
            None => req.send_empty(),
        };
        self.finish("log in", path, 0, result)
    }

    pub fn head(&self, url: &str, bearer: &str, path: &str) -> Result<Reply, DestError> {
        self.call(self.agent.head(url), "look up", bearer, path)
    }

    pub fn get(&self, url: &str, bearer: &str, path: &str) -> Result<Reply, DestError> {
        self.call(self.agent.get(url), "look up", bearer, path)
    }

    pub fn delete(&self, url: &str, bearer: &str, path: &str) -> Result<Reply, DestError> {
        self.call(self.agent.delete(url), "remove", bearer, path)
    }

    /// A request without a body, with its deadline and the bearer token.
    fn call(
        &self,
        req: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
        op: &'static str,
        bearer: &str,
        path: &str,
    ) -> Result<Reply, DestError> {
        let result = req
            .config()
            .timeout_global(self.deadline(0))
            .build()
            .header("Authorization", format!("Bearer {bearer}"))
            .call();
        self.finish(op, path, 0, result)
    }

    /// `PATCH url` with `len` bytes streamed from `body`.
    pub fn patch(
        &self,
        url: &str,
        bearer: &str,
        path: &str,
        body: &mut dyn Read,
        len: u64,
    ) -> Result<Reply, DestError> {
        let result = self
            .agent
            .patch(url)
            .config()
            .timeout_global(self.deadline(len))
            .build()
            .header("Authorization", format!("Bearer {bearer}"))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", len.to_string())
            .send(ureq::SendBody::from_reader(body));
        self.finish("upload", path, len, result)
    }
}

/// Whether the TLS connection itself was refused (a certificate that does
/// not verify, a handshake the server would not finish): rustls' errors,
/// also where they reach ureq inside an I/O error.
fn tls_refused(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => true,
        ureq::Error::Io(io) => io
            .get_ref()
            .is_some_and(|inner| inner.to_string().contains("certificate")),
        _ => false,
    }
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}
