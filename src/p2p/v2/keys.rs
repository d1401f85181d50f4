//! BIP324 key derivation: from the 32-byte ECDH shared secret and the
//! network magic to both directions' keys, terminators and the session id.
//!
//! PRK = HKDF-Extract(SHA-256, salt = "bitcoin_v2_shared_secret" || magic,
//! IKM = shared secret); each key is HKDF-Expand(PRK, name, 32). The magic
//! is not on the wire: a passive observer tries each network until the
//! garbage terminator appears.

use super::TERMINATOR_LEN;
use hkdf::Hkdf;
use sha2::Sha256;
use std::fmt;

/// Bytes of the ECDH shared secret (and of every derived key).
pub const SECRET_LEN: usize = 32;
const SALT_PREFIX: &[u8; 24] = b"bitcoin_v2_shared_secret";

/// Who opened the connection: the initiator sends first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Responder,
}

impl Role {
    pub fn other(self) -> Role {
        match self {
            Role::Initiator => Role::Responder,
            Role::Responder => Role::Initiator,
        }
    }
}

/// What one side needs to send (or the other to read) one direction.
#[derive(Clone, PartialEq, Eq)]
pub struct DirectionKeys {
    /// FSChaCha20 key of the 3-byte lengths ("initiator_L"/"responder_L").
    pub length_key: [u8; SECRET_LEN],
    /// FSChaCha20Poly1305 key of the packets ("initiator_P"/"responder_P").
    pub packet_key: [u8; SECRET_LEN],
    /// Sent after the garbage, before the first packet.
    pub terminator: [u8; TERMINATOR_LEN],
}

/// Everything derived from one shared secret on one network.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// The network magic the keys were derived with.
    pub magic: [u8; 4],
    /// What the initiator sends with.
    pub initiator: DirectionKeys,
    /// What the responder sends with.
    pub responder: DirectionKeys,
    /// Identifies the session; Core's getpeerinfo shows it as plain hex
    /// of these bytes in order (see [`SessionKeys::session_id_hex`]).
    pub session_id: [u8; SECRET_LEN],
}

impl SessionKeys {
    pub fn derive(shared_secret: &[u8; SECRET_LEN], magic: [u8; 4]) -> SessionKeys {
        let mut salt = [0u8; 28];
        let (prefix, tail) = salt.split_at_mut(SALT_PREFIX.len());
        prefix.copy_from_slice(SALT_PREFIX);
        tail.copy_from_slice(&magic);
        let hk = Hkdf::<Sha256>::new(Some(&salt), shared_secret);
        let expand = |name: &str| {
            let mut out = [0u8; SECRET_LEN];
            // 32 bytes is far below HKDF-SHA256's limit of 255 * 32.
            let ok = hk.expand(name.as_bytes(), &mut out).is_ok();
            debug_assert!(ok);
            out
        };
        let terminators = expand("garbage_terminators");
        let (first, last) = terminators.split_at(TERMINATOR_LEN);
        let mut initiator_terminator = [0u8; TERMINATOR_LEN];
        let mut responder_terminator = [0u8; TERMINATOR_LEN];
        initiator_terminator.copy_from_slice(first);
        responder_terminator.copy_from_slice(last);
        SessionKeys {
            magic,
            initiator: DirectionKeys {
                length_key: expand("initiator_L"),
                packet_key: expand("initiator_P"),
                terminator: initiator_terminator,
            },
            responder: DirectionKeys {
                length_key: expand("responder_L"),
                packet_key: expand("responder_P"),
                terminator: responder_terminator,
            },
            session_id: expand("session_id"),
        }
    }

    /// The keys of what `role` sends.
    pub fn sent_by(&self, role: Role) -> &DirectionKeys {
        match role {
            Role::Initiator => &self.initiator,
            Role::Responder => &self.responder,
        }
    }

    /// The session id as Core's `getpeerinfo` shows it (`HexStr` of the
    /// bytes, not reversed like a hash).
    pub fn session_id_hex(&self) -> String {
        crate::p2p::hash::to_hex(self.session_id)
    }
}

/// Secrets are not printed; the session id identifies the keys.
impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeys")
            .field("magic", &crate::p2p::hash::to_hex(self.magic))
            .field("session_id", &self.session_id_hex())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectionKeys")
            .field("terminator", &crate::p2p::hash::to_hex(self.terminator))
            .finish_non_exhaustive()
    }
}
