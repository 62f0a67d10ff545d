#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, step "system" (tests/bench/run.sh): the whole pipeline
# (attestio-sim fleet -> mosquitto -> one attestio-oracle node) measured
# with tests/system/scale.sh, each figure next to its baseline:
#   1. devices one node sustains at 1 epoch/s per core: fleets of
#      BENCH_SYSTEM_FLEETS gateways (default 100 250 500 1000) for
#      BENCH_SYSTEM_SECONDS (60) each; node CPU, gateways per core, memory;
#   2. checkpoints (quotes) and records verified per second per core, end
#      to end, against `openssl speed ecdsap256` verify/s on this machine;
#      the node's sustained fleet: the largest that was all verified, every
#      spool drained and p99 sample -> verified within 3 epochs, and how
#      long the node and the fleet waited for a CPU (run-queue share: near
#      1, the machine set the pace, not the node);
#   3. sample -> verified latency p50/p99 against the epoch length
#      (BENCH_SYSTEM_EPOCHS_MS: 250 500 1000 2000 ms, 50 gateways).
# CSV and gnuplot PNG plots in build/bench/system-*.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/bench
mkdir -p "$out"
read -ra fleets <<< "${BENCH_SYSTEM_FLEETS:-100 250 500 1000}"
read -ra epochs <<< "${BENCH_SYSTEM_EPOCHS_MS:-250 500 1000 2000}"
secs=${BENCH_SYSTEM_SECONDS:-60}
fleet_csv=$out/system-fleet.csv
lat_csv=$out/system-latency.csv
rm -f "$fleet_csv" "$lat_csv"
simdir=/dev/shm/attestio-bench-sim.$$
trap 'rm -rf "$simdir"' EXIT

openssl speed -seconds 3 ecdsap256 > "$out/system-openssl.txt" 2>/dev/null
# "256 bits ecdsa (nistp256)   0.0000s   0.0001s  40000.0  12000.0": sign/s verify/s
ossl=$(awk '/ecdsa \(nistp256\)/ { v = $NF } END { print v }' "$out/system-openssl.txt")
for n in "${fleets[@]}"; do
	rm -rf "$simdir"
	SYSTEM_SCALE_GATEWAYS=$n SYSTEM_SCALE_SECONDS=$secs SYSTEM_SCALE_SIMDIR=$simdir/sim \
		SYSTEM_SCALE_CSV=$fleet_csv tests/system/scale.sh > "$out/system-fleet-$n.log" 2>&1
	grep '^# {' "$out/system-fleet-$n.log" | sed 's/^# //'
done
for e in "${epochs[@]}"; do
	rm -rf "$simdir"
	SYSTEM_SCALE_GATEWAYS=50 SYSTEM_SCALE_SECONDS=$(( secs / 2 )) SYSTEM_SCALE_EPOCH_MS=$e \
		SYSTEM_SCALE_SIMDIR=$simdir/sim SYSTEM_SCALE_CSV=$lat_csv \
		tests/system/scale.sh > "$out/system-latency-$e.log" 2>&1
done

/usr/bin/python3 - "$fleet_csv" "$lat_csv" "${ossl:-0}" <<'EOP'
import csv, sys
fl = list(csv.DictReader(open(sys.argv[1]))) if open(sys.argv[1]).read() else []
la = list(csv.DictReader(open(sys.argv[2]))) if open(sys.argv[2]).read() else []
ossl = float(sys.argv[3] or 0)
print("\n%-9s %9s %9s %10s %12s %14s %12s %8s %8s %9s" % ("gateways", "verified", "lost", "node_cores",
      "gw_per_core", "ckpt/s/core", "openssl_vfy/s", "ratio", "p99_ms", "rss_MiB"))
for r in fl:
    c = float(r["checkpoints_per_core_s"] or 0)
    print("%-9s %9s %9s %10s %12s %14.0f %12.0f %8.3f %8s %9.1f" % (r["gateways"], r["verified"] + "/" + r["produced"],
          r["lost"], r["node_cpu_cores"], r["gateways_per_core"], c, ossl, c / ossl if ossl else 0,
          r["p99_ms"], int(r["rss_end_kib"]) / 1024))
print("\n%-9s %12s %12s %8s %9s %9s %8s" % ("gateways", "records/s/core", "openssl_vfy/s", "ratio",
      "node_runq", "sim_runq", "kept_up"))
for r in fl:
    rc = float(r.get("records_per_core_s") or 0)
    print("%-9s %12.0f %12.0f %8.3f %9s %9s %8s" % (r["gateways"], rc, ossl, rc / ossl if ossl else 0,
          r.get("node_runq_share"), r.get("sim_runq_share"), r.get("kept_up")))
ok = [int(r["gateways"]) for r in fl if r.get("kept_up") == "1" and r["verified"] == r["produced"]
      and r["lost"] == "0" and r["p99_ms"] not in ("nan", "NaN") and float(r["p99_ms"]) <= 3 * float(r["epoch_ms"])]
print("\nsustained at 1 epoch/s by one node (all verified, spools drained, p99 <= 3 epochs): %s gateways"
      % (max(ok) if ok else "none of the fleets run"))
print("\n%-9s %9s %9s %9s %12s" % ("epoch_ms", "p50_ms", "p99_ms", "p50/epoch", "p99/epoch"))
for r in la:
    e = float(r["epoch_ms"])
    print("%-9s %9s %9s %9.2f %12.2f" % (r["epoch_ms"], r["p50_ms"], r["p99_ms"], float(r["p50_ms"]) / e, float(r["p99_ms"]) / e))
EOP

if command -v gnuplot > /dev/null; then
	gnuplot <<-EOG 2> "$out/system-gnuplot.log"
	set datafile separator ","
	set terminal pngcairo size 900,560
	set key autotitle columnhead left top
	set grid
	set output "$out/system-fleet.png"
	set title "one attestio-oracle node, 1 epoch/s per gateway"
	set xlabel "simulated gateways"
	set ylabel "node CPU (cores)"
	set y2label "sample -> verified p99 (ms)"
	set ytics nomirror
	set y2tics
	plot "$fleet_csv" using "gateways":"node_cpu_cores" with linespoints title "node CPU (cores)", \
	     "$fleet_csv" using "gateways":"p99_ms" axes x1y2 with linespoints title "p99 latency (ms)"
	set output "$out/system-latency.png"
	set title "sample captured -> verified at the oracle, 50 gateways"
	set xlabel "epoch length (ms)"
	set ylabel "latency (ms)"
	unset y2label
	unset y2tics
	set ytics mirror
	plot "$lat_csv" using "epoch_ms":"p50_ms" with linespoints title "p50", \
	     "$lat_csv" using "epoch_ms":"p99_ms" with linespoints title "p99", \
	     "$lat_csv" using "epoch_ms":"epoch_ms" with lines dashtype 2 title "epoch length"
	EOG
	for f in "$out"/system-*.png; do [ -e "$f" ] && echo "plot: $f"; done
fi
