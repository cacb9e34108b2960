//! What each file in a Zoom recording folder is, from its name and place.
//! The names, with their sources, are listed in docs/redaction.md
//! ("The files Zoom writes"):
//!
//! - Newer clients: `video<n>.mp4`, `audio<n>.m4a`, `playback<n>.m3u`,
//!   `chat.txt` or `meeting_saved_new_chat.txt`,
//!   `Audio Record/audio<Name><n>.m4a`; a stopped and restarted recording
//!   puts a segment digit before the folder's number (`video1<n>.mp4`,
//!   `video2<n>.mp4`), see [`super::segments`].
//! - Older clients: `zoom_0.mp4`, `zoom_1.mp4`, `audio_only.m4a`,
//!   `audio_only_0.m4a`, `playback.m3u`, `meeting_saved_chat.txt`,
//!   `meeting_saved_closed_caption.txt`.
//! - Captions and transcripts: `*.vtt`, `*.cc.vtt`,
//!   `closed_caption.txt`.
//! - Zoom's own book-keeping: `recording.conf`, `zoomver.tag`,
//!   `xcode_error.log`; unfinished: `double_click_to_convert_NN.zoom`,
//!   `*.mp4.tmp`, `*.m4a.tmp`.
//! - Litter the operating system leaves in any folder a person opened:
//!   `desktop.ini`, `Thumbs.db`, `ehthumbs.db`, `.DS_Store`.
//!
//! Invariant: anything else is [`Role::Unknown`]: recpipe never delivers
//! it and never removes it ([`Role::cleanup_may_remove`]). An unknown
//! document a person writes in ([`is_text_document`]: `notes.txt`,
//! `merknader.docx`) may hold passages to remove, so it stops the
//! recording before anything is delivered.

use serde::{Deserialize, Serialize};

/// The sub-folder where Zoom puts one audio file per participant.
pub const PARTICIPANT_DIR: &str = "Audio Record";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "kebab-case")]
pub enum Role {
    /// Video with the mixed audio of the meeting.
    Video,
    /// The mixed audio of the meeting.
    MixedAudio,
    /// One participant's own audio.
    ParticipantAudio {
        participant: String,
    },
    Chat,
    Captions,
    Playlist,
    /// recpipe's own marks file.
    Marks,
    /// Zoom still converting (`*.zoom`) or writing (`*.mp4.tmp`).
    Unfinished,
    /// Zoom's conversion status file.
    ConversionStatus,
    /// Zoom's conversion error log.
    ConversionError,
    /// Zoom's own book-keeping that says nothing about the meeting
    /// (`zoomver.tag`: the client version that wrote the folder).
    ZoomInfo,
    /// What the operating system leaves in a folder a person looked at
    /// (`desktop.ini`, `Thumbs.db`, `.DS_Store`): no content of the
    /// meeting. Never delivered; removed with the recording.
    Litter,
    /// Not a file Zoom writes (a consent form, notes): never delivered and
    /// never removed; the run reports it by kind and count.
    Unknown,
}

impl Role {
    /// Whether the file is audio or video that must be checked to the end.
    pub fn is_media(&self) -> bool {
        matches!(
            self,
            Role::Video | Role::MixedAudio | Role::ParticipantAudio { .. }
        )
    }

    /// Whether cleanup may remove the file once the recording is delivered:
    /// everything Zoom (or the operating system) writes, and recpipe's own
    /// marks file; never a file recpipe does not know.
    pub fn cleanup_may_remove(&self) -> bool {
        !matches!(self, Role::Unknown)
    }

    pub fn describe(&self) -> String {
        match self {
            Role::Video => "video".into(),
            Role::MixedAudio => "mixed audio".into(),
            Role::ParticipantAudio { participant } => format!("audio of {participant}"),
            Role::Chat => "chat".into(),
            Role::Captions => "captions".into(),
            Role::Playlist => "playlist".into(),
            Role::Marks => "redaction marks".into(),
            Role::Unfinished => "unfinished (Zoom is still writing or converting)".into(),
            Role::ConversionStatus => "Zoom's conversion status".into(),
            Role::ConversionError => "Zoom's conversion error log".into(),
            Role::ZoomInfo => "Zoom's version tag".into(),
            Role::Litter => "left by the operating system (removed with the recording)".into(),
            Role::Unknown => "not written by Zoom (left in place)".into(),
        }
    }
}

/// Names the operating system leaves in folders (compared in lower case).
const LITTER: &[&str] = &["desktop.ini", "thumbs.db", "ehthumbs.db", ".ds_store"];

/// Classifies a file by name; `in_participant_dir` when it lies in
/// `Audio Record/`. `marks` is the pipeline's marks file name. The
/// participant's name given here keeps every character between `audio`
/// and the trailing digits; [`super::segments`] refines it with what the
/// other files of the folder say (a name that ends in digits).
pub fn role_of(name: &str, in_participant_dir: bool, marks: &str) -> Role {
    let lower = name.to_lowercase();
    if lower.ends_with(".zoom") || lower.ends_with(".mp4.tmp") || lower.ends_with(".m4a.tmp") {
        return Role::Unfinished;
    }
    if LITTER.contains(&lower.as_str()) {
        return Role::Litter;
    }
    if in_participant_dir {
        if let Some(stem) = participant_stem(name) {
            let digits = stem
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let chars: Vec<char> = stem.chars().collect();
            let participant: String = chars[..chars.len() - digits].iter().collect();
            return Role::ParticipantAudio {
                participant: named(participant),
            };
        }
        return Role::Unknown;
    }
    if name == marks {
        return Role::Marks;
    }
    if let Some(stem) = strip(&lower, "video", ".mp4")
        && all_digits(stem)
    {
        return Role::Video;
    }
    if let Some(stem) = strip(&lower, "zoom_", ".mp4")
        && all_digits(stem)
    {
        return Role::Video;
    }
    if let Some(stem) = strip(&lower, "audio", ".m4a")
        && all_digits(stem)
    {
        return Role::MixedAudio;
    }
    if lower == "audio_only.m4a" || strip(&lower, "audio_only_", ".m4a").is_some_and(all_digits) {
        return Role::MixedAudio;
    }
    if let Some(stem) = strip(&lower, "playback", ".m3u")
        && (stem.is_empty() || all_digits(stem))
    {
        return Role::Playlist;
    }
    if lower.ends_with(".vtt") {
        return Role::Captions;
    }
    match lower.as_str() {
        "chat.txt" | "meeting_saved_chat.txt" | "meeting_saved_new_chat.txt" => Role::Chat,
        "meeting_saved_closed_caption.txt" | "closed_caption.txt" => Role::Captions,
        "recording.conf" => Role::ConversionStatus,
        "xcode_error.log" => Role::ConversionError,
        "zoomver.tag" => Role::ZoomInfo,
        _ => Role::Unknown,
    }
}

/// The part of a participant file's name between `audio` and `.m4a`, as
/// written (case kept), when it has that form.
pub(super) fn participant_stem(name: &str) -> Option<&str> {
    let lower = name.to_lowercase();
    strip(&lower, "audio", ".m4a")?;
    // "audio" and ".m4a" are ASCII, so the byte positions carry over.
    name.get(5..name.len() - 4)
}

/// A participant's name, or a stand-in when the file name holds none.
pub(super) fn named(participant: String) -> String {
    if participant.is_empty() {
        "an unnamed participant".to_string()
    } else {
        participant
    }
}

/// What kind of file a name suggests, for reporting files recpipe does not
/// know without their names: by extension, in a few plain classes.
pub fn kind_of_unknown(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" | "doc" | "docx" | "odt" | "rtf" | "pages" => "document",
        "txt" | "md" | "csv" => "text file",
        "xls" | "xlsx" | "ods" => "spreadsheet",
        "jpg" | "jpeg" | "png" | "heic" | "gif" | "tif" | "tiff" | "bmp" => "image",
        "mp4" | "m4a" | "mov" | "mp3" | "wav" | "mkv" | "avi" | "webm" | "aac" => {
            "audio or video file"
        }
        "zip" | "7z" | "rar" | "gz" => "archive",
        _ => "file",
    }
}

/// Whether the file at `rel` (not the marks file itself) stops the
/// recording as a marks file recpipe would not read: its name is the marks
/// file's in a sub-folder, or [`looks_like_marks`].
pub fn misplaced_marks(rel: &std::path::Path, marks: &str) -> bool {
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !marks.is_empty() && (name == marks || looks_like_marks(name, marks))
}

/// Whether `name` looks like the marks file `marks` without being it: the
/// same name in another case, with a doubled or other text extension
/// (Explorer hides extensions, so `recpipe-marks.txt.txt` is common),
/// with spaces around it, a copy's suffix (` (1)`, ` - Copy`, ` - Kopi`)
/// or an editor's backup suffix (`~`, `.bak`, `.swp`), other separators,
/// or one or two letters off (`recpipe-mark.txt`).
/// Such a file may hold marks recpipe would otherwise never read.
pub fn looks_like_marks(name: &str, marks: &str) -> bool {
    if name == marks || marks.is_empty() {
        return false;
    }
    let (a, b) = (marks_key(name), marks_key(marks));
    !b.is_empty() && (a == b || (b.len() >= 6 && within_two_edits(&a, &b)))
}

/// The extensions of the documents a person writes notes in.
const TEXT_EXTENSIONS: [&str; 7] = [".txt", ".text", ".md", ".rtf", ".docx", ".doc", ".odt"];

/// What editors add to a copy they keep of a document: a backup
/// (`notes.txt~`, `notes.txt.bak`) or Vim's swap file while it is open
/// (`.notes.txt.swp`).
const BACKUP_SUFFIXES: [&str; 5] = ["~", ".bak", ".old", ".orig", ".swp"];

/// Whether the file at `rel` is a document a person writes in (by its
/// extension, also behind an editor's backup suffix), so that it may hold
/// passages to remove: one recpipe does not know stops the recording.
pub fn is_text_document(rel: &std::path::Path) -> bool {
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let mut s = name.trim().to_lowercase();
    while let Some(stem) = BACKUP_SUFFIXES.iter().find_map(|b| s.strip_suffix(b)) {
        s = stem.to_string();
    }
    TEXT_EXTENSIONS.iter().any(|ext| s.ends_with(ext))
}

/// A name reduced to what makes it the marks file's: lower case, no
/// surrounding spaces, no text extensions, no copy or backup suffix,
/// letters and digits only.
fn marks_key(name: &str) -> String {
    let mut s = name.trim().to_lowercase();
    loop {
        let before = s.len();
        for suffix in TEXT_EXTENSIONS.iter().chain(&BACKUP_SUFFIXES) {
            if let Some(stem) = s.strip_suffix(suffix) {
                s = stem.trim_end().to_string();
            }
        }
        for copy in [" - copy", " - kopi", " - kopia", " copy"] {
            if let Some(stem) = s.strip_suffix(copy) {
                s = stem.trim_end().to_string();
            }
        }
        if s.ends_with(')')
            && let Some(open) = s.rfind(" (")
            && s[open + 2..s.len() - 1].bytes().all(|b| b.is_ascii_digit())
        {
            s.truncate(open);
        }
        if s.len() == before {
            break;
        }
    }
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Whether `a` becomes `b` with at most two insertions, deletions or
/// substitutions (Levenshtein distance ≤ 2).
fn within_two_edits(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()] <= 2
}

fn strip<'a>(s: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    s.strip_prefix(prefix)?.strip_suffix(suffix)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_a_person_gives_the_marks_file_are_known_and_others_are_not() {
        let m = "recpipe-marks.txt";
        for name in [
            "Recpipe-marks.txt",
            "RECPIPE-MARKS.TXT",
            "recpipe-marks.txt.txt",
            "recpipe-marks.txt ",
            " recpipe-marks.txt",
            "recpipe-marks",
            "recpipe marks.txt",
            "recpipe_marks.txt",
            "recpipe-mark.txt",
            "recpipe-marks (1).txt",
            "recpipe-marks - Kopi.txt",
            "recpipe-marks.docx",
            "recpipe-marks.txt~",
            "recpipe-marks.txt.bak",
            "recpipe-marks.bak",
            ".recpipe-marks.txt.swp",
        ] {
            assert!(super::looks_like_marks(name, m), "{name}");
        }
        for name in [
            m,
            "chat.txt",
            "notes.txt",
            "Consent form - signed.pdf",
            "marks",
        ] {
            assert!(!super::looks_like_marks(name, m), "{name}");
        }
    }

    #[test]
    fn documents_a_person_writes_notes_in_are_text_whatever_the_backup_suffix() {
        use std::path::Path;
        for name in [
            "notes.txt",
            "Merknader.DOCX",
            "Kari/notater.md",
            "kutt.rtf",
            "notes.odt",
            "notes.txt~",
            "notes.txt.bak",
            ".notes.txt.swp",
        ] {
            assert!(super::is_text_document(Path::new(name)), "{name}");
        }
        for name in [
            "Consent form - signed.pdf",
            "photo.jpg",
            "backup.m4a",
            "notes",
            "~",
            "notes.bak",
        ] {
            assert!(!super::is_text_document(Path::new(name)), "{name}");
        }
    }

    use super::*;

    fn role(name: &str) -> Role {
        role_of(name, false, "recpipe-marks.txt")
    }

    #[test]
    fn newer_client_names() {
        assert_eq!(role("video1234567890.mp4"), Role::Video);
        assert_eq!(role("video21234567890.mp4"), Role::Video);
        assert_eq!(role("audio1234567890.m4a"), Role::MixedAudio);
        assert_eq!(role("playback1234567890.m3u"), Role::Playlist);
        assert_eq!(role("chat.txt"), Role::Chat);
        assert_eq!(role("double_click_to_convert_01.zoom"), Role::Unfinished);
        assert_eq!(role("video1234567890.mp4.tmp"), Role::Unfinished);
    }

    #[test]
    fn older_client_names() {
        assert_eq!(role("zoom_0.mp4"), Role::Video);
        assert_eq!(role("zoom_1.mp4"), Role::Video);
        assert_eq!(role("audio_only.m4a"), Role::MixedAudio);
        assert_eq!(role("audio_only_1.m4a"), Role::MixedAudio);
        assert_eq!(role("playback.m3u"), Role::Playlist);
        assert_eq!(role("meeting_saved_chat.txt"), Role::Chat);
        assert_eq!(role("meeting_saved_closed_caption.txt"), Role::Captions);
    }

    #[test]
    fn participants_keep_their_names_in_any_script() {
        let p = |n: &str| role_of(n, true, "recpipe-marks.txt");
        assert_eq!(
            p("audioKariNordmann11234567890.m4a"),
            Role::ParticipantAudio {
                participant: "KariNordmann".into()
            }
        );
        assert_eq!(
            p("audioSøren Ølstad21234567890.m4a"),
            Role::ParticipantAudio {
                participant: "Søren Ølstad".into()
            }
        );
        assert_eq!(
            p("audio山田太郎31234567890.m4a"),
            Role::ParticipantAudio {
                participant: "山田太郎".into()
            }
        );
        assert_eq!(p("notes.txt"), Role::Unknown);
    }

    #[test]
    fn other_files() {
        assert_eq!(role("recpipe-marks.txt"), Role::Marks);
        assert_eq!(role("recording.conf"), Role::ConversionStatus);
        assert_eq!(role("xcode_error.log"), Role::ConversionError);
        assert_eq!(role("zoomver.tag"), Role::ZoomInfo);
        assert_eq!(role("videoclip.mp4"), Role::Unknown);
        assert_eq!(role("Samtykke Kari.pdf"), Role::Unknown);
        assert_eq!(role("notes.docx"), Role::Unknown);
    }

    #[test]
    fn names_of_newer_versions() {
        assert_eq!(role("meeting_saved_new_chat.txt"), Role::Chat);
        assert_eq!(role("meeting_saved_closed_caption.txt"), Role::Captions);
        assert_eq!(role("GMT20240305-143000_Recording.cc.vtt"), Role::Captions);
        assert_eq!(role("transcript.vtt"), Role::Captions);
        assert_eq!(role("double_click_to_convert_02.zoom"), Role::Unfinished);
        assert_eq!(role("audio2461873050.m4a.tmp"), Role::Unfinished);
    }

    #[test]
    fn litter_is_removable_and_unknown_is_not() {
        for n in ["desktop.ini", "Thumbs.db", ".DS_Store", "ehthumbs.db"] {
            assert_eq!(role(n), Role::Litter, "{n}");
            assert!(role(n).cleanup_may_remove());
        }
        assert!(!Role::Unknown.cleanup_may_remove());
        assert!(role("chat.txt").cleanup_may_remove());
        assert_eq!(kind_of_unknown("Samtykke.PDF"), "document");
        assert_eq!(kind_of_unknown("noname"), "file");
    }
}
