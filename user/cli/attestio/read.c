// SPDX-License-Identifier: GPL-2.0
/*
 * attestio read: records from /dev/attestio, raw (-o FILE) or rendered one
 * line per record with SI values and verification state (text or JSON).
 *
 * Rendering holds each stream's records back until the checkpoint that
 * covers them has been fed to the verifier (at most one epoch), so that
 * every line shows its final state: VERIFIED, UNSIGNED, or, at the end,
 * PENDING.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "libattestio.h"

#include "cli.h"
#include "util.h"

#define HDR_LEN ((uint32_t)sizeof(struct attestio_rec_hdr))
#define CP_HEADS_OFF (HDR_LEN + (uint32_t)sizeof(struct attestio_checkpoint))
#define READ_BUF (1u << 20)
#define MAX_HELD 8192

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void read_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio read [--samples N] [--follow] [--stream ID]... [-o FILE]\n"
		"                     [--json] [--ak FILE] [--timeout SEC]\n"
		"\n"
		"Read attested records from %s.  Without --samples or --follow,\n"
		"read what the module's record log holds now and exit.\n"
		"\n"
		"With -o FILE the records are written to FILE exactly as read (for\n"
		"attestio verify); otherwise each record is shown on one line: stream,\n"
		"sequence number, time, type, SI values decoded with the stream's\n"
		"descriptor, and its verification state:\n"
		"  VERIFIED      chained from an anchor and covered by a checkpoint whose\n"
		"                TPM quote verified (--ak)\n"
		"  UNCHECKED     no --ak given: nothing can be verified\n"
		"  UNSIGNED      covered only by explicitly unsigned checkpoints\n"
		"  PENDING       no checkpoint covered it yet (shown when reading stops)\n"
		"  UNVERIFIABLE  can never be proven: before its stream's first anchor\n"
		"                (the reader joined mid-chain), next to a hole, or in a\n"
		"                chain that broke (the reason follows)\n"
		"  MISSING       records absent from the sequence (a line per hole)\n"
		"  LOST          reader-local record: this reader missed records\n"
		"  BAD           failed a check (the reason follows)\n"
		"With --ak, lines wait for their verdict: usually the stream's next\n"
		"checkpoint (one epoch).\n"
		"\n"
		"Options:\n"
		"  -n, --samples N   show N sample records, then stop once, for every\n"
		"                    stream that had samples, a checkpoint covering them\n"
		"                    was read (later samples are verified, not shown)\n"
		"  -f, --follow      keep reading until interrupted (SIGINT/SIGTERM)\n"
		"  -s, --stream ID   only stream ID (0..63; repeat for several)\n"
		"                    (ATTESTIO_IOC_SET_FILTER)\n"
		"  -o, --output FILE write raw records to FILE ('-': standard output)\n"
		"                    instead of rendering; a summary goes to stderr\n"
		"  -j, --json        one JSON object per record and line\n"
		"  -k, --ak FILE     attestation key (PEM or TPM2B_PUBLIC) to verify\n"
		"                    checkpoints with\n"
		"%s"
		"  -t, --timeout SEC give up after SEC seconds (exit 1); default: never\n"
		"  -h, --help        this help\n"
		"\n"
		"Exit status 1 also when a record is BAD, or UNVERIFIABLE or MISSING for a\n"
		"reason other than the reader's own losses or its mid-chain start.\n"
		"%s", dev_path(), cli_boots_help, exit_codes_help);
}

/* --------------------------------------------------------- rendering --- */

/* Lines of one stream waiting for their verdict, in seq order. */
struct held {
	uint64_t seq;
	char *text;	/* line without its state; NULL once emitted */
};

struct hq {
	struct held *h;
	size_t start, n, cap;
};

struct render {
	bool json;
	bool have_ak;
	bool quiet_samples;	/* --samples N reached: verify, do not show */
	struct att_verifier *v;
	struct hq q[ATTESTIO_MAX_STREAMS];
	size_t nheld;
	int bad;
};

static const char *state_name(enum att_rec_state st)
{
	switch (st) {
	case ATT_REC_VERIFIED:
		return "VERIFIED";
	case ATT_REC_PENDING:
		return "PENDING";
	case ATT_REC_UNSIGNED:
		return "UNSIGNED";
	case ATT_REC_LOCAL:
		return "LOST";
	case ATT_REC_BAD:
		return "BAD";
	case ATT_REC_UNVERIFIABLE:
		return "UNVERIFIABLE";
	case ATT_REC_MISSING:
		return "MISSING";
	}
	return "?";
}

static void emit(struct render *r, const char *text, const char *state,
		 const char *why)
{
	if (r->json) {
		/* text is a JSON object without its closing brace */
		printf("%s, \"state\": \"%s\"", text, state);
		if (why) {
			printf(", \"error\": ");
			json_str(stdout, why);
		}
		printf("}\n");
	} else {
		printf("%-78s %s%s%s\n", text, state, why ? ": " : "",
		       why ? why : "");
	}
}

static void hq_drop_front(struct hq *q)
{
	while (q->n && !q->h[q->start].text) {
		q->start++;
		q->n--;
	}
	if (!q->n)
		q->start = 0;
}

static void hold(struct render *r, uint32_t stream, uint64_t seq, char *text)
{
	struct hq *q = &r->q[stream];

	if (r->nheld >= MAX_HELD) {
		/* held too long: show the oldest of this stream as it is */
		for (size_t i = q->start; i < q->start + q->n; i++)
			if (q->h[i].text) {
				emit(r, q->h[i].text, "PENDING", NULL);
				free(q->h[i].text);
				q->h[i].text = NULL;
				r->nheld--;
				break;
			}
		hq_drop_front(q);
	}
	if (q->start + q->n == q->cap) {
		if (q->start) {
			memmove(q->h, q->h + q->start, q->n * sizeof(*q->h));
			q->start = 0;
		} else {
			size_t cap = q->cap ? 2 * q->cap : 64;
			struct held *h = realloc(q->h, cap * sizeof(*h));

			if (!h) {
				perror("attestio read");
				exit(EXIT_IO);
			}
			q->h = h;
			q->cap = cap;
		}
	}
	q->h[q->start + q->n].seq = seq;
	q->h[q->start + q->n].text = text;
	q->n++;
	r->nheld++;
}

/* The verifier's final word on a record: show its held line. */
static void on_verdict(void *ctx, const struct att_verdict *vd)
{
	struct render *r = ctx;
	struct hq *q;

	if (vd->state == ATT_REC_BAD ||
	    ((vd->state == ATT_REC_UNVERIFIABLE ||
	      vd->state == ATT_REC_MISSING) && !vd->excused))
		r->bad++;
	if (vd->state == ATT_REC_MISSING) {
		if (r->json) {
			printf("{\"stream\": %u, \"seq\": %llu, \"type\": \"missing\", "
			       "\"count\": %llu, \"state\": \"MISSING\", \"error\": ",
			       vd->stream, (unsigned long long)vd->seq,
			       (unsigned long long)vd->count);
			json_str(stdout, vd->why ? vd->why : "missing");
			printf("}\n");
		} else {
			char text[96];

			snprintf(text, sizeof(text), "%2u %7llu  %llu records absent (seq %llu..%llu)",
				 vd->stream, (unsigned long long)vd->seq,
				 (unsigned long long)vd->count,
				 (unsigned long long)vd->seq,
				 (unsigned long long)(vd->seq + vd->count - 1));
			emit(r, text, "MISSING", vd->why);
		}
		return;
	}
	if (vd->stream >= ATTESTIO_MAX_STREAMS)
		return;
	q = &r->q[vd->stream];
	for (size_t i = q->start; i < q->start + q->n; i++) {
		struct held *h = &q->h[i];

		if (!h->text || h->seq != vd->seq)
			continue;
		emit(r, h->text, state_name(vd->state),
		     vd->state == ATT_REC_VERIFIED ||
		     vd->state == ATT_REC_PENDING ||
		     vd->state == ATT_REC_LOCAL ? NULL : vd->why);
		free(h->text);
		h->text = NULL;
		r->nheld--;
		hq_drop_front(q);
		return;
	}
}

static void fmt_time(char *out, size_t cap, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		snprintf(out, cap, "?");
		return;
	}
	snprintf(out, cap, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned int)(ns % 1000000000u / 1000000u));
}

/* Append to a growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL,
			      b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			perror("attestio read");
			exit(EXIT_IO);
		}
	}
}

static void sb_json_str(struct sbuf *b, const char *s)
{
	char *tmp = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&tmp, &sz);

	if (!f)
		return;
	json_str(f, s);
	fclose(f);
	sb_printf(b, "%s", tmp);
	free(tmp);
}

static void sb_str(struct sbuf *b, bool json, const char *key, const char *s)
{
	if (json) {
		sb_printf(b, ", \"%s\": ", key);
		sb_json_str(b, s);
	} else {
		sb_printf(b, "%s", s);
	}
}

/* Bounded copy of a NUL-padded fixed-size name. */
static void fixstr(char *out, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n && in[i]; i++)
		out[i] = (in[i] >= ' ' && in[i] < 0x7f) ? in[i] : '?';
	out[i] = 0;
}

/* Describe @rec (already fed) into @b. */
static void describe(struct render *r, struct sbuf *b, const uint8_t *rec,
		     size_t len)
{
	const uint8_t *p = rec + HDR_LEN;
	unsigned int type = get_le16(rec + 2);
	uint32_t stream = get_le32(rec + 8);
	size_t plen = len - HDR_LEN;
	bool j = r->json;

	switch (type) {
	case ATTESTIO_REC_SAMPLE: {
		const struct attestio_descriptor *d =
			att_verifier_descriptor(r->v, stream);
		uint32_t scan_len;
		unsigned int ch, nch;

		if (plen < sizeof(struct attestio_sample))
			break;
		scan_len = get_le32(p + offsetof(struct attestio_sample, scan_len));
		if (scan_len > plen - sizeof(struct attestio_sample))
			scan_len = (uint32_t)(plen - sizeof(struct attestio_sample));
		if (!d) {
			if (j)
				sb_printf(b, ", \"values\": null");
			else
				sb_printf(b, "(no descriptor: %u raw bytes)", scan_len);
			break;
		}
		nch = le16toh(d->nchannels);
		if (j)
			sb_printf(b, ", \"values\": [");
		for (ch = 0; ch < nch && ch < ATTESTIO_MAX_CHANNELS; ch++) {
			unsigned int t = le16toh(d->chan[ch].type);
			double val;
			int64_t raw;
			int rc = att_decode_channel(d, ch, p + sizeof(struct attestio_sample),
						    scan_len, &val, &raw);

			if (j) {
				sb_printf(b, "%s{\"channel\": ", ch ? ", " : "");
				sb_json_str(b, att_chan_type_name(t));
				sb_printf(b, ", \"unit\": ");
				sb_json_str(b, att_chan_unit(t));
				if (rc || !isfinite(val))
					sb_printf(b, ", \"value\": null, \"raw\": null}");
				else
					sb_printf(b, ", \"value\": %.9g, \"raw\": %lld}",
						  val, (long long)raw);
			} else if (rc) {
				sb_printf(b, "%s%s ?", ch ? ", " : "",
					  att_chan_type_name(t));
			} else {
				sb_printf(b, "%s%s %.6g %s (raw %lld)", ch ? ", " : "",
					  att_chan_type_name(t), val,
					  att_chan_unit(t), (long long)raw);
			}
		}
		if (j)
			sb_printf(b, "]");
		break;
	}
	case ATTESTIO_REC_DESCRIPTOR: {
		const struct attestio_descriptor *d = (const void *)p;
		char dev[ATTESTIO_NAME_LEN + 1], name[ATTESTIO_NAME_LEN + 1];
		char label[ATTESTIO_NAME_LEN + 1];
		unsigned int ch, nch;

		if (plen < sizeof(*d))
			break;
		fixstr(dev, d->device, ATTESTIO_NAME_LEN);
		fixstr(name, d->name, ATTESTIO_NAME_LEN);
		fixstr(label, d->label, ATTESTIO_NAME_LEN);
		nch = le16toh(d->nchannels);
		if (nch > (plen - sizeof(*d)) / sizeof(d->chan[0]))
			nch = (unsigned int)((plen - sizeof(*d)) / sizeof(d->chan[0]));
		if (j) {
			sb_str(b, true, "device", dev);
			sb_str(b, true, "name", name);
			sb_str(b, true, "label", label);
			sb_printf(b, ", \"segment\": %u, \"mode\": \"%s\", \"channels\": [",
				  le32toh(d->segment),
				  le16toh(d->mode) == ATTESTIO_MODE_POLLED ?
				  "polled" : "buffered");
			for (ch = 0; ch < nch; ch++) {
				sb_printf(b, "%s", ch ? ", " : "");
				sb_json_str(b, att_chan_type_name(le16toh(d->chan[ch].type)));
			}
			sb_printf(b, "]");
		} else {
			sb_printf(b, "%s \"%s\"%s%s%s segment %u, %s, channels:", dev, name,
				  label[0] ? " label \"" : "", label,
				  label[0] ? "\"" : "", le32toh(d->segment),
				  le16toh(d->mode) == ATTESTIO_MODE_POLLED ?
				  "polled" : "buffered");
			for (ch = 0; ch < nch; ch++)
				sb_printf(b, " %s[%s]",
					  att_chan_type_name(le16toh(d->chan[ch].type)),
					  att_chan_unit(le16toh(d->chan[ch].type)));
		}
		break;
	}
	case ATTESTIO_REC_CHECKPOINT: {
		const struct attestio_checkpoint *cp = (const void *)p;
		unsigned int nheads, self, status;
		uint64_t covered = 0;
		char beacon[2 * ATTESTIO_HASH_LEN + 1] = "";

		if (plen < sizeof(*cp))
			break;
		for (unsigned int i = 0; i < ATTESTIO_HASH_LEN; i++)
			if (cp->beacon[i]) {
				for (i = 0; i < ATTESTIO_HASH_LEN; i++)
					snprintf(beacon + 2 * i, 3, "%02x",
						 cp->beacon[i]);
				break;
			}
		nheads = le16toh(cp->nheads);
		self = le16toh(cp->self);
		status = le32toh(cp->status);
		if (self < nheads && CP_HEADS_OFF + 48ull * nheads <= len)
			covered = get_le64(rec + CP_HEADS_OFF + 48u * self +
					   offsetof(struct attestio_cp_head, seq));
		if (j) {
			sb_printf(b, ", \"epoch\": %llu, \"status\": ",
				  (unsigned long long)le64toh(cp->epoch));
			sb_json_str(b, cp_status_name(status));
			sb_printf(b, ", \"ak_handle\": \"0x%08x\", \"tpm_rc\": %d, "
				  "\"covers_seq\": %llu, \"nheads\": %u",
				  le32toh(cp->ak_handle), (int)le32toh(cp->tpm_rc),
				  (unsigned long long)covered, nheads);
			if (beacon[0])
				sb_printf(b, ", \"beacon\": \"%s\"", beacon);
			else
				sb_printf(b, ", \"beacon\": null");
		} else if (status == ATTESTIO_CP_SIGNED) {
			sb_printf(b, "epoch %llu, TPM quote by 0x%08x, covers seq ..%llu",
				  (unsigned long long)le64toh(cp->epoch),
				  le32toh(cp->ak_handle), (unsigned long long)covered);
			if (beacon[0])
				sb_printf(b, ", beacon %.16s...", beacon);
		} else {
			sb_printf(b, "epoch %llu UNSIGNED (%s), covers seq ..%llu",
				  (unsigned long long)le64toh(cp->epoch),
				  cp_status_name(status), (unsigned long long)covered);
		}
		break;
	}
	case ATTESTIO_REC_GAP: {
		const struct attestio_gap *g = (const void *)p;
		unsigned int reason;
		const char *why;

		if (plen < sizeof(*g))
			break;
		reason = le32toh(g->reason);
		why = reason == ATTESTIO_GAP_RING_FULL ? "capture ring full" :
		      reason == ATTESTIO_GAP_SCAN_TOO_BIG ? "scan too big" :
		      reason == ATTESTIO_GAP_READ_FAILED ? "polled read failed" :
		      "unknown reason";
		if (j) {
			sb_printf(b, ", \"lost\": %llu",
				  (unsigned long long)le64toh(g->lost));
			sb_str(b, true, "reason", why);
		} else {
			sb_printf(b, "%llu samples lost: %s",
				  (unsigned long long)le64toh(g->lost), why);
		}
		break;
	}
	case ATTESTIO_REC_DETACH: {
		const struct attestio_detach *dt = (const void *)p;
		unsigned int reason;
		const char *why;

		if (plen < sizeof(*dt))
			break;
		reason = le32toh(dt->reason);
		why = reason == ATTESTIO_DETACH_USER ? "detached by user" :
		      reason == ATTESTIO_DETACH_REMOVED ? "device removed" :
		      reason == ATTESTIO_DETACH_UNLOAD ? "module unloading" :
		      reason == ATTESTIO_DETACH_ERROR ? "capture failed" :
		      reason == ATTESTIO_DETACH_SHUTDOWN ? "reboot or power-off" :
		      reason == ATTESTIO_DETACH_CAPTURE_LOST ?
		      "capture stopped by the IIO core" :
		      reason == ATTESTIO_DETACH_TRIGGER_LOST ?
		      "the device's trigger went away" :
		      "unknown reason";
		if (j) {
			sb_printf(b, ", \"segment\": %u, \"samples\": %llu",
				  le32toh(dt->segment),
				  (unsigned long long)le64toh(dt->samples));
			sb_str(b, true, "reason", why);
		} else {
			sb_printf(b, "segment %u ended: %s (%llu samples)",
				  le32toh(dt->segment), why,
				  (unsigned long long)le64toh(dt->samples));
		}
		break;
	}
	case ATTESTIO_REC_ERROR: {
		const struct attestio_error *e = (const void *)p;
		char msg[sizeof(e->msg) + 1];

		if (plen < sizeof(*e))
			break;
		fixstr(msg, e->msg, sizeof(e->msg));
		if (j) {
			sb_printf(b, ", \"source\": \"%s\", \"code\": %d",
				  le32toh(e->source) == ATTESTIO_ERR_TPM ? "tpm" : "capture",
				  (int)le32toh(e->code));
			sb_str(b, true, "message", msg);
		} else {
			sb_printf(b, "%s error %d: %s",
				  le32toh(e->source) == ATTESTIO_ERR_TPM ? "TPM" : "capture",
				  (int)le32toh(e->code), msg);
		}
		break;
	}
	case ATTESTIO_REC_LOST: {
		const struct attestio_lost *l = (const void *)p;

		if (plen < sizeof(*l))
			break;
		if (j)
			sb_printf(b, ", \"records\": %llu, \"bytes\": %llu",
				  (unsigned long long)le64toh(l->records),
				  (unsigned long long)le64toh(l->bytes));
		else
			sb_printf(b, "this reader missed %llu records (%llu bytes)",
				  (unsigned long long)le64toh(l->records),
				  (unsigned long long)le64toh(l->bytes));
		break;
	}
	}
}

/*
 * An unsigned checkpoint: what it covers stays undecided in the verifier
 * (a later signed checkpoint may still verify it), but a viewer should not
 * hold the lines until then.  Show them, and the checkpoint, as UNSIGNED
 * now; their final verdict, when it comes, has no line left to change.
 */
static void show_unsigned(struct render *r, uint32_t stream,
			  const uint8_t *rec, size_t len)
{
	uint16_t nheads = get_le16(rec + HDR_LEN +
				   offsetof(struct attestio_checkpoint, nheads));
	uint16_t self = get_le16(rec + HDR_LEN +
				 offsetof(struct attestio_checkpoint, self));
	uint64_t seq = get_le64(rec + 16), covered;
	struct hq *q = &r->q[stream];

	if (self >= nheads || CP_HEADS_OFF + 48ull * nheads > len)
		return;
	covered = get_le64(rec + CP_HEADS_OFF + 48u * self +
			   offsetof(struct attestio_cp_head, seq));
	for (size_t i = q->start; i < q->start + q->n; i++) {
		struct held *h = &q->h[i];

		if (!h->text || (h->seq > covered && h->seq != seq))
			continue;
		emit(r, h->text, "UNSIGNED", NULL);
		free(h->text);
		h->text = NULL;
		r->nheld--;
	}
	hq_drop_front(q);
}

/*
 * Render one record and feed it to the verifier.  With --ak the line waits
 * for the record's verdict (on_verdict); without, it is shown at once as
 * UNCHECKED (no signature can be checked).
 */
static void render(struct render *r, const uint8_t *rec, size_t len)
{
	unsigned int type = get_le16(rec + 2);
	uint32_t stream = get_le32(rec + 8);
	uint64_t seq = get_le64(rec + 16);
	enum att_rec_state st = ATT_REC_BAD;
	struct att_err err = { 0 };
	struct sbuf b = { 0 };
	bool show = !(r->quiet_samples && type == ATTESTIO_REC_SAMPLE);
	char tbuf[32];
	int rc;

	fmt_time(tbuf, sizeof(tbuf), get_le64(rec + 32));
	if (r->json)
		sb_printf(&b, "{\"stream\": %u, \"seq\": %llu, \"type\": \"%s\", "
			  "\"realtime_ns\": %llu, \"boottime_ns\": %llu",
			  stream, (unsigned long long)seq, att_rec_type_name(type),
			  (unsigned long long)get_le64(rec + 32),
			  (unsigned long long)get_le64(rec + 24));
	else
		sb_printf(&b, "%2u %7llu  %s  %-10s  ", stream,
			  (unsigned long long)seq, tbuf, att_rec_type_name(type));
	describe(r, &b, rec, len);

	if (r->have_ak && type != ATTESTIO_REC_LOST &&
	    stream < ATTESTIO_MAX_STREAMS) {
		if (show)
			hold(r, stream, seq, b.s);
		else
			free(b.s);
		rc = att_verifier_feed(r->v, rec, len, &st, &err);
		if (rc && st != ATT_REC_BAD && st != ATT_REC_LOCAL &&
		    rc != ATT_ESEQ && !r->json)
			/* a problem found here that is not this record's */
			fprintf(stderr, "attestio read: %s\n", err.msg);
		if (type == ATTESTIO_REC_CHECKPOINT && st == ATT_REC_UNSIGNED)
			show_unsigned(r, stream, rec, len);
		return;
	}
	/* shown at once: no key, a lost record, or a malformed header */
	rc = att_verifier_feed(r->v, rec, len, &st, &err);
	if (show) {
		if (st == ATT_REC_LOCAL)
			emit(r, b.s, "LOST", NULL);
		else if (rc && st == ATT_REC_BAD && rc != ATT_EKEY)
			emit(r, b.s, "BAD", err.msg[0] ? err.msg : att_code_name(rc));
		else
			emit(r, b.s, "UNCHECKED", NULL);
	}
	if (rc && st == ATT_REC_BAD && rc != ATT_EKEY && !r->have_ak)
		r->bad++;	/* with a key, on_verdict counted it */
	free(b.s);
}

/* ------------------------------------------------------- stop logic --- */

struct goal {
	uint64_t want;			/* --samples N, 0 = none */
	uint64_t samples;
	bool armed;			/* N samples seen: targets set */
	int64_t last_seq[ATTESTIO_MAX_STREAMS];
	int64_t target[ATTESTIO_MAX_STREAMS];	/* -1: nothing to cover */
};

/* Track a record; true when the goal is reached with it. */
static bool goal_track(struct goal *g, const uint8_t *rec, size_t len)
{
	unsigned int type = get_le16(rec + 2);
	uint32_t stream = get_le32(rec + 8);
	uint64_t seq = get_le64(rec + 16);
	int s;

	if (!g->want || stream >= ATTESTIO_MAX_STREAMS ||
	    (get_le32(rec + 12) & ATTESTIO_RF_UNCHAINED))
		return false;
	if (type == ATTESTIO_REC_SAMPLE) {
		g->last_seq[stream] = (int64_t)seq;
		if (!g->armed && ++g->samples >= g->want) {
			g->armed = true;
			for (s = 0; s < ATTESTIO_MAX_STREAMS; s++)
				g->target[s] = g->last_seq[s];
		}
		return false;
	}
	if (type != ATTESTIO_REC_CHECKPOINT || !g->armed ||
	    g->target[stream] < 0)
		return false;
	{
		uint16_t nheads = get_le16(rec + HDR_LEN +
					   offsetof(struct attestio_checkpoint, nheads));
		uint16_t self = get_le16(rec + HDR_LEN +
					 offsetof(struct attestio_checkpoint, self));
		uint64_t covered;

		if (self >= nheads || CP_HEADS_OFF + 48ull * nheads > len)
			return false;
		covered = get_le64(rec + CP_HEADS_OFF + 48u * self +
				   offsetof(struct attestio_cp_head, seq));
		if ((int64_t)covered >= g->target[stream])
			g->target[stream] = -1;
	}
	for (s = 0; s < ATTESTIO_MAX_STREAMS; s++)
		if (g->target[s] >= 0)
			return false;
	return true;
}

/* -------------------------------------------------------------- main --- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cmd_read(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "stream", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "ak", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "measurements", required_argument, NULL, 'm' },
		{ "pcrs", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_boots boots = { 0 };
	struct attestio_filter filter = { .mask = 0 };
	struct goal goal = { 0 };
	struct render rd = { 0 };
	struct cli_verifier cv = { 0 };
	const char *out = NULL, *ak = NULL;
	bool follow = false, done = false;
	uint64_t v, timeout_s = 0, nrec = 0, nsamples = 0, ncp = 0;
	long long deadline = 0;
	int c, fd, ofd = -1, rc = EXIT_OK;
	uint8_t *buf;
	struct sigaction sa;

	while ((c = getopt_long(argc, argv, "n:fs:o:jk:t:m:P:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 'P':
			if (cli_boots_add("read", &boots, c == 'm', optarg))
				return EXIT_USAGE;
			break;
		case 'n':
			if (parse_u64(optarg, &v) || !v) {
				cli_error("read", "--samples wants a positive number, not '%s'",
					  optarg);
				return EXIT_USAGE;
			}
			goal.want = v;
			break;
		case 'f':
			follow = true;
			break;
		case 's':
			if (parse_u64(optarg, &v) || v >= ATTESTIO_MAX_STREAMS) {
				cli_error("read", "--stream wants a stream id 0..%d, not '%s'",
					  ATTESTIO_MAX_STREAMS - 1, optarg);
				return EXIT_USAGE;
			}
			filter.mask |= 1ull << v;
			break;
		case 'o':
			out = optarg;
			break;
		case 'j':
			rd.json = true;
			break;
		case 'k':
			ak = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &timeout_s) || !timeout_s ||
			    timeout_s > 86400 * 365) {
				cli_error("read", "--timeout wants seconds > 0, not '%s'",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			read_usage(stdout);
			return EXIT_OK;
		default:
			read_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("read", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (out && rd.json) {
		cli_error("read", "-o writes raw records; --json renders them: pick one");
		return EXIT_USAGE;
	}
	if (boots.n && !ak) {
		cli_error("read", "--measurements needs --ak: the enrolled AK certifies the session key");
		return EXIT_USAGE;
	}
	if (out && ak) {
		cli_error("read", "-o writes raw records; verify them with attestio verify --ak");
		return EXIT_USAGE;
	}
	for (c = 0; c < ATTESTIO_MAX_STREAMS; c++)
		goal.target[c] = goal.last_seq[c] = -1;

	fd = open(dev_path(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT && !module_loaded())
			return cli_no_module("read");
		cli_error("read", "%s: %s", dev_path(), strerror(e));
		return e == ENOENT ? EXIT_NOMOD : EXIT_IO;
	}
	if (filter.mask && ioctl(fd, ATTESTIO_IOC_SET_FILTER, &filter)) {
		cli_error("read", "ATTESTIO_IOC_SET_FILTER on %s: %s", dev_path(),
			  strerror(errno));
		close(fd);
		return EXIT_IO;
	}
	if (out) {
		ofd = strcmp(out, "-") ?
		      open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) :
		      STDOUT_FILENO;
		if (ofd < 0) {
			cli_error("read", "%s: %s", out, strerror(errno));
			close(fd);
			return EXIT_IO;
		}
	} else {
		struct att_verifier_opts vo = {
			/* a viewer: show every state, fail only on BAD */
			.allow_unsigned = true, .allow_lost = true,
			.allow_join = true, .on_verdict = on_verdict,
			.ctx = &rd,
		};

		rc = verifier_setup("read", &cv, ak, NULL, &boots, &vo);
		if (rc) {
			close(fd);
			return rc;
		}
		rd.v = cv.v;
		rd.have_ak = ak != NULL;
		if (!rd.json)
			printf("%2s %7s  %-12s  %-10s  %-40s %s\n", "S", "SEQ",
			       "TIME", "TYPE", "VALUES / DETAILS", "STATE");
	}
	buf = malloc(READ_BUF);
	if (!buf) {
		cli_error("read", "out of memory");
		rc = EXIT_IO;
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (timeout_s) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 +
			   (long long)timeout_s * 1000;
	}

	while (!done && !stop_signal) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		size_t off = 0;
		ssize_t n;
		int wait_ms = 200;

		if (deadline) {
			struct timespec ts;
			long long now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
			if (now >= deadline) {
				cli_error("read", "timed out after %llu s: read %llu records, "
					  "%llu samples%s", (unsigned long long)timeout_s,
					  (unsigned long long)nrec,
					  (unsigned long long)nsamples,
					  goal.armed ? "; waiting for the covering checkpoint" : "");
				rc = EXIT_FAIL;
				break;
			}
			if (deadline - now < wait_ms)
				wait_ms = (int)(deadline - now);
		}
		n = read(fd, buf, READ_BUF);
		if (n < 0 && errno == EAGAIN) {
			if (!goal.want && !follow)
				break;	/* the log is drained */
			fflush(stdout);
			if (poll(&p, 1, wait_ms) < 0 && errno != EINTR) {
				cli_error("read", "poll %s: %s", dev_path(), strerror(errno));
				rc = EXIT_IO;
				break;
			}
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			cli_error("read", "%s: %s", dev_path(), strerror(errno));
			rc = EXIT_IO;
			break;
		}
		if (n == 0)
			break;
		while (off + HDR_LEN <= (size_t)n && !done) {
			const uint8_t *rec = buf + off;
			uint32_t len = get_le32(rec + 4);

			if (len < HDR_LEN || len > (size_t)n - off) {
				cli_error("read", "%s returned a malformed record at byte %zu",
					  dev_path(), off);
				rc = EXIT_IO;
				done = true;
				break;
			}
			off += len;
			nrec++;
			if (get_le16(rec + 2) == ATTESTIO_REC_SAMPLE)
				nsamples++;
			else if (get_le16(rec + 2) == ATTESTIO_REC_CHECKPOINT)
				ncp++;
			if (ofd < 0)
				render(&rd, rec, len);
			if (goal_track(&goal, rec, len))
				done = true;
			/* N samples shown: later ones only serve verification */
			rd.quiet_samples = goal.armed;
		}
		/*
		 * -o: the whole records of this read() in one write (one per
		 * record cost the reader its pace on slow machines), up to
		 * the goal or a malformed record.
		 */
		if (ofd >= 0 && off && write_all(ofd, buf, off)) {
			cli_error("read", "writing %s: %s", out, strerror(errno));
			rc = EXIT_IO;
			done = true;
		}
	}
	free(buf);
	if (rd.v) {
		/* the final verdicts: PENDING, UNSIGNED */
		att_verifier_finish(rd.v, NULL);
		for (c = 0; c < ATTESTIO_MAX_STREAMS; c++) {
			for (size_t i = rd.q[c].start;
			     i < rd.q[c].start + rd.q[c].n; i++)
				if (rd.q[c].h[i].text) {
					emit(&rd, rd.q[c].h[i].text, "PENDING", NULL);
					free(rd.q[c].h[i].text);
				}
			free(rd.q[c].h);
		}
	}
	if (ofd >= 0) {
		if (ofd != STDOUT_FILENO && close(ofd) && rc == EXIT_OK) {
			cli_error("read", "writing %s: %s", out, strerror(errno));
			rc = EXIT_IO;
		}
		ofd = -1;
		fprintf(stderr, "attestio read: wrote %llu records (%llu samples, "
			"%llu checkpoints) to %s\n", (unsigned long long)nrec,
			(unsigned long long)nsamples, (unsigned long long)ncp,
			strcmp(out, "-") ? out : "standard output");
	}
	if (rd.bad && rc == EXIT_OK)
		rc = EXIT_FAIL;
out:
	verifier_done(&cv);
	close(fd);
	if (fflush(stdout) && rc == EXIT_OK)
		rc = EXIT_IO;
	return rc;
}
