//! The pipeline end to end: every complete recording under the given paths
//! is checked, redacted and reduced to the wanted tracks, sealed, uploaded
//! and verified, and its interim copy removed, with the journal recording
//! each step before the next one starts. docs/architecture.md shows how a
//! recording flows through these modules.
//!
//! - [`run()`] (`run.rs`): the loop over journals and folders.
//! - `admit`: a folder becomes a journal (checked, hashed, marks fixed).
//! - `recording`: one recording's steps, top to bottom, to done.
//! - `outputs`, `stage`, `manifest`, `names`: leaves the steps call.
//! - [`watch()`]: runs passes while the researcher works.
//! - [`preview`]: `plan` and `preview` of one recording.
//!
//! Invariants (the promises this module exists to keep):
//! - An interim file is removed only after every output made from it is
//!   verified at the destination (`after = "verified"`), or sealed, staged
//!   and checked to open (`after = "sealed"`), and only if it is still the
//!   file that was checked.
//! - A crash at any instant leaves every recording intact where it was or
//!   verified where it went; the next run resumes every unfinished journal
//!   first and finishes the job. No step, repeated, does harm.
//! - Plaintext never leaves the recording's folder: outputs are sealed as
//!   they are produced (unsealed green pipelines stage inside the folder).
//! - What is reported ([`Event`], [`Outcome`]) carries recording ids and
//!   start times, never topics, participant names, file names or notes.
//! - The library never prints or prompts by itself: events go to the
//!   caller's callback and questions to the caller's [`Prompter`].

mod admit;
mod manifest;
pub mod model;
pub mod names;
mod outputs;
pub mod preview;
mod recording;
mod run;
pub mod stage;
mod types;
mod watch;

pub use names::{FileRef, stamp_of};
pub use run::run;
pub use types::{
    Event, Findings, Hidden, Names, Options, Outcome, PipelineError, Problem, RecordingResult,
    RunSummary, Summary,
};
pub use watch::{WatchEvent, WatchOptions, watch};

use crate::config::Pipeline;
#[cfg(doc)]
use crate::destination::Prompter;
use crate::seal::Recipient;

/// The recipients a pipeline seals to (empty when it has no `[seal]`), as
/// the pipeline file parsed them; refused when yellow or red data would be
/// sealed to the public demo key.
pub fn recipients(pipeline: &Pipeline) -> Result<Vec<Recipient>, PipelineError> {
    let Some(s) = &pipeline.seal else {
        return Ok(Vec::new());
    };
    let demo = s
        .all()
        .any(|r| r.to_string() == crate::config::DEMO_RECIPIENT);
    if demo && pipeline.classification.is_protected() {
        return Err(PipelineError::Recipients {
            file: pipeline.file.clone(),
            why: format!(
                "[seal] names the public demo key, whose secret anyone can read; {} data must be sealed to your project's own key (make one with `recpipe keygen`)",
                pipeline.classification
            ),
        });
    }
    Ok(s.all().cloned().collect())
}
