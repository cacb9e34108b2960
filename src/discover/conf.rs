//! Zoom's `recording.conf`: a JSON status file that Zoom keeps in a
//! recording folder while it converts the meeting into MP4/M4A files.
//! Each entry of `items` carries a `process` percentage and, in some
//! client versions, the names of the files it produces.
//!
//! Invariant: this module only reads the text it is given; deciding what
//! a status means for the recording is [`super::check_recording`]'s job.
//! Anything it cannot understand counts as "still converting", never as
//! "finished": waiting is safe, processing a half-written file is not.

use serde_json::Value;

/// What `recording.conf` says about the conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversionStatus {
    /// Every item is at 100 %; `files` are the file names it mentions.
    Done { files: Vec<String> },
    /// Some item is below 100 %; the lowest percentage seen.
    Converting { percent: f64 },
    /// The file is not JSON in the expected shape (yet).
    Unreadable(String),
}

/// Suffixes of the file names Zoom mentions in `recording.conf`.
const FILE_SUFFIXES: &[&str] = &[".mp4", ".m4a", ".m3u", ".txt", ".zoom", ".vtt"];

/// Reads `recording.conf` text.
pub fn parse(text: &str) -> ConversionStatus {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return ConversionStatus::Unreadable(format!("not valid JSON ({e})")),
    };
    let Some(items) = value.get("items").and_then(Value::as_array) else {
        return ConversionStatus::Unreadable("it has no \"items\" list".into());
    };
    let mut lowest: Option<f64> = None;
    let mut files = Vec::new();
    for item in items {
        let percent = match item.get("process") {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().trim_end_matches('%').parse().ok(),
            _ => None,
        };
        let Some(percent) = percent else {
            return ConversionStatus::Unreadable("an item has no \"process\" percentage".into());
        };
        lowest = Some(lowest.map_or(percent, |l: f64| l.min(percent)));
        collect_file_names(item, &mut files);
    }
    match lowest {
        Some(p) if p < 100.0 => ConversionStatus::Converting { percent: p },
        _ => ConversionStatus::Done { files },
    }
}

/// Every string in `value` that names a file by one of Zoom's suffixes,
/// reduced to its last path component (either separator).
fn collect_file_names(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            let lower = s.to_lowercase();
            if FILE_SUFFIXES.iter().any(|suffix| lower.ends_with(suffix)) {
                let base = s.rsplit(['/', '\\']).next().unwrap_or(s);
                if !base.is_empty() {
                    out.push(base.to_string());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_file_names(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_file_names(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_items_at_100_is_done_with_their_files() {
        let text = r#"{"items":[
            {"process":100,"file":"C:\\Users\\a\\Documents\\Zoom\\x\\video1.mp4"},
            {"process":"100","audio":{"name":"audio1.m4a"}}]}"#;
        assert_eq!(
            parse(text),
            ConversionStatus::Done {
                files: vec!["video1.mp4".into(), "audio1.m4a".into()]
            }
        );
    }

    #[test]
    fn any_item_under_100_is_converting_with_the_lowest() {
        let text = r#"{"items":[{"process":100},{"process":60},{"process":"75%"}]}"#;
        assert_eq!(parse(text), ConversionStatus::Converting { percent: 60.0 });
    }

    #[test]
    fn what_cannot_be_understood_is_unreadable() {
        assert!(matches!(
            parse("{\"items\":[{"),
            ConversionStatus::Unreadable(_)
        ));
        assert!(matches!(parse("{}"), ConversionStatus::Unreadable(_)));
        assert!(matches!(
            parse(r#"{"items":[{"file":"video1.mp4"}]}"#),
            ConversionStatus::Unreadable(_)
        ));
    }
}
