//! Presentation: one event stream, two sinks (annotated text, JSON Lines).
//! Sinks never parse: they render what the analyzer and probe decided.

pub mod direction_cache;
pub mod escape;
pub mod filter;
pub mod json;
pub mod report;
pub mod summary;
pub mod text;
pub mod time;

/// Where events go: defined by the analyzer that emits them, implemented
/// here by the text and JSON Lines writers and the report.
pub use crate::analyzer::Sink;

use std::io;

/// The output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The time column of text output (`--time-format`); JSON keeps `ts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeFormat {
    /// UTC date and time, microseconds (a `Z` after it on a terminal).
    #[default]
    Utc,
    /// Unix seconds with microseconds (tshark -t e).
    Unix,
    /// Seconds since the first line (tshark -t r).
    Relative,
    /// Seconds since the previous line (tshark -t dd).
    Delta,
}

/// How text lines look.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextLook {
    /// ANSI colour: command names by family, bad checksums, decode errors
    /// and findings stand out, flow lines dimmed.
    pub colour: bool,
    /// Laid out for a terminal: aligned columns, `Z` on UTC times.
    pub terminal: bool,
    pub time: TimeFormat,
}

/// Options shared by both sinks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SinkOptions {
    /// `-v`: the full decoded field tree below each text line.
    pub verbose: bool,
    /// `-vv`: also every payload's bytes, in hex (text: a `raw` line below
    /// the tree; JSON: `"raw"` beside the payload).
    pub raw: bool,
    /// Flush after every event (live capture, probe, JSON to a pipe).
    pub flush_each: bool,
    /// The output is taken whole by the caller ([`Sink::take_unwritten`]:
    /// the parallel pipeline's workers), not written as it grows.
    pub held: bool,
    /// Text only: colour, layout and time column.
    pub look: TextLook,
}

/// Builds the sink for `format` writing to `out`.
pub fn make_sink<'w, W: io::Write + 'w>(
    format: Format,
    out: W,
    options: SinkOptions,
) -> Box<dyn Sink + 'w> {
    match format {
        Format::Text => Box::new(text::TextSink::new(out, options)),
        Format::Json => Box::new(json::JsonSink::new(out, options)),
    }
}
