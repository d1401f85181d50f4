//! The probe's flags: `btcsniff probe`, and the same requests for
//! `live --probe`.

use super::{LookArgs, parse_command, parse_network, parse_timeout};
use crate::output::Format;
use clap::Args;
use std::path::PathBuf;

/// `btcsniff probe HOST[:PORT] (--tx TXID | --block HASH)...`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("requests").required(true).multiple(true).args(["txs", "blocks"])))]
pub struct ProbeArgs {
    /// The node: IPv4, IPv6 ([::1]:18444 or ::1) or a name, with an
    /// optional port (default: the network's).
    #[arg(value_name = "HOST[:PORT]")]
    pub target: crate::probe::Target,
    #[command(flatten)]
    pub ask: ProbeRequestArgs,
    /// User agent announced in our version message.
    #[arg(long, value_name = "UA", default_value_t = crate::probe::default_user_agent())]
    pub user_agent: String,
    /// Record the session as a pcap file (synthesized IP/TCP packets
    /// carrying exactly the bytes sent and received: encrypted for v2).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// v2: append the session's secret to this key log (`BIP324 <our key>
    /// <shared secret>`), for `read --keylog FILE` of a -w recording.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// v2: send N decoy packets (random contents) before our transport
    /// version packet, to exercise the peer.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub decoys: u32,
    /// Output format: annotated text, or JSON Lines (one object per line).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Show the full decoded field tree below each message (text); in
    /// JSON, the transactions inside a block whole instead of summaries.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub look: LookArgs,
    /// Show only these commands (comma-separated, repeatable); notes are
    /// always shown.
    #[arg(long = "command", value_name = "CMD", value_delimiter = ',', value_parser = parse_command)]
    pub commands: Vec<String>,
}

/// `--tx` / `--block` values: 64 hex digits in display order.
pub fn parse_hash(s: &str) -> Result<crate::p2p::Hash256, String> {
    crate::p2p::Hash256::from_display_hex(s).ok_or_else(|| format!("'{s}' is not 64 hex digits"))
}

/// `live --probe`: run the probe alongside the capture.
#[derive(Debug, Clone, Args)]
pub struct LiveProbeArgs {
    /// Probe this node while capturing: the capture shows the probe's own
    /// session, the probe's result is printed at the end, and the capture
    /// stops a second after the probe ends (unless --duration is given).
    #[arg(long = "probe", value_name = "HOST[:PORT]")]
    pub target: Option<crate::probe::Target>,
    #[command(flatten)]
    pub ask: ProbeRequestArgs,
}

/// What a probe asks for and how (`probe`, and `live --probe`).
#[derive(Debug, Clone, Args)]
pub struct ProbeRequestArgs {
    /// Ask for this transaction (txid, display hex; repeatable).
    #[arg(long = "tx", value_name = "TXID", value_parser = parse_hash, requires = "target")]
    pub txs: Vec<crate::p2p::Hash256>,
    /// Ask for this block (hash, display hex; repeatable).
    #[arg(long = "block", value_name = "HASH", value_parser = parse_hash, requires = "target")]
    pub blocks: Vec<crate::p2p::Hash256>,
    /// Network: message magic and default port.
    #[arg(long, value_name = "NAME", default_value = "mainnet", value_parser = parse_network)]
    pub network: crate::p2p::Network,
    /// Bound on the whole probe (connect, handshake, answers), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Ask with MSG_TX / MSG_BLOCK instead of the witness types (for peers
    /// that predate segwit).
    #[arg(long, requires = "target")]
    pub no_witness: bool,
    /// Transport: BIP324 v2, plaintext v1, or v2 first and v1 when the
    /// node refuses v2 (closes right after our key or answers in v1), as
    /// Bitcoin Core does. A live capture decrypts the probe's own v2
    /// session with its key.
    #[arg(long, value_enum, value_name = "WHICH", default_value = "auto")]
    pub transport: crate::probe::TransportChoice,
}

impl ProbeRequestArgs {
    /// The requests, transactions first, in the order given.
    pub fn requests(&self) -> Vec<crate::probe::Request> {
        use crate::probe::Request;
        self.txs
            .iter()
            .map(|h| Request::Tx(*h))
            .chain(self.blocks.iter().map(|h| Request::Block(*h)))
            .collect()
    }

    /// A probe of `target` with these requests (its name resolved within
    /// the timeout); the error is a one-line reason.
    pub fn config(
        &self,
        target: &crate::probe::Target,
    ) -> Result<crate::probe::ProbeConfig, String> {
        let timeout = std::time::Duration::from_secs_f64(self.timeout);
        let config =
            crate::probe::ProbeConfig::for_target(target, self.network, self.requests(), timeout)?;
        Ok(crate::probe::ProbeConfig {
            witness: !self.no_witness,
            transport: self.transport,
            ..config
        })
    }
}
