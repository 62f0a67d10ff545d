#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# attestio-oracle scenarios on the host, loopback only: real mosquitto with
# mutual TLS, four oracle nodes (n = 4, f = 1, t = 2), ten gateways whose
# genuine records (tests/oracle/gen_feed: real chains, software-signed
# quotes, capture times in real time; four of them quoted by a kernel
# session key, with measurement logs and evidence) are published as
# records batches;
# then the nodes' exported final reports settle a TemperatureOption on the
# in-process EVM (user/contracts/test/node-reports.js, needs the contracts'
# toolchain: tests/contracts/setup.sh).  TAP on stdout.  Ports 18840-18849
# (ORACLE_TEST_PORT moves them).  ORACLE_TEST_LEAD (default 16): seconds from
# the start to round 1, for machines so loaded that ingest takes longer.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
gen=$top/build/tests/oracle/gen_feed
base=$top/build/oracle-test
rm -rf "$base"
mkdir -p "$base"
n=0
fails=0
pids=()
port=${ORACLE_TEST_PORT:-18840}
mport=$((port + 1))
started=$(date +%s)
# the system python: a version manager's shim can take seconds to start
py=/usr/bin/python3
[ -x "$py" ] || py=python3

cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; echo "# t+$(( $(date +%s) - started )) s"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() {	# name condition-output: empty = pass
	if [ -z "$2" ]; then ok "$1"; else notok "$1" "$2"; fi
}

# ------------------------------------------------------------ certificates
pki=$base/pki
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$pki/ca.key" -subj "/CN=attestio oracle test ca" -days 2 \
	-out "$pki/ca.crt" 2> /dev/null
for c in broker client; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/$c.key" -subj "/CN=$c" -out "$pki/$c.csr" 2> /dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$pki/$c.ext"
	openssl x509 -req -in "$pki/$c.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 2 -extfile "$pki/$c.ext" -out "$pki/$c.crt" 2> /dev/null
done

cat > "$base/mosquitto.conf" <<EOC
listener $port 127.0.0.1
cafile $pki/ca.crt
certfile $pki/broker.crt
keyfile $pki/broker.key
require_certificate true
use_identity_as_username true
persistence false
max_queued_messages 100000
log_dest file $base/mosquitto.log
user root
EOC
mosquitto -c "$base/mosquitto.conf" > /dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	grep -q "Opening ipv4 listen socket on port $port" "$base/mosquitto.log" 2> /dev/null && break
	sleep 0.1
done
pub() {	# topic file
	mosquitto_pub -h localhost -p "$port" --cafile "$pki/ca.crt" \
		--cert "$pki/client.crt" --key "$pki/client.key" -q 1 -t "$1" -f "$2"
}

# ------------------------------------------------------------------ gateways
# Streams (raw values; 2315 = 23.15 degC):   s0    s1    s2    s3
#   g1 honest                               2315  2315  2315  2315
#   g2 honest                               2315  2316  2315  2315
#   g3 honest, lies on s2                   2315  2314  9000  -
#   g4 lies on s1 and s2                    2315  9000  9000  -
#   g5 tampers with epoch 2 (altered sample after chaining)
#   g6 forges epoch 2's quote (another key)
# Kernel-exclusive key use (gen_feed -k: certify-only AK, quotes by the
# kernel session key over PCRs 0 and 13, measurement log and evidence):
#   g7 evidence published (retained) before its records: proven, tier 2
#   g8 root registers a second key from epoch 3: its evidence shows it
#   g9 never publishes evidence: its checkpoints are held, then it times out
#   g10 publishes its evidence only after its records: held, then released
epochs=8
declare -A gw
vals=([1]="2315,2315,2315,2315" [2]="2315,2316,2315,2315" [3]="2315,2314,9000,2315"
      [4]="2315,9000,9000,2315" [5]="2315" [6]="2315" [7]="2315" [8]="2315" [9]="2315" [10]="2315")
opts=([5]="-t 2" [6]="-f 2")
gws="1 2 3 4 5 6 7 8 9 10"
ngw=10
# g7-g10 are in no feed: made first, so that they take nothing from the
# time before round 1
for i in 7 8 9 10 T0 1 2 3 4 5 6; do
	if [ "$i" = T0 ]; then
		T0=$(( $(date +%s) + ${ORACLE_TEST_LEAD:-16} ))	# round 1 starts; period 2 s: rounds 1-4 hold data
		continue
	fi
	gw[$i]=$(openssl rand -hex 16)
	now_s=${T0:-$(date +%s)}
	[ "$i" = 7 ] && Tk=$now_s	# g7's data starts here (feed kk)
	[ "$i" -ge 7 ] && opts[i]="-k ${gw[$i]}"
	[ "$i" = 8 ] && opts[i]="${opts[$i]} -2 3"
	mkdir -p "$base/g$i"
	# shellcheck disable=SC2086
	"$gen" ${opts[$i]:-} "$base/g$i" "$base/g$i/ak.pem" "$([ "$i" -ge 7 ] && echo 1 || echo 4)" "$epochs" \
		"$(( now_s * 1000 ))" 1000 10 "${vals[$i]}" || { echo "Bail out! gen_feed"; exit 1; }
done

# ------------------------------------------------------------------- nodes
declare -A nkey npub nid
for k in 1 2 3 4; do
	nkey[$k]=$(openssl rand -hex 32)
	read -r "npub[$k]" "nid[$k]" <<< "$("$bin/attestio-oracle" pubkey "${nkey[$k]}")"
done
node_conf() {	# k
	local d=$base/n$1 k common
	mkdir -p "$d"
	{
		printf '[node]\nkey = %s\ndb = %s/node.db\nevidence_timeout = 60\nallow_simulated = true\n' "${nkey[$1]}" "$d"
		# gen_feed's epochs are published at once, dated up to the lead
		# + 8 s ahead of their publication: allow that much (and no more)
		printf 'max_clock_skew = %s\n' "$(( ${ORACLE_TEST_LEAD:-16} + 10 ))"
		printf '[link]\nbroker = mqtts://localhost:%s\nca = %s\ncert = %s\nkey = %s\nkeepalive = 5\n' \
			"$port" "$pki/ca.crt" "$pki/client.crt" "$pki/client.key"
		[ "$1" = 1 ] && printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$mport"
		printf '[quorum]\n'
		for k in 1 2 3 4; do printf 'node = %s\n' "${npub[$k]}"; done
		printf '[gateways]\n'
		for i in $gws; do printf '%s = %s\n' "${gw[$i]}" "$base/g$i/ak.pem"; done
		printf '[gateway %s]\ntier = 2\n' "${gw[7]}"
		# a hostile label (the status page must show it as text); no
		# site cap, so it changes no outcome; the same on every node
		printf '[gateway %s]\nsite = %s\n' "${gw[4]}" "$hostile"
		common="period = 2
start = $T0
grace = 1
heartbeat = 3
decimals = 2
tau = 0.05
delta = 100"
		printf '[feed honest]\nstreams = %s:0 %s:0 %s:0 %s:0 %s:0\n%s\nmin_devices = 3\n' \
			"${gw[1]}" "${gw[2]}" "${gw[3]}" "${gw[4]}" "${gw[5]}" "$common"
		printf '[feed liar1]\nstreams = %s:1 %s:1 %s:1 %s:1\n%s\nmin_devices = 3\n' \
			"${gw[1]}" "${gw[2]}" "${gw[3]}" "${gw[4]}" "$common"
		printf '[feed liar2]\nstreams = %s:2 %s:2 %s:2 %s:2\n%s\nmin_devices = 3\n' \
			"${gw[1]}" "${gw[2]}" "${gw[3]}" "${gw[4]}" "$common"
		# (g1's and g2's s3 are feed fake's too: a stream read by several
		# feeds has the same identity and channel_type in each)
		printf '[feed few]\nstreams = %s:3 %s:3 %s:0\n%s\nmin_devices = 3\nmin_gateways = 2\nchannel_type = temp\n' \
			"${gw[1]}" "${gw[2]}" "${gw[6]}" "$common"
		printf 'identity = %s:3 %064d\n' "${gw[1]}" 0 "${gw[2]}" 0
		printf '[feed late]\nstreams = %s:0\n%s\n' "${gw[1]}" "${common/start = $T0/start = $((T0 + 30))}"
		# g3's s3 is root's own device under the feed's stream id: its
		# descriptor identity is not the one pinned (gen_feed's are zero)
		printf '[feed fake]\nstreams = %s:3 %s:3 %s:3\n%s\nmin_devices = 3\nchannel_type = temp\n' \
			"${gw[1]}" "${gw[2]}" "${gw[3]}" "$common"
		printf 'identity = %s:3 %064d\n' "${gw[1]}" 0 "${gw[2]}" 0
		printf 'identity = %s:3 %s\n' "${gw[3]}" "5e$(printf '%062d' 0)"
		# g7 alone (kernel_key, tier 2 once proven), its data from Tk: its
		# rounds run on the honest feed's schedule (grace), for verify-report
		printf '[feed kk]\nstreams = %s:0\n%s\nmin_devices = 1\nmin_gateways = 1\n' "${gw[7]}" \
			"$(printf '%s\n' "$common" | sed "s/^start = .*/start = $Tk/; s/^grace = .*/grace = $((T0 - Tk + 3))/")"
	} > "$d/oracle.conf"
}
hostile='<script>pwned=1</script><img src=x onerror=pwned=2>'
declare -A node
node_start() {	# k
	"$bin/attestio-oracle" run --config "$base/n$1/oracle.conf" 2>> "$base/n$1/oracle.log" &
	node[$1]=$!
	pids+=("${node[$1]}")
}
node_stop() {
	kill "${node[$1]}" 2> /dev/null
	wait "${node[$1]}" 2> /dev/null
}
status() {	# k -> JSON
	"$bin/attestio-oracle" status --json --config "$base/n$1/oracle.conf"
}
metric() {	# prometheus line prefix -> value (node 1)
	"$py" - "$mport" "$1" <<-'EOP' 2> /dev/null
	import sys, urllib.request
	t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read().decode()
	for l in t.splitlines():
	    if l.startswith("attestio_oracle_" + sys.argv[2] + " "):
	        print(l.split()[1])
	EOP
}
for k in 1 2 3 4; do node_conf "$k"; node_start "$k"; done
for _ in $(seq 50); do
	c=0
	for k in 1 2 3 4; do grep -q "broker: Connection Accepted" "$base/n$k/oracle.log" 2> /dev/null && c=$((c + 1)); done
	[ $c = 4 ] && break
	sleep 0.1
done

echo "TAP version 13"


# ------------------------------------------------------ records and acks
mosquitto_sub -h localhost -p "$port" --cafile "$pki/ca.crt" --cert "$pki/client.crt" \
	--key "$pki/client.key" -q 1 -t "attestio/v1/gw/${gw[1]}/ack/+" -v -W 20 \
	> "$base/acks.txt" 2> /dev/null &
subpid=$!
pids+=("$subpid")
sleep 0.3
pubr() {	# topic file: retained, as attestiod publishes evidence
	mosquitto_pub -h localhost -p "$port" --cafile "$pki/ca.crt" \
		--cert "$pki/client.crt" --key "$pki/client.key" -q 1 -r -t "$1" -f "$2"
}
publish_epochs() {	# from to: one batch per gateway
	local e i
	for i in $gws; do
		for e in $(seq "$1" "$2"); do cat "$(printf '%s/g%d/e%03d.bin' "$base" "$i" "$e")"; done > "$base/g$i/batch"
		pub "attestio/v1/gw/${gw[$i]}/records" "$base/g$i/batch"
	done
}
stored() {	# k -> records stored on node k
	"$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from rec").fetchone()[0])' "$base/n$1/node.db" 2> /dev/null
}
wait_stored() {	# k count
	for _ in $(seq 100); do [ "$(stored "$1")" = "$2" ] && return 0; sleep 0.2; done
	return 1
}
pubr "attestio/v1/gw/${gw[7]}/evidence" "$base/g7/evidence.cbor"
pubr "attestio/v1/gw/${gw[8]}/evidence" "$base/g8/evidence.cbor"
publish_epochs 1 4
for _ in $(seq 60); do
	h=$(metric checkpoints_held_total)
	[ "${h:-0}" -ge 2 ] && break
	sleep 0.5
done
# g9 and g10 have published no evidence: every record of theirs is stored
# and pending (their first checkpoint is held, nothing after it is fed),
# none acked, the gateways still active.
gwjson() {	# node gateway -> that gateway's status object (JSON)
	status "$1" | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps([x for x in d["gateways"] if x["id"]==sys.argv[1]][0]))' "$2"
}
acked() {	# node gateway -> highest acked seq of its chains (-1: none)
	"$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select coalesce(max(acked),-1) from chain where gw=?", (sys.argv[2],)).fetchone()[0])' "$base/n$1/node.db" "$2"
}
why=""
for i in 9 10; do
	why="$why$(gwjson 1 "${gw[$i]}" | "$py" -c 'import json,sys; g=json.load(sys.stdin)
if g["state"] != "active" or g["pending"] != g["records"] or g["records"] < 12 or g["verified"] != 0 or g["kernel_key"] != "unproven" or g["tier_effective"] != 1:
    print("held gateway: %s;" % g)')"
	[ "$(acked 1 "${gw[$i]}")" = -1 ] || why="$why g$i acked up to $(acked 1 "${gw[$i]}") while held;"
done
[ "${h:-0}" -ge 2 ] || why="$why checkpoints_held_total ${h:-?};"
check "evidence missing: checkpoints held, nothing acked or rejected, gateway active (tier 1 while unproven)" "$why"
wait_stored 4 $(((6 * 4 + ngw - 6) * (1 + 4 * 11))) || echo "# node 4 stored only $(stored 4) records"
node_stop 4		# restarted below, mid-chain
publish_epochs 5 "$epochs"
node_start 4
# g10's evidence comes now: node 4 was restarted while g10's checkpoints
# were held (it must hold them again, then release them like the others)
pubr "attestio/v1/gw/${gw[10]}/evidence" "$base/g10/evidence.cbor"
# a replay: g1's first epoch again, byte for byte
pub "attestio/v1/gw/${gw[1]}/records" "$base/g1/e001.bin"
for k in 1 2 3 4; do
	wait_stored "$k" $(((6 * 4 + ngw - 6) * (1 + 8 * 11))) || echo "# node $k stored only $(stored "$k") records"
done
echo "# records in at t+$(( $(date +%s) - started )) s; round 1 runs at t+$((T0 + 3 - started)) s"

# ------------------------------------------------- the status page (browser)
# tests/browser/status-page.mjs drives Debian's chromium with playwright-core
# (npm ci from tests/browser/package-lock.json; cache in build/npm-cache)
# at node 1's page from when the records are in until rounds 1-4 are final
# (started after publishing: chromium's start must not delay the records).
browser_pid=''
if ! command -v chromium > /dev/null; then
	echo "chromium is missing (make deps)" > "$base/browser.log"
elif ! (cd tests/browser && npm ci --no-audit --no-fund --prefer-offline \
	--cache "$top/build/npm-cache") > "$base/npm.log" 2>&1; then
	{ echo "npm ci failed:"; tail -5 "$base/npm.log"; } > "$base/browser.log"
else
	mkdir -p "$base/downloads"
	STATUS_DOWNLOAD_DIR=$base/downloads node tests/browser/status-page.mjs "http://127.0.0.1:$mport/" \
		"$top/build/status-page.png" "$hostile" "${gw[5]}" "${gw[6]}" \
		> "$base/browser.log" 2>&1 &
	browser_pid=$!
	pids+=("$browser_pid")
fi

why=""
for k in 1 2 3; do
	grep -q "/ack/${nid[$k]}" "$base/acks.txt" || why="$why no ack from node $k;"
done
check "acks: every node acks g1's chains on attestio/v1/gw/<gw>/ack/<node>" "$why"

# ------------------------------------------------------------ the rounds
# Round 4 (the last with data) runs at T0 + 8 + grace.
while [ "$(date +%s)" -lt $((T0 + 10)) ]; do sleep 0.5; done
for _ in $(seq 20); do
	all=1
	for k in 1 2 3 4; do
		status "$k" > "$base/status$k.json" 2> /dev/null || all=0
		"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); f={x["name"]:x for x in d["feeds"]}; sys.exit(0 if all(len(f[n]["final"])>=4 for n in f if n != "late") else 1)' \
			"$base/status$k.json" 2> /dev/null || all=0
	done
	[ $all = 1 ] && break
	sleep 0.5
done
expect() {	# feed status value -> "" or why, for rounds 1-4 on nodes 1-4
	"$py" - "$base" "$1" "$2" "$3" <<-'EOP'
	import json, sys
	base, feed, st, val = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
	for k in range(1, 5):
	    d = json.load(open("%s/status%d.json" % (base, k)))
	    f = [x for x in d["feeds"] if x["name"] == feed][0]
	    for rnd in range(1, 5):
	        r = [x for x in f["final"] if x["round"] == rnd]
	        if not r:
	            print("node %d %s round %d: no final report;" % (k, feed, rnd))
	        elif r[0]["status"] != st or (val != "*" and r[0]["value"] != int(val)) or r[0]["signers"] < 2:
	            print("node %d %s round %d: %s, expected status %d value %s;" % (k, feed, rnd, r[0], st, val))
	EOP
}
for spec in "honest 0 2315:honest feed settles 23.15 on every node (final, t = 2 of 4 signed)" \
	    "liar1 0 2315:f = 1 liar of 3f+1 = 4 devices is outvoted" \
	    "liar2 4 *:f+1 = 2 liars of 4 halt the round (disagree)" \
	    "few 1 0:too few sources (1 device of 3 needed) halt the round (few-devices)" \
	    "fake 6 *:a device under a pinned stream id whose descriptor identity differs stores no reading: the round halts (stale), never counts it"; do
	read -r feed st val <<< "${spec%%:*}"
	check "${spec#*:}" "$(expect "$feed" "$st" "$val")"
done

# node 4 stopped after epoch 4 and restarted: every record of the honest
# gateways verified, none unverifiable (it resumed the chains mid-way)
why=$("$py" - "$base/n4/node.db" "${gw[1]}" "${gw[2]}" <<-'EOP'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for g in sys.argv[2:]:
    n, v = db.execute("select count(*), sum(state=0) from rec where gw=?", (g,)).fetchone()
    if n != v or n != 4 * (1 + 8 * 11):
        print("gateway %s: %s records, %s verified (expected %d)" % (g, n, v, 4 * 89))
    # readings too: the samples after the restart decode with the
    # descriptor saved at the last verified checkpoint
    r, = db.execute("select count(*) from reading where gw=?", (g,)).fetchone()
    if r != 4 * 8 * 10:
        print("gateway %s: %s readings stored (expected %d);" % (g, r, 4 * 8 * 10))
EOP
)
grep -q "resumed" "$base/n4/oracle.log" || why="$why no resume logged;"
check "restart mid-chain: node 4 resumes its chains, every record verified, every reading stored" "$why"

why=$("$py" - "$base/status1.json" "${gw[5]}" "${gw[6]}" "${gw[1]}" <<-'EOP'
import json, sys
d = json.load(open(sys.argv[1])); g = {x["id"]: x for x in d["gateways"]}
t, f, h = g[sys.argv[2]], g[sys.argv[3]], g[sys.argv[4]]
if t["state"] != "quarantined" or "differs from the chain" not in t["reason"]:
    print("tampered: %s" % t)
if f["state"] != "quarantined" or "ESIG" not in f["reason"] and "signature" not in f["reason"]:
    print("forged: %s" % f)
if h["state"] != "active":
    print("honest g1: %s" % h)
EOP
)
check "tampered and forged records rejected, their gateways quarantined with the reason" "$why"

dups=$(metric 'records_rejected_total{reason="duplicate"}')
gw1=$("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print([x for x in d["gateways"] if x["id"]==sys.argv[2]][0]["state"])' "$base/status1.json" "${gw[1]}")
if [ "${dups:-0}" -ge 48 ] && [ "$gw1" = active ]; then
	ok "replayed batch: $dups duplicate records dropped, gateway still active"
else
	notok "replayed batch" "duplicates ${dups:-?} gateway $gw1"
fi

pins=$(metric 'readings_rejected_total{reason="identity"}')
audit=$("$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from audit where event=? and subject=? and detail like ?", ("pin-mismatch", sys.argv[2], "stream 3 %is not 5e00%pinned by feed fake%")).fetchone()[0])' "$base/n1/node.db" "${gw[3]}")
if [ "${pins:-0}" -ge 80 ] && [ "$audit" = 1 ]; then
	ok "identity pin: $pins readings of the unpinned device refused, audited once per chain"
else
	notok "identity pin" "readings refused ${pins:-?}, audit events $audit"
fi

m=$(metric 'rounds_total{status="disagree"}')
v=$(metric records_verified_total)
if [ "${m:-0}" -ge 4 ] && [ "${v:-0}" -gt 0 ]; then
	ok "metrics: rounds by status, records verified ($v)"
else
	notok "metrics" "disagree rounds ${m:-?}, verified ${v:-?}"
fi

# ------------------------------------------------------------------ t-of-n
# Feed "late" has its first round at T0 + 30..32, when only node 1 runs:
# one signature is not final, nor the same report again or relabelled as
# node 2's; node 2 comes back, catches the round up, signs: final.
for k in 2 3 4; do node_stop "$k"; done
[ "$(date +%s)" -ge $((T0 + 33)) ] && echo "# too slow: nodes 2-4 stopped after late round 1 ran"
while [ "$(date +%s)" -lt $((T0 + 35)) ]; do sleep 0.5; done
finals() {	# file feed round -> count
	"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len([r for x in d["feeds"] if x["name"]==sys.argv[2] for r in x["final"] if r["round"]==int(sys.argv[3])]))' "$@"
}
status 1 > "$base/s5.json"
final5=$(finals "$base/s5.json" late 1)
"$py" - "$base/n1/node.db" "${nid[1]}" "$base/r5.cbor" <<-'EOP'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
r = db.execute("select data from report where feed='late' and round=1 and node=?", (sys.argv[2],)).fetchone()
open(sys.argv[3], "wb").write(r[0] if r else b"")
EOP
rej0=$(metric reports_rejected_total)
pub "attestio/v1/report/late/${nid[2]}" "$base/r5.cbor"
pub "attestio/v1/report/late/${nid[1]}" "$base/r5.cbor"
sleep 1
rej1=$(metric reports_rejected_total)
status 1 > "$base/s5b.json"
final5b=$(finals "$base/s5b.json" late 1)
node_start 2
for _ in $(seq 50); do
	status 1 > "$base/s5c.json"
	final5c=$(finals "$base/s5c.json" late 1)
	[ "$final5c" = 1 ] && break
	sleep 0.3
done
if [ -s "$base/r5.cbor" ] && [ "$final5" = 0 ] && [ "$final5b" = 0 ] &&
   [ $((rej1 - rej0)) = 1 ] && [ "$final5c" = 1 ]; then
	ok "t-of-n: one node's report is not final, nor when replayed or relabelled; final once node 2 signs"
else
	notok "t-of-n" "report saved: $(stat -c %s "$base/r5.cbor") bytes; final after node 1 alone: $final5," \
		"after replays: $final5b (rejected +$((rej1 - rej0))), after node 2: $final5c"
fi
# ------------------------------------------- kernel-exclusive key use
# (after t-of-n, whose window is timed; node 1 still runs)
proven() {	# gateway tier -> "" or why: active, proven, all verified, tier
	gwjson 1 "$1" | "$py" -c 'import json,sys; g=json.load(sys.stdin)
if g["state"] != "active" or g["kernel_key"] != "proven" or g["verified"] != 89 or g["pending"] != 0 or g["tier_effective"] != int(sys.argv[1]):
    print("%s;" % g)' "$2"
	[ "$(acked 1 "$1")" = 88 ] || echo "acked up to $(acked 1 "$1");"
}
check "evidence present: kernel-exclusive key use proven, every record verified and acked, tier 2 counts" "$(proven "${gw[7]}" 2)"
# node 4 was restarted while g10's checkpoints were held: held again, then
# released by the evidence like on the others
why=$(proven "${gw[10]}" 1)
why="$why$(gwjson 4 "${gw[10]}" | "$py" -c 'import json,sys; g=json.load(sys.stdin)
if g["verified"] != 89: print("node 4 (restarted while held): %s" % g)')"
check "evidence after the records: held checkpoints released, verified, acked (node 4 too, restarted while they were held)" "$why"
why=$(gwjson 1 "${gw[8]}" | "$py" -c 'import json,sys; g=json.load(sys.stdin)
if g["state"] != "quarantined" or "measurement log event 3 (load 1122334455667788) is a second key registration" not in g["reason"] or g["tier_effective"] != 0:
    print(g)')
check "second key registered in PCR 13: gateway quarantined with the exact event" "$why"
# g9 (no evidence, held since its first batch) is quarantined once
# evidence_timeout (30 s) passed, its records still held, none acked; its
# evidence arriving late still verifies them, the quarantine stays.
for _ in $(seq 40); do
	gwjson 1 "${gw[9]}" | grep -q quarantined && break
	sleep 0.5
done
why=$(gwjson 1 "${gw[9]}" | "$py" -c 'import json,sys; g=json.load(sys.stdin)
if g["state"] != "quarantined" or "stream 0 seq 11 (checkpoint): no evidence: no measurement log of load 1122334455667788 arrived within 60 s" not in g["reason"] or g["pending"] != 89 or g["tier_effective"] != 0:
    print("g9: %s" % g)')
[ "$(acked 1 "${gw[9]}")" = -1 ] || why="$why g9 acked up to $(acked 1 "${gw[9]}") while held;"
t=$(metric checkpoints_held_timeout_total)
[ "${t:-0}" = 1 ] || why="$why checkpoints_held_timeout_total ${t:-?};"
check "evidence never comes: quarantined after evidence_timeout with the reason, records still held, none acked" "$why"
pubr "attestio/v1/gw/${gw[9]}/evidence" "$base/g9/evidence.cbor"
for _ in $(seq 40); do
	[ "$(acked 1 "${gw[9]}")" = 88 ] && break
	sleep 0.25
done
why=$(gwjson 1 "${gw[9]}" | "$py" -c 'import json,sys; g=json.load(sys.stdin)
if g["state"] != "quarantined" or g["verified"] != 89 or g["kernel_key"] != "proven":
    print("g9: %s" % g)')
[ "$(acked 1 "${gw[9]}")" = 88 ] || why="$why g9 acked up to $(acked 1 "${gw[9]}");"
check "late evidence: the held records are verified and acked, the quarantine stays for an operator" "$why"
# the browser (started above) is done with node 1 by now; collected here
# so that it does not delay the t-of-n timing
[ -n "$browser_pid" ] && wait "$browser_pid"
if grep -q '^ok - ' "$base/browser.log" && ! grep -q '^not ok' "$base/browser.log"; then
	ok "status page in chromium: $(grep -c '^ok - ' "$base/browser.log") checks (build/status-page.png)"
else
	mapfile -t lines < "$base/browser.log"
	notok "status page in chromium" "${lines[@]}"
fi
grep '^ok - ' "$base/browser.log" | sed 's/^ok - /#   /'

node_stop 2
node_stop 1

# -------------------------------------------------------------- settlement
# The nodes' own final reports, exported with `attestio-oracle final`,
# settle a TemperatureOption on the in-process EVM (user/contracts/test/
# node-reports.js) with the payout `attestio settle` computes, to the wei.
# honest: rounds 1-8, those with data settle 23.15, the others (no data)
# halted, never values; liar2: rounds 1-4 all halted (disagree), the
# window extends, nothing comes, both deposits are refunded.
# shellcheck source=tests/contracts/settle-lib.sh
. "$top/tests/contracts/settle-lib.sh"
settle_setup
settle_feed() {	# node feed expect rounds terms... -> "" or why
	local k=$1 feed=$2
	shift 2
	settle_node_reports "$base/n$k/oracle.conf" "$base/settle-$feed" "$feed" "$@"
}
terms=("first_round = 1" "last_round = 8" "extension_rounds = 2" "min_rounds = 3"
       "strike = 2300" "notional = 1000000000000000"
       "buyer_deposit = 100000000000000000" "seller_deposit = 1000000000000000000")
why=$(settle_feed 1 honest settled "1 2 3 4 5 6 7 8" "${terms[@]}")
out=$(cat "$base/settle-honest/node-reports.log" 2> /dev/null)
# what the contract must do, from node 1's own view of rounds 1-8 (status
# --json): status-0 rounds averaged (truncated), halted rounds only counted
status 1 > "$base/s6.json"
want=$(settle_expect "$base/s6.json" honest 1 8 3 2300 1000000000000000 100000000000000000 1000000000000000000)
[[ "$want" == *" 0 halted "* ]] && want="no halted round among 1-8: $want"
if [ -z "$why" ] && [[ "$want" == settled* ]] && [[ "$out" == *"contract: $want;"* ]]; then
	ok "nodes' final reports accepted by AttestioFeedVerifier; TemperatureOption pays what attestio settle computes, to the wei; halted rounds not values"
	echo "# ${out#node-reports: ok }"
else
	notok "nodes' final reports settle the option" "${why:-$out}" "expected from node 1's status: $want"
fi
why=$(settle_feed 3 liar2 refund "1 2 3 4" "${terms[@]/last_round = 8/last_round = 4}")
check "halted rounds are never values: every liar2 round halted, the option is refunded on chain and off" \
	"${why:-$(settle_refunded "$base/settle-liar2" 4)}"
# the same report with one signature byte changed: the verifier refuses it
d=$base/settle-honest
cp "$d/honest-00000002.cbor" "$d/bad.cbor"
"$py" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[240] ^= 1; open(sys.argv[1], "wb").write(b)' "$d/bad.cbor"
out=$(settle_files "$d" "$d/honest-00000001.cbor" "$d/bad.cbor")
o1=$("$bin/attestio-oracle" final --config "$base/n2/oracle.conf" --feed honest --round 3 -o "$d/r3.cbor" 2>&1) &&
	cmp -s -n 228 "$d/r3.cbor" "$d/honest-00000003.cbor" || o1="round 3 from node 2: another core than node 1's: $o1"
o2=$("$bin/attestio-oracle" final --config "$base/n2/oracle.conf" --feed honest --round 100000 -o "$d/x.cbor" 2>&1); rc=$?
if [[ "$out" == *"bad.cbor (round 2) rejected by the contract"* ]] && [ -z "$o1" ] &&
   [ $rc = 4 ] && [[ "$o2" == *"round 100000 has no final report"* ]]; then
	ok "a tampered final report is rejected on chain; node 2 exports the same round 3 core as node 1; no such round: exit 4"
else
	notok "final export checks" "tampered: $out" "${o1:-}" "rc $rc: $o2"
fi

# ---------------------------------------------------------- verify-report
# Node 1's settled and halted rounds re-verified offline from what
# `attestio-oracle final --bundle` exports, against the whitelist; a byte
# flipped in the report, a record, a reading or the config, and a
# whitelist without one of the signers, are each refused with the reason.
d=$base/vr
mkdir -p "$d"
for k in 1 2 3 4; do printf 'node = %s\n' "${npub[$k]}"; done > "$d/nodes"
# the gateways' AKs as the nodes are configured with them (pins)
for i in $gws; do printf '%s = %s\n' "${gw[$i]}" "$base/g$i/ak.pem"; done > "$d/gateways"
vr() {	# report bundle [whitelist [flag [gateways]]] -> "rc: output"
	local out rc flag=(--allow-simulated)
	# g1-g6 have gen_feed's simulated (software) AKs; "" as $4: refused
	[ $# -ge 4 ] && [ -z "$4" ] && flag=()
	out=$("$bin/attestio" verify-report "$1" "$2" --nodes "${3:-$d/nodes}" \
		--gateways "${5:-$d/gateways}" "${flag[@]}" 2>&1); rc=$?
	echo "$rc: $out"
}
read -r rs rh rk <<< "$("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); f={x["name"]:x for x in d["feeds"]}
s=[r["round"] for r in f["honest"]["final"] if r["status"]==0]; h=[r["round"] for r in f["liar2"]["final"] if r["status"]!=0]
k=[r["round"] for r in f["kk"]["final"] if r["status"]==0]
print(s[0] if s else 0, h[0] if h else 0, k[0] if k else 0)' "$base/s6.json")"
why=""
for spec in "honest $rs settled" "liar2 $rh halted" "kk $rk kernel-key"; do
	read -r feed r kind <<< "$spec"
	"$bin/attestio-oracle" final --config "$base/n1/oracle.conf" --feed "$feed" --round "$r" \
		-o "$d/$kind.cbor" --bundle "$d/$kind.bundle" 2> "$d/$kind.err" || why="$why export $feed $r: $(cat "$d/$kind.err");"
	out=$(vr "$d/$kind.cbor" "$d/$kind.bundle")
	echo "# $kind: $out"
	[[ "$out" == "0: verified: feed $feed round $r "* ]] || why="$why $kind round $r: $out;"
done
# g7's round: its records verify only under the kernel-exclusive rule with
# the boot evidence in the bundle, which its tier 2 needs
[[ "$out" == *"1 devices (1 under the kernel-exclusive rule)"* ]] || why="$why kk: not under the kernel-exclusive rule;"
# g7 has a (gen_feed) TPM2B_PUBLIC AK, not a simulated one: no such line
[[ "$out" != *"SIMULATED:"* ]] || why="$why kk: labelled simulated;"
# the honest feed's gateways have simulated AKs, admitted with
# --allow-simulated: the verified round says so
out=$(vr "$d/settled.cbor" "$d/settled.bundle")
[[ "$out" == *$'\nSIMULATED: '*" devices have records under a simulated gateway's software AK"* ]] ||
	why="$why settled: simulated AKs not labelled: $out;"
check "verify-report: node 1's settled (honest $rs), halted (liar2 $rh) and kernel-key (kk $rk: g7, tier 2, boot evidence) rounds re-verify offline from the exported report and bundle" "$why"
# what the status page's links downloaded (the browser test clicked them)
why=""
dl=("$base"/downloads/honest-*.bundle)
if [ -f "${dl[0]}" ]; then
	dr=${dl[0]##*/honest-}
	dr=${dr%.bundle}
	out=$(vr "$base/downloads/honest-$dr.cbor" "${dl[0]}")
	[[ "$out" == "0: verified: feed honest round $dr "* ]] || why="round $dr: $out"
else
	why="the browser test saved no bundle (see its checks above)"
fi
check "verify-report accepts the report and evidence bundle downloaded from the status page's links (honest round ${dr:-?})" "$why"
why=""
"$py" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[4 + 95] ^= 1; open(sys.argv[2], "wb").write(b)' \
	"$d/settled.cbor" "$d/t-report.cbor"
out=$(vr "$d/t-report.cbor" "$d/settled.bundle")
[[ "$out" == "1: NOT VERIFIED: signatures: "* ]] || why="$why report byte: $out;"
for part in record reading config; do
	"$py" "$top/tests/oracle/tamper_bundle.py" "$d/settled.bundle" "$d/t-$part.bundle" "$part" || why="$why tamper $part failed;"
	out=$(vr "$d/settled.cbor" "$d/t-$part.bundle")
	echo "# $part: $out"
	case $part in
	record) [[ "$out" == "1: NOT VERIFIED: evidence: item "*" does not hash to its leaf" ]] || why="$why $part: $out;" ;;
	reading) [[ "$out" == "1: NOT VERIFIED: bundle report: evidence root does not match the report body" ]] || why="$why $part: $out;" ;;
	config) [[ "$out" == "1: NOT VERIFIED: signatures: config digest"* ]] || why="$why $part: $out;" ;;
	esac
done
# without --allow-simulated, the simulated gateways' AKs are refused
out=$(vr "$d/settled.cbor" "$d/settled.bundle" "$d/nodes" "")
[[ "$out" == "1: NOT VERIFIED: device "*": its AK is a simulated gateway's software key"* ]] || why="$why simulated AK admitted: $out;"
# every gateway's AK pinned to another gateway's key, or not pinned: the
# bundle's own AKs are not taken
for i in $gws; do printf '%s = %s\n' "${gw[$i]}" "$base/g$((i % 10 + 1))/ak.pem"; done > "$d/gateways-swapped"
out=$(vr "$d/settled.cbor" "$d/settled.bundle" "$d/nodes" "--allow-simulated" "$d/gateways-swapped")
[[ "$out" == "1: NOT VERIFIED: device "*": the bundle's AK is not gateway "*"'s pinned AK" ]] || why="$why AK not pinned: $out;"
# a PCR policy pinned for every gateway (the nodes have none): the
# bundle's empty one, which admits any PCR state, is not it
printf '81 %s\n' "$(printf 'cd%.0s' $(seq 32))" > "$d/policy"
sed "s|\$| $d/policy|" "$d/gateways" > "$d/gateways-policy"
out=$(vr "$d/settled.cbor" "$d/settled.bundle" "$d/nodes" "--allow-simulated" "$d/gateways-policy")
[[ "$out" == "1: NOT VERIFIED: device "*": the bundle's PCR policy is not gateway "*"'s pinned one" ]] || why="$why policy not pinned: $out;"
: > "$d/gateways-none"
out=$(vr "$d/settled.cbor" "$d/settled.bundle" "$d/nodes" "--allow-simulated" "$d/gateways-none")
[[ "$out" == "1: NOT VERIFIED: device "*": gateway "*" has no pinned AK"* ]] || why="$why no pins: $out;"
nsig=$("$py" -c 'import sys; b = open(sys.argv[1], "rb").read(); print(b[4 + 224 + 1] - 0x80)' "$d/settled.cbor")
# whitelists of 3: without a signer, the signatures are refused; without
# node 1 (whose bundle this is), the bundle's report is
signers=$("$bin/attestio" verify-report "$d/settled.cbor" "$d/settled.bundle" --nodes "$d/nodes" \
	--gateways "$d/gateways" --allow-simulated --json |
	"$py" -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin)["signer_nodes"])))')
refused=0
for k in 1 2 3 4; do
	grep -v "${npub[$k]}" "$d/nodes" > "$d/nodes-$k"
	out=$(vr "$d/settled.cbor" "$d/settled.bundle" "$d/nodes-$k")
	if [[ " $signers " == *" $k "* ]]; then
		want="1: NOT VERIFIED: signatures: a signer is not in the oracle set"
		refused=$((refused + 1))
	elif [ "$k" = 1 ]; then
		want="1: NOT VERIFIED: bundle report: its node is not on the whitelist"
	else
		want="0: verified"
	fi
	[[ "$out" == "$want"* ]] || why="$why whitelist without node $k (signers: $signers): $out;"
done
[ "$refused" -ge 2 ] && [ "$refused" = "$nsig" ] || why="$why $refused whitelists refused for a missing signer, the report has $nsig;"
check "verify-report refuses a flipped byte in the report, a record, a reading and the config, a whitelist missing a signer, simulated AKs unless allowed, and a bundle AK or PCR policy that is not the gateway's pinned one" "$why"

# ------------------------------------------------------------------ admin
c=$base/n3/oracle.conf
"$bin/attestio-oracle" admin --config "$c" quarantine "${gw[2]}" --reason "site flooded" > /dev/null 2>&1 &&
	s1=$(status 3 | "$py" -c 'import json,sys; d=json.load(sys.stdin); print([x["state"]+"|"+x["reason"] for x in d["gateways"] if x["id"]==sys.argv[1]][0])' "${gw[2]}")
"$bin/attestio-oracle" admin --config "$c" release "${gw[2]}" > /dev/null 2>&1
s2=$(status 3 | "$py" -c 'import json,sys; d=json.load(sys.stdin); print([x["state"] for x in d["gateways"] if x["id"]==sys.argv[1]][0])' "${gw[2]}")
audit=$("$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from audit where subject=?", (sys.argv[2],)).fetchone()[0])' "$base/n3/node.db" "${gw[2]}")
tamper=$("$py" -c 'import sqlite3,sys
try:
    sqlite3.connect(sys.argv[1]).execute("delete from audit"); print("deleted")
except Exception as e: print(e)' "$base/n3/node.db")
"$bin/attestio-oracle" admin --config "$c" quarantine 00000000000000000000000000000000 > /dev/null 2>&1
rc=$?
if [ "${s1:-}" = "quarantined|site flooded" ] && [ "$s2" = active ] && [ "$audit" = 2 ] &&
   [[ "$tamper" == *append-only* ]] && [ $rc = 4 ]; then
	ok "admin quarantine/release: audit events, append-only audit log, unknown gateway exit 4"
else
	notok "admin" "after quarantine: ${s1:-?}; after release: $s2; audit events $audit; delete: $tamper; rc $rc"
fi

# ------------------------------------------------------ config and database
d=$base/bad
mkdir -p "$d"
printf '[node]\nkey = %s\ndb = %s/x.db\n[link]\nbroker = mqtts://localhost:%s\n[gateways]\n%s = %s\n[feed f]\nstreams = %s:0\ntau = 0.001\n' \
	"${nkey[1]}" "$d" "$port" "${gw[1]}" "$base/g1/ak.pem" "${gw[1]}" > "$d/c1.conf"
out=$("$bin/attestio-oracle" run --check-config --config "$d/c1.conf" 2>&1); rc=$?
if [ $rc = 2 ] && [[ "$out" == *"c1.conf:10: feed f: tau must be a number"* ]]; then
	ok "bad config: exit 2, FILE:LINE and the rule named"
else
	notok "bad config" "rc $rc: $out"
fi
cp "$base/n3/oracle.conf" "$d/c2.conf"
sed -i "s#^db = .*#db = $d/corrupt.db#" "$d/c2.conf"
head -c 8192 /dev/urandom > "$d/corrupt.db"
out=$("$bin/attestio-oracle" run --check-config --config "$d/c2.conf" 2>&1); rc=$?
if [ $rc = 3 ] && [[ "$out" == *"corrupt.db is corrupt or not an SQLite database"* ]]; then
	ok "corrupt database: exit 3, named"
else
	notok "corrupt database" "rc $rc: $out"
fi
node_start 3
sleep 0.5
out=$("$bin/attestio-oracle" run --check-config --config "$base/n3/oracle.conf" 2>&1); rc=$?
if [ $rc = 3 ] && [[ "$out" == *"is locked by another attestio-oracle"* ]]; then
	ok "database in use by a running node: exit 3, named"
else
	notok "locked database" "rc $rc: $out"
fi
node_stop 3

# ------------------------------------------------------------------ setup
# attestio-oracle setup: a dry run writes nothing; the first run creates
# the key, the certificate (by the scenario's CA, given as the test CA) and
# oracle.conf; a second run changes nothing; the node it configured passes
# --check-config and connects to the broker with that certificate; an
# edited config is kept unless --force (.bak); a bad node.key is never
# replaced (exit 2); a certificate of another CN is re-issued.
sd=$base/setup
mkdir -p "$sd/etc"
cp "$pki/ca.crt" "$sd/etc/ca.pem"
cp "$pki/ca.key" "$sd/etc/ca.key"
setup() {	# g7's AK: a TPM2B_PUBLIC (g1-g6 have simulated keys, which a
	# node setup configures refuses without allow_simulated)
	"$bin/attestio-oracle" setup --broker "mqtts://localhost:$port" --conf-dir "$sd/etc" \
		--state-dir "$sd/var" --gateway "${gw[7]}=$base/g7/ak.pem" --node "${npub[2]}" "$@"
}
actions() {	# JSON on stdin -> "step=action ..."
	"$py" -c 'import json,sys; print(" ".join(s["step"]+"="+s["action"] for s in json.load(sys.stdin)["steps"]))'
}
why=""
a=$(setup --dry-run --json | actions)
[ "$a" = "key=would create ca=would create certificate=would create config=would write" ] || why="$why dry run: $a;"
[ -e "$sd/var" ] || [ -e "$sd/etc/oracle.conf" ] && why="$why the dry run wrote files;"
a=$(setup --json | actions)
[ "$a" = "key=created ca=kept certificate=created config=created" ] || why="$why first run: $a;"
sum1=$(sha256sum "$sd/var/node.key" "$sd/etc/oracle.pem" "$sd/etc/oracle.conf")
a=$(setup --json | actions)
[ "$a" = "key=kept ca=kept certificate=kept config=unchanged" ] || why="$why second run: $a;"
[ "$(sha256sum "$sd/var/node.key" "$sd/etc/oracle.pem" "$sd/etc/oracle.conf")" = "$sum1" ] || why="$why the second run changed files;"
[ "$(stat -c %a "$sd/var/node.key") $(stat -c %a "$sd/etc/oracle.key")" = "600 600" ] || why="$why key modes;"
out=$("$bin/attestio-oracle" run --check-config --config "$sd/etc/oracle.conf" 2>&1) || why="$why check-config: $out;"
"$bin/attestio-oracle" run --config "$sd/etc/oracle.conf" 2> "$sd/run.log" &
spid=$!
pids+=("$spid")
for _ in $(seq 50); do grep -q "broker: Connection Accepted" "$sd/run.log" && break; sleep 0.1; done
grep -q "broker: Connection Accepted" "$sd/run.log" || why="$why the node did not connect: $(tail -3 "$sd/run.log");"
kill "$spid" 2> /dev/null
wait "$spid" 2> /dev/null
check "setup: dry run writes nothing; key, certificate, commented oracle.conf; second run changes nothing; the node connects with them" "$why"

why=""
echo "keepalive = 7" >> "$sd/etc/oracle.conf"
sum2=$(sha256sum < "$sd/etc/oracle.conf")
a=$(setup --json | actions)
[ "$a" = "key=kept ca=kept certificate=kept config=kept" ] && [ "$(sha256sum < "$sd/etc/oracle.conf")" = "$sum2" ] ||
	why="$why edited config: $a;"
a=$(setup --force --json | actions)
[ "$a" = "key=kept ca=kept certificate=kept config=replaced" ] && [ "$(sha256sum < "$sd/etc/oracle.conf.bak")" = "$sum2" ] ||
	why="$why --force: $a;"
cp "$pki/client.crt" "$sd/etc/oracle.pem"
cp "$pki/client.key" "$sd/etc/oracle.key"
a=$(setup | grep '^certificate')
[[ "$a" == "certificate  created: "*"its CN is not this id"* ]] || why="$why other CN: $a;"
echo "not a key" > "$sd/var/node.key"
out=$(setup 2>&1); rc=$?
[ $rc = 2 ] && [[ "$out" == *"setup never replaces a key"* ]] && [ "$(cat "$sd/var/node.key")" = "not a key" ] ||
	why="$why bad key: rc $rc $out;"
check "setup: an edited config is kept (--force replaces it, .bak), another CN is re-issued, a bad node.key is never replaced (exit 2)" "$why"

echo "# took $(( $(date +%s) - started )) s"
echo "1..$n"
[ "$fails" -eq 0 ]
