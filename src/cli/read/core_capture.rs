//! `read` of Bitcoin Core's message capture: the merged records into the
//! analyzer's framed-message entry.

use crate::analyzer::framed::{FramedMessage, PeerId, PeerInfo};
use crate::analyzer::{Analyzer, Progress};
use crate::capture::core_capture::record::micros_to_timestamp;
use crate::capture::core_capture::{Item, Merge, RecordError, SOURCE_NAME, discover};
use crate::output::Finding;
use crate::p2p::Network;
use anyhow::Context;
use std::path::PathBuf;

/// Reads every record under `paths` in time order. Files that cannot be
/// read to their end add a line to `failed` (after a finding, when the
/// damage is in the data).
pub fn read(
    paths: &[PathBuf],
    network: Option<Network>,
    analyzer: &mut Analyzer<'_>,
    failed: &mut Vec<String>,
) -> anyhow::Result<Progress> {
    let (specs, errors) = discover(paths);
    failed.extend(errors.iter().map(ToString::to_string));
    let mut merge = Merge::new(specs);
    // Files of the same peer folder are consecutive: one peer each.
    let mut group = Vec::new();
    let mut folders = 0usize;
    let mut last_folder = None;
    for spec in merge.specs() {
        if last_folder != Some(&spec.peer_folder) {
            folders += 1;
            last_folder = Some(&spec.peer_folder);
        }
        group.push(folders - 1);
    }
    // Registered at their first record: flow numbers in order of
    // appearance.
    let mut peers: Vec<Option<PeerId>> = vec![None; folders];
    while let Some(item) = merge.next() {
        let (stream, spec) = match &item {
            Item::Record { stream, spec, .. } | Item::Failed { stream, spec, .. } => {
                (*stream, *spec)
            }
        };
        let Some(slot) = group.get(stream).and_then(|&g| peers.get_mut(g)) else {
            continue;
        };
        let peer = *slot.get_or_insert_with(|| {
            analyzer.add_peer(PeerInfo {
                label: spec.peer.label.clone(),
                network: network.or(spec.network),
                source: SOURCE_NAME,
            })
        });
        match item {
            Item::Record {
                spec,
                record,
                payload,
                ..
            } => {
                let message = FramedMessage {
                    ts: record.header.timestamp(),
                    peer,
                    direction: spec.direction,
                    command: record.header.command,
                    payload,
                    offset: record.offset,
                };
                let progress = analyzer
                    .framed_message(&message)
                    .context("writing output")?;
                if progress == Progress::Done {
                    return Ok(Progress::Done);
                }
            }
            Item::Failed {
                spec,
                time_micros,
                error,
                ..
            } => {
                if let Some(finding) = finding_for(&error) {
                    let ts = micros_to_timestamp(time_micros);
                    analyzer
                        .framed_finding(peer, spec.direction, ts, finding)
                        .context("writing output")?;
                }
                failed.push(format!("{}: {error}", spec.path.display()));
            }
        }
    }
    Ok(Progress::Continue)
}

/// The finding for damage in a file's data (none for an I/O error).
fn finding_for(error: &RecordError) -> Option<Finding> {
    match error {
        RecordError::Io(_) => None,
        RecordError::Truncated {
            offset,
            have,
            needed,
            ..
        } => Some(Finding::Truncated {
            offset: *offset,
            have: *have,
            needed: *needed,
        }),
        RecordError::Oversize { record, limit } => Some(Finding::OversizeLength {
            offset: record.offset,
            command: String::from_utf8_lossy(record.header.command.as_bytes()).into_owned(),
            length: record.header.length,
            limit: *limit,
        }),
    }
}
