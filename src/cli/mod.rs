//! The command line: flags parsed into a resolved configuration, then one
//! `run` per subcommand. Exit codes: [`crate::exit_code`].

pub mod args;
pub mod keylog_file;
pub mod live;
pub mod probe;
pub mod progress;
pub mod read;
pub mod report;

pub use args::{Cli, Command};

use crate::exit_code;
use std::ffi::OsString;
use std::process::ExitCode;

/// Whether an error is a closed output pipe (`| head`): exit quietly.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// tcpdump's habit of reading a file without a subcommand: when the
/// command line starts with flags and one of them is `-r FILE`, it is
/// `btcsniff read` (`btcsniff -r f.pcap --stats` = `btcsniff read -r
/// f.pcap --stats`); `-i IFACE` is `btcsniff live`, and `-D` alone is
/// `btcsniff interfaces`. Anything else is left to clap.
pub fn implied_subcommand(mut args: Vec<OsString>) -> Vec<OsString> {
    // tcpdump -D: list the interfaces.
    if args.len() == 2
        && args
            .get(1)
            .is_some_and(|a| a == "-D" || a == "--list-interfaces")
    {
        args.truncate(1);
        args.push(OsString::from("interfaces"));
        return args;
    }
    let starts_with_a_flag = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|a| a.starts_with('-') && !matches!(a, "-h" | "--help" | "-V" | "--version"));
    if starts_with_a_flag && args.iter().skip(1).any(is_read_flag) {
        args.insert(1, OsString::from("read"));
    } else if starts_with_a_flag
        && args.iter().skip(1).any(|a| {
            a == "-i"
                || a == "--interface"
                || a.to_str().is_some_and(|a| a.starts_with("--interface="))
        })
    {
        // tcpdump -i IFACE: a live capture.
        args.insert(1, OsString::from("live"));
    }
    args
}

/// `-r`, `-rFILE`, `--read`, `--read=FILE`, or short flags ending in r
/// (`-qr FILE`).
fn is_read_flag(arg: &OsString) -> bool {
    let Some(arg) = arg.to_str() else {
        return false;
    };
    if arg == "--read" || arg.starts_with("--read=") {
        return true;
    }
    match arg.strip_prefix('-') {
        Some(short) if !short.starts_with('-') => {
            let flags = short.trim_start_matches(['q', 'v']);
            flags.starts_with('r')
        }
        _ => false,
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Read(args) => read::run(args),
        Command::Live(args) => live::run(args),
        Command::Interfaces => live::interfaces(),
        Command::Probe(args) => probe::run(args),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit_code::OK),
        Err(e) => {
            eprintln!("btcsniff: {e:#}");
            ExitCode::from(exit_code::ERROR)
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
