# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Read attestiod's Prometheus metrics on 127.0.0.1:$mport, sourced by the
# guest tests and benchmarks.  bash's /dev/tcp: a python3 start costs
# seconds under TCG.

metric1() {	# name -> value (empty if unreachable)
	local l
	{
		exec 3<> "/dev/tcp/127.0.0.1/${mport:?}" || return
		printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
		while read -r -t 10 l <&3; do
			[[ $l == "attestiod_$1 "* ]] && echo "${l#* }"
		done
		exec 3<&-
	} 2> /dev/null | tr -d '\r'
}

metric() {	# name -> value (empty if unreachable; 3 tries)
	local v
	for _ in 1 2 3; do
		v=$(metric1 "$1")
		[ -n "$v" ] && break
	done
	echo "$v"
}

wait_metric() {	# name value timeout_s
	local end=$((SECONDS + $3))
	while [ $SECONDS -le $end ]; do
		[ "$(metric "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

settle() {	# name timeout_s: until the metric has not changed for 1 s
	local prev=x cur end=$((SECONDS + $2))
	while [ $SECONDS -le $end ]; do
		cur=$(metric "$1")
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
		sleep 1
	done
	return 1
}
