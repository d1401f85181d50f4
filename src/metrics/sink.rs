//! The sink that counts: every event passes through on its way to the
//! real sink (the text or JSON writer), and what it says goes into the
//! [`Metrics`].

use super::{FeatureLabels, KindLabels, MessageLabels, Metrics, TransportLabels};
use crate::analyzer::event::FlowEvent;
use crate::analyzer::peer::commands::{COUNTED, OTHER};
use crate::analyzer::peer::micros;
use crate::analyzer::{Event, Sink};
use crate::capture::Timestamp;
use crate::p2p::message::Message;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

/// Pings awaiting their pong per flow (Core has one in flight; older ones
/// are dropped first).
const PENDING_PINGS: usize = 8;

/// What the sink remembers of an open flow.
struct OpenFlow {
    client: SocketAddr,
    /// (sender, nonce, time) of pings not yet answered.
    pings: Vec<(SocketAddr, u64, Timestamp)>,
}

/// Passes every event on to `inner`, counting it on the way.
pub struct MetricsSink<'s> {
    inner: Box<dyn Sink + 's>,
    metrics: Metrics,
    /// Flows started and not ended (bounded by the flow table's cap).
    flows: HashMap<u64, OpenFlow>,
}

/// The label of a command: itself when the decoder knows it, else
/// `(other)` (one series however many made-up commands arrive).
fn command_label(command: &[u8]) -> &'static str {
    COUNTED
        .iter()
        .find(|c| c.as_bytes() == command)
        .copied()
        .unwrap_or(OTHER)
}

/// The feature a handshake message asks for, if it is one.
fn feature(message: &Message<'_>) -> Option<&'static str> {
    Some(match message {
        Message::WtxidRelay => "wtxidrelay",
        Message::SendAddrV2 => "sendaddrv2",
        Message::SendHeaders => "sendheaders",
        Message::SendCmpct(c) if c.announce => "sendcmpct_high_bandwidth",
        Message::SendCmpct(_) => "sendcmpct_low_bandwidth",
        Message::FeeFilter(_) => "feefilter",
        Message::SendTxRcncl(_) => "sendtxrcncl",
        _ => return None,
    })
}

impl<'s> MetricsSink<'s> {
    pub fn new(inner: Box<dyn Sink + 's>, metrics: Metrics) -> Self {
        MetricsSink {
            inner,
            metrics,
            flows: HashMap::new(),
        }
    }

    fn count(&mut self, event: &Event<'_, '_>) {
        match event {
            Event::Message {
                meta,
                frame,
                message,
            } => {
                let flow = self.flows.get_mut(&meta.flow);
                let direction = match &flow {
                    Some(f) if f.client == meta.src => "c2s",
                    Some(_) => "s2c",
                    None => "unknown",
                };
                let labels = MessageLabels {
                    command: command_label(frame.command.as_bytes()),
                    direction,
                    network: frame.network.name(),
                };
                let m = &self.metrics;
                m.messages.get_or_create(&labels).inc();
                m.message_bytes
                    .get_or_create(&labels)
                    .inc_by(u64::from(frame.length));
                let Ok(message) = message else { return };
                if let Some(name) = feature(message) {
                    let labels = FeatureLabels { feature: name };
                    m.features.get_or_create(&labels).inc();
                }
                if let Some(flow) = flow {
                    ping_pong(flow, meta.src, meta.ts, message, &m.ping_rtt);
                }
            }
            Event::Finding { finding, .. } | Event::PeerFinding { finding, .. } => {
                let labels = KindLabels {
                    kind: finding.kind(),
                };
                self.metrics.findings.get_or_create(&labels).inc();
            }
            Event::Flow(record) => {
                let labels = TransportLabels {
                    transport: record.transport.name(),
                };
                match record.event {
                    FlowEvent::Start => {
                        let open = OpenFlow {
                            client: record.client,
                            pings: Vec::new(),
                        };
                        self.flows.insert(record.flow, open);
                        self.metrics.flows.get_or_create(&labels).inc();
                        self.metrics.flows_open.get_or_create(&labels).inc();
                    }
                    FlowEvent::End if self.flows.remove(&record.flow).is_some() => {
                        self.metrics.flows_open.get_or_create(&labels).dec();
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// A ping is remembered; a pong from the other side with its nonce is a
/// round trip.
fn ping_pong(
    flow: &mut OpenFlow,
    src: SocketAddr,
    ts: Timestamp,
    message: &Message<'_>,
    histogram: &prometheus_client::metrics::histogram::Histogram,
) {
    match message {
        Message::Ping(p) => {
            if let Some(nonce) = p.nonce {
                if flow.pings.len() >= PENDING_PINGS {
                    flow.pings.remove(0);
                }
                flow.pings.push((src, nonce, ts));
            }
        }
        Message::Pong(p) => {
            let answered = flow
                .pings
                .iter()
                .position(|(from, nonce, _)| *from != src && *nonce == p.nonce);
            if let Some(i) = answered {
                let (_, _, sent) = flow.pings.remove(i);
                histogram.observe(micros(sent, ts) as f64 / 1e6);
            }
        }
        _ => {}
    }
}

impl Sink for MetricsSink<'_> {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()> {
        self.count(event);
        self.inner.event(event)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    fn unwritten(&self) -> Option<usize> {
        self.inner.unwritten()
    }

    fn take_unwritten(&mut self, spare: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        self.inner.take_unwritten(spare)
    }
}
