//! The fields of the analyzer's records: findings, flow records, notes
//! and the stats summary. A record's walk writes its fields without the
//! braces: the sink splices them into the envelope (`type`, `ts`, ...).

use super::fields::{Fields, key};
use crate::analyzer::Finding;
use crate::p2p::frame::FramingFinding;
use crate::p2p::v2::V2Finding;
use crate::p2p::{Anomaly, Hash256};

/// A finding's values after its `kind` (which each sink shows its own way).
pub fn finding_values<F: Fields + ?Sized>(finding: &Finding, f: &mut F) {
    match finding {
        Finding::Gap { offset, bytes } => {
            f.field_u64(key!("offset"), *offset);
            f.field_u64(key!("bytes"), *bytes);
        }
        Finding::Framing(framing) => framing_values(framing, f),
        Finding::Payload { command, anomaly } => {
            f.field_str(key!("command"), command);
            anomaly_values(anomaly, f);
        }
        Finding::DecodeError { command, error } => {
            f.field_str(key!("command"), command);
            f.field_str(key!("error"), error);
        }
        Finding::HandshakeOrder { command, detail } => {
            f.field_str(key!("command"), command);
            f.field_str(key!("detail"), detail);
        }
        Finding::V2(v2) => v2_values(v2, f),
        Finding::V2NoKey { initiator_key } => f.field_str(key!("initiator_key"), initiator_key),
        Finding::V2NoHandshake { detail } => f.field_str(key!("detail"), detail),
        Finding::V1Fallback {
            v2_flow,
            v2_client_bytes,
            after_ms,
            certainty,
        } => {
            f.field_u64(key!("v2_flow"), *v2_flow);
            f.field_u64(key!("v2_client_bytes"), *v2_client_bytes);
            f.field_u64(key!("after_ms"), *after_ms);
            f.field_str(key!("certainty"), certainty);
        }
        Finding::UnknownCommand {
            offset,
            command,
            command_hex,
            printable,
        } => {
            f.field_u64(key!("offset"), *offset);
            f.field_str(key!("command"), command);
            f.field_str(key!("command_hex"), command_hex);
            f.field_bool(key!("printable"), *printable);
        }
        Finding::MerkleRootMismatch {
            block,
            header,
            computed,
            transactions,
        } => {
            f.field_hash(key!("block"), block);
            f.field_hash(key!("header"), header);
            f.field_hash(key!("computed"), computed);
            f.field_u64(key!("transactions"), *transactions as u64);
        }
        Finding::MerkleTreeMutated {
            block,
            transactions,
        } => {
            f.field_hash(key!("block"), block);
            f.field_u64(key!("transactions"), *transactions as u64);
        }
        Finding::PowAboveTarget {
            command,
            block,
            bits,
            target,
        } => {
            header_at(f, command, block, *bits);
            f.field_str(key!("target"), target);
        }
        Finding::BitsInvalid {
            command,
            block,
            bits,
            detail,
        } => {
            header_at(f, command, block, *bits);
            f.field_str(key!("detail"), detail);
        }
        Finding::WitnessCommitmentMismatch {
            block,
            committed,
            computed,
            detail,
        } => {
            f.field_hash(key!("block"), block);
            for (key, hash) in [(key!("committed"), committed), (key!("computed"), computed)] {
                f.key(key);
                match hash {
                    Some(h) => f.hash(h),
                    None => f.null(),
                }
            }
            f.field_str(key!("detail"), detail);
        }
        Finding::HeadersNotChained {
            index,
            block,
            prev_block,
            expected,
        } => {
            f.field_u64(key!("index"), *index as u64);
            f.field_hash(key!("block"), block);
            f.field_hash(key!("prev_block"), prev_block);
            f.field_hash(key!("expected"), expected);
        }
        Finding::UnmatchedPong { nonce } => {
            f.key(key!("nonce"));
            f.id64(*nonce);
        }
        Finding::Unsolicited { command, hash } => {
            f.field_str(key!("command"), command);
            f.field_hash(key!("hash"), hash);
        }
    }
}

/// The header a proof-of-work finding is about: which message, its hash,
/// its `bits` as the 8 hex digits Core prints.
fn header_at<F: Fields + ?Sized>(f: &mut F, command: &str, block: &Hash256, bits: u32) {
    f.field_str(key!("command"), command);
    f.field_hash(key!("block"), block);
    f.field_hex(key!("bits"), &bits.to_be_bytes());
}

fn framing_values<F: Fields + ?Sized>(finding: &FramingFinding, f: &mut F) {
    match *finding {
        FramingFinding::SkippedBytes { offset, bytes } => {
            f.field_u64(key!("offset"), offset);
            f.field_u64(key!("bytes"), bytes);
        }
        FramingFinding::OversizeLength {
            offset,
            command,
            length,
            limit,
        } => {
            f.field_u64(key!("offset"), offset);
            f.key(key!("command"));
            f.lossy(command.as_bytes());
            f.field_u64(key!("length"), u64::from(length));
            f.field_u64(key!("limit"), u64::from(limit));
        }
        FramingFinding::Truncated {
            offset,
            have,
            needed,
        } => {
            f.field_u64(key!("offset"), offset);
            f.field_u64(key!("have"), have);
            f.field_u64(key!("needed"), needed);
        }
        FramingFinding::UnknownMagicAdopted { offset, magic } => {
            f.field_u64(key!("offset"), offset);
            f.field_hex(key!("magic"), &magic);
        }
    }
}

fn anomaly_values<F: Fields + ?Sized>(anomaly: &Anomaly, f: &mut F) {
    match *anomaly {
        Anomaly::NonCanonicalCompactSize { offset, value } => {
            f.field_u64(key!("offset"), offset as u64);
            f.field_u64(key!("value"), value);
        }
        Anomaly::CountOverLimit {
            field,
            count,
            limit,
        } => {
            f.field_str(key!("field"), field);
            f.field_u64(key!("count"), count);
            f.field_u64(key!("limit"), limit);
        }
        Anomaly::TrailingBytes { bytes } => f.field_u64(key!("bytes"), bytes as u64),
    }
}

fn v2_values<F: Fields + ?Sized>(finding: &V2Finding, f: &mut F) {
    match *finding {
        V2Finding::NoTerminator {
            offset,
            searched,
            candidates,
        } => {
            f.field_u64(key!("offset"), offset);
            f.field_u64(key!("searched"), searched);
            f.field_u64(key!("networks"), candidates as u64);
        }
        V2Finding::HandshakeIncomplete { offset, garbage } => {
            f.field_u64(key!("offset"), offset);
            f.field_u64(key!("garbage"), garbage);
        }
        V2Finding::KeysTooLate { offset, buffered } => {
            f.field_u64(key!("offset"), offset);
            f.field_u64(key!("buffered"), buffered);
        }
        V2Finding::OversizeLength {
            packet,
            offset,
            length,
            limit,
        } => {
            packet_at(f, packet, offset);
            f.field_u64(key!("length"), u64::from(length));
            f.field_u64(key!("limit"), u64::from(limit));
        }
        V2Finding::BadTag {
            packet,
            offset,
            length,
        } => {
            packet_at(f, packet, offset);
            f.field_u64(key!("length"), u64::from(length));
        }
        V2Finding::BadMessageType {
            packet,
            offset,
            length,
            error,
        } => {
            packet_at(f, packet, offset);
            f.field_u64(key!("length"), u64::from(length));
            f.field_str(key!("error"), &error.to_string());
        }
        V2Finding::Gap {
            packet,
            offset,
            gap_at,
            bytes,
        } => {
            packet_at(f, packet, offset);
            f.field_u64(key!("gap_at"), gap_at);
            f.field_u64(key!("bytes"), bytes);
        }
        V2Finding::Truncated {
            packet,
            offset,
            have,
            needed,
        } => {
            packet_at(f, packet, offset);
            f.field_u64(key!("have"), have);
            f.field_u64(key!("needed"), needed);
        }
    }
}

/// Which v2 packet, and where in the direction's stream.
fn packet_at<F: Fields + ?Sized>(f: &mut F, packet: u64, offset: u64) {
    f.field_u64(key!("packet"), packet);
    f.field_u64(key!("offset"), offset);
}
