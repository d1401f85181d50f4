//! A worker: the analyzer's per-flow handler for its share of the flows.
//! It takes the operations of each round in order and formats the events
//! they make into its own buffer, noting where each operation's output
//! ends, so that the merge can interleave the workers' output exactly.

use super::tally::CommandTally;
use super::{Batch, Ident, OpKind, RoundOutput, SharedBuf, SinkFactory, WorkerLinks, WorkerOutput};
use crate::analyzer::announce::Recorder;
use crate::analyzer::flow_state::{FlowState, Handler};
use crate::analyzer::{AnalyzerConfig, Sink};
use crate::flow::{FlowHandler, StreamEvent};
use crate::p2p::v2::KeyLog;

/// A flow this worker analyses: what does not change of its info, and the
/// analyzer's state, made when the first stream content comes (a flow of a
/// SYN flood never has any: the analyzer's `new_flow` only builds state).
type Flow = Box<(Ident, Option<Box<FlowState>>)>;

/// The flow's analyzer state, made on first use.
fn state_of<'f>(
    handler: &mut Handler<'_>,
    state: &'f mut Option<Box<FlowState>>,
    info: &crate::flow::FlowInfo,
) -> &'f mut FlowState {
    state.get_or_insert_with(|| Box::new(handler.new_flow(info)))
}

/// How much output the sink holds beyond `buf`: flushed into `buf` when
/// the sink does not say.
fn unwritten(sink: &mut dyn Sink) -> usize {
    sink.unwritten().unwrap_or_else(|| {
        // Into `buf`: writing to memory does not fail.
        let _ = sink.flush();
        0
    })
}

/// The round's output: the sink's own buffer when it holds all of it (no
/// copy), else everything flushed into `buf`.
fn take_output(sink: &mut dyn Sink, buf: &SharedBuf, spare: Vec<u8>) -> Vec<u8> {
    let spare = if buf.len() == 0 {
        match sink.take_unwritten(spare) {
            Ok(bytes) => return bytes,
            Err(spare) => spare,
        }
    } else {
        spare
    };
    let _ = sink.flush();
    buf.swap(spare)
}

/// Asks the CPU for what the next operation reads: its stream data in the
/// capture file, last touched by the reading thread on another core.
fn prefetch(op: &super::Op, source: Option<&crate::capture::MappedFile>) {
    if let (
        OpKind::Data {
            start,
            end,
            shared: true,
            ..
        },
        Some(source),
    ) = (&op.kind, source)
        && let Some(bytes) = source.bytes().get(*start..*end)
    {
        crate::prefetch::lines(bytes.as_ptr(), bytes.len().min(256));
    }
}

/// How far ahead operations are fetched (written by the reading thread
/// on another core, each a cache miss the hardware prefetcher did not
/// hide: the load of an operation was 30% of this loop on inv traffic).
const OPS_AHEAD: usize = 4;

pub fn run(
    config: AnalyzerConfig,
    keylog: Option<KeyLog>,
    make_sink: SinkFactory,
    links: WorkerLinks,
) {
    let config_announce = config.announce;
    let buf = SharedBuf::default();
    let mut sink = make_sink(buf.clone());
    let mut handler = Handler::new(config, sink.as_mut());
    if let Some(log) = keylog {
        handler.v2.set_keylog(log);
    }
    handler.tally = Some(CommandTally::default());
    if config_announce {
        handler.announce = Recorder::Round(Vec::new());
    }
    let mut flows: Vec<Option<Flow>> = Vec::new();
    let mut flows_started = 0u64;
    for Batch {
        round,
        mut ops,
        data,
        source,
    } in links.batches
    {
        links.budget.wait_turn(round);
        let mut ends = Vec::with_capacity(ops.len());
        let mut flow_ends = Vec::new();
        let (first_op, count) = (ops.as_ptr(), ops.len());
        let mut drained = ops.drain(..).enumerate().peekable();
        while let Some((i, op)) = drained.next() {
            if let Some((_, next)) = drained.peek() {
                prefetch(next, source.as_deref());
            }
            if i + OPS_AHEAD < count {
                let ahead = first_op.wrapping_add(i + OPS_AHEAD);
                crate::prefetch::lines(ahead, std::mem::size_of::<super::Op>());
            }
            let op_index = i as u32;
            if let Some(t) = handler.tally.as_mut() {
                t.op = op_index;
            }
            handler.now = op.now;
            let slot = op.slot as usize;
            match op.kind {
                OpKind::New(ident) => {
                    flows_started += 1;
                    if flows.len() <= slot {
                        flows.resize_with(slot + 1, || None);
                    }
                    if let Some(place) = flows.get_mut(slot) {
                        *place = Some(Box::new((*ident, None)));
                    }
                }
                OpKind::Data {
                    dir,
                    ts,
                    start,
                    end,
                    shared,
                } => {
                    if let Some(flow) = flows.get_mut(slot).and_then(Option::as_mut) {
                        let (ident, state) = &mut **flow;
                        let info = ident.info(op.counts);
                        let state = state_of(&mut handler, state, &info);
                        let from = match (&source, shared) {
                            (Some(source), true) => source.bytes(),
                            _ => &data[..],
                        };
                        let bytes = from.get(start..end).unwrap_or_default();
                        handler.event(&info, state, StreamEvent::Data { dir, ts, bytes });
                    }
                }
                OpKind::Gap {
                    dir,
                    ts,
                    offset,
                    bytes,
                } => {
                    if let Some(flow) = flows.get_mut(slot).and_then(Option::as_mut) {
                        let (ident, state) = &mut **flow;
                        let info = ident.info(op.counts);
                        let state = state_of(&mut handler, state, &info);
                        let ev = StreamEvent::Gap {
                            dir,
                            ts,
                            offset,
                            bytes,
                        };
                        handler.event(&info, state, ev);
                    }
                }
                OpKind::End(reason, facts) => {
                    if let Some(flow) = flows.get_mut(slot).and_then(Option::take) {
                        let before = handler.stats.flows.len();
                        let (ident, state) = *flow;
                        let mut info = ident.info(op.counts);
                        facts.apply(&mut info);
                        let state = match state {
                            Some(state) => *state,
                            None => handler.new_flow(&info),
                        };
                        handler.end(&info, state, reason);
                        for _ in before..handler.stats.flows.len() {
                            flow_ends.push(op_index);
                        }
                    }
                }
                OpKind::Snapshot(facts) => {
                    // A flow without state saw no data yet: not Bitcoin
                    // so far, no record (as on one thread).
                    if let Some(flow) = flows.get_mut(slot).and_then(Option::as_mut) {
                        let (ident, state) = &mut **flow;
                        if let Some(state) = state.as_deref() {
                            let mut info = ident.info(op.counts);
                            facts.apply(&mut info);
                            handler.snapshot(&info, state);
                        }
                    }
                }
                OpKind::Note { ts, source, text } => {
                    let note = crate::analyzer::Event::Note {
                        ts,
                        source,
                        text: &text,
                    };
                    let _ = handler.sink.event(&note);
                }
                OpKind::KeyLog(bytes) => {
                    if let Some(log) = handler.v2.keylog_mut() {
                        let before = log.entries;
                        log.push(&bytes);
                        if log.entries != before {
                            handler.v2.keylog_grew();
                        }
                    }
                }
            }
            ends.push(buf.len() + unwritten(&mut *handler.sink));
        }
        drop(drained);
        let spare = links.spare_bytes.try_recv().unwrap_or_default();
        let output = RoundOutput {
            bytes: take_output(&mut *handler.sink, &buf, spare),
            ends,
            commands: handler
                .tally
                .as_mut()
                .map(CommandTally::take)
                .unwrap_or_default(),
            announced: match &mut handler.announce {
                Recorder::Round(list) => std::mem::take(list),
                Recorder::Table(_) | Recorder::Off => Vec::new(),
            },
            flows: flow_ends
                .into_iter()
                .zip(std::mem::take(&mut handler.stats.flows))
                .collect(),
        };
        links.keys_awaited.store(
            handler.v2.keys_awaited(),
            std::sync::atomic::Ordering::Relaxed,
        );
        links.budget.made(output.bytes.len());
        let batch = Batch {
            round,
            ops,
            data,
            source,
        };
        if let Some(spare) = batch.recycled() {
            let _ = links.spare_batches.send(spare);
        }
        if links.output.send(WorkerOutput::Round(output)).is_err() {
            return;
        }
    }
    let stats = Box::new(std::mem::take(&mut handler.stats));
    let _ = links.output.send(WorkerOutput::Done(stats, flows_started));
}
