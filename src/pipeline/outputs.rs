//! Staging every planned output of a recording, and sending each one as
//! soon as it is staged: production (decode, redact, seal) runs on a helper
//! thread while this thread uploads and verifies what is ready, so the two
//! overlap.
//!
//! Invariants:
//! - Only the calling thread touches the journal, the destination and the
//!   caller's events; the helper only writes staged files and reports them.
//! - An output enters the journal only once its staged file is whole on
//!   disk, and is marked verified only once the destination verified it;
//!   the journal is saved after each, so a crash anywhere resumes as if
//!   nothing overlapped: outputs missing from the journal are staged again,
//!   outputs not verified are sent again.
//! - With `[cleanup] after = "sealed"` nothing is sent here: every output is
//!   staged and checked to open, then the interim copy is removed, and the
//!   uploads follow (that mode is for uploads that wait for a person).
//! - A failed upload stops the uploads, not production: every output is
//!   still sealed and staged, ready for the next run, and the upload's
//!   error is what the step reports.
//! - A failed production stops the recording: outputs already verified stay
//!   at the destination (whole and sealed), the interim copy is kept, and
//!   the error is reported (rare: the check decoded every track already).

use super::Event;
use super::names::{label, remote_name};
use super::recording::{Context, Stop, describe_output, first_change, staging_dir, track_kind};
use super::stage::{Protection, StageError, Staged, stage};
use crate::config::{AudioFormat, CleanupAfter, TrackKind};
use crate::discover;
use crate::journal::{self, Journal, Step};
use crate::redact::marks::SegmentRanges;
use crate::redact::plan::{Fate, FilePlan, PlanFile, SegmentFile, plan_segments};
use crate::redact::{Range, RedactMode};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

/// One output to stage.
struct Job<'p> {
    plan: &'p FilePlan,
    remote: String,
    staged: PathBuf,
    /// The input it is made from, relative to the recording folder.
    input: PathBuf,
    ext: String,
}

/// What the helper thread reports.
enum Report {
    Progress {
        job: usize,
        done: u64,
    },
    Staged {
        job: usize,
        result: Result<Staged, StageError>,
    },
}

impl Context<'_> {
    /// Produces, seals and stages every planned output, and (unless the
    /// pipeline deletes after sealing) uploads and verifies each as soon as
    /// it is staged.
    pub(super) fn stage_all(
        &mut self,
        j: &mut Journal,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), Stop> {
        let opts = self.opts;
        let scrubbed = Self::scrubber(j);
        if let Some(changed) = first_change(&j.source, &j.inventory) {
            return Err(Stop::Broken(scrubbed(format!(
                "{changed} changed after the recording was checked; nothing was deleted. Check the folder, then run again"
            ))));
        }
        let marks_name = &opts.pipeline.redact.marks;
        let rels: Vec<PathBuf> = j.inventory.iter().map(|e| e.rel.clone()).collect();
        let playlist = rels
            .iter()
            .find(|r| {
                track_kind(r, marks_name).is_none() && r.extension().is_some_and(|x| x == "m3u")
            })
            .and_then(|r| std::fs::read(j.source.join(r)).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let segments = discover::segments::of_paths(&rels, marks_name, playlist.as_deref());
        let files: Vec<SegmentFile> = j
            .inventory
            .iter()
            .zip(segments)
            .map(|(e, segment)| SegmentFile {
                file: PlanFile {
                    path: j.source.join(&e.rel),
                    kind: track_kind(&e.rel, marks_name),
                },
                segment,
            })
            .collect();
        let ns = Duration::from_nanos;
        let ranges = if j.segment_ranges_ns.is_empty() {
            SegmentRanges::single(
                j.ranges_ns
                    .iter()
                    .map(|&(a, b)| Range::new(ns(a), ns(b)))
                    .collect(),
            )
        } else {
            SegmentRanges::from_pairs(
                j.segment_ranges_ns
                    .iter()
                    .map(|&(s, a, b)| (s, Range::new(ns(a), ns(b)))),
            )
        };
        let mode = opts.pipeline.redact.mode;
        let plans = plan_segments(&files, &opts.pipeline.keep, mode, &ranges).map_err(|e| {
            let text = scrubbed(e.to_string());
            Stop::Broken(format!("{text}; nothing of this recording was processed"))
        })?;
        let sealed = !opts.recipients.is_empty();
        let protection = if sealed {
            Protection::Sealed(&opts.recipients)
        } else {
            Protection::Plain
        };
        let check_opens = opts.pipeline.cleanup.after == CleanupAfter::Sealed;
        let jobs = jobs(j, &plans, &staging_dir(opts, j), sealed);
        let send_now = match &opts.pipeline.destination {
            Some(d) if !check_opens => Some(d.verify()),
            _ => None,
        };

        let mut staged_now = 0;
        let mut upload_stop: Option<Stop> = None;
        let mut outcome: Result<(), Stop> = Ok(());
        let abandon = AtomicBool::new(false);
        std::thread::scope(|s| {
            let (tx, rx) = channel();
            let (jobs, abandon) = (&jobs, &abandon);
            let stop = opts.stop;
            s.spawn(move || produce(jobs, mode, protection, check_opens, &[stop, abandon], tx));
            for report in rx {
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
                let step = result
                    .map_err(|e| {
                        let text = scrubbed(e.to_string());
                        match e {
                            StageError::Produce(_) => Stop::Broken(text),
                            _ => Stop::Failed(text),
                        }
                    })
                    .and_then(|staged| {
                        j.outputs.push(output(&jobs[i], staged));
                        opts.state.save(j).map_err(|e| Stop::Failed(e.to_string()))
                    });
                if let Err(stop) = step {
                    outcome = Err(stop);
                    // The helper stops after the output it is making.
                    abandon.store(true, Ordering::SeqCst);
                    break;
                }
                staged_now += 1;
                (opts.fault_hook)("staged-output");
                if let (Some(verify), None) = (send_now, &upload_stop) {
                    let last = j.outputs.len() - 1;
                    if let Err(stop) = self.upload_output(j, last, verify, events) {
                        upload_stop = Some(stop);
                    }
                }
            }
        });
        outcome?;
        if staged_now < jobs.len() {
            return Err(Stop::Waiting(
                "stopped on request after a completed output; the next run resumes it".into(),
            ));
        }
        j.step = Step::Staged;
        if check_opens {
            // `after = "sealed"`: every output opened with its key above.
            self.remove_interim(j)?;
        }
        match upload_stop {
            None => Ok(()),
            Some(stop) => {
                // Staging is complete and durable; the upload's trouble is
                // what this step reports.
                opts.state
                    .save(j)
                    .map_err(|e| Stop::Failed(e.to_string()))?;
                Err(stop)
            }
        }
    }
}

/// The outputs still to stage, with their remote names (numbered per kind
/// in plan order over every output, staged before or not). The quickest to
/// make come first (copies, then remuxes, then decoded audio), so the
/// first upload starts as soon as it can.
fn jobs<'p>(
    j: &Journal,
    plans: &'p [FilePlan],
    staging: &std::path::Path,
    sealed: bool,
) -> Vec<Job<'p>> {
    let mut counts: HashMap<(Option<TrackKind>, Option<u32>), usize> = HashMap::new();
    let mut jobs = Vec::new();
    for p in plans.iter().filter(|p| p.output.is_some()) {
        let n = counts.entry((p.kind, p.segment)).or_insert(0);
        *n += 1;
        let ext = p
            .output
            .as_ref()
            .and_then(|o| o.extension())
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let what = match p.segment {
            Some(s) => format!("{}-s{s}", label(p.kind, *n)),
            None => label(p.kind, *n),
        };
        let remote = remote_name(&j.stamp, &j.id, &what, &ext, sealed);
        if j.outputs.iter().any(|o| o.remote == remote) {
            continue; // staged before a crash
        }
        jobs.push(Job {
            plan: p,
            staged: staging.join(&remote),
            remote,
            input: p
                .path
                .strip_prefix(&j.source)
                .unwrap_or(&p.path)
                .to_path_buf(),
            ext,
        });
    }
    jobs.sort_by_key(|job| making_cost(&job.plan.fate));
    jobs
}

/// How much work making an output of this fate is, per byte, as a rank.
fn making_cost(fate: &Fate) -> u8 {
    match fate {
        Fate::Copy => 0,
        Fate::Video => 1,
        Fate::Audio {
            format: AudioFormat::M4a,
        } => 2,
        Fate::Audio {
            format: AudioFormat::Wav,
        } => 3,
        Fate::Drop { .. } => 4,
    }
}

/// The helper thread: stages each job in turn, reporting progress and
/// each result; stops after the first failure, when any of `stops` is
/// set, or when nobody listens any more.
fn produce(
    jobs: &[Job<'_>],
    mode: RedactMode,
    protection: Protection<'_>,
    check_opens: bool,
    stops: &[&AtomicBool],
    tx: Sender<Report>,
) {
    for (i, job) in jobs.iter().enumerate() {
        if stops.iter().any(|s| s.load(Ordering::SeqCst)) {
            return;
        }
        let mut progress = |done: u64| {
            let _ = tx.send(Report::Progress { job: i, done });
        };
        let result = stage(
            job.plan,
            mode,
            &job.plan.marked,
            protection,
            &job.staged,
            check_opens,
            &mut progress,
        );
        let failed = result.is_err();
        if tx.send(Report::Staged { job: i, result }).is_err() || failed {
            return;
        }
    }
}

/// The journal's record of a staged output.
fn output(job: &Job<'_>, staged: Staged) -> journal::Output {
    journal::Output {
        remote: job.remote.clone(),
        staged: job.staged.clone(),
        inputs: vec![job.input.clone()],
        kind: describe_output(job.plan.kind, &job.ext),
        plain_sha256: staged.plain_sha256,
        plain_len: staged.plain_len,
        staged_sha256: staged.staged_sha256,
        staged_len: staged.staged_len,
        ranges: staged
            .report
            .removed
            .iter()
            .map(|r| (r.start.as_secs_f64(), r.end.as_secs_f64()))
            .collect(),
        verified: false,
    }
}
