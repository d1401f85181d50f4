//! The key-log parser on arbitrary text, fed in arbitrary chunks: no
//! panic, a bounded line buffer, counts that add up, the same keys however
//! the bytes were chunked, and every entry written back parses the same.
use btcsniff::p2p::v2::KeyLog;
use btcsniff::p2p::v2::keylog::{Line, MAX_LINE_LEN, parse_line};

/// One fuzz input (shared by the fuzz target and the regression test).
pub fn run(data: &[u8]) {
    let Some((&seed, text)) = data.split_first() else {
        return;
    };
    let whole = KeyLog::parse(text);
    let mut chunked = KeyLog::new();
    for piece in text.chunks(usize::from(seed) + 1) {
        chunked.push(piece);
        assert!(chunked.pending_bytes() <= MAX_LINE_LEN);
    }
    chunked.finish();
    assert_eq!(whole.lines, chunked.lines);
    assert_eq!(whole.len(), chunked.len());
    assert_eq!(
        (whole.entries, whole.other_lines, whole.malformed_lines),
        (
            chunked.entries,
            chunked.other_lines,
            chunked.malformed_lines
        )
    );
    assert!(whole.entries + whole.other_lines + whole.malformed_lines <= whole.lines);
    assert!(whole.len() as u64 <= whole.entries);
    for line in text.split(|&b| b == b'\n') {
        if let Line::Entry(e) = parse_line(line) {
            assert!(whole.get(&e.initiator_key).is_some());
            assert_eq!(
                parse_line(e.to_line().trim_end().as_bytes()),
                Line::Entry(e)
            );
        }
    }
}
