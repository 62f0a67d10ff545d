#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Outage scenarios with the real module: the guest (tests/vm/run --forward)
# runs attestio.ko, emulated sensors at 1 kHz and attestiod as in
# production (source bpf, mutual TLS, a disk spool); the host runs the real
# mosquitto (TLS) and a real `attestio-oracle run` node on its loopback,
# which the guest reaches through the forward only.  The guest script
# (tests/attestiod/outage-guest.sh) drives each scenario and asks the host,
# through files in build/outage/ctl (the project tree is shared), to stop,
# start or kill -9 the broker, to start the node and to check what the node
# stored.  TAP on stdout (the guest's).
#   outage.sh [--kernel K] [--seconds S]   (default 6.1, 3 s of stream each)
# Environment: OUTAGE_TESTS="broker_restart kill_daemon kill_broker
# disk_full settle" selects scenarios; OUTAGE_SETTLE_LEAD (default 16):
# seconds from the settle nodes' start to round 1.  Ports 18860 (broker), 18861 (node
# metrics); OUTAGE_PORT moves them.
# settle: the guest's temperature records go to four more host nodes
# (n = 4, f = 1, t = 2) in one feed with three simulated gateways
# (attestio-sim, tests/system/fleet-lib.sh) of the same site; the fleet
# reaches the broker on a plain loopback listener (OUTAGE_FLEET_PORT,
# default 18884) through a man in the middle (tests/system/mitm.py, port
# OUTAGE_FLEET_PORT + 1).  Twelve rounds in four phases (Documentation/
# system.md "The gateway VM in the fleet"): 1-3 honest (settled), 4-6 one
# simulated gateway lies (outvoted), 7-9 a second one lies too (halted),
# from 10 the man in the middle changes one reading of the honest
# simulated gateway's records in transit (rejected, that gateway
# quarantined; 11-12 settle on the others).  `attestio-oracle final`
# exports the reports and they settle a TemperatureOption on the
# in-process EVM with the payout `attestio settle` computes (tests/
# contracts/settle-lib.sh); `attestio verify-report` re-verifies the last
# round offline with the VM's device among the participants, not simulated.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
kernel=6.1 seconds=3
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	*) echo "usage: $0 [--kernel K] [--seconds S]" >&2; exit 2 ;;
	esac
done
bin=$top/build/bin
base=$top/build/outage-$kernel
port=${OUTAGE_PORT:-18860}
mport=$((port + 1))
gport=8883		# the broker as the guest sees it: vm-host:8883
py=/usr/bin/python3
[ -x "$py" ] || py=python3
rm -rf "$base"
mkdir -p "$base/ctl" "$base/pki"
broker='' node='' vm=''
snode=()

# shellcheck disable=SC2317  # called from the trap
cleanup() {
	for p in $vm $node "${snode[@]}" $broker; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
}
trap cleanup EXIT

# ------------------------------------------------------------ certificates
pki=$base/pki
# shellcheck source=tests/attestiod/pki.sh
. "$top/tests/attestiod/pki.sh"
mkpki "$pki" "attestio outage test ca" broker gw oracle
chmod 644 "$pki"/*.key
nodekey=$(openssl rand -hex 32)
read -r nodepub _ <<< "$("$bin/attestio-oracle" pubkey "$nodekey")"
scenarios=${OUTAGE_TESTS:-broker_restart kill_daemon kill_broker disk_full settle}
# the settle scenario's oracle set: four nodes; rounds of speriod s, run
# sgrace s after their end; rounds 1-srounds settle; round 1 starts slead
# s after the guest asks for the nodes (OUTAGE_SETTLE_LEAD: a loaded host)
speriod=3 sgrace=8 srounds=12 slead=${OUTAGE_SETTLE_LEAD:-16}
# the phases' first rounds: one liar, two liars, the man in the middle
sliar1=4 sliar2=7 smitm=10
fport=${OUTAGE_FLEET_PORT:-18884}
declare -A skey spub
for k in 1 2 3 4; do
	skey[$k]=$(openssl rand -hex 32)
	read -r "spub[$k]" _ <<< "$("$bin/attestio-oracle" pubkey "${skey[$k]}")"
done
# one gateway id per scenario, so that each is checked on its own
declare -A gwid
i=0
for s in $scenarios; do
	i=$((i + 1))
	gwid[$s]=$(printf '0a77e570%024x' "$i")
done
{
	printf 'NODEPUB=%s\nSECONDS_STREAM=%s\nGPORT=%s\nSCENARIOS="%s"\n' \
		"$nodepub" "$seconds" "$gport" "$scenarios"
	printf 'SETTLE_NODES="%s"\nSETTLE_PERIOD=%s\nSETTLE_ROUNDS=%s\nSETTLE_LEAD=%s\n' \
		"${spub[*]}" "$speriod" "$srounds" "$slead"
	for s in $scenarios; do printf 'GW_%s=%s\n' "$s" "${gwid[$s]}"; done
} > "$base/env"

# ------------------------------------------------------------------ broker
cat > "$base/mosquitto.conf" <<EOC
listener $port 127.0.0.1
cafile $pki/ca.crt
certfile $pki/broker.crt
keyfile $pki/broker.key
require_certificate true
use_identity_as_username true
persistence false
max_queued_messages 1000000
log_dest file $base/mosquitto.log
user root
# the settle scenario's simulated fleet: plain MQTT on loopback (reached
# through tests/system/mitm.py only)
allow_anonymous true
listener $fport 127.0.0.1
EOC
broker_start() {
	local before now
	before=$(grep -c "listen socket on port $port" "$base/mosquitto.log" 2> /dev/null)
	mosquitto -c "$base/mosquitto.conf" > /dev/null 2>&1 &
	broker=$!
	for _ in $(seq 50); do
		now=$(grep -c "listen socket on port $port" "$base/mosquitto.log" 2> /dev/null)
		[ "${now:-0}" -gt "${before:-0}" ] && break
		sleep 0.1
	done
}
broker_stop() {	# signal
	[ -n "$broker" ] || return 0
	kill "-$1" "$broker" 2> /dev/null
	wait "$broker" 2> /dev/null
	broker=''
}

# -------------------------------------------------------------------- node
# (Re)start the node with every gateway whose key the guest gave: the
# kernel session key of the module load of that scenario (GW.pem), which
# the guest exported after `attestio measurements` checked that the AK
# certified it (the node does not read measurement logs yet).
node_start() {
	if [ -n "$node" ]; then
		kill "$node" 2> /dev/null
		wait "$node" 2> /dev/null
	fi
	{
		printf '[node]\nkey = %s\ndb = %s/node.db\n' "$nodekey" "$base"
		printf '[link]\nbroker = mqtts://localhost:%s\nca = %s\ncert = %s\nkey = %s\nkeepalive = 5\n' \
			"$port" "$pki/ca.crt" "$pki/oracle.crt" "$pki/oracle.key"
		printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$mport"
		printf '[gateways]\n'
		for s in $scenarios; do
			[ -f "$base/${gwid[$s]}.pem" ] && printf '%s = %s/%s.pem\n' "${gwid[$s]}" "$base" "${gwid[$s]}"
		done
	} > "$base/oracle.conf"
	: > "$base/oracle.start.log"
	"$bin/attestio-oracle" run --config "$base/oracle.conf" 2> >(tee -a "$base/oracle.log" > "$base/oracle.start.log") &
	node=$!
	for _ in $(seq 100); do
		grep -q "Connection Accepted" "$base/oracle.start.log" 2> /dev/null && break
		sleep 0.1
	done
}
node_metric() {	# name
	"$py" - "$mport" "$1" <<-'EOP' 2> /dev/null
	import sys, urllib.request
	t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read().decode()
	for l in t.splitlines():
	    if l.startswith("attestio_oracle_" + sys.argv[2] + " "):
	        print(l.split()[1])
	EOP
}

# ------------------------------------------------------ settle: 4 nodes
# settle-nodes T0: start nodes 1-4 (their own stores under settle/) with
# the guest's gateway (its kernel session key, as above) and one feed on
# its stream 0 from T0 (the guest's clock: capture times), rounds of
# $speriod s; answers once all four are subscribed.
# shellcheck source=tests/system/fleet-lib.sh
. "$top/tests/system/fleet-lib.sh"
# The fleet around the VM from T0: site A is the guest sensor's 23.10-23.20
# degC; gw2 lies (30 degC) in rounds sliar1 .. smitm - 1, gw3 in rounds
# sliar2 .. smitm - 1; gw1 is the man in the middle's target (epochs of 1 s)
fleet_conf() {	# t0
	local e1=$(((sliar1 - 1) * speriod + 1)) e2=$(((sliar2 - 1) * speriod + 1)) e3=$(((smitm - 1) * speriod))
	cat <<-EOC
	[sim]
	gateway_conf = $base/sim-gw.conf
	dir = $base/sim
	epochs = $((srounds * speriod))
	start_ms = $(($1 * 1000))
	samples = 10
	drain_s = 5
	[site A]
	base = 23.15
	amplitude = 0
	[group gw1]
	count = 1
	[group gw2]
	behaviour = liar
	value = 30
	from = $e1
	until = $e3
	[group gw3]
	behaviour = liar
	value = 30
	from = $e2
	until = $e3
	EOC
}
settle_nodes() {	# t0
	local k d gw=${gwid[settle]} skew=$(($1 - $(date +%s) - slead))
	[ -f "$base/$gw.pem" ] || { echo "no kernel session key $base/$gw.pem"; return; }
	# the fleet and the rounds run on the host's clock, the VM's
	# records on the guest's (a TCG guest under load has been seen
	# minutes off): refuse at once rather than wait for a wrong round 1
	if [ "${skew#-}" -gt 60 ]; then
		settle_skew="the guest's clock is $skew s off the host's"
		echo "$settle_skew"
		return
	fi
	for k in 1 2 3 4; do npub[$k]=${spub[$k]}; done
	sim_template "$base/sim-gw.conf" 4 4 "mqtt://127.0.0.1:$((fport + 1))"
	fleet_conf "$1" > "$base/sim.conf"
	mkdir -p "$base/settle"
	"$bin/attestio-sim" init --config "$base/sim.conf" > "$base/sim-init.log" 2>&1 ||
		{ echo "attestio-sim init: $(cat "$base/sim-init.log")"; return; }
	"$py" "$top/tests/system/mitm.py" --listen $((fport + 1)) --upstream "$fport" \
		--topic "attestio/v1/gw/$(gws_of gw1)/records" --at $(($1 + (smitm - 1) * speriod)) \
		--log "$base/settle/mitm.log" &
	snode+=($!)
	for k in 1 2 3 4; do
		d=$base/settle/n$k
		mkdir -p "$d"
		{
			printf '[node]\nkey = %s\ndb = %s/node.db\nallow_simulated = true\n' "${skey[$k]}" "$d"
			printf '[link]\nbroker = mqtts://localhost:%s\nca = %s\ncert = %s\nkey = %s\nkeepalive = 5\n' \
				"$port" "$pki/ca.crt" "$pki/oracle.crt" "$pki/oracle.key"
			printf '[quorum]\n'
			printf 'node = %s\n' "${spub[@]}"
			printf '[gateways]\n%s = %s/%s.pem\n' "$gw" "$base" "$gw"
			sim_gw_sections
			printf '[feed guest_temp]\nstreams = %s:0\n%s\nchannel_type = temp\nstart = %s\n' \
				"$gw" "$(streams_of gw1 gw2 gw3)" "$1"
			printf 'period = %s\ngrace = %s\nheartbeat = %s\ndecimals = 2\ntau = 0.5\nmin_devices = 3\n' \
				"$speriod" "$sgrace" "$((2 * speriod))"
		} > "$d/oracle.conf"
		"$bin/attestio-oracle" run --config "$d/oracle.conf" > /dev/null 2>> "$d/oracle.log" &
		snode+=($!)
	done
	for _ in $(seq 150); do
		k=$(cat "$base"/settle/n*/oracle.log 2> /dev/null | grep -ac "Connection Accepted")
		if [ "$k" -ge 4 ]; then
			for _ in $(seq 150); do	# python's start on a loaded host
				grep -q listening "$base/settle/mitm.log" 2> /dev/null && break
				sleep 0.1
			done
			"$bin/attestio-sim" run --config "$base/sim.conf" > "$base/sim.log" 2> "$base/sim.err" &
			snode+=($!)
			echo ok
			return
		fi
		sleep 0.1
	done
	echo "settle nodes not connected: $(tail -2 "$base/settle/n1/oracle.log")"
}
# settle-check T0: once rounds 1-$srounds ran, node 1's final reports
# settle the option on the EVM as attestio settle does (to the wei) and as
# node 1's status says; a changed value and a report with one signature
# (t - 1) are rejected by the contract.  Answers "OK figures" or "FAIL why".
# shellcheck source=tests/contracts/settle-lib.sh
. "$top/tests/contracts/settle-lib.sh"
settle_check() {	# t0
	local t0=$1 d=$base/settle/evm conf=$base/settle/n1/oracle.conf why out want o1 o2 k
	local gw=${gwid[settle]} phases vr
	[ -z "${settle_skew:-}" ] || { echo "FAIL $settle_skew"; return; }
	local terms=("first_round = 1" "last_round = $srounds" "extension_rounds = 2" "min_rounds = 2"
		"strike = 2300" "notional = 1000000000000000"
		"buyer_deposit = 100000000000000000" "seller_deposit = 1000000000000000000")
	while [ "$(date +%s)" -lt $((t0 + srounds * speriod + sgrace + 2)) ]; do sleep 0.5; done
	# every node has rounds 1-N final (t = 2 signatures gathered)
	for _ in $(seq 60); do
		why=''
		for k in 1 2 3 4; do
			"$bin/attestio-oracle" status --json --config "$base/settle/n$k/oracle.conf" > "$base/settle/status$k.json" 2> /dev/null
			"$py" -c 'import json,sys; f=json.load(open(sys.argv[1]))["feeds"][0]; sys.exit(0 if len([r for r in f["final"] if 1 <= r["round"] <= int(sys.argv[2])]) == int(sys.argv[2]) else 1)' \
				"$base/settle/status$k.json" "$srounds" 2> /dev/null || why="node $k: rounds 1-$srounds not all final"
		done
		[ -z "$why" ] && break
		sleep 0.5
	done
	[ -n "$why" ] && { echo "FAIL $why"; return; }
	why=$(settle_phases "$base/settle" "$gw")
	[[ "$why" == OK* ]] || { echo "FAIL phases: $why" | tr '\n' ' '; return; }
	phases=${why#OK }
	settle_setup > /dev/null
	why=$(settle_node_reports "$conf" "$d" guest_temp settled "$(seq -s ' ' 1 "$srounds")" "${terms[@]}")
	out=$(cat "$d/node-reports.log" 2> /dev/null)
	want=$(settle_expect "$base/settle/status1.json" guest_temp 1 "$srounds" 2 2300 \
		1000000000000000 100000000000000000 1000000000000000000)
	if [ -n "$why" ] || [[ "$want" != settled* ]] || [[ "$out" != *"contract: $want;"* ]]; then
		echo "FAIL ${why:-$out}; expected from node 1's status: $want" | tr '\n' ' '
		return
	fi
	# attestio settle's own words on the same reports (the demo shows them)
	# shellcheck disable=SC2046  # one file a round
	"$bin/attestio" settle --contract "$d/option.conf" $(seq -f "$d/guest_temp-%08g.cbor" 1 "$srounds") \
		> "$d/settle.txt" 2>&1
	settle_flip_value "$d/guest_temp-00000001.cbor" "$d/value.cbor"
	settle_drop_sigs "$d/guest_temp-00000001.cbor" "$d/onesig.cbor"
	o1=$(settle_files "$d" "$d/value.cbor")
	o2=$(settle_files "$d" "$d/onesig.cbor")
	if [[ "$o1" != *"value.cbor (round 1) rejected by the contract"* ]] ||
	   [[ "$o2" != *"onesig.cbor (round 1) rejected by the contract"* ]]; then
		echo "FAIL altered reports: value changed: $o1; one signature: $o2" | tr '\n' ' '
		return
	fi
	vr=$(settle_verify_report "$d" "$gw") || { echo "FAIL verify-report: $vr" | tr '\n' ' '; return; }
	echo "OK $phases; ${out#node-reports: ok }; altered value and one signature: rejected (${o1##*: }, ${o2##*: }); $vr"
}
# settle-phases DIR GW: every node's rounds against the phases (values in
# the sensor's 23.10-23.20 degC +- the fleet's noise); the man in the
# middle's change seen, gw1 quarantined for it, the VM's gateway and the
# other two active on node 1.  Writes DIR/rounds.txt (round value halted
# status-name, node 1's) for the demo's plot.  "OK figures" or why not.
settle_phases() {	# dir gw
	"$py" - "$1" "$srounds" "$sliar1" "$sliar2" "$smitm" "$2" "$(gws_of gw1)" "$(gws_of gw2)" "$(gws_of gw3)" <<-'EOP'
	import json, sys
	d = sys.argv[1]; N, l1, l2, m = map(int, sys.argv[2:6]); vm, g1, g2, g3 = sys.argv[6:10]
	bad = []
	lo, hi = 2290, 2340
	for k in range(1, 5):
	    f = json.load(open("%s/status%d.json" % (d, k)))["feeds"][0]
	    R = {x["round"]: x for x in f["final"]}
	    for r in range(1, N + 1):
	        x = R[r]
	        if x["signers"] < 2:
	            bad.append("node %d round %d: %d signers" % (k, r, x["signers"]))
	        settled = x["status"] == 0 and lo <= x["value"] <= hi
	        if (r < l2 or r > m) and not settled:
	            bad.append("node %d round %d: %s %s, not settled within %d-%d" % (k, r, x["status_name"], x["value"], lo, hi))
	        if l2 <= r < m and x["status"] == 0:
	            bad.append("node %d round %d: settled %s with two liars of four" % (k, r, x["value"]))
	        if k == 1 and r == N:
	            rows = [R[i] for i in range(1, N + 1)]
	    if k == 1:
	        st = {g["id"]: g for g in json.load(open("%s/status1.json" % d))["gateways"]}
	with open("%s/rounds.txt" % d, "w") as o:
	    for x in rows:
	        o.write("%d %s %d %s\n" % (x["round"], x["value"] if x["status"] == 0 else "NaN",
	                                    x["status"] != 0, x["status_name"]))
	log = open("%s/mitm.log" % d).read()
	if "tampered in transit" not in log:
	    bad.append("the man in the middle changed nothing: " + log.strip().replace("\n", "; "))
	q = st.get(g1, {})
	if q.get("state") != "quarantined" or not q.get("reason"):
	    bad.append("gw1 (tampered in transit): %s %s" % (q.get("state"), q.get("reason")))
	for n, g in (("the VM's gateway", vm), ("gw2", g2), ("gw3", g3)):
	    if st.get(g, {}).get("state") != "active":
	        bad.append("%s: %s" % (n, st.get(g)))
	if bad:
	    print("; ".join(bad)); sys.exit()
	v = lambda a, b: " ".join(str(x["value"]) if x["status"] == 0 else x["status_name"] for x in rows[a - 1:b])
	print("OK rounds 1-%d honest: %s; %d-%d one simulated gateway at 30 degC, outvoted: %s; "
	      "%d-%d two of four lie: halted: %s; round %d on, one reading of gw1 changed in transit: "
	      "gw1 quarantined (%s), rounds %d-%d: %s" % (l1 - 1, v(1, l1 - 1), l1, l2 - 1, v(l1, l2 - 1),
	      l2, m - 1, v(l2, m - 1), m, q["reason"], m, N, v(m, N)))
	EOP
}
# settle-verify-report DIR GW: round srounds exported with its evidence
# bundle and re-verified offline by attestio verify-report against the
# nodes' keys and the gateways' pins: verified, the VM's device one of the
# devices and the only one not simulated; without the VM's pin, refused
# (its records are in the bundle).  The verify-report line, or why not.
settle_verify_report() {	# dir gw
	local d=$1 gw=$2 conf=$base/settle/n1/oracle.conf o1 o2 rc1 rc2
	printf 'node = %s\n' "${spub[@]}" > "$d/nodes"
	awk '{ print $1 " = " $6 }' "$base/sim/gateways.txt" > "$d/gateways.sim"
	{ cat "$d/gateways.sim"; printf '%s = %s/%s.pem\n' "$gw" "$base" "$gw"; } > "$d/gateways"
	"$bin/attestio-oracle" final --config "$conf" --feed guest_temp --round "$srounds" \
		-o "$d/last.cbor" --bundle "$d/last.bundle" 2> "$d/last.err" || { cat "$d/last.err"; return 1; }
	"$bin/attestio" verify-report "$d/last.cbor" "$d/last.bundle" --nodes "$d/nodes" \
		--gateways "$d/gateways" --allow-simulated > "$d/verify-report.txt" 2>&1; rc1=$?
	"$bin/attestio" verify-report --json "$d/last.cbor" "$d/last.bundle" --nodes "$d/nodes" \
		--gateways "$d/gateways" --allow-simulated > "$d/verify-report.json" 2>&1
	o2=$("$bin/attestio" verify-report "$d/last.cbor" "$d/last.bundle" --nodes "$d/nodes" \
		--gateways "$d/gateways.sim" --allow-simulated 2>&1); rc2=$?
	o1=$("$py" -c 'import json, sys; j = json.load(open(sys.argv[1])); print("ok" if j["verified"] and j["devices"] >= 3 and j["simulated_devices"] == j["devices"] - 1 else j)' \
		"$d/verify-report.json" 2>&1)
	if [ $rc1 != 0 ] || [ "$o1" != ok ] || [ $rc2 != 1 ] || [[ "$o2" != "NOT VERIFIED: "*"$gw"* ]]; then
		echo "with every pin (exit $rc1): $(cat "$d/verify-report.txt") $o1; without the VM's pin (exit $rc2): $o2"
		return 1
	fi
	echo "verify-report round $srounds: $(head -1 "$d/verify-report.txt"); $(sed -n 2p "$d/verify-report.txt" | cut -d: -f1-2)"
	echo "without the VM's pin: ${o2}" > "$d/verify-report.nopin"
}

# ------------------------------------------------------------- controller
# A request is ctl/N.req holding "command args"; the answer is ctl/N.ans.
serve() {
	local r n cmd a1 a2 ans
	for r in "$base"/ctl/*.req; do
		[ -f "$r" ] || continue
		n=${r%.req}
		read -r cmd a1 a2 < "$r"
		rm -f "$r"
		ans=ok
		case $cmd in
		broker-start) broker_start ;;
		broker-stop) broker_stop TERM ;;
		broker-kill9) broker_stop KILL ;;
		node-start) node_start ;;
		node-dups) ans=$(node_metric 'records_rejected_total{reason="duplicate"}') ;;
		# verified checkpoints by the beacon they cover (oracle.md "Beacons")
		node-beacons) ans=$(for c in fresh none unknown stale; do
			node_metric "checkpoints_beacon_total{class=\"$c\"}"; done | tr '\n' ' ') ;;
		check) ans=$(stored_check "$base/node.db" "$a1" "$a2" 2>&1) ;;
		settle-nodes)	# not in $(): the nodes are this shell's children
			settle_nodes "$a1" > "$base/settle.ans" 2>&1
			ans=$(cat "$base/settle.ans") ;;
		settle-check) ans=$(settle_check "$a1" 2>&1) ;;
		*) ans="unknown command $cmd" ;;
		esac
		echo "$ans" > "$n.tmp"
		mv "$n.tmp" "$n.ans"
	done
}

broker_start
tests/vm/run --kernel "$kernel" --forward "$gport:$port" --timeout $((600 + 120 * seconds)) -- \
	env OUTAGE_DIR="$base" tests/attestiod/outage-guest.sh &
vm=$!
while kill -0 "$vm" 2> /dev/null; do
	serve
	sleep 0.05
done
wait "$vm"
rc=$?
vm=''
echo "# host: node log $base/oracle.log, broker log $base/mosquitto.log"
exit "$rc"
