//! The HTTP client of the TSD destination: ureq (blocking, rustls; no
//! OpenSSL), one agent per connection attempt, timeouts on every phase.
//!
//! Invariants: a status is never an error here (the caller decides what a
//! 404 or 403 means); transport failures are retryable; a request body is
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
}

impl Api {
    pub fn new(base: &str, location: String) -> Api {
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
        }
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

    fn transport(&self, op: &'static str, path: &str, e: ureq::Error) -> DestError {
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
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, DestError> {
        let mut resp = result.map_err(|e| self.transport(op, path, e))?;
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
            .map_err(|e| {
                self.error(
                    op,
                    path,
                    format!("reading the answer failed: {e}"),
                    ErrorClass::Retryable,
                )
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
            .header("Authorization", format!("Bearer {bearer}"))
            .header("Content-Type", "application/json");
        let path = strip_query(url);
        let result = match body {
            Some(b) => req.send(b),
            None => req.send_empty(),
        };
        self.finish("log in", path, result)
    }

    pub fn head(&self, url: &str, bearer: &str, path: &str) -> Result<Reply, DestError> {
        let result = self
            .agent
            .head(url)
            .header("Authorization", format!("Bearer {bearer}"))
            .call();
        self.finish("look up", path, result)
    }

    pub fn get(&self, url: &str, bearer: &str, path: &str) -> Result<Reply, DestError> {
        let result = self
            .agent
            .get(url)
            .header("Authorization", format!("Bearer {bearer}"))
            .call();
        self.finish("look up", path, result)
    }

    pub fn delete(&self, url: &str, bearer: &str, path: &str) -> Result<Reply, DestError> {
        let result = self
            .agent
            .delete(url)
            .header("Authorization", format!("Bearer {bearer}"))
            .call();
        self.finish("remove", path, result)
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
            .header("Authorization", format!("Bearer {bearer}"))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", len.to_string())
            .send(ureq::SendBody::from_reader(body));
        self.finish("upload", path, result)
    }
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}
