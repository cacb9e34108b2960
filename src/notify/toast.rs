//! The XML of a Windows toast notification for a [`Notice`]: the title,
//! the reason and the action as three lines of the generic template, and,
//! when the notice opens a folder, protocol activation of its `file:` URI
//! (clicking opens it in Explorer).
//!
//! Invariant: every text is XML-escaped and the URI percent-encoded, so
//! nothing in a path or sentence can change the document's shape. Built on
//! every platform so that it is unit-tested everywhere.

use super::Notice;
use std::path::Path;

/// The toast document for `notice`.
pub fn xml(notice: &Notice) -> String {
    let launch = match &notice.open {
        Some(dir) => format!(
            " launch=\"{}\" activationType=\"protocol\"",
            escape(&file_uri(dir))
        ),
        None => String::new(),
    };
    format!(
        "<toast{launch}><visual><binding template=\"ToastGeneric\"><text>{}</text><text>{}</text><text>{}</text></binding></visual></toast>",
        escape(&notice.title),
        escape(&notice.reason),
        escape(&notice.action)
    )
}

/// `text` with XML's five special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A `file:` URI for an absolute path (`C:\Zoom` → `file:///C:/Zoom`), with
/// every byte but unreserved ones, `/` and a drive's `:` percent-encoded.
fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Need, notice};

    #[test]
    fn a_toast_has_three_lines_and_opens_the_interim_folder() {
        let n = notice(
            Need::Marks,
            "20261120-140311",
            None,
            Path::new(r"C:\Users\Åse\Documents\Zoom & co"),
        );
        assert_eq!(
            xml(&n),
            "<toast launch=\"file:///C:/Users/%C3%85se/Documents/Zoom%20%26%20co\" activationType=\"protocol\"><visual><binding template=\"ToastGeneric\">\
             <text>recpipe: the recording of 20 Nov 2026 14:03 needs you</text>\
             <text>Nothing of it was processed.</text>\
             <text>Open the recording&apos;s folder: the marks file has a line that cannot be placed</text>\
             </binding></visual></toast>"
        );
    }

    #[test]
    fn a_login_toast_opens_nothing_and_escapes_its_text() {
        let mut n = notice(Need::Login, "20261120-140311", None, Path::new("/z"));
        assert_eq!(n.open, None);
        n.title = "<a & \"b\">".into();
        let x = xml(&n);
        assert!(x.starts_with("<toast><visual>"), "{x}");
        assert!(
            x.contains("<text>&lt;a &amp; &quot;b&quot;&gt;</text>"),
            "{x}"
        );
        assert!(
            x.contains("<text>Open recpipe watch and log in to TSD</text>"),
            "{x}"
        );
    }
}
