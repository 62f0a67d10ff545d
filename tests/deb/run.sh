#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian packages (make deb, debian/): build them, lintian, install them
# on this machine with apt, check that DKMS built the module for every
# kernel with headers, boot each kernel and `modprobe attestio` the DKMS
# build (tests/vm/run --module dkms), then purge and check that nothing is
# left.  TAP on stdout.  Root only; it installs and removes only attestio's
# own packages, and leaves the host's /lib/modules/<kver>/updates and
# modules.dep as they were (the VM harness and the static suite use them).
# DEB_SKIP_BUILD=1 reuses the .debs already in build/deb/.
#
# Two sizes.  make check (no argument): with DKMS's own switch
# /etc/dkms/no-autoinstall set for the install (the package honours it and
# only registers the source) and update_initramfs=no (initramfs-tools) until
# after the purge, DKMS builds for one kernel (the first with
# headers, or DEB_KERNEL) as `dkms install` does on an administrator's
# command, and that one kernel boots.  --full (make stress): the package's
# postinst builds for every kernel with headers, every kernel boots, and
# the initramfs of the newest one holds the module (the packaged hook).
set -u
full=0
[ "${1:-}" = --full ] && full=1
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d /tmp/attestio-deb.XXXXXX)
pkgs=(attestio-dkms attestio libattestio0 libattestio-dev attestio-oracle)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
installed=0 user_before=0 noauto=0 noinitrd=0
uic=/etc/initramfs-tools/update-initramfs.conf
lockdir=/run/lock
[ -d "$lockdir" ] && [ -w "$lockdir" ] || lockdir=/tmp

n=0
fails=0
ok() {	# ok STATUS NAME [DIAG-FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
		if [ -n "${3:-}" ] && [ -f "$3" ]; then sed 's/^/# /' "$3" | tail -25; fi
	fi
}
bail() { echo "Bail out! $*"; exit 1; }
elapsed() { echo "# $1 after $SECONDS s"; }

# Kernels DKMS must build for: every one with headers.
kernels=()
for h in /lib/modules/*/build/include; do
	[ -d "$h" ] || continue
	k=${h#/lib/modules/}
	kernels+=("${k%/build/include}")
done

# with_locks CMD...: run CMD holding the lock of DKMS's attestio entry,
# which tests/check.sh's static suite takes around `make dkms-install`.
# (The VM harness's per-kernel module locks are not taken: they would stall
# every VM run for the minutes DKMS builds take; depmod replaces its files
# atomically.)
with_locks() {
	local lfd rc
	# held from the install to the purge (hold_lock): run under it
	[ -n "$held_fd" ] && { "$@"; return; }
	# {lfd}> keeps the descriptor open after the command: close it here,
	# or the lock would outlive the call.
	exec {lfd}> "$lockdir/attestio-dkms.lock" || return 1
	if flock "$lfd"; then
		"$@"
		rc=$?
	else
		rc=1
	fi
	exec {lfd}>&-
	return $rc
}

# From the install to the purge the package owns /usr/src/attestio-VER and
# DKMS's attestio entry, which the static suite's `make dkms-install` and
# `make dkms-uninstall` (rm -rf /usr/src/attestio-VER) also use: hold the
# lock the whole time, not per command.  (Seen: another tree's static suite
# ran between this suite's apt-get install and its dkms install, and the
# package's source directory was gone: "Directory: /usr/src/attestio-0.1.0
# does not exist".)
held_fd=''
hold_lock() {
	exec {held_fd}> "$lockdir/attestio-dkms.lock" && flock "$held_fd"
}
release_lock() {
	[ -n "$held_fd" ] && exec {held_fd}>&-
	held_fd=''
}

# --full: all kernels; else one (DEB_KERNEL or the first).
if [ $full = 0 ] && [ ${#kernels[@]} -gt 0 ]; then
	kernels=("${DEB_KERNEL:-${kernels[0]}}")
fi

purge() {
	local p present=()
	for p in "${pkgs[@]}"; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv '^unknown\|not-installed'; then
			present+=("$p")
		fi
	done
	[ ${#present[@]} -eq 0 ] && return 0
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${present[@]}"
}

# Not --full: initramfs-tools' own switch (update_initramfs=no) keeps the
# packaged hook's dpkg trigger from rebuilding the host's initramfs on
# install and purge (minutes each on a loaded machine); --full tests it.
initrd_off() {
	[ $full = 0 ] && [ -f "$uic" ] && grep -q '^update_initramfs=yes' "$uic" || return 0
	cp -p "$uic" "$tmp/uic" && sed -i 's/^update_initramfs=yes/update_initramfs=no/' "$uic" && noinitrd=1
}
initrd_on() {
	[ "$noinitrd" = 1 ] && cp -p "$tmp/uic" "$uic" && noinitrd=0
	return 0
}

cleanup() {
	[ "$noauto" = 1 ] && rm -f /etc/dkms/no-autoinstall
	initrd_on
	if [ "$installed" = 1 ]; then
		with_locks purge > "$tmp/cleanup.log" 2>&1 || cat "$tmp/cleanup.log" >&2
	fi
	if [ "$user_before" = 0 ] && getent passwd attestio > /dev/null; then
		deluser --system --quiet attestio > /dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "TAP version 13"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (apt install)"; exit 0; }
for t in dpkg-buildpackage dh dh_dkms lintian dkms apt-get; do
	command -v "$t" > /dev/null || bail "$t not found (make deps)"
done
[ ${#kernels[@]} -gt 0 ] || bail "no kernel headers installed"
getent passwd attestio > /dev/null && user_before=1

# ------------------------------------------------------------ build ---
if [ "${DEB_SKIP_BUILD:-0}" != 1 ]; then
	nice -n 10 make -s deb > "$tmp/build.log" 2>&1
	ok $? "make deb" "$tmp/build.log"
	elapsed "built"
fi
debs=()
missing=''
for p in "${pkgs[@]}"; do
	f=''
	for d in build/deb/"${p}_${ver}"_*.deb; do [ -f "$d" ] && f=$d; done
	if [ -n "$f" ]; then debs+=("./$f"); else missing="$missing $p"; fi
done
[ -z "$missing" ]
ok $? "packages at version $ver (dkms.conf): ${pkgs[*]}${missing:+ (missing:$missing)}"
[ -z "$missing" ] || bail "packages missing"
printf '%s\n' "${debs[@]}" > "$tmp/debs"

# ---------------------------------------------------------- lintian ---
lintian --fail-on error,warning --suppress-tags-from-file /dev/null \
	build/deb/attestio_"$ver"_*.changes > "$tmp/lintian.log" 2>&1
rc=$?
grep -E '^(E|W): ' "$tmp/lintian.log" > "$tmp/lintian.ew"
[ $rc -eq 0 ] && [ ! -s "$tmp/lintian.ew" ]
ok $? "lintian: no errors or warnings" "$tmp/lintian.log"
elapsed "lintian done"

# ---------------------------------------------------------- install ---
# Under the lock: the static suite registers and removes attestio with DKMS
# (make dkms-install) under it.
registered_outside() {
	dkms status attestio 2>/dev/null | grep -q . && ! dpkg-query -W attestio-dkms > /dev/null 2>&1
}
hold_lock || bail "cannot take $lockdir/attestio-dkms.lock"
if with_locks registered_outside; then
	dkms status attestio | sed 's/^/# /'
	bail "attestio is registered with DKMS outside the package (make dkms-install); not touching it"
fi
installed=1
if [ $full = 1 ]; then
	# The package's own postinst builds for each kernel with headers.
	with_locks env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${debs[@]}" > "$tmp/install.log" 2>&1
	ok $? "apt-get install ./build/deb/*.deb" "$tmp/install.log"
else
	initrd_off
	if [ ! -e /etc/dkms/no-autoinstall ]; then
		noauto=1
		mkdir -p /etc/dkms && touch /etc/dkms/no-autoinstall
	fi
	with_locks env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${debs[@]}" > "$tmp/install.log" 2>&1
	rc=$?
	[ "$noauto" = 1 ] && rm -f /etc/dkms/no-autoinstall
	noauto=0
	[ $rc -eq 0 ] && grep -q 'attestio-dkms: /etc/dkms/no-autoinstall: not building' "$tmp/install.log" &&
		dkms status attestio | grep -q "^attestio/$ver: added"
	ok $? "apt-get install ./build/deb/*.deb with /etc/dkms/no-autoinstall: source registered, nothing built" "$tmp/install.log"
	with_locks dkms install --force -m attestio -v "$ver" -k "${kernels[0]}" > "$tmp/dkms-install.log" 2>&1
	ok $? "dkms install -m attestio -v $ver -k ${kernels[0]}" "$tmp/dkms-install.log"
fi
elapsed "installed"

dkms status attestio > "$tmp/dkms" 2>&1
# "installed" in dkms status is not enough: DKMS says so, and copies
# nothing, when an attestio.ko of the same version lies elsewhere in
# /lib/modules (as the VM harness's does); the package's postinst forces it.
for k in "${kernels[@]}"; do
	inst='' built=''
	for f in "/lib/modules/$k/updates/dkms/attestio.ko"*; do [ -f "$f" ] && inst=$f; done
	for f in "/var/lib/dkms/attestio/$ver/$k/x86_64/module/attestio.ko"*; do [ -f "$f" ] && built=$f; done
	grep -q "^attestio/$ver, $k, [^:]*: installed" "$tmp/dkms" &&
		[ -n "$inst" ] && [ -n "$built" ] && cmp -s "$inst" "$built"
	ok $? "dkms status: attestio/$ver installed for $k, ${inst:-no module} is DKMS's build" "$tmp/dkms"
done

for b in attestio attestiod attestio-oracle; do
	[ -x "/usr/bin/$b" ] && ldd "/usr/bin/$b" > "$tmp/ldd" 2>&1 && ! grep -q 'not found' "$tmp/ldd"
	ok $? "/usr/bin/$b installed, its libraries found" "$tmp/ldd"
done
/usr/bin/attestio --version > "$tmp/v" 2>&1 && grep -q "$ver" "$tmp/v"
ok $? "attestio --version says $ver" "$tmp/v"
# The packaged configuration is all comments: attestiod refuses it, naming
# the first required key it lacks (exit 2), until setup writes a real one
# (the gateway id may come from the TPM's EK, so that is the broker now).
/usr/bin/attestiod --check-config --config /etc/attestio/attestiod.conf > "$tmp/cc" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -qE '\] [a-z_]+ is required' "$tmp/cc"
ok $? "attestiod --check-config on the packaged config: exit 2 naming the missing key (got $rc)" "$tmp/cc"
grep -q '^ExecStart=/usr/bin/attestiod ' /lib/systemd/system/attestiod.service
ok $? "attestiod.service runs /usr/bin/attestiod"
cat > "$tmp/t.c" <<'EOC'
#include <libattestio.h>
#include <linux/attestio.h>
int main(void) { return ATTESTIO_RECORD_MAGIC == 0; }
EOC
grep -q ATTESTIO_RECORD_MAGIC /usr/include/linux/attestio.h ||
	sed -i 's/ATTESTIO_RECORD_MAGIC == 0/0/' "$tmp/t.c"
cc -o "$tmp/t" "$tmp/t.c" -lattestio > "$tmp/cc.log" 2>&1 && "$tmp/t"
ok $? "a program builds against libattestio-dev and runs with libattestio0" "$tmp/cc.log"
for f in /usr/share/initramfs-tools/hooks/attestio /usr/share/initramfs-tools/scripts/init-top/attestio; do
	[ -x "$f" ] || echo "$f missing or not executable"
done > "$tmp/hook"
[ ! -s "$tmp/hook" ]
ok $? "the initramfs hook and init-top script are installed" "$tmp/hook"
if [ $full = 1 ]; then
	# dpkg's trigger rebuilt the newest kernel's initramfs with the hook.
	newest=${kernels[${#kernels[@]} - 1]}
	lsinitramfs "/boot/initrd.img-$newest" > "$tmp/initrd" 2>&1
	grep -q 'attestio\.ko' "$tmp/initrd" && grep -q 'scripts/init-top/attestio' "$tmp/initrd"
	ok $? "initrd.img-$newest holds attestio.ko and the init-top script" "$tmp/initrd"
fi
[ "$(stat -c %U:%G:%a /var/lib/attestio-oracle 2>/dev/null)" = attestio:attestio:750 ] &&
	getent passwd attestio | grep -q ':/var/lib/attestio-oracle:'
ok $? "attestio system user, /var/lib/attestio-oracle attestio:attestio 0750"

# ------------------------------------------------------------ guest ---
pids=()
for k in "${kernels[@]}"; do
	tests/vm/run --kernel "$k" --module dkms --no-tpm --timeout 300 -- \
		tests/deb/guest.sh "$ver" > "$tmp/guest-$k.log" 2>&1 &
	pids+=($!)
done
i=0
for k in "${kernels[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	i=$((i + 1))
	grep -q '^ok - ' "$tmp/guest-$k.log" && ! grep -q '^not ok' "$tmp/guest-$k.log" && [ $rc -eq 0 ]
	ok $? "guest $k: modprobe attestio loads the DKMS build (exit $rc)" "$tmp/guest-$k.log"
done
elapsed "guests done"

# ---------------------------------------------------------- upgrade ---
# --full (or DEB_UPGRADE=1): build the same tree as version $ver.1 and
# install it over this one, as an operator upgrading would
# (Documentation/operations.md, "Upgrading"): DKMS has only the new version,
# built for every kernel; the operator's edit of attestiod.conf (a
# conffile) and attestiod's spool directory are kept.
if [ $full = 1 ] || [ "${DEB_UPGRADE:-0}" = 1 ]; then
	nver=$ver.1
	up=$tmp/up
	mkdir -p "$up/src"
	tar -c --exclude=./.git --exclude=./build --exclude-vcs-ignores . | tar -x -C "$up/src"
	# the version lives in dkms.conf (packages, DKMS), the CLI and the module
	sed -i "s/^PACKAGE_VERSION=\"$ver\"/PACKAGE_VERSION=\"$nver\"/" "$up/src/dkms.conf"
	sed -i "s/define ATTESTIO_VERSION \"$ver\"/define ATTESTIO_VERSION \"$nver\"/" \
		"$up/src/user/cli/attestio/util.h" "$up/src/kernel/version.h"
	{
		printf 'attestio (%s) unstable; urgency=medium\n\n  * Upgrade test build.\n\n' "$nver"
		printf ' -- attestio tests <tests@attestio.invalid>  %s\n\n' "$(date -R)"
		cat debian/changelog
	} > "$up/src/debian/changelog"
	nice -n 10 make -s -C "$up/src" deb > "$up/build.log" 2>&1
	ndebs=()
	for p in "${pkgs[@]}"; do
		for d in "$up/src/build/deb/${p}_${nver}"_*.deb; do [ -f "$d" ] && ndebs+=("$d"); done
	done
	[ ${#ndebs[@]} = ${#pkgs[@]} ]
	ok $? "make deb of the tree as version $nver" "$up/build.log"
	elapsed "upgrade built"
	echo "# operator's edit, kept across upgrades" >> /etc/attestio/attestiod.conf
	mkdir -p /var/lib/attestiod && echo spool > /var/lib/attestiod/upgrade-test
	with_locks env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${ndebs[@]}" > "$tmp/upgrade.log" 2>&1
	ok $? "apt-get install of the $nver packages over $ver" "$tmp/upgrade.log"
	dkms status attestio > "$tmp/dkms" 2>&1
	! grep -q "^attestio/${ver}[,:]" "$tmp/dkms" && [ ! -e "/usr/src/attestio-$ver" ]
	ok $? "DKMS no longer has attestio/$ver, /usr/src/attestio-$ver gone" "$tmp/dkms"
	for k in "${kernels[@]}"; do
		inst='' built=''
		for f in "/lib/modules/$k/updates/dkms/attestio.ko"*; do [ -f "$f" ] && inst=$f; done
		for f in "/var/lib/dkms/attestio/$nver/$k/x86_64/module/attestio.ko"*; do [ -f "$f" ] && built=$f; done
		grep -q "^attestio/$nver, $k, [^:]*: installed" "$tmp/dkms" &&
			[ -n "$inst" ] && [ -n "$built" ] && cmp -s "$inst" "$built" &&
			modinfo -F version "$inst" | grep -qx "$nver"
		ok $? "after the upgrade attestio/$nver is installed for $k and is the module in updates/dkms" "$tmp/dkms"
	done
	/usr/bin/attestio --version > "$tmp/v" 2>&1 && grep -q "attestio $nver " "$tmp/v"
	ok $? "attestio --version says $nver" "$tmp/v"
	grep -qx "# operator's edit, kept across upgrades" /etc/attestio/attestiod.conf &&
		[ "$(cat /var/lib/attestiod/upgrade-test 2>/dev/null)" = spool ]
	ok $? "the operator's attestiod.conf and attestiod's spool directory are kept"
	ver=$nver
	elapsed "upgraded"
fi

# ------------------------------------------------------------ purge ---
for p in "${pkgs[@]}"; do dpkg-query -L "$p"; done 2>/dev/null | sort -u > "$tmp/files"
with_locks purge > "$tmp/purge.log" 2>&1
ok $? "apt-get purge ${pkgs[*]}" "$tmp/purge.log"
initrd_on
installed=0
release_lock
dkms status attestio > "$tmp/dkms" 2>&1
[ ! -s "$tmp/dkms" ] && [ ! -e /var/lib/dkms/attestio ] && [ ! -e "/usr/src/attestio-$ver" ]
ok $? "dkms status empty, /var/lib/dkms/attestio and /usr/src/attestio-$ver gone" "$tmp/dkms"
: > "$tmp/left"
while read -r f; do
	[ -e "$f" ] || continue
	[ -d "$f" ] && continue	# shared directories (/usr/bin, /lib -> usr/lib, ...)
	echo "$f" >> "$tmp/left"
done < "$tmp/files"
for f in /etc/attestio /var/lib/attestio-oracle /var/lib/attestiod \
	/lib/modules/*/updates/dkms/attestio.ko*; do
	[ -e "$f" ] && echo "$f" >> "$tmp/left"
done
[ ! -s "$tmp/left" ]
ok $? "no file of the packages left" "$tmp/left"
# modules.dep is back to the harness's module (or to none).
: > "$tmp/dep"
for k in "${kernels[@]}"; do
	dep=/lib/modules/$k/modules.dep
	grep -q '^updates/dkms/attestio\.ko' "$dep" && echo "$k: modules.dep names the DKMS module" >> "$tmp/dep"
	if [ -f "/lib/modules/$k/updates/attestio.ko" ] && ! grep -q '^updates/attestio\.ko:' "$dep"; then
		echo "$k: modules.dep lost updates/attestio.ko" >> "$tmp/dep"
	fi
done
[ ! -s "$tmp/dep" ]
ok $? "modules.dep restored for ${kernels[*]}" "$tmp/dep"
if [ $full = 1 ]; then
	lsinitramfs "/boot/initrd.img-$newest" > "$tmp/initrd" 2>&1
	! grep -q 'attestio\.ko\|init-top/attestio' "$tmp/initrd"
	ok $? "after purge initrd.img-$newest holds no attestio" "$tmp/initrd"
fi
elapsed "done"

echo "1..$n"
[ "$fails" -eq 0 ]
