#!/usr/bin/env bash
# Validates docker-compose.yml with `docker compose config -q` (no Docker engine is needed).
# Without the compose plugin, Debian's docker-compose (1.29, which knows the same file format
# for what this file uses) does the same check; under CI it is installed when apt is available.
# With neither, a notice is printed and the check is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif [ "${CI:-}" = "true" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing docker-compose (Debian package docker-compose)"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1; }; then
    compose=(docker-compose)
  fi
fi
if [ "${#compose[@]}" -eq 0 ]; then
  echo "notice: neither \`docker compose\` nor docker-compose is available; docker-compose.yml was not validated"
  exit 0
fi

"${compose[@]}" version 2>/dev/null | head -n 1 || true
timeout 60 "${compose[@]}" -f docker-compose.yml config -q
echo "docker-compose.yml is valid (${compose[*]} config -q)"
