#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# System scenarios (Documentation/system.md): a fleet of simulated gateways
# (attestio-sim: genuine records, software quotes in TPM format, attestiod's
# spool and link) and four attestio-oracle nodes (n = 4, f = 1, t = 2) on
# one mosquitto, loopback only.  Honest, Byzantine and incident-replay
# feeds, attacks from single gateways, a network outage; each scenario
# prints produced / verified / lost / duplicated / rejected-with-reason and
# the settlement outcome.  TAP on stdout.  Ports 18870-18872
# (SYSTEM_TEST_PORT moves them).  SYSTEM_EPOCHS sets the length (CI: 16).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
bin=$top/build/bin
base=$top/build/system-test
rm -rf "$base"
mkdir -p "$base"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
port=${SYSTEM_TEST_PORT:-18870}
mport=$((port + 1))
epochs=${SYSTEM_EPOCHS:-16}
# shellcheck source=tests/system/lib.sh
. "$top/tests/system/lib.sh"

cat > "$base/mosquitto.conf" <<EOC
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 1000
max_queued_messages 100000
log_dest file $base/mosquitto.log
user root
EOC
mosquitto -c "$base/mosquitto.conf" > /dev/null 2>&1 &
pids+=($!)
broker=mqtt://127.0.0.1:$port

echo "TAP version 13"
make_nodes 4
sim_template "$base/gw.conf" 4 4 "$broker"
T0=0	# set after init: rounds must not start before the fleet does
# Site A's true temperature: 23.15 degC +- 0.3 (10 min period); honest
# devices add 0.02 degC of noise.  Site P is another site (the pump).
cat > "$base/sim.conf" <<EOC
[sim]
gateway_conf = $base/gw.conf
dir = $base/sim
epochs = $epochs
start_ms = $((T0 * 1000))
samples = 10
drain_s = 20
[site A]
base = 23.15
amplitude = 0.3
[site P]
base = 23.15
amplitude = 0.3
[group h]
count = 6
site = A
[group liar1]
site = A
behaviour = liar
value = 90
[group liar2]
count = 2
site = A
behaviour = liar
value = 90
[group biased]
site = A
behaviour = biased
bias = 3
[group stuck]
site = A
behaviour = stuck
value = 21
[group noisy]
site = A
behaviour = noisy
[group spike]
site = A
behaviour = biased
bias = 8
from = 4
until = 7
[group pump]
count = 6
site = P
behaviour = liar
value = 40
from = 5
[group gone]
count = 3
site = A
behaviour = silent
from = 7
[group outage]
count = 2
site = A
behaviour = offline
from = 3
until = 6
[group tamper]
site = A
behaviour = tamper
from = 3
[group forge]
site = A
behaviour = forge
from = 3
[group unsigned]
site = A
behaviour = unsigned
from = 3
[group reorder]
site = A
behaviour = reorder
from = 3
[group replay]
site = A
behaviour = replay
from = 3
until = 5
[group victim]
site = A
[group spoof]
site = A
behaviour = spoof
target = victim
from = 1
EOC
"$bin/attestio-sim" init --config "$base/sim.conf" > "$base/sim-init.log" 2>&1 ||
	{ echo "Bail out! attestio-sim init: $(cat "$base/sim-init.log")"; exit 1; }
T0=$(( $(date +%s) + 10 ))	# nodes start and subscribe first (~5 s on a loaded machine)
sed -i "s/^start_ms = .*/start_ms = $((T0 * 1000))/" "$base/sim.conf"

# Feeds: period 2 s (2 epochs), tau 0.5 degC, rounds 1 .. epochs/2; a
# round runs 4 s after its end (grace: records in flight on a loaded CI
# machine; staleness is judged at the round's end, not when it runs).
grace=4
common="start = $T0
period = 2
grace = $grace
heartbeat = 3
decimals = 2
tau = 0.5
delta = 5
confirm_rounds = 2"
mapfile -t h < <(gws_of h)
{
	printf '[feed honest]\n%s\n%s\nmin_devices = 3\n' "$(streams_of h)" "$common"
	printf '[feed liar1]\n%s\n%s\n%s\nmin_devices = 3\n' "$(streams_gw "${h[@]:0:3}")" "$(streams_of liar1)" "$common"
	printf '[feed liar2]\n%s\n%s\n%s\nmin_devices = 3\n' "$(streams_gw "${h[@]:0:2}")" "$(streams_of liar2)" "$common"
	printf '[feed mixed]\n%s\n%s\nmin_devices = 5\n' "$(streams_of h biased stuck noisy)" "$common"
	# Synthetix sKRW: two sources left (min 3)
	printf '[feed skrw]\n%s\n%s\nmin_devices = 3\n' "$(streams_gw "${h[@]:0:2}")" "$common"
	# Compound DAI: one venue spikes +8 degC in epochs 4-7
	printf '[feed dai]\n%s\n%s\n%s\nmin_devices = 3\n' "$(streams_gw "${h[@]:3:3}")" "$(streams_of spike)" "$common"
	# Mango: one site (P, 6 gateways) pumped to 40 degC from epoch 5;
	# site A has 3: the site cap keeps P at one site's weight
	printf '[feed mango]\n%s\n%s\n%s\nmin_devices = 3\nsite_cap = 3000000\n' \
		"$(streams_gw "${h[@]:0:3}")" "$(streams_of pump)" "$common"
	# LUNA: the feed's sources stop (epoch 7 on): stale, never the last value
	printf '[feed luna]\n%s\n%s\nmin_devices = 3\n' "$(streams_of gone)" "$common"
	printf '[feed outage]\n%s\n%s\n%s\nmin_devices = 3\n' "$(streams_of outage)" "$(streams_gw "${h[0]}")" "$common"
	printf '[feed attacked]\n%s\n%s\n%s\nmin_devices = 3\n' \
		"$(streams_of tamper forge unsigned reorder replay victim)" "$(streams_gw "${h[@]:0:2}")" "$common"
} > "$base/feeds.conf"
for k in 1 2 3 4; do node_conf "$k" 4 "$base/feeds.conf" "$broker"; done

# ------------------------------------------ simulated keys need the flag
sed '/^allow_simulated/d' "$base/n1/oracle.conf" > "$base/noflag.conf"
sed -i "s#^db = .*#db = $base/noflag.db#" "$base/noflag.conf"
out=$("$bin/attestio-oracle" run --check-config --config "$base/noflag.conf" 2>&1); rc=$?
if [ $rc = 2 ] && [[ "$out" == *"is a simulated gateway's software key (attestio-sim)"*"allow_simulated = true"* ]]; then
	ok "a node without allow_simulated refuses simulated gateways: exit 2, reason named"
else
	notok "simulated keys refused without the flag" "rc $rc: $out"
fi
out=$("$bin/attestio-oracle" run --check-config --config "$base/n1/oracle.conf" 2>&1); rc=$?
check "with allow_simulated = true the same configuration is accepted" "$([ $rc = 0 ] || echo "rc $rc: $out")"

for k in 1 2 3 4; do node_start "$k"; done
wait_nodes 4
"$bin/attestio-sim" run --config "$base/sim.conf" > "$base/sim.log" 2> "$base/sim.err"
simrc=$?
echo "# $(cat "$base/sim.log")"
# the last round with data runs at T0 + epochs + grace
while [ "$(date +%s)" -lt $((T0 + epochs + grace + 1)) ]; do sleep 0.5; done
sleep 2
for k in 1 2 3 4; do status "$k" > "$base/status$k.json"; done
"$py" -c 'import sys, urllib.request; print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read().decode())' \
	"$mport" > "$base/metrics1.txt" 2>&1
for k in 1 2 3 4; do node_stop "$k"; done
for k in 1 2 3 4; do accounting "$k" > "$base/acct$k.json"; done

# ----------------------------------------------------------- the outcome
"$py" - "$base" "$epochs" "$base/sim/gateways.txt" 2>&1 <<'EOP' > "$base/summary.txt"
import json, sys
base, epochs = sys.argv[1], int(sys.argv[2])
gw = {}
for l in open(sys.argv[3]):
    i, g, site, b, s, ak = l.split()
    gw.setdefault(g, []).append(i)
st = [json.load(open("%s/status%d.json" % (base, k))) for k in range(1, 5)]
ac = [json.load(open("%s/acct%d.json" % (base, k))) for k in range(1, 5)]
rounds = epochs // 2
for f in [x["name"] for x in st[0]["feeds"]]:
    line = []
    for r in range(1, rounds + 1):
        fin = [x for x in [y for y in st[0]["feeds"] if y["name"] == f][0]["final"] if x["round"] == r]
        line.append("%d:%s" % (r, (str(fin[0]["value"]) if fin[0]["status"] == 0 else fin[0]["status_name"]) if fin else "-"))
    print("feed %-8s %s" % (f, " ".join(line)))
g1 = {x["id"]: x for x in st[0]["gateways"]}
for g in ["tamper", "forge", "unsigned", "reorder", "replay", "victim", "spoof", "outage"]:
    for i in gw[g]:
        x = g1.get(i, {})
        print("gateway %-8s %s %s %s" % (g, i[:8], x.get("state"), x.get("reason") or ""))
a = ac[0]
for g in gw:
    p = sum(a["by_gw"][i]["produced"] for i in gw[g]); s = sum(a["by_gw"][i]["stored"] for i in gw[g])
    v = sum(a["by_gw"][i]["verified"] for i in gw[g])
    print("group %-8s produced %5d stored %5d verified %5d not verified %4d" % (g, p, s, v, s - v))
for l in open(base + "/metrics1.txt"):
    if l.startswith("attestio_oracle_records_rejected_total") and not l.rstrip().endswith(" 0"):
        print("node1 rejected: " + l.strip()[len("attestio_oracle_records_rejected_total"):])
print("node1 produced %d stored %d verified %d lost %d duplicated %d (duplicates dropped at ingest: %s)" %
      (a["produced"], a["stored"], a["verified"], a["lost"], a["duplicated"], a["dropped_duplicates"]))
EOP
sed 's/^/# /' "$base/summary.txt"

rounds=$((epochs / 2))
feed_check() {	# feed rule: "" or why; rule in python over rounds 1..rounds-1
	"$py" - "$base" "$1" "$rounds" "$2" 2>&1 <<-'EOP'
	import json, sys
	base, feed, rounds, rule = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
	for k in range(1, 5):
	    d = json.load(open("%s/status%d.json" % (base, k)))
	    f = [x for x in d["feeds"] if x["name"] == feed][0]
	    R = {x["round"]: x for x in f["final"]}
	    for r in range(1, rounds):
	        if r not in R:
	            print("node %d %s round %d: no final report;" % (k, feed, r)); continue
	        x = R[r]
	        if x["signers"] < 2:
	            print("node %d %s round %d: %d signers;" % (k, feed, r, x["signers"]))
	        ok = eval(rule, {"s": x["status"], "v": x["value"], "r": r, "n": x["status_name"]})
	        if not ok:
	            print("node %d %s round %d: %s %s breaks %s;" % (k, feed, r, x["status_name"], x["value"], rule))
	EOP
}
# the site's truth is 23.15 +- 0.3, noise 0.02: honest values lie in 2270 ... 2360
honest="2270 <= v <= 2360"
check "honest feed: every round settles within the site's true range on all 4 nodes (t = 2)" \
	"$(feed_check honest "s == 0 and $honest")"
check "f = 1 liar of 4 (90 degC) is outvoted: settled within the honest range" \
	"$(feed_check liar1 "s == 0 and $honest")"
check "f + 1 = 2 coordinated liars of 4 halt every round (disagree), never 90" \
	"$(feed_check liar2 "s == 4")"
check "biased +3, stuck at 21 and 10x noisy among 6 honest: settled within the honest range" \
	"$(feed_check mixed "s == 0 and $honest")"
check "Synthetix sKRW replay: 2 sources left of 3 needed halt (few-devices)" \
	"$(feed_check skrw "s == 1")"
check "Compound DAI replay: one venue's +8 degC spike never settles" \
	"$(feed_check dai "s != 0 or $honest")"
check "Mango replay: site P pumped to 40 degC; the site cap keeps it from settling" \
	"$(feed_check mango "s != 0 or $honest")"
check "LUNA replay: the sources stop; rounds after settle nothing (stale/few), never the old value as new" \
	"$(feed_check luna "(r <= 2 and s == 0 and $honest) or (r >= 5 and s in (1, 6)) or (3 <= r <= 4)")"
check "network outage (epochs 3-6) of 2 gateways: the feed settles within range whenever it settles" \
	"$(feed_check outage "s != 0 or $honest")"

why=$("$py" - "$base/acct1.json" "$base/sim/gateways.txt" 2>&1 <<'EOP'
import json, sys
a = json.load(open(sys.argv[1]))
ok = {"h", "liar1", "liar2", "biased", "stuck", "noisy", "spike", "pump", "gone", "outage", "victim", "replay"}
for l in open(sys.argv[2]):
    i, g = l.split()[:2]
    if g not in ok: continue
    x = a["by_gw"][i]
    if g == "victim": continue   # also carries the spoofer's records
    if x["stored"] != x["produced"] or x["verified"] != x["produced"]:
        print("%s %s: produced %d stored %d verified %d;" % (g, i[:8], x["produced"], x["stored"], x["verified"]))
if a["duplicated"]:
    print("%d duplicates stored;" % a["duplicated"])
EOP
)
check "every record of every non-attacking gateway (outage included) stored and verified once: 0 lost, 0 duplicated" "$why"

why=$("$py" - "$base/status1.json" "$base/sim/gateways.txt" 2>&1 <<'EOP'
import json, sys
d = json.load(open(sys.argv[1])); g = {x["id"]: x for x in d["gateways"]}
by = {}
for l in open(sys.argv[2]):
    i, grp = l.split()[:2]; by.setdefault(grp, []).append(i)
for grp in ("tamper", "forge"):
    x = g[by[grp][0]]
    if x["state"] != "quarantined" or not x["reason"]:
        print("%s: %s %s;" % (grp, x["state"], x["reason"]))
for grp in ("h", "liar1", "liar2", "outage", "replay", "gone", "pump"):
    for i in by[grp]:
        if g[i]["state"] != "active":
            print("%s %s: %s %s;" % (grp, i[:8], g[i]["state"], g[i]["reason"]))
EOP
)
check "tampered and forged records: gateway quarantined with the reason; honest, replaying and outage gateways stay active" "$why"
dups=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dropped_duplicates"] or 0)' "$base/acct1.json")
replayed=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["replayed"])' "$base/sim/report.json")
if [ "${replayed:-0}" -gt 0 ] && [ "${dups:-0}" -ge "$replayed" ]; then
	ok "replayed records ($replayed) dropped as duplicates ($dups dropped, 0 stored twice)"
else
	notok "replayed records dropped" "replayed ${replayed:-?}, duplicates dropped ${dups:-?}"
fi
why=$("$py" - "$base/acct1.json" "$base/sim/gateways.txt" "$base/metrics1.txt" "$base/status1.json" 2>&1 <<'EOP'
import json, sys
a = json.load(open(sys.argv[1]))
by = {}
for l in open(sys.argv[2]):
    i, grp = l.split()[:2]; by.setdefault(grp, []).append(i)
m = {l.split()[0]: float(l.split()[1]) for l in open(sys.argv[3]) if l.startswith("attestio_oracle_records_rejected_total")}
st = {x["id"]: x for x in json.load(open(sys.argv[4]))["gateways"]}
r = a["by_gw"][by["reorder"][0]]
if m.get('attestio_oracle_records_rejected_total{reason="out_of_order"}', 0) < 1:
    print("no record rejected as out of order;")
if r["verified"] != r["produced"] or st[by["reorder"][0]]["state"] != "active":
    print("reorder: %s, %s;" % (r, st[by["reorder"][0]]["state"]))
u = a["by_gw"][by["unsigned"][0]]
if u["produced"] - u["verified"] < 100:
    print("unsigned: only %d of %d records left unverified;" % (u["produced"] - u["verified"], u["produced"]))
EOP
)
check "reordered records held back (out of order) and recovered in order by the retransmission; records under unsigned checkpoints never verified" "$why"
why=$("$py" - "$base/acct1.json" "$base/sim/gateways.txt" "$base/status1.json" 2>&1 <<'EOP'
import json, sys
a = json.load(open(sys.argv[1]))
by = {}
for l in open(sys.argv[2]):
    i, grp = l.split()[:2]; by.setdefault(grp, []).append(i)
st = {x["id"]: x for x in json.load(open(sys.argv[3]))["gateways"]}
v = a["by_gw"][by["victim"][0]]; s = a["by_gw"][by["spoof"][0]]
# the victim's topic carried both: the spoofer's records never verify
if v["stored"] != v["produced"] + s["produced"] or v["verified"] > v["produced"]:
    print("victim topic: %s, spoofer produced %d;" % (v, s["produced"]))
if "signature" not in (st[by["victim"][0]]["reason"] or ""):
    print("victim: %s;" % st[by["victim"][0]])
EOP
)
check "spoofer on another gateway's topic: its records fail the victim's AK (never counted); the victim is quarantined (the broker ACL is the defence: system.md)" "$why"

# ------------------------------------------------- fleet -> EVM settlement
# The 4 nodes' own final reports of this run, exported with `attestio-oracle
# final`, settle a TemperatureOption on the in-process EVM (tests/contracts/
# settle-lib.sh, user/contracts/test/node-reports.js): liar1 (3 honest + 1
# liar, f = 1) pays what `attestio settle` computes on the same files, to
# the wei, and what node 1's status says; luna's halted rounds (sources
# gone) are only counted, never values; liar2 (every round halted) refunds.
# shellcheck source=tests/contracts/settle-lib.sh
. "$top/tests/contracts/settle-lib.sh"
settle_setup
last=$((rounds - 1))
sr=$(seq -s ' ' 1 "$last")
terms=("first_round = 1" "last_round = $last" "extension_rounds = 2" "min_rounds = 2"
       "strike = 2250" "notional = 1000000000000000"
       "buyer_deposit = 100000000000000000" "seller_deposit = 1000000000000000000")
money=(2250 1000000000000000 100000000000000000 1000000000000000000)
why=$(settle_node_reports "$base/n1/oracle.conf" "$base/settle-liar1" liar1 settled "$sr" "${terms[@]}")
out=$(cat "$base/settle-liar1/node-reports.log" 2> /dev/null)
want=$(settle_expect "$base/status1.json" liar1 1 "$last" 2 "${money[@]}")
echo "# liar1: ${out#node-reports: }"
if [ -z "$why" ] && [[ "$want" == settled*" 0 halted "* ]] && [[ "$out" == *"contract: $want;"* ]]; then
	ok "fleet -> EVM: liar1's final reports (f = 1 liar outvoted) accepted by AttestioFeedVerifier; the option pays what attestio settle computes, to the wei"
else
	notok "fleet -> EVM: liar1 settles on chain" "${why:-$out}" "expected from node 1's status: $want"
fi
why=$(settle_node_reports "$base/n2/oracle.conf" "$base/settle-luna" luna settled "$sr" "${terms[@]}")
out=$(cat "$base/settle-luna/node-reports.log" 2> /dev/null)
want=$(settle_expect "$base/status2.json" luna 1 "$last" 2 "${money[@]}")
echo "# luna: ${out#node-reports: }"
[[ "$want" == settled*" 0 halted "* ]] && want="no halted round in 1-$last: $want"
if [ -z "$why" ] && [[ "$want" == settled* ]] && [[ "$out" == *"contract: $want;"* ]]; then
	ok "fleet -> EVM: luna's halted rounds (sources gone: stale/few) are counted, never values; the mean is the settled rounds' only, on chain and off"
else
	notok "fleet -> EVM: luna's halted rounds" "${why:-$out}" "expected from node 2's status: $want"
fi
why=$(settle_node_reports "$base/n3/oracle.conf" "$base/settle-liar2" liar2 refund "$sr" "${terms[@]}")
check "fleet -> EVM: every liar2 round halted (f + 1 liars): refunded on chain and off, never 90 degC" \
	"${why:-$(settle_refunded "$base/settle-liar2" "$last")}"
# one report's value changed, or left with one signature (t - 1): refused
d=$base/settle-liar1
settle_flip_value "$d/liar1-00000002.cbor" "$d/value.cbor"
settle_drop_sigs "$d/liar1-00000002.cbor" "$d/onesig.cbor"
o1=$(settle_files "$d" "$d/liar1-00000001.cbor" "$d/value.cbor")
o2=$(settle_files "$d" "$d/liar1-00000001.cbor" "$d/onesig.cbor")
if [[ "$o1" == *"value.cbor (round 2) rejected by the contract"* ]] &&
   [[ "$o2" == *"onesig.cbor (round 2) rejected by the contract"* ]]; then
	ok "fleet -> EVM: a report with its value changed, or with one signature of t = 2, is rejected by the contract"
	echo "# ${o1##*: }; ${o2##*: }"
else
	notok "fleet -> EVM: altered reports rejected" "value changed: $o1" "one signature: $o2"
fi
# provenance: these reports come from simulated gateways (software AKs):
# verify-report refuses them without --allow-simulated and says so with it
for k in 1 2 3 4; do printf 'node = %s\n' "${npub[$k]}"; done > "$d/nodes"
# the gateways' AKs as the nodes are configured with them (verify-report's pins)
awk '!seen[$1]++ { print $1 " = " $6 }' "$base/sim/gateways.txt" > "$d/gateways"
"$bin/attestio-oracle" final --config "$base/n1/oracle.conf" --feed liar1 --round 1 \
	-o "$d/r1.cbor" --bundle "$d/r1.bundle" 2> "$d/r1.err"
o1=$("$bin/attestio" verify-report "$d/r1.cbor" "$d/r1.bundle" --nodes "$d/nodes" \
	--gateways "$d/gateways" 2>&1); rc1=$?
o2=$("$bin/attestio" verify-report "$d/r1.cbor" "$d/r1.bundle" --nodes "$d/nodes" \
	--gateways "$d/gateways" --allow-simulated 2>&1); rc2=$?
if [ $rc1 = 1 ] && [[ "$o1" == "NOT VERIFIED: device "*"simulated gateway's software key"* ]] &&
   [ $rc2 = 0 ] && [[ "$o2" == "verified: feed liar1 round 1 settled "*$'\n'"SIMULATED: 4 of the 4 devices"* ]]; then
	ok "provenance: verify-report refuses the fleet's report without --allow-simulated and marks it SIMULATED with it"
	echo "# ${o2//$'\n'/$'\n'# }"
else
	notok "provenance of simulated reports" "without the flag (rc $rc1): $o1" "with it (rc $rc2): $o2" "$(cat "$d/r1.err")"
fi

if [ $simrc = 0 ] || [ $simrc = 6 ]; then
	ok "attestio-sim ran (exit $simrc: 6 = records of quarantined gateways left unacked)"
else
	notok "attestio-sim" "exit $simrc: $(tail -5 "$base/sim.err")"
fi
echo "# took $(( $(date +%s) - started )) s"
echo "1..$n"
[ "$fails" -eq 0 ]
