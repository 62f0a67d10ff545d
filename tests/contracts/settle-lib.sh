# SPDX-License-Identifier: GPL-2.0
# Shared by the suites that settle a TemperatureOption on the in-process EVM
# with the final reports real attestio-oracle nodes made (sourced by
# tests/oracle/run.sh, tests/system/run.sh, tests/attestiod/settle.sh and
# tests/demo.sh): the nodes' reports exported with `attestio-oracle final`,
# the option's description from `attestio-oracle contract-params` plus the
# terms, and user/contracts/test/node-reports.js, which submits every
# report to AttestioFeedVerifier + TemperatureOption, settles, and compares
# with `attestio settle` on the same files (to the wei).  Callers set: top,
# bin, py.
# shellcheck shell=bash disable=SC2154
# (top, bin, py are the caller's)

# the npm toolchain (lockfile, offline) and attestio, once
settle_setup() {
	local msg
	if [ ! -d "$top/user/contracts/node_modules/@ethereumjs/vm" ] || [ ! -x "$bin/attestio" ]; then
		msg=$("$top/tests/contracts/setup.sh") || echo "# contracts setup: $msg"
	fi
}

# Export the final reports of FEED from the node whose configuration is
# CONF into DIR, write DIR/option.conf (contract-params + TERMS) and run
# node-reports.js over ROUNDS expecting WANT (settled / refund); its line
# goes to DIR/node-reports.log.  Prints nothing on success, else why.
settle_node_reports() {	# conf dir feed want rounds terms...
	local conf=$1 dir=$2 feed=$3 want=$4 rounds=$5 r files="" out
	shift 5
	mkdir -p "$dir"
	"$bin/attestio-oracle" final --config "$conf" --feed "$feed" --all \
		-o "$dir" 2> "$dir/final.err" || { echo "export: $(cat "$dir/final.err")"; return; }
	for r in $rounds; do files="$files $(printf '%s/%s-%08d.cbor' "$dir" "$feed" "$r")"; done
	{
		"$bin/attestio-oracle" contract-params --config "$conf" --feed "$feed"
		printf '%s\n' "$@"
	} > "$dir/option.conf" 2> "$dir/params.err" || { echo "contract-params: $(cat "$dir/params.err")"; return; }
	out=$(cd "$top/user/contracts" && ATTESTIO_DESC=$dir/option.conf ATTESTIO_REPORTS=$files \
		ATTESTIO_EXPECT=$want node test/node-reports.js 2>&1)
	echo "$out" > "$dir/node-reports.log"
	[[ "$out" == "node-reports: ok "* ]] || echo "$out" | tail -5
}

# node-reports.js over report FILES with an existing DIR/option.conf: its
# line ("node-reports: ok ..." or "node-reports: FAIL ...")
settle_files() {	# dir files...
	local dir=$1
	shift
	(cd "$top/user/contracts" && ATTESTIO_DESC=$dir/option.conf ATTESTIO_REPORTS="$*" \
		node test/node-reports.js 2>&1)
}

# What the contract must do, from a node's own view (`attestio-oracle
# status --json`) of rounds FIRST..LAST of FEED: status-0 rounds averaged
# (truncated toward zero), halted rounds only counted; the buyer gets
# (mean - strike) x notional, at most the pool.  Prints "settled N settled
# H halted mean M buyer B seller S wei" as node-reports.js does, or why not.
settle_expect() {	# status.json feed first last min_rounds strike notional buyer_dep seller_dep
	"$py" - "$@" <<-'EOP'
	import json, sys
	d = json.load(open(sys.argv[1]))
	feed = sys.argv[2]
	first, last, minr, strike, notional, bdep, sdep = map(int, sys.argv[3:10])
	f = [x for x in d["feeds"] if x["name"] == feed][0]
	r = {x["round"]: x for x in f["final"] if first <= x["round"] <= last}
	vals = [r[k]["value"] for k in sorted(r) if r[k]["status"] == 0]
	halted = len(r) - len(vals)
	if len(r) != last - first + 1 or len(vals) < minr:
	    print("rounds %d-%d: %d final, %d halted" % (first, last, len(r), halted)); sys.exit()
	s = sum(vals)
	mean = abs(s) // len(vals) * (1 if s >= 0 else -1)
	buyer = min(max(mean - strike, 0) * notional, bdep + sdep)
	print("settled %d settled %d halted mean %d buyer %d seller %d wei" % (len(vals), halted, mean, buyer, bdep + sdep - buyer))
	EOP
}

# A copy of final report IN with one byte of its core's value word flipped
# (the core is bytes 4..227: abi.encode(feedId, round, value, ...), value
# the third word): OUT
settle_flip_value() {	# in out
	"$py" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[4 + 95] ^= 1; open(sys.argv[2], "wb").write(b)' "$1" "$2"
}

# A copy of final report IN with only its first signature left (t - 1 = 1
# of t = 2 when f = 1): OUT
settle_drop_sigs() {	# in out
	"$py" -c 'import sys; b = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(b[:228] + b"\x02\x81" + b[230:297])' "$1" "$2"
}

# "" if DIR's node-reports.js run refunded both deposits (default terms:
# 0.1 and 1 ether) with all N rounds halted, on chain and off; else why
settle_refunded() {	# dir n
	local out
	out=$(cat "$1/node-reports.log" 2> /dev/null)
	[[ "$out" == *"contract: refund 0 settled $2 halted buyer 100000000000000000 seller 1000000000000000000 wei; attestio settle (exit 6): refund "* ]] ||
		echo "${out:-no node-reports.js result in $1}"
}
