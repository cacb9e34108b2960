//! One recording from its journal to done, top to bottom:
//!
//! checked → [`Context::stage`] → staged → [`Context::send`] → verified →
//! [`Context::clean_up`] → cleaned up → [`Context::send_manifest`] → done
//!
//! Each step starts from what the journal says and returns the step it
//! reached; [`Context::process`] records that durably before the next
//! begins, so every step is safe to repeat after a crash at any point
//! inside it.
//!
//! Invariants:
//! - Inputs are made into outputs only while every inventory file is the
//!   very file that was checked; a change before anything was delivered
//!   discards the journal (the folder is checked afresh once it settles),
//!   a change after some delivery stops the recording for a person.
//! - The interim copy is removed only after every output is verified at
//!   the destination, or with `after = "sealed"` once every output is
//!   sealed, staged and checked to open; the journal records `staged`
//!   before that removal starts, so a crash inside it is finished next run.
//! - A recording is done only when its cleanup is complete: a file that
//!   could not be removed, changed, or appeared is retried and reported
//!   every run, and the folder keeps its journal (it is never taken for a
//!   new recording) until a person has dealt with it.

mod deliver;

use super::names::{file_ref, remote_name};
use super::outputs::{self, Production, Report};
use super::stage::{Protection, StageError, partial_path, stage_bytes};
use super::types::{Event, Hidden, Names, Options, Outcome, Problem, Summary};
use crate::config::{CleanupAfter, InterimAction, VerifyMode};
use crate::destination::{self, Destination, Notice, Retrying};
use crate::discover::{self, Role};
use crate::journal::{self, Journal, Step};
use crate::redact::plan::plan_segments;
use crate::shred::{self, Method};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// State shared by the recordings of one run: the destination is opened
/// once, when the first upload needs it.
pub struct Context<'a> {
    opts: &'a Options<'a>,
    dest: Option<Retrying<'a>>,
    /// Set when logging in needs a person: later recordings wait too.
    login_wait: Option<Problem>,
}

impl<'a> Context<'a> {
    pub fn new(opts: &'a Options<'a>) -> Context<'a> {
        Context {
            opts,
            dest: None,
            login_wait: None,
        }
    }

    /// Takes a recording from the step its journal records to done, or to
    /// where it must stop.
    pub fn process(&mut self, mut j: Journal, events: &mut dyn FnMut(Event)) -> Outcome {
        let names = names_of(&j);
        loop {
            if self.opts.stopping() && j.step != Step::Done {
                return Problem::StoppedOnRequest.outcome();
            }
            let reached = match j.step {
                Step::Checked => self.stage(&mut j, &names, events),
                Step::Staged => self.send(&mut j, &names, events),
                Step::Verified => self.clean_up(&mut j, &names),
                Step::CleanedUp => self.send_manifest(&mut j, &names, events),
                Step::Done => return self.finish(&j, events),
            };
            let problem = match reached {
                Ok(step) => match self.record(&mut j, step, &names) {
                    Ok(()) => {
                        events(Event::Step {
                            id: j.id.clone(),
                            step: j.step,
                        });
                        continue;
                    }
                    Err(p) => p,
                },
                Err(p) => p,
            };
            if matches!(problem, Problem::ChangedBeforeDelivery(_)) {
                self.discard(&j);
                return problem.outcome();
            }
            let outcome = problem.outcome();
            match &outcome {
                Outcome::Waiting(p) => j.waits_for = Some(p.to_string()),
                Outcome::Broken(p) | Outcome::Failed(p) => j.last_error = Some(p.to_string()),
                Outcome::Done | Outcome::AlreadyDone => {}
            }
            // Best effort: the step itself is already safe to redo.
            let _ = self.opts.state.save(&mut j);
            return outcome;
        }
    }

    /// Whether the marks the outputs were made with still hold, checked
    /// before each output is sent and before the interim copy is removed
    /// ([`super::model::marks_changed`]). A change is
    /// [`Problem::ChangedBeforeDelivery`] (what was made is discarded and
    /// the recording taken again) or, once something was delivered,
    /// [`Problem::ChangedAfterDelivery`] (a person decides); never a
    /// delivery made with stale marks.
    fn marks_hold(&self, j: &Journal) -> Result<(), Problem> {
        let marks_name = &self.opts.pipeline.redact.marks;
        let pending = self.opts.state.pending_marks();
        let Some(rel) = super::model::marks_changed(j, marks_name, &pending) else {
            return Ok(());
        };
        let what = file_ref(&rel, &Role::Marks);
        let delivered = j.outputs.iter().filter(|o| o.verified).count();
        Err(if delivered == 0 {
            Problem::ChangedBeforeDelivery(what)
        } else {
            Problem::ChangedAfterDelivery(Box::new((what, delivered)))
        })
    }

    /// Records that the recording reached `step`, durably.
    fn record(&self, j: &mut Journal, step: Step, names: &Names) -> Result<(), Problem> {
        j.step = step;
        j.last_error = None;
        j.waits_for = None;
        if step == Step::Done {
            j.forget_names();
        }
        self.save(j, names)?;
        (self.opts.fault_hook)(match step {
            Step::Checked => "checked",
            Step::Staged => "staged",
            Step::Verified => "verified",
            Step::CleanedUp => "cleaned-up",
            Step::Done => "done",
        });
        Ok(())
    }

    /// checked → staged: produces, seals and stages every planned output
    /// and, unless the interim copy goes once sealed, sends each as soon
    /// as it is staged.
    fn stage(
        &mut self,
        j: &mut Journal,
        names: &Names,
        events: &mut dyn FnMut(Event),
    ) -> Result<Step, Problem> {
        let opts = self.opts;
        let marks_name = &opts.pipeline.redact.marks;
        if let Some(rel) = first_change(&j.source, &j.inventory) {
            let what = file_ref(&rel, &super::model::role_in(j, &rel, marks_name));
            let delivered = j.outputs.iter().filter(|o| o.verified).count();
            return Err(if delivered == 0 {
                Problem::ChangedBeforeDelivery(what)
            } else {
                Problem::ChangedAfterDelivery(Box::new((what, delivered)))
            });
        }
        if j.files.len() != j.inventory.len() {
            // A version 1 journal: its records are derived once and kept.
            j.files = super::model::migrate(j, marks_name);
            j.version = crate::journal::VERSION;
            self.save(j, names)?;
        }
        let rels = j.inventory.iter().map(|e| e.rel.as_path());
        let files = super::model::plan_files(&j.source, rels, &j.files);
        let mode = opts.pipeline.redact.mode;
        let plans = plan_segments(&files, &opts.pipeline.keep, mode, !j.ranges_ns.is_empty())
            .map_err(|e| Problem::Plan(names.scrub(&e.to_string())))?;
        let sealed = !opts.recipients.is_empty();
        let after_sealed = opts.pipeline.cleanup.after == CleanupAfter::Sealed;
        let jobs = outputs::jobs(j, &plans, &staging_dir(opts, j), sealed);
        let send_now = match &opts.pipeline.destination {
            Some(d) if !after_sealed => Some(d.verify()),
            _ => None,
        };
        let how = Production {
            mode,
            protection: protection(opts),
            check_opens: after_sealed,
            stop: opts.stop,
        };
        let (staged_now, upload_problem) = outputs::produce(&jobs, how, |reports, _abandon| {
            let mut staged_now = 0;
            let mut upload_problem: Option<Problem> = None;
            for report in reports {
                let (i, result) = match report {
                    Report::Progress { job, done } => {
                        events(Event::Progress {
                            id: j.id.clone(),
                            what: "seal",
                            output: jobs[job].remote.clone(),
                            done,
                            total: jobs[job].plan.bytes,
                        });
                        continue;
                    }
                    Report::Staged { job, result } => (job, result),
                };
                let staged = result.map_err(|e| match e {
                    StageError::Produce(_) => Problem::Produce(Hidden::new(e, names)),
                    _ => Problem::Stage(Hidden::new(e, names)),
                })?;
                j.outputs.push(outputs::record(&jobs[i], staged));
                self.save(j, names)?;
                staged_now += 1;
                (opts.fault_hook)("staged-output");
                if let (Some(mode), None) = (send_now, &upload_problem) {
                    let last = j.outputs.len() - 1;
                    if let Err(p) = self.send_output(j, last, mode, names, events) {
                        upload_problem = Some(p);
                    }
                }
            }
            Ok((staged_now, upload_problem))
        })?;
        if staged_now < jobs.len() {
            return Err(Problem::StoppedOnRequest);
        }
        match upload_problem {
            None => Ok(Step::Staged),
            Some(p) => {
                // Staging is complete (the journal saved each output); the
                // upload's trouble is what this step reports.
                j.step = Step::Staged;
                Err(p)
            }
        }
    }

    /// staged → verified: uploads and verifies every output not verified
    /// yet. With `after = "sealed"` the interim copy is removed first:
    /// every output opened with its key when it was staged, and `staged`
    /// is on record, so a crash inside the removal is finished next time.
    fn send(
        &mut self,
        j: &mut Journal,
        names: &Names,
        events: &mut dyn FnMut(Event),
    ) -> Result<Step, Problem> {
        if self.opts.pipeline.cleanup.after == CleanupAfter::Sealed && !cleanup_complete(j) {
            if j.cleanup.is_none() {
                self.marks_hold(j)?;
            }
            (self.opts.fault_hook)("removing-interim");
            self.remove_interim(j);
            self.save(j, names)?;
        }
        let mode = self.verify_mode()?;
        for i in 0..j.outputs.len() {
            if !j.outputs[i].verified {
                self.send_output(j, i, mode, names, events)?;
            }
        }
        self.settle_unsynced(j, mode, names, events)?;
        Ok(Step::Verified)
    }

    /// Uploads and verifies output `i` and records that in the journal.
    fn send_output(
        &mut self,
        j: &mut Journal,
        i: usize,
        mode: VerifyMode,
        names: &Names,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), Problem> {
        if j.cleanup.is_none() {
            self.marks_hold(j)?;
        }
        let o = j.outputs[i].clone();
        self.deliver(j, &o, mode, names, events)?;
        j.outputs[i].verified = true;
        self.save(j, names)?;
        (self.opts.fault_hook)("uploaded-output");
        Ok(())
    }

    /// verified → cleaned up: removes the staged files and, as the
    /// pipeline says, the interim copy. Anything left there keeps the
    /// recording here, retried and reported every run.
    fn clean_up(&mut self, j: &mut Journal, names: &Names) -> Result<Step, Problem> {
        if j.cleanup.is_none() {
            self.marks_hold(j)?;
        }
        remove_staged(self.opts, j);
        if !cleanup_complete(j) {
            self.remove_interim(j);
        }
        let left = self.left_files(j, names);
        if left.is_empty() {
            Ok(Step::CleanedUp)
        } else {
            Err(Problem::Left(left))
        }
    }

    /// Removes the interim copy's inventoried files that are unchanged,
    /// and records what was removed and what is left.
    fn remove_interim(&self, j: &mut Journal) {
        // Files recpipe does not know are never removed (see
        // `Role::cleanup_may_remove`): left in place, and said so, whatever
        // `interim` says.
        let marks = &self.opts.pipeline.redact.marks;
        let (removable, unknown) = super::model::by_cleanup(j, marks);
        let method = match self.opts.pipeline.cleanup.interim {
            InterimAction::Keep => {
                j.cleanup = Some(journal::Cleanup {
                    method: "keep".into(),
                    removed: 0,
                    unlinked_only: 0,
                    // Those still there: one moved away is dealt with.
                    left: unknown
                        .iter()
                        .filter(|e| fs::symlink_metadata(j.source.join(&e.rel)).is_ok())
                        .map(|e| (e.rel.clone(), UNKNOWN_LEFT.to_string()))
                        .collect(),
                    at: journal::now_text(),
                });
                return;
            }
            InterimAction::Shred => Method::Shred,
            InterimAction::Delete => Method::Delete,
        };
        let report = shred::remove_interim(&j.source, &removable, marks, method);
        let left = report
            .left()
            .into_iter()
            .map(|(rel, why)| match unknown.iter().any(|u| u.rel == rel) {
                true => (rel, UNKNOWN_LEFT.to_string()),
                false => (rel, why),
            })
            .collect();
        j.cleanup = Some(journal::Cleanup {
            method: if method == Method::Shred {
                "shred"
            } else {
                "delete"
            }
            .into(),
            removed: report.removed.len() + report.already_gone.len(),
            unlinked_only: report.unlinked_only.len(),
            left,
            at: journal::now_text(),
        });
    }

    /// What is left in the interim folder, by role and folder (never by
    /// name), each kind once with its count.
    fn left_files(&self, j: &Journal, names: &Names) -> Vec<String> {
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for (rel, why) in j.cleanup.iter().flat_map(|c| c.left.iter()) {
            let role = super::model::role_in(j, rel, &self.opts.pipeline.redact.marks);
            let what = file_ref(rel, &role);
            *kinds
                .entry(format!("{what}: {}", names.scrub(why)))
                .or_default() += 1;
        }
        let mut out: Vec<String> = kinds
            .into_iter()
            .map(|(text, n)| match n {
                1 => text,
                n => format!("{text} ({n} files)"),
            })
            .collect();
        if !out.is_empty() {
            out.push(
                "move or remove by hand what you do not need there, then run again to finish the recording".into(),
            );
        }
        out
    }

    /// cleaned up → done: seals, uploads and verifies the audit manifest.
    fn send_manifest(
        &mut self,
        j: &mut Journal,
        names: &Names,
        events: &mut dyn FnMut(Event),
    ) -> Result<Step, Problem> {
        let mode = self.verify_mode()?;
        if j.manifest.is_none() {
            let location = self
                .destination(names, &mut |n| events(Event::of_notice(n, names)))?
                .location();
            let sealed = !self.opts.recipients.is_empty();
            let remote = remote_name(&j.stamp, &j.id, "manifest", "json", sealed);
            let staged_path = self.opts.state.staging(&j.id).join(&remote);
            let bytes = super::manifest::build(self.opts.pipeline, j, &location);
            let staged = stage_bytes(&bytes, protection(self.opts), &staged_path)
                .map_err(|e| Problem::Stage(Hidden::new(e, names)))?;
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
                silent: false,
            });
            self.save(j, names)?;
        }
        let m = j.manifest.clone().expect("set above");
        if !m.verified {
            self.deliver(j, &m, mode, names, events)?;
            if let Some(mm) = &mut j.manifest {
                mm.verified = true;
            }
        }
        let _ = fs::remove_file(&m.staged);
        let _ = fs::remove_dir(self.opts.state.staging(&j.id));
        Ok(Step::Done)
    }

    /// done: reports what the recording became.
    fn finish(&self, j: &Journal, events: &mut dyn FnMut(Event)) -> Outcome {
        events(Event::Finished {
            id: j.id.clone(),
            summary: self.summary(j),
        });
        Outcome::Done
    }

    /// Drops the journal of a recording whose inputs changed before any
    /// of its outputs was delivered, with its staged files: it is checked
    /// and admitted afresh once it has settled.
    fn discard(&self, j: &Journal) {
        remove_staged(self.opts, j);
        let _ = self.opts.state.discard(&j.id);
    }

    fn save(&self, j: &mut Journal, names: &Names) -> Result<(), Problem> {
        self.opts
            .state
            .save(j)
            .map_err(|e| Problem::Journal(Hidden::new(e, names)))
    }

    fn verify_mode(&self) -> Result<VerifyMode, Problem> {
        self.opts
            .pipeline
            .destination
            .as_ref()
            .map(|d| d.verify())
            .ok_or(Problem::NoDestination)
    }

    /// The destination, opened on first use (each failed try to open it
    /// goes to `notices`); a login that needs a person makes every later
    /// recording of this run wait too.
    fn destination(
        &mut self,
        names: &Names,
        notices: &mut dyn FnMut(&Notice<'_>),
    ) -> Result<&mut Retrying<'a>, Problem> {
        if let Some(p) = &self.login_wait {
            return Err(p.clone());
        }
        if self.dest.is_none() {
            let config = self
                .opts
                .pipeline
                .destination
                .as_ref()
                .ok_or(Problem::NoDestination)?;
            let (prompter, retry, stop) = (self.opts.prompter, self.opts.retry, self.opts.stop);
            match destination::open(config, prompter, retry, stop, notices) {
                Ok(d) => self.dest = Some(d),
                Err(e) => {
                    let p = Problem::destination(e, names);
                    if matches!(p, Problem::Login(_)) {
                        self.login_wait = Some(p.clone());
                    }
                    return Err(p);
                }
            }
        }
        Ok(self.dest.as_mut().expect("opened above"))
    }

    fn summary(&self, j: &Journal) -> Summary {
        let mut uploaded: Vec<String> = j.outputs.iter().map(|o| o.remote.clone()).collect();
        uploaded.extend(j.manifest.iter().map(|m| m.remote.clone()));
        let checked = uploaded
            .iter()
            .map(|name| {
                j.deliveries
                    .get(name)
                    .and_then(|d| d.checked.clone())
                    .unwrap_or_else(|| "verified (journal written before recpipe said how)".into())
            })
            .collect();
        let removed: Vec<(String, String, f64, f64)> = j
            .outputs
            .iter()
            .flat_map(|o| {
                o.ranges
                    .iter()
                    .map(|&(a, b)| (o.remote.clone(), o.kind.clone(), a, b))
            })
            .collect();
        let cleanup = j.cleanup.as_ref();
        Summary {
            uploaded,
            checked,
            dropped: j.inventory.len().saturating_sub(j.outputs.len()),
            removed,
            destination: self.dest.as_ref().map(|d| d.location()).unwrap_or_default(),
            verify: self.verify_mode().unwrap_or(VerifyMode::Readback),
            interim_removed: cleanup.map(|c| c.removed).unwrap_or(0),
            interim_unlinked_only: cleanup.map(|c| c.unlinked_only).unwrap_or(0),
            cleanup: cleanup.map(|c| c.method.clone()).unwrap_or_default(),
            silent: j
                .outputs
                .iter()
                .filter(|o| o.silent)
                .map(|o| o.remote.clone())
                .collect(),
        }
    }
}

/// Why a file recpipe does not know is left: it is never delivered and
/// never removed.
const UNKNOWN_LEFT: &str =
    "recpipe does not know it, so it was neither delivered nor removed: move it elsewhere";

/// The names every message about this recording must leave out.
fn names_of(j: &Journal) -> Names {
    Names {
        dir: j.source.clone(),
        files: j.inventory.iter().map(|e| e.rel.clone()).collect(),
    }
}

/// Whether the interim copy is dealt with as the pipeline says.
fn cleanup_complete(j: &Journal) -> bool {
    j.cleanup.as_ref().is_some_and(|c| c.left.is_empty())
}

/// The first inventory file that is no longer the file that was checked.
fn first_change(dir: &Path, inventory: &[discover::Entry]) -> Option<PathBuf> {
    inventory.iter().find_map(|e| {
        let path = dir.join(&e.rel);
        let now = fs::symlink_metadata(&path)
            .ok()
            .map(|m| crate::fsutil::FileId::of(&path, &m));
        (now != Some(e.id)).then(|| e.rel.clone())
    })
}

/// How outputs are staged: sealed to the recipients, or plain when the
/// pipeline does not seal.
fn protection<'o>(opts: &'o Options<'_>) -> Protection<'o> {
    if opts.recipients.is_empty() {
        Protection::Plain
    } else {
        Protection::Sealed(&opts.recipients)
    }
}

/// Where a recording's outputs are staged: the state folder when they are
/// sealed, the recording's own folder when they are not.
fn staging_dir(opts: &Options<'_>, j: &Journal) -> PathBuf {
    if opts.recipients.is_empty() {
        j.source.join(discover::STAGING_DIR)
    } else {
        opts.state.staging(&j.id)
    }
}

/// Removes a recording's staged files, partials and staging folder.
fn remove_staged(opts: &Options<'_>, j: &Journal) {
    for o in &j.outputs {
        let _ = fs::remove_file(&o.staged);
        let _ = fs::remove_file(partial_path(&o.staged));
    }
    let _ = fs::remove_dir(staging_dir(opts, j));
}
