//! The merge over real files: time order, ties, failures, the open-file cap.

use super::*;
use crate::p2p::frame::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("btcsniff-unit-merge-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn record(time: u64, command: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = RecordHeader {
        time_micros: time,
        command: Command::new(command),
        length: payload.len() as u32,
    }
    .to_bytes()
    .to_vec();
    out.extend_from_slice(payload);
    out
}

fn write(path: &Path, records: &[(u64, &str)]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let bytes: Vec<u8> = records
        .iter()
        .flat_map(|&(t, c)| record(t, c, c.as_bytes()))
        .collect();
    fs::write(path, bytes).unwrap();
}

/// (peer, direction, time, command) of every item; failures as "!".
fn drain(merge: &mut Merge) -> Vec<(String, &'static str, u64, String)> {
    let mut out = Vec::new();
    while let Some(item) = merge.next() {
        out.push(match item {
            Item::Record {
                spec,
                record,
                payload,
                ..
            } => {
                assert_eq!(payload, record.header.command.as_bytes());
                (
                    spec.peer.label.clone(),
                    spec.direction.name(),
                    record.header.time_micros,
                    String::from_utf8_lossy(record.header.command.as_bytes()).into_owned(),
                )
            }
            Item::Failed {
                spec, time_micros, ..
            } => (
                spec.peer.label.clone(),
                spec.direction.name(),
                time_micros,
                "!".into(),
            ),
        });
    }
    out
}

#[test]
fn time_order_across_peers_and_directions_with_ties() {
    let dir = scratch("order");
    let a = dir.join("message_capture/1.1.1.1_8333");
    let b = dir.join("message_capture/[__1]_8333");
    write(
        &a.join("msgs_sent.dat"),
        &[(10, "version"), (30, "verack"), (50, "pong")],
    );
    write(
        &a.join("msgs_recv.dat"),
        &[(20, "version"), (30, "verack"), (50, "ping")],
    );
    // A clock stepping back inside a file: the file's order is kept.
    write(
        &b.join("msgs_recv.dat"),
        &[(25, "inv"), (5, "tx"), (60, "getdata")],
    );
    let (specs, errors) = discover(&[dir.join("message_capture")]);
    assert!(errors.is_empty());
    let mut merge = Merge::new(specs);
    let got = drain(&mut merge);
    let got: Vec<_> = got
        .iter()
        .map(|(p, d, t, c)| format!("{t} {p} {d} {c}"))
        .collect();
    assert_eq!(
        got,
        [
            "10 1.1.1.1:8333 sent version",
            "20 1.1.1.1:8333 recv version",
            "25 [::1]:8333 recv inv",
            "5 [::1]:8333 recv tx",
            "30 1.1.1.1:8333 recv verack",
            "30 1.1.1.1:8333 sent verack",
            "50 1.1.1.1:8333 recv ping",
            "50 1.1.1.1:8333 sent pong",
            "60 [::1]:8333 recv getdata",
        ]
    );
    assert_eq!(merge.open_files(), 0);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failures_come_in_time_order_and_end_their_file_only() {
    let dir = scratch("failures");
    let a = dir.join("1.1.1.1_8333/msgs_recv.dat");
    let b = dir.join("2.2.2.2_8333/msgs_recv.dat");
    write(&a, &[(10, "ping"), (40, "ping")]);
    let mut bytes = fs::read(&a).unwrap();
    bytes.truncate(bytes.len() - 2);
    fs::write(&a, bytes).unwrap();
    let mut lying = record(20, "block", b"");
    lying[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut b_bytes = record(15, "inv", b"inv");
    b_bytes.extend(lying);
    b_bytes.extend(record(21, "tx", b"tx"));
    fs::create_dir_all(b.parent().unwrap()).unwrap();
    fs::write(&b, b_bytes).unwrap();
    let (specs, _) = discover(std::slice::from_ref(&dir));
    let got = drain(&mut Merge::new(specs));
    let got: Vec<_> = got
        .iter()
        .map(|(p, _, t, c)| format!("{t} {p} {c}"))
        .collect();
    assert_eq!(
        got,
        [
            "10 1.1.1.1:8333 ping",
            "15 2.2.2.2:8333 inv",
            "20 2.2.2.2:8333 !",
            "40 1.1.1.1:8333 !",
        ]
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn more_files_than_the_cap_are_read_whole() {
    let dir = scratch("many");
    let peers = 40;
    for p in 0..peers {
        let records: Vec<(u64, &str)> = (0..25).map(|k| (k * 100 + p, "ping")).collect();
        write(
            &dir.join(format!("10.0.0.{p}_8333/msgs_recv.dat")),
            &records,
        );
        write(
            &dir.join(format!("10.0.0.{p}_8333/msgs_sent.dat")),
            &records,
        );
    }
    let (specs, _) = discover(std::slice::from_ref(&dir));
    assert_eq!(specs.len(), 80);
    let mut merge = Merge::with_max_open(specs, 7);
    let mut times = Vec::new();
    while let Some(item) = merge.next() {
        assert!(merge_open_ok(&item));
        if let Item::Record { record, .. } = item {
            times.push(record.header.time_micros);
        }
        assert!(merge.open_files() <= 7);
    }
    assert_eq!(times.len(), 80 * 25);
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    fs::remove_dir_all(&dir).unwrap();
}

fn merge_open_ok(item: &Item<'_>) -> bool {
    matches!(item, Item::Record { .. })
}
