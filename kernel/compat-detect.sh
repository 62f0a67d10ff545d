#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print -D flags for kernel features that differ between supported kernels.
# Detection is by feature (what the headers declare), never by version.
# kernel/compat.h turns these into one interface.
# Usage: compat-detect.sh <kernel source tree>
srctree=$1

has() {
	grep -Eqs "$2" "$srctree/$1"
}

# 6.11 made iio_dev.masklength private behind iio_get_masklength().
has include/linux/iio/iio.h 'iio_get_masklength\(' &&
	echo -DATTESTIO_HAVE_IIO_GET_MASKLENGTH
# 6.10 gave struct tpm_buf an explicit length (tpm_buf rework).
has include/linux/tpm.h '^[[:space:]]+u32 length;' &&
	echo -DATTESTIO_HAVE_TPM_BUF_LENGTH
exit 0
