//! Why the check found a recording not complete, typed: what it found
//! ([`Why`]), which file ([`Reason::file`], relative to the recording
//! folder) and, where it applies, for how long (a [`Duration`]).
//!
//! Invariants: a reason's words come only from its [`fmt::Display`], and
//! they are the same whatever its durations: [`Reason::without_times`]
//! gives the reason with its durations left out, so two looks at one wait
//! compare equal while the time they count grows.

use super::Verdict;
use crate::duration::HumanDuration;
use crate::fsutil::FileKind;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use super::media_check::Problem as MediaProblem;

/// One rule that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// The verdict this reason alone leads to.
    pub verdict: Verdict,
    /// The file it concerns, relative to the recording folder.
    pub file: Option<PathBuf>,
    pub why: Why,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// A `.zoom` or `.tmp` file: Zoom is still converting or writing.
    StillConverting,
    /// A `.zoom` or `.tmp` file, and nothing in the folder changed for
    /// `quiet`: the conversion has stalled.
    ConversionStalled {
        quiet: Duration,
    },
    /// What `recording.conf` says: wait.
    Conversion(Conversion),
    /// What `recording.conf` says, and nothing in the folder changed for
    /// `quiet`: the conversion has stalled.
    ConversionStatusStalled {
        status: Conversion,
        quiet: Duration,
    },
    /// Zoom's `xcode_error.log`.
    ConversionError,
    Symlink,
    /// A folder deeper than Zoom writes.
    NestedFolder,
    /// Something else that is not a regular file.
    NotAFile(FileKind),
    /// A file that looks like the marks file `marks` without being it.
    MisplacedMarks {
        marks: String,
    },
    /// A folder where the marks file is read.
    MarksFolder,
    /// A marks file (or one that looks like it) in the folder above the
    /// recording's, where no marks are read.
    MarksOutside {
        marks: String,
    },
    /// A text document recpipe does not know: it may hold marks.
    UnknownText {
        marks: String,
    },
    /// A file changed `ago`; the folder counts as finished after `settle`.
    Changed {
        ago: Duration,
        settle: Duration,
    },
    /// A media file whose name does not say which of `segments` it is in.
    NoSegment {
        segments: u32,
    },
    /// The deep check of a media file failed.
    Media(MediaProblem),
    /// No video or audio file in Zoom's naming.
    NoMedia,
}

/// What `recording.conf` says when it says to wait.
#[derive(Debug, Clone, PartialEq)]
pub enum Conversion {
    TooLarge,
    /// It cannot be read (yet); the error's words.
    CannotRead(String),
    Converting {
        percent: f64,
    },
    /// It is not in Zoom's form (yet); why, in words.
    NotUnderstood(String),
    /// It names this many files that are not there yet.
    Missing(usize),
}

impl Reason {
    /// The reason with its durations left out: equal for two looks at the
    /// same wait.
    pub fn without_times(&self) -> Reason {
        let why = match &self.why {
            Why::ConversionStalled { .. } => Why::ConversionStalled {
                quiet: Duration::ZERO,
            },
            Why::ConversionStatusStalled { status, .. } => Why::ConversionStatusStalled {
                status: status.clone(),
                quiet: Duration::ZERO,
            },
            Why::Changed { .. } => Why::Changed {
                ago: Duration::ZERO,
                settle: Duration::ZERO,
            },
            why => why.clone(),
        };
        Reason {
            verdict: self.verdict,
            file: self.file.clone(),
            why,
        }
    }
}

impl fmt::Display for Conversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conversion::TooLarge => {
                f.write_str("recording.conf is too large to be Zoom's status file")
            }
            Conversion::CannotRead(err) => write!(f, "recording.conf cannot be read yet ({err})"),
            Conversion::Converting { percent } => write!(
                f,
                "Zoom is converting the recording ({percent:.0} % done, says recording.conf)"
            ),
            Conversion::NotUnderstood(why) => {
                write!(f, "recording.conf cannot be understood yet: {why}")
            }
            Conversion::Missing(n) => {
                write!(f, "recording.conf names {n} file(s) that are not there yet")
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.file.as_deref().unwrap_or(Path::new("")).display();
        let secs = |d: &Duration| HumanDuration(Duration::from_secs(d.as_secs()));
        match &self.why {
            Why::StillConverting => write!(
                f,
                "Zoom is still converting or writing ({name} is there)"
            ),
            Why::ConversionStalled { quiet } => write!(
                f,
                "{name} is still there and nothing in the folder changed for {}: Zoom's conversion has stalled. Open Zoom → Recordings and click Convert (or double-click the .zoom file); if Zoom cannot convert it, the recording is damaged and a person must recover it",
                secs(quiet)
            ),
            Why::Conversion(status) => write!(f, "{status}"),
            Why::ConversionStatusStalled { status, quiet } => write!(
                f,
                "{status}, and nothing in the folder changed for {}: the conversion has stalled. Open Zoom → Recordings and convert the recording again; if Zoom cannot, the recording is damaged and a person must recover it",
                secs(quiet)
            ),
            Why::ConversionError => f.write_str(
                "Zoom reported a conversion error (xcode_error.log); convert the recording again in Zoom or recover it by hand",
            ),
            Why::Symlink => write!(
                f,
                "{name} is a symbolic link; recpipe only processes files Zoom wrote in place, so a person must replace it with the file itself or move it out"
            ),
            Why::NestedFolder => write!(
                f,
                "{name} is a folder nested deeper than Zoom ever writes ({} levels); recpipe does not look inside it, so it does not process the recording: move that folder out of the recording folder, then run again",
                super::MAX_DEPTH
            ),
            Why::NotAFile(kind) => write!(
                f,
                "{name} is {}, not a file; recpipe never opens one, so a person must remove it or move it out of the recording folder, then run again",
                kind.describe()
            ),
            Why::MisplacedMarks { marks } => write!(
                f,
                "{name} looks like a marks file, but recpipe reads only '{marks}' directly in the recording folder, so its marks would not be applied; rename it to exactly '{marks}' there (with the extension shown: in Explorer, View → File name extensions) or merge its lines into that file, then run again"
            ),
            Why::MarksFolder => write!(
                f,
                "{name} is a folder, where recpipe reads the marks file, so marks meant for it would not be applied; move that folder out of the recording folder and write the marks into a plain text file named '{name}', then run again"
            ),
            Why::MarksOutside { marks } => write!(
                f,
                "{name} lies beside the recording's folder, not in it: recpipe reads marks only from '{marks}' inside each recording's own folder, and cannot tell which recording these are for; move its lines into '{marks}' in the folder of the recording they belong to and remove it from here, then run again"
            ),
            Why::UnknownText { marks } => write!(
                f,
                "{name} is a document recpipe does not know, and it may hold passages to remove that recpipe would not read; if it does, copy them into '{marks}'; then move the document out of the recording folder (recpipe neither delivers nor removes it) and run again"
            ),
            Why::Changed { ago, settle } => write!(
                f,
                "a file changed {} ago; it counts as finished after {} without changes",
                secs(ago),
                HumanDuration(*settle)
            ),
            Why::NoSegment { segments } => write!(
                f,
                "{name}: the folder holds {segments} segments (the recording was stopped and restarted) and this file's name does not say which one it belongs to; a person must tell"
            ),
            Why::Media(p) if p.unsupported() => {
                write!(f, "{name}: {p} (a person must convert or handle it)")
            }
            Why::Media(p) => write!(f, "{name}: {p}"),
            Why::NoMedia => f.write_str("the folder holds no video or audio file in Zoom's naming"),
        }
    }
}

/// As `check --json` has always shown it: the verdict, the file, the words.
impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Reason", 3)?;
        st.serialize_field("verdict", &self.verdict)?;
        if let Some(file) = &self.file {
            st.serialize_field("file", file)?;
        } else {
            st.skip_field("file")?;
        }
        st.serialize_field("text", &self.to_string())?;
        st.end()
    }
}

/// The reasons a recording waits or needs a person, shown joined by "; ".
#[derive(Debug, Clone, PartialEq)]
pub struct Reasons(pub Vec<Reason>);

impl Reasons {
    /// The reasons with their durations left out.
    pub fn without_times(&self) -> Reasons {
        Reasons(self.0.iter().map(Reason::without_times).collect())
    }
}

impl fmt::Display for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_without_its_times_is_the_same_wait() {
        let changed = |ago| Reason {
            verdict: Verdict::InProgress,
            file: None,
            why: Why::Changed {
                ago: Duration::from_secs(ago),
                settle: Duration::from_secs(30),
            },
        };
        assert_ne!(changed(3), changed(12));
        assert_eq!(changed(3).without_times(), changed(12).without_times());
        assert_eq!(
            changed(3).to_string(),
            "a file changed 3s ago; it counts as finished after 30s without changes"
        );
        let other = Reason {
            verdict: Verdict::InProgress,
            file: Some("double_click_to_convert_01.zoom".into()),
            why: Why::StillConverting,
        };
        assert_ne!(other.without_times(), changed(3).without_times());
    }
}
