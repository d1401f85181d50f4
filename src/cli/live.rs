//! `btcsniff live -i IFACE...` and `btcsniff interfaces`.

use super::args::LiveArgs;
use super::keylog_file::Follower;
use super::{EXIT_ERROR, EXIT_OK, is_broken_pipe};
use crate::analyzer::Event;
use crate::analyzer::stats::CaptureCounters;
use crate::analyzer::{Analyzer, Progress};
use crate::capture::live::{self, DropCounters, LiveEvent, LiveOptions};
use crate::capture::{LinkType, PcapWriter};
use crate::probe::{ProbeConfig, Request};
use anyhow::{Context, bail};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the main loop wakes to check `--duration` and Ctrl-C.
const TICK: Duration = Duration::from_millis(100);
/// How far behind the wall clock an idle tick moves capture time (below a
/// second): packets are delivered in immediate mode, within milliseconds.
const CLOCK_MARGIN_NANOS: u32 = 250_000_000;

pub fn run(args: LiveArgs) -> anyhow::Result<u8> {
    let options = LiveOptions {
        interfaces: args
            .interfaces
            .iter()
            .map(|i| live::resolve_interface(i))
            .collect(),
        snaplen: args.snaplen,
        promisc: !args.no_promisc,
        filter: args.filter.clone(),
        buffer_kib: args.buffer_kib,
    };
    let captures = live::open(&options)?;
    let mut writer = match &args.write {
        Some(path) => {
            let link = captures.first().map(|c| c.link_type).unwrap_or(1);
            if captures.iter().any(|c| c.link_type != link) {
                bail!(
                    "-w needs one link type, and these interfaces differ: capture on 'any' instead"
                );
            }
            // The error says which file and why, once.
            let w = PcapWriter::create(
                path,
                LinkType(link),
                u32::try_from(args.snaplen).unwrap_or(65535),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            Some(w)
        }
        None => None,
    };
    let library = crate::capture::libpcap::library()?;
    for c in &captures {
        // Like tcpdump: on stderr, so that stdout stays pure output.
        let link_name = library
            .link_type_name(c.link_type)
            .unwrap_or_else(|| format!("DLT_{}", c.link_type));
        if !args.output.quiet {
            eprintln!(
                "btcsniff: listening on {}, link-type {} ({}), snaplen {}, buffer {} KiB, filter '{}'",
                c.interface, link_name, c.link_type, args.snaplen, args.buffer_kib, args.filter
            );
        }
        if let Some(w) = &c.warning {
            eprintln!("btcsniff: warning: {}: {w}", c.interface);
        }
    }
    let interface_names: Vec<String> = captures.iter().map(|c| c.interface.clone()).collect();

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .context("installing the Ctrl-C handler")?;
    }
    let (channels, threads) = live::spawn(captures, &stop);
    // The capture is open: the probe's packets will all be seen.
    let (probe, probe_keys) = match start_probe(&args)? {
        Some((handle, keys)) => (Some(handle), Some(keys)),
        None => (None, None),
    };
    let mut probe_done_at: Option<Instant> = None;

    let stdout = std::io::stdout().lock();
    let interactive = super::stdout_is_interactive();
    // Output is flushed once per batch (below), not per line: under load a
    // batch holds hundreds of packets, and a lone packet is a batch of one.
    let mut sink = args.output.sink(stdout, false);
    let mut config = args.analysis.config(&args.output);
    // Keys may be logged while their session runs: hold its bytes.
    config.v2.wait_for_keys = true;
    let mut analyzer = Analyzer::new(config, sink.as_mut());
    let mut keylog = args.analysis.keylog.as_deref().map(|path| {
        analyzer.set_keylog(crate::p2p::v2::KeyLog::new());
        super::keylog_file::Follower::new(path)
    });
    // The probe's own v2 session: its key comes over a channel.
    let probe_speaks_v2 = args.probe.transport != crate::probe::TransportChoice::V1;
    if keylog.is_none() && probe_keys.is_some() && probe_speaks_v2 {
        analyzer.set_keylog(crate::p2p::v2::KeyLog::new());
    }
    if let Some(follower) = keylog.as_mut() {
        analyzer.append_keylog(&follower.poll_now());
    }
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut counters = CaptureCounters::default();
    let mut errors = Vec::new();
    let mut ended = 0;
    let mut output_closed = false;
    while ended < threads.len() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            stop.store(true, Ordering::Relaxed);
        }
        if probe_done_at.is_none() && probe.as_ref().is_some_and(|p| p.is_finished()) {
            probe_done_at = Some(Instant::now());
        }
        if args.duration.is_none() && probe_done_at.is_some_and(|t| t.elapsed() >= PROBE_GRACE) {
            stop.store(true, Ordering::Relaxed);
        }
        let event = match channels.batches.recv_timeout(TICK) {
            Ok(e) => e,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // No packet for a tick: the clock moves capture time on, so
                // a hole times out (README, "Gaps and time") on a quiet link
                // too. Behind the clock by a margin: a packet the kernel
                // stamped just now may still be on its way to us.
                let now = crate::capture::Timestamp::now();
                let behind = crate::capture::Timestamp::new(
                    now.secs.saturating_sub(1),
                    now.nanos.saturating_add(1_000_000_000 - CLOCK_MARGIN_NANOS),
                );
                if !output_closed {
                    let advanced = analyzer.advance(behind).and_then(|()| {
                        if interactive {
                            analyzer.flush_output()
                        } else {
                            Ok(())
                        }
                    });
                    match advanced {
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                            output_closed = true;
                            stop.store(true, Ordering::Relaxed);
                        }
                        Err(e) => return Err(e).context("writing output"),
                        Ok(()) => {}
                    }
                }
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match event {
            LiveEvent::Batch(batch) => {
                if stop.load(Ordering::Relaxed) && output_closed {
                    channels.recycle(batch);
                    continue;
                }
                let outcome = feed_batch(
                    &batch,
                    &mut analyzer,
                    writer.as_mut(),
                    keylog.as_mut(),
                    probe_keys.as_ref(),
                );
                channels.recycle(batch);
                for w in analyzer.take_warnings() {
                    eprintln!("btcsniff: warning: {w}");
                }
                match outcome? {
                    Progress::Continue => {}
                    Progress::Done => stop.store(true, Ordering::Relaxed),
                }
                if interactive {
                    match analyzer.flush_output() {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                            output_closed = true;
                            stop.store(true, Ordering::Relaxed);
                        }
                        Err(e) => return Err(e).context("writing output"),
                    }
                }
            }
            LiveEvent::Dropped {
                interface,
                at,
                counters: now,
                previous,
            } => {
                let name = interface_names.get(interface).map_or("?", String::as_str);
                let text = drop_notice(name, now, previous);
                if !std::io::stderr().is_terminal() || !std::io::stdout().is_terminal() {
                    eprintln!("btcsniff: {text}");
                }
                match analyzer.note(at, "capture", &text) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        output_closed = true;
                        stop.store(true, Ordering::Relaxed);
                    }
                    Err(e) => return Err(e).context("writing output"),
                }
            }
            LiveEvent::Ended {
                error,
                counters: end,
                ..
            } => {
                ended += 1;
                if let Some(s) = end {
                    counters.received += s.received;
                    counters.dropped += s.dropped;
                    counters.if_dropped += s.if_dropped;
                }
                if let Some(e) = error {
                    errors.push(e);
                }
            }
        }
    }
    for t in threads {
        let _ = t.join();
    }
    if let Some(w) = writer.as_mut() {
        w.flush().context("writing the -w file")?;
    }
    if output_closed {
        return Ok(EXIT_OK);
    }
    if let Some(follower) = keylog.as_mut() {
        // Sessions still waiting for their key get a last look at the end.
        analyzer.append_keylog(&follower.poll_now());
    }
    take_probe_keys(probe_keys.as_ref(), &mut analyzer);
    analyzer.stats_mut().capture = Some(counters);
    let outcome = probe.and_then(|p| p.join().ok());
    let finished = analyzer
        .finish()
        .map_err(anyhow::Error::from)
        .and_then(|stats| {
            if let Some(outcome) = &outcome {
                let ts = crate::capture::Timestamp::now();
                for line in outcome.result_texts() {
                    sink.event(&Event::Note {
                        ts,
                        source: "probe",
                        text: &line,
                    })?;
                }
            }
            if args.output.stats {
                sink.event(&Event::Stats(&stats))?;
            }
            sink.flush()?;
            Ok(())
        });
    match finished {
        Err(e) if is_broken_pipe(&e) => return Ok(EXIT_OK),
        other => other?,
    }
    drop(sink);
    for e in &errors {
        eprintln!("btcsniff: capture ended: {e}");
    }
    if let Some(reason) = outcome.as_ref().and_then(|o| o.failure_reason()) {
        eprintln!("btcsniff: probe: {reason}");
    }
    // The probe's exit code (README, "Exit codes") wins over the capture's.
    Ok(match outcome.map(|o| o.exit_code()) {
        Some(code) if code != EXIT_OK => code,
        _ if errors.is_empty() => EXIT_OK,
        _ => EXIT_ERROR,
    })
}

/// How long the capture goes on after the probe ends, to see the close.
const PROBE_GRACE: Duration = Duration::from_secs(1);

/// The packets of one batch through `-w` and the analyzer. A closed output
/// pipe is `Done` (the caller stops quietly).
fn feed_batch(
    batch: &live::Batch,
    analyzer: &mut Analyzer<'_>,
    mut writer: Option<&mut PcapWriter>,
    mut keylog: Option<&mut Follower>,
    probe_keys: Option<&ProbeKeys>,
) -> anyhow::Result<Progress> {
    for packet in batch.packets() {
        take_probe_keys(probe_keys, analyzer);
        if let Some(w) = writer.as_deref_mut() {
            w.write_packet(packet.ts, packet.data, packet.orig_len)
                .context("writing the -w file")?;
        }
        if let Some(follower) = keylog.as_deref_mut() {
            // While sessions wait for their key, before every packet (the
            // one that ends a session must not be handled before its key);
            // else every 100 ms at most.
            let appended = if analyzer.keys_awaited() {
                follower.poll_now()
            } else {
                follower.poll()
            };
            if !appended.is_empty() {
                analyzer.append_keylog(&appended);
            }
        }
        match analyzer.packet(&packet) {
            Ok(Progress::Continue) => {}
            Ok(Progress::Done) => return Ok(Progress::Done),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Progress::Done),
            Err(e) => return Err(e).context("writing output"),
        }
    }
    Ok(Progress::Continue)
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

/// The keys of the probe's v2 sessions, as it makes them.
type ProbeKeys = std::sync::mpsc::Receiver<crate::p2p::v2::KeyLogEntry>;

/// Hands the probe's session keys (if any arrived) to the analyzer's key
/// log, as lines of the key-log format. Called before every packet: the
/// key is sent before the probe's first encrypted packet.
fn take_probe_keys(keys: Option<&ProbeKeys>, analyzer: &mut Analyzer<'_>) {
    let Some(keys) = keys else { return };
    // At most a few sessions per probe; bounded anyway.
    for entry in keys.try_iter().take(16) {
        analyzer.append_keylog(entry.to_line().as_bytes());
    }
}

type ProbeThread = std::thread::JoinHandle<crate::probe::ProbeOutcome>;

/// Starts `--probe` in a thread of its own, without a sink: the capture
/// shows its packets (its v2 keys come back over the returned channel).
fn start_probe(args: &LiveArgs) -> anyhow::Result<Option<(ProbeThread, ProbeKeys)>> {
    let Some(target) = &args.probe.target else {
        return Ok(None);
    };
    let p = &args.probe;
    let requests: Vec<Request> = p
        .txs
        .iter()
        .map(|h| Request::Tx(*h))
        .chain(p.blocks.iter().map(|h| Request::Block(*h)))
        .collect();
    if requests.is_empty() {
        bail!("--probe needs at least one --tx or --block");
    }
    let timeout = Duration::from_secs_f64(p.timeout);
    let config = ProbeConfig::for_target(target, p.network, requests, timeout)
        .map_err(|reason| anyhow::anyhow!("probe: {reason}"))?;
    let (key_tx, key_rx) = std::sync::mpsc::channel();
    let config = ProbeConfig {
        witness: !p.no_witness,
        transport: p.transport,
        key_channel: Some(key_tx),
        ..config
    };
    let handle = std::thread::spawn(move || crate::probe::run(&config, None));
    Ok(Some((handle, key_rx)))
}

/// `btcsniff interfaces`: like `tcpdump -D`.
pub fn interfaces() -> anyhow::Result<u8> {
    let devices = crate::capture::libpcap::Device::list()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("listing interfaces")?;
    for (i, d) in devices.iter().enumerate() {
        let mut flags = Vec::new();
        if d.up {
            flags.push("Up");
        }
        if d.running {
            flags.push("Running");
        }
        if d.loopback {
            flags.push("Loopback");
        }
        let desc = d
            .description
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        println!("{}.{}{desc} [{}]", i + 1, d.name, flags.join(", "));
    }
    Ok(EXIT_OK)
}
