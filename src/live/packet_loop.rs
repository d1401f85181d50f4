//! The live session's packet loop, over one analyzer or its workers:
//! batches from the capture threads through `-w` and the analyzer, idle
//! ticks that move capture time on, `--duration` and the probe's grace,
//! libpcap's drop reports, then the wind-down.

use super::probe_alongside::{self, ProbeAlongside, ProbeKeys};
use super::{Follower, Notice, snapshot_signal};
use crate::analyzer::stats::CaptureCounters;
use crate::analyzer::{Pipeline, Progress};
use crate::capture::live::{Batch, Channels, DropCounters, LiveEvent};
use crate::capture::{PcapWriter, Timestamp};
use anyhow::Context;
use std::io;
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

/// What the packet loop reads from and answers to, besides the analyzer.
pub(super) struct LoopInputs<'a> {
    pub duration: Option<Duration>,
    pub keylog: Option<Follower>,
    pub channels: &'a Channels,
    pub threads: &'a [std::thread::JoinHandle<()>],
    pub probe: &'a Option<ProbeAlongside>,
    pub writer: Option<PcapWriter>,
    pub interface_names: &'a [String],
    pub interactive: bool,
    pub stop: &'a Arc<AtomicBool>,
    pub notice: &'a mut dyn FnMut(Notice<'_>),
}

/// What the packet loop left: the analyzer's end (`None`: the output
/// closed) and the capture threads' errors.
pub(super) struct Ran {
    pub finished: Option<
        io::Result<(
            crate::analyzer::Stats,
            Vec<crate::analyzer::stats::WorkerLoad>,
        )>,
    >,
    pub capture_errors: Vec<String>,
}

/// The packet loop, over one analyzer or its workers: batches in, idle
/// ticks, `--duration` and the probe's grace, then the wind-down.
pub(super) fn drive<P: Pipeline>(analyzer: P, inputs: LoopInputs<'_>) -> anyhow::Result<Ran> {
    let LoopInputs {
        duration,
        keylog,
        channels,
        threads,
        probe,
        writer,
        interface_names,
        interactive,
        stop,
        notice,
    } = inputs;
    let mut state = Running {
        analyzer,
        writer,
        keylog,
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

    /// No packet for a tick: the clock moves capture time on, so a hole
    /// times out (README, "Gaps and time") on a quiet link too. Behind the
    /// clock by a margin: a packet the kernel stamped just now may still be
    /// on its way to us.
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
