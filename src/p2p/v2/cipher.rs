//! BIP324's two forward-secure ciphers, on RustCrypto's ChaCha20 and
//! ChaCha20-Poly1305 (RFC 8439, 96-bit nonce, 32-bit block counter).
//!
//! - [`LengthCipher`] (FSChaCha20) encrypts the 3-byte lengths as one
//!   continuous keystream per key: nonce = 0 (4 bytes LE) || epoch (8
//!   bytes LE). After every 224th length the next 32 keystream bytes
//!   become the key and the epoch advances (224 * 3 + 32 = 704 bytes,
//!   exactly 11 blocks, so no keystream is left over).
//! - [`PacketCipher`] (FSChaCha20Poly1305) seals each packet under nonce =
//!   packet % 224 (4 bytes LE) || packet / 224 (8 bytes LE). After every
//!   224th packet the new key is the first 32 bytes of ChaCha20 block 1
//!   under nonce 0xffffffff || epoch.
//!
//! Both count packets, so a lost packet (a gap in the capture) loses the
//! keystream position for good.

use super::keys::SECRET_LEN;
use super::{REKEY_INTERVAL, TAG_LEN};
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit};

/// A packet whose Poly1305 tag does not verify: wrong key, corrupted or
/// forged bytes. The plaintext must not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagMismatch;

/// FSChaCha20: the cipher of the packets' 3-byte length fields.
pub struct LengthCipher {
    stream: ChaCha20,
    /// Lengths en/decrypted so far.
    chunks: u64,
}

fn epoch_nonce(prefix: [u8; 4], epoch: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    let (head, tail) = nonce.split_at_mut(4);
    head.copy_from_slice(&prefix);
    tail.copy_from_slice(&epoch.to_le_bytes());
    nonce
}

impl LengthCipher {
    pub fn new(key: [u8; SECRET_LEN]) -> LengthCipher {
        LengthCipher {
            stream: ChaCha20::new(&key.into(), &epoch_nonce([0; 4], 0).into()),
            chunks: 0,
        }
    }

    /// Encrypts or decrypts (the same operation) one length field.
    pub fn crypt(&mut self, length: &mut [u8; super::LENGTH_LEN]) {
        self.stream.apply_keystream(length);
        self.chunks = self.chunks.wrapping_add(1);
        if self.chunks.is_multiple_of(REKEY_INTERVAL) {
            let mut key = [0u8; SECRET_LEN];
            self.stream.apply_keystream(&mut key);
            let nonce = epoch_nonce([0; 4], self.chunks / REKEY_INTERVAL);
            self.stream = ChaCha20::new(&key.into(), &nonce.into());
        }
    }
}

/// FSChaCha20Poly1305: the AEAD of the packets (header byte and contents).
pub struct PacketCipher {
    key: [u8; SECRET_LEN],
    aead: ChaCha20Poly1305,
    /// Packets sealed or opened so far.
    packets: u64,
}

impl PacketCipher {
    pub fn new(key: [u8; SECRET_LEN]) -> PacketCipher {
        PacketCipher {
            key,
            aead: ChaCha20Poly1305::new(&key.into()),
            packets: 0,
        }
    }

    /// Packets sealed or opened so far (the next packet's index).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    fn nonce(&self) -> [u8; 12] {
        // packet % 224 < 2^32: the cast cannot truncate.
        let index = (self.packets % REKEY_INTERVAL) as u32;
        epoch_nonce(index.to_le_bytes(), self.packets / REKEY_INTERVAL)
    }

    /// Encrypts `text` (header byte and contents) in place and returns the
    /// tag.
    pub fn encrypt(&mut self, aad: &[u8], text: &mut [u8]) -> [u8; TAG_LEN] {
        let nonce = self.nonce();
        let tag = self
            .aead
            .encrypt_inout_detached(&nonce.into(), aad, text.into())
            .map(|t| t.into())
            // Only a text beyond ChaCha20's 256 GiB per nonce fails;
            // packets carry at most 16 MB.
            .unwrap_or([0u8; TAG_LEN]);
        self.advance();
        tag
    }

    /// Checks `tag` and decrypts `text` in place. On a mismatch `text` is
    /// left as it was (still ciphertext).
    pub fn decrypt(
        &mut self,
        aad: &[u8],
        text: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), TagMismatch> {
        let nonce = self.nonce();
        let result = self
            .aead
            .decrypt_inout_detached(&nonce.into(), aad, text.into(), &(*tag).into())
            .map_err(|_| TagMismatch);
        self.advance();
        result
    }

    fn advance(&mut self) {
        let next = self.packets.wrapping_add(1);
        if next.is_multiple_of(REKEY_INTERVAL) {
            let nonce = epoch_nonce([0xff; 4], self.packets / REKEY_INTERVAL);
            let mut stream = ChaCha20::new(&self.key.into(), &nonce.into());
            // Block 1: skip the 64 bytes of block 0.
            stream.seek(64u64);
            let mut key = [0u8; SECRET_LEN];
            stream.apply_keystream(&mut key);
            self.key = key;
            self.aead = ChaCha20Poly1305::new(&key.into());
        }
        self.packets = next;
    }
}
