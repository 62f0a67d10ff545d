#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package attestio needs to build, test and demo.
# Idempotent and fast when everything is present.
set -euo pipefail

pkgs=(
	# build
	build-essential pkg-config clang llvm lld sparse bc flex bison
	libelf-dev kmod dkms cpio xz-utils zstd busybox-static python3
	# kernels the module is built and tested for (6.1 and 6.12), and
	# the kernel source for kunit.py, kselftest_harness.h, checkpatch.pl
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.1
	# VM and TPM
	qemu-system-x86 swtpm swtpm-tools tpm2-tools libtss2-dev socat
	# userspace libraries
	libssl-dev libbpf-dev bpftool libmosquitto-dev mosquitto
	mosquitto-clients libsqlite3-dev libsecp256k1-dev libcbor-dev
	libinih-dev libmicrohttpd-dev libsystemd-dev
	# Debian packaging (make deb) and its checks
	dpkg-dev debhelper dh-dkms lintian
	# tests
	libcmocka-dev libclang-rt-14-dev shellcheck
	# system scenarios and bench (tests/system, tests/bench): the clustered
	# broker (NATS JetStream with its MQTT listener) and the plots
	nats-server gnuplot-nox
	# the oracle status page's browser test (tests/browser)
	chromium
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run 'make deps' as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
