#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress: build the debug kernel once (tests/stress/build-kernel.sh,
# cached under build/debug-kernel), the module and the test modules
# against it, then run tests/stress/run.sh (full durations) in a guest
# booting it, then tests/stress/tpm-faults.sh in another.  Any KASAN, UBSAN, lockdep, kmemleak or other kernel report
# fails the run.  STRESS_ARGS=--short runs the short versions.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
release=$(tests/stress/build-kernel.sh)
make -s KVER="$release" modules testmods
make -s user sensors stresstools
read -ra args <<< "${STRESS_ARGS:-}"
# full run on the debug kernel under TCG: unbind/rebind took ~4 s each
# (1000 in ~65 min, 2026-12-02), then 500 reloads, 2 x 300 s and the
# 1800 s soak with its verification: about 3-4 hours on a 2-core host
rc=0
tests/vm/run --kernel debug --mem 2048 --timeout "${STRESS_TIMEOUT:-14400}" \
	-- tests/stress/run.sh "${args[@]}" || rc=$?
# TPM faults (tests/vm/tpm-proxy between QEMU and swtpm): about 6 minutes
tests/vm/run --kernel debug --mem 2048 --timeout 1800 --tpm-faults build/stress/tpm-faults \
	-- tests/stress/tpm-faults.sh "${args[@]}" || rc=$?
exit "$rc"
