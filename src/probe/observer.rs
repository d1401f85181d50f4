//! Where a probe's events go: the optional sink, with the first write
//! error kept (output stops, the probe goes on), and the conversions from
//! codec types to output events.

use crate::analyzer::Event;
use crate::capture::Timestamp;
use crate::output::Sink;
use std::io;

/// The sink, if any, and the first error writing to it (after which
/// output stops but the probe goes on).
pub(super) struct Observer<'o> {
    pub(super) sink: Option<&'o mut dyn Sink>,
    pub(super) error: Option<io::Error>,
}

impl Observer<'_> {
    pub(super) fn emit(&mut self, event: &Event<'_, '_>) {
        if self.error.is_some() {
            return;
        }
        if let Some(sink) = self.sink.as_mut()
            && let Err(e) = sink.event(event)
        {
            self.error = Some(e);
        }
    }

    pub(super) fn note(&mut self, text: &str) {
        self.emit(&Event::Note {
            ts: Timestamp::now(),
            source: "probe",
            text,
        });
    }

    pub(super) fn flush(&mut self) {
        if self.error.is_none()
            && let Some(sink) = self.sink.as_mut()
            && let Err(e) = sink.flush()
        {
            self.error = Some(e);
        }
    }
}
