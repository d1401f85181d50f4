//! `read`'s progress on stderr: bytes of the total, MB/s, messages, ETA.
//!
//! Shown only to a person waiting: stderr a terminal, stdout not one (when
//! the messages themselves scroll by, a bar redrawn under them would only
//! garble them), no `-q`, and only once a read has lasted
//! [`SHOW_AFTER`] (a small file never flashes a bar). The bytes come from a
//! [`CountingRead`] around each input, so a compressed capture is measured
//! in the file's own bytes, the ones its size tells.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A read shorter than this shows nothing.
const SHOW_AFTER: Duration = Duration::from_millis(500);
/// The bar is updated at most this often.
const UPDATE_EVERY: Duration = Duration::from_millis(100);
/// Sets both durations above, in milliseconds: the tests show the bar on
/// a capture that takes milliseconds to read.
const TIMING_ENV: &str = "BTCSNIFF_PROGRESS_AFTER_MS";
/// Packets between two looks at the clock (reading it per packet would
/// cost a few percent at a million packets per second).
const PACKETS_PER_LOOK: u64 = 256;

/// Counts the bytes read through it into a shared counter.
pub struct CountingRead<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> CountingRead<R> {
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        CountingRead { inner, count }
    }
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The total size of the inputs, when every one is a regular file (not
/// standard input, not a pipe).
pub fn total_size<'p>(paths: impl IntoIterator<Item = &'p std::path::PathBuf>) -> Option<u64> {
    let mut total = 0u64;
    for path in paths {
        if path.as_os_str() == crate::capture::file::STDIN_NAME {
            return None;
        }
        let meta = std::fs::metadata(Path::new(path)).ok()?;
        if !meta.is_file() {
            return None;
        }
        total = total.saturating_add(meta.len());
    }
    Some(total)
}

/// Whether a progress bar may be shown at all.
pub fn wanted(quiet: bool) -> bool {
    use std::io::IsTerminal;
    !quiet && io::stderr().is_terminal() && !io::stdout().is_terminal()
}

pub struct ReadProgress {
    /// None: never shown (not wanted).
    bar: Option<ProgressBar>,
    bytes: Arc<AtomicU64>,
    visible: bool,
    started: Instant,
    last_update: Instant,
    show_after: Duration,
    update_every: Duration,
    packets: u64,
}

impl ReadProgress {
    /// `total`: the inputs' size in bytes, if known (a spinner otherwise).
    pub fn new(wanted: bool, total: Option<u64>) -> Self {
        let bar = wanted.then(|| {
            let (bar, template) = match total {
                Some(total) => (
                    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()),
                    "{wide_bar} {decimal_bytes}/{decimal_total_bytes} \
                     {decimal_bytes_per_sec} {msg} ETA {eta}",
                ),
                None => (
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
                    "{spinner} {decimal_bytes} {decimal_bytes_per_sec} {msg} {elapsed}",
                ),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        let timing = std::env::var(TIMING_ENV)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis);
        ReadProgress {
            bar,
            bytes: Arc::new(AtomicU64::new(0)),
            visible: false,
            started: now,
            last_update: now,
            show_after: timing.unwrap_or(SHOW_AFTER),
            update_every: timing.unwrap_or(UPDATE_EVERY),
            packets: 0,
        }
    }

    /// The counter to wrap each input with ([`CountingRead`]).
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes)
    }

    /// Bytes read from the inputs so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// After each packet; `messages` is asked only when the bar is drawn.
    #[inline]
    pub fn packet(&mut self, messages: impl FnOnce() -> u64) {
        self.packets = self.packets.wrapping_add(1);
        if self.bar.is_none() || !self.packets.is_multiple_of(PACKETS_PER_LOOK) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last_update) >= self.update_every {
            self.last_update = now;
            self.update(now, messages());
        }
    }

    fn update(&mut self, now: Instant, messages: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        if !self.visible && now.duration_since(self.started) >= self.show_after {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.visible = true;
        }
        bar.set_position(self.bytes.load(Ordering::Relaxed));
        bar.set_message(format!("{messages} messages"));
    }

    /// Removes the bar (before the summary and any error line).
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for ReadProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_read_counts_every_byte() {
        let counter = Arc::new(AtomicU64::new(5));
        let mut r = CountingRead::new(&b"hello world"[..], Arc::clone(&counter));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello world");
        assert_eq!(counter.load(Ordering::Relaxed), 5 + 11);
    }

    #[test]
    fn total_size_of_files_only() {
        let dir = std::env::temp_dir().join(format!("btcsniff-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&a, [0u8; 10]).unwrap();
        std::fs::write(&b, [0u8; 32]).unwrap();
        assert_eq!(total_size([&a, &b]), Some(42));
        assert_eq!(total_size([&a, &std::path::PathBuf::from("-")]), None);
        assert_eq!(total_size([&dir]), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
