//! Zoom's recording folder names: `YYYY-MM-DD HH.MM.SS <topic>[ <meeting id>]`
//! in local time. Newer clients leave the meeting id out; topics may hold
//! any script, with `/` and `:` replaced by `_`.

use jiff::civil::DateTime;
use serde::Serialize;

/// What a recording folder's name says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderName {
    /// Start of the recording, local time, as Zoom named the folder.
    #[serde(serialize_with = "serialize_local")]
    pub start: DateTime,
    pub topic: String,
    pub meeting_id: Option<String>,
}

pub(super) fn serialize_local<S: serde::Serializer>(t: &DateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.strftime("%Y-%m-%dT%H:%M:%S").to_string())
}

impl FolderName {
    /// Parses a folder name; `None` when it is not in Zoom's form.
    pub fn parse(name: &str) -> Option<FolderName> {
        let stamp = name.get(..19)?;
        let b = stamp.as_bytes();
        let sep_ok =
            b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b'.' && b[16] == b'.';
        if !sep_ok {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = stamp.get(r)?;
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let start = DateTime::new(
            i16::try_from(num(0..4)?).ok()?,
            i8::try_from(num(5..7)?).ok()?,
            i8::try_from(num(8..10)?).ok()?,
            i8::try_from(num(11..13)?).ok()?,
            i8::try_from(num(14..16)?).ok()?,
            i8::try_from(num(17..19)?).ok()?,
            0,
        )
        .ok()?;
        let rest = &name[19..];
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        let (topic, meeting_id) = match rest.rsplit_once(' ') {
            Some((topic, id))
                if (9..=11).contains(&id.len()) && id.bytes().all(|c| c.is_ascii_digit()) =>
            {
                (topic.to_string(), Some(id.to_string()))
            }
            _ => (rest.to_string(), None),
        };
        Some(FolderName {
            start,
            topic,
            meeting_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_client_without_meeting_id() {
        let n = FolderName::parse("2024-03-05 14.30.00 Intervju med deltaker").unwrap();
        assert_eq!(n.start, jiff::civil::date(2024, 3, 5).at(14, 30, 0, 0));
        assert_eq!(n.topic, "Intervju med deltaker");
        assert_eq!(n.meeting_id, None);
    }

    #[test]
    fn older_client_with_meeting_id() {
        let n = FolderName::parse("2021-11-30 09.05.59 Anne's Zoom Meeting 85012345678").unwrap();
        assert_eq!(n.topic, "Anne's Zoom Meeting");
        assert_eq!(n.meeting_id.as_deref(), Some("85012345678"));
    }

    #[test]
    fn topics_in_any_script_with_replaced_separators() {
        let n = FolderName::parse("2025-01-02 08.00.01 Møte_ Ærlig 面接 _ del 2").unwrap();
        assert_eq!(n.topic, "Møte_ Ærlig 面接 _ del 2");
    }

    #[test]
    fn not_zoom_names() {
        for bad in [
            "",
            "Documents",
            "2024-13-05 14.30.00 x",
            "2024-03-05 25.30.00 x",
            "2024-03-05 14:30:00 x",
            "2024-03-05",
            "ÆØÅÆØÅÆØÅÆØÅÆØÅÆØÅ",
        ] {
            assert_eq!(FolderName::parse(bad), None, "{bad}");
        }
    }
}
