//! `btcsniff read FILE...`

use super::args::{AnalysisArgs, InputArgs, ReadArgs};
use super::progress::{self, CountingRead, ReadProgress};
use crate::analyzer::{Analyzer, Progress};
use crate::capture::file::STDIN_NAME;
use crate::capture::filter::PacketFilter;
use crate::capture::{CaptureError, CaptureErrorKind, FileReader};
use crate::exit_code;
use crate::output::{Event, Sink};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

mod core_capture;

pub fn run(args: ReadArgs) -> anyhow::Result<u8> {
    let stdout = std::io::stdout().lock();
    let mut sink = args.output.sink(stdout, super::stdout_is_interactive());
    let config = args.analysis.config(&args.output);
    let outcome = analyze(
        &args.input,
        &args.analysis,
        config,
        args.output.quiet,
        sink.as_mut(),
    )?;
    if args.output.stats {
        sink.event(&Event::Stats(&outcome.stats))
            .context("writing output")?;
    }
    sink.flush().context("writing output")?;
    drop(sink);
    Ok(outcome.exit_code())
}

/// What a whole read gave: the statistics, and what went wrong.
pub struct Outcome {
    pub stats: crate::output::Stats,
    /// One line per input that could not be read to its end.
    pub failed: Vec<String>,
    pub interrupted: bool,
    pub bytes_read: u64,
    pub total: Option<u64>,
}

impl Outcome {
    /// Says what failed or that the read was interrupted (stderr), and
    /// returns the exit code.
    pub fn exit_code(&self) -> u8 {
        for message in &self.failed {
            eprintln!("btcsniff: {message}");
        }
        if self.interrupted {
            let of_total = self.total.map(|t| format!(" of {t}")).unwrap_or_default();
            eprintln!(
                "btcsniff: interrupted: read {}{of_total} bytes, {} packets, {} messages",
                self.bytes_read, self.stats.packets, self.stats.messages
            );
            return exit_code::INTERRUPTED;
        }
        if self.failed.is_empty() {
            exit_code::OK
        } else {
            exit_code::ERROR
        }
    }
}

/// Reads every input of `input` through the analyzer into `sink` (`read`
/// and `report`): capture files in order, then Core message captures.
pub fn analyze(
    input: &InputArgs,
    analysis: &AnalysisArgs,
    config: crate::analyzer::AnalyzerConfig,
    quiet: bool,
    sink: &mut dyn Sink,
) -> anyhow::Result<Outcome> {
    let keylog = match &analysis.keylog {
        Some(path) => {
            let log = super::keylog_file::read_all(path)?;
            eprintln!("btcsniff: key log {}: {}", path.display(), log.summary());
            Some(log)
        }
        None => None,
    };
    let mut analyzer = Analyzer::new(config, sink);
    if let Some(log) = keylog {
        analyzer.set_keylog(log);
    }
    let mut filter = input.filter.as_deref().map(PacketFilter::new).transpose()?;
    let mut warn = |w: String| eprintln!("btcsniff: warning: {w}");
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        // Ctrl-C (or SIGTERM) ends the read after the packet at hand, as
        // the end of the input would: what was read is shown and summed up.
        // A read blocked on a silent pipe notices at its next packet; a
        // second Ctrl-C exits at once.
        let interrupted = Arc::clone(&interrupted);
        ctrlc::set_handler(move || {
            if interrupted.swap(true, Ordering::Relaxed) {
                std::process::exit(i32::from(exit_code::INTERRUPTED));
            }
        })
        .context("installing the Ctrl-C handler")?;
    }
    let total = progress::total_size(input.inputs());
    let mut progress = ReadProgress::new(progress::wanted(quiet), total);
    let mut failed = Vec::new();
    let (core_inputs, capture_files): (Vec<_>, Vec<_>) = input
        .inputs()
        .cloned()
        .partition(|path| crate::capture::core_capture::is_core_capture(path));
    let mut done = false;
    'files: for path in &capture_files {
        let mut reader = match open(path, progress.counter()) {
            Ok(r) => r,
            Err(e) => {
                failed.push(e.to_string());
                continue;
            }
        };
        loop {
            if interrupted.load(Ordering::Relaxed) {
                break 'files;
            }
            for w in reader
                .take_warning()
                .into_iter()
                .chain(analyzer.take_warnings())
            {
                warn(w);
            }
            match reader.next_packet() {
                Ok(Some(packet)) => {
                    if let Some(f) = filter.as_mut()
                        && !f.matches(&packet, &mut warn)
                    {
                        continue;
                    }
                    let step = analyzer.packet(&packet).context("writing output")?;
                    progress.packet(|| analyzer.stats_mut().messages);
                    if step == Progress::Done {
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
    for w in analyzer.take_warnings() {
        warn(w);
    }
    progress.finish();
    if !done && !core_inputs.is_empty() && !interrupted.load(Ordering::Relaxed) {
        // The packet captures come first, whole: what their flows still
        // hold (e.g. a start held for a mid-stream join) is shown now.
        analyzer.end_flows().context("writing output")?;
        core_capture::read(&core_inputs, input.network, &mut analyzer, &mut failed)?;
    }
    let stats = analyzer.finish().context("writing output")?;
    Ok(Outcome {
        stats,
        failed,
        interrupted: interrupted.load(Ordering::Relaxed),
        bytes_read: progress.bytes_read(),
        total,
    })
}

/// Opens one input (`-` is standard input) with its bytes counted.
fn open(path: &Path, counter: Arc<AtomicU64>) -> Result<FileReader, CaptureError> {
    if path.as_os_str() == STDIN_NAME {
        return FileReader::from_read(path, CountingRead::new(std::io::stdin(), counter));
    }
    match std::fs::File::open(path) {
        Ok(file) => FileReader::from_read(path, CountingRead::new(file, counter)),
        Err(e) => Err(CaptureError {
            file: path.to_path_buf(),
            kind: CaptureErrorKind::Io(e),
        }),
    }
}
