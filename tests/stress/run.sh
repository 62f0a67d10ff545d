#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stress scenarios of attestio.ko, run inside a guest (tests/vm/run):
#   tests/stress/run.sh [--short]
# make stress runs the full versions on the debug kernel (KASAN, lockdep,
# kmemleak, fault injection); make check runs --short on Debian's kernels.
# Each scenario is a TAP line and reports produced, delivered (records
# read from /dev/attestio) and declared lost (sample drops in gap records,
# plus the records readers were told they lost).  Any kernel report
# (KASAN, UBSAN, lockdep, WARNING, hung task) fails the VM run (tests/vm/run
# exit 125); a kmemleak report fails the last scenario.
# Scenarios:
#   unbind     unbind/rebind the test device N times at 1 kHz, reader attached
#   reload     modprobe/rmmod attestio N times while the device captures
#   faults     10% failslab and fail_page_alloc (task-filtered to this
#              script and its children) during attach, capture, epochs and
#              reads; skipped without CONFIG_FAULT_INJECTION_DEBUG_FS
#   stalled    a reader that never reads while the device captures: slab
#              stays bounded, capture never blocks (produced keeps growing)
#   soak       8 streams (attestio_testdev extra=7) at 1 kHz each for
#              STRESS_SOAK_S seconds (full: 1800; --short: 0, skipped) with
#              a reader recording everything: attestio verify finds every
#              chain continuous (no MISSING, UNVERIFIABLE or BAD record)
#              and reports delivered samples and declared losses
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
short=0
[ "${1:-}" = --short ] && short=1
sys=/sys/kernel/attestio
drv=/sys/bus/platform/drivers/attestio-testdev
ko=build/$(uname -r)/testdev/attestio_testdev.ko
dbg=/sys/kernel/debug
n=0
status=0
if [ "$short" = 1 ]; then
	unbinds=${STRESS_UNBINDS:-50} reloads=${STRESS_RELOADS:-20}
	fault_s=${STRESS_FAULT_S:-20} stall_s=${STRESS_STALL_S:-20}
	soak_s=${STRESS_SOAK_S:-0}
else
	unbinds=${STRESS_UNBINDS:-1000} reloads=${STRESS_RELOADS:-500}
	fault_s=${STRESS_FAULT_S:-300} stall_s=${STRESS_STALL_S:-300}
	soak_s=${STRESS_SOAK_S:-1800}
fi

tap() { # RESULT NAME [DETAIL]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n $2${3:+ # $3}"
	else
		echo "not ok $n $2${3:+ # $3}"
		status=1
	fi
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
total() { sed -n "s/^$1 //p" "$sys/totals" 2> /dev/null || echo 0; }

testdev_up() {
	rmmod attestio_testdev 2> /dev/null
	modprobe industrialio-triggered-buffer 2> /dev/null
	insmod "$ko" rate_hz=1000 claim_direct=0
}
testdev_down() {
	[ -e "$drv/attestio-testdev" ] && echo attestio-testdev > "$drv/unbind"
	rmmod attestio_testdev 2> /dev/null
}

# A reader in the background: counts the records it gets (attestio read
# decodes them); its output goes to $1.
reader_pid=
reader_start() {
	build/bin/attestio read --follow > "$1" 2>&1 &
	reader_pid=$!
}
reader_stop() {
	[ -n "$reader_pid" ] && kill "$reader_pid" 2> /dev/null && wait "$reader_pid" 2> /dev/null
	reader_pid=
}

# report NAME: produced/samples/drops of the module, delivered from $out.
report() {
	echo "# $1: produced $(total produced) samples $(total samples) drops $(total drops) records $(total records) delivered_lines $(wc -l < "$2" 2> /dev/null || echo 0)"
}

work=$(mktemp -d /tmp/attestio-stress.XXXXXX)
trap 'reader_stop; rm -rf "$work"' EXIT
echo "TAP version 13"
echo "# kernel $(uname -r), short=$short"

# ------------------------------------------------------------- unbind ---
modprobe attestio epoch_ms=250 attach=attestio-test || exit 1
testdev_up || exit 1
reader_start "$work/unbind.out"
ok=ok
for ((i = 0; i < unbinds; i++)); do
	echo attestio-testdev > "$drv/unbind" || { ok=fail; break; }
	echo attestio-testdev > "$drv/bind" || { ok=fail; break; }
	sleep 0.001
done
sleep 2
grep -qx attached "$sys/streams/0/state" || ok=fail
reader_stop
report unbind "$work/unbind.out"
tap "$ok" "unbind_rebind_${unbinds}x_with_reader"
rmmod attestio || tap fail rmmod_after_unbind

# ------------------------------------------------------------- reload ---
reader_start "$work/reload.out"
ok=ok
for ((i = 0; i < reloads; i++)); do
	modprobe attestio epoch_ms=100 attach=attestio-test || { ok=fail; break; }
	sleep 0.05
	rmmod attestio || { ok=fail; break; }
done
reader_stop
tap "$ok" "insmod_rmmod_${reloads}x_under_load"

# ------------------------------------------------------------- faults ---
if [ -d "$dbg/failslab" ] && [ -d "$dbg/fail_page_alloc" ]; then
	for f in failslab fail_page_alloc; do
		echo 10 > "$dbg/$f/probability"
		echo 1 > "$dbg/$f/interval"
		echo -1 > "$dbg/$f/times"
		echo 0 > "$dbg/$f/verbose"
		echo Y > "$dbg/$f/task-filter"
	done
	echo N > "$dbg/failslab/ignore-gfp-wait" 2> /dev/null
	echo N > "$dbg/fail_page_alloc/ignore-gfp-wait" 2> /dev/null
	end=$((SECONDS + fault_s))
	: > "$work/faults.log"
	# A non-interactive bash exits when a fork fails (ENOMEM, which the
	# injection makes common): the injected shell is started again until
	# the time is up, and each step it got through is logged (the log's
	# open may fail too: then that step is not counted).
	shells=0
	while [ $SECONDS -lt $end ]; do
		shells=$((shells + 1))
		(
			echo 1 > /proc/self/make-it-fail
			while [ $SECONDS -lt $end ]; do
				if modprobe attestio epoch_ms=50 2> /dev/null; then
					echo load >> "$work/faults.log"
					echo attestio-test > $sys/attach 2> /dev/null &&
						echo attach >> "$work/faults.log"
					timeout 1 build/bin/attestio read > /dev/null 2>&1
					echo attestio-test > $sys/detach 2> /dev/null
					rmmod attestio 2> /dev/null
				fi
			done
		) 2> /dev/null
	done
	loads=$(grep -c '^load$' "$work/faults.log")
	attaches=$(grep -c '^attach$' "$work/faults.log")
	echo "# faults: $loads loads, $attaches attaches under injection in ${fault_s}s ($shells injected shells)"
	for f in failslab fail_page_alloc; do echo 0 > "$dbg/$f/probability"; done
	rmmod attestio 2> /dev/null
	if [ "$loads" -gt 0 ] && modprobe attestio && rmmod attestio; then
		tap ok "failslab_fail_page_alloc_10pct_${fault_s}s"
	else
		tap fail "failslab_fail_page_alloc_10pct_${fault_s}s" "$loads loads under injection; module unusable afterwards?"
	fi
else
	skip failslab_fail_page_alloc "no fault injection in this kernel"
fi

# ------------------------------------------------------------ stalled ---
modprobe attestio epoch_ms=250 attach=attestio-test || exit 1
exec 7< /dev/attestio	# opened, never read
slab0=$(sed -n 's/^Slab: *\([0-9]*\).*/\1/p' /proc/meminfo)
p0=$(total produced)
sleep "$stall_s"
p1=$(total produced)
slab1=$(sed -n 's/^Slab: *\([0-9]*\).*/\1/p' /proc/meminfo)
exec 7<&-
report stalled /dev/null
echo "# stalled: slab ${slab0} kB -> ${slab1} kB over ${stall_s}s"
if [ $((p1 - p0)) -gt $((stall_s * 100)) ] && [ $((slab1 - slab0)) -lt 16384 ]; then
	tap ok "stalled_reader_${stall_s}s"
else
	tap fail "stalled_reader_${stall_s}s" "produced +$((p1 - p0)), slab +$((slab1 - slab0)) kB"
fi

# --------------------------------------------------------------- soak ---
rmmod attestio
testdev_down
if [ "$soak_s" -gt 0 ]; then
	specs=attestio-test
	for i in 1 2 3 4 5 6 7; do specs=$specs,attestio-test-$i; done
	modprobe industrialio-triggered-buffer 2> /dev/null
	ok=ok why=
	soakfail() { ok=fail why="$why $1"; }
	insmod "$ko" rate_hz=1000 claim_direct=0 extra=7 || soakfail insmod
	modprobe attestio epoch_ms=1000 attach=$specs || soakfail modprobe
	attached() { [ "$(grep -lx attached $sys/streams/*/state 2> /dev/null | wc -l)" = 8 ]; }
	for _ in $(seq 100); do attached && break; sleep 0.2; done
	attached || soakfail "not 8 attached at the start"
	build/bin/attestio read --follow -o "$work/soak.bin" 2> "$work/soak.err" &
	reader_pid=$!
	sleep "$soak_s"
	attached || soakfail "not 8 attached at the end"
	reader_stop
	echo "# soak: $(tr '\n' ' ' < "$sys/totals")"
	build/bin/attestio verify --json --allow-unsigned --allow-lost "$work/soak.bin" \
		> "$work/soak.json" 2> "$work/soak.verr"
	if ! python3 - "$work/soak.json" "$soak_s" <<'PY'
import json, sys
v = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print("# soak: %d streams, delivered %d samples (%.0f/s) in %d records, "
      "declared lost: %d samples (gap records), %d records (reader); "
      "missing %d, unverifiable %d, bad %d, pending %d" % (
          v["streams"], v["samples"], v["samples"] / float(sys.argv[2]),
          v["records"], v["gap_lost"], v["lost_records"], v["missing"],
          v["records_unverifiable"], v["records_bad"], v["records_pending"]))
# continuous chains: every record there, linked, nothing bad (the module
# has no key here: checkpoints are unsigned, so UNSIGNED/PENDING states)
sys.exit(0 if v["streams"] == 8 and v["records"] > 0 and v["missing"] == 0
         and v["records_unverifiable"] == 0 and v["records_bad"] == 0 else 1)
PY
	then
		soakfail "verify summary"
	fi
	[ "$ok" = ok ] || {
		sed 's/^/# /' "$work/soak.verr" | head -20
		cut -c1-1000 "$work/soak.json" | sed 's/^/# /'
	}
	tap "$ok" "soak_8_streams_1kHz_${soak_s}s" "$why"
	rmmod attestio
	testdev_down
else
	skip soak "short run"
fi

# ----------------------------------------------------------- kmemleak ---
if [ -w "$dbg/kmemleak" ]; then
	echo scan > "$dbg/kmemleak"
	sleep 5
	echo scan > "$dbg/kmemleak"
	if grep -q 'unreferenced object' "$dbg/kmemleak"; then
		grep -A12 'unreferenced object' "$dbg/kmemleak" | head -60 | sed 's/^/# /'
		tap fail kmemleak_clean
	else
		tap ok kmemleak_clean
	fi
else
	skip kmemleak_clean "no kmemleak in this kernel"
fi
echo "1..$n"
exit "$status"
