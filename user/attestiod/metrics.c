// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics over HTTP on 127.0.0.1 (libmicrohttpd in external
 * epoll mode: its epoll fd joins our loop, no thread of its own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>

#include "attestiod.h"

struct metrics_srv {
	struct MHD_Daemon *d;
	int fd;
};

#define METRIC(name, type, help, val) \
	off += (size_t)snprintf(buf + off, cap - off, \
		"# HELP attestiod_" name " " help "\n# TYPE attestiod_" name " " type \
		"\nattestiod_" name " %" PRIu64 "\n", (uint64_t)(val))

#define METRICS_TEXT_MAX 12288

/* The Prometheus text of every metric into @buf (METRICS_TEXT_MAX). */
static size_t metrics_text(char *buf)
{
	const size_t cap = METRICS_TEXT_MAX;
	size_t off = 0;

	METRIC("records_read_total", "counter", "records read from the source", M.records_read);
	METRIC("records_duplicate_total", "counter", "records read again after a restart (already spooled)", M.records_dup);
	METRIC("records_holes_total", "counter", "records missing in per-stream sequences", M.records_holes);
	METRIC("records_lost_declared_total", "counter", "records the module's log declared lost to this reader", M.records_lost_declared);
	METRIC("holes_declared_total", "counter", "per-chain seq holes declared lost (loss declarations)", M.holes_declared);
	METRIC("hole_records_total", "counter", "records in the holes declared lost", M.hole_records);
	METRIC("holes_open", "gauge", "declared holes not yet acked past by ack_quorum nodes", M.holes_open);
	METRIC("loss_published_total", "counter", "loss declarations published", M.loss_published);
	METRIC("releases_declared_total", "counter", "chains declared released to a node stuck below the oldest record held (deleted after ack_quorum nodes acked it)", M.releases_declared);
	METRIC("release_holds", "gauge", "chains held for a stuck node until it acks the oldest record", M.release_holds);
	METRIC("records_spooled_total", "counter", "records written and fsync'd to the spool", M.records_spooled);
	METRIC("records_published_total", "counter", "records published (with retransmissions)", M.records_published);
	METRIC("records_acked_total", "counter", "records deleted after ack_quorum end-to-end acks", M.records_acked);
	METRIC("records_dropped_total", "counter", "records dropped by on_full = drop-oldest", M.records_dropped);
	METRIC("records_bad_total", "counter", "8-byte units skipped in a corrupt source", M.bad_records);
	METRIC("bpf_records_seen_total", "counter", "tracepoint hits the BPF source took", M.bpf_seen);
	METRIC("bpf_records_out_total", "counter", "records the BPF source put into the ring", M.bpf_out);
	METRIC("bpf_ring_full_total", "counter", "records the BPF source could not output (ring full)", M.bpf_ring_full);
	METRIC("bpf_bad_total", "counter", "trace entries the BPF source could not read", M.bpf_bad);
	METRIC("records_backfilled_total", "counter", "records missing from the BPF ring read from /dev/attestio", M.records_backfilled);
	METRIC("records_backfill_lost_total", "counter", "records missing from the BPF ring the log no longer held (declared lost)", M.records_backfill_lost);
	METRIC("guard_enforced", "gauge", "1 while the BPF LSM and connect guards are attached", M.guard_enforced);
	METRIC("guard_open_denied_total", "counter", "opens of /dev/attestio or the TPM refused by the guard", M.guard_open_denied);
	METRIC("guard_connect_denied_total", "counter", "connects to non-brokers refused by the guard", M.guard_connect_denied);
	METRIC("evidence_published_total", "counter", "evidence messages published (retained)", M.evidence_published);
	METRIC("evidence_errors_total", "counter", "evidence that could not be gathered", M.evidence_errors);
	METRIC("evidence_bytes", "gauge", "size of the evidence last published", M.evidence_bytes);
	METRIC("enroll_challenges_total", "counter", "enrollment challenges received from nodes", M.enroll_challenges);
	METRIC("enroll_answered_total", "counter", "challenges answered (the TPM activated the credential)", M.enroll_answered);
	METRIC("enroll_refused_total", "counter", "challenges not answered (unknown node, bad signature, activation failed)", M.enroll_refused);
	METRIC("batches_published_total", "counter", "MQTT messages published", M.batches_published);
	METRIC("retransmits_total", "counter", "go-back-N retransmissions", M.retransmits);
	METRIC("batches_retransmitted_total", "counter", "MQTT messages published again (timeouts and reconnects)", M.batches_retransmitted);
	METRIC("ack_rtt_milliseconds", "gauge", "smoothed round trip from publishing a record to its end-to-end ack (RFC 6298 srtt)", M.ack_rtt_ms);
	METRIC("retransmit_timeout_milliseconds", "gauge", "wait before retransmitting the oldest unacked record (srtt + 4 rttvar, at least retransmit_ms)", M.rto_ms);
	METRIC("spool_bytes", "gauge", "bytes of records in the spool", M.spool_bytes);
	METRIC("spool_records", "gauge", "records in the spool", M.spool_records);
	METRIC("spool_age_seconds", "gauge", "age of the oldest spooled record", M.spool_age_s);
	METRIC("spool_syncs_total", "counter", "spool transactions (fsyncs)", M.spool_syncs);
	METRIC("spool_errors_total", "counter", "failed spool writes", M.spool_errors);
	METRIC("alarm_spool_full", "gauge", "1 while the spool is over max_bytes or max_age", M.alarm_spool_full);
	METRIC("alarm_spool_write", "gauge", "1 while spool writes fail (disk full, I/O error)", M.alarm_disk);
	METRIC("source_paused", "gauge", "1 while reading is paused", M.source_paused);
	METRIC("connected", "gauge", "1 while connected to a broker", M.connected);
	METRIC("reconnects_total", "counter", "connections lost after being up", M.reconnects);
	METRIC("connect_failures_total", "counter", "failed connection attempts", M.connect_failures);
	METRIC("tls_failures_total", "counter", "TLS handshake or I/O failures", M.tls_failures);
	METRIC("client_cert_not_after_seconds", "gauge",
	       "end of validity of the TLS client certificate (unix time; 0: none)",
	       M.client_cert_not_after);
	METRIC("client_cert_expired", "gauge",
	       "1 while the TLS client certificate is expired (brokers refuse it)",
	       M.client_cert_expired);
	METRIC("acks_total", "counter", "valid acks applied", M.acks_ok);
	METRIC("acks_bad_total", "counter", "malformed or badly signed acks ignored", M.acks_bad);
	METRIC("acks_unknown_node_total", "counter", "acks from nodes not in the config ignored", M.acks_unknown_node);
	METRIC("acks_unsent_total", "counter", "ack entries for seqs never sent, ignored", M.acks_unsent);
	METRIC("acks_skip_mismatch_total", "counter", "ack entries that skip or join past a record the gateway holds, cut below it", M.acks_skip_mismatch);
	METRIC("beacons_accepted_total", "counter", "valid oracle beacons taken (newest round)", M.beacons_accepted);
	METRIC("beacons_set_total", "counter", "beacons handed to the module (ATTESTIO_IOC_SET_BEACON)", M.beacons_set);
	off += (size_t)snprintf(buf + off, cap - off,
		"# HELP attestiod_beacons_rejected_total oracle beacons ignored, by reason\n"
		"# TYPE attestiod_beacons_rejected_total counter\n");
	for (int i = 0; i < BEACON_NREASONS; i++)
		off += (size_t)snprintf(buf + off, cap - off,
			"attestiod_beacons_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
			beacon_reason_name(i), M.beacons_rejected[i]);
	METRIC("beacon_round", "gauge", "round of the beacon held (0: none)", M.beacon_round);
	if (M.beacon_time) {
		uint64_t t = now_ms() / 1000;

		METRIC("beacon_age_seconds", "gauge", "age of the beacon held (now - its signed time)",
		       t > M.beacon_time ? t - M.beacon_time : 0);
	}
	return off < cap ? off : cap - 1;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *data,
			      size_t *size, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char buf[METRICS_TEXT_MAX];
	size_t off;

	(void)cls; (void)version; (void)data; (void)size; (void)state;
	if (strcmp(method, "GET") || strcmp(url, "/metrics")) {
		r = MHD_create_response_from_buffer(10, (void *)"not found\n",
						    MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
		MHD_destroy_response(r);
		return ret;
	}
	off = metrics_text(buf);
	r = MHD_create_response_from_buffer(off, buf, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int metrics_init(struct metrics_srv **mp, const struct config *c)
{
	struct metrics_srv *m;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *di;
	int port;

	*mp = NULL;
	if (!*c->metrics)
		return 0;
	port = atoi(strchr(c->metrics, ':') + 1);
	if (port <= 0 || port > 65535) {
		logmsg(LOG_ERR, "metrics: bad port in %s", c->metrics);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	m->d = MHD_start_daemon(MHD_USE_EPOLL, (uint16_t)port, NULL, NULL, answer, m,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_LIMIT, 8u,
				MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_END);
	di = m->d ? MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di) {
		logmsg(LOG_ERR, "metrics: cannot listen on %s", c->metrics);
		if (m->d)
			MHD_stop_daemon(m->d);
		free(m);
		return -EADDRINUSE;
	}
	m->fd = di->epoll_fd;
	*mp = m;
	return 0;
}

void metrics_fini(struct metrics_srv *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}

int metrics_fd(const struct metrics_srv *m)
{
	return m ? m->fd : -1;
}

void metrics_run(struct metrics_srv *m)
{
	if (m)
		MHD_run(m->d);
}

/*
 * The same text, for `attestio status`, in c->status_file (written to a
 * temporary file and renamed: a reader never sees half of it); @gone:
 * the daemon stops, the file goes.  A failure is logged once per kind.
 */
void metrics_status_file(const struct config *c, bool gone)
{
	static bool warned;
	char buf[METRICS_TEXT_MAX], tmp[PATH_LEN + 8];
	size_t len;
	FILE *f;

	if (!*c->status_file)
		return;
	if (gone) {
		unlink(c->status_file);
		return;
	}
	len = metrics_text(buf);
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->status_file);
	f = fopen(tmp, "w");
	if (f && fwrite(buf, 1, len, f) == len && !fclose(f) &&
	    !rename(tmp, c->status_file)) {
		warned = false;
		return;
	}
	if (f)
		unlink(tmp);
	if (!warned)
		logmsg(LOG_WARNING, "metrics: cannot write the status file %s "
		       "(attestio status will not show the daemon): %s",
		       c->status_file, strerror(errno));
	warned = true;
}
