#!/usr/bin/env bash
# Validates deploy/mcpb/manifest.json with the MCP Bundle CLI (@anthropic-ai/mcpb, pinned,
# installed under the build directory) and packs the binary into a .mcpb bundle in
# $CARGO_TARGET_DIR/mcpb/ — never into the repository. Beside it, server.json with the
# bundle's SHA-256 filled in (what the registry is given for a release).
#
#   bash ci/mcpb.sh             # the debug binary, stripped (what CI builds anyway; fast)
#   bash ci/mcpb.sh --release   # the release binary, as published
set -euo pipefail
cd "$(dirname "$0")/.."

MCPB_VERSION=2.1.2
profile=debug
case "${1:-}" in
  "") ;;
  --release) profile=release ;;
  *) echo "usage: $0 [--release]" >&2; exit 2 ;;
esac

command -v npm >/dev/null || { echo "error: npm is not installed (Node.js 20 or later)" >&2; exit 1; }
target="$(mkdir -p "${CARGO_TARGET_DIR:-$PWD/target}" && cd "${CARGO_TARGET_DIR:-$PWD/target}" && pwd)"
out="$target/mcpb"
mcpb="$out/node_modules/.bin/mcpb"
if [ "$("$mcpb" --version 2>/dev/null || true)" != "$MCPB_VERSION" ]; then
  echo "installing @anthropic-ai/mcpb@$MCPB_VERSION into $out"
  npm install --prefix "$out" --no-audit --no-fund --no-save --silent "@anthropic-ai/mcpb@$MCPB_VERSION" </dev/null
fi
"$mcpb" --version

"$mcpb" validate deploy/mcpb/manifest.json

if [ "$profile" = release ]; then
  cargo build -q --release --locked -p routeros-mcp
else
  cargo build -q -p routeros-mcp
fi
version=$(node -p 'require("./deploy/mcpb/manifest.json").version')
name="routeros-mcp-$version-linux-$(uname -m)"
[ "$profile" = release ] || name="$name-debug"

stage="$out/bundle"
rm -rf "$stage"
mkdir -p "$stage/server"
cp deploy/mcpb/manifest.json "$stage/manifest.json"
# Debug information is of no use in a bundle and makes the debug binary ten times larger.
strip -o "$stage/server/routeros-mcp" "$target/$profile/routeros-mcp"
bundle="$out/$name.mcpb"
rm -f "$bundle"
"$mcpb" pack "$stage" "$bundle" </dev/null
"$mcpb" info "$bundle"

# The packed binary is the one built: unpack and compare.
check="$out/unpacked"
rm -rf "$check"
"$mcpb" unpack "$bundle" "$check" >/dev/null
cmp "$check/server/routeros-mcp" "$stage/server/routeros-mcp"
[ -x "$check/server/routeros-mcp" ] || { echo "error: the bundled binary is not executable" >&2; exit 1; }
"$check/server/routeros-mcp" --version

sha=$(sha256sum "$bundle" | cut -d' ' -f1)
SHA="$sha" node -e '
  const fs = require("fs");
  const server = JSON.parse(fs.readFileSync("server.json", "utf8"));
  const pkg = server.packages.find((p) => p.registryType === "mcpb");
  pkg.fileSha256 = process.env.SHA;
  fs.writeFileSync(process.argv[1], JSON.stringify(server, null, 2) + "\n");
' "$out/server.json"
echo "packed $bundle ($profile build, sha256 $sha); server.json for it: $out/server.json"
