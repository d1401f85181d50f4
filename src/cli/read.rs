//! `btcsniff read FILE...`

use super::args::ReadArgs;
use super::progress::{self, CountingRead, ReadProgress};
use crate::analyzer::parallel::{ParallelAnalyzer, SinkFactory};
use crate::analyzer::{Analyzer, Event, Pipeline, Progress, Stats};
use crate::capture::file::STDIN_NAME;
use crate::capture::filter::PacketFilter;
use crate::capture::{CaptureError, CaptureErrorKind, FileReader};
use crate::exit_code;
use crate::output::{Format, TimeFormat};
use anyhow::Context;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

mod core_capture;

pub fn run(args: ReadArgs) -> anyhow::Result<u8> {
    let keylog = match &args.analysis.keylog {
        Some(path) => {
            let log = super::keylog_file::read_all(path)?;
            eprintln!("btcsniff: key log {}: {}", path.display(), log.summary());
            Some(log)
        }
        None => None,
    };
    let mut filter = args.filter.as_deref().map(PacketFilter::new).transpose()?;
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
    let total = progress::total_size(args.inputs());
    let mut input = Input {
        progress: ReadProgress::new(progress::wanted(args.output.quiet), total),
        failed: Vec::new(),
        interrupted: Arc::clone(&interrupted),
        filter: filter.as_mut(),
    };
    let (core_inputs, capture_files): (Vec<_>, Vec<_>) = args
        .inputs()
        .cloned()
        .partition(|path| crate::capture::core_capture::is_core_capture(path));
    let threads = worker_threads(&args, !core_inputs.is_empty());
    let stats = if threads > 1 {
        read_parallel(&args, threads, keylog, &capture_files, &mut input)?
    } else {
        let stdout = std::io::stdout().lock();
        let mut sink = args.output.sink(stdout, super::stdout_is_interactive());
        let mut analyzer = Analyzer::new(args.analysis.config(&args.output), sink.as_mut());
        if let Some(log) = keylog {
            analyzer.set_keylog(log);
        }
        let done = input.read_captures(&capture_files, &mut analyzer)?;
        if !done && !core_inputs.is_empty() && !interrupted.load(Ordering::Relaxed) {
            // The packet captures come first, whole: what their flows still
            // hold (e.g. a start held for a mid-stream join) is shown now.
            analyzer.end_flows().context("writing output")?;
            core_capture::read(&core_inputs, args.network, &mut analyzer, &mut input.failed)?;
        }
        let stats = analyzer.finish().context("writing output")?;
        if args.output.stats {
            sink.event(&Event::Stats(&stats))
                .context("writing output")?;
        }
        sink.flush().context("writing output")?;
        stats
    };
    let Input {
        progress, failed, ..
    } = input;
    for message in &failed {
        eprintln!("btcsniff: {message}");
    }
    if interrupted.load(Ordering::Relaxed) {
        let of_total = total.map(|t| format!(" of {t}")).unwrap_or_default();
        eprintln!(
            "btcsniff: interrupted: read {}{of_total} bytes, {} packets, {} messages",
            progress.bytes_read(),
            stats.packets,
            stats.messages
        );
        return Ok(exit_code::INTERRUPTED);
    }
    Ok(if failed.is_empty() {
        exit_code::OK
    } else {
        exit_code::ERROR
    })
}

/// How many workers analyse flows: `--threads`, by default the available
/// cores. One (the single-threaded analyzer) where the output depends on
/// more than one flow's events in ways the workers cannot share:
/// `--count` (the stop is global), Core's message capture (read after the
/// flows, by the same analyzer), standard input or a pipe shown as it
/// arrives, and text laid out for a terminal or timed relative to other
/// lines (`--time-format relative|delta`).
fn worker_threads(args: &ReadArgs, core_inputs: bool) -> usize {
    // Standard input or a pipe, shown as it arrives (output to a pipe or a
    // terminal): each event is written at once, which rounds of work
    // would hold back while the input waits.
    let streamed = args.inputs().any(|p| !is_regular_file(p)) && super::stdout_is_interactive();
    worker_threads_for(args.threads, &args.output, core_inputs || streamed)
}

fn is_regular_file(path: &Path) -> bool {
    path.as_os_str() != STDIN_NAME && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// [`worker_threads`] from `--threads` and the output flags (`live` too);
/// one thread when `single` says so.
pub(super) fn worker_threads_for(
    threads: Option<u16>,
    output: &super::args::OutputArgs,
    single: bool,
) -> usize {
    let asked = match threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let look = output.look.look();
    let text_across_lines = output.format == Format::Text
        && (look.terminal || matches!(look.time, TimeFormat::Relative | TimeFormat::Delta));
    if output.count.is_some() || single || text_across_lines {
        1
    } else {
        asked
    }
}

/// `read` over `threads` workers: the same output, events and summary.
fn read_parallel(
    args: &ReadArgs,
    threads: usize,
    keylog: Option<crate::p2p::v2::KeyLog>,
    capture_files: &[PathBuf],
    input: &mut Input<'_>,
) -> anyhow::Result<Stats> {
    let output = args.output.clone();
    let make_sink: SinkFactory = Arc::new(move |buf| output.sink(buf, false));
    // Standard output as a file of its own: the merge's vectored writes
    // of the workers' buffers go straight to `writev`, without a copy.
    let out = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("standard output")?;
    let out = Box::new(std::fs::File::from(out));
    let config = args.analysis.config(&args.output);
    let mut analyzer = ParallelAnalyzer::new(config, threads, keylog, make_sink, out)
        .context("starting the worker threads")?;
    input.read_captures(capture_files, &mut analyzer)?;
    // The workers' share of the work is not shown: the output is that of
    // one thread.
    let (stats, _load) = Pipeline::finish(analyzer).context("writing output")?;
    if args.output.stats {
        let stdout = std::io::stdout().lock();
        let mut sink = args.output.sink(stdout, false);
        sink.event(&Event::Stats(&stats))
            .context("writing output")?;
        sink.flush().context("writing output")?;
    }
    Ok(stats)
}

/// The packet captures' reading: progress, errors of the inputs, Ctrl-C.
struct Input<'f> {
    progress: ReadProgress,
    failed: Vec<String>,
    interrupted: Arc<AtomicBool>,
    filter: Option<&'f mut PacketFilter>,
}

impl Input<'_> {
    /// Feeds every packet of the capture files to `analyzer`; true when
    /// `--count` was reached.
    fn read_captures(
        &mut self,
        capture_files: &[PathBuf],
        analyzer: &mut impl Pipeline,
    ) -> anyhow::Result<bool> {
        let mut warn = |w: String| eprintln!("btcsniff: warning: {w}");
        let mut done = false;
        'files: for path in capture_files {
            let mut reader = match open(path, self.progress.counter()) {
                Ok(r) => r,
                Err(e) => {
                    self.failed.push(e.to_string());
                    continue;
                }
            };
            loop {
                if self.interrupted.load(Ordering::Relaxed) {
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
                        if let Some(f) = self.filter.as_mut()
                            && !f.matches(&packet, &mut warn)
                        {
                            continue;
                        }
                        let step = analyzer.packet(&packet).context("writing output")?;
                        self.progress.packet(|| analyzer.messages());
                        if step == Progress::Done {
                            done = true;
                            break 'files;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.failed.push(e.to_string());
                        break;
                    }
                }
            }
        }
        for w in analyzer.take_warnings() {
            warn(w);
        }
        self.progress.finish();
        Ok(done)
    }
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
