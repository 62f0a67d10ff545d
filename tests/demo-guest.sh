#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run inside the VM by tests/demo.sh (tests/vm/run --kernel 6.1 -- ...):
# provision a TPM attestation key (attestio provision), load attestio with
# it, start two emulated HID sensors (temperature, pressure), attach both
# (attestio attach), show attestio status, the live attested stream with SI
# values and verification state (attestio read --samples 40 --ak), save a
# recording (attestio read -o) that attestio verify accepts, then tamper
# with one byte of it and watch attestio verify catch it.  Lines starting
# with "demo-result:" are collected by tests/demo.sh for its summary.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cli=build/bin/attestio
sys=/sys/kernel/attestio
handle=0x81010002
work=$(mktemp -d /tmp/attestio-demo.XXXXXX)
akdir=$work/ak
pids=()
devs=()
result=()

cleanup() {
	local d p
	if [ -d "$sys" ]; then
		for d in "${devs[@]}"; do
			$cli detach "$d" > /dev/null 2>&1 || true
		done
	fi
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	pids=()
	devs=()
}
trap cleanup EXIT

step() { printf '\n--- %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

# start_sensor OUTFILE ARGS...: start hidsensor in the background and wait
# for the IIO device name it prints on stdout.
start_sensor() {
	local out=$1 i
	shift
	tests/sensors/hidsensor "$@" > "$out" 2> "$out.err" &
	pids+=($!)
	for ((i = 0; i < 300; i++)); do
		if [ -s "$out" ]; then
			head -n1 "$out"
			return 0
		fi
		sleep 0.1
	done
	echo "hidsensor $* did not create a device:" >&2
	cat "$out.err" >&2
	return 1
}

step "provisioning a TPM attestation key (kernel $(uname -r), TPM: swtpm)"
provisioned_by=attestio
if ! show $cli provision --handle $handle --out "$akdir"; then
	echo "(attestio provision failed; making the key with tpm2-tools instead)"
	provisioned_by=tpm2-tools
	mkdir -p "$akdir"
	(cd "$akdir" && tpm2_createek -c ek.ctx -G ecc > /dev/null &&
		tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa \
			-u ak.pem -f pem > /dev/null &&
		tpm2_evictcontrol -C o -c ak.ctx $handle > /dev/null &&
		tpm2_readpublic -c $handle -o ak.pub > /dev/null &&
		tpm2_flushcontext -t > /dev/null)
fi
echo "the private key stays in the TPM at $handle; its public part:"
ls -l "$akdir"
result+=("key=$provisioned_by")

step "loading attestio with that key"
show modprobe attestio key_handle=$handle

step "starting emulated HID sensors (10 samples/s each)"
temp=$(start_sensor "$work/temp" --kind temperature --rate 10 --start 2150)
devs+=("$temp")
press=$(start_sensor "$work/press" --kind pressure --rate 10 --start 101325 \
	--hw-timestamp)
devs+=("$press")
echo "temperature: $temp ($(cat "/sys/bus/iio/devices/$temp/name"))"
echo "pressure:    $press ($(cat "/sys/bus/iio/devices/$press/name"))"

step "attaching both devices to attestio"
show $cli attach "$temp"
show $cli attach "$press"
echo "waiting 2 s for the first signed epochs (one TPM quote per second covers both streams)"
sleep 2

step "attestio status"
show $cli status

step "only the kernel can make the TPM sign: its session key, registered in PCR 13"
echo "(the module created a key at load that only it can use, registered it in"
echo " PCR 13 and had the AK certify it; the AK itself can only certify)"
show $cli measurements --ak "$akdir/ak.pub"
echo "\$ tpm2_quote -c $handle -q 00ff -l sha256:13   # root asks the AK for a quote"
if tpm2_quote -c $handle -q 00ff -l sha256:13 -m "$work/q.msg" -s "$work/q.sig" \
	> "$work/rootquote.log" 2>&1; then
	echo "the TPM QUOTED for root (an AK not made by attestio provision)"
	result+=("root_quote=yes")
else
	grep -m1 -i 'error\|ERROR' "$work/rootquote.log" || true
	echo "(refused: the AK's policy allows only TPM2_Certify and ActivateCredential)"
	result+=("root_quote=refused")
fi
tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 \
	-o "$work/pcrs.bin" > /dev/null
keyopts=(--ak "$akdir/ak.pub" --measurements /sys/kernel/attestio/measurements
	--pcrs "$work/pcrs.bin")

step "the live attested stream: attestio read --samples 40 --ak ak.pub --measurements ..."
echo "(each line: stream, seq, capture time, type, SI value from the stream's"
echo " signed descriptor, and its state once a TPM-signed checkpoint covers it)"
read_rc=0
echo "\$ $cli read --samples 40 --timeout 60 ${keyopts[*]}"
$cli read --samples 40 --timeout 60 "${keyopts[@]}" | tee "$work/read.txt" ||
	read_rc=$?
lines=$(($(wc -l < "$work/read.txt") - 1))
verified=$(grep -c ' VERIFIED$' "$work/read.txt" || true)
bad=$(grep -c ' BAD' "$work/read.txt" || true)
echo "($lines records: $verified VERIFIED, $bad BAD; exit status $read_rc)"
result+=("read_lines=$lines" "read_verified=$verified" "read_bad=$bad")

step "saving a recording and verifying it: attestio read -o / attestio verify"
show $cli read --samples 100 --timeout 60 -o "$work/rec.bin"
verify_rc=0
show $cli verify "${keyopts[@]}" "$work/rec.bin" | tee "$work/verify.txt" ||
	verify_rc=$?
summary=$(grep -m1 '^verified ' "$work/verify.txt" || true)
echo "(exit status $verify_rc)"
result+=("verify_rc=$verify_rc")

step "tampering: raise one temperature reading in the saved file by 0.01 degC"
python3 - "$work/rec.bin" "$work/tampered.bin" <<'EOF'
import struct, sys

data = bytearray(open(sys.argv[1], "rb").read())
off = n = 0
while off < len(data):
    typ, ln, stream = struct.unpack_from("<HII", data, off + 2)
    seq = struct.unpack_from("<Q", data, off + 16)[0]
    if typ == 2 and stream == 0:
        n += 1
        if n == 20:
            at = off + 40 + 16          # first byte of the scan
            old = struct.unpack_from("<i", data, at)[0]
            struct.pack_into("<i", data, at, old + 1)
            print("stream 0 seq %d: raw temperature %d -> %d (byte %d of %d)"
                  % (seq, old, old + 1, at, len(data)))
            break
    off += ln
open(sys.argv[2], "wb").write(data)
EOF
tamper_rc=0
show $cli verify "${keyopts[@]}" "$work/tampered.bin" || tamper_rc=$?
echo "(exit status $tamper_rc: the chain up to the next checkpoint no longer matches"
echo " the heads the TPM signed, so the forged reading was caught)"
result+=("tamper_rc=$tamper_rc")

step "tampering: delete one record"
python3 - "$work/rec.bin" "$work/dropped.bin" <<'EOF'
import struct, sys

data = open(sys.argv[1], "rb").read()
off = n = 0
while off < len(data):
    typ, ln = struct.unpack_from("<HI", data, off + 2)
    if typ == 2:
        n += 1
        if n == 30:
            print("deleted the sample record at byte %d" % off)
            data = data[:off] + data[off + ln:]
            break
    off += ln
open(sys.argv[2], "wb").write(data)
EOF
drop_rc=0
show $cli verify "${keyopts[@]}" "$work/dropped.bin" || drop_rc=$?
echo "(exit status $drop_rc)"
result+=("drop_rc=$drop_rc")

step "stopping the sensors and unloading attestio"
cleanup
rmmod attestio
echo "attestio unloaded"

echo "demo-summary: $summary"
echo "demo-result: ${result[*]}"
if [ "$verify_rc" -ne 0 ] || [ "$tamper_rc" -eq 0 ] || [ "$drop_rc" -eq 0 ] ||
	[ "$bad" -ne 0 ] || [ "$verified" -eq 0 ]; then
	exit 1
fi
