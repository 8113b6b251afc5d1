/* Control message validation and dispatch. See ctlmsg.h and include/rtpanchor/dp_proto.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>

#include <rtpanchor/dp_proto.h>

#include "ctlmsg.h"
#include "neigh.h"
#include "session.h"
#include "stats.h"
#include "worker.h"

uint64_t ctlmsg_boot_id;

static const char *const type_names[RPA_DP_TYPE_MAX] = {
	[RPA_DP_HELLO] = "HELLO",           [RPA_DP_STREAM_ADD] = "STREAM_ADD",
	[RPA_DP_STREAM_DEL] = "STREAM_DEL", [RPA_DP_STREAM_GET] = "STREAM_GET",
	[RPA_DP_STREAM_LIST] = "STREAM_LIST", [RPA_DP_STATS] = "STATS",
	[RPA_DP_NEIGH_LIST] = "NEIGH_LIST", [RPA_DP_FLUSH] = "FLUSH",
	[RPA_DP_BATCH] = "BATCH",
};

/* Request body sizes; every request type has a fixed size. */
static const size_t body_size[RPA_DP_TYPE_MAX] = {
	[RPA_DP_HELLO] = sizeof(struct rpa_dp_hello),
	[RPA_DP_STREAM_ADD] = sizeof(struct rpa_dp_stream),
	[RPA_DP_STREAM_DEL] = sizeof(struct rpa_endpoint),
	[RPA_DP_STREAM_GET] = sizeof(struct rpa_endpoint),
	[RPA_DP_STREAM_LIST] = sizeof(struct rpa_dp_page),
	[RPA_DP_STATS] = 0,
	[RPA_DP_NEIGH_LIST] = sizeof(struct rpa_dp_page),
	[RPA_DP_FLUSH] = sizeof(struct rpa_dp_flush),
	[RPA_DP_BATCH] = 0, /* variable: checked by do_batch */
};

static size_t reply_set(struct rpa_dp_reply *r, int status, size_t body, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->hdr.len = (uint32_t)(sizeof(*r) + (status == 0 ? body : 0));
	return r->hdr.len;
}

static size_t do_hello(const struct rpa_dp_hello *h, struct rpa_dp_reply *r)
{
	struct rpa_dp_hello_reply *o = (void *)(r + 1);

	if (h->client_version != RPA_DP_VERSION)
		return reply_set(r, -EPROTO, 0, "client speaks version %u, dataplane speaks %u",
				 h->client_version, RPA_DP_VERSION);
	memset(o, 0, sizeof(*o));
	o->version = RPA_DP_VERSION;
	o->pid = (uint32_t)getpid();
	o->boot_id = ctlmsg_boot_id;
	o->uptime_ms = (rte_get_tsc_cycles() - stats_start_tsc) * 1000 / rte_get_tsc_hz();
	snprintf(o->build, sizeof(o->build), "rtpanchor %s", RPA_VERSION);
	return reply_set(r, 0, sizeof(*o), "hello");
}

static size_t do_get(const struct rpa_endpoint *ep, struct rpa_dp_reply *r)
{
	char b[RPA_ENDPOINT_STRLEN];
	int rc = session_get(ep, (struct rpa_dp_stream_info *)(r + 1));

	rpa_endpoint_format(ep, b, sizeof(b));
	if (rc == -EADDRNOTAVAIL)
		return reply_set(r, rc, 0, "%s is not a media address of this dataplane", b);
	if (rc < 0)
		return reply_set(r, rc, 0, "no stream on %s", b);
	return reply_set(r, 0, sizeof(struct rpa_dp_stream_info), "ok");
}

static size_t do_del(const struct rpa_endpoint *ep, struct rpa_dp_reply *r)
{
	char b[RPA_ENDPOINT_STRLEN];
	int rc = session_del(ep);

	rpa_endpoint_format(ep, b, sizeof(b));
	if (rc == -EADDRNOTAVAIL)
		return reply_set(r, rc, 0, "%s is not a media address of this dataplane", b);
	if (rc < 0)
		return reply_set(r, rc, 0, "no stream on %s", b);
	return reply_set(r, 0, 0, "deleted %s", b);
}

/* One side's key material as the ABI requires it. Messages name lengths and suites, never
 * key bytes. */
static int srtp_check(const char *side, const struct rpa_dp_srtp *k, char *err, size_t errlen)
{
	const char *name = rpa_dp_srtp_suite_name(k->suite);

	if (k->suite >= RPA_DP_SRTP_SUITE_MAX) {
		snprintf(err, errlen, "%s SRTP suite %u unknown (0..%u)", side, k->suite,
			 RPA_DP_SRTP_SUITE_MAX - 1);
		return -EINVAL;
	}
	if (k->suite == RPA_DP_SRTP_NONE) {
		if (k->key_len != 0 || k->salt_len != 0 || k->mki_len != 0) {
			snprintf(err, errlen,
				 "%s has no SRTP suite but key_len %u, salt_len %u, mki_len %u "
				 "(all must be 0)",
				 side, k->key_len, k->salt_len, k->mki_len);
			return -EINVAL;
		}
		return 0;
	}
	if (k->key_len != rpa_dp_srtp_key_len(k->suite)) {
		snprintf(err, errlen, "%s key_len %u, %s needs %u", side, k->key_len, name,
			 rpa_dp_srtp_key_len(k->suite));
		return -EINVAL;
	}
	if (k->salt_len != rpa_dp_srtp_salt_len(k->suite)) {
		snprintf(err, errlen, "%s salt_len %u, %s needs %u", side, k->salt_len, name,
			 rpa_dp_srtp_salt_len(k->suite));
		return -EINVAL;
	}
	if (k->mki_len > RPA_DP_SRTP_MKI_MAX) {
		snprintf(err, errlen, "%s mki_len %u, at most %u", side, k->mki_len,
			 RPA_DP_SRTP_MKI_MAX);
		return -EINVAL;
	}
	return 0;
}

/* The fields of a stream that are pure ABI (no table lookup): flags, SRTP parameters,
 * replay window. Addresses are checked by session_add. */
static int stream_check(const struct rpa_dp_stream *s, char *err, size_t errlen)
{
	int rc;

	if (s->flags & ~RPA_DP_F_ALL) {
		snprintf(err, errlen, "unknown flags 0x%x", s->flags & ~RPA_DP_F_ALL);
		return -EINVAL;
	}
	if ((s->flags & RPA_DP_F_RTCP) && (s->flags & RPA_DP_F_MUX)) {
		snprintf(err, errlen, "flags rtcp and mux together: an RTCP-only stream is not "
				      "multiplexed");
		return -EINVAL;
	}
	rc = srtp_check("rx", &s->rx, err, errlen);
	if (rc == 0)
		rc = srtp_check("tx", &s->tx, err, errlen);
	if (rc < 0)
		return rc;
	if (s->replay_window != 0 && (s->replay_window < RPA_DP_SRTP_REPLAY_MIN ||
				      s->replay_window > RPA_DP_SRTP_REPLAY_MAX)) {
		snprintf(err, errlen, "replay window %u packets outside %u..%u (or 0 = default)",
			 s->replay_window, RPA_DP_SRTP_REPLAY_MIN, RPA_DP_SRTP_REPLAY_MAX);
		return -EINVAL;
	}
	return 0;
}

static size_t do_add(const struct rpa_dp_stream *s, struct rpa_dp_reply *r)
{
	char err[RPA_DP_ERRMSG_LEN] = "";
	int rc = stream_check(s, err, sizeof(err));

	if (rc == 0)
		rc = session_add(s, err, sizeof(err));
	if (rc < 0)
		return reply_set(r, rc, 0, "%s", err);
	return reply_set(r, 0, 0, "ok");
}

#define PAGE_ROOM (RPA_DP_MSG_MAX - sizeof(struct rpa_dp_reply) - sizeof(struct rpa_dp_page_reply))

static size_t do_list(const struct rpa_dp_page *pg, struct rpa_dp_reply *r, bool neigh)
{
	struct rpa_dp_page_reply *o = (void *)(r + 1);
	size_t esz = neigh ? sizeof(struct rpa_dp_neigh) : sizeof(struct rpa_dp_stream_info);
	unsigned max = pg->max == 0 || pg->max > PAGE_ROOM / esz ? PAGE_ROOM / esz : pg->max;
	uint32_t cursor = pg->cursor;

	if (neigh)
		o->count = neigh_list(&cursor, (struct rpa_dp_neigh *)(o + 1), max);
	else
		o->count = session_list(&cursor, (struct rpa_dp_stream_info *)(o + 1), max);
	o->next_cursor = cursor;
	return reply_set(r, 0, sizeof(*o) + o->count * esz, "%u entries", o->count);
}

static size_t do_stats(struct rpa_dp_reply *r)
{
	struct rpa_dp_stats *s = (void *)(r + 1);
	uint8_t *p = (uint8_t *)(s + 1);

	stats_summary(s);
	for (uint16_t i = 0; i < s->nports; i++, p += sizeof(struct rpa_dp_port_stats))
		stats_port(i, (struct rpa_dp_port_stats *)p);
	for (unsigned i = 0; i < s->nworkers; i++, p += sizeof(struct rpa_dp_worker_stats))
		stats_worker(i, (struct rpa_dp_worker_stats *)p);
	for (unsigned i = 0; i < s->ndrops; i++, p += sizeof(struct rpa_dp_drop_stats))
		stats_drop((enum dp_drop)i, (struct rpa_dp_drop_stats *)p);
	return reply_set(r, 0, (size_t)(p - (uint8_t *)s), "ok");
}

static size_t do_flush(const struct rpa_dp_flush *f, struct rpa_dp_reply *r)
{
	struct rpa_dp_flush_reply *o = (void *)(r + 1);

	if (f->flags & ~RPA_DP_FLUSH_TAG)
		return reply_set(r, -EINVAL, 0, "unknown flush flags 0x%x", f->flags);
	o->deleted = session_flush(f->flags & RPA_DP_FLUSH_TAG, f->tag);
	return reply_set(r, 0, sizeof(*o), "deleted %llu streams",
			 (unsigned long long)o->deleted);
}

/* Every write's size keeps the next one 8-byte aligned in the (aligned) receive buffer,
 * so each is handled in place. */
_Static_assert((sizeof(struct rpa_dp_hdr) + sizeof(struct rpa_dp_stream)) % 8 == 0 &&
		   (sizeof(struct rpa_dp_hdr) + sizeof(struct rpa_endpoint)) % 8 == 0,
	       "batch writes must stay 8-byte aligned");

/* The writes of a BATCH (see dp_proto.h): checked as a whole first, then each handled as
 * its own message. */
static size_t do_batch(const uint8_t *body, size_t blen, struct rpa_dp_reply *r)
{
	struct rpa_dp_batch_reply *o = (void *)(r + 1);
	int32_t *status = (int32_t *)(o + 1);
	struct rpa_dp_reply sub;
	struct rpa_dp_hdr sh;
	size_t off = 0;
	unsigned n = 0, failed = 0;

	while (off < blen) {
		if (blen - off < sizeof(sh))
			return reply_set(r, -EBADMSG, 0, "batch write %u: %zu bytes, no header", n,
					 blen - off);
		memcpy(&sh, body + off, sizeof(sh));
		if (sh.type != RPA_DP_STREAM_ADD && sh.type != RPA_DP_STREAM_DEL)
			return reply_set(r, -EBADMSG, 0,
					 "batch write %u: type %u is not STREAM_ADD or STREAM_DEL",
					 n, sh.type);
		if (sh.len != sizeof(sh) + body_size[sh.type] || sh.len > blen - off)
			return reply_set(r, -EBADMSG, 0,
					 "batch write %u: %u bytes, a %s is %zu (%zu left)", n,
					 sh.len, type_names[sh.type],
					 sizeof(sh) + body_size[sh.type], blen - off);
		if (++n > RPA_DP_BATCH_MAX)
			return reply_set(r, -E2BIG, 0, "batch of more than %d writes",
					 RPA_DP_BATCH_MAX);
		off += sh.len;
	}
	if (n == 0)
		return reply_set(r, -EBADMSG, 0, "empty batch");
	for (off = 0, n = 0; off < blen; n++) {
		memcpy(&sh, body + off, sizeof(sh));
		ctlmsg_handle(body + off, sh.len, 0, &sub);
		status[n] = sub.status;
		failed += sub.status < 0;
		off += sh.len;
	}
	o->count = n;
	return reply_set(r, 0, sizeof(*o) + n * sizeof(*status), "%u writes, %u refused", n,
			 failed);
}

size_t ctlmsg_handle(const void *req, size_t len, int truncated, void *reply)
{
	const struct rpa_dp_hdr *h = req;
	struct rpa_dp_reply *r = reply;
	const void *body = h + 1;

	memset(r, 0, sizeof(*r));
	r->hdr.magic = RPA_DP_MAGIC;
	r->hdr.version = RPA_DP_VERSION;
	if (len < sizeof(*h))
		return reply_set(r, -EBADMSG, 0, "message of %zu bytes is shorter than the header",
				 len);
	r->hdr.type = h->type;
	r->hdr.seq = h->seq;
	if (truncated)
		return reply_set(r, -EMSGSIZE, 0, "message longer than %d bytes", RPA_DP_MSG_MAX);
	if (h->magic != RPA_DP_MAGIC)
		return reply_set(r, -EBADMSG, 0, "bad magic 0x%08x", h->magic);
	if (h->version != RPA_DP_VERSION)
		return reply_set(r, -EPROTO, 0, "message version %u, dataplane speaks %u",
				 h->version, RPA_DP_VERSION);
	if (h->len != len)
		return reply_set(r, -EBADMSG, 0, "header says %u bytes, datagram has %zu",
				 h->len, len);
	if (h->type == 0 || h->type >= RPA_DP_TYPE_MAX)
		return reply_set(r, -EOPNOTSUPP, 0, "unknown message type %u", h->type);
	if (h->type == RPA_DP_BATCH)
		return do_batch(body, len - sizeof(*h), r);
	if (len - sizeof(*h) != body_size[h->type])
		return reply_set(r, -EBADMSG, 0, "%s body is %zu bytes, expected %zu",
				 type_names[h->type], len - sizeof(*h), body_size[h->type]);

	switch (h->type) {
	case RPA_DP_HELLO:
		return do_hello(body, r);
	case RPA_DP_STREAM_ADD:
		return do_add(body, r);
	case RPA_DP_STREAM_DEL:
		return do_del(body, r);
	case RPA_DP_STREAM_GET:
		return do_get(body, r);
	case RPA_DP_STREAM_LIST:
		return do_list(body, r, false);
	case RPA_DP_STATS:
		return do_stats(r);
	case RPA_DP_NEIGH_LIST:
		return do_list(body, r, true);
	case RPA_DP_FLUSH:
		return do_flush(body, r);
	}
	return reply_set(r, -EOPNOTSUPP, 0, "unknown message type %u", h->type);
}
