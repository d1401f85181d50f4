//! The records of many files as one stream, in time order.
//!
//! Rule: records of one file keep their order (Core appends them as it
//! processes messages; a clock stepping back does not reorder them); across
//! files, the file whose next record has the smallest time goes first;
//! equal times go in the order of [`discover`](super::discover): peer
//! folder, then `recv` before `sent` (a message received is processed
//! before the answers it causes). Deterministic for a given set of files.
//!
//! Memory: one header per file, one payload at a time (in a buffer reused
//! for every record, at most [`MAX_RECORD_PAYLOAD`] bytes), and a bounded
//! number of files open (a node's folder holds a folder per connection
//! ever made: thousands; [`MAX_OPEN_FILES`] by default, the caller may
//! allow fewer); beyond it the least recently read is closed and reopened
//! at its position when its turn comes. Files of connections that did not
//! overlap in time are read one after the other, so this only costs
//! reopenings when more files than the cap are active at the same time.
//!
//! [`MAX_RECORD_PAYLOAD`]: super::MAX_RECORD_PAYLOAD

use super::discover::StreamSpec;
use super::reader::{RecordAt, RecordError, RecordReader};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Most files open at once: both files of Core's default 125 connections,
/// with room to spare. 16 MiB of read buffers at most.
pub const MAX_OPEN_FILES: usize = 1024;
/// Read buffer per open file: many small records per read; a large payload
/// bypasses it.
const FILE_BUFFER: usize = 16 * 1024;

/// What the merged stream yields.
pub enum Item<'a> {
    /// One record and its payload.
    Record {
        stream: usize,
        spec: &'a StreamSpec,
        record: RecordAt,
        payload: &'a [u8],
    },
    /// A file that cannot be read further (nothing more comes from it).
    /// `time_micros`: the failing record's time when its header was read,
    /// else the file's last record's, else 0.
    Failed {
        stream: usize,
        spec: &'a StreamSpec,
        time_micros: u64,
        error: RecordError,
    },
}

enum Next {
    Record(RecordAt),
    Failed(RecordError),
}

struct Stream {
    spec: StreamSpec,
    reader: RecordReader<LazyFile>,
    next: Option<Next>,
    last_time: Option<u64>,
    /// When it was last read (for closing the least recently read).
    tick: u64,
    /// Whether it is in `Merge::open`.
    listed_open: bool,
}

/// The merged records of several files. See the module docs.
pub struct Merge {
    streams: Vec<Stream>,
    /// (time of the next item, stream): the smallest first.
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    /// Streams with an open file (unordered).
    open: Vec<usize>,
    max_open: usize,
    tick: u64,
    payload: Vec<u8>,
}

impl Merge {
    /// Opens the streams (in the order given: it breaks ties) and reads
    /// each one's first header.
    pub fn new(specs: Vec<StreamSpec>) -> Merge {
        Merge::with_max_open(specs, MAX_OPEN_FILES)
    }

    /// As [`new`](Self::new) with another cap on open files (tests).
    pub fn with_max_open(specs: Vec<StreamSpec>, max_open: usize) -> Merge {
        let mut merge = Merge {
            streams: specs
                .into_iter()
                .map(|spec| Stream {
                    reader: RecordReader::new(LazyFile::new(spec.path.clone())),
                    spec,
                    next: None,
                    last_time: None,
                    tick: 0,
                    listed_open: false,
                })
                .collect(),
            heap: BinaryHeap::new(),
            open: Vec::new(),
            max_open: max_open.max(1),
            tick: 0,
            payload: Vec::new(),
        };
        for i in 0..merge.streams.len() {
            merge.advance(i);
        }
        merge
    }

    /// The files, in tie-breaking order.
    pub fn specs(&self) -> impl Iterator<Item = &StreamSpec> {
        self.streams.iter().map(|s| &s.spec)
    }

    /// Files open right now (at most the cap).
    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// The next record (or file failure) in time order; `None` when every
    /// file is done.
    #[allow(clippy::should_implement_trait)] // items borrow from self
    pub fn next(&mut self) -> Option<Item<'_>> {
        loop {
            let Reverse((time, i)) = self.heap.pop()?;
            let Some(stream) = self.streams.get_mut(i) else {
                continue;
            };
            match stream.next.take() {
                Some(Next::Record(record)) => match stream.reader.read_payload(&mut self.payload) {
                    Ok(()) => {
                        stream.last_time = Some(record.header.time_micros);
                        self.advance(i);
                        let stream = self.streams.get(i)?;
                        return Some(Item::Record {
                            stream: i,
                            spec: &stream.spec,
                            record,
                            payload: &self.payload,
                        });
                    }
                    Err(error) => return self.failed(i, time, error),
                },
                Some(Next::Failed(error)) => return self.failed(i, time, error),
                None => continue,
            }
        }
    }

    fn failed(&mut self, i: usize, time_micros: u64, error: RecordError) -> Option<Item<'_>> {
        self.close(i);
        let stream = self.streams.get(i)?;
        Some(Item::Failed {
            stream: i,
            spec: &stream.spec,
            time_micros,
            error,
        })
    }

    /// Reads stream `i`'s next header and queues it (or its failure); at
    /// its end, closes it.
    fn advance(&mut self, i: usize) {
        let Some(stream) = self.streams.get_mut(i) else {
            return;
        };
        let (next, time) = match stream.reader.next_header() {
            Ok(Some(record)) => (Next::Record(record), record.header.time_micros),
            Ok(None) => {
                self.close(i);
                return;
            }
            Err(error) => {
                let time = match &error {
                    RecordError::Oversize { record, .. } => record.header.time_micros,
                    _ => stream.last_time.unwrap_or(0),
                };
                (Next::Failed(error), time)
            }
        };
        stream.next = Some(next);
        self.heap.push(Reverse((time, i)));
        self.touch(i);
    }

    /// Marks stream `i` as just read; beyond the cap, closes the least
    /// recently read other file. O(1) unless a file was opened or closed.
    fn touch(&mut self, i: usize) {
        self.tick = self.tick.saturating_add(1);
        let Some(stream) = self.streams.get_mut(i) else {
            return;
        };
        stream.tick = self.tick;
        let is_open = stream.reader.get_ref().is_open();
        if is_open == stream.listed_open {
            return;
        }
        stream.listed_open = is_open;
        if !is_open {
            self.open.retain(|&s| s != i);
            return;
        }
        self.open.push(i);
        if self.open.len() <= self.max_open {
            return;
        }
        let oldest = self
            .open
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s != i)
            .min_by_key(|&(_, &s)| self.streams.get(s).map_or(0, |s| s.tick))
            .map(|(at, _)| at);
        if let Some(at) = oldest {
            let s = self.open.swap_remove(at);
            if let Some(stream) = self.streams.get_mut(s) {
                stream.reader.get_mut().close();
                stream.listed_open = false;
            }
        }
    }

    fn close(&mut self, i: usize) {
        if let Some(s) = self.streams.get_mut(i) {
            s.reader.get_mut().close();
        }
        self.touch(i);
    }
}

/// A file opened on first read and closable at any time: reopened at the
/// same position on the next read.
pub struct LazyFile {
    path: PathBuf,
    pos: u64,
    file: Option<BufReader<File>>,
}

impl LazyFile {
    pub fn new(path: PathBuf) -> LazyFile {
        LazyFile {
            path,
            pos: 0,
            file: None,
        }
    }

    pub fn close(&mut self) {
        self.file = None;
    }

    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }
}

impl Read for LazyFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let mut file = File::open(&self.path)?;
                if self.pos > 0 {
                    file.seek(SeekFrom::Start(self.pos))?;
                }
                self.file
                    .insert(BufReader::with_capacity(FILE_BUFFER, file))
            }
        };
        let n = file.read(buf)?;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}
