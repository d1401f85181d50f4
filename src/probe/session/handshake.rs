//! The P2P handshake as the probe plays it (version, wtxidrelay,
//! sendaddrv2, verack), then getdata: the same over v1 and v2.
//!
//! ```text
//! AwaitingVersion { verack } --peer's version, our verack--> AwaitingVerack
//!        (verack: the peer's came first)    \--if verack--> Complete
//! AwaitingVerack --peer's verack--> Complete --getdata sent--> Requesting
//! ```

use super::{MAX_GETDATA_ITEMS, Session, announces_relay};
use crate::capture::Timestamp;
use crate::p2p::encode::{self, VersionParams};
use crate::p2p::message::{Message, Version};
use crate::probe::failure::{Failure, HandshakeStage};
use crate::probe::{
    BIP0031_VERSION, MIN_PEER_PROTO_VERSION, PROTOCOL_VERSION, WTXID_RELAY_VERSION,
};
use std::net::SocketAddr;

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handshake {
    /// Our version is out, the peer's has not come (its verack may have:
    /// remembered in `verack`).
    AwaitingVersion { verack: bool },
    /// The peer's version came and our verack went out.
    AwaitingVerack,
    /// Both veracks: getdata is next.
    Complete,
    /// getdata went out: answers are awaited.
    Requesting,
}

impl Handshake {
    pub(super) fn stage(self) -> HandshakeStage {
        match self {
            Handshake::AwaitingVersion { .. } => HandshakeStage::NoVersion,
            Handshake::AwaitingVerack => HandshakeStage::VersionNoVerack,
            Handshake::Complete | Handshake::Requesting => HandshakeStage::VerackReceived,
        }
    }

    /// The peer's verack arrived.
    fn verack(self) -> Handshake {
        match self {
            Handshake::AwaitingVersion { .. } => Handshake::AwaitingVersion { verack: true },
            Handshake::AwaitingVerack => Handshake::Complete,
            done => done,
        }
    }

    /// The peer's version arrived and our verack went out.
    fn version_answered(self) -> Handshake {
        match self {
            Handshake::AwaitingVersion { verack: true } => Handshake::Complete,
            Handshake::AwaitingVersion { verack: false } => Handshake::AwaitingVerack,
            later => later,
        }
    }
}

impl Session<'_, '_> {
    pub(super) fn getdata_sent(&self) -> bool {
        self.handshake == Handshake::Requesting
    }

    pub(super) fn on_message(&mut self, message: &Message<'_>, payload: &[u8]) {
        match message {
            Message::Version(v) => self.on_version(v),
            Message::Verack => {
                self.handshake = self.handshake.verack();
                self.maybe_getdata();
            }
            Message::Ping(ping) => {
                // Before BIP31 a ping has no nonce and wants no pong.
                if let Some(nonce) = ping.nonce {
                    self.send("pong", &encode::pong(nonce));
                }
            }
            Message::Tx(tx) => self.on_tx(tx),
            Message::Block(block) => self.on_block(block, payload),
            Message::NotFound(inv) => self.on_notfound(inv),
            // sendcmpct, feefilter, sendheaders, wtxidrelay, sendaddrv2,
            // sendtxrcncl, getheaders, getaddr, inv, addr...: a peer may
            // send them; the probe needs none of them.
            _ => {}
        }
    }

    pub(super) fn on_version(&mut self, v: &Version<'_>) {
        if self.peer_version.is_some() {
            self.observer
                .note("ignored a second version message from the peer");
            return;
        }
        self.peer_version = Some(v.version);
        self.peer_summary = format!(
            "version {}, user agent {}, height {}",
            v.version,
            v.user_agent
                .map(|ua| String::from_utf8_lossy(ua).into_owned())
                .unwrap_or_else(|| "(none)".into()),
            v.start_height
                .map(|h| h.to_string())
                .unwrap_or_else(|| "(none)".into())
        );
        if v.version < MIN_PEER_PROTO_VERSION {
            self.fail(Failure::VersionTooOld {
                version: v.version,
                minimum: MIN_PEER_PROTO_VERSION,
            });
            return;
        }
        if v.nonce == Some(self.nonce) {
            self.fail(Failure::SelfConnection);
            return;
        }
        // BIP339 / BIP155: announced between version and verack, only to
        // peers that know them.
        if v.version >= WTXID_RELAY_VERSION {
            self.send("wtxidrelay", &encode::wtxidrelay());
            self.send("sendaddrv2", &encode::sendaddrv2());
        }
        self.send("verack", &encode::verack());
        if self.failure.is_none() {
            self.handshake = self.handshake.version_answered();
        }
        if v.version < BIP0031_VERSION {
            self.observer
                .note("the peer predates BIP31: its pings carry no nonce and get no pong");
        }
        self.maybe_getdata();
    }

    pub(super) fn maybe_getdata(&mut self) {
        if self.handshake != Handshake::Complete || self.failure.is_some() {
            return;
        }
        let summary = format!("handshake complete: peer {}", self.peer_summary);
        self.observer.note(&summary);
        let items: Vec<_> = self
            .config
            .requests
            .iter()
            .map(|r| (r.inv_type(self.config.witness), *r.hash()))
            .collect();
        for chunk in items.chunks(MAX_GETDATA_ITEMS) {
            self.send("getdata", &encode::getdata(chunk));
        }
        if self.failure.is_none() {
            self.handshake = Handshake::Requesting;
        }
    }

    pub(super) fn send_version(&mut self) {
        let unspecified = match self.local {
            SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
            SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
        };
        let params = VersionParams {
            version: PROTOCOL_VERSION,
            services: 0,
            timestamp: Timestamp::now().secs,
            receiver: (0, self.remote),
            // Like Core, do not tell the peer our own address.
            sender: (0, unspecified),
            nonce: self.nonce,
            user_agent: self.config.user_agent.clone(),
            start_height: 0,
            relay: announces_relay(&self.config.requests),
        };
        self.send("version", &encode::version(&params));
    }
}
