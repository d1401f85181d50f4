//! Where the analyzer's events go. The analyzer defines the interface it
//! emits to; the renderers (src/output) implement it, so no import runs
//! from the analyzer up to the output.

use super::Event;
use std::io;

/// Where events go. Implemented by the text and JSON Lines writers and
/// the report's aggregation.
pub trait Sink {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()>;
    /// Flushes buffered output (called per event in live mode, at the end
    /// otherwise).
    fn flush(&mut self) -> io::Result<()>;
}
