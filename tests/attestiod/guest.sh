#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# attestiod in the guest (tests/vm/run): the real attestio.ko, real sensors
# (tests/sensors/hidsensor), the real daemon with source.type = bpf.  TAP on
# stdout.  ATTESTIOD_GUEST_TESTS="ring_overflow guard" selects scenarios.
#   ring_overflow: a one-page BPF ring and the daemon stopped twice (short:
#     the log still holds what the ring dropped; long: the 64 KiB log
#     overwrote part of it): per stream, records spooled once each, and
#     produced = spooled + declared lost, exactly; something was backfilled
#     and something declared lost.
#   guard: the daemon in its own cgroup with guard.mode = required; root
#     outside that cgroup cannot open /dev/attestio, /dev/tpm0, /dev/tpmrm0
#     (EPERM), the kernel's own TPM use still works, the daemon reads
#     records and connects to its broker (mosquitto on the guest's
#     loopback), a process in the daemon's cgroup cannot connect anywhere
#     else; the daemon publishes the module's measurement log and the PCRs
#     as its evidence (retained); in the root cgroup, mode = required
#     refuses to start (exit 6,
#     "guard: CANNOT BE ENFORCED: ..."); after the daemon exits the devices
#     open again.
# Brokers and everything else stay on the guest's loopback.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
sys=/sys/kernel/attestio
work=$(mktemp -d /tmp/attestiod-guest.XXXXXX)
gwid=00112233445566778899aabbccddeeff
# secp256k1 generator point: a valid node key (no oracle runs here)
node=0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8
mport=19469
bport=18830
n=0
fails=0
pids=()
sensor=

cleanup() {
	[ -n "$sensor" ] && kill -CONT "$sensor" 2> /dev/null
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
	rmdir /sys/fs/cgroup/attestiod-test 2> /dev/null
	rmmod attestio 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
want() { [ -z "${ATTESTIOD_GUEST_TESTS:-}" ] || [[ " $ATTESTIOD_GUEST_TESTS " == *" $1 "* ]]; }

# shellcheck source=tests/attestiod/metrics.sh
. "$top/tests/attestiod/metrics.sh"

gw_conf() {	# dir extra-lines
	cat > "$1/gw.conf" <<-EOC
	[gateway]
	id = $gwid
	# a test id, not the TPM's EK's: no enrollment (attestiod.md)
	[tpm]
	enroll = off
	[source]
	type = bpf
	device = /dev/attestio
	$2
	[spool]
	path = $1/spool.db
	sync_records = 256
	sync_ms = 50
	[link]
	broker = mqtt://127.0.0.1:$bport
	backoff_min_ms = 100
	backoff_max_ms = 400
	keepalive = 5
	[oracle]
	node = $node
	[metrics]
	listen = 127.0.0.1:$mport
	EOC
}

# start_sensors K RATE: K emulated pressure sensors, attached.
start_sensors() {
	local i dev
	tests/sensors/hidsensor --kind pressure -i "$1" --rate "$2" > "$work/devs" 2> "$work/sensor.err" &
	sensor=$!
	pids+=("$sensor")
	for ((i = 0; i < 300; i++)); do
		[ "$(wc -l < "$work/devs")" -ge "$1" ] && break
		sleep 0.1
	done
	while read -r dev; do echo "$dev" > "$sys/attach" || return 1; done < "$work/devs"
}

# Stop the sensors and wait until no stream emits any more (last epoch).
quiesce() {
	local prev='' cur i
	kill -STOP "$sensor"
	for ((i = 0; i < 40; i++)); do
		sleep 0.5
		cur=$(cat "$sys"/streams/*/last_seq | tr '\n' ' ')
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
	done
	return 1
}

echo "TAP version 13"
if ! modprobe attestio log_kb=64 epoch_ms=250; then
	echo "Bail out! modprobe attestio failed"
	exit 1
fi
echo "# kernel $(uname -r), LSMs: $(cat /sys/kernel/security/lsm)"

if want ring_overflow; then
	d=$work/ring
	mkdir -p "$d"
	gw_conf "$d" "ring_bytes = 4096"
	"$bin/attestiod" --foreground --config "$d/gw.conf" 2> "$d/gw.log" &
	gw=$!
	pids+=("$gw")
	for ((i = 0; i < 100; i++)); do
		grep -q "following the ring" "$d/gw.log" && break
		sleep 0.2
	done
	start_sensors 4 100
	sleep 1
	# short stop: the log (64 KiB) still holds what the ring drops
	kill -STOP "$gw"; sleep 0.3; kill -CONT "$gw"
	sleep 1.5
	bf1=$(metric records_backfilled_total)
	# long stop: the log overwrites part of it too
	kill -STOP "$gw"; sleep 4; kill -CONT "$gw"
	sleep 1
	quiesce
	settle records_read_total 30
	full=$(metric bpf_ring_full_total)
	bf=$(metric records_backfilled_total)
	lost=$(metric records_backfill_lost_total)
	kill "$gw"; wait "$gw"
	produced=$(for s in "$sys"/streams/*; do echo "${s##*/} $(cat "$s/records")"; done)
	why=$(python3 - "$d/spool.db" "$produced" <<-'EOP'
	import sqlite3, struct, sys
	db = sqlite3.connect(sys.argv[1])
	prod = {int(a): int(b) for a, b in (l.split() for l in sys.argv[2].splitlines())}
	bad = []; got = 0
	for st, p in sorted(prod.items()):
	    seqs = [r[0] for r in db.execute("select seq from rec where kind<>0 and stream=?", (st,))]
	    if len(seqs) != len(set(seqs)): bad.append("stream %d: duplicates" % st)
	    if seqs and (min(seqs) < 0 or max(seqs) >= p): bad.append("stream %d: seq out of 0..%d" % (st, p - 1))
	    got += len(set(seqs))
	lost = 0
	for (blob,) in db.execute("select data from rec where kind=0"):
	    t, = struct.unpack_from("<H", blob, 2)
	    if t == 7: lost += struct.unpack_from("<Q", blob, 40)[0]
	total = sum(prod.values())
	if got + lost != total: bad.append("produced %d != spooled %d + declared lost %d" % (total, got, lost))
	print("; ".join(bad) if bad else "ok %d %d %d" % (total, got, lost))
	EOP
	)
	if [[ $why == ok* ]] && [ "${full:-0}" -gt 0 ] && [ "${bf1:-0}" -gt 0 ] &&
	   [ "${lost:-0}" -gt 0 ]; then
		read -r _ total got dl <<< "$why"
		ok "ring_overflow (produced $total = spooled $got + declared lost $dl; ring full $full, backfilled $bf of which $bf1 after the short stop)"
	else
		notok "ring_overflow" "$why" "ring full ${full:-?}, backfilled ${bf1:-?}/${bf:-?}, declared lost ${lost:-?}" \
			"$(tail -5 "$d/gw.log")"
	fi
	kill -9 "$sensor" 2> /dev/null
	wait "$sensor" 2> /dev/null
	sensor=
	for s in "$sys"/streams/*; do
		[ -d "$s" ] && cat "$s/spec" > "$sys/detach" 2> /dev/null
	done
fi

if want guard; then
	d=$work/guard
	mkdir -p "$d"
	cat > "$d/mosquitto.conf" <<-EOC
	listener $bport 127.0.0.1
	listener $((bport + 1)) 127.0.0.1
	allow_anonymous true
	persistence false
	log_dest file $d/mosquitto.log
	user root
	EOC
	mosquitto -c "$d/mosquitto.conf" > /dev/null 2>&1 &
	pids+=($!)
	gw_conf "$d" "[guard]
mode = required"
	cg=/sys/fs/cgroup/attestiod-test
	mkdir -p "$cg"
	start_sensors 1 50
	sh -c "echo \$\$ > $cg/cgroup.procs && exec $bin/attestiod --foreground --config $d/gw.conf" 2> "$d/gw.log" &
	gw=$!
	pids+=("$gw")
	wait_metric connected 1 20
	wait_metric guard_enforced 1 5
	sleep 1
	reads=$(metric records_read_total)
	# tries PATH MODE: "ok" or the error
	tryopen() {
		python3 -c 'import os, sys
try:
    os.close(os.open(sys.argv[1], int(sys.argv[2]) | os.O_NONBLOCK)); print("ok")
except OSError as e:
    print(e.strerror)' "$1" "$2"
	}
	tryconnect() {	# port [cgroup]
		sh -c "${2:+echo \$\$ > $2/cgroup.procs && }exec python3 -c 'import socket, sys
s = socket.socket()
try:
    s.connect((\"127.0.0.1\", int(sys.argv[1]))); print(\"ok\")
except OSError as e:
    print(e.strerror)' $1"
	}
	a=$(tryopen /dev/attestio 0)
	t0=$(tryopen /dev/tpm0 2)
	t1=$(tryopen /dev/tpmrm0 2)
	pcr=$(cat /sys/class/tpm/tpm0/pcr-sha256/0 2>&1)
	# the broker's second port is not in the configuration
	in_other=$(tryconnect $((bport + 1)) "$cg")
	in_broker=$(tryconnect "$bport" "$cg")
	out_other=$(tryconnect $((bport + 1)))
	denied=$(metric guard_open_denied_total)
	cdenied=$(metric guard_connect_denied_total)
	reads2=$(metric records_read_total)
	if [ "$(metric guard_enforced)" = 1 ] && [ "$(metric connected)" = 1 ] &&
	   [ "$a" = "Operation not permitted" ] && [ "$t0" = "Operation not permitted" ] &&
	   [ "$t1" = "Operation not permitted" ] && [ ${#pcr} = 64 ] &&
	   [ "${reads2:-0}" -gt "${reads:-0}" ] && [ "${denied:-0}" -ge 3 ]; then
		ok "guard_open (root outside the cgroup: EPERM on /dev/attestio, tpm0, tpmrm0; kernel TPM use works; the daemon reads, $reads2 records)"
	else
		notok "guard_open" "attestio: $a, tpm0: $t0, tpmrm0: $t1, pcr0: $pcr" \
			"enforced $(metric guard_enforced), connected $(metric connected), reads $reads -> $reads2, denied $denied" \
			"$(tail -5 "$d/gw.log")"
	fi
	if [ "$in_other" = "Operation not permitted" ] && [ "$in_broker" = ok ] &&
	   [ "$out_other" = ok ] && [ "${cdenied:-0}" -ge 1 ]; then
		ok "guard_connect (daemon's cgroup: broker ok, anything else EPERM; other cgroups unaffected)"
	else
		notok "guard_connect" "in cgroup: other $in_other, broker $in_broker; outside: $out_other; denied $cdenied"
	fi
	# Evidence: the real module's measurement log and the TPM's PCRs, as
	# the daemon (guarded) published them, retained, on the broker.
	sleep 1
	ml=$(xxd -p "$sys/measurements" | tr -d '\n')
	p0=$(tr 'A-F' 'a-f' < /sys/class/tpm/tpm0/pcr-sha256/0)
	ev=$(timeout 5 mosquitto_sub -h 127.0.0.1 -p "$bport" -C 1 \
		-t "attestio/v1/gw/$gwid/evidence" -F %x 2> /dev/null)
	if [ ${#ml} -gt 64 ] && [[ "$ev" == *"$ml"* ]] && [[ "$ev" == *"$p0"* ]] &&
	   [ "$(metric evidence_published_total)" -ge 1 ]; then
		ok "evidence (the module's measurement log, $(( ${#ml} / 2 )) bytes, and PCR 0 published retained by the guarded daemon)"
	else
		notok "evidence" "log ${#ml} hex digits, retained ${#ev}, published $(metric evidence_published_total)" "$(grep evidence "$d/gw.log" | tail -2)"
	fi
	kill "$gw"; wait "$gw"
	# The same configuration in the root cgroup: cannot be told apart, so
	# not enforced; with mode = required that is exit 6, said plainly.
	: > "$d/gw2.log"
	sh -c "echo \$\$ > /sys/fs/cgroup/cgroup.procs && exec timeout 20 $bin/attestiod --foreground --config $d/gw.conf" 2> "$d/gw2.log"
	rc=$?
	if [ $rc = 6 ] && grep -q "guard: CANNOT BE ENFORCED: the daemon runs in the root cgroup" "$d/gw2.log"; then
		ok "guard_not_enforceable (required, root cgroup: exit 6, the log says why)"
	else
		notok "guard_not_enforceable" "rc $rc" "$(tail -3 "$d/gw2.log")"
	fi
	a=$(tryopen /dev/attestio 0)
	if [ "$a" = ok ]; then
		ok "guard_gone (the devices open again once the daemon is gone)"
	else
		notok "guard_gone" "attestio: $a"
	fi
fi

echo "1..$n"
[ "$fails" -eq 0 ]
