//! The framing decoder fed arbitrary bytes in arbitrary chunks, with gaps:
//! no panic, bounded buffer, and every byte accounted for.
use btcsniff::p2p::frame::{Checksum, FrameDecoder, FrameEvent, FramingFinding};
use btcsniff::p2p::{Hash256, sha256d};

/// A message is at most 24 + 4,000,000 bytes: the decoder never needs more.
const MAX_BUFFER: usize = 24 + 4_000_000 + 64 * 1024;

/// One fuzz input (shared by the fuzz target and the regression test).
pub fn run(data: &[u8]) {
    // First byte: chunk size seed; a 0xff chunk-size byte means "gap".
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let mut dec = FrameDecoder::new();
    let mut accounted: u64 = 0;
    let mut count = |ev: FrameEvent<'_>| match ev {
        FrameEvent::Frame(f) => {
            assert_eq!(f.payload.len() as u64, u64::from(f.length));
            // The hash kept for reuse is of exactly this payload.
            match f.checksum {
                Checksum::Absent => assert_eq!(f.payload_hash, None),
                _ => assert_eq!(f.payload_hash, Some(Hash256(sha256d(f.payload)))),
            }
        }
        FrameEvent::Finding(FramingFinding::SkippedBytes { bytes, .. }) => {
            accounted = accounted.saturating_add(bytes);
        }
        FrameEvent::Finding(_) => {}
    };
    let chunk = usize::from(seed % 64) + 1;
    for (i, piece) in rest.chunks(chunk).enumerate() {
        if seed & 0x80 != 0 && i % 7 == 3 {
            dec.gap(u64::from(piece[0]));
        }
        if i % 2 == 0 {
            dec.feed(piece, &mut count);
        } else {
            dec.push(piece);
            while let Some(ev) = dec.next_event() {
                count(ev);
            }
        }
        assert!(dec.capacity() <= MAX_BUFFER.max(rest.len() * 2));
    }
    dec.finish();
    while let Some(ev) = dec.next_event() {
        count(ev);
    }
    assert!(accounted <= rest.len() as u64);
}
