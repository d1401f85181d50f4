//! `btcsniff read FILE...`

use super::args::ReadArgs;
use super::{EXIT_ERROR, EXIT_OK};
use crate::analyzer::{Analyzer, Progress};
use crate::capture::FileReader;
use crate::capture::filter::PacketFilter;
use crate::output::Event;
use anyhow::Context;

pub fn run(args: ReadArgs) -> anyhow::Result<u8> {
    let stdout = std::io::stdout().lock();
    let mut sink = args.output.sink(stdout, super::stdout_is_interactive());
    let config = args.analysis.config(&args.output);
    let mut analyzer = Analyzer::new(config, sink.as_mut());
    let mut filter = args.filter.as_deref().map(PacketFilter::new).transpose()?;
    let mut warn = |w: String| eprintln!("btcsniff: warning: {w}");
    let mut failed = Vec::new();
    'files: for path in args.inputs() {
        let mut reader = match FileReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                failed.push(e.to_string());
                continue;
            }
        };
        loop {
            match reader.next_packet() {
                Ok(Some(packet)) => {
                    if let Some(f) = filter.as_mut() {
                        if !f.matches(&packet, &mut warn) {
                            continue;
                        }
                    }
                    let progress = analyzer.packet(&packet).context("writing output")?;
                    if progress == Progress::Done {
                        break 'files;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failed.push(e.to_string());
                    break;
                }
            }
        }
    }
    let stats = analyzer.finish().context("writing output")?;
    if args.output.stats {
        sink.event(&Event::Stats(&stats))
            .context("writing output")?;
    }
    sink.flush().context("writing output")?;
    drop(sink);
    for message in &failed {
        eprintln!("btcsniff: {message}");
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
