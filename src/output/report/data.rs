//! The report's data as the page reads it: JSON written by the crate's one
//! JSON writer (`output::json`), each key once, from the model.

use super::model::{FindingRow, LaneOut, MarkOut, Overview, Report, SideOut};
use crate::output::json::fields::{Fields, Key, array, key};
use crate::output::json::line::JsonLine;

/// The model as one JSON object.
pub fn write(report: &Report, out: &mut Vec<u8>) {
    let mut f = JsonLine::new(out);
    f.begin_object();
    f.field_str(key!("version"), report.version);
    f.field_str(key!("command"), &report.command);
    f.field_i64(key!("t0_us"), report.t0_us);
    f.key(key!("families"));
    array(&mut f, &report.families, |f, name| f.name(name));
    overview(&mut f, &report.overview);
    f.key(key!("rate"));
    f.begin_object();
    f.field_i64(key!("start_us"), report.rate.start_us);
    f.field_i64(key!("width_us"), report.rate.width_us);
    f.key(key!("messages"));
    array(&mut f, &report.rate.messages, |f, row| {
        array(f, row, |f, n| f.u64(*n));
    });
    f.key(key!("bytes"));
    array(&mut f, &report.rate.bytes, |f, n| f.u64(*n));
    f.end_object();
    f.key(key!("commands"));
    array(&mut f, &report.commands, |f, row| {
        f.begin_object();
        f.field_str(key!("command"), &row.command);
        f.field_u64(key!("count"), row.count);
        f.field_u64(key!("bytes"), row.bytes);
        f.end_object();
    });
    f.key(key!("command_names"));
    array(&mut f, &report.command_names, |f, name| f.str(name));
    f.key(key!("lanes"));
    array(&mut f, &report.lanes, lane);
    f.field_u64(key!("lanes_not_drawn"), report.lanes_not_drawn);
    f.key(key!("findings"));
    array(&mut f, &report.findings, finding_row);
    f.field_u64(key!("findings_not_listed"), report.findings_not_listed);
    let limits = &report.limits;
    f.key(key!("limits"));
    f.begin_object();
    f.field_u64(key!("max_buckets"), limits.max_buckets as u64);
    f.field_u64(key!("max_lanes"), limits.max_lanes as u64);
    f.field_u64(key!("max_marks_per_lane"), limits.max_marks_per_lane as u64);
    f.field_u64(
        key!("max_finding_marks_per_lane"),
        limits.max_finding_marks_per_lane as u64,
    );
    f.field_u64(
        key!("max_findings_listed"),
        limits.max_findings_listed as u64,
    );
    f.end_object();
    f.end_object();
}

fn opt_i64<F: Fields>(f: &mut F, key: Key, n: Option<i64>) {
    f.key(key);
    match n {
        Some(n) => f.i64(n),
        None => f.null(),
    }
}

fn opt_str<F: Fields>(f: &mut F, key: Key, s: Option<&str>) {
    f.key(key);
    match s {
        Some(s) => f.str(s),
        None => f.null(),
    }
}

fn overview<F: Fields>(f: &mut F, o: &Overview) {
    f.key(key!("overview"));
    f.begin_object();
    opt_i64(f, key!("first_us"), o.first_us);
    opt_i64(f, key!("last_us"), o.last_us);
    f.field_u64(key!("packets"), o.packets);
    f.field_u64(key!("flows_v1"), o.flows_v1);
    f.field_u64(key!("flows_v2_decrypted"), o.flows_v2_decrypted);
    f.field_u64(key!("flows_v2_encrypted"), o.flows_v2_encrypted);
    f.field_u64(key!("flows_other"), o.flows_other);
    f.field_u64(key!("core_peers"), o.core_peers);
    f.field_u64(key!("messages"), o.messages);
    f.field_u64(key!("message_bytes"), o.message_bytes);
    f.field_u64(key!("checksum_invalid"), o.checksum_invalid);
    f.field_u64(key!("decode_errors"), o.decode_errors);
    f.field_u64(key!("gaps"), o.gaps);
    f.field_u64(key!("gap_bytes"), o.gap_bytes);
    // [kind, count] pairs, in the order of the model.
    f.key(key!("findings"));
    array(f, &o.findings, |f, (kind, n)| {
        f.begin_array();
        f.name(kind);
        f.u64(*n);
        f.end_array();
    });
    f.key(key!("networks"));
    array(f, &o.networks, |f, name| f.name(name));
    f.end_object();
}

fn side<F: Fields>(f: &mut F, s: &SideOut) {
    f.begin_object();
    f.field_str(key!("address"), &s.address);
    opt_str(f, key!("user_agent"), s.user_agent.as_deref());
    opt_i64(f, key!("version"), s.version.map(i64::from));
    opt_i64(f, key!("start_height"), s.start_height.map(i64::from));
    opt_str(f, key!("services"), s.services.as_deref());
    f.field_u64(key!("messages"), s.messages);
    f.field_u64(key!("bytes"), s.bytes);
    f.field_u64(key!("rtt_count"), s.rtt_count);
    opt_i64(f, key!("rtt_min_us"), s.rtt_min_us);
    opt_i64(f, key!("rtt_avg_us"), s.rtt_avg_us);
    f.end_object();
}

/// A mark as an array (see [`MarkOut`]): the page has many.
fn mark<F: Fields>(f: &mut F, m: &MarkOut) {
    let (t, duration, family, dir, command, length, count, bytes, block, detail) = m;
    f.begin_array();
    f.i64(*t);
    f.i64(*duration);
    f.u64(*family as u64);
    f.u64(u64::from(*dir));
    f.u64(u64::from(*command));
    f.u64(u64::from(*length));
    f.u64(u64::from(*count));
    f.u64(*bytes);
    f.u64(u64::from(*block));
    match detail {
        Some(d) => f.str(d),
        None => f.null(),
    }
    f.end_array();
}

fn lane<F: Fields>(f: &mut F, l: &LaneOut) {
    f.begin_object();
    f.field_u64(key!("flow"), l.flow);
    f.field_name(key!("transport"), l.transport);
    opt_str(f, key!("decryption"), l.decryption);
    f.key(key!("sides"));
    array(f, &l.sides, side);
    f.field_i64(key!("first_us"), l.first_us);
    f.field_i64(key!("last_us"), l.last_us);
    f.field_u64(key!("messages"), l.messages);
    f.field_i64(key!("group_us"), l.group_us);
    f.key(key!("marks"));
    array(f, &l.marks, mark);
    f.key(key!("findings"));
    array(f, &l.findings, |f, (t, kind, listed)| {
        f.begin_array();
        f.i64(*t);
        f.name(kind);
        f.i64(*listed);
        f.end_array();
    });
    f.field_u64(key!("findings_not_marked"), l.findings_not_marked);
    f.end_object();
}

fn finding_row<F: Fields>(f: &mut F, row: &FindingRow) {
    f.begin_object();
    f.field_i64(key!("t_us"), row.t_us);
    f.field_u64(key!("flow"), row.flow);
    f.field_name(key!("kind"), row.kind);
    // The finding's own fields, as the JSON lines write them.
    f.key(key!("values"));
    f.begin_object();
    crate::output::json::records::finding_values(&row.finding, f);
    f.end_object();
    f.end_object();
}
