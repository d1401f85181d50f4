//! The front of the parallel pipeline: the flow table's handler in the
//! reading thread. Every call the table makes (a flow starts, stream data,
//! a gap, a flow ends) becomes one operation for the worker that owns the
//! flow, numbered by its place in a round; the round's route (which worker
//! each operation went to) lets the merge put the workers' output back in
//! the order of the calls, which is the single-threaded order.

use super::affinity::Affinity;
use super::budget::OutputBudget;
use super::{Batch, Counts, Ident, Op, OpKind, Round, SharedSource};
use crate::capture::Timestamp;
use crate::flow::{EndReason, FlowHandler, FlowInfo, StreamEvent};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender};

/// A round is sent when its data reaches this many bytes...
const ROUND_BYTES: usize = 256 * 1024;
/// ...or this many operations (well below the summary's flow list cap, so
/// that a worker's flow records of one round are never cut).
const ROUND_OPS: usize = 1024;

/// Where a flow's analysis lives: its worker, and its slot there.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    worker: u16,
    slot: u32,
}

pub struct Front {
    /// Capture time of the packet being handled (the analyzer's `now`).
    pub now: Timestamp,
    batches: Vec<Batch>,
    route: Vec<u16>,
    round_bytes: usize,
    /// Per worker: slots given back by ended flows, and the next new one.
    free_slots: Vec<Vec<u32>>,
    next_slot: Vec<u32>,
    /// Which worker a flow goes to.
    affinity: Affinity,
    to_workers: Vec<SyncSender<Batch>>,
    /// Batches the workers are done with, to be filled again.
    spare: Vec<Receiver<Batch>>,
    to_merge: SyncSender<Round>,
    /// The merge stopped (an output error): nothing more is sent.
    pub stopped: bool,
    /// What packets borrow from, when it outlives them: stream data in it
    /// goes to the workers as a range, not copied.
    source: Option<SharedSource>,
    /// What of `source` rounds in flight still refer to.
    held: Held,
    /// Output not yet written, and the rounds the merge has written.
    budget: Arc<OutputBudget>,
}

/// Which bytes of the source the rounds not yet written refer to, so that
/// the reader gives back no page a worker is still to read (it would be
/// faulted in again and stay resident). Shared ranges only grow with the
/// file's offsets (they are in-order data straight from the packet being
/// read), so the first range of the oldest round in flight is the bound.
#[derive(Default)]
struct Held {
    /// Rounds sent to the merge so far.
    sent: u64,
    /// Per round in flight that has shared ranges: its number, and the
    /// offset of its first range.
    rounds: VecDeque<(u64, usize)>,
    /// The first shared range of the round being built.
    building: Option<usize>,
}

impl Held {
    /// A round goes out.
    fn sent(&mut self) {
        if let Some(first) = self.building.take() {
            self.rounds.push_back((self.sent, first));
        }
        self.sent += 1;
    }

    /// From where the rounds not yet written need the source
    /// (`usize::MAX`: nowhere), once the merge has written `written`.
    fn needed_from(&mut self, written: u64) -> usize {
        while self.rounds.front().is_some_and(|&(n, _)| n < written) {
            self.rounds.pop_front();
        }
        match self.rounds.front() {
            Some(&(_, first)) => first,
            None => self.building.unwrap_or(usize::MAX),
        }
    }
}

impl Front {
    pub fn new(
        to_workers: Vec<SyncSender<Batch>>,
        spare: Vec<Receiver<Batch>>,
        to_merge: SyncSender<Round>,
        budget: Arc<OutputBudget>,
    ) -> Front {
        let n = to_workers.len();
        Front {
            now: Timestamp::default(),
            batches: (0..n).map(|_| Batch::default()).collect(),
            route: Vec::new(),
            round_bytes: 0,
            free_slots: vec![Vec::new(); n],
            next_slot: vec![0; n],
            affinity: Affinity::new(n),
            to_workers,
            spare,
            to_merge,
            stopped: false,
            source: None,
            held: Held::default(),
            budget,
        }
    }

    /// Packets now borrow from `source` (see
    /// [`crate::analyzer::Pipeline::set_source`]): the round so far goes
    /// out first, so that a batch refers to one source.
    pub fn set_source(&mut self, source: Option<SharedSource>) {
        self.send_round();
        if let Some(old) = &self.source {
            old.hold_from(usize::MAX);
        }
        self.held.rounds.clear();
        self.source = source;
    }

    /// Tells the source what the rounds in flight still need (after each
    /// packet).
    pub fn hold_source(&mut self) {
        if let Some(source) = &self.source {
            let written = self.budget.written.load(Ordering::Relaxed);
            source.hold_from(self.held.needed_from(written));
        }
    }

    /// Where `bytes` are in the source, when they are in it.
    fn in_source(&self, bytes: &[u8]) -> Option<(usize, usize)> {
        let whole = self.source.as_ref()?.bytes();
        let start = (bytes.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
        let end = start.checked_add(bytes.len())?;
        (end <= whole.len()).then_some((start, end))
    }

    fn push(&mut self, route: Route, info: &FlowInfo, kind: OpKind) {
        self.push_op(route, Counts::of(info), kind);
    }

    fn push_op(&mut self, route: Route, counts: Counts, kind: OpKind) {
        let w = usize::from(route.worker);
        let Some(batch) = self.batches.get_mut(w) else {
            return;
        };
        batch.ops.push(Op {
            slot: route.slot,
            now: self.now,
            counts,
            kind,
        });
        self.route.push(route.worker);
        if self.round_bytes >= ROUND_BYTES || self.route.len() >= ROUND_OPS {
            self.send_round();
        }
    }

    /// A note from the source: written by the first worker, in order.
    pub fn note(&mut self, ts: Timestamp, source: &'static str, text: &str) {
        let route = Route { worker: 0, slot: 0 };
        let kind = OpKind::Note {
            ts,
            source,
            text: text.into(),
        };
        self.push_op(route, Counts::default(), kind);
    }

    /// An open flow's snapshot, made by its worker (live, on SIGUSR1).
    pub fn snapshot(&mut self, info: &FlowInfo, route: Route) {
        let facts = Box::new(super::EndFacts::of(info));
        self.push(route, info, OpKind::Snapshot(facts));
    }

    /// Key-log bytes for every worker, in order with the flows' events.
    pub fn keylog(&mut self, bytes: &[u8]) {
        let bytes: std::sync::Arc<[u8]> = bytes.into();
        for w in 0..self.to_workers.len() {
            let route = Route {
                worker: w as u16,
                slot: 0,
            };
            self.push_op(route, Counts::default(), OpKind::KeyLog(bytes.clone()));
        }
    }

    /// Hands the round to the workers and its route to the merge.
    pub fn send_round(&mut self) {
        if self.route.is_empty() || self.stopped {
            self.route.clear();
            return;
        }
        let most = super::ROUNDS_IN_FLIGHT as u64;
        self.budget.wait_for_room(self.held.sent, most);
        for ((batch, tx), spare) in self
            .batches
            .iter_mut()
            .zip(&self.to_workers)
            .zip(&self.spare)
        {
            if batch.ops.is_empty() {
                continue;
            }
            batch.round = self.held.sent;
            let full = std::mem::replace(batch, spare.try_recv().unwrap_or_default());
            if tx.send(full).is_err() {
                self.stopped = true;
            }
        }
        let route = std::mem::take(&mut self.route);
        if self.to_merge.send(Round { route }).is_err() {
            self.stopped = true;
        }
        self.held.sent();
        self.round_bytes = 0;
    }
}

impl FlowHandler<Route> for Front {
    fn new_flow(&mut self, info: &FlowInfo) -> Route {
        let worker = self.affinity.start(info, self.now);
        let slot = match self.free_slots.get_mut(worker).and_then(Vec::pop) {
            Some(slot) => slot,
            None => {
                let next = self.next_slot.get_mut(worker);
                let slot = next.as_deref().copied().unwrap_or(0);
                if let Some(next) = next {
                    *next += 1;
                }
                slot
            }
        };
        let route = Route {
            worker: worker as u16,
            slot,
        };
        self.push(route, info, OpKind::New(Box::new(Ident::of(info))));
        route
    }

    fn event(&mut self, info: &FlowInfo, route: &mut Route, ev: StreamEvent<'_>) {
        let kind = match ev {
            StreamEvent::Data { dir, ts, bytes } => {
                let in_source = self.in_source(bytes);
                let Some(batch) = self.batches.get_mut(usize::from(route.worker)) else {
                    return;
                };
                self.round_bytes += bytes.len();
                match in_source {
                    // In order, straight from a packet of the file: a range.
                    Some((start, end)) => {
                        if batch.source.is_none() {
                            batch.source.clone_from(&self.source);
                        }
                        self.held.building.get_or_insert(start);
                        OpKind::Data {
                            dir,
                            ts,
                            start,
                            end,
                            shared: true,
                        }
                    }
                    // Reassembled out of order, or packets that do not
                    // outlive the call: copied.
                    None => {
                        let start = batch.data.len();
                        batch.data.extend_from_slice(bytes);
                        OpKind::Data {
                            dir,
                            ts,
                            start,
                            end: batch.data.len(),
                            shared: false,
                        }
                    }
                }
            }
            StreamEvent::Gap {
                dir,
                ts,
                offset,
                bytes,
            } => OpKind::Gap {
                dir,
                ts,
                offset,
                bytes,
            },
        };
        self.push(*route, info, kind);
    }

    fn end(&mut self, info: &FlowInfo, route: Route, reason: EndReason) {
        self.affinity.end(info, reason, self.now);
        if let Some(free) = self.free_slots.get_mut(usize::from(route.worker)) {
            free.push(route.slot);
        }
        let facts = Box::new(super::EndFacts::of(info));
        self.push(route, info, OpKind::End(reason, facts));
    }
}

#[cfg(test)]
mod tests {
    use super::Held;

    #[test]
    fn the_oldest_round_in_flight_with_shared_ranges_bounds_the_hold() {
        let mut held = Held::default();
        assert_eq!(held.needed_from(0), usize::MAX, "nothing in flight");
        held.building = Some(1000);
        assert_eq!(held.needed_from(0), 1000, "the round being built");
        held.sent(); // round 0, from 1000
        held.sent(); // round 1, no shared range
        held.building = Some(5000);
        held.sent(); // round 2, from 5000
        assert_eq!(held.needed_from(0), 1000);
        assert_eq!(held.needed_from(1), 5000, "round 0 written");
        assert_eq!(held.needed_from(2), 5000, "round 2 still in flight");
        held.building = Some(9000);
        assert_eq!(held.needed_from(3), 9000, "only the round being built");
        held.building = None;
        assert_eq!(held.needed_from(3), usize::MAX);
    }
}
