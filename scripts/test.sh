#!/usr/bin/env bash
# The test command: every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release 2>&1
