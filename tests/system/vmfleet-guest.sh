#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/system/vmfleet.sh (one per gateway VM, run by it
# through tests/vm/run --forward; not on its own).  A real gateway: the
# real attestio.ko with a TPM attestation key on this guest's own swtpm,
# an emulated HID temperature sensor, the real attestiod as in production
# (source bpf, mutual TLS to mqtts://vm-host:GPORT, the host's mosquitto
# through the restricted forward, a disk spool).
# Talks to the host through files in VMF_DIR (the project tree is shared):
#   GW.pem    the module load's kernel session key, certified by the AK
#             (`attestio measurements`): the nodes' pin for this gateway
#   GW.ready  the daemon is connected to the broker (this clock then)
#   t0        (the host's) round 1's start: attach the sensor now
#   GW.done   "records N lost L" once the stream stopped and the spool
#             drained (every record acked end to end by all four nodes),
#             or "FAIL why"
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
: "${VMF_DIR:?run by tests/system/vmfleet.sh}" "${VMF_K:?}"
# shellcheck source=/dev/null
. "$VMF_DIR/env"
bin=$top/build/bin
sys=/sys/kernel/attestio
pki=$VMF_DIR/pki
work=$(mktemp -d /tmp/vmfleet.XXXXXX)
handle=0x81010003
mport=19470
idv=GW_$VMF_K
id=${!idv}
gw='' sensor=''

cleanup() {
	[ -n "$sensor" ] && kill -9 "$sensor" 2> /dev/null
	[ -n "$gw" ] && kill -9 "$gw" 2> /dev/null
	wait 2> /dev/null
	rmmod attestio 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/attestiod/metrics.sh
. "$top/tests/attestiod/metrics.sh"

put() {	# name text: atomically, for the host
	echo "$2" > "$VMF_DIR/$id.$1.tmp" && mv "$VMF_DIR/$id.$1.tmp" "$VMF_DIR/$id.$1"
}
fail() { put "done" "FAIL $*"; echo "vmfleet gateway $VMF_K: $*"; exit 1; }

echo "vmfleet gateway $VMF_K ($id) on $(uname -r)"
modprobe -a uhid hid-sensor-hub 2> /dev/null
"$bin/attestio" provision --handle $handle --out "$work/ak" > "$work/provision.log" 2>&1 ||
	fail "attestio provision: $(tail -2 "$work/provision.log")"
modprobe attestio key_handle=$handle log_kb=4096 || fail "modprobe attestio failed"
# the nodes verify this load's quotes with its kernel session key, checked
# here to be the one registered and certified by the AK
"$bin/attestio" measurements --ak "$work/ak/ak.pub" --ksk-pem "$VMF_DIR/$id.pem" \
	> "$work/measurements.log" 2>&1 ||
	fail "no kernel session key: $(tail -2 "$work/measurements.log")"
mkdir -p /var/lib/attestiod
# shellcheck source=tests/attestiod/gwconf.sh
. "$top/tests/attestiod/gwconf.sh"
# shellcheck disable=SC2086  # a list of node keys
guest_gw_conf "$id" /var/lib/attestiod/spool.db "$pki" "$GPORT" "$mport" $NODES > "$work/gw.conf"
"$bin/attestiod" --foreground --config "$work/gw.conf" 2>> "$work/gw.log" &
gw=$!
wait_metric connected 1 300 || fail "attestiod not connected: $(tail -3 "$work/gw.log")"
put ready "$(date +%s)"	# this clock, which the host compares with its own
for _ in $(seq 3000); do [ -f "$VMF_DIR/t0" ] && break; sleep 0.2; done
[ -f "$VMF_DIR/t0" ] || fail "no round start from the host"
read -r t0 < "$VMF_DIR/t0"
skew=$((t0 - $(date +%s)))
# each guest its own 23.1x degC band, all within the feed's tolerance
for ((i = 0; i < 4000; i++)); do echo $((2310 + VMF_K + i % 7)); done > "$work/values"
tests/sensors/hidsensor --kind temperature --rate 20 --values "$work/values" \
	> "$work/devs" 2> "$work/sensor.log" &
sensor=$!
for _ in $(seq 300); do [ -s "$work/devs" ] && break; sleep 0.1; done
read -r dev < "$work/devs" || fail "no sensor: $(tail -2 "$work/sensor.log")"
echo "$dev" > "$sys/attach" || fail "cannot attach $dev"
[ -d "$sys/streams/0" ] || fail "the sensor is not stream 0: $(ls "$sys/streams")"
echo "vmfleet gateway $VMF_K: streaming, $skew s before round 1"
# a period past the last round: a clock a few seconds off the host's
# still covers every round
end=$((t0 + (ROUNDS + 1) * PERIOD))
while [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
# stop the sensor, then wait for the stream's last epoch
kill -STOP "$sensor"
prev=''
for _ in $(seq 40); do
	sleep 0.5
	cur=$(cat "$sys/streams/0/last_seq")
	[ "$cur" = "$prev" ] && break
	prev=$cur
done
wait_metric spool_records 0 300 || fail "spool not drained: $(metric spool_records) records left"
put "done" "records $(cat "$sys/streams/0/records") skew $skew"
echo "vmfleet gateway $VMF_K: done, $(cat "$sys/streams/0/records") records"
