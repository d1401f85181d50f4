//! The decoder's steps over its buffer: the garbage and its terminator,
//! a packet's length, a packet's body, and the cut (gap or end) once
//! everything before it is decoded. Each step consumes bytes and says
//! whether an event is ready, more bytes are needed, or to go on.

use super::{
    Ciphers, Cut, GARBAGE_WINDOW, MAX_BUFFERED_WITHOUT_KEYS, PacketDecoder, Ready, State, Step,
};
use crate::p2p::v2::cipher::{LengthCipher, PacketCipher};
use crate::p2p::v2::message_type::split_contents;
use crate::p2p::v2::{
    HEADER_LEN, IGNORE_BIT, LENGTH_LEN, MAX_CONTENTS_LEN, PACKET_OVERHEAD, TAG_LEN, TERMINATOR_LEN,
    V2Finding,
};

impl PacketDecoder {
    pub(super) fn garbage(&mut self, searched: usize) -> Step {
        let available = self.available();
        if self.candidates.is_empty() {
            if available > MAX_BUFFERED_WITHOUT_KEYS {
                let offset = self.offset_of(self.start);
                self.stop(offset);
                return Step::Ready(Ready::Finding(V2Finding::KeysTooLate {
                    offset,
                    buffered: available as u64,
                }));
            }
            return Step::NeedMore;
        }
        let window = available.min(GARBAGE_WINDOW);
        let view = self
            .buf
            .get(self.start..self.start.saturating_add(window))
            .unwrap_or(&[]);
        let found = view
            .windows(TERMINATOR_LEN)
            .enumerate()
            .skip(searched)
            .find_map(|(at, w)| {
                self.candidates
                    .iter()
                    .position(|c| w == c.keys.terminator.as_slice())
                    .map(|candidate| (at, candidate))
            });
        if let Some((garbage_len, candidate)) = found {
            return Step::Ready(self.terminator_found(garbage_len, candidate));
        }
        // Positions 0..=window-16 are checked.
        let checked = window.saturating_sub(TERMINATOR_LEN - 1);
        self.state = State::Garbage { searched: checked };
        if window == GARBAGE_WINDOW {
            let offset = self.offset_of(self.start);
            self.stop(offset);
            return Step::Ready(Ready::Finding(V2Finding::NoTerminator {
                offset,
                searched: window as u64,
                candidates: self.candidates.len(),
            }));
        }
        Step::NeedMore
    }

    pub(super) fn terminator_found(&mut self, garbage_len: usize, candidate: usize) -> Ready {
        let garbage_start = self.start;
        let terminator_at = garbage_start.saturating_add(garbage_len);
        self.aad = self
            .buf
            .get(garbage_start..terminator_at)
            .unwrap_or(&[])
            .to_vec();
        self.garbage_len = Some(garbage_len);
        self.start = terminator_at.saturating_add(TERMINATOR_LEN);
        let chosen = std::mem::take(&mut self.candidates)
            .into_iter()
            .nth(candidate);
        if let Some(c) = chosen {
            self.ciphers = Some(Box::new(Ciphers {
                magic: c.magic,
                length: LengthCipher::new(c.keys.length_key),
                packet: PacketCipher::new(c.keys.packet_key),
            }));
        }
        self.state = State::Length;
        Ready::Terminator {
            candidate,
            garbage_len,
            offset: self.offset_of(terminator_at),
        }
    }

    pub(super) fn length(&mut self) -> Step {
        let Some(ciphers) = self.ciphers.as_mut() else {
            return Step::NeedMore;
        };
        let Some(field) = self
            .buf
            .get(self.start..)
            .and_then(|b| b.first_chunk::<LENGTH_LEN>())
        else {
            return Step::NeedMore;
        };
        let mut field = *field;
        ciphers.length.crypt(&mut field);
        let [a, b, c] = field;
        let length = u32::from_le_bytes([a, b, c, 0]);
        let packet = ciphers.packet.packets();
        self.packet_offset = self.offset_of(self.start);
        self.start = self.start.saturating_add(LENGTH_LEN);
        if length > MAX_CONTENTS_LEN {
            let offset = self.packet_offset;
            self.stop(offset);
            return Step::Ready(Ready::Finding(V2Finding::OversizeLength {
                packet,
                offset,
                length,
                limit: MAX_CONTENTS_LEN,
            }));
        }
        self.state = State::Body { length };
        Step::Continue
    }

    pub(super) fn body(&mut self, length: u32) -> Step {
        let text_len = HEADER_LEN.saturating_add(length as usize);
        let needed = text_len.saturating_add(TAG_LEN);
        let available = self.available();
        if available < needed {
            // Checked against MAX_CONTENTS_LEN: at most ~4 MB, reserved
            // once instead of grown by doubling.
            self.buf.reserve(needed.saturating_sub(available));
            return Step::NeedMore;
        }
        let Some(ciphers) = self.ciphers.as_mut() else {
            return Step::NeedMore;
        };
        let packet = ciphers.packet.packets();
        let offset = self.packet_offset;
        let text_start = self.start;
        let text_end = text_start.saturating_add(text_len);
        let Some((text, tag)) = self
            .buf
            .get_mut(text_start..text_end.saturating_add(TAG_LEN))
            .map(|b| b.split_at_mut(text_len))
        else {
            return Step::NeedMore;
        };
        let tag: &[u8; TAG_LEN] = match (&*tag).try_into() {
            Ok(t) => t,
            Err(_) => return Step::NeedMore,
        };
        let aad = std::mem::take(&mut self.aad);
        if ciphers.packet.decrypt(&aad, text, tag).is_err() {
            self.stop(offset);
            return Step::Ready(Ready::Finding(V2Finding::BadTag {
                packet,
                offset,
                length,
            }));
        }
        let header = text.first().copied().unwrap_or(0);
        self.start = text_end.saturating_add(TAG_LEN);
        self.state = State::Length;
        let contents = text_start.saturating_add(HEADER_LEN)..text_end;
        if header & IGNORE_BIT != 0 {
            self.decoys = self.decoys.saturating_add(1);
            return Step::Ready(Ready::Decoy {
                packet,
                offset,
                length,
            });
        }
        if !self.version_seen {
            self.version_seen = true;
            return Step::Ready(Ready::Version {
                packet,
                offset,
                contents,
            });
        }
        let bytes = super::held(&self.buf, contents.clone());
        Step::Ready(match split_contents(bytes) {
            Ok((command, message_type, payload)) => {
                let payload_start = contents.end.saturating_sub(payload.len());
                Ready::Message {
                    packet,
                    offset,
                    command,
                    message_type,
                    payload: payload_start..contents.end,
                }
            }
            Err(error) => Ready::Finding(V2Finding::BadMessageType {
                packet,
                offset,
                length,
                error,
            }),
        })
    }

    /// Every pushed byte before the cut (if any) is decoded: apply it.
    pub(super) fn at_cut(&mut self) -> Option<Ready> {
        let cut = self.cut?;
        let available = self.available() as u64;
        let packet = self.packets();
        let (from, finding) = match (self.state, cut) {
            (State::Stopped, _) => return None,
            (State::Garbage { .. }, _) if self.candidates.is_empty() => {
                // No keys: nothing was to be decrypted; the caller knows.
                (self.offset_of(self.start), None)
            }
            (State::Garbage { .. }, Cut::End) => {
                let offset = self.offset_of(self.start);
                let f = V2Finding::HandshakeIncomplete {
                    offset,
                    garbage: available,
                };
                (offset, Some(f))
            }
            (State::Length, Cut::End) if available == 0 => {
                // Ended on a packet boundary: nothing is missing.
                self.state = State::Stopped;
                return None;
            }
            (State::Length, Cut::End) => {
                let offset = self.offset_of(self.start);
                let f = V2Finding::Truncated {
                    packet,
                    offset,
                    have: available,
                    needed: LENGTH_LEN as u64,
                };
                (offset, Some(f))
            }
            (State::Body { length }, Cut::End) => {
                let offset = self.packet_offset;
                let f = V2Finding::Truncated {
                    packet,
                    offset,
                    have: available.saturating_add(LENGTH_LEN as u64),
                    needed: u64::from(length).saturating_add(PACKET_OVERHEAD as u64),
                };
                (offset, Some(f))
            }
            (state, Cut::Gap { at, bytes }) => {
                let offset = match state {
                    State::Body { .. } => self.packet_offset,
                    _ => self.offset_of(self.start),
                };
                let f = V2Finding::Gap {
                    packet,
                    offset,
                    gap_at: at,
                    bytes,
                };
                (offset, Some(f))
            }
        };
        self.stop(from);
        finding.map(Ready::Finding)
    }
}
