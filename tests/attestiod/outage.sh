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
# disk_full" selects scenarios.  Ports 18860 (broker), 18861 (node metrics).
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

# shellcheck disable=SC2317  # called from the trap
cleanup() {
	for p in $vm $node $broker; do kill -9 "$p" 2> /dev/null; done
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
scenarios=${OUTAGE_TESTS:-broker_restart kill_daemon kill_broker disk_full}
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

# check GW PRODUCED-FILE: what the node stored for gateway GW against what
# the module produced ("stream records" lines): per stream, stored seqs
# distinct and verified, the last one stored; produced = stored + declared
# lost (the module's `lost` records, each counted once).
check() {
	"$py" - "$base/node.db" "$1" "$2" <<-'EOP'
	import sqlite3, sys
	db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
	gw = sys.argv[2]
	prod = {int(a): int(b) for a, b in (l.split() for l in open(sys.argv[3]) if l.strip())}
	bad = []; stored = 0
	for st, p in sorted(prod.items()):
	    rows = db.execute("select instance, gen, count(*), count(distinct seq), max(seq),"
	                      " sum(state<>0) from rec where gw=? and stream=? group by instance, gen",
	                      (gw, st)).fetchall()
	    if len(rows) != 1:
	        bad.append("stream %d: %d chains stored" % (st, len(rows))); continue
	    _, _, n, nd, mx, unver = rows[0]
	    if n != nd: bad.append("stream %d: %d duplicates stored" % (st, n - nd))
	    if unver: bad.append("stream %d: %d not verified" % (st, unver))
	    if mx != p - 1: bad.append("stream %d: last seq stored %s, produced %d" % (st, mx, p))
	    stored += nd
	lost = sum(r[0] for r in db.execute(
	    "select records from (select distinct data, records from lost where gw=?)", (gw,)))
	total = sum(prod.values())
	if stored + lost != total:
	    bad.append("produced %d != delivered %d + declared lost %d" % (total, stored, lost))
	print("%s produced=%d delivered=%d declared_lost=%d%s" % (
	    "FAIL" if bad else "OK", total, stored, lost, (": " + "; ".join(bad)) if bad else ""))
	EOP
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
		check) ans=$(check "$a1" "$a2" 2>&1) ;;
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
