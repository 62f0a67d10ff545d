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
#   faults     failslab and fail_page_alloc: every allocation of load,
#              attach, read, detach and unload failed in turn (fail-nth),
#              then 10% of attestio's workers' allocations during capture;
#              skipped without CONFIG_FAULT_INJECTION_DEBUG_FS
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
ko_attestio=build/$(uname -r)/attestio.ko
dbg=/sys/kernel/debug
n=0
status=0
if [ "$short" = 1 ]; then
	unbinds=${STRESS_UNBINDS:-50} reloads=${STRESS_RELOADS:-20}
	fault_s=${STRESS_FAULT_S:-20} stall_s=${STRESS_STALL_S:-20}
	soak_s=${STRESS_SOAK_S:-0}
else
	unbinds=${STRESS_UNBINDS:-1000} reloads=${STRESS_RELOADS:-500}
	fault_s=${STRESS_FAULT_S:-600} stall_s=${STRESS_STALL_S:-300}
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
# (a count or duration of 0 skips a scenario: make stress can split them
# over several guests)
modprobe attestio epoch_ms=250 attach=attestio-test || exit 1
testdev_up || exit 1
if [ "$unbinds" -gt 0 ]; then
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
else
	skip unbind_rebind "0 times"
fi
rmmod attestio || tap fail rmmod_after_unbind

# ------------------------------------------------------------- reload ---
# The load is the device capturing at 1 kHz from each load to its unload
# (no reader: an open /dev/attestio holds a reference to the module, and
# rmmod then refuses, as it should).
if [ "$reloads" -gt 0 ]; then
	ok=ok
	for ((i = 0; i < reloads; i++)); do
		modprobe attestio epoch_ms=100 attach=attestio-test || { ok=fail; break; }
		sleep 0.05
		rmmod attestio || { ok=fail; break; }
	done
	tap "$ok" "insmod_rmmod_${reloads}x_under_load"
else
	skip insmod_rmmod_under_load "0 times"
fi

# ------------------------------------------------------------- faults ---
# Two phases, failslab and fail_page_alloc on GFP_KERNEL allocations too
# (ignore-gfp-wait N, min-order 0), task-filtered so that nothing else in
# the guest is injected:
# 1. systematic (tests/stress/faultstep sweep): load, attach, read, detach
#    and unload each run with their 1st, 2nd, ... allocation failing until
#    a run reaches no such allocation (or the scenario's time is up for
#    that step), the state each needs restored without injection in
#    between;
# 2. random: 10% of the allocations of attestio's workers (epoch, drain,
#    poll, reap work: an unbound high-priority workqueue pool that nothing
#    else in this guest uses after boot) fail while the device captures,
#    the module quotes every epoch with a provisioned key and a reader
#    reads; afterwards the module must capture, sign and unload.
# Nothing else is injected: a shell under injection dies on its first
# failed fork, and a process under injection that maps files of the 9p
# root file system breaks the mount at its exit (faultstep.c).  (The
# stack-trace filter that would limit injection to attestio's code does
# not exist on x86_64.)
# mark_workers: set make-it-fail on every worker of the pool(s) that ran
# attestio work (their comm shows "-attestio" or "+attestio"); prints how
# many carry the flag.
mark_workers() {
	local p c pools=" " k=0
	for p in /proc/[0-9]*; do
		read -r c 2> /dev/null < "$p/comm" || continue
		case $c in kworker/u*[-+]attestio) pools="$pools${c%%:*}: " ;; esac
	done
	for p in /proc/[0-9]*; do
		read -r c 2> /dev/null < "$p/comm" || continue
		case $c in kworker/u*:*) ;; *) continue ;; esac
		case $pools in *" ${c%%:*}: "*) ;; *) continue ;; esac
		echo 1 > "$p/make-it-fail" 2> /dev/null && k=$((k + 1))
	done
	echo "$k"
}
unmark_workers() {
	local p c
	for p in /proc/[0-9]*; do
		read -r c 2> /dev/null < "$p/make-it-fail" || continue
		[ "$c" = 1 ] && echo 0 > "$p/make-it-fail" 2> /dev/null
	done
}
if [ "$fault_s" = 0 ]; then
	skip failslab_fail_page_alloc "0 s"
elif [ -d "$dbg/failslab" ] && [ -d "$dbg/fail_page_alloc" ] &&
	[ -e /proc/self/fail-nth ]; then
	step=$work/faultstep	# a tmpfs copy (faultstep.c says why)
	cp build/tests/stress/faultstep "$step" || exit 1
	ok=ok why=
	# Allocation failure reports (warn_alloc's stack dumps) are what
	# injection causes: tests/vm/run lets them pass between these marks.
	echo "attestio-stress: fault injection on" > /dev/kmsg
	budget=1000000000
	for f in failslab fail_page_alloc; do
		echo 0 > "$dbg/$f/probability"
		echo Y > "$dbg/$f/task-filter"
		echo 0 > "$dbg/$f/verbose"
		echo 1 > "$dbg/$f/interval"
		echo $budget > "$dbg/$f/times"	# counts down: what is left tells how many were injected
		echo N > "$dbg/$f/ignore-gfp-wait"
	done
	echo 0 > "$dbg/fail_page_alloc/min-order"
	# the TPM driver's command buffers are highmem pages
	echo N > "$dbg/fail_page_alloc/ignore-gfp-highmem"
	# 1. systematic: each step at most the scenario's time (all but the
	# load finish within a minute; a load has hundreds of allocations,
	# each run about a second under TCG)
	"$step" sweep "$ko_attestio" epoch_ms=50 attestio-test "$fault_s" \
		> "$work/sweep.out" 2> "$work/sweep.err" || ok=fail why="sweep: $(tail -n 1 "$work/sweep.err")"
	sed 's/^/# faults: sweep: /' "$work/sweep.out"
	[ "$(wc -l < "$work/sweep.out")" = 5 ] || ok=fail why="$why; sweep did not cover the five steps"
	# 2. random, attestio's workers; with a key, so that each epoch
	# quotes (the salted session's ECDH allocates; capture and drain
	# allocate nothing by design)
	key=0x81010031
	signed() { cut -d' ' -f2 "$sys/checkpoints"; }
	build/bin/attestio provision --handle $key --out "$work/ak" > "$work/prov.log" 2>&1 ||
		{ ok=fail why="$why; attestio provision: $(tail -n 1 "$work/prov.log")"; }
	if modprobe attestio epoch_ms=50 key_handle=$key attach=attestio-test; then
		reader_start "$work/faults.out"
		for _ in $(seq 100); do [ "$(signed)" -gt 0 ] && break; sleep 0.2; done
		p0=$(total produced) workers=0 s0=$(signed)
		t0=$(($(cat "$dbg/failslab/times") + $(cat "$dbg/fail_page_alloc/times")))
		for f in failslab fail_page_alloc; do echo 10 > "$dbg/$f/probability"; done
		end=$((SECONDS + fault_s / 2))
		while [ $SECONDS -lt $end ]; do
			w=$(mark_workers)
			[ "$w" -gt "$workers" ] && workers=$w
			sleep 1
		done
		for f in failslab fail_page_alloc; do echo 0 > "$dbg/$f/probability"; done
		unmark_workers
		winj=$((t0 - $(cat "$dbg/failslab/times") - $(cat "$dbg/fail_page_alloc/times")))
		p1=$(total produced) s1=$(signed)
		sleep 3
		reader_stop
		# afterwards it captures, and unloads
		grep -qx attached "$sys/streams/0/state" || ok=fail why="$why; detached after injection"
		[ "$(total produced)" -gt "$p1" ] || ok=fail why="$why; no capture after injection"
		[ "$(signed)" -gt "$s1" ] || ok=fail why="$why; no signed checkpoint after injection"
		rmmod attestio || ok=fail why="$why; rmmod after injection"
		echo "# faults: workers: up to $workers injected workers, $winj failures injected, produced $((p1 - p0)), $((s1 - s0)) checkpoints signed under injection"
		# (no failure injected is the expected outcome today: capture,
		# drain and epochs, quotes included, allocate nothing once
		# loaded and attached; should that change, the failures land
		# here and the checks above must still hold)
		[ "$workers" -gt 0 ] || ok=fail why="$why; no attestio worker found to inject"
	else
		ok=fail why="$why; modprobe after the sweep"
	fi
	tpm2_evictcontrol -C o -c $key > /dev/null 2>&1
	slab=$((budget - $(cat "$dbg/failslab/times")))
	pages=$((budget - $(cat "$dbg/fail_page_alloc/times")))
	echo "attestio-stress: fault injection off" > /dev/kmsg
	echo "# faults: injected $slab slab and $pages page allocation failures in all"
	[ "$slab" -gt 0 ] || ok=fail why="$why; no failure injected"
	tap "$ok" "failslab_fail_page_alloc_${fault_s}s" "${why#; }"
else
	skip failslab_fail_page_alloc "no fault injection in this kernel"
fi

# ------------------------------------------------------------ stalled ---
if [ "$stall_s" -gt 0 ]; then
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
else
	skip stalled_reader "0 s"
fi

# --------------------------------------------------------------- soak ---
rmmod attestio 2> /dev/null
testdev_down
if [ "$soak_s" -gt 0 ]; then
	specs=attestio-test
	for i in 1 2 3 4 5 6 7; do specs=$specs,attestio-test-$i; done
	modprobe industrialio-triggered-buffer 2> /dev/null
	ok=ok why=
	soakfail() { ok=fail why="$why $1"; }
	insmod "$ko" rate_hz=1000 claim_direct=0 extra=7 || soakfail insmod
	modprobe attestio epoch_ms=1000 || soakfail modprobe
	# The reader first, then the streams: each chain is read from its
	# first record.  Started after them, it met a log (4 MiB, ~8 s of 8
	# streams) that had already overwritten their first records, and the
	# chains started mid-way (306 lost, 213 unverifiable, 2026-12-03).
	build/bin/attestio read --follow -o "$work/soak.bin" 2> "$work/soak.err" &
	reader_pid=$!
	opened() {
		local f
		for f in "/proc/$reader_pid/fd/"*; do
			[ "$(readlink "$f")" = /dev/attestio ] && return 0
		done
		return 1
	}
	for _ in $(seq 100); do opened && break; sleep 0.2; done
	for s in ${specs//,/ }; do echo "$s" > "$sys/attach" || soakfail "attach $s"; done
	attached() { [ "$(grep -lx attached $sys/streams/*/state 2> /dev/null | wc -l)" = 8 ]; }
	for _ in $(seq 100); do attached && break; sleep 0.2; done
	attached || soakfail "not 8 attached at the start"
	sleep "$soak_s"
	attached || soakfail "not 8 attached at the end"
	reader_stop
	echo "# soak: $(tr '\n' ' ' < "$sys/totals")"
	if [ -n "${STRESS_SOAK_OUT:-}" ]; then
		# verification on the host (tests/stress/stress.sh): under TCG
		# on the debug kernel it takes about an hour here, 40 s there
		if ! mkdir -p "$STRESS_SOAK_OUT" || ! cp "$work/soak.bin" "$STRESS_SOAK_OUT/soak.bin"; then
			soakfail "copy to $STRESS_SOAK_OUT"
		fi
		echo "# soak: $(stat -c %s "$work/soak.bin") bytes of records copied to $STRESS_SOAK_OUT/soak.bin, verified on the host"
		soak_name=soak_8_streams_1kHz_${soak_s}s_capture
	else
		tests/stress/soak-verify "$work/soak.bin" "$soak_s" || soakfail "verify summary"
		soak_name=soak_8_streams_1kHz_${soak_s}s
	fi
	tap "$ok" "$soak_name" "$why"
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
