//! What each file in a Zoom recording folder is, from its name and place.
//! Newer clients: `video<digits>.mp4`, `audio<digits>.m4a`,
//! `playback<digits>.m3u`, `chat.txt`, `Audio Record/audio<Name><digits>.m4a`.
//! Older clients: `zoom_0.mp4`, `audio_only.m4a`, `playback.m3u`,
//! `meeting_saved_chat.txt`, `meeting_saved_closed_caption.txt`.

use serde::Serialize;

/// The sub-folder where Zoom puts one audio file per participant.
pub const PARTICIPANT_DIR: &str = "Audio Record";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    Other,
}

impl Role {
    /// Whether the file is audio or video that must be checked to the end.
    pub fn is_media(&self) -> bool {
        matches!(
            self,
            Role::Video | Role::MixedAudio | Role::ParticipantAudio { .. }
        )
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
            Role::Other => "other".into(),
        }
    }
}

/// Classifies a file by name; `in_participant_dir` when it lies in
/// `Audio Record/`. `marks` is the pipeline's marks file name.
pub fn role_of(name: &str, in_participant_dir: bool, marks: &str) -> Role {
    let lower = name.to_lowercase();
    if lower.ends_with(".zoom") || lower.ends_with(".mp4.tmp") || lower.ends_with(".m4a.tmp") {
        return Role::Unfinished;
    }
    if in_participant_dir {
        if let Some(stem) = strip(&lower, "audio", ".m4a") {
            // The name as written (case kept): between "audio" and the
            // trailing digits (participant index and a number).
            let original = &name[5..name.len() - 4];
            let digits = stem
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let participant: String = {
                let chars: Vec<char> = original.chars().collect();
                chars[..chars.len() - digits].iter().collect()
            };
            let participant = if participant.is_empty() {
                "an unnamed participant".to_string()
            } else {
                participant
            };
            return Role::ParticipantAudio { participant };
        }
        return Role::Other;
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
    match lower.as_str() {
        "chat.txt" | "meeting_saved_chat.txt" => Role::Chat,
        "meeting_saved_closed_caption.txt" | "closed_caption.txt" => Role::Captions,
        "recording.conf" => Role::ConversionStatus,
        "xcode_error.log" => Role::ConversionError,
        _ => Role::Other,
    }
}

fn strip<'a>(s: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    s.strip_prefix(prefix)?.strip_suffix(suffix)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
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
        assert_eq!(p("notes.txt"), Role::Other);
    }

    #[test]
    fn other_files() {
        assert_eq!(role("recpipe-marks.txt"), Role::Marks);
        assert_eq!(role("recording.conf"), Role::ConversionStatus);
        assert_eq!(role("xcode_error.log"), Role::ConversionError);
        assert_eq!(role("desktop.ini"), Role::Other);
        assert_eq!(role("videoclip.mp4"), Role::Other);
    }
}
