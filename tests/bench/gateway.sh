#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench step "gateway" (host, loopback, TLS as in production):
#   1. gateway -> broker -> subscriber records/s through attestiod's whole
#      path (source file -> spool, fsync'd -> link, MQTT QoS 1, mutual TLS)
#      against a raw mosquitto_pub -> mosquitto_sub pair at the same QoS,
#      in-flight window and message size (the daemon's mean batch), as a
#      ratio.  Both are timed from the first to the last message the
#      subscriber receives (mosquitto_sub's receive timestamps).
#   2. the spool's fsync'd records/s (bench_spool: spool_add + spool_sync
#      per batch of sync_records) against a plain write + fsync append of
#      the same bytes in the same batches.
# Raw output in build/bench/gateway-*.  Environment: BENCH_GW_RECORDS (about
# how many records, default 40000), BENCH_GW_PORT (18862).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
gen=$top/build/tests/attestiod/gen_records
out=$top/build/bench
d=$out/gateway
port=${BENCH_GW_PORT:-18862}
mport=$((port + 1))
want=${BENCH_GW_RECORDS:-40000}
inflight=16
rm -rf "$d"
mkdir -p "$d/pki"
pids=()
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
}
trap cleanup EXIT
fail() { echo "gateway bench: $*"; exit 1; }

make -s "$gen" "$top/build/tests/bench/bench_spool" "$bin/attestiod" > "$d/build.log" 2>&1 ||
	fail "build failed (see $d/build.log)"

pki=$d/pki
# shellcheck source=tests/attestiod/pki.sh
. "$top/tests/attestiod/pki.sh"
mkpki "$pki" "attestio bench ca" broker gw sub
cat > "$d/mosquitto.conf" <<EOC
listener $port 127.0.0.1
cafile $pki/ca.crt
certfile $pki/broker.crt
keyfile $pki/broker.key
require_certificate true
use_identity_as_username true
persistence false
max_queued_messages 1000000
max_inflight_messages $inflight
log_dest file $d/mosquitto.log
user root
EOC
mosquitto -c "$d/mosquitto.conf" > /dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	grep -q "listen socket on port $port" "$d/mosquitto.log" 2> /dev/null && break
	sleep 0.1
done
tls=(-h localhost -p "$port" --cafile "$pki/ca.crt")

# sub TOPIC COUNT-OR-0 FILE: subscribe (QoS 1); one line per message:
# "<receive time, s.ns> <payload bytes>"
sub() {
	local c=()
	[ "$2" != 0 ] && c=(-C "$2")
	mosquitto_sub "${tls[@]}" --cert "$pki/sub.crt" --key "$pki/sub.key" -q 1 \
		-t "$1" -F '%U %l' "${c[@]}" > "$3" 2> "$3.err" &
	subpid=$!
	pids+=("$subpid")
	sleep 0.5
}
# span FILE: messages, bytes, seconds from the first to the last message
span() {
	awk 'NR == 1 { t0 = $1 } { n++; b += $2; t1 = $1 }
	     END { printf "%d %d %.6f\n", n, b, t1 - t0 }' "$1"
}

# ------------------------------------------ 1. attestiod vs mosquitto_pub
gwid=00112233445566778899aabbccddeeff
nodepub=0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8
# 4 streams, 500 samples per stream per epoch: about 2004 records per epoch
epochs=$(((want + 2003) / 2004))
"$gen" "$d/records.bin" "$d/ak.pem" 4 500 "$epochs" 0 || fail "gen_records failed"
total_bytes=$(stat -c %s "$d/records.bin")
total_recs=$(python3 - "$d/records.bin" <<'EOP'
import struct, sys
d = open(sys.argv[1], "rb").read(); o = n = 0
while o + 40 <= len(d):
    n += 1; o += struct.unpack_from("<I", d, o + 4)[0]
print(n)
EOP
)
cat > "$d/gw.conf" <<EOC
[gateway]
id = $gwid
[source]
type = dev
device = $d/records.bin
[spool]
path = $d/spool.db
[link]
broker = mqtts://localhost:$port
ca = $pki/ca.crt
cert = $pki/gw.crt
key = $pki/gw.key
max_inflight = $inflight
retransmit_ms = 3600000
[oracle]
node = $nodepub
[metrics]
listen = 127.0.0.1:$mport
EOC
sub "attestio/v1/gw/$gwid/records" 0 "$d/gw.sub"
"$bin/attestiod" --foreground --config "$d/gw.conf" 2> "$d/gw.log" &
gw=$!
pids+=("$gw")
for _ in $(seq 1200); do
	read -r _ b _ <<< "$(span "$d/gw.sub")"
	[ "${b:-0}" -ge "$total_bytes" ] && break
	sleep 0.1
done
kill "$gw" "$subpid" 2> /dev/null
wait "$gw" "$subpid" 2> /dev/null
read -r gmsgs gbytes gsec <<< "$(span "$d/gw.sub")"
[ "${gbytes:-0}" -ge "$total_bytes" ] || fail "the subscriber got $gbytes of $total_bytes bytes from attestiod"
msize=$((gbytes / gmsgs))

# raw pair: the same number of messages of the daemon's mean batch size
yes "$(head -c $((msize - 1)) /dev/zero | tr '\0' x)" | head -n "$gmsgs" > "$d/raw.lines"
sub bench/raw "$gmsgs" "$d/raw.sub"
mosquitto_pub "${tls[@]}" --cert "$pki/gw.crt" --key "$pki/gw.key" -q 1 -M "$inflight" \
	-t bench/raw -l < "$d/raw.lines" 2> "$d/raw.pub.err" || fail "mosquitto_pub failed: $(cat "$d/raw.pub.err")"
wait "$subpid" 2> /dev/null
read -r rmsgs rbytes rsec <<< "$(span "$d/raw.sub")"
[ "$rmsgs" = "$gmsgs" ] || fail "the raw subscriber got $rmsgs of $gmsgs messages"

python3 - "$total_recs" "$gmsgs" "$gbytes" "$gsec" "$rmsgs" "$rbytes" "$rsec" "$inflight" <<'EOP' | tee "$d/../gateway.txt"
import sys
recs, gm, gb, gs, rm, rb, rs, infl = (float(x) for x in sys.argv[1:])
per = recs / gm
g = recs / gs; r = rm * per / rs
print("%-26s %10s %10s %12s %12s" % ("path (QoS 1, TLS, in-flight %d)" % infl, "messages", "msg bytes", "records/s", "MB/s"))
print("%-26s %10d %10d %12.0f %12.1f" % ("attestiod (spool+link)", gm, gb / gm, g, gb / gs / 1e6))
print("%-26s %10d %10d %12.0f %12.1f" % ("mosquitto_pub/_sub", rm, rb / rm, r, rb / rs / 1e6))
print("ratio attestiod / raw pair = %.3f  (%.1f records per message, %d records)" % (g / r, per, recs))
EOP

# ------------------------------------------ 2. spool vs plain fsync'd append
rec_b=$((total_bytes / total_recs))
"$top/build/tests/bench/bench_spool" "$d" 20000 "$rec_b" 256 > "$d/spool.txt" 2> "$d/spool.err" ||
	fail "bench_spool failed"
line=$(cat "$d/spool.txt")
f() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<< " $line"; }
printf '\nspool: %s records of %s B, fsync every %s: spool %s records/s, plain append+fsync %s records/s, ratio spool/plain = %s\n' \
	"$(f records)" "$(f rec_B)" "$(f batch)" "$(f spool_rec_per_s)" "$(f plain_rec_per_s)" "$(f ratio)" |
	tee -a "$d/../gateway.txt"
