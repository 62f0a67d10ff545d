/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between supported kernels, in one place.  The
 * ATTESTIO_HAVE_* macros come from compat-detect.sh, which looks at what the
 * kernel headers declare rather than at version numbers.
 */
#ifndef _ATTESTIO_COMPAT_H
#define _ATTESTIO_COMPAT_H

#include <linux/iio/iio.h>
#include <linux/string.h>
#include <linux/tpm.h>

#ifndef ATTESTIO_HAVE_IIO_GET_MASKLENGTH
static inline unsigned int iio_get_masklength(const struct iio_dev *indio_dev)
{
	return indio_dev->masklength;
}
#endif

/*
 * Point @buf at a PAGE_SIZE command buffer holding @len bytes, for
 * tpm_transmit_cmd(), which answers in the same buffer.
 */
static inline void attestio_tpm_buf_wrap(struct tpm_buf *buf, u8 *page,
					 u32 len)
{
	memset(buf, 0, sizeof(*buf));
	buf->data = page;
#ifdef ATTESTIO_HAVE_TPM_BUF_LENGTH
	buf->length = len;
#endif
}

#endif /* _ATTESTIO_COMPAT_H */
