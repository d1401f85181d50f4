//! Core's v1 fallback, seen on the wire: an outbound v2 attempt that the
//! peer closed before answering anything (a v1-only node disconnects on
//! the key it cannot parse), followed by a v1 connection from the same
//! client to the same server. Core reconnects at once
//! (V2Transport::ShouldReconnectV1: initiator, nothing received, enough
//! sent for a v1 peer to have disconnected).

use crate::capture::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

/// A v1 connection this soon after the failed attempt is its fallback.
pub const FALLBACK_WINDOW_MS: u64 = 30_000;

/// Attempts remembered at once (the oldest are forgotten first).
const MAX_ATTEMPTS: usize = 4096;

/// A v2 attempt closed without an answer.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub flow: u64,
    pub ended: Timestamp,
    pub client_bytes: u64,
}

#[derive(Debug, Default)]
pub struct FallbackTracker {
    attempts: HashMap<(IpAddr, SocketAddr), Attempt>,
    order: VecDeque<(IpAddr, SocketAddr)>,
}

fn millis_between(earlier: Timestamp, later: Timestamp) -> Option<u64> {
    let ms = |t: Timestamp| i128::from(t.secs) * 1000 + i128::from(t.nanos / 1_000_000);
    u64::try_from(ms(later) - ms(earlier)).ok()
}

impl FallbackTracker {
    /// A v2 flow from `client` to `server` ended with nothing received.
    pub fn attempt_failed(&mut self, client: SocketAddr, server: SocketAddr, attempt: Attempt) {
        let key = (client.ip(), server);
        if self.attempts.insert(key, attempt).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > MAX_ATTEMPTS {
            if let Some(old) = self.order.pop_front() {
                self.attempts.remove(&old);
            }
        }
    }

    /// A v1 flow from `client` to `server` started at `now`: the attempt
    /// it falls back from, and how long after it ended.
    pub fn v1_started(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        now: Timestamp,
    ) -> Option<(Attempt, u64)> {
        let key = (client.ip(), server);
        let attempt = self.attempts.remove(&key)?;
        self.order.retain(|k| *k != key);
        let after = millis_between(attempt.ended, now)?;
        (after <= FALLBACK_WINDOW_MS).then_some((attempt, after))
    }
}
