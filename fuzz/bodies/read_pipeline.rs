//! The whole `read` pipeline on arbitrary capture bytes: file reader,
//! packet parsing, flows, framing, decoding and both sinks (text with -v
//! or JSON, chosen by the input's length) writing to io::sink().
//! (Text also with -vv, colour and every time format.)
//! Seed with tests/data/*.pcap and samples/*.pcap (scripts/fuzz.sh does).
use btcsniff::analyzer::{Analyzer, AnalyzerConfig, Progress};
use btcsniff::capture::FileReader;
use btcsniff::output::{Format, SinkOptions, TextLook, TimeFormat, make_sink};
use std::io::Cursor;

/// One fuzz input (shared by the fuzz target and the regression test).
pub fn run(data: &[u8]) {
    let format = if data.len().is_multiple_of(2) {
        Format::Text
    } else {
        Format::Json
    };
    // The input's length also picks -vv, and the terminal look (colour,
    // aligned columns, a time format) for text.
    let times = [
        TimeFormat::Utc,
        TimeFormat::Unix,
        TimeFormat::Relative,
        TimeFormat::Delta,
    ];
    let terminal = data.len().is_multiple_of(5);
    let options = SinkOptions {
        verbose: !data.len().is_multiple_of(3),
        raw: data.len().is_multiple_of(7),
        flush_each: false,
        held: false,
        look: TextLook {
            colour: terminal,
            terminal,
            time: times[data.len() % times.len()],
        },
    };
    let mut sink = make_sink(format, std::io::sink(), options);
    let config = AnalyzerConfig {
        verbose: options.verbose,
        ..AnalyzerConfig::default()
    };
    let mut analyzer = Analyzer::new(config, sink.as_mut());
    let Ok(mut reader) = FileReader::from_read("fuzz-input", Cursor::new(data.to_vec())) else {
        return;
    };
    // Every packet is at least one record header: this bounds the loop.
    let mut packets = 0usize;
    while let Ok(Some(packet)) = reader.next_packet() {
        packets += 1;
        assert!(packets <= data.len(), "more packets than input bytes");
        match analyzer.packet(&packet) {
            Ok(Progress::Continue) => {}
            Ok(Progress::Done) | Err(_) => break,
        }
    }
    analyzer.finish().expect("io::sink never fails");
}
