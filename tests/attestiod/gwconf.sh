# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# attestiod's configuration for a gateway VM of the guest tests (sourced by
# tests/attestiod/outage-guest.sh and tests/system/vmfleet-guest.sh): the
# real module through source bpf, a disk spool, mutual TLS to the host's
# broker through the guest's --forward (mqtts://vm-host:GPORT), MQTT 5.
#   guest_gw_conf ID SPOOL-DB PKI-DIR GPORT METRICS-PORT NODE-KEY...
guest_gw_conf() {
	local id=$1 spool=$2 pki=$3 fwd=$4 mport=$5
	shift 5
	cat <<-EOC
	[gateway]
	id = $id
	# a test id, not the TPM's EK's: no enrollment (attestiod.md)
	[tpm]
	enroll = off
	[source]
	type = bpf
	[spool]
	path = $spool
	sync_records = 256
	sync_ms = 50
	[link]
	broker = mqtts://vm-host:$fwd
	ca = $pki/ca.crt
	cert = $pki/gw.crt
	key = $pki/gw.key
	retransmit_ms = 30000
	mqtt = 5
	backoff_min_ms = 100
	backoff_max_ms = 800
	keepalive = 5
	[metrics]
	listen = 127.0.0.1:$mport
	[oracle]
	EOC
	printf 'node = %s\n' "$@"
}
