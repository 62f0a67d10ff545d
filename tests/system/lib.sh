# SPDX-License-Identifier: GPL-2.0
# Shared by tests/system/*.sh (sourced): oracle nodes in front of an
# attestio-sim fleet on loopback.  Callers set: top, base, bin, py.
# shellcheck shell=bash disable=SC2154,SC2034
# (bin, base, py, mport are the caller's; nid is for callers)

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
}
trap cleanup EXIT

n=0
fails=0
started=$(date +%s)
ok() { n=$((n + 1)); echo "ok $n - $1"; echo "# t+$(( $(date +%s) - started )) s"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { if [ -z "$2" ]; then ok "$1"; else notok "$1" "$2"; fi; }

# shellcheck source=tests/system/fleet-lib.sh
. "$top/tests/system/fleet-lib.sh"

# node K's configuration: [node], [link] brokers, [quorum] of NODES nodes,
# every simulated gateway (site = its simulated site), then FEEDS (a file)
node_conf() {	# k nodes feeds-file broker-urls...
	local k=$1 nn=$2 feeds=$3 d=$base/n$1 k2
	shift 3
	mkdir -p "$d"
	{
		printf '[node]\nkey = %s\ndb = %s/node.db\nallow_simulated = true\n' "${nkey[$k]}" "$d"
		printf '[link]\nkeepalive = 5\n'
		for b in "$@"; do printf 'broker = %s\n' "$b"; done
		[ -n "${mport:-}" ] && [ "$k" = 1 ] && printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$mport"
		printf '[quorum]\n'
		for k2 in $(seq "$nn"); do printf 'node = %s\n' "${npub[$k2]}"; done
		sim_gw_sections
		cat "$feeds"
	} > "$d/oracle.conf"
}
declare -A node
node_start() {
	"$bin/attestio-oracle" run --config "$base/n$1/oracle.conf" 2>> "$base/n$1/oracle.log" &
	node[$1]=$!
	pids+=("${node[$1]}")
}
# until nodes 1..K are subscribed (a broker keeps nothing for a session it
# has not seen yet)
wait_nodes() {
	local c k
	for _ in $(seq 100); do
		c=0
		for k in $(seq "$1"); do
			grep -aq "broker: Connection Accepted" "$base/n$k/oracle.log" 2> /dev/null && c=$((c + 1))
		done
		[ "$c" = "$1" ] && return 0
		sleep 0.1
	done
	echo "# nodes not connected after 10 s"
}
node_stop() { kill "${node[$1]}" 2> /dev/null; wait "${node[$1]}" 2> /dev/null; }
status() { "$bin/attestio-oracle" status --json --config "$base/n$1/oracle.conf"; }

# produced / stored / duplicated / lost per gateway, from the simulator's
# report and node K's store: prints one JSON object
accounting() {	# k
	"$py" - "$base/sim/report.json" "$base/n$1/node.db" "$base/n$1/oracle.log" <<-'EOP'
	import json, sqlite3, sys, re
	rep = json.load(open(sys.argv[1]))
	db = sqlite3.connect(sys.argv[2])
	rows = dict(db.execute("select gw, count(*) from rec group by gw").fetchall())
	uniq = dict(db.execute("select gw, count(*) from (select distinct gw, instance, stream, gen, seq from rec) group by gw").fetchall())
	ver = dict(db.execute("select gw, sum(state=0) from rec group by gw").fetchall())
	out = {"produced": 0, "stored": 0, "verified": 0, "lost": 0, "duplicated": 0, "by_gw": {}}
	for g, p in rep["produced_by_gateway"].items():
	    s = rows.get(g, 0); u = uniq.get(g, 0)
	    out["produced"] += p; out["stored"] += s; out["verified"] += ver.get(g, 0) or 0
	    out["lost"] += max(p - u, 0); out["duplicated"] += s - u
	    out["by_gw"][g] = {"produced": p, "stored": s, "verified": ver.get(g, 0) or 0}
	m = re.findall(r"stopping: .*?(\d+) duplicates", open(sys.argv[3], errors="replace").read())
	out["dropped_duplicates"] = int(m[-1]) if m else None
	print(json.dumps(out))
	EOP
}
