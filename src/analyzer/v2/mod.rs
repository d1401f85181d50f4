//! BIP324 v2 flows: decryption from a key log, and what the wire shows
//! without one (README, "BIP324 v2 sessions").
//!
//! A flow classified v2 gets a [`V2Flow`]. Each direction's first 64 bytes
//! are its sender's ElligatorSwift key; with a key log, the initiator's key
//! (the client's, the SYN is required) finds the session's shared secret,
//! the keys of every candidate network are derived, and each direction's
//! [`PacketDecoder`] finds the network by its garbage terminator. The
//! handler turns the decoders' events into the same message records as v1.
//!
//! Memory: a decoder with keys holds at most one packet (<= 4 MB, as v1);
//! live, a flow waiting for its key holds at most
//! [`MAX_BUFFERED_WITHOUT_KEYS`](crate::p2p::v2::decoder::MAX_BUFFERED_WITHOUT_KEYS) per direction, and at most
//! [`MAX_WAITING_FLOWS`] flows wait at once.

pub mod fallback;

pub use fallback::{FALLBACK_WINDOW_MS, FallbackTracker};

use crate::analyzer::Finding;
use crate::analyzer::event::{PerDirection, PerDirectionOpt, V2Summary};
use crate::p2p::Network;
use crate::p2p::v2::keys::SECRET_LEN;
use crate::p2p::v2::{
    Candidate, ELLSWIFT_KEY_LEN, KeyLog, PacketDecoder, Role, SessionKeys, V2Event,
};

/// How v2 flows are handled (from the command line).
#[derive(Debug, Clone, Default)]
pub struct V2Options {
    /// Network magics to try besides the five known ones (`--magic`).
    pub extra_magics: Vec<[u8; 4]>,
    /// Live capture: a session's key may be logged after it started, so
    /// its bytes are held (bounded) until the key log has it.
    pub wait_for_keys: bool,
}

/// What every v2 flow shares: the key log and the candidate magics.
#[derive(Debug, Default)]
pub struct V2Context {
    keylog: Option<KeyLog>,
    magics: Vec<[u8; 4]>,
    wait_for_keys: bool,
    /// Bumped whenever the key log gains keys: flows waiting for theirs
    /// look again.
    generation: u64,
    /// Flows holding bytes while they wait for their key.
    waiting: usize,
    pub fallback: FallbackTracker,
}

impl V2Context {
    pub fn new(options: &V2Options) -> V2Context {
        let mut magics: Vec<[u8; 4]> = Network::KNOWN.iter().map(|n| n.magic()).collect();
        for m in &options.extra_magics {
            if !magics.contains(m) {
                magics.push(*m);
            }
        }
        V2Context {
            keylog: None,
            magics,
            wait_for_keys: options.wait_for_keys,
            generation: 0,
            waiting: 0,
            fallback: FallbackTracker::default(),
        }
    }

    /// Sets the key log: v2 flows are decrypted from now on.
    pub fn set_keylog(&mut self, keylog: KeyLog) {
        self.keylog = Some(keylog);
        self.generation = self.generation.wrapping_add(1);
    }

    /// The key log, to add what a growing file appended; call
    /// [`V2Context::keylog_grew`] afterwards.
    pub fn keylog_mut(&mut self) -> Option<&mut KeyLog> {
        self.keylog.as_mut()
    }

    /// Whether flows hold bytes waiting for their key.
    pub fn keys_awaited(&self) -> bool {
        self.waiting > 0
    }

    pub fn keylog_grew(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    fn candidates(&self, secret: &[u8; SECRET_LEN], sender: Role) -> Vec<Candidate> {
        self.magics
            .iter()
            .map(|&magic| Candidate {
                magic,
                keys: SessionKeys::derive(secret, magic).sent_by(sender).clone(),
            })
            .collect()
    }
}

/// Where decryption of a flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decryption {
    NoKeyLog,
    /// The handshake is not in the capture.
    NoHandshake,
    /// The initiator's key is not complete yet.
    Pending,
    /// Not in the key log yet (live): looked up again when it grows.
    Waiting {
        generation: u64,
    },
    NoKey,
    Keys,
}

/// Most flows holding bytes while waiting for their key at once (live):
/// with [`MAX_BUFFERED_WITHOUT_KEYS`](crate::p2p::v2::decoder::MAX_BUFFERED_WITHOUT_KEYS) per direction, at most 128 MiB. A
/// flow beyond it is reported without key at once (`v2_no_key`).
pub const MAX_WAITING_FLOWS: usize = 256;

/// Client-to-server (the initiator's) is direction 0.
const INITIATOR: usize = 0;

#[derive(Default)]
struct V2Dir {
    /// The sender's ElligatorSwift key, as far as captured.
    key: Vec<u8>,
    /// Bytes of the key were never captured.
    key_broken: bool,
    decoder: Option<PacketDecoder>,
}

impl V2Dir {
    fn key_complete(&self) -> bool {
        self.key.len() == ELLSWIFT_KEY_LEN && !self.key_broken
    }
}

pub struct V2Flow {
    dirs: [V2Dir; 2],
    syn_seen: bool,
    decryption: Decryption,
    secret: Option<[u8; SECRET_LEN]>,
    session: Option<(Network, [u8; SECRET_LEN])>,
}

fn role_of(dir: usize) -> Role {
    if dir == INITIATOR {
        Role::Initiator
    } else {
        Role::Responder
    }
}

impl V2Flow {
    /// A flow just classified v2; a finding when a key log is given but
    /// the handshake cannot be in the capture.
    pub fn new(syn_seen: bool, ctx: &V2Context) -> (V2Flow, Option<Finding>) {
        let (decryption, finding) = match (&ctx.keylog, syn_seen) {
            (None, _) => (Decryption::NoKeyLog, None),
            (Some(_), true) => (Decryption::Pending, None),
            (Some(_), false) => (
                Decryption::NoHandshake,
                Some(Finding::V2NoHandshake {
                    detail: "joined mid-stream: the keys exchanged at the start were not captured",
                }),
            ),
        };
        let flow = V2Flow {
            dirs: Default::default(),
            syn_seen,
            decryption,
            secret: None,
            session: None,
        };
        (flow, finding)
    }

    fn decrypting(&self) -> bool {
        matches!(
            self.decryption,
            Decryption::Pending | Decryption::Waiting { .. } | Decryption::Keys
        )
    }

    /// Reassembled bytes of direction `dir` (0: client to server).
    pub fn data(&mut self, dir: usize, mut bytes: &[u8], ctx: &mut V2Context) -> Option<Finding> {
        let mut finding = None;
        if let Some(d) = self.dirs.get_mut(dir)
            && d.key.len() < ELLSWIFT_KEY_LEN
        {
            let take = (ELLSWIFT_KEY_LEN - d.key.len()).min(bytes.len());
            let (head, rest) = bytes.split_at(take);
            d.key.extend_from_slice(head);
            bytes = rest;
            if d.key_complete() {
                finding = self.key_complete(dir, ctx);
            }
        }
        if let Decryption::Waiting { generation } = self.decryption
            && generation != ctx.generation
        {
            finding = finding.or(self.look_up(ctx));
        }
        if let Some(decoder) = self.dirs.get_mut(dir).and_then(|d| d.decoder.as_mut()) {
            decoder.push(bytes);
        }
        finding
    }

    /// A direction's key is complete: its decoder starts; the initiator's
    /// key is looked up.
    fn key_complete(&mut self, dir: usize, ctx: &mut V2Context) -> Option<Finding> {
        if !self.decrypting() {
            return None;
        }
        let mut decoder = PacketDecoder::new(ELLSWIFT_KEY_LEN as u64);
        if let Some(secret) = &self.secret {
            decoder.set_candidates(ctx.candidates(secret, role_of(dir)));
        }
        if let Some(d) = self.dirs.get_mut(dir) {
            d.decoder = Some(decoder);
        }
        if dir == INITIATOR {
            return self.look_up(ctx);
        }
        None
    }

    /// Changes the state, keeping count of the flows waiting for keys.
    fn set_decryption(&mut self, next: Decryption, ctx: &mut V2Context) {
        let was = matches!(self.decryption, Decryption::Waiting { .. });
        let is = matches!(next, Decryption::Waiting { .. });
        match (was, is) {
            (false, true) => ctx.waiting += 1,
            (true, false) => ctx.waiting = ctx.waiting.saturating_sub(1),
            _ => {}
        }
        self.decryption = next;
    }

    fn look_up(&mut self, ctx: &mut V2Context) -> Option<Finding> {
        let log = ctx.keylog.as_ref()?;
        let key: &[u8; ELLSWIFT_KEY_LEN] =
            self.dirs.get(INITIATOR)?.key.as_slice().try_into().ok()?;
        match log.get(key).copied() {
            Some(secret) => {
                self.secret = Some(secret);
                self.set_decryption(Decryption::Keys, ctx);
                for (i, d) in self.dirs.iter_mut().enumerate() {
                    if let Some(decoder) = d.decoder.as_mut() {
                        decoder.set_candidates(ctx.candidates(&secret, role_of(i)));
                    }
                }
                None
            }
            None if ctx.wait_for_keys
                && (matches!(self.decryption, Decryption::Waiting { .. })
                    || ctx.waiting < MAX_WAITING_FLOWS) =>
            {
                let generation = ctx.generation;
                self.set_decryption(Decryption::Waiting { generation }, ctx);
                None
            }
            None => Some(self.no_key(ctx)),
        }
    }

    fn no_key(&mut self, ctx: &mut V2Context) -> Finding {
        self.set_decryption(Decryption::NoKey, ctx);
        for d in &mut self.dirs {
            d.decoder = None;
        }
        let key = self
            .dirs
            .get(INITIATOR)
            .map(|d| d.key.as_slice())
            .unwrap_or(&[]);
        Finding::V2NoKey {
            initiator_key: crate::p2p::hash::to_hex(key),
        }
    }

    /// Bytes of direction `dir` never captured.
    pub fn gap(&mut self, dir: usize, bytes: u64, ctx: &mut V2Context) -> Option<Finding> {
        let decrypting = self.decrypting();
        let d = self.dirs.get_mut(dir)?;
        if d.key.len() < ELLSWIFT_KEY_LEN {
            d.key_broken = true;
            if dir == INITIATOR && decrypting {
                self.set_decryption(Decryption::NoHandshake, ctx);
                for d in &mut self.dirs {
                    d.decoder = None;
                }
                return Some(Finding::V2NoHandshake {
                    detail: "bytes of the initiator's key were not captured",
                });
            }
            // The responder's key is not needed to decrypt.
            d.key.resize(ELLSWIFT_KEY_LEN, 0);
            return None;
        }
        if let Some(decoder) = d.decoder.as_mut() {
            decoder.gap(bytes);
        }
        None
    }

    /// The flow ended: a key still awaited is looked up a last time, and
    /// the decoders report what they hold (drain them afterwards).
    pub fn finish(&mut self, ctx: &mut V2Context) -> Option<Finding> {
        let mut finding = None;
        if let Decryption::Waiting { .. } = self.decryption {
            finding = self.look_up(ctx);
            if let Decryption::Waiting { .. } = self.decryption {
                finding = Some(self.no_key(ctx));
            }
        }
        for d in &mut self.dirs {
            if let Some(decoder) = d.decoder.as_mut() {
                decoder.finish();
            }
        }
        finding
    }

    /// The next event of direction `dir`'s decoder.
    pub fn next_event(&mut self, dir: usize) -> Option<V2Event<'_>> {
        self.dirs.get_mut(dir)?.decoder.as_mut()?.next_event()
    }

    /// A garbage terminator was found with `magic`: the first one fixes the
    /// session's network and id. Returns them when this is the first.
    pub fn terminator(&mut self, magic: [u8; 4]) -> Option<(Network, String)> {
        if self.session.is_some() {
            return None;
        }
        let keys = SessionKeys::derive(self.secret.as_ref()?, magic);
        let network = Network::from_magic(magic);
        self.session = Some((network, keys.session_id));
        Some((network, keys.session_id_hex()))
    }

    /// The v2 facts for a flow record.
    pub fn summary(&self) -> V2Summary {
        let [c, s] = &self.dirs;
        let handshake = match (self.syn_seen, c.key_complete(), s.key_complete()) {
            (true, true, true) => "captured",
            (true, true, false) => "partial",
            _ => "not_captured",
        };
        let decoders = [c.decoder.as_ref(), s.decoder.as_ref()];
        let stopped = decoders.iter().flatten().any(|d| d.stopped_at().is_some());
        let decryption = match self.decryption {
            Decryption::NoKeyLog => "no_keylog",
            Decryption::NoHandshake => "no_handshake",
            Decryption::Pending => "pending",
            Decryption::Waiting { .. } => "waiting",
            Decryption::NoKey => "no_key",
            Decryption::Keys if self.session.is_none() && stopped => "no_terminator",
            Decryption::Keys if stopped => "stopped",
            Decryption::Keys if self.session.is_none() => "pending",
            Decryption::Keys => "decrypted",
        };
        let per = |f: &dyn Fn(&PacketDecoder) -> u64| PerDirection {
            c2s: decoders[0].map_or(0, f),
            s2c: decoders[1].map_or(0, f),
        };
        V2Summary {
            handshake,
            decryption,
            session_id: self.session.map(|(_, id)| crate::p2p::hash::to_hex(id)),
            garbage: PerDirectionOpt {
                c2s: decoders[0].and_then(|d| d.garbage_len()).map(|n| n as u64),
                s2c: decoders[1].and_then(|d| d.garbage_len()).map(|n| n as u64),
            },
            decoys: per(&|d| d.decoys()),
            packets_decrypted: per(&|d| d.packets()),
            undecrypted_bytes: per(&|d| d.ignored_bytes()),
        }
    }

    /// Whether any direction is being decrypted (the network is known).
    pub fn network(&self) -> Option<Network> {
        self.session.map(|(n, _)| n)
    }
}
