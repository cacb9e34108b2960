//! The audit manifest: one JSON document per recording, sealed and
//! uploaded beside its outputs, that says what was there, what was cut,
//! what was made and sent, how it was verified and what was deleted.
//!
//! Invariant: this is the only record that maps remote names back to the
//! recording's topic, file and participant names and mark notes; it never
//! leaves the PC unsealed in a pipeline that seals.

use crate::config::Pipeline;
use crate::journal::Journal;
use serde_json::json;

/// The manifest of a recording whose outputs are verified and whose
/// interim copy is cleaned up.
pub fn build(pipeline: &Pipeline, j: &Journal, destination: &str) -> Vec<u8> {
    let folder = j
        .source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let inventory: Vec<_> = j
        .inventory
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({
                "name": e.rel,
                "size": e.id.size,
                "symlink": e.is_symlink(),
                "sha256": j.input_sha256.get(i).cloned().flatten(),
            })
        })
        .collect();
    let outputs: Vec<_> = j
        .outputs
        .iter()
        .map(|o| {
            json!({
                "name": o.remote,
                "made_from": o.inputs,
                "kind": o.kind,
                "plaintext": { "size": o.plain_len, "sha256": o.plain_sha256 },
                "uploaded": { "size": o.staged_len, "sha256": o.staged_sha256 },
                "removed_seconds": o.ranges,
                "verified": o.verified,
                "checked": j.deliveries.get(&o.remote).and_then(|d| d.checked.clone()),
                "silent_throughout": o.silent,
            })
        })
        .collect();
    let doc = json!({
        "recpipe_manifest": 1,
        "recpipe_version": env!("CARGO_PKG_VERSION"),
        "pipeline": { "name": pipeline.name, "classification": pipeline.classification },
        "recording": { "id": j.id, "folder": folder, "start": j.stamp },
        "inventory": inventory,
        "marks": j.marks.iter().map(|m| json!({ "line": m.line, "text": m.text, "note": m.note })).collect::<Vec<_>>(),
        "ranges_seconds": j.ranges_ns.iter().map(|&(a, b)| (a as f64 / 1e9, b as f64 / 1e9)).collect::<Vec<_>>(),
        "outputs": outputs,
        "destination": destination,
        "verification": pipeline.destination.as_ref().map(|d| d.verify()),
        "cleanup": j.cleanup.as_ref().map(|c| json!({
            "method": c.method,
            "removed_files": c.removed,
            "left": c.left.iter().map(|(p, why)| json!({ "name": p, "why": why })).collect::<Vec<_>>(),
            "at": c.at,
        })),
        "started": j.started,
        "completed": crate::journal::now_text(),
    });
    serde_json::to_vec_pretty(&doc).unwrap_or_default()
}
