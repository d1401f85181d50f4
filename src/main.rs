use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = btcsniff::cli::implied_subcommand(std::env::args_os().collect());
    btcsniff::cli::run(btcsniff::cli::Cli::parse_from(args))
}
