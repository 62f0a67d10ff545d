#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TPM fault scenarios of attestio.ko, in a guest started with
#   tests/vm/run --tpm-faults DIR -- tests/stress/tpm-faults.sh [--short]
# (tests/vm/tpm-proxy sits between QEMU and swtpm and injects what this
# script writes to $ATTESTIO_VM_TPM_FAULTS/ctl into TPM2_Quote commands).
# The device captures at 100 Hz with a reader recording every record; the
# TPM then, in turn:
#   retry     answers TPM_RC_RETRY twice (the TPM core resends: still
#             signed), then on every try (checkpoints unsigned, "TPM
#             error" 0x922), then recovers
#   yielded   answers TPM_RC_YIELDED twice: the module resends, no
#             checkpoint goes unsigned
#   stop      swtpm is SIGSTOPped with a quote pending for STOP_S seconds:
#             capture goes on, the next checkpoint is signed
#   corrupt   a quote response altered on the bus: never "quoted"
#   lockout   TPM_RC_LOCKOUT: the module backs off (sysfs tpm_backoff), no
#             quote reaches the TPM until the backoff ends, then it signs
#             again by itself
# Finally attestio verify checks the whole recording with the session key:
# no checkpoint marked quoted without a valid signature (0 bad), chains
# continuous.  TAP on stdout; produced/delivered/declared-lost figures as
# comments.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
A=$top/build/bin/attestio
SYS=/sys/kernel/attestio
F=${ATTESTIO_VM_TPM_FAULTS:-}
H=0x81010030
W=$(mktemp -d /tmp/attestio-tpmfaults.XXXXXX)
short=0
[ "${1:-}" = --short ] && short=1
if [ "$short" = 1 ]; then stop_s=${STRESS_TPM_STOP_S:-5} backoff_s=6
else stop_s=${STRESS_TPM_STOP_S:-60} backoff_s=20; fi
export TSS2_LOG=all+none
n=0 fails=0 seq=0
ok() {	# ok STATUS NAME [DETAIL]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2${3:+ # $3}"
	else echo "not ok $n - $2${3:+ # $3}"; fails=$((fails + 1)); fi
}
bail() { echo "Bail out! $*"; exit 1; }
fault() { seq=$((seq + 1)); echo "$seq $1 $2" > "$F/ctl.tmp" && mv "$F/ctl.tmp" "$F/ctl"; }
fstat() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$F/stats"; }
signed() { cut -d' ' -f2 $SYS/checkpoints; }
unsigned() { local t s; read -r t s < $SYS/checkpoints; echo $((t - s)); }
produced() { sed -n 's/^produced //p' $SYS/totals; }
# until SEC CMD...: poll CMD every 0.2 s for up to SEC seconds
until_() {
	local t=$(($1 * 5))
	shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done
	return 1
}
more_signed() { [ "$(signed)" -ge "$1" ]; }
status_is() { [ "$(cat $SYS/last_status)" = "$1" ]; }
injected_ge() { [ "$(fstat injected)" -ge "$1" ]; }
cleanup() {
	[ -n "${reader:-}" ] && kill "$reader" 2> /dev/null
	[ -n "$F" ] && fault off 0
	rmmod attestio 2> /dev/null
	rmmod attestio_testdev 2> /dev/null
	tpm2_evictcontrol -C o -c $H > /dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

echo "TAP version 13"
echo "# kernel $(uname -r), short=$short, stop ${stop_s}s, auth backoff ${backoff_s}s"
[ -n "$F" ] || { echo "1..0 # SKIP no TPM fault proxy (tests/vm/run --tpm-faults)"; exit 0; }
[ -x "$A" ] || bail "no $A (make user)"
"$A" provision --handle $H --out "$W/ak" > "$W/prov.log" 2>&1 ||
	{ sed 's/^/# /' "$W/prov.log"; bail "attestio provision failed"; }
modprobe industrialio-triggered-buffer 2> /dev/null
insmod "build/$(uname -r)/testdev/attestio_testdev.ko" rate_hz=100 claim_direct=0 ||
	bail "cannot load attestio_testdev"
for d in $(modinfo -F depends "build/$(uname -r)/attestio.ko" | tr , ' '); do
	modprobe "$d"
done
insmod "build/$(uname -r)/attestio.ko" key_handle=$H epoch_ms=200 \
	auth_backoff_s=$backoff_s attach=attestio-test || bail "cannot load attestio"
until_ 60 more_signed 2 || bail "no signed checkpoint: $(cat $SYS/last_status)"
"$A" measurements --ak "$W/ak/ak.pub" --ksk-pem "$W/ksk.pem" > "$W/m.log" 2>&1 ||
	{ sed 's/^/# /' "$W/m.log"; bail "no session key"; }
"$A" read --follow -o "$W/rec.bin" 2> "$W/read.err" &
reader=$!

# ------------------------------------------------------------- retry ---
i0=$(fstat injected) u0=$(unsigned)
fault retry 2
until_ 30 injected_ge $((i0 + 2)) && until_ 10 more_signed $(($(signed) + 2))
ok $? "TPM_RC_RETRY x2: the TPM core resends, the checkpoint is signed" \
	"unsigned +$(($(unsigned) - u0))"
fault retry 100000
until_ 60 status_is "unsigned: TPM error" && grep -qx 0x922 $SYS/last_tpm_rc
ok $? "TPM_RC_RETRY on every try: checkpoints unsigned, TPM error 0x922" \
	"$(cat $SYS/last_status) $(cat $SYS/last_tpm_rc)"
s0=$(signed)
fault off 0
until_ 30 more_signed $((s0 + 2)) && status_is quoted
ok $? "TPM_RC_RETRY: the TPM back, checkpoints are signed again by themselves"

# ----------------------------------------------------------- yielded ---
i0=$(fstat injected) u0=$(unsigned) s0=$(signed)
fault yielded 2
until_ 30 injected_ge $((i0 + 2)) && until_ 10 more_signed $((s0 + 2))
ok $? "TPM_RC_YIELDED x2: the module resends the quote" "injected $(($(fstat injected) - i0))"
[ "$(unsigned)" = "$u0" ]
ok $? "TPM_RC_YIELDED x2: no checkpoint unsigned" "unsigned +$(($(unsigned) - u0))"

# -------------------------------------------------------------- stop ---
stopped_gt() { [ "$(fstat stopped)" -gt "$1" ]; }
st0=$(fstat stopped) s0=$(signed)
fault stop "$stop_s"
until_ 20 stopped_gt "$st0"
ok $? "swtpm stopped with a quote pending"
p0=$(produced)
sleep $((stop_s > 2 ? stop_s - 2 : 1))
p1=$(produced)
[ $((p1 - p0)) -gt $(((stop_s > 2 ? stop_s - 2 : 1) * 30)) ]
ok $? "capture goes on while the TPM is stopped" "produced +$((p1 - p0)) in $((stop_s > 2 ? stop_s - 2 : 1)) s"
until_ $((stop_s + 60)) more_signed $((s0 + 2)) && status_is quoted
ok $? "swtpm continued: the pending quote completes, checkpoints signed" "$(cat $SYS/last_status)"

# ----------------------------------------------------------- corrupt ---
i0=$(fstat injected) s0=$(signed) u0=$(unsigned)
fault corrupt 3
until_ 30 injected_ge $((i0 + 3))
r=$?
fault off 0
u1=$(unsigned)
[ $r -eq 0 ] && [ "$u1" -ge $((u0 + 3)) ] && until_ 30 more_signed $((s0 + 2))
ok $? "a quote response altered on the bus is never marked quoted" \
	"unsigned +$((u1 - u0))"

# ----------------------------------------------------------- lockout ---
# cur: the backoff the module is in now (it doubles at each failed try)
cur=$backoff_s
fault lockout 100000
until_ 30 grep -q "^$H tpm_rc 0x921 backoff $cur s" $SYS/tpm_backoff
ok $? "TPM_RC_LOCKOUT: the module backs off and says so in tpm_backoff" "$(cat $SYS/tpm_backoff)"
# watch until shortly before the backoff ends (the next try is due then);
# the window (cur) and its time left are read together, since a slow guest
# may already be in a later, doubled window
bstate() {
	local l
	l=$(cat $SYS/tpm_backoff)
	cur=$(sed -n 's/.* backoff \([0-9]*\) s.*/\1/p' <<< "$l")
	left=$(sed -n 's/.*next try in \([0-9]*\) ms.*/\1/p' <<< "$l")
	cur=${cur:-$backoff_s}
}
bstate
if [ "${left:-0}" -lt 2500 ]; then
	# a slow guest (the debug kernel under TCG) read the state as the
	# window ended: the next try is due now, so watch the next window
	# (the backoff doubles, as the next case checks) instead
	sleep $((${left:-0} / 1000 + 1))
	until_ 30 grep -q "^$H tpm_rc 0x921 backoff $((cur * 2)) s" $SYS/tpm_backoff
	bstate
fi
q0=$(fstat quotes)
watch_s=$(((${left:-0} - 1500) / 1000))
[ $watch_s -ge 1 ] || watch_s=1
sleep $watch_s
q1=$(fstat quotes)
# A slow guest may oversleep into the next try: that one quote (the
# window's end, after which the backoff doubled) is allowed, nothing else
# (an epoch every 200 ms would show dozens); the proxy may count that
# try's quote only after the state was read (seen at load 4 guests on
# 2 cores: tries 1, quotes +0), so at most, not exactly
if grep -q "^$H tpm_rc 0x921 backoff $cur s" $SYS/tpm_backoff; then
	tries=0
elif grep -q "^$H tpm_rc 0x921 backoff $((cur * 2)) s" $SYS/tpm_backoff; then
	tries=1
	cur=$((cur * 2))
else
	tries=-1
fi
[ "$tries" -ge 0 ] && [ "$q1" -ge "$q0" ] && [ "$q1" -le $((q0 + tries)) ] &&
	status_is "unsigned: TPM error" &&
	grep -q "skipped [1-9]" $SYS/tpm_backoff
ok $? "no quote reaches the TPM during the backoff" \
	"quotes +$((q1 - q0)) in $watch_s s, $tries scheduled tries; $(cat $SYS/tpm_backoff)"
until_ $((cur + 30)) grep -q "^$H tpm_rc 0x921 backoff $((cur * 2)) s" $SYS/tpm_backoff
ok $? "still locked out at the next try: the backoff doubles" "$(cat $SYS/tpm_backoff)"
cur=$((cur * 2))
s0=$(signed)
fault off 0
# the next try comes at the end of the current window (at most cur s)
until_ $((cur + 60)) more_signed $((s0 + 2)) && status_is quoted &&
	grep -q "^none" $SYS/tpm_backoff
ok $? "lockout cleared: after the backoff the module signs again by itself" "$(cat $SYS/tpm_backoff)"

# ------------------------------------------------------------ verify ---
sleep 1
kill "$reader" 2> /dev/null
wait "$reader" 2> /dev/null
reader=
echo "# totals: $(tr '\n' ' ' < $SYS/totals)"
echo "# checkpoints (total signed): $(cat $SYS/checkpoints); proxy: $(cat "$F/stats")"
"$A" verify --allow-unsigned --allow-lost --allow-join --ak "$W/ksk.pem" "$W/rec.bin" \
	> "$W/verify.log" 2>&1
r=$?
sed -n 1p "$W/verify.log" | sed 's/^/# verify: /'
[ $r -eq 0 ] && grep -q ", 0 bad$" "$W/verify.log"
ok $? "attestio verify: every checkpoint marked quoted has a valid signature, chains continuous"
[ $r -eq 0 ] || sed 's/^/# /' "$W/verify.log" | head -20
echo "1..$n"
[ $fails -eq 0 ]
