#!/usr/bin/env bash
# Refresh axe-core, the accessibility engine the browser tests inject into each page
# (tests/browser/test_accessibility.py). It is vendored for the tests only, never served by the
# app, and committed so that CI needs no network. Run this only to change the version.
set -euo pipefail
cd "$(dirname "$0")/.."
AXE=axe-core@4.14.1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$AXE" >/dev/null && tar xzf axe-core-*.tgz)
v=tests/browser/vendor/axe-core
mkdir -p $v
cp "$work"/package/axe.min.js "$work"/package/LICENSE "$work"/package/LICENSE-3RD-PARTY.txt $v/
echo "vendored $AXE into $v"
