//! Capture timestamps as UTC calendar time, without a date crate.

use crate::capture::Timestamp;
use std::fmt::Write;

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
/// Howard Hinnant's civil-from-days algorithm, written out here.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2011-03-28 12:34:56.123456` (UTC, microseconds).
pub fn format_utc(ts: Timestamp, out: &mut String) {
    format_utc_second(ts.secs, out);
    push_micros(ts, out);
}

/// The date and time of day to the second: `YYYY-MM-DD HH:MM:SS`.
pub fn format_utc_second(secs: i64, out: &mut String) {
    let days = secs.div_euclid(86_400);
    let secs_of_day = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60,
    );
}

/// `.` and the six digits of the microseconds.
pub fn push_micros(ts: Timestamp, out: &mut String) {
    match micros_digits(ts) {
        Some(digits) => out.push_str(std::str::from_utf8(&digits).unwrap_or(".000000")),
        None => {
            let _ = write!(out, ".{:06}", ts.nanos / 1000);
        }
    }
}

/// `.NNNNNN`, the microseconds zero-padded, without `fmt`; `None` when the
/// nanoseconds field is out of range (callers print it as `{:06}` would).
pub fn micros_digits(ts: Timestamp) -> Option<[u8; 7]> {
    let micros = ts.nanos / 1000;
    if micros >= 1_000_000 {
        return None;
    }
    let mut digits = *b".000000";
    let mut rest = micros;
    for d in digits.iter_mut().rev().take(6) {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    Some(digits)
}

/// Unix seconds with microsecond precision, as JSON number text.
pub fn format_unix(ts: Timestamp, out: &mut String) {
    let _ = write!(out, "{}.{:06}", ts.secs, ts.nanos / 1000);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(secs: i64, nanos: u32) -> String {
        let mut s = String::new();
        format_utc(Timestamp { secs, nanos }, &mut s);
        s
    }

    #[test]
    fn known_dates() {
        assert_eq!(utc(0, 0), "1970-01-01 00:00:00.000000");
        // 2011-03-28 14:05:06 UTC
        assert_eq!(utc(1_301_321_106, 7_000), "2011-03-28 14:05:06.000007");
        // leap day 2024-02-29 23:59:59
        assert_eq!(
            utc(1_709_251_199, 999_999_999),
            "2024-02-29 23:59:59.999999"
        );
    }
}
