//! Capture generator for the throughput benchmark: writes a classic pcap of
//! realistic Bitcoin mainnet v1 traffic over well-formed Ethernet/IPv4/TCP.
//!
//! ```text
//! cargo run --release --example gencap -- --workload blocks|inv \
//!     --megabytes N --out FILE.pcap [--seed S]
//! ```
//!
//! `blocks`: 4 flows of full blocks (1-1.45 MB, thousands of mixed legacy
//! and segwit transactions) between relay chatter. `inv`: 200 flows of small
//! messages (inv, getdata, tx, ping/pong, addr), round-robin interleaved.
//!
//! Every message comes from a pool built once and checked with rust-bitcoin
//! before anything is written. A JSON summary goes to stderr and to
//! FILE.pcap.json: `payload_bytes` (what checksum verification hashes) and
//! `txid_bytes` (non-witness serializations of every tx in tx and block
//! messages) bound the hashing work of a dissector.

mod flows;
mod oracle;
mod pcap_out;
mod pool;
mod rng;
mod txgen;

use clap::{Parser, ValueEnum};
use flows::{Ctx, Flow, Workload};
use pcap_out::PcapOut;
use pool::Command;
use rng::Rng;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, ValueEnum)]
enum WorkloadArg {
    /// A few flows of full blocks, with inv/getdata/tx/ping/pong between.
    Blocks,
    /// About 200 flows of small messages: message-rate heavy.
    Inv,
}

#[derive(Parser)]
#[command(about = "Generate a pcap of synthetic Bitcoin mainnet P2P traffic")]
struct Args {
    #[arg(long, value_enum)]
    workload: WorkloadArg,
    /// Approximate size of the capture file, in MB (10^6 bytes).
    #[arg(long)]
    megabytes: u64,
    /// Output pcap; the summary goes to the same path plus ".json".
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of flows, instead of the workload's own (4 for blocks, 200
    /// for inv); e.g. 1 for a capture no flow-sharded reader can split.
    #[arg(long)]
    flows: Option<usize>,
}

/// Distinct blocks in the pool for the `blocks` workload.
const POOL_BLOCKS: usize = 8;
const BLOCK_FLOWS: usize = 4;
const INV_FLOWS: usize = 200;
const WRITE_BUFFER: usize = 8 << 20;

fn run(args: &Args) -> Result<serde_json::Value, String> {
    let started = Instant::now();
    let (workload, flow_count, block_count) = match args.workload {
        WorkloadArg::Blocks => (Workload::Blocks, BLOCK_FLOWS, POOL_BLOCKS),
        WorkloadArg::Inv => (Workload::Inv, INV_FLOWS, 0),
    };
    let mut rng = Rng::new(args.seed);
    let pool = pool::build(&mut rng, block_count);
    oracle::check(&pool)?;
    let pool_time = started.elapsed();
    if !pool.blocks.is_empty() {
        let sizes: Vec<String> = pool
            .blocks
            .iter()
            .zip(&pool.block_tx_counts)
            .map(|(&id, txs)| format!("{} B/{txs} tx", pool.msgs[id as usize].payload_len()))
            .collect();
        eprintln!("gencap: pool blocks: {}", sizes.join(", "));
    }
    let relay_tx_bytes: u64 = pool
        .txs
        .iter()
        .map(|&id| pool.msgs[id as usize].payload_len())
        .sum();
    eprintln!(
        "gencap: pool: {} relay txs of {} bytes on average, {} invs, {} getdata, {} ping/pong, {} addr",
        pool.txs.len(),
        relay_tx_bytes / pool.txs.len() as u64,
        pool.inv_tx.len(),
        pool.getdata_tx.len(),
        pool.pings.len(),
        pool.addrs.len()
    );

    let file = File::create(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let write_err = |e: std::io::Error| format!("writing {}: {e}", args.out.display());
    let out = PcapOut::new(BufWriter::with_capacity(WRITE_BUFFER, file)).map_err(write_err)?;
    let flow_count = args.flows.unwrap_or(flow_count).max(1);
    let budget = (args.megabytes * 1_000_000 / flow_count as u64).max(1);
    let mut flows: Vec<Flow> = (0..flow_count)
        .map(|i| Flow::new(&mut rng, i, budget))
        .collect();
    let mut ctx = Ctx::new(&pool, out, rng, workload);
    while flows.iter().any(|f| !f.is_done()) {
        for flow in flows.iter_mut().filter(|f| !f.is_done()) {
            flow.turn(&mut ctx).map_err(write_err)?;
        }
    }
    let (bytes, packets) = (ctx.out.bytes, ctx.out.packets);
    ctx.out.finish().map_err(write_err)?;

    let by_command: BTreeMap<&str, u64> = Command::ALL
        .iter()
        .map(|c| (c.name(), ctx.stats.by_command[*c as usize]))
        .filter(|(_, n)| *n > 0)
        .collect();
    let summary = serde_json::json!({
        "workload": match workload { Workload::Blocks => "blocks", Workload::Inv => "inv" },
        "seed": args.seed,
        "bytes": bytes,
        "packets": packets,
        "flows": flow_count,
        "messages": ctx.stats.messages,
        "messages_by_command": by_command,
        "payload_bytes": ctx.stats.payload_bytes,
        "txid_bytes": ctx.stats.txid_bytes,
        "txids": ctx.stats.txids,
        "hash_bytes": ctx.stats.payload_bytes + ctx.stats.txid_bytes,
    });
    let total = started.elapsed();
    eprintln!(
        "gencap: pool built and checked in {:.2}s, capture written in {:.2}s ({:.0} MB/s)",
        pool_time.as_secs_f64(),
        (total - pool_time).as_secs_f64(),
        bytes as f64 / 1e6 / (total - pool_time).as_secs_f64()
    );
    Ok(summary)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(summary) => {
            let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
            eprintln!("{text}");
            let mut sidecar = args.out.clone().into_os_string();
            sidecar.push(".json");
            if let Err(e) = std::fs::write(&sidecar, text + "\n") {
                eprintln!(
                    "gencap: cannot write {}: {e}",
                    PathBuf::from(sidecar).display()
                );
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gencap: {e}");
            ExitCode::FAILURE
        }
    }
}
