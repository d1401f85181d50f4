//! Per-command counters of one direction in a fixed table: a command's
//! slot is found by name without allocating, and a peer inventing a new
//! command for every message grows nothing (those land in `other`).

/// The commands counted one by one: those the decoder knows (the
/// order of [`slot`]'s indexes).
pub const COUNTED: [&str; 37] = crate::p2p::message::KNOWN_COMMANDS;

/// The name under which commands not in [`COUNTED`] are counted (a space:
/// no framed command can have it).
pub const OTHER: &str = "(other)";

const SLOTS: usize = COUNTED.len() + 1;

/// Messages and payload bytes per command, side by side: counting a
/// message touches one cache line (the table is cold memory for most
/// messages of a busy capture).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandCounts {
    counts: [[u64; 2]; SLOTS],
}

impl Default for CommandCounts {
    fn default() -> Self {
        CommandCounts {
            counts: [[0; 2]; SLOTS],
        }
    }
}

/// `COUNTED`'s index of `command` (a match: the compiler dispatches on
/// length first; a search of the table cost a tenth of the whole run on
/// relay traffic). The test below keeps the two in step.
fn slot(command: &[u8]) -> usize {
    match command {
        b"version" => 0,
        b"verack" => 1,
        b"addr" => 2,
        b"addrv2" => 3,
        b"sendaddrv2" => 4,
        b"inv" => 5,
        b"getdata" => 6,
        b"notfound" => 7,
        b"getblocks" => 8,
        b"getheaders" => 9,
        b"tx" => 10,
        b"block" => 11,
        b"headers" => 12,
        b"getaddr" => 13,
        b"ping" => 14,
        b"pong" => 15,
        b"mempool" => 16,
        b"merkleblock" => 17,
        b"filterload" => 18,
        b"filteradd" => 19,
        b"filterclear" => 20,
        b"sendheaders" => 21,
        b"feefilter" => 22,
        b"sendcmpct" => 23,
        b"cmpctblock" => 24,
        b"getblocktxn" => 25,
        b"blocktxn" => 26,
        b"getcfilters" => 27,
        b"cfilter" => 28,
        b"getcfheaders" => 29,
        b"cfheaders" => 30,
        b"getcfcheckpt" => 31,
        b"cfcheckpt" => 32,
        b"wtxidrelay" => 33,
        b"sendtxrcncl" => 34,
        b"reject" => 35,
        b"alert" => 36,
        _ => COUNTED.len(),
    }
}

impl CommandCounts {
    pub fn count(&mut self, command: &[u8], bytes: u64) {
        if let Some([m, b]) = self.counts.get_mut(slot(command)) {
            *m = m.saturating_add(1);
            *b = b.saturating_add(bytes);
        }
    }

    /// (command, messages, bytes) of every command seen, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64, u64)> + '_ {
        COUNTED
            .iter()
            .copied()
            .chain(std::iter::once(OTHER))
            .zip(&self.counts)
            .filter(|(_, [m, _])| *m > 0)
            .map(|(name, [m, b])| (name, *m, *b))
    }

    pub fn total_bytes(&self) -> u64 {
        self.counts
            .iter()
            .fold(0u64, |a, [_, b]| a.saturating_add(*b))
    }

    pub fn get(&self, command: &str) -> (u64, u64) {
        let [m, b] = self
            .counts
            .get(slot(command.as_bytes()))
            .copied()
            .unwrap_or_default();
        (m, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_other_commands() {
        let mut c = CommandCounts::default();
        c.count(b"inv", 37);
        c.count(b"inv", 73);
        c.count(b"madeup", 5);
        c.count(b"alsomadeup", 6);
        let all: Vec<_> = c.iter().collect();
        assert_eq!(all, vec![("inv", 2, 110), (OTHER, 2, 11)]);
        assert_eq!(c.get("inv"), (2, 110));
        assert_eq!(c.total_bytes(), 121);
    }

    #[test]
    fn slots_follow_the_table() {
        for (i, name) in COUNTED.iter().enumerate() {
            assert_eq!(slot(name.as_bytes()), i, "{name}");
        }
        assert_eq!(slot(b"nope"), COUNTED.len());
    }

    #[test]
    fn the_table_is_what_the_decoder_knows() {
        use crate::p2p::frame::Command;
        use crate::p2p::message::{DecodeContext, Message, decode};
        for name in COUNTED {
            let command = Command::new(name);
            let decoded = decode(&command, &[], &DecodeContext::default());
            let known = !matches!(decoded.message, Ok(Message::Unknown { .. }));
            assert!(known, "{name} is not a command the decoder knows");
        }
    }
}
