//! The pipeline file as written (serde structs that refuse unknown keys),
//! and its conversion into a validated [`Pipeline`]. Every error carries the
//! line and dotted key it concerns.

use super::*;
use serde::Deserialize;
use toml::Spanned;

pub(super) mod tsd;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    name: Spanned<String>,
    classification: Spanned<Classification>,
    source: Option<RawSource>,
    redact: Option<RawRedact>,
    keep: Spanned<RawKeep>,
    seal: Option<Spanned<RawSeal>>,
    destination: Option<Spanned<RawDestination>>,
    cleanup: Option<RawCleanup>,
    notify: Option<RawNotify>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    desktop: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    dir: Option<String>,
    settle: Option<HumanDuration>,
    stall: Option<HumanDuration>,
    max_wait: Option<HumanDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedact {
    marks: Option<Spanned<String>>,
    mode: Option<RedactMode>,
    pad: Option<HumanDuration>,
    clock: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeep {
    tracks: Spanned<Vec<TrackKind>>,
    audio_format: Option<AudioFormat>,
    allow_chat: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeal {
    recipients: Option<Vec<Spanned<String>>>,
    recipients_file: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum DestKind {
    Sftp,
    Dir,
    Tsd,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    kind: Spanned<DestKind>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    user: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    known_hosts: Option<Spanned<String>>,
    identity_file: Option<Spanned<String>>,
    verify: Option<Spanned<VerifyMode>>,
    // kind = "tsd" (src/config/raw/tsd.rs)
    project: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
    auth: Option<Spanned<String>>,
    api_key_file: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    secret_file: Option<Spanned<String>>,
    chunk_size: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCleanup {
    interim: Option<Spanned<InterimAction>>,
    after: Option<Spanned<CleanupAfter>>,
    unsynced_wait: Option<HumanDuration>,
}

/// Turns a byte offset into a 1-based line, and finds the dotted key whose
/// name or value holds that offset (so an element on the third line of a
/// multi-line array is reported under the array's key); an offset outside
/// every value (a table header) is reported as the nearest table above it.
struct Locator<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Locator<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn key_at(&self, offset: usize) -> Option<String> {
        if let Ok(doc) = toml::de::DeTable::parse(self.text) {
            let mut path = Vec::new();
            if key_holding(doc.get_ref(), offset, &mut path) {
                return Some(path.join("."));
            }
        }
        // Not inside any key or value (a table header, or text that does
        // not parse): the nearest table header at or above the line.
        let line = self.line_of(offset);
        self.text
            .lines()
            .take(line)
            .map(str::trim)
            .filter(|l| l.starts_with('[') && !l.starts_with("[["))
            .last()
            .map(|l| {
                let inner = l.split(']').next().unwrap_or_default();
                inner.trim_start_matches('[').trim().to_string()
            })
    }

    /// An error at `offset` (or at the top of the file when unknown).
    fn error(&self, offset: Option<usize>, message: impl Into<String>) -> ConfigError {
        let line = offset.map(|o| self.line_of(o)).unwrap_or(1);
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line,
            key: offset.and_then(|o| self.key_at(o)),
            message: message.into(),
        }
    }

    fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        self.error(Some(spanned.span().start), message)
    }

    /// An error about a whole table that is missing: no line to point at,
    /// but the key is known.
    fn missing(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: 1,
            key: Some(key.to_string()),
            message: message.into(),
        }
    }
}

/// Finds the key whose name or (non-table) value spans `offset`, walking
/// into tables; pushes the dotted path to it onto `path`.
fn key_holding(table: &toml::de::DeTable<'_>, offset: usize, path: &mut Vec<String>) -> bool {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        let found = match value.get_ref() {
            toml::de::DeValue::Table(inner) => {
                key.span().contains(&offset) || key_holding(inner, offset, path)
            }
            _ => key.span().contains(&offset) || value.span().contains(&offset),
        };
        if found {
            return true;
        }
        path.pop();
    }
    false
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Pipeline, ConfigError> {
    let loc = Locator { text, path };
    let raw: RawPipeline = toml::from_str(text)
        .map_err(|e| loc.error(e.span().map(|s| s.start), e.message().trim().to_string()))?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));

    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err(loc.at(&raw.name, "the pipeline needs a name"));
    }
    let classification = *raw.classification.get_ref();

    let (dir, settle, stall, max_wait) = match raw.source {
        Some(s) => (
            s.dir
                .map(|d| resolve_path(&d, base))
                .unwrap_or_else(default_zoom_dir),
            s.settle.unwrap_or(DEFAULT_SETTLE),
            s.stall.unwrap_or(DEFAULT_STALL),
            s.max_wait.unwrap_or(DEFAULT_MAX_WAIT),
        ),
        None => (
            default_zoom_dir(),
            DEFAULT_SETTLE,
            DEFAULT_STALL,
            DEFAULT_MAX_WAIT,
        ),
    };
    let synced_by = super::cloud::synced_by(&dir);
    if let Some(service) = synced_by
        && classification.is_protected()
    {
        return Err(loc.at(
            &raw.classification,
            format!(
                "the interim folder {} lies in {service}, which copies every recording off this PC while Zoom writes it, before it is redacted or sealed; {classification} data must not leave that way. In Zoom → Settings → Recording choose a local folder outside {service} (e.g. C:\\Zoom-opptak), and set [source] dir to it",
                dir.display()
            ),
        ));
    }
    let source = Source {
        dir,
        settle,
        stall,
        max_wait,
        synced_by,
    };

    let redact = match raw.redact {
        Some(r) => {
            let marks = match r.marks {
                Some(m) => {
                    let v = m.get_ref();
                    if v.is_empty() || v.contains(['/', '\\']) {
                        return Err(loc.at(
                            &m,
                            "the marks file is a plain file name looked for inside each recording folder",
                        ));
                    }
                    v.clone()
                }
                None => DEFAULT_MARKS.to_string(),
            };
            let clock = match r.clock {
                Some(c) => ClockSetting::parse(c.get_ref()).map_err(|why| loc.at(&c, why))?,
                None => ClockSetting::Local,
            };
            Redact {
                marks,
                mode: r.mode.unwrap_or(RedactMode::Silence),
                pad: r.pad.unwrap_or_default(),
                clock,
            }
        }
        None => Redact {
            marks: DEFAULT_MARKS.to_string(),
            mode: RedactMode::Silence,
            pad: HumanDuration::default(),
            clock: ClockSetting::Local,
        },
    };

    let keep = keep(&loc, raw.keep, classification)?;
    let seal = raw.seal.map(|s| seal(&loc, s, base)).transpose()?;
    // Size alone cannot tell this sealing from another of the same length,
    // and the interim copy of protected data is deleted on its word
    // (docs/destinations.md, "Verification").
    let size_only = raw.destination.as_ref().and_then(|d| {
        d.get_ref()
            .verify
            .as_ref()
            .filter(|v| *v.get_ref() == VerifyMode::Size)
    });
    if let Some(v) = size_only.filter(|_| classification.is_protected()) {
        return Err(loc.at(
            v,
            format!(
                "{classification} data is removed from the PC only after its upload is read back and compared: remove verify = \"size\" (the default is \"readback\")"
            ),
        ));
    }
    let destination = raw
        .destination
        .map(|d| destination(&loc, d, base))
        .transpose()?;

    let cleanup = raw.cleanup.unwrap_or(RawCleanup {
        interim: None,
        after: None,
        unsynced_wait: None,
    });
    let interim = cleanup
        .interim
        .as_ref()
        .map(|i| *i.get_ref())
        .unwrap_or(InterimAction::Shred);
    let after = cleanup
        .after
        .as_ref()
        .map(|a| *a.get_ref())
        .unwrap_or(CleanupAfter::Verified);
    let unsynced_wait = cleanup
        .unsynced_wait
        .map_or(super::DEFAULT_UNSYNCED_WAIT, |d| d.0);

    if classification.is_protected() {
        let protect = |what: &str| {
            format!(
                "{classification} data {what}; set classification = \"green\" only if the recordings hold no personal data"
            )
        };
        match &seal {
            None => {
                return Err(loc.missing(
                    "seal",
                    protect("must be sealed: add a [seal] table with at least one recipient"),
                ));
            }
            Some(s) if s.recipients.is_empty() && s.recipients_file.is_none() => {
                return Err(loc.missing(
                    "seal.recipients",
                    protect("must be sealed to at least one recipient"),
                ));
            }
            Some(_) => {}
        }
        if destination.is_none() {
            return Err(loc.missing(
                "destination",
                protect("must go to final storage: add a [destination] table"),
            ));
        }
        if let Some(at) = cleanup
            .interim
            .as_ref()
            .filter(|i| *i.get_ref() == InterimAction::Keep)
        {
            return Err(loc.at(
                at,
                protect(
                    "must not be kept in the interim folder: use interim = \"shred\" or \"delete\"",
                ),
            ));
        }
    }
    if let Some(at) = cleanup
        .after
        .as_ref()
        .filter(|a| *a.get_ref() == CleanupAfter::Sealed)
    {
        if interim == InterimAction::Keep {
            return Err(loc.at(
                at,
                "after = \"sealed\" only makes sense when the interim copy is removed (interim = \"shred\" or \"delete\")",
            ));
        }
        if seal.is_none() {
            return Err(loc.at(at, "after = \"sealed\" needs a [seal] table"));
        }
    }

    Ok(Pipeline {
        file: path.to_path_buf(),
        name,
        classification,
        source,
        redact,
        keep,
        seal,
        destination,
        cleanup: Cleanup {
            interim,
            after,
            unsynced_wait,
        },
        notify: Notify {
            desktop: raw.notify.and_then(|n| n.desktop).unwrap_or(true),
        },
    })
}

const DEFAULT_MARKS: &str = "recpipe-marks.txt";
const DEFAULT_STALL: HumanDuration = HumanDuration(crate::discover::DEFAULT_STALL);
const DEFAULT_MAX_WAIT: HumanDuration = HumanDuration(std::time::Duration::from_secs(24 * 3600));
const DEFAULT_SETTLE: HumanDuration = HumanDuration(std::time::Duration::from_secs(30));

fn keep(
    loc: &Locator<'_>,
    raw: Spanned<RawKeep>,
    classification: Classification,
) -> Result<Keep, ConfigError> {
    let raw_keep = raw.into_inner();
    let tracks = raw_keep.tracks.get_ref();
    if tracks.is_empty() {
        return Err(loc.at(&raw_keep.tracks, "keep at least one track"));
    }
    let mut seen = Vec::new();
    for t in tracks {
        if seen.contains(t) {
            return Err(loc.at(&raw_keep.tracks, format!("'{t}' is listed twice")));
        }
        seen.push(*t);
    }
    let allow_chat = raw_keep.allow_chat.unwrap_or(false);
    if classification == Classification::Red && seen.contains(&TrackKind::Chat) && !allow_chat {
        return Err(loc.at(
            &raw_keep.tracks,
            "red pipelines do not keep the chat (chat files must not be spread); remove \"chat\" or add allow_chat = true to [keep] if the project's data management plan allows it",
        ));
    }
    Ok(Keep {
        tracks: seen,
        audio_format: raw_keep.audio_format.unwrap_or(AudioFormat::Wav),
        allow_chat,
    })
}

fn seal(loc: &Locator<'_>, raw: Spanned<RawSeal>, base: &Path) -> Result<Seal, ConfigError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let mut recipients = Vec::new();
    for r in raw.recipients.unwrap_or_default() {
        let text = r.get_ref().trim();
        if text.is_empty() {
            return Err(loc.at(&r, "a recipient is empty"));
        }
        match text.parse::<crate::seal::Recipient>() {
            Ok(recipient) => recipients.push(recipient),
            Err(e) => return Err(loc.at(&r, format!("not a recipient: {e}"))),
        }
    }
    let recipients_file = match raw.recipients_file {
        Some(f) => {
            let path = resolve_path(f.get_ref(), base);
            let recipients = crate::seal::file::read_recipients_file(&path)
                .map_err(|e| loc.at(&f, e.to_string()))?;
            Some(super::RecipientsFile { path, recipients })
        }
        None => None,
    };
    if recipients.is_empty() && recipients_file.is_none() {
        return Err(loc.error(
            Some(span.start),
            "[seal] needs recipients = [\"…\"] or recipients_file = \"…\"",
        ));
    }
    Ok(Seal {
        recipients,
        recipients_file,
    })
}

fn destination(
    loc: &Locator<'_>,
    raw: Spanned<RawDestination>,
    base: &Path,
) -> Result<Destination, ConfigError> {
    let raw = raw.into_inner();
    let kind = *raw.kind.get_ref();
    tsd::refuse_tsd_keys(loc, &raw, kind)?;
    let verify = match &raw.verify {
        Some(v) if *v.get_ref() == VerifyMode::ChunkMd5 && kind != DestKind::Tsd => {
            return Err(loc.at(
                v,
                "verify = \"chunk-md5\" is how kind = \"tsd\" verifies; use \"readback\" or \"size\"",
            ));
        }
        Some(v) => *v.get_ref(),
        None => VerifyMode::Readback,
    };
    let required =
        |v: Option<Spanned<String>>, key: &str| -> Result<Spanned<String>, ConfigError> {
            match v {
                Some(s) if !s.get_ref().trim().is_empty() => Ok(s),
                Some(s) => Err(loc.at(&s, format!("{key} is empty"))),
                None => Err(loc.at(
                    &raw.kind,
                    format!("a destination of this kind needs destination.{key}"),
                )),
            }
        };
    match kind {
        DestKind::Sftp => {
            let host = required(raw.host, "host")?.into_inner();
            let user = required(raw.user, "user")?.into_inner();
            let path = required(raw.path, "path")?.into_inner();
            let known_hosts = match raw.known_hosts {
                Some(k) => resolve_path(k.get_ref(), base),
                None => resolve_path("~/.ssh/known_hosts", base),
            };
            let port = match raw.port {
                Some(p) if *p.get_ref() == 0 => return Err(loc.at(&p, "port 0 is not a port")),
                Some(p) => p.into_inner(),
                None => 22,
            };
            Ok(Destination::Sftp {
                host,
                port,
                user,
                path,
                known_hosts,
                identity_file: raw.identity_file.map(|f| resolve_path(f.get_ref(), base)),
                verify,
            })
        }
        DestKind::Dir => {
            for (value, key) in [
                (raw.host.as_ref(), "host"),
                (raw.user.as_ref(), "user"),
                (raw.known_hosts.as_ref(), "known_hosts"),
                (raw.identity_file.as_ref(), "identity_file"),
            ] {
                if let Some(v) = value {
                    return Err(loc.at(v, format!("{key} belongs to kind = \"sftp\", not \"dir\"")));
                }
            }
            if let Some(p) = &raw.port {
                return Err(loc.at(p, "port belongs to kind = \"sftp\", not \"dir\""));
            }
            let path = required(raw.path, "path")?;
            Ok(Destination::Dir {
                path: resolve_path(path.get_ref(), base),
                verify,
            })
        }
        DestKind::Tsd => tsd::destination(loc, raw, base),
    }
}
