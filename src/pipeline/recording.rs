//! One recording through the steps after it was admitted (see `admit`):
//! checked → staged (with uploads overlapping, see `outputs`) → verified →
//! cleaned up → done. Each step starts from what the journal says and
//! records its completion durably before the next begins; each is safe to
//! repeat after a crash at any point inside it.

use super::names::{remote_name, scrub};
use super::stage::{Protection, stage_bytes};
use super::{Event, Options, Outcome, Summary, manifest, needs_person};
use crate::config::{InterimAction, TrackKind, VerifyMode};
use crate::destination::{self, Destination, Expected, Retrying};
use crate::discover::{self, Role};
use crate::journal::{self, Journal, Step};
use crate::shred::{self, Expected as Inventoried, Method};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// What a step that could not go on means.
pub(super) enum Stop {
    Waiting(String),
    Broken(String),
    Failed(String),
}

impl From<Stop> for Outcome {
    fn from(s: Stop) -> Outcome {
        match s {
            Stop::Waiting(w) => Outcome::Waiting(w),
            Stop::Broken(w) => Outcome::Broken(w),
            Stop::Failed(w) => Outcome::Failed(w),
        }
    }
}

/// State shared by the recordings of one run: the destination is opened
/// once, when the first upload needs it.
pub struct Context<'a> {
    pub(super) opts: &'a Options<'a>,
    dest: Option<Retrying<'a>>,
    /// Set when logging in needs a person: later recordings wait too.
    login_wait: Option<String>,
    pub(super) handled: HashSet<PathBuf>,
}

impl<'a> Context<'a> {
    pub fn new(opts: &'a Options<'a>) -> Context<'a> {
        Context {
            opts,
            dest: None,
            login_wait: None,
            handled: HashSet::new(),
        }
    }

    pub fn was_handled(&self, dir: &Path) -> bool {
        self.handled.contains(dir)
    }

    /// Takes a recording from the step its journal records to done, or to
    /// where it must stop.
    pub fn advance(&mut self, mut j: Journal, events: &mut dyn FnMut(Event)) -> Outcome {
        self.handled.insert(j.source.clone());
        loop {
            if self.opts.stopping() && j.step != Step::Done {
                return Outcome::Waiting(
                    "stopped on request after a completed step; the next run resumes it".into(),
                );
            }
            let result = match j.step {
                Step::Checked => self.stage_all(&mut j, events),
                Step::Staged => self.upload_all(&mut j, events),
                Step::Verified => self.clean_up(&mut j),
                Step::CleanedUp => self.send_manifest(&mut j, events),
                Step::Done => {
                    let summary = self.summary(&j);
                    let unknown = summary.left.iter().filter(|w| *w == UNKNOWN).count();
                    let left = summary.left.len() - unknown;
                    events(Event::Finished {
                        id: j.id.clone(),
                        summary,
                    });
                    if unknown > 0 {
                        return Outcome::Broken(format!(
                            "uploaded and verified, but {unknown} file(s) recpipe does not know were left in the interim folder, neither delivered nor removed: move them elsewhere, then run again"
                        ));
                    }
                    if left > 0 {
                        return Outcome::Broken(format!(
                            "uploaded and verified, but {left} file(s) were left in the interim folder because they changed or appeared after the check; look at them and remove them by hand"
                        ));
                    }
                    return Outcome::Done;
                }
            };
            match result {
                Ok(()) => {
                    j.last_error = None;
                    j.waits_for = None;
                    if j.step == Step::Done {
                        j.forget_names();
                    }
                    if let Err(e) = self.opts.state.save(&mut j) {
                        return Outcome::Failed(e.to_string());
                    }
                    (self.opts.fault_hook)(match j.step {
                        Step::Checked => "checked",
                        Step::Staged => "staged",
                        Step::Verified => "verified",
                        Step::CleanedUp => "cleaned-up",
                        Step::Done => "done",
                    });
                    events(Event::Step {
                        id: j.id.clone(),
                        step: j.step,
                    });
                }
                Err(stop) => {
                    match &stop {
                        Stop::Waiting(w) => j.waits_for = Some(w.clone()),
                        Stop::Broken(w) | Stop::Failed(w) => j.last_error = Some(w.clone()),
                    }
                    // Best effort: the step itself is already safe to redo.
                    let _ = self.opts.state.save(&mut j);
                    return stop.into();
                }
            }
        }
    }

    /// Removes the recording's names from a message (see [`scrub`]).
    pub(super) fn scrubber(j: &Journal) -> impl Fn(String) -> String + use<> {
        let dir = j.source.clone();
        let names: Vec<PathBuf> = j.inventory.iter().map(|e| e.rel.clone()).collect();
        move |t: String| {
            let names: Vec<&Path> = names.iter().map(PathBuf::as_path).collect();
            scrub(&t, &dir, &names)
        }
    }

    pub(super) fn destination(&mut self) -> Result<&mut Retrying<'a>, Stop> {
        if let Some(w) = &self.login_wait {
            return Err(Stop::Waiting(w.clone()));
        }
        if self.dest.is_none() {
            let Some(config) = &self.opts.pipeline.destination else {
                return Err(Stop::Broken("the pipeline has no [destination]".into()));
            };
            match destination::open(config, self.opts.prompter, self.opts.retry) {
                Ok(d) => self.dest = Some(d),
                Err(e) if needs_person(&e) => {
                    self.login_wait = Some(e.to_string());
                    return Err(Stop::Waiting(e.to_string()));
                }
                Err(e) => return Err(Stop::Failed(e.to_string())),
            }
        }
        Ok(self.dest.as_mut().expect("opened above"))
    }

    /// Uploads and verifies every staged output not yet verified.
    fn upload_all(&mut self, j: &mut Journal, events: &mut dyn FnMut(Event)) -> Result<(), Stop> {
        let mode = self.opts.pipeline.destination.as_ref().map(|d| d.verify());
        let Some(mode) = mode else {
            return Err(Stop::Broken("the pipeline has no [destination]".into()));
        };
        for i in 0..j.outputs.len() {
            if !j.outputs[i].verified {
                self.upload_output(j, i, mode, events)?;
            }
        }
        j.step = Step::Verified;
        Ok(())
    }

    /// Uploads and verifies output `i` and records that in the journal.
    pub(super) fn upload_output(
        &mut self,
        j: &mut Journal,
        i: usize,
        mode: VerifyMode,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), Stop> {
        let o = j.outputs[i].clone();
        self.send_one(j, &o, mode, events)?;
        j.outputs[i].verified = true;
        self.opts
            .state
            .save(j)
            .map_err(|e| Stop::Failed(e.to_string()))?;
        (self.opts.fault_hook)("uploaded-output");
        Ok(())
    }

    fn send_one(
        &mut self,
        j: &Journal,
        o: &journal::Output,
        mode: VerifyMode,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), Stop> {
        let expected = Expected {
            len: o.staged_len,
            sha256: o.staged_sha256.0,
        };
        if !o.staged.exists() {
            // Sent and cleaned up before a crash? Then it is verified there.
            let dest = self.destination()?;
            return destination::verify(dest, &o.remote, &expected, mode).map_err(|e| {
                Stop::Failed(format!(
                    "{}: the staged file is gone and the destination does not hold it ({e}); its recording must be processed again",
                    o.remote
                ))
            });
        }
        let id = j.id.clone();
        let remote = o.remote.clone();
        let total = o.staged_len;
        let dest = self.destination()?;
        let mut progress = |done: u64| {
            events(Event::Progress {
                id: id.clone(),
                what: "upload",
                output: remote.clone(),
                done,
                total: Some(total),
            })
        };
        match destination::send(dest, &o.staged, &o.remote, &expected, mode, &mut progress) {
            Ok(_) => Ok(()),
            Err(e) if needs_person(&e) => {
                self.login_wait = Some(e.to_string());
                Err(Stop::Waiting(e.to_string()))
            }
            Err(e) => Err(Stop::Failed(e.to_string())),
        }
    }

    /// Removes the staged files and, as the pipeline says, the interim copy.
    fn clean_up(&mut self, j: &mut Journal) -> Result<(), Stop> {
        remove_staged(self.opts, j);
        if j.cleanup.is_none() {
            self.remove_interim(j)?;
        }
        j.step = Step::CleanedUp;
        Ok(())
    }

    pub(super) fn remove_interim(&self, j: &mut Journal) -> Result<(), Stop> {
        let method = match self.opts.pipeline.cleanup.interim {
            InterimAction::Keep => {
                j.cleanup = Some(journal::Cleanup {
                    method: "keep".into(),
                    removed: 0,
                    left: Vec::new(),
                    at: journal::now_text(),
                });
                return Ok(());
            }
            InterimAction::Shred => Method::Shred,
            InterimAction::Delete => Method::Delete,
        };
        // Files recpipe does not know are never removed (see
        // `Role::cleanup_may_remove`): left, and said so.
        let marks = &self.opts.pipeline.redact.marks;
        let (removable, unknown): (Vec<Inventoried>, Vec<Inventoried>) = j
            .inventory
            .iter()
            .cloned()
            .partition(|e| may_remove(&e.rel, marks));
        let report = shred::remove_interim(&j.source, &removable, method);
        let mut left: Vec<(PathBuf, String)> = report.changed.clone();
        left.extend(report.new_files.iter().map(|p| {
            let why = if unknown.iter().any(|u| &u.rel == p) {
                UNKNOWN
            } else {
                "it is new since the check"
            };
            (p.clone(), why.into())
        }));
        left.extend(report.failed.iter().cloned());
        j.cleanup = Some(journal::Cleanup {
            method: if method == Method::Shred {
                "shred"
            } else {
                "delete"
            }
            .into(),
            removed: report.removed.len() + report.already_gone.len(),
            left,
            at: journal::now_text(),
        });
        Ok(())
    }

    /// Seals, uploads and verifies the audit manifest.
    fn send_manifest(
        &mut self,
        j: &mut Journal,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), Stop> {
        let mode = self.opts.pipeline.destination.as_ref().map(|d| d.verify());
        let Some(mode) = mode else {
            return Err(Stop::Broken("the pipeline has no [destination]".into()));
        };
        if j.manifest.is_none() {
            let location = self.destination()?.location();
            let sealed = !self.opts.recipients.is_empty();
            let remote = remote_name(&j.stamp, &j.id, "manifest", "json", sealed);
            let staged_path = self.opts.state.staging(&j.id).join(&remote);
            let bytes = manifest::build(self.opts.pipeline, j, &location);
            let protection = if sealed {
                Protection::Sealed(&self.opts.recipients)
            } else {
                Protection::Plain
            };
            let staged = stage_bytes(&bytes, protection, &staged_path)
                .map_err(|e| Stop::Failed(e.to_string()))?;
            j.manifest = Some(journal::Output {
                remote,
                staged: staged_path,
                inputs: Vec::new(),
                kind: "audit manifest (JSON)".into(),
                plain_sha256: staged.plain_sha256,
                plain_len: staged.plain_len,
                staged_sha256: staged.staged_sha256,
                staged_len: staged.staged_len,
                ranges: Vec::new(),
                verified: false,
            });
            self.opts
                .state
                .save(j)
                .map_err(|e| Stop::Failed(e.to_string()))?;
        }
        let m = j.manifest.clone().expect("set above");
        if !m.verified {
            self.send_one(j, &m, mode, events)?;
            if let Some(mm) = &mut j.manifest {
                mm.verified = true;
            }
        }
        let _ = fs::remove_file(&m.staged);
        let _ = fs::remove_dir(self.opts.state.staging(&j.id));
        j.step = Step::Done;
        Ok(())
    }

    fn summary(&self, j: &Journal) -> Summary {
        let mut uploaded: Vec<String> = j.outputs.iter().map(|o| o.remote.clone()).collect();
        uploaded.extend(j.manifest.iter().map(|m| m.remote.clone()));
        let mut removed: Vec<(f64, f64)> = j
            .outputs
            .iter()
            .flat_map(|o| o.ranges.iter().copied())
            .collect();
        removed.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        removed.dedup();
        let used: usize = j.outputs.len();
        let cleanup = j.cleanup.clone();
        Summary {
            uploaded,
            dropped: j.inventory.len().saturating_sub(used),
            removed,
            destination: self.dest.as_ref().map(|d| d.location()).unwrap_or_default(),
            verify: self
                .opts
                .pipeline
                .destination
                .as_ref()
                .map(|d| d.verify())
                .unwrap_or(crate::config::VerifyMode::Readback),
            interim_removed: cleanup.as_ref().map(|c| c.removed).unwrap_or(0),
            cleanup: cleanup
                .as_ref()
                .map(|c| c.method.clone())
                .unwrap_or_default(),
            left: cleanup
                .map(|c| c.left.into_iter().map(|(_, why)| why).collect())
                .unwrap_or_default(),
        }
    }
}

/// Where a recording's outputs are staged: the state folder when they are
/// sealed, the recording's own folder when they are not.
pub(super) fn staging_dir(opts: &Options<'_>, j: &Journal) -> PathBuf {
    if opts.recipients.is_empty() {
        j.source.join(discover::STAGING_DIR)
    } else {
        opts.state.staging(&j.id)
    }
}

fn remove_staged(opts: &Options<'_>, j: &Journal) {
    for o in &j.outputs {
        let _ = fs::remove_file(&o.staged);
        let _ = fs::remove_file(super::stage::partial_path(&o.staged));
    }
    let _ = fs::remove_dir(staging_dir(opts, j));
}

/// The first inventory file that is no longer the file that was checked.
pub(super) fn first_change(dir: &Path, inventory: &[Inventoried]) -> Option<String> {
    inventory.iter().find_map(|e| {
        let path = dir.join(&e.rel);
        let now = fs::symlink_metadata(&path)
            .ok()
            .map(|m| crate::fsutil::FileId::of(&path, &m));
        (now != Some(e.id)).then(|| e.rel.display().to_string())
    })
}

/// Why a file recpipe does not know was left (the summary counts these).
const UNKNOWN: &str = "recpipe does not know it; it was left in place";

/// Whether cleanup may remove an inventory file, by its role.
fn may_remove(rel: &Path, marks: &str) -> bool {
    let in_participant_dir = rel
        .parent()
        .is_some_and(|p| p == Path::new(discover::PARTICIPANT_DIR));
    let top = rel.parent().is_none_or(|p| p == Path::new(""));
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    (top || in_participant_dir)
        && discover::role::role_of(name, in_participant_dir, marks).cleanup_may_remove()
}

/// The kind of track a file holds, from its role.
pub(super) fn track_kind(rel: &Path, marks: &str) -> Option<TrackKind> {
    let name = rel.file_name()?.to_str()?;
    let in_participant_dir = rel
        .parent()
        .is_some_and(|p| p == Path::new(discover::PARTICIPANT_DIR));
    match discover::role::role_of(name, in_participant_dir, marks) {
        Role::Video => Some(TrackKind::Video),
        Role::MixedAudio => Some(TrackKind::MixedAudio),
        Role::ParticipantAudio { .. } => Some(TrackKind::ParticipantAudio),
        Role::Chat => Some(TrackKind::Chat),
        Role::Captions => Some(TrackKind::Captions),
        _ => None,
    }
}

pub(super) fn describe_output(kind: Option<TrackKind>, ext: &str) -> String {
    let what = kind.map(|k| k.to_string()).unwrap_or_else(|| "file".into());
    format!("{what} ({})", ext.to_uppercase())
}
