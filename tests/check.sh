#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: install what is needed, build, run every suite, summarise.
# Suites: userspace unit tests (cmocka), KUnit (UML), the settlement
# contracts on an in-process EVM (node), the VM harness's own
# tests, the in-guest selftests on every supported kernel series, and the
# short stress scenarios (tests/stress/run.sh --short) on each.
# Last line: "N passed, N failed[, N skipped]"; exit status 1 on any failure.
# Environment: CHECK_KERNELS="6.1 6.12" selects kernel series,
#              CHECK_SUITES="unit kunit fuzz tpm attestiod outage oracle system vmfleet contracts static
#              deb harness guest stress" selects
#              suites; FUZZ_SECONDS sets the time per fuzz target.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$top/build/check
rm -rf "$out"
mkdir -p "$out"
results=$out/results
: > "$results"
kernels=${CHECK_KERNELS:-6.1 6.12}
suites=${CHECK_SUITES:-unit kunit fuzz tpm attestiod outage oracle system vmfleet contracts static deb harness guest stress}

want() { case " $suites " in *" $1 "*) return 0 ;; esac; return 1; }
log() { printf '\n=== %s [%s, %d s in]\n' "$*" "$(date +%T)" "$SECONDS"; }
# A lane running beside others sets lane_results to a file of its own.
record() { echo "$1 $2" >> "${lane_results:-$results}"; }	# PASS|FAIL|SKIP name

# Fold TAP lines ("ok N - name", "not ok N name # SKIP why") of a log into
# results under a prefix.  Indented (nested) lines are ignored.
tap_collect() {
	local prefix=$1 file=$2
	awk -v p="$prefix" '
		/^# +RUN +/ { cur = $3 }
		/^(not )?ok [0-9]+/ {
			st = ($1 == "not") ? "FAIL" : "PASS"
			line = $0
			if (line ~ /# *SKIP/) st = "SKIP"
			sub(/^(not )?ok [0-9]+( -)? */, "", line)
			sub(/ *#.*$/, "", line)
			gsub(/ /, "_", line)
			if (line == "") line = cur	# kselftest: "ok N # SKIP why"
			print st, p "/" line
		}' "$file" >> "${lane_results:-$results}"
}

log "deps"
tests/deps.sh || { echo "make deps failed"; exit 1; }

log "build"
if ! make -j"$(nproc)" all tests W=1 > "$out/build.log" 2>&1; then
	tail -40 "$out/build.log"
	record FAIL build
else
	record PASS build
	if grep -E '(warning|error):' "$out/build.log" | grep -v '^Skipping BTF' > "$out/warnings"; then
		cat "$out/warnings"
		record FAIL build-warnings
	else
		record PASS build-warnings
	fi
fi

if want unit; then
	log "unit tests (cmocka)"
	for t in build/tests/unit/test_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" > "$out/unit-$n.log" 2>&1
		rc=$?
		cat "$out/unit-$n.log"
		tap_collect "unit/$n" "$out/unit-$n.log"
		grep -q '^ok\|^not ok' "$out/unit-$n.log" || record FAIL "unit/$n(rc=$rc)"
	done
fi

if want kunit; then
	log "KUnit (UML)"
	rm -f build/kunit.json
	tests/kunit/run.sh > "$out/kunit.log" 2>&1
	rc=$?
	tail -30 "$out/kunit.log"
	if [ -s build/kunit.json ]; then
		python3 tests/kunit/results.py build/kunit.json >> "$results"
	fi
	[ $rc -eq 0 ] || record FAIL "kunit/run(rc=$rc)"
fi

if want fuzz; then
	log "fuzz targets (libFuzzer, ASan, UBSan)"
	tests/fuzz/run.sh > "$out/fuzz.log" 2>&1
	cat "$out/fuzz.log"
	tap_collect fuzz "$out/fuzz.log"
fi

# A host-side suite: one script that prints TAP; a non-zero exit is a
# failure of its own.  host_suite NAME "DESCRIPTION" SCRIPT
host_suite() {
	local rc
	want "$1" || return 0
	log "$2"
	"$3" > "$out/$1.log" 2>&1
	rc=$?
	cat "$out/$1.log"
	tap_collect "$1" "$out/$1.log"
	[ $rc -eq 0 ] || record FAIL "$1/run(rc=$rc)"
}

host_suite tpm "provisioning and enrollment against swtpm (host, loopback)" tests/tpm/run.sh
host_suite attestiod "attestiod scenarios (mosquitto, TLS, oracle ingest; host loopback)" \
	tests/attestiod/run.sh
# The guest with the real module reaching the host's broker and oracle node
# through tests/vm/run --forward; first kernel of CHECK_KERNELS only.
outage_suite() { tests/attestiod/outage.sh --kernel "${kernels%% *}"; }
host_suite outage "attestiod outage scenarios (guest module + host broker/node, --forward)" \
	outage_suite
host_suite oracle "oracle scenarios (mosquitto, TLS, 4 attestio-oracle nodes; host loopback)" \
	tests/oracle/run.sh
host_suite system "system scenarios (attestio-sim fleet, 4 oracle nodes, mosquitto; 3-node NATS JetStream cluster; scale; host loopback)" \
	tests/system/check.sh
# Three gateway VMs (the real module, each its own swtpm, attestiod over
# --forward) among simulated gateways, four oracle nodes: every kernel.
vmfleet_suite() {
	local k rc=0
	for k in $kernels; do tests/system/vmfleet.sh --kernel "$k" || rc=1; done
	return $rc
}
host_suite vmfleet "3 gateway VMs with the real module among simulated gateways, 4 oracle nodes (--forward)" \
	vmfleet_suite
host_suite contracts "settlement contracts (solc, in-process EVM, liboracle-signed reports)" \
	tests/contracts/run.sh


if want static; then
	log "static checks"
	if make -s checkpatch > "$out/checkpatch.log" 2>&1 &&
	   ! grep -qE 'ERROR|WARNING|CHECK' "$out/checkpatch.log"; then
		record PASS static/checkpatch
	else
		cat "$out/checkpatch.log"
		record FAIL static/checkpatch
	fi
	if make -s sparse > "$out/sparse.log" 2>&1 &&
	   ! grep -qE '(warning|error):' "$out/sparse.log"; then
		record PASS static/sparse
	else
		grep -E '(warning|error):' "$out/sparse.log" | head -30
		record FAIL static/sparse
	fi
	v1=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
	v2=$(sed -n 's/^#define ATTESTIO_VERSION "\(.*\)"/\1/p' kernel/version.h)
	if [ "$v1" = "$v2" ]; then record PASS static/version; else
		echo "dkms.conf version $v1 != kernel/version.h $v2"
		record FAIL static/version
	fi
	# DKMS builds and installs for every kernel, then is removed again so
	# that the VM tests load the module just built.
	# Under the lock tests/deb/run.sh takes around the attestio-dkms package.
	dkmslock=/run/lock
	[ -d "$dkmslock" ] && [ -w "$dkmslock" ] || dkmslock=/tmp
	(
		flock 9
		if make -s dkms-install > "$out/dkms.log" 2>&1 &&
		   [ "$(dkms status attestio | grep -c ': installed')" -eq "$(echo "$kernels" | wc -w)" ]; then
			record PASS static/dkms
		else
			tail -30 "$out/dkms.log"
			dkms status attestio
			record FAIL static/dkms
		fi
		make -s dkms-uninstall >> "$out/dkms.log" 2>&1
	) 9> "$dkmslock/attestio-dkms.lock"
	if shellcheck -x tests/*.sh tests/vm/run tests/vm/selftest.sh tests/kunit/run.sh tests/selftests/run.sh tests/bench/*.sh tests/stress/*.sh tests/fuzz/run.sh tests/tpm/run.sh tests/attestiod/run.sh tests/attestiod/guest.sh tests/attestiod/outage.sh tests/attestiod/outage-guest.sh tests/oracle/run.sh tests/system/*.sh tests/contracts/run.sh tests/deb/*.sh .ci/run > "$out/shellcheck.log" 2>&1 &&
	   shellcheck -s sh debian/*.postinst debian/*.postrm >> "$out/shellcheck.log" 2>&1; then
		record PASS static/shellcheck
	else
		cat "$out/shellcheck.log"
		record FAIL static/shellcheck
	fi
fi

if want deb; then
	log "Debian packages: build, lintian, install, DKMS and modprobe in the guest for one kernel (all: make stress), purge"
	tests/deb/run.sh > "$out/deb.log" 2>&1
	rc=$?
	cat "$out/deb.log"
	tap_collect deb "$out/deb.log"
	[ $rc -eq 0 ] || record FAIL "deb/run(rc=$rc)"
fi

if want harness; then
	log "VM harness self-tests"
	tests/vm/selftest.sh > "$out/harness.log" 2>&1
	cat "$out/harness.log"
	tap_collect harness "$out/harness.log"
fi

if want guest; then
	# One VM per kernel series, run side by side: TITLE NAME CMD... ("%k"
	# in CMD is the kernel series); results under guest-<k>[/NAME].
	guest_each() {
		local title=$1 name=$2 k i=0 rc pids=() a
		shift 2
		for k in $kernels; do
			log "$title on $k (started)"
			a=("${@//%k/$k}")
			tests/vm/run --kernel "$k" --timeout 1800 ${guest_vm_opt:+"$guest_vm_opt"} -- "${a[@]}" \
				> "$out/guest-$k${name:+-$name}.log" 2>&1 &
			pids+=($!)
		done
		for k in $kernels; do
			wait "${pids[$i]}"
			rc=$?
			i=$((i + 1))
			log "$title on $k (exit $rc)"
			cat "$out/guest-$k${name:+-$name}.log"
			tap_collect "guest-$k${name:+/$name}" "$out/guest-$k${name:+-$name}.log"
			[ $rc -eq 0 ] || record FAIL "guest-$k${name:+/$name}/vm(rc=$rc)"
		done
	}
	# through SeaBIOS: the firmware's boot event log for cli_test's replay
	guest_vm_opt=--seabios
	guest_each "in-guest selftests" "" tests/selftests/run.sh %k
	guest_vm_opt=
	# attestiod: BPF ring overflow and backfill, guards
	guest_each "attestiod in the guest" attestiod tests/attestiod/guest.sh
fi

# One VM at a time per kernel series, the series side by side (each VM is
# one vCPU): kernel-exclusive key use and a reboot (guest), then the short
# stress and TPM fault scenarios (stress).  A lane writes its own results
# file; they are folded in, in order, when every lane has ended.
# lane_vm NAME VM-OPTION... -- CMD...: one VM, its log and results.
lane_vm() {
	local name=$1 rc
	shift
	tests/vm/run "$@" > "$out/$name.log" 2>&1
	rc=$?
	tap_collect "$name" "$out/$name.log"
	[ $rc -eq 0 ] || record FAIL "$name/vm(rc=$rc)"
}

kernel_lane() {
	local k=$1 st traffic
	if want guest; then
		# Kernel-exclusive key use (tests/selftests/ksk_test.sh) in a fresh
		# boot, with the TPM traffic logged for the bus-interposer case;
		# then a reboot on the same TPM state: the module regains key use
		# with no secret on disk.
		st=$(mktemp -d /tmp/attestio-tpmstate.XXXXXX)
		traffic=$PWD/build/tpm-traffic-$k.log
		rm -f "$traffic"
		lane_vm "ksk-$k" --kernel "$k" --timeout 1200 --tpm-state "$st" --tpm-traffic "$traffic" -- \
			env ATTESTIO_TPM_TRAFFIC="$traffic" tests/selftests/ksk_test.sh
		lane_vm "reboot-$k" --kernel "$k" --timeout 600 --tpm-state "$st" -- \
			tests/selftests/ksk_test.sh reboot
		rm -rf "$st" "$traffic"
		# Without a TPM: streams flow, checkpoints say plainly they are
		# unsigned (the first series, in the last lane).
		if [ "$k" = "${kernels##* }" ]; then
			lane_vm "guest-${kernels%% *}-notpm" --kernel "${kernels%% *}" --no-tpm -- \
				env ATTESTIO_EXPECT_TPM=0 build/tests/selftests/capture_test
		fi
	fi
	if want stress; then
		# The short stress scenarios (make stress runs the full ones on
		# the debug kernel), then TPM faults injected between QEMU and
		# swtpm (~2.5 min).
		lane_vm "stress-$k" --kernel "$k" --timeout 900 -- tests/stress/run.sh --short
		lane_vm "tpm-faults-$k" --kernel "$k" --timeout 600 --tpm-faults "$out/tpm-faults-$k" \
			-- tests/stress/tpm-faults.sh --short
	fi
}

if want guest || want stress; then
	lanes=()
	for k in $kernels; do
		log "kernel-exclusive key, reboot, short stress and TPM faults on $k (started)"
		(lane_results=$out/results-lane-$k; : > "$lane_results"; kernel_lane "$k") &
		lanes+=($!)
	done
	i=0
	for k in $kernels; do
		wait "${lanes[$i]}"
		i=$((i + 1))
		names="ksk-$k reboot-$k"
		[ "$k" = "${kernels##* }" ] && names="$names guest-${kernels%% *}-notpm"
		for n in $names stress-$k tpm-faults-$k; do
			[ -f "$out/$n.log" ] || continue
			log "$n"
			cat "$out/$n.log"
		done
		cat "$out/results-lane-$k" >> "$results" 2>/dev/null
	done
fi
log "summary"
pass=$(grep -c '^PASS' "$results")
fail=$(grep -c '^FAIL' "$results")
skip=$(grep -c '^SKIP' "$results")
grep -E '^(FAIL|SKIP)' "$results" | sed 's/^/  /'
summary="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && summary="$summary, $skip skipped"
echo "$summary"
[ "$fail" -eq 0 ]
