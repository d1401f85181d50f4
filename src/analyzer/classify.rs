//! Telling v1, BIP324 v2 and non-Bitcoin flows apart (README, "Detection").
//! A flow is v2 only on evidence, never by default:
//!
//! - Start captured (SYN seen): a direction whose first bytes are a v1
//!   header is v1. On a Bitcoin port, a direction whose first bytes are not
//!   is v2: the rule Core applies to inbound connections (it compares the
//!   first 16 bytes with magic + "version\0\0\0\0\0").
//! - Joined mid-stream: v1 as soon as a v1 header frames in either
//!   direction; on a Bitcoin port, v2 once [`MIDSTREAM_V2_WINDOW`] bytes
//!   passed without a v1 header anywhere (a header still waiting for its
//!   payload counts as one).
//! - At the flow's end, still undecided: v1 if a v1 header was cut by the
//!   end of the capture (at least [`V1_PREFIX_LEN`] bytes of it, or the
//!   first [`MIN_CUT_START`] bytes of a captured start); otherwise, on a
//!   Bitcoin port with bytes seen, `unknown` (too few bytes to tell).
//! - Anything else is not Bitcoin and is ignored silently; a flow on another
//!   port stops being scanned after [`MAX_SCAN_BYTES`] without a header.

/// Bytes of a mid-stream flow on a Bitcoin port scanned for a v1 header
/// before it is called v2 (the 64 KiB).
pub const MIDSTREAM_V2_WINDOW: u64 = 64 * 1024;

/// Bytes of a flow on a non-Bitcoin port scanned for a v1 header before it
/// is given up as not Bitcoin: one maximal message (a mid-stream join may
/// land inside a 4 MB block) plus the v2 window.
pub const MAX_SCAN_BYTES: u64 =
    crate::p2p::MAX_PROTOCOL_MESSAGE_LENGTH as u64 + MIDSTREAM_V2_WINDOW;

/// Bytes a v1 prefix check needs: magic (4) + command (12).
pub const V1_PREFIX_LEN: usize = 16;

/// Bytes of a captured start (SYN seen) that make a flow v1 when the
/// capture ends before 16 are there: a magic and one command byte.
pub const MIN_CUT_START: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Not decided yet.
    Undecided,
    V1,
    V2,
    /// On a Bitcoin port, with too few bytes to tell v1 from v2.
    Unknown,
    /// Not Bitcoin: no further work on this flow.
    Ignored,
}

/// What the first bytes of a direction (start captured) say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstBytes {
    /// Fewer than 16 bytes, all consistent with a v1 header so far.
    NeedMore,
    V1,
    NotV1,
}

/// The command of the first message of every v1 connection.
const VERSION_COMMAND: &[u8; 12] = b"version\0\0\0\0\0";

/// Checks a direction's first bytes (`prefix`, up to 16) against a v1
/// header start: a known magic followed by a plausible command, or any
/// magic followed by `version` (a custom signet's first message).
pub fn first_bytes(prefix: &[u8]) -> FirstBytes {
    let command = prefix.get(4..).unwrap_or(&[]);
    let command = command.get(..command.len().min(12)).unwrap_or(&[]);
    let is_version = VERSION_COMMAND.starts_with(command);
    if is_version || crate::p2p::frame::looks_like_v1_header(prefix) {
        if prefix.len() >= V1_PREFIX_LEN {
            FirstBytes::V1
        } else {
            FirstBytes::NeedMore
        }
    } else {
        FirstBytes::NotV1
    }
}

/// Whether bytes left unframed at the end of a direction (`tail`, from
/// the framing decoder) start with a v1 header of a known network cut by
/// the end: magic and command at least, as Core's own check.
pub fn cut_header_is_v1(tail: &[u8]) -> bool {
    tail.len() >= V1_PREFIX_LEN && crate::p2p::frame::looks_like_v1_header(tail)
}

/// Whether the first bytes of a captured start, fewer than 16 when the
/// capture ended, are a v1 header's beginning.
pub fn cut_start_is_v1(prefix: &[u8]) -> bool {
    prefix.len() >= MIN_CUT_START && first_bytes(prefix) == FirstBytes::NeedMore
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_header_is_v1_whatever_the_magic() {
        let mut h = [0x12u8, 0x34, 0x56, 0x78].to_vec();
        h.extend_from_slice(b"version\0\0\0\0\0");
        assert_eq!(first_bytes(&h), FirstBytes::V1);
        assert_eq!(first_bytes(&h[..10]), FirstBytes::NeedMore);
    }

    #[test]
    fn cut_headers() {
        let mut h = crate::p2p::Network::Mainnet.magic().to_vec();
        h.extend_from_slice(b"inv\0\0\0\0\0\0\0\0\0");
        h.extend_from_slice(&[0x25, 0, 0, 0, 1, 2, 3, 4]);
        assert!(cut_header_is_v1(&h));
        assert!(cut_header_is_v1(&h[..16]));
        assert!(!cut_header_is_v1(&h[..15]), "too short to tell");
        assert!(!cut_header_is_v1(&[0x55; 24]));
        assert!(cut_start_is_v1(&h[..5]));
        assert!(!cut_start_is_v1(&h[..4]));
        assert!(!cut_start_is_v1(&[0x8f, 0x02, 0x77, 0x10, 0xa0]));
    }

    #[test]
    fn random_bytes_are_not_v1() {
        // The start of an ElligatorSwift key: indistinguishable from random.
        let key = [
            0x8fu8, 0x02, 0x77, 0x10, 0xa0, 0x5c, 0x11, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(first_bytes(&key), FirstBytes::NotV1);
    }
}
