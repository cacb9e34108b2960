//! Segments: stopping and restarting the recording within one meeting
//! gives one folder with a set of files per stretch that was recorded.
//! This module groups a folder's media files into those segments.
//!
//! How Zoom names them (sources in docs/redaction.md, "Segments"):
//! - Newer clients name files `video<n>.mp4`, `audio<n>.m4a` and
//!   `Audio Record/audio<Name><n>.m4a` with one number `<n>` per folder;
//!   a restarted recording puts a segment digit in front (`video1<n>.mp4`,
//!   `video2<n>.mp4`, `audio1<n>.m4a` …). So the part every media name
//!   shares at its end is the folder's number, and what comes before it is
//!   the segment.
//! - Older clients count from 0: `zoom_0.mp4`, `zoom_1.mp4`,
//!   `audio_only.m4a` (or `audio_only_0.m4a`), `audio_only_1.m4a`.
//! - The playlist (`playback<n>.m3u`, Windows only) lists the MP4 files in
//!   the order they play; where it names the segments, its order wins.
//!
//! A *paused* recording is not a new segment: the file goes on and the
//! burned-in clock jumps. Nothing in the file names or the files shows a
//! pause, so it cannot be detected here (see docs/redaction.md).
//!
//! Invariants: only names are read (and the playlist's text, given by the
//! caller); segments are numbered 1, 2, … in recording order; a folder
//! whose media all belong to one stretch has exactly one segment, 1; a
//! media file whose segment cannot be told in a folder of several is
//! given none, which the check reports as broken rather than guess.

use super::Entry;
use super::role::{PARTICIPANT_DIR, Role, named, participant_stem, role_of};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What grouping says about one inventory entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placed {
    /// The segment (1-based) a media file belongs to; `None` for files of
    /// the whole folder (chat, playlist …), and for a media file whose
    /// segment cannot be told.
    pub segment: Option<u32>,
    /// For participant audio: the participant's name as the folder's
    /// numbering shows it (a name ending in digits keeps them).
    pub participant: Option<String>,
}

/// The grouping of a folder: one [`Placed`] per entry, in order, and how
/// many segments there are (0 when the folder holds no media).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    pub placed: Vec<Placed>,
    pub count: u32,
}

/// A segment key: which naming scheme, and the number it carries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    /// Older clients' `zoom_N` / `audio_only_N`.
    Older(u64),
    /// Newer clients' leading digits before the folder's number ("" when
    /// there are none, sorted first).
    Newer(u64, String),
}

/// Groups `entries` into segments. `playlist` is the text of the folder's
/// playlist, when it has one.
pub fn group(entries: &[Entry], roles: &[Role], playlist: Option<&str>) -> Grouping {
    let files: Vec<File<'_>> = entries
        .iter()
        .zip(roles)
        .map(|(e, role)| File {
            rel: &e.rel,
            role: role.clone(),
        })
        .collect();
    group_files(&files, playlist)
}

/// The segment of each of a recording's files, from their paths (relative
/// to the folder) alone: what the pipeline uses after the check, with the
/// playlist's text when there is one.
pub fn of_paths(rels: &[PathBuf], marks: &str, playlist: Option<&str>) -> Vec<Option<u32>> {
    let files: Vec<File<'_>> = rels
        .iter()
        .map(|rel| {
            let in_p = rel.parent() == Some(Path::new(PARTICIPANT_DIR));
            let top = rel.parent().is_none_or(|p| p == Path::new(""));
            let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
            File {
                rel,
                role: if top || in_p {
                    role_of(name, in_p, marks)
                } else {
                    Role::Unknown
                },
            }
        })
        .collect();
    group_files(&files, playlist)
        .placed
        .into_iter()
        .map(|p| p.segment)
        .collect()
}

struct File<'a> {
    rel: &'a Path,
    role: Role,
}

fn group_files(entries: &[File<'_>], playlist: Option<&str>) -> Grouping {
    type Entry<'b> = File<'b>;
    let top = |e: &Entry| e.rel.parent().is_none_or(|p| p == Path::new(""));
    let name = |e: &Entry| {
        e.rel
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_lowercase()
    };
    // The digits of every newer-client top-level media name.
    let newer_digits: Vec<String> = entries
        .iter()
        .filter(|e| top(e) && matches!(e.role, Role::Video | Role::MixedAudio))
        .filter_map(|e| newer_number(&name(e)))
        .collect();
    let common = common_suffix(&newer_digits);

    let key_of_top = |e: &Entry| -> Option<Key> {
        let n = name(e);
        if let Some(d) = newer_number(&n) {
            let prefix = &d[..d.len() - common.len()];
            return Some(newer_key(prefix));
        }
        older_index(&n).map(Key::Older)
    };
    let mut keys: Vec<Option<Key>> = Vec::with_capacity(entries.len());
    let mut participants: Vec<Option<String>> = vec![None; entries.len()];
    let newer_prefixes: Vec<String> = newer_digits
        .iter()
        .map(|d| d[..d.len() - common.len()].to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let participant_tails: Vec<String> = entries
        .iter()
        .filter(|e| matches!(e.role, Role::ParticipantAudio { .. }))
        .filter_map(|e| e.rel.file_name()?.to_str().and_then(participant_stem))
        .map(|s| trailing_digits(s).to_string())
        .collect();
    for (i, e) in entries.iter().enumerate() {
        let key = match &e.role {
            Role::Video | Role::MixedAudio if top(e) => key_of_top(e),
            Role::ParticipantAudio { .. } => {
                let stem = e
                    .rel
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(participant_stem)
                    .unwrap_or_default();
                let (who, key) = participant(stem, &common, &newer_prefixes, &participant_tails);
                participants[i] = Some(named(who));
                key
            }
            _ => None,
        };
        keys.push(key);
    }

    // Order: the playlist's, then the keys' own.
    let mut order: BTreeMap<Key, (usize, usize)> = BTreeMap::new();
    let listed: Vec<String> = playlist
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.rsplit(['/', '\\']).next().unwrap_or(l).to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    for (e, key) in entries.iter().zip(&keys) {
        let Some(key) = key else { continue };
        let rank = if top(e) {
            listed
                .iter()
                .position(|l| *l == name(e))
                .unwrap_or(usize::MAX)
        } else {
            usize::MAX
        };
        let slot = order.entry(key.clone()).or_insert((usize::MAX, 0));
        slot.0 = slot.0.min(rank);
    }
    let mut ranked: Vec<(Key, usize)> = order.into_iter().map(|(k, (r, _))| (k, r)).collect();
    ranked.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let number: BTreeMap<Key, u32> = ranked
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.clone(), i as u32 + 1))
        .collect();
    let count = number.len() as u32;
    let media_without_key = entries
        .iter()
        .zip(&keys)
        .any(|(e, k)| e.role.is_media() && k.is_none());
    let count = if count == 0 && media_without_key {
        1
    } else {
        count
    };

    let placed = entries
        .iter()
        .zip(keys)
        .zip(participants)
        .map(|((e, key), participant)| {
            let segment = match key {
                _ if !e.role.is_media() => None,
                Some(k) if count > 1 => number.get(&k).copied(),
                None if count > 1 => None,
                _ => Some(1),
            };
            Placed {
                segment,
                participant,
            }
        })
        .collect();
    Grouping { placed, count }
}

/// The digits of a newer client's `video<d>.mp4` / `audio<d>.m4a`.
fn newer_number(lower: &str) -> Option<String> {
    let stem = lower
        .strip_prefix("video")
        .and_then(|s| s.strip_suffix(".mp4"))
        .or_else(|| {
            lower
                .strip_prefix("audio")
                .and_then(|s| s.strip_suffix(".m4a"))
        })?;
    (!stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit())).then(|| stem.to_string())
}

/// The index of an older client's `zoom_N.mp4` / `audio_only[_N].m4a`.
fn older_index(lower: &str) -> Option<u64> {
    if lower == "audio_only.m4a" {
        return Some(0);
    }
    let n = lower
        .strip_prefix("zoom_")
        .and_then(|s| s.strip_suffix(".mp4"))
        .or_else(|| {
            lower
                .strip_prefix("audio_only_")
                .and_then(|s| s.strip_suffix(".m4a"))
        })?;
    n.parse().ok()
}

fn newer_key(prefix: &str) -> Key {
    Key::Newer(prefix.parse().unwrap_or(0), prefix.to_string())
}

/// A participant's name and segment key, from the part of the file name
/// after `audio`: it ends with `[segment digits]<folder number>`.
fn participant(
    stem: &str,
    common: &str,
    prefixes: &[String],
    tails: &[String],
) -> (String, Option<Key>) {
    if !common.is_empty() && stem.len() > common.len() && stem.ends_with(common) {
        let rest = &stem[..stem.len() - common.len()];
        let segment = prefixes
            .iter()
            .filter(|p| rest.len() > p.len() && rest.ends_with(p.as_str()))
            .max_by_key(|p| p.len());
        return match segment {
            Some(p) => (rest[..rest.len() - p.len()].to_string(), Some(newer_key(p))),
            None => (rest.to_string(), Some(newer_key(""))),
        };
    }
    // No top-level media to learn the folder's number from: the number the
    // participant files share, or (one file) every trailing digit.
    let shared = if tails.len() > 1 {
        common_suffix(tails)
    } else {
        trailing_digits(stem).to_string()
    };
    let cut = if stem.ends_with(&shared) {
        shared.len()
    } else {
        trailing_digits(stem).len()
    };
    (stem[..stem.len() - cut].to_string(), None)
}

fn trailing_digits(s: &str) -> &str {
    let n = s.bytes().rev().take_while(u8::is_ascii_digit).count();
    &s[s.len() - n..]
}

/// The longest common suffix of `items` (the whole string when there is
/// one distinct item).
fn common_suffix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut len = first.len();
    for s in &items[1..] {
        let shared = first
            .bytes()
            .rev()
            .zip(s.bytes().rev())
            .take_while(|(a, b)| a == b)
            .count();
        len = len.min(shared);
    }
    first[first.len() - len..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::role::role_of;
    use crate::fsutil::FileId;
    use std::path::PathBuf;

    fn entries(names: &[&str]) -> Vec<(Entry, Role)> {
        names
            .iter()
            .map(|n| {
                let rel = PathBuf::from(n);
                let in_p = rel.parent() == Some(Path::new("Audio Record"));
                let role = role_of(
                    rel.file_name().unwrap().to_str().unwrap(),
                    in_p,
                    "recpipe-marks.txt",
                );
                (
                    Entry {
                        rel,
                        kind: crate::discover::FileKind::File,
                        id: FileId {
                            size: 0,
                            mtime_ns: 0,
                            identity: (0, 0),
                        },
                    },
                    role,
                )
            })
            .collect()
    }

    fn grouped(names: &[&str], playlist: Option<&str>) -> Grouping {
        let (e, r): (Vec<Entry>, Vec<Role>) = entries(names).into_iter().unzip();
        group(&e, &r, playlist)
    }

    fn segs(names: &[&str], playlist: Option<&str>) -> (Vec<Option<u32>>, u32) {
        let (e, r): (Vec<Entry>, Vec<Role>) = entries(names).into_iter().unzip();
        let g = group(&e, &r, playlist);
        (g.placed.iter().map(|p| p.segment).collect(), g.count)
    }

    #[test]
    fn one_segment_newer() {
        let (s, n) = segs(
            &[
                "video2461873050.mp4",
                "audio2461873050.m4a",
                "chat.txt",
                "playback2461873050.m3u",
            ],
            None,
        );
        assert_eq!(n, 1);
        assert_eq!(s, vec![Some(1), Some(1), None, None]);
    }

    #[test]
    fn two_segments_newer_by_the_leading_digit() {
        let (s, n) = segs(
            &[
                "audio14213977051.m4a",
                "audio24213977051.m4a",
                "video14213977051.mp4",
                "video24213977051.mp4",
                "Audio Record/audioKariNordmann14213977051.m4a",
                "Audio Record/audioP324213977051.m4a",
            ],
            None,
        );
        assert_eq!(n, 2);
        assert_eq!(
            s,
            vec![Some(1), Some(2), Some(1), Some(2), Some(1), Some(2)]
        );
        let g = grouped(
            &[
                "video14213977051.mp4",
                "video24213977051.mp4",
                "Audio Record/audioP324213977051.m4a",
            ],
            None,
        );
        assert_eq!(g.placed[2].participant.as_deref(), Some("P3"));
    }

    #[test]
    fn a_name_ending_in_digits_keeps_them() {
        let g = grouped(
            &[
                "video2461873050.mp4",
                "Audio Record/audioP32461873050.m4a",
                "Audio Record/audioKariNordmann2461873050.m4a",
            ],
            None,
        );
        assert_eq!(g.placed[1].participant.as_deref(), Some("P3"));
        assert_eq!(g.placed[2].participant.as_deref(), Some("KariNordmann"));
        assert_eq!(g.placed[1].segment, Some(1));
    }

    #[test]
    fn older_names_count_from_zero() {
        let (s, n) = segs(
            &[
                "audio_only.m4a",
                "audio_only_1.m4a",
                "zoom_0.mp4",
                "zoom_1.mp4",
            ],
            None,
        );
        assert_eq!(n, 2);
        assert_eq!(s, vec![Some(1), Some(2), Some(1), Some(2)]);
    }

    #[test]
    fn the_playlist_order_wins() {
        let (s, n) = segs(
            &["zoom_0.mp4", "zoom_1.mp4"],
            Some("#EXTM3U\nC:\\Users\\a\\zoom_1.mp4\nzoom_0.mp4\n"),
        );
        assert_eq!(n, 2);
        assert_eq!(s, vec![Some(2), Some(1)]);
    }

    #[test]
    fn participant_files_alone_keep_the_old_rule() {
        let (e, r): (Vec<Entry>, Vec<Role>) = entries(&["Audio Record/audioKari84213977051.m4a"])
            .into_iter()
            .unzip();
        let g = group(&e, &r, None);
        assert_eq!(g.count, 1);
        assert_eq!(g.placed[0].segment, Some(1));
        assert_eq!(g.placed[0].participant.as_deref(), Some("Kari"));
    }
}
