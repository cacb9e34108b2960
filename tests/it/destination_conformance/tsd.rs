//! TSD's file API (its real server: tests/it/util/tsd_api.rs on Unix, the
//! one on the Linux side under Wine, tests/it/util/wine_tsd.rs). It verifies
//! with `chunk-md5`, not a read-back, and its partials are the server's
//! resumable records, not files. Every check that applies runs here; those
//! that cannot, and why (each has its TSD counterpart in
//! `destination_tsd_contract`):
//! - `an_empty_partial_left_by_a_killed_upload_is_redone`,
//!   `a_corrupt_partial_is_removed_and_redone`, `the_partial_is_a_dot_file`:
//!   they plant or inspect partial files, and TSD's partials are records;
//! - `a_partial_of_another_sealing_is_never_completed`: TSD cannot read a
//!   partial back; it proves the prefix by the last chunk's MD5 when it
//!   continues, and a mismatch is a retryable error the retry redoes;
//! - `readback_detects_a_corrupted_remote_file`,
//!   `an_upload_is_read_back_once_under_its_final_name`: an import token
//!   cannot read a file back.

use super::*;
use crate::util::TsdApi;
use recpipe::config::TsdAuth;
use recpipe::destination::tsd::{Session, TsdDestination};

struct TsdBackend {
    server: TsdApi,
}

impl TsdBackend {
    /// The backend's folder under the member group.
    fn path(&self) -> String {
        match self.server.base() {
            "" => "out/sub".into(),
            base => format!("{base}/out/sub"),
        }
    }
}

impl Backend for TsdBackend {
    fn open(&self) -> Box<dyn Destination> {
        let cfg = self.server.config(&self.path(), TsdAuth::Basic, 256 * 1024);
        let session = std::rc::Rc::new(std::cell::RefCell::new(Session::new(cfg, &NoTerminal)));
        match TsdDestination::connect(session) {
            Ok(d) => Box::new(d),
            Err(e) => panic!("connect: {e}\nserver log:\n{}", self.server.log()),
        }
    }
    fn local(&self, name: &str) -> PathBuf {
        self.server.group_dir().join(self.path()).join(name)
    }
    fn partials_are_files(&self) -> bool {
        false
    }
    fn modes(&self) -> Vec<VerifyMode> {
        vec![VerifyMode::ChunkMd5]
    }
}

macro_rules! tsd_checks {
    ($($check:ident),* $(,)?) => {
        $( #[test] fn $check() {
            if let Some(server) = TsdApi::start() {
                super::$check(&TsdBackend { server });
            }
        } )*
    };
}

tsd_checks!(
    upload_creates_the_folder_and_verifies,
    empty_file_uploads,
    resume_after_a_killed_partial,
    a_complete_partial_of_this_file_is_renamed,
    a_different_existing_file_is_never_overwritten,
    rename_into_place_never_replaces,
    an_identical_existing_file_counts_as_done,
    bad_names_are_refused,
    a_changed_local_file_is_not_uploaded,
    upload_contract_exclusive_create_and_exact_resume,
    retries_resume_retryable_failures_and_stop_at_permanent_ones,
);
