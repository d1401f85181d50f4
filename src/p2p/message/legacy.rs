//! Messages Core no longer speaks but old captures hold: reject (BIP61,
//! removed in 0.20) and alert (removed at protocol 70013).

use super::text;
use crate::p2p::Hash256;
use crate::p2p::hash::as_hex;
use crate::p2p::reader::{DecodeError, Reader};
use serde::Serialize;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reject<'a> {
    /// The command being rejected.
    #[serde(serialize_with = "text::lossy")]
    pub message: &'a [u8],
    pub ccode: u8,
    pub ccode_name: &'static str,
    #[serde(serialize_with = "text::lossy")]
    pub reason: &'a [u8],
    /// The rejected tx or block hash, when the 32 bytes are present.
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// An alert: the signed payload and its signature, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Alert<'a> {
    #[serde(serialize_with = "as_hex")]
    pub payload: &'a [u8],
    #[serde(serialize_with = "as_hex")]
    pub signature: &'a [u8],
}

pub(super) fn read_alert<'a>(r: &mut Reader<'a>) -> Result<Alert<'a>, DecodeError> {
    Ok(Alert {
        payload: r.var_bytes("alert.payload")?,
        signature: r.var_bytes("alert.signature")?,
    })
}
