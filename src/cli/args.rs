//! Flags, with their help next to them.

use crate::analyzer::AnalyzerConfig;
use crate::flow::FlowLimits;
use crate::output::filter::filtered;
use crate::output::{Format, Sink, SinkOptions, TextLook, TimeFormat, make_sink};
use crate::p2p::message::KNOWN_COMMANDS;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod probe;
pub use probe::{LiveProbeArgs, ProbeArgs, ProbeRequestArgs, parse_hash};

const ABOUT: &str = "See the Bitcoin P2P network: decode every message of capture files or \
live interfaces, validate every checksum, print annotated text or JSON Lines.";

const READ_EXAMPLES: &str = "\
Examples:
  btcsniff read capture.pcap
  btcsniff read day1.pcapng day2.pcapng --stats
  btcsniff read capture.pcap --format json | jq -r 'select(.command==\"tx\") | .payload.txid'
  btcsniff read capture.pcap --command version,verack -v
  btcsniff read capture.pcap --port 28444
  btcsniff -r capture.pcap --time-format relative
  btcsniff read big.pcap.zst --format json --stats > big.jsonl   (progress on stderr)
  tcpdump -U -w - port 8333 | btcsniff read -
  btcsniff read ~/.bitcoin/regtest/message_capture --format json";

const REPORT_EXAMPLES: &str = "\
Examples:
  btcsniff report capture.pcap -o report.html
  btcsniff report day1.pcapng day2.pcap.gz --keylog keys.log -o day.html
  btcsniff report ~/.bitcoin/regtest/message_capture -o peers.html
  tcpdump -U -w - port 8333 | btcsniff report - -o live.html";

const LIVE_EXAMPLES: &str = "\
Examples:
  sudo btcsniff live -i eth0
  sudo btcsniff live -i eth0 -f 'tcp port 8333' --format json | jq .
  sudo btcsniff live -i any -w session.pcap --duration 60 --stats
  sudo btcsniff live -i lo --count 10 --command version,verack
  sudo btcsniff live -i lo --probe 127.0.0.1:18444 --network regtest --tx TXID";

#[derive(Debug, Parser)]
#[command(name = "btcsniff", version, about = ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read capture files (pcap, pcapng) or Bitcoin Core's message
    /// capture, and print every Bitcoin message.
    #[command(after_help = READ_EXAMPLES)]
    Read(ReadArgs),
    /// Capture live on interfaces with libpcap and print every Bitcoin
    /// message as it arrives.
    #[command(after_help = LIVE_EXAMPLES)]
    Live(LiveArgs),
    /// List the interfaces live capture can use (like tcpdump -D).
    Interfaces,
    /// Write one self-contained HTML page of capture files (the inputs
    /// of `read`): overview, message rate, flow timeline, peers, commands,
    /// findings.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Connect to a node, ask for transactions or blocks with getdata,
    /// verify what comes back, and show the whole session.
    #[command(after_help = PROBE_EXAMPLES)]
    Probe(ProbeArgs),
}

const PROBE_EXAMPLES: &str = "\
Examples:
  btcsniff probe 127.0.0.1:18444 --network regtest --tx TXID
  btcsniff probe node.example --block 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f
  btcsniff probe [::1]:18444 --network regtest --tx TXID1 --tx TXID2 --format json -w probe.pcap
  btcsniff probe 127.0.0.1:18444 --network regtest --tx TXID --transport v2 --keylog keys.log -w probe.pcap

Exit codes: 0 every object arrived and verified; 1 connection or handshake
failure, or an answer that does not verify; 2 usage; 3 the peer answered
notfound; 4 no answer within the timeout (nodes serve transactions only from
their mempool). When several apply: 1, then 4, then 3.";

/// `--network` values: the five known names.
pub fn parse_network(s: &str) -> Result<crate::p2p::Network, String> {
    crate::p2p::Network::from_name(s)
        .ok_or_else(|| format!("'{s}' is not one of mainnet, testnet3, testnet4, signet, regtest"))
}

/// `--command` values: a command btcsniff decodes, in any case, with
/// spaces around it tolerated (`--command "inv, tx"`).
pub fn parse_command(s: &str) -> Result<String, String> {
    let name = s.trim().to_ascii_lowercase();
    if KNOWN_COMMANDS.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(format!(
            "'{}' is not a command btcsniff decodes; one of: {}",
            s.trim(),
            KNOWN_COMMANDS.join(", ")
        ))
    }
}

/// `--max-flows` values: at least one flow.
pub fn parse_max_flows(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("'0': at least 1 flow must be tracked".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("'{s}': {e}")),
    }
}

/// `--timeout` values: seconds, above 0, at most a day.
pub fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => Ok(t),
        _ => Err(format!(
            "'{s}': the timeout is a number of seconds, more than 0 and at most 86400"
        )),
    }
}

#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Interface to capture on (repeatable; `any` for all).
    #[arg(short = 'i', long = "interface", value_name = "IFACE", required = true)]
    pub interfaces: Vec<String>,
    /// BPF capture filter, libpcap syntax.
    #[arg(
        short = 'f',
        long = "filter",
        value_name = "EXPR",
        default_value = "tcp"
    )]
    pub filter: String,
    /// Bytes captured per packet.
    #[arg(long, value_name = "BYTES", default_value_t = 65535)]
    pub snaplen: i32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Kernel capture buffer per interface, in KiB (as tcpdump's -B). The
    /// default holds several 4 MB blocks arriving at once.
    #[arg(
        short = 'B',
        long = "buffer-size",
        value_name = "KIB",
        default_value_t = crate::capture::live::DEFAULT_BUFFER_KIB,
        value_parser = clap::value_parser!(u32).range(1..=4_194_304)
    )]
    pub buffer_kib: u32,
    /// Also write the captured packets to this pcap file.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics (off unless
    /// given; a bare port listens on loopback only).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_metrics_addr)]
    pub metrics: Option<std::net::SocketAddr>,
    /// With --metrics: the first-announcer figures name this many peers
    /// (those most often first), the others count together as "(other)".
    #[arg(long, value_name = "N", default_value_t = 10, requires = "metrics")]
    pub metrics_peers: usize,
    /// Analyse flows on this many worker threads (default: the available
    /// cores; 1: one thread); `--stats` shows each worker's share.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub probe: LiveProbeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// What `read` and `report` read.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Capture files (pcap or pcapng, also gzip- or zstd-compressed), read
    /// in order as one capture; `-` is standard input. Or Bitcoin Core's
    /// message capture (-capturemessages): a datadir, a message_capture
    /// folder, a peer's folder, or msgs_recv.dat / msgs_sent.dat files,
    /// merged in time order and read after the capture files.
    #[arg(value_name = "FILE", required_unless_present = "read_files")]
    pub files: Vec<PathBuf>,
    /// A capture file, as tcpdump's -r (repeatable; read before the FILE
    /// arguments). `btcsniff -r FILE` is `btcsniff read FILE`.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read_files: Vec<PathBuf>,
    /// BPF capture filter, libpcap syntax (as tcpdump -r FILE EXPR).
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    pub filter: Option<String>,
    /// The network of Core message capture records (they carry no magic);
    /// default: inferred from the datadir's folder names or the peers'
    /// ports, else unknown.
    #[arg(long, value_name = "NAME", value_parser = parse_network)]
    pub network: Option<crate::p2p::Network>,
}

impl InputArgs {
    /// Every input in the order read: `-r` files, then the others.
    pub fn inputs(&self) -> impl Iterator<Item = &PathBuf> {
        self.read_files.iter().chain(&self.files)
    }
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Analyse flows on this many worker threads (default: the available
    /// cores); the output is the same as with 1, which reads in a single
    /// thread. One reading thread parses packets and reassembles streams;
    /// flows are shared among the workers by client address and server.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

impl ReadArgs {
    /// Every input in the order read: `-r` files, then the others.
    pub fn inputs(&self) -> impl Iterator<Item = &PathBuf> {
        self.input.inputs()
    }
}

/// `btcsniff report FILE... -o report.html`
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The HTML file to write (`-`: standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Quiet: no progress bar or status lines on stderr (errors and
    /// warnings are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// `--color`: when text output is coloured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (to anything but "") or
    /// TERM is dumb.
    #[default]
    Auto,
    /// Always, even into a pipe (e.g. for `less -R`), NO_COLOR or not.
    Always,
    Never,
}

/// How text looks: colour and the time column.
#[derive(Debug, Clone, Args)]
pub struct LookArgs {
    /// Colour text output: command names by family; bad checksums, decode
    /// errors and findings stand out. On a terminal (or with always) lines
    /// are also laid out in aligned columns, UTC times marked with Z.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    /// The time column of text output: utc (date and time), unix
    /// (seconds), relative (seconds since the first line, tshark -t r),
    /// delta (since the previous line, tshark -t dd). JSON keeps "ts".
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "utc")]
    pub time_format: TimeFormat,
}

impl LookArgs {
    /// What text output looks like, given where stdout goes and NO_COLOR.
    pub fn look(&self) -> TextLook {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        TextLook {
            colour: match self.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => tty && !no_color,
            },
            terminal: tty || self.color == ColorChoice::Always,
            time: self.time_format,
        }
    }
}

/// How events are shown.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format: annotated text, or JSON Lines (one object per line).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Show the full decoded field tree below each message (text); in
    /// JSON, the transactions inside block, cmpctblock and blocktxn whole
    /// (inputs, outputs, witnesses, wtxid) instead of summaries. -vv: also
    /// every payload's bytes in hex (text: a `raw` line; JSON: "raw").
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Quiet: no progress bar or status lines on stderr (errors and
    /// warnings are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Show only messages of these commands (comma-separated, repeatable),
    /// e.g. inv,tx; findings are still shown, flow records are not.
    #[arg(long = "command", value_name = "CMD", value_delimiter = ',', value_parser = parse_command)]
    pub commands: Vec<String>,
    #[command(flatten)]
    pub look: LookArgs,
    /// End with a summary: per command, per flow, anomalies.
    #[arg(long)]
    pub stats: bool,
    /// Stop after this many messages shown.
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,
}

/// How traffic is found and bounded.
#[derive(Debug, Clone, Args)]
pub struct AnalysisArgs {
    /// Treat this TCP port as Bitcoin too (repeatable): a flow on it that
    /// is not v1 is reported as BIP324 v2. Default ports: 8333, 18333,
    /// 48333, 38333, 18444.
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
    /// Most TCP flows tracked at once (at least 1); the least recently
    /// active is evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = FlowLimits::default().max_flows, value_parser = parse_max_flows)]
    pub max_flows: usize,
    /// Most out-of-order bytes buffered per flow direction; beyond it the
    /// missing bytes are reported as a gap. Without the other side's ACKs
    /// in the capture, at most 256 KiB of it are used. 0 keeps no
    /// out-of-order byte (any reordering loses data).
    #[arg(long, value_name = "BYTES", default_value_t = FlowLimits::default().max_buffered_per_direction)]
    pub max_buffer: usize,
    /// Seconds of capture time a hole in a TCP stream may stay open once
    /// data behind it was seen (a retransmission may still fill it); then
    /// it is reported as a gap and the data after it is decoded. A hole the
    /// other side acknowledged is a gap at once.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::flow::reassembly::DEFAULT_GAP_TIMEOUT.as_secs_f64(), value_parser = parse_gap_timeout)]
    pub gap_timeout: f64,
    /// Seconds of capture time after which an idle flow is ended; 0: never
    /// (flows end by FIN, RST, eviction or the end of the input).
    #[arg(long, value_name = "SECONDS", default_value_t = FlowLimits::default().idle_timeout_secs)]
    pub idle_timeout: u64,
    /// Decrypt BIP324 v2 sessions whose keys this file holds, one line per
    /// session: `BIP324 <initiator's 64-byte key, hex> <shared secret,
    /// hex>` (`#` comments; other lines ignored). `live` reads it again
    /// as it grows.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Also try this network magic (8 hex digits, wire order, e.g. a custom
    /// signet's) when deriving v2 keys; repeatable. The five known networks
    /// are always tried.
    #[arg(long = "magic", value_name = "HEX", value_parser = parse_magic)]
    pub magics: Vec<[u8; 4]>,
}

/// `--magic` values: 4 bytes in hex, as they appear on the wire.
pub fn parse_magic(s: &str) -> Result<[u8; 4], String> {
    let mut magic = [0u8; 4];
    hex::decode_to_slice(s.trim_start_matches("0x"), &mut magic)
        .map_err(|_| format!("'{s}' is not 8 hex digits (a network magic in wire order)"))?;
    Ok(magic)
}

impl OutputArgs {
    pub fn sink_options(&self, flush_each: bool) -> SinkOptions {
        SinkOptions {
            verbose: self.verbose >= 1,
            raw: self.verbose >= 2,
            flush_each,
            held: false,
            look: self.look.look(),
        }
    }

    /// The sink of a parallel pipeline's worker, writing to `out`: as
    /// [`OutputArgs::sink`], its output taken whole by the worker.
    pub fn worker_sink<'w, W: std::io::Write + 'w>(&self, out: W) -> Box<dyn Sink + 'w> {
        let options = SinkOptions {
            held: true,
            ..self.sink_options(false)
        };
        filtered(make_sink(self.format, out, options), &self.commands)
    }

    /// The sink these flags ask for, writing to `out`: the format, and
    /// `--command`'s filter in front of it.
    pub fn sink<'w, W: std::io::Write + 'w>(&self, out: W, flush_each: bool) -> Box<dyn Sink + 'w> {
        let sink = make_sink(self.format, out, self.sink_options(flush_each));
        filtered(sink, &self.commands)
    }
}

impl AnalysisArgs {
    pub fn config(&self, output: &OutputArgs) -> AnalyzerConfig {
        AnalyzerConfig {
            commands: (!output.commands.is_empty()).then(|| output.commands.clone()),
            verbose: output.verbose >= 1,
            max_messages: output.count,
            announce: output.stats,
            ..self.config_all()
        }
    }

    /// The configuration that shows every message (`report`).
    pub fn config_all(&self) -> AnalyzerConfig {
        AnalyzerConfig {
            limits: FlowLimits {
                max_flows: self.max_flows,
                max_buffered_per_direction: self.max_buffer,
                gap_timeout: std::time::Duration::from_secs_f64(self.gap_timeout),
                // 0: never; plus_secs saturates, so no flow is ever idle.
                idle_timeout_secs: match self.idle_timeout {
                    0 => u64::MAX,
                    secs => secs,
                },
            },
            extra_ports: self.ports.clone(),
            commands: None,
            verbose: false,
            max_messages: None,
            v2: crate::analyzer::v2::V2Options {
                extra_magics: self.magics.clone(),
                wait_for_keys: false,
            },
            // The report does not show it.
            announce: false,
            announce_board: None,
        }
    }
}

/// `--gap-timeout`: seconds, fractions allowed, from 0 to one day.
fn parse_gap_timeout(s: &str) -> Result<f64, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("not a number of seconds: {s}"))?;
    if (0.0..=86_400.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!("{s}: must be between 0 and 86400 seconds"))
    }
}

/// `--metrics`: `HOST:PORT`, or a bare `PORT` on 127.0.0.1 (loopback
/// unless told otherwise).
fn parse_metrics_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse()
        .map_err(|_| format!("{s:?}: expected HOST:PORT (e.g. 127.0.0.1:9333) or a port"))
}
