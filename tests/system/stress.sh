#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress, system part: the system suites at full size.  Scenarios over
# 60 epochs; the NATS failover with 100 gateways over 120 epochs; the scale
# run of 1,000 gateways x 1 epoch/s for 10 minutes on one oracle node (the
# fleet's spools in /dev/shm); three gateway VMs among 20 simulated
# gateways for 30 rounds on each kernel.  TAP.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
simdir=/dev/shm/attestio-stress-sim.$$
trap 'rm -rf "$simdir"' EXIT
rc=0
SYSTEM_EPOCHS=60 "$dir/run.sh" || rc=1
SYSTEM_NATS_EPOCHS=120 SYSTEM_NATS_GATEWAYS=100 "$dir/nats.sh" || rc=1
SYSTEM_SCALE_GATEWAYS=${SYSTEM_SCALE_GATEWAYS:-1000} SYSTEM_SCALE_SECONDS=${SYSTEM_SCALE_SECONDS:-600} \
	SYSTEM_SCALE_SIMDIR=$simdir/sim "$dir/scale.sh" || rc=1
for k in 6.1 6.12; do "$dir/vmfleet.sh" --kernel "$k" --rounds 30 --sims 20 || rc=1; done
exit $rc
