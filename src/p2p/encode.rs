//! Encoders for the messages the probe sends, with header and checksum.
//!
//! TODO(framing helper).
