//! What the notifications have said, per recording, kept in `notify.json`
//! in the state folder so that a scheduled run every 10 minutes does not
//! say it again.
//!
//! Invariants: written whole through [`crate::fsutil::write_atomic`] (a
//! crash leaves the old memory or the new one); holds recording ids,
//! start stamps, times and kinds of trouble only, never a name.

use super::{Need, NotifyError};
use std::collections::BTreeMap;
use std::path::Path;

/// The memory of every recording that is not done.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Memory {
    /// By recording id, or `start-STAMP` for a recording that has none
    /// (one that never got past its check).
    pub recordings: BTreeMap<String, Seen>,
    /// That the log has said there is no notification service (said once,
    /// until a notification is shown again).
    #[serde(default)]
    pub no_service_said: bool,
}

/// One recording that is not done.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    /// Its start stamp (`YYYYMMDD-HHMMSS` or `unknown-start`).
    pub start: String,
    /// Since when its interim copy has been on the PC (Unix seconds): its
    /// start, or when a pass first saw it if its start is unknown.
    pub since: i64,
    /// The state that needs the person, if it is in one.
    pub need: Option<Need>,
    /// Failed passes in a row.
    pub failures: u32,
    /// When the person was last told of `need` (Unix seconds).
    pub notified: Option<i64>,
}

impl Memory {
    /// Reads the memory at `path`; a missing file is an empty memory.
    pub fn read(path: &Path) -> Result<Memory, NotifyError> {
        let err = |source| NotifyError::Memory {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidData, e))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Memory::default()),
            Err(e) => Err(err(e)),
        }
    }

    /// Saves it crash-safely.
    pub fn write(&self, path: &Path) -> Result<(), NotifyError> {
        let err = |source| NotifyError::Memory {
            path: path.to_path_buf(),
            source,
        };
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        crate::fsutil::write_atomic(path, &text).map_err(err)
    }
}
