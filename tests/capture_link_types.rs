//! parse_tcp over every supported link type, IPv4 and IPv6, and the reasons
//! it gives for packets it skips.

mod support;

use support::packets;

use btcsniff::capture::LinkType;
use btcsniff::net::{Layer, Skip, TcpFlags, parse_tcp};
use packets::*;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

const PAYLOAD: &[u8] = b"\xf9\xbe\xb4\xd9version\0\0\0\0\0";
const V4_SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const V4_DST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
const V6_SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const V6_DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

fn segment_bytes() -> Vec<u8> {
    tcp(50123, 8333, 0xfffffff0, 77, PSH | ACK, PAYLOAD)
}

fn v4() -> Vec<u8> {
    ipv4(V4_SRC, V4_DST, &segment_bytes())
}

fn v6_ext() -> Vec<u8> {
    ipv6(V6_SRC, V6_DST, true, &segment_bytes())
}

fn check(link: LinkType, frame: &[u8], src: SocketAddr, dst: SocketAddr) {
    let seg = parse_tcp(link, frame).unwrap_or_else(|e| panic!("{link}: {e}"));
    assert_eq!(seg.src, src, "{link}");
    assert_eq!(seg.dst, dst, "{link}");
    assert_eq!(seg.seq, 0xfffffff0);
    assert_eq!(seg.ack, 77);
    assert_eq!(
        seg.flags,
        TcpFlags {
            psh: true,
            ack: true,
            ..TcpFlags::default()
        }
    );
    assert_eq!(seg.window, 65535);
    assert_eq!(seg.payload, PAYLOAD, "{link}");
}

fn v4_addrs() -> (SocketAddr, SocketAddr) {
    (
        SocketAddr::new(V4_SRC.into(), 50123),
        SocketAddr::new(V4_DST.into(), 8333),
    )
}

fn v6_addrs() -> (SocketAddr, SocketAddr) {
    (
        SocketAddr::new(V6_SRC.into(), 50123),
        SocketAddr::new(V6_DST.into(), 8333),
    )
}

#[test]
fn ethernet_plain_vlan_and_qinq() {
    let (s4, d4) = v4_addrs();
    let (s6, d6) = v6_addrs();
    for tags in [
        &[][..],
        &[0x8100],
        &[0x88a8, 0x8100],
        &[0x9100, 0x8100, 0x8100],
    ] {
        check(LinkType::ETHERNET, &ethernet(tags, 0x0800, &v4()), s4, d4);
        check(
            LinkType::ETHERNET,
            &ethernet(tags, 0x86dd, &v6_ext()),
            s6,
            d6,
        );
    }
}

#[test]
fn ethernet_padding_is_trimmed_by_ip_length() {
    // A 1-byte payload makes a 55-byte frame, padded to the 60-byte minimum.
    let one = ipv4(V4_SRC, V4_DST, &tcp(1, 2, 3, 4, ACK, b"x"));
    let mut frame = ethernet(&[], 0x0800, &one);
    frame.resize(60, 0xee);
    assert_eq!(
        parse_tcp(LinkType::ETHERNET, &frame).map(|s| s.payload),
        Ok(&b"x"[..])
    );
    // The same for IPv6 (payload length field).
    let mut frame6 = ethernet(
        &[],
        0x86dd,
        &ipv6(V6_SRC, V6_DST, false, &tcp(1, 2, 3, 4, ACK, b"")),
    );
    frame6.extend_from_slice(&[0xee; 6]);
    assert_eq!(
        parse_tcp(LinkType::ETHERNET, &frame6).map(|s| s.payload),
        Ok(&b""[..])
    );
}

#[test]
fn linux_cooked_v1_and_v2() {
    let (s4, d4) = v4_addrs();
    let (s6, d6) = v6_addrs();
    check(LinkType::LINUX_SLL, &sll(0x0800, &v4()), s4, d4);
    check(LinkType::LINUX_SLL, &sll(0x86dd, &v6_ext()), s6, d6);
    check(LinkType::LINUX_SLL2, &sll2(0x0800, &v4()), s4, d4);
    check(LinkType::LINUX_SLL2, &sll2(0x86dd, &v6_ext()), s6, d6);
}

#[test]
fn bsd_null_in_both_byte_orders_and_loop() {
    let (s4, d4) = v4_addrs();
    let (s6, d6) = v6_addrs();
    check(LinkType::NULL, &family(2u32.to_le_bytes(), &v4()), s4, d4);
    check(LinkType::NULL, &family(2u32.to_be_bytes(), &v4()), s4, d4);
    for af6 in [24u32, 28, 30] {
        check(
            LinkType::NULL,
            &family(af6.to_le_bytes(), &v6_ext()),
            s6,
            d6,
        );
        check(
            LinkType::LOOP,
            &family(af6.to_be_bytes(), &v6_ext()),
            s6,
            d6,
        );
    }
    check(LinkType::LOOP, &family(2u32.to_be_bytes(), &v4()), s4, d4);
    assert_eq!(
        parse_tcp(LinkType::NULL, &family(7u32.to_le_bytes(), &v4())),
        Err(Skip::NotIpFamily {
            family: 7u32.swap_bytes()
        })
    );
}

#[test]
fn raw_ip_link_types() {
    let (s4, d4) = v4_addrs();
    let (s6, d6) = v6_addrs();
    for link in [LinkType::RAW, LinkType::RAW_BSD] {
        check(link, &v4(), s4, d4);
        check(link, &v6_ext(), s6, d6);
    }
    check(LinkType::IPV4, &v4(), s4, d4);
    check(LinkType::IPV6, &v6_ext(), s6, d6);
    assert_eq!(
        parse_tcp(LinkType::IPV4, &v6_ext()),
        Err(Skip::IpVersionMismatch)
    );
}

#[test]
fn skip_reasons() {
    let seg = segment_bytes();
    assert_eq!(
        parse_tcp(LinkType(147), &v4()),
        Err(Skip::UnsupportedLinkType(147))
    );
    assert_eq!(
        parse_tcp(LinkType::ETHERNET, &ethernet(&[], 0x0806, &[0; 28])),
        Err(Skip::NotIp { ethertype: 0x0806 })
    );
    let udp = ipv4_proto(V4_SRC, V4_DST, 17, 0, &[0; 8]);
    assert_eq!(
        parse_tcp(LinkType::RAW, &udp),
        Err(Skip::NotTcp { protocol: 17 })
    );
    // More-fragments set; then a later fragment (offset 8 words).
    let first = ipv4_proto(V4_SRC, V4_DST, 6, 0x2000, &seg);
    assert_eq!(parse_tcp(LinkType::RAW, &first), Err(Skip::Fragment));
    let later = ipv4_proto(V4_SRC, V4_DST, 6, 0x0008, &seg);
    assert_eq!(parse_tcp(LinkType::RAW, &later), Err(Skip::Fragment));
    // Cut by a snap length: IP total length larger than the bytes captured.
    let full = v4();
    assert_eq!(
        parse_tcp(LinkType::RAW, &full[..full.len() - 3]),
        Err(Skip::Truncated(Layer::Ip))
    );
    assert_eq!(
        parse_tcp(LinkType::ETHERNET, &ethernet(&[0x8100], 0x0800, &[])[..15]),
        Err(Skip::Truncated(Layer::Link))
    );
    // TCP header shorter than 20 bytes inside a consistent IP packet.
    let short = ipv4(V4_SRC, V4_DST, &seg[..12]);
    assert_eq!(
        parse_tcp(LinkType::RAW, &short),
        Err(Skip::Truncated(Layer::Tcp))
    );
    // IHL below 5.
    let mut bad = v4();
    bad[0] = 0x44;
    assert_eq!(
        parse_tcp(LinkType::RAW, &bad),
        Err(Skip::Malformed(Layer::Ip))
    );
    assert_eq!(
        parse_tcp(LinkType::RAW, &[]),
        Err(Skip::Truncated(Layer::Ip))
    );
}

proptest::proptest! {
    /// Hostile bytes: any input under any link type gives a segment or a
    /// skip reason, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), link in 0u32..300) {
        let _ = parse_tcp(LinkType(link), &data);
        // And the same bytes behind a valid-looking Ethernet/IPv4 start.
        let mut framed = ethernet(&[0x8100], 0x0800, &[0x45]);
        framed.extend_from_slice(&data);
        let _ = parse_tcp(LinkType::ETHERNET, &framed);
    }
}
