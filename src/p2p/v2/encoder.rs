//! The sending side of one direction: packets sealed with this side's
//! keys, as the probe sends them (and as the tests build sessions).
//!
//! ```ignore
//! let keys = SessionKeys::derive(&secret, network.magic());
//! let mut enc = PacketEncoder::new(keys.sent_by(Role::Initiator), &garbage);
//! out.extend_from_slice(&keys.sent_by(Role::Initiator).terminator);
//! enc.version(&mut out);                       // first genuine packet
//! enc.message("version", &payload, &mut out)?; // then messages
//! ```

use super::cipher::{LengthCipher, PacketCipher};
use super::keys::DirectionKeys;
use super::message_type::encode_contents;
use super::{HEADER_LEN, IGNORE_BIT, LENGTH_LEN, PACKET_OVERHEAD, TAG_LEN};

/// Contents longer than a 3-byte length can say (2^24 - 1 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentsTooLong {
    pub length: usize,
}

impl std::fmt::Display for ContentsTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes of packet contents; a v2 length field holds at most 16777215",
            self.length
        )
    }
}

impl std::error::Error for ContentsTooLong {}

pub struct PacketEncoder {
    length: LengthCipher,
    packet: PacketCipher,
    /// This side's garbage: the associated data of its first packet.
    aad: Option<Vec<u8>>,
}

impl PacketEncoder {
    /// `keys`: what this side sends with; `garbage`: what it sent after
    /// its key (authenticated by its first packet).
    pub fn new(keys: &DirectionKeys, garbage: &[u8]) -> PacketEncoder {
        PacketEncoder {
            length: LengthCipher::new(keys.length_key),
            packet: PacketCipher::new(keys.packet_key),
            aad: Some(garbage.to_vec()),
        }
    }

    /// Packets sealed so far.
    pub fn packets(&self) -> u64 {
        self.packet.packets()
    }

    /// Appends one packet: `decoy` sets the ignore bit.
    pub fn packet(
        &mut self,
        decoy: bool,
        contents: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ContentsTooLong> {
        let length = u32::try_from(contents.len())
            .ok()
            .filter(|&n| n < 1 << 24)
            .ok_or(ContentsTooLong {
                length: contents.len(),
            })?;
        let start = out.len();
        out.reserve(contents.len().saturating_add(PACKET_OVERHEAD));
        let mut length_field = [0u8; LENGTH_LEN];
        length_field.copy_from_slice(length.to_le_bytes().get(..LENGTH_LEN).unwrap_or(&[0; 3]));
        self.length.crypt(&mut length_field);
        out.extend_from_slice(&length_field);
        out.push(if decoy { IGNORE_BIT } else { 0 });
        out.extend_from_slice(contents);
        let aad = self.aad.take().unwrap_or_default();
        let text_start = start.saturating_add(LENGTH_LEN);
        let tag = match out.get_mut(text_start..) {
            Some(text) => self.packet.encrypt(&aad, text),
            None => [0u8; TAG_LEN],
        };
        out.extend_from_slice(&tag);
        debug_assert_eq!(
            out.len().saturating_sub(start),
            contents
                .len()
                .saturating_add(LENGTH_LEN + HEADER_LEN + TAG_LEN)
        );
        Ok(())
    }

    /// Appends the transport version packet (empty contents today): the
    /// first genuine packet of a direction.
    pub fn version(&mut self, out: &mut Vec<u8>) {
        // Empty contents always fit.
        let _ = self.packet(false, &[], out);
    }

    /// Appends one message: short id when the command has one, else the
    /// 12-byte long form.
    pub fn message(
        &mut self,
        command: &str,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ContentsTooLong> {
        let mut contents = Vec::with_capacity(payload.len().saturating_add(13));
        encode_contents(command, payload, &mut contents);
        self.packet(false, &contents, out)
    }
}
