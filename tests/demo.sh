#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: install what is needed, build, boot a Debian 6.1 VM with a
# TPM and run tests/demo-guest.sh there: a TPM attestation key provisioned
# with attestio provision, two emulated HID sensors captured by attestio,
# the live attested stream (attestio read) with SI values and verification
# state, a saved recording verified (attestio verify), and tampering caught.
# Then the whole system (tests/attestiod/outage.sh, scenario settle;
# Documentation/system.md "The gateway VM in the fleet"): a second boot of
# the gateway VM streams an emulated temperature sensor under attestio.ko
# through attestiod (mutual TLS) to the host's mosquitto; three simulated
# gateways (attestio-sim) of the same site feed the same temperature feed,
# on a plain MQTT path that runs through a man in the middle
# (tests/system/mitm.py); four attestio-oracle nodes (f = 1, t = 2) sign
# 12 rounds of 3 s: 1-3 honest, 4-6 one simulated gateway lies (outvoted),
# 7-9 a second one lies too (the feed halts), from 10 the man in the middle
# changes one reading of a gateway's records in transit (rejected, the
# gateway quarantined).  The nodes' final reports settle a TemperatureOption
# on an in-process EVM with the payout `attestio settle` computes, and
# `attestio verify-report` re-verifies the last round offline.  Each phase
# is checked; any that does not show what it claims fails the demo.  The
# round values are drawn in build/demo/rounds.png (gnuplot;
# Documentation/images/demo-rounds.png is one run's).  Ends by itself in about
# six minutes; a summary follows.  DEMO_KERNEL (6.1) picks the guest kernel.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/demo
mkdir -p "$out"
kernel=${DEMO_KERNEL:-6.1}

say() { printf '\n=== %s\n' "$*"; }

say "dependencies (tests/deps.sh)"
tests/deps.sh

say "build (make -j2 all tests; log in build/demo/build.log)"
if ! make -j2 all tests > "$out/build.log" 2>&1; then
	tail -30 "$out/build.log"
	echo "demo: build failed, see $out/build.log" >&2
	exit 1
fi
echo "built attestio.ko, the tools and the emulated sensors"

say "booting a VM (kernel $kernel, swtpm TPM 2.0) running tests/demo-guest.sh"
start=$SECONDS
rc=0
tests/vm/run --kernel "$kernel" --timeout 240 -- tests/demo-guest.sh |
	tee "$out/guest.log" || rc=$?
took=$((SECONDS - start))

say "the fleet: gateway VM + 3 simulated gateways -> mosquitto -> 4 oracle nodes -> TemperatureOption on an in-process EVM"
settle_rc=0
sstart=$SECONDS
if ! tests/contracts/setup.sh; then
	settle_rc=1
elif ! OUTAGE_TESTS=settle tests/attestiod/outage.sh --kernel "$kernel" | tee "$out/settle.log"; then
	settle_rc=1
fi
stook=$((SECONDS - sstart))
settled=$(sed -n 's/^ok [0-9]* - settle: //p' "$out/settle.log" | tr -d '\r' | tail -n1)
[ -n "$settled" ] || settle_rc=1
# one clause a line: records, the contract's payout, attestio settle's, the refusals
settled=$(printf '%s\n' "$settled" | sed 's/ -> TemperatureOption on the EVM: /\n   /; s/; /;\n   /g')
sdir=build/outage-$kernel/settle
# the round values and the halt, node 1's view (outage.sh writes rounds.txt)
plot() {
	gnuplot <<-EOG
	set terminal pngcairo size 900,460
	set output "$out/rounds.png"
	set title "attestio demo: temperature feed (gateway VM + 3 simulated gateways, 4 oracle nodes, f = 1)"
	set xlabel "round (3 s)"
	set ylabel "settled value (degC)"
	set xrange [0.5:12.5]
	set yrange [22.9:23.5]
	set xtics 1
	set grid ytics
	set key bottom left box opaque
	set object 1 rect from 3.5, graph 0 to 6.5, graph 1 fc rgb "#fff3c4" fs solid noborder behind
	set object 2 rect from 6.5, graph 0 to 9.5, graph 1 fc rgb "#f6c8c8" fs solid noborder behind
	set object 3 rect from 9.5, graph 0 to 12.5, graph 1 fc rgb "#d8e4f8" fs solid noborder behind
	set label 1 "honest" at 2, graph 0.93 center
	set label 2 "1 liar of 4:\noutvoted" at 5, graph 0.90 center
	set label 3 "2 liars of 4:\nfeed HALTED" at 8, graph 0.90 center
	set label 4 "record tampered\nin transit: gateway\nquarantined" at 11, graph 0.87 center
	plot "$sdir/rounds.txt" using 1:(\$2/100) with linespoints lw 2 pt 7 title "settled round value", \
	     "$sdir/rounds.txt" using 1:(\$3 == 1 ? 22.95 : 1/0) with points pt 2 ps 2 lc rgb "red" title "halted (no value)"
	EOG
}
if [ "$settle_rc" = 0 ] && ! plot 2> "$out/gnuplot.log"; then
	echo "demo: gnuplot failed: $(cat "$out/gnuplot.log")" >&2
	settle_rc=1
fi

say "summary"
result=$(sed -n 's/^demo-result: //p' "$out/guest.log" | tr -d '\r' | tail -n1)
summary=$(sed -n 's/^demo-summary: //p' "$out/guest.log" | tr -d '\r' | tail -n1)
field() { printf '%s\n' "$result" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
if [ "$rc" -ne 0 ] || [ -z "$result" ] || [ "$(field verify_rc)" != 0 ]; then
	echo "The demo FAILED (VM exit status $rc after ${took}s)."
	echo "Guest output: $out/guest.log; VM logs (if any): build/vm/logs/"
	exit 1
fi
cat <<EOF
What you saw (VM with kernel $kernel, ${took}s; full output in build/demo/guest.log):
 - a TPM 2.0 attestation key created inside the (emulated) TPM by
   $(field key) ("attestio provision"); only its public part left the TPM;
 - attestio.ko loaded with that key; two emulated HID sensors (temperature,
   pressure) registered as real IIO devices by the kernel's own hid-sensor
   drivers and attached with "attestio attach": capture happens in the
   kernel at the IIO buffer, before any userspace process sees a sample;
 - "attestio status": the module's settings, counters and streams;
 - the key only the kernel can use: at load the module created a session
   key whose secret never leaves the kernel, registered it in PCR 13 and
   had the AK certify it ("attestio measurements"); root's own
   "tpm2_quote" with the AK: $(field root_quote);
 - the live attested stream ("attestio read --samples 40 --ak ak.pub
   --measurements ..."): every quote is checked to be the kernel's:
   $(field read_lines) records, values in SI units decoded with each stream's
   signed descriptor, $(field read_verified) of them VERIFIED against a TPM quote
   once the next per-second checkpoint covered them;
 - a saved recording accepted by "attestio verify":
     $summary
 - one temperature reading raised by 0.01 degC in that file: "attestio
   verify" refused it (exit $(field tamper_rc)) naming the record and the check
   that failed; deleting one record was caught too (exit $(field drop_rc)).
EOF
if [ "$settle_rc" -ne 0 ]; then
	echo "The settlement step FAILED; see $out/settle.log."
	exit 1
fi
cat <<EOF
 - the whole system (a second boot of the gateway VM, ${stook}s; build/demo/
   settle.log, node logs in $sdir/): a temperature sensor under
   attestio.ko, attestiod publishing its records over mutual TLS to the
   host's mosquitto through the VM's restricted forward; three simulated
   gateways (software keys, marked simulated) of the same site on the same
   broker through a man in the middle; four attestio-oracle nodes (f = 1)
   verifying every record (the VM's with its load's kernel session key)
   and signing 12 rounds of one temperature feed (t = 2).  Per phase, what
   the nodes' final reports say (value x 100 degC, or why the round halted),
   then the settlement of a TemperatureOption (strike 23.00 degC) by
   AttestioFeedVerifier on an in-process EVM over the 12 rounds (halted
   rounds counted, never valued), the payout "attestio settle" computes from
   the same reports, to the wei; a report with its value changed, or with
   one signature, was rejected; "attestio verify-report" re-verified the
   last round offline:
   $settled
 - "attestio settle" on the nodes' 12 reports:
$(sed 's/^/     /' "$sdir/evm/settle.txt")
 - "attestio verify-report" of round 12 (report + evidence bundle, offline):
$(sed 's/^/     /' "$sdir/evm/verify-report.txt")
     and without the VM's pin: $(sed 's/^without the VM.s pin: //' "$sdir/evm/verify-report.nopin")
 - the picture: build/demo/rounds.png (round values, the halt).
EOF
