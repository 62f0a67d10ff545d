// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/attestio: whole records of all streams, one cursor and one stream
 * filter per open file.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "attestio.h"

static int attestio_dev_open(struct inode *inode, struct file *file)
{
	struct attestio_reader *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->bounce = kmalloc(ATTESTIO_REC_MAX_LEN, GFP_KERNEL);
	if (!r->bounce) {
		kfree(r);
		return -ENOMEM;
	}
	mutex_init(&r->lock);
	r->mask = ~0ULL;
	attestio_reader_start(r);
	file->private_data = r;
	return stream_open(inode, file);
}

static int attestio_dev_release(struct inode *inode, struct file *file)
{
	struct attestio_reader *r = file->private_data;

	kfree(r->bounce);
	kfree(r);
	return 0;
}

/*
 * Whole records only: as many as fit.  A buffer too small for the next
 * record gets -EINVAL and consumes nothing; neither does a record that
 * faults on the way out: the reader's cursor goes back to it, so the next
 * read() returns it again (or, if the log overwrote it meanwhile, a lost
 * record that counts it).
 */
static ssize_t attestio_dev_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct attestio_reader *r = file->private_data;
	size_t done = 0;
	int len;

	if (mutex_lock_interruptible(&r->lock))
		return -ERESTARTSYS;
	while (done < count) {
		len = attestio_reader_next(r, min_t(size_t, count - done,
						    ATTESTIO_REC_MAX_LEN));
		if (len == -ENOSPC) {
			if (!done)
				done = -EINVAL;
			break;
		}
		if (len == 0) {
			if (done)
				break;
			if (file->f_flags & O_NONBLOCK) {
				done = -EAGAIN;
				break;
			}
			mutex_unlock(&r->lock);
			if (wait_event_interruptible(*attestio_log_waitq(),
						     attestio_reader_ready(r)))
				return -ERESTARTSYS;
			if (mutex_lock_interruptible(&r->lock))
				return -ERESTARTSYS;
			continue;
		}
		if (copy_to_user(ubuf + done, r->bounce, len)) {
			attestio_reader_unread(r);
			done = done ? done : -EFAULT;
			break;
		}
		done += len;
	}
	mutex_unlock(&r->lock);
	return done;
}

static __poll_t attestio_dev_poll(struct file *file, poll_table *wait)
{
	struct attestio_reader *r = file->private_data;

	poll_wait(file, attestio_log_waitq(), wait);
	return attestio_reader_ready(r) ? EPOLLIN | EPOLLRDNORM : 0;
}

static long attestio_dev_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct attestio_reader *r = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct attestio_filter filter;
	struct attestio_info info;
	struct attestio_epoch_stats es;
	struct attestio_beacon beacon;

	switch (cmd) {
	case ATTESTIO_IOC_SET_FILTER:
		if (copy_from_user(&filter, uarg, sizeof(filter)))
			return -EFAULT;
		if (filter.reserved[0] || filter.reserved[1] ||
		    filter.reserved[2])
			return -EINVAL;
		mutex_lock(&r->lock);
		r->mask = filter.mask;
		mutex_unlock(&r->lock);
		return 0;
	case ATTESTIO_IOC_GET_FILTER:
		memset(&filter, 0, sizeof(filter));
		filter.mask = READ_ONCE(r->mask);
		return copy_to_user(uarg, &filter, sizeof(filter)) ? -EFAULT : 0;
	case ATTESTIO_IOC_GET_INFO:
		memset(&info, 0, sizeof(info));
		attestio_epoch_stats(&es);
		info.rec_version = ATTESTIO_REC_VERSION;
		info.max_streams = ATTESTIO_MAX_STREAMS;
		info.instance = attestio_instance;
		info.epoch = es.epoch;
		return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
	case ATTESTIO_IOC_SET_BEACON:
		/* the opener's credentials: a passed-on fd keeps them */
		if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
			return -EPERM;
		if (copy_from_user(&beacon, uarg, sizeof(beacon)))
			return -EFAULT;
		return attestio_beacon_set(&beacon);
	case ATTESTIO_IOC_GET_BEACON:
		attestio_beacon_get(&beacon);
		return copy_to_user(uarg, &beacon, sizeof(beacon)) ? -EFAULT : 0;
	}
	return -ENOTTY;
}

static const struct file_operations attestio_dev_fops = {
	.owner = THIS_MODULE,
	.open = attestio_dev_open,
	.release = attestio_dev_release,
	.read = attestio_dev_read,
	.poll = attestio_dev_poll,
	.unlocked_ioctl = attestio_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice attestio_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "attestio",
	.fops = &attestio_dev_fops,
	.mode = 0440,
};

int attestio_dev_init(void)
{
	return misc_register(&attestio_miscdev);
}

void attestio_dev_uninit(void)
{
	misc_deregister(&attestio_miscdev);
}
