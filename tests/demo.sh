#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: install what is needed, build, boot a Debian 6.1 VM with a
# TPM and run tests/demo-guest.sh there: a TPM attestation key provisioned
# with attestio provision, two emulated HID sensors captured by attestio,
# the live attested stream (attestio read) with SI values and verification
# state, a saved recording verified (attestio verify), and tampering caught.
# Then the chain end: oracle-signed rounds settle a TemperatureOption on an
# in-process EVM with the payout attestio settle computes.
# Ends by itself in about three minutes; a summary follows.
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

say "settlement: TemperatureOption on an in-process EVM (user/contracts)"
settle_rc=0
if ! tests/contracts/setup.sh; then
	settle_rc=1
elif ! (cd user/contracts && node test/demo.js) | tee "$out/settle.log"; then
	settle_rc=1
fi
settled=$(sed -n 's/^contract on the EVM/the contract on the EVM/p' "$out/settle.log" 2> /dev/null || true)

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
 - the chain end (build/demo/settle.log): four oracle nodes (f = 1) signed
   four temperature rounds with liboracle (t = 2 signatures each; the round
   values are given: the demo does not run the node daemons, which
   tests/oracle/run.sh settles the same way from their own rounds);
   "attestio settle --evm" computed the option's payout and the calldata,
   and that calldata settled a TemperatureOption checked by
   AttestioFeedVerifier on an in-process EVM:
   $settled
EOF
