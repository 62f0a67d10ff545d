# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Test PKI for the loopback scenarios and benchmarks, sourced:
#   mkpki DIR CA-NAME NAME...  -> DIR/ca.{crt,key}, DIR/NAME.{crt,key}
# P-256 keys, CN = NAME, subjectAltName vm-host, localhost, 127.0.0.1
# (vm-host: the host as a tests/vm/run --forward guest names it).
mkpki() {
	local dir=$1 caname=$2 c
	shift 2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/ca.key" -subj "/CN=$caname" -days 2 -out "$dir/ca.crt" 2> /dev/null
	for c in "$@"; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$dir/$c.key" -subj "/CN=$c" -out "$dir/$c.csr" 2> /dev/null
		printf 'subjectAltName=DNS:vm-host,DNS:localhost,IP:127.0.0.1\n' > "$dir/$c.ext"
		openssl x509 -req -in "$dir/$c.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
			-CAcreateserial -days 2 -extfile "$dir/$c.ext" -out "$dir/$c.crt" 2> /dev/null
	done
}
