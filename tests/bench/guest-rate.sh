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

# calc EXPR: floating point arithmetic through awk, printed with %.3f
# (enough digits for epoch seconds in deadlines).
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# start_sensor RATE COUNT: start hidsensor in the background, set sensor_pid
# and sensor_dev (the IIO device it created).
start_sensor() {
	local out=$work/sensor i
	: > "$out"
	tests/sensors/hidsensor --kind pressure --rate "$1" --count "$2" -v \
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

# shellcheck disable=SC2317  # invoked through the EXIT trap
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
	[ "$st" = 0 ] || sed 's/^/raw: hidsensor: /' "$work/sensor.err"
	user_got[$r]=${scans:-0}
	user_hz[$r]=${rate:-0}
	if [ "$st" = 0 ] && [ "${scans:-0}" = "$n" ] && [ "${gaps:-1}" = 0 ]; then
		user_ok[$r]=yes
	else
		user_ok[$r]=no
	fi
}

# Microseconds since the epoch, without forking (polls must not steal the
# single vCPU from the sensor and the module).
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }

# run_attestio RATE: the module's in-kernel buffer, nothing else reading.
run_attestio() {
	local r=$1 n=$(($1 * secs)) s=$sys/streams/0 t0 t1 deadline
	local produced=0 samples=0 drops=0 i trace=
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
	t0=$(now_us)
	deadline=$((t0 + (2 * n / r + 5) * 1000000))
	# wait (polling every 0.1 s with builtins only) until the sensor has
	# pushed all N scans, or the deadline
	for ((i = 0; ; i++)); do
		read -r produced < "$s/produced"
		t1=$(now_us)
		((i % 5)) || trace+="${trace:+,}$produced"
		[ "$produced" -ge "$n" ] && break
		[ "$t1" -gt "$deadline" ] && break
		read -rt 0.1 -u "$tick"
	done
	# let the drain worker catch up (at most 5 s)
	for ((i = 0; i < 50; i++)); do
		read -r samples < "$s/samples"
		read -r drops < "$s/drops"
		[ $((samples + drops)) -ge "$produced" ] && break
		read -rt 0.1 -u "$tick"
	done
	read -r produced < "$s/produced"
	echo "$sensor_dev" > "$sys/detach"
	stop_sensor
	rmmod attestio
	att_got[$r]=$samples
	att_hz[$r]=$(calc "$produced * 1000000 / ($t1 - $t0)")
	echo "rate: side=attestio offered=$r n=$n produced=$produced samples=$samples drops=$drops elapsed=$(calc "($t1 - $t0) / 1000000") rate=${att_hz[$r]}"
	echo "raw: attestio offered=$r produced every 5th poll (>= 0.5 s): $trace"
	if [ "$produced" = "$n" ] && [ "$samples" = "$n" ] && [ "$drops" = 0 ]; then
		att_ok[$r]=yes
	else
		att_ok[$r]=no
		sed 's/^/raw: hidsensor: /' "$work/sensor.err"
	fi
}

# A never-written FIFO held open read-write: "read -t 0.1" on it sleeps
# without forking sleep(1).
mkfifo "$work/tick"
exec {tick}<> "$work/tick"

echo "guest: $(uname -r), $(nproc) CPU(s), TCG; N = rate * $secs"
for r in "${rates[@]}"; do
	run_user "$r"
	run_attestio "$r"
done

# Highest rate such that this rate and every lower tested rate were lossless
# (with $2 = strict: and the sensor achieved at least 90% of the rate).
sustained() {
	local -n ok=$1 hz=$3
	local r best=0
	for r in "${rates[@]}"; do
		[ "${ok[$r]}" = yes ] || break
		if [ "$2" = strict ]; then
			awk "BEGIN { exit !(${hz[$r]:-0} >= 0.9 * $r) }" || break
		fi
		best=$r
	done
	echo "$best"
}

ratio_of() {
	if [ "$2" -gt 0 ]; then calc "$1 / $2"; else echo n/a; fi
}

echo
printf '%8s | %-9s %9s %11s | %-9s %9s %11s\n' "rate_Hz" "userspace" "got" \
	"got_Hz" "attestio" "got" "got_Hz"
for r in "${rates[@]}"; do
	printf '%8s | %-9s %9s %11s | %-9s %9s %11s\n' "$r" \
		"${user_ok[$r]}" "${user_got[$r]:--}" "${user_hz[$r]:--}" \
		"${att_ok[$r]}" "${att_got[$r]:--}" "${att_hz[$r]:--}"
done
umax=$(sustained user_ok loose user_hz)
amax=$(sustained att_ok loose att_hz)
umax90=$(sustained user_ok strict user_hz)
amax90=$(sustained att_ok strict att_hz)
top_rate=${rates[${#rates[@]} - 1]}
echo
echo "rate-summary: userspace_max=$umax attestio_max=$amax ratio=$(ratio_of "$amax" "$umax")"
echo "rate-summary: at >=90% of the offered rate: userspace_max=$umax90 attestio_max=$amax90 ratio=$(ratio_of "$amax90" "$umax90")"
if [ "$umax" = "$top_rate" ] && [ "$amax" = "$top_rate" ]; then
	echo "rate-summary: both lossless at the highest rate tested: ratio is a lower bound"
fi
echo "rate-summary: got_Hz is the rate the emulated sensor actually achieved (1 vCPU:"
echo "rate-summary: consumer cost slows the sensor instead of losing scans)"
exit 0
