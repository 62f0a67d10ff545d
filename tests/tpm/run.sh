#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side TPM tests of `attestio provision` / `attestio enroll` and the
# libattestio TPM functions against two swtpm instances on loopback (no VM).
# TAP on stdout.  Needs swtpm and tpm2-tools; builds libattestio and the
# attestio CLI with make first (ATTESTIO=path overrides the CLI binary).
# shellcheck disable=SC2129
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d /tmp/attestio-tpm.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
export TSS2_LOG=all+none
export TMPDIR=$tmp

n=0
fails=0
ok() {	# ok COND-STATUS NAME [DIAG-FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
		[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -20
	fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
bail() { echo "Bail out! $*"; exit 1; }

echo "TAP version 13"
for t in swtpm tpm2_quote tpm2_checkquote tpm2_createprimary; do
	command -v $t > /dev/null || { echo "1..0 # SKIP $t not installed"; exit 0; }
done

# ------------------------------------------------------------ build ---
build=$top/build
cflags=(-std=c17 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iuser/kshim -Iinclude/uapi -Ikernel -Iuser/include)
read -r -a libs <<< "$(pkg-config --libs tss2-esys tss2-mu tss2-tctildr tss2-rc) -lcrypto"
make -s "$build/user/libattestio.a" > "$tmp/make.log" 2>&1 || {
	sed 's/^/# /' "$tmp/make.log" | tail -20; bail "libattestio does not build"; }
A=${ATTESTIO:-$build/bin/attestio}
if [ -z "${ATTESTIO:-}" ]; then
	make -s "$A" > "$tmp/make-cli.log" 2>&1 || {
		sed 's/^/# /' "$tmp/make-cli.log" | tail -20; bail "attestio does not build"; }
fi
[ -x "$A" ] || bail "no attestio binary at $A"
# attestio setup's scenario checks its config with attestiod and takes a
# node key from attestio-oracle.
bin_attestiod=$build/bin/attestiod bin_oracle=$build/bin/attestio-oracle
make -s "$bin_attestiod" "$bin_oracle" > "$tmp/make-d.log" 2>&1 || {
	sed 's/^/# /' "$tmp/make-d.log" | tail -20; bail "attestiod/attestio-oracle do not build"; }
cc "${cflags[@]}" tests/tpm/cred_test.c -o "$tmp/cred_test" "$build/user/libattestio.a" \
	"${libs[@]}" > "$tmp/cc.log" 2>&1 || { sed 's/^/# /' "$tmp/cc.log"; bail "cred_test does not build"; }
have_qt=0
cc "${cflags[@]}" tests/tpm/quote_test.c -o "$tmp/quote_test" "$build/user/libattestio.a" \
	"${libs[@]}" > "$tmp/cc-q.log" 2>&1 && have_qt=1

# ----------------------------------------------------------- swtpms ---
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
start_swtpm() {	# start_swtpm NAME -> sets PORT
	local d=$tmp/$1 p
	mkdir -p "$d"
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		# SWTPM_PORT_BASE: ports from there (a range given to this run)
		[ -n "${SWTPM_PORT_BASE:-}" ] && p=$((SWTPM_PORT_BASE + ${#pids[@]} * 2))
		if ! port_free "$p" || ! port_free $((p + 1)); then
			continue
		fi
		swtpm socket --tpm2 --tpmstate dir="$d" \
			--server type=tcp,port=$p,bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((p + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear \
			--pid file="$d/pid" --log file="$d/log" &
		pids+=($!)
		for _ in $(seq 1 200); do	# up to 20 s: a loaded CI host
			[ -s "$d/pid" ] && ! port_free "$p" && { PORT=$p; return 0; }
			kill -0 "$!" 2>/dev/null || break
			sleep 0.1
		done
	done
	return 1
}
start_swtpm tpm1 || bail "cannot start swtpm"
T1="swtpm:host=127.0.0.1,port=$PORT"
start_swtpm tpm2 || bail "cannot start a second swtpm"
T2="swtpm:host=127.0.0.1,port=$PORT"
H=0x81010002
out=$tmp/out
jget() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$2"; }

# -------------------------------------------------------- provision ---
"$A" provision --tcti "$T1" --out "$out" --json > "$tmp/p1.json" 2> "$tmp/p1.err"
rc=$?
[ $rc -eq 0 ] && grep -q '"created":true' "$tmp/p1.json"
ok $? "provision creates the AK at $H" "$tmp/p1.err"
name1=$(jget ak_name "$tmp/p1.json")

"$A" provision --tcti "$T1" --out "$out" --json > "$tmp/p2.json" 2> "$tmp/p2.err"
rc=$?
[ $rc -eq 0 ] && grep -q '"created":false' "$tmp/p2.json" && \
	[ "$(jget ak_name "$tmp/p2.json")" = "$name1" ] && [ -n "$name1" ]
ok $? "provision again reuses the AK (same name)" "$tmp/p2.err"

[ -s "$out/ak.pem" ] && [ -s "$out/ak.pub" ] && \
	[ "$(od -An -tx1 -v "$out/ak.name" | tr -d ' \n')" = "$name1" ] && \
	[ "$(stat -c %a "$out")" = 755 ] && \
	openssl pkey -pubin -in "$out/ak.pem" -noout 2> "$tmp/pem.err"
ok $? "ak.pem, ak.pub, ak.name written; ak.name is the AK name" "$tmp/pem.err"

tpm2_readpublic -T "$T1" -c $H -n "$tmp/tools.name" > "$tmp/rp.out" 2>&1 && \
	cmp -s "$tmp/tools.name" "$out/ak.name" && \
	grep -q 'fixedtpm|fixedparent|sensitivedataorigin|adminwithpolicy|restricted|sign$' "$tmp/rp.out"
ok $? "tpm2_readpublic agrees: name, restricted signing, no userWithAuth, adminWithPolicy" "$tmp/rp.out"

"$A" provision --tcti "$T1" --out "$out" --force --json > "$tmp/p3.json" 2> "$tmp/p3.err"
rc=$?
[ $rc -eq 0 ] && grep -q '"created":true' "$tmp/p3.json" && \
	name3=$(jget ak_name "$tmp/p3.json") && [ -n "$name3" ] && [ "$name3" != "$name1" ] && \
	[ "$(od -An -tx1 -v "$out/ak.name" | tr -d ' \n')" = "$name3" ]
ok $? "provision --force rotates the AK (new name, files updated)" "$tmp/p3.err"

# sysfs: the handle is handed to a loaded module
mkdir -p "$tmp/sysfs" && : > "$tmp/sysfs/key_handle"
ATTESTIO_SYSFS=$tmp/sysfs "$A" provision --tcti "$T1" --out "$out" > "$tmp/p4.out" 2>&1 && \
	grep -q "^0x81010002" "$tmp/sysfs/key_handle" && grep -q "key_handle set" "$tmp/p4.out"
ok $? "provision writes the handle to key_handle when the module is loaded" "$tmp/p4.out"
ATTESTIO_SYSFS=$tmp/nonexistent "$A" provision --tcti "$T1" --out "$out" > "$tmp/p5.out" 2>&1 && \
	grep -q "not loaded" "$tmp/p5.out"
ok $? "provision without the module: a note, exit 0" "$tmp/p5.out"

# ------------------------------------------------------------ quote ---
# The provisioned AK is certify-only (Documentation/design.md): the TPM
# itself refuses a quote by it, with or without a password or a policy
# session for another command.
q=$(openssl rand -hex 32)
! tpm2_quote -T "$T1" -c $H -q "$q" -l sha256:0 -m "$tmp/msg" -s "$tmp/sig" \
	-g sha256 > "$tmp/quote.log" 2>&1 && [ ! -s "$tmp/sig" ]
ok $? "the TPM refuses tpm2_quote by the provisioned AK" "$tmp/quote.log"
rm -f "$tmp/msg" "$tmp/sig"
tpm2_startauthsession -T "$T1" --policy-session -S "$tmp/qs.ctx" > "$tmp/quote2.log" 2>&1
tpm2_policycommandcode -T "$T1" -S "$tmp/qs.ctx" TPM2_CC_Quote >> "$tmp/quote2.log" 2>&1
! tpm2_quote -T "$T1" -c $H -p "session:$tmp/qs.ctx" -q "$q" -l sha256:0 -m "$tmp/msg" \
	-s "$tmp/sig" -g sha256 >> "$tmp/quote2.log" 2>&1 && [ ! -s "$tmp/sig" ]
ok $? "the TPM refuses tpm2_quote by the AK in a PolicyCommandCode(Quote) session" "$tmp/quote2.log"
tpm2_flushcontext -T "$T1" "$tmp/qs.ctx" > /dev/null 2>&1

# The verifier of quotes, with a conventional (tpm2_createak) AK.
tpm2_flushcontext -T "$T1" -t > /dev/null 2>&1
tpm2_createek -T "$T1" -c "$tmp/qek.ctx" -G ecc > "$tmp/lak.log" 2>&1 && \
	tpm2_createak -T "$T1" -C "$tmp/qek.ctx" -c "$tmp/lak.ctx" -G ecc -g sha256 -s ecdsa \
		-u "$tmp/lak.pub" >> "$tmp/lak.log" 2>&1 && \
	tpm2_flushcontext -T "$T1" -t >> "$tmp/lak.log" 2>&1 && \
	tpm2_readpublic -T "$T1" -c "$tmp/lak.ctx" -f pem -o "$tmp/lak.pem" >> "$tmp/lak.log" 2>&1
tpm2_quote -T "$T1" -c "$tmp/lak.ctx" -q "$q" -l sha256:0,1,2,3,7 -m "$tmp/msg" -s "$tmp/sig" \
	-o "$tmp/pcrs" -g sha256 > "$tmp/quote.log" 2>&1
tpm2_checkquote -u "$tmp/lak.pem" -m "$tmp/msg" -s "$tmp/sig" -f "$tmp/pcrs" \
	-q "$q" -g sha256 >> "$tmp/quote.log" 2>&1
ok $? "a userspace tpm2_quote (conventional AK) verifies with tpm2_checkquote" "$tmp/quote.log"
tpm2_flushcontext -T "$T1" -t > /dev/null 2>&1
if [ $have_qt -eq 1 ]; then
	"$tmp/quote_test" "$tmp/lak.pem" "$tmp/msg" "$tmp/sig" "$q" > "$tmp/qt.log" 2>&1
	ok $? "the quote verifies with att_quote_verify and a PEM key" "$tmp/qt.log"
	"$tmp/quote_test" "$tmp/lak.pub" "$tmp/msg" "$tmp/sig" "$q" > "$tmp/qt.log" 2>&1
	ok $? "the quote verifies with att_quote_verify and a TPM2B_PUBLIC" "$tmp/qt.log"
	"$tmp/quote_test" "$tmp/lak.pub" "$tmp/msg" "$tmp/sig" "00${q:2}" > "$tmp/qt.log" 2>&1
	[ $? -eq 1 ] && [ -s "$tmp/msg" ] && ! grep -q "does not unmarshal" "$tmp/qt.log"
	ok $? "att_quote_verify refuses other qualifying data" "$tmp/qt.log"
else
	skip "the quote verifies with att_quote_verify" "att_quote_verify does not link yet"
fi

# ---------------------------------------------- handle taken, auth ---
tpm2_createprimary -T "$T1" -C o -G rsa -c "$tmp/rsa.ctx" > "$tmp/rsa.log" 2>&1 && \
	tpm2_evictcontrol -T "$T1" -C o -c "$tmp/rsa.ctx" 0x81010010 >> "$tmp/rsa.log" 2>&1 && \
	tpm2_flushcontext -T "$T1" -t >> "$tmp/rsa.log" 2>&1
"$A" provision --tcti "$T1" --out "$tmp/o2" --handle 0x81010010 > "$tmp/taken.log" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q "handle 0x81010010 is taken by a key that is not an attestio AK; use --force or another --handle" "$tmp/taken.log" && \
	[ ! -e "$tmp/o2/ak.pem" ]
ok $? "provision on a handle holding an RSA primary fails clearly (exit 3)" "$tmp/taken.log"
"$A" provision --tcti "$T1" --out "$tmp/o2" --handle 0x81010010 --force > "$tmp/taken2.log" 2>&1 && \
	grep -q "created at 0x81010010" "$tmp/taken2.log"
ok $? "--force replaces the foreign key" "$tmp/taken2.log"

tpm2_changeauth -T "$T2" -c o ownerpw > "$tmp/auth.log" 2>&1
"$A" provision --tcti "$T2" --out "$tmp/o3" > "$tmp/auth1.log" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q -- "--owner-auth" "$tmp/auth1.log"
ok $? "an owner password is needed: the error names --owner-auth" "$tmp/auth1.log"
OWNERPW=ownerpw "$A" provision --tcti "$T2" --out "$tmp/o3" --owner-auth env:OWNERPW > "$tmp/auth2.log" 2>&1
ok $? "provision with --owner-auth succeeds" "$tmp/auth2.log"
if [ $have_qt -eq 1 ]; then
	"$tmp/quote_test" "$tmp/o3/ak.pem" "$tmp/msg" "$tmp/sig" "$q" > "$tmp/qt.log" 2>&1
	[ $? -eq 1 ] && [ -s "$tmp/o3/ak.pem" ]
	ok $? "att_quote_verify refuses the quote with another TPM's AK" "$tmp/qt.log"
fi
! tpm2_checkquote -u "$tmp/o3/ak.pem" -m "$tmp/msg" -s "$tmp/sig" -q "$q" -g sha256 > "$tmp/cq.log" 2>&1
ok $? "tpm2_checkquote refuses the quote with another TPM's ak.pem" "$tmp/cq.log"

"$A" provision --tcti "swtpm:host=127.0.0.1,port=1" --out "$tmp/o4" > "$tmp/notpm.log" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q "no TPM found at swtpm:host=127.0.0.1,port=1" "$tmp/notpm.log"
ok $? "no TPM: exit 3 (EXIT_NOTPM) with a clear message" "$tmp/notpm.log"
"$A" enroll --tcti "swtpm:host=127.0.0.1,port=1" -o "$tmp/x.bin" > "$tmp/notpm2.log" 2>&1
[ $? -eq 3 ] && grep -q "no TPM found" "$tmp/notpm2.log"
ok $? "enroll without a TPM: exit 3" "$tmp/notpm2.log"
"$A" provision --handle 0x80000001 > "$tmp/usage.log" 2>&1
[ $? -eq 2 ]
ok $? "provision --handle outside the persistent range: exit 2" "$tmp/usage.log"

# ----------------------------------------------------------- enroll ---
"$A" enroll --tcti "$T1" --identity gw-1 -o "$tmp/bundle" > "$tmp/e1.log" 2>&1 && \
	"$A" enroll --show "$tmp/bundle" > "$tmp/show.log" 2>&1 && \
	grep -q "identity: *gw-1" "$tmp/show.log" && \
	grep -q "AK name: *$name3" "$tmp/show.log"
ok $? "enroll writes a bundle; --show parses it back (identity, AK name)" "$tmp/show.log"
ek_tools=$(tpm2_createek -T "$T1" -c "$tmp/ek.ctx" -G ecc -u "$tmp/ek.pub" > /dev/null 2>&1 && \
	tpm2_flushcontext -T "$T1" -t > /dev/null 2>&1 && od -An -tx1 -v "$tmp/ek.pub" | tr -d ' \n')
[ -n "$ek_tools" ] && od -An -tx1 -v "$tmp/bundle" | tr -d ' \n' | grep -q "$ek_tools"
ok $? "the bundle's EK public equals tpm2_createek -G ecc's (TCG template)"

# The bundle as the verifier's key: the quote's qualifiedSigner must be the
# AK's qualified name under the EK, computed from the bundle alone.
# The AK attestio provisions never quotes (issue 8), so this uses a
# conventional AK made by tpm2_createak under the same EK, enrolled from
# its own handle.
if [ $have_qt -eq 1 ]; then
	q2=$(openssl rand -hex 32)
	tpm2_flushcontext -T "$T1" -t > /dev/null 2>&1
	tpm2_createek -T "$T1" -c "$tmp/qbek.ctx" -G ecc > "$tmp/qb.log" 2>&1 &&
		tpm2_createak -T "$T1" -C "$tmp/qbek.ctx" -c "$tmp/qbak.ctx" -G ecc -g sha256 \
			-s ecdsa >> "$tmp/qb.log" 2>&1 &&
		tpm2_flushcontext -T "$T1" -t >> "$tmp/qb.log" 2>&1 &&
		tpm2_evictcontrol -T "$T1" -C o -c "$tmp/qbak.ctx" 0x81010012 >> "$tmp/qb.log" 2>&1 &&
		tpm2_flushcontext -T "$T1" -t >> "$tmp/qb.log" 2>&1 &&
		"$A" enroll --tcti "$T1" --handle 0x81010012 -o "$tmp/bundle12" >> "$tmp/qb.log" 2>&1 &&
		tpm2_quote -T "$T1" -c 0x81010012 -q "$q2" -l sha256:0,7 -m "$tmp/msg2" -s "$tmp/sig2" \
			-o "$tmp/pcrs2" -g sha256 >> "$tmp/qb.log" 2>&1 &&
		"$tmp/quote_test" "$tmp/bundle12" "$tmp/msg2" "$tmp/sig2" "$q2" >> "$tmp/qb.log" 2>&1
	ok $? "a TPM quote verifies with the enrollment bundle (qualifiedSigner checked)" "$tmp/qb.log"
fi

"$A" enroll --challenge "$tmp/bundle" -o "$tmp/chal" --secret-out "$tmp/secret" > "$tmp/c.log" 2>&1 && \
	"$A" enroll --activate --tcti "$T1" --cred "$tmp/chal" --secret-out "$tmp/got" >> "$tmp/c.log" 2>&1 && \
	cmp -s "$tmp/secret" "$tmp/got" && [ "$(stat -c %s "$tmp/got")" = 32 ]
ok $? "credential activation on the enrolled TPM returns the secret" "$tmp/c.log"

"$A" enroll --activate --tcti "$T2" --cred "$tmp/chal" --secret-out "$tmp/got2" > "$tmp/c2.log" 2>&1
rc=$?
[ $rc -ne 0 ] && [ ! -e "$tmp/got2" ] && grep -q "refused" "$tmp/c2.log"
ok $? "activation on a different TPM fails" "$tmp/c2.log"

# RSA EK: the software MakeCredential (RSA-OAEP seed) must be accepted by
# tpm2_activatecredential with the TPM's RSA EK (TCG template, tpm2_createek)
if command -v python3 > /dev/null; then
	tpm2_createek -T "$T1" -G rsa -c "$tmp/rsaek.ctx" -u "$tmp/rsaek.pub" > "$tmp/r.log" 2>&1
	python3 - "$tmp" >> "$tmp/r.log" 2>&1 <<'PY'
import struct, sys
d = sys.argv[1]
b = open(d + "/bundle", "rb").read()
recs, off = [], 20
while off < len(b):
    t, l = struct.unpack(">HI", b[off:off + 6])
    recs.append((t, b[off + 6:off + 6 + l]))
    off += 6 + l
recs = [(1, open(d + "/rsaek.pub", "rb").read())] + [r for r in recs if r[0] != 1]
open(d + "/bundle-rsa", "wb").write(b[:20] + b"".join(
    struct.pack(">HI", t, len(v)) + v for t, v in recs))
PY
	"$A" enroll --challenge "$tmp/bundle-rsa" -o "$tmp/rchal" --secret-out "$tmp/rsecret" >> "$tmp/r.log" 2>&1
	python3 - "$tmp" >> "$tmp/r.log" 2>&1 <<'PY'
import struct, sys
d = sys.argv[1]
c = open(d + "/rchal", "rb").read()
n1 = struct.unpack(">H", c[20:22])[0]
n2 = struct.unpack(">H", c[22 + n1:24 + n1])[0]
open(d + "/rchal.tools", "wb").write(struct.pack(">II", 0xBADCC0DE, 1) +
    c[22:22 + n1] + c[24 + n1:24 + n1 + n2])
PY
	# the AK's policy: PolicyOR(CommandCode(Certify), CommandCode(ActivateCredential))
	for cc in Certify ActivateCredential; do
		tpm2_startauthsession -T "$T1" -S "$tmp/t.ctx" >> "$tmp/r.log" 2>&1
		tpm2_policycommandcode -T "$T1" -S "$tmp/t.ctx" -L "$tmp/cc-$cc.dig" \
			TPM2_CC_$cc >> "$tmp/r.log" 2>&1
		tpm2_flushcontext -T "$T1" "$tmp/t.ctx" > /dev/null 2>&1
	done
	tpm2_startauthsession -T "$T1" --policy-session -S "$tmp/s.ctx" >> "$tmp/r.log" 2>&1 && \
		tpm2_policysecret -T "$T1" -S "$tmp/s.ctx" -c e >> "$tmp/r.log" 2>&1 && \
		tpm2_startauthsession -T "$T1" --policy-session -S "$tmp/a.ctx" >> "$tmp/r.log" 2>&1 && \
		tpm2_policycommandcode -T "$T1" -S "$tmp/a.ctx" TPM2_CC_ActivateCredential >> "$tmp/r.log" 2>&1 && \
		tpm2_policyor -T "$T1" -S "$tmp/a.ctx" \
			-l "sha256:$tmp/cc-Certify.dig,$tmp/cc-ActivateCredential.dig" >> "$tmp/r.log" 2>&1 && \
		tpm2_activatecredential -T "$T1" -c $H -p "session:$tmp/a.ctx" -C "$tmp/rsaek.ctx" \
			-i "$tmp/rchal.tools" -o "$tmp/rgot" -P "session:$tmp/s.ctx" >> "$tmp/r.log" 2>&1
	rc=$?
	tpm2_flushcontext -T "$T1" "$tmp/s.ctx" > /dev/null 2>&1
	tpm2_flushcontext -T "$T1" "$tmp/a.ctx" > /dev/null 2>&1
	tpm2_flushcontext -T "$T1" -t > /dev/null 2>&1
	[ $rc -eq 0 ] && cmp -s "$tmp/rgot" "$tmp/rsecret"
	ok $? "RSA EK: software MakeCredential activates with tpm2_activatecredential" "$tmp/r.log"
else
	skip "RSA EK credential" "python3 missing"
fi

head -c 100 "$tmp/bundle" > "$tmp/trunc"
"$A" enroll --show "$tmp/trunc" > "$tmp/tr.log" 2>&1
[ $? -eq 1 ] && grep -q "enrollment bundle" "$tmp/tr.log"
ok $? "a truncated bundle is rejected" "$tmp/tr.log"

# EK certificate in NV (0x01c0000a) ends up in the bundle, byte for byte
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout /dev/null -subj /CN=test-ek -days 1 -outform DER \
	-out "$tmp/ekcert.der" > "$tmp/ekc.log" 2>&1
sz=$(stat -c %s "$tmp/ekcert.der")
tpm2_nvdefine -T "$T1" 0x01c0000a -C o -s "$sz" \
	-a "ownerread|ownerwrite|authread|authwrite|no_da" >> "$tmp/ekc.log" 2>&1 && \
	tpm2_nvwrite -T "$T1" 0x01c0000a -C o -i "$tmp/ekcert.der" >> "$tmp/ekc.log" 2>&1 && \
	"$A" provision --tcti "$T1" --out "$out" --json > "$tmp/ekc.json" 2>> "$tmp/ekc.log" && \
	grep -q '"ek_cert":true' "$tmp/ekc.json" && \
	"$A" enroll --tcti "$T1" -o "$tmp/bundle-cert" >> "$tmp/ekc.log" 2>&1 && \
	"$A" enroll --show "$tmp/bundle-cert" > "$tmp/ekc.show" 2>&1 && \
	grep -q "EK certificate: *$sz bytes" "$tmp/ekc.show" && \
	od -An -tx1 -v "$tmp/bundle-cert" | tr -d ' \n' | \
		grep -q "$(od -An -tx1 -v "$tmp/ekcert.der" | tr -d ' \n')"
ok $? "an EK certificate in NV is reported and carried in the bundle" "$tmp/ekc.log"

# ------------------------------------------- attestio setup gateway ---
# A fresh TPM: a dry run changes nothing; the first run creates the key,
# the bundle, a test CA, the client certificate (CN = gateway id, which is
# checked against tpm2_createek's EK) and the config; a second run keeps all.
if start_swtpm tpm3; then
	T3="swtpm:host=127.0.0.1,port=$PORT"
	sd=$tmp/setup
	mkdir -p "$sd/etc"
	cp user/attestiod/attestiod.conf "$sd/etc/"	# the packaged template
	sargs=(setup gateway --oracle mqtts://broker.test:8883 --tcti "$T3"
		--conf-dir "$sd/etc" --state-dir "$sd/var")
	"$A" "${sargs[@]}" --dry-run --json > "$sd/dry.json" 2> "$sd/dry.err"
	rc=$?
	[ $rc -eq 0 ] && [ ! -e "$sd/var" ] && [ "$(ls "$sd/etc")" = attestiod.conf ] &&
		cmp -s user/attestiod/attestiod.conf "$sd/etc/attestiod.conf" &&
		grep -q '"action":"would create"' "$sd/dry.json" &&
		[ -z "$(tpm2_getcap -T "$T3" handles-persistent 2>/dev/null)" ]
	ok $? "setup --dry-run: says what it would do, writes nothing, TPM untouched (rc $rc)" "$sd/dry.err"
	"$A" "${sargs[@]}" --json > "$sd/1.json" 2> "$sd/1.err"
	rc=$?
	gw=$(jget gateway_id "$sd/1.json")
	for s in provision enroll ca certificate; do
		grep -q "\"step\":\"$s\",\"action\":\"created\"" "$sd/1.json" || rc=99
	done
	grep -q '"step":"config","action":"replaced"' "$sd/1.json" || rc=98
	ok $((rc)) "setup: first run creates key, bundle, CA, certificate; replaces the packaged config" "$sd/1.json"
	tpm2_createek -T "$T3" -G ecc -c "$sd/ek.ctx" -u "$sd/ek.pub" > "$sd/ek.log" 2>&1
	tpm2_flushcontext -T "$T3" -t > /dev/null 2>&1
	want=$(tail -c +3 "$sd/ek.pub" | sha256sum | cut -c1-32)
	[ -n "$gw" ] && [ "$gw" = "$want" ]
	ok $? "setup: gateway id $gw = SHA-256(EK public area from tpm2_createek)[0:16] ($want)" "$sd/ek.log"
	openssl verify -CAfile "$sd/etc/ca.pem" -purpose sslclient "$sd/etc/gateway.pem" > "$sd/v.log" 2>&1 &&
		openssl x509 -in "$sd/etc/gateway.pem" -noout -subject | grep -q "CN *= *$gw\$" &&
		[ "$(stat -c %a "$sd/etc/gateway.key")" = 600 ] && [ "$(stat -c %a "$sd/etc/ca.key")" = 600 ] &&
		openssl pkey -in "$sd/etc/gateway.key" -pubout | cmp -s - <(openssl x509 -in "$sd/etc/gateway.pem" -noout -pubkey)
	ok $? "setup: client certificate chains to the test CA, CN = gateway id, key matches, keys 0600" "$sd/v.log"
	grep -qx "id = $gw" "$sd/etc/attestiod.conf" && grep -qx 'broker = mqtts://broker.test:8883' "$sd/etc/attestiod.conf" &&
		grep -qx "cert = $sd/etc/gateway.pem" "$sd/etc/attestiod.conf"
	ok $? "setup: attestiod.conf names the gateway id, broker and certificate" "$sd/etc/attestiod.conf"
	cp -a "$sd" "$sd.before"
	"$A" "${sargs[@]}" --json > "$sd/2.json" 2> "$sd/2.err"
	rc=$?
	grep -q '"step":"provision","action":"reused"' "$sd/2.json" &&
		grep -q '"step":"enroll","action":"unchanged"' "$sd/2.json" &&
		grep -q '"step":"ca","action":"kept"' "$sd/2.json" &&
		grep -q '"step":"certificate","action":"kept"' "$sd/2.json" &&
		grep -q '"step":"config","action":"unchanged"' "$sd/2.json" &&
		diff -r "$sd.before/etc" "$sd/etc" > /dev/null && diff -r "$sd.before/var" "$sd/var" > /dev/null
	ok $? "setup: a second run reuses and keeps everything, changes no file (rc $rc)" "$sd/2.json"
	node=$("$bin_oracle" pubkey "$(printf '%064x' 7)" | cut -d' ' -f1)
	"$A" "${sargs[@]}" --node "$node" > "$sd/3.out" 2>&1 &&
		grep -q 'config .*kept: .*differs' "$sd/3.out" && ! grep -q "node = $node" "$sd/etc/attestiod.conf" &&
		"$A" "${sargs[@]}" --node "$node" --force > "$sd/4.out" 2>&1 &&
		grep -q 'config .*replaced' "$sd/4.out" && [ -f "$sd/etc/attestiod.conf.bak" ] &&
		"$bin_attestiod" --check-config --config "$sd/etc/attestiod.conf" >> "$sd/4.out" 2>&1
	ok $? "setup: a changed config is kept unless --force (then .bak); with --node attestiod accepts it" "$sd/4.out"
	"$A" setup gateway --oracle https://x --tcti "$T3" > "$sd/bad.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q 'mqtts://HOST:PORT' "$sd/bad.out"
	ok $? "setup: a bad --oracle URL is exit 2 with the expected form" "$sd/bad.out"
	rm -rf "$sd.before"
else
	ok 1 "start a third swtpm for attestio setup"
fi

# enrollment over MQTT: attestiod and attestio-oracle nodes
# shellcheck source=tests/tpm/enroll.sh
. tests/tpm/enroll.sh

# library-level tests (numbered on from here)
TAP_BASE=$n "$tmp/cred_test" "$T1" $H "$T2" > "$tmp/cred.log" 2>&1
rc=$?
grep -E '^(not )?ok |^# ' "$tmp/cred.log" | grep -v '^# next'
last=$(sed -n 's/^# next //p' "$tmp/cred.log")
if [ -n "$last" ]; then
	fails=$((fails + $(grep -c '^not ok' "$tmp/cred.log")))
	n=$last
fi
[ $rc -eq 0 ] || [ -n "$last" ] || ok 1 "cred_test ran" "$tmp/cred.log"

# both TPMs: nothing left loaded
for t in "$T1" "$T2"; do
	h=$(tpm2_getcap -T "$t" handles-transient 2>/dev/null)
	[ -z "$h" ]
	ok $? "no transient objects left on ${t#*port=} after the tests"
done

echo "1..$n"
[ $fails -eq 0 ]
