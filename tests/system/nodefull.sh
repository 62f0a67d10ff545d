#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A node whose disk fills (review 9, H2; Documentation/oracle.md "Store"):
# its store on a 2 MiB tmpfs under 20 simulated gateways at 1 epoch/s.
# The group commit that fails stops the node (exit 1, "group commit failed"
# logged) instead of going on with chain positions its store no longer has
# (a retransmission then looked like duplicates and was acked); restarted
# with room (its database moved to a larger file system, as an operator
# would), it resumes from its store: every record produced is stored once
# and verified, none lost or duplicated, every gateway's spool drained.
# Needs root (mount).  Ports 18900-18901.  TAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
base=$top/build/system-nodefull
py=/usr/bin/python3
[ -x "$py" ] || py=python3
N=${SYSTEM_NODEFULL_GATEWAYS:-20}
S=${SYSTEM_NODEFULL_SECONDS:-45}
port=18900
mport=$((port + 1))
db=$base/n1/db
# shellcheck source=tests/system/lib.sh
. "$top/tests/system/lib.sh"
umount "$db" 2> /dev/null
rm -rf "$base"
mkdir -p "$base"
trap 'cleanup; umount "$db" 2> /dev/null' EXIT
echo "TAP version 13"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nlog_dest none\nuser root\n' \
	"$port" > "$base/mosquitto.conf"
mosquitto -c "$base/mosquitto.conf" > /dev/null 2>&1 &
pids+=($!)
broker=mqtt://127.0.0.1:$port
make_nodes 1
sim_template "$base/gw.conf" 1 1 "$broker"
honest_fleet "$S" 1000 "$N" 90
: > "$base/feeds.conf"
node_conf 1 1 "$base/feeds.conf" "$broker"
mkdir -p "$db"
if ! mount -t tmpfs -o size=2m tmpfs "$db"; then
	echo "Bail out! cannot mount a tmpfs on $db (root needed)"
	exit 1
fi
sed -i "s#^db = .*#db = $db/node.db#" "$base/n1/oracle.conf"
node_start 1
wait_nodes 1
"$bin/attestio-sim" run --config "$base/sim.conf" > "$base/sim.log" 2> "$base/sim.err" &
simpid=$!
pids+=("$simpid")

# 1. the disk fills: the node stops by itself, exit 1, saying why
rc=timeout
for _ in $(seq $((S * 2))); do
	if ! kill -0 "${node[1]}" 2> /dev/null; then
		wait "${node[1]}"
		rc=$?
		break
	fi
	sleep 0.5
done
why=""
[ "$rc" = 1 ] || why="node exit status $rc (1 expected);"
grep -aq "group commit failed.*stopping so that the node resumes from its store" "$base/n1/oracle.log" ||
	why="$why no 'group commit failed ... stopping' in its log: $(tail -3 "$base/n1/oracle.log" | tr '\n' ' ');"
check "the node's disk full: the failed group commit stops it (exit 1, named) instead of acking on" "$why"
echo "# stored when it stopped: $("$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from rec").fetchone()[0])' "$db/node.db" 2>&1)"

# 2. the operator moves the database to a larger disk and starts the node
cp -a "$db"/. "$base/n1/"
umount "$db"
sed -i "s#^db = .*#db = $base/n1/node.db#" "$base/n1/oracle.conf"
node_start 1
wait "$simpid"
simrc=$?
node_stop 1
a=$(accounting 1)
echo "# $(cat "$base/sim.log")"
why=$("$py" - "$a" "$simrc" <<'EOP'
import json, sys
a = json.loads(sys.argv[1]); simrc = int(sys.argv[2])
w = []
if a["produced"] == 0 or a["verified"] != a["produced"] or a["lost"] or a["duplicated"]:
    w.append("produced %d, stored %d, verified %d, lost %d, duplicated %d"
             % (a["produced"], a["stored"], a["verified"], a["lost"], a["duplicated"]))
if simrc:
    w.append("attestio-sim exit %d (gateways with unacked records at the end)" % simrc)
print("; ".join(w))
EOP
)
echo "# $(echo "$a" | "$py" -c 'import json,sys; a=json.load(sys.stdin); print("produced %d, verified %d, lost %d, duplicated %d" % (a["produced"], a["verified"], a["lost"], a["duplicated"]))')"
check "restarted with room, it resumes from its store: every record verified once, none lost or duplicated, every spool drained" "$why"
echo "# took $(( $(date +%s) - started )) s"
echo "1..$n"
[ "$fails" -eq 0 ]
