//! What the bytes at the start of a view are: not a header, a header
//! waiting for its payload, an oversize length, a message (v1 or legacy),
//! or a message cut short by the end of the segment.

use super::{Decided, Machine};
use crate::p2p::frame::header::{self, HEADER_LEN, Header, LEGACY_HEADER_LEN, may_be_legacy};
use crate::p2p::frame::{Checksum, Command};
use crate::p2p::hash::checksum_of;
use crate::p2p::{Hash256, MAX_PROTOCOL_MESSAGE_LENGTH, Network, sha256d};

/// version, services, timestamp and addr_recv: the fields every version
/// message ever had.
const MIN_VERSION_PAYLOAD: usize = 4 + 8 + 8 + 26;
/// Core's PROTOCOL_VERSION today, the highest version number in use.
const LATEST_PROTOCOL_VERSION: u32 = 70016;

/// What the bytes at the start of a view are.
pub(super) enum Class {
    NotHeader,
    /// A plausible header: the view must reach this many bytes to decide.
    Wait(usize),
    Oversize {
        command: Command,
        length: u32,
    },
    Message(Decided),
    /// Only at the end of a segment: a plausible message cut short.
    Truncated {
        needed: u64,
    },
}

impl Machine {
    /// What the bytes at the start of `view` are. `scanning`: a message
    /// must be confirmed (valid checksum, or a legacy header followed by a
    /// header), a wrong checksum means "not a header".
    pub(super) fn classify(&self, view: &[u8], scanning: bool, at_end: bool) -> Class {
        let Some((head, claimed)) = Header::read(view) else {
            let prefix = view;
            if !self.prefix_plausible(prefix, scanning) {
                return Class::NotHeader;
            }
            if !at_end {
                return Class::Wait(HEADER_LEN);
            }
            if let Some(d) = self.legacy_ending_here(view) {
                return Class::Message(d);
            }
            let needed = match header::length_field(view) {
                Some(len) if len <= MAX_PROTOCOL_MESSAGE_LENGTH => {
                    (HEADER_LEN as u64).saturating_add(u64::from(len))
                }
                _ => HEADER_LEN as u64,
            };
            return Class::Truncated { needed };
        };
        let Header {
            magic,
            command,
            length,
        } = head;
        let trusted = self.trusted(magic);
        if (scanning && !trusted) || !header::command_prefix_plausible(&command) {
            return Class::NotHeader;
        }
        if length > MAX_PROTOCOL_MESSAGE_LENGTH {
            return if trusted && !scanning {
                Class::Oversize {
                    command: Command(command),
                    length,
                }
            } else {
                Class::NotHeader
            };
        }
        // An unknown magic, or any header found by scanning, must prove
        // itself; a known magic in sync is taken as a header.
        let strict = scanning || !trusted;
        let len = length as usize;
        let std_end = HEADER_LEN.saturating_add(len);
        let decided = |checksum, header_len, payload_hash| Decided {
            network: Network::from_magic(magic),
            command: Command(command),
            length,
            checksum,
            header_len,
            payload_hash,
        };
        let Some(payload) = view.get(HEADER_LEN..std_end) else {
            // LEGACY RULE, part 1: a version/verack whose 24-byte reading is
            // incomplete when the segment ends exactly 20 + length bytes
            // after its start is taken as legacy (a lone legacy verack
            // before a gap or the end of a capture).
            if at_end {
                if let Some(d) = self.legacy_ending_here(view) {
                    return Class::Message(d);
                }
                return Class::Truncated {
                    needed: std_end as u64,
                };
            }
            return Class::Wait(std_end);
        };
        // The whole sha256d is kept with the frame: for a standalone `tx`
        // it is the txid (legacy) or the wtxid (segwit), so the message
        // decoder need not hash the same bytes again.
        let hash = sha256d(payload);
        let actual = checksum_of(&hash);
        if actual == claimed {
            return Class::Message(decided(Checksum::Valid, HEADER_LEN, Some(Hash256(hash))));
        }
        // LEGACY RULE, part 2. Pre-2012 peers sent version and verack with
        // a 20-byte header (no checksum) and every other message with 24.
        // Both readings need the same 24 + length bytes to decide:
        // - the 24-byte reading wins if its checksum is valid;
        // - otherwise the 20-byte reading wins if its end (20 + length) is
        //   followed by a known or adopted magic, i.e. the next header
        //   starts where a legacy message would end. Four bytes of magic
        //   decide, whatever follows, so the choice does not depend on
        //   chunking. For verack (length 0) this compares bytes 20..24 with
        //   5df6e0e2 (checksum of nothing) and then with the magics.
        // - in sync, a verack is legacy whenever its checksum field is not
        //   5df6e0e2: an empty payload's checksum is a constant no modern
        //   peer gets wrong, while a legacy verack followed by a gap the
        //   reassembler did not see (or by junk) is real (the 2011 capture
        //   has it). While scanning, the next magic is still required.
        // - in sync, a version is legacy when its would-be checksum field,
        //   read as the legacy payload's first field, is a protocol version
        //   number (1..=70016) and the length fits a version payload
        //   (>= 46 bytes): a wrong checksum landing in that range has odds
        //   of 1 in 61,000, on top of being wrong.
        // - otherwise it is a 24-byte message with a wrong checksum.
        if trusted && may_be_legacy(&command) {
            let legacy_end = LEGACY_HEADER_LEN.saturating_add(len);
            let next_magic = view
                .get(legacy_end..legacy_end.saturating_add(4))
                .and_then(|m| <[u8; 4]>::try_from(m).ok());
            let lone_verack = !scanning && len == 0;
            let legacy_version = !scanning
                && len >= MIN_VERSION_PAYLOAD
                && (1..=LATEST_PROTOCOL_VERSION).contains(&u32::from_le_bytes(claimed));
            if lone_verack || legacy_version || next_magic.is_some_and(|m| self.trusted(m)) {
                // The hash above covered the 24-byte reading's payload
                // (view[24..24 + length]), not the legacy one's
                // (view[20..20 + length]): it must not travel with it.
                return Class::Message(decided(Checksum::Absent, LEGACY_HEADER_LEN, None));
            }
        }
        if strict {
            return Class::NotHeader;
        }
        // A wrong checksum still leaves `hash` as sha256d of exactly this
        // frame's payload: it is our own hash of the bytes, not the
        // header's claim, so it is as reusable as a matching one.
        Class::Message(decided(
            Checksum::Invalid {
                expected: claimed,
                actual,
            },
            HEADER_LEN,
            Some(Hash256(hash)),
        ))
    }

    /// A legacy version/verack with a known or adopted magic whose 20-byte
    /// reading ends exactly at the end of `view`.
    fn legacy_ending_here(&self, view: &[u8]) -> Option<Decided> {
        let Header {
            magic,
            command,
            length,
        } = Header::read_legacy(view)?;
        let ends_here =
            (LEGACY_HEADER_LEN as u64).saturating_add(u64::from(length)) == view.len() as u64;
        (self.trusted(magic) && may_be_legacy(&command) && ends_here).then_some(Decided {
            network: Network::from_magic(magic),
            command: Command(command),
            length,
            checksum: Checksum::Absent,
            header_len: LEGACY_HEADER_LEN,
            payload_hash: None,
        })
    }
}
