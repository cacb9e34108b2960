//! Names that leave the PC or reach a log: remote file names made from the
//! recording id and the output's kind (never the meeting topic or a
//! participant's name), and messages with every name in them replaced.
//!
//! Invariant: nothing built here contains the recording folder's name or
//! the name of any file in it; the sealed audit manifest is the one place
//! that maps remote names back to the files they came from.

use crate::config::TrackKind;
use crate::discover::{self, PARTICIPANT_DIR, Role};
use std::fmt;
use std::path::Path;

/// The name at the destination of one output: `<start>_<id>_<label>.<ext>`,
/// e.g. `20261120-140311_3fa9c2d1e0b4a7c6_participant-2.wav`. `sealed`
/// adds `.sealed`.
pub fn remote_name(stamp: &str, id: &str, label: &str, ext: &str, sealed: bool) -> String {
    let mut name = format!("{stamp}_{id}_{label}");
    if !ext.is_empty() {
        name.push('.');
        name.push_str(ext);
    }
    if sealed {
        name.push('.');
        name.push_str(crate::seal::SEALED_EXTENSION);
    }
    name
}

/// The label of the `n`-th (1-based) output of a kind.
pub fn label(kind: Option<TrackKind>, n: usize) -> String {
    let base = match kind {
        Some(TrackKind::Video) => "video",
        Some(TrackKind::MixedAudio) => "mixed-audio",
        Some(TrackKind::ParticipantAudio) => "participant",
        Some(TrackKind::Chat) => "chat",
        Some(TrackKind::Captions) => "captions",
        None => "file",
    };
    format!("{base}-{n}")
}

/// Replaces the recording folder's path and every given file name in
/// `text`, so an error message can go to a log or the journal.
pub fn scrub(text: &str, dir: &Path, files: &[&Path]) -> String {
    let mut out = text.to_string();
    if !dir.as_os_str().is_empty() {
        out = out.replace(&dir.display().to_string(), "<recording>");
    }
    if let Some(name) = dir.file_name().filter(|n| !n.is_empty()) {
        out = out.replace(&name.to_string_lossy().to_string(), "<recording>");
    }
    // Longest first, so a name that contains another is replaced whole.
    let mut names: Vec<(String, usize)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            f.file_name()
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string_lossy().into_owned(), i + 1))
        })
        .collect();
    names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    for (name, i) in names {
        out = out.replace(&name, &format!("<file {i}>"));
    }
    out
}

/// `YYYYMMDD-HHMMSS` of a recording folder's start, or `unknown-start`.
pub fn stamp_of(dir: &Path) -> String {
    dir.file_name()
        .and_then(|n| n.to_str())
        .and_then(discover::FolderName::parse)
        .map(|n| {
            let t = n.start;
            format!(
                "{:04}{:02}{:02}-{:02}{:02}{:02}",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_else(|| "unknown-start".into())
}

/// A recording's file in words a person can find it by (its role, as
/// admission decided it, and its folder), never by its name: `rel` is
/// relative to the recording folder.
pub fn file_ref(rel: &Path, role: &Role) -> FileRef {
    let parent = rel.parent().filter(|p| !p.as_os_str().is_empty());
    let in_participant_dir = parent.is_some_and(|p| p == Path::new(PARTICIPANT_DIR));
    let what = match role {
        Role::Video => "the video",
        Role::MixedAudio => "the mixed audio",
        Role::ParticipantAudio { .. } => "a participant's audio",
        Role::Chat => "the chat",
        Role::Captions => "the captions",
        Role::Playlist => "the playlist",
        Role::Marks => "the marks file",
        Role::Unfinished => "a file Zoom had not finished",
        Role::ConversionStatus => "Zoom's recording.conf",
        Role::ConversionError => "Zoom's conversion error log",
        Role::Unknown => "a file recpipe does not know",
        Role::Litter => "a file the computer left (such as desktop.ini)",
        Role::ZoomInfo => "Zoom's version file",
    };
    let folder = match parent {
        None => "the recording folder".to_string(),
        Some(p) if in_participant_dir => format!("its {} folder", p.display()),
        Some(_) => "a sub-folder of the recording".to_string(),
    };
    FileRef {
        what: what.into(),
        folder,
    }
}

/// A file of a recording, in words a person can find it by: its role and
/// the folder it lies in, never its name.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRef {
    /// E.g. "the mixed audio", "a participant's audio", "the marks file".
    pub what: String,
    /// "the recording folder" or "its Audio Record folder".
    pub folder: String,
}

impl fmt::Display for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.what, self.folder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_names_to_take_out_leaves_the_text_as_it_is() {
        assert_eq!(
            scrub("journal x: cannot be read", Path::new(""), &[]),
            "journal x: cannot be read"
        );
    }

    #[test]
    fn files_are_named_by_role_and_folder_only() {
        let r = file_ref(
            Path::new("Audio Record/audioKariNordmann11.m4a"),
            &Role::ParticipantAudio {
                participant: "KariNordmann".into(),
            },
        );
        assert_eq!(
            r.to_string(),
            "a participant's audio in its Audio Record folder"
        );
        let r = file_ref(Path::new("audio84213977051.m4a"), &Role::MixedAudio);
        assert_eq!(r.to_string(), "the mixed audio in the recording folder");
        let r = file_ref(Path::new("marks.txt"), &Role::Marks);
        assert_eq!(r.what, "the marks file");
        let r = file_ref(Path::new("Kari/notes.txt"), &Role::Unknown);
        assert_eq!(
            r.to_string(),
            "a file recpipe does not know in a sub-folder of the recording"
        );
    }

    #[test]
    fn remote_names_carry_no_names() {
        assert_eq!(
            remote_name(
                "20261120-140311",
                "3fa9c2d1e0b4a7c6",
                &label(Some(TrackKind::ParticipantAudio), 2),
                "wav",
                true
            ),
            "20261120-140311_3fa9c2d1e0b4a7c6_participant-2.wav.sealed"
        );
    }

    #[test]
    fn scrub_replaces_the_folder_and_file_names() {
        let dir = Path::new("/z/2026-11-20 14.03.11 Interview with Kari");
        let files = [Path::new("Audio Record/audioKari Nordmann11.m4a")];
        let text = "/z/2026-11-20 14.03.11 Interview with Kari/Audio Record/audioKari Nordmann11.m4a: it is empty";
        let s = scrub(text, dir, &files);
        assert_eq!(s, "<recording>/Audio Record/<file 1>: it is empty");
        assert!(!s.contains("Kari"));
    }
}
