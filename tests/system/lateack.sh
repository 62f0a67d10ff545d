#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Acks that always come late (Documentation/attestiod.md "Retransmission"):
# a fleet of simulated gateways (epochs of 2 s) reaches mosquitto through a relay
# (tests/system/mitm.py --delay-ms) that holds everything the broker sends
# them for D ms, the oracle node's end-to-end acks among it, for the whole
# run; the gateways' retransmit_ms is 1 s, far below that round trip.  The
# measured retransmission timeout (RFC 6298) learns the round trip from the
# first acks: before the first sample the wait is retransmit_ms, then it
# backs off (1 s, 2 s, and the next records keep the backoff until a
# sample, Karn: up to two doublings of it, 4 s, rto.c), so a gateway times
# out twice (at 1 s and 3 s; a third time only if the first ack took over
# 7 s), each time resending the one or two batches it has unacked, and
# never after.  Checked: every record verified once, at most 3 timeouts
# and 7 batches sent again per gateway (measured: 2 and 2).
# Epochs of 2 s: between two acks the oldest record stays unacked longer
# than 1 s, so a timeout that drops its backoff at each ack times out
# every epoch (each timeout discards the sample under way, it never
# learns: 600 timeouts for 20 gateways in 30 epochs), and a fixed 1 s
# timeout every third (220).  TAP.
# SYSTEM_LATEACK_GATEWAYS (20), SYSTEM_LATEACK_EPOCHS (30),
# SYSTEM_LATEACK_DELAY_MS (4000), SYSTEM_LATEACK_PORT (18893, +1 the
# relay, +2 the node's metrics).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
base=$top/build/system-lateack
rm -rf "$base"
mkdir -p "$base"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
N=${SYSTEM_LATEACK_GATEWAYS:-20}
E=${SYSTEM_LATEACK_EPOCHS:-30}
D=${SYSTEM_LATEACK_DELAY_MS:-4000}
port=${SYSTEM_LATEACK_PORT:-18893}
rport=$((port + 1))
mport=$((port + 2))
# shellcheck source=tests/system/lib.sh
. "$top/tests/system/lib.sh"
echo "TAP version 13"
echo "# $N gateways x $E epochs of 2 s, every ack $D ms late, retransmit_ms 1000"
cat > "$base/mosquitto.conf" <<EOC
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
log_dest none
user root
EOC
mosquitto -c "$base/mosquitto.conf" > /dev/null 2>&1 &
pids+=($!)
"$py" "$top/tests/system/mitm.py" --listen "$rport" --upstream "$port" --delay-ms "$D" \
	--log "$base/relay.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$base/relay.log" 2> /dev/null && break; sleep 0.1; done
make_nodes 1
sim_template "$base/gw.conf" 1 1 "mqtt://127.0.0.1:$rport"
sed -i 's/^retransmit_ms = .*/retransmit_ms = 1000/' "$base/gw.conf"
honest_fleet "$E" 2000 "$N" 30
: > "$base/feeds.conf"
node_conf 1 1 "$base/feeds.conf" "mqtt://127.0.0.1:$port"
node_start 1
wait_nodes 1
"$bin/attestio-sim" run --config "$base/sim.conf" > "$base/sim.log" 2> "$base/sim.err"
simrc=$?
echo "# $(cat "$base/sim.log")"
node_stop 1
accounting 1 > "$base/acct.json"
why=$("$py" - "$base/acct.json" "$base/sim/report.json" "$N" "$simrc" <<'EOP'
import json, sys
a = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2])); n = int(sys.argv[3])
bad = []
if int(sys.argv[4]): bad.append("attestio-sim exit %s (spools not drained)" % sys.argv[4])
if a["verified"] != a["produced"] or a["lost"] or a["duplicated"]:
    bad.append("produced %d, verified %d, lost %d, stored twice %d" % (a["produced"], a["verified"], a["lost"], a["duplicated"]))
if r["retransmits"] > 3 * n or r["batches_retransmitted"] > 7 * n:
    bad.append("%d timeouts and %d batches sent again for %d gateways (at most 3 and 7 each)"
               % (r["retransmits"], r["batches_retransmitted"], n))
print("; ".join(bad) if bad else "OK %d records verified once; %d timeouts, %d batches sent again, %d published"
      % (a["verified"], r["retransmits"], r["batches_retransmitted"], r["published"]))
EOP
)
if [[ $why == OK* ]]; then
	ok "acks $D ms late all the time: ${why#OK }"
else
	notok "acks $D ms late all the time: the measured timeout holds retransmissions to the first seconds" "$why"
fi
echo "# took $(($(date +%s) - started)) s"
echo "1..$n"
[ "$fails" -eq 0 ]
