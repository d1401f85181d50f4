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

    /// How many formatted bytes this sink holds that its writer has not
    /// had yet; `None` when it does not know (then only `flush` tells).
    /// With it, the parallel workers note where each operation's output
    /// ends without flushing after each one.
    fn unwritten(&self) -> Option<usize> {
        None
    }

    /// Hands over the bytes [`Sink::unwritten`] counts, `spare` (emptied)
    /// taking their place: output taken as it was formatted, without a
    /// copy (the caller knows whether the writer had some before them).
    /// `Err(spare)` when this sink cannot (the caller flushes).
    fn take_unwritten(&mut self, spare: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        Err(spare)
    }
}
