//! `btcsniff probe HOST[:PORT] (--tx TXID | --block HASH)...`

use super::args::ProbeArgs;
use crate::exit_code;
use crate::output::filter::filtered;
use crate::output::{SinkOptions, make_sink};
use crate::probe::{self, ProbeConfig};
use std::io;

pub fn run(args: ProbeArgs) -> anyhow::Result<u8> {
    let config = match args.ask.config(&args.target) {
        Ok(c) => ProbeConfig {
            user_agent: args.user_agent.clone(),
            record: args.write.clone(),
            full_detail: args.verbose,
            decoys: args.decoys,
            keylog: args.keylog.clone(),
            ..c
        },
        Err(reason) => {
            eprintln!("btcsniff: {reason}");
            return Ok(exit_code::ERROR);
        }
    };

    let stdout = io::stdout().lock();
    let options = SinkOptions {
        verbose: args.verbose,
        // A probe is interactive and short: every line as it happens.
        flush_each: true,
        look: args.look.look(),
        ..SinkOptions::default()
    };
    let mut sink = filtered(make_sink(args.format, stdout, options), &args.commands);
    let outcome = probe::run(&config, Some(sink.as_mut()));
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
