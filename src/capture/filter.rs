//! `read -f EXPR`: BPF capture filters on packets from files, compiled and
//! run by libpcap exactly as `live -f` (and tcpdump -r ... EXPR) does.
//!
//! A filter is compiled once per link type met in the input (a pcapng file
//! may hold several). An expression that cannot apply to a link type (e.g.
//! `ether host` on raw IP) rejects that link type's packets, with one
//! warning naming it.

use super::libpcap::OfflineFilter;
use super::{LinkType, Packet};
use std::collections::HashMap;

/// Snap length the filters are compiled for: longer than any record the
/// file reader accepts a packet for.
const FILTER_SNAPLEN: u32 = 262_144;

pub struct PacketFilter {
    expression: String,
    /// Per link type: the compiled filter, or why it could not be.
    compiled: HashMap<u32, Result<OfflineFilter, String>>,
}

impl PacketFilter {
    /// Compiles `expression` for Ethernet to reject a bad one at once (as
    /// tcpdump does, before reading anything).
    pub fn new(expression: &str) -> anyhow::Result<PacketFilter> {
        let ethernet = OfflineFilter::compile(LinkType::ETHERNET.0, FILTER_SNAPLEN, expression)
            .map_err(|e| anyhow::anyhow!("bad capture filter '{expression}': {e}"))?;
        let mut compiled = HashMap::new();
        compiled.insert(LinkType::ETHERNET.0, Ok(ethernet));
        Ok(PacketFilter {
            expression: expression.to_string(),
            compiled,
        })
    }

    /// Whether the packet passes; `warn` is called once for a link type
    /// the expression cannot be compiled for.
    pub fn matches(&mut self, packet: &Packet<'_>, warn: &mut dyn FnMut(String)) -> bool {
        let link = packet.link_type.0;
        let expression = &self.expression;
        let entry = self.compiled.entry(link).or_insert_with(|| {
            let compiled =
                OfflineFilter::compile(link, FILTER_SNAPLEN, expression).map_err(|e| e.to_string());
            if let Err(e) = &compiled {
                warn(format!(
                    "capture filter '{expression}' does not apply to link type {link}: {e}; \
                     its packets are skipped"
                ));
            }
            compiled
        });
        match entry {
            Ok(filter) => filter.matches(packet.data, packet.orig_len),
            Err(_) => false,
        }
    }
}
