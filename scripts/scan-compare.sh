#!/usr/bin/env bash
# `settings scan` side by side with detect-secrets (PyPI) and secretlint (npm), on the same trees:
#   1. the planted corpus of settings-cli/tests/scan.rs (recall, false positives);
#   2. real code nobody here wrote: a copy of the first CRATES (default 30) crates of the local cargo
#      registry (wall time, throughput, findings per rule). The whole registry takes secretlint
#      and detect-secrets tens of minutes; pass a directory to scan another tree instead.
# Installs the two tools into target/scan-compare on first use (needs pip and npm). Prints a
# Markdown table for the README. Usage: [CRATES=n] scripts/scan-compare.sh [TREE]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=target/scan-compare
mkdir -p "$WORK"
if [ -n "${1:-}" ]; then
  REAL=$1
else
  REAL=$WORK/real
  if [ ! -d "$REAL" ]; then
    mkdir -p "$REAL"
    ls -d "$HOME"/.cargo/registry/src/*/*/ | grep -v '/settings-' | sort | head -n "${CRATES:-30}" \
      | while read -r crate; do cp -r "$crate" "$REAL/"; done
  fi
fi

if [ ! -x "$WORK/venv/bin/detect-secrets" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q --disable-pip-version-check detect-secrets
fi
if [ ! -x "$WORK/npm/node_modules/.bin/secretlint" ]; then
  mkdir -p "$WORK/npm"
  (cd "$WORK/npm" && npm init -y >/dev/null && npm install --silent secretlint @secretlint/secretlint-rule-preset-recommend >/dev/null)
  echo '{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}' >"$WORK/npm/.secretlintrc.json"
fi
cargo build -q --release -p settings-cli
SETTINGS=$PWD/target/release/settings
DETECT=$PWD/$WORK/venv/bin/detect-secrets
SECRETLINT=$PWD/$WORK/npm/node_modules/.bin/secretlint
SECRETLINTRC=$PWD/$WORK/npm/.secretlintrc.json

rm -rf "$WORK/planted" && mkdir -p "$WORK/planted"
SCAN_CORPUS=$PWD/$WORK/planted SCAN_MANIFEST=$PWD/$WORK/planted.json \
  cargo test -q -p settings-cli --test scan -- --ignored write_planted_corpus >/dev/null

# Each tool writes its findings as JSON; the timings are wall time of one run.
run() { # name tree out
  local name=$1 tree=$2 out=$3 start end
  start=$(date +%s.%N)
  case $name in
    settings) (cd "$tree" && "$SETTINGS" scan --format json . >"$out" 2>/dev/null) || true ;;
    detect-secrets) (cd "$tree" && "$DETECT" scan --all-files . >"$out" 2>/dev/null) || true ;;
    secretlint) (cd "$tree" && "$SECRETLINT" --secretlintrc "$SECRETLINTRC" --format json "**/*" >"$out" 2>/dev/null) || true ;;
  esac
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.2f}')"
}

declare -A PLANTED_TIME REAL_TIME
for tool in settings detect-secrets secretlint; do
  PLANTED_TIME[$tool]=$(run "$tool" "$WORK/planted" "$PWD/$WORK/$tool-planted.json")
  REAL_TIME[$tool]=$(run "$tool" "$REAL" "$PWD/$WORK/$tool-real.json")
done
BYTES=$(du -sb "$REAL" | cut -f1)
FILES=$(find "$REAL" -type f | wc -l)

python3 - "$WORK" "$BYTES" "$FILES" \
  "${PLANTED_TIME[settings]}" "${PLANTED_TIME[detect-secrets]}" "${PLANTED_TIME[secretlint]}" \
  "${REAL_TIME[settings]}" "${REAL_TIME[detect-secrets]}" "${REAL_TIME[secretlint]}" <<'PY'
import collections, json, os, sys
work, size, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
planted_time = dict(zip(["settings", "detect-secrets", "secretlint"], map(float, sys.argv[4:7])))
real_time = dict(zip(["settings", "detect-secrets", "secretlint"], map(float, sys.argv[7:10])))

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception:
        return None

def places(tool, data):
    """(file, line, rule) of every finding."""
    out = []
    if data is None:
        return out
    if tool == "settings":
        out = [(f["file"], f["line"], f["rule"]) for f in data]
    elif tool == "detect-secrets":
        for file, results in data.get("results", {}).items():
            out += [(os.path.normpath(file), r["line_number"], r["type"]) for r in results]
    else:
        for item in data:
            for m in item.get("messages", []):
                out.append((item["filePath"], m.get("loc", {}).get("start", {}).get("line", m.get("line", 0)), m.get("ruleId", "?")))
    return out

manifest = {(p["file"], p["line"]) for p in json.load(open(os.path.join(work, "planted.json")))}
root = os.path.abspath(os.path.join(work, "planted"))
print("| tool | planted: found (recall) | planted: other findings | real code: wall time | throughput | findings |")
print("|---|---|---|---|---|---|")
for tool in ["settings", "detect-secrets", "secretlint"]:
    planted = places(tool, load(os.path.join(work, f"{tool}-planted.json")))
    lines = set()
    for file, line, _ in planted:
        file = os.path.relpath(file, root) if os.path.isabs(file) else os.path.normpath(file)
        lines.add((file, line))
    found = len(lines & manifest)
    other = len(lines - manifest)
    real = places(tool, load(os.path.join(work, f"{tool}-real.json")))
    mbps = size / 1e6 / real_time[tool] if real_time[tool] > 0 else 0
    print(f"| {tool} | {found} of {len(manifest)} ({100 * found / len(manifest):.0f}%) | {other} | {real_time[tool]:.1f} s | {mbps:.1f} MB/s | {len(real)} |")
print()
print(f"Real code: {files} files, {size / 1e6:.0f} MB. Findings per rule on it:")
for tool in ["settings", "detect-secrets", "secretlint"]:
    counts = collections.Counter(rule for _, _, rule in places(tool, load(os.path.join(work, f"{tool}-real.json"))))
    print(f"- {tool}: " + (", ".join(f"{r} {n}" for r, n in counts.most_common()) or "none"))
PY
