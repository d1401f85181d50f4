#!/usr/bin/env bash
# `btcsniff live --metrics` scraped by a real Prometheus, beside two real
# nodes (bcoin regtest), all in a network namespace that has nothing but lo.
#
#   [LIVE_ARGS="--threads 1"] scripts/test-prometheus.sh BTCSNIFF OUT_DIR
#
# Re-executes itself under `unshare --net` (needs root) unless it already
# runs in a lo-only namespace. Needs `prometheus` (Debian's package,
# installed by scripts/setup.sh), node, jq and bcoin (scripts/bcoin/install.sh).
# Every step is bounded; the processes started here are stopped by PID.
#
# What happens: btcsniff captures lo (JSON lines to OUT/live.jsonl) and
# serves /metrics; Prometheus scrapes it every second; node B connects to
# node A, node C to both; A mines 101 blocks and a block with a wallet tx,
# B and C sync (C hears of each block from A and from B), and
# `btcsniff probe` asks A for that block (its v2 attempt is refused: a third
# kind of flow). Then the nodes stop and, while btcsniff still runs, the
# checks ask Prometheus's HTTP query API (never btcsniff directly):
#  1. Prometheus scraped btcsniff and the target is up
#  2. sum(btcsniff_messages_total) == message lines in the JSON output
#  3. per command, direction and network: the same counts
#  4. per command: payload bytes == the JSON lines' "length" sums
#  5. per transport: flows == the JSON flow "start" records
#  6. per kind: findings == the JSON finding records
#  7. every PromQL recipe in the README evaluates and gives series
#  8. btcsniff_build_info carries the binary's version
#  9. node A announced every block first (Prometheus's announcer_first),
#     and after SIGINT the --stats summary's first counts are the same
# 10. peer records: per-command counts of each flow side equal the message
#     lines; the three node-to-node flows carry bcoin's version both ways
# 11. SIGUSR1 while the nodes are connected writes snapshot records of the
#     three node-to-node flows, each before its end record, with per-command
#     counts no higher than the end record's
# Each prints "ok: ..." or "FAIL: ..."; exit 1 on any FAIL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/netns-test.sh
source "$here/lib/netns-test.sh"
netns_test_start "test-prometheus.sh BTCSNIFF OUT_DIR" "$@"

METRICS_PORT=9464
PROM_PORT=9090
A_P2P=18444 A_HTTP=18332
B_P2P=18454 B_HTTP=18342
C_P2P=18464 C_HTTP=18352
API_KEY=btcsniff-prometheus-test
# shellcheck source=bcoin/node.sh
source "$here/bcoin/node.sh"

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'echo "test-prometheus: line $LINENO failed: $BASH_COMMAND" >&2' ERR

# 1. The sensor. Its output goes through a pipe, as to jq: lines are then
# written at each capture batch, not when a buffer fills.
# shellcheck disable=SC2086 # LIVE_ARGS: more flags, e.g. --threads 1
"$btcsniff" live -i lo -f "tcp port $A_P2P or tcp port $B_P2P or tcp port $C_P2P" --format json --stats ${LIVE_ARGS:-} \
    --metrics "127.0.0.1:$METRICS_PORT" > >(cat >"$out/live.jsonl") 2>"$out/live.err" &
sniff=$!
pids+=("$sniff")
for _ in $(seq 100); do grep -q listening "$out/live.err" && break; sleep 0.1; done
grep -q listening "$out/live.err" || { echo "FAIL: capture did not start: $(cat "$out/live.err")"; exit 1; }

# 2. Prometheus, scraping every second, its data in OUT.
cat >"$out/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: btcsniff
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
YAML
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$out/prometheus.log" 2>&1 &
pids+=($!)
prom() { timeout 20 node "$here/prometheus/query.js" "$PROM_PORT" "$@"; }
for _ in $(seq 300); do prom ready 2>/dev/null && break; sleep 0.1; done
prom ready || { echo "FAIL: prometheus not ready: $(tail -n 5 "$out/prometheus.log")"; exit 1; }

# 3. Two nodes and their traffic.
node_a="$(bcoin_start "$A_P2P" "$A_HTTP" "$API_KEY" "$out/node-a")"
pids=("$node_a" "${pids[@]}")
node_b="$(bcoin_start "$B_P2P" "$B_HTTP" "$API_KEY" "$out/node-b" "--only=127.0.0.1:$A_P2P")"
pids=("$node_b" "${pids[@]}")
# C hears every block twice: from A, which mines it, and from B, which relays it.
node_c="$(bcoin_start "$C_P2P" "$C_HTTP" "$API_KEY" "$out/node-c" "--only=127.0.0.1:$A_P2P,127.0.0.1:$B_P2P")"
pids=("$node_c" "${pids[@]}")
ctl_a() { timeout 60 node "$here/bcoin/ctl.js" "$A_HTTP" "$API_KEY" "$@"; }
ctl_b() { timeout 60 node "$here/bcoin/ctl.js" "$B_HTTP" "$API_KEY" "$@"; }
ctl_c() { timeout 60 node "$here/bcoin/ctl.js" "$C_HTTP" "$API_KEY" "$@"; }
ctl_a mine 101 >/dev/null
txid=""
for _ in $(seq 20); do
    txid="$(ctl_a send 100000000 2>>"$out/send.err")" && break
    sleep 0.5
done
[[ -n "$txid" ]] || { echo "FAIL: the wallet could not send ($(tail -n 1 "$out/send.err"))"; exit 1; }
block="$(ctl_a mine 1)"
synced=""
for _ in $(seq 300); do
    [[ "$(ctl_b height)" == 102 && "$(ctl_c height)" == 102 ]] && { synced=yes; break; }
    sleep 0.1
done
[[ -n "$synced" ]] || { echo "FAIL: nodes B and C did not sync to height 102 (at $(ctl_b height), $(ctl_c height))"; exit 1; }
timeout 60 "$btcsniff" probe "127.0.0.1:$A_P2P" --network regtest --block "$block" \
    >"$out/probe.txt" 2>&1 || { echo "FAIL: probe: $(tail -n 3 "$out/probe.txt")"; exit 1; }
# While the nodes are still connected: SIGUSR1 asks for a snapshot of the
# open flows (flow records with "event":"snapshot" and their peer records).
kill -USR1 "$sniff"
snapshots=0
for _ in $(seq 50); do
    snapshots="$(jq -s 'map(select(.type == "flow" and .event == "snapshot"
        and .peer.client.version.user_agent == "/bcoin:v1.0.2/"
        and .peer.server.version.user_agent == "/bcoin:v1.0.2/")) | length' "$out/live.jsonl" 2>/dev/null || echo 0)"
    [[ "$snapshots" -ge 3 ]] && break
    sleep 0.2
done

# A frame no node should send: `version` with an empty payload (its
# checksum right), on a connection of its own. A decode finding, so
# findings have something to count; node A drops the connection.
exec 3<>"/dev/tcp/127.0.0.1/$A_P2P"
printf '\xfa\xbf\xb5\xdaversion\0\0\0\0\0\0\0\0\0\x5d\xf6\xe0\xe2' >&3
sleep 0.5
exec 3>&-
echo "traffic: 102 blocks mined by A, relayed to B and C and by B to C, tx $txid, probe of block $block"
bcoin_stop "$node_c"
bcoin_stop "$node_b"
bcoin_stop "$node_a"
pids=("${pids[@]:3}")
sleep 1

# 4. What the JSON output says, and what Prometheus says.
jq -c 'select(.type == "message")' "$out/live.jsonl" >"$out/messages.jsonl"
expected_total="$(wc -l <"$out/messages.jsonl")"
[[ "$expected_total" -gt 200 ]] || fail "only $expected_total messages in the JSON output"

# Prometheus has the final figures once a scrape after the traffic landed.
scraped=""
for _ in $(seq 60); do
    got="$(prom query 'sum(btcsniff_messages_total)' | jq -r '.value')"
    [[ "$got" == "$expected_total" ]] && { scraped=yes; break; }
    sleep 0.5
done
prom targets >"$out/targets.jsonl"
if jq -e 'select(.health == "up")' "$out/targets.jsonl" >/dev/null; then
    ok "target up: $(jq -r .url "$out/targets.jsonl")"
else
    fail "target not up: $(cat "$out/targets.jsonl")"
fi
if [[ -n "$scraped" ]]; then
    ok "messages: Prometheus $got == JSON $expected_total"
else
    fail "messages: Prometheus ${got:-nothing} != JSON $expected_total after 30 s"
fi

# compare NAME PROMQL LABELS JSON_JQ: Prometheus's vector (LABELS, then the
# value) against JSON_JQ run over all the JSON lines at once, both as sorted
# "label... value" lines.
compare() {
    local name=$1 promql=$2 labels=$3 json_jq=$4
    prom query "$promql" | jq -r "[$labels, .value] | map(tostring) | join(\" \")" | sort >"$out/$name.prometheus"
    jq -s -r "$json_jq" "$out/live.jsonl" | sort >"$out/$name.json"
    if [[ -s "$out/$name.json" ]] && cmp -s "$out/$name.prometheus" "$out/$name.json"; then
        ok "$name: $(wc -l <"$out/$name.json") series equal ($(tr '\n' ';' <"$out/$name.json" | cut -c1-100)...)"
    else
        fail "$name differ (< Prometheus, > JSON): $(diff "$out/$name.prometheus" "$out/$name.json" | head -n 10 | tr '\n' ' ')"
    fi
}

# A message's direction: c2s when it comes from its flow's client.
compare by_command_direction \
    'sum by (command, direction, network) (btcsniff_messages_total)' \
    '.labels.command, .labels.direction, .labels.network' \
    '(map(select(.type == "flow" and .event == "start") | {key: (.flow | tostring), value: .client}) | from_entries) as $client
     | map(select(.type == "message")
           | {command, network, direction: (if .src == $client[.flow | tostring] then "c2s" else "s2c" end)})
     | group_by([.command, .direction, .network])[]
     | "\(.[0].command) \(.[0].direction) \(.[0].network) \(length)"'
compare bytes_by_command \
    'sum by (command) (btcsniff_message_bytes_total)' \
    '.labels.command' \
    'map(select(.type == "message")) | group_by(.command)[] | "\(.[0].command) \(map(.length) | add)"'
compare flows_by_transport \
    'sum by (transport) (btcsniff_flows_total)' \
    '.labels.transport' \
    'map(select(.type == "flow" and .event == "start")) | group_by(.transport)[] | "\(.[0].transport) \(length)"'
findings_json="$(jq -s 'map(select(.type == "finding")) | length' "$out/live.jsonl")"
if [[ "$findings_json" == 0 ]]; then
    got="$(prom query 'sum(btcsniff_findings_total) or vector(0)' | jq -r .value)"
    if [[ "$got" == 0 ]]; then ok "findings: none in JSON, none in Prometheus"; else fail "findings: Prometheus $got, JSON none"; fi
else
    compare findings_by_kind \
        'sum by (kind) (btcsniff_findings_total)' \
        '.labels.kind' \
        'map(select(.type == "finding")) | group_by(.kind)[] | "\(.[0].kind) \(length)"'
fi
# The README's PromQL recipes (its ```promql block), each asked as written:
# each must evaluate and give at least one series here.
recipes=0
while IFS= read -r recipe; do
    [[ -z "$recipe" || "$recipe" == \#* ]] && continue
    recipes=$((recipes + 1))
    if ! answer="$(prom query "$recipe" 2>&1)"; then
        fail "README recipe '$recipe': $answer"
    elif [[ -z "$answer" ]]; then
        fail "README recipe '$recipe': no series"
    else
        ok "README recipe '$recipe': $(echo "$answer" | wc -l) series"
    fi
done < <(awk '/^```promql$/ {inside = 1; next} /^```$/ {inside = 0} inside' "$here/../README.md")
[[ "$recipes" -ge 5 ]] || fail "README has $recipes PromQL recipes in its \`\`\`promql block (5 expected)"

version="$("$btcsniff" --version | awk '{print $2}')"
build="$(prom query 'btcsniff_build_info' | jq -r .labels.version)"
if [[ "$build" == "$version" ]]; then ok "build_info: version $build"; else fail "build_info: '$build', binary says '$version'"; fi

# 5. Who was first: A mined every block, so across all flows it announced
# each first; B and C only relay. Then btcsniff stops (SIGINT) and its
# --stats summary must agree with what Prometheus had.
prom query 'btcsniff_announcer_first' | jq -r '"\(.labels.peer) \(.labels.kind) \(.value)"' | sort >"$out/announcer_first.prometheus"
prom query 'btcsniff_announcer_announced' | jq -r '"\(.labels.peer) \(.labels.kind) \(.value)"' | sort >"$out/announcer_announced.prometheus"
a_blocks="$(awk -v a="127.0.0.1:$A_P2P" '$1 == a && $2 == "block" {print $3}' "$out/announcer_first.prometheus")"
all_blocks="$(awk '$2 == "block" {n += $3} END {print n + 0}' "$out/announcer_first.prometheus")"
if [[ "${a_blocks:-0}" -ge 102 && "$a_blocks" == "$all_blocks" ]]; then
    ok "first announcer: node A first for all $a_blocks blocks ($(tr '\n' ';' <"$out/announcer_first.prometheus"))"
else
    fail "first announcer: node A first for ${a_blocks:-no} of $all_blocks blocks: $(tr '\n' ';' <"$out/announcer_first.prometheus")"
fi
kill -INT "$sniff"
for _ in $(seq 100); do kill -0 "$sniff" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$sniff" 2>/dev/null; then fail "btcsniff did not stop on SIGINT"; fi
sleep 0.5
jq -r 'select(.type == "stats") | .announcers[] | "\(.peer) tx \(.txs.first)", "\(.peer) block \(.blocks.first)"' \
    "$out/live.jsonl" | sort >"$out/announcer_first.json"
if [[ -s "$out/announcer_first.json" ]] && cmp -s "$out/announcer_first.prometheus" "$out/announcer_first.json"; then
    ok "first announcer: Prometheus == --stats ($(wc -l <"$out/announcer_first.json") series)"
else
    fail "first announcer differ (< Prometheus, > --stats): $(diff "$out/announcer_first.prometheus" "$out/announcer_first.json" | head -n 10 | tr '\n' ' ')"
fi

# 6. Peer records (flow end records): each side's per-command counts equal
# the message lines of that flow and side; the three node-to-node flows
# show bcoin's version on both sides.
jq -s -r '(map(select(.type == "flow" and .event == "start") | {key: (.flow | tostring), value: .client}) | from_entries) as $client
    | map(select(.type == "message") | .side = (if .src == $client[.flow | tostring] then "client" else "server" end))
    | group_by([.flow, .side, .command])[] | "\(.[0].flow) \(.[0].side) \(.[0].command) \(length)"' \
    "$out/live.jsonl" | sort >"$out/peer_commands.json"
jq -r 'select(.type == "flow" and .event == "end" and .peer != null) | .flow as $f | .peer
    | ["client", "server"][] as $side | .[$side].commands | to_entries[] | "\($f) \($side) \(.key) \(.value.messages)"' \
    "$out/live.jsonl" | sort >"$out/peer_commands.record"
if [[ -s "$out/peer_commands.json" ]] && cmp -s "$out/peer_commands.json" "$out/peer_commands.record"; then
    ok "peer records: per-command counts of $(wc -l <"$out/peer_commands.json") flow sides equal the message lines"
else
    fail "peer records differ (< message lines, > records): $(diff "$out/peer_commands.json" "$out/peer_commands.record" | head -n 10 | tr '\n' ' ')"
fi
node_flows="$(jq -s 'map(select(.type == "flow" and .event == "end" and .peer.client.version.user_agent == "/bcoin:v1.0.2/"
    and .peer.server.version.user_agent == "/bcoin:v1.0.2/" and .peer.server.version.start_height >= 0)) | length' "$out/live.jsonl")"
if [[ "$node_flows" == 3 ]]; then ok "peer records: 3 node-to-node flows with bcoin's version on both sides"; else fail "peer records: $node_flows node-to-node flows with both versions (3 expected)"; fi

# 7. The snapshot (SIGUSR1): the three node-to-node flows, open then, each
# before its end record, with per-command counts no higher than at the end.
if [[ "$snapshots" -ge 3 ]]; then
    ok "snapshot: $snapshots open node-to-node flows with their peer records on SIGUSR1"
else
    fail "snapshot: $snapshots node-to-node flows in snapshot records after SIGUSR1 (3 expected)"
fi
grew="$(jq -s '[to_entries[] | select(.value.type == "flow" and (.value.event == "snapshot" or .value.event == "end"))
    | {i: .key, flow: .value.flow, event: .value.event, peer: .value.peer}]
    | group_by(.flow)[] | select(any(.[]; .event == "snapshot"))
    | (map(select(.event == "snapshot"))[0]) as $snap | (map(select(.event == "end"))[0]) as $last
    | if $last == null or $last.i < $snap.i then "flow \($snap.flow): no end record after its snapshot"
      else (["client", "server"][] as $side | $snap.peer[$side].commands | to_entries[]
            | select(.value.messages > ($last.peer[$side].commands[.key].messages // 0))
            | "flow \($snap.flow) \($side) \(.key): \(.value.messages) at the snapshot, fewer at the end")
      end' "$out/live.jsonl")"
if [[ -z "$grew" ]]; then ok "snapshot: each before its end record, counts within the end's"; else fail "snapshot: $grew"; fi

echo "failures: $failures"
[[ "$failures" == 0 ]]
