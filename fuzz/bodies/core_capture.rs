//! Bitcoin Core message-capture bytes (one file) through the record reader
//! and the analyzer's framed-message entry with the JSON sink: no panic,
//! every byte accounted for (records end to end, a failure exactly at the
//! end or at a refused length), a payload buffer never beyond the bytes
//! present plus one read step (and never beyond Core's 4,000,000-byte
//! limit), and every complete record counted once.
use btcsniff::analyzer::framed::{FramedMessage, PeerInfo};
use btcsniff::analyzer::{Analyzer, AnalyzerConfig, Progress};
use btcsniff::capture::core_capture::reader::READ_STEP;
use btcsniff::capture::core_capture::{
    MAX_RECORD_PAYLOAD, MessageDirection, RECORD_HEADER_LEN, RecordError, RecordReader,
};
use btcsniff::output::{Format, SinkOptions, make_sink};
use btcsniff::p2p::Network;

/// One fuzz input (shared by the fuzz target and the regression test).
pub fn run(data: &[u8]) {
    let mut sink = make_sink(Format::Json, std::io::sink(), SinkOptions::default());
    let mut analyzer = Analyzer::new(AnalyzerConfig::default(), sink.as_mut());
    let peer = analyzer.add_peer(PeerInfo {
        label: "[2001:db8::1]:8333".to_string(),
        network: Some(Network::Mainnet),
        source: "core-capture",
    });
    let mut reader = RecordReader::new(data);
    let mut payload = Vec::new();
    let mut expected_offset = 0u64;
    let mut records = 0u64;
    let mut fed = 0u64;
    let failure = loop {
        let record = match reader.next_header() {
            Ok(Some(record)) => record,
            Ok(None) => break None,
            Err(e) => break Some(e),
        };
        assert_eq!(record.offset, expected_offset);
        records += 1;
        assert_eq!(record.index, records);
        if let Err(e) = reader.read_payload(&mut payload) {
            break Some(e);
        }
        assert_eq!(payload.len() as u64, u64::from(record.header.length));
        assert!(payload.capacity() <= MAX_RECORD_PAYLOAD as usize);
        expected_offset += record.header.record_len();
        let direction = if records.is_multiple_of(3) {
            MessageDirection::Sent
        } else {
            MessageDirection::Recv
        };
        let message = FramedMessage {
            ts: record.header.timestamp(),
            peer,
            direction,
            command: record.header.command,
            payload: &payload,
            offset: record.offset,
        };
        let progress = analyzer.framed_message(&message).expect("io::sink");
        assert_eq!(progress, Progress::Continue);
        fed += 1;
    };
    assert!(payload.capacity() <= data.len() + READ_STEP);
    match failure {
        None => assert_eq!(expected_offset, data.len() as u64),
        Some(RecordError::Truncated {
            offset,
            have,
            needed,
            ..
        }) => {
            assert_eq!(offset, expected_offset);
            assert_eq!(offset + have, data.len() as u64);
            assert!(have < needed);
        }
        Some(RecordError::Oversize { record, limit }) => {
            assert_eq!(record.offset, expected_offset);
            assert!(record.header.length > limit);
            assert!(record.offset + RECORD_HEADER_LEN as u64 <= data.len() as u64);
        }
        Some(RecordError::Io(e)) => panic!("a slice cannot fail: {e}"),
    }
    let stats = analyzer.finish().expect("io::sink");
    assert_eq!(stats.messages, fed);
}
