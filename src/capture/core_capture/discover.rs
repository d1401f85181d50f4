//! From the paths given on the command line to the files to read.
//!
//! Core writes `<datadir>/[<network>/]message_capture/<peer>/msgs_recv.dat`
//! and `msgs_sent.dat` (`GetDataDirNet()`: mainnet's files are in the
//! datadir itself, the others in a subfolder named after the network). A
//! directory given is searched [`MAX_DEPTH`] levels deep for files of those
//! two names, so a datadir, a network's folder, a `message_capture` folder
//! and a peer's folder all work. A file is taken as given.

use super::peer::PeerName;
use super::record::looks_like_records;
use crate::capture::input::read_full;
use crate::p2p::Network;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The names Core gives the two files of a peer.
pub const RECV_FILE: &str = "msgs_recv.dat";
pub const SENT_FILE: &str = "msgs_sent.dat";

/// How deep below a directory given the files are looked for: a datadir's
/// `regtest/message_capture/PEER/msgs_recv.dat` is four levels down.
pub const MAX_DEPTH: usize = 4;

/// Which way the messages of a file went, from the capturing node's
/// point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageDirection {
    /// `msgs_recv.dat`: the peer sent them to the node.
    Recv,
    /// `msgs_sent.dat`: the node sent them to the peer.
    Sent,
    /// A file whose name says neither.
    Unknown,
}

impl MessageDirection {
    pub fn name(self) -> &'static str {
        match self {
            MessageDirection::Recv => "recv",
            MessageDirection::Sent => "sent",
            MessageDirection::Unknown => "unknown",
        }
    }

    /// From a file name: Core's two names, else (a renamed file) as Core's
    /// own parser decides, by `recv` or `sent` in the name.
    pub fn from_file_name(name: &str) -> MessageDirection {
        if name == RECV_FILE || name.contains("recv") {
            MessageDirection::Recv
        } else if name == SENT_FILE || name.contains("sent") {
            MessageDirection::Sent
        } else {
            MessageDirection::Unknown
        }
    }
}

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    pub path: PathBuf,
    /// The folder holding the file: one per peer.
    pub peer_folder: PathBuf,
    pub peer: PeerName,
    pub direction: MessageDirection,
    /// The network inferred from where the file is (see [`discover`]).
    pub network: Option<Network>,
}

/// A path that could not be used.
#[derive(Debug)]
pub struct DiscoverError {
    pub path: PathBuf,
    pub error: io::Error,
}

impl std::fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

/// Whether `path` is to be read as a Core message capture rather than a
/// packet capture: a directory, a file named as Core names them, or a
/// file that is not pcap/pcapng but starts with a well-formed record.
/// A path that cannot be examined is not (the packet reader reports why).
pub fn is_core_capture(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return false;
    }
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    if meta.is_dir() {
        return true;
    }
    let name = path.file_name().map(|n| n.to_string_lossy());
    if name.is_some_and(|n| n == RECV_FILE || n == SENT_FILE) {
        return true;
    }
    let mut start = [0u8; super::RECORD_HEADER_LEN];
    let got = fs::File::open(path).and_then(|mut f| read_full(&mut f, &mut start));
    match got {
        Ok(n) => start
            .get(..n)
            .is_some_and(|bytes| !is_packet_capture_magic(bytes) && looks_like_records(bytes)),
        Err(_) => false,
    }
}

/// pcap (either byte order, micro- or nanoseconds) or pcapng.
fn is_packet_capture_magic(bytes: &[u8]) -> bool {
    matches!(
        bytes.first_chunk::<4>(),
        Some(
            [0x0a, 0x0d, 0x0d, 0x0a]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x4d, 0x3c, 0xb2, 0xa1]
        )
    )
}

/// The files under `paths`, each once, ordered by peer folder (byte
/// order of the path), then `recv` before `sent`: the order that breaks
/// ties between records of the same time. The network of each is
/// inferred:
/// 1. the folder holding `message_capture` is named `regtest`,
///    `testnet3`, `testnet4` or `signet` (Core's per-network datadir);
/// 2. else, among the peers of the same `message_capture` folder whose
///    port is a network's default port, the network more than half of
///    them use (an inbound peer's port is its own ephemeral port and says
///    nothing; mainnet's files sit in the datadir itself, whose name says
///    nothing either);
/// 3. else none (unknown).
pub fn discover(paths: &[PathBuf]) -> (Vec<StreamSpec>, Vec<DiscoverError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let before = files.len();
                walk(path, 1, &mut files, &mut errors);
                if files.len() == before {
                    errors.push(DiscoverError {
                        path: path.clone(),
                        error: io::Error::new(
                            io::ErrorKind::NotFound,
                            format!(
                                "no Bitcoin Core message capture ({RECV_FILE}, {SENT_FILE}) within {MAX_DEPTH} levels"
                            ),
                        ),
                    });
                }
            }
            Ok(_) => files.push(path.clone()),
            Err(error) => errors.push(DiscoverError {
                path: path.clone(),
                error,
            }),
        }
    }
    let mut seen = HashSet::new();
    let mut streams: Vec<StreamSpec> = files
        .into_iter()
        .filter(|p| seen.insert(fs::canonicalize(p).unwrap_or_else(|_| p.clone())))
        .map(|path| spec(&path))
        .collect();
    streams.sort_by(|a, b| {
        (&a.peer_folder, a.direction, &a.path).cmp(&(&b.peer_folder, b.direction, &b.path))
    });
    infer_from_ports(&mut streams);
    (streams, errors)
}

fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, errors: &mut Vec<DiscoverError>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(DiscoverError {
                path: dir.to_path_buf(),
                error,
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // Follows symbolic links; the depth bound ends any loop.
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if meta.is_file() && name.is_some_and(|n| n == RECV_FILE || n == SENT_FILE) {
            files.push(path);
        } else if meta.is_dir() && depth < MAX_DEPTH {
            walk(&path, depth.saturating_add(1), files, errors);
        }
    }
}

fn spec(path: &Path) -> StreamSpec {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let peer_folder = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    let folder_name = peer_folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    StreamSpec {
        path: path.to_path_buf(),
        network: network_from_datadir(&peer_folder),
        peer: PeerName::from_folder(&folder_name),
        peer_folder,
        direction: MessageDirection::from_file_name(&file_name),
    }
}

/// `<datadir>/<network>/message_capture/<peer>`: the network's folder name.
fn network_from_datadir(peer_folder: &Path) -> Option<Network> {
    let capture = peer_folder.parent()?;
    if capture.file_name()? != "message_capture" {
        return None;
    }
    match capture.parent()?.file_name()?.to_str()? {
        "regtest" => Some(Network::Regtest),
        "testnet3" => Some(Network::Testnet3),
        "testnet4" => Some(Network::Testnet4),
        "signet" => Some(Network::Signet),
        _ => None,
    }
}

/// Rule 2 of [`discover`], for streams that rule 1 left without a network.
fn infer_from_ports(streams: &mut [StreamSpec]) {
    // Per capture folder: the peers (once each) with a default port.
    let mut votes: BTreeMap<PathBuf, BTreeMap<PathBuf, Network>> = BTreeMap::new();
    for s in streams.iter() {
        let Some(root) = s.peer_folder.parent() else {
            continue;
        };
        let by_port = s.peer.port.and_then(|port| {
            Network::KNOWN
                .into_iter()
                .find(|n| n.default_port() == Some(port))
        });
        let peers = votes.entry(root.to_path_buf()).or_default();
        if let Some(network) = by_port {
            peers.insert(s.peer_folder.clone(), network);
        }
    }
    let winner = |peers: &BTreeMap<PathBuf, Network>| {
        Network::KNOWN.into_iter().find(|n| {
            let count = peers.values().filter(|v| *v == n).count();
            count.saturating_mul(2) > peers.len()
        })
    };
    for s in streams.iter_mut().filter(|s| s.network.is_none()) {
        s.network = s
            .peer_folder
            .parent()
            .and_then(|root| votes.get(root))
            .and_then(winner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "btcsniff-unit-discover-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"").unwrap();
    }

    #[test]
    fn a_datadir_with_two_networks() {
        let dir = scratch("datadir");
        touch(&dir.join("regtest/message_capture/127.0.0.1_18444/msgs_sent.dat"));
        touch(&dir.join("regtest/message_capture/127.0.0.1_18444/msgs_recv.dat"));
        touch(&dir.join("regtest/message_capture/[__1]_40000/msgs_recv.dat"));
        touch(&dir.join("message_capture/1.2.3.4_8333/msgs_recv.dat"));
        touch(&dir.join("message_capture/5.6.7.8_51234/msgs_sent.dat"));
        touch(&dir.join("blocks/blk00000.dat"));
        let (streams, errors) = discover(std::slice::from_ref(&dir));
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> = streams
            .iter()
            .map(|s| {
                (
                    s.peer.label.as_str(),
                    s.direction.name(),
                    s.network.map(Network::name),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("1.2.3.4:8333", "recv", Some("mainnet")),
                ("5.6.7.8:51234", "sent", Some("mainnet")),
                ("127.0.0.1:18444", "recv", Some("regtest")),
                ("127.0.0.1:18444", "sent", Some("regtest")),
                ("[::1]:40000", "recv", Some("regtest")),
            ]
        );
        // The same file twice (directory and file) is read once.
        let file = dir.join("message_capture/1.2.3.4_8333/msgs_recv.dat");
        let (streams, _) = discover(&[dir.join("message_capture"), file]);
        assert_eq!(streams.len(), 2);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_majority_no_network() {
        let dir = scratch("nomajority");
        touch(&dir.join("a/1.1.1.1_8333/msgs_recv.dat"));
        touch(&dir.join("a/2.2.2.2_38333/msgs_recv.dat"));
        touch(&dir.join("a/3.3.3.3_40000/msgs_recv.dat"));
        let (streams, _) = discover(&[dir.join("a")]);
        assert!(streams.iter().all(|s| s.network.is_none()), "{streams:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_empty_directory_is_an_error() {
        let dir = scratch("empty");
        fs::create_dir_all(dir.join("a/b/c/d/e")).unwrap();
        touch(&dir.join("a/b/c/d/e/msgs_recv.dat"));
        let (streams, errors) = discover(std::slice::from_ref(&dir));
        assert!(streams.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().contains("within 4 levels"),
            "{}",
            errors[0]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directions_from_names() {
        use MessageDirection::*;
        assert_eq!(MessageDirection::from_file_name("msgs_recv.dat"), Recv);
        assert_eq!(MessageDirection::from_file_name("msgs_sent.dat"), Sent);
        assert_eq!(MessageDirection::from_file_name("peer-a.recv.bin"), Recv);
        assert_eq!(MessageDirection::from_file_name("capture.bin"), Unknown);
    }
}
