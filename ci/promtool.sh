#!/usr/bin/env bash
# Checks the Prometheus alerting rules in deploy/prometheus/: `promtool check rules` on
# alerts.yml, then `promtool test rules` on alerts_test.yml (each alert fires on the series that
# should raise it, and not on the others). promtool comes from Debian's `prometheus` package,
# installed when it is missing and CI=true (skipped with a notice elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing promtool (Debian package prometheus)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq prometheus >/dev/null </dev/null \
      || { apt-get update -qq </dev/null && apt-get install -y -qq prometheus >/dev/null </dev/null; }
  else
    echo "notice: promtool is not installed (Debian: apt-get install prometheus; CI=true installs it); the alerting rules were not checked"
    exit 0
  fi
fi
promtool --version | head -n 1

promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml
