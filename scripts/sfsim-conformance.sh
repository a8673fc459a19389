#!/usr/bin/env bash
# Runs independent Salesforce clients (simple-salesforce from PyPI, jsforce from npm, Airbyte's
# airbyte-source-salesforce from PyPI) against a fresh local org and fails on any mismatch.
# Prints a final line `N passed, M failed`.
#
#   SFSIM_CMD           command that starts the org (default: target/debug/sonde sfsim)
#   SFSIM_AIRBYTE_VENV  virtualenv for the Airbyte connector, made on first use and reused
#                       (default: ~/.cache/sonde/airbyte-salesforce-VERSION): it pins its own
#                       airbyte-cdk stack, kept apart from system packages, and takes ~3 minutes
#                       to install
#
# Each suite gets its own fresh org (TLS, demo seed, conformance metadata), so limit and
# session faults injected by one suite cannot leak into the other.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONF="$ROOT/conformance/sfsim"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sfsim-conformance.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

TARGET="${CARGO_TARGET_DIR:-target}"
if [[ -z "${SFSIM_CMD:-}" ]]; then
  if [[ -x "$TARGET/debug/sonde" ]] || cargo build -q --bin sonde 2>/dev/null; then
    SFSIM_CMD="$TARGET/debug/sonde sfsim"
  else
    # Before the `sonde` binary exists, the sfsim crate's example runs the same CLI.
    cargo build -q -p sfsim --example sfsim || { echo "0 passed, 1 failed"; exit 1; }
    SFSIM_CMD="$TARGET/debug/examples/sfsim"
  fi
fi

echo "== installing clients"
python3 -c 'import simple_salesforce' 2>/dev/null || python3 -m pip install --quiet simple-salesforce
if [[ ! -d "$CONF/js/node_modules/jsforce" ]]; then
  (cd "$CONF/js" && npm ci --silent --no-audit --no-fund) || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi
AIRBYTE_VERSION="2.10.3"
AIRBYTE_VENV="${SFSIM_AIRBYTE_VENV:-$HOME/.cache/sonde/airbyte-salesforce-$AIRBYTE_VERSION}"
AIRBYTE_PY="$AIRBYTE_VENV/bin/python"
if ! "$AIRBYTE_PY" -c 'import source_salesforce' 2>/dev/null; then
  python3 -m venv "$AIRBYTE_VENV" \
    && "$AIRBYTE_PY" -m pip install --quiet "airbyte-source-salesforce==$AIRBYTE_VERSION" \
    || echo "airbyte-source-salesforce install failed"
fi

# start_org NAME: starts an org and leaves its ready line in $WORK/NAME.json.
start_org() {
  local name="$1"
  # shellcheck disable=SC2086
  $SFSIM_CMD --listen 127.0.0.1:0 --tls --state "$WORK/$name-state" --seed demo \
    --metadata "$CONF/metadata.yaml" >"$WORK/$name.json" 2>"$WORK/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 600); do
    if [[ -s "$WORK/$name.json" ]] && head -1 "$WORK/$name.json" | python3 -c 'import json,sys; json.loads(sys.stdin.readline())' 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "org $name exited early:"; cat "$WORK/$name.err"; return 1
    fi
    sleep 0.2
  done
  echo "org $name did not print its ready line"; return 1
}

PASSED=0
FAILED=0
tally() {
  local log="$1" line
  line="$(grep -E '^RESULT passed=[0-9]+ failed=[0-9]+' "$log" | tail -1)"
  if [[ -z "$line" ]]; then
    FAILED=$((FAILED + 1))
    return
  fi
  local p f
  p="$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")"
  f="$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")"
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
}

echo "== simple-salesforce"
if start_org python; then
  python3 "$CONF/python/conformance.py" "$WORK/python.json" 2>&1 | tee "$WORK/python.log"
  tally "$WORK/python.log"
else
  FAILED=$((FAILED + 1))
fi

echo "== jsforce"
if start_org js; then
  CA="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("ca_cert",""))' "$WORK/js.json")"
  (cd "$CONF/js" && NODE_EXTRA_CA_CERTS="$CA" node conformance.mjs "$WORK/js.json") 2>&1 | tee "$WORK/js.log"
  tally "$WORK/js.log"
else
  FAILED=$((FAILED + 1))
fi

echo "== airbyte-source-salesforce"
if ! "$AIRBYTE_PY" -c 'import source_salesforce' 2>/dev/null; then
  FAILED=$((FAILED + 1))
elif start_org airbyte; then
  "$AIRBYTE_PY" "$CONF/airbyte/conformance.py" "$WORK/airbyte.json" 2>&1 | tee "$WORK/airbyte.log"
  tally "$WORK/airbyte.log"
else
  FAILED=$((FAILED + 1))
fi

echo "$PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]
