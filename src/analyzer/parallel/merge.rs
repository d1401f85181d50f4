//! The merge: the one place that decides the order of the output. For
//! each round it takes the route from the front and each worker's output,
//! and writes the operations' output in the order of the route, which is
//! the order the single-threaded analyzer would have written it in. The
//! summary's order-dependent parts (which command names are listed, the
//! flow list) are decided here in the same order.

use super::tally::{self, CommandCount};
use super::{Round, RoundOutput, WorkerOutput};
use crate::analyzer::Stats;
use crate::analyzer::announce::{Observation, Table};
use crate::analyzer::stats::{FlowStats, MAX_LISTED_FLOWS};
use std::io::{self, IoSlice, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};

/// What the merge counted, for the summary.
pub struct Merged {
    /// The workers' statistics, added up, with the command list and the
    /// flow list in the global order.
    pub stats: Stats,
    /// Each worker's share of the work.
    pub load: Vec<super::WorkerLoad>,
}

/// What the merge counts as it goes, for the reading thread.
pub struct Counters<'a> {
    /// Messages written (progress display).
    pub messages: &'a AtomicU64,
    /// Rounds and bytes written (what the workers no longer need of the
    /// input, and how much output waits).
    pub budget: &'a super::budget::OutputBudget,
}

pub fn run(
    rounds: Receiver<Round>,
    workers: Vec<Receiver<WorkerOutput>>,
    spare_bytes: Vec<Sender<Vec<u8>>>,
    out: &mut dyn Write,
    counters: Counters<'_>,
    board: Option<crate::analyzer::announce::Board>,
) -> io::Result<Merged> {
    let _close = super::budget::CloseOnDrop(counters.budget);
    let n = workers.len();
    let mut stats = Stats::default();
    let mut load: Vec<super::WorkerLoad> = (0..n)
        .map(|worker| super::WorkerLoad {
            worker,
            ..Default::default()
        })
        .collect();
    let gone = || io::Error::other("a worker of the parallel pipeline stopped");
    let mut announce = Table::default();
    if let Some(board) = board {
        announce.publish_on(board);
    }
    for round in rounds {
        let mut outputs: Vec<Option<RoundOutput>> = (0..n).map(|_| None).collect();
        let mut seen = vec![false; n];
        for &w in &round.route {
            if let Some(s) = seen.get_mut(usize::from(w)) {
                *s = true;
            }
        }
        for (w, rx) in workers.iter().enumerate() {
            if seen.get(w) == Some(&true) {
                match rx.recv() {
                    Ok(WorkerOutput::Round(o)) => outputs[w] = Some(o),
                    _ => return Err(gone()),
                }
            }
        }
        // Per worker: the round-wide position of each of its operations.
        let mut place: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut written = vec![0usize; n];
        let mut slices: Vec<IoSlice<'_>> = Vec::new();
        let mut i = 0;
        while i < round.route.len() {
            // A run of operations of one worker is one slice.
            let w = usize::from(round.route[i]);
            let mut j = i;
            while j < round.route.len() && usize::from(round.route[j]) == w {
                place[w].push(j as u32);
                j += 1;
            }
            let o = outputs[w].as_ref().ok_or_else(gone)?;
            let done = place[w].len();
            let end = *o.ends.get(done - 1).ok_or_else(gone)?;
            let slice = o.bytes.get(written[w]..end).ok_or_else(gone)?;
            if !slice.is_empty() {
                slices.push(IoSlice::new(slice));
            }
            written[w] = end;
            i = j;
        }
        let bytes = slices.iter().map(|s| s.len()).sum();
        write_all_vectored(out, &mut slices)?;
        drop(slices);
        counters.budget.wrote(bytes);
        let mut commands: Vec<(u32, CommandCount)> = Vec::new();
        let mut flows: Vec<(u32, FlowStats)> = Vec::new();
        let mut announced: Vec<(u32, Observation)> = Vec::new();
        for (w, o) in outputs.into_iter().enumerate() {
            let Some(o) = o else { continue };
            if let Some(l) = load.get_mut(w) {
                l.events += o.ends.len() as u64;
                l.messages += o.commands.iter().map(|c| c.count).sum::<u64>();
            }
            if o.bytes.capacity() <= super::KEEP_OUTPUT_AT_MOST
                && let Some(back) = spare_bytes.get(w)
            {
                let _ = back.send(o.bytes);
            }
            let at = |op: u32| place[w].get(op as usize).copied().unwrap_or(u32::MAX);
            commands.extend(o.commands.into_iter().map(|c| (at(c.first_op), c)));
            flows.extend(o.flows.into_iter().map(|(op, f)| (at(op), f)));
            announced.extend(o.announced.into_iter().map(|(op, a)| (at(op), a)));
        }
        // Stable: an operation's announcements stay in the worker's order,
        // so the table is fed as the single-threaded analyzer feeds it.
        announced.sort_by_key(|a| a.0);
        for (_, a) in announced {
            announce.observe(a.kind, a.hash, a.peer, a.ts);
        }
        announce.publish_if_due();
        commands.sort_by_key(|c| c.0);
        let before = stats.by_command.values().map(|c| c.count).sum::<u64>();
        tally::list_in_order(&mut stats, commands.into_iter().map(|c| c.1));
        let after = stats.by_command.values().map(|c| c.count).sum::<u64>();
        counters
            .messages
            .fetch_add(after - before, Ordering::Relaxed);
        // Stable: one operation ends at most one flow.
        flows.sort_by_key(|f| f.0);
        for (_, f) in flows {
            if stats.flows.len() < MAX_LISTED_FLOWS {
                stats.flows.push(f);
            } else {
                stats.flows_not_listed += 1;
            }
        }
    }
    out.flush()?;
    for (rx, l) in workers.iter().zip(&mut load) {
        match rx.recv() {
            Ok(WorkerOutput::Done(worker, flows)) => {
                add(&mut stats, *worker);
                l.flows = flows;
            }
            _ => return Err(gone()),
        }
    }
    stats.announce = announce.finish();
    Ok(Merged { stats, load })
}

/// Writes every slice (a `writev` per up to 1024 of them on a file).
fn write_all_vectored(out: &mut dyn Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !slices.is_empty() {
        let end = slices.len().min(1024);
        let n = match out.write_vectored(&slices[..end]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        IoSlice::advance_slices(&mut slices, n);
    }
    Ok(())
}

/// Adds a worker's statistics (every field but the lists the merge keeps
/// in order: by_command, flows).
fn add(total: &mut Stats, worker: Stats) {
    let Stats {
        packets,
        packets_skipped,
        packets_cut_by_snaplen,
        unsupported_link_types,
        messages,
        message_bytes,
        checksum_invalid,
        checksum_absent,
        decode_errors,
        gaps,
        gap_bytes,
        flows_v1,
        flows_v2,
        flows_v2_decrypted,
        messages_v2,
        flows_unknown,
        by_command,
        findings,
        flows,
        flows_not_listed,
        peers,
        peers_not_listed,
        capture,
        workers,
        announce,
    } = worker;
    // Kept by the front (packets) or by the merge (lists); a worker has
    // no peers of Core's message capture and no live counters.
    debug_assert!(by_command.is_empty() && flows.is_empty() && peers.is_empty());
    debug_assert!(capture.is_none() && peers_not_listed == 0 && workers.is_empty());
    // The merge feeds the one table (workers hand over observations).
    debug_assert!(announce.announcers.is_empty() && announce.txs_seen == 0);
    total.packets += packets;
    total.packets_skipped += packets_skipped;
    total.packets_cut_by_snaplen += packets_cut_by_snaplen;
    for (link, n) in unsupported_link_types {
        *total.unsupported_link_types.entry(link).or_default() += n;
    }
    total.messages += messages;
    total.message_bytes += message_bytes;
    total.checksum_invalid += checksum_invalid;
    total.checksum_absent += checksum_absent;
    total.decode_errors += decode_errors;
    total.gaps += gaps;
    total.gap_bytes += gap_bytes;
    total.flows_v1 += flows_v1;
    total.flows_v2 += flows_v2;
    total.flows_v2_decrypted += flows_v2_decrypted;
    total.messages_v2 += messages_v2;
    total.flows_unknown += flows_unknown;
    for (kind, n) in findings {
        *total.findings.entry(kind).or_default() += n;
    }
    total.flows_not_listed += flows_not_listed;
}
