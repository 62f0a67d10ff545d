#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: measurements, never pass/fail.  Every result is a ratio
# against a baseline measured in the same run (see tests/bench/README.md).
#   1. bench_record: the per-sample kernel path (kernel/record.c via kshim)
#      vs OpenSSL SHA256() one-shot of the same bytes, scans of 16 and 256 B;
#   2. bench_verify: libattestio verification throughput (records/s per
#      core) vs plain SHA-256 over the same record bytes;
#   3. guest-kernel.sh in a 6.1 and a 6.12 guest: the module's per-record
#      drain path in the kernel (attestio_bench.ko, linked from kernel/)
#      vs the kernel's fastest SHA-256 of the same bytes;
#   4. guest-rate.sh in a 6.1 guest: highest lossless sample rate of attestio
#      vs a plain userspace IIO buffer reader;
#   5. gas: the settlement contracts on an in-process EVM (user/contracts):
#      gas per AttestioFeedVerifier.verify at t = 2, 3, 5 and per step of a
#      TemperatureOption (submit, settle, withdraw); absolute gas, since gas
#      is deterministic (no baseline needed);
#   6. guest-source.sh in a 6.1 guest: attestiod's record sources side by
#      side, bpf (tracepoints + ring buffer) vs dev (/dev/attestio): records
#      read per second and daemon CPU per record at 1, 8 and 32 streams;
#   7. system.sh: the whole pipeline (attestio-sim fleet -> mosquitto ->
#      one oracle node): gateways per core at 1 epoch/s, checkpoints
#      verified/s/core vs openssl speed ecdsap256 verify, sample -> verified
#      latency vs epoch length; CSV and PNG plots (build/bench/system-*).
#      read per second and daemon CPU per record at 1, 8 and 32 streams.
#   8. gateway.sh on the host: gateway -> broker -> subscriber records/s
#      through attestiod (spool + link, QoS 1, TLS) vs a raw
#      mosquitto_pub/mosquitto_sub pair at the same QoS and message size;
#      the spool's fsync'd records/s vs a plain fsync'd append.
# Raw output goes to build/bench/.  Environment: BENCH_STEPS="record verify
# kernel rate gas source system" selects steps; BENCH_RATES="1000 2000 ..."
# overrides the rates.
# Exit status is 1 only when a step could not run at all.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/bench
mkdir -p "$out"
steps=${BENCH_STEPS:-record verify kernel rate gas source system gateway}
read -ra rates <<< "${BENCH_RATES:-1000 2000 4000 8000 16000 32000}"
status=0

want() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }
log() { printf '\n=== %s\n' "$*"; }
# field KEY LINE: value of KEY=value in a line of key=value words.
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<< " $2"; }

if want record; then
	log "per-sample path: kernel/record.c in userspace (bench_record, -O2)"
	bin=$top/build/tests/bench/bench_record
	if ! make -s "$bin" > "$out/record-build.log" 2>&1; then
		cat "$out/record-build.log"
		echo "bench_record: build failed (see $out/record-build.log)"
		status=1
	elif ! timeout 120 "$bin" 16 256 > "$out/record.txt"; then
		echo "bench_record: run failed or timed out"
		status=1
	else
		printf '%-6s %-5s | %10s %10s %10s | %-22s %8s | %8s %10s\n' \
			scan_B rec_B "ns/sample" capture drain "baseline SHA256()" ratio \
			hash_ns ratio_hash
		while read -r line; do
			printf '%-6s %-5s | %10s %10s %10s | %5s B %9s ns     %8s | %8s %10s\n' \
				"$(field scan "$line")" "$(field rec "$line")" \
				"$(field path_ns "$line")" "$(field capture_ns "$line")" \
				"$(field drain_ns "$line")" "$(field base_bytes "$line")" \
				"$(field base_ns "$line")" "$(field ratio "$line")" \
				"$(field hash_ns "$line")" "$(field ratio_hash "$line")"
		done < "$out/record.txt"
		echo "ratio = path / SHA256() one-shot of the bytes the chain step hashes"
		echo "ratio_hash = path / bare SHA256_Init+Update+Final of those bytes"
		echo "raw: $out/record.txt"
	fi
fi

if want verify; then
	log "verification: libattestio, one core (bench_verify)"
	bin=$top/build/tests/bench/bench_verify
	if ! make -s "$bin" > "$out/verify-build.log" 2>&1; then
		cat "$out/verify-build.log"
		echo "bench_verify: build failed (see $out/verify-build.log)"
		status=1
	elif ! timeout 120 "$bin" > "$out/verify.txt"; then
		echo "bench_verify: run failed or timed out"
		status=1
	else
		line=$(cat "$out/verify.txt")
		printf '%s records/s per core (%s ns/record); SHA-256 alone: %s ns/record; ratio verify/SHA-256 = %s\n' \
			"$(field verify_rec_per_s "$line")" "$(field verify_ns_per_rec "$line")" \
			"$(field sha256_ns_per_rec "$line")" "$(field ratio "$line")"
		printf 'unanchored flood (linearity): %s ns/record at 250k records, %s at 1M; ratio 1M/250k = %s (1.0 = linear)\n' \
			"$(field flood_ns_per_rec_250k "$line")" "$(field flood_ns_per_rec_1m "$line")" \
			"$(field flood_ratio "$line")"
	fi
fi

if want kernel; then
	log "per-record drain path in the kernel (attestio_bench.ko) vs the kernel's fastest SHA-256"
	printf '%-7s %-6s %-5s | %-14s %-14s | %9s %11s %11s | %6s %14s\n' \
		kernel scan_B rec_B hash fastest path_ns fastest_ns library_ns \
		ratio library_ratio
	for series in 6.1 6.12; do
		kdirs=(/lib/modules/"$series".*)
		kv=${kdirs[${#kdirs[@]} - 1]##*/}
		if ! make -s testmods KVER="$kv" > "$out/kernel-$series-build.log" 2>&1; then
			echo "attestio_bench for $kv: build failed (see $out/kernel-$series-build.log)"
			status=1
			continue
		fi
		if ! tests/vm/run --kernel "$series" --timeout 300 -- \
			tests/bench/guest-kernel.sh > "$out/kernel-$series.txt" 2>&1; then
			tail -20 "$out/kernel-$series.txt"
			echo "guest-kernel on $series: VM run failed"
			status=1
			continue
		fi
		while read -r line; do
			printf '%-7s %-6s %-5s | %-14s %-14s | %9s %11s %11s | %6s %14s\n' \
				"$series" "$(field scan "$line")" "$(field rec "$line")" \
				"$(field hash "$line")" "$(field fastest "$line")" \
				"$(field path_ns "$line")" "$(field fastest_ns "$line")" \
				"$(field library_ns "$line")" "$(field ratio "$line")" \
				"$(field library_ratio "$line")"
		done < <(grep '^scan=' "$out/kernel-$series.txt")
	done
	echo "ratio = per-record path (attestio_emit_sample) / one-shot digest of the same"
	echo "bytes by the fastest crypto API sha256; library_ratio = the library SHA-256"
	echo "(the module's hash before) / that digest.  raw: $out/kernel-*.txt"
fi

if want rate; then
	log "sample rate in a 6.1 guest (TCG): attestio vs plain userspace reader"
	kdirs=(/lib/modules/6.1.*)
	k61=${kdirs[${#kdirs[@]} - 1]##*/}
	ko=$top/build/$k61/attestio.ko
	# kernel/ may be mid-edit: a failed module build falls back to the last
	# attestio.ko that was built, and says so.
	if ! make -s modules KVER="$k61" > "$out/rate-build.log" 2>&1; then
		echo "note: module build failed (see $out/rate-build.log);"
		echo "note: benchmarking the existing $ko"
	fi
	if ! make -s sensors >> "$out/rate-build.log" 2>&1 || [ ! -f "$ko" ]; then
		cat "$out/rate-build.log"
		echo "guest-rate: build failed (see $out/rate-build.log)"
		status=1
	else
		echo "module: $ko ($(date -r "$ko" '+%F %T'))"
		tests/vm/run --kernel 6.1 --timeout 480 -- \
			tests/bench/guest-rate.sh "${rates[@]}" > "$out/rate.txt" 2>&1
		st=$?
		grep -v '^raw: ' "$out/rate.txt" | sed -n '/^ *rate_Hz/,$p'
		if [ "$st" != 0 ]; then
			tail -20 "$out/rate.txt"
			echo "guest-rate: VM run failed with status $st"
			status=1
		fi
		echo "raw: $out/rate.txt"
	fi
fi
if want gas; then
	log "gas: settlement contracts on an in-process EVM (whole transactions)"
	if ! msg=$(tests/contracts/setup.sh); then
		echo "$msg"
		echo "gas: setup failed"
		status=1
	elif ! (cd user/contracts && timeout 300 node test/gas.js) > "$out/gas.txt" 2>&1; then
		cat "$out/gas.txt"
		echo "gas: run failed"
		status=1
	else
		head -1 "$out/gas.txt"
		printf '%-12s %3s %3s | %10s %10s %12s | %10s\n' step t n \
			gas_first gas_next per_extra_sig deploy
		grep '^step=verify' "$out/gas.txt" | while read -r line; do
			printf '%-12s %3s %3s | %10s %10s %12s | %10s\n' verify \
				"$(field t "$line")" "$(field n "$line")" \
				"$(field gas_first "$line")" "$(field gas_next "$line")" \
				"$(field per_extra_sig "$line")" "$(field deploy "$line")"
		done
		line=$(grep '^step=option' "$out/gas.txt")
		printf 'TemperatureOption (t=2): deploy %s, submit %s (first) / %s (next), settle %s, withdraw %s\n' \
			"$(field deploy "$line")" "$(field submit_first "$line")" \
			"$(field submit_next "$line")" "$(field settle "$line")" \
			"$(field withdraw "$line")"
		echo "gas_first: a feed's first round (new storage); gas_next: a later round;"
		echo "per_extra_sig: what each signature beyond t = 2 adds to gas_next"
		echo "raw: $out/gas.txt"
	fi
fi
if want source; then
	log "attestiod record sources in a 6.1 guest (TCG): bpf vs dev"
	if ! make -s all > "$out/source-build.log" 2>&1; then
		tail -20 "$out/source-build.log"
		echo "guest-source: build failed (see $out/source-build.log)"
		status=1
	else
		tests/vm/run --kernel 6.1 --timeout 900 -- \
			tests/bench/guest-source.sh > "$out/source.txt" 2>&1
		st=$?
		printf '%-7s | %-6s | %9s | %9s | %10s | %12s | %6s | %9s | %10s\n' streams source \
			produced read "records/s" "CPU µs/rec" lost ring_full backfilled
		grep '^source:' "$out/source.txt" | while read -r line; do
			printf '%-7s | %-6s | %9s | %9s | %10s | %12s | %6s | %9s | %10s\n' \
				"$(field streams "$line")" "$(field source "$line")" \
				"$(field produced "$line")" "$(field records "$line")" \
				"$(field rec_per_s "$line")" "$(field cpu_us_per_rec "$line")" \
				"$(field lost "$line")" "$(field ring_full "$line")" \
				"$(field backfilled "$line")"
		done
		echo "records/s: what the daemon read per second of sensor time (sensors asked for 2000/s in all);"
		echo "on the guest's one vCPU the sensors, the module and the daemon share the CPU,"
		echo "so a cheaper source also lets more records be produced"
		if [ "$st" != 0 ]; then
			tail -20 "$out/source.txt"
			echo "guest-source: VM run failed with status $st"
			status=1
		fi
		echo "raw: $out/source.txt"
	fi
fi

if want system; then
	log "system: attestio-sim fleet -> mosquitto -> one attestio-oracle node (tests/bench/system.sh)"
	if ! make -s "$top/build/bin/attestio-sim" "$top/build/bin/attestio-oracle" > "$out/system-build.log" 2>&1; then
		tail -20 "$out/system-build.log"
		status=1
	else
		tests/bench/system.sh || status=1
	fi

if want gateway; then
	log "gateway path: attestiod vs mosquitto_pub/_sub; spool vs plain fsync'd append (host)"
	tests/bench/gateway.sh || status=1
fi
exit "$status"
