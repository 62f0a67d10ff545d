# SPDX-License-Identifier: GPL-2.0
# An attestio-sim fleet in front of attestio-oracle nodes (sourced by
# tests/system/lib.sh and tests/attestiod/outage.sh, whose settle scenario
# puts the gateway VM among simulated gateways): node keys, the gateway
# template, the fleet's gateway ids, the nodes' [gateway] sections and
# what a node stored of a real gateway.
# Callers set: bin, base ($base/sim is the fleet's directory).
# shellcheck shell=bash disable=SC2154,SC2034
# (bin, base are the caller's; nid is for callers)

# nodes K: secret keys, public keys, ids in nkey npub nid (1..K)
declare -A nkey npub nid
make_nodes() {
	local k
	for k in $(seq "$1"); do
		nkey[$k]=$(openssl rand -hex 32)
		read -r "npub[$k]" "nid[$k]" <<< "$("$bin/attestio-oracle" pubkey "${nkey[$k]}")"
	done
}

# gateway template for attestio-sim: brokers..., ack quorum, oracle nodes 1..K
sim_template() {	# file K quorum broker-urls...
	local f=$1 k=$2 q=$3 k2
	shift 3
	{
		printf '[gateway]\nid = 00000000000000000000000000000000\n[link]\n'
		for b in "$@"; do printf 'broker = %s\n' "$b"; done
		printf 'retransmit_ms = 3000\nbackoff_min_ms = 100\nbackoff_max_ms = 1000\nkeepalive = 5\n'
		printf '[spool]\nsync_ms = 50\n[oracle]\nack_quorum = %s\n' "$q"
		for k2 in $(seq "$k"); do printf 'node = %s\n' "${npub[$k2]}"; done
	} > "$f"
}

# gateway ids of a simulated group, in order
gws_of() { awk -v g="$1" '$2 == g { print $1 }' "$base/sim/gateways.txt"; }
# "streams = GW:0" lines (one per device: inih's lines are short) of groups
streams_of() { local g; for g in "$@"; do gws_of "$g"; done | awk '{ printf "streams = %s:0\n", $1 }'; }
# the same for gateway ids
streams_gw() { local g; for g in "$@"; do printf 'streams = %s:0\n' "$g"; done; }

# the nodes' [gateway ID] sections for every simulated gateway: its software
# AK (an "ATTESTIO SIMULATED PUBLIC KEY": allow_simulated = true) and site
sim_gw_sections() {
	awk '{ printf "[gateway %s]\nak = %s\nsite = %s\n", $1, $6, $3 }' "$base/sim/gateways.txt"
}

# stored-check DB GW PRODUCED-FILE: what a node (its store DB) holds of a
# real gateway GW against what its module produced ("stream records"
# lines): per stream, stored seqs distinct and verified, the last one
# stored; produced = stored + declared lost (the module's `lost` records,
# each counted once).  "OK figures" or "FAIL figures: why".
stored_check() {	# db gw produced-file
	"${py:-python3}" - "$1" "$2" "$3" <<-'EOP'
	import sqlite3, sys
	db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
	gw = sys.argv[2]
	prod = {int(a): int(b) for a, b in (l.split() for l in open(sys.argv[3]) if l.strip())}
	bad = []; stored = 0
	for st, p in sorted(prod.items()):
	    rows = db.execute("select instance, gen, count(*), count(distinct seq), max(seq),"
	                      " sum(state<>0) from rec where gw=? and stream=? group by instance, gen",
	                      (gw, st)).fetchall()
	    if len(rows) != 1:
	        bad.append("stream %d: %d chains stored" % (st, len(rows))); continue
	    _, _, n, nd, mx, unver = rows[0]
	    if n != nd: bad.append("stream %d: %d duplicates stored" % (st, n - nd))
	    if unver: bad.append("stream %d: %d not verified" % (st, unver))
	    if mx != p - 1: bad.append("stream %d: last seq stored %s, produced %d" % (st, mx, p))
	    stored += nd
	lost = sum(r[0] for r in db.execute(
	    "select records from (select distinct data, records from lost where gw=?)", (gw,)))
	total = sum(prod.values())
	if stored + lost != total:
	    bad.append("produced %d != delivered %d + declared lost %d" % (total, stored, lost))
	print("%s produced=%d delivered=%d declared_lost=%d%s" % (
	    "FAIL" if bad else "OK", total, stored, lost, (": " + "; ".join(bad)) if bad else ""))
	EOP
}

# $base/sim.conf for N honest gateways of one site (gateway template
# $base/gw.conf, fleet in $base/sim), and attestio-sim init (bails out)
honest_fleet() {	# epochs epoch_ms N drain_s
	cat > "$base/sim.conf" <<-EOC
	[sim]
	gateway_conf = $base/gw.conf
	dir = $base/sim
	epochs = $1
	epoch_ms = $2
	samples = 10
	drain_s = $4
	[site A]
	base = 23.15
	amplitude = 0.3
	[group h]
	count = $3
	site = A
	EOC
	"$bin/attestio-sim" init --config "$base/sim.conf" > "$base/sim-init.log" 2>&1 ||
		{ echo "Bail out! attestio-sim init: $(cat "$base/sim-init.log")"; exit 1; }
}
