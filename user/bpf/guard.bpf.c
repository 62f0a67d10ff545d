// SPDX-License-Identifier: GPL-2.0
/*
 * attestiod's guards (Documentation/attestiod.md, "Guards"):
 *  - BPF LSM on file_open: only the daemon's cgroup may open the devices
 *    listed in the "devices" map (/dev/attestio, /dev/tpm0, /dev/tpmrm0);
 *    any other opener, root included, gets EPERM.  The kernel's own TPM
 *    use does not open files and is not affected.
 *  - cgroup/connect4 and connect6, attached to the daemon's cgroup: its
 *    processes may connect only to the addresses in the "brokers" map.
 * struct file and struct inode are declared here with only the fields
 * read; CO-RE relocates them against the running kernel's BTF.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "attestiod.h"

#define EPERM 1

char LICENSE[] SEC("license") = "GPL";

struct inode {
	__u32 i_rdev;		/* dev_t: major << 20 | minor */
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

const volatile __u64 daemon_cgroup;	/* cgroup id allowed to open */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);		/* kernel dev_t */
	__type(value, __u8);
} devices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct attestiod_guard_addr);
	__type(value, __u8);
} brokers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ATTESTIOD_GUARD_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} guard_counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&guard_counters, &which);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("lsm/file_open")
int BPF_PROG(guard_open, struct file *file)
{
	__u32 rdev = BPF_CORE_READ(file, f_inode, i_rdev);

	if (!rdev || !bpf_map_lookup_elem(&devices, &rdev))
		return 0;
	if (bpf_get_current_cgroup_id() == daemon_cgroup)
		return 0;
	count(ATTESTIOD_GUARD_OPEN_DENIED);
	return -EPERM;
}

static __always_inline int allowed(struct attestiod_guard_addr *a)
{
	if (bpf_map_lookup_elem(&brokers, a))
		return 1;
	count(ATTESTIOD_GUARD_CONNECT_DENIED);
	return 0;	/* connect() fails with EPERM */
}

SEC("cgroup/connect4")
int guard_connect4(struct bpf_sock_addr *ctx)
{
	struct attestiod_guard_addr a = { .family = 4 };

	a.port = ctx->user_port;
	a.addr[0] = ctx->user_ip4;
	return allowed(&a);
}

SEC("cgroup/connect6")
int guard_connect6(struct bpf_sock_addr *ctx)
{
	struct attestiod_guard_addr a = { .family = 6 };

	a.port = ctx->user_port;
	a.addr[0] = ctx->user_ip6[0];
	a.addr[1] = ctx->user_ip6[1];
	a.addr[2] = ctx->user_ip6[2];
	a.addr[3] = ctx->user_ip6[3];
	return allowed(&a);
}
