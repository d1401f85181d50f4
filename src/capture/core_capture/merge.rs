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
//! for every record, at most [`MAX_RECORD_PAYLOAD`] bytes), and at most
//! [`MAX_OPEN_FILES`] files open (a node's folder holds a folder per
//! connection ever made: thousands); the least recently read is closed
//! and reopened at its position when its turn comes.
//!
//! [`MAX_RECORD_PAYLOAD`]: super::MAX_RECORD_PAYLOAD

use super::discover::StreamSpec;
use super::reader::{RecordAt, RecordError, RecordReader};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Most files open at once.
pub const MAX_OPEN_FILES: usize = 64;
/// Read buffer per open file.
const FILE_BUFFER: usize = 64 * 1024;

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
}

/// The merged records of several files. See the module docs.
pub struct Merge {
    streams: Vec<Stream>,
    /// (time of the next item, stream): the smallest first.
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    /// Streams with an open file, least recently read first.
    open: Vec<usize>,
    max_open: usize,
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
                })
                .collect(),
            heap: BinaryHeap::new(),
            open: Vec::new(),
            max_open: max_open.max(1),
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

    /// Marks stream `i` as just read; closes the least recently read file
    /// beyond the cap.
    fn touch(&mut self, i: usize) {
        let is_open = self
            .streams
            .get(i)
            .is_some_and(|s| s.reader.get_ref().is_open());
        if let Some(at) = self.open.iter().position(|&s| s == i) {
            self.open.remove(at);
        }
        if !is_open {
            return;
        }
        self.open.push(i);
        if self.open.len() > self.max_open {
            let oldest = self.open.remove(0);
            if let Some(s) = self.streams.get_mut(oldest) {
                s.reader.get_mut().close();
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
