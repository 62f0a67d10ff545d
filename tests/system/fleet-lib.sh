# SPDX-License-Identifier: GPL-2.0
# An attestio-sim fleet in front of attestio-oracle nodes (sourced by
# tests/system/lib.sh and tests/attestiod/outage.sh, whose settle scenario
# puts the gateway VM among simulated gateways): node keys, the gateway
# template, the fleet's gateway ids and the nodes' [gateway] sections.
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
