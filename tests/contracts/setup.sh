#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prepare the contracts' toolchain, for tests/contracts/run.sh and the gas
# step of tests/bench/run.sh: check Node.js >= 20, install the pinned npm
# packages from user/contracts/package-lock.json (npm ci; cache in
# build/npm-cache; nothing is fetched at run time afterwards), build the C
# side (mkreport, attestio).  Prints one line saying what failed, logs in
# build/contracts/; exit status 1 on failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/contracts
mkdir -p "$out"

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
	echo "node and npm are needed (Node.js 20 or later)"
	exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
	echo "Node.js $(node --version) is too old: 20 or later is needed"
	exit 1
fi
if ! (cd user/contracts && npm ci --no-audit --no-fund --prefer-offline \
	--cache "$top/build/npm-cache") > "$out/npm.log" 2>&1; then
	echo "npm ci failed:"
	tail -20 "$out/npm.log"
	exit 1
fi
if ! make -s "$top/build/tests/contracts/mkreport" "$top/build/bin/attestio" \
	> "$out/build.log" 2>&1; then
	echo "build failed:"
	tail -20 "$out/build.log"
	exit 1
fi
