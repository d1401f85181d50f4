//! `--command`: only the messages asked for.
//!
//! The analyzer already skips decoding the other commands (a cost saving);
//! this sink decides what is *shown*, the same way for `read`, `live` and
//! `probe`: messages of the listed commands, findings (anomalies are never
//! hidden), notes and the summary; flow records are dropped, because they
//! belong to no command and would reach `jq '.payload…'` as `null`s.

use super::Sink;
use crate::analyzer::Event;
use std::io;

pub struct CommandFilter<'w> {
    inner: Box<dyn Sink + 'w>,
    commands: Vec<String>,
}

impl<'w> CommandFilter<'w> {
    /// Wraps `inner`; `commands` are already validated, lowercase names.
    pub fn new(inner: Box<dyn Sink + 'w>, commands: Vec<String>) -> Self {
        CommandFilter { inner, commands }
    }

    fn wants(&self, command: &[u8]) -> bool {
        self.commands.iter().any(|c| c.as_bytes() == command)
    }
}

impl Sink for CommandFilter<'_> {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()> {
        match event {
            Event::Message { frame, .. } if !self.wants(frame.command.as_bytes()) => Ok(()),
            Event::Flow(_) => Ok(()),
            _ => self.inner.event(event),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    fn unwritten(&self) -> Option<usize> {
        self.inner.unwritten()
    }

    fn take_unwritten(&mut self, spare: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        self.inner.take_unwritten(spare)
    }
}

/// The sink for `commands`: `inner` itself when the list is empty (all
/// commands), else `inner` behind a [`CommandFilter`].
pub fn filtered<'w>(inner: Box<dyn Sink + 'w>, commands: &[String]) -> Box<dyn Sink + 'w> {
    if commands.is_empty() {
        inner
    } else {
        Box::new(CommandFilter::new(inner, commands.to_vec()))
    }
}
