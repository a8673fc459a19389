#!/usr/bin/env bash
# Holds Sonde's Twilio wire code (crates/twilio_wire) and the local gateway (`sonde smsim`)
# against the official `twilio` helper library from PyPI: its request validator (signatures
# and their verification), its TwiML generator and its REST client. Prints a final line
# `N passed, M failed`.
#
#   SONDE_BIN     the sonde binary (default: target/debug/sonde, built if missing)
#   TWILIO_VENV   virtualenv holding the `twilio` package (default: target/twilio-venv)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-target}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/twilio-conformance.XXXXXX")"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

SONDE_BIN="${SONDE_BIN:-$TARGET/debug/sonde}"
if [[ ! -x "$SONDE_BIN" ]]; then
  cargo build -q --bin sonde || { echo "0 passed, 1 failed"; exit 1; }
fi

echo "== installing the official twilio helper library"
VENV="${TWILIO_VENV:-$TARGET/twilio-venv}"
if ! "$VENV/bin/python" -c 'import twilio' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet twilio \
    || { echo "installing twilio failed"; echo "0 passed, 1 failed"; exit 1; }
fi

echo "== sonde smsim"
"$SONDE_BIN" smsim --port 0 --step-ms 20 >"$WORK/smsim.json" 2>"$WORK/smsim.err" &
PID=$!
for _ in $(seq 1 300); do
  if [[ -s "$WORK/smsim.json" ]] && python3 -c 'import json,sys; json.loads(open(sys.argv[1]).readline())' "$WORK/smsim.json" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "smsim exited early:"; cat "$WORK/smsim.err"; echo "0 passed, 1 failed"; exit 1
  fi
  sleep 0.1
done

echo "== official client, validator and TwiML against ours"
"$VENV/bin/python" conformance/twilio/conformance.py "$SONDE_BIN" "$WORK/smsim.json" 2>&1 | tee "$WORK/run.log"
line="$(grep -E '^RESULT passed=[0-9]+ failed=[0-9]+' "$WORK/run.log" | tail -1)"
if [[ -z "$line" ]]; then
  echo "0 passed, 1 failed"
  exit 1
fi
PASSED="$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")"
FAILED="$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")"
echo "$PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]
