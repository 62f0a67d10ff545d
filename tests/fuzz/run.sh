#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build every tests/fuzz/fuzz_*.c with libFuzzer, ASan and UBSan and run it
# briefly from its seed corpus (tests/fuzz/corpus/<name>); TAP on stdout.
# FUZZ_SECONDS (default 20) is the time per target; FUZZ_JOBS (default: the
# number of CPUs) targets are built and run side by side.  The sources they
# share are compiled once.  New inputs go to a scratch corpus under
# build/fuzz, never into the repository.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/fuzz
obj=$out/obj
rm -rf "$obj"
mkdir -p "$out" "$obj"
secs=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
read -r -a tss_libs <<< "$(pkg-config --libs tss2-mu tss2-esys tss2-tctildr tss2-rc)"
cflags=(-g -O1 -fno-sanitize-recover=all -Iuser/kshim -Iinclude/uapi -Ikernel
	-Iuser/include -Iuser/lib -Iuser/oracle -Iuser/oracled -Iuser/sim -Iuser/cli/attestio)
common=(kernel/record.c kernel/tpm2_msg.c kernel/tpm2_sess.c user/lib/*.c user/oracle/*.c)
oracled=(user/oracled/config.c user/oracled/ingest.c user/oracled/fresh.c user/oracled/http.c
	user/oracled/registry.c user/oracled/store.c user/oracled/log.c)
sim=(user/sim/model.c)
cli=(user/cli/attestio/daemon.c user/cli/attestio/util.c)

# objs SRC...: the object file of each source (one directory per tree path)
objs() {
	local s
	for s in "$@"; do
		s=${s%.c}
		echo "$obj/${s//\//_}.o"
	done
}

# Every shared source once, with coverage but without libFuzzer's main.
# shellcheck disable=SC2016 # expanded by each job's sh
printf '%s\n' "${common[@]}" "${oracled[@]}" "${sim[@]}" "${cli[@]}" |
	xargs -P "$jobs" -I{} sh -c 'src=$1 o=$2/$(echo "${1%.c}" | tr / _).o; shift 2;
		exec clang -c -fsanitize=fuzzer-no-link,address,undefined "$@" -o "$o" "$src"' \
		sh {} "$obj" "${cflags[@]}" > "$out/common.build.log" 2>&1
common_ok=$?
mapfile -t common_o < <(objs "${common[@]}")

# target N SRC: build and run one target; its TAP line (and any diagnostics)
# in $out/NAME.tap
target() {
	local n=$1 src=$2 name seeds extra=() execs
	name=$(basename "$src" .c)
	seeds=tests/fuzz/corpus/${name#fuzz_}
	case $name in	# the oracle node's, the simulator's, the CLI's parts
	fuzz_oracle_*) mapfile -t extra < <(objs "${oracled[@]}"); extra+=(-linih -lsqlite3) ;;
	fuzz_sim_*) mapfile -t extra < <(objs "${sim[@]}"); extra+=(-linih) ;;
	fuzz_cli_*) mapfile -t extra < <(objs "${cli[@]}") ;;
	esac
	exec > "$out/$name.tap"
	if ! clang -fsanitize=fuzzer,address,undefined "${cflags[@]}" \
		"${common_o[@]}" "$src" "${extra[@]}" "${tss_libs[@]}" -lsecp256k1 -lcbor -lcrypto -lm \
		-o "$out/$name" > "$out/$name.build.log" 2>&1; then
		echo "not ok $n $name (build failed)"
		sed 's/^/# /' "$out/$name.build.log" | tail -20
		return
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
	fi
}

echo "TAP version 13"
if [ "$common_ok" -ne 0 ]; then
	echo "not ok 1 shared sources (build failed)"
	sed 's/^/# /' "$out/common.build.log" | tail -30
	echo "1..1"
	exit 1
fi
srcs=(tests/fuzz/fuzz_*.c)
n=0
running=0
for src in "${srcs[@]}"; do
	n=$((n + 1))
	rm -f "$out/$(basename "$src" .c).tap"
	target "$n" "$src" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
fails=0
for src in "${srcs[@]}"; do
	t=$out/$(basename "$src" .c).tap
	if [ -s "$t" ]; then cat "$t"; else echo "not ok ? $(basename "$src" .c) (no result)"; fi
	grep -q '^ok ' "$t" 2>/dev/null || fails=$((fails + 1))
done
echo "1..$n"
[ "$fails" -eq 0 ]
