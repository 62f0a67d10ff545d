#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-kernel.sh — build (once, cached) the attestio debug kernel from
# Debian's linux-source-6.1: x86_64_defconfig + kvm_guest.config +
# tests/stress/debug.config (KASAN, KMEMLEAK, lockdep, fault injection, and
# the VM harness's drivers built in).  Runs under nice -n 19.
#
# Output, under build/debug-kernel/:
#   src/           the unpacked source (never built in)
#   obj/           the build (obj/vmlinux boots through PVH)
#   release        the kernel release string
# and /lib/modules/<release>/ (modules.builtin, so that modprobe of a
# built-in driver succeeds in the guest; build -> obj/ for M= builds).
# Prints the release on stdout.  Rebuilds only when this script, the
# fragment or the source tarball change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
dir=$top/build/debug-kernel
tarball=/usr/src/linux-source-6.1.tar.xz
frag=$here/debug.config
jobs=${JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }

[ -f "$tarball" ] || { log "$tarball missing (apt-get install linux-source-6.1)"; exit 1; }
mkdir -p "$dir"
exec 9> "$dir/.lock"
flock 9
if [ ! -f "$dir/src/.unpacked" ]; then
	log "unpacking $tarball"
	rm -rf "$dir/src" "$dir/linux-source-6.1"
	nice -n 19 tar -C "$dir" -xf "$tarball"
	mv "$dir/linux-source-6.1" "$dir/src"
	touch "$dir/src/.unpacked"
fi

# A tree that moved (another worktree's build/, mv'ed here): Kbuild wrote
# the absolute source path into obj/Makefile and every .cmd file, so every
# command would differ and everything would rebuild.  Rewrite the path in
# the generated text files instead, keeping their times.
if [ -f "$dir/obj/Makefile" ]; then
	old=$(sed -n 's|^include \(.*\)/src/Makefile$|\1|p' "$dir/obj/Makefile")
	if [ -n "$old" ] && [ "$old" != "$dir" ]; then
		case $old$dir in *[!A-Za-z0-9._/+-]*) log "cannot relocate $old"; exit 1 ;; esac
		log "the tree moved from $old: rewriting its paths"
		grep -rlIF "$old/" "$dir/obj" | while IFS= read -r f; do
			t=$(stat -c %y "$f")
			sed -i "s|$old/|$dir/|g" "$f"
			touch -d "$t" "$f"
		done
		ln -sfn "$dir/src" "$dir/obj/source"
	fi
fi

key=$({ stat -L -c '%s %Y' "$tarball"; cat "$frag" "$0"; } | sha256sum | cut -c1-16)
if [ -s "$dir/release" ] && [ -f "$dir/.built-$key" ] &&
	[ -f "$dir/obj/vmlinux" ]; then
	# the tree may have moved since modules_install made the link
	ln -sfn "$dir/obj" "/lib/modules/$(cat "$dir/release")/build"
	cat "$dir/release"
	exit 0
fi

mk() { nice -n 19 make -C "$dir/src" O="$dir/obj" "$@"; }
mkdir -p "$dir/obj"
if [ ! -f "$dir/.config-$key" ]; then
	log "configuring"
	mk -s x86_64_defconfig kvm_guest.config > /dev/null
	"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/obj" \
		"$dir/obj/.config" "$frag" > /dev/null
	mk -s olddefconfig
	# Every option the fragment asks for must have survived olddefconfig.
	bad=0
	while IFS= read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -qx "$sym=[ym]" "$dir/obj/.config" || continue
		elif grep -qxF "$line" "$dir/obj/.config"; then
			continue
		fi
		log "not in the final config: $line"
		bad=1
	done < "$frag"
	[ "$bad" = 0 ] || exit 1
	rm -f "$dir"/.config-*
	touch "$dir/.config-$key"
fi

log "building with $jobs jobs under nice -n 19 (an hour or more on 2 cores)"
mk -s -j"$jobs" vmlinux bzImage modules
release=$(mk -s kernelrelease)
mods=/lib/modules/$release
mk -s INSTALL_MOD_PATH=/ modules_install > /dev/null
ln -sfn "$dir/obj" "$mods/build"
echo "$release" > "$dir/release"
rm -f "$dir"/.built-*
touch "$dir/.built-$key"
log "built $release"
echo "$release"
