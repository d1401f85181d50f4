//! A standalone `tx` takes its txid (legacy) or wtxid (segwit) from the
//! payload hash the framing decoder computed for the checksum, only when
//! the transaction is the whole payload.

use super::tests::h;
use super::tests_mainnet::{MAINNET_2011_TX, MAINNET_2011_TXID};
use super::*;
use crate::p2p::frame::{Checksum, FrameDecoder, FrameEvent};
use crate::p2p::{Hash256, Network, encode};

/// BIP143's "Native P2WPKH" example, the signed transaction (one P2PK
/// input, one P2WPKH input with its witness). txid and wtxid computed
/// independently (Python hashlib: sha256d of the stripped and of the whole
/// serialisation).
const BIP143_P2WPKH: &str = "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000494830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000";
const BIP143_P2WPKH_TXID: &str = "e8151a2af31c368a35053ddd4bdb285a8595c769a3ad83e0fa02314a602d4609";
const BIP143_P2WPKH_WTXID: &str =
    "c36c38370907df2324d9ce9d149d191192f338b37665a82e78e76a12c909b762";

/// A hash no transaction here has: if it shows up as a txid or wtxid, it
/// came from the context, not from hashing.
const FORGED: Hash256 = Hash256([0x5a; 32]);

/// (payload, txid, wtxid) of one legacy and one segwit real transaction.
fn vectors() -> [(Vec<u8>, Hash256, Hash256); 2] {
    let legacy = h(MAINNET_2011_TXID);
    [
        (hex::decode(MAINNET_2011_TX).unwrap(), legacy, legacy),
        (
            hex::decode(BIP143_P2WPKH).unwrap(),
            h(BIP143_P2WPKH_TXID),
            h(BIP143_P2WPKH_WTXID),
        ),
    ]
}

fn decode_tx(payload: &[u8], payload_hash: Option<Hash256>) -> (Transaction<'_>, Vec<Anomaly>) {
    let ctx = DecodeContext {
        payload_hash,
        ..DecodeContext::default()
    };
    let d = decode(&Command::new("tx"), payload, &ctx);
    let Ok(Message::Tx(tx)) = d.message else {
        panic!("{d:?}")
    };
    (tx, d.anomalies)
}

/// Frames `payload` as a `tx` message (with a wrong checksum if asked)
/// and returns the checksum state and the hash the framing decoder kept.
fn framed(payload: &[u8], corrupt_checksum: bool) -> (Checksum, Option<Hash256>) {
    let mut bytes = encode::frame(Network::Mainnet, "tx", payload);
    if corrupt_checksum {
        bytes[20] ^= 0xff;
    }
    let mut dec = FrameDecoder::new();
    dec.push(&bytes);
    let Some(FrameEvent::Frame(frame)) = dec.next_event() else {
        panic!("a whole tx message frames")
    };
    assert_eq!(frame.payload, payload);
    (frame.checksum, frame.payload_hash)
}

#[test]
fn framed_tx_with_and_without_the_payload_hash_decodes_the_same() {
    for (payload, txid, wtxid) in vectors() {
        for corrupt in [false, true] {
            let (checksum, payload_hash) = framed(&payload, corrupt);
            assert_eq!(checksum == Checksum::Valid, !corrupt);
            // A wrong checksum in the header changes nothing: the hash is
            // the decoder's own over the payload.
            assert!(payload_hash.is_some());
            let (reused, anomalies) = decode_tx(&payload, payload_hash);
            let (hashed, _) = decode_tx(&payload, None);
            assert!(anomalies.is_empty(), "{anomalies:?}");
            assert_eq!((reused.txid, reused.wtxid), (txid, Some(wtxid)));
            assert_eq!(reused, hashed);
        }
    }
}

#[test]
fn tx_with_trailing_bytes_is_hashed_itself() {
    for (payload, txid, wtxid) in vectors() {
        let mut padded = payload.clone();
        padded.extend_from_slice(&[0x00, 0x01]);
        // The framing decoder's hash is of the padded payload: not the tx's.
        let (_, payload_hash) = framed(&padded, false);
        for known in [payload_hash, Some(FORGED)] {
            let (tx, anomalies) = decode_tx(&padded, known);
            assert_eq!((tx.txid, tx.wtxid), (txid, Some(wtxid)));
            assert_eq!(anomalies, [Anomaly::TrailingBytes { bytes: 2 }]);
        }
    }
}

#[test]
fn tx_not_at_the_start_of_the_input_is_hashed_itself() {
    for (payload, txid, wtxid) in vectors() {
        let mut input = vec![0xaa];
        input.extend_from_slice(&payload);
        let mut r = Reader::new(&input);
        r.u8("lead").unwrap();
        let tx = transaction::read_tx_payload(&mut r, Some(FORGED)).unwrap();
        assert_eq!((tx.txid, tx.wtxid), (txid, Some(wtxid)));
    }
}

/// Proves the reuse happens: a hash that is not the payload's shows up
/// where a whole-payload tx takes it (a legacy txid and wtxid, a segwit
/// wtxid); a segwit txid is always hashed (it skips the witnesses).
#[test]
fn whole_payload_tx_takes_the_given_hash() {
    let [(legacy, _, _), (segwit, segwit_txid, _)] = vectors();
    let (tx, _) = decode_tx(&legacy, Some(FORGED));
    assert!(!tx.segwit);
    assert_eq!((tx.txid, tx.wtxid), (FORGED, Some(FORGED)));
    let (tx, _) = decode_tx(&segwit, Some(FORGED));
    assert!(tx.segwit);
    assert_eq!((tx.txid, tx.wtxid), (segwit_txid, Some(FORGED)));
}
