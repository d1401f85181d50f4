//! `btcsniff report`: one self-contained HTML page of a capture. The
//! aggregation (aggregate.rs, with buckets.rs and lanes.rs) consumes the
//! event stream like any sink and gives the model (model.rs); html.rs
//! renders the model.

pub mod aggregate;
pub mod buckets;
pub mod family;
pub mod html;
pub mod lanes;
pub mod model;

pub use aggregate::Aggregator;
pub use model::Report;

use super::{Event, Sink};
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
