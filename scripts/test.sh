#!/usr/bin/env bash
# The whole test suite: starts the real secret-store servers (installing them on first use),
# runs the Vault example end to end and every test with every feature, and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost AWS_EC2_METADATA_DISABLED=true
scripts/stores.sh start
trap 'scripts/stores.sh stop' EXIT

# The Vault example: a secret written with the bao CLI, read back through references.
VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root .venv-stores/bin/bao kv put secret/pipeline/production \
  SHOPIFY_API_KEY=shpat_example_only DATABASE_URL=postgres://etl:example@db/warehouse >/dev/null
VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root cargo run -q --example vault --features vault

cargo test --workspace --all-features "$@"
