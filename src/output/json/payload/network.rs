//! version, ping, pong, feefilter (BIP133), sendtxrcncl (BIP330), and the
//! services and net_addr they share.

use super::super::fields::{Fields, Key, array, key};
use crate::p2p::message::network::ServiceName;
use crate::p2p::message::{FeeFilter, NetAddr, Ping, Pong, SendTxRcncl, Services, Version};
use std::net::Ipv6Addr;

/// `"services": {"bits": "N", "names": [...]}`: the bit field as an id64
/// string, and the name of each set bit (`bit N` when unnamed).
pub fn services<F: Fields>(services: &Services, f: &mut F) {
    f.key(key!("services"));
    f.begin_object();
    f.key(key!("bits"));
    f.id64(services.0);
    f.key(key!("names"));
    array(f, services.iter_names(), |f, name| match name {
        ServiceName::Known(name) => f.name(name),
        ServiceName::Bit(bit) => f.str(&format!("bit {bit}")),
    });
    f.end_object();
}

/// `"ip": …`: an IPv4-mapped address dotted, any other as IPv6.
pub fn ip<F: Fields>(ip: &Ipv6Addr, f: &mut F) {
    f.key(key!("ip"));
    match ip.to_ipv4_mapped() {
        Some(v4) => f.display(&v4),
        None => f.display(ip),
    }
}

fn net_addr<F: Fields>(key: Key, addr: &NetAddr, f: &mut F) {
    f.key(key);
    f.begin_object();
    services(&addr.services, f);
    ip(&addr.ip, f);
    f.field_u64(key!("port"), u64::from(addr.port));
    f.end_object();
}

/// The fields after `addr_from` are there only when the sender sent them.
pub fn version<F: Fields>(v: &Version<'_>, f: &mut F) {
    f.field_i64(key!("version"), i64::from(v.version));
    services(&v.services, f);
    f.field_i64(key!("timestamp"), v.timestamp);
    net_addr(key!("addr_recv"), &v.addr_recv, f);
    net_addr(key!("addr_from"), &v.addr_from, f);
    if let Some(nonce) = v.nonce {
        f.key(key!("nonce"));
        f.id64(nonce);
    }
    if let Some(user_agent) = v.user_agent {
        f.key(key!("user_agent"));
        f.lossy(user_agent);
    }
    if let Some(height) = v.start_height {
        f.field_i64(key!("start_height"), i64::from(height));
    }
    if let Some(relay) = v.relay {
        f.field_bool(key!("relay"), relay);
    }
}

/// A ping without a nonce (before BIP31) shows `null`.
pub fn ping<F: Fields>(ping: &Ping, f: &mut F) {
    f.key(key!("nonce"));
    match ping.nonce {
        Some(nonce) => f.id64(nonce),
        None => f.null(),
    }
}

pub fn pong<F: Fields>(pong: &Pong, f: &mut F) {
    f.key(key!("nonce"));
    f.id64(pong.nonce);
}

pub fn fee_filter<F: Fields>(filter: &FeeFilter, f: &mut F) {
    f.field_i64(key!("fee_rate_sat_per_kvb"), filter.fee_rate_sat_per_kvb);
    f.key(key!("fee_rate_sat_per_vb"));
    f.f64(filter.fee_rate_sat_per_vb);
}

pub fn send_txrcncl<F: Fields>(m: &SendTxRcncl, f: &mut F) {
    f.field_u64(key!("version"), u64::from(m.version));
    f.key(key!("salt"));
    f.id64(m.salt);
}
