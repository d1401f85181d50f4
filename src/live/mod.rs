//! The live session: capture threads (one per interface) feed batches of
//! packets to one analyzer; `-w` writes them as they pass; a probe may run
//! alongside (the capture shows its packets and decrypts its own v2
//! session); the session ends on the stop flag (Ctrl-C), `--duration`, a
//! short grace after the probe, `--count`, or a closed output pipe.
//!
//! The command line opens a [`LiveSession`], says what it listens on,
//! [`LiveSession::run`]s it with a sink, and prints the [`LiveOutcome`].

mod keylog_follow;
mod packet_loop;
mod probe_alongside;
pub mod snapshot_signal;

pub use keylog_follow::Follower;

use crate::analyzer::parallel::{ParallelAnalyzer, SinkFactory};
use crate::analyzer::{Analyzer, AnalyzerConfig, Event};
use crate::capture::live::{self, LiveOptions};
use crate::capture::{LinkType, PcapWriter, Timestamp};
use crate::output::Sink;
use crate::probe::{ProbeConfig, ProbeOutcome};
use anyhow::{Context, bail};
use packet_loop::{LoopInputs, Ran, drive};
use probe_alongside::ProbeAlongside;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Everything a live session needs, resolved from the command line.
#[derive(Debug)]
pub struct LiveConfig {
    pub capture: LiveOptions,
    /// `-w`: also write the captured packets to this pcap file.
    pub write: Option<PathBuf>,
    /// `--duration`: stop after this long.
    pub duration: Option<Duration>,
    pub analyzer: AnalyzerConfig,
    /// `--keylog`: followed as it grows.
    pub keylog: Option<PathBuf>,
    /// `--probe`: run this probe alongside, once the capture is open.
    pub probe: Option<ProbeConfig>,
    /// `--stats`: end with the statistics record.
    pub stats: bool,
    /// `--threads`: flows analysed on this many workers (1: one thread).
    pub threads: usize,
}

/// What workers (`--threads` above 1) write with: their sinks, and the
/// merge's output (standard output, apart from the session's own sink).
pub struct Workers {
    pub make_sink: SinkFactory,
    pub out: Box<dyn io::Write + Send>,
}

/// What the session has to say on stderr besides its output.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// A warning about the input (e.g. a link type that cannot be parsed).
    Warning(&'a str),
    /// libpcap dropped packets (also a note in the output).
    Dropped(&'a str),
}

/// How a session ended.
#[derive(Debug)]
pub struct LiveOutcome {
    /// The output pipe closed (`| head`): the session stopped quietly.
    pub output_closed: bool,
    /// Capture threads that ended on an error, with the error.
    pub capture_errors: Vec<String>,
    /// The probe's result, when one ran alongside.
    pub probe: Option<ProbeOutcome>,
}

impl LiveOutcome {
    /// The exit code (README, "Exit codes"): a closed output is a quiet
    /// success; the probe's code wins over the capture's.
    pub fn exit_code(&self) -> u8 {
        use crate::exit_code::{ERROR, OK};
        if self.output_closed {
            return OK;
        }
        match self.probe.as_ref().map(ProbeOutcome::exit_code) {
            Some(code) if code != OK => code,
            _ if self.capture_errors.is_empty() => OK,
            _ => ERROR,
        }
    }
}

/// Opened interfaces (and `-w` file), ready to run.
pub struct LiveSession {
    config: LiveConfig,
    captures: Vec<live::OpenCapture>,
    writer: Option<PcapWriter>,
}

impl LiveSession {
    /// Opens every interface and the `-w` file; nothing runs yet.
    pub fn open(config: LiveConfig) -> anyhow::Result<LiveSession> {
        let captures = live::open(&config.capture)?;
        let writer = match &config.write {
            Some(path) => {
                let link = captures.first().map_or(1, |c| c.link_type);
                if captures.iter().any(|c| c.link_type != link) {
                    bail!(
                        "-w needs one link type, and these interfaces differ: capture on 'any' instead"
                    );
                }
                let snaplen = u32::try_from(config.capture.snaplen).unwrap_or(65535);
                // The error says which file and why, once.
                let w = PcapWriter::create(path, LinkType(link), snaplen)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Some(w)
            }
            None => None,
        };
        Ok(LiveSession {
            config,
            captures,
            writer,
        })
    }

    /// The opened interfaces (name, link type, activation warning).
    pub fn captures(&self) -> &[live::OpenCapture] {
        &self.captures
    }

    /// Captures until `stop` is set (or another end, see the module docs),
    /// showing events on `sink` (flushed per batch when `interactive`),
    /// then ends every flow and shows the probe's result and the
    /// statistics. An `Err` is an output or `-w` error.
    pub fn run(
        self,
        sink: &mut dyn Sink,
        interactive: bool,
        stop: &Arc<AtomicBool>,
        notice: &mut dyn FnMut(Notice<'_>),
        workers: Option<Workers>,
    ) -> anyhow::Result<LiveOutcome> {
        let LiveSession {
            config,
            captures,
            writer,
        } = self;
        let interface_names: Vec<String> = captures.iter().map(|c| c.interface.clone()).collect();
        let (channels, threads) = live::spawn(captures, stop);
        // The capture is open: the probe's packets will all be seen.
        let probe = config.probe.map(ProbeAlongside::start);
        let mut analyzer_config = config.analyzer.clone();
        // Keys may be logged while their session runs: hold its bytes.
        analyzer_config.v2.wait_for_keys = true;
        let keylog = config.keylog.as_deref().map(Follower::new);
        // The probe's own v2 session: its key comes over a channel.
        let wants_keylog =
            keylog.is_some() || probe.as_ref().is_some_and(ProbeAlongside::may_speak_v2);
        let inputs = LoopInputs {
            duration: config.duration,
            keylog,
            channels: &channels,
            threads: &threads,
            probe: &probe,
            writer,
            interface_names: &interface_names,
            interactive,
            stop,
            notice,
        };
        let ran = match workers {
            Some(w) if config.threads > 1 => {
                let analyzer = ParallelAnalyzer::new(
                    analyzer_config,
                    config.threads,
                    wants_keylog.then(crate::p2p::v2::KeyLog::new),
                    w.make_sink,
                    w.out,
                )
                .context("starting the worker threads")?;
                drive(analyzer, inputs)?
            }
            _ => {
                let mut analyzer = Analyzer::new(analyzer_config, sink);
                if wants_keylog {
                    analyzer.set_keylog(crate::p2p::v2::KeyLog::new());
                }
                drive(analyzer, inputs)?
            }
        };
        for t in threads {
            let _ = t.join();
        }
        let Ran {
            finished,
            capture_errors,
        } = ran;
        let Some(finished) = finished else {
            return Ok(LiveOutcome {
                output_closed: true,
                capture_errors,
                probe: None,
            });
        };
        let outcome = probe.and_then(ProbeAlongside::join);
        let finished = finished.and_then(|(mut stats, load)| {
            stats.workers = load;
            if let Some(outcome) = &outcome {
                let ts = Timestamp::now();
                for line in outcome.result_texts() {
                    sink.event(&Event::Note {
                        ts,
                        source: "probe",
                        text: &line,
                    })?;
                }
            }
            if config.stats {
                sink.event(&Event::Stats(&stats))?;
            }
            sink.flush()
        });
        let output_closed = match finished {
            Ok(()) => false,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => true,
            Err(e) => return Err(e).context("writing output"),
        };
        Ok(LiveOutcome {
            output_closed,
            capture_errors,
            probe: outcome,
        })
    }
}
