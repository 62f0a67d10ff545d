#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scale run (Documentation/system.md): N simulated gateways x 1 epoch/s
# (10 samples + 1 checkpoint per epoch) for S seconds into ONE oracle node
# on mosquitto.  Passes when there is no false reject (every record
# verified, none bad), the node keeps up (all acked within the drain) and
# its memory stays flat (RSS at the end within 25 % + 8 MiB of RSS at one
# third) and its store's checkpoints run (the WAL never over 32 MiB and
# larger than the database file).
# Prints verification latency p50/p99 (sample captured -> verified and
# stored, from the node's histogram; and how late the fleet produced its
# epochs, the simulator's share of it), CPU per gateway and per verified
# record, RSS, and how long the node and the fleet waited for a CPU
# (run-queue wait, /proc/PID/schedstat: a share near 1 means the machine,
# not the node, set the pace).  TAP.
# SYSTEM_SCALE_GATEWAYS (CI 50), SYSTEM_SCALE_SECONDS (CI 60),
# SYSTEM_SCALE_PORT (18882, +1 metrics), SYSTEM_SCALE_CSV: append a CSV line,
# SYSTEM_SCALE_EPOCH_MS (1000), SYSTEM_SCALE_SIMDIR (the fleet's keys and
# spools; /dev/shm for 1,000 gateways), SYSTEM_SCALE_WORKERS (the fleet's
# processes, 2: one thread saturated at 1,000 gateways).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
base=$top/build/system-scale
rm -rf "$base"
mkdir -p "$base"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
N=${SYSTEM_SCALE_GATEWAYS:-50}
S=${SYSTEM_SCALE_SECONDS:-60}
E=${SYSTEM_SCALE_EPOCH_MS:-1000}
epochs=$(( S * 1000 / E ))
port=${SYSTEM_SCALE_PORT:-18882}
mport=$((port + 1))
# shellcheck source=tests/system/lib.sh
. "$top/tests/system/lib.sh"
echo "TAP version 13"
cat > "$base/mosquitto.conf" <<EOC
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 1000
max_queued_messages 1000000
max_connections -1
log_dest none
user root
EOC
ulimit -n "$(ulimit -Hn)" 2> /dev/null
mosquitto -c "$base/mosquitto.conf" > /dev/null 2>&1 &
pids+=($!)
broker=mqtt://127.0.0.1:$port
make_nodes 1
sim_template "$base/gw.conf" 1 1 "$broker"
sed -i 's/^retransmit_ms = .*/retransmit_ms = 15000/' "$base/gw.conf"
cat > "$base/sim.conf" <<EOC
[sim]
gateway_conf = $base/gw.conf
dir = ${SYSTEM_SCALE_SIMDIR:-$base/sim}
epochs = $epochs
epoch_ms = $E
samples = 10
drain_s = 60
workers = ${SYSTEM_SCALE_WORKERS:-2}
[site A]
base = 23.15
amplitude = 0.3
[group h]
count = $N
site = A
EOC
[ -n "${SYSTEM_SCALE_SIMDIR:-}" ] && mkdir -p "$(dirname "$SYSTEM_SCALE_SIMDIR")"
"$bin/attestio-sim" init --config "$base/sim.conf" > "$base/sim-init.log" 2>&1 ||
	{ echo "Bail out! attestio-sim init: $(cat "$base/sim-init.log")"; exit 1; }
[ -n "${SYSTEM_SCALE_SIMDIR:-}" ] && mkdir -p "$base/sim" && cp "$SYSTEM_SCALE_SIMDIR/gateways.txt" "$base/sim/"
T0=$(( $(date +%s) + 6 + N / 100 ))
sed -i "s/^drain_s/start_ms = $((T0 * 1000))\ndrain_s/" "$base/sim.conf"
# one feed over (at most) the first 200 gateways: rounds run too
printf '[feed t]\n%s\nstart = %s\nperiod = 5\ngrace = 2\nheartbeat = 6\ndecimals = 2\ntau = 0.5\nmin_devices = 3\n' \
	"$(gws_of h | head -200 | awk '{ printf "streams = %s:0\n", $1 }')" "$T0" > "$base/feeds.conf"
node_conf 1 1 "$base/feeds.conf" "$broker"
node_start 1
wait_nodes 1
"$bin/attestio-sim" run --config "$base/sim.conf" > "$base/sim.log" 2> "$base/sim.err" &
simpid=$!
pids+=("$simpid")
# sample the node's RSS and CPU every 2 s while the fleet runs
rss_log=$base/rss.csv
echo "t,rss_kib,cpu_ticks,sim_cpu_ticks,wal_kib,db_kib,runq_ns,sim_runq_ns" > "$rss_log"
while kill -0 "$simpid" 2> /dev/null; do
	r=$(awk '/^VmRSS/ { print $2 }' "/proc/${node[1]}/status" 2> /dev/null)
	c=$(awk '{ print $14 + $15 }' "/proc/${node[1]}/stat" 2> /dev/null)
	# the fleet: its workers (live) and those it reaped (cutime, cstime)
	mapfile -t kids < <(pgrep -P "$simpid")
	sc=$(for p in "$simpid" "${kids[@]}"; do cat "/proc/$p/stat"; done 2> /dev/null | sed 's|^.*) ||' |
		awk 'NR == 1 { t = $12 + $13 + $14 + $15; next } /^[A-Z] / { t += $12 + $13 } END { printf "%.0f\n", t }')
	w=$(stat -c %s "$base/n1/node.db-wal" 2> /dev/null)
	d=$(stat -c %s "$base/n1/node.db" 2> /dev/null)
	q=$(awk '{ print $2 }' "/proc/${node[1]}/schedstat" 2> /dev/null)
	sq=$(for p in "$simpid" "${kids[@]}"; do cat "/proc/$p/schedstat"; done 2> /dev/null |
		awk '{ t += $2 } END { printf "%.0f\n", t }')
	echo "$(( $(date +%s) - T0 )),${r:-0},${c:-0},${sc:-0},$(( ${w:-0} / 1024 )),$(( ${d:-0} / 1024 )),${q:-0},${sq:-0}" >> "$rss_log"
	sleep 2
done
wait "$simpid"
simrc=$?
[ -n "${SYSTEM_SCALE_SIMDIR:-}" ] && cp "$SYSTEM_SCALE_SIMDIR/report.json" "$base/sim/"
echo "# $(cat "$base/sim.log")"
"$py" -c 'import sys, urllib.request; print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' \
	"$mport" > "$base/metrics.txt" 2>&1
status 1 > "$base/status.json"
node_stop 1
accounting 1 > "$base/acct.json"
res=$("$py" - "$base" "$N" "$S" "$(getconf CLK_TCK)" "${SYSTEM_SCALE_CSV:-}" "$E" "$simrc" 2>&1 <<'EOP'
import json, sys, csv
base, N, S, hz, csvout, E = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
simrc = int(sys.argv[7])
a = json.load(open(base + "/acct.json"))
m = {}
for l in open(base + "/metrics.txt"):
    if l.startswith("attestio_oracle_"):
        k, v = l.rsplit(" ", 1); m[k] = float(v)
b = sorted((float(k.split('le="')[1].split('"')[0]) if "+Inf" not in k else float("inf"), v)
           for k, v in m.items() if k.startswith("attestio_oracle_sample_verified_seconds_bucket"))
tot = b[-1][1] if b else 0
def q(p):
    lo = 0.0; prev = 0
    for le, c in b:
        if c >= p * tot:
            if le == float("inf"): return lo
            return lo + (le - lo) * ((p * tot - prev) / max(c - prev, 1))
        lo, prev = le, c
    return float("nan")
rows = list(csv.DictReader(open(base + "/rss.csv")))
rows = [r for r in rows if int(r["t"]) >= 0 and int(r["rss_kib"]) > 0]
third = rows[len(rows) // 3] if rows else None
end = rows[-1] if rows else None
cpu = (int(end["cpu_ticks"]) - int(rows[0]["cpu_ticks"])) / hz if rows else 0
simcpu = (max(int(x["sim_cpu_ticks"]) for x in rows) - int(rows[0]["sim_cpu_ticks"])) / hz if rows else 0
span = max(int(end["t"]) - int(rows[0]["t"]), 1) if rows else 1
bad = m.get('attestio_oracle_records_rejected_total{reason="bad"}', 0)
r = {"gateways": N, "seconds": S, "epoch_ms": E, "produced": a["produced"], "verified": a["verified"], "lost": a["lost"],
     "duplicated": a["duplicated"], "bad": int(bad), "samples": int(tot),
     "p50_ms": round(q(0.5) * 1000, 1), "p99_ms": round(q(0.99) * 1000, 1),
     "node_cpu_cores": round(cpu / span, 3), "sim_cpu_cores": round(simcpu / span, 3),
     "rss_third_kib": int(third["rss_kib"]) if third else 0, "rss_end_kib": int(end["rss_kib"]) if end else 0}
# how late the fleet produced its epochs (part of the latency above that
# is the simulator's: a fleet behind its schedule on the shared cores)
try:
    sr = json.load(open(base + "/sim/report.json"))
    r["sim_lag_p50_ms"], r["sim_lag_p99_ms"] = sr.get("lag_p50_ms"), sr.get("lag_p99_ms")
except (OSError, ValueError):
    pass
r["gateways_per_core"] = round(N / r["node_cpu_cores"], 1) if r["node_cpu_cores"] > 0 else None
# verified records per CPU-second of the node, end to end
r["records_per_core_s"] = round(a["verified"] / (cpu or 1e-9), 1) if rows and cpu > 0 else None
# share of the run the node / the fleet were runnable but waited for a CPU
r["node_runq_share"] = round((max(int(x["runq_ns"]) for x in rows) - int(rows[0]["runq_ns"])) / 1e9 / span, 2) if rows else None
r["sim_runq_share"] = round((max(int(x["sim_runq_ns"]) for x in rows) - int(rows[0]["sim_runq_ns"])) / 1e9 / span, 2) if rows else None
r["wal_max_kib"] = max(int(x["wal_kib"]) for x in rows) if rows else 0
# a WAL over 32 MiB and larger than the database: checkpoints do not run
r["wal_unchecked_kib"] = max((int(x["wal_kib"]) for x in rows
                              if int(x["wal_kib"]) > max(32768, int(x["db_kib"]))), default=0)
# every spool drained (the fleet's exit status)
r["kept_up"] = 1 if simrc == 0 else 0
# checkpoints (quotes) verified per CPU-second of the node, end to end
# (MQTT, SQLite, acks included)
r["checkpoints_per_core_s"] = round(N * (1000.0 / E) / r["node_cpu_cores"], 1) if r["node_cpu_cores"] > 0 else None
print(json.dumps(r))
if csvout:
    new = False
    try: open(csvout).close()
    except OSError: new = True
    with open(csvout, "a") as f:
        if new: f.write(",".join(r.keys()) + "\n")
        f.write(",".join(str(v) for v in r.values()) + "\n")
EOP
)
echo "# $res"
why=$("$py" -c '
import json, sys
r = json.loads(sys.argv[1])
want = r["gateways"] * (r["seconds"] * 1000 // r["epoch_ms"] * 11 + 1)
if r["produced"] != want:
    print("the fleet produced %d records, not %d (10 samples + 1 checkpoint per epoch and a descriptor per gateway)" % (r["produced"], want))
elif r["verified"] != r["produced"] or r["bad"] or r["lost"] or r["duplicated"]:
    print("false rejects or losses: %s" % r)' "$res" 2>&1)
check "$N gateways x 1 epoch per $E ms x $S s on one node: no false reject, nothing lost or duplicated" "$why"
why=$("$py" -c '
import json, sys
r = json.loads(sys.argv[1])
if r["rss_end_kib"] > r["rss_third_kib"] * 1.25 + 8192:
    print("RSS grew from %d KiB (at 1/3) to %d KiB" % (r["rss_third_kib"], r["rss_end_kib"]))' "$res" 2>&1)
check "node memory flat (RSS at the end within 25 % + 8 MiB of RSS at one third)" "$why"
why=$("$py" -c '
import json, sys
r = json.loads(sys.argv[1])
if r["wal_unchecked_kib"]:
    print("the store WAL reached %d KiB, over 32 MiB and the database file: checkpoints do not run" % r["wal_unchecked_kib"])' "$res" 2>&1)
check "the node's store checkpoints (its WAL never over 32 MiB and the database file)" "$why"
if [ "$simrc" = 0 ]; then
	ok "the node kept up: every gateway's spool drained"
else
	notok "the node kept up" "attestio-sim exit $simrc"
fi
echo "# took $(( $(date +%s) - started )) s"
echo "1..$n"
[ "$fails" -eq 0 ]
