//! Colour on a terminal: command names by family, what needs attention
//! (bad checksums, decode errors, findings) in bold, flow lines dimmed.
//! Without colour every function here writes the text alone, so piped
//! output is what it always was.

use anstyle::{AnsiColor, Style};
use std::fmt::Display;
use std::fmt::Write as _;

/// What a command is for, as a reader scans a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// version, verack and the feature negotiation around them.
    Handshake,
    /// ping, pong.
    Keepalive,
    /// addr, addrv2, getaddr.
    Addresses,
    /// Transaction relay: inv, getdata, notfound, tx, mempool.
    Relay,
    /// Blocks and headers, compact blocks, merkle blocks.
    Blocks,
    /// BIP37 bloom filters and BIP157 compact filters.
    Filters,
    /// reject, alert: gone from Core, still in old captures.
    Legacy,
    /// A command this decoder does not know.
    Unknown,
}

pub fn family(command: &[u8]) -> Family {
    match command {
        b"version" | b"verack" | b"sendaddrv2" | b"wtxidrelay" | b"sendtxrcncl"
        | b"sendheaders" | b"sendcmpct" | b"feefilter" => Family::Handshake,
        b"ping" | b"pong" => Family::Keepalive,
        b"addr" | b"addrv2" | b"getaddr" => Family::Addresses,
        b"inv" | b"getdata" | b"notfound" | b"tx" | b"mempool" => Family::Relay,
        b"block" | b"headers" | b"getblocks" | b"getheaders" | b"cmpctblock" | b"getblocktxn"
        | b"blocktxn" | b"merkleblock" => Family::Blocks,
        b"filterload" | b"filteradd" | b"filterclear" | b"getcfilters" | b"cfilter"
        | b"getcfheaders" | b"cfheaders" | b"getcfcheckpt" | b"cfcheckpt" => Family::Filters,
        b"reject" | b"alert" => Family::Legacy,
        _ => Family::Unknown,
    }
}

const fn fg(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(anstyle::Color::Ansi(color)))
}

impl Family {
    pub fn style(self) -> Style {
        match self {
            Family::Handshake => fg(AnsiColor::Blue),
            Family::Keepalive => Style::new().dimmed(),
            Family::Addresses => fg(AnsiColor::Cyan),
            Family::Relay => fg(AnsiColor::Green),
            Family::Blocks => fg(AnsiColor::Magenta),
            Family::Filters => fg(AnsiColor::BrightBlue),
            Family::Legacy => fg(AnsiColor::Yellow),
            Family::Unknown => fg(AnsiColor::Red).underline(),
        }
    }
}

/// A bad checksum, a payload that did not decode.
pub const BAD: Style = fg(AnsiColor::Red).bold();
/// A finding line.
pub const FINDING: Style = fg(AnsiColor::Yellow).bold();
/// Flow start and end lines, the time column.
pub const QUIET: Style = Style::new().dimmed();
/// The summary's headings, notes.
pub const HEADING: Style = Style::new().bold();

/// Writes styled text when colour is on, plain text otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    pub colour: bool,
}

impl Painter {
    /// `text` in `style`.
    pub fn paint(self, out: &mut String, style: Style, text: impl Display) {
        self.start(out, style);
        let _ = write!(out, "{text}");
        self.end(out, style);
    }

    pub fn start(self, out: &mut String, style: Style) {
        if self.colour {
            let _ = write!(out, "{}", style.render());
        }
    }

    pub fn end(self, out: &mut String, style: Style) {
        if self.colour {
            let _ = write!(out, "{}", style.render_reset());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2p::message::KNOWN_COMMANDS;

    #[test]
    fn every_known_command_has_a_family() {
        for command in KNOWN_COMMANDS {
            assert_ne!(family(command.as_bytes()), Family::Unknown, "{command}");
        }
        assert_eq!(family(b"fancynew"), Family::Unknown);
    }

    #[test]
    fn plain_without_colour() {
        let mut out = String::new();
        Painter { colour: false }.paint(&mut out, BAD, "x");
        assert_eq!(out, "x");
        Painter { colour: true }.paint(&mut out, BAD, "y");
        assert_eq!(out, "x\x1b[1m\x1b[31my\x1b[0m");
    }
}
