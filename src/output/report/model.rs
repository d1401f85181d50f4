//! The report's model: what the page is drawn from, written as the
//! JSON inside it (data.rs). Built by aggregate.rs.

use super::lanes::Lane;
use crate::analyzer::Finding;

/// Everything the page shows. Times are microseconds: absolute (since the
/// Unix epoch) where named `_us` at the top, relative to `t0_us` inside
/// lanes.
#[derive(Debug)]
pub struct Report {
    pub version: &'static str,
    pub command: String,
    pub t0_us: i64,
    pub families: [&'static str; 7],
    pub overview: Overview,
    pub rate: Rate,
    pub commands: Vec<CommandRow>,
    /// The command of a mark, by index.
    pub command_names: Vec<String>,
    pub lanes: Vec<LaneOut>,
    pub lanes_not_drawn: u64,
    pub findings: Vec<FindingRow>,
    pub findings_not_listed: u64,
    pub limits: Limits,
}

#[derive(Debug)]
pub struct Overview {
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
    pub packets: u64,
    pub flows_v1: u64,
    pub flows_v2_decrypted: u64,
    pub flows_v2_encrypted: u64,
    pub flows_other: u64,
    pub core_peers: u64,
    pub messages: u64,
    pub message_bytes: u64,
    pub checksum_invalid: u64,
    pub decode_errors: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub findings: Vec<(&'static str, u64)>,
    pub networks: Vec<&'static str>,
}

/// The message-rate chart: per family, messages per bucket.
#[derive(Debug)]
pub struct Rate {
    pub start_us: i64,
    pub width_us: i64,
    pub messages: Vec<Vec<u64>>,
    pub bytes: Vec<u64>,
}

#[derive(Debug)]
pub struct CommandRow {
    pub command: String,
    pub count: u64,
    pub bytes: u64,
}

#[derive(Debug)]
pub struct FindingRow {
    pub t_us: i64,
    pub flow: u64,
    pub kind: &'static str,
    /// Its values are written as the JSON lines write them (data.rs).
    pub finding: Finding,
}

#[derive(Debug)]
pub struct Limits {
    pub max_buckets: usize,
    pub max_lanes: usize,
    pub max_marks_per_lane: usize,
    pub max_finding_marks_per_lane: usize,
    pub max_findings_listed: usize,
}

#[derive(Debug)]
pub struct SideOut {
    pub address: String,
    pub user_agent: Option<String>,
    pub version: Option<i32>,
    pub start_height: Option<i32>,
    pub services: Option<String>,
    pub messages: u64,
    pub bytes: u64,
    pub rtt_count: u64,
    pub rtt_min_us: Option<i64>,
    pub rtt_avg_us: Option<i64>,
}

/// A mark as the page reads it: [time, duration, family, direction,
/// command, length, count, bytes, block (0/1), detail].
pub type MarkOut = (
    i64,
    i64,
    usize,
    u8,
    u16,
    u32,
    u32,
    u64,
    u8,
    Option<Box<str>>,
);

#[derive(Debug)]
pub struct LaneOut {
    pub flow: u64,
    pub transport: &'static str,
    pub decryption: Option<&'static str>,
    pub sides: [SideOut; 2],
    pub first_us: i64,
    pub last_us: i64,
    pub messages: u64,
    /// 0: one mark per message; else marks group messages of this width.
    pub group_us: i64,
    pub marks: Vec<MarkOut>,
    /// [time, kind, index in the findings list or -1].
    pub findings: Vec<(i64, &'static str, i64)>,
    pub findings_not_marked: u64,
}

impl LaneOut {
    pub(super) fn new(lane: Lane, t0: i64) -> LaneOut {
        let group_us = lane.marks.width_us();
        let marks = lane
            .marks
            .into_sorted()
            .into_iter()
            .map(|m| {
                (
                    m.first_us.saturating_sub(t0),
                    m.last_us.saturating_sub(m.first_us),
                    m.family.index(),
                    m.dir,
                    m.command,
                    m.length,
                    m.count,
                    m.bytes,
                    u8::from(m.block),
                    m.detail,
                )
            })
            .collect();
        let sides = lane.sides.map(|s| SideOut {
            rtt_avg_us: (s.rtt_count > 0).then(|| s.rtt_sum_us / s.rtt_count as i64),
            address: s.address,
            user_agent: s.user_agent,
            version: s.version,
            start_height: s.start_height,
            services: s.services.map(|v| format!("0x{v:x}")),
            messages: s.messages,
            bytes: s.bytes,
            rtt_count: s.rtt_count,
            rtt_min_us: s.rtt_min_us,
        });
        LaneOut {
            flow: lane.flow,
            transport: lane.transport,
            decryption: lane.decryption,
            messages: sides[0].messages + sides[1].messages,
            sides,
            first_us: lane.first_us.saturating_sub(t0),
            last_us: lane.last_us.saturating_sub(t0),
            group_us,
            marks,
            findings: lane
                .findings
                .into_iter()
                .map(|f| {
                    let listed = f.listed.map_or(-1, |i| i as i64);
                    (f.t_us.saturating_sub(t0), f.kind, listed)
                })
                .collect(),
            findings_not_marked: lane.findings_not_marked,
        }
    }
}
