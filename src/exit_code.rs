//! Exit codes (README, "Exit codes"), defined once for every subcommand.
//!
//! When several apply to one run (a probe, or a live capture with a probe
//! alongside), [`ERROR`] wins, then [`TIMEOUT`], then [`NOTFOUND`].

/// The run did what was asked (a probe: every object arrived and verified).
pub const OK: u8 = 0;
/// A file could not be read, a capture could not start or ended on an
/// error; a probe's connection or handshake failed, or an answer did not
/// verify.
pub const ERROR: u8 = 1;
/// Bad usage (clap's own code too).
pub const USAGE: u8 = 2;
/// Probe: the peer answered `notfound` for at least one request.
pub const NOTFOUND: u8 = 3;
/// Probe: at least one request got no answer within the timeout.
pub const TIMEOUT: u8 = 4;
/// `read` stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report
/// it), after showing what was read.
pub const INTERRUPTED: u8 = 130;
