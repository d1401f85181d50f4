//! Prometheus metrics of a live capture (`live --metrics HOST:PORT`): a
//! sink that counts the events it passes on to the real sink, and a small
//! HTTP server (tiny_http) that serves them at `/metrics` in the text
//! exposition format (prometheus-client's encoder). README, "Prometheus".
//!
//! With `--threads` above 1 the events of flows are made and formatted in
//! the workers: each worker's sink is wrapped in its own [`MetricsSink`]
//! over the same [`Metrics`] (prometheus-client's counters are atomics and
//! its families lock internally), so every event is counted once, where
//! it is made, whatever the thread count. A flow's events all go to one
//! worker, so each sink's map of open flows sees a flow's start and end.
//!
//! Label values come from closed sets, so the number of series is
//! bounded whatever the traffic: commands outside the 37 the decoder
//! knows are `(other)`, networks are the five known ones or `unknown`,
//! finding kinds and transports are this crate's constants.

mod server;

pub use server::serve;

use crate::analyzer::peer::commands::{COUNTED, OTHER};
use crate::analyzer::event::FlowEvent;
use crate::analyzer::{Event, Sink};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MessageLabels {
    command: &'static str,
    /// `c2s` (client to server), `s2c`, or `unknown`.
    direction: &'static str,
    network: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabels {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// The metric families, shared by the sink (which counts) and the server
/// (which encodes).
#[derive(Clone, Default)]
pub struct Metrics {
    messages: Family<MessageLabels, Counter>,
    message_bytes: Family<MessageLabels, Counter>,
    flows: Family<TransportLabels, Counter>,
    flows_open: Family<TransportLabels, Gauge>,
    findings: Family<KindLabels, Counter>,
}

impl Metrics {
    /// The families, registered under `btcsniff_`.
    pub fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("btcsniff");
        r.register(
            "messages",
            "Bitcoin messages decoded, by command, direction and network",
            self.messages.clone(),
        );
        r.register(
            "message_bytes",
            "Payload bytes of those messages",
            self.message_bytes.clone(),
        );
        r.register(
            "flows",
            "Bitcoin flows classified, by transport",
            self.flows.clone(),
        );
        r.register(
            "flows_open",
            "Bitcoin flows classified and not yet ended, by transport",
            self.flows_open.clone(),
        );
        r.register(
            "findings",
            "Findings (anomalies, failed passive checks), by kind",
            self.findings.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        r.register("build_info", "btcsniff's version (value 1)", build);
        r
    }
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

/// Passes every event on to `inner`, counting it on the way.
pub struct MetricsSink<'s> {
    inner: Box<dyn Sink + 's>,
    metrics: Metrics,
    /// Clients of the flows open, for the direction of their messages.
    clients: HashMap<u64, SocketAddr>,
}

impl<'s> MetricsSink<'s> {
    pub fn new(inner: Box<dyn Sink + 's>, metrics: Metrics) -> Self {
        MetricsSink {
            inner,
            metrics,
            clients: HashMap::new(),
        }
    }

    fn count(&mut self, event: &Event<'_, '_>) {
        match event {
            Event::Message { meta, frame, .. } => {
                let direction = match self.clients.get(&meta.flow) {
                    Some(client) if *client == meta.src => "c2s",
                    Some(_) => "s2c",
                    None => "unknown",
                };
                let labels = MessageLabels {
                    command: command_label(frame.command.as_bytes()),
                    direction,
                    network: frame.network.name(),
                };
                self.metrics.messages.get_or_create(&labels).inc();
                self.metrics
                    .message_bytes
                    .get_or_create(&labels)
                    .inc_by(u64::from(frame.length));
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
                        self.clients.insert(record.flow, record.client);
                        self.metrics.flows.get_or_create(&labels).inc();
                        self.metrics.flows_open.get_or_create(&labels).inc();
                    }
                    FlowEvent::End if self.clients.remove(&record.flow).is_some() => {
                        self.metrics.flows_open.get_or_create(&labels).dec();
                    }
                    _ => {}
                }
            }
            _ => {}
        }
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
}

/// The exposition text of `registry` (what `/metrics` serves).
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

/// A registry shared with the server thread.
pub type SharedRegistry = Arc<Registry>;
