#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The settlement contracts' suite (Documentation/settlement.md): installs
# the pinned npm packages from user/contracts/package-lock.json (npm ci;
# the cache lives in build/npm-cache), builds the C side (liboracle's
# mkreport signer and attestio settle), then runs node's test runner over
# user/contracts/test/*.test.js: solc's bundled compiler and an in-process
# EVM, nothing fetched at run time.  TAP on stdout.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/contracts
mkdir -p "$out"

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
	echo "not ok 1 contracts (node and npm are needed: Node.js 20 or later)"
	exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
	echo "not ok 1 contracts (Node.js $(node --version) is too old: 20 or later)"
	exit 1
fi
if ! (cd user/contracts && npm ci --no-audit --no-fund --prefer-offline \
	--cache "$top/build/npm-cache") > "$out/npm.log" 2>&1; then
	echo "not ok 1 contracts (npm ci failed)"
	sed 's/^/# /' "$out/npm.log" | tail -20
	exit 1
fi
if ! make -s "$top/build/tests/contracts/mkreport" "$top/build/bin/attestio" \
	> "$out/build.log" 2>&1; then
	echo "not ok 1 contracts (build failed)"
	sed 's/^/# /' "$out/build.log" | tail -20
	exit 1
fi
cd user/contracts || exit 1
exec node --test --test-reporter=tap test/*.test.js
