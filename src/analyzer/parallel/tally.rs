//! Messages per command, counted by a worker for one round and listed by
//! the merge in the global order.
//!
//! The summary lists the first [`MAX_LISTED_COMMANDS`] names in the order
//! they first appear and counts later names together: which names are
//! listed depends on the order of all flows' messages, which no worker
//! sees. A worker therefore counts per round (bounded by the round's
//! size) and notes where each name first appeared; the merge, which knows
//! the global order of the round's operations, lists names as the
//! single-threaded analyzer would have.

use crate::analyzer::Stats;
use crate::analyzer::stats::{MAX_LISTED_COMMANDS, OTHER_COMMANDS};
use std::collections::HashMap;

/// One command name's count in a round.
#[derive(Debug, Clone)]
pub struct CommandCount {
    pub command: String,
    /// The worker's operation (index in its round batch) that counted the
    /// name first.
    pub first_op: u32,
    pub count: u64,
    pub bytes: u64,
}

#[derive(Debug, Default)]
pub struct CommandTally {
    /// The operation being handled.
    pub op: u32,
    /// Seeded per map (names come from the network); foldhash, as the
    /// flow table: SipHash was a tenth of a worker's time on inv traffic.
    index: HashMap<String, usize, foldhash::fast::RandomState>,
    counts: Vec<CommandCount>,
    /// The entry counted last: runs of one command skip the lookup.
    last: usize,
}

impl CommandTally {
    pub fn count(&mut self, command: &str, bytes: u64) {
        if let Some(c) = self.counts.get_mut(self.last)
            && c.command == command
        {
            c.count += 1;
            c.bytes += bytes;
            return;
        }
        match self.index.get(command) {
            Some(&i) => {
                if let Some(c) = self.counts.get_mut(i) {
                    c.count += 1;
                    c.bytes += bytes;
                }
                self.last = i;
            }
            None => {
                self.last = self.counts.len();
                self.index.insert(command.to_string(), self.counts.len());
                self.counts.push(CommandCount {
                    command: command.to_string(),
                    first_op: self.op,
                    count: 1,
                    bytes,
                });
            }
        }
    }

    /// The round's counts; the tally starts over.
    pub fn take(&mut self) -> Vec<CommandCount> {
        self.index.clear();
        self.op = 0;
        self.last = 0;
        std::mem::take(&mut self.counts)
    }
}

/// Adds a round's counts, already in the order their names first appeared,
/// to `stats.by_command` as [`Stats::count_message`] would have, message by
/// message (`messages` and `message_bytes` are the workers' own).
pub fn list_in_order(stats: &mut Stats, counts: impl IntoIterator<Item = CommandCount>) {
    for c in counts {
        let listed = stats.by_command.len() < MAX_LISTED_COMMANDS
            || stats.by_command.contains_key(&c.command);
        let key = if listed {
            c.command
        } else {
            OTHER_COMMANDS.to_string()
        };
        let entry = stats.by_command.entry(key).or_default();
        entry.count += c.count;
        entry.bytes += c.bytes;
    }
}
