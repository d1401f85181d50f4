//! The `/metrics` exposition parsed with a Prometheus text-format parser
//! (prometheus-parse): after the real mainnet-2011 capture, the message
//! counters equal what `--stats` counts, and the served page is the same
//! text over HTTP. With worker threads (`--threads 4`) each worker's sink
//! counts into the same registry: the page is the same as with one.

use btcsniff::analyzer::parallel::{ParallelAnalyzer, SinkFactory};
use btcsniff::analyzer::{Analyzer, AnalyzerConfig, Event, Pipeline, Sink, Stats};
use btcsniff::capture::file::FileReader;
use btcsniff::metrics::{Metrics, MetricsSink};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use support::{Conn, Pcap, REGTEST, frame, scratch_dir};

mod support;

struct Null;

impl Sink for Null {
    fn event(&mut self, _: &Event<'_, '_>) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn samples(text: &str) -> Vec<prometheus_parse::Sample> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .expect("exposition parses")
        .samples
}

fn counter(s: &prometheus_parse::Sample) -> f64 {
    match s.value {
        prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
        prometheus_parse::Value::Gauge(v) => v,
        _ => panic!("{s:?}"),
    }
}

/// The capture through the analyzer on `threads` threads, every sink
/// counting into one registry: its page and the summary.
fn run(threads: usize) -> (Metrics, Stats) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mainnet-2011-ndpi.pcap");
    run_on(&path, threads)
}

fn run_on(path: &Path, threads: usize) -> (Metrics, Stats) {
    let metrics = Metrics::default();
    let mut reader = FileReader::open(path).unwrap();
    let stats = if threads == 1 {
        let mut sink = MetricsSink::new(Box::new(Null), metrics.clone());
        let mut analyzer = Analyzer::new(AnalyzerConfig::default(), &mut sink);
        while let Some(p) = reader.next_packet().unwrap() {
            analyzer.packet(&p).unwrap();
        }
        analyzer.finish().unwrap()
    } else {
        let counted = metrics.clone();
        let make_sink: SinkFactory = std::sync::Arc::new(move |_| {
            Box::new(MetricsSink::new(Box::new(Null), counted.clone()))
        });
        let out = Box::new(std::io::sink());
        let mut analyzer =
            ParallelAnalyzer::new(AnalyzerConfig::default(), threads, None, make_sink, out)
                .unwrap();
        while let Some(p) = reader.next_packet().unwrap() {
            analyzer.packet(&p).unwrap();
        }
        Pipeline::finish(analyzer).unwrap().0
    };
    (metrics, stats)
}

#[test]
fn worker_threads_count_the_same() {
    let (one, _) = run(1);
    let (four, _) = run(4);
    // Series of a family come in hash order: compared as sorted lines.
    let lines = |r: &Metrics| {
        let mut l: Vec<String> = btcsniff::metrics::encode(&r.registry())
            .lines()
            .map(String::from)
            .collect();
        l.sort();
        l
    };
    let one = lines(&one);
    assert!(
        one.iter()
            .any(|l| l.starts_with("btcsniff_messages_total{"))
    );
    assert_eq!(one, lines(&four));
}

#[test]
fn counters_match_the_stats_of_a_real_capture() {
    let (metrics, stats) = run(1);
    let text = btcsniff::metrics::encode(&metrics.registry());
    let all = samples(&text);
    // Messages per command, summed over direction and network.
    let mut by_command: BTreeMap<String, u64> = BTreeMap::new();
    for s in all.iter().filter(|s| s.metric == "btcsniff_messages_total") {
        assert_eq!(s.labels.get("network"), Some("mainnet"));
        assert!(
            matches!(s.labels.get("direction"), Some("c2s" | "s2c")),
            "{s:?}"
        );
        *by_command
            .entry(s.labels.get("command").unwrap().to_string())
            .or_default() += counter(s) as u64;
    }
    let expected: BTreeMap<String, u64> = stats
        .by_command
        .iter()
        .map(|(c, n)| (c.clone(), n.count))
        .collect();
    assert_eq!(by_command, expected);
    let bytes: f64 = all
        .iter()
        .filter(|s| s.metric == "btcsniff_message_bytes_total")
        .map(counter)
        .sum();
    assert_eq!(bytes as u64, stats.message_bytes);
    let findings: f64 = all
        .iter()
        .filter(|s| s.metric == "btcsniff_findings_total")
        .map(counter)
        .sum();
    assert_eq!(findings as u64, stats.findings.values().sum::<u64>());
    let open: f64 = all
        .iter()
        .filter(|s| s.metric == "btcsniff_flows_open")
        .map(counter)
        .sum();
    assert_eq!(open, 0.0, "every flow ended");
    let flows: f64 = all
        .iter()
        .filter(|s| s.metric == "btcsniff_flows_total")
        .map(counter)
        .sum();
    assert_eq!(
        flows as u64,
        stats.flows_v1 + stats.flows_v2 + stats.flows_unknown
    );
    assert!(all.iter().any(|s| s.metric == "btcsniff_build_info"));

    // The same text over HTTP from the server.
    let addr = btcsniff::metrics::serve("127.0.0.1:0".parse().unwrap(), metrics).unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    assert!(head.contains("application/openmetrics-text"), "{head}");
    assert_eq!(body, text);
}

/// A connection whose every packet is 1 ms after the one before: the
/// client's two pings are answered 1 ms and 3 ms later.
fn pings_and_features() -> std::path::PathBuf {
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50000", "10.0.0.2:18444");
    conn.handshake(&mut pcap);
    conn.versions(&mut pcap, b"/c/", b"/s/");
    conn.c2s(&mut pcap, &frame(REGTEST, "wtxidrelay", &[]));
    conn.c2s(&mut pcap, &frame(REGTEST, "verack", &[]));
    conn.s2c(&mut pcap, &frame(REGTEST, "verack", &[]));
    let mut cmpct = vec![1u8];
    cmpct.extend_from_slice(&2u64.to_le_bytes());
    conn.s2c(&mut pcap, &frame(REGTEST, "sendcmpct", &cmpct));
    let feefilter = 1000i64.to_le_bytes();
    conn.s2c(&mut pcap, &frame(REGTEST, "feefilter", &feefilter));
    conn.c2s(&mut pcap, &frame(REGTEST, "ping", &7u64.to_le_bytes()));
    conn.s2c(&mut pcap, &frame(REGTEST, "pong", &7u64.to_le_bytes()));
    conn.c2s(&mut pcap, &frame(REGTEST, "ping", &8u64.to_le_bytes()));
    conn.c2s(&mut pcap, &frame(REGTEST, "sendheaders", &[]));
    // A pong answering nothing: no round trip.
    conn.c2s(&mut pcap, &frame(REGTEST, "pong", &9u64.to_le_bytes()));
    conn.s2c(&mut pcap, &frame(REGTEST, "pong", &8u64.to_le_bytes()));
    conn.close(&mut pcap);
    let path = scratch_dir("metrics-pings").join("c.pcap");
    pcap.write(&path);
    path
}

#[test]
fn ping_round_trips_and_features() {
    let path = pings_and_features();
    for threads in [1, 4] {
        let (metrics, _) = run_on(&path, threads);
        let all = samples(&btcsniff::metrics::encode(&metrics.registry()));
        let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
            let found: Vec<f64> = all
                .iter()
                .filter(|s| s.metric == name)
                .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
                .map(counter)
                .collect();
            assert_eq!(found.len(), 1, "{name} {label:?}: {all:?}");
            found[0]
        };
        let feature = |f| value("btcsniff_handshake_features_total", Some(("feature", f)));
        for f in [
            "wtxidrelay",
            "sendcmpct_high_bandwidth",
            "feefilter",
            "sendheaders",
        ] {
            assert_eq!(feature(f), 1.0, "{f} with {threads} threads");
        }
        assert_eq!(value("btcsniff_ping_rtt_seconds_count", None), 2.0);
        let sum = value("btcsniff_ping_rtt_seconds_sum", None);
        assert!((sum - 0.004).abs() < 1e-9, "{sum}");
    }
}
