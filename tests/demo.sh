#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: install what is needed, build, boot a Debian 6.1 VM with a
# TPM and run tests/demo-guest.sh there: a TPM attestation key provisioned
# with attestio provision, two emulated HID sensors captured by attestio,
# the live attested stream (attestio read) with SI values and verification
# state, a saved recording verified (attestio verify), and tampering caught.
# Then the chain end, from the real pipeline: a second boot of the gateway
# VM streams an emulated temperature sensor under attestio.ko through
# attestiod (mutual TLS) to the host's mosquitto and four attestio-oracle
# nodes (f = 1); their own final reports, exported with `attestio-oracle
# final`, settle a TemperatureOption on an in-process EVM with the payout
# `attestio settle` computes (tests/attestiod/outage.sh, scenario settle).
# Ends by itself in about five minutes; a summary follows.
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

say "settlement: gateway VM -> attestiod -> mosquitto -> 4 oracle nodes -> TemperatureOption on an in-process EVM"
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
 - the chain end (a second boot of the gateway VM, ${stook}s; build/demo/
   settle.log, node logs in build/outage-$kernel/settle/): a temperature
   sensor under attestio.ko, attestiod publishing its records over mutual
   TLS to the host's mosquitto through the VM's restricted forward, four
   attestio-oracle nodes (f = 1) verifying them with the load's kernel
   session key and signing rounds (t = 2); their final reports, exported
   with "attestio-oracle final", were accepted by AttestioFeedVerifier and
   settled a TemperatureOption on an in-process EVM with the payout
   "attestio settle" computes from the same reports, to the wei; the same
   report with its value changed, or with one signature, was rejected:
   $settled
EOF
