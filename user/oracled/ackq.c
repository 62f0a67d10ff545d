// SPDX-License-Identifier: GPL-2.0
/*
 * Acks held while a group commit is open (main.c, group_pass): an ack is
 * the node's word that the records it names are verified AND durably
 * stored, so none may leave before the transaction that stores them has
 * committed; a gateway deletes what ack_quorum nodes acked, and a node
 * that crashed before its commit would have lost them.  One libmosquitto
 * read can deliver thousands of messages (it reads as many packets as the
 * client has QoS 1 messages queued), so the queue grows as needed instead
 * of being a fixed array: a fixed one of 256 sent the 257th message's ack
 * at once, before the commit (seen at 1,000 gateways).  An ack that cannot
 * be held for want of memory is dropped and counted: the gateway
 * retransmits and is acked again.
 */
#include <stdlib.h>
#include <string.h>

#include "oracled.h"

void ackq_init(struct ackq *q, ackq_send_fn send, void *ctx)
{
	memset(q, 0, sizeof(*q));
	q->send = send;
	q->ctx = ctx;
}

void ackq_open(struct ackq *q)
{
	q->open = true;
}

/* Send @buf to @topic now, or hold it until ackq_close() if open. */
void ackq_put(struct ackq *q, const char *topic, const void *buf, size_t len)
{
	struct ackq_ent *e;

	if (!q->open) {
		q->send(q->ctx, topic, buf, len);
		return;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 256;

		e = realloc(q->e, cap * sizeof(*e));
		if (!e) {
			q->dropped++;
			return;
		}
		q->e = e;
		q->cap = cap;
	}
	e = &q->e[q->n];
	e->buf = malloc(len ? len : 1);
	if (!e->buf) {
		q->dropped++;
		return;
	}
	memcpy(e->buf, buf, len);
	e->len = len;
	snprintf(e->topic, sizeof(e->topic), "%s", topic);
	q->n++;
}

/* The group ended: send what it held, in order, if it @committed; else
 * drop it all (counted; the node then stops: main.c, group_pass). */
void ackq_close(struct ackq *q, bool committed)
{
	q->open = false;
	for (size_t i = 0; i < q->n; i++) {
		if (committed)
			q->send(q->ctx, q->e[i].topic, q->e[i].buf, q->e[i].len);
		else
			q->dropped++;
		free(q->e[i].buf);
	}
	q->n = 0;
}

void ackq_fini(struct ackq *q)
{
	ackq_close(q, false);
	free(q->e);
	q->e = NULL;
	q->cap = 0;
}
