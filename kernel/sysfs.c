// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/attestio: settings, state and counters; streams/<id>/.
 * Documented in Documentation/ABI/testing/sysfs-kernel-attestio.  Every
 * writable attribute validates its whole input before changing anything.
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "attestio.h"
#include "tpm2_msg.h"
#include "version.h"

static struct kobject *attestio_kobj;
static struct kset *attestio_streams_kset;
/* a security-relevant setting changes and is measured as one step */
static DEFINE_MUTEX(attestio_settings_lock);

static void attestio_set_measured(u32 setting, unsigned int *var, u32 v)
{
	u32 old;

	mutex_lock(&attestio_settings_lock);
	old = READ_ONCE(*var);
	WRITE_ONCE(*var, v);
	if (old != v)
		attestio_mlog_setting(setting, old, v);
	mutex_unlock(&attestio_settings_lock);
}

#define ATTESTIO_RO(_name) \
	static struct kobj_attribute attestio_attr_##_name = __ATTR_RO(_name)
#define ATTESTIO_RW(_name) \
	static struct kobj_attribute attestio_attr_##_name = __ATTR_RW(_name)
#define ATTESTIO_WO(_name) \
	static struct kobj_attribute attestio_attr_##_name = __ATTR_WO(_name)

static ssize_t version_show(struct kobject *k, struct kobj_attribute *a,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", ATTESTIO_VERSION);
}

ATTESTIO_RO(version);

static ssize_t rec_version_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	return sysfs_emit(buf, "%u\n", ATTESTIO_REC_VERSION);
}

ATTESTIO_RO(rec_version);

static ssize_t instance_show(struct kobject *k, struct kobj_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "%016llx\n", attestio_instance);
}

ATTESTIO_RO(instance);

static ssize_t tpm_show(struct kobject *k, struct kobj_attribute *a,
			char *buf)
{
	bool present = attestio_tpm_present();

	return sysfs_emit(buf, "%s\n", present ? "present" : "absent");
}

ATTESTIO_RO(tpm);

/* Parse a whole unsigned decimal or 0x-hex value within [min, max]. */
static int attestio_parse_uint(const char *buf, u32 min, u32 max, u32 *out)
{
	unsigned long long v;
	int ret;

	ret = kstrtoull(buf, 0, &v);
	if (ret)
		return ret == -ERANGE ? -ERANGE : -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static ssize_t key_handle_show(struct kobject *k, struct kobj_attribute *a,
			       char *buf)
{
	return sysfs_emit(buf, "0x%08x\n", READ_ONCE(attestio_key_handle));
}

/* 0 clears the key; otherwise a persistent handle 0x81xxxxxx. */
static ssize_t key_handle_store(struct kobject *k, struct kobj_attribute *a,
				const char *buf, size_t count)
{
	u32 v;
	int ret = attestio_parse_uint(buf, 0, U32_MAX, &v);

	if (ret)
		return ret;
	if (v && v >> 24 != ATTESTIO_TPM2_HT_PERSISTENT)
		return -EINVAL;
	attestio_set_measured(ATTESTIO_SET_KEY_HANDLE, &attestio_key_handle, v);
	return count;
}

ATTESTIO_RW(key_handle);

/* A settable unsigned value with its valid range. */
struct attestio_uint_attr {
	struct kobj_attribute attr;
	unsigned int *var;
	u32 min;
	u32 max;
	void (*changed)(void);
	u32 setting;		/* measured as this enum attestio_setting */
};

#define to_uint_attr(a) container_of(a, struct attestio_uint_attr, attr)

static ssize_t attestio_uint_show(struct kobject *k, struct kobj_attribute *a,
				  char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(*to_uint_attr(a)->var));
}

static ssize_t attestio_uint_store(struct kobject *k, struct kobj_attribute *a,
				   const char *buf, size_t count)
{
	struct attestio_uint_attr *ua = to_uint_attr(a);
	u32 v;
	int ret = attestio_parse_uint(buf, ua->min, ua->max, &v);

	if (ret)
		return ret;
	if (ua->setting)
		attestio_set_measured(ua->setting, ua->var, v);
	else
		WRITE_ONCE(*ua->var, v);
	if (ua->changed)
		ua->changed();
	return count;
}

#define ATTESTIO_UINT_M(_name, _var, _min, _max, _changed, _setting)	\
	static struct attestio_uint_attr attestio_attr_##_name = {	\
		.attr = __ATTR(_name, 0644, attestio_uint_show,		\
			       attestio_uint_store),			\
		.var = &(_var),						\
		.min = (_min),						\
		.max = (_max),						\
		.changed = (_changed),					\
		.setting = (_setting),					\
	}
#define ATTESTIO_UINT(_name, _var, _min, _max, _changed)		\
	ATTESTIO_UINT_M(_name, _var, _min, _max, _changed, 0)

ATTESTIO_UINT(epoch_ms, attestio_epoch_ms, 10, 3600000,
	      attestio_epoch_reschedule);
ATTESTIO_UINT(epoch_records, attestio_epoch_records, 0, 1000000, NULL);
ATTESTIO_UINT_M(pcr_mask, attestio_pcr_mask, 0, 0xffffff, NULL,
		ATTESTIO_SET_PCR_MASK);
ATTESTIO_UINT(poll_ms, attestio_poll_ms, 1, 60000, NULL);

static ssize_t sign_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(attestio_sign));
}

static ssize_t sign_store(struct kobject *k, struct kobj_attribute *a,
			  const char *buf, size_t count)
{
	bool old, v;

	if (kstrtobool(buf, &v))
		return -EINVAL;
	mutex_lock(&attestio_settings_lock);
	old = READ_ONCE(attestio_sign);
	WRITE_ONCE(attestio_sign, v);
	if (old != v)
		attestio_mlog_setting(ATTESTIO_SET_SIGN, old, v);
	mutex_unlock(&attestio_settings_lock);
	return count;
}

ATTESTIO_RW(sign);

static ssize_t epoch_show(struct kobject *k, struct kobj_attribute *a,
			  char *buf)
{
	struct attestio_epoch_stats st;

	attestio_epoch_stats(&st);
	return sysfs_emit(buf, "%llu\n", st.epoch);
}

ATTESTIO_RO(epoch);

static ssize_t checkpoints_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	struct attestio_epoch_stats st;

	attestio_epoch_stats(&st);
	return sysfs_emit(buf, "%llu %llu\n", st.checkpoints,
			  st.signed_checkpoints);
}

ATTESTIO_RO(checkpoints);

static ssize_t last_status_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	struct attestio_epoch_stats st;

	attestio_epoch_stats(&st);
	if (st.last_status == U32_MAX)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s%s\n",
			  st.last_status == ATTESTIO_CP_SIGNED ? "" :
								 "unsigned: ",
			  attestio_cp_status_name(st.last_status));
}

ATTESTIO_RO(last_status);

/*
 * "none", or the key that is not used after an authorization failure or
 * lockout: "KEY tpm_rc RC backoff S s, next try in MS ms, skipped N".
 */
static ssize_t tpm_backoff_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	struct attestio_epoch_stats st;

	attestio_epoch_stats(&st);
	if (!st.backoff_key)
		return sysfs_emit(buf, "none skipped %llu\n", st.quotes_skipped);
	return sysfs_emit(buf, "0x%08x tpm_rc 0x%x backoff %u s, next try in %u ms, skipped %llu\n",
			  st.backoff_key, st.backoff_rc, st.backoff_s,
			  st.backoff_left_ms, st.quotes_skipped);
}

ATTESTIO_RO(tpm_backoff);

static ssize_t last_tpm_rc_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	struct attestio_epoch_stats st;

	attestio_epoch_stats(&st);
	if (st.last_tpm_rc > 0)
		return sysfs_emit(buf, "0x%x\n", st.last_tpm_rc);
	return sysfs_emit(buf, "%d\n", st.last_tpm_rc);
}

ATTESTIO_RO(last_tpm_rc);

static ssize_t log_show(struct kobject *k, struct kobj_attribute *a,
			char *buf)
{
	struct attestio_log_stats st;

	attestio_log_stats(&st);
	return sysfs_emit(buf, "size %u\nrecords %llu\nbytes %llu\noverwritten %llu\n",
			  st.size, st.records, st.bytes, st.overwritten);
}

ATTESTIO_RO(log);

/* What computes the chain's SHA-256: a crypto API driver or "library". */
static ssize_t hash_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	return attestio_hash_describe(buf);
}

ATTESTIO_RO(hash);

static ssize_t totals_show(struct kobject *k, struct kobj_attribute *a,
			   char *buf)
{
	u64 produced = 0, samples = 0, drops = 0, records = 0;
	struct attestio_stream *s;
	int i, n = 0;

	mutex_lock(&attestio_streams_lock);
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s = attestio_streams[i];
		if (!s)
			continue;
		n++;
		produced += atomic64_read(&s->produced);
		samples += atomic64_read(&s->samples);
		drops += atomic64_read(&s->drops);
		records += atomic64_read(&s->records);
	}
	mutex_unlock(&attestio_streams_lock);
	return sysfs_emit(buf,
			  "streams %d\nproduced %llu\nsamples %llu\ndrops %llu\nrecords %llu\n",
			  n, produced, samples, drops, records);
}

ATTESTIO_RO(totals);

/*
 * "<spec> [buffered|polled]": spec is an IIO device name (iio:deviceN), its
 * name attribute or its label; 1..31 printable characters.
 */
static int attestio_parse_spec(const char *buf, char *spec, bool *polled)
{
	char mode[16];
	int n, end = 0;

	*polled = false;
	spec[0] = 0;
	mode[0] = 0;
	n = sscanf(buf, "%31s%n %15s %n", spec, &end, mode, &end);
	if (n < 1 || !spec[0])
		return -EINVAL;
	if (strlen(spec) == ATTESTIO_NAME_LEN - 1 && buf[end] && !isspace(buf[end]))
		return -EINVAL;
	if (n == 1)
		end = strlen(buf);
	while (buf[end] && isspace(buf[end]))
		end++;
	if (buf[end])
		return -EINVAL;
	if (n == 2) {
		if (!strcmp(mode, "polled"))
			*polled = true;
		else if (strcmp(mode, "buffered"))
			return -EINVAL;
	}
	return 0;
}

static ssize_t attach_store(struct kobject *k, struct kobj_attribute *a,
			    const char *buf, size_t count)
{
	char spec[ATTESTIO_NAME_LEN];
	bool polled;
	int ret;

	if (count >= ATTESTIO_NAME_LEN + 16)
		return -EINVAL;
	ret = attestio_parse_spec(buf, spec, &polled);
	if (!ret)
		ret = attestio_stream_attach(spec, polled);
	return ret ? ret : count;
}

ATTESTIO_WO(attach);

static ssize_t detach_store(struct kobject *k, struct kobj_attribute *a,
			    const char *buf, size_t count)
{
	char spec[ATTESTIO_NAME_LEN];
	bool polled;
	int ret;

	if (count >= ATTESTIO_NAME_LEN + 16)
		return -EINVAL;
	ret = attestio_parse_spec(buf, spec, &polled);
	if (!ret)
		ret = attestio_stream_detach(spec);
	return ret ? ret : count;
}

ATTESTIO_WO(detach);

/* The measurement log (include/uapi/linux/attestio.h), read-only. */
static ssize_t measurements_read(struct file *f, struct kobject *k,
				 struct bin_attribute *a, char *buf,
				 loff_t off, size_t count)
{
	return attestio_mlog_read(buf, off, count);
}

static BIN_ATTR_RO(measurements, 0);

static struct bin_attribute *attestio_bin_attrs[] = {
	&bin_attr_measurements,
	NULL,
};

static ssize_t unmeasured_show(struct kobject *k, struct kobj_attribute *a,
			       char *buf)
{
	return sysfs_emit(buf, "%u\n", attestio_mlog_unmeasured());
}

ATTESTIO_RO(unmeasured);

static struct attribute *attestio_attrs[] = {
	&attestio_attr_unmeasured.attr,
	&attestio_attr_version.attr,
	&attestio_attr_rec_version.attr,
	&attestio_attr_instance.attr,
	&attestio_attr_tpm.attr,
	&attestio_attr_key_handle.attr,
	&attestio_attr_epoch_ms.attr.attr,
	&attestio_attr_epoch_records.attr.attr,
	&attestio_attr_pcr_mask.attr.attr,
	&attestio_attr_poll_ms.attr.attr,
	&attestio_attr_sign.attr,
	&attestio_attr_epoch.attr,
	&attestio_attr_checkpoints.attr,
	&attestio_attr_last_status.attr,
	&attestio_attr_last_tpm_rc.attr,
	&attestio_attr_tpm_backoff.attr,
	&attestio_attr_log.attr,
	&attestio_attr_hash.attr,
	&attestio_attr_totals.attr,
	&attestio_attr_attach.attr,
	&attestio_attr_detach.attr,
	NULL,
};

static const struct attribute_group attestio_group = {
	.attrs = attestio_attrs,
	.bin_attrs = attestio_bin_attrs,
};

/* ------------------------------------------------------------ streams --- */

#define to_stream(k) container_of(k, struct attestio_stream, kobj)

static ssize_t spec_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_stream(k)->spec);
}

ATTESTIO_RO(spec);

static ssize_t device_show(struct kobject *k, struct kobj_attribute *a,
			   char *buf)
{
	struct attestio_stream *s = to_stream(k);
	ssize_t ret;

	mutex_lock(&s->emit_lock);
	ret = sysfs_emit(buf, "%s\n", s->indio_dev ? s->device : "");
	mutex_unlock(&s->emit_lock);
	return ret;
}

ATTESTIO_RO(device);

static ssize_t state_show(struct kobject *k, struct kobj_attribute *a,
			  char *buf)
{
	struct attestio_stream *s = to_stream(k);

	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(s->state) == ATTESTIO_STREAM_ATTACHED ?
			  "attached" : "waiting");
}

ATTESTIO_RO(state);

static ssize_t mode_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	struct attestio_stream *s = to_stream(k);

	return sysfs_emit(buf, "%s\n", READ_ONCE(s->mode) ==
			  ATTESTIO_MODE_POLLED ? "polled" : "buffered");
}

ATTESTIO_RO(mode);

/* The chain state, read under emit_lock so that it is consistent. */
struct attestio_chain_state {
	u32 segment;
	u64 seq;
	u8 head[ATTESTIO_HASH_LEN];
};

static void attestio_chain_state(struct kobject *k,
				 struct attestio_chain_state *st)
{
	struct attestio_stream *s = to_stream(k);

	mutex_lock(&s->emit_lock);
	st->segment = s->segment;
	st->seq = s->seq;
	memcpy(st->head, s->head, ATTESTIO_HASH_LEN);
	mutex_unlock(&s->emit_lock);
}

static ssize_t segment_show(struct kobject *k, struct kobj_attribute *a,
			    char *buf)
{
	struct attestio_chain_state st;

	attestio_chain_state(k, &st);
	return sysfs_emit(buf, "%u\n", st.segment);
}

ATTESTIO_RO(segment);

static ssize_t last_seq_show(struct kobject *k, struct kobj_attribute *a,
			     char *buf)
{
	struct attestio_chain_state st;

	attestio_chain_state(k, &st);
	return sysfs_emit(buf, "%lld\n", (long long)st.seq - 1);
}

ATTESTIO_RO(last_seq);

static ssize_t head_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	struct attestio_chain_state st;

	attestio_chain_state(k, &st);
	return sysfs_emit(buf, "%*phN\n", ATTESTIO_HASH_LEN, st.head);
}

ATTESTIO_RO(head);

/* Counters: attribute name -> offset of an atomic64_t in the stream. */
struct attestio_counter_attr {
	struct kobj_attribute attr;
	size_t offset;
};

static ssize_t attestio_counter_show(struct kobject *k,
				     struct kobj_attribute *a, char *buf)
{
	struct attestio_counter_attr *ca =
		container_of(a, struct attestio_counter_attr, attr);
	atomic64_t *v = (void *)((u8 *)to_stream(k) + ca->offset);

	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(v));
}

static struct attestio_counter_attr attestio_attr_produced = {
	.attr = __ATTR(produced, 0444, attestio_counter_show, NULL),
	.offset = offsetof(struct attestio_stream, produced),
};

static struct attestio_counter_attr attestio_attr_samples = {
	.attr = __ATTR(samples, 0444, attestio_counter_show, NULL),
	.offset = offsetof(struct attestio_stream, samples),
};

static struct attestio_counter_attr attestio_attr_drops = {
	.attr = __ATTR(drops, 0444, attestio_counter_show, NULL),
	.offset = offsetof(struct attestio_stream, drops),
};

static struct attestio_counter_attr attestio_attr_records = {
	.attr = __ATTR(records, 0444, attestio_counter_show, NULL),
	.offset = offsetof(struct attestio_stream, records),
};

static struct attestio_counter_attr attestio_attr_last_epoch = {
	.attr = __ATTR(last_epoch, 0444, attestio_counter_show, NULL),
	.offset = offsetof(struct attestio_stream, last_epoch),
};

static ssize_t last_tpm_result_show(struct kobject *k,
				    struct kobj_attribute *a, char *buf)
{
	struct attestio_stream *s = to_stream(k);

	if (!atomic64_read(&s->last_epoch))
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s %d\n",
			  attestio_cp_status_name(atomic_read(&s->last_status)),
			  atomic_read(&s->last_tpm_rc));
}

ATTESTIO_RO(last_tpm_result);

static struct attribute *attestio_stream_attrs[] = {
	&attestio_attr_spec.attr,
	&attestio_attr_device.attr,
	&attestio_attr_state.attr,
	&attestio_attr_mode.attr,
	&attestio_attr_segment.attr,
	&attestio_attr_last_seq.attr,
	&attestio_attr_head.attr,
	&attestio_attr_produced.attr.attr,
	&attestio_attr_samples.attr.attr,
	&attestio_attr_drops.attr.attr,
	&attestio_attr_records.attr.attr,
	&attestio_attr_last_epoch.attr.attr,
	&attestio_attr_last_tpm_result.attr,
	NULL,
};
ATTRIBUTE_GROUPS(attestio_stream);

static void attestio_stream_release(struct kobject *kobj)
{
	attestio_stream_destroy(to_stream(kobj));
}

static const struct kobj_type attestio_stream_ktype = {
	.release = attestio_stream_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = attestio_stream_groups,
};

int attestio_stream_kobj_add(struct attestio_stream *s)
{
	int ret;

	s->kobj.kset = attestio_streams_kset;
	ret = kobject_init_and_add(&s->kobj, &attestio_stream_ktype, NULL,
				   "%u", s->id);
	if (ret)
		kobject_put(&s->kobj);
	return ret;
}

int attestio_sysfs_init(void)
{
	int ret;

	attestio_kobj = kobject_create_and_add("attestio", kernel_kobj);
	if (!attestio_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(attestio_kobj, &attestio_group);
	if (ret)
		goto err_put_kobj;
	attestio_streams_kset = kset_create_and_add("streams", NULL,
						    attestio_kobj);
	if (!attestio_streams_kset) {
		ret = -ENOMEM;
		goto err_remove_group;
	}
	return 0;

err_remove_group:
	sysfs_remove_group(attestio_kobj, &attestio_group);
err_put_kobj:
	kobject_put(attestio_kobj);
	return ret;
}

void attestio_sysfs_uninit(void)
{
	kset_unregister(attestio_streams_kset);
	sysfs_remove_group(attestio_kobj, &attestio_group);
	kobject_put(attestio_kobj);
}
