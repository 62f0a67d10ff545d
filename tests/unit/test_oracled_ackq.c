// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the node's held acks (user/oracled/ackq.c): while a
 * group commit is open no ack leaves, however many messages the group
 * takes (one libmosquitto read may deliver thousands); they leave in
 * order once it committed, and none leaves if it did not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "oracled.h"

struct sent {
	int n;
	int committed;		/* the fake store: 1 once the group commits */
	int early;		/* sent while the group had not committed */
	char last[160];
	unsigned int seq[5000];
};

static int fake_send(void *ctx, const char *topic, const void *buf, size_t len)
{
	struct sent *s = ctx;
	unsigned int v;

	assert_int_equal(sizeof(v), len);
	memcpy(&v, buf, sizeof(v));
	if (!s->committed)
		s->early++;
	if (s->n < 5000)
		s->seq[s->n] = v;
	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", topic);
	return 0;
}

static void put(struct ackq *q, unsigned int v)
{
	char t[64];

	snprintf(t, sizeof(t), "attestio/v1/gw/%032u/ack/n", v);
	ackq_put(q, t, &v, sizeof(v));
}

/* Outside a group an ack leaves at once. */
static void test_not_grouped(void **st)
{
	struct sent s = { .committed = 1 };
	struct ackq q;

	(void)st;
	ackq_init(&q, fake_send, &s);
	put(&q, 7);
	assert_int_equal(1, s.n);
	assert_int_equal(7, s.seq[0]);
	ackq_fini(&q);
}

/* 3,000 acks in one group (more than the 256 the fixed array held): none
 * before the commit, all after it, in order. */
static void test_many_held_until_commit(void **st)
{
	struct sent s = { 0 };
	struct ackq q;

	(void)st;
	ackq_init(&q, fake_send, &s);
	ackq_open(&q);
	for (unsigned int i = 0; i < 3000; i++)
		put(&q, i);
	assert_int_equal(0, s.n);
	s.committed = 1;
	ackq_close(&q, true);
	assert_int_equal(3000, s.n);
	assert_int_equal(0, s.early);
	for (unsigned int i = 0; i < 3000; i++)
		assert_int_equal(i, s.seq[i]);
	assert_string_equal("attestio/v1/gw/00000000000000000000000000002999/ack/n",
			    s.last);
	assert_int_equal(0, q.dropped);
	/* the next group starts empty */
	s.committed = 0;
	ackq_open(&q);
	put(&q, 1);
	assert_int_equal(3000, s.n);
	s.committed = 1;
	ackq_close(&q, true);
	assert_int_equal(3001, s.n);
	ackq_fini(&q);
}

/* A group that did not commit sends nothing and counts what it dropped. */
static void test_failed_commit(void **st)
{
	struct sent s = { 0 };
	struct ackq q;

	(void)st;
	ackq_init(&q, fake_send, &s);
	ackq_open(&q);
	for (unsigned int i = 0; i < 300; i++)
		put(&q, i);
	ackq_close(&q, false);
	assert_int_equal(0, s.n);
	assert_int_equal(300, q.dropped);
	/* held acks of a node stopping mid-group are dropped too */
	ackq_open(&q);
	put(&q, 1);
	ackq_fini(&q);
	assert_int_equal(0, s.n);
	assert_int_equal(301, q.dropped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_grouped),
		cmocka_unit_test(test_many_held_until_commit),
		cmocka_unit_test(test_failed_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
