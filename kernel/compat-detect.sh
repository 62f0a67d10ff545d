#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print -D flags for kernel features that differ between supported kernels.
# Detection is by feature (what the headers declare), never by version.
# Usage: compat-detect.sh <kernel source tree>
srctree=$1

has() {
	grep -Eqs "$2" "$srctree/$1"
}

# tpm_send() was removed after 6.12's tpm_buf rework in stable series.
has include/linux/tpm.h '^extern int tpm_send\(' && echo -DATTESTIO_HAVE_TPM_SEND
# lib/crypto renamed struct sha256_state to struct sha256_ctx in 6.16.
has include/crypto/sha2.h '^struct sha256_ctx \{' && echo -DATTESTIO_HAVE_SHA256_CTX
# iio_device_claim_direct_mode() became iio_device_claim_direct() in 6.15.
has include/linux/iio/iio.h 'int iio_device_claim_direct_mode\(' && echo -DATTESTIO_HAVE_CLAIM_DIRECT_MODE
exit 0
