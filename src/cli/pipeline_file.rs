//! `recpipe pipeline check FILE`: validate a pipeline file and print what
//! the pipeline will do, in plain words.

use super::fail;
use recpipe::config::{ConfigError, Pipeline, describe};
use recpipe::exit::ExitStatus;
use std::path::Path;

pub fn check(file: &Path) -> ExitStatus {
    match Pipeline::load(file) {
        Ok(p) => {
            println!("{}: valid.", file.display());
            for line in describe(&p) {
                println!("  - {line}");
            }
            ExitStatus::Success
        }
        Err(e) => config_error(&e),
    }
}

/// The message for a pipeline file that was refused.
pub fn config_error(e: &ConfigError) -> ExitStatus {
    match e {
        ConfigError::Read { .. } => {
            fail(e, "Check the path to the pipeline file.", ExitStatus::Usage)
        }
        ConfigError::Invalid { .. } => fail(
            e,
            "Fix the pipeline file; docs/pipeline-files.md lists every key and value.",
            ExitStatus::Usage,
        ),
    }
}
