//! Replays every input under tests/data/fuzz-regressions/TARGET/ through
//! the same code as the fuzz target TARGET (fuzz/bodies/TARGET.rs): each
//! file there once crashed, hung or ballooned; now it must pass the
//! target's own assertions.

#[path = "../fuzz/bodies/core_capture.rs"]
mod core_capture;
#[path = "../fuzz/bodies/framing.rs"]
mod framing;
#[path = "../fuzz/bodies/keylog.rs"]
mod keylog;
#[path = "../fuzz/bodies/messages.rs"]
mod messages;
#[path = "../fuzz/bodies/read_pipeline.rs"]
mod read_pipeline;
#[path = "../fuzz/bodies/reassembly.rs"]
mod reassembly;
#[path = "../fuzz/bodies/v2_decoder.rs"]
mod v2_decoder;

use std::path::Path;

/// A fuzz target's body.
type Body = fn(&[u8]);

/// Runs `body` on every file of the target's folder; returns how many.
fn replay(target: &str, body: Body) -> usize {
    replay_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz-regressions")
            .join(target),
        body,
    )
}

fn replay_dir(dir: &Path, body: Body) -> usize {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    for path in &files {
        let data = match std::fs::read(path) {
            Ok(data) => data,
            // A running fuzzer replaces corpus files as it shrinks them.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        if std::env::var_os("REPLAY_VERBOSE").is_some() {
            eprintln!("replaying {}", path.display());
        }
        body(&data);
    }
    files.len()
}

#[test]
fn framing_regressions() {
    replay("framing", framing::run);
}

#[test]
fn messages_regressions() {
    replay("messages", messages::run);
}

#[test]
fn reassembly_regressions() {
    replay("reassembly", reassembly::run);
}

#[test]
fn read_pipeline_regressions() {
    replay("read_pipeline", read_pipeline::run);
}

#[test]
fn core_capture_regressions() {
    replay("core_capture", core_capture::run);
}

#[test]
fn v2_decoder_regressions() {
    replay("v2_decoder", v2_decoder::run);
}

#[test]
fn keylog_regressions() {
    replay("keylog", keylog::run);
}

/// The v2 bodies on inputs of every mode (the folders start empty): raw
/// bytes, bytes after a real terminator, and scripted sessions with and
/// without damage.
#[test]
fn v2_bodies_accept_every_mode() {
    let capture = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mainnet-2011-ndpi.pcap"),
    )
    .expect("read capture");
    for mode in 0u8..=255 {
        let mut data = vec![mode, mode.wrapping_mul(37)];
        data.extend_from_slice(&capture[..600]);
        v2_decoder::run(&data);
    }
    // Scripted, undamaged: messages and decoys only (ops 0-2).
    let script: Vec<u8> = (0..200u8)
        .map(|i| if i % 2 == 0 { i % 3 } else { i })
        .collect();
    for mode in [1u8, 3, 0x81, 0x83] {
        for seed in [0u8, 7, 63, 0x45] {
            let mut data = vec![mode, seed];
            data.extend_from_slice(&script);
            v2_decoder::run(&data);
        }
    }
    let line = format!(
        "BIP324 {} {}\n# c\nother\n",
        "ab".repeat(64),
        "cd".repeat(32)
    );
    for seed in [0u8, 1, 5, 200] {
        let mut data = vec![seed];
        data.extend_from_slice(line.as_bytes());
        data.extend_from_slice(&capture[..300]);
        keylog::run(&data);
    }
}

/// The bodies also hold on ordinary inputs (so a regression folder that is
/// still empty tests something): the real captures through the pipeline.
#[test]
fn bodies_accept_real_captures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "samples/bcoin-regtest-sync.pcap",
        "tests/data/jnewbery-regtest/block.pcap",
    ] {
        let data = std::fs::read(root.join(name)).expect("read capture");
        read_pipeline::run(&data);
        framing::run(&data);
        let mut msg = vec![11u8];
        msg.extend_from_slice(&data);
        messages::run(&msg);
        reassembly::run(&data);
        core_capture::run(&data);
    }
}

/// The core_capture body on well-formed records (real payloads), cut at
/// every length, and with a length that lies.
#[test]
fn core_capture_body_accepts_records_and_every_cut() {
    let mut file = Vec::new();
    let mut record = |time: u64, command: &str, payload: &[u8]| {
        file.extend_from_slice(&time.to_le_bytes());
        let mut field = [0u8; 12];
        field[..command.len()].copy_from_slice(command.as_bytes());
        file.extend_from_slice(&field);
        file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        file.extend_from_slice(payload);
    };
    record(1, "verack", &[]);
    record(2, "ping", &7u64.to_le_bytes());
    record(
        3,
        "inv",
        &[1, 1, 0, 0, 0]
            .iter()
            .copied()
            .chain([9; 32])
            .collect::<Vec<_>>(),
    );
    record(4, "foo", b"bar");
    for cut in 0..=file.len() {
        core_capture::run(&file[..cut]);
    }
    let mut lying = file.clone();
    lying[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    core_capture::run(&lying);
}

/// The whole local corpus (fuzz/corpus, git-ignored) through the bodies in
/// this build: a debug `cargo test` adds overflow checks and debug
/// assertions the fuzz build does not have.
/// `cargo test --test hostile_fuzz_regressions -- --ignored`
#[test]
#[ignore = "needs a local fuzz/corpus"]
fn replay_local_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let bodies: [(&str, Body); 7] = [
        ("core_capture", core_capture::run),
        ("framing", framing::run),
        ("messages", messages::run),
        ("reassembly", reassembly::run),
        ("read_pipeline", read_pipeline::run),
        ("v2_decoder", v2_decoder::run),
        ("keylog", keylog::run),
    ];
    for (target, body) in bodies {
        let dir = corpus.join(target);
        if dir.is_dir() {
            let n = replay_dir(&dir, body);
            eprintln!("{target}: {n} corpus inputs replayed");
        }
    }
}
