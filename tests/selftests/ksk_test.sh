#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In-guest tests (tests/vm/run, as root) of kernel-exclusive key use
# (Documentation/design.md, "Only the kernel can make the TPM sign"):
# with tpm2-tools on /dev/tpm0 and /dev/tpmrm0, every way root has to get
# a quote or signature over a chosen digest from the enrolled AK or from
# attestio.ko's kernel session key (KSK) must fail; each attempt is its own
# case and fails if the attack succeeds.  Then the verifier side: the
# module's stream passes `attestio measurements`, a quote by a key that
# root registered itself does not.  TAP on stdout.
# Usage: ksk_test.sh [phase]; phase "reboot" only checks that a module
# loaded on a TPM provisioned in an earlier boot signs again.
# shellcheck disable=SC2317
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
A=$top/build/bin/attestio
SYS=/sys/kernel/attestio
# its own handle: other suites leave conventional AKs at 0x81010002
H=0x81010020
W=${ATTESTIO_KSK_WORK:-/tmp/ksk}
RM=device:/dev/tpmrm0
T0=device:/dev/tpm0
PCRS=sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
export TSS2_LOG=all+none
mkdir -p "$W"

n=0
fails=0
ok() {	# ok STATUS NAME [LOG]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
		[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | tail -15
	fi
}
# refused NAME CMD...: the attack CMD must fail (exit non-zero)
refused() {
	local name=$1
	shift
	! "$@" > "$W/attack.$((n + 1)).log" 2>&1
	ok $? "$name" "$W/attack.$((n + 1)).log"
}
bail() { echo "Bail out! $*"; exit 1; }

echo "TAP version 13"
[ -e /dev/tpm0 ] || { echo "1..0 # SKIP no TPM"; exit 0; }
[ -x "$A" ] || bail "no $A (make user)"

wait_signed() {	# wait_signed [N]: N more signed checkpoints
	local want=${1:-2} t0 c
	t0=$(cut -d' ' -f2 $SYS/checkpoints)
	for _ in $(seq 1 100); do
		c=$(cut -d' ' -f2 $SYS/checkpoints)
		[ $((c - t0)) -ge "$want" ] && return 0
		sleep 0.2
	done
	return 1
}

start_module() {
	local ko d
	modprobe uhid
	# this tree's module (the host's updates/ copy may be another tree's)
	ko=$top/build/$(uname -r)/attestio.ko
	for d in $(modinfo -F depends "$ko" | tr , ' '); do
		modprobe "$d" || return 1
	done
	insmod "$ko" key_handle=$H epoch_ms=200 attach=temperature || return 1
	tests/sensors/hidsensor --rate 100 > "$W/sensor.out" 2> "$W/sensor.err" &
	echo $! > "$W/sensor.pid"
	wait_signed 2
}

stop_module() {
	[ -s "$W/sensor.pid" ] && kill "$(cat "$W/sensor.pid")" 2> /dev/null
	rm -f "$W/sensor.pid"
	sleep 0.5
	rmmod attestio 2> /dev/null
}

if [ "${1:-}" = reboot ]; then
	# Second boot on the same TPM state: nothing from the first boot but
	# the TPM; the module creates and registers a new session key.
	ls /var/lib/attestio > "$W/disk.log" 2>&1
	[ ! -e /var/lib/attestio ]
	ok $? "no attestio state on disk in this boot" "$W/disk.log"
	tpm2_readpublic -T $RM -c $H -o "$W/ak.pub" > "$W/rp.log" 2>&1
	ok $? "the AK provisioned in the earlier boot is still in the TPM" "$W/rp.log"
	start_module > "$W/load.log" 2>&1
	ok $? "the module signs again after a reboot (new session key, no secret on disk)" "$W/load.log"
	"$A" measurements --ak "$W/ak.pub" > "$W/m.log" 2>&1
	ok $? "its new session key is registered and certified by the AK" "$W/m.log"
	stop_module
	echo "1..$n"
	[ $fails -eq 0 ]
	exit
fi

# The KSK is loaded only while the module uses it; in between it is a saved
# context that root does not have.  Root's best move: catch it loaded,
# TPM2_ContextSave it itself (no authorization needed) and load its own
# copy at leisure.  Every attack below then runs against that copy.
steal_ksk() {
	python3 - "$T0" "$W/ak/../ksk.name" <<'PY'
import subprocess, sys, struct
tcti = sys.argv[1]
want = open(sys.argv[2], "rb").read()
def send(cmd):
    r = subprocess.run(["tpm2_send", "-T", tcti], input=cmd, capture_output=True)
    return r.stdout
for attempt in range(3000):
    for h in (0x80000000, 0x80000001, 0x80000002):
        rsp = send(struct.pack(">HIII", 0x8001, 14, 0x162, h))
        if len(rsp) < 10 or struct.unpack(">I", rsp[6:10])[0] != 0:
            continue
        ctx = rsp[10:]
        rsp = send(struct.pack(">HII", 0x8001, 10 + len(ctx), 0x161) + ctx)
        if len(rsp) < 14 or struct.unpack(">I", rsp[6:10])[0] != 0:
            continue
        mine = struct.unpack(">I", rsp[10:14])[0]
        rsp = send(struct.pack(">HIII", 0x8001, 14, 0x173, mine))
        # ReadPublic: outPublic 2B, name 2B
        n = struct.unpack(">H", rsp[10:12])[0]
        name = rsp[14 + n:14 + n + 34]
        if name == want:
            print("0x%08x" % mine)
            sys.exit(0)
        send(struct.pack(">HIII", 0x8001, 14, 0x165, mine))
sys.exit(1)
PY
}

# The verifier accepts only the first load of a boot; this suite must run
# in a fresh boot (check.sh gives it its own VM).
p13=$(tpm2_pcrread -T $RM sha256:13 2> /dev/null | sed -n 's/.*13: *0x//p')
case $p13 in
0000000000000000000000000000000000000000000000000000000000000000) ;;
*) bail "PCR 13 was already extended in this boot: run ksk_test.sh in a fresh VM" ;;
esac

# ------------------------------------------------------------ setup ---
"$A" provision --handle $H --out "$W/ak" > "$W/prov.log" 2>&1
ok $? "attestio provision creates the certify-only AK" "$W/prov.log"
start_module > "$W/load.log" 2>&1 || { dmesg | tail -20 >> "$W/load.log"; false; }
ok $? "the module loads, registers its session key and signs checkpoints" "$W/load.log"
grep -q . $SYS/measurements && "$A" measurements --ak "$W/ak/ak.pub" \
	--ksk-pem "$W/ksk.pem" > "$W/m.log" 2>&1 && grep -q "certified by the AK$" "$W/m.log"
ok $? "measurement log: load, key, certification by the certify-only AK" "$W/m.log"

# The KSK is loaded only while the module uses it (a saved context in
# between, which root does not have): attacks on it race for that window.
python3 - "$W/ksk.name" > "$W/name.log" 2>&1 <<'PY'
import hashlib, struct, sys
b = open("/sys/kernel/attestio/measurements", "rb").read()
off = 0
while off < len(b):
    t, _, ln = struct.unpack_from("<HHI", b, off)
    if t == 2:
        area = b[off + 16 + 2:off + 16 + ln]
        open(sys.argv[1], "wb").write(b"\x00\x0b" + hashlib.sha256(area).digest())
        sys.exit(0)
    off += 16 + ln
sys.exit(1)
PY
ok $? "the session key's name, from its registration in the log" "$W/name.log"
ksk=$(steal_ksk)
[ -n "$ksk" ]
ok $? "root catches the session key loaded and keeps its own copy (TPM2_ContextSave)"
AUTHFAIL='tpm:session\(1\)'
# ksk_attack NAME HIT CMD...: CMD (KSK in it = root's copy) must fail, and
# with an error matching HIT (the TPM judged the key's authorization)
ksk_attack() {
	local name=$1 hitre=$2 log=$W/attack.$((n + 1)).log
	shift 2
	if [ -z "$ksk" ]; then
		ok 1 "$name (no copy of the key to attack)"
		return
	fi
	! "${@//KSK/$ksk}" > "$log" 2>&1 && grep -qE "$hitre" "$log"
	ok $? "$name" "$log"
}
q=$(openssl rand -hex 32)

# -------------------------------------------- attacks on the enrolled AK ---
refused "tpm2_quote by the AK (persistent handle) via /dev/tpmrm0" \
	tpm2_quote -T $RM -c $H -q "$q" -l sha256:13 -m "$W/m" -s "$W/s"
refused "tpm2_quote by the AK via /dev/tpm0" \
	tpm2_quote -T $T0 -c $H -q "$q" -l sha256:13 -m "$W/m" -s "$W/s"
attack_ak_policy() {	# a policy session for TPM2_Quote
	tpm2_startauthsession -T $RM --policy-session -S "$W/ps.ctx" &&
	tpm2_policycommandcode -T $RM -S "$W/ps.ctx" TPM2_CC_Quote &&
	tpm2_quote -T $RM -c $H -p "session:$W/ps.ctx" -q "$q" -l sha256:13 \
		-m "$W/m" -s "$W/s"
	local rc=$?
	tpm2_flushcontext -T $RM "$W/ps.ctx" 2> /dev/null
	return $rc
}
refused "tpm2_quote by the AK in a PolicyCommandCode(Quote) session" attack_ak_policy
attack_ak_certify_branch() {	# the AK's own policy, Certify branch, used to quote
	for cc in Certify ActivateCredential; do
		tpm2_startauthsession -T $RM -S "$W/t.ctx" &&
		tpm2_policycommandcode -T $RM -S "$W/t.ctx" -L "$W/$cc.dig" TPM2_CC_$cc
		tpm2_flushcontext -T $RM "$W/t.ctx"
	done
	tpm2_startauthsession -T $RM --policy-session -S "$W/ps.ctx" &&
	tpm2_policycommandcode -T $RM -S "$W/ps.ctx" TPM2_CC_Certify &&
	tpm2_policyor -T $RM -S "$W/ps.ctx" -l "sha256:$W/Certify.dig,$W/ActivateCredential.dig" &&
	tpm2_quote -T $RM -c $H -p "session:$W/ps.ctx" -q "$q" -l sha256:13 \
		-m "$W/m" -s "$W/s"
	local rc=$?
	tpm2_flushcontext -T $RM "$W/ps.ctx" 2> /dev/null
	return $rc
}
refused "tpm2_quote by the AK with its own policy (Certify branch)" attack_ak_certify_branch
attack_sign() {	# attack_sign TCTI HANDLE [AUTH]: hash ticket + TPM2_Sign
	echo "forged reading" > "$W/data"
	tpm2_hash -T "$1" -C o -g sha256 -o "$W/dig" -t "$W/ticket" "$W/data" &&
	tpm2_sign -T "$1" -c "$2" ${3:+-p "$3"} -g sha256 -d -t "$W/ticket" \
		-o "$W/sig" "$W/dig"
}
refused "tpm2_sign by the AK (restricted key, hash ticket)" attack_sign $RM $H
attack_changeauth_ak() {
	tpm2_createek -T $RM -c "$W/ek.ctx" -G ecc > /dev/null &&
	tpm2_changeauth -T $RM -c $H -C "$W/ek.ctx" -r "$W/newak.priv" newpassword
}
refused "tpm2_changeauth of the AK" attack_changeauth_ak
refused "tpm2_duplicate of the AK (fixedTPM, fixedParent)" \
	tpm2_duplicate -T $RM -c $H -C null -G null -r "$W/dup.priv" -s "$W/dup.seed"

# ------------------------------------------- attacks on the session key ---
ksk_attack "tpm2_quote by the session key, empty password, /dev/tpm0" "$AUTHFAIL" \
	tpm2_quote -T $T0 -c KSK -q "$q" -l sha256:13 -m "$W/m" -s "$W/s"
ksk_attack "tpm2_quote by the session key, guessed password, /dev/tpm0" "$AUTHFAIL" \
	tpm2_quote -T $T0 -c KSK -p "hex:$(openssl rand -hex 32)" -q "$q" \
	-l sha256:13 -m "$W/m" -s "$W/s"
attack_ksk_policy() {
	tpm2_startauthsession -T $T0 --policy-session -S "$W/ps0.ctx" > /dev/null &&
	tpm2_policycommandcode -T $T0 -S "$W/ps0.ctx" TPM2_CC_Quote > /dev/null &&
	tpm2_quote -T $T0 -c "$1" -p "session:$W/ps0.ctx" -q "$q" -l sha256:13 \
		-m "$W/m" -s "$W/s"
	local rc=$?
	tpm2_flushcontext -T $T0 "$W/ps0.ctx" 2> /dev/null
	return $rc
}
ksk_attack "tpm2_quote by the session key in a policy session" "$AUTHFAIL" \
	attack_ksk_policy KSK
ksk_attack "tpm2_sign by the session key (hash ticket)" "$AUTHFAIL" attack_sign $T0 KSK
attack_changeauth_ksk() {
	tpm2_changeauth -T $T0 -c "$1" -C "$2" -r "$W/newksk.priv" newpassword
}
tpm2_createprimary -T $T0 -C n -g sha256 -G ecc -c "$W/np.ctx" > /dev/null 2>&1
# only its saved context is needed: free the slot (3 in swtpm; no RM here)
for h in $(tpm2_getcap -T $T0 handles-transient | sed -n 's/^- //p'); do
	[ "$h" = "$ksk" ] || tpm2_flushcontext -T $T0 "$h" > /dev/null 2>&1
done
ksk_attack "tpm2_changeauth of the session key" "$AUTHFAIL" \
	attack_changeauth_ksk KSK "$W/np.ctx"
ksk_attack "tpm2_evictcontrol cannot persist the session key (NULL hierarchy, stClear)" \
	'tpm:(handle|parameter)\([0-9]\):.*(hierarch|attribute)' \
	tpm2_evictcontrol -T $T0 -C o -c KSK 0x81010099
refused "tpm2_pcrreset of PCR 13 (not resettable from locality 0)" tpm2_pcrreset -T $RM 13

# /dev/tpm0 has no resource manager: drop what the attacks left loaded,
# root's copy of the key included
# (also the module's key if it is loaded right now: that is a denial of
# service root can do, and the module must survive it)
for h in $(tpm2_getcap -T $T0 handles-transient | sed -n 's/^- //p'); do
	tpm2_flushcontext -T $T0 "$h" > /dev/null 2>&1
done
ksk=

# -------------------------------------------------------- still fine ---
wait_signed 3 && [ "$(cat $SYS/last_status)" = quoted ]
rc=$?
[ $rc -eq 0 ] || { dmesg | grep -i attestio | tail -4
	grep . $SYS/last_status $SYS/last_tpm_rc $SYS/checkpoints $SYS/epoch \
		$SYS/streams/*/state $SYS/streams/*/last_seq 2>&1
	kill -0 "$(cat "$W/sensor.pid")" && echo sensor alive
	for c in handles-transient handles-loaded-session handles-saved-session; do
		echo "$c: $(tpm2_getcap -T $RM $c | tr "\n" " ")"; done 2>&1
	} > "$W/alive.log"
ok $rc "the module still signs after every attack (noDA: no lockout)" "$W/alive.log"

# -------------------------------------------------- bus interposer ---
# With tests/vm/run --tpm-traffic FILE (ATTESTIO_TPM_TRAFFIC=FILE here),
# play a passive interposer: take what TPM2_Create carried as the session
# key's authValue and try to quote with it.
if [ -n "${ATTESTIO_TPM_TRAFFIC:-}" ] && [ -r "$ATTESTIO_TPM_TRAFFIC" ]; then
	cand=$(python3 - "$ATTESTIO_TPM_TRAFFIC" <<'PY'
import re, struct, sys
blocks, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    if "SWTPM_IO_Read" in line or "SWTPM_IO_Write" in line:
        cur = bytearray()
        blocks.append((line.strip().startswith("SWTPM_IO_Read"), cur))
    elif cur is not None and re.fullmatch(r"\s*([0-9A-Fa-f]{2} ?)+\s*", line):
        cur += bytes.fromhex(line.strip())
for is_cmd, b in blocks:
    if not is_cmd or len(b) < 20 or struct.unpack(">HII", b[:10]) [2] != 0x153:
        continue
    asz = struct.unpack(">I", b[14:18])[0]
    p = 18 + asz
    # the module's TPM2_Create: inSensitive of 36 bytes = size, a 32-byte
    # userAuth, empty data (attestio provision's AK has an empty one);
    # where to find the authValue if it is sent in the clear
    if struct.unpack(">H", b[p:p + 2])[0] == 36:
        print(b[p + 4:p + 36].hex())
PY
)
	cand=${cand##*$'\n'}	# this load's: the last one
	ksk=$(steal_ksk)
	if [ -z "$cand" ]; then
		ok 1 "bus interposer: no TPM2_Create found in the traffic log"
	elif dmesg | grep -q 'no salted session'; then
		dmesg | grep 'no salted session' > "$W/salt.log"
		ok 1 "bus interposer: the module sent the authValue in the clear (no salted session)" "$W/salt.log"
	else
		rm -f "$W/s"
		ksk_attack "bus interposer: what TPM2_Create carried (encrypted) does not authorize the session key" "$AUTHFAIL" \
			tpm2_quote -T $T0 -c KSK -p "hex:$cand" -q "$q" -l sha256:13 \
			-m "$W/m" -s "$W/s"
	fi
fi

# ------------------------------------------------------------ verify ---
timeout 60 "$A" read --samples 100 --timeout 30 -o "$W/rec.bin" > "$W/read.log" 2>&1
tpm2_pcrread -T $RM "$PCRS" -o "$W/pcrs.bin" > /dev/null 2>&1
"$A" measurements --ak "$W/ak/ak.pub" --pcrs "$W/pcrs.bin" "$W/rec.bin" > "$W/v.log" 2>&1 &&
	grep -q "signed checkpoints checked, 0 rejected" "$W/v.log"
ok $? "the module's checkpoints prove kernel-exclusive key use" "$W/v.log"
# (a slow run may have let the 4 MiB record log wrap: the point here is
# the session key's signatures, so a reader's declared loss is allowed)
"$A" verify --allow-lost --allow-join --ak "$W/ksk.pem" "$W/rec.bin" > "$W/v2.log" 2>&1
ok $? "attestio verify accepts the stream with the session key" "$W/v2.log"
"$A" verify --allow-lost --allow-join --ak "$W/ak/ak.pub" "$W/rec.bin" > "$W/v3.log" 2>&1
[ $? -eq 1 ] && grep -q "certify-only" "$W/v3.log"
ok $? "attestio verify with the certify-only AK alone verifies nothing, and says why" "$W/v3.log"
"$A" verify --allow-lost --allow-join --ak "$W/ak/ak.pub" --measurements $SYS/measurements \
	--pcrs "$W/pcrs.bin" "$W/rec.bin" > "$W/v4.log" 2>&1 &&
	grep -q "^key: every verified quote was made by the kernel session key" "$W/v4.log"
ok $? "attestio verify --measurements: the stream proves kernel-exclusive key use" "$W/v4.log"

# A key that root creates, has certified by the AK and registers itself.
tpm2_getcap -T $T0 handles-transient > "$W/transient.log" 2>&1
cp $SYS/measurements "$W/genuine.mlog"
python3 - "$W" > "$W/forge.log" 2>&1 <<'PY'
import hashlib, struct, subprocess, sys
w = sys.argv[1]
rm = "device:/dev/tpmrm0"
def sh(*a):
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL)
# root's own restricted signing key, userWithAuth, empty auth
sh("tpm2_createprimary", "-T", rm, "-C", "o", "-c", w + "/own.ctx", "-G", "ecc256:ecdsa-sha256:null",
   "-g", "sha256", "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda")
sh("tpm2_readpublic", "-T", rm, "-c", w + "/own.ctx", "-o", w + "/own.pub")
pub = open(w + "/own.pub", "rb").read()
inst = open(w + "/genuine.mlog", "rb").read()[8:16]
tag = b"attestio/mevent\0"
hdr = struct.pack("<HHI", 2, 0, len(pub)) + inst
ev = hdr + pub
open(w + "/forged.mlog", "wb").write(open(w + "/genuine.mlog", "rb").read() + ev)
d = hashlib.sha256(tag + ev).hexdigest()
sh("tpm2_pcrextend", "-T", rm, "13:sha256=" + d)
PY
ok $? "root creates its own key and registers it in PCR 13 (allowed, and visible)" "$W/forge.log"
# its quote over a forged digest, spliced into a real checkpoint
python3 - "$W" > "$W/splice.log" 2>&1 <<'PY'
import struct, subprocess, sys
w = sys.argv[1]
rm = "device:/dev/tpmrm0"
rec = bytearray(open(w + "/rec.bin", "rb").read())
off = 0
last = None
while off < len(rec):
    t, ln = struct.unpack_from("<HI", rec, off + 2)[0], struct.unpack_from("<I", rec, off + 4)[0]
    if t == 4:
        last = off
    off += ln
assert last is not None
p = last + 40
epoch, inst, status, rc, akh, nh, slf, alen, slen, mask = struct.unpack_from("<QQIIIHHHHI", rec, p)
heads = p + 72	# struct attestio_checkpoint (v3: with beacon[32])
attest = heads + nh * 80	# struct attestio_cp_head (v4: with state[32])
sig = attest + alen
sel = ",".join(str(i) for i in range(24) if mask >> i & 1)
subprocess.run(["tpm2_quote", "-T", rm, "-c", w + "/own.ctx", "-q", "ff" * 32, "-l", "sha256:" + sel,
                "-m", w + "/own.msg", "-s", w + "/own.sig", "-g", "sha256"],
               check=True, stdout=subprocess.DEVNULL)
m = open(w + "/own.msg", "rb").read()
ts = open(w + "/own.sig", "rb").read()	# TPMT_SIGNATURE
assert len(m) == alen and len(ts) == slen, (len(m), alen, len(ts), slen)
rec[attest:attest + alen] = m
rec[sig:sig + slen] = ts
end = last + struct.unpack_from("<I", rec, last + 4)[0]
open(w + "/forged.bin", "wb").write(rec[last:end])
open(w + "/forged_stream.bin", "wb").write(rec[:end])	# the stream up to it
PY
ok $? "root's key quotes a chosen digest with the current PCRs" "$W/splice.log"
tpm2_pcrread -T $RM "$PCRS" -o "$W/pcrs2.bin" > /dev/null 2>&1
"$A" measurements --ak "$W/ak/ak.pub" --pcrs "$W/pcrs2.bin" "$W/forged.bin" > "$W/f1.log" 2>&1
[ $? -eq 1 ] && grep -q "REJECTED: the quote is not signed by the kernel session key" "$W/f1.log"
ok $? "verifier: a quote by root's key is rejected with the genuine log" "$W/f1.log"
"$A" measurements --ak "$W/ak/ak.pub" --log "$W/forged.mlog" --pcrs "$W/pcrs2.bin" \
	"$W/forged.bin" > "$W/f2.log" 2>&1
[ $? -eq 1 ] && grep -q "REJECTED" "$W/f2.log"
ok $? "verifier: ... and with root's registration appended to the log" "$W/f2.log"
for l in $SYS/measurements "$W/forged.mlog"; do
	"$A" verify --allow-lost --allow-join --ak "$W/ak/ak.pub" --measurements "$l" \
		--pcrs "$W/pcrs2.bin" "$W/forged_stream.bin" > "$W/f2v.log" 2>&1
	if [ $? -ne 1 ] || ! grep -q "not signed by the kernel session key" "$W/f2v.log"; then
		false
		break
	fi
done
ok $? "attestio verify --measurements: root's spliced quote is BAD with either log" "$W/f2v.log"
wait_signed 2
timeout 30 "$A" read -o "$W/rec2.bin" > /dev/null 2>&1	# all the log holds now
"$A" measurements --ak "$W/ak/ak.pub" --pcrs "$W/pcrs2.bin" "$W/rec2.bin" > "$W/f3.log" 2>&1
[ $? -eq 1 ] && grep -q "matches no prefix" "$W/f3.log"
ok $? "verifier: the module's own quotes after root's registration are rejected (PCR 13 moved)" "$W/f3.log"
stop_module

# Before the module loads: root registers a key; the module's log then
# does not explain PCR 13, so nothing it signs verifies.
tpm2_pcrextend -T $RM "13:sha256=$(openssl rand -hex 32)" > "$W/pre.log" 2>&1 &&
	start_module >> "$W/pre.log" 2>&1 &&
	timeout 30 "$A" read --samples 20 --timeout 20 -o "$W/rec3.bin" >> "$W/pre.log" 2>&1 &&
	tpm2_pcrread -T $RM "$PCRS" -o "$W/pcrs3.bin" > /dev/null 2>&1
"$A" measurements --ak "$W/ak/ak.pub" --pcrs "$W/pcrs3.bin" "$W/rec3.bin" >> "$W/pre.log" 2>&1
[ $? -eq 1 ] && grep -q "REJECTED" "$W/pre.log"
ok $? "verifier: a PCR 13 extended before the module loaded (and a reload) is rejected" "$W/pre.log"
stop_module

echo "1..$n"
[ $fails -eq 0 ]
