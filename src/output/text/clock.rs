//! The time column of text lines (`--time-format`): UTC calendar time
//! (with a `Z` on a terminal), Unix seconds, seconds since the first line,
//! or since the previous line, as tshark's `-t ud`, `-t e`, `-t r`, `-t dd`.

use crate::capture::Timestamp;
use crate::output::{TimeFormat, time};

pub struct Clock {
    format: TimeFormat,
    /// A terminal: `Z` after UTC times, relative times right-aligned.
    terminal: bool,
    /// The last second written and its `YYYY-MM-DD HH:MM:SS`.
    second: Option<(i64, String)>,
    first: Option<Timestamp>,
    previous: Option<Timestamp>,
}

/// Width of a relative time on a terminal (`  1234.567890`).
const RELATIVE_WIDTH: usize = 12;

impl Clock {
    pub fn new(format: TimeFormat, terminal: bool) -> Clock {
        Clock {
            format,
            terminal,
            second: None,
            first: None,
            previous: None,
        }
    }

    /// Appends the time of a line at `ts`.
    pub fn push(&mut self, ts: Timestamp, out: &mut String) {
        match self.format {
            TimeFormat::Utc => {
                self.push_utc(ts, out);
                if self.terminal {
                    out.push('Z');
                }
            }
            TimeFormat::Unix => time::format_unix(ts, out),
            TimeFormat::Relative => {
                let first = *self.first.get_or_insert(ts);
                self.push_seconds(micros_between(first, ts), out);
            }
            TimeFormat::Delta => {
                let previous = self.previous.replace(ts).unwrap_or(ts);
                self.push_seconds(micros_between(previous, ts), out);
            }
        }
    }

    /// The part up to the second is formatted once per second.
    fn push_utc(&mut self, ts: Timestamp, out: &mut String) {
        match &self.second {
            Some((secs, text)) if *secs == ts.secs => out.push_str(text),
            _ => {
                let mut text = String::with_capacity(20);
                time::format_utc_second(ts.secs, &mut text);
                out.push_str(&text);
                self.second = Some((ts.secs, text));
            }
        }
        time::push_micros(ts, out);
    }

    fn push_seconds(&self, micros: i128, out: &mut String) {
        let sign = if micros < 0 { "-" } else { "" };
        let micros = micros.unsigned_abs();
        let text = format!("{sign}{}.{:06}", micros / 1_000_000, micros % 1_000_000);
        if self.terminal {
            out.push_str(&format!("{text:>RELATIVE_WIDTH$}"));
        } else {
            out.push_str(&text);
        }
    }
}

fn micros_between(from: Timestamp, to: Timestamp) -> i128 {
    let micros = |t: Timestamp| i128::from(t.secs) * 1_000_000 + i128::from(t.nanos / 1000);
    micros(to) - micros(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64, micros: u32) -> Timestamp {
        Timestamp {
            secs,
            nanos: micros * 1000,
        }
    }

    fn lines(format: TimeFormat, terminal: bool, times: &[Timestamp]) -> Vec<String> {
        let mut clock = Clock::new(format, terminal);
        times
            .iter()
            .map(|&t| {
                let mut s = String::new();
                clock.push(t, &mut s);
                s
            })
            .collect()
    }

    #[test]
    fn every_format() {
        let times = [
            ts(1_301_321_106, 7),
            ts(1_301_321_107, 500_000),
            ts(1_301_321_106, 0),
        ];
        assert_eq!(
            lines(TimeFormat::Utc, false, &times[..1]),
            ["2011-03-28 14:05:06.000007"]
        );
        assert_eq!(
            lines(TimeFormat::Utc, true, &times[..1]),
            ["2011-03-28 14:05:06.000007Z"]
        );
        assert_eq!(
            lines(TimeFormat::Unix, false, &times[..1]),
            ["1301321106.000007"]
        );
        assert_eq!(
            lines(TimeFormat::Relative, false, &times),
            ["0.000000", "1.499993", "-0.000007"]
        );
        assert_eq!(
            lines(TimeFormat::Delta, false, &times),
            ["0.000000", "1.499993", "-1.500000"]
        );
        assert_eq!(
            lines(TimeFormat::Relative, true, &times[..2]),
            ["    0.000000", "    1.499993"]
        );
    }
}
