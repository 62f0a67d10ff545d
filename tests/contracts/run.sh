#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The settlement contracts' suite (Documentation/settlement.md): prepares
# the toolchain (tests/contracts/setup.sh: npm ci from the lockfile, the C
# signer and attestio settle), then runs node's test runner over
# user/contracts/test/*.test.js: solc's bundled compiler and an in-process
# EVM, nothing fetched at run time.  TAP on stdout.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
if ! msg=$(tests/contracts/setup.sh); then
	echo "not ok 1 contracts (setup failed)"
	while IFS= read -r l; do echo "# $l"; done <<< "$msg"
	exit 1
fi
cd user/contracts || exit 1
exec node --test --test-reporter=tap test/*.test.js
