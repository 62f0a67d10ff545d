#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In-guest rate benchmark, run by tests/bench/run.sh as
#   tests/vm/run --kernel 6.1 -- tests/bench/guest-rate.sh [RATE...]
# For each rate R (default 1000 2000 4000 8000 16000 32000 Hz), N = 3*R:
#   userspace: a fresh emulated pressure sensor sending N samples at R Hz,
#              read by a plain IIO buffer reader (tests/sensors/iioread);
#              lossless when it gets all N scans with gaps=0;
#   attestio:  a fresh sensor, modprobe attestio, attach it, wait until the
#              sensor has pushed N scans, read streams/0/{produced,samples,
#              drops}, detach, rmmod; lossless when produced = samples = N
#              and drops = 0.
# Prints one "rate:" line per rate and side, a table and "rate-summary:"
# lines.  Under TCG the absolute rates mean little; the ratio
# attestio_max/userspace_max is the result.  Environment: BENCH_SECONDS
# (default 3) sets N = R*BENCH_SECONDS.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
sys=/sys/kernel/attestio
secs=${BENCH_SECONDS:-3}
if [ $# -gt 0 ]; then
	rates=("$@")
else
	rates=(1000 2000 4000 8000 16000 32000)
fi
work=$(mktemp -d /tmp/attestio-bench.XXXXXX)
sensor_pid=
sensor_dev=

now() { date +%s.%N; }
# calc EXPR: floating point arithmetic through awk, printed with %.6g.
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }

# start_sensor RATE COUNT: start hidsensor in the background, set sensor_pid
# and sensor_dev (the IIO device it created).
start_sensor() {
	local out=$work/sensor i
	: > "$out"
	tests/sensors/hidsensor --kind pressure --rate "$1" --count "$2" \
		> "$out" 2> "$out.err" &
	sensor_pid=$!
	for ((i = 0; i < 600; i++)); do
		if [ -s "$out" ]; then
			sensor_dev=$(head -n1 "$out")
			return 0
		fi
		kill -0 "$sensor_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "hidsensor --rate $1 did not create a device:" >&2
	cat "$out.err" >&2
	stop_sensor
	return 1
}

stop_sensor() {
	if [ -n "$sensor_pid" ]; then
		kill -TERM "$sensor_pid" 2>/dev/null
		wait "$sensor_pid" 2>/dev/null
	fi
	sensor_pid=
}

cleanup() {
	if [ -d "$sys" ] && [ -n "$sensor_dev" ]; then
		echo "$sensor_dev" > "$sys/detach" 2>/dev/null
	fi
	stop_sensor
	rmmod attestio 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# Results per rate, filled by run_user and run_attestio.
declare -A user_ok user_got user_hz att_ok att_got att_hz

# run_user RATE: plain userspace IIO buffer reader.
run_user() {
	local r=$1 n=$(($1 * secs)) line st scans gaps rate tmo
	tmo=$(calc "2 * $n / $r + 5")
	start_sensor "$r" "$n" || { user_ok[$r]=error; return; }
	line=$(tests/sensors/iioread --rate-only -n "$n" -t "$tmo" "$sensor_dev" 2>&1)
	st=$?
	stop_sensor
	line=$(printf '%s\n' "$line" | tail -n1)
	scans=$(sed -n 's/.*scans=\([0-9]*\).*/\1/p' <<< "$line")
	gaps=$(sed -n 's/.*gaps=\([0-9]*\).*/\1/p' <<< "$line")
	rate=$(sed -n 's/.*[^_]rate=\([0-9.]*\).*/\1/p' <<< " $line")
	echo "rate: side=userspace offered=$r n=$n status=$st $line"
	user_got[$r]=${scans:-0}
	user_hz[$r]=${rate:-0}
	if [ "$st" = 0 ] && [ "${scans:-0}" = "$n" ] && [ "${gaps:-1}" = 0 ]; then
		user_ok[$r]=yes
	else
		user_ok[$r]=no
	fi
}

# run_attestio RATE: the module's in-kernel buffer, nothing else reading.
run_attestio() {
	local r=$1 n=$(($1 * secs)) s=$sys/streams/0 t0 t1 tend deadline
	local produced=0 samples=0 drops=0 last=-1 i
	start_sensor "$r" "$n" || { att_ok[$r]=error; return; }
	if ! modprobe attestio; then
		stop_sensor
		att_ok[$r]=error
		return
	fi
	if ! echo "$sensor_dev" > "$sys/attach"; then
		stop_sensor
		rmmod attestio
		att_ok[$r]=error
		return
	fi
	t0=$(now)
	deadline=$(calc "$t0 + 2 * $n / $r + 5")
	t1=$t0
	# wait for the sensor to have pushed all N scans (or the deadline)
	while :; do
		produced=$(cat "$s/produced")
		tend=$(now)
		[ "$produced" != "$last" ] && t1=$tend
		last=$produced
		[ "$produced" -ge "$n" ] && break
		awk "BEGIN { exit !($tend > $deadline) }" && break
		sleep 0.1
	done
	# let the drain worker catch up (at most 5 s)
	for ((i = 0; i < 50; i++)); do
		samples=$(cat "$s/samples")
		drops=$(cat "$s/drops")
		[ $((samples + drops)) -ge "$produced" ] && break
		sleep 0.1
	done
	produced=$(cat "$s/produced")
	echo "$sensor_dev" > "$sys/detach"
	stop_sensor
	rmmod attestio
	att_got[$r]=$samples
	att_hz[$r]=$(calc "$produced / ($t1 - $t0)")
	echo "rate: side=attestio offered=$r n=$n produced=$produced samples=$samples drops=$drops elapsed=$(calc "$t1 - $t0") rate=${att_hz[$r]}"
	if [ "$produced" = "$n" ] && [ "$samples" = "$n" ] && [ "$drops" = 0 ]; then
		att_ok[$r]=yes
	else
		att_ok[$r]=no
	fi
}

echo "guest: $(uname -r), $(nproc) CPU(s), TCG; N = rate * $secs"
for r in "${rates[@]}"; do
	run_user "$r"
	run_attestio "$r"
done

# Highest rate such that this rate and every lower tested rate were lossless.
sustained() {
	local -n ok=$1
	local r best=0
	for r in "${rates[@]}"; do
		[ "${ok[$r]}" = yes ] || break
		best=$r
	done
	echo "$best"
}

echo
printf '%8s | %-9s %9s %11s | %-9s %9s %11s\n' "rate_Hz" "userspace" "got" \
	"got_Hz" "attestio" "got" "got_Hz"
for r in "${rates[@]}"; do
	printf '%8s | %-9s %9s %11s | %-9s %9s %11s\n' "$r" \
		"${user_ok[$r]}" "${user_got[$r]:--}" "${user_hz[$r]:--}" \
		"${att_ok[$r]}" "${att_got[$r]:--}" "${att_hz[$r]:--}"
done
umax=$(sustained user_ok)
amax=$(sustained att_ok)
if [ "$umax" -gt 0 ]; then
	ratio=$(calc "$amax / $umax")
else
	ratio=n/a
fi
top_rate=${rates[${#rates[@]} - 1]}
echo
echo "rate-summary: userspace_max=$umax attestio_max=$amax ratio=$ratio"
if [ "$umax" = "$top_rate" ] && [ "$amax" = "$top_rate" ]; then
	echo "rate-summary: both lossless at the highest rate tested: ratio is a lower bound"
fi
echo "rate-summary: got_Hz is the rate the emulated sensor actually achieved"
exit 0
