//! `btcsniff live -i IFACE...` and `btcsniff interfaces`: flags into a
//! [`LiveConfig`], the session itself in [`crate::live`], its lines here.

use super::args::LiveArgs;
use crate::analyzer::parallel::SinkFactory;
use crate::capture::live::{self, LiveOptions};
use crate::exit_code;
use crate::live::{LiveConfig, LiveSession, Notice, Workers};
use anyhow::{Context, bail};
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub fn run(args: LiveArgs) -> anyhow::Result<u8> {
    let probe = match &args.probe.target {
        Some(target) => {
            if args.probe.ask.requests().is_empty() {
                bail!("--probe needs at least one --tx or --block");
            }
            let config = args
                .probe
                .ask
                .config(target)
                .map_err(|reason| anyhow::anyhow!("probe: {reason}"))?;
            Some(config)
        }
        None => None,
    };
    // `--metrics` shows who announces first while the capture runs: the
    // first-announcer table is kept (as with --stats) and publishes here.
    let board = args
        .metrics
        .map(|_| crate::analyzer::announce::Board::default());
    let mut analyzer = args.analysis.config(&args.output);
    if let Some(board) = &board {
        analyzer.announce = true;
        analyzer.announce_board = Some(board.clone());
    }
    let config = LiveConfig {
        capture: LiveOptions {
            interfaces: args
                .interfaces
                .iter()
                .map(|i| live::resolve_interface(i))
                .collect(),
            snaplen: args.snaplen,
            promisc: !args.no_promisc,
            filter: args.filter.clone(),
            buffer_kib: args.buffer_kib,
        },
        write: args.write.clone(),
        duration: args.duration.map(Duration::from_secs_f64),
        analyzer,
        keylog: args.analysis.keylog.clone(),
        probe,
        stats: args.output.stats,
        threads: super::read::worker_threads_for(args.threads, &args.output, false),
    };
    let config_threads = config.threads;
    let session = LiveSession::open(config)?;
    let library = crate::capture::libpcap::library()?;
    for c in session.captures() {
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
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .context("installing the Ctrl-C handler")?;
    }
    crate::live::snapshot_signal::install().context("installing the SIGUSR1 handler")?;
    // Output is flushed once per batch, not per line: under load a batch
    // holds hundreds of packets, and a lone packet is a batch of one.
    let mut sink = args.output.sink(std::io::stdout().lock(), false);
    // `--metrics`: every sink that sees events (this one, and each
    // worker's with `--threads` above 1) counts them into one registry.
    let metrics = match args.metrics {
        Some(addr) => {
            let metrics = crate::metrics::Metrics::default();
            if let Some(board) = board {
                metrics.show_announcers(board, args.metrics_peers);
            }
            for c in session.captures() {
                metrics.watch_capture(&c.interface, Arc::clone(&c.totals));
            }
            let bound = crate::metrics::serve(addr, metrics.clone())?;
            eprintln!("btcsniff: metrics at http://{bound}/metrics");
            sink = Box::new(crate::metrics::MetricsSink::new(sink, metrics.clone()));
            Some(metrics)
        }
        None => None,
    };
    let mut notice = |n: Notice<'_>| match n {
        Notice::Warning(w) => eprintln!("btcsniff: warning: {w}"),
        // On a terminal the note in the output says it already.
        Notice::Dropped(text) => {
            if !std::io::stderr().is_terminal() || !std::io::stdout().is_terminal() {
                eprintln!("btcsniff: {text}");
            }
        }
    };
    let interactive = super::stdout_is_interactive();
    let workers = if config_threads > 1 {
        let output = args.output.clone();
        let make_sink: SinkFactory = Arc::new(move |buf| {
            let sink = output.worker_sink(buf);
            match &metrics {
                Some(m) => Box::new(crate::metrics::MetricsSink::new(sink, m.clone())),
                None => sink,
            }
        });
        let out = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .context("standard output")?;
        Some(Workers {
            make_sink,
            out: Box::new(std::fs::File::from(out)),
        })
    } else {
        None
    };
    let outcome = session.run(sink.as_mut(), interactive, &stop, &mut notice, workers)?;
    drop(sink);
    if !outcome.output_closed {
        for e in &outcome.capture_errors {
            eprintln!("btcsniff: capture ended: {e}");
        }
        if let Some(reason) = outcome.probe.as_ref().and_then(|o| o.failure_reason()) {
            eprintln!("btcsniff: probe: {reason}");
        }
    }
    Ok(outcome.exit_code())
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
    Ok(exit_code::OK)
}
