//! `btcsniff report FILE... -o report.html`: the inputs of `read`, through
//! the same analyzer, into the report's aggregation; then one HTML page.

use super::args::ReportArgs;
use crate::output::report::{Aggregator, html};
use anyhow::Context;
use std::io::Write;

pub fn run(args: ReportArgs) -> anyhow::Result<u8> {
    // The output file is made first: a path that cannot be written fails
    // before a long read, not after it.
    let to_stdout = args.output.as_os_str() == "-";
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        let file = std::fs::File::create(&args.output)
            .with_context(|| format!("creating {}", args.output.display()))?;
        Box::new(file)
    };
    let mut aggregator = Aggregator::new();
    let outcome = super::read::analyze(
        &args.input,
        &args.analysis,
        args.analysis.config_all(),
        args.quiet,
        &mut aggregator,
    )?;
    aggregator.set_stats(outcome.stats.clone());
    let report = aggregator.finish(command_line());
    let mut out = std::io::BufWriter::new(&mut out);
    html::render(&report, &mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("writing {}", args.output.display()))?;
    drop(out);
    if !args.quiet && !to_stdout {
        eprintln!(
            "btcsniff: wrote {} ({} messages, {} flows drawn)",
            args.output.display(),
            report.overview.messages,
            report.lanes.len()
        );
    }
    Ok(outcome.exit_code())
}

/// The command line as typed (shown in the report), each argument quoted
/// for a POSIX shell when it needs it.
fn command_line() -> String {
    let args = std::env::args_os().skip(1).map(|a| {
        let a = a.to_string_lossy().into_owned();
        let plain = !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
        if plain {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    });
    // The program by its name, not where it lives.
    std::iter::once("btcsniff".to_string())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}
