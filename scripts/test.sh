#!/usr/bin/env bash
# The whole test suite: starts the real secret-store servers (installing them on first use),
# runs every test with every feature, and stops the servers again.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost AWS_EC2_METADATA_DISABLED=true
scripts/stores.sh start
trap 'scripts/stores.sh stop' EXIT
cargo test --workspace --all-features "$@"
