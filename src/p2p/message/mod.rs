//! Typed messages: one variant per command.
//!
//! TODO(messages helper).
