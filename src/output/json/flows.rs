//! The fields of flow records, notes and the stats summary (README, "JSON
//! output"), without braces: the sink splices them after `type` and `ts`.

use super::fields::{Fields, Key, array, key};
use crate::analyzer::Stats;
use crate::analyzer::event::{FlowRecord, PerDirection, PerDirectionOpt, V2Summary};
use crate::analyzer::stats::PeerCounts;

pub fn flow_record<F: Fields>(record: &FlowRecord, f: &mut F) {
    f.field_name(key!("event"), record.event.name());
    f.field_u64(key!("flow"), record.flow);
    f.key(key!("client"));
    f.display(&record.client);
    f.key(key!("server"));
    f.display(&record.server);
    f.field_name(key!("transport"), record.transport.name());
    f.field_bool(key!("syn_seen"), record.syn_seen);
    f.key(key!("network"));
    match record.network {
        Some(network) => f.str(network),
        None => f.null(),
    }
    if let Some(reason) = record.reason {
        f.field_str(key!("reason"), reason.name());
    }
    per_direction(f, key!("packets"), &record.packets);
    per_direction(f, key!("bytes"), &record.bytes);
    per_direction(f, key!("messages"), &record.messages);
    if let Some(v2) = &record.v2 {
        f.key(key!("v2"));
        v2_summary(v2, f);
    }
    if let Some(peer) = &record.peer {
        f.key(key!("peer"));
        super::flow_peer::peer_record(peer, f);
    }
}

fn v2_summary<F: Fields>(v2: &V2Summary, f: &mut F) {
    f.begin_object();
    f.field_str(key!("handshake"), v2.handshake);
    f.field_str(key!("decryption"), v2.decryption);
    if let Some(id) = &v2.session_id {
        f.field_str(key!("session_id"), id);
    }
    let PerDirectionOpt { c2s, s2c } = v2.garbage;
    f.key(key!("garbage"));
    f.begin_object();
    for (key, n) in [(key!("c2s"), c2s), (key!("s2c"), s2c)] {
        f.key(key);
        match n {
            Some(n) => f.u64(n),
            None => f.null(),
        }
    }
    f.end_object();
    per_direction(f, key!("decoys"), &v2.decoys);
    per_direction(f, key!("packets_decrypted"), &v2.packets_decrypted);
    per_direction(f, key!("undecrypted_bytes"), &v2.undecrypted_bytes);
    f.end_object();
}

/// `key: {"c2s": …, "s2c": …}` (client to server, server to client).
fn per_direction<F: Fields>(f: &mut F, key: Key, counts: &PerDirection) {
    f.key(key);
    f.begin_object();
    f.field_u64(key!("c2s"), counts.c2s);
    f.field_u64(key!("s2c"), counts.s2c);
    f.end_object();
}

pub fn note<F: Fields>(source: &str, text: &str, f: &mut F) {
    f.field_str(key!("source"), source);
    f.field_str(key!("text"), text);
}

/// Counters that are 0 in most runs (snap length, v2, peers) are left out
/// when 0, as are the lists they belong to when empty.
pub fn stats<F: Fields>(s: &Stats, f: &mut F) {
    f.field_u64(key!("packets"), s.packets);
    f.field_u64(key!("packets_skipped"), s.packets_skipped);
    nonzero(f, key!("packets_cut_by_snaplen"), s.packets_cut_by_snaplen);
    if !s.unsupported_link_types.is_empty() {
        f.key(key!("unsupported_link_types"));
        f.begin_object();
        for (link, n) in &s.unsupported_link_types {
            f.key_text(itoa::Buffer::new().format(*link));
            f.u64(*n);
        }
        f.end_object();
    }
    f.field_u64(key!("messages"), s.messages);
    f.field_u64(key!("message_bytes"), s.message_bytes);
    f.field_u64(key!("checksum_invalid"), s.checksum_invalid);
    f.field_u64(key!("checksum_absent"), s.checksum_absent);
    f.field_u64(key!("decode_errors"), s.decode_errors);
    f.field_u64(key!("gaps"), s.gaps);
    f.field_u64(key!("gap_bytes"), s.gap_bytes);
    f.field_u64(key!("flows_v1"), s.flows_v1);
    f.field_u64(key!("flows_v2"), s.flows_v2);
    nonzero(f, key!("flows_v2_decrypted"), s.flows_v2_decrypted);
    nonzero(f, key!("messages_v2"), s.messages_v2);
    f.field_u64(key!("flows_unknown"), s.flows_unknown);
    f.key(key!("by_command"));
    f.begin_object();
    for (command, c) in &s.by_command {
        f.key_text(command);
        f.begin_object();
        f.field_u64(key!("count"), c.count);
        f.field_u64(key!("bytes"), c.bytes);
        f.end_object();
    }
    f.end_object();
    f.key(key!("findings"));
    f.begin_object();
    for (kind, n) in &s.findings {
        f.key_text(kind);
        f.u64(*n);
    }
    f.end_object();
    f.key(key!("flows"));
    array(f, &s.flows, |f, flow| {
        f.begin_object();
        f.field_u64(key!("flow"), flow.flow);
        f.field_str(key!("client"), &flow.client);
        f.field_str(key!("server"), &flow.server);
        f.field_str(key!("transport"), flow.transport.name());
        f.field_u64(key!("messages"), flow.messages);
        f.field_u64(key!("bytes"), flow.bytes);
        f.end_object();
    });
    f.field_u64(key!("flows_not_listed"), s.flows_not_listed);
    if s.flows.iter().any(|flow| flow.peer.is_some()) {
        // The listed flows' peer records, in the order of `flows`.
        f.key(key!("flow_peers"));
        let peers = s
            .flows
            .iter()
            .filter_map(|flow| Some((flow.flow, flow.peer.as_deref()?)));
        array(f, peers, |f, (flow, peer)| {
            f.begin_object();
            f.field_u64(key!("flow"), flow);
            f.key(key!("peer"));
            super::flow_peer::peer_record(peer, f);
            f.end_object();
        });
    }
    if !s.peers.is_empty() {
        f.key(key!("peers"));
        array(f, &s.peers, |f, peer| {
            f.begin_object();
            f.field_u64(key!("flow"), peer.flow);
            f.field_str(key!("peer"), &peer.peer);
            f.field_str(key!("source"), peer.source);
            f.field_str(key!("network"), peer.network);
            peer_counts(f, key!("messages"), &peer.messages);
            peer_counts(f, key!("bytes"), &peer.bytes);
            f.end_object();
        });
    }
    nonzero(f, key!("peers_not_listed"), s.peers_not_listed);
    super::announce::announce(&s.announce, f);
    if let Some(c) = &s.capture {
        f.key(key!("capture"));
        f.begin_object();
        f.field_u64(key!("received"), c.received);
        f.field_u64(key!("dropped"), c.dropped);
        f.field_u64(key!("if_dropped"), c.if_dropped);
        f.end_object();
    }
    if !s.workers.is_empty() {
        f.key(key!("workers"));
        array(f, &s.workers, |f, w| {
            f.begin_object();
            f.field_u64(key!("worker"), w.worker as u64);
            f.field_u64(key!("flows"), w.flows);
            f.field_u64(key!("events"), w.events);
            f.field_u64(key!("messages"), w.messages);
            f.end_object();
        });
    }
}

fn nonzero<F: Fields>(f: &mut F, key: Key, n: u64) {
    if n != 0 {
        f.field_u64(key, n);
    }
}

/// Per direction of a peer of Core's message capture; `unknown` (files
/// whose name gives no direction) only when not 0.
fn peer_counts<F: Fields>(f: &mut F, key: Key, counts: &PeerCounts) {
    f.key(key);
    f.begin_object();
    f.field_u64(key!("recv"), counts.recv);
    f.field_u64(key!("sent"), counts.sent);
    nonzero(f, key!("unknown"), counts.unknown);
    f.end_object();
}
