//! Escaping of peer-controlled text before it reaches a terminal.
//!
//! User agents, reject reasons, unknown commands and addresses come from
//! strangers: an ANSI escape sequence in a user agent must come out inert.
//! Printable ASCII passes; everything else (control bytes, DEL, non-ASCII)
//! is written as `\xNN` per byte, and a backslash as `\\`.

use std::fmt::Write;

/// Escapes raw bytes for a terminal.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    push_escaped(&mut out, bytes);
    out
}

/// [`escape_bytes`] appended to `out`.
pub fn push_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// Escapes a string (already decoded, possibly lossily) for a terminal.
pub fn escape_str(s: &str) -> String {
    escape_bytes(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_sequences_come_out_inert() {
        let evil = "/Satoshi:27.0/\x1b[2J\x1b]0;pwned\x07\r\n";
        let shown = escape_str(evil);
        assert!(!shown.bytes().any(|b| b < 0x20 || b == 0x7f));
        assert_eq!(shown, "/Satoshi:27.0/\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x0a");
    }

    #[test]
    fn non_ascii_and_backslash() {
        assert_eq!(escape_bytes("é\\".as_bytes()), "\\xc3\\xa9\\\\");
    }
}
