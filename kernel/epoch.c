// SPDX-License-Identifier: GPL-2.0
/*
 * Epochs: every epoch_ms (or sooner when a stream has epoch_records
 * records pending) the heads of all streams are combined into one digest,
 * the TPM quotes it once, and every stream receives a checkpoint record
 * carrying all heads, the quote and its signature.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "attestio.h"
#include "trace.h"

/* No quote more often than this: a TPM serves 5..50 commands a second. */
#define ATTESTIO_QUOTE_MIN_MS 100
/*
 * After an authorization failure the key is not used for auth_backoff_s,
 * then twice as long after each further failure: every failure counts
 * against the TPM's dictionary-attack lockout, which also locks other
 * users' keys.
 */
#define ATTESTIO_AUTH_BACKOFF_MAX_S 3600

static struct {
	struct delayed_work work;
	struct mutex run_lock;	/* one epoch at a time: everything below */
	bool running;
	spinlock_t stats_lock;	/* protects stats */
	struct attestio_epoch_stats stats;
	struct attestio_quote quote;
	struct attestio_cp_head heads[ATTESTIO_MAX_STREAMS];
	struct attestio_stream *streams[ATTESTIO_MAX_STREAMS];
	u64 snap_seq[ATTESTIO_MAX_STREAMS];	/* s->seq at the snapshot */
	unsigned long next_quote;	/* jiffies: no TPM quote before */
	/* written under run_lock and stats_lock, read under either */
	unsigned long backoff;		/* jiffies; 0: the key is not backed off */
	unsigned long backoff_until;
	u32 backoff_key;
	s32 backoff_rc;
	u8 *rec;		/* checkpoint shared by all streams but `self` */
	u8 beacon[ATTESTIO_HASH_LEN];	/* the epoch's, under run_lock */
} attestio_ep;

/* The newest oracle beacon from userspace; the next epoch quotes it. */
static DEFINE_SPINLOCK(attestio_beacon_lock);
static struct attestio_beacon attestio_beacon_cur;	/* attestio_beacon_lock */

/*
 * Hand over a beacon (ATTESTIO_IOC_SET_BEACON).  A beacon never goes
 * back to an older round; an all-zero value clears it.
 */
int attestio_beacon_set(const struct attestio_beacon *b)
{
	static const u8 zero[ATTESTIO_HASH_LEN];
	bool clear = !memcmp(b->value, zero, sizeof(zero));
	int ret = 0;

	if (memchr_inv(b->reserved, 0, sizeof(b->reserved)))
		return -EINVAL;
	if (clear && (b->round || b->node))
		return -EINVAL;
	spin_lock(&attestio_beacon_lock);
	if (!clear && b->round < attestio_beacon_cur.round)
		ret = -EALREADY;
	else
		attestio_beacon_cur = *b;
	spin_unlock(&attestio_beacon_lock);
	return ret;
}

void attestio_beacon_get(struct attestio_beacon *b)
{
	spin_lock(&attestio_beacon_lock);
	*b = attestio_beacon_cur;
	spin_unlock(&attestio_beacon_lock);
}

static const char *const attestio_cp_reason[] = {
	[ATTESTIO_CP_SIGNED] = "quoted",
	[ATTESTIO_CP_NO_TPM] = "no TPM 2.0 chip",
	[ATTESTIO_CP_NO_KEY] = "no attestation key (key_handle is 0)",
	[ATTESTIO_CP_TPM_ERROR] = "TPM error",
	[ATTESTIO_CP_BAD_RESPONSE] = "malformed TPM response",
	[ATTESTIO_CP_DISABLED] = "signing disabled",
};

const char *attestio_cp_status_name(u32 status)
{
	return status < ARRAY_SIZE(attestio_cp_reason) ?
	       attestio_cp_reason[status] : "unknown";
}

/*
 * Snapshot the heads of every stream with records no checkpoint covers
 * yet; idle streams are skipped.
 */
static u16 attestio_epoch_collect(void)
{
	struct attestio_stream *s;
	u16 n = 0;
	int i;

	lockdep_assert_held(&attestio_ep.run_lock);
	mutex_lock(&attestio_streams_lock);
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s = attestio_streams[i];
		if (!s)
			continue;
		mutex_lock(&s->emit_lock);
		attestio_stream_drain_locked(s);
		if (s->since_checkpoint) {
			attestio_ep.heads[n].stream = cpu_to_le32(s->id);
			attestio_ep.heads[n].generation =
				cpu_to_le32(s->generation);
			attestio_ep.heads[n].seq = cpu_to_le64(s->seq - 1);
			memcpy(attestio_ep.heads[n].head, s->head,
			       ATTESTIO_HASH_LEN);
			attestio_seg_state_digest(attestio_ep.heads[n].state,
						  &s->seg_state);
			attestio_ep.snap_seq[n] = s->seq;
			kobject_get(&s->kobj);
			attestio_ep.streams[n++] = s;
		}
		mutex_unlock(&s->emit_lock);
	}
	mutex_unlock(&attestio_streams_lock);
	return n;
}

/* Build the checkpoint payload (all but `self`); returns its length. */
static u32 attestio_epoch_payload(u64 epoch, u16 n, u32 status,
				  const struct attestio_quote *q)
{
	struct attestio_checkpoint *cp = attestio_rec_payload(attestio_ep.rec);
	u16 alen = status == ATTESTIO_CP_SIGNED ? q->attest_len : 0;
	u16 slen = status == ATTESTIO_CP_SIGNED ? q->sig_len : 0;
	struct attestio_cp_layout lay;
	u8 *base = attestio_ep.rec;

	if (attestio_cp_layout(n, alen, slen, &lay))
		return 0;
	memset(cp, 0, attestio_rec_align(lay.end) - ATTESTIO_HDR_LEN);
	cp->epoch = cpu_to_le64(epoch);
	cp->instance = cpu_to_le64(attestio_instance);
	cp->status = cpu_to_le32(status);
	cp->tpm_rc = cpu_to_le32(q->tpm_rc);
	cp->ak_handle = cpu_to_le32(q->ak_handle);
	cp->nheads = cpu_to_le16(n);
	cp->attest_len = cpu_to_le16(alen);
	cp->sig_len = cpu_to_le16(slen);
	cp->pcr_mask = cpu_to_le32(q->pcr_mask);
	memcpy(cp->beacon, attestio_ep.beacon, sizeof(cp->beacon));
	memcpy(base + lay.heads, attestio_ep.heads,
	       n * sizeof(attestio_ep.heads[0]));
	if (alen)
		memcpy(base + lay.attest, q->attest, alen);
	if (slen)
		memcpy(base + lay.sig, q->sig, slen);
	return attestio_rec_align(lay.end) - ATTESTIO_HDR_LEN;
}

/* An error record: the TPM just started failing (or failing otherwise). */
static void attestio_epoch_error(struct attestio_stream *s, u32 status, s32 rc)
{
	struct attestio_error *err = attestio_rec_payload(s->scratch);
	struct attestio_rec_info info = {
		.type = ATTESTIO_REC_ERROR,
		.len = attestio_rec_len(sizeof(*err)),
		.boottime_ns = ktime_get_boottime_ns(),
		.realtime_ns = ktime_get_real_ns(),
	};

	memset(err, 0, info.len - ATTESTIO_HDR_LEN);
	err->source = cpu_to_le32(ATTESTIO_ERR_TPM);
	err->code = cpu_to_le32(rc);
	snprintf(err->msg, sizeof(err->msg), "TPM2_Quote failed: %s",
		 attestio_cp_status_name(status));
	attestio_stream_emit(s, &info);
}

static void attestio_epoch_emit(u16 n, u32 plen, u64 epoch, u32 status,
				s32 rc, bool new_error)
{
	struct attestio_checkpoint *cp;
	struct attestio_rec_info info;
	struct attestio_stream *s;
	u64 later;
	u16 i;

	lockdep_assert_held(&attestio_ep.run_lock);
	mutex_lock(&attestio_streams_lock);
	for (i = 0; i < n; i++) {
		s = attestio_ep.streams[i];
		if (attestio_streams[s->id] != s) {
			/* freed meanwhile (only at unload): chain ended */
			kobject_put(&s->kobj);
			continue;
		}
		mutex_lock(&s->emit_lock);
		/* emitted during the TPM call: for the next checkpoint */
		later = s->seq - attestio_ep.snap_seq[i];
		if (new_error) {
			attestio_epoch_error(s, status, rc);
			later++;
		}
		memset(&info, 0, sizeof(info));
		info.type = ATTESTIO_REC_CHECKPOINT;
		info.len = ATTESTIO_HDR_LEN + plen;
		info.boottime_ns = ktime_get_boottime_ns();
		info.realtime_ns = ktime_get_real_ns();
		memcpy(attestio_rec_payload(s->scratch),
		       attestio_rec_payload(attestio_ep.rec), plen);
		cp = attestio_rec_payload(s->scratch);
		cp->self = cpu_to_le16(i);
		attestio_stream_emit(s, &info);
		s->since_checkpoint = later;
		trace_attestio_checkpoint(s->scratch, info.len);
		mutex_unlock(&s->emit_lock);
		atomic64_set(&s->last_epoch, epoch);
		atomic_set(&s->last_status, status);
		atomic_set(&s->last_tpm_rc, rc);
		kobject_put(&s->kobj);
	}
	mutex_unlock(&attestio_streams_lock);
}

/* TPM_RC_AUTH_FAIL or TPM_RC_BAD_AUTH (format one, any session), or lockout */
static bool attestio_auth_failed(s32 rc)
{
	if (rc <= 0)
		return false;
	if (rc == 0x921)	/* TPM_RC_LOCKOUT */
		return true;
	return (rc & 0x80) && ((rc & 0x3f) == 0x0e || (rc & 0x3f) == 0x22);
}

/*
 * Quote, unless the key is backed off after an authorization failure;
 * every quote sent to the TPM delays the next by ATTESTIO_QUOTE_MIN_MS.
 */
static u32 attestio_epoch_quote(const u8 *digest, struct attestio_quote *q)
{
	unsigned long d;
	u32 status;

	lockdep_assert_held(&attestio_ep.run_lock);
	if (attestio_ep.backoff && q->ak_handle == attestio_ep.backoff_key &&
	    time_before(jiffies, attestio_ep.backoff_until)) {
		q->tpm_rc = attestio_ep.backoff_rc;
		spin_lock(&attestio_ep.stats_lock);
		attestio_ep.stats.quotes_skipped++;
		spin_unlock(&attestio_ep.stats_lock);
		return ATTESTIO_CP_TPM_ERROR;
	}
	status = attestio_tpm_quote(digest, q);
	if (status == ATTESTIO_CP_NO_TPM || status == ATTESTIO_CP_NO_KEY ||
	    status == ATTESTIO_CP_DISABLED)
		return status;
	attestio_ep.next_quote = jiffies + msecs_to_jiffies(ATTESTIO_QUOTE_MIN_MS);
	if (status == ATTESTIO_CP_TPM_ERROR && attestio_auth_failed(q->tpm_rc)) {
		d = attestio_ep.backoff && q->ak_handle == attestio_ep.backoff_key ?
		    attestio_ep.backoff * 2 :
		    READ_ONCE(attestio_auth_backoff_s) * HZ;
		spin_lock(&attestio_ep.stats_lock);
		attestio_ep.backoff = min_t(unsigned long, d,
					    ATTESTIO_AUTH_BACKOFF_MAX_S * HZ);
		attestio_ep.backoff_until = jiffies + attestio_ep.backoff;
		attestio_ep.backoff_key = q->ak_handle;
		attestio_ep.backoff_rc = q->tpm_rc;
		spin_unlock(&attestio_ep.stats_lock);
		pr_warn("key 0x%08x: authorization failed (tpm_rc 0x%x); no quote for %lu s, to spare the TPM's dictionary-attack counter\n",
			q->ak_handle, q->tpm_rc, attestio_ep.backoff / HZ);
	} else if (status == ATTESTIO_CP_SIGNED && attestio_ep.backoff) {
		spin_lock(&attestio_ep.stats_lock);
		attestio_ep.backoff = 0;
		spin_unlock(&attestio_ep.stats_lock);
		pr_info("key 0x%08x: quoting again after a backoff\n",
			q->ak_handle);
	}
	return status;
}

/* While checkpoints stay unsigned, remind the log once a minute. */
static DEFINE_RATELIMIT_STATE(attestio_unsigned_rs, 60 * HZ, 1);

/* One epoch: collect, quote, emit.  Returns the number of checkpoints. */
static u16 attestio_epoch_run(void)
{
	struct attestio_quote *q = &attestio_ep.quote;
	u8 digest[ATTESTIO_HASH_LEN];
	struct attestio_epoch_stats before;
	struct attestio_beacon b;
	u32 status, plen;
	bool failed;
	u64 epoch;
	u16 n;

	lockdep_assert_held(&attestio_ep.run_lock);
	n = attestio_epoch_collect();
	if (!n)
		return 0;
	spin_lock(&attestio_ep.stats_lock);
	epoch = ++attestio_ep.stats.epoch;
	spin_unlock(&attestio_ep.stats_lock);

	/* the beacon the digest covers is the one the checkpoints name */
	attestio_beacon_get(&b);
	memcpy(attestio_ep.beacon, b.value, sizeof(attestio_ep.beacon));
	attestio_epoch_digest(digest, attestio_instance, epoch,
			      attestio_ep.beacon, attestio_ep.heads, n);
	/* what the quote selects is exactly what the checkpoints say */
	q->ak_handle = READ_ONCE(attestio_key_handle);
	q->pcr_mask = READ_ONCE(attestio_pcr_mask);
	status = attestio_epoch_quote(digest, q);
	plen = attestio_epoch_payload(epoch, n, status, q);
	if (!plen) {
		/* a quote too big for a record: say so, unsigned */
		status = ATTESTIO_CP_BAD_RESPONSE;
		q->tpm_rc = -EMSGSIZE;
		plen = attestio_epoch_payload(epoch, n, status, q);
	}
	attestio_epoch_stats(&before);
	failed = status == ATTESTIO_CP_TPM_ERROR ||
		 status == ATTESTIO_CP_BAD_RESPONSE;
	attestio_epoch_emit(n, plen, epoch, status, q->tpm_rc,
			    failed && (status != before.last_status ||
				       q->tpm_rc != before.last_tpm_rc));

	spin_lock(&attestio_ep.stats_lock);
	attestio_ep.stats.last_status = status;
	attestio_ep.stats.last_tpm_rc = q->tpm_rc;
	attestio_ep.stats.checkpoints += n;
	if (status == ATTESTIO_CP_SIGNED)
		attestio_ep.stats.signed_checkpoints += n;
	spin_unlock(&attestio_ep.stats_lock);
	if (status != before.last_status)
		pr_info("epoch %llu: checkpoints now %s%s (tpm_rc %d)\n", epoch,
			status == ATTESTIO_CP_SIGNED ? "" : "UNSIGNED: ",
			attestio_cp_status_name(status), q->tpm_rc);
	else if (status != ATTESTIO_CP_SIGNED && __ratelimit(&attestio_unsigned_rs))
		pr_warn("epoch %llu: checkpoints still unsigned: %s (tpm_rc %d)\n",
			epoch, attestio_cp_status_name(status), q->tpm_rc);
	return n;
}

static void attestio_epoch_work(struct work_struct *work)
{
	unsigned long now = jiffies;

	mutex_lock(&attestio_ep.run_lock);
	if (time_before(now, attestio_ep.next_quote)) {
		/* too soon after the last quote: come back then */
		queue_delayed_work(attestio_wq, &attestio_ep.work,
				   attestio_ep.next_quote - now);
		mutex_unlock(&attestio_ep.run_lock);
		return;
	}
	attestio_epoch_run();
	mutex_unlock(&attestio_ep.run_lock);
	if (READ_ONCE(attestio_ep.running))
		queue_delayed_work(attestio_wq, &attestio_ep.work,
				   msecs_to_jiffies(READ_ONCE(attestio_epoch_ms)));
}

/*
 * Close an epoch now and wait for it: when this returns, a checkpoint
 * covers every record emitted before the call.  Called with no attestio
 * lock held (detach, unload, reboot, suspend).
 */
void attestio_epoch_flush(const char *why)
{
	u16 n;

	mutex_lock(&attestio_ep.run_lock);
	n = attestio_epoch_run();
	mutex_unlock(&attestio_ep.run_lock);
	if (n)
		pr_info("final checkpoint (%s) for %u stream%s\n", why, n,
			n == 1 ? "" : "s");
}

/* Close the current epoch now. */
void attestio_epoch_kick(void)
{
	if (READ_ONCE(attestio_ep.running))
		mod_delayed_work(attestio_wq, &attestio_ep.work, 0);
}

/* The period changed: count it from now. */
void attestio_epoch_reschedule(void)
{
	if (READ_ONCE(attestio_ep.running))
		mod_delayed_work(attestio_wq, &attestio_ep.work,
				 msecs_to_jiffies(READ_ONCE(attestio_epoch_ms)));
}

void attestio_epoch_stats(struct attestio_epoch_stats *st)
{
	unsigned long now = jiffies;

	spin_lock(&attestio_ep.stats_lock);
	*st = attestio_ep.stats;
	st->backoff_key = 0;
	if (attestio_ep.backoff) {
		st->backoff_key = attestio_ep.backoff_key;
		st->backoff_rc = attestio_ep.backoff_rc;
		st->backoff_s = attestio_ep.backoff / HZ;
		st->backoff_left_ms =
			time_before(now, attestio_ep.backoff_until) ?
			jiffies_to_msecs(attestio_ep.backoff_until - now) : 0;
	}
	spin_unlock(&attestio_ep.stats_lock);
}

int attestio_epoch_init(void)
{
	attestio_ep.quote.buf = (u8 *)__get_free_page(GFP_KERNEL);
	if (!attestio_ep.quote.buf)
		return -ENOMEM;
	attestio_ep.rec = kmalloc(ATTESTIO_REC_MAX_LEN, GFP_KERNEL);
	if (!attestio_ep.rec)
		goto err_free_page;
	/* no checkpoint has run yet: report "never" as an invalid status */
	attestio_ep.stats.last_status = U32_MAX;
	spin_lock_init(&attestio_ep.stats_lock);
	mutex_init(&attestio_ep.run_lock);
	attestio_ep.next_quote = jiffies;
	INIT_DELAYED_WORK(&attestio_ep.work, attestio_epoch_work);
	WRITE_ONCE(attestio_ep.running, true);
	queue_delayed_work(attestio_wq, &attestio_ep.work,
			   msecs_to_jiffies(attestio_epoch_ms));
	return 0;

err_free_page:
	free_page((unsigned long)attestio_ep.quote.buf);
	return -ENOMEM;
}

void attestio_epoch_uninit(void)
{
	WRITE_ONCE(attestio_ep.running, false);
	cancel_delayed_work_sync(&attestio_ep.work);
	kfree(attestio_ep.rec);
	free_page((unsigned long)attestio_ep.quote.buf);
}
