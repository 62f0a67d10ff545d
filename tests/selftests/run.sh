#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run inside the guest (tests/vm/run): every kselftest binary in
# build/tests/selftests, TAP on stdout.  $1 is the kernel series expected.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export ATTESTIO_EXPECT_KERNEL=${1:-}
export ATTESTIO_TOP=$top
status=0
# (tests/selftests/ksk_test.sh needs a fresh boot: check.sh runs it alone)
for t in build/tests/selftests/*_test; do
	[ -x "$t" ] || continue
	echo "# running $(basename "$t")"
	"$t"
	rc=$?
	case $rc in
	0|4) ;;			# pass, or all skipped
	1) status=1 ;;		# failures, reported as "not ok" lines
	*) echo "not ok 0 $(basename "$t")_exit_$rc"; status=1 ;;
	esac
done
# Any oops/WARN the tests provoked fails the VM run (tests/vm/run checks).
exit $status
