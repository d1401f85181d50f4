//! `btcsniff read FILE...`

use super::args::{AnalysisArgs, InputArgs, ReadArgs};
use super::progress::{self, CountingRead, ReadProgress};
use crate::analyzer::parallel::{ParallelAnalyzer, SinkFactory};
use crate::analyzer::{Analyzer, AnalyzerConfig, Event, Pipeline, Progress, SharedSource, Stats};
use crate::capture::file::STDIN_NAME;
use crate::capture::filter::PacketFilter;
use crate::capture::{CaptureError, CaptureErrorKind, FileReader};
use crate::exit_code;
use crate::output::{Format, Sink, TimeFormat};
use crate::p2p::v2::KeyLog;
use anyhow::Context;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

mod core_capture;

pub fn run(args: ReadArgs) -> anyhow::Result<u8> {
    let mut input = Input::open(&args.input, &args.analysis, args.output.quiet)?;
    let threads = worker_threads(&args, !input.core_inputs.is_empty());
    let stats = if threads > 1 {
        read_parallel(&args, threads, &mut input)?
    } else {
        let stdout = std::io::stdout().lock();
        let mut sink = args.output.sink(stdout, super::stdout_is_interactive());
        let stats = input.analyze(args.analysis.config(&args.output), sink.as_mut())?;
        if args.output.stats {
            sink.event(&Event::Stats(&stats))
                .context("writing output")?;
        }
        sink.flush().context("writing output")?;
        stats
    };
    Ok(input.outcome(stats).exit_code())
}

/// Reads every input of `input` through the single-threaded analyzer into
/// `sink` (`report`): capture files in order, then Core message captures.
pub fn analyze(
    input: &InputArgs,
    analysis: &AnalysisArgs,
    config: AnalyzerConfig,
    quiet: bool,
    sink: &mut dyn Sink,
) -> anyhow::Result<Outcome> {
    let mut input = Input::open(input, analysis, quiet)?;
    let stats = input.analyze(config, sink)?;
    Ok(input.outcome(stats))
}

/// What a whole read gave: the statistics, and what went wrong.
pub struct Outcome {
    pub stats: Stats,
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
fn read_parallel(args: &ReadArgs, threads: usize, input: &mut Input) -> anyhow::Result<Stats> {
    let output = args.output.clone();
    let make_sink: SinkFactory = Arc::new(move |buf| output.worker_sink(buf));
    // Standard output as a file of its own: the merge's vectored writes
    // of the workers' buffers go straight to `writev`, without a copy.
    let out = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("standard output")?;
    let out = Box::new(std::fs::File::from(out));
    let config = args.analysis.config(&args.output);
    let mut analyzer = ParallelAnalyzer::new(config, threads, input.keylog.take(), make_sink, out)
        .context("starting the worker threads")?;
    let capture_files = std::mem::take(&mut input.capture_files);
    input.read_captures(&capture_files, &mut analyzer)?;
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

/// The inputs' reading: key log, filter, progress, errors of the inputs,
/// Ctrl-C; capture files first, then Core's message captures.
struct Input {
    keylog: Option<KeyLog>,
    filter: Option<PacketFilter>,
    progress: ReadProgress,
    total: Option<u64>,
    failed: Vec<String>,
    interrupted: Arc<AtomicBool>,
    capture_files: Vec<PathBuf>,
    core_inputs: Vec<PathBuf>,
    network: Option<crate::p2p::Network>,
}

impl Input {
    fn open(input: &InputArgs, analysis: &AnalysisArgs, quiet: bool) -> anyhow::Result<Self> {
        let keylog = match &analysis.keylog {
            Some(path) => {
                let log = super::keylog_file::read_all(path)?;
                eprintln!("btcsniff: key log {}: {}", path.display(), log.summary());
                Some(log)
            }
            None => None,
        };
        let filter = input.filter.as_deref().map(PacketFilter::new).transpose()?;
        let interrupted = Arc::new(AtomicBool::new(false));
        {
            // Ctrl-C (or SIGTERM) ends the read after the packet at hand, as
            // the end of the input would: what was read is shown and summed
            // up. A read blocked on a silent pipe notices at its next
            // packet; a second Ctrl-C exits at once.
            let interrupted = Arc::clone(&interrupted);
            ctrlc::set_handler(move || {
                if interrupted.swap(true, Ordering::Relaxed) {
                    std::process::exit(i32::from(exit_code::INTERRUPTED));
                }
            })
            .context("installing the Ctrl-C handler")?;
        }
        let total = progress::total_size(input.inputs());
        let (core_inputs, capture_files) = input
            .inputs()
            .cloned()
            .partition(|path| crate::capture::core_capture::is_core_capture(path));
        Ok(Input {
            keylog,
            filter,
            progress: ReadProgress::new(progress::wanted(quiet), total),
            total,
            failed: Vec::new(),
            interrupted,
            capture_files,
            core_inputs,
            network: input.network,
        })
    }

    /// Everything through one analyzer into `sink`; its statistics.
    fn analyze(&mut self, config: AnalyzerConfig, sink: &mut dyn Sink) -> anyhow::Result<Stats> {
        let mut analyzer = Analyzer::new(config, sink);
        if let Some(log) = self.keylog.take() {
            analyzer.set_keylog(log);
        }
        let capture_files = std::mem::take(&mut self.capture_files);
        let done = self.read_captures(&capture_files, &mut analyzer)?;
        if !done && !self.core_inputs.is_empty() && !self.interrupted.load(Ordering::Relaxed) {
            // The packet captures come first, whole: what their flows still
            // hold (e.g. a start held for a mid-stream join) is shown now.
            analyzer.end_flows().context("writing output")?;
            core_capture::read(
                &self.core_inputs,
                self.network,
                &mut analyzer,
                &mut self.failed,
            )?;
        }
        analyzer.finish().context("writing output")
    }

    fn outcome(self, stats: Stats) -> Outcome {
        Outcome {
            stats,
            failed: self.failed,
            interrupted: self.interrupted.load(Ordering::Relaxed),
            bytes_read: self.progress.bytes_read(),
            total: self.total,
        }
    }

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
            // A file read in place: its packets outlive the call.
            let source: Option<SharedSource> = reader.map().map(Arc::clone);
            analyzer.set_source(source);
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

/// Whether regular files may be memory-mapped: not when
/// `BTCSNIFF_NO_MMAP` is set (to read a file that another process may
/// truncate meanwhile as a stream; see the README).
fn mapping_allowed() -> bool {
    std::env::var_os("BTCSNIFF_NO_MMAP").is_none()
}

/// Opens one input (`-` is standard input) with its bytes counted: a
/// regular file is read in place (memory-mapped), anything else (standard
/// input, a pipe, a compressed capture) as a stream.
fn open(path: &Path, counter: Arc<AtomicU64>) -> Result<FileReader, CaptureError> {
    if path.as_os_str() == STDIN_NAME {
        return FileReader::from_read(path, CountingRead::new(std::io::stdin(), counter));
    }
    match std::fs::File::open(path) {
        Ok(file) => {
            let regular = file.metadata().is_ok_and(|m| m.is_file());
            if regular
                && mapping_allowed()
                && let Some(reader) = FileReader::mapped(path, &file, Some(Arc::clone(&counter)))
            {
                return reader;
            }
            FileReader::from_read(path, CountingRead::new(file, counter))
        }
        Err(e) => Err(CaptureError {
            file: path.to_path_buf(),
            kind: CaptureErrorKind::Io(e),
        }),
    }
}
