//! Messages Core no longer speaks but old captures hold: reject (BIP61,
//! removed in 0.20) and alert (removed at protocol 70013).

use crate::p2p::Hash256;
use crate::p2p::reader::{DecodeError, Reader};

/// BIP61 reject codes.
pub fn reject_code_name(code: u8) -> &'static str {
    match code {
        0x01 => "REJECT_MALFORMED",
        0x10 => "REJECT_INVALID",
        0x11 => "REJECT_OBSOLETE",
        0x12 => "REJECT_DUPLICATE",
        0x40 => "REJECT_NONSTANDARD",
        0x41 => "REJECT_DUST",
        0x42 => "REJECT_INSUFFICIENTFEE",
        0x43 => "REJECT_CHECKPOINT",
        _ => "unknown",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject<'a> {
    /// The command being rejected.
    pub message: &'a [u8],
    pub ccode: u8,
    pub ccode_name: &'static str,
    pub reason: &'a [u8],
    /// The rejected tx or block hash, when the 32 bytes are present.
    pub data: Option<Hash256>,
}

pub(super) fn read_reject<'a>(r: &mut Reader<'a>) -> Result<Reject<'a>, DecodeError> {
    let message = r.var_bytes("reject.message")?;
    let ccode = r.u8("reject.ccode")?;
    let reason = r.var_bytes("reject.reason")?;
    // BIP61: tx and block rejects append the hash; other bytes are left
    // for the trailing-bytes check.
    let data = if r.remaining() >= 32 {
        Some(r.hash("reject.data")?)
    } else {
        None
    };
    Ok(Reject {
        message,
        ccode,
        ccode_name: reject_code_name(ccode),
        reason,
        data,
    })
}

/// An alert: the signed payload and its signature, as sent, plus the
/// payload's fields when it parses as Core's CUnsignedAlert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert<'a> {
    pub payload: &'a [u8],
    pub signature: &'a [u8],
    pub alert: Option<AlertFields<'a>>,
}

/// CUnsignedAlert (Core's alert.h before 0.13), field names snake_cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFields<'a> {
    pub version: i32,
    pub relay_until: i64,
    pub expiration: i64,
    pub id: i32,
    pub cancel: i32,
    pub set_cancel: Vec<i32>,
    pub min_ver: i32,
    pub max_ver: i32,
    pub set_sub_ver: Vec<&'a [u8]>,
    pub priority: i32,
    pub comment: &'a [u8],
    pub status_bar: &'a [u8],
    pub reserved: &'a [u8],
}

/// The alert payload is opaque to relaying nodes: its fields are shown
/// only when it parses exactly; otherwise the hex stands alone.
fn parse_alert_fields(payload: &[u8]) -> Option<AlertFields<'_>> {
    let mut r = Reader::new(payload);
    let mut fields = AlertFields {
        version: r.i32_le("alert.version").ok()?,
        relay_until: r.i64_le("alert.relay_until").ok()?,
        expiration: r.i64_le("alert.expiration").ok()?,
        id: r.i32_le("alert.id").ok()?,
        cancel: r.i32_le("alert.cancel").ok()?,
        set_cancel: Vec::new(),
        min_ver: 0,
        max_ver: 0,
        set_sub_ver: Vec::new(),
        priority: 0,
        comment: &[],
        status_bar: &[],
        reserved: &[],
    };
    let count = r.compact_size("alert.set_cancel").ok()?;
    fields.set_cancel = Vec::with_capacity(r.capacity_for(count, 4));
    for _ in 0..count {
        fields.set_cancel.push(r.i32_le("alert.set_cancel").ok()?);
    }
    fields.min_ver = r.i32_le("alert.min_ver").ok()?;
    fields.max_ver = r.i32_le("alert.max_ver").ok()?;
    let count = r.compact_size("alert.set_sub_ver").ok()?;
    fields.set_sub_ver = Vec::with_capacity(r.capacity_for(count, 1));
    for _ in 0..count {
        fields.set_sub_ver.push(r.var_bytes("alert.sub_ver").ok()?);
    }
    fields.priority = r.i32_le("alert.priority").ok()?;
    fields.comment = r.var_bytes("alert.comment").ok()?;
    fields.status_bar = r.var_bytes("alert.status_bar").ok()?;
    fields.reserved = r.var_bytes("alert.reserved").ok()?;
    r.finish().is_empty().then_some(fields)
}

pub(super) fn read_alert<'a>(r: &mut Reader<'a>) -> Result<Alert<'a>, DecodeError> {
    let payload = r.var_bytes("alert.payload")?;
    Ok(Alert {
        payload,
        signature: r.var_bytes("alert.signature")?,
        alert: parse_alert_fields(payload),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_2012_alert() {
        // A mainnet alert payload + signature (byte vector from gocoin's
        // btc/alert_test.go, which also lists the expected fields).
        let p = hex::decode(concat!(
            "6d01000000506eb24f000000004c9e935100000000f7030000f50300000000000000979e",
            "000000881300000040555247454e543a20757067726164652072657175697265642c2073",
            "656520687474703a2f2f626974636f696e2e6f72672f646f7320666f722064657461696c",
            "7300483046022100c7994c5b0a8f5c84f714c54d30e251b55d5e9c733177fc81115375a6",
            "f7ca6910022100a93dc6e50cc58e512b29e522fb63a3428eabb2977930c2d4c6bfb9a290",
            "4533da"
        ))
        .unwrap();
        let mut r = Reader::new(&p);
        let a = read_alert(&mut r).unwrap();
        assert!(r.finish().is_empty());
        assert_eq!((a.payload.len(), a.signature.len()), (0x6d, 0x48));
        let f = a.alert.unwrap();
        assert_eq!(
            (f.version, f.relay_until, f.expiration),
            (1, 0x4fb2_6e50, 0x5193_9e4c)
        );
        assert_eq!(
            (f.id, f.cancel, f.min_ver, f.max_ver),
            (1015, 1013, 0, 0x9e97)
        );
        assert_eq!(f.priority, 5000);
        assert!(f.set_cancel.is_empty() && f.set_sub_ver.is_empty() && f.comment.is_empty());
        assert_eq!(
            f.status_bar,
            b"URGENT: upgrade required, see http://bitcoin.org/dos for details"
        );
    }
}
