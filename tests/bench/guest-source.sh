#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In-guest benchmark of attestiod's two record sources, run by
# tests/bench/run.sh as
#   tests/vm/run --kernel 6.1 -- tests/bench/guest-source.sh [STREAMS...]
# For each N (default 1 8 32) and source (dev, bpf): N emulated pressure
# sensors (tests/sensors/hidsensor) offering BENCH_SOURCE_RATE records/s in
# all (default 2000, split evenly; hidsensor's pace under TCG is
# approximate), attached to a freshly loaded attestio (default log size)
# for BENCH_SECONDS (default 5); attestiod (no broker: nothing is
# published; the spool writes are the same for both) runs from before the
# attach until it has read everything.  Measured: records the daemon read
# per second of sensor time, its CPU time (utime + stime) per record in
# µs, and records lost (holes not backfilled, declared lost), from its
# final log line.  One "source:" line per run, key=value words.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
sys=/sys/kernel/attestio
secs=${BENCH_SECONDS:-5}
rate=${BENCH_SOURCE_RATE:-2000}
if [ $# -gt 0 ]; then streams=("$@"); else streams=(1 8 32); fi
work=$(mktemp -d /tmp/attestiod-bench.XXXXXX)
mport=19479
node=0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8
sensor=
gw=
tck=$(getconf CLK_TCK)

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
	for p in $gw $sensor; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
	rmmod attestio 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/attestiod/metrics.sh
. "$top/tests/attestiod/metrics.sh"
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run() {	# N SOURCE
	local n=$1 src=$2 d=$work/$1-$2 i dev t0 t1 c1 r h dl bf ring prod
	mkdir -p "$d"
	modprobe attestio epoch_ms=1000 || return 1
	cat > "$d/gw.conf" <<-EOC
	[gateway]
	id = 00112233445566778899aabbccddeeff
	[source]
	type = $src
	[spool]
	path = $d/spool.db
	[link]
	broker = mqtt://127.0.0.1:1
	backoff_min_ms = 5000
	backoff_max_ms = 5000
	[oracle]
	node = $node
	[metrics]
	listen = 127.0.0.1:$mport
	EOC
	build/bin/attestiod --foreground --config "$d/gw.conf" 2> "$d/gw.log" &
	gw=$!
	tests/sensors/hidsensor --kind pressure -i "$n" --rate $((rate / n)) > "$d/devs" 2> /dev/null &
	sensor=$!
	for ((i = 0; i < 600; i++)); do
		[ "$(wc -l < "$d/devs")" -ge "$n" ] && break
		sleep 0.1
	done
	while read -r dev; do echo "$dev" > "$sys/attach"; done < "$d/devs"
	t0=$(date +%s.%N)
	sleep "$secs"
	kill -STOP "$sensor"
	t1=$(date +%s.%N)
	sleep 2		# the daemon catches up
	ring=$(metric bpf_ring_full_total)
	prod=$(awk '$1 == "records" { print $2 }' "$sys/totals")
	c1=$(cputicks "$gw")
	kill "$gw" 2> /dev/null; wait "$gw" 2> /dev/null; gw=
	# "stopped: R read, H holes, D declared lost, B backfilled, ..."
	read -r r h dl bf <<< "$(sed -n 's/.*stopped: \([0-9]*\) read, \([0-9]*\) holes, \([0-9]*\) declared lost, \([0-9]*\) backfilled.*/\1 \2 \3 \4/p' "$d/gw.log")"
	echo "source: streams=$n source=$src produced=$prod records=$r secs=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")" \
		"rec_per_s=$(awk "BEGIN { printf \"%.0f\", $r / ($t1 - $t0) }")" \
		"cpu_us_per_rec=$(awk "BEGIN { printf \"%.1f\", $r ? $c1 * 1e6 / $tck / $r : 0 }")" \
		"holes=$h lost=$dl ring_full=${ring:-0} backfilled=$bf"
	kill -9 "$sensor" 2> /dev/null; wait "$sensor" 2> /dev/null; sensor=
	while read -r dev; do echo "$dev" > "$sys/detach" 2> /dev/null; done < "$d/devs"
	rmmod attestio
}

for n in "${streams[@]}"; do
	for src in dev bpf; do
		run "$n" "$src" || echo "source: streams=$n source=$src failed"
	done
done
