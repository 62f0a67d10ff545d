#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# attestiod scenarios on the host, loopback only: real mosquitto with mutual
# TLS (certificates made here with openssl), real attestiod, real
# attestio-oracle ingest node; records from a signed test file the daemon
# tails (source.device = a regular file, as ATTESTIO_DEV would name it).
# TAP on stdout.  ATTESTIOD_TESTS="name ..." selects scenarios.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
gen=$top/build/tests/attestiod/gen_records
base=$top/build/attestiod-test
rm -rf "$base"
mkdir -p "$base"
n=0
fails=0
pids=()
port=${ATTESTIOD_TEST_PORT:-$((20000 + $$ % 20000))}
mport=$((port + 1))
gwid=00112233445566778899aabbccddeeff

cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
	# small_disk's tmpfs, when the run was cut short inside it
	for d in "$base"/small_disk*/spool; do
		mountpoint -q "$d" 2> /dev/null && umount "$d"
	done
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# ------------------------------------------------------------ certificates
pki=$base/pki
mkdir -p "$pki"
mkcert() {	# name CN ca-prefix [ext]
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/$1.key" -subj "/CN=$2" -out "$pki/$1.csr" 2> /dev/null
	printf 'subjectAltName=%s\n' "${4:-DNS:localhost,IP:127.0.0.1}" > "$pki/$1.ext"
	openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.crt" -CAkey "$pki/$3.key" \
		-CAcreateserial -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2> /dev/null
}
for ca in ca wrongca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/$ca.key" -subj "/CN=attestio test $ca" -days 2 \
		-out "$pki/$ca.crt" 2> /dev/null
done
mkcert broker localhost ca
mkcert wrongbroker localhost wrongca
# the right CA, another broker's name: a broker that is not in the config
mkcert otherbroker otherhost ca DNS:otherhost
mkcert gw "$gwid" ca
mkcert oracle oracle ca
nodekey=$(openssl rand -hex 32)
read -r nodepub nodeid <<< "$("$bin/attestio-oracle" pubkey "$nodekey")"
otherkey=$(openssl rand -hex 32)
read -r _ otherid <<< "$("$bin/attestio-oracle" pubkey "$otherkey")"

# ------------------------------------------------------------------ helpers
broker_start() {	# dir [certname]
	local c=${2:-broker}
	cat > "$1/mosquitto.conf" <<-EOC
	listener $port 127.0.0.1
	cafile $pki/ca.crt
	certfile $pki/$c.crt
	keyfile $pki/$c.key
	require_certificate true
	use_identity_as_username true
	persistence false
	max_queued_messages 100000
	log_dest file $1/mosquitto.log
	user root
	EOC
	mosquitto -c "$1/mosquitto.conf" > /dev/null 2>&1 &
	broker=$!
	pids+=("$broker")
	for _ in $(seq 50); do
		grep -q "Opening ipv4 listen socket on port $port" "$1/mosquitto.log" 2> /dev/null && break
		sleep 0.1
	done
}
oracle_start() {	# dir
	cat > "$1/oracle.conf" <<-EOC
	[node]
	key = $nodekey
	db = $1/oracle.db
	[link]
	broker = mqtts://localhost:$port
	ca = $pki/ca.crt
	cert = $pki/oracle.crt
	key = $pki/oracle.key
	[gateways]
	$gwid = $1/ak.pem
	EOC
	"$bin/attestio-oracle" ingest --config "$1/oracle.conf" 2> "$1/oracle.log" &
	oracle=$!
	pids+=("$oracle")
}
gw_conf() {	# dir [extra lines for [spool]]
	cat > "$1/gw.conf" <<-EOC
	[gateway]
	id = $gwid
	[source]
	device = $1/records.bin
	[spool]
	path = ${spooldir:-$1}/spool.db
	sync_records = 64
	sync_ms = 50
	${2:-}
	[link]
	broker = mqtts://localhost:$port
	ca = $pki/ca.crt
	cert = $pki/gw.crt
	key = $pki/gw.key
	retransmit_ms = 1500
	backoff_min_ms = 100
	backoff_max_ms = 800
	keepalive = 5
	[oracle]
	node = $nodepub
	[metrics]
	listen = 127.0.0.1:$mport
	status_file = $1/metrics.prom
	EOC
}
gw_start() {	# dir
	"$bin/attestiod" --foreground --config "$1/gw.conf" 2>> "$1/gw.log" &
	gw=$!
	pids+=("$gw")
}
metric() {	# name -> value (empty if unreachable)
	python3 - "$mport" "$1" <<-'EOP' 2> /dev/null
	import sys, urllib.request
	t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read().decode()
	for l in t.splitlines():
	    if l.startswith("attestiod_" + sys.argv[2] + " "):
	        print(l.split()[1])
	EOP
}
wait_metric() {	# name value timeout_s
	for _ in $(seq $(($3 * 5))); do
		[ "$(metric "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
file_records() {	# file -> number of chained records
	python3 - "$1" <<-'EOP'
	import struct, sys
	d = open(sys.argv[1], "rb").read(); o = n = 0
	while o + 40 <= len(d):
	    l, = struct.unpack_from("<I", d, o + 4); f, = struct.unpack_from("<I", d, o + 12)
	    n += 0 if f & 1 else 1; o += l
	print(n)
	EOP
}
# Every record of the file is stored once, contiguous per stream, verified.
check_db() {	# dir expected [db] -> "" if fine, else why
	python3 - "${3:-$1/oracle.db}" "$2" "$gwid" <<-'EOP'
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1]); exp = int(sys.argv[2])
	n, = db.execute("select count(*) from rec where gw=?", (sys.argv[3],)).fetchone()
	bad = db.execute("select count(*) from rec where state<>0").fetchone()[0]
	holes = [r for r in db.execute("select stream, min(seq), max(seq), count(*) from rec group by instance, stream, gen") if r[1] != 0 or r[2] + 1 != r[3]]
	if n != exp or bad or holes:
	    print("stored %d of %d, %d not verified, non-contiguous: %s" % (n, exp, bad, holes))
	EOP
}

# Done when the oracle holds every record and the spool is empty.
drained() {	# dir total tries -> "" or why
	local why
	for _ in $(seq "$3"); do
		why=$(check_db "$1" "$2")
		[ -z "$why" ] && [ "$(metric spool_records)" = 0 ] && return
		sleep 0.2
	done
	echo "$why"
}

# A stream with an outage in the middle; $1 = name, $2 = action function,
# $3 = epochs of 100 samples per stream (default 15), $4 = samples/s
# overall (default 1000).  An action may add to $act_why.
act_why=''
scenario() {
	local name=$1 action=$2 d=$base/$1 total why
	mkdir -p "$d"
	act_why=''
	"$gen" "$d/ak.tmp" "$d/ak.pem" 1 1 1 0 && : > "$d/records.bin"
	broker_start "$d"
	oracle_start "$d"
	gw_conf "$d"
	# 4 streams, 1 kHz overall, 6 s: 100 samples per stream per epoch
	"$gen" "$d/records.bin" "$d/ak.pem" 4 100 "${3:-15}" "${4:-1000}" &
	local genpid=$!
	pids+=("$genpid")
	sleep 0.3
	gw_start "$d"
	"$action" "$d"
	wait "$genpid"
	total=$(file_records "$d/records.bin")
	why=$(drained "$d" "$total" 300)
	[ -n "$act_why" ] && why="${why:+$why; }$act_why"
	if [ -n "$why" ] || [ "$(metric spool_records)" != 0 ]; then
		notok "$name" "${why:-spool not drained: $(metric spool_records) left}" \
			"$(tail -3 "$d/gw.log")"
	else
		ok "$name ($total records once each, retransmits $(metric retransmits_total), reconnects $(metric reconnects_total))"
	fi
	kill "$gw" "$oracle" "$broker" 2> /dev/null
	wait "$gw" "$oracle" "$broker" 2> /dev/null
}

act_broker_restart() {	# stopped three times for a while, then restarted
	for _ in 1 2 3; do
		sleep 1
		kill "$broker"; wait "$broker" 2> /dev/null
		sleep 1
		broker_start "$1"
	done
}
act_kill_daemon() {
	sleep 2
	kill -9 "$gw"; wait "$gw" 2> /dev/null
	sleep 1
	gw_start "$1"
}
act_kill_broker() {
	sleep 2
	kill -9 "$broker"; wait "$broker" 2> /dev/null
	sleep 1
	broker_start "$1"
}

# The spool on a 1 MiB file system (a gateway's small flash partition):
# more records pass through it than it holds, and it is filled up for 2 s.
# The WAL must be checkpointed and recycled, and acks that could not be
# applied while the disk was full must be applied once it is not.
act_small_disk() {
	sleep 1
	dd if=/dev/zero of="$1/spool/filler" bs=4k 2> /dev/null
	wait_metric alarm_spool_write 1 20 || act_why="no alarm_spool_write while the disk was full"
	sleep 2
	rm -f "$1/spool/filler"
}
# No node acks while the spool fills its 1 MiB disk by itself; then one
# does.  Deleting the acked records needs room as well: the spool keeps a
# reserve for it and deletes in small transactions.  Without them the
# daemon retransmits forever and drains nothing.
act_small_disk_unacked() {
	kill "$oracle"; wait "$oracle" 2> /dev/null
	wait_metric alarm_spool_write 1 60 || act_why="the spool never filled its disk"
	sleep 1
	oracle_start "$1"
}
# No node for 12 s at 1.5 s retransmit_ms: the daemon backs off (1.5, 3,
# 6 s: 3 retransmissions; without backing off 7 or more), then the node
# comes back and everything arrives once.
act_node_down() {
	kill "$oracle"; wait "$oracle" 2> /dev/null
	sleep 12
	local r
	r=$(metric retransmits_total)
	[ "${r:-99}" -le 4 ] || act_why="$r retransmissions in 12 s without a node: no backoff"
	oracle_start "$1"
}
small_disk() {	# name action
	local d=$base/$1
	mkdir -p "$d/spool"
	if ! mount -t tmpfs -o size=1m tmpfs "$d/spool"; then
		notok "$1" "cannot mount a tmpfs on $d/spool (root needed)"
		return
	fi
	spooldir=$d/spool
	# 4 x 100 x 40 = 16000 records, about 2 MiB through a 1 MiB disk
	scenario "$1" "$2" 40 2000
	spooldir=''
	umount "$d/spool"
}

want() { [ -z "${ATTESTIOD_TESTS:-}" ] || [[ " $ATTESTIOD_TESTS " == *" $1 "* ]]; }

echo "TAP version 13"
want broker_restart && scenario broker_restart act_broker_restart
want kill_daemon && scenario kill_daemon act_kill_daemon
want kill_broker && scenario kill_broker act_kill_broker
want node_down && scenario node_down act_node_down
want small_disk && small_disk small_disk act_small_disk
want small_disk_unacked && small_disk small_disk_unacked act_small_disk_unacked

# A finished recording of 2 streams x 100 samples x $2 epochs in dir $1
# (sets $total), a broker and an oracle node on it, the daemon's config.
drain_setup() {	# dir epochs
	mkdir -p "$1"
	"$gen" "$1/ak.tmp" "$1/ak.pem" 1 1 1 0 && : > "$1/records.bin"
	"$gen" "$1/records.bin" "$1/ak.pem" 2 100 "$2" 0
	total=$(file_records "$1/records.bin")
	broker_start "$1"
	oracle_start "$1"
	gw_conf "$1"
}

# --once on a terminal (script(1) gives it a pseudo-terminal): the spool
# drains, every record is stored once, the daemon exits 0 by itself, and
# the progress line counted the acks up to the whole spool.
if want once; then
	d=$base/once
	drain_setup "$d" 8
	rc=0
	timeout 120 script -qfec "$bin/attestiod --foreground --once --config $d/gw.conf" \
		"$d/tty.out" > /dev/null 2>&1 || rc=$?
	why=$(check_db "$d" "$total")
	last=$(tr '\r' '\n' < "$d/tty.out" | grep -a "attestiod --once: acked" | tail -n1)
	if [ "$rc" = 0 ] && [ -z "$why" ] && [[ "$last" == *"acked  $total of $total records (100%)"* ]]; then
		ok "once ($total records drained on a terminal, exit 0; progress '${last%%$'\033'*}')"
	else
		notok once "exit $rc; ${why:-stored}; last progress line: '${last:-none}'" \
			"$(tr '\r' '\n' < "$d/tty.out" | tail -3)"
	fi
	kill "$oracle" "$broker" 2> /dev/null
	wait "$oracle" "$broker" 2> /dev/null
fi

# The TLS client key in a TPM (swtpm on loopback): `attestio tls-key`
# creates it and writes its public key, the test CA certifies that key, and
# the daemon's handshakes are signed by TPM2_Sign (`key = tpm:HANDLE`): the
# broker requires the client certificate, so every record arriving proves
# the TPM signed.  The same key with another key's certificate is refused
# at start.
if want tpm_tls_key; then
	d=$base/tpm_tls_key
	mkdir -p "$d/tpm"
	tport=$((port + 2))
	swtpm socket --tpm2 --tpmstate dir="$d/tpm" \
		--server type=tcp,port=$tport,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((tport + 1)),bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear > "$d/swtpm.log" 2>&1 &
	swtpm_pid=$!
	pids+=("$swtpm_pid")
	tcti=swtpm:host=127.0.0.1,port=$tport
	for _ in $(seq 50); do
		ss -Htln "sport = :$tport" | grep -q . && break
		sleep 0.1
	done
	why=''
	if ! "$bin/attestio" tls-key --tcti "$tcti" --handle 0x81000020 --create \
		--pub-pem "$d/tls.pub" > "$d/tlskey.log" 2>&1; then
		why="attestio tls-key --create failed: $(tail -1 "$d/tlskey.log")"
	elif ! openssl x509 -new -subj "/CN=$gwid" -force_pubkey "$d/tls.pub" \
		-CA "$pki/ca.crt" -CAkey "$pki/ca.key" -days 2 \
		-extfile <(printf 'subjectAltName=DNS:localhost\n') \
		-out "$d/tls.crt" 2> "$d/x509.log"; then
		why="the CA cannot certify the TPM key: $(tail -1 "$d/x509.log")"
	fi
	drain_setup "$d" 6
	tls_conf() {	# cert
		gw_conf "$d"
		sed -i "s|^cert = .*|cert = $1|; s|^key = .*|key = tpm:0x81000020|" "$d/gw.conf"
		printf '[tpm]\ntcti = %s\nenroll = off\n' "$tcti" >> "$d/gw.conf"
	}
	if [ -z "$why" ]; then
		# another key's certificate: refused at start, naming both
		tls_conf "$pki/gw.crt"
		rc=0
		timeout 30 "$bin/attestiod" --foreground --config "$d/gw.conf" \
			> /dev/null 2> "$d/mismatch.log" || rc=$?
		grep -q "does not belong to the certificate" "$d/mismatch.log" && [ "$rc" != 0 ] ||
			why="a certificate for another key was not refused (exit $rc): $(tail -1 "$d/mismatch.log")"
	fi
	if [ -z "$why" ]; then
		tls_conf "$d/tls.crt"
		gw_start "$d"
		why=$(drained "$d" "$total" 100)
		[ -z "$why" ] && [ "$(metric tls_failures_total)" != 0 ] &&
			why="TLS failures: $(metric tls_failures_total)"
	fi
	if [ -z "$why" ]; then
		ok "tpm_tls_key ($total records over TLS with the client key in swtpm; another key's certificate refused at start)"
	else
		notok tpm_tls_key "$why" "$(tail -3 "$d/gw.log" 2> /dev/null)"
	fi
	kill "${gw:-}" "$oracle" "$broker" "$swtpm_pid" 2> /dev/null
	wait "${gw:-}" "$oracle" "$broker" "$swtpm_pid" 2> /dev/null
	gw=''
fi

# `attestio status` shows the daemon next to the module (a stand-in sysfs
# directory here; the module's part is the guest's): running and
# connected with its spool and acks while it runs, "not running" once it
# stopped (the daemon removes its metrics file), in the table and --json.
if want status; then
	d=$base/status
	drain_setup "$d" 4
	mkdir -p "$d/sysfs"
	echo 0.9 > "$d/sysfs/version"
	gw_start "$d"
	why=$(drained "$d" "$total" 150)
	st() { ATTESTIO_SYSFS=$d/sysfs "$bin/attestio" status --daemon "$d/metrics.prom" "$@"; }
	sleep 1.5	# one more write of the file after the drain
	# the daemon's status report to the nodes (protocol.md "Gateway status")
	mosquitto_sub -h localhost -p "$port" --cafile "$pki/ca.crt" --cert "$pki/oracle.crt" \
		--key "$pki/oracle.key" -t "attestio/v1/gw/$gwid/status" -C 1 -W 15 -N \
		> "$d/gwstatus.cbor" 2> /dev/null
	rep=$(python3 - "$d/gwstatus.cbor" "$gwid" <<-'EOP'
	import sys
	d = open(sys.argv[1], "rb").read(); o = 0
	def head():
	    global o
	    b = d[o]; o += 1; ai = b & 31
	    if ai < 24: return b >> 5, ai
	    n = {24: 1, 25: 2, 26: 4, 27: 8}[ai]; v = int.from_bytes(d[o:o + n], "big"); o += n
	    return b >> 5, v
	assert head() == (5, 6)
	out = {}
	for k in range(1, 7):
	    assert head() == (0, k)
	    t, v = head()
	    if t == 2: out[k] = d[o:o + v].hex(); o += v
	    else: out[k] = v
	assert o == len(d) and out[1] == sys.argv[2]
	print("spool_records=%d beacon_round=%d" % (out[3], out[6]))
	EOP
	)
	[[ "$rep" == "spool_records=0 beacon_round="* ]] ||
		why="${why:+$why; }the gateway status report: '${rep:-none}'"
	up=$(st 2>&1)
	upj=$(st --json 2>&1)
	kill "$gw"
	wait "$gw" 2> /dev/null
	down=$(st 2>&1)
	downj=$(st --json 2>&1)
	[ -z "$why" ] && ! grep -q "^attestiod: running, connected, updated [0-9]* s ago" <<< "$up" &&
		why="running daemon not shown: $(grep -A3 '^attestiod' <<< "$up" | tr '\n' '|')"
	[ -z "$why" ] && ! grep -q "spool  *0 records, 0 bytes" <<< "$up" &&
		why="drained spool not shown: $(grep spool <<< "$up")"
	[ -z "$why" ] && ! grep -q "acked $total," <<< "$up" &&
		why="acks not shown: $(grep records <<< "$up")"
	[ -z "$why" ] && ! python3 -c 'import json, sys; d = json.loads(sys.argv[1])["daemon"]; sys.exit(0 if d["running"] and d["connected"] == 1 and d["records_acked_total"] == int(sys.argv[2]) else 1)' "$upj" "$total" &&
		why="--json of the running daemon: $upj"
	[ -z "$why" ] && ! grep -q "^attestiod: not running (no $d/metrics.prom)" <<< "$down" &&
		why="stopped daemon not shown: $(grep '^attestiod' <<< "$down")"
	[ -z "$why" ] && ! python3 -c 'import json, sys; sys.exit(0 if json.loads(sys.argv[1])["daemon"]["running"] is False else 1)' "$downj" &&
		why="--json of the stopped daemon: $downj"
	if [ -z "$why" ]; then
		ok "status (attestio status shows the daemon running, connected, $total acked, spool empty; then not running; the status report to the nodes says $rep)"
	else
		notok status "$why"
	fi
	kill "$oracle" "$broker" 2> /dev/null
	wait "$oracle" "$broker" 2> /dev/null
fi

if want spool_bound; then
	for mode in stop drop-oldest; do
		d=$base/bound-$mode
		mkdir -p "$d"
		: > "$d/records.bin"
		broker_start "$d"	# no oracle: nothing is ever acked
		gw_conf "$d" "max_bytes = 65536
on_full = $mode"
		"$gen" "$d/records.bin" "$d/ak.pem" 2 100 10 0
		gw_start "$d"
		if [ $mode = stop ]; then
			wait_metric source_paused 1 20
			b=$(metric spool_bytes)
			if [ "$(metric alarm_spool_full)" = 1 ] && [ "$(metric source_paused)" = 1 ] &&
			   [ "${b:-999999}" -le 65536 ] && [ "$(metric records_dropped_total)" = 0 ]; then
				ok "spool_bound_stop (alarm, reading paused at $b bytes, nothing dropped)"
			else
				notok "spool_bound_stop" "alarm $(metric alarm_spool_full) paused $(metric source_paused) bytes $b"
			fi
		else
			wait_metric alarm_spool_full 1 20
			sleep 1
			b=$(metric spool_bytes)
			dr=$(metric records_dropped_total)
			ho=$(metric holes_open)	# dropped: declared lost
			if [ "$(metric alarm_spool_full)" = 1 ] && [ "${dr:-0}" -gt 0 ] &&
			   [ "${b:-999999}" -le 65536 ] && [ "$(metric source_paused)" = 0 ] &&
			   [ "${ho:-0}" -gt 0 ]; then
				ok "spool_bound_drop_oldest (alarm, $dr oldest dropped and declared lost in $ho holes, $b bytes)"
			else
				notok "spool_bound_drop_oldest" "alarm $(metric alarm_spool_full) dropped $dr holes $ho bytes $b paused $(metric source_paused)"
			fi
		fi
		kill "$gw" "$broker" 2> /dev/null
		wait "$gw" "$broker" 2> /dev/null
	done
fi

# A daemon that should be refused: the broker with certificate $2, the
# gateway with client certificate $3 (default gw.crt); 3 s of trying.
refused_start() {	# dir broker-cert [client-cert]
	mkdir -p "$1"
	: > "$1/records.bin"
	broker_start "$1" "$2"
	gw_conf "$1"
	[ -n "${3:-}" ] && sed -i "s|^cert = .*|cert = $3|" "$1/gw.conf"
	gw_start "$1"
	sleep 3
}
refused_stop() {
	kill "$gw" "$broker" 2> /dev/null
	wait "$gw" "$broker" 2> /dev/null
}

if want wrong_broker_cert; then
	d=$base/wrongcert
	refused_start "$d" wrongbroker
	t=$(metric tls_failures_total)
	if [ "${t:-0}" -gt 0 ] && [ "$(metric connected)" = 0 ] &&
	   grep -q "certificate verify failed" "$d/gw.log"; then
		ok "wrong_broker_cert (refused, $t TLS failures counted and logged)"
	else
		notok "wrong_broker_cert" "tls_failures ${t:-?} connected $(metric connected)" "$(tail -3 "$d/gw.log")"
	fi
	refused_stop
fi

# A broker of the right CA but under another name (a broker that is not in
# the config, e.g. another site's, redirected to), and a gateway whose
# client certificate expired: each refused, logged and counted.
if want tls_refusals; then
	d=$base/othername
	refused_start "$d" otherbroker
	t=$(metric tls_failures_total)
	if [ "${t:-0}" -gt 0 ] && [ "$(metric connected)" = 0 ] &&
	   grep -q "certificate verify failed" "$d/gw.log" &&
	   ! grep -q "Client $gwid" "$d/mosquitto.log"; then
		ok "broker_not_in_config (certificate of the right CA for otherhost: refused, $t TLS failures)"
	else
		notok "broker_not_in_config" "tls_failures ${t:-?} connected $(metric connected)" "$(tail -3 "$d/gw.log")"
	fi
	refused_stop

	d=$base/expired
	mkdir -p "$d"
	: > "$d/index.txt"
	echo 01 > "$d/serial"
	printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
		"$d" "$d" "$d" > "$d/ca.cnf"
	openssl ca -config "$d/ca.cnf" -batch -cert "$pki/ca.crt" -keyfile "$pki/ca.key" \
		-in "$pki/gw.csr" -out "$d/gw.crt" -startdate 20250101000000Z \
		-enddate 20250102000000Z > /dev/null 2>&1
	refused_start "$d" broker "$d/gw.crt"
	# TLS 1.3: the broker checks the client certificate after the
	# client's handshake is done, so the daemon sees a protocol error
	# (and the alert only sometimes): the metric that names the cause is
	# client_cert_expired
	t=$(metric connect_failures_total)
	if [ "${t:-0}" -gt 0 ] && [ "$(metric connected)" = 0 ] &&
	   grep -q "client certificate .*expired on 2025-01-02" "$d/gw.log" &&
	   [ "$(metric client_cert_expired)" = 1 ] &&
	   [ "$(metric client_cert_not_after_seconds)" = 1735776000 ] &&
	   grep -q "certificate verify failed" "$d/mosquitto.log" &&
	   ! grep -q "as $gwid" "$d/mosquitto.log"; then
		ok "expired_client_cert (refused by the broker, $t connect failures, named at start, client_cert_expired 1)"
	else
		notok "expired_client_cert" "connect_failures ${t:-?} connected $(metric connected) expired $(metric client_cert_expired)" "$(tail -3 "$d/gw.log")"
	fi
	refused_stop
fi

if want bad_acks; then
	d=$base/badacks
	mkdir -p "$d"
	: > "$d/records.bin"
	broker_start "$d"
	gw_conf "$d"
	gw_start "$d"
	wait_metric connected 1 10
	pub() { mosquitto_pub -h localhost -p "$port" --cafile "$pki/ca.crt" \
		--cert "$pki/oracle.crt" --key "$pki/oracle.key" -q 1 -t "$1" -s; }
	printf 'garbage' | pub "attestio/v1/gw/$gwid/ack/$nodeid"
	printf 'garbage' | pub "attestio/v1/gw/$gwid/ack/$otherid"
	sleep 1
	if [ "$(metric acks_bad_total)" = 1 ] && [ "$(metric acks_unknown_node_total)" = 1 ] &&
	   [ "$(metric acks_total)" = 0 ]; then
		ok "bad_acks (malformed and unknown-node acks ignored and counted)"
	else
		notok "bad_acks" "bad $(metric acks_bad_total) unknown $(metric acks_unknown_node_total)"
	fi
	kill "$gw" "$broker" 2> /dev/null
	wait "$gw" "$broker" 2> /dev/null
fi

# Evidence (protocol.md "Evidence"): a gateway whose quotes are by the
# kernel session key (tests/oracle/gen_feed -k: certify-only AK, measurement
# log, PCRs); the daemon publishes its measurement log, PCR files and boot
# event log, retained; the oracle node verifies every checkpoint under the
# kernel-exclusive rule and acks; a grown log is published again.
if want evidence; then
	d=$base/evidence
	mkdir -p "$d/g" "$d/pcrs"
	"$top/build/tests/oracle/gen_feed" -k "$gwid" "$d/g" "$d/ak.pem" 2 3 \
		"$(( $(date +%s) * 1000 ))" 1000 20 2315 || echo "Bail out! gen_feed"
	cat "$d"/g/e00?.bin > "$d/records.bin"
	cp "$d/g/mlog.bin" "$d/mlog.bin"
	head -c 3000 /dev/urandom > "$d/bios.bin"
	python3 - "$d/g/pcrs.bin" "$d/pcrs" <<-'EOP'
	import sys
	b = open(sys.argv[1], "rb").read()
	for i in range(24):
	    open("%s/%d" % (sys.argv[2], i), "w").write(b[32 * i:32 * i + 32].hex().upper() + "\n")
	EOP
	broker_start "$d"
	oracle_start "$d"
	gw_conf "$d"
	printf '[evidence]\nmlog = %s\npcrs = %s\nboot_log = %s\nima_log = %s\ninterval_ms = 200\n' \
		"$d/mlog.bin" "$d/pcrs" "$d/bios.bin" "$d/absent" >> "$d/gw.conf"
	gw_start "$d"
	total=$(file_records "$d/records.bin")
	why=$(drained "$d" "$total" 150)
	ev() {	# -> the retained evidence message, hex
		timeout 5 mosquitto_sub -h localhost -p "$port" --cafile "$pki/ca.crt" \
			--cert "$pki/oracle.crt" --key "$pki/oracle.key" -C 1 \
			-t "attestio/v1/gw/$gwid/evidence" -F %x 2> /dev/null
	}
	e1=$(ev)
	# the module measured a setting change: the log grows by one event
	python3 -c 'import struct,sys; open(sys.argv[1], "ab").write(struct.pack("<HHIQIIII", 4, 0, 16, 0x1122334455667788, 1, 1, 0, 0))' "$d/mlog.bin"
	wait_metric evidence_published_total 2 10
	e2=$(ev)
	mh=$(xxd -p "$d/g/mlog.bin" | tr -d '\n')
	bh=$(xxd -p "$d/bios.bin" | tr -d '\n')
	gh=$(xxd -p "$d/mlog.bin" | tr -d '\n')
	if [ -z "$why" ] && [ "$(metric spool_records)" = 0 ] &&
	   [[ "$e1" == *"$mh"* ]] && [[ "$e1" == *"$bh"* ]] && [[ "$e2" == *"$gh"* ]] &&
	   [[ "$e1" != *"$gh"* ]] && [ "$(metric evidence_published_total)" = 2 ]; then
		ok "evidence ($total records verified under the kernel-exclusive rule and acked; log, PCRs, boot log published retained; republished when the log grew)"
	else
		notok "evidence" "${why:-} spool $(metric spool_records) published $(metric evidence_published_total)" \
			"retained: ${#e1} / ${#e2} hex digits" "$(tail -3 "$d/gw.log")" "$(tail -3 "$d/oracle.log")"
	fi
	kill "$gw" "$oracle" "$broker" 2> /dev/null
	wait "$gw" "$oracle" "$broker" 2> /dev/null
fi

# MQTT 5 and 3.1.1 (link.mqtt): the session outlives the
# daemon's connection: an ack published while the daemon is dead is queued
# by the broker and delivered when it reconnects (with MQTT 5 only because
# the daemon sets a Session-Expiry-Interval; without one the session would
# end with the connection).  The broker's log names the protocol (p5 / p2).
if want mqtt_session; then
	for v in 5 3.1.1; do
		d=$base/session-$v
		mkdir -p "$d"
		: > "$d/records.bin"
		broker_start "$d"
		gw_conf "$d" "[link]
mqtt = $v"
		gw_start "$d"
		wait_metric connected 1 10
		kill -9 "$gw"; wait "$gw" 2> /dev/null
		printf 'garbage' | mosquitto_pub -h localhost -p "$port" --cafile "$pki/ca.crt" \
			--cert "$pki/oracle.crt" --key "$pki/oracle.key" -q 1 \
			-t "attestio/v1/gw/$gwid/ack/$nodeid" -s
		gw_start "$d"
		wait_metric connected 1 10
		wait_metric acks_bad_total 1 5
		p=$([ $v = 5 ] && echo p5 || echo p2)
		if [ "$(metric acks_bad_total)" = 1 ] &&
		   [ "$(grep -c "as $gwid ($p, c0" "$d/mosquitto.log")" = 2 ] &&
		   grep -q "connected to mqtts://localhost:$port (MQTT $v)" "$d/gw.log"; then
			ok "mqtt_session_$v (persistent session: the ack queued while the daemon was dead arrived)"
		else
			notok "mqtt_session_$v" "acks_bad $(metric acks_bad_total)" \
				"$(grep "as $gwid" "$d/mosquitto.log")" "$(tail -3 "$d/gw.log")"
		fi
		kill "$gw" "$broker" 2> /dev/null
		wait "$gw" "$broker" 2> /dev/null
	done
	printf '[gateway]\nid = %s\n[link]\nmqtt = 4\nsession_expiry = 0\n' "$gwid" > "$d/bad.conf"
	out=$("$bin/attestiod" --check-config --config "$d/bad.conf" 2>&1)
	rc=$?
	if [ $rc = 2 ] && [[ "$out" == *"bad.conf:4: link.mqtt must be"* ]]; then
		ok "mqtt_bad_config (link.mqtt = 4: exit 2, line named)"
	else
		notok "mqtt_bad_config" "rc $rc: $out"
	fi
fi

# Loss declarations (protocol.md, issue 10).  lost_declared: the
# module's log skipped stream 1 seq 120..129 for the daemon's reader (a
# `lost` record, and the same record again, as a retransmission repeats
# it); before the daemon runs, the node gets the daemon's first batch as a
# broker that dropped stream 0 seq 150 would deliver it.  The node must
# not ack past 150 (two lost records no longer excuse a hole by count);
# the daemon declares exactly 120..129 lost; in the end the node holds
# every other record and produced = delivered + declared lost.
node_start() {	# dir name key [extra [node] lines]
	printf '[node]\nkey = %s\ndb = %s/%s.db\n%s\n[link]\nbroker = mqtts://localhost:%s\nca = %s\ncert = %s\nkey = %s\n[gateways]\n%s = %s/ak.pem\n' \
		"$3" "$1" "$2" "${4:-}" "$port" "$pki/ca.crt" "$pki/oracle.crt" "$pki/oracle.key" \
		"$gwid" "$1" > "$1/$2.conf"
	"$bin/attestio-oracle" ingest --config "$1/$2.conf" 2> "$1/$2.log" &
	pids+=("$!")
	npids+=("$!")
}
npids=()
# (stream, seq) pairs stored, the declared and join gaps of a node's db
db_summary() {	# db -> "records N holes [...] declared D join J"
	python3 - "$1" "$gwid" <<-'EOP'
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	n, = db.execute("select count(*) from rec where gw=?", (sys.argv[2],)).fetchone()
	holes = []
	for st, in db.execute("select distinct stream from rec order by stream"):
	    seqs = [r[0] for r in db.execute("select seq from rec where stream=? order by seq", (st,))]
	    prev = -1
	    for q in seqs:
	        if q != prev + 1: holes.append("%d:%d..%d" % (st, prev + 1, q - 1))
	        prev = q
	d, = db.execute("select coalesce(sum(last-first+1),0) from gap where why='declared'").fetchone()
	j, = db.execute("select coalesce(sum(last-first+1),0) from gap where why='join'").fetchone()
	print("records %d holes %s declared %d join %d" % (n, holes, d, j))
	EOP
}
if want lost_declared; then
	d=$base/lost_declared
	mkdir -p "$d"
	"$gen" "$d/orig.bin" "$d/ak.pem" 2 100 3 0
	total=$(file_records "$d/orig.bin")
	python3 - "$d/orig.bin" "$d/records.bin" "$d/first.bin" <<-'EOP'
	import struct, sys
	d = open(sys.argv[1], "rb").read(); o = 0; recs = []
	while o + 40 <= len(d):
	    l, = struct.unpack_from("<I", d, o + 4)
	    st, fl, seq = struct.unpack_from("<IIQ", d, o + 8)
	    recs.append((st, seq, d[o:o + l])); o += l
	lost = struct.pack("<HHIIIQQQQQ", 3, 7, 56, 0, 1, 0, 0, 0, 10, 640)
	out = []; first = []
	for st, seq, r in recs:
	    if st == 1 and 120 <= seq <= 129:
	        if seq == 120: out += [lost, lost]
	        continue
	    out.append(r)
	open(sys.argv[2], "wb").write(b"".join(out))
	# the daemon's first batch as the broker delivered it: 150 dropped
	for r in out[:420]:
	    st, fl, seq = struct.unpack_from("<IIQ", r, 8)
	    if not (st == 0 and seq == 150 and not fl & 1): first.append(r)
	open(sys.argv[3], "wb").write(b"".join(first))
	EOP
	broker_start "$d"
	node_start "$d" n1 "$nodekey"
	sleep 1
	mosquitto_pub -h localhost -p "$port" --cafile "$pki/ca.crt" --cert "$pki/gw.crt" \
		--key "$pki/gw.key" -q 1 -t "attestio/v1/gw/$gwid/records" -f "$d/first.bin"
	sleep 1
	early=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select coalesce(max(acked),-1) from chain where stream=0").fetchone()[0])' "$d/n1.db")
	has150=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from rec where stream=0 and seq>150").fetchone()[0])' "$d/n1.db")
	gw_conf "$d"
	gw_start "$d"
	end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		sum=$(db_summary "$d/n1.db")
		[ "$sum" = "records $((total - 10)) holes ['1:120..129'] declared 10 join 0" ] &&
			[ "$(metric spool_records)" = 0 ] && [ "$(metric holes_open)" = 0 ] && break
		sleep 0.2
	done
	if [ "$early" -lt 150 ] && [ "$has150" = 0 ] &&
	   [ "$sum" = "records $((total - 10)) holes ['1:120..129'] declared 10 join 0" ] &&
	   [ "$(metric spool_records)" = 0 ] && [ "$(metric holes_open)" = 0 ] &&
	   [ "$(metric hole_records_total)" = 10 ] && [ "$(metric holes_declared_total)" = 1 ]; then
		ok "lost_declared (2 lost records did not excuse the dropped seq 150: acked to $early; produced $total = delivered $((total - 10)) + declared lost 10; hole deleted once acked past)"
	else
		notok "lost_declared" "acked early $early, after 150 early $has150; $sum (want $((total - 10)) records, 1:120..129 declared 10)" \
			"spool $(metric spool_records) holes_open $(metric holes_open) hole_records $(metric hole_records_total)" \
			"$(tail -3 "$d/gw.log")" "$(tail -3 "$d/n1.log")"
	fi
	kill "$gw" "$broker" "${npids[@]}" 2> /dev/null
	wait "$gw" "$broker" "${npids[@]}" 2> /dev/null
	npids=()
fi

# forged_loss (review 3 and 4, the broker row of threat-model.md): a
# broker drops stream 0 seq 150..154 towards the node and publishes a
# forged, retained loss declaration naming them.  Before the daemon runs,
# the node gets the daemon's records as that broker delivers them: it
# skips 150..154 (gap 'declared') and acks past them, naming the skip.
# The daemon still holds 150..154 (it counts an ack entry only below a
# skipped record it holds) and sends them: the node sees them come again
# (audit skip-refuted), verifies them against the chain and takes them
# (gap fill, audit gap-filled); its acks then skip nothing, the daemon's
# spool drains to 0 and the node holds every record once, no gap left.
# (Before the gap fill the chain stayed wedged: the spool kept stream 0
# from 150 on for good.)
if want forged_loss; then
	d=$base/forged_loss
	mkdir -p "$d"
	"$gen" "$d/records.bin" "$d/ak.pem" 2 100 3 0
	total=$(file_records "$d/records.bin")
	python3 - "$d/records.bin" "$d/first.bin" <<-'EOP'
	import struct, sys
	d = open(sys.argv[1], "rb").read(); o = 0; out = []
	while o + 40 <= len(d):
	    l, = struct.unpack_from("<I", d, o + 4)
	    st, fl, seq = struct.unpack_from("<IIQ", d, o + 8)
	    if not (st == 0 and 150 <= seq <= 154 and not fl & 1): out.append(d[o:o + l])
	    o += l
	open(sys.argv[2], "wb").write(b"".join(out))
	EOP
	broker_start "$d"
	node_start "$d" n1 "$nodekey"
	sleep 1
	bpub_gw() {	# topic file [retain]
		mosquitto_pub -h localhost -p "$port" --cafile "$pki/ca.crt" --cert "$pki/gw.crt" \
			--key "$pki/gw.key" -q 1 ${3:+-r} -t "attestio/v1/gw/$gwid/$1" -f "$2"
	}
	bpub_gw records "$d/first.bin"
	sleep 1
	# the forged declaration names the chain the node learned: 150..154
	python3 - "$d/n1.db" "$gwid" "$d/forged.cbor" <<-'EOP'
	import sqlite3, sys
	def head(mt, v):
	    if v < 24: return bytes([mt << 5 | v])
	    for ai, n in ((24, 1), (25, 2), (26, 4), (27, 8)):
	        if v < 1 << (8 * n): return bytes([mt << 5 | ai]) + v.to_bytes(n, "big")
	inst, gen = sqlite3.connect(sys.argv[1]).execute(
	    "select instance, gen from chain where stream=0").fetchone()
	hole = head(4, 5) + b"".join(head(0, x) for x in (inst, 0, gen, 150, 154))
	msg = head(5, 2) + head(0, 1) + head(2, 16) + bytes.fromhex(sys.argv[2]) + \
	      head(0, 2) + head(4, 1) + hole
	open(sys.argv[3], "wb").write(msg)
	EOP
	bpub_gw lost "$d/forged.cbor" retain
	sleep 0.5
	bpub_gw records "$d/first.bin"		# delivered again: 150..154 skipped
	sleep 1
	skipped=$(db_summary "$d/n1.db")
	skipack=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select coalesce(max(acked),-1) from chain where stream=0").fetchone()[0])' "$d/n1.db")
	gw_conf "$d"
	gw_start "$d"
	want_sum="records $total holes [] declared 0 join 0"
	end=$((SECONDS + 40))
	while [ $SECONDS -lt $end ]; do
		sum=$(db_summary "$d/n1.db")
		[ "$sum" = "$want_sum" ] && [ "$(metric spool_records)" = 0 ] && break
		sleep 0.2
	done
	sleep 1
	sum=$(db_summary "$d/n1.db")
	spool=$(metric spool_records)
	mism=$(metric acks_skip_mismatch_total)
	filled=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from rec where stream=0 and seq between 150 and 154 and state=0").fetchone()[0])' "$d/n1.db")
	dup=$(python3 -c 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print(db.execute("select count(*) from rec").fetchone()[0] - db.execute("select count(*) from (select distinct instance, stream, gen, seq from rec)").fetchone()[0])' "$d/n1.db")
	if [ "$skipped" = "records $((total - 5)) holes ['0:150..154'] declared 5 join 0" ] &&
	   [ "$skipack" -gt 154 ] && [ "$sum" = "$want_sum" ] && [ "$spool" = 0 ] &&
	   [ "$filled" = 5 ] && [ "$dup" = 0 ] &&
	   grep -q "skipped seq 150..154 (declared): the gateway still holds it" "$d/n1.log" &&
	   grep -q "came again, 5 verified against the chain: gap filled" "$d/n1.log"; then
		ok "forged_loss (node skipped the dropped 150..154 under a forged declaration and acked to $skipack naming the skip; the daemon kept and sent them again ($mism ack entries counted short): the node verified and took them (gap fill), spool drained to 0, all $total records once, no gap)"
	else
		notok "forged_loss" "node before: $skipped (want $((total - 5)) records, 0:150..154 declared 5), acked $skipack" \
			"node after: $sum (want $want_sum), 150..154 verified $filled, duplicates $dup" \
			"spool $spool (want 0), acks_skip_mismatch $mism" \
			"$(tail -3 "$d/gw.log")" "$(grep -m2 "came again" "$d/n1.log")"
	fi
	kill "$gw" "$broker" "${npids[@]}" 2> /dev/null
	wait "$gw" "$broker" "${npids[@]}" 2> /dev/null
	npids=()
fi

# Two nodes, the daemon's ack_quorum QUORUM; records from gen_records
# (GEN-ARGS: streams samples epochs rate) while the daemon runs; node 2
# starts DELAY s after the daemon with join_period JOIN-PERIOD.  Sets
# pub2, total (records generated).
two_nodes_late() {	# dir quorum gen-args delay join-period
	local d=$1 key2 genpid
	mkdir -p "$d"
	key2=$(openssl rand -hex 32)
	read -r pub2 _ <<< "$("$bin/attestio-oracle" pubkey "$key2")"
	"$gen" "$d/ak.tmp" "$d/ak.pem" 1 1 1 0 && : > "$d/records.bin"
	broker_start "$d"
	node_start "$d" n1 "$nodekey"
	gw_conf "$d"
	sed -i "s|^node = .*|node = $nodepub\nnode = $pub2\nack_quorum = $2|" "$d/gw.conf"
	# shellcheck disable=SC2086 # gen-args are words
	"$gen" "$d/records.bin" "$d/ak.pem" $3 &
	genpid=$!
	pids+=("$genpid")
	sleep 0.3
	gw_start "$d"
	sleep "$4"
	node_start "$d" n2 "$key2" "join_period = $5"
	wait "$genpid"
	total=$(file_records "$d/records.bin")
}

# late_join: two nodes, ack_quorum 2; node 2 starts after the daemon
# published the first records of every chain (its session did not exist
# yet).  It must end up with every record from seq 0 (the daemon still
# holds them: node 2 has not acked them), never acking what it did not get.
if want late_join; then
	d=$base/late_join
	two_nodes_late "$d" 2 "2 100 8 400" 2 3
	end=$((SECONDS + 40))
	while [ $SECONDS -lt $end ]; do
		s1=$(db_summary "$d/n1.db")
		s2=$(db_summary "$d/n2.db")
		[ "$s2" = "records $total holes [] declared 0 join 0" ] &&
			[ "$(metric spool_records)" = 0 ] && break
		sleep 0.2
	done
	if [ "$s1" = "records $total holes [] declared 0 join 0" ] &&
	   [ "$s2" = "records $total holes [] declared 0 join 0" ] &&
	   [ "$(metric spool_records)" = 0 ] && grep -q "first seen at seq" "$d/n2.log"; then
		ok "late_join (node 2 started 2 s late, waited, joined at seq 0: all $total records, both nodes)"
	else
		notok "late_join" "node 1: $s1" "node 2: $s2 (want $total records, no holes)" \
			"spool $(metric spool_records)" "$(grep -m3 "first seen\|join" "$d/n2.log")"
	fi
	kill "$gw" "$broker" "${npids[@]}" 2> /dev/null
	wait "$gw" "$broker" "${npids[@]}" 2> /dev/null
	npids=()
fi

# late_join_acked (review 4 M2): two nodes, ack_quorum 1: node 1 alone
# acks every record and the daemon deletes it, so it never sends a record
# again.  Node 2 starts 3 s into a 15 s stream: it sees the chains first
# mid-way and waits join_period (2 s) for the earliest record the daemon
# holds, which never comes again.  It must still join (two more
# join_periods without it: at the next record that comes) and from there
# hold every record, its gaps only the chains' starts (why 'join').
if want late_join_acked; then
	d=$base/late_join_acked
	two_nodes_late "$d" 1 "2 8 80 100" 3 2
	end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		s1=$(db_summary "$d/n1.db")
		[ "$s1" = "records $total holes [] declared 0 join 0" ] &&
			[ "$(metric spool_records)" = 0 ] && break
		sleep 0.2
	done
	sleep 2
	s2=$(python3 - "$d/n2.db" <<-'EOP'
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1]); out = []
	for st, in db.execute("select distinct stream from rec order by stream"):
	    seqs = [r[0] for r in db.execute("select seq from rec where stream=? order by seq", (st,))]
	    gaps = db.execute("select first, last, why from gap where stream=?", (st,)).fetchall()
	    contiguous = seqs == list(range(seqs[0], seqs[-1] + 1))
	    out.append("%d:%d..%d%s gap %s" % (st, seqs[0], seqs[-1], "" if contiguous else " HOLES", gaps))
	print("; ".join(out))
	EOP
	)
	lastseq() { python3 -c 'import sqlite3,sys; print(";".join("%d:%d" % r for r in sqlite3.connect(sys.argv[1]).execute("select stream, max(seq) from rec group by stream order by stream")))' "$1"; }
	last1=$(lastseq "$d/n1.db")
	last2=$(lastseq "$d/n2.db")
	want2=$(python3 -c 'import sqlite3,sys
db = sqlite3.connect(sys.argv[1]); out = []
for st, lo, hi in db.execute("select stream, min(seq), max(seq) from rec group by stream order by stream"):
    out.append("%d:%d..%d gap [(0, %d, %s)]" % (st, lo, hi, lo - 1, repr("join")))
print("; ".join(out))' "$d/n2.db")
	if [ "$s1" = "records $total holes [] declared 0 join 0" ] && [ "$(metric spool_records)" = 0 ] &&
	   [ -n "$s2" ] && [ "$s2" = "$want2" ] && [[ "$s2" != *"0:0.."* ]] &&
	   [ "$last2" = "$last1" ] &&
	   grep -q "first seen at seq" "$d/n2.log"; then
		ok "late_join_acked (node 2 joined chains node 1 kept acked: $s2; node 1 all $total records, spool 0)"
	else
		notok "late_join_acked" "node 1: $s1 (want $total records, no holes), spool $(metric spool_records)" \
			"node 2: ${s2:-no records} (want every record from its join point to the end: $last1, gaps only 0..join-1 why join)" \
			"$(grep -m3 "first seen\|join" "$d/n2.log")"
	fi
	kill "$gw" "$broker" "${npids[@]}" 2> /dev/null
	wait "$gw" "$broker" "${npids[@]}" 2> /dev/null
	npids=()
fi

# quorum_lag (review 8, LOW): three nodes, ack_quorum 2.  Node 3 stops
# 3 s into a 21 s stream; while it is away the broker drops its queue
# (its session ends: here a client with its id and a clean session takes
# it over) and nodes 1 and 2 ack every record, which the daemon deletes.
# Node 3 comes back 5 s later: it sees only new records, far above where
# its chains stand, and the daemon no longer holds those in between.  The
# daemon must find it stuck (its acks repeat a position below the spool's
# oldest record), declare the records below its oldest held one released
# after ack_quorum, hold the chain for it and send it again: node 3
# records the gap (why 'released'), takes every record from the daemon's
# oldest held one to the end, verifies them from the first checkpoint
# after the gap on, stores their readings and acks the chains to their
# ends; the spool drains.  (Before: node 3 stayed where it stopped, its
# acks never advanced and nothing after the gap was stored.)
if want quorum_lag; then
	d=$base/quorum_lag
	mkdir -p "$d"
	key2=$(openssl rand -hex 32)
	key3=$(openssl rand -hex 32)
	read -r pub2 _ <<< "$("$bin/attestio-oracle" pubkey "$key2")"
	read -r pub3 id3 <<< "$("$bin/attestio-oracle" pubkey "$key3")"
	"$gen" "$d/ak.tmp" "$d/ak.pem" 1 1 1 0 && : > "$d/records.bin"
	broker_start "$d"
	node_start "$d" n1 "$nodekey"
	node_start "$d" n2 "$key2"
	node_start "$d" n3 "$key3"
	n3pid=${npids[-1]}
	gw_conf "$d"
	sed -i "s|^node = .*|node = $nodepub\nnode = $pub2\nnode = $pub3\nack_quorum = 2|" "$d/gw.conf"
	# 2 streams x (20 samples + 1 checkpoint) x 50 epochs at 100/s: 21 s
	"$gen" "$d/records.bin" "$d/ak.pem" 2 20 50 100 &
	genpid=$!
	pids+=("$genpid")
	sleep 0.3
	gw_start "$d"
	sleep 3
	kill "$n3pid"
	wait "$n3pid" 2> /dev/null
	stopped=$(sqlite3 "$d/n3.db" "select group_concat(stream || ':' || acked, ' ') from (select stream, acked from chain order by stream)" 2> /dev/null)
	sleep 1
	# the broker drops node 3's session and what it had queued for it
	timeout 5 mosquitto_sub -h localhost -p "$port" --cafile "$pki/ca.crt" \
		--cert "$pki/oracle.crt" --key "$pki/oracle.key" -i "$id3" \
		-t "attestio/v1/none" -W 1 > /dev/null 2>&1
	sleep 4
	node_start "$d" n3 "$key3"
	wait "$genpid"
	total=$(file_records "$d/records.bin")
	# node 3, per stream: its records and gaps make 0 .. the last seq
	# exactly, every gap 'released', the records after the first
	# checkpoint after the gap verified and their samples' readings
	# stored, the chain acked to the last seq
	lag() {	# -> one line per stream
		python3 - "$d/n3.db" "$d/n1.db" <<-'EOP'
		import sqlite3, sys
		db = sqlite3.connect(sys.argv[1]); ref = sqlite3.connect(sys.argv[2])
		for st, last in ref.execute("select stream, max(seq) from rec group by stream order by stream"):
		    seqs = [r[0] for r in db.execute("select seq from rec where stream=? order by seq", (st,))]
		    gaps = db.execute("select first, last, why from gap where stream=? order by first", (st,)).fetchall()
		    acked, = db.execute("select coalesce(max(acked), -1) from chain where stream=?", (st,)).fetchone()
		    have = set(seqs)
		    for f, l, _ in gaps: have |= set(range(f, l + 1))
		    whole = have == set(range(last + 1)) and len(have) == len(seqs) + sum(l - f + 1 for f, l, _ in gaps)
		    end = max((l for _, l, _ in gaps), default=-1)
		    cp, = db.execute("select coalesce(min(seq), 1 << 62) from rec where stream=? and seq>? and type=4", (st, end)).fetchone()
		    bad, = db.execute("select count(*) from rec where stream=? and seq>? and state<>0", (st, cp)).fetchone()
		    rd, = db.execute("select count(distinct seq) from reading where stream=? and seq>?", (st, cp)).fetchone()
		    print("%d:%s gaps %s%s acked %d/%d unverified-after-cp %d readings-after-cp %d" % (
		        st, "whole" if whole else "NOT-WHOLE",
		        ",".join(sorted(set(w for _, _, w in gaps))) or "none",
		        "" if not gaps else " %d..%d" % (gaps[0][0], end), acked, last, bad, rd))
		EOP
	}
	lag_why() {	# -> "" or why node 3 is not where it should be
		local line w=''
		while IFS= read -r line; do
			[[ "$line" =~ ^([0-9]+):whole\ gaps\ released\ [0-9]+\.\.[0-9]+\ acked\ ([0-9]+)/([0-9]+)\ unverified-after-cp\ 0\ readings-after-cp\ ([0-9]+)$ ]] &&
				[ "${BASH_REMATCH[2]}" = "${BASH_REMATCH[3]}" ] && [ "${BASH_REMATCH[4]}" -gt 0 ] ||
				w="${w:+$w; }stream $line"
		done <<< "$(lag)"
		echo "$w"
	}
	end=$((SECONDS + 40))
	while [ $SECONDS -lt $end ]; do
		[ -z "$(check_db "$d" "$total" "$d/n1.db")" ] && [ "$(metric spool_records)" = 0 ] &&
			[ -z "$(lag_why)" ] && break
		sleep 0.5
	done
	why=''
	s=$(check_db "$d" "$total" "$d/n1.db")
	[ -z "$s" ] || why="node 1: $s"
	s=$(check_db "$d" "$total" "$d/n2.db")
	[ -z "$s" ] || why="${why:+$why; }node 2: $s"
	spool=$(metric spool_records)
	[ "$spool" = 0 ] || why="${why:+$why; }spool $spool (want 0)"
	s=$(lag_why)
	[ -z "$s" ] || why="${why:+$why; }node 3: $s"
	grep -q "released after ack_quorum" "$d/n3.log" || why="${why:+$why; }node 3 logged no released gap"
	[ "$(sqlite3 "$d/n3.db" "select count(*) from audit where event='quorum-released'" 2> /dev/null)" -ge 1 ] ||
		why="${why:+$why; }node 3 audited no released gap"
	stated=$(metric releases_declared_total)
	[ "${stated:-0}" -ge 1 ] || why="${why:+$why; }daemon: releases_declared_total ${stated:-none}"
	s3=$(lag | paste -sd ';')
	if [ -z "$why" ]; then
		ok "quorum_lag (node 3 stopped at [$stopped], its queue dropped, the others acked on: declared released to it $stated time(s), it went on: $s3; nodes 1, 2 all $total records, spool 0)"
	else
		notok "quorum_lag" "$why" "node 3 stopped at [$stopped]; now: $s3" \
			"$(tail -3 "$d/gw.log")" "$(tail -3 "$d/n3.log")"
	fi
	kill "$gw" "$broker" "${npids[@]}" 2> /dev/null
	wait "$gw" "$broker" "${npids[@]}" 2> /dev/null
	npids=()
fi

if want bad_config; then
	d=$base/badconf
	mkdir -p "$d"
	printf '[gateway]\nid = %s\n[spool]\nsync_ms = 0\n' "$gwid" > "$d/gw.conf"
	out=$("$bin/attestiod" --check-config --config "$d/gw.conf" 2>&1)
	rc=$?
	if [ $rc = 2 ] && [[ "$out" == *"gw.conf:4: spool.sync_ms must be"* ]]; then
		ok "bad_config (exit 2, line 4 named)"
	else
		notok "bad_config" "rc $rc: $out"
	fi
	printf '[gateway]\nid = %s\n[source]\ntype = bpf\nring_bytes = 5000\n' "$gwid" > "$d/gw.conf"
	out=$("$bin/attestiod" --check-config --config "$d/gw.conf" 2>&1)
	rc=$?
	printf '[gateway]\nid = %s\n[guard]\nmode = maybe\n' "$gwid" > "$d/gw.conf"
	out2=$("$bin/attestiod" --check-config --config "$d/gw.conf" 2>&1)
	rc2=$?
	if [ $rc = 2 ] && [[ "$out" == *"gw.conf:5: source.ring_bytes must be a power of two"* ]] &&
	   [ $rc2 = 2 ] && [[ "$out2" == *"gw.conf:4: guard.mode must be"* ]]; then
		ok "bad_config_bpf (ring_bytes not a power of two, unknown guard mode: exit 2, line named)"
	else
		notok "bad_config_bpf" "rc $rc: $out" "rc $rc2: $out2"
	fi
fi

# Beacons (protocol.md "Beacons"): node A issues one a second (retained);
# the daemon takes them and ignores forged and old ones; node B, which
# issues none and requires freshness, verifies the gateway's checkpoints
# only because they cover A's beacons.  The records' quotes cover the
# newest value A issued (GEN_BEACON_FILE: what the module would quote),
# or, in beacon_unknown, a value nobody issued: B must refuse them.
mkbeacon=$top/build/tests/attestiod/mkbeacon
bport=$((port + 2))
beacon_node() {	# dir name key extra-conf
	cat > "$1/$2.conf" <<-EOC
	[node]
	key = $3
	db = $1/$2.db
	[link]
	broker = mqtts://localhost:$port
	ca = $pki/ca.crt
	cert = $pki/oracle.crt
	key = $pki/oracle.key
	[gateways]
	$gwid = $1/ak.pem
	[quorum]
	node = $nodepub
	[beacon]
	period = 1
	$4
	EOC
	"$bin/attestio-oracle" run --config "$1/$2.conf" 2> "$1/$2.log" &
	pids+=($!)
	bnodes+=($!)
}
cmetric() {	# port prefix name -> value (curl: python starts slowly on a busy host)
	curl -s -m 2 "http://127.0.0.1:$1/metrics" | awk -v n="$2$3" '$1 == n { print $2 }'
}
bmetric() { cmetric "$bport" attestio_oracle_ "$1"; }
gmetric() { cmetric "$mport" attestiod_ "$1"; }
bpub() {	# file topic-node
	mosquitto_pub -h localhost -p "$port" --cafile "$pki/ca.crt" \
		--cert "$pki/oracle.crt" --key "$pki/oracle.key" -q 1 \
		-t "attestio/v1/beacon/$2" -f "$1"
}
beacon_scenario() {	# name known|unknown
	local name=$1 d=$base/$1 total why='' i r a
	bnodes=()
	mkdir -p "$d"
	"$gen" "$d/ak.tmp" "$d/ak.pem" 1 1 1 0 && : > "$d/records.bin"
	broker_start "$d"
	beacon_node "$d" oracle "$nodekey" ""	# A: oracle.db, as drained() reads
	beacon_node "$d" b "$otherkey" "issue = false
freshness = required
[metrics]
listen = 127.0.0.1:$bport"
	gw_conf "$d"
	gw_start "$d"
	for _ in $(seq 50); do
		[ "$(gmetric beacons_accepted_total)" -ge 2 ] 2> /dev/null && break
		sleep 0.2
	done
	# the beacon the module would quote: A's newest (known), or random
	( while :; do
		if [ "$2" = known ]; then
			sqlite3 "$d/oracle.db" "select lower(hex(value)) from beacon order by round desc limit 1" \
				> "$d/beacon.tmp" 2> /dev/null
		else
			openssl rand -hex 32 > "$d/beacon.tmp"
		fi
		mv "$d/beacon.tmp" "$d/beacon.hex"
		sleep 0.5
	done ) &
	pids+=($!)
	sleep 0.6
	GEN_BEACON_FILE=$d/beacon.hex "$gen" "$d/records.bin" "$d/ak.pem" 2 20 6 1000
	total=$(file_records "$d/records.bin")
	why=$(drained "$d" "$total" 150)	# node A: acked, spool empty
	[ -n "$why" ] && why="node A: $why"
	if [ "$2" = known ]; then
		for _ in $(seq 50); do
			[ -z "$(check_db "$d" "$total" "$d/b.db")" ] && break
			sleep 0.2
		done
		r=$(check_db "$d" "$total" "$d/b.db")
		[ -n "$r" ] && why="${why:+$why; }node B: $r"
		a=$(bmetric 'checkpoints_beacon_total{class="fresh"}')
		[ "${a:-0}" -gt 0 ] || why="${why:+$why; }node B: no fresh checkpoint ($a)"
		curl -s "http://127.0.0.1:$bport/api/v1/status" > "$d/b-status.json"
		a=$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["gateways"][0]; b=g["beacon"]; print(b["round"] > 0 and b["age_s"] <= g["last_record_age_s"] + 5 and b["class"] == "fresh")' "$d/b-status.json" 2>&1)
		[ "$a" = True ] || why="${why:+$why; }node B status: no fresh beacon per gateway: $a"
		# the daemon: forged and old beacons change nothing
		r=$(gmetric beacon_round)
		"$mkbeacon" "$otherkey" "$((r + 1))" > "$d/unknown.cbor"
		"$mkbeacon" "$otherkey" "$((r + 1))" "$nodeid" > "$d/forged.cbor"
		"$mkbeacon" "$nodekey" 5 > "$d/old.cbor"
		bpub "$d/unknown.cbor" "$otherid"
		bpub "$d/forged.cbor" "$nodeid"
		bpub "$d/old.cbor" "$nodeid"
		printf 'garbage' > "$d/bad.cbor"
		bpub "$d/bad.cbor" "$nodeid"
		for _ in $(seq 25); do
			[ "$(gmetric 'beacons_rejected_total{reason="malformed"}')" = 1 ] && break
			sleep 0.2
		done
		for i in unknown_node bad_signature malformed; do
			a=$(gmetric "beacons_rejected_total{reason=\"$i\"}")
			[ "$a" = 1 ] || why="${why:+$why; }daemon: $i rejected $a times, not 1"
		done
		a=$(gmetric 'beacons_rejected_total{reason="old_round"}')
		[ "${a:-0}" -ge 1 ] || why="${why:+$why; }daemon: the round-5 beacon was not rejected as old"
		a=$(gmetric beacon_round)
		[ "${a:-0}" -ge "$r" ] && [ "$a" != 5 ] ||
			why="${why:+$why; }daemon: held round $a after the forgeries (was $r)"
		a=$(gmetric beacon_age_seconds)
		[ "${a:-99}" -le 10 ] || why="${why:+$why; }daemon: beacon_age_seconds $a"
	else
		sleep 1
		r=$(sqlite3 "$d/b.db" "select count(*) from rec where state=0 and type=2" 2> /dev/null)
		[ "${r:-1}" = 0 ] || why="${why:+$why; }node B verified $r samples whose quotes cover no issued beacon"
		grep -q "not one the oracle network issued" "$d/b.log" ||
			why="${why:+$why; }node B log names no unissued beacon"
	fi
	if [ -n "$why" ]; then
		notok "$name" "$why" "$(tail -3 "$d/gw.log")" "$(tail -3 "$d/b.log")"
	elif [ "$2" = known ]; then
		ok "$name ($total records verified by node B against node A's beacons; daemon took $(gmetric beacons_accepted_total), rejected unknown/forged/old/malformed)"
	else
		ok "$name (node B verified none of the $total records: their quotes cover no issued beacon)"
	fi
	kill "${pids[@]:(-1)}" "$gw" "$broker" "${bnodes[@]}" 2> /dev/null
	wait "$gw" "$broker" "${bnodes[@]}" 2> /dev/null
}
want beacon_known && beacon_scenario beacon_known known
want beacon_unknown && beacon_scenario beacon_unknown unknown

echo "1..$n"
[ "$fails" -eq 0 ]
