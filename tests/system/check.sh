#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The system suites at CI size (make check): the scenarios on mosquitto,
# the 3-node NATS JetStream cluster with a node killed mid-stream, the
# scale run (50 gateways x 1 epoch/s for 60 s), acks 4 s late on every
# gateway's path (lateack.sh) and a node whose disk fills (nodefull.sh).  Full sizes: make stress /
# make bench (SYSTEM_SCALE_GATEWAYS, SYSTEM_SCALE_SECONDS).  TAP.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
rc=0
for s in run.sh nats.sh scale.sh lateack.sh nodefull.sh; do
	t0=$(date +%s)
	"$dir/$s" || rc=1
	echo "# tests/system/$s took $(( $(date +%s) - t0 )) s"
done
exit $rc
