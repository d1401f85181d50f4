//! `btcsniff read FILE...`

use super::args::ReadArgs;
use super::{EXIT_ERROR, EXIT_OK};
use crate::analyzer::{Analyzer, Progress};
use crate::capture::FileReader;
use crate::output::{Event, make_sink};
use anyhow::Context;

mod core_capture;

pub fn run(args: ReadArgs) -> anyhow::Result<u8> {
    let stdout = std::io::stdout().lock();
    let options = args.output.sink_options(super::stdout_is_interactive());
    let mut sink = make_sink(args.output.format, stdout, options);
    let config = args.analysis.config(&args.output);
    let mut analyzer = Analyzer::new(config, sink.as_mut());
    let mut failed = Vec::new();
    let (core_inputs, capture_files): (Vec<_>, Vec<_>) = args
        .files
        .iter()
        .cloned()
        .partition(|path| crate::capture::core_capture::is_core_capture(path));
    let mut done = false;
    'files: for path in &capture_files {
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
                    let progress = analyzer.packet(&packet).context("writing output")?;
                    if progress == Progress::Done {
                        done = true;
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
    if !done && !core_inputs.is_empty() {
        core_capture::read(&core_inputs, args.network, &mut analyzer, &mut failed)?;
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
