#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The clustered broker (Documentation/system.md): a 3-node NATS JetStream
# cluster (Debian's nats-server 2.9) with its MQTT listener on loopback
# (MQTT 3.1.1, QoS 1, JetStream streams with 3 replicas); two oracle nodes
# and a fleet of simulated gateways, each with the cluster's three URLs
# (rotated per daemon).  Mid-stream the NATS node every daemon is connected
# to is killed (-9) and restarted 5 s later: every record is stored and
# verified once on both oracle nodes (nothing lost, nothing duplicated
# after dedup), the fleet's spools drain.  TAP.  Ports 18873-18881
# (SYSTEM_NATS_PORT moves them), SYSTEM_NATS_EPOCHS (CI: 24).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
base=$top/build/system-nats
rm -rf "$base"
mkdir -p "$base"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
p0=${SYSTEM_NATS_PORT:-18873}
epochs=${SYSTEM_NATS_EPOCHS:-24}
ngw=${SYSTEM_NATS_GATEWAYS:-10}
# shellcheck source=tests/system/lib.sh
. "$top/tests/system/lib.sh"
echo "TAP version 13"
if ! command -v nats-server > /dev/null; then
	echo "ok 1 # SKIP nats-server not installed (tests/deps.sh installs it)"
	echo "1..1"
	exit 0
fi

declare -A nats
url=()
nats_start() {	# i: client p0+i-1, cluster p0+3+i-1, mqtt p0+6+i-1
	local i=$1
	cat > "$base/nats$i.conf" <<-EOC
	server_name: nats$i
	listen: 127.0.0.1:$((p0 + i - 1))
	jetstream { store_dir: $base/js$i }
	cluster {
	  name: attestio
	  listen: 127.0.0.1:$((p0 + 2 + i))
	  routes: [ nats-route://127.0.0.1:$((p0 + 3)), nats-route://127.0.0.1:$((p0 + 4)), nats-route://127.0.0.1:$((p0 + 5)) ]
	}
	mqtt { listen: 127.0.0.1:$((p0 + 5 + i)) }
	EOC
	nats-server -c "$base/nats$i.conf" >> "$base/nats$i.log" 2>&1 &
	nats[$i]=$!
	pids+=("${nats[$i]}")
}
for i in 1 2 3; do nats_start "$i"; url[i]=mqtt://127.0.0.1:$((p0 + 5 + i)); done
# the MQTT streams are made on the first MQTT connection, once the
# JetStream cluster has a meta leader
for _ in $(seq 100); do
	mosquitto_sub -p $((p0 + 6)) -t attestio/warmup -q 1 -i warmup -W 1 > /dev/null 2>&1
	grep -aq "new stream leader for '\$G > \$MQTT_msgs'" "$base"/nats*.log && break
	sleep 0.5
done
grep -aq "new stream leader for '\$G > \$MQTT_msgs'" "$base"/nats*.log ||
	{ echo "Bail out! the NATS cluster made no MQTT streams: $(tail -3 "$base/nats1.log")"; exit 1; }
ok "3-node NATS JetStream cluster up, MQTT listeners on loopback"

make_nodes 2
sim_template "$base/gw.conf" 2 2 "${url[1]}" "${url[2]}" "${url[3]}"
cat > "$base/sim.conf" <<EOC
[sim]
gateway_conf = $base/gw.conf
dir = $base/sim
epochs = $epochs
samples = 10
drain_s = 40
[site A]
base = 23.15
amplitude = 0.3
[group h]
count = $ngw
site = A
EOC
"$bin/attestio-sim" init --config "$base/sim.conf" > "$base/sim-init.log" 2>&1 ||
	{ echo "Bail out! attestio-sim init: $(cat "$base/sim-init.log")"; exit 1; }
T0=$(( $(date +%s) + 8 ))
sed -i "s/^drain_s/start_ms = $((T0 * 1000))\ndrain_s/" "$base/sim.conf"
printf '[feed t]\n%s\nstart = %s\nperiod = 2\ngrace = 2\nheartbeat = 4\ndecimals = 2\ntau = 0.5\nmin_devices = 3\n' \
	"$(streams_of h)" "$T0" > "$base/feeds.conf"
node_conf 1 2 "$base/feeds.conf" "${url[1]}" "${url[2]}" "${url[3]}"
node_conf 2 2 "$base/feeds.conf" "${url[1]}" "${url[3]}" "${url[2]}"
node_start 1
node_start 2
wait_nodes 2
"$bin/attestio-sim" run --config "$base/sim.conf" > "$base/sim.log" 2> "$base/sim.err" &
simpid=$!
pids+=("$simpid")
# mid-stream: kill the node everyone is connected to, restart it 5 s later
kill_at=$((T0 + epochs / 3))
while [ "$(date +%s)" -lt "$kill_at" ]; do sleep 0.2; done
kill -9 "${nats[1]}"
wait "${nats[1]}" 2> /dev/null
echo "# t+$(( $(date +%s) - started )) s: nats1 killed (-9) at epoch $((epochs / 3))"
sleep 5
nats_start 1
echo "# t+$(( $(date +%s) - started )) s: nats1 restarted"
wait "$simpid"
simrc=$?
echo "# $(cat "$base/sim.log")"
while [ "$(date +%s)" -lt $((T0 + epochs + 3)) ]; do sleep 0.5; done
for k in 1 2; do status "$k" > "$base/status$k.json"; done
for k in 1 2; do node_stop "$k"; done
for k in 1 2; do accounting "$k" > "$base/acct$k.json"; done
for k in 1 2; do
	echo "# node $k: $("$py" -c 'import json,sys; a=json.load(open(sys.argv[1])); print("produced %d stored %d verified %d lost %d duplicated %d (duplicates dropped at ingest: %s)" % (a["produced"], a["stored"], a["verified"], a["lost"], a["duplicated"], a["dropped_duplicates"]))' "$base/acct$k.json")"
done
why=""
for k in 1 2; do
	why="$why$("$py" - "$base/acct$k.json" "$k" 2>&1 <<-'EOP'
	import json, sys
	a = json.load(open(sys.argv[1]))
	if not a["produced"] or a["lost"] or a["duplicated"] or a["verified"] != a["produced"]:
	    print("node %s: produced %d stored %d verified %d lost %d duplicated %d;" % (sys.argv[2], a["produced"], a["stored"], a["verified"], a["lost"], a["duplicated"]))
	EOP
	)"
done
check "NATS node killed and restarted mid-stream: every record stored and verified once on both oracle nodes (0 lost, 0 duplicated after dedup)" "$why"
if [ "$simrc" = 0 ]; then
	ok "every gateway's spool drained: all records acked end to end by both nodes"
else
	notok "spools drained" "attestio-sim exit $simrc: $(tail -3 "$base/sim.err")"
fi
why=$("$py" - "$base/status1.json" 2>&1 <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["feeds"][0]["final"]
bad = [x for x in f if x["status"] == 0 and not 2270 <= x["value"] <= 2360]
settled = [x for x in f if x["status"] == 0]
print("# rounds: " + " ".join("%d:%s" % (x["round"], x["value"] if x["status"] == 0 else x["status_name"]) for x in f))
if bad or len(settled) < len(f) // 2:
    print("bad or too few settled rounds: %s" % (bad or f))
EOP
)
echo "$why" | grep '^# '
check "the feed settles through the failover (within the true range; halts, never a wrong value)" "$(echo "$why" | grep -v '^# ')"
echo "# took $(( $(date +%s) - started )) s"
echo "1..$n"
[ "$fails" -eq 0 ]
