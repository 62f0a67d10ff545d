#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Real gateways in the fleet (issue 12, Documentation/system.md "Real
# gateways among simulated ones"): N guests (default 3), each its own
# tests/vm/run QEMU with its own swtpm, the real attestio.ko, an emulated
# HID temperature sensor and the real attestiod (source bpf, mutual TLS,
# a disk spool; tests/system/vmfleet-guest.sh), reach the host's mosquitto
# only through their restricted forwards (vm-host:8883 -> 127.0.0.1:PORT).
# Beside them, simulated gateways of the same site (attestio-sim) and four
# oracle nodes (n = 4, f = 1, t = 2) on the broker's loopback listener; one
# feed over every device.  Checks, TAP:
#  - per real gateway, on every node: each record the module produced is
#    stored once and verified (produced, stored, verified, duplicates);
#  - every round settles on every node with t signatures, within the
#    sensors' band, and every real gateway's device is a participant with
#    weight (not excluded) in every round;
#  - `attestio verify-report` re-verifies the last round offline: all
#    devices, the real ones TPM-backed (their pins: the kernel session
#    keys), the others simulated;
#    without one real gateway's pin it is refused, naming that gateway
#    (its records are in the evidence).
#   vmfleet.sh [--kernel K] [--vms N] [--rounds R] [--sims S]
# Environment: VMFLEET_PORT (18890: TLS for the guests, +1 plain for the
# nodes and the fleet, +2 node 1's metrics), VMFLEET_LEAD (20: seconds
# from the go to round 1).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
kernel=6.1 vms=3 rounds=6 sims=3
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--vms) vms=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--sims) sims=$2; shift 2 ;;
	*) echo "usage: $0 [--kernel K] [--vms N] [--rounds R] [--sims S]" >&2; exit 2 ;;
	esac
done
bin=$top/build/bin
base=$top/build/system-vmfleet-$kernel
py=/usr/bin/python3
[ -x "$py" ] || py=python3
port=${VMFLEET_PORT:-18890}
pport=$((port + 1))
mport=$((port + 2))
gport=8883
period=4 grace=8 lead=${VMFLEET_LEAD:-20}
rm -rf "$base"
mkdir -p "$base/pki"
# shellcheck source=tests/system/lib.sh
. "$top/tests/system/lib.sh"
# shellcheck source=tests/attestiod/pki.sh
. "$top/tests/attestiod/pki.sh"
echo "TAP version 13"
echo "# $vms gateway VMs ($kernel) + $sims simulated gateways, 4 nodes (f = 1, t = 2), $rounds rounds of $period s"
mkpki "$base/pki" "attestio vmfleet test ca" broker gw
chmod 644 "$base/pki"/*.key
make_nodes 4
declare -A gwid
for k in $(seq "$vms"); do gwid[$k]=$(printf '0a77e5f1%024x' "$k"); done
{
	printf 'NODES="%s"\nGPORT=%s\nROUNDS=%s\nPERIOD=%s\n' "${npub[*]}" "$gport" "$rounds" "$period"
	for k in $(seq "$vms"); do printf 'GW_%s=%s\n' "$k" "${gwid[$k]}"; done
} > "$base/env"
cat > "$base/mosquitto.conf" <<EOC
listener $port 127.0.0.1
cafile $base/pki/ca.crt
certfile $base/pki/broker.crt
keyfile $base/pki/broker.key
require_certificate true
use_identity_as_username true
persistence false
max_queued_messages 1000000
log_dest file $base/mosquitto.log
user root
# the nodes and the simulated fleet: plain MQTT on loopback
allow_anonymous true
listener $pport 127.0.0.1
EOC
mosquitto -c "$base/mosquitto.conf" > /dev/null 2>&1 &
pids+=($!)

# ------------------------------------------------------------- the guests
declare -A vm
for k in $(seq "$vms"); do
	tests/vm/run --kernel "$kernel" --forward "$gport:$port" --timeout 1800 -- \
		env VMF_DIR="$base" VMF_K="$k" tests/system/vmfleet-guest.sh > "$base/vm$k.log" 2>&1 &
	vm[$k]=$!
	pids+=("${vm[$k]}")
done
# until every daemon is connected (TCG boots on a shared host take minutes)
why=''
declare -A seen
for _ in $(seq 1500); do
	c=0
	for k in $(seq "$vms"); do
		if [ -f "$base/${gwid[$k]}.ready" ]; then
			c=$((c + 1))
			[ -n "${seen[$k]:-}" ] || seen[$k]=$(date +%s)
		fi
		if [ -f "$base/${gwid[$k]}.done" ] || ! kill -0 "${vm[$k]}" 2> /dev/null; then
			why="gateway VM $k stopped before it was ready: $(cat "$base/${gwid[$k]}.done" 2> /dev/null) $(tail -3 "$base/vm$k.log")"
			break 2
		fi
	done
	[ "$c" = "$vms" ] && break
	sleep 0.4
done
[ -z "$why" ] && [ "$c" != "$vms" ] && why="only $c of $vms gateway VMs ready after 10 min"
# the rounds run on the host's clock, the VMs' records on theirs (a TCG
# guest on a loaded host has been seen minutes off): a guest more than a
# period off would miss a round; say so at once
for k in $(seq "$vms"); do
	[ -n "$why" ] && break
	read -r gt < "$base/${gwid[$k]}.ready"
	off=$((gt - seen[$k]))
	[ "${off#-}" -le "$period" ] || why="gateway VM $k's clock is $off s off the host's (more than a round period)"
done
check "$vms gateway VMs booted: module loaded, kernel session key certified by the AK, attestiod connected over mutual TLS through the restricted forward" "$why"
[ -n "$why" ] && { echo "1..$n"; exit 1; }

# ----------------------------------------------- the fleet and the nodes
t0=$(($(date +%s) + lead))
sim_template "$base/sim-gw.conf" 4 4 "mqtt://127.0.0.1:$pport"
cat > "$base/sim.conf" <<EOC
[sim]
gateway_conf = $base/sim-gw.conf
dir = $base/sim
epochs = $((rounds * period))
start_ms = $((t0 * 1000))
samples = 10
drain_s = 5
[site A]
base = 23.15
amplitude = 0
[group h]
count = $sims
EOC
"$bin/attestio-sim" init --config "$base/sim.conf" > "$base/sim-init.log" 2>&1 ||
	{ notok "attestio-sim init" "$(cat "$base/sim-init.log")"; echo "1..$n"; exit 1; }
{
	printf '[gateways]\n'
	for k in $(seq "$vms"); do printf '%s = %s/%s.pem\n' "${gwid[$k]}" "$base" "${gwid[$k]}"; done
	printf '[feed vm_temp]\n'
	streams_gw "${gwid[@]}"
	streams_of h
	printf 'channel_type = temp\nstart = %s\nperiod = %s\ngrace = %s\nheartbeat = %s\n' \
		"$t0" "$period" "$grace" "$((2 * period))"
	printf 'decimals = 2\ntau = 0.5\nmin_devices = %s\n' "$(((vms + sims + 1) / 2 + 1))"
} > "$base/feeds.conf"
for k in 1 2 3 4; do
	node_conf "$k" 4 "$base/feeds.conf" "mqtt://127.0.0.1:$pport"
	node_start "$k"
done
wait_nodes 4
"$bin/attestio-sim" run --config "$base/sim.conf" > "$base/sim.log" 2> "$base/sim.err" &
pids+=($!)
echo "$t0" > "$base/t0.tmp" && mv "$base/t0.tmp" "$base/t0"

# ---------------------------------------------------------------- checks
# every guest: its stream covered the rounds, then its spool drained
for _ in $(seq $((600 + rounds * period * 5))); do
	c=0
	for k in $(seq "$vms"); do [ -f "$base/${gwid[$k]}.done" ] && c=$((c + 1)); done
	[ "$c" = "$vms" ] && break
	sleep 0.5
done
while [ "$(date +%s)" -lt $((t0 + rounds * period + grace + 2)) ]; do sleep 0.5; done
# every node has rounds 1-R final (t = 2 signatures gathered)
for _ in $(seq 120); do
	why=''
	for k in 1 2 3 4; do
		status "$k" > "$base/status$k.json" 2> /dev/null
		"$py" -c 'import json,sys; f=json.load(open(sys.argv[1]))["feeds"][0]; sys.exit(0 if len([r for r in f["final"] if 1 <= r["round"] <= int(sys.argv[2])]) == int(sys.argv[2]) else 1)' \
			"$base/status$k.json" "$rounds" 2> /dev/null || why="node $k: rounds 1-$rounds not all final"
	done
	[ -z "$why" ] && break
	sleep 0.5
done
for k in $(seq "$vms"); do
	d=$(cat "$base/${gwid[$k]}.done" 2> /dev/null)
	case $d in
	records\ *)
		read -r _ recs _ skew <<< "$d"
		echo "0 $recs" > "$base/${gwid[$k]}.produced"
		res=''
		for j in 1 2 3 4; do
			r=$(stored_check "$base/n$j/node.db" "${gwid[$k]}" "$base/${gwid[$k]}.produced" 2>&1)
			[[ $r == OK* ]] || res="${res:+$res; }node $j: $r"
		done
		check "gateway VM $k: every record of its module stored once and verified on all 4 nodes (${r#OK }; clock $skew s before round 1)" "$res"
		;;
	*) notok "gateway VM $k: stream and drain" "${d:-no answer}" "$(tail -5 "$base/vm$k.log")" ;;
	esac
done
why=$("$py" - "$base" "$rounds" "${gwid[@]}" <<'EOP'
import json, sys
base, R, vms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
bad = []; vals = []
for k in range(1, 5):
    s = json.load(open("%s/status%d.json" % (base, k)))
    dev = {d["gateway"]: d["device"] for d in s["devices"] if d["feed"] == "vm_temp"}
    fin = {r["round"]: r for r in s["feeds"][0]["final"]}
    for r in range(1, R + 1):
        x = fin.get(r)
        if not x:
            bad.append("node %d round %d: not final" % (k, r)); continue
        if x["status"] != 0 or not 2310 <= x["value"] <= 2320 or x["signers"] < 2:
            bad.append("node %d round %d: %s %s, %d signers" % (k, r, x["status_name"], x["value"], x["signers"]))
        part = {d["device"]: d for d in x["devices"]}
        for g in vms:
            d = part.get(dev.get(g))
            if not d or d["excluded"] or not d["weight"]:
                bad.append("node %d round %d: real gateway %s %s" % (k, r, g, d or "not a participant"))
        if k == 1:
            vals.append(str(x["value"]))
print("; ".join(bad[:6]) if bad else "OK " + " ".join(vals))
EOP
)
if [[ $why == OK* ]]; then
	ok "rounds 1-$rounds settled on all 4 nodes with t signatures, every real gateway a weighted participant: ${why#OK }"
else
	notok "rounds settle with the real gateways' readings" "$why"
fi
# the last round, offline: every pin verified, the real devices not simulated
d=$base/vr
mkdir -p "$d"
printf 'node = %s\n' "${npub[@]}" > "$d/nodes"
awk '{ print $1 " = " $6 }' "$base/sim/gateways.txt" > "$d/gateways.sim"
{ cat "$d/gateways.sim"; for k in $(seq "$vms"); do printf '%s = %s/%s.pem\n' "${gwid[$k]}" "$base" "${gwid[$k]}"; done; } > "$d/gateways"
why=''
if "$bin/attestio-oracle" final --config "$base/n1/oracle.conf" --feed vm_temp --round "$rounds" \
	-o "$d/last.cbor" --bundle "$d/last.bundle" 2> "$d/final.err"; then
	"$bin/attestio" verify-report --json "$d/last.cbor" "$d/last.bundle" --nodes "$d/nodes" \
		--gateways "$d/gateways" --allow-simulated > "$d/vr.json" 2>&1
	why=$("$py" -c 'import json, sys; j = json.load(open(sys.argv[1])); n, s = int(sys.argv[2]), int(sys.argv[3])
print("" if j["verified"] and j["devices"] == n + s and j["simulated_devices"] == s else j)' \
		"$d/vr.json" "$vms" "$sims" 2>&1)
	for k in $(seq "$vms"); do
		grep -v "^${gwid[$k]} " "$d/gateways" > "$d/gateways-$k"
		o=$("$bin/attestio" verify-report "$d/last.cbor" "$d/last.bundle" --nodes "$d/nodes" \
			--gateways "$d/gateways-$k" --allow-simulated 2>&1)
		rc=$?
		[ $rc = 1 ] && [[ $o == "NOT VERIFIED: "*"${gwid[$k]}"* ]] ||
			why="${why:+$why; }without VM $k's pin: exit $rc: $o"
	done
else
	why="attestio-oracle final: $(cat "$d/final.err")"
fi
check "verify-report re-verifies round $rounds offline: $vms TPM-backed devices and $sims simulated; without any one VM's pin refused, naming it" "$why"
echo "# verify-report: $(head -c 400 "$d/vr.json" 2> /dev/null)"
for k in $(seq "$vms"); do wait "${vm[$k]}" 2> /dev/null; done
echo "# took $(($(date +%s) - started)) s"
echo "1..$n"
[ "$fails" -eq 0 ]
