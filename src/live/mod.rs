//! The live session: capture threads (one per interface) feed batches of
//! packets to one analyzer; `-w` writes them as they pass; a probe may run
//! alongside (the capture shows its packets and decrypts its own v2
//! session); the session ends on the stop flag (Ctrl-C), `--duration`, a
//! short grace after the probe, `--count`, or a closed output pipe.
//!
//! The command line opens a [`LiveSession`], says what it listens on,
//! [`LiveSession::run`]s it with a sink, and prints the [`LiveOutcome`].

mod keylog_follow;
mod probe_alongside;
pub mod snapshot_signal;

pub use keylog_follow::Follower;

use crate::analyzer::parallel::{ParallelAnalyzer, SinkFactory};
use crate::analyzer::stats::CaptureCounters;
use crate::analyzer::{Analyzer, AnalyzerConfig, Event, Pipeline, Progress};
use crate::capture::live::{self, Batch, Channels, DropCounters, LiveEvent, LiveOptions};
use crate::capture::{LinkType, PcapWriter, Timestamp};
use crate::output::Sink;
use crate::probe::{ProbeConfig, ProbeOutcome};
use anyhow::{Context, bail};
use probe_alongside::{ProbeAlongside, ProbeKeys};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the session wakes to check the stop flag and `--duration`.
const TICK: Duration = Duration::from_millis(100);
/// How far behind the wall clock an idle tick moves capture time (below a
/// second): packets are delivered in immediate mode, within milliseconds.
const CLOCK_MARGIN_NANOS: u32 = 250_000_000;
/// What the output holds (the writer's buffer, the rounds of
/// `--threads` workers, whose sinks are where `--metrics` counts) is
/// written out at least this often: output to a file and the metrics lag
/// the traffic by about this much at most.
const FLUSH_AT_LEAST: Duration = Duration::from_secs(1);
/// How long the capture goes on after the probe ends, to see the close.
const PROBE_GRACE: Duration = Duration::from_secs(1);

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
        let mut keylog = config.keylog.as_deref().map(Follower::new);
        // The probe's own v2 session: its key comes over a channel.
        let wants_keylog =
            keylog.is_some() || probe.as_ref().is_some_and(ProbeAlongside::may_speak_v2);
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
                drive(
                    analyzer,
                    config.duration,
                    &mut keylog,
                    &channels,
                    &threads,
                    &probe,
                    writer,
                    &interface_names,
                    interactive,
                    stop,
                    notice,
                )?
            }
            _ => {
                let mut analyzer = Analyzer::new(analyzer_config, sink);
                if wants_keylog {
                    analyzer.set_keylog(crate::p2p::v2::KeyLog::new());
                }
                drive(
                    analyzer,
                    config.duration,
                    &mut keylog,
                    &channels,
                    &threads,
                    &probe,
                    writer,
                    &interface_names,
                    interactive,
                    stop,
                    notice,
                )?
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

/// What the packet loop left: the analyzer's end (`None`: the output
/// closed) and the capture threads' errors.
struct Ran {
    finished: Option<
        io::Result<(
            crate::analyzer::Stats,
            Vec<crate::analyzer::stats::WorkerLoad>,
        )>,
    >,
    capture_errors: Vec<String>,
}

/// The packet loop, over one analyzer or its workers: batches in, idle
/// ticks, `--duration` and the probe's grace, then the wind-down.
#[allow(clippy::too_many_arguments)]
fn drive<P: Pipeline>(
    analyzer: P,
    duration: Option<Duration>,
    keylog: &mut Option<Follower>,
    channels: &Channels,
    threads: &[std::thread::JoinHandle<()>],
    probe: &Option<ProbeAlongside>,
    writer: Option<PcapWriter>,
    interface_names: &[String],
    interactive: bool,
    stop: &Arc<AtomicBool>,
    notice: &mut dyn FnMut(Notice<'_>),
) -> anyhow::Result<Ran> {
    let mut state = Running {
        analyzer,
        writer,
        keylog: keylog.take(),
        probe_keys: probe.as_ref().map(|p| &p.keys),
        stop,
        interactive,
        last_flush: Instant::now(),
        output_closed: false,
        counters: CaptureCounters::default(),
        capture_errors: Vec::new(),
    };
    let deadline = duration.map(|d| Instant::now() + d);
    let mut probe_done_at: Option<Instant> = None;
    let mut ended = 0;
    while ended < threads.len() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            stop.store(true, Ordering::Relaxed);
        }
        if probe_done_at.is_none() && probe.as_ref().is_some_and(ProbeAlongside::is_finished) {
            probe_done_at = Some(Instant::now());
        }
        if deadline.is_none() && probe_done_at.is_some_and(|t| t.elapsed() >= PROBE_GRACE) {
            stop.store(true, Ordering::Relaxed);
        }
        match channels.batches.recv_timeout(TICK) {
            Ok(LiveEvent::Ended {
                error, counters, ..
            }) => {
                ended += 1;
                state.thread_ended(error, counters);
            }
            Ok(event) => state.event(event, channels, interface_names, notice)?,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => state.idle_tick()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if snapshot_signal::take() {
            state.snapshot()?;
        }
    }
    if !state.wind_down()? {
        return Ok(Ran {
            finished: None,
            capture_errors: state.capture_errors,
        });
    }
    let Running {
        analyzer,
        capture_errors,
        ..
    } = state;
    Ok(Ran {
        finished: Some(analyzer.finish()),
        capture_errors,
    })
}

/// The session's state while packets flow.
struct Running<'p, P> {
    analyzer: P,
    writer: Option<PcapWriter>,
    keylog: Option<Follower>,
    probe_keys: Option<&'p ProbeKeys>,
    stop: &'p Arc<AtomicBool>,
    interactive: bool,
    /// When held output was last written out ([`FLUSH_AT_LEAST`]).
    last_flush: Instant,
    output_closed: bool,
    counters: CaptureCounters,
    capture_errors: Vec<String>,
}

impl<P: Pipeline> Running<'_, P> {
    /// An output error: a closed pipe stops the session quietly, anything
    /// else ends it.
    fn output(&mut self, result: io::Result<()>) -> anyhow::Result<()> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.output_closed = true;
                self.stop.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => Err(e).context("writing output"),
            Ok(()) => Ok(()),
        }
    }

    /// No packet for a tick: the clock moves capture time on, so a hole
    /// times out (README, "Gaps and time") on a quiet link too. Behind the
    /// clock by a margin: a packet the kernel stamped just now may still be
    /// on its way to us.
    /// Every open flow's record as it stands, written out at once.
    fn snapshot(&mut self) -> anyhow::Result<()> {
        if self.output_closed {
            return Ok(());
        }
        let written = self
            .analyzer
            .snapshot()
            .and_then(|()| self.analyzer.flush_output());
        self.output(written)
    }

    fn idle_tick(&mut self) -> anyhow::Result<()> {
        if self.output_closed {
            return Ok(());
        }
        let now = Timestamp::now();
        let behind = Timestamp::new(
            now.secs.saturating_sub(1),
            now.nanos.saturating_add(1_000_000_000 - CLOCK_MARGIN_NANOS),
        );
        let flush = self.flush_due();
        let advanced = self.analyzer.advance(behind).and_then(|()| {
            if flush {
                self.analyzer.flush_output()
            } else {
                Ok(())
            }
        });
        self.output(advanced)
    }

    /// Whether to write out what the output holds now: after every batch
    /// when interactive, else every [`FLUSH_AT_LEAST`].
    fn flush_due(&mut self) -> bool {
        if self.interactive || self.last_flush.elapsed() >= FLUSH_AT_LEAST {
            self.last_flush = Instant::now();
            return true;
        }
        false
    }

    fn event(
        &mut self,
        event: LiveEvent,
        channels: &Channels,
        interface_names: &[String],
        notice: &mut dyn FnMut(Notice<'_>),
    ) -> anyhow::Result<()> {
        match event {
            LiveEvent::Batch(batch) => {
                if self.stop.load(Ordering::Relaxed) && self.output_closed {
                    channels.recycle(batch);
                    return Ok(());
                }
                let fed = self.feed_batch(&batch);
                channels.recycle(batch);
                for w in self.analyzer.take_warnings() {
                    notice(Notice::Warning(&w));
                }
                if fed? == Progress::Done {
                    self.stop.store(true, Ordering::Relaxed);
                }
                if self.flush_due() {
                    let flushed = self.analyzer.flush_output();
                    self.output(flushed)?;
                }
            }
            LiveEvent::Dropped {
                interface,
                at,
                counters,
                previous,
            } => {
                let name = interface_names.get(interface).map_or("?", String::as_str);
                let text = drop_notice(name, counters, previous);
                notice(Notice::Dropped(&text));
                let noted = self.analyzer.note(at, "capture", &text);
                self.output(noted)?;
            }
            LiveEvent::Ended {
                error, counters, ..
            } => self.thread_ended(error, counters),
        }
        Ok(())
    }

    fn thread_ended(&mut self, error: Option<String>, end: Option<DropCounters>) {
        if let Some(s) = end {
            self.counters.received += s.received;
            self.counters.dropped += s.dropped;
            self.counters.if_dropped += s.if_dropped;
        }
        if let Some(e) = error {
            self.capture_errors.push(e);
        }
    }

    /// The packets of one batch through `-w` and the analyzer. A closed
    /// output pipe is `Done` (the session stops quietly).
    fn feed_batch(&mut self, batch: &Batch) -> anyhow::Result<Progress> {
        for packet in batch.packets() {
            probe_alongside::take_keys(self.probe_keys, &mut self.analyzer);
            if let Some(w) = self.writer.as_mut() {
                w.write_packet(packet.ts, packet.data, packet.orig_len)
                    .context("writing the -w file")?;
            }
            if let Some(follower) = self.keylog.as_mut() {
                // While sessions wait for their key, before every packet
                // (the one that ends a session must not be handled before
                // its key); else every 100 ms at most.
                let appended = if self.analyzer.keys_awaited() {
                    follower.poll_now()
                } else {
                    follower.poll()
                };
                if !appended.is_empty() {
                    self.analyzer.append_keylog(&appended);
                }
            }
            match self.analyzer.packet(&packet) {
                Ok(Progress::Continue) => {}
                Ok(Progress::Done) => return Ok(Progress::Done),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Progress::Done),
                Err(e) => return Err(e).context("writing output"),
            }
        }
        Ok(Progress::Continue)
    }

    /// After the capture threads ended: flushes `-w`, then (unless the
    /// output closed: `false`) gives sessions waiting for their key a last
    /// look at the key log and hands over libpcap's counters.
    fn wind_down(&mut self) -> anyhow::Result<bool> {
        if let Some(w) = self.writer.as_mut() {
            w.flush().context("writing the -w file")?;
        }
        if self.output_closed {
            return Ok(false);
        }
        if let Some(follower) = self.keylog.as_mut() {
            self.analyzer.append_keylog(&follower.poll_now());
        }
        probe_alongside::take_keys(self.probe_keys, &mut self.analyzer);
        self.analyzer.set_capture_counters(self.counters);
        Ok(true)
    }
}

/// One line saying libpcap dropped packets, with the counts.
fn drop_notice(interface: &str, now: DropCounters, previous: DropCounters) -> String {
    let new_drops = now.dropped.saturating_sub(previous.dropped);
    let new_if_drops = now.if_dropped.saturating_sub(previous.if_dropped);
    format!(
        "capture on {interface} dropped {new_drops} packets (kernel buffer full) and the \
         interface {new_if_drops} since the last report; totals: received {}, dropped {}, \
         interface dropped {} (raise -B, or narrow the filter)",
        now.received, now.dropped, now.if_dropped
    )
}
