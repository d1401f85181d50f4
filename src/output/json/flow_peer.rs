//! The peer record of a TCP flow (README, "Peer records"): `"peer":{…}` in
//! flow end records and in `--stats`'s `flow_peers`. (The peers of Core's
//! message capture are json/peer.rs.)

use super::fields::{Fields, Key, key};
use crate::analyzer::peer::{InvCounts, PeerRecord, RttSummary, SideRecord, VersionFields};
use crate::p2p::message::Services;

/// The record as one object.
pub fn peer_record<F: Fields>(p: &PeerRecord, f: &mut F) {
    f.begin_object();
    f.key(key!("initiator"));
    match p.initiator {
        Some(side) => f.name(side),
        None => f.null(),
    }
    f.key(key!("duration"));
    seconds(f, p.duration);
    f.key(key!("tcp_handshake_ms"));
    f.begin_object();
    millis(f, key!("rtt"), p.tcp.rtt);
    millis(f, key!("server"), p.tcp.server);
    millis(f, key!("client"), p.tcp.client);
    f.end_object();
    f.key(key!("retransmitted_bytes"));
    f.begin_object();
    f.field_u64(key!("c2s"), p.retransmitted_bytes[0]);
    f.field_u64(key!("s2c"), p.retransmitted_bytes[1]);
    f.end_object();
    f.key(key!("client"));
    side(&p.sides[0], f);
    f.key(key!("server"));
    side(&p.sides[1], f);
    if p.checks_dropped > 0 {
        f.field_u64(key!("checks_dropped"), p.checks_dropped);
    }
    f.end_object();
}

fn side<F: Fields>(s: &SideRecord, f: &mut F) {
    f.begin_object();
    f.key(key!("version"));
    match &s.version {
        Some(v) => version(v, f),
        None => f.null(),
    }
    f.key(key!("features"));
    f.begin_object();
    f.field_bool(key!("wtxidrelay"), s.wtxidrelay);
    f.field_bool(key!("sendaddrv2"), s.sendaddrv2);
    f.field_bool(key!("sendheaders"), s.sendheaders);
    f.key(key!("sendcmpct"));
    match (s.sendcmpct_version, s.sendcmpct_high_bandwidth) {
        (Some(version), Some(hb)) => {
            f.begin_object();
            f.field_u64(key!("version"), version);
            f.field_bool(key!("high_bandwidth"), hb);
            f.end_object();
        }
        _ => f.null(),
    }
    f.key(key!("feefilter"));
    match s.feefilter {
        Some(rate) => f.i64(rate),
        None => f.null(),
    }
    f.key(key!("sendtxrcncl"));
    match s.sendtxrcncl {
        Some(v) => f.u64(u64::from(v)),
        None => f.null(),
    }
    f.end_object();
    f.key(key!("commands"));
    f.begin_object();
    for (name, messages, bytes) in s.commands.iter() {
        f.key_text(name);
        f.begin_object();
        f.field_u64(key!("messages"), messages);
        f.field_u64(key!("bytes"), bytes);
        f.end_object();
    }
    f.end_object();
    f.key(key!("ping_rtt_ms"));
    rtt(&s.ping, f);
    f.key(key!("inv"));
    inv(&s.inv, f);
    f.field_u64(key!("getdata_items"), s.getdata_items);
    f.field_u64(key!("notfound_items"), s.notfound_items);
    f.field_u64(key!("tx"), s.tx);
    f.field_u64(key!("blocks"), s.blocks);
    f.field_u64(key!("addr_entries"), s.addr_entries);
    f.end_object();
}

fn version<F: Fields>(v: &VersionFields, f: &mut F) {
    f.begin_object();
    f.field_i64(key!("version"), i64::from(v.version));
    f.field_str(key!("user_agent"), &v.user_agent);
    // A bit field of 64 bits: a decimal string, as in version payloads.
    f.key(key!("services"));
    f.id64(v.services);
    f.key(key!("service_names"));
    f.begin_array();
    for name in Services(v.services).names() {
        f.str(&name);
    }
    f.end_array();
    f.key(key!("start_height"));
    match v.start_height {
        Some(h) => f.i64(i64::from(h)),
        None => f.null(),
    }
    f.key(key!("relay"));
    match v.relay {
        Some(r) => f.bool(r),
        None => f.null(),
    }
    f.end_object();
}

fn rtt<F: Fields>(r: &RttSummary, f: &mut F) {
    f.begin_object();
    f.field_u64(key!("count"), r.count);
    millis(f, key!("min"), r.min.map(u64::from));
    millis(f, key!("median"), r.median.map(u64::from));
    millis(f, key!("max"), r.max.map(u64::from));
    f.end_object();
}

fn inv<F: Fields>(i: &InvCounts, f: &mut F) {
    f.begin_object();
    f.field_u64(key!("tx"), i.tx);
    f.field_u64(key!("wtx"), i.wtx);
    f.field_u64(key!("block"), i.block);
    f.field_u64(key!("cmpct_block"), i.cmpct_block);
    f.field_u64(key!("filtered_block"), i.filtered_block);
    f.field_u64(key!("other"), i.other);
    f.end_object();
}

/// Microseconds as seconds with six decimals (as `ts`).
fn seconds<F: Fields>(f: &mut F, micros: u64) {
    f.decimal(micros / 1_000_000, micros % 1_000_000, 6);
}

/// `key` and microseconds as milliseconds with three decimals, `null` if
/// not known.
fn millis<F: Fields>(f: &mut F, key: Key, micros: Option<u64>) {
    f.key(key);
    match micros {
        Some(us) => f.decimal(us / 1000, us % 1000, 3),
        None => f.null(),
    }
}
