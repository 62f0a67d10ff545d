#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build every tests/fuzz/fuzz_*.c with libFuzzer, ASan and UBSan and run it
# briefly from its seed corpus (tests/fuzz/corpus/<name>); TAP on stdout.
# FUZZ_SECONDS (default 20) is the time per target.  New inputs go to a
# scratch corpus under build/fuzz, never into the repository.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/fuzz
mkdir -p "$out"
secs=${FUZZ_SECONDS:-20}
read -r -a tss_libs <<< "$(pkg-config --libs tss2-mu tss2-esys tss2-tctildr tss2-rc)"
n=0
fails=0
echo "TAP version 13"
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	seeds=tests/fuzz/corpus/${name#fuzz_}
	n=$((n + 1))
	extra=()	# the oracle node's parts, for its targets
	case $name in
	fuzz_oracle_*) extra=(user/oracled/config.c user/oracled/ingest.c user/oracled/fresh.c user/oracled/http.c
		user/oracled/registry.c user/oracled/store.c user/oracled/log.c
		-linih -lsqlite3) ;;
	fuzz_sim_*) extra=(-Iuser/sim user/sim/model.c -linih -lm) ;;
	fuzz_cli_*) extra=(-Iuser/cli/attestio user/cli/attestio/daemon.c
		user/cli/attestio/util.c) ;;
	esac
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Iuser/kshim -Iinclude/uapi -Ikernel \
		-Iuser/include -Iuser/lib -Iuser/oracle -Iuser/oracled \
		kernel/record.c kernel/tpm2_msg.c kernel/tpm2_sess.c user/lib/*.c user/oracle/*.c \
		"$src" "${extra[@]}" "${tss_libs[@]}" -lsecp256k1 -lcbor -lcrypto -lm \
		-o "$out/$name" > "$out/$name.build.log" 2>&1; then
		echo "not ok $n $name (build failed)"
		sed 's/^/# /' "$out/$name.build.log" | tail -20
		fails=$((fails + 1))
		continue
	fi
	mkdir -p "$out/$name.corpus"
	if "$out/$name" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$out/$name.corpus" "$seeds" \
		> "$out/$name.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
		echo "ok $n $name ($execs inputs in ${secs}s)"
	else
		echo "not ok $n $name (crash: inputs in $out/$name-*)"
		grep -E 'ERROR|SUMMARY|==' "$out/$name.log" | sed 's/^/# /' | head -20
		fails=$((fails + 1))
	fi
done
echo "1..$n"
[ "$fails" -eq 0 ]
