//! TCP flows carrying Bitcoin conversations. Each flow opens with a
//! three-way handshake and version/verack, then runs a small script of
//! exchanges (inv -> getdata -> tx/block, ping -> pong, addr) until its byte
//! budget is spent, and closes with FIN/FIN/ACK. Flows take turns
//! (round robin), so their packets interleave in the capture.

use crate::pcap_out::{ACK, Endpoint, FIN, MSS, PSH, PcapOut, SYN, Segment};
use crate::pool::{Command, MsgId, Pool};
use crate::rng::Rng;
use std::io::{self, Write};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Blocks,
    Inv,
}

/// Direction index: the side that opened the connection sends on 0.
const C2S: usize = 0;
const S2C: usize = 1;

#[derive(Default)]
pub struct Stats {
    pub messages: u64,
    pub by_command: [u64; Command::ALL.len()],
    pub payload_bytes: u64,
    pub txid_bytes: u64,
    pub txids: u64,
}

/// Shared generation state: the pool, the output, the clock and counters.
pub struct Ctx<'a, W: Write> {
    pub pool: &'a Pool,
    pub out: PcapOut<W>,
    pub rng: Rng,
    pub workload: Workload,
    pub clock_us: u64,
    pub stats: Stats,
    seg_buf: [u8; MSS],
}

impl<'a, W: Write> Ctx<'a, W> {
    pub fn new(pool: &'a Pool, out: PcapOut<W>, rng: Rng, workload: Workload) -> Self {
        Ctx {
            pool,
            out,
            rng,
            workload,
            // 2024-11-19 07:06:40 UTC
            clock_us: 1_732_000_000_000_000,
            stats: Stats::default(),
            seg_buf: [0; MSS],
        }
    }
}

/// Messages one side sends back to back; they are packed into segments
/// together, so small ones share a segment and large ones span many.
#[derive(Clone, Copy)]
struct Step {
    dir: usize,
    msgs: [MsgId; 4],
    n: usize,
    /// Position of the next byte to send: message index and offset.
    idx: usize,
    off: usize,
}

/// What the conversation owes next.
#[derive(Clone, Copy)]
enum Next {
    Idle,
    ServerVersion,
    ClientVerack,
    GetdataTx { dir: usize },
    Txs { dir: usize, group: usize },
    GetdataBlock { dir: usize, block: usize },
    Block { dir: usize, block: usize },
    Pong { dir: usize, ping: usize },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Open,
    Closing,
    Done,
}

pub struct Flow {
    ends: [Endpoint; 2],
    /// Next sequence number each direction sends (and the other acks).
    seq: [u32; 2],
    ip_id: [u16; 2],
    state: State,
    step: Option<Step>,
    next: Next,
    budget: u64,
    written: u64,
    /// Data segments received and not yet acknowledged.
    unacked: u32,
}

const LOCAL_MAC: [u8; 6] = [0x02, 0x42, 0xac, 0x11, 0x00, 0x02];
const GATEWAY_MAC: [u8; 6] = [0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x10];
const LOCAL_IP: [u8; 4] = [192, 168, 1, 10];

impl Flow {
    /// Flow `index` between the capturing node and one peer; a quarter of
    /// them are inbound (the peer connected to our port 8333).
    pub fn new(rng: &mut Rng, index: usize, budget: u64) -> Flow {
        let remote_ip = rng.public_ipv4();
        let ephemeral = 32_768 + ((index as u64 * 7_919 + rng.range(0, 50)) % 28_000) as u16;
        let local = Endpoint {
            mac: LOCAL_MAC,
            ip: LOCAL_IP,
            port: ephemeral,
            ttl: 64,
            window: 64_240,
        };
        let remote = Endpoint {
            mac: GATEWAY_MAC,
            ip: remote_ip,
            port: 8333,
            ttl: rng.range(40, 60) as u8,
            window: 65_160,
        };
        let ends = if rng.chance(25) {
            [
                Endpoint {
                    port: ephemeral,
                    ..remote
                },
                Endpoint {
                    port: 8333,
                    ..local
                },
            ]
        } else {
            [local, remote]
        };
        Flow {
            ends,
            seq: [rng.next_u32(), rng.next_u32()],
            ip_id: [rng.next_u32() as u16, rng.next_u32() as u16],
            state: State::Connecting,
            step: None,
            next: Next::Idle,
            budget,
            written: 0,
            unacked: 0,
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn send<W: Write>(
        &mut self,
        ctx: &mut Ctx<W>,
        dir: usize,
        flags: u8,
        payload_len: usize,
        dt_us: u64,
    ) -> io::Result<()> {
        ctx.clock_us += dt_us.max(1);
        let seg = Segment {
            ts_us: ctx.clock_us,
            src: &self.ends[dir],
            dst: &self.ends[1 - dir],
            ip_id: self.ip_id[dir],
            seq: self.seq[dir],
            ack: self.seq[1 - dir],
            flags,
            payload: &ctx.seg_buf[..payload_len],
        };
        self.written += ctx.out.write(&seg)?;
        self.ip_id[dir] = self.ip_id[dir].wrapping_add(1);
        let consumed = payload_len as u32 + u32::from(flags & (SYN | FIN) != 0);
        self.seq[dir] = self.seq[dir].wrapping_add(consumed);
        Ok(())
    }

    fn pure_ack<W: Write>(&mut self, ctx: &mut Ctx<W>, dir: usize) -> io::Result<()> {
        let dt = ctx.rng.range(1, 8);
        self.send(ctx, dir, ACK, 0, dt)
    }

    /// One turn: a handshake, the close, or up to a window of data segments
    /// (ending early when a step completes).
    pub fn turn<W: Write>(&mut self, ctx: &mut Ctx<W>) -> io::Result<()> {
        match self.state {
            State::Connecting => {
                // One clock serves all flows, so a real round trip (tens of
                // ms) would stall every other flow: keep the gaps short.
                let rtt = ctx.rng.range(100, 600);
                self.send(ctx, C2S, SYN, 0, 100)?;
                self.send(ctx, S2C, SYN | ACK, 0, rtt / 2)?;
                self.send(ctx, C2S, ACK, 0, rtt / 2)?;
                self.state = State::Open;
                let version = ctx.pool.version_client;
                self.step = Some(self.start_step(ctx, C2S, &[version]));
                self.next = Next::ServerVersion;
            }
            State::Open => self.send_data(ctx)?,
            State::Closing => {
                let first = if ctx.rng.chance(50) { C2S } else { S2C };
                self.send(ctx, first, FIN | ACK, 0, 50)?;
                self.send(ctx, 1 - first, FIN | ACK, 0, 200)?;
                self.send(ctx, first, ACK, 0, 200)?;
                self.state = State::Done;
            }
            State::Done => {}
        }
        Ok(())
    }

    fn send_data<W: Write>(&mut self, ctx: &mut Ctx<W>) -> io::Result<()> {
        let window = match ctx.workload {
            Workload::Blocks => ctx.rng.range(4, 44),
            Workload::Inv => 64,
        };
        for _ in 0..window {
            let Some(mut step) = self.step else {
                self.state = State::Closing;
                return Ok(());
            };
            let len = self.fill_segment(ctx, &mut step);
            let finished = step.idx == step.n;
            let flags = if finished { ACK | PSH } else { ACK };
            let dt = match ctx.workload {
                Workload::Blocks => ctx.rng.range(6, 14),
                Workload::Inv => ctx.rng.range(3, 40),
            };
            self.send(ctx, step.dir, flags, len, dt)?;
            // Delayed ACK: the receiver acknowledges every second segment.
            self.unacked += 1;
            if self.unacked == 2 {
                self.pure_ack(ctx, 1 - step.dir)?;
                self.unacked = 0;
            }
            if !finished {
                self.step = Some(step);
                continue;
            }
            self.step = self.next_step(ctx);
            // A reply from the receiver carries the ACK; otherwise it is
            // sent on its own.
            let replies = matches!(self.step, Some(s) if s.dir != step.dir);
            if self.unacked > 0 && !replies {
                self.pure_ack(ctx, 1 - step.dir)?;
            }
            self.unacked = 0;
            if self.step.is_none() {
                self.state = State::Closing;
            }
            return Ok(());
        }
        Ok(())
    }

    /// Copies up to MSS bytes of the step's stream into the segment buffer.
    fn fill_segment<W: Write>(&self, ctx: &mut Ctx<W>, step: &mut Step) -> usize {
        let mut len = 0;
        while len < MSS && step.idx < step.n {
            let bytes = &ctx.pool.msgs[step.msgs[step.idx] as usize].bytes;
            let take = (bytes.len() - step.off).min(MSS - len);
            ctx.seg_buf[len..len + take].copy_from_slice(&bytes[step.off..step.off + take]);
            len += take;
            step.off += take;
            if step.off == bytes.len() {
                step.idx += 1;
                step.off = 0;
            }
        }
        len
    }

    fn start_step<W: Write>(&self, ctx: &mut Ctx<W>, dir: usize, msgs: &[MsgId]) -> Step {
        let mut step = Step {
            dir,
            msgs: [0; 4],
            n: msgs.len(),
            idx: 0,
            off: 0,
        };
        step.msgs[..msgs.len()].copy_from_slice(msgs);
        for &id in msgs {
            let msg = &ctx.pool.msgs[id as usize];
            ctx.stats.messages += 1;
            ctx.stats.by_command[msg.command as usize] += 1;
            ctx.stats.payload_bytes += msg.payload_len();
            ctx.stats.txid_bytes += msg.txid_bytes;
            ctx.stats.txids += msg.txids;
        }
        step
    }

    fn next_step<W: Write>(&mut self, ctx: &mut Ctx<W>) -> Option<Step> {
        let pool = ctx.pool;
        let next = std::mem::replace(&mut self.next, Next::Idle);
        let step = match next {
            Next::ServerVersion => {
                self.next = Next::ClientVerack;
                self.start_step(ctx, S2C, &[pool.version_server, pool.verack])
            }
            Next::ClientVerack => self.start_step(ctx, C2S, &[pool.verack]),
            Next::GetdataTx { dir } => {
                let group = ctx.rng.range_usize(0, pool.getdata_tx.len() - 1);
                self.next = Next::Txs {
                    dir: 1 - dir,
                    group,
                };
                self.start_step(ctx, dir, &[pool.getdata_tx[group]])
            }
            Next::Txs { dir, group } => self.start_step(ctx, dir, &pool.tx_groups[group]),
            Next::GetdataBlock { dir, block } => {
                self.next = Next::Block {
                    dir: 1 - dir,
                    block,
                };
                self.start_step(ctx, dir, &[pool.getdata_block[block]])
            }
            Next::Block { dir, block } => self.start_step(ctx, dir, &[pool.blocks[block]]),
            Next::Pong { dir, ping } => self.start_step(ctx, dir, &[pool.pongs[ping]]),
            Next::Idle => {
                if self.written >= self.budget {
                    return None;
                }
                match ctx.workload {
                    Workload::Blocks => self.blocks_exchange(ctx),
                    Workload::Inv => self.relay_exchange(ctx),
                }
            }
        };
        Some(step)
    }

    fn ping<W: Write>(&mut self, ctx: &mut Ctx<W>, dir: usize) -> Step {
        let ping = ctx.rng.range_usize(0, ctx.pool.pings.len() - 1);
        self.next = Next::Pong { dir: 1 - dir, ping };
        let pool = ctx.pool;
        self.start_step(ctx, dir, &[pool.pings[ping]])
    }

    /// Transaction relay: an announcement, usually answered by a getdata.
    fn announce<W: Write>(&mut self, ctx: &mut Ctx<W>, dir: usize) -> Step {
        let pool = ctx.pool;
        let mut invs = [0; 3];
        for inv in invs.iter_mut() {
            *inv = *ctx.rng.pick(&pool.inv_tx);
        }
        let count = if ctx.rng.chance(80) {
            1
        } else {
            ctx.rng.range_usize(2, 3)
        };
        if ctx.rng.chance(60) {
            self.next = Next::GetdataTx { dir: 1 - dir };
        }
        self.start_step(ctx, dir, &invs[..count])
    }

    /// Block traffic: a block announcement fetched with getdata, between
    /// transaction relay and pings.
    fn blocks_exchange<W: Write>(&mut self, ctx: &mut Ctx<W>) -> Step {
        let dir = if ctx.rng.chance(50) { C2S } else { S2C };
        match ctx.rng.range(0, 99) {
            0..=34 => {
                let block = ctx.rng.range_usize(0, ctx.pool.blocks.len() - 1);
                self.next = Next::GetdataBlock {
                    dir: 1 - dir,
                    block,
                };
                let pool = ctx.pool;
                self.start_step(ctx, dir, &[pool.inv_block[block]])
            }
            35..=79 => self.announce(ctx, dir),
            _ => self.ping(ctx, dir),
        }
    }

    /// Relay chatter: invs, getdata + own invs in one burst, pings, addr.
    fn relay_exchange<W: Write>(&mut self, ctx: &mut Ctx<W>) -> Step {
        let pool = ctx.pool;
        let dir = if ctx.rng.chance(50) { C2S } else { S2C };
        match ctx.rng.range(0, 99) {
            0..=59 => self.announce(ctx, dir),
            60..=79 => {
                let group = ctx.rng.range_usize(0, pool.getdata_tx.len() - 1);
                let inv = *ctx.rng.pick(&pool.inv_tx);
                self.next = Next::Txs {
                    dir: 1 - dir,
                    group,
                };
                self.start_step(ctx, dir, &[pool.getdata_tx[group], inv])
            }
            80..=91 => self.ping(ctx, dir),
            _ => {
                let addr = *ctx.rng.pick(&pool.addrs);
                self.start_step(ctx, dir, &[addr])
            }
        }
    }
}
