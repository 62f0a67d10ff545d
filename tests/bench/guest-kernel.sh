#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In-guest kernel benchmark, run by tests/bench/run.sh as
#   tests/vm/run --kernel K -- tests/bench/guest-kernel.sh
# Loads build/<kver>/testdev/attestio_bench.ko (attestio.ko must not be
# loaded: both define attestio's tracepoints), which measures attestio's
# per-record drain path against the kernel's fastest SHA-256 of the same
# bytes and logs one "scan=..." line per scan size; prints those lines and
# removes the module.  ITERATIONS overrides the module's iteration count.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
ko=build/$(uname -r)/testdev/attestio_bench.ko
[ -f "$ko" ] || { echo "guest-kernel: $ko not built"; exit 1; }
rmmod attestio 2> /dev/null
# what the module would pick for the chain, loaded as attestio.ko does
modprobe -q crypto-sha256 2> /dev/null
grep -A3 '^name *: sha256$' /proc/crypto | sed -n 's/^driver *: /crypto sha256 driver: /p'
grep -o -m1 -w -E 'sha_ni|avx2' /proc/cpuinfo | sort -u | sed 's/^/cpu has: /'
dmesg -C
insmod "$ko" ${ITERATIONS:+iterations=$ITERATIONS} || exit 1
rmmod attestio_bench
dmesg | sed -n 's/.*attestio_bench: //p'
