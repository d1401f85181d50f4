//! Pure functions over the bytes of a v1 header (no state): plausibility
//! checks used to recognise a header, to resync after garbage and to tell
//! v1 from BIP324 v2 on a flow's first bytes.

use crate::p2p::{MAX_PROTOCOL_MESSAGE_LENGTH, Network};

/// magic (4) + command (12) + length (4) + checksum (4).
pub const HEADER_LEN: usize = 24;
/// The pre-2012 header of `version` and `verack`: no checksum field.
pub const LEGACY_HEADER_LEN: usize = 20;
pub const COMMAND_START: usize = 4;
pub const LENGTH_START: usize = 16;

/// Whether `prefix` (at most 12 bytes, possibly a partial field) can start
/// a command we accept: at least one ASCII graphic byte, graphic bytes up to
/// the first NUL, only NULs after it. Core accepts any printable byte
/// (including space) and an empty command; for recognising headers inside
/// garbage we ask for a non-empty command without spaces, which every
/// command ever used satisfies.
pub fn command_prefix_plausible(prefix: &[u8]) -> bool {
    let mut seen_nul = false;
    for (i, &b) in prefix.iter().enumerate() {
        if seen_nul {
            if b != 0 {
                return false;
            }
        } else if b == 0 {
            if i == 0 {
                return false;
            }
            seen_nul = true;
        } else if !b.is_ascii_graphic() {
            return false;
        }
    }
    true
}

/// Whether `prefix` is a prefix of one of the five known magics.
pub fn known_magic_prefix(prefix: &[u8]) -> bool {
    Network::KNOWN
        .iter()
        .any(|n| magic_starts_with(&n.magic(), prefix))
}

/// magic, command and length: the fields the 24-byte header and the
/// legacy 20-byte one share, read once their bytes are there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub magic: [u8; 4],
    pub command: [u8; 12],
    pub length: u32,
}

impl Header {
    /// The 24-byte header at the start of `bytes` and its checksum field;
    /// None when they are shorter.
    pub fn read(bytes: &[u8]) -> Option<(Header, [u8; 4])> {
        let (head, rest) = Header::read_with_rest(bytes)?;
        let (checksum, _) = rest.split_first_chunk::<4>()?;
        Some((head, *checksum))
    }

    /// The legacy 20-byte header (no checksum) at the start of `bytes`;
    /// None when they are shorter.
    pub fn read_legacy(bytes: &[u8]) -> Option<Header> {
        Header::read_with_rest(bytes).map(|(head, _)| head)
    }

    fn read_with_rest(bytes: &[u8]) -> Option<(Header, &[u8])> {
        let (magic, rest) = bytes.split_first_chunk::<4>()?;
        let (command, rest) = rest.split_first_chunk::<12>()?;
        let (length, rest) = rest.split_first_chunk::<4>()?;
        let head = Header {
            magic: *magic,
            command: *command,
            length: u32::from_le_bytes(*length),
        };
        Some((head, rest))
    }
}

/// The first `n` bytes of `bytes`, or all of them when there are fewer.
pub fn at_most(bytes: &[u8], n: usize) -> &[u8] {
    bytes.get(..n).unwrap_or(bytes)
}

/// Whether `prefix` (any length; only its first 4 bytes count) can start
/// `magic`.
pub fn magic_starts_with(magic: &[u8; 4], prefix: &[u8]) -> bool {
    magic.iter().zip(prefix).all(|(m, p)| m == p)
}

/// The length field when `bytes` reaches it.
pub fn length_field(bytes: &[u8]) -> Option<u32> {
    let field: [u8; 4] = bytes.get(LENGTH_START..LENGTH_START + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(field))
}

/// Whether the command and length parts of `bytes` (a header prefix of any
/// length) are plausible; the magic is checked by the caller.
pub fn rest_plausible(bytes: &[u8]) -> bool {
    let command = at_most(bytes, LENGTH_START).get(COMMAND_START..);
    command.is_none_or(command_prefix_plausible)
        && length_field(bytes).is_none_or(|len| len <= MAX_PROTOCOL_MESSAGE_LENGTH)
}

/// Whether `bytes` (a flow's first bytes, any length; shorter than 24 is
/// fine) is consistent with a v1 header of a known network: magic, command
/// (printable ASCII, NUL padded) and, when present, a length within
/// Core's limit. Like Core telling v1 from v2, it compares magic and
/// command bytes; it returns false for an empty slice. The checksum is not
/// looked at.
pub fn looks_like_v1_header(bytes: &[u8]) -> bool {
    let prefix = at_most(bytes, HEADER_LEN);
    !prefix.is_empty() && known_magic_prefix(prefix) && rest_plausible(prefix)
}

/// The first position in `bytes` where a complete, plausible 24-byte header
/// of a known network starts (magic, command, length; the checksum is not
/// verified here).
pub fn find_v1_header(bytes: &[u8]) -> Option<usize> {
    bytes.windows(HEADER_LEN).position(looks_like_v1_header)
}

/// version and verack may come with the legacy 20-byte header.
pub fn may_be_legacy(command: &[u8; 12]) -> bool {
    command == b"version\0\0\0\0\0" || command == b"verack\0\0\0\0\0\0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_rules() {
        assert!(command_prefix_plausible(b"version\0\0\0\0\0"));
        assert!(command_prefix_plausible(b"verac"));
        assert!(!command_prefix_plausible(b"\0verack"));
        assert!(!command_prefix_plausible(b"ver\0ack"));
        assert!(!command_prefix_plausible(b"ver ack"));
        assert!(!command_prefix_plausible(b"ver\x01"));
    }

    #[test]
    fn v1_prefixes() {
        assert!(looks_like_v1_header(&[0xf9]));
        assert!(looks_like_v1_header(&[0xfa, 0xbf, 0xb5, 0xda, b'p', b'i']));
        assert!(!looks_like_v1_header(&[]));
        assert!(!looks_like_v1_header(&[0xf9, 0xbe, 0xb4, 0xd8]));
        // A v2 key looks random: the first byte alone usually excludes it.
        assert!(!looks_like_v1_header(&[0x12, 0x34]));
        let mut header = [0u8; 24];
        header[..4].copy_from_slice(&Network::Mainnet.magic());
        header[4..8].copy_from_slice(b"ping");
        header[16..20].copy_from_slice(&8u32.to_le_bytes());
        assert!(looks_like_v1_header(&header));
        header[16..20].copy_from_slice(&(MAX_PROTOCOL_MESSAGE_LENGTH + 1).to_le_bytes());
        assert!(!looks_like_v1_header(&header));
        assert!(looks_like_v1_header(&header[..16]));
    }

    #[test]
    fn find_header_after_garbage() {
        let mut bytes = vec![0xf9, 0xbe, 0xb4, 1, 2, 3];
        let mut header = [0u8; 24];
        header[..4].copy_from_slice(&Network::Regtest.magic());
        header[4..10].copy_from_slice(b"verack");
        bytes.extend_from_slice(&header);
        assert_eq!(find_v1_header(&bytes), Some(6));
        assert_eq!(find_v1_header(&bytes[..20]), None);
    }
}
