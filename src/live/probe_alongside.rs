//! `live --probe`: the probe in a thread of its own, without a sink (the
//! capture shows its packets); the keys of its v2 sessions come back over
//! a channel so the capture decrypts them.

use crate::p2p::v2::KeyLogEntry;
use crate::probe::{ProbeConfig, ProbeOutcome, TransportChoice};
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

/// The keys of the probe's v2 sessions, as it makes them.
pub(super) type ProbeKeys = Receiver<KeyLogEntry>;

/// A probe running next to the capture.
pub(super) struct ProbeAlongside {
    thread: JoinHandle<ProbeOutcome>,
    pub(super) keys: ProbeKeys,
    transport: TransportChoice,
}

impl ProbeAlongside {
    /// Starts the probe (call it once the capture is open: its packets
    /// will all be seen).
    pub(super) fn start(config: ProbeConfig) -> ProbeAlongside {
        let (key_tx, keys) = std::sync::mpsc::channel();
        let transport = config.transport;
        let config = ProbeConfig {
            key_channel: Some(key_tx),
            ..config
        };
        let thread = std::thread::spawn(move || crate::probe::run(&config, None));
        ProbeAlongside {
            thread,
            keys,
            transport,
        }
    }

    /// Whether the probe may speak v2 (then its key is worth waiting for).
    pub(super) fn may_speak_v2(&self) -> bool {
        self.transport != TransportChoice::V1
    }

    pub(super) fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// The probe's outcome (None if its thread panicked).
    pub(super) fn join(self) -> Option<ProbeOutcome> {
        self.thread.join().ok()
    }
}

/// Hands the probe's session keys (if any arrived) to the analyzer's key
/// log, as lines of the key-log format. Called before every packet: the
/// key is sent before the probe's first encrypted packet.
pub(super) fn take_keys(keys: Option<&ProbeKeys>, analyzer: &mut impl crate::analyzer::Pipeline) {
    let Some(keys) = keys else { return };
    // At most a few sessions per probe; bounded anyway.
    for entry in keys.try_iter().take(16) {
        analyzer.append_keylog(entry.to_line().as_bytes());
    }
}
