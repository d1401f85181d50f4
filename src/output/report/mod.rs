//! `btcsniff report`: one self-contained HTML page of a capture. The
//! aggregation (aggregate.rs, with buckets.rs and lanes.rs) consumes the
//! event stream like any sink and gives the model (model.rs); data.rs
//! writes it as JSON with the one JSON writer, html.rs renders the page.

pub mod aggregate;
pub mod buckets;
pub mod data;
pub mod family;
pub mod html;
pub mod lanes;
pub mod model;

pub use aggregate::Aggregator;
pub use model::Report;

use super::Sink;
use crate::analyzer::Event;
use std::io;

impl Sink for Aggregator {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()> {
        Aggregator::event(self, event);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
