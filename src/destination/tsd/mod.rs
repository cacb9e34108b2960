//! TSD's HTTPS file API as a [`Destination`]: uploads into a project's
//! import area the way tacl (PyPI tsd-api-client, `fileapi.py`) does.
//!
//! The partial of `NAME` is the server's resumable upload of `NAME`: chunks
//! go by `PATCH …/files/stream/{group}/{path}/NAME?chunk=N` (then `&id=ID`),
//! in order, and the server appends each to a merged file it keeps out of
//! sight; its `resumables` record gives the partial's length (`next_offset`)
//! and the MD5 of the last chunk. `rename_into_place` is `chunk=end`, which
//! moves the merged file to `NAME`.
//!
//! Invariants:
//! - The file API silently replaces an existing file, so `NAME` is looked
//!   up (HEAD) before the upload is finished and an existing `NAME` is
//!   [`DestError::Exists`]. The window between that look and `chunk=end` is
//!   the server's: it offers no exclusive create.
//! - Every chunk's MD5 is compared with the one the server computed over
//!   the bytes it merged (`md5sum=return`, or its resumables record); a
//!   mismatch removes the partial. A resumed upload first checks the MD5 of
//!   the last chunk the server holds against the local file, as tacl does.
//!   An import token cannot read files back, so this and the size are the
//!   verification ([`crate::config::VerifyMode::ChunkMd5`]).
//! - Names and folders stay within what TSD's importer accepts.
//! - Tokens are renewed before every request that needs one, so also in
//!   the middle of an upload ([`auth::Session`]).

mod auth;
mod http;

pub use auth::Session;

use super::{DestError, Destination, ErrorClass, PARTIAL_SUFFIX, Progress};
use http::{Api, Reply};
use md5::{Digest, Md5};
use std::cell::RefCell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::rc::Rc;

/// A session shared by every connection a [`super::Retrying`] opens, so a
/// reconnect does not log in again.
pub type Shared<'p> = Rc<RefCell<Session<'p>>>;

/// An open connection to a project's import folder.
pub struct TsdDestination<'p> {
    session: Shared<'p>,
    api: Api,
    /// `{url}/v1/{project}/files`
    files: String,
    /// `{group}` or `{group}/{path}`
    folder: String,
    /// The resumables key of the folder (its path under the group).
    key: Option<String>,
    chunk_size: u64,
    /// Upload ids of empty files: the server keeps their record but leaves
    /// it out of its list (a chunk size of 0 reads as none), so it is asked
    /// for by id.
    empty: RefCell<std::collections::HashMap<String, String>>,
}

/// The server's record of a resumable upload.
#[derive(Debug, Clone)]
struct Resumable {
    id: String,
    max_chunk: u64,
    md5: String,
    previous_offset: u64,
    /// `None` when the server could not make its record consistent.
    next_offset: Option<u64>,
}

impl<'p> TsdDestination<'p> {
    /// Opens a connection and makes sure there is a valid token (logging in
    /// if the session has none yet).
    pub fn connect(session: Shared<'p>) -> Result<TsdDestination<'p>, DestError> {
        let cfg = session.borrow().cfg().clone();
        let folder = if cfg.path.is_empty() {
            cfg.group.clone()
        } else {
            format!("{}/{}", cfg.group, cfg.path)
        };
        let files = format!("{}/v1/{}/files", cfg.url, cfg.project);
        let location = format!("{files}/stream/{folder}");
        let deadline = session.borrow().deadline;
        let api = Api::new(&cfg.url, location, deadline);
        session.borrow_mut().bearer(&api)?;
        Ok(TsdDestination {
            session,
            api,
            files,
            folder,
            key: (!cfg.path.is_empty()).then(|| cfg.path.clone()),
            chunk_size: cfg.chunk_size,
            empty: RefCell::default(),
        })
    }

    /// How many times the session renewed its token.
    pub fn renewals(&self) -> u32 {
        self.session.borrow().renewals
    }

    fn bearer(&self) -> Result<zeroize::Zeroizing<String>, DestError> {
        self.session.borrow_mut().bearer(&self.api)
    }

    /// Sends a request with a valid token; a 403 (expired or revoked token)
    /// renews the token and tries once more.
    fn authed(
        &self,
        mut send: impl FnMut(&str) -> Result<Reply, DestError>,
    ) -> Result<Reply, DestError> {
        let reply = send(&self.bearer()?)?;
        if reply.status != 403 && reply.status != 401 {
            return Ok(reply);
        }
        self.session.borrow_mut().invalidate();
        send(&self.bearer()?)
    }

    fn refused(&self, op: &'static str, name: &str, reply: &Reply) -> DestError {
        let class = if reply.status >= 500 || reply.status == 408 || reply.status == 429 {
            ErrorClass::Retryable
        } else {
            ErrorClass::Permanent
        };
        let hint = match reply.status {
            401 | 403 => {
                "; TSD refused the token for this folder: check the project, the group (is the API key's client a member?) and that the key is not revoked"
            }
            _ => "",
        };
        self.api.error(
            op,
            name,
            format!(
                "the server answered {}: {}{hint}",
                reply.status,
                reply.short_text()
            ),
            class,
        )
    }

    fn check_name(&self, name: &str) -> Result<(), DestError> {
        if crate::config::is_tsd_name(name) {
            Ok(())
        } else {
            Err(self.api.error(
                "upload",
                name,
                "TSD's importer accepts only names of letters A-Z and a-z, digits, '.', '_' and '-', not starting with '.' or '~'".into(),
                ErrorClass::Permanent,
            ))
        }
    }

    fn stream_url(&self, name: &str) -> String {
        format!("{}/stream/{}/{name}", self.files, self.folder)
    }

    /// The server's resumable uploads of `name` in this folder, the one
    /// with the most data first.
    fn resumables(&self, name: &str) -> Result<Vec<Resumable>, DestError> {
        let url = match &self.key {
            Some(k) => format!("{}/resumables?key={k}", self.files),
            None => format!("{}/resumables", self.files),
        };
        let reply = self.authed(|t| self.api.get(&url, t, name))?;
        if reply.status == 404 {
            return Ok(Vec::new());
        }
        if reply.status != 200 {
            return Err(self.refused("look up", name, &reply));
        }
        let bad = |what: &str| {
            self.api.error(
                "look up",
                name,
                format!("the resumables record is not what the file API sends: {what}"),
                ErrorClass::Retryable,
            )
        };
        let doc = reply.json().ok_or_else(|| bad("not JSON"))?;
        let list = doc["resumables"].as_array().ok_or_else(|| bad("no list"))?;
        let group = self.session.borrow().cfg().group.clone();
        let mut found = Vec::new();
        for r in list {
            let key = r["key"].as_str().filter(|k| !k.is_empty());
            if r["filename"].as_str() != Some(name)
                || key != self.key.as_deref()
                || r["group"].as_str().is_some_and(|g| g != group)
            {
                continue;
            }
            let id = r["id"].as_str().ok_or_else(|| bad("no id"))?.to_string();
            found.push(Resumable {
                id,
                max_chunk: r["max_chunk"].as_u64().unwrap_or(0),
                md5: r["md5sum"].as_str().unwrap_or_default().to_string(),
                previous_offset: r["previous_offset"].as_u64().unwrap_or(0),
                next_offset: r["next_offset"].as_u64(),
            });
        }
        found.sort_by_key(|r| std::cmp::Reverse(r.next_offset.unwrap_or(u64::MAX)));
        let empty_id = self.empty.borrow().get(name).cloned();
        if let (true, Some(id)) = (found.is_empty(), empty_id) {
            let url = format!("{}/resumables/{name}?id={id}", self.files);
            let reply = self.authed(|t| self.api.get(&url, t, name))?;
            let doc = reply.json().unwrap_or_default();
            if reply.status == 200 && doc["id"].as_str() == Some(id.as_str()) {
                found.push(Resumable {
                    id,
                    max_chunk: doc["max_chunk"].as_u64().unwrap_or(1),
                    md5: doc["md5sum"].as_str().unwrap_or_default().to_string(),
                    previous_offset: 0,
                    next_offset: doc["next_offset"].as_u64(),
                });
            } else {
                self.empty.borrow_mut().remove(name);
            }
        }
        Ok(found)
    }

    fn delete_resumable(&self, name: &str, r: &Resumable) -> Result<(), DestError> {
        let url = format!("{}/resumables/{name}?id={}", self.files, r.id);
        let reply = self.authed(|t| self.api.delete(&url, t, name))?;
        match reply.status {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.refused("remove the partial upload of", name, &reply)),
        }
    }

    /// Removes the partial and says why it could not be continued.
    fn mismatch(&self, name: &str, r: Option<&Resumable>, what: String) -> DestError {
        if let Some(r) = r
            && let Err(e) = self.delete_resumable(name, r)
        {
            return e;
        }
        DestError::VerifyMismatch {
            location: self.location(),
            name: super::partial_name(name),
            what,
        }
    }

    /// Sends `src[pos..pos+len]` as chunk `num` and checks its MD5 against
    /// the server's. Returns the server's answer.
    fn send_chunk(
        &self,
        name: &str,
        src: &mut File,
        chunk: Chunk<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(String, u64), DestError> {
        let Chunk { num, id, pos, len } = chunk;
        let mut url = format!("{}?chunk={num}", self.stream_url(name));
        if let Some(id) = id {
            url.push_str(&format!("&id={id}"));
        }
        // Asks the server to check the offset and length, and to return the
        // MD5 of the bytes it merged.
        url.push_str(&format!("&offset={pos}&chunk_size={len}&md5sum=return"));
        let mut md5 = Md5::new();
        let reply = self.authed(|token| {
            src.seek(SeekFrom::Start(pos))
                .map_err(|e| DestError::io("read", "the sealed file", e))?;
            md5 = Md5::new();
            let mut body = Hashing {
                inner: (&mut *src).take(len),
                md5: &mut md5,
                pos,
                progress: &mut *progress,
            };
            self.api.patch(&url, token, name, &mut body, len)
        })?;
        if reply.status == 400 && reply.short_text().contains("chunk_order_incorrect") {
            return Err(self.api.error(
                "upload",
                name,
                format!("the server refused chunk {num} as out of order; resuming from its record"),
                ErrorClass::Retryable,
            ));
        }
        if reply.status != 201 && reply.status != 200 {
            return Err(self.refused("upload", name, &reply));
        }
        let doc = reply.json().unwrap_or_default();
        let got_id = doc["id"].as_str().unwrap_or_default().to_string();
        if got_id.is_empty() || id.is_some_and(|i| i != got_id) {
            return Err(self.api.error(
                "upload",
                name,
                "the server's answer names another upload".into(),
                ErrorClass::Retryable,
            ));
        }
        let max_chunk = doc["max_chunk"].as_u64().unwrap_or(num);
        let local = hex(&md5.finalize());
        let server = match doc["md5sum"].as_str() {
            Some(m) => m.to_string(),
            // A server that does not return it: its resumables record does.
            None => self
                .resumables(name)?
                .into_iter()
                .find(|r| r.id == got_id)
                .map(|r| r.md5)
                .unwrap_or_default(),
        };
        if server != local {
            let r = self.resumables(name)?.into_iter().find(|r| r.id == got_id);
            return Err(self.mismatch(
                name,
                r.as_ref(),
                format!("the server's MD5 of chunk {num} is not the MD5 of the bytes sent"),
            ));
        }
        Ok((got_id, max_chunk))
    }
}

/// One chunk to send: its number, the upload's id (none for the first),
/// and where in the file it starts and how long it is.
struct Chunk<'a> {
    num: u64,
    id: Option<&'a str>,
    pos: u64,
    len: u64,
}

/// A reader that hashes and reports what passes through it.
struct Hashing<'a, R> {
    inner: R,
    md5: &'a mut Md5,
    pos: u64,
    progress: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.md5.update(&buf[..n]);
        self.pos += n as u64;
        (self.progress)(self.pos);
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// MD5 of `src[from..to]`.
fn md5_of(src: &mut File, from: u64, to: u64) -> std::io::Result<String> {
    src.seek(SeekFrom::Start(from))?;
    let mut md5 = Md5::new();
    let mut left = src.take(to.saturating_sub(from));
    let mut buf = vec![0u8; super::CHUNK];
    loop {
        let n = left.read(&mut buf)?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
    }
    Ok(hex(&md5.finalize()))
}

impl Destination for TsdDestination<'_> {
    /// An import token cannot read a partial back: continuing the server's
    /// resumable upload checks the MD5 of the last chunk it holds against
    /// the local file first, and every chunk's MD5 as it goes (`upload`);
    /// a partial of other bytes fails that check and is removed then.
    fn partial_is_prefix(
        &mut self,
        _partial: &str,
        _local: &mut File,
        _len: u64,
    ) -> Result<bool, DestError> {
        Ok(true)
    }

    fn location(&self) -> String {
        format!("{}/stream/{}", self.files, self.folder)
    }

    fn stat(&mut self, name: &str) -> Result<Option<u64>, DestError> {
        // The partial of NAME is named `.NAME.recpipe-partial`
        // (super::partial_name); here it is the server's resumable of NAME.
        let partial_of = name
            .strip_suffix(PARTIAL_SUFFIX)
            .map(|b| b.strip_prefix('.').unwrap_or(b));
        if let Some(base) = partial_of {
            self.check_name(base)?;
            return Ok(self.resumables(base)?.first().map(|r| {
                // A record the server could not make consistent is reported
                // as longer than any file, so the upload starts afresh.
                r.next_offset.unwrap_or(u64::MAX)
            }));
        }
        self.check_name(name)?;
        let url = self.stream_url(name);
        let reply = self.authed(|t| self.api.head(&url, t, name))?;
        match reply.status {
            404 => Ok(None),
            200 => {
                if reply.content_type.as_deref() == Some("directory") {
                    return Err(DestError::NotAFile {
                        location: self.location(),
                        name: name.to_string(),
                    });
                }
                reply.content_length.map(Some).ok_or_else(|| {
                    self.api.error(
                        "look up",
                        name,
                        "the server gave no size".into(),
                        ErrorClass::Retryable,
                    )
                })
            }
            _ => Err(self.refused("look up", name, &reply)),
        }
    }

    fn upload(
        &mut self,
        name: &str,
        src: &mut File,
        offset: u64,
        progress: Progress<'_>,
    ) -> Result<u64, DestError> {
        self.check_name(name)?;
        let len = src
            .metadata()
            .map_err(|e| DestError::io("stat", "the sealed file", e))?
            .len();
        let existing = self.resumables(name)?.into_iter().next();
        let (mut num, mut id, mut pos) = match (offset, existing) {
            (0, None) => (1, None, 0),
            (0, Some(_)) => {
                return Err(self.api.error(
                    "start the upload of",
                    name,
                    "a partial upload of it is already there; it is continued, or removed, never restarted over".into(),
                    ErrorClass::Permanent,
                ));
            }
            (_, None) => {
                return Err(DestError::PartialChanged {
                    location: self.location(),
                    name: super::partial_name(name),
                    expected: offset,
                    actual: 0,
                });
            }
            (_, Some(r)) => {
                if r.next_offset != Some(offset) {
                    return Err(DestError::PartialChanged {
                        location: self.location(),
                        name: super::partial_name(name),
                        expected: offset,
                        actual: r.next_offset.unwrap_or(u64::MAX),
                    });
                }
                // As tacl does: the last chunk the server holds must be the
                // local file's bytes there.
                let local = md5_of(src, r.previous_offset, offset)
                    .map_err(|e| DestError::io("read", "the sealed file", e))?;
                if offset > len || local != r.md5 {
                    return Err(self.mismatch(
                        name,
                        Some(&r),
                        "the last chunk the server holds is not the local file's bytes there"
                            .into(),
                    ));
                }
                (r.max_chunk + 1, Some(r.id), offset)
            }
        };
        // An empty file is one empty chunk, so the server has a record.
        while pos < len || id.is_none() {
            let n = (len - pos).min(self.chunk_size);
            let chunk = Chunk {
                num,
                id: id.as_deref(),
                pos,
                len: n,
            };
            let (got, max_chunk) = self.send_chunk(name, src, chunk, &mut *progress)?;
            if len == 0 {
                self.empty
                    .borrow_mut()
                    .insert(name.to_string(), got.clone());
            }
            id = Some(got);
            num = max_chunk + 1;
            pos += n;
            progress(pos);
        }
        Ok(pos)
    }

    fn read_back(
        &mut self,
        name: &str,
        _progress: Progress<'_>,
    ) -> Result<([u8; 32], u64), DestError> {
        Err(self.api.error(
            "read back",
            name,
            "an import token cannot read files back from TSD; this destination verifies with verify = \"chunk-md5\"".into(),
            ErrorClass::Permanent,
        ))
    }

    fn rename_into_place(&mut self, name: &str) -> Result<(), DestError> {
        // The file API would replace an existing file: look first.
        if self.stat(name)?.is_some() {
            return Err(DestError::Exists {
                location: self.location(),
                name: name.to_string(),
                why: "a file of that name is there already".into(),
            });
        }
        let Some(r) = self.resumables(name)?.into_iter().next() else {
            return Err(self.api.error(
                "finish the upload of",
                name,
                "there is no partial upload of it to finish".into(),
                ErrorClass::Permanent,
            ));
        };
        let group = self.session.borrow().cfg().group.clone();
        let url = format!(
            "{}?chunk=end&id={}&group={group}",
            self.stream_url(name),
            r.id
        );
        let reply = self.authed(|t| self.api.patch(&url, t, name, &mut std::io::empty(), 0))?;
        match reply.status {
            200 | 201 => Ok(()),
            _ => Err(self.refused("finish the upload of", name, &reply)),
        }
    }

    fn remove_partial(&mut self, name: &str) -> Result<(), DestError> {
        self.check_name(name)?;
        for r in self.resumables(name)? {
            self.delete_resumable(name, &r)?;
        }
        Ok(())
    }
}
