// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for attestio_rec_validate(), the parser every record
 * from /dev/attestio, a spool or the network goes through.  Walks the
 * input as a record stream; besides the sanitizers it checks that every
 * accepted record lies inside the input and that its variable parts fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_accepted(const u8 *rec, const struct attestio_rec_info *info,
			   size_t avail)
{
	const struct attestio_checkpoint *cp = (const void *)(rec + ATTESTIO_HDR_LEN);
	struct attestio_cp_layout lay;
	u8 head[ATTESTIO_HASH_LEN] = { 0 };

	CHECK(info->len >= ATTESTIO_HDR_LEN && info->len <= avail);
	CHECK(info->len % ATTESTIO_REC_ALIGN == 0);
	CHECK(info->len <= ATTESTIO_REC_MAX_LEN);
	if (info->type == ATTESTIO_REC_CHECKPOINT) {
		CHECK(!attestio_cp_layout(le16_to_cpu(cp->nheads),
					  le16_to_cpu(cp->attest_len),
					  le16_to_cpu(cp->sig_len), &lay));
		CHECK(attestio_rec_align(lay.end) == info->len);
		CHECK(le16_to_cpu(cp->self) < le16_to_cpu(cp->nheads));
	}
	/* the chain accepts whatever validated */
	attestio_chain_extend(head, rec, info->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attestio_rec_info info;
	size_t off = 0;
	u8 *buf;
	int ret;

	/* An exactly sized copy, so that any read past the end is caught. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	while (off < size) {
		ret = attestio_rec_validate(buf + off, size - off, &info);
		CHECK(ret == 0 || ret == -EBADMSG || ret == -EMSGSIZE ||
		      ret == -EPROTO);
		if (ret)
			break;
		check_accepted(buf + off, &info, size - off);
		off += info.len;
	}
	free(buf);
	return 0;
}
