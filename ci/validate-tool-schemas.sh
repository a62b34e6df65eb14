#!/usr/bin/env bash
# Validates every file in tool-schemas/ (JSON Schema 2020-12 meta-validation, category.action
# names matching their paths, tiers, duplicates, descriptions, a handler per tool) and exports
# the catalog to dist/mcp-tool-catalog.json. Also checks docs/tool-catalog.md is current.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p routeros-mcp
BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/routeros-mcp"
"$BIN" catalog validate --dir tool-schemas
"$BIN" catalog export --output dist/mcp-tool-catalog.json
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$BIN" catalog docs --output "$tmp" >/dev/null
if ! diff -q "$tmp" docs/tool-catalog.md >/dev/null 2>&1; then
  echo "docs/tool-catalog.md is out of date: run routeros-mcp catalog docs --output docs/tool-catalog.md" >&2
  exit 1
fi
echo "docs/tool-catalog.md is current"
