//! The framing state machine over one contiguous segment of stream bytes.
//! It owns no bytes: the decoder hands it a view starting at the current
//! position, and it answers how many bytes to consume and what they were.
//! Every decision depends on the bytes only, never on how they were chunked.

mod classify;

use super::header::{self, HEADER_LEN, at_most, magic_starts_with, rest_plausible};
use super::{Checksum, Command, FramingFinding};
use crate::p2p::{Hash256, MAX_PROTOCOL_MESSAGE_LENGTH, Network};
use classify::Class;

/// At most this many unknown magics are adopted per direction (one is the
/// realistic case: a custom signet).
const MAX_ADOPTED_MAGICS: usize = 4;

/// While scanning, candidate headers are confirmed by hashing their whole
/// payload. Hashing per run of skipped bytes is capped at this allowance
/// (two largest messages) plus SCAN_HASH_FACTOR bytes per byte skipped so
/// far; a candidate beyond it is ruled out unhashed. Without the cap, a
/// header claiming ~4 MB planted every 24 bytes costs 4 MB of hashing per
/// 24 bytes of input: minutes of CPU for one packet's worth of garbage.
const SCAN_HASH_ALLOWANCE: u64 = 2 * (HEADER_LEN as u64 + MAX_PROTOCOL_MESSAGE_LENGTH as u64);
const SCAN_HASH_FACTOR: u64 = 64;

/// A message found at the start of the view; its payload is
/// `view[header_len..header_len + length]`.
#[derive(Debug, Clone, Copy)]
pub struct Decided {
    pub network: Network,
    pub command: Command,
    pub length: u32,
    pub checksum: Checksum,
    pub header_len: usize,
    /// sha256d of exactly the payload above, when it was hashed to check
    /// the checksum (see `Frame::payload_hash`).
    pub payload_hash: Option<Hash256>,
}

impl Decided {
    pub fn total_len(&self) -> usize {
        self.header_len.saturating_add(self.length as usize)
    }
}

pub enum Out {
    /// Nothing more can be decided without more bytes (or the end of the
    /// segment was handled completely).
    NeedMore,
    /// State changed without an event: step again.
    Continue,
    Finding(FramingFinding),
    /// A message starting at the view's first byte (before this step's
    /// consumption), at this stream offset.
    Frame(Decided, u64),
}

/// An event already decided, emitted on the next step.
enum Pending {
    Frame(Decided),
    Finding(FramingFinding),
}

#[derive(Clone, Copy)]
enum Mode {
    /// A header is expected at the current position.
    Synced,
    /// Looking for a confirmed header; `run_*` describe the bytes skipped
    /// so far, reported as one SkippedBytes when the run ends.
    Scanning { run_start: u64, run_len: u64 },
}

pub struct Machine {
    /// Stream offset of the view's first byte.
    offset: u64,
    mode: Mode,
    adopted: Vec<[u8; 4]>,
    /// The view must reach this length before the same position is looked
    /// at again (keeps 1-byte pushes from re-examining a waiting header).
    need: usize,
    pending: Option<Pending>,
    /// Payload bytes hashed to confirm candidates in the current scan run.
    scan_hashed: u64,
}

impl Machine {
    pub fn new() -> Machine {
        Machine {
            offset: 0,
            mode: Mode::Synced,
            adopted: Vec::new(),
            need: 0,
            pending: None,
            scan_hashed: 0,
        }
    }

    /// Bytes never captured follow the current segment (fully consumed):
    /// skip them and look for a confirmed header.
    pub fn gap(&mut self, bytes: u64) {
        self.offset = self.offset.saturating_add(bytes);
        self.mode = Mode::Scanning {
            run_start: self.offset,
            run_len: 0,
        };
        self.scan_hashed = 0;
        self.need = 0;
    }

    /// In sync, with a header read and its payload incomplete: the bytes
    /// the whole message needs (header included), counted from the view's
    /// start. The length is at most MAX_PROTOCOL_MESSAGE_LENGTH.
    pub fn awaiting_message(&self) -> Option<usize> {
        let synced = matches!(self.mode, Mode::Synced) && self.pending.is_none();
        (synced && self.need > HEADER_LEN).then_some(self.need)
    }

    fn trusted(&self, magic: [u8; 4]) -> bool {
        Network::from_magic(magic).is_known() || self.adopted.contains(&magic)
    }

    /// Whether a header prefix (any length up to 24) is plausible. While
    /// scanning only known or adopted magics count; in sync any magic may
    /// be tried (an unknown one must then prove itself by its checksum).
    fn prefix_plausible(&self, prefix: &[u8], scanning: bool) -> bool {
        let magic_ok = if scanning {
            header::known_magic_prefix(prefix)
                || self.adopted.iter().any(|m| magic_starts_with(m, prefix))
        } else {
            true
        };
        // While in sync an oversize length is a finding, not a reason to
        // reject the header.
        let length_ok = |p: &[u8]| {
            if scanning {
                rest_plausible(p)
            } else {
                rest_plausible(at_most(p, header::LENGTH_START))
            }
        };
        magic_ok && length_ok(prefix)
    }

    fn consume(&mut self, n: usize) -> usize {
        self.offset = self.offset.saturating_add(n as u64);
        n
    }

    /// One step over `view` (the unconsumed bytes of the current segment).
    /// `at_end`: no more bytes will join this segment (gap or end of
    /// stream), so every remaining byte must be accounted for now.
    /// Returns the number of bytes consumed and the outcome.
    pub fn step(&mut self, view: &[u8], at_end: bool) -> (usize, Out) {
        if let Some(pending) = self.pending.take() {
            return match pending {
                Pending::Frame(d) => self.emit(d),
                Pending::Finding(f) => (0, Out::Finding(f)),
            };
        }
        if !at_end && view.len() < self.need {
            return (0, Out::NeedMore);
        }
        self.need = 0;
        match self.mode {
            Mode::Synced => self.step_synced(view, at_end),
            Mode::Scanning { run_start, run_len } => {
                self.step_scanning(view, at_end, run_start, run_len)
            }
        }
    }

    fn emit(&mut self, d: Decided) -> (usize, Out) {
        let offset = self.offset;
        self.mode = Mode::Synced;
        (self.consume(d.total_len()), Out::Frame(d, offset))
    }

    fn step_synced(&mut self, view: &[u8], at_end: bool) -> (usize, Out) {
        if view.is_empty() {
            return (0, Out::NeedMore);
        }
        match self.classify(view, false, at_end) {
            Class::Wait(n) => {
                self.need = n;
                (0, Out::NeedMore)
            }
            Class::NotHeader => {
                self.mode = Mode::Scanning {
                    run_start: self.offset,
                    run_len: 0,
                };
                self.scan_hashed = 0;
                (0, Out::Continue)
            }
            Class::Oversize { command, length } => {
                let finding = FramingFinding::OversizeLength {
                    offset: self.offset,
                    command,
                    length,
                    limit: MAX_PROTOCOL_MESSAGE_LENGTH,
                };
                // The header is reported by the finding; look for the next
                // one after it (its payload, if any, is skipped bytes).
                let n = self.consume(HEADER_LEN);
                self.mode = Mode::Scanning {
                    run_start: self.offset,
                    run_len: 0,
                };
                self.scan_hashed = 0;
                (n, Out::Finding(finding))
            }
            Class::Message(d) => match d.network {
                Network::Unknown(magic) if !self.adopted.contains(&magic) => {
                    if self.adopted.len() < MAX_ADOPTED_MAGICS {
                        self.adopted.push(magic);
                    }
                    self.pending = Some(Pending::Frame(d));
                    let finding = FramingFinding::UnknownMagicAdopted {
                        offset: self.offset,
                        magic,
                    };
                    (0, Out::Finding(finding))
                }
                _ => self.emit(d),
            },
            Class::Truncated { needed } => {
                let finding = FramingFinding::Truncated {
                    offset: self.offset,
                    have: view.len() as u64,
                    needed,
                };
                (self.consume(view.len()), Out::Finding(finding))
            }
        }
    }

    /// Scans for the next confirmed header. Cost: each position is ruled
    /// out once (a position waiting for bytes is not looked at again until
    /// `need` is reached), so 1-byte pushes stay linear. A candidate header
    /// costs one hash of its payload when it is complete; a peer that plants
    /// a known magic and a plausible command every few bytes, each with a
    /// large length, could make resync hash 4 MB per planted header: the
    /// run's hashing is capped (SCAN_HASH_ALLOWANCE), memory is bounded.
    fn step_scanning(
        &mut self,
        view: &[u8],
        at_end: bool,
        run_start: u64,
        run_len: u64,
    ) -> (usize, Out) {
        // Fast skip to the next byte that can open a known or adopted magic
        // (slots without an adopted magic repeat a known first byte).
        let mut firsts = [Network::Mainnet.magic()[0]; 5 + MAX_ADOPTED_MAGICS];
        let magics = Network::KNOWN
            .iter()
            .map(|n| n.magic())
            .chain(self.adopted.iter().copied());
        for (slot, magic) in firsts.iter_mut().zip(magics) {
            *slot = magic[0];
        }
        let mut i = 0;
        while let Some(candidate) = view.get(i..).filter(|c| !c.is_empty()) {
            match candidate.iter().position(|b| firsts.contains(b)) {
                Some(0) => {}
                Some(k) => {
                    i = i.saturating_add(k);
                    continue;
                }
                None => break,
            }
            let prefix = at_most(candidate, HEADER_LEN);
            if !self.prefix_plausible(prefix, true) {
                i = i.saturating_add(1);
                continue;
            }
            // The run's hashing budget (SCAN_HASH_ALLOWANCE): decided from
            // the bytes' positions only, so chunking cannot change it.
            let cost = header::length_field(candidate)
                .map_or(0, |len| u64::from(len).saturating_add(HEADER_LEN as u64));
            let budget = SCAN_HASH_FACTOR
                .saturating_mul(run_len.saturating_add(i as u64))
                .saturating_add(SCAN_HASH_ALLOWANCE);
            if self.scan_hashed.saturating_add(cost) > budget {
                i = i.saturating_add(1);
                continue;
            }
            let hashed = if candidate.len() as u64 >= cost {
                cost
            } else {
                0
            };
            match self.classify(candidate, true, at_end) {
                Class::NotHeader | Class::Oversize { .. } => {
                    self.scan_hashed = self.scan_hashed.saturating_add(hashed);
                    i = i.saturating_add(1);
                }
                Class::Wait(n) => {
                    self.need = n;
                    self.mode = Mode::Scanning {
                        run_start,
                        run_len: run_len.saturating_add(i as u64),
                    };
                    return (self.consume(i), Out::NeedMore);
                }
                Class::Message(d) => {
                    self.pending = Some(Pending::Frame(d));
                    return self.end_run(i, run_start, run_len);
                }
                Class::Truncated { needed } => {
                    let have = candidate.len() as u64;
                    let finding = FramingFinding::Truncated {
                        offset: self.offset.saturating_add(i as u64),
                        have,
                        needed,
                    };
                    self.pending = Some(Pending::Finding(finding));
                    let (n, out) = self.end_run(i, run_start, run_len);
                    // The truncated candidate is consumed too.
                    self.consume(candidate.len());
                    return (n.saturating_add(candidate.len()), out);
                }
            }
        }
        // Every byte of the view is ruled out.
        let run_len = run_len.saturating_add(view.len() as u64);
        if at_end {
            self.mode = Mode::Synced;
            let n = self.consume(view.len());
            return (n, self.skipped(run_start, run_len));
        }
        self.mode = Mode::Scanning { run_start, run_len };
        (self.consume(view.len()), Out::NeedMore)
    }

    /// A header was found `i` bytes into the view: report the skipped run.
    fn end_run(&mut self, i: usize, run_start: u64, run_len: u64) -> (usize, Out) {
        self.mode = Mode::Synced;
        let n = self.consume(i);
        (n, self.skipped(run_start, run_len.saturating_add(i as u64)))
    }

    fn skipped(&self, offset: u64, bytes: u64) -> Out {
        if bytes == 0 {
            Out::Continue
        } else {
            Out::Finding(FramingFinding::SkippedBytes { offset, bytes })
        }
    }
}
