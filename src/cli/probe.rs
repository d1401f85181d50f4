//! `btcsniff probe HOST[:PORT] (--tx TXID | --block HASH)...`

use super::EXIT_ERROR;
use super::args::ProbeArgs;
use crate::output::{Event, Sink, SinkOptions, make_sink};
use crate::probe::{self, ProbeConfig, Request};
use std::io;
use std::time::Duration;

/// Passes notes and findings through, and messages only of the commands
/// asked for with `--command`.
struct CommandFilter<'s> {
    inner: &'s mut dyn Sink,
    commands: &'s [String],
}

impl Sink for CommandFilter<'_> {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()> {
        if let Event::Message { frame, .. } = event {
            let command = frame.command.as_bytes();
            if !self.commands.iter().any(|c| c.as_bytes() == command) {
                return Ok(());
            }
        }
        self.inner.event(event)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub fn run(args: ProbeArgs) -> anyhow::Result<u8> {
    let timeout = Duration::from_secs_f64(args.timeout);
    let requests = args
        .txs
        .iter()
        .map(|h| Request::Tx(*h))
        .chain(args.blocks.iter().map(|h| Request::Block(*h)))
        .collect();
    let config = match ProbeConfig::for_target(&args.target, args.network, requests, timeout) {
        Ok(c) => ProbeConfig {
            witness: !args.no_witness,
            user_agent: args.user_agent.clone(),
            record: args.write.clone(),
            full_detail: args.verbose,
            ..c
        },
        Err(reason) => {
            eprintln!("btcsniff: {reason}");
            return Ok(EXIT_ERROR);
        }
    };

    let stdout = io::stdout().lock();
    let options = SinkOptions {
        verbose: args.verbose,
        // A probe is interactive and short: every line as it happens.
        flush_each: true,
    };
    let mut sink = make_sink(args.format, stdout, options);
    let mut filter;
    let observer: &mut dyn Sink = if args.commands.is_empty() {
        sink.as_mut()
    } else {
        filter = CommandFilter {
            inner: sink.as_mut(),
            commands: &args.commands,
        };
        &mut filter
    };
    let outcome = probe::run(&config, Some(observer));
    drop(sink);
    // A closed pipe (`| head`) is not worth a word; the exit code still
    // tells the probe's result.
    if let Some(e) = outcome.output_error.as_ref()
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("btcsniff: writing output: {e}");
    }
    if let Some(reason) = outcome.failure_reason() {
        eprintln!("btcsniff: {reason}");
    }
    Ok(outcome.exit_code())
}
