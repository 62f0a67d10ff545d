#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side tests of the VM harness itself; TAP on stdout.
set -u
cd "$(dirname "$0")/../.." || exit 1
n=0
fails=0
check() {	# check NAME EXPECTED-STATUS CMD...
	local name=$1 want=$2 got
	shift 2
	n=$((n + 1))
	"$@" > /tmp/attestio-harness-$$.out 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name (exit $got, expected $want)"
		sed 's/^/# /' /tmp/attestio-harness-$$.out | tail -20
		fails=$((fails + 1))
	fi
}
check_out() {	# check_out NAME REGEX CMD...
	local name=$1 re=$2 out
	shift 2
	n=$((n + 1))
	out=$("$@" 2>&1)
	if printf '%s\n' "$out" | grep -Eq "$re"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name: output did not match /$re/"
		printf '%s\n' "$out" | sed 's/^/# /' | tail -20
		fails=$((fails + 1))
	fi
}
echo "TAP version 13"
check guest_false_fails 1 tests/vm/run -- false
check guest_status_passed 7 tests/vm/run -- sh -c 'exit 7'
check_out kernel_6_12 '^6\.12\.' tests/vm/run --kernel 6.12 -- uname -r
check_out tpm_getrandom '^[0-9a-f]{16}$' tests/vm/run -- tpm2_getrandom --hex 8
check no_tpm_has_none 0 tests/vm/run --no-tpm -- sh -c \
	'test ! -e /dev/tpm0 && test ! -e /dev/tpmrm0'
check kernel_crash_fails_run 125 tests/vm/run -- sh -c \
	'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger; true'
check_out kernel_6_1 '^6\.1\.' tests/vm/run -- uname -r
# shellcheck disable=SC2016  # expanded by the inner shell
check writes_project_tree 0 sh -c 'f=build/vm/.selftest-write-$$; rm -f "$f"
	tests/vm/run -- sh -c "echo hi > $f" && [ "$(cat "$f")" = hi ] && rm -f "$f"'
check uhid_sensor_hub 0 tests/vm/run -- sh -c \
	'modprobe -a uhid hid-sensor-hub && test -c /dev/uhid'
check kernel_warning_fails_run 125 tests/vm/run -- sh -c \
	'echo "<4>WARNING: CPU: 0 PID: 1 at selftest" > /dev/kmsg'
# What the debug kernel's checkers print (make stress): each header alone
# must fail the run.
for splat in "BUG: KASAN: slab-out-of-bounds in selftest+0x1/0x2" \
	"WARNING: possible circular locking dependency detected" \
	"UBSAN: shift-out-of-bounds in selftest.c:1:2" \
	"kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"; do
	check "splat_fails_run: ${splat%% *}" 125 tests/vm/run -- sh -c \
		"echo '<3>$splat' > /dev/kmsg"
done
check timeout_fails_run 124 tests/vm/run --timeout 10 -- sleep 60
# SIGTERM mid-run: status 143 and no QEMU/swtpm left (found by their run dir).
# shellcheck disable=SC2016  # expanded by the inner shell
check sigterm_leaves_nothing 0 sh -c 'd=$(mktemp -d); export TMPDIR=$d
	tests/vm/run -- sleep 60 & p=$!; sleep 3; kill -TERM $p; wait $p; rc=$?
	sleep 0.5; left=$(pgrep -f "$d/"); rmdir "$d"
	[ "$rc" = 143 ] && [ -z "$left" ]'
# --forward: a service on the host's loopback (port 18869) is reached through
# the forwarded 10.0.2.100:7000 ("vm-host") only; the same service through
# the host alias 10.0.2.2, and a port not forwarded, are unreachable
# (restrict=on).  Each probe prints the first line read or "refused".
fwd_server() {
	/usr/bin/python3 -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18869)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"fwd-ok\n"); c.close()' &
	fwd_pid=$!
}
fwd_server
# shellcheck disable=SC2016  # expanded in the guest
check_out forward_reaches_only_forwarded '^fwd-ok refused refused$' \
	tests/vm/run --forward 7000:18869 -- bash -c 'probe() {
		timeout 5 bash -c "head -n 1 < /dev/tcp/$1/$2" 2> /dev/null || echo refused; }
	echo "$(probe vm-host 7000) $(probe 10.0.2.2 18869) $(probe 10.0.2.100 7001)"'
kill "$fwd_pid" 2> /dev/null
wait "$fwd_pid" 2> /dev/null
check no_forward_no_network 0 tests/vm/run -- sh -c '! test -e /sys/class/net/eth0'
rm -f /tmp/attestio-harness-$$.out
echo "1..$n"
[ "$fails" -eq 0 ]
