//! The `--stats` peer table: one line per listed flow, the busiest first
//! (payload bytes of both sides), with what a node operator looks for:
//! the two user agents, duration and ping round trip.

use crate::analyzer::peer::{PeerRecord, SideRecord};
use crate::analyzer::stats::FlowStats;
use crate::output::escape::escape_str;
use std::fmt::Write as _;

/// Characters of a user agent shown (the JSON has it whole).
const AGENT_WIDTH: usize = 28;

/// Writes the table's lines (header first) into `out`.
pub fn write_peer_table(flows: &[FlowStats], out: &mut String) {
    let mut sorted: Vec<&FlowStats> = flows.iter().collect();
    // Busiest first; equal bytes in flow order.
    sorted.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.flow.cmp(&b.flow)));
    let _ = writeln!(
        out,
        "   {:>5} {:<22} {:<22} {:<7} {:>8} {:>12} {:>9} {:>8}  client agent -> server agent",
        "flow", "client", "server", "transp", "messages", "bytes", "seconds", "ping ms"
    );
    for f in sorted {
        let peer = f.peer.as_deref();
        let secs = peer.map_or(String::from("-"), |p| {
            format!(
                "{}.{}",
                p.duration / 1_000_000,
                p.duration % 1_000_000 / 100_000
            )
        });
        let _ = writeln!(
            out,
            "   {:>5} {:<22} {:<22} {:<7} {:>8} {:>12} {:>9} {:>8}  {} -> {}",
            f.flow,
            f.client,
            f.server,
            f.transport.name(),
            f.messages,
            f.bytes,
            secs,
            peer.map_or(String::from("-"), ping_ms),
            agent(peer.map(|p| &p.sides[0])),
            agent(peer.map(|p| &p.sides[1])),
        );
    }
}

/// The median ping round trip: the client's pings if it sent any (the
/// server's distance from the sensor and back), else the server's.
fn ping_ms(p: &PeerRecord) -> String {
    let [client, server] = &p.sides;
    match client.ping.median.or(server.ping.median) {
        Some(us) => format!("{}.{:03}", us / 1000, us % 1000),
        None => String::from("-"),
    }
}

fn agent(side: Option<&SideRecord>) -> String {
    match side.and_then(|s| s.version.as_ref()) {
        Some(v) if v.user_agent.is_empty() => format!("(none, {})", v.version),
        Some(v) => {
            let ua: String = v.user_agent.chars().take(AGENT_WIDTH).collect();
            escape_str(&ua)
        }
        None => String::from("?"),
    }
}
