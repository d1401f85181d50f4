//! The v2 message type at the start of a genuine packet's contents: one
//! byte, a short id 1-28 (BIP324, "v2 Bitcoin P2P message structure"), or
//! 0 followed by the 12-byte command as in a v1 header.

use crate::p2p::frame::Command;
use std::fmt;

/// Bytes of a long message type after its 0 byte.
pub const COMMAND_LEN: usize = 12;

/// The commands of short ids 1 to 28, in order (BIP324's table; Core's
/// V2_MESSAGE_IDS). Ids 29-255 are unassigned.
pub const SHORT_IDS: [&str; 28] = [
    "addr",
    "block",
    "blocktxn",
    "cmpctblock",
    "feefilter",
    "filteradd",
    "filterclear",
    "filterload",
    "getblocks",
    "getblocktxn",
    "getdata",
    "getheaders",
    "headers",
    "inv",
    "mempool",
    "merkleblock",
    "notfound",
    "ping",
    "pong",
    "sendcmpct",
    "tx",
    "getcfilters",
    "cfilter",
    "getcfheaders",
    "cfheaders",
    "getcfcheckpt",
    "cfcheckpt",
    "addrv2",
];

/// How a message's type was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// One byte, 1-28.
    ShortId(u8),
    /// 0, then the 12-byte command.
    Long,
}

impl MessageType {
    /// The name used in output: `short_id` or `long`.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::ShortId(_) => "short_id",
            MessageType::Long => "long",
        }
    }
}

/// Contents that carry no valid message type: Core drops such a message
/// and keeps the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeError {
    /// A genuine packet without even the type byte.
    Empty,
    /// A short id with no command assigned (29-255).
    UnknownShortId(u8),
    /// A long type with fewer than 12 command bytes.
    LongTooShort { bytes: usize },
    /// A command byte outside 0x20-0x7f, or a non-NUL byte after the first
    /// NUL.
    LongInvalid,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeError::Empty => write!(f, "empty contents: no message type"),
            TypeError::UnknownShortId(id) => write!(f, "unassigned short id {id}"),
            TypeError::LongTooShort { bytes } => {
                write!(f, "long message type with {bytes} of 12 command bytes")
            }
            TypeError::LongInvalid => {
                write!(
                    f,
                    "long message type with a byte outside 0x20-0x7f or after its NUL padding"
                )
            }
        }
    }
}

/// The command of a short id.
pub fn command_of_short_id(id: u8) -> Option<&'static str> {
    SHORT_IDS.get(usize::from(id).checked_sub(1)?).copied()
}

/// The short id of a command, if it has one.
pub fn short_id_of(command: &str) -> Option<u8> {
    let index = SHORT_IDS.iter().position(|&c| c == command)?;
    u8::try_from(index).ok()?.checked_add(1)
}

/// Splits a genuine packet's contents into command, how it was encoded,
/// and payload (Core's V2Transport::GetMessageType rules).
pub fn split_contents(contents: &[u8]) -> Result<(Command, MessageType, &[u8]), TypeError> {
    let (&first, rest) = contents.split_first().ok_or(TypeError::Empty)?;
    if first != 0 {
        let command = command_of_short_id(first).ok_or(TypeError::UnknownShortId(first))?;
        return Ok((Command::new(command), MessageType::ShortId(first), rest));
    }
    let Some((field, payload)) = rest.split_first_chunk::<COMMAND_LEN>() else {
        return Err(TypeError::LongTooShort { bytes: rest.len() });
    };
    let name_len = field.iter().position(|&b| b == 0).unwrap_or(COMMAND_LEN);
    let (name, padding) = field.split_at(name_len);
    if name.iter().any(|b| !(0x20..=0x7f).contains(b)) || padding.iter().any(|&b| b != 0) {
        return Err(TypeError::LongInvalid);
    }
    Ok((Command(*field), MessageType::Long, payload))
}

/// Appends a message's contents: its short id when it has one, else the
/// long form (the command cut to 12 bytes, NUL padded).
pub fn encode_contents(command: &str, payload: &[u8], out: &mut Vec<u8>) {
    match short_id_of(command) {
        Some(id) => out.push(id),
        None => {
            out.push(0);
            out.extend_from_slice(&Command::new(command).0);
        }
    }
    out.extend_from_slice(payload);
}
