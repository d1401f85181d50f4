//! `btcsniff report` takes what `read` takes: Core's message capture,
//! standard input, compressed captures; `-o -` writes the page to stdout.

mod support;

use serde_json::Value;
use std::io::Write;
use std::process::Stdio;
use support::core_capture::{append, record};
use support::run::bin as btcsniff;
use support::scratch_dir as scratch;

/// The report's data, read back from the page.
fn data_of(page: &str) -> Value {
    let start =
        page.find(r#"id="report-data">"#).expect("data element") + r#"id="report-data">"#.len();
    let end = start + page[start..].find("</script>").expect("end of data");
    serde_json::from_str(&page[start..end]).expect("data is JSON")
}

#[test]
fn core_message_capture_gets_a_lane_per_peer() {
    let dir = scratch("report-core");
    let capture = dir.join("message_capture");
    append(
        &capture,
        "127.0.0.1_18444",
        "msgs_sent.dat",
        &[
            record(1_700_000_000_000_000, "verack", &[]),
            record(1_700_000_000_100_000, "ping", &7u64.to_le_bytes()),
        ],
    );
    append(
        &capture,
        "127.0.0.1_18444",
        "msgs_recv.dat",
        &[record(1_700_000_000_150_000, "pong", &7u64.to_le_bytes())],
    );
    let page = dir.join("core.html");
    let out = btcsniff()
        .arg("report")
        .arg(&capture)
        .args(["--network", "regtest", "-q", "-o"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = data_of(&std::fs::read_to_string(&page).unwrap());
    assert_eq!(data["overview"]["messages"], 3);
    let lanes = data["lanes"].as_array().unwrap();
    assert_eq!(lanes.len(), 1);
    assert_eq!(lanes[0]["transport"], "core-capture");
    assert_eq!(lanes[0]["sides"][0]["address"], "local");
    assert_eq!(
        lanes[0]["sides"][0]["messages"], 2,
        "sent by the capturing node"
    );
    assert_eq!(
        lanes[0]["sides"][1]["messages"], 1,
        "received from the peer"
    );
    assert_eq!(lanes[0]["sides"][0]["rtt_min_us"], 50_000, "ping to pong");
}

#[test]
fn gzip_on_standard_input_to_standard_output() {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/bcoin-regtest-sync.pcap");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(sample).unwrap()).unwrap();
    let gz = gz.finish().unwrap();
    let mut child = btcsniff()
        .args(["report", "-", "-o", "-", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&gz));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    let data = data_of(&page);
    assert_eq!(data["overview"]["messages"], 127);
    assert_eq!(data["lanes"].as_array().unwrap().len(), 2);
}
