//! Real 2011 mainnet vectors from tests/data/mainnet-2011-ndpi.pcap
//! (streams reassembled with `tshark -z follow,tcp,raw,N`); expected
//! txids computed independently (Python hashlib).

use super::tests::{dec, h, to_json};
use super::*;
use crate::p2p::Hash256;
use crate::p2p::hash::sha256d;

/// Merkle root over txids (internal order), Bitcoin's way: an odd level
/// repeats its last hash.
fn merkle_root(mut level: Vec<[u8; 32]>) -> [u8; 32] {
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(*level.last().unwrap());
        }
        level = level
            .chunks(2)
            .map(|p| sha256d(&[p[0], p[1]].concat()))
            .collect();
    }
    level[0]
}

// Stream 1 of tests/data/mainnet-2011-ndpi.pcap (reassembled with
// `tshark -z follow,tcp,raw,1`): block 0000000000001e1a..., 10 txs.
#[test]
fn mainnet_2011_block_merkle_root_matches_txids() {
    let (m, a) = dec(
        "block",
        include_str!("vectors/mainnet-2011-block-00000000000001e1a.hex").trim(),
    );
    assert!(a.is_empty());
    let Message::Block(b) = m else { panic!() };
    assert_eq!(
        b.header.hash,
        h("0000000000001e1ad99dd421cf5a605145350c1a25f990134b52198813389d13")
    );
    assert_eq!(b.transactions.len(), 10);
    let txids = b.transactions.iter().map(|t| t.txid.0).collect();
    assert_eq!(Hash256(merkle_root(txids)), b.header.merkle_root);
    let total: usize = b.transactions.iter().map(|t| t.size).sum();
    assert_eq!(total + 81, 6466);
}

// Frame 237 of tests/data/mainnet-2011-ndpi.pcap: a whole tx message.
pub(super) const MAINNET_2011_TX: &str = "01000000023d8472188fb39b4b67013eb8cbddc90e503305804815b5cb9dcc46ec74b1e3ec000000008b48304502204018c38300ed7655cd373f3667ce4def2fff1c3c205a842e06f0f264c2b5c486022100e935eb086e988e952faad53e363236863cf78e27bde6d0d209f608927b22e7b70141042bb364949b2987bd46fff7ca74617b383faea577640738a4cbb4859528380418cc9a5a9c9947039eb565f561d92328baa01a932f981a11a59cbb08bbb0b00e1dffffffff3d8472188fb39b4b67013eb8cbddc90e503305804815b5cb9dcc46ec74b1e3ec010000008b48304502207bcca90c167881e6b72233dfbbd28a0ed07abc757d575f8878a5ad75cf723a02022100a0823e53ecc9946274c040d4931e2180db7bfb5f6c1ff89932c098eaa7ffcb46014104c754753320c163641212af8cec70aedb89e16c3e6091a1b2d69571c30db446d57db0afcc41156da5a01e32fd45b964a87c1a26213a7efb7d67c0c5d9404a6f93ffffffff0240787d01000000001976a914d578f4c0e1ebd8bc43641eb7aa888f8eee151aa988ac80969800000000001976a91439e5bc29e8023a8c1427e64f2e7fe11e05643fa188ac00000000";
/// Its txid, computed independently (Python hashlib) over the payload.
pub(super) const MAINNET_2011_TXID: &str =
    "fd75620108f9aeb35c5ff9a3d7d9b993d18ad702e682289d9d75a21649cb6da8";

#[test]
fn mainnet_2011_tx() {
    let (m, a) = dec("tx", MAINNET_2011_TX);
    assert!(a.is_empty());
    let Message::Tx(tx) = m else { panic!() };
    let txid = h(MAINNET_2011_TXID);
    assert_eq!((tx.txid, tx.wtxid, tx.segwit), (txid, Some(txid), false));
    assert_eq!((tx.size, tx.weight, tx.vsize), (438, 438 * 4, 438));
}

// tests/data/mainnet-2011-ndpi.pcap stream 1: addr with one timestamped
// entry, inv announcing the block above.
#[test]
fn mainnet_2011_addr_and_inv() {
    let (m, _) = dec(
        "addr",
        "019db0904d010000000000000000000000000000000000ffff7cc530f9208d",
    );
    let json = to_json(&m);
    assert_eq!(json["addresses"][0]["ip"], "124.197.48.249");
    assert_eq!(json["addresses"][0]["port"], 8333);
    assert_eq!(json["addresses"][0]["time"], 0x4d90_b09d);
    let (m, _) = dec(
        "inv",
        "0102000000139d38138819524b1390f9251a0c354551605acf21d49dd91a1e000000000000",
    );
    let Message::Inv(inv) = m else { panic!() };
    assert_eq!(inv.inventory.get(0).unwrap().type_name, "MSG_BLOCK");
    assert_eq!(
        inv.inventory.get(0).unwrap().hash,
        h("0000000000001e1ad99dd421cf5a605145350c1a25f990134b52198813389d13")
    );
    // The same addr from a pre-31402 peer has no timestamps: 26 bytes.
    let payload = hex::decode("01010000000000000000000000000000000000ffff7cc530f9208d").unwrap();
    let ctx = DecodeContext {
        peer_version: Some(31_400),
        full_detail: false,
        payload_hash: None,
    };
    let d = decode(&Command::new("addr"), &payload, &ctx);
    let Ok(Message::Addr(a)) = d.message else {
        panic!()
    };
    assert_eq!((a.addresses[0].time, a.addresses[0].port), (None, 8333));
}

// Stream 1 of tests/data/mainnet-2011-ndpi.pcap: a 0.3.20 `version`
// (20-byte header, no checksum): empty user agent, no relay byte.
#[test]
fn mainnet_2011_version() {
    let (m, a) = dec(
        "version",
        "017d0000010000000000000041b0904d00000000010000000000000000000000000000000000ffffbca5d5a9208d010000000000000000000000000000000000ffffc0a8018e208dd9303acf1b101e0c00fabd0100",
    );
    assert!(a.is_empty());
    let Message::Version(v) = m else { panic!() };
    assert_eq!(
        (v.version, v.services.0, v.timestamp),
        (32001, 1, 1301327937)
    );
    assert_eq!(
        v.addr_recv.ip.to_ipv4_mapped().unwrap().to_string(),
        "188.165.213.169"
    );
    assert_eq!((v.addr_from.port, v.user_agent), (8333, Some(&b""[..])));
    assert_eq!((v.start_height, v.relay), (Some(114170), None));
}

// Stream 2 of tests/data/mainnet-2011-ndpi.pcap: a tx relayed before the
// block that confirmed it (block 0000000000008ec9..., 13 txs).
#[test]
fn mainnet_2011_tx_and_its_block() {
    let (m, _) = dec(
        "tx",
        "010000000186615eb07e8fb534d1d9d9d2668fa6477e6d568509858608698b1f8809d29c86000000008b483045022100d4744d186b85f56855971712ab33e5cbadaf749d433aff51b5fe607c0e14902502202cc4b5a5fcc456ea09c738fa7fe7a15dfbb7ba359089b0b1764bfc7f9771693001410430e7c1544edeb65fcd9d0495d5e618d9c89232f848bdeb7044c6973f1149c0e13f66c3bd0b8c02018133d02571990604881e6545a3a5a7a9a2404e0fcf0d06cfffffffff02403ebc06000000001976a914c6db61662f68b2a070a68d8b8d86e88f93dd694788ac404b4c00000000001976a914e3a34a83ebc5d7e7258fc18ed0089451d3b1739388ac00000000",
    );
    let Message::Tx(tx) = m else { panic!() };
    // txid computed independently (Python hashlib).
    let txid = h("316ced2459b57539a647d511b4012303ac1eb258915196f4095e8203ad70aa18");
    assert_eq!(
        (tx.txid, tx.size, tx.inputs.len(), tx.outputs.len()),
        (txid, 258, 1, 2)
    );
    let (m, a) = dec(
        "block",
        include_str!("vectors/mainnet-2011-block-0000000000008ec9f.hex").trim(),
    );
    assert!(a.is_empty());
    let Message::Block(b) = m else { panic!() };
    assert_eq!(
        b.header.hash,
        h("0000000000008ec9fb7cf1f45831fe5ef2e71df17d96da99f65747b0044d4202")
    );
    assert_eq!(b.transactions.len(), 13);
    // The same transaction, as a summary inside the block.
    assert!(b.transactions.iter().any(|t| {
        let whole = Transaction {
            full_detail: true,
            ..t.clone()
        };
        whole == tx
    }));
    let txids = b.transactions.iter().map(|t| t.txid.0).collect();
    assert_eq!(Hash256(merkle_root(txids)), b.header.merkle_root);
}
