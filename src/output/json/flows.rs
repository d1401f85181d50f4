//! The fields of flow records, notes and the stats summary (README, "JSON
//! output"), without braces: the sink splices them after `type` and `ts`.

use super::fields::{Fields, array};
use crate::analyzer::Stats;
use crate::analyzer::event::{FlowRecord, PerDirection, PerDirectionOpt, V2Summary};
use crate::analyzer::stats::PeerCounts;

pub fn flow_record<F: Fields>(record: &FlowRecord, f: &mut F) {
    f.field_str("event", record.event.name());
    f.field_u64("flow", record.flow);
    f.key("client");
    f.display(&record.client);
    f.key("server");
    f.display(&record.server);
    f.field_str("transport", record.transport.name());
    f.field_bool("syn_seen", record.syn_seen);
    f.key("network");
    match record.network {
        Some(network) => f.str(network),
        None => f.null(),
    }
    if let Some(reason) = record.reason {
        f.field_str("reason", reason.name());
    }
    per_direction(f, "packets", &record.packets);
    per_direction(f, "bytes", &record.bytes);
    per_direction(f, "messages", &record.messages);
    if let Some(v2) = &record.v2 {
        f.key("v2");
        v2_summary(v2, f);
    }
}

fn v2_summary<F: Fields>(v2: &V2Summary, f: &mut F) {
    f.begin_object();
    f.field_str("handshake", v2.handshake);
    f.field_str("decryption", v2.decryption);
    if let Some(id) = &v2.session_id {
        f.field_str("session_id", id);
    }
    let PerDirectionOpt { c2s, s2c } = v2.garbage;
    f.key("garbage");
    f.begin_object();
    for (key, n) in [("c2s", c2s), ("s2c", s2c)] {
        f.key(key);
        match n {
            Some(n) => f.u64(n),
            None => f.null(),
        }
    }
    f.end_object();
    per_direction(f, "decoys", &v2.decoys);
    per_direction(f, "packets_decrypted", &v2.packets_decrypted);
    per_direction(f, "undecrypted_bytes", &v2.undecrypted_bytes);
    f.end_object();
}

/// `key: {"c2s": …, "s2c": …}` (client to server, server to client).
fn per_direction<F: Fields>(f: &mut F, key: &'static str, counts: &PerDirection) {
    f.key(key);
    f.begin_object();
    f.field_u64("c2s", counts.c2s);
    f.field_u64("s2c", counts.s2c);
    f.end_object();
}

pub fn note<F: Fields>(source: &str, text: &str, f: &mut F) {
    f.field_str("source", source);
    f.field_str("text", text);
}

/// Counters that are 0 in most runs (snap length, v2, peers) are left out
/// when 0, as are the lists they belong to when empty.
pub fn stats<F: Fields>(s: &Stats, f: &mut F) {
    f.field_u64("packets", s.packets);
    f.field_u64("packets_skipped", s.packets_skipped);
    nonzero(f, "packets_cut_by_snaplen", s.packets_cut_by_snaplen);
    if !s.unsupported_link_types.is_empty() {
        f.key("unsupported_link_types");
        f.begin_object();
        for (link, n) in &s.unsupported_link_types {
            f.key_text(itoa::Buffer::new().format(*link));
            f.u64(*n);
        }
        f.end_object();
    }
    f.field_u64("messages", s.messages);
    f.field_u64("message_bytes", s.message_bytes);
    f.field_u64("checksum_invalid", s.checksum_invalid);
    f.field_u64("checksum_absent", s.checksum_absent);
    f.field_u64("decode_errors", s.decode_errors);
    f.field_u64("gaps", s.gaps);
    f.field_u64("gap_bytes", s.gap_bytes);
    f.field_u64("flows_v1", s.flows_v1);
    f.field_u64("flows_v2", s.flows_v2);
    nonzero(f, "flows_v2_decrypted", s.flows_v2_decrypted);
    nonzero(f, "messages_v2", s.messages_v2);
    f.field_u64("flows_unknown", s.flows_unknown);
    f.key("by_command");
    f.begin_object();
    for (command, c) in &s.by_command {
        f.key_text(command);
        f.begin_object();
        f.field_u64("count", c.count);
        f.field_u64("bytes", c.bytes);
        f.end_object();
    }
    f.end_object();
    f.key("findings");
    f.begin_object();
    for (kind, n) in &s.findings {
        f.key_text(kind);
        f.u64(*n);
    }
    f.end_object();
    f.key("flows");
    array(f, &s.flows, |f, flow| {
        f.begin_object();
        f.field_u64("flow", flow.flow);
        f.field_str("client", &flow.client);
        f.field_str("server", &flow.server);
        f.field_str("transport", flow.transport.name());
        f.field_u64("messages", flow.messages);
        f.field_u64("bytes", flow.bytes);
        f.end_object();
    });
    f.field_u64("flows_not_listed", s.flows_not_listed);
    if !s.peers.is_empty() {
        f.key("peers");
        array(f, &s.peers, |f, peer| {
            f.begin_object();
            f.field_u64("flow", peer.flow);
            f.field_str("peer", &peer.peer);
            f.field_str("source", peer.source);
            f.field_str("network", peer.network);
            peer_counts(f, "messages", &peer.messages);
            peer_counts(f, "bytes", &peer.bytes);
            f.end_object();
        });
    }
    nonzero(f, "peers_not_listed", s.peers_not_listed);
    if let Some(c) = &s.capture {
        f.key("capture");
        f.begin_object();
        f.field_u64("received", c.received);
        f.field_u64("dropped", c.dropped);
        f.field_u64("if_dropped", c.if_dropped);
        f.end_object();
    }
}

fn nonzero<F: Fields>(f: &mut F, key: &'static str, n: u64) {
    if n != 0 {
        f.field_u64(key, n);
    }
}

/// Per direction of a peer of Core's message capture; `unknown` (files
/// whose name gives no direction) only when not 0.
fn peer_counts<F: Fields>(f: &mut F, key: &'static str, counts: &PeerCounts) {
    f.key(key);
    f.begin_object();
    f.field_u64("recv", counts.recv);
    f.field_u64("sent", counts.sent);
    nonzero(f, "unknown", counts.unknown);
    f.end_object();
}
