# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by tests/tpm/run.sh (its ok, start_swtpm, $A, $tmp, $T2, $H,
# $bin_attestiod, $bin_oracle): enrollment over MQTT end to end on
# loopback.  A swtpm gateway (EK certificate from a test CA) runs
# attestiod; attestio-oracle nodes admit it by credential activation:
# tier 3 with the CA directory and a PCR policy, 2 without the CA
# directory, 1 without a policy; an impostor holding a copy of its bundle
# but another TPM is never admitted, a replayed answer and a bundle whose
# id is not its EK's are refused, records of a gateway not yet admitted
# get no ack.  ENROLL_TEST_PORT: the broker's port (then +1..+3 for
# metrics), default a free one.
command -v mosquitto > /dev/null && command -v mosquitto_pub > /dev/null || {
	skip "enrollment over MQTT" "mosquitto not installed"; return 0; }
e=$tmp/enr
mkdir -p "$e/ca"
ep=${ENROLL_TEST_PORT:-}
if [ -z "$ep" ]; then
	for _ in $(seq 1 50); do
		ep=$((20000 + RANDOM % 20000))
		port_free "$ep" && port_free $((ep + 1)) && break
	done
fi
start_swtpm enrgw || { ok 1 "start the gateway's swtpm"; return 0; }
TE="swtpm:host=127.0.0.1,port=$PORT"
# the gateway: AK, EK certificate from a test CA in NV, its id from the EK
{
	"$A" provision --tcti "$TE" --out "$e/ak" &&
	"$A" provision --tcti "$T2" --out "$e/ak2" &&
	tpm2_createek -T "$TE" -G ecc -c "$e/ek.ctx" -u "$e/ek.pub" &&
	tpm2_readpublic -T "$TE" -c "$e/ek.ctx" -f pem -o "$e/ek.pem" &&
	tpm2_flushcontext -T "$TE" -t &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$e/ca.key" -subj /CN=test-ek-ca -days 2 -out "$e/ca/ca.pem" &&
	openssl x509 -new -force_pubkey "$e/ek.pem" -subj /CN=test-ek -days 1 \
		-CA "$e/ca/ca.pem" -CAkey "$e/ca.key" -outform DER -out "$e/ekcert.der" &&
	tpm2_nvdefine -T "$TE" 0x01c0000a -C o -s "$(stat -c %s "$e/ekcert.der")" \
		-a "ownerread|ownerwrite|authread|authwrite|no_da" &&
	tpm2_nvwrite -T "$TE" 0x01c0000a -C o -i "$e/ekcert.der" &&
	"$A" enroll --tcti "$TE" -o "$e/bundle"
} > "$e/setup.log" 2>&1
ok $? "enrollment: a swtpm gateway with an AK and an EK certificate from a test CA" "$e/setup.log"
gw=$(tail -c +3 "$e/ek.pub" | sha256sum | cut -c1-32)
other=$(printf '%032x' 1)
cat > "$e/mosq.conf" <<EOC
listener $ep 127.0.0.1
allow_anonymous true
persistence false
log_dest file $e/mosq.log
EOC
mosquitto -c "$e/mosq.conf" > /dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do port_free "$ep" || break; sleep 0.1; done
printf '81 %s\n' "$(printf 'cd%.0s' $(seq 32))" > "$e/policy"
declare -A nk npub nid
node_conf() {	# k [extra gateway-section lines]
	local k=$1 d=$e/n$1
	mkdir -p "$d"
	nk[$k]=$(printf '%064x' $((100 + k)))
	npub[$k]=$("$bin_oracle" pubkey "${nk[$k]}" | cut -d' ' -f1)
	shift
	{
		printf '[node]\nkey = %s\ndb = %s/db\nenroll_timeout = 5\n' "${nk[$k]}" "$d"
		[ "$k" = 1 ] && printf 'ek_ca_dir = %s/ca\n' "$e"
		printf '[link]\nbroker = mqtt://127.0.0.1:%s\n' "$ep"
		printf '[metrics]\nlisten = 127.0.0.1:%s\n' $((ep + k))
		printf '[gateway %s]\nenroll = true\n' "$gw"
		printf '%s\n' "$@"
		printf '[gateway %s]\nenroll = true\n' "$other"
	} > "$d/oracle.conf"
}
node_conf 1 "policy = $e/policy"
node_conf 2 "policy = $e/policy"
node_conf 3
declare -A npid
node_start() {
	"$bin_oracle" run --config "$e/n$1/oracle.conf" >> "$e/n$1/log" 2>&1 &
	npid[$1]=$!
	pids+=("${npid[$1]}")
}
node_stop() { kill "${npid[$1]}" 2> /dev/null; wait "${npid[$1]}" 2> /dev/null; }
gw_conf() {	# name tcti [extra [tpm] lines]
	local d=$e/$1
	mkdir -p "$d"
	: > "$d/records"
	{
		printf '[tpm]\ntcti = %s\nak_handle = %s\nenroll = on\n' "$2" "$H"
		[ -n "${3:-}" ] && printf '%s\n' "$3"
		printf '[source]\ntype = dev\ndevice = %s/records\n' "$d"
		printf '[spool]\npath = %s/spool.db\n' "$d"
		printf '[link]\nbroker = mqtt://127.0.0.1:%s\nbackoff_max_ms = 1000\n' "$ep"
		printf '[oracle]\n'
		for k in 1 2 3; do printf 'node = %s\n' "${npub[$k]}"; done
		printf '[metrics]\nlisten = off\n'
	} > "$d/attestiod.conf"
}
status_of() {	# k -> the gateway's entry in status --json, one line
	"$bin_oracle" status --json --config "$e/n$1/oracle.conf" 2> /dev/null |
		grep -o "{\"id\":\"$gw\"[^}]*"
}
wait_for() {	# seconds cmd...: poll until cmd succeeds (wall clock)
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done
	"$@"
}
oracle_metric() {	# k name -> value
	python3 - $((ep + $1)) "$2" <<-'EOP' 2> /dev/null
	import sys, urllib.request
	t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read().decode()
	for l in t.splitlines():
	    if l.startswith("attestio_oracle_" + sys.argv[2] + " "):
	        print(l.split()[1])
	EOP
}
node_start 1

# 1. an impostor: a copy of the gateway's bundle, but another TPM (T2)
gw_conf imp "$T2" "bundle = $e/bundle"
"$bin_attestiod" --foreground --config "$e/imp/attestiod.conf" > "$e/imp/log" 2>&1 &
imp=$!
pids+=("$imp")
mosquitto_sub -h 127.0.0.1 -p "$ep" -t "attestio/v1/gw/$gw/ack/#" -v > "$e/acks" 2>&1 &
pids+=($!)
wait_for 20 grep -q "does not activate the credential" "$e/imp/log" &&
	wait_for 20 grep -q "enrollment refused: no valid answer" "$e/n1/log" &&
	status_of 1 | grep -q '"admission":"pending"'
rc=$?
cat "$e/imp/log" "$e/n1/log" > "$e/imp.diag" 2>&1
ok $rc "enrollment: a gateway whose TPM is not the bundle's EK cannot answer; the node refuses it (no valid answer) and it stays pending" "$e/imp.diag"
head -c 64 /dev/urandom | mosquitto_pub -h 127.0.0.1 -p "$ep" -q 1 -t "attestio/v1/gw/$gw/records" -s
wait_for 10 test "$(oracle_metric 1 'records_rejected_total{reason="not_admitted"}')" -ge 1 2> /dev/null
rc=$?
sleep 1
[ $rc -eq 0 ] && [ ! -s "$e/acks" ]
ok $? "enrollment: records of a gateway not yet admitted are refused (not_admitted) and get no ack" "$e/n1/log"
kill "$imp"; wait "$imp" 2> /dev/null

# 2. the real gateway: admitted at tier 3 (activation + policy + EK chain)
mosquitto_sub -h 127.0.0.1 -p "$ep" -C 1 -N -t "attestio/v1/gw/$gw/answer/#" > "$e/answer" 2> /dev/null &
sub=$!
gw_conf real "$TE"
printf '[gateway]\nid = %s\n' "$gw" >> "$e/real/attestiod.conf"
"$bin_attestiod" --foreground --config "$e/real/attestiod.conf" > "$e/real/log" 2>&1 &
real=$!
pids+=("$real")
wait_for 30 eval 'status_of 1 | grep -q "\"admission\":\"admitted\",\"tier_proved\":3,\"ek_cert\":true"'
ok $? "enrollment: the swtpm gateway is admitted at tier 3 (activation, PCR policy, EK certificate chain to ek_ca_dir)" "$e/n1/log"
"$bin_oracle" status --json --config "$e/n1/oracle.conf" > "$e/st1.json" 2>&1
python3 -c 'import sqlite3, sys
for (d,) in sqlite3.connect(sys.argv[1]).execute("SELECT detail FROM audit WHERE event=? AND subject=?", ("admitted", sys.argv[2])):
    print(d)' "$e/n1/db" "$gw" 2> /dev/null | grep -q "credential activation + PCR policy + EK certificate chain: tier 3 proved"
ok $? "enrollment: the audit log has the admission with what was proved" "$e/st1.json"
wait "$sub" 2> /dev/null
[ -s "$e/answer" ] && mosquitto_pub -h 127.0.0.1 -p "$ep" -q 1 \
	-t "attestio/v1/gw/$gw/answer/$("$bin_oracle" pubkey "${nk[1]}" | cut -d' ' -f2)" -f "$e/answer"
wait_for 10 grep -q "enrollment answer refused: no challenge is pending" "$e/n1/log"
ok $? "enrollment: a replayed answer is refused with the reason" "$e/n1/log"

# 3. a bundle whose id does not match its EK
mosquitto_pub -h 127.0.0.1 -p "$ep" -q 1 -t "attestio/v1/gw/$other/bundle" -f "$e/bundle"
wait_for 10 grep -q "gateway $other: enrollment bundle refused: its EK gives gateway id $gw, not $other" "$e/n1/log" &&
	"$bin_oracle" status --json --config "$e/n1/oracle.conf" | grep -q "{\"id\":\"$other\"[^}]*\"admission\":\"pending\""
ok $? "enrollment: a bundle whose gateway id is not its EK's is refused with both ids" "$e/n1/log"

# 4. tiers from what was proved: no CA directory -> 2, no policy -> 1
node_start 2
node_start 3
wait_for 30 eval 'status_of 2 | grep -q "\"admission\":\"admitted\",\"tier_proved\":2,\"ek_cert\":false"' &&
	wait_for 30 eval 'status_of 3 | grep -q "\"admission\":\"admitted\",\"tier_proved\":1,"'
ok $? "enrollment: without ek_ca_dir tier 2 (activation + policy), without a policy tier 1" "$e/n2/log"
t=$(oracle_metric 1 'gateways{state="active",tier="1"}')
[ "$t" = 1 ]
ok $? "enrollment: metrics count the gateway at tier 1 until its kernel-exclusive key is proven (got $t)"

# 5. a restart keeps the admission and challenges no more
c0=$(grep -c "challenge sent" "$e/n1/log")
node_stop 1
node_start 1
sleep 3
[ "$(grep -c "challenge sent" "$e/n1/log")" = "$c0" ] && status_of 1 | grep -q '"admission":"admitted","tier_proved":3'
ok $? "enrollment: after a restart the node keeps the admission and sends no new challenge" "$e/n1/log"

# 6. the gateway id from the EK: a configured id that differs is an error
gw_conf wrong "$TE"
printf '[gateway]\nid = %s\n' "$other" >> "$e/wrong/attestiod.conf"
timeout 20 "$bin_attestiod" --foreground --config "$e/wrong/attestiod.conf" > "$e/wrong/log" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "gateway.id $other is not this TPM's: its EK gives gateway id $gw" "$e/wrong/log"
ok $? "attestiod: a configured gateway id that is not the EK's is an error naming both (rc $rc)" "$e/wrong/log"
kill "$real" 2> /dev/null; wait "$real" 2> /dev/null
for k in 1 2 3; do node_stop "$k"; done
