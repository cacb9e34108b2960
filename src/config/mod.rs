//! Pipeline files (`pipelines/*.toml`): one file describes one pipeline.
//!
//! Loading is where the command line ends and a validated configuration
//! begins: [`Pipeline::load`] either returns a pipeline every later stage can
//! trust, or a [`ConfigError`] naming the file, line and key. Unknown keys and
//! bad values are refused; the classification's policy (red and yellow data
//! must be sealed and sent somewhere, and the interim copy must not be kept)
//! is enforced here, once, so no later stage has to re-check it.
//!
//! Relative paths in a pipeline file are taken relative to the folder that
//! holds the file; `~` means the user's home folder.

mod clock;
pub mod cloud;
mod describe;
mod raw;

pub use clock::ClockSetting;
pub use describe::describe;
pub use raw::tsd::{is_tsd_name, parse_link};

use crate::duration::HumanDuration;
use std::fmt;
use std::path::{Path, PathBuf};

/// The recipient of the demo identity in `sample-data/demo-identity.txt`,
/// whose secret key is public. The shipped templates name it so they load;
/// `recpipe run` refuses to seal yellow or red data to it.
pub const DEMO_RECIPIENT: &str =
    "recpipe188ja6x8khpnkg3a3nme2wm7ha3ezcrwgr3cm4szv9pzzs3mtgskq2rqglh";

/// How sensitive the recordings are, in the universities' terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    Green,
    Yellow,
    Red,
}

impl Classification {
    /// Yellow and red data must be sealed, sent to a destination and not kept.
    pub fn is_protected(self) -> bool {
        matches!(self, Classification::Yellow | Classification::Red)
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Classification::Green => "green",
            Classification::Yellow => "yellow",
            Classification::Red => "red",
        })
    }
}

/// What happens to the time inside a redacted range of audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RedactMode {
    /// Replaced by digital silence; the timeline is unchanged.
    Silence,
    /// Removed; later audio moves up.
    Cut,
}

/// A kind of track a recording can hold; `[keep] tracks` lists the wanted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrackKind {
    Video,
    MixedAudio,
    ParticipantAudio,
    Chat,
    Captions,
}

impl fmt::Display for TrackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrackKind::Video => "video",
            TrackKind::MixedAudio => "mixed-audio",
            TrackKind::ParticipantAudio => "participant-audio",
            TrackKind::Chat => "chat",
            TrackKind::Captions => "captions",
        })
    }
}

/// The container audio outputs are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    /// 16-bit PCM WAV, decoded.
    Wav,
    /// The original AAC frames, remuxed without re-encoding.
    M4a,
}

/// How an upload is checked before the interim copy may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyMode {
    /// Read the remote file back and compare SHA-256.
    Readback,
    /// Compare sizes only.
    Size,
    /// Compare every chunk's MD5 with what the server recorded as it was
    /// uploaded, then the size at the end: what TSD's file API offers, whose
    /// import tokens cannot read files back (`kind = "tsd"` only).
    #[serde(rename = "chunk-md5")]
    ChunkMd5,
}

/// What happens to the interim recording after the outputs are safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InterimAction {
    /// Overwrite once with random bytes, then delete.
    Shred,
    /// Delete without overwriting.
    Delete,
    /// Leave the interim copy (green data only).
    Keep,
}

/// When the interim copy may be cleaned up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CleanupAfter {
    /// Only after every output is verified at the destination (the default).
    Verified,
    /// As soon as every output is sealed, staged and checked to open.
    Sealed,
}

/// `[source]`: where Zoom writes recordings.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub dir: PathBuf,
    pub settle: HumanDuration,
    /// A conversion unchanged this long has stalled (default 2 h).
    pub stall: HumanDuration,
    /// A red or yellow recording waiting on the PC longer than this is
    /// reported by every run (default 24 h).
    pub max_wait: HumanDuration,
    /// The cloud service that syncs `dir`, if any (see [`cloud`]): only
    /// a green pipeline loads with one, and is to be warned about it.
    pub synced_by: Option<&'static str>,
}

/// `[redact]`: where marks are found and what is done with marked ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct Redact {
    pub marks: String,
    pub mode: RedactMode,
    pub pad: HumanDuration,
    /// The time zone of Zoom's burned-in clock (`clock = "local"`,
    /// `"+01:00"` or `"Europe/Oslo"`).
    pub clock: ClockSetting,
}

/// `[keep]`: which tracks leave the PC, and in which audio format.
#[derive(Debug, Clone, PartialEq)]
pub struct Keep {
    pub tracks: Vec<TrackKind>,
    pub audio_format: AudioFormat,
    pub allow_chat: bool,
}

impl Keep {
    pub fn keeps(&self, kind: TrackKind) -> bool {
        self.tracks.contains(&kind)
    }
}

/// `[seal]`: the recipients every output is encrypted to, parsed once at
/// load time: those written in `recipients` and those read from
/// `recipients_file`. Nothing reads or parses them again.
#[derive(Debug, Clone, PartialEq)]
pub struct Seal {
    pub recipients: Vec<crate::seal::Recipient>,
    pub recipients_file: Option<RecipientsFile>,
}

/// `[seal] recipients_file`: where it is and what it listed at load time.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientsFile {
    pub path: PathBuf,
    pub recipients: Vec<crate::seal::Recipient>,
}

impl Seal {
    /// Every recipient: those written in the file first, then those listed
    /// in `recipients_file`.
    pub fn all(&self) -> impl Iterator<Item = &crate::seal::Recipient> {
        self.recipients
            .iter()
            .chain(self.recipients_file.iter().flat_map(|f| &f.recipients))
    }
}

/// `[destination]`: where sealed outputs go.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    Sftp {
        host: String,
        port: u16,
        user: String,
        path: String,
        known_hosts: PathBuf,
        identity_file: Option<PathBuf>,
        verify: VerifyMode,
    },
    Dir {
        path: PathBuf,
        verify: VerifyMode,
    },
    /// TSD's HTTPS file API (what TSD's own client `tacl` speaks).
    Tsd(Tsd),
}

impl Destination {
    pub fn verify(&self) -> VerifyMode {
        match self {
            Destination::Sftp { verify, .. } | Destination::Dir { verify, .. } => *verify,
            Destination::Tsd(t) => t.verify,
        }
    }
}

/// TSD's production file API, as tacl names it.
pub const TSD_DEFAULT_URL: &str = "https://api.tsd.usit.no";

/// tacl's default chunk size (`50mb`, which tacl reads as 50,000,000 bytes).
pub const TSD_DEFAULT_CHUNK_SIZE: u64 = 50_000_000;

/// `[destination] kind = "tsd"`: uploads to a TSD project's import area
/// through the file API. No secret is held here: only the files they are in.
#[derive(Debug, Clone, PartialEq)]
pub struct Tsd {
    /// The project, `p11`.
    pub project: String,
    /// The API's base URL without `/v1` (`https://api.tsd.usit.no`).
    pub url: String,
    /// The group that owns the uploads (`p11-member-group`).
    pub group: String,
    /// Folders under the group, `/`-separated; empty for the group's top.
    pub path: String,
    pub auth: TsdAuth,
    /// The file holding the client's API key (every route needs one).
    pub api_key_file: PathBuf,
    /// Bytes per resumable chunk.
    pub chunk_size: u64,
    pub verify: VerifyMode,
}

/// How recpipe gets its tokens from TSD's authentication API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsdAuth {
    /// The API key alone, from an address TSD allow-listed for it.
    Basic,
    /// An import link from the project (its id), with its secret when the
    /// link has one.
    ImportLink {
        link_id: String,
        secret_file: Option<PathBuf>,
    },
    /// A TSD user's name, password and one-time code, asked at the terminal;
    /// the token is renewed with refresh tokens for a working day.
    Login,
}

impl TsdAuth {
    /// The value of `auth` that chose this route.
    pub fn name(&self) -> &'static str {
        match self {
            TsdAuth::Basic => "basic",
            TsdAuth::ImportLink { .. } => "import-link",
            TsdAuth::Login => "login",
        }
    }
}

/// `[cleanup]`: what happens to the interim copy, and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cleanup {
    pub interim: InterimAction,
    pub after: CleanupAfter,
    /// How long the interim copy of a red or yellow recording waits after
    /// its outputs reached a server that could not sync them to its disk
    /// (no fsync), before each is read back again and the copy removed.
    pub unsynced_wait: std::time::Duration,
}

/// The default of [`Cleanup::unsynced_wait`]: longer than Linux's
/// write-back of dirty pages (30 s, plus its 5 s flusher interval).
pub const DEFAULT_UNSYNCED_WAIT: std::time::Duration = std::time::Duration::from_secs(40);

/// A validated pipeline: every policy of its classification holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The file it was loaded from.
    pub file: PathBuf,
    pub name: String,
    pub classification: Classification,
    pub source: Source,
    pub redact: Redact,
    pub keep: Keep,
    pub seal: Option<Seal>,
    pub destination: Option<Destination>,
    pub cleanup: Cleanup,
    pub notify: Notify,
}

/// `[notify]`: whether `run` and `watch` tell the person, by a desktop
/// notification, when a recording needs them (default on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notify {
    pub desktop: bool,
}

/// Why a pipeline file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read pipeline file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {}{message}", path.display(), key.as_deref().map(|k| format!("key '{k}': ")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// The dotted key concerned, e.g. `cleanup.interim`, when known.
        key: Option<String>,
        message: String,
    },
}

impl Pipeline {
    /// Reads, parses and validates a pipeline file.
    pub fn load(path: &Path) -> Result<Pipeline, ConfigError> {
        let text = crate::fsutil::read_small_text(path, crate::fsutil::Small::Pipeline).map_err(
            |source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            },
        )?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates pipeline text; `path` is used for messages and
    /// to resolve relative paths.
    pub fn from_toml(text: &str, path: &Path) -> Result<Pipeline, ConfigError> {
        raw::parse(text, path)
    }
}

/// The folder Zoom records into by default: `~/Documents/Zoom`
/// (`%USERPROFILE%\Documents\Zoom` on Windows).
pub fn default_zoom_dir() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|u| u.document_dir().map(|d| d.join("Zoom")))
        .or_else(|| home_dir().map(|h| h.join("Documents").join("Zoom")))
        .unwrap_or_else(|| PathBuf::from("Zoom"))
}

fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

/// Expands a leading `~` and makes a relative path relative to `base`.
pub fn resolve_path(text: &str, base: &Path) -> PathBuf {
    let expanded = if text == "~" {
        home_dir().unwrap_or_else(|| PathBuf::from("~"))
    } else if let Some(rest) = text.strip_prefix("~/").or_else(|| text.strip_prefix("~\\")) {
        match home_dir() {
            Some(h) => h.join(rest),
            None => PathBuf::from(text),
        }
    } else {
        PathBuf::from(text)
    };
    if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    }
}
