//! The `--keylog` file of `read`, read whole (`live` follows it as it
//! grows: see `crate::live`).

use crate::p2p::v2::KeyLog;
use anyhow::Context;
use std::path::Path;

/// Reads a whole key log.
pub fn read_all(path: &Path) -> anyhow::Result<KeyLog> {
    let text =
        std::fs::read(path).with_context(|| format!("reading the key log {}", path.display()))?;
    Ok(KeyLog::parse(&text))
}
