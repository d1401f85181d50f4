use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    btcsniff::cli::run(btcsniff::cli::Cli::parse())
}
