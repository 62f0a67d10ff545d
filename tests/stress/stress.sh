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
make -s user sensors
read -ra args <<< "${STRESS_ARGS:-}"
# full run: about 45 minutes under TCG; the soak alone is STRESS_SOAK_S
rc=0
tests/vm/run --kernel debug --mem 2048 --timeout "${STRESS_TIMEOUT:-5400}" \
	-- tests/stress/run.sh "${args[@]}" || rc=$?
# TPM faults (tests/vm/tpm-proxy between QEMU and swtpm): about 6 minutes
tests/vm/run --kernel debug --mem 2048 --timeout 1800 --tpm-faults build/stress/tpm-faults \
	-- tests/stress/tpm-faults.sh "${args[@]}" || rc=$?
exit "$rc"
