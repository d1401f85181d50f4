//! The command line: flags parsed into a resolved configuration, then one
//! `run` per subcommand. Exit codes (README, "Exit codes"): 0 success,
//! 1 input or runtime error, 2 usage, 3 probe: notfound, 4 probe: timeout.

pub mod args;
pub mod keylog_file;
pub mod live;
pub mod probe;
pub mod read;

pub use args::{Cli, Command};

use std::process::ExitCode;

/// Exit code of a run that did what was asked.
pub const EXIT_OK: u8 = 0;
/// A file could not be read, a capture could not start, a connection failed.
pub const EXIT_ERROR: u8 = 1;
/// Bad usage (clap's own code too).
pub const EXIT_USAGE: u8 = 2;

/// Whether an error is a closed output pipe (`| head`): exit quietly.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Read(args) => read::run(args),
        Command::Live(args) => live::run(args),
        Command::Interfaces => live::interfaces(),
        Command::Probe(args) => probe::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("btcsniff: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// True when stdout is a pipe or a terminal: JSON Lines and text are then
/// flushed per line so `| jq` streams; to a file or /dev/null they are
/// block-buffered (throughput).
pub fn stdout_is_interactive() -> bool {
    use std::io::IsTerminal;
    use std::os::unix::fs::FileTypeExt;
    if std::io::stdout().is_terminal() {
        return true;
    }
    std::fs::metadata("/dev/stdout")
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false)
}
