//! Writing classic pcap files (microsecond timestamps, little-endian), for
//! `-w` and for test and benchmark generators.

use super::{CaptureError, CaptureErrorKind, LinkType, Timestamp};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The classic pcap magic for microsecond timestamps.
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;

/// A buffered classic-pcap writer. Call [`PcapWriter::flush`] before dropping
/// it to see write errors (drop flushes too, but silently).
pub struct PcapWriter<W: Write = BufWriter<File>> {
    out: W,
    file: PathBuf,
    snaplen: u32,
}

impl PcapWriter<BufWriter<File>> {
    /// Creates (truncates) `path` and writes the file header.
    pub fn create(
        path: impl AsRef<Path>,
        link_type: LinkType,
        snaplen: u32,
    ) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|e| CaptureError {
            file: path.to_path_buf(),
            kind: CaptureErrorKind::Io(e),
        })?;
        PcapWriter::new(
            path,
            BufWriter::with_capacity(1 << 16, file),
            link_type,
            snaplen,
        )
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header to any byte sink; `name` is for error messages.
    pub fn new(
        name: impl AsRef<Path>,
        mut out: W,
        link_type: LinkType,
        snaplen: u32,
    ) -> Result<Self, CaptureError> {
        let file = name.as_ref().to_path_buf();
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0.
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&link_type.0.to_le_bytes());
        match out.write_all(&header) {
            Ok(()) => Ok(PcapWriter { out, file, snaplen }),
            Err(e) => Err(CaptureError {
                file,
                kind: CaptureErrorKind::Io(e),
            }),
        }
    }

    /// Appends one packet. `data` is cut to the snap length; `orig_len` is
    /// the length on the wire (at least `data.len()`). Timestamps before
    /// 1970 or after 2106 are clamped: classic pcap stores unsigned seconds.
    pub fn write_packet(
        &mut self,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
    ) -> Result<(), CaptureError> {
        let keep = data.len().min(self.snaplen as usize).min(u32::MAX as usize);
        let data = data.get(..keep).unwrap_or(data);
        let caplen = keep as u32;
        let secs = u32::try_from(ts.secs.max(0)).unwrap_or(u32::MAX);
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&(ts.nanos / 1000).to_le_bytes());
        rec[8..12].copy_from_slice(&caplen.to_le_bytes());
        rec[12..16].copy_from_slice(&orig_len.max(caplen).to_le_bytes());
        self.io(|out| {
            out.write_all(&rec)?;
            out.write_all(data)
        })
    }

    /// Flushes buffered records to the underlying sink.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        self.io(|out| out.flush())
    }

    /// Flushes and returns the sink (for in-memory writers).
    pub fn into_inner(mut self) -> Result<W, CaptureError> {
        self.flush()?;
        Ok(self.out)
    }

    fn io(&mut self, f: impl FnOnce(&mut W) -> io::Result<()>) -> Result<(), CaptureError> {
        f(&mut self.out).map_err(|e| CaptureError {
            file: self.file.clone(),
            kind: CaptureErrorKind::Io(e),
        })
    }
}
