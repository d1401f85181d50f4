//! `read` of Bitcoin Core's message capture: the merged records into the
//! analyzer's framed-message entry.

use crate::analyzer::Finding;
use crate::analyzer::framed::{FramedMessage, PeerId, PeerInfo};
use crate::analyzer::{Analyzer, Progress};
use crate::capture::core_capture::merge::MAX_OPEN_FILES;
use crate::capture::core_capture::record::micros_to_timestamp;
use crate::capture::core_capture::{Item, Merge, RecordError, SOURCE_NAME, discover};
use crate::p2p::Network;
use crate::p2p::frame::FramingFinding;
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
    let mut merge = Merge::with_max_open(specs, open_file_budget());
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
        } => Some(Finding::Framing(FramingFinding::Truncated {
            offset: *offset,
            have: *have,
            needed: *needed,
        })),
        RecordError::Oversize { record, limit } => {
            Some(Finding::Framing(FramingFinding::OversizeLength {
                offset: record.offset,
                command: record.header.command,
                length: record.header.length,
                limit: *limit,
            }))
        }
    }
}

/// Descriptors kept free for everything else (stdio, libraries).
const FD_RESERVE: u64 = 64;

/// How many capture files may be open at once: [`MAX_OPEN_FILES`], within
/// the process's descriptor limit (raised to its hard limit if need be;
/// a soft limit of 1024 is common).
fn open_file_budget() -> usize {
    let want = MAX_OPEN_FILES as u64 + FD_RESERVE;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 16;
        }
        if limit.rlim_cur < want && limit.rlim_max > limit.rlim_cur {
            let raised = libc::rlimit {
                rlim_cur: want.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    let budget = limit
        .rlim_cur
        .saturating_sub(FD_RESERVE)
        .clamp(8, MAX_OPEN_FILES as u64);
    usize::try_from(budget).unwrap_or(MAX_OPEN_FILES)
}
