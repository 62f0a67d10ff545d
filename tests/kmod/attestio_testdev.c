// SPDX-License-Identifier: GPL-2.0
/*
 * attestio_testdev: a test-only IIO device for the attestio selftests.
 *
 * It behaves like the real drivers the review found attestio mishandling,
 * on request, so that each lifecycle defect has a deterministic test:
 *  - read_raw claims direct mode, like hts221 (claim_direct=1);
 *  - a triggered buffer fed by its own hrtimer trigger (rate_hz, paused), with
 *    garbage in every bit and byte the scan layout calls padding;
 *  - a writable scale on voltage0;
 *  - postenable can fail (fail_postenable=-errno), as an I/O error would;
 *  - its trigger can be removed (drop_trigger=1: unregistered, and it
 *    stops firing, as a removed hrtimer or sysfs trigger does) and a new
 *    one registered in its place (drop_trigger=0: "attestio-test-trig<n>",
 *    for userspace to make current);
 *  - buffer updates can be refused (refuse_update=1): the device stops
 *    advertising triggered-buffer mode, so the IIO core refuses any change
 *    of the buffer list while another buffer stays enabled;
 *  - extra=N more devices (N <= 7), "attestio-testdev.<i>" with the
 *    label "attestio-test-<i>", for tests of many streams (the knobs
 *    above act on the newest device);
 *  - a misc device "attestio-hold" whose open() sleeps hold_ms with the
 *    misc core's mutex held, which holds a modprobe of attestio inside
 *    misc_register() for that long.
 * Never load it outside a test VM.
 */
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/iio/buffer.h>
#include <linux/iio/iio.h>
#include <linux/iio/trigger.h>
#include <linux/iio/trigger_consumer.h>
#include <linux/iio/triggered_buffer.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/platform_device.h>

static bool claim_direct = true;
module_param(claim_direct, bool, 0644);
static unsigned int rate_hz = 100;
module_param(rate_hz, uint, 0644);
static bool paused;
module_param(paused, bool, 0644);
static int fail_postenable;
module_param(fail_postenable, int, 0644);
static unsigned int hold_ms;
module_param(hold_ms, uint, 0644);
#define TESTDEV_MAX_EXTRA 7
static unsigned int extra;
module_param(extra, uint, 0444);

struct testdev {
	struct iio_dev *indio;
	struct device *dev;
	struct iio_trigger *trig;	/* the newest one */
	bool trig_registered;
	unsigned int ntrig;
	int id;			/* platform device id: -1, or 1..extra */
	struct hrtimer timer;
	struct mutex lock;	/* counter, scale */
	u32 counter;
	int scale[2];
};

static struct testdev *testdev_cur;

static const struct iio_chan_spec testdev_channels[] = {
	{
		.type = IIO_VOLTAGE, .indexed = 1, .channel = 0,
		.info_mask_separate = BIT(IIO_CHAN_INFO_RAW) |
				      BIT(IIO_CHAN_INFO_SCALE),
		.scan_index = 0,
		.scan_type = { .sign = 's', .realbits = 12, .storagebits = 16,
			       .shift = 2, .endianness = IIO_LE },
	},
	{
		.type = IIO_VOLTAGE, .indexed = 1, .channel = 1,
		.info_mask_separate = BIT(IIO_CHAN_INFO_RAW),
		.scan_index = 1,
		.scan_type = { .sign = 'u', .realbits = 8, .storagebits = 8,
			       .endianness = IIO_LE },
	},
	IIO_CHAN_SOFT_TIMESTAMP(2),
};

static int testdev_read_raw(struct iio_dev *indio,
			    struct iio_chan_spec const *ch, int *val,
			    int *val2, long mask)
{
	struct testdev *td = iio_priv(indio);
	int ret;

	switch (mask) {
	case IIO_CHAN_INFO_RAW:
		if (READ_ONCE(claim_direct)) {
			ret = iio_device_claim_direct_mode(indio);
			if (ret)
				return ret;
		}
		mutex_lock(&td->lock);
		*val = ch->channel ? td->counter & 0xff : td->counter & 0x7ff;
		td->counter++;
		mutex_unlock(&td->lock);
		if (READ_ONCE(claim_direct))
			iio_device_release_direct_mode(indio);
		return IIO_VAL_INT;
	case IIO_CHAN_INFO_SCALE:
		mutex_lock(&td->lock);
		*val = td->scale[0];
		*val2 = td->scale[1];
		mutex_unlock(&td->lock);
		return IIO_VAL_INT_PLUS_MICRO;
	}
	return -EINVAL;
}

static int testdev_write_raw(struct iio_dev *indio,
			     struct iio_chan_spec const *ch, int val, int val2,
			     long mask)
{
	struct testdev *td = iio_priv(indio);

	if (mask != IIO_CHAN_INFO_SCALE)
		return -EINVAL;
	mutex_lock(&td->lock);
	td->scale[0] = val;
	td->scale[1] = val2;
	mutex_unlock(&td->lock);
	return 0;
}

static const struct iio_info testdev_info = {
	.read_raw = testdev_read_raw,
	.write_raw = testdev_write_raw,
};

/* The scan as pushed: 0xAA in the alignment gap, garbage outside the bits. */
struct testdev_scan {
	__le16 v0;
	u8 v1;
	u8 pad[5];
	s64 ts;
};

static irqreturn_t testdev_trigger_handler(int irq, void *p)
{
	struct iio_poll_func *pf = p;
	struct iio_dev *indio = pf->indio_dev;
	struct testdev *td = iio_priv(indio);
	struct testdev_scan scan;
	u32 v;

	memset(&scan, 0xaa, sizeof(scan));
	mutex_lock(&td->lock);
	v = td->counter++;
	mutex_unlock(&td->lock);
	/* value in bits 2..13, garbage in bits 0, 1, 14 and 15 */
	scan.v0 = cpu_to_le16(((v & 0x7ff) << 2) | 0xc003);
	scan.v1 = v & 0xff;
	iio_push_to_buffers_with_timestamp(indio, &scan, pf->timestamp);
	iio_trigger_notify_done(indio->trig);
	return IRQ_HANDLED;
}

static int testdev_postenable(struct iio_dev *indio)
{
	return READ_ONCE(fail_postenable);
}

static const struct iio_buffer_setup_ops testdev_setup_ops = {
	.postenable = testdev_postenable,
};

static enum hrtimer_restart testdev_tick(struct hrtimer *t)
{
	struct testdev *td = container_of(t, struct testdev, timer);

	hrtimer_forward_now(t, ns_to_ktime(NSEC_PER_SEC /
					   clamp(READ_ONCE(rate_hz), 1U, 10000U)));
	if (!READ_ONCE(paused) && READ_ONCE(td->trig_registered))
		iio_trigger_poll(READ_ONCE(td->trig));
	return HRTIMER_RESTART;
}

static int testdev_set_trigger_state(struct iio_trigger *trig, bool state)
{
	struct testdev *td = iio_trigger_get_drvdata(trig);

	if (state)
		hrtimer_start(&td->timer, ms_to_ktime(1), HRTIMER_MODE_REL_HARD);
	else
		hrtimer_cancel(&td->timer);
	return 0;
}

static const struct iio_trigger_ops testdev_trigger_ops = {
	.set_trigger_state = testdev_set_trigger_state,
};

static void testdev_trig_unregister(void *data)
{
	struct testdev *td = data;

	if (td->trig_registered)
		iio_trigger_unregister(td->trig);
	WRITE_ONCE(td->trig_registered, false);
}

/* A new trigger "attestio-test-trig<n>" (devm-allocated, registered). */
static int testdev_trig_add(struct testdev *td)
{
	struct iio_trigger *trig;
	int ret;

	if (td->id > 0)
		trig = devm_iio_trigger_alloc(td->dev, "attestio-test-%d-trig%u",
					      td->id, td->ntrig++);
	else
		trig = devm_iio_trigger_alloc(td->dev, "attestio-test-trig%u",
					      td->ntrig++);
	if (!trig)
		return -ENOMEM;
	trig->ops = &testdev_trigger_ops;
	iio_trigger_set_drvdata(trig, td);
	ret = iio_trigger_register(trig);
	if (ret)
		return ret;
	WRITE_ONCE(td->trig, trig);
	WRITE_ONCE(td->trig_registered, true);
	return 0;
}

static void testdev_forget(void *data)
{
	struct testdev *td = data;

	hrtimer_cancel(&td->timer);
	if (testdev_cur == td)
		testdev_cur = NULL;
}

static int testdev_probe(struct platform_device *pdev)
{
	struct iio_dev *indio;
	struct testdev *td;
	int ret;

	indio = devm_iio_device_alloc(&pdev->dev, sizeof(*td));
	if (!indio)
		return -ENOMEM;
	td = iio_priv(indio);
	td->indio = indio;
	td->scale[0] = 1;
	td->scale[1] = 500000;
	mutex_init(&td->lock);
	hrtimer_init(&td->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	td->timer.function = testdev_tick;
	ret = devm_add_action_or_reset(&pdev->dev, testdev_forget, td);
	if (ret)
		return ret;

	indio->name = "attestio-test";
	td->id = pdev->id;
	if (pdev->id > 0) {
		indio->label = devm_kasprintf(&pdev->dev, GFP_KERNEL,
					      "attestio-test-%d", pdev->id);
		if (!indio->label)
			return -ENOMEM;
	}
	indio->info = &testdev_info;
	indio->modes = INDIO_DIRECT_MODE;
	indio->channels = testdev_channels;
	indio->num_channels = ARRAY_SIZE(testdev_channels);

	td->dev = &pdev->dev;
	ret = testdev_trig_add(td);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(&pdev->dev, testdev_trig_unregister, td);
	if (ret)
		return ret;
	indio->trig = iio_trigger_get(td->trig);

	ret = devm_iio_triggered_buffer_setup(&pdev->dev, indio,
					      iio_pollfunc_store_time,
					      testdev_trigger_handler,
					      &testdev_setup_ops);
	if (ret)
		return ret;
	testdev_cur = td;
	return devm_iio_device_register(&pdev->dev, indio);
}

static struct platform_driver testdev_driver = {
	.driver = { .name = "attestio-testdev" },
	.probe = testdev_probe,
};

/* refuse_update: stop (1) or resume (0) advertising triggered-buffer mode */
static int testdev_refuse_set(const char *val, const struct kernel_param *kp)
{
	bool refuse;
	int ret = kstrtobool(val, &refuse);

	if (ret)
		return ret;
	if (!testdev_cur)
		return -ENODEV;
	if (refuse)
		testdev_cur->indio->modes &= ~INDIO_BUFFER_TRIGGERED;
	else
		testdev_cur->indio->modes |= INDIO_BUFFER_TRIGGERED;
	return 0;
}

static const struct kernel_param_ops testdev_refuse_ops = {
	.set = testdev_refuse_set,
};
module_param_cb(refuse_update, &testdev_refuse_ops, NULL, 0200);

/* drop_trigger: remove the trigger (1) or register a new one (0) */
static int testdev_drop_set(const char *val, const struct kernel_param *kp)
{
	bool drop;
	int ret = kstrtobool(val, &drop);

	if (ret)
		return ret;
	if (!testdev_cur)
		return -ENODEV;
	if (drop) {
		if (!testdev_cur->trig_registered)
			return -ENOENT;
		WRITE_ONCE(testdev_cur->trig_registered, false);
		iio_trigger_unregister(testdev_cur->trig);
		return 0;
	}
	if (testdev_cur->trig_registered)
		return -EEXIST;
	return testdev_trig_add(testdev_cur);
}

static const struct kernel_param_ops testdev_drop_ops = {
	.set = testdev_drop_set,
};
module_param_cb(drop_trigger, &testdev_drop_ops, NULL, 0200);

static int testdev_misc_open(struct inode *inode, struct file *file)
{
	msleep(READ_ONCE(hold_ms));	/* with misc_mtx held by misc_open() */
	return -EIO;
}

static const struct file_operations testdev_misc_fops = {
	.owner = THIS_MODULE,
	.open = testdev_misc_open,
};

static struct miscdevice testdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "attestio-hold",
	.fops = &testdev_misc_fops,
};

static struct platform_device *testdev_pdev;
static struct platform_device *testdev_extra[TESTDEV_MAX_EXTRA];

static void testdev_extra_remove(void)
{
	unsigned int i;

	for (i = 0; i < TESTDEV_MAX_EXTRA; i++) {
		platform_device_unregister(testdev_extra[i]);
		testdev_extra[i] = NULL;
	}
}

static int __init testdev_init(void)
{
	unsigned int i;
	int ret;

	if (extra > TESTDEV_MAX_EXTRA)
		return -EINVAL;
	ret = misc_register(&testdev_misc);
	if (ret)
		return ret;
	ret = platform_driver_register(&testdev_driver);
	if (ret)
		goto err_deregister_misc;
	testdev_pdev = platform_device_register_simple("attestio-testdev", -1,
						       NULL, 0);
	if (IS_ERR(testdev_pdev)) {
		ret = PTR_ERR(testdev_pdev);
		goto err_unregister_driver;
	}
	for (i = 0; i < extra; i++) {
		testdev_extra[i] =
			platform_device_register_simple("attestio-testdev",
							i + 1, NULL, 0);
		if (IS_ERR(testdev_extra[i])) {
			ret = PTR_ERR(testdev_extra[i]);
			testdev_extra[i] = NULL;
			goto err_remove_extra;
		}
	}
	return 0;

err_remove_extra:
	testdev_extra_remove();
	platform_device_unregister(testdev_pdev);
err_unregister_driver:
	platform_driver_unregister(&testdev_driver);
err_deregister_misc:
	misc_deregister(&testdev_misc);
	return ret;
}

static void __exit testdev_exit(void)
{
	testdev_extra_remove();
	platform_device_unregister(testdev_pdev);
	platform_driver_unregister(&testdev_driver);
	misc_deregister(&testdev_misc);
}

module_init(testdev_init);
module_exit(testdev_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only IIO device for the attestio selftests");
MODULE_IMPORT_NS(IIO);
