//! Prometheus metrics of a live capture (`live --metrics HOST:PORT`): a
//! sink that counts the events it passes on to the real sink
//! ([`MetricsSink`]), and a small HTTP server (tiny_http) that serves them
//! at `/metrics` in the text exposition format (prometheus-client's
//! encoder). README, "Prometheus".
//!
//! With `--threads` above 1 the events of flows are made and formatted in
//! the workers: each worker's sink is wrapped in its own [`MetricsSink`]
//! over the same [`Metrics`] (prometheus-client's counters are atomics and
//! its families lock internally), so every event is counted once, where
//! it is made, whatever the thread count. A flow's events all go to one
//! worker, so each sink's per-flow state (open flows, pending pings) sees
//! a flow's whole life.
//!
//! Label values come from closed sets, so the number of series is
//! bounded whatever the traffic: commands outside the 37 the decoder
//! knows are `(other)`, networks are the five known ones or `unknown`,
//! finding kinds, transports and features are this crate's constants,
//! interfaces are those given with `-i`.

mod server;
mod sink;

pub use server::serve;
pub use sink::MetricsSink;

use crate::analyzer::announce::{Board, Kind, Standing};
use crate::capture::live::CaptureTotals;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

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
struct FeatureLabels {
    feature: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InterfaceLabels {
    interface: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnnouncerLabels {
    /// `ip:port`, or `(other)` for the peers beyond the top N.
    peer: String,
    /// `tx` or `block`.
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// An interface of the live capture and libpcap's counters of it.
type WatchedCapture = (String, Arc<CaptureTotals>);

/// Ping round-trip buckets, seconds: 1 ms doubling to about 33 s (a LAN
/// peer to one behind Tor).
fn rtt_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The metric families, shared by the sinks (which count) and the server
/// (which encodes). Clones share the same series.
#[derive(Clone)]
pub struct Metrics {
    messages: Family<MessageLabels, Counter>,
    message_bytes: Family<MessageLabels, Counter>,
    flows: Family<TransportLabels, Counter>,
    flows_open: Family<TransportLabels, Gauge>,
    findings: Family<KindLabels, Counter>,
    features: Family<FeatureLabels, Counter>,
    ping_rtt: Histogram,
    capture_received: Family<InterfaceLabels, Counter>,
    capture_dropped: Family<InterfaceLabels, Counter>,
    capture_if_dropped: Family<InterfaceLabels, Counter>,
    /// The live capture's interfaces and libpcap's counters of each, read
    /// at every scrape.
    interfaces: Arc<Mutex<Vec<WatchedCapture>>>,
    announcer_first: Family<AnnouncerLabels, Gauge>,
    announcer_announced: Family<AnnouncerLabels, Gauge>,
    /// The first-announcer standings and how many peers to name.
    announcers: Arc<Mutex<Option<(Board, usize)>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            messages: Family::default(),
            message_bytes: Family::default(),
            flows: Family::default(),
            flows_open: Family::default(),
            findings: Family::default(),
            features: Family::default(),
            ping_rtt: rtt_histogram(),
            capture_received: Family::default(),
            capture_dropped: Family::default(),
            capture_if_dropped: Family::default(),
            interfaces: Arc::default(),
            announcer_first: Family::default(),
            announcer_announced: Family::default(),
            announcers: Arc::default(),
        }
    }
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
        r.register(
            "handshake_features",
            "Feature messages seen (wtxidrelay, sendaddrv2, sendheaders, sendcmpct high or low bandwidth, feefilter, sendtxrcncl), by feature",
            self.features.clone(),
        );
        r.register(
            "ping_rtt_seconds",
            "Round trips from a ping to the pong with its nonce, as the sensor saw them",
            self.ping_rtt.clone(),
        );
        r.register(
            "capture_received",
            "Packets libpcap received, by interface",
            self.capture_received.clone(),
        );
        r.register(
            "capture_dropped",
            "Packets libpcap dropped (buffer full), by interface",
            self.capture_dropped.clone(),
        );
        r.register(
            "capture_if_dropped",
            "Packets the interface or its driver dropped, by interface",
            self.capture_if_dropped.clone(),
        );
        r.register(
            "announcer_first",
            "Block hashes and txids this peer announced first, among those seen since the start (the top N peers by blocks first; the rest as peer=\"(other)\")",
            self.announcer_first.clone(),
        );
        r.register(
            "announcer_announced",
            "Block hashes and txids this peer announced (each once), the same peers",
            self.announcer_announced.clone(),
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

    /// Reads libpcap's counters of `interface` at every scrape.
    pub fn watch_capture(&self, interface: &str, totals: Arc<CaptureTotals>) {
        if let Ok(mut list) = self.interfaces.lock() {
            list.push((interface.to_string(), totals));
        }
    }

    /// Shows the first-announcer standings published on `board`, naming
    /// the `top` peers most often first.
    pub fn show_announcers(&self, board: Board, top: usize) {
        if let Ok(mut a) = self.announcers.lock() {
            *a = Some((board, top));
        }
    }

    /// Brings the first-announcer gauges to the last standings published.
    /// Only the scrape thread writes them, so clearing and refilling is
    /// not seen half done.
    fn refresh_announcers(&self) {
        let Ok(a) = self.announcers.lock() else {
            return;
        };
        let Some((board, top)) = a.as_ref() else {
            return;
        };
        let mut standings = board.read();
        // Most often first with blocks, then txs, then most announcements.
        standings.sort_by_key(|s| {
            std::cmp::Reverse((
                s.first_of(Kind::Block),
                s.first_of(Kind::Tx),
                s.announced_of(Kind::Block) + s.announced_of(Kind::Tx),
            ))
        });
        self.announcer_first.clear();
        self.announcer_announced.clear();
        let mut rest: Option<Standing> = None;
        for (i, s) in standings.into_iter().enumerate() {
            let Some(peer) = s.peer.as_ref().filter(|_| i < *top) else {
                let r = rest.get_or_insert(Standing {
                    peer: None,
                    announced: [0; 2],
                    first: [0; 2],
                });
                for k in 0..2 {
                    r.announced[k] += s.announced[k];
                    r.first[k] += s.first[k];
                }
                continue;
            };
            self.set_announcer(peer.to_string(), &s);
        }
        if let Some(r) = rest {
            self.set_announcer("(other)".to_string(), &r);
        }
    }

    fn set_announcer(&self, peer: String, s: &Standing) {
        for (kind, name) in [(Kind::Tx, "tx"), (Kind::Block, "block")] {
            let labels = AnnouncerLabels {
                peer: peer.clone(),
                kind: name,
            };
            let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            self.announcer_first
                .get_or_create(&labels)
                .set(gauge(s.first_of(kind)));
            self.announcer_announced
                .get_or_create(&labels)
                .set(gauge(s.announced_of(kind)));
        }
    }

    /// Brings the capture counters up to libpcap's and the announcers to
    /// their last standings (before a scrape).
    pub fn refresh(&self) {
        self.refresh_announcers();
        let Ok(list) = self.interfaces.lock() else {
            return;
        };
        for (name, totals) in list.iter() {
            let labels = InterfaceLabels {
                interface: name.clone(),
            };
            for (family, total) in [
                (&self.capture_received, &totals.received),
                (&self.capture_dropped, &totals.dropped),
                (&self.capture_if_dropped, &totals.if_dropped),
            ] {
                let counter = family.get_or_create(&labels);
                // libpcap's totals only grow (until a 32-bit wrap, which
                // a counter cannot follow: it then waits to catch up).
                let total = total.load(Ordering::Relaxed);
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
    }
}

/// The exposition text of `registry` (what `/metrics` serves).
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}
