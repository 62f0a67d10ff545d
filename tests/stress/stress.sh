#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress: build the debug kernel once (tests/stress/build-kernel.sh,
# cached under build/debug-kernel), the module and the test modules
# against it, then run tests/stress/run.sh (full durations) in a guest
# booting it.  Any KASAN, UBSAN, lockdep, kmemleak or other kernel report
# fails the run.  STRESS_ARGS=--short runs the short versions.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
release=$(tests/stress/build-kernel.sh)
make -s KVER="$release" modules testmods
make -s user sensors
read -ra args <<< "${STRESS_ARGS:-}"
# full run: about 45 minutes under TCG; the soak alone is STRESS_SOAK_S
exec tests/vm/run --kernel debug --mem 2048 --timeout "${STRESS_TIMEOUT:-5400}" \
	-- tests/stress/run.sh "${args[@]}"
