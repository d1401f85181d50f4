//! Every jq recipe of README.md ("jq recipes"), run as written: the real
//! binary as `btcsniff` on PATH, the system jq (/usr/bin/jq, 1.6 on Debian
//! 12), a capture named `cap.pcap` in the working directory, under
//! `bash -o pipefail`. Each recipe runs on every test capture (no failure,
//! no `null` line, nothing on stderr) and must print what it promises on
//! the capture that has it.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const JQ: &str = "/usr/bin/jq";

struct Recipe {
    comment: String,
    command: String,
}

/// The commented commands of the README's "jq recipes" block.
fn readme_recipes() -> Vec<Recipe> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("### jq recipes")
        .nth(1)
        .expect("a \"jq recipes\" section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block in the jq recipes section");
    let mut recipes = Vec::new();
    let mut comment = None;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(c) = line.strip_prefix("# ") {
            comment = Some(c.to_string());
        } else {
            let comment = comment
                .take()
                .unwrap_or_else(|| panic!("no comment: {line}"));
            assert!(line.starts_with("btcsniff read cap.pcap"), "{line}");
            recipes.push(Recipe {
                comment,
                command: line.to_string(),
            });
        }
    }
    recipes
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Capture {
    /// samples/bcoin-regtest-sync.pcap: a regtest sync from bcoin.
    Sync,
    /// samples/bcoin-regtest-port28444.pcap: the same with pings.
    Pings,
    /// 2011 mainnet traffic with legacy headers and gaps.
    Mainnet2011,
    /// A Core version message with a wrong checksum.
    BadChecksum,
    /// Built here: an unknown command, a 64-bit ping nonce, a gap, a v2
    /// session.
    Made,
}

const ALL: [Capture; 5] = [
    Capture::Sync,
    Capture::Pings,
    Capture::Mainnet2011,
    Capture::BadChecksum,
    Capture::Made,
];

/// Above 2^53: jq 1.6 would print 14424228842357955000 for this number.
const BIG_NONCE: u64 = 14_424_228_842_357_953_719;

fn made_capture(path: &Path) {
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:18444");
    conn.handshake(&mut pcap);
    conn.c2s(
        &mut pcap,
        &frame(REGTEST, "version", &version_payload(b"/made:1/")),
    );
    conn.s2c(&mut pcap, &frame(REGTEST, "verack", &[]));
    conn.c2s(&mut pcap, &frame(REGTEST, "fancynew", b"\x01\x02\x03"));
    conn.c2s(&mut pcap, &frame(REGTEST, "ping", &BIG_NONCE.to_le_bytes()));
    conn.s2c(&mut pcap, &frame(REGTEST, "pong", &BIG_NONCE.to_le_bytes()));
    // A gap: a finding in the stream, which no recipe may print as null.
    conn.lose_c2s(100);
    conn.c2s(&mut pcap, &frame(REGTEST, "ping", &7u64.to_le_bytes()));
    conn.close(&mut pcap);
    // BIP324 v2 on port 8333: not a v1 header from the first byte.
    let mut v2 = Conn::new("10.0.0.3:40001", "10.0.0.2:8333");
    v2.handshake(&mut pcap);
    v2.c2s(&mut pcap, &noise(64, 1));
    v2.s2c(&mut pcap, &noise(64, 2));
    v2.close(&mut pcap);
    pcap.write(path);
}

fn capture_path(capture: Capture, dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match capture {
        Capture::Sync => root.join("samples/bcoin-regtest-sync.pcap"),
        Capture::Pings => root.join("samples/bcoin-regtest-port28444.pcap"),
        Capture::Mainnet2011 => root.join("tests/data/mainnet-2011-ndpi.pcap"),
        Capture::BadChecksum => root.join("tests/data/jnewbery-regtest/version2.pcap"),
        Capture::Made => {
            let path = dir.join("made.pcap");
            made_capture(&path);
            path
        }
    }
}

type Check = fn(&[&str]) -> Result<(), String>;

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn json(line: &str) -> Result<Value, String> {
    serde_json::from_str(line).map_err(|e| format!("not JSON: {line}: {e}"))
}

/// Equal JSON values, integers compared exactly, other numbers as doubles.
fn same_values(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_u64(), y.as_u64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_values(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_values(v, w)))
        }
        _ => a == b,
    }
}

fn expect(ok: bool, what: &str, lines: &[&str]) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("expected {what}, got {lines:?}"))
    }
}

/// The capture each recipe is checked on, and what it must print there.
fn expectation(comment: &str) -> (Capture, Check) {
    match comment {
        "count messages per command" => (Capture::Sync, |lines| {
            let counts: Vec<String> = lines
                .iter()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            expect(
                counts.contains(&"90 block".to_string())
                    && counts.contains(&"4 version".to_string()),
                "90 block and 4 version",
                lines,
            )
        }),
        "list txids of tx messages" => (Capture::Sync, |lines| {
            expect(
                lines == ["1286ce4cb62cb9a72f7df97bc4b37075c65b7cee8f93e113fafb9dd99f832594"],
                "the sample's one txid",
                lines,
            )
        }),
        "txids and sizes of every transaction in every block" => (Capture::Sync, |lines| {
            let well_formed = lines.iter().all(|l| {
                l.split_once(' ')
                    .is_some_and(|(txid, vsize)| is_hash(txid) && vsize.parse::<u32>().is_ok())
            });
            expect(
                lines.len() == 90 && well_formed,
                "90 lines of txid and vsize",
                lines,
            )
        }),
        "outputs paying to P2PKH scripts (76a914…), inside blocks too (-v: whole transactions)" => {
            (Capture::Sync, |lines| {
                for line in lines {
                    let v = json(line)?;
                    let script = v["script_pubkey"].as_str().unwrap_or_default();
                    if !script.starts_with("76a914")
                        || !v["value"].is_u64()
                        || v["script_type"] != "pubkeyhash"
                    {
                        return Err(format!("not a P2PKH output: {line}"));
                    }
                }
                expect(lines.len() == 92, "92 outputs", lines)
            })
        }
        "outputs per script type and address (-v: inside blocks too)" => (Capture::Sync, |lines| {
            // `N pubkeyhash ADDRESS`: regtest P2PKH addresses (m… or n…),
            // the 92 outputs of the recipe above.
            let mut total = 0;
            for line in lines {
                let parts: Vec<&str> = line.split_whitespace().collect();
                let [count, "pubkeyhash", address] = parts[..] else {
                    return Err(format!("not `N pubkeyhash ADDRESS`: {line}"));
                };
                if !(address.starts_with('m') || address.starts_with('n')) {
                    return Err(format!("not a regtest P2PKH address: {line}"));
                }
                total += count.parse::<usize>().map_err(|e| format!("{line}: {e}"))?;
            }
            expect(total == 92, "92 outputs", lines)
        }),
        "messages with a bad checksum" => (Capture::BadChecksum, |lines| {
            let v = json(lines.first().copied().unwrap_or("{}"))?;
            expect(
                lines.len() == 1
                    && v["command"] == "version"
                    && v["checksum_header"] == "8084b609"
                    && v["checksum_computed"] == "186f7ab3",
                "the version with header 8084b609, computed 186f7ab3",
                lines,
            )
        }),
        "user agents seen" => (Capture::Sync, |lines| {
            let counts: Vec<String> = lines
                .iter()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            expect(
                counts == ["3 /bcoin:v1.0.2/", "1 /btcsniff-harness:0/"],
                "3 bcoin, 1 harness",
                lines,
            )
        }),
        "ping and pong nonces (64-bit identifiers are strings: exact in any jq)" => {
            (Capture::Made, |lines| {
                expect(
                    lines
                        == [
                            "ping 14424228842357953719",
                            "pong 14424228842357953719",
                            "ping 7",
                        ],
                    "the nonces exact",
                    lines,
                )
            })
        }
        "messages of commands btcsniff does not decode" => (Capture::Made, |lines| {
            let v = json(lines.first().copied().unwrap_or("{}"))?;
            expect(
                lines.len() == 1 && v["command"] == "fancynew" && v["length"] == 3,
                "the fancynew message",
                lines,
            )
        }),
        "BIP324 v2 sessions, and what the wire shows of them" => (Capture::Made, |lines| {
            let v = json(lines.first().copied().unwrap_or("{}"))?;
            expect(
                lines.len() == 1 && v["server"] == "10.0.0.2:8333",
                "the v2 flow's end",
                lines,
            )
        }),
        other => panic!("README recipe without an expectation here: {other}"),
    }
}

/// Runs `command` in `dir` (which holds `cap.pcap` and `bin/btcsniff`).
fn run_recipe(dir: &Path, command: &str) -> (bool, String, String) {
    let path = format!("{}:/usr/bin:/bin", dir.join("bin").display());
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("run bash");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn have_jq() -> bool {
    let found = Command::new(JQ)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{JQ} is missing under CI (scripts/setup.sh installs it)"
        );
        eprintln!("SKIPPED: {JQ} not installed (apt-get install jq)");
    }
    found
}

#[test]
fn every_readme_recipe_runs_and_prints_what_it_promises() {
    if !have_jq() {
        return;
    }
    let recipes = readme_recipes();
    assert!(recipes.len() >= 9, "recipes found: {}", recipes.len());
    let dir = scratch_dir("recipes");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let link = dir.join("bin/btcsniff");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_btcsniff"), &link).unwrap();
    let mut checked = 0;
    for capture in ALL {
        let cap = dir.join("cap.pcap");
        let _ = std::fs::remove_file(&cap);
        std::fs::copy(capture_path(capture, &dir), &cap).expect("copy capture");
        for recipe in &recipes {
            let (ok, stdout, stderr) = run_recipe(&dir, &recipe.command);
            let what = format!("{:?}: {}", capture, recipe.command);
            assert!(ok && stderr.is_empty(), "{what}\nstderr: {stderr}");
            let lines: Vec<&str> = stdout.lines().collect();
            assert!(
                !lines.iter().any(|l| l.trim() == "null"),
                "{what} printed null:\n{stdout}"
            );
            let (wanted, check) = expectation(&recipe.comment);
            if wanted == capture {
                check(&lines).unwrap_or_else(|e| panic!("{what}: {e}"));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, recipes.len());
    let _ = std::fs::remove_dir_all(dir);
}

/// The point of strings for 64-bit identifiers: jq 1.6 reads numbers as
/// doubles and rounds those above 2^53; strings come through intact.
#[test]
fn sixty_four_bit_identifiers_survive_the_system_jq() {
    if !have_jq() {
        return;
    }
    let version = Command::new(JQ).arg("--version").output().unwrap();
    eprintln!(
        "system jq: {}",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    let dir = scratch_dir("jq-ids");
    let path = dir.join("made.pcap");
    made_capture(&path);
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(&path)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let jq = |filter: &str| {
        let mut child = Command::new(JQ)
            .args(["-c", filter])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
        let result = child.wait_with_output().unwrap();
        assert!(result.status.success());
        String::from_utf8(result.stdout).unwrap()
    };
    // Every line comes back from jq with the same values (`jq -c .`
    // rewrites each number from its double: an integer above 2^53 would
    // change; `ts` loses only its trailing zeros).
    let ours = String::from_utf8_lossy(&out.stdout).into_owned();
    let through_jq = jq(".");
    assert_eq!(ours.lines().count(), through_jq.lines().count());
    for (a, b) in ours.lines().zip(through_jq.lines()) {
        let (a, b) = (json(a).unwrap(), json(b).unwrap());
        assert!(same_values(&a, &b), "jq changed\n{a}\ninto\n{b}");
    }
    assert_eq!(
        jq(r#"select(.command=="ping") | .payload.nonce"#),
        format!("\"{BIG_NONCE}\"\n\"7\"\n")
    );
    let version = jq(r#"select(.command=="version") | .payload.services.bits"#);
    assert_eq!(version, "\"9\"\n");
    let _ = std::fs::remove_dir_all(dir);
}
