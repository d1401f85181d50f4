//! The report's aggregation on generated captures (the packet builders of
//! tests/support and examples/gencap): time buckets add up to the
//! messages, lanes keep one mark per message under the cap and group
//! above it without losing a count, the lane cap, user agents and ping
//! round trips, findings on their lane.

mod support;

use btcsniff::analyzer::{Analyzer, AnalyzerConfig};
use btcsniff::capture::FileReader;
use btcsniff::output::report::Report;
use btcsniff::output::report::aggregate::MAX_LANES;
use btcsniff::output::report::buckets::MAX_BUCKETS;
use btcsniff::output::report::lanes::MAX_MARKS_PER_LANE;
use btcsniff::output::report::{Aggregator, html};
use support::{Conn, Pcap, REGTEST, frame, version_payload};

/// The report of a pcap file's bytes, through the analyzer as `report`
/// runs it.
fn aggregate(bytes: Vec<u8>) -> Report {
    let mut aggregator = Aggregator::new();
    let stats = {
        let mut analyzer = Analyzer::new(AnalyzerConfig::default(), &mut aggregator);
        let mut reader = FileReader::from_read("generated.pcap", std::io::Cursor::new(bytes))
            .expect("pcap header");
        while let Some(packet) = reader.next_packet().expect("packet") {
            analyzer.packet(&packet).expect("no output error");
        }
        analyzer.finish().expect("finish")
    };
    aggregator.set_stats(stats);
    aggregator.finish("btcsniff report generated.pcap -o x.html".into())
}

fn mark_messages(report: &Report, lane: usize) -> u64 {
    report.lanes[lane]
        .marks
        .iter()
        .map(|m| u64::from(m.6))
        .sum()
}

fn rate_total(report: &Report) -> u64 {
    report.rate.messages.iter().flatten().sum()
}

fn ping(nonce: u64) -> Vec<u8> {
    frame(REGTEST, "ping", &nonce.to_le_bytes())
}

fn pong(nonce: u64) -> Vec<u8> {
    frame(REGTEST, "pong", &nonce.to_le_bytes())
}

#[test]
fn buckets_lanes_peers_and_findings_add_up() {
    let mut pcap = Pcap::new();
    // Flow 1: a busy relay peer, 1000 inv over ~20 minutes, a ping, a gap.
    let mut busy = Conn::new("10.0.0.1:50000", "10.0.0.2:8333");
    busy.handshake(&mut pcap);
    busy.c2s(
        &mut pcap,
        &frame(REGTEST, "version", &version_payload(b"/Satoshi:27.0.0/")),
    );
    busy.s2c(
        &mut pcap,
        &frame(REGTEST, "version", &version_payload(b"/btcd:0.24.0/")),
    );
    busy.c2s(&mut pcap, &frame(REGTEST, "verack", &[]));
    busy.s2c(&mut pcap, &frame(REGTEST, "verack", &[]));
    let inv = frame(
        REGTEST,
        "inv",
        &[
            1, 1, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7, 7, 7, 7, 7, 7, 7, 7,
        ],
    );
    for i in 0..1000 {
        busy.s2c(&mut pcap, &inv);
        if i % 100 == 99 {
            pcap.skip_secs(120);
        }
    }
    busy.c2s(&mut pcap, &ping(0x1234));
    busy.s2c(&mut pcap, &pong(0x1234)); // one record later: 1 ms
    busy.lose_c2s(100);
    busy.c2s(&mut pcap, &frame(REGTEST, "getaddr", &[]));
    busy.close(&mut pcap);
    // Flow 2: a short one.
    let mut quiet = Conn::new("10.0.0.3:50001", "10.0.0.2:8333");
    quiet.handshake(&mut pcap);
    quiet.c2s(
        &mut pcap,
        &frame(REGTEST, "version", &version_payload(b"/quiet:1/")),
    );
    quiet.s2c(&mut pcap, &frame(REGTEST, "tx", &[1, 2, 3]));
    quiet.close(&mut pcap);

    let report = aggregate(pcap.bytes().to_vec());
    let messages = report.overview.messages;
    assert_eq!(rate_total(&report), messages);
    let width = report.rate.width_us;
    assert!(report.rate.bytes.len() <= MAX_BUCKETS);
    assert!(
        width >= 1_000_000,
        "20 minutes in 1200 buckets: at least 1 s wide, got {width}"
    );
    assert_eq!(
        report.rate.start_us % width,
        0,
        "buckets start at whole widths"
    );
    // Per family: inv counts under "inventory".
    let inventory = report
        .families
        .iter()
        .position(|f| *f == "inventory")
        .unwrap();
    assert_eq!(report.rate.messages[inventory].iter().sum::<u64>(), 1000);

    assert_eq!(report.lanes.len(), 2);
    let busy = &report.lanes[0];
    assert!(busy.group_us > 0, "1000+ messages: grouped");
    assert!(busy.marks.len() <= MAX_MARKS_PER_LANE);
    assert_eq!(mark_messages(&report, 0), busy.messages);
    assert_eq!(
        busy.sides[0].user_agent.as_deref(),
        Some("/Satoshi:27.0.0/")
    );
    assert_eq!(busy.sides[1].user_agent.as_deref(), Some("/btcd:0.24.0/"));
    assert_eq!(busy.sides[0].rtt_count, 1);
    assert_eq!(busy.sides[0].rtt_min_us, Some(1_000));
    let quiet = &report.lanes[1];
    assert_eq!(quiet.group_us, 0, "under the cap: one mark per message");
    assert_eq!(quiet.marks.len() as u64, quiet.messages);
    assert_eq!(quiet.marks.len(), 2);
    assert_eq!(quiet.sides[1].messages, 1, "tx sent by the server");

    // The lost bytes: a gap finding, listed and on its lane.
    let gap = report
        .findings
        .iter()
        .position(|f| f.kind == "gap")
        .expect("gap finding");
    assert_eq!(report.findings[gap].flow, busy.flow);
    assert!(
        matches!(
            report.findings[gap].finding,
            btcsniff::analyzer::Finding::Gap { bytes: 100, .. }
        ),
        "{:?}",
        report.findings[gap].finding
    );
    assert!(
        busy.findings
            .iter()
            .any(|f| f.1 == "gap" && f.2 == gap as i64)
    );
}

#[test]
fn flows_beyond_the_lane_cap_are_counted_not_drawn() {
    let mut pcap = Pcap::new();
    let flows = MAX_LANES + 12;
    for i in 0..flows {
        let client = format!("10.1.{}.{}:40000", i / 250, i % 250 + 1);
        let mut conn = Conn::new(&client, "10.0.0.2:8333");
        conn.handshake(&mut pcap);
        conn.c2s(&mut pcap, &frame(REGTEST, "verack", &[]));
        conn.close(&mut pcap);
    }
    let report = aggregate(pcap.bytes().to_vec());
    assert_eq!(report.lanes.len(), MAX_LANES);
    assert_eq!(report.lanes_not_drawn, 12);
    assert_eq!(report.overview.messages, flows as u64);
    assert_eq!(rate_total(&report), flows as u64);
}

/// gencap's many-flow workload: every message in the buckets and the
/// marks, a page of bounded size.
#[test]
fn gencap_inv_workload() {
    let gencap = support::live::example("gencap");
    let dir = support::scratch_dir("report-gencap");
    let out = dir.join("inv.pcap");
    let mut cmd = std::process::Command::new(&gencap);
    cmd.args(["--workload", "inv", "--megabytes", "4", "--out"])
        .arg(&out);
    let done = support::run_bounded(cmd, std::time::Duration::from_secs(120));
    assert!(done.status.success(), "{}", done.stderr);
    let report = aggregate(std::fs::read(&out).unwrap());
    let messages = report.overview.messages;
    assert!(messages > 1000);
    assert_eq!(rate_total(&report), messages);
    let drawn: u64 = (0..report.lanes.len())
        .map(|l| mark_messages(&report, l))
        .sum();
    assert_eq!(drawn, messages, "every flow drawn, every message in a mark");
    for lane in &report.lanes {
        assert!(lane.marks.len() <= MAX_MARKS_PER_LANE);
    }
    let mut page = Vec::new();
    html::render(&report, &mut page).unwrap();
    let ceiling = 150_000 + report.lanes.len() * MAX_MARKS_PER_LANE * 250;
    assert!(page.len() < ceiling, "{} bytes", page.len());
    let _ = std::fs::remove_dir_all(&dir);
}
