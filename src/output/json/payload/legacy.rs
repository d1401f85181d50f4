//! reject (BIP61) and alert, from old captures.

use super::super::fields::{Fields, array, key};
use crate::p2p::message::legacy::AlertFields;
use crate::p2p::message::{Alert, Reject};

pub fn reject<F: Fields>(m: &Reject<'_>, f: &mut F) {
    f.key(key!("message"));
    f.lossy(m.message);
    f.field_u64(key!("ccode"), u64::from(m.ccode));
    f.field_str(key!("ccode_name"), m.ccode_name);
    f.key(key!("reason"));
    f.lossy(m.reason);
    // The rejected tx or block hash, when the 32 bytes are present.
    if let Some(data) = &m.data {
        f.field_hash(key!("data"), data);
    }
}

/// The signed payload and signature as sent, and the payload's fields
/// when it parses.
pub fn alert<F: Fields>(m: &Alert<'_>, f: &mut F) {
    f.field_hex(key!("payload"), m.payload);
    f.field_hex(key!("signature"), m.signature);
    if let Some(fields) = &m.alert {
        f.key(key!("alert"));
        alert_fields(fields, f);
    }
}

fn alert_fields<F: Fields>(a: &AlertFields<'_>, f: &mut F) {
    f.begin_object();
    f.field_i64(key!("version"), i64::from(a.version));
    f.field_i64(key!("relay_until"), a.relay_until);
    f.field_i64(key!("expiration"), a.expiration);
    f.field_i64(key!("id"), i64::from(a.id));
    f.field_i64(key!("cancel"), i64::from(a.cancel));
    f.key(key!("set_cancel"));
    array(f, &a.set_cancel, |f, &id| f.i64(i64::from(id)));
    f.field_i64(key!("min_ver"), i64::from(a.min_ver));
    f.field_i64(key!("max_ver"), i64::from(a.max_ver));
    f.key(key!("set_sub_ver"));
    array(f, &a.set_sub_ver, |f, sub_ver| f.lossy(sub_ver));
    f.field_i64(key!("priority"), i64::from(a.priority));
    for (key, text) in [
        (key!("comment"), a.comment),
        (key!("status_bar"), a.status_bar),
        (key!("reserved"), a.reserved),
    ] {
        f.key(key);
        f.lossy(text);
    }
}
