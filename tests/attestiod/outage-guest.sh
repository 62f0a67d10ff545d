#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/attestiod/outage.sh (run by it through
# tests/vm/run --forward; not on its own).  The real attestio.ko with a TPM
# attestation key, an emulated pressure sensor at 1 kHz, the real attestiod
# as in production (source bpf, mutual TLS to mqtts://vm-host:8883, the
# host's mosquitto through the forward, a disk spool).  Per scenario: a
# fresh module load, a gateway id of its own, the stream, the fault, then
# the stream stops, the daemon drains its spool (every record acked end to
# end by the host's node) and the host checks, from the node's database,
# that per stream every record the module produced is stored once and
# verified or declared lost by a `lost` record; the TAP line gives
# produced / delivered / declared lost / duplicates (records the node got
# more than once and dropped).
#   broker_restart  the broker stopped three times mid-stream, restarted
#   kill_daemon     attestiod killed with SIGKILL mid-stream, restarted
#   kill_broker     the broker (persistence off) killed with SIGKILL
#   disk_full       the spool's file system (a 1 MiB tmpfs) filled up
#                   mid-stream for a while, then freed: alarm raised,
#                   the daemon keeps running, loss only as declared
#   settle          a temperature sensor (23.10-23.20 degC) whose records
#                   reach four host nodes (f = 1) in one feed with three
#                   simulated gateways (the phases: outage.sh); their final
#                   reports settle a TemperatureOption on the host's
#                   in-process EVM with the payout of `attestio settle`
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
: "${OUTAGE_DIR:?run by tests/attestiod/outage.sh}"
# shellcheck source=/dev/null
. "$OUTAGE_DIR/env"
bin=$top/build/bin
sys=/sys/kernel/attestio
pki=$OUTAGE_DIR/pki
work=$(mktemp -d /tmp/outage.XXXXXX)
handle=0x81010003
mport=19470
rate=${OUTAGE_RATE:-1000}
n=0
fails=0
gw='' sensor='' req=0

cleanup() {
	[ -n "$sensor" ] && kill -9 "$sensor" 2> /dev/null
	[ -n "$gw" ] && kill -9 "$gw" 2> /dev/null
	wait 2> /dev/null
	umount /var/lib/attestiod-full 2> /dev/null
	rmmod attestio 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# shellcheck source=tests/attestiod/metrics.sh
. "$top/tests/attestiod/metrics.sh"

ans=''
ctl() {	# command args: ask the host; its answer in $ans (not in a subshell:
	# the request counter must advance)
	local f
	req=$((req + 1))
	f=$OUTAGE_DIR/ctl/$req
	echo "$*" > "$f.tmp" && mv "$f.tmp" "$f.req"
	for _ in $(seq 1200); do
		if [ -f "$f.ans" ]; then
			ans=$(cat "$f.ans")
			return 0
		fi
		sleep 0.1
	done
	ans="no answer from the host to '$*'"
	return 1
}

# shellcheck source=tests/attestiod/gwconf.sh
. "$top/tests/attestiod/gwconf.sh"
gw_conf() {	# scenario spool-dir [node keys]
	local id=GW_$1
	# shellcheck disable=SC2086  # a list of node keys
	guest_gw_conf "${!id}" "$2/spool.db" "$pki" "$GPORT" "$mport" ${3:-$NODEPUB} > "$work/$1.conf"
}

gw_start() {	# scenario
	"$bin/attestiod" --foreground --config "$work/$1.conf" 2>> "$work/$1.log" &
	gw=$!
}

# Stop the sensor and wait until no stream emits any more (last epoch).
quiesce() {
	local prev='' cur
	kill -STOP "$sensor"
	for _ in $(seq 40); do
		sleep 0.5
		cur=$(cat "$sys"/streams/*/last_seq | tr '\n' ' ')
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
	done
	return 1
}

act_broker_restart() {
	local up=$(((SECONDS_STREAM + 2) / 3))
	for _ in 1 2 3; do
		sleep "$up"
		ctl broker-stop
		sleep 1.5
		ctl broker-start
	done
}
act_kill_daemon() {
	sleep $(((SECONDS_STREAM + 1) / 2))
	kill -9 "$gw"
	wait "$gw" 2> /dev/null
	sleep 1
	gw_start kill_daemon
	sleep $(((SECONDS_STREAM + 1) / 2))
}
act_kill_broker() {
	sleep $(((SECONDS_STREAM + 1) / 2))
	ctl broker-kill9
	sleep 1.5
	ctl broker-start
	sleep $(((SECONDS_STREAM + 1) / 2))
}
alarm=0
# the spool's file system is filled before the stream starts (scenario()),
# so that the first batch written fails however fast the stream is
act_disk_full() {
	local d=/var/lib/attestiod-full i
	alarm=0
	for ((i = 0; i < 300; i++)); do
		[ "$(metric alarm_spool_write)" = 1 ] && { alarm=1; break; }
		sleep 0.1
	done
	sleep 4		# long enough for the module's log (256 KiB) to wrap
	rm -f "$d/filler"
	sleep $(((SECONDS_STREAM + 1) / 2))
}

# after a scenario: the daemon and the sensor stopped, the module unloaded
teardown() {
	kill "$gw" 2> /dev/null
	wait "$gw" 2> /dev/null
	gw=''
	kill -CONT "$sensor" 2> /dev/null
	kill "$sensor" 2> /dev/null
	wait "$sensor" 2> /dev/null
	sensor=''
	for _ in $(seq 50); do rmmod attestio 2> /dev/null && break; sleep 0.2; done
}

scenario() {	# name
	local s=$1 spool=/var/lib/attestiod-$1 logkb=4096 dups0 dups res dev why=''
	if [ "$s" = disk_full ]; then
		spool=/var/lib/attestiod-full
		logkb=256
		mkdir -p "$spool"
		mount -t tmpfs -o size=1m tmpfs "$spool" || { notok "$s" "cannot mount the tmpfs"; return; }
	fi
	mkdir -p "$spool"
	modprobe attestio key_handle=$handle log_kb=$logkb ||
		{ notok "$s" "modprobe attestio failed"; return; }
	# the node verifies this load's quotes with its kernel session key,
	# checked here to be the one registered and certified by the AK
	local idk=GW_$s
	if ! "$bin/attestio" measurements --ak "$work/ak/ak.pub" \
		--ksk-pem "$OUTAGE_DIR/${!idk}.pem" > "$work/$s.mlog" 2>&1 ||
	   ! ctl node-start || [ "$ans" != ok ]; then
		notok "$s" "no kernel session key for the node: $(tail -2 "$work/$s.mlog")"
		rmmod attestio
		return
	fi
	gw_conf "$s" "$spool"
	gw_start "$s"
	wait_metric connected 1 120 || why="daemon not connected: $(tail -3 "$work/$s.log")"
	ctl node-dups
	dups0=${ans:-0}
	[ "$s" = disk_full ] && dd if=/dev/zero of="$spool/filler" bs=4k 2> /dev/null
	# --count: the stream is rate x SECONDS_STREAM samples however long
	# the faults take (TCG on a busy host stretches them)
	tests/sensors/hidsensor --kind pressure -i 1 --rate "$rate" --hw-timestamp \
		--count $((rate * SECONDS_STREAM)) \
		> "$work/$s.devs" 2> "$work/$s.sensor" &
	sensor=$!
	for _ in $(seq 300); do [ -s "$work/$s.devs" ] && break; sleep 0.1; done
	read -r dev < "$work/$s.devs"
	echo "$dev" > "$sys/attach" || why="${why:+$why; }cannot attach $dev"
	"act_$s"
	quiesce || why="${why:+$why; }the stream did not stop"
	# drained: everything spooled was acked end to end
	wait_metric spool_records 0 $((60 + 10 * SECONDS_STREAM)) ||
		why="${why:+$why; }spool not drained: $(metric spool_records) records left"
	for st in "$sys"/streams/*; do
		echo "${st##*/} $(cat "$st/records")"
	done > "$OUTAGE_DIR/$s.produced"
	local idv=GW_$s
	ctl check "${!idv}" "$OUTAGE_DIR/$s.produced"
	res=$ans
	ctl node-dups
	dups=$((${ans:-0} - dups0))
	# the node issued a beacon at its start (retained); the daemon handed
	# it to the module (ATTESTIO_IOC_SET_BEACON), whose quotes cover it
	local fresh none unknown stale
	ctl node-beacons
	read -r fresh none unknown stale <<< "$ans"
	[ "${fresh:-0}" -gt 0 ] && [ "${unknown:-1}" = 0 ] ||
		why="${why:+$why; }node: ${fresh:-?} checkpoints covering an issued beacon, ${unknown:-?} an unknown one (none ${none:-?}, stale ${stale:-?}); daemon set $(metric beacons_set_total)"
	[ "$s" = disk_full ] && [ "$alarm" != 1 ] && why="${why:+$why; }no alarm_spool_write while the disk was full"
	kill -0 "$gw" 2> /dev/null || why="${why:+$why; }the daemon died"
	local figures
	figures="${res#* }, duplicates $dups dropped by dedup, 0 stored twice"
	figures="$figures; reconnects $(metric reconnects_total), retransmits $(metric retransmits_total)"
	figures="$figures; checkpoints covering an issued beacon $fresh (none $none)"
	if [[ $res == OK* ]] && [ -z "$why" ]; then
		ok "$s ($figures)"
	else
		notok "$s" "$res" "$why" "$(tail -5 "$work/$s.log")"
	fi
	teardown
	if [ "$s" = disk_full ]; then umount "$spool"; fi
}

# The guest's records -> 4 host nodes -> final reports -> the contract.
# Rounds start at t0 (this clock: the records' capture times); the stream
# covers rounds 1-SETTLE_ROUNDS, the spool drains (acked by all four), then
# the host settles (tests/attestiod/outage.sh settle_check).
settle_scenario() {
	local spool=/var/lib/attestiod-settle dev t0 end why='' i idk=GW_settle
	mkdir -p "$spool"
	modprobe attestio key_handle=$handle log_kb=4096 ||
		{ notok settle "modprobe attestio failed"; return; }
	if ! "$bin/attestio" measurements --ak "$work/ak/ak.pub" \
		--ksk-pem "$OUTAGE_DIR/${!idk}.pem" > "$work/settle.mlog" 2>&1; then
		notok settle "no kernel session key for the nodes: $(tail -2 "$work/settle.mlog")"
		rmmod attestio
		return
	fi
	gw_conf settle "$spool" "$SETTLE_NODES"
	gw_start settle
	wait_metric connected 1 120 || why="daemon not connected: $(tail -3 "$work/settle.log")"
	# the nodes are subscribed before the first record exists (the sensor
	# is attached after), as in production; round 1 starts SETTLE_LEAD s
	# from now (the nodes' start, the sensor's creation and attach under
	# TCG on a loaded host)
	t0=$(($(date +%s) + SETTLE_LEAD))
	ctl settle-nodes "$t0"
	[ "$ans" = ok ] || why="${why:+$why; }$ans"
	for ((i = 0; i < 4000; i++)); do echo $((2310 + i % 11)); done > "$work/settle.values"
	tests/sensors/hidsensor --kind temperature --rate 20 --values "$work/settle.values" \
		> "$work/settle.devs" 2> "$work/settle.sensor" &
	sensor=$!
	for _ in $(seq 300); do [ -s "$work/settle.devs" ] && break; sleep 0.1; done
	read -r dev < "$work/settle.devs"
	echo "$dev" > "$sys/attach" || why="${why:+$why; }cannot attach $dev"
	[ -d "$sys/streams/0" ] || why="${why:+$why; }the sensor is not stream 0: $(ls "$sys/streams")"
	[ "$(date +%s)" -lt "$t0" ] || echo "# settle: the stream started $(($(date +%s) - t0)) s after round 1's start (SETTLE_LEAD)"
	end=$((t0 + SETTLE_ROUNDS * SETTLE_PERIOD + 1))
	while [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
	quiesce || why="${why:+$why; }the stream did not stop"
	wait_metric spool_records 0 120 ||
		why="${why:+$why; }spool not drained: $(metric spool_records) records left"
	local recs
	recs=$(cat "$sys/streams/0/records" 2> /dev/null)
	ctl settle-check "$t0"
	if [[ $ans == OK* ]] && [ -z "$why" ]; then
		ok "settle: the module's $recs temperature records, with 3 simulated gateways in one feed -> 4 host nodes (f = 1) -> final reports -> TemperatureOption on the EVM: ${ans#OK }"
	else
		notok "settle: guest records settle the option on the EVM" "$ans" "$why" "$(tail -3 "$work/settle.log")"
	fi
	teardown
}

echo "TAP version 13"
echo "# kernel $(uname -r); $rate samples/s; $SECONDS_STREAM s of stream per scenario"
modprobe -a uhid hid-sensor-hub 2> /dev/null
if ! "$bin/attestio" provision --handle $handle --out "$work/ak" > "$work/provision.log" 2>&1; then
	echo "Bail out! attestio provision failed: $(tail -3 "$work/provision.log")"
	exit 1
fi
for s in $SCENARIOS; do
	if [ "$s" = settle ]; then settle_scenario; else scenario "$s"; fi
done
echo "1..$n"
[ "$fails" -eq 0 ]
