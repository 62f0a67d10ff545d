// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF half of the record source (source.type = bpf): open the
 * attestiod.bpf.c skeleton, set the trace entry offsets (from the event's
 * format file) and the ring size, load, attach to the module's
 * tracepoints, and hand each record in the ring buffer to a callback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attestiod.h"
#include "attestiod.skel.h"
#include "../bpf/attestiod.h"

struct ring {
	struct attestiod_bpf *skel;
	struct ring_buffer *rb;
	ring_cb cb;
	void *ctx;
	int ncpu;
};

static const char *const tracefs[] = {
	"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
};

/*
 * Offset of FIELD in the attestio_record event entry, from its format file
 * ("field:__data_loc u8[] rec;	offset:28;	size:4;	signed:0;").
 * -ENOENT when no tracefs shows the event (module not loaded).
 */
static int field_offset(const char *field, unsigned int *off)
{
	char path[128], line[256], pat[64];
	FILE *f = NULL;
	int ret = -EINVAL;

	for (size_t i = 0; !f && i < sizeof(tracefs) / sizeof(tracefs[0]); i++) {
		snprintf(path, sizeof(path),
			 "%s/events/attestio/attestio_record/format", tracefs[i]);
		f = fopen(path, "re");
	}
	if (!f)
		return -ENOENT;
	snprintf(pat, sizeof(pat), " %s;", field);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, pat), *o = strstr(line, "offset:");

		if (p && o && strstr(line, "field:") && sscanf(o, "offset:%u", off) == 1) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct ring *r = ctx;

	return r->cb(r->ctx, data, (uint32_t)len);
}

int ring_init(struct ring **rp, const struct config *c, ring_cb cb, void *ctx)
{
	struct ring *r = calloc(1, sizeof(*r));
	unsigned int loc, type;
	int err;

	if (!r)
		return -ENOMEM;
	r->cb = cb;
	r->ctx = ctx;
	r->ncpu = libbpf_num_possible_cpus();
	err = field_offset("rec", &loc);
	if (!err)
		err = field_offset("type", &type);
	if (err) {
		logmsg(LOG_ERR, "source bpf: the tracepoint attestio:attestio_record "
		       "is not visible (%s; is attestio.ko loaded and tracefs "
		       "mounted?)", err == -ENOENT ? "no format file" : "unexpected format");
		goto fail;
	}
	r->skel = attestiod_bpf__open();
	if (!r->skel) {
		err = -errno;
		logmsg(LOG_ERR, "source bpf: cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	r->skel->rodata->loc_off = loc;
	r->skel->rodata->type_off = type;
	err = bpf_map__set_max_entries(r->skel->maps.records, c->ring_bytes);
	if (!err)
		err = attestiod_bpf__load(r->skel);
	if (err) {
		logmsg(LOG_ERR, "source bpf: cannot load the BPF program: %s "
		       "(the verifier's log is above; loading needs CAP_BPF and "
		       "CAP_PERFMON, or root)", strerror(-err));
		goto fail;
	}
	err = attestiod_bpf__attach(r->skel);
	if (err) {
		logmsg(LOG_ERR, "source bpf: cannot attach to attestio:attestio_record/"
		       "attestio_checkpoint: %s", strerror(-err));
		goto fail;
	}
	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.records), on_sample, r, NULL);
	if (!r->rb) {
		err = -errno;
		logmsg(LOG_ERR, "source bpf: ring buffer: %s", strerror(-err));
		goto fail;
	}
	logmsg(LOG_NOTICE, "source bpf: attached (ring %u bytes, entry offsets %u/%u)",
	       c->ring_bytes, loc, type);
	*rp = r;
	return 0;
fail:
	ring_fini(r);
	return err < 0 ? err : -EINVAL;
}

void ring_fini(struct ring *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	attestiod_bpf__destroy(r->skel);
	free(r);
}

int ring_fd(const struct ring *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int ring_consume(struct ring *r)
{
	return ring_buffer__consume(r->rb);
}

void ring_counters(const struct ring *r, uint64_t out[RING_NCOUNTERS])
{
	uint64_t v[256];
	int fd = bpf_map__fd(r->skel->maps.counters);

	for (uint32_t k = 0; k < RING_NCOUNTERS; k++) {
		out[k] = 0;
		if (r->ncpu > 256 || bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int i = 0; i < r->ncpu; i++)
			out[k] += v[i];
	}
}
