//! `recpipe init`'s library half: the answers of a first setup, turned into
//! a pipeline file, and where that file lives.
//!
//! Invariants: [`render`] only writes what [`crate::config::Pipeline`]
//! accepts (the CLI loads the result before it says "done"); protected
//! (yellow, red) data always gets a recipient, a destination, shredding of
//! the interim copy and only after it is verified. [`write_new`] never
//! replaces an existing file unless told to. Nothing here asks or prints:
//! the questions are the CLI's.

pub mod schedule;

use crate::config::{AudioFormat, Classification, TrackKind, TsdAuth};
use crate::seal::Recipient;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// TSD's SFTP host for file import.
pub const TSD_SFTP_HOST: &str = "tsd-fx01.tsd.usit.no";

/// The pipeline's file name inside the per-user config folder.
pub const PIPELINE_FILE: &str = "pipeline.toml";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no per-user configuration folder is known on this system; give --output FILE")]
    NoConfigDir,
    #[error("{}: already exists; give --force to replace it, or --output for another file", path.display())]
    Exists { path: PathBuf },
    #[error("{}: cannot write it: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{what} is not a recipient (a public key starting with recpipe1) or a file holding one"
    )]
    NotARecipient { what: String },
    #[error("\"{0}\" is not a TSD project number such as p11")]
    NotAProject(String),
}

/// Where the sealed files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationAnswer {
    /// SFTP, such as TSD's file import.
    Sftp {
        host: String,
        port: u16,
        user: String,
        path: String,
        known_hosts: String,
    },
    /// A folder (a mounted share, a USB disk kept in a safe).
    Dir { path: PathBuf },
    /// TSD's HTTPS file API: the project, the folder under its member
    /// group, the route that gets tokens, and the API key's file.
    TsdApi {
        project: String,
        path: String,
        auth: TsdAuth,
        /// As the user typed it (`~` is kept for the pipeline to expand).
        api_key_file: String,
    },
}

/// Everything `recpipe init` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    pub name: String,
    pub classification: Classification,
    /// Zoom's local recording folder (the interim folder).
    pub source_dir: PathBuf,
    pub tracks: Vec<TrackKind>,
    pub audio_format: AudioFormat,
    pub destination: DestinationAnswer,
    /// The project's recipient, checked; `None` only for green data.
    pub recipient: Option<String>,
    /// Desktop notifications when a recording needs the person.
    pub notify: bool,
}

/// What green, yellow and red mean, in the words of the universities'
/// procedures for research data (USN, UiS, OsloMet and their peers).
pub const CLASSIFICATION_HELP: &str = "\
  green  - open data: no personal data, or only what anyone may see.
  yellow - internal personal data: names, contact details, opinions that are
           not sensitive. Stored protected; not spread.
  red    - sensitive or confidential: health, ethnicity, religion, political
           views, sexuality, criminal matters, or anything that can harm a
           person if it leaks. All interview audio counts as red data; it
           goes to TSD.";

/// The per-user configuration folder: `%APPDATA%\recpipe` on Windows,
/// `$XDG_CONFIG_HOME/recpipe` (else `~/.config/recpipe`) on Linux;
/// `RECPIPE_CONFIG_DIR` overrides it.
pub fn config_dir() -> Result<PathBuf, SetupError> {
    if let Some(d) = std::env::var_os("RECPIPE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::BaseDirs::new()
        .map(|b| b.config_dir().join("recpipe"))
        .ok_or(SetupError::NoConfigDir)
}

/// The pipeline file `recpipe init` writes by default.
pub fn default_pipeline_path() -> Result<PathBuf, SetupError> {
    Ok(config_dir()?.join(PIPELINE_FILE))
}

/// Checks a TSD project number (`p11`, `p1234`) and returns it lowercased.
pub fn tsd_project(text: &str) -> Result<String, SetupError> {
    let t = text.trim().to_ascii_lowercase();
    let digits = t.strip_prefix('p').unwrap_or("");
    if !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t)
    } else {
        Err(SetupError::NotAProject(text.trim().to_string()))
    }
}

/// A folder as the user typed it, made absolute against the current folder
/// (a pipeline file resolves relative paths against its own folder, which
/// is not what someone typing a path means); `~` is kept for the pipeline
/// to expand.
pub fn typed_path(text: &str) -> PathBuf {
    let p = PathBuf::from(text);
    if text.starts_with('~') || p.is_absolute() {
        p
    } else {
        std::path::absolute(&p).unwrap_or(p)
    }
}

/// TSD's SFTP route for a project: (user, remote folder). Files put there
/// appear inside TSD under `/tsd/PROJECT/data/durable/file-import/`.
pub fn tsd_sftp_defaults(project: &str, user: &str) -> (String, String) {
    (
        format!("{project}-{user}"),
        format!("/{project}/data/durable/file-import/interviews"),
    )
}

/// A recipient given as its text (`recpipe1…`) or as a file holding one
/// (a recipients file: one per line, `#` comments). Returns the text.
pub fn read_recipient(answer: &str) -> Result<String, SetupError> {
    let answer = answer.trim();
    if answer.starts_with("recpipe1") {
        return answer
            .parse::<Recipient>()
            .map(|_| answer.to_string())
            .map_err(|_| SetupError::NotARecipient {
                what: "the text given".into(),
            });
    }
    let path = Path::new(answer);
    let text = fs::read_to_string(path).map_err(|source| SetupError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let not = || SetupError::NotARecipient {
        what: path.display().to_string(),
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(not)?;
    line.parse::<Recipient>().map_err(|_| not())?;
    Ok(line.to_string())
}

/// A TOML string literal.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The pipeline file for `a`, with a comment for each section.
pub fn render(a: &Answers) -> String {
    let mut t = String::new();
    let protected = a.classification.is_protected();
    t.push_str("# Written by `recpipe init`. `recpipe pipeline check FILE` says what it\n");
    t.push_str("# does; docs/pipeline-files.md explains every key.\n");
    t.push_str(&format!("name = {}\n", quote(&a.name)));
    t.push_str(&format!("classification = \"{}\"\n\n", a.classification));
    t.push_str("[source]\n");
    t.push_str("# Where Zoom records locally (the interim folder).\n");
    t.push_str(&format!(
        "dir = {}\n",
        quote(&a.source_dir.to_string_lossy())
    ));
    t.push_str(
        "settle = \"30s\"                  # quiet time before a recording counts as finished\n\n",
    );
    t.push_str("[redact]\n");
    t.push_str(
        "marks = \"recpipe-marks.txt\"     # `recpipe mark` writes it into the recording folder\n",
    );
    t.push_str("mode = \"silence\"\n");
    t.push_str("pad = \"1s\"\n\n");
    t.push_str("[keep]\n");
    let tracks: Vec<String> = a.tracks.iter().map(|k| quote(&k.to_string())).collect();
    t.push_str(&format!("tracks = [{}]\n", tracks.join(", ")));
    let format = match a.audio_format {
        AudioFormat::Wav => "wav",
        AudioFormat::M4a => "m4a",
    };
    t.push_str(&format!("audio_format = \"{format}\"\n\n"));
    if let Some(r) = &a.recipient {
        t.push_str("[seal]\n");
        t.push_str("# The project's public key; its secret key stays where the data is opened.\n");
        t.push_str(&format!("recipients = [{}]\n\n", quote(r)));
    }
    t.push_str("[destination]\n");
    match &a.destination {
        DestinationAnswer::Sftp {
            host,
            port,
            user,
            path,
            known_hosts,
        } => {
            t.push_str("kind = \"sftp\"\n");
            t.push_str(&format!("host = {}\n", quote(host)));
            t.push_str(&format!("port = {port}\n"));
            t.push_str(&format!("user = {}\n", quote(user)));
            t.push_str(&format!("path = {}\n", quote(path)));
            t.push_str(&format!("known_hosts = {}\n", quote(known_hosts)));
        }
        DestinationAnswer::Dir { path } => {
            t.push_str("kind = \"dir\"\n");
            t.push_str(&format!("path = {}\n", quote(&path.to_string_lossy())));
        }
        DestinationAnswer::TsdApi {
            project,
            path,
            auth,
            api_key_file,
        } => {
            t.push_str("kind = \"tsd\"                    # TSD's HTTPS file API (docs/tsd.md)\n");
            t.push_str(&format!("project = {}\n", quote(project)));
            t.push_str(&format!(
                "path = {}                # under {project}-member-group\n",
                quote(path)
            ));
            t.push_str(&format!("auth = \"{}\"\n", auth.name()));
            t.push_str(
                "# The API key TSD registered for this client, in a file only you can read.\n",
            );
            t.push_str(&format!("api_key_file = {}\n", quote(api_key_file)));
            if let TsdAuth::ImportLink {
                link_id,
                secret_file,
            } = auth
            {
                t.push_str(&format!("link = {}\n", quote(link_id)));
                if let Some(f) = secret_file {
                    t.push_str(&format!("secret_file = {}\n", quote(&f.to_string_lossy())));
                }
            }
        }
    }
    let verify = match a.destination {
        // TSD's API cannot be read back; every chunk's MD5 as the server
        // recorded it, then the size (docs/destinations.md).
        DestinationAnswer::TsdApi { .. } => "chunk-md5",
        _ => "readback",
    };
    t.push_str(&format!("verify = \"{verify}\"\n\n"));
    t.push_str("[cleanup]\n");
    if protected {
        t.push_str("interim = \"shred\"               # overwrite, then delete the interim copy\n");
        t.push_str("after = \"verified\"              # only once every output is verified at the destination\n");
    } else {
        t.push_str("interim = \"delete\"\n");
        t.push_str("after = \"verified\"\n");
    }
    t.push_str("\n[notify]\n");
    t.push_str("# A desktop notification when a recording needs you (a login, a problem).\n");
    t.push_str(&format!("desktop = {}\n", a.notify));
    t
}

/// Writes `text` to `path`, creating its folder. An existing file is an
/// error unless `replace`; a replaced file is swapped in whole (written
/// beside it, then renamed), so a crash never leaves half a pipeline.
pub fn write_new(path: &Path, text: &str, replace: bool) -> Result<(), SetupError> {
    let err = |source| SetupError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(err)?;
    }
    if !replace {
        let mut f = match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(SetupError::Exists {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(err(e)),
        };
        f.write_all(text.as_bytes()).map_err(err)?;
        return f.sync_all().map_err(err);
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".recpipe-init");
    let tmp = path.with_file_name(tmp_name);
    let mut f = fs::File::create(&tmp).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Destination, Pipeline};

    fn answers(dest: DestinationAnswer) -> Answers {
        Answers {
            name: "interviews \"2026\"".into(),
            classification: Classification::Red,
            source_dir: std::env::temp_dir().join("Åse Ødegård").join("Zoom"),
            tracks: vec![TrackKind::ParticipantAudio, TrackKind::MixedAudio],
            audio_format: AudioFormat::Wav,
            destination: dest,
            recipient: Some(crate::config::DEMO_RECIPIENT.to_string()),
            notify: false,
        }
    }

    #[test]
    fn rendered_sftp_pipeline_loads_as_answered() {
        let (user, path) = tsd_sftp_defaults("p11", "alice");
        let a = answers(DestinationAnswer::Sftp {
            host: TSD_SFTP_HOST.into(),
            port: 22,
            user,
            path,
            known_hosts: "~/.ssh/known_hosts".into(),
        });
        let p = Pipeline::from_toml(&render(&a), Path::new("/x/pipeline.toml")).unwrap();
        assert_eq!(p.name, a.name);
        assert_eq!(p.classification, Classification::Red);
        assert_eq!(p.source.dir, a.source_dir);
        assert_eq!(p.keep.tracks, a.tracks);
        assert!(!p.notify.desktop);
        match p.destination {
            Some(Destination::Sftp {
                host, user, path, ..
            }) => {
                assert_eq!(host, TSD_SFTP_HOST);
                assert_eq!(user, "p11-alice");
                assert_eq!(path, "/p11/data/durable/file-import/interviews");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rendered_dir_pipeline_loads() {
        let a = answers(DestinationAnswer::Dir {
            path: PathBuf::from("/mnt/share/sealed"),
        });
        let p = Pipeline::from_toml(&render(&a), Path::new("/x/pipeline.toml")).unwrap();
        assert!(
            matches!(p.destination, Some(Destination::Dir { ref path, .. }) if path == Path::new("/mnt/share/sealed"))
        );
    }

    #[test]
    fn projects_and_recipients_are_checked() {
        assert_eq!(tsd_project(" P11 ").unwrap(), "p11");
        assert!(tsd_project("11").is_err());
        assert!(tsd_project("p1x").is_err());
        assert!(read_recipient(crate::config::DEMO_RECIPIENT).is_ok());
        assert!(read_recipient("recpipe1qqqq").is_err());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("project.recipient");
        fs::write(&f, format!("# p11\n{}\n", crate::config::DEMO_RECIPIENT)).unwrap();
        assert_eq!(
            read_recipient(f.to_str().unwrap()).unwrap(),
            crate::config::DEMO_RECIPIENT
        );
    }

    #[test]
    fn typed_paths_become_absolute_but_keep_the_home_sign() {
        assert!(typed_path("Zoom").is_absolute());
        assert_eq!(
            typed_path("~/Documents/Zoom"),
            PathBuf::from("~/Documents/Zoom")
        );
    }

    #[test]
    fn write_new_never_replaces_unless_told() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub").join("pipeline.toml");
        write_new(&f, "a", false).unwrap();
        assert!(matches!(
            write_new(&f, "b", false),
            Err(SetupError::Exists { .. })
        ));
        assert_eq!(fs::read_to_string(&f).unwrap(), "a");
        write_new(&f, "c", true).unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "c");
    }
}
