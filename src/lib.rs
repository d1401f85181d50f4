//! btcsniff: a passive Bitcoin P2P analyzer and an active probe.
//!
//! Data flows one way: packet -> flow + direction -> reassembled bytes ->
//! frames -> messages and findings -> one event stream -> sink.

pub mod analyzer;
pub mod capture;
pub mod cli;
pub mod exit_code;
pub mod flow;
pub mod live;
pub mod metrics;
pub mod net;
pub mod output;
pub mod p2p;
pub mod prefetch;
pub mod probe;
