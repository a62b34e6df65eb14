#!/usr/bin/env bash
# Runs `systemd-analyze verify` on the unit files in systemd/. The units start
# /usr/local/bin/routeros-mcp, which verify requires to exist: they are verified as copies with
# the path of a freshly built binary in its place. Any message about them fails the check
# (verify exits 0 on some problems, such as an unknown key).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v systemd-analyze >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing systemd-analyze (Debian package systemd)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; }
  else
    echo "notice: systemd-analyze is not installed; the systemd units were not verified"
    exit 0
  fi
fi

cargo build -q -p routeros-mcp
BIN="$(cd "${CARGO_TARGET_DIR:-$PWD/target}" && pwd)/debug/routeros-mcp"
[ -x "$BIN" ] || { echo "error: no binary at $BIN" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
units=()
for unit in systemd/*.service systemd/*.socket; do
  sed "s#/usr/local/bin/routeros-mcp#$BIN#g" "$unit" >"$tmp/$(basename "$unit")"
  units+=("$tmp/$(basename "$unit")")
done

status=0
output=$(timeout 60 systemd-analyze verify --man=no "${units[@]}" 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$output" ]; then
  printf '%s\n' "$output" >&2
  echo "error: systemd-analyze verify found problems in systemd/ (exit status $status)" >&2
  exit 1
fi
echo "systemd-analyze verify: ${#units[@]} units in systemd/ are valid"
