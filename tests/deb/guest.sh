#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run by tests/deb/run.sh in the guest (tests/vm/run --module dkms):
# `modprobe attestio` must load the module the attestio-dkms package had
# DKMS build and install on the host, byte for byte.  Prints TAP lines
# without a plan; the caller numbers nothing (it counts "ok"/"not ok").
set -u
kv=$(uname -r)
ver=${1:?version}
fails=0
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; [ -n "${2:-}" ] && echo "# $2"; fails=$((fails + 1)); }

built=''
for f in "/var/lib/dkms/attestio/$ver/$kv/x86_64/module/attestio.ko"*; do
	[ -f "$f" ] && built=$f
done
path=$(modinfo -n attestio 2>&1)
if [ -z "$built" ]; then
	notok "$kv: DKMS built attestio/$ver" "nothing under /var/lib/dkms/attestio/$ver/$kv"
elif cmp -s "$built" "$path"; then
	ok "$kv: modprobe resolves attestio to the DKMS build ($path)"
else
	notok "$kv: modprobe resolves attestio to the DKMS build" "$path differs from $built"
fi
if modprobe attestio 2>&1; then
	ok "$kv: modprobe attestio"
else
	notok "$kv: modprobe attestio"
fi
v=$(cat /sys/kernel/attestio/version 2>/dev/null)
if [ "$v" = "$ver" ]; then
	ok "$kv: /sys/kernel/attestio/version is $ver"
else
	notok "$kv: /sys/kernel/attestio/version is $ver" "got '$v'"
fi
if modprobe -r attestio 2>&1; then ok "$kv: modprobe -r attestio"; else notok "$kv: modprobe -r attestio"; fi
exit $((fails > 0))
