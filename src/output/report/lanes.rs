//! The flow timeline's lanes: one per flow (or per peer of a Core message
//! capture), its messages as marks, with a cap.
//!
//! The cap rule: a lane keeps one mark per message until it holds
//! [`MAX_MARKS_PER_LANE`]; then its messages are grouped by time bucket
//! (the ladder of `buckets.rs`: 1 ms, 10 ms, ... coarser until the lane
//! fits in three quarters of the cap), command family and direction. A
//! grouped mark spans its first to last message, counts them and their
//! bytes, and shows the first one's details. Counts are never lost: the
//! marks of a lane always add up to its messages.

use super::buckets::{FINEST_US, coarser};
use super::family::Family;
use std::collections::HashMap;

/// Most marks per lane (the page holds at most MAX_LANES times this).
pub const MAX_MARKS_PER_LANE: usize = 200;
/// Most findings marked per lane (the rest are counted).
pub const MAX_FINDING_MARKS_PER_LANE: usize = 50;
/// Most pings awaiting their pong per direction (older ones are dropped).
const MAX_PENDING_PINGS: usize = 8;

/// One message, or a group of messages of one family and direction close
/// in time.
#[derive(Debug, Clone)]
pub struct Mark {
    pub first_us: i64,
    pub last_us: i64,
    pub family: Family,
    /// 0: sent by side 0 (client, or the capturing node); 1: by side 1.
    pub dir: u8,
    /// Index into the report's command names (of the first message).
    pub command: u16,
    /// The first message's payload length.
    pub length: u32,
    pub count: u32,
    pub bytes: u64,
    /// A block transfer among the messages: drawn as a bar.
    pub block: bool,
    /// The first message's decisive value (hash, user agent, counts).
    pub detail: Option<Box<str>>,
}

impl Mark {
    fn absorb(&mut self, other: Mark) {
        if other.first_us < self.first_us {
            self.first_us = other.first_us;
            self.command = other.command;
            self.length = other.length;
            self.detail = other.detail;
        }
        self.last_us = self.last_us.max(other.last_us);
        self.count = self.count.saturating_add(other.count);
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.block |= other.block;
    }
}

/// A lane's marks under the cap.
#[derive(Debug)]
pub struct Marks {
    /// 0: one mark per message; else the grouping bucket width.
    width_us: i64,
    cap: usize,
    marks: Vec<Mark>,
    index: HashMap<(i64, Family, u8), usize, foldhash::fast::RandomState>,
    /// Per family and direction, the bucket and mark last used: most
    /// messages land there, without a look-up in `index`.
    recent: [(i64, usize); 2 * Family::ALL.len()],
}

const NO_RECENT: (i64, usize) = (i64::MIN, usize::MAX);

impl Marks {
    pub fn new(cap: usize) -> Marks {
        debug_assert!(cap >= 2 * Family::ALL.len() * 2);
        Marks {
            width_us: 0,
            cap,
            marks: Vec::new(),
            index: HashMap::default(),
            recent: [NO_RECENT; 2 * Family::ALL.len()],
        }
    }

    /// Adds one message; `detail` is computed only when the message gets
    /// a mark of its own.
    pub fn add(&mut self, mark: Mark, detail: impl FnOnce() -> Option<Box<str>>) {
        if self.width_us > 0 {
            let bucket = mark.first_us.div_euclid(self.width_us);
            let slot = mark.family.index() * 2 + usize::from(mark.dir & 1);
            let found = match self.recent[slot] {
                (b, i) if b == bucket => Some(i),
                _ => self.index.get(&(bucket, mark.family, mark.dir)).copied(),
            };
            if let Some(i) = found {
                self.recent[slot] = (bucket, i);
                if let Some(m) = self.marks.get_mut(i) {
                    m.absorb(mark);
                }
                return;
            }
            self.recent[slot] = (bucket, self.marks.len());
            self.index
                .insert((bucket, mark.family, mark.dir), self.marks.len());
        }
        self.marks.push(Mark {
            detail: detail(),
            ..mark
        });
        if self.marks.len() > self.cap {
            self.coarsen();
        }
    }

    /// Groups with wider buckets until the marks fill at most three
    /// quarters of the cap (each rung at least doubles the width, so a
    /// lane coarsens a bounded number of times).
    fn coarsen(&mut self) {
        while self.marks.len() > self.cap * 3 / 4 {
            self.width_us = if self.width_us == 0 {
                FINEST_US
            } else {
                coarser(self.width_us)
            };
            let old = std::mem::take(&mut self.marks);
            self.index.clear();
            self.recent = [NO_RECENT; 2 * Family::ALL.len()];
            for mark in old {
                let key = (
                    mark.first_us.div_euclid(self.width_us),
                    mark.family,
                    mark.dir,
                );
                match self.index.get(&key) {
                    Some(&i) => self.marks[i].absorb(mark),
                    None => {
                        self.index.insert(key, self.marks.len());
                        self.marks.push(mark);
                    }
                }
            }
            if self.width_us == i64::MAX {
                break;
            }
        }
    }

    pub fn width_us(&self) -> i64 {
        self.width_us
    }

    pub fn into_sorted(self) -> Vec<Mark> {
        let mut marks = self.marks;
        marks.sort_by_key(|m| m.first_us);
        marks
    }
}

/// One end of a flow: what it said about itself and how much it sent.
#[derive(Debug, Default)]
pub struct Side {
    pub address: String,
    pub user_agent: Option<String>,
    pub version: Option<i32>,
    pub start_height: Option<i32>,
    pub services: Option<u64>,
    pub messages: u64,
    pub bytes: u64,
    /// Round trips of this side's pings (its ping to the other's pong), as
    /// seen at the capture point, in microseconds.
    pub rtt_count: u64,
    pub rtt_min_us: Option<i64>,
    pub rtt_sum_us: i64,
    pending_pings: Vec<(u64, i64)>,
}

impl Side {
    pub fn ping(&mut self, nonce: u64, t_us: i64) {
        if self.pending_pings.len() >= MAX_PENDING_PINGS {
            self.pending_pings.remove(0);
        }
        self.pending_pings.push((nonce, t_us));
    }

    /// The other side's pong: a round trip if it answers a pending ping.
    pub fn pong(&mut self, nonce: u64, t_us: i64) {
        let Some(i) = self.pending_pings.iter().position(|&(n, _)| n == nonce) else {
            return;
        };
        let (_, sent) = self.pending_pings.remove(i);
        let rtt = t_us.saturating_sub(sent).max(0);
        self.rtt_count += 1;
        self.rtt_sum_us = self.rtt_sum_us.saturating_add(rtt);
        self.rtt_min_us = Some(self.rtt_min_us.map_or(rtt, |m| m.min(rtt)));
    }
}

/// A finding on a lane.
#[derive(Debug, Clone)]
pub struct FindingMark {
    pub t_us: i64,
    pub kind: &'static str,
    /// Index into the report's findings list, when listed there.
    pub listed: Option<usize>,
}

/// One flow's lane.
#[derive(Debug)]
pub struct Lane {
    pub flow: u64,
    /// The client of a packet flow (its record's, else the first sender).
    pub client: Option<std::net::SocketAddr>,
    /// 0: the client (initiator), or the capturing node of a Core message
    /// capture; 1: the server, or the peer.
    pub sides: [Side; 2],
    pub transport: &'static str,
    pub decryption: Option<&'static str>,
    pub first_us: i64,
    pub last_us: i64,
    pub marks: Marks,
    pub findings: Vec<FindingMark>,
    pub findings_not_marked: u64,
}

impl Lane {
    pub fn new(flow: u64, transport: &'static str, ends: [String; 2], t_us: i64) -> Lane {
        let [a, b] = ends;
        Lane {
            flow,
            client: None,
            sides: [
                Side {
                    address: a,
                    ..Side::default()
                },
                Side {
                    address: b,
                    ..Side::default()
                },
            ],
            transport,
            decryption: None,
            first_us: t_us,
            last_us: t_us,
            marks: Marks::new(MAX_MARKS_PER_LANE),
            findings: Vec::new(),
            findings_not_marked: 0,
        }
    }

    pub fn touch(&mut self, t_us: i64) {
        self.first_us = self.first_us.min(t_us);
        self.last_us = self.last_us.max(t_us);
    }

    pub fn finding(&mut self, mark: FindingMark) {
        self.touch(mark.t_us);
        if self.findings.len() < MAX_FINDING_MARKS_PER_LANE {
            self.findings.push(mark);
        } else {
            self.findings_not_marked += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(t_us: i64, family: Family) -> Mark {
        Mark {
            first_us: t_us,
            last_us: t_us,
            family,
            dir: 0,
            command: 0,
            length: 10,
            count: 1,
            bytes: 10,
            block: false,
            detail: None,
        }
    }

    #[test]
    fn below_the_cap_every_message_is_a_mark() {
        let mut marks = Marks::new(100);
        for i in 0..100 {
            marks.add(mark(i * 1_000_000, Family::Inventory), || None);
        }
        assert_eq!(marks.width_us(), 0);
        assert_eq!(marks.into_sorted().len(), 100);
    }

    #[test]
    fn above_the_cap_marks_group_and_keep_every_count() {
        let mut marks = Marks::new(100);
        let mut details = 0;
        for i in 0..10_000i64 {
            let family = if i % 3 == 0 {
                Family::Transactions
            } else {
                Family::Inventory
            };
            marks.add(mark(i * 1_000, family), || {
                details += 1;
                Some(format!("m{i}").into())
            });
        }
        assert!(marks.width_us() > 0);
        let sorted = marks.into_sorted();
        assert!(sorted.len() <= 100, "{}", sorted.len());
        assert_eq!(
            sorted.iter().map(|m| u64::from(m.count)).sum::<u64>(),
            10_000
        );
        assert_eq!(sorted.iter().map(|m| m.bytes).sum::<u64>(), 100_000);
        assert!(details < 1000, "details computed for {details} messages");
        assert_eq!(
            sorted[0].detail.as_deref(),
            Some("m0"),
            "first message's detail kept"
        );
    }

    #[test]
    fn pong_answers_a_pending_ping() {
        let mut side = Side::default();
        side.ping(7, 1_000);
        side.pong(8, 2_000);
        side.pong(7, 3_500);
        assert_eq!((side.rtt_count, side.rtt_min_us), (1, Some(2_500)));
    }
}
