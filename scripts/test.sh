#!/usr/bin/env bash
# The whole test suite: starts the real secret-store servers (installing them on first use),
# runs the Vault example end to end and every test with every feature, and stops the servers.
# PostgreSQL (for the database secrets engine) is installed from Debian's packages if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost AWS_EC2_METADATA_DISABLED=true
scripts/stores.sh start
trap 'scripts/stores.sh stop' EXIT

# The Vault example: a secret written with the bao CLI, read back through references.
HOME="$PWD/target/stores/home-bao" VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root .venv-stores/bin/bao kv put secret/pipeline/production \
  SHOPIFY_API_KEY=shpat_example_only DATABASE_URL=postgres://etl:example@db/warehouse >/dev/null
VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root cargo run -q --example vault --features vault

log="$(mktemp)"
status=0
cargo test --workspace --all-features "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole run: cargo prints one `test result` per test binary, and the
# last of them (a crate's doc tests) may well hold no test.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
