/* Dataplane programming: connection, diffs, pipelined writes, reconciliation (see
 * dpsync.h). Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpsync.h"
#include "log.h"

#define DPSYNC_BACKOFF_MIN_MS 250
#define DPSYNC_BACKOFF_MAX_MS 2000
#define DPSYNC_CHUNK	      4096 /* ops per dpclient_batch call */

struct dpsync {
	const struct options *o;
	struct dpclient *c;
	char client_name[OPTIONS_NODE_MAX + 20]; /* dpclient truncates it */
	uint64_t boot_id;			 /* of the dataplane we last reconciled with */
	bool need_reconcile;
	uint32_t backoff_ms;
	uint64_t retry_at;
	char error[DPCLIENT_ERRMSG_LEN + 64]; /* why down */
	char logged[DPCLIENT_ERRMSG_LEN + 64];
	uint64_t synced_ms;

	/* The op queue of the current batch; ops[0..nsent) were sent. A started chunk
	 * (dpsync_send) is ops[nsent..nsent + started). */
	struct dpclient_op *ops;
	unsigned nops, nsent, cap, started;
};

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct dpsync *dpsync_create(const struct options *o)
{
	struct dpsync *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->o = o;
	d->backoff_ms = DPSYNC_BACKOFF_MIN_MS;
	snprintf(d->client_name, sizeof(d->client_name), "rtpanchor-control %s", o->node);
	snprintf(d->error, sizeof(d->error), "not connected yet");
	return d;
}

void dpsync_destroy(struct dpsync *d)
{
	if (d == NULL)
		return;
	dpclient_close(d->c);
	free(d->ops);
	free(d);
}

bool dpsync_up(const struct dpsync *d)
{
	return d->c != NULL;
}

const char *dpsync_error(const struct dpsync *d)
{
	return d->c != NULL ? "" : d->error;
}

struct dpclient *dpsync_client(struct dpsync *d)
{
	return d->c;
}

uint64_t dpsync_synced_ms(const struct dpsync *d)
{
	return d->synced_ms;
}

static void note_down(struct dpsync *d, const char *msg)
{
	snprintf(d->error, sizeof(d->error), "%s", msg);
	if (strcmp(d->logged, msg) == 0) {
		log_debug("dataplane %s: %s", d->o->dp_socket, msg);
		return;
	}
	snprintf(d->logged, sizeof(d->logged), "%s", msg);
	log_warning("dataplane %s: %s; forwarding state is kept and replayed when it is back",
		    d->o->dp_socket, msg);
}

void dpsync_fail(struct dpsync *d, const char *what, int err)
{
	char msg[sizeof(d->error)];
	char eb[64];

	if (d->c == NULL)
		return;
	snprintf(msg, sizeof(msg), "connection lost during %s: %s", what,
		 dpclient_errmsg(d->c)[0] != '\0' ? dpclient_errmsg(d->c)
						  : strerror_r(-err, eb, sizeof(eb)));
	dpclient_close(d->c);
	d->c = NULL;
	d->backoff_ms = DPSYNC_BACKOFF_MIN_MS;
	d->retry_at = 0;
	d->logged[0] = '\0';
	note_down(d, msg);
}

int dpsync_tick(struct dpsync *d, uint64_t now_ms)
{
	struct rpa_dp_hello_reply h;
	char eb[DPCLIENT_ERRMSG_LEN], msg[sizeof(d->error)];
	int err = 0, rc;

	if (d->c != NULL) {
		rc = dpclient_hello(d->c, &h);
		if (rc < 0) {
			dpsync_fail(d, "hello", rc);
			return rc;
		}
		if (h.boot_id != d->boot_id) {
			log_warning("dataplane %s: restarted (boot id %016llx, was %016llx); "
				    "replaying every stream",
				    d->o->dp_socket, (unsigned long long)h.boot_id,
				    (unsigned long long)d->boot_id);
			d->need_reconcile = true;
		}
		return d->need_reconcile ? 1 : 0;
	}
	if (now_ms < d->retry_at)
		return -EAGAIN;
	d->c = dpclient_open(d->o->dp_socket, (int)d->o->dp_timeout_ms, d->client_name, &err, eb,
			     sizeof(eb));
	if (d->c == NULL) {
		d->retry_at = now_ms + d->backoff_ms;
		d->backoff_ms = d->backoff_ms * 2 > DPSYNC_BACKOFF_MAX_MS ? DPSYNC_BACKOFF_MAX_MS
									  : d->backoff_ms * 2;
		snprintf(msg, sizeof(msg), "unavailable: %s", eb);
		note_down(d, msg);
		return err < 0 ? err : -EIO;
	}
	h = *dpclient_server(d->c);
	log_info("dataplane %s: connected (pid %u, boot id %016llx, build %s)", d->o->dp_socket,
		 h.pid, (unsigned long long)h.boot_id, h.build);
	d->logged[0] = '\0';
	d->backoff_ms = DPSYNC_BACKOFF_MIN_MS;
	d->need_reconcile = true;
	return 1;
}

static bool ep_eq(const struct rpa_endpoint *a, const struct rpa_endpoint *b)
{
	return a->port == b->port && rpa_addr_eq(&a->addr, &b->addr);
}

/* The SRTP parameters the dataplane reports back: everything but key and salt (which
 * STREAM_GET/LIST return zeroed). */
static bool srtp_public_eq(const struct rpa_dp_srtp *a, const struct rpa_dp_srtp *b)
{
	return a->suite == b->suite && a->key_len == b->key_len && a->salt_len == b->salt_len &&
	       a->mki_len == b->mki_len && memcmp(a->mki, b->mki, sizeof(a->mki)) == 0;
}

/* Control builds streams zeroed, so the key material compares with memcmp. */
static bool stream_eq(const struct rpa_dp_stream *a, const struct rpa_dp_stream *b)
{
	return ep_eq(&a->local, &b->local) && ep_eq(&a->src, &b->src) && ep_eq(&a->dst, &b->dst) &&
	       ep_eq(&a->expect, &b->expect) && a->flags == b->flags &&
	       a->latch_window_ms == b->latch_window_ms && a->tag == b->tag &&
	       memcmp(&a->rx, &b->rx, sizeof(a->rx)) == 0 &&
	       memcmp(&a->tx, &b->tx, sizeof(a->tx)) == 0 && a->replay_window == b->replay_window;
}

/* Does the dataplane's stream (with latched values) serve the desired one? Keys cannot be
 * compared (the dataplane never returns them); a stream with the same suites and MKIs is
 * kept, so that its SRTP state (rollover counter, replay window) survives a control
 * restart. */
static bool stream_serves(const struct rpa_dp_stream *have, const struct rpa_dp_stream *want)
{
	return ep_eq(&have->src, &want->src) && have->flags == want->flags &&
	       have->tag == want->tag && srtp_public_eq(&have->rx, &want->rx) &&
	       srtp_public_eq(&have->tx, &want->tx) &&
	       (want->replay_window == 0 || have->replay_window == want->replay_window) &&
	       (want->latch_window_ms == 0 || have->latch_window_ms == want->latch_window_ms) &&
	       (rpa_addr_is_unspec(&want->dst.addr) || ep_eq(&have->dst, &want->dst)) &&
	       (rpa_addr_is_unspec(&want->expect.addr) || ep_eq(&have->expect, &want->expect));
}

static struct dpclient_op *push(struct dpsync *d, uint16_t type)
{
	struct dpclient_op *op;

	if (d->nops == d->cap) {
		unsigned cap = d->cap != 0 ? d->cap * 2 : 256;
		struct dpclient_op *p = realloc(d->ops, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		d->ops = p;
		d->cap = cap;
	}
	op = &d->ops[d->nops++];
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->status = -ENOMEM;
	return op;
}

void dpsync_begin(struct dpsync *d)
{
	d->nops = 0;
	d->nsent = 0;
	d->started = 0;
}

void dpsync_diff(struct dpsync *d, const struct call_stream *before, unsigned nb,
		 const struct call_stream *after, unsigned na, struct dpsync_mark *m)
{
	struct dpclient_op *op;
	unsigned i, k;

	/* The queue may move when it grows: finish a started chunk first. */
	if (d->started != 0)
		dpsync_flush(d);
	m->first = d->nops;
	m->count = 0;
	m->down = d->c == NULL || d->need_reconcile;
	if (m->down)
		return;
	for (i = 0; i < nb; i++) {
		for (k = 0; k < na; k++)
			if (ep_eq(&before[i].dp.local, &after[k].dp.local))
				break;
		if (k < na || (op = push(d, RPA_DP_STREAM_DEL)) == NULL)
			continue;
		op->local = before[i].dp.local;
	}
	for (k = 0; k < na; k++) {
		for (i = 0; i < nb; i++)
			if (ep_eq(&before[i].dp.local, &after[k].dp.local))
				break;
		if (i < nb && stream_eq(&before[i].dp, &after[k].dp))
			continue;
		if ((op = push(d, RPA_DP_STREAM_ADD)) != NULL)
			op->stream = after[k].dp;
	}
	m->count = d->nops - m->first;
}

/* Send ops[from..nops) (the first `started` of them already started by dpsync_send);
 * returns 0 or the local failure (the connection is then closed). */
static int send_ops(struct dpsync *d, unsigned from, unsigned started)
{
	int rc = 0;

	for (unsigned i = from; i < d->nops && rc == 0;) {
		unsigned n = started != 0		  ? started
			     : d->nops - i < DPSYNC_CHUNK ? d->nops - i
							  : DPSYNC_CHUNK;

		started = 0;
		if (d->c == NULL) {
			for (unsigned k = i; k < d->nops; k++)
				d->ops[k].status = -ENOTCONN;
			return -ENOTCONN;
		}
		rc = dpclient_batch(d->c, &d->ops[i], n);
		if (rc < 0) {
			for (unsigned k = i + n; k < d->nops; k++)
				d->ops[k].status = rc;
			dpsync_fail(d, "stream writes", rc);
		}
		i += n;
	}
	return rc;
}

static void log_refusals(const struct dpsync *d, unsigned from)
{
	char eb[64], ep[RPA_ENDPOINT_STRLEN];

	for (unsigned i = from; i < d->nops; i++) {
		const struct dpclient_op *op = &d->ops[i];

		if (op->status >= 0 || op->status == -ENOENT)
			continue;
		rpa_endpoint_format(op->type == RPA_DP_STREAM_ADD ? &op->stream.local : &op->local,
				    ep, sizeof(ep));
		log_warning("dataplane: stream %s %s refused: %s",
			    op->type == RPA_DP_STREAM_ADD ? "add" : "del", ep,
			    strerror_r(-op->status, eb, sizeof(eb)));
	}
}

void dpsync_send(struct dpsync *d)
{
	unsigned n = d->nops - d->nsent;
	int rc;

	if (n == 0 || d->started != 0 || d->c == NULL)
		return;
	if (n > DPSYNC_CHUNK)
		n = DPSYNC_CHUNK;
	rc = dpclient_batch_start(d->c, &d->ops[d->nsent], n);
	if (rc < 0) {
		for (unsigned k = d->nsent; k < d->nops; k++)
			d->ops[k].status = rc;
		d->nsent = d->nops;
		dpsync_fail(d, "stream writes", rc);
		return;
	}
	d->started = n;
}

void dpsync_flush(struct dpsync *d)
{
	unsigned from = d->nsent, started = d->started;

	if (from == d->nops)
		return;
	d->nsent = d->nops;
	d->started = 0;
	if (send_ops(d, from, started) == 0)
		log_refusals(d, from);
}

void dpsync_warning(const struct dpsync *d, const struct dpsync_mark *m, char *buf, size_t len)
{
	char eb[64], ep[RPA_ENDPOINT_STRLEN];

	buf[0] = '\0';
	if (m->down) {
		snprintf(buf, len,
			 "dataplane unavailable (%s): the call is kept and its streams will be "
			 "installed when the dataplane is back",
			 d->error);
		return;
	}
	for (unsigned i = m->first; i < m->first + m->count && i < d->nops; i++) {
		const struct dpclient_op *op = &d->ops[i];

		/* Deleting a stream that is already gone is what was wanted. */
		if (op->status >= 0 || (op->type == RPA_DP_STREAM_DEL && op->status == -ENOENT))
			continue;
		rpa_endpoint_format(op->type == RPA_DP_STREAM_ADD ? &op->stream.local : &op->local,
				    ep, sizeof(ep));
		if (op->status == -ENOTCONN || op->status == -ECONNRESET ||
		    op->status == -ETIMEDOUT || op->status == -EPROTO)
			snprintf(buf, len,
				 "dataplane connection lost (%s) while installing stream %s: the "
				 "call is kept and its streams will be installed when the "
				 "dataplane is back",
				 strerror_r(-op->status, eb, sizeof(eb)), ep);
		else
			snprintf(buf, len, "dataplane refused stream %s: %s", ep,
				 strerror_r(-op->status, eb, sizeof(eb)));
		return;
	}
}

unsigned dpsync_call_streams(const struct call *c, struct call_stream **buf, unsigned *cap)
{
	unsigned n = call_streams(c, *buf, *cap);

	if (n > *cap) {
		struct call_stream *p = realloc(*buf, n * sizeof(*p));

		if (p == NULL)
			return 0;
		*buf = p;
		*cap = n;
		n = call_streams(c, *buf, *cap);
	}
	return n;
}

/* Reconciliation: the desired streams sorted by local endpoint. */
struct desired {
	struct rpa_dp_stream *s;
	uint8_t *seen;
	size_t n, cap;
	struct call_stream *tmp;
	unsigned tmpcap;
	bool nomem;
};

static int collect(struct call *c, void *arg)
{
	struct desired *w = arg;
	unsigned n = dpsync_call_streams(c, &w->tmp, &w->tmpcap);

	if (n == 0 && call_streams(c, NULL, 0) != 0) {
		w->nomem = true;
		return 1;
	}
	if (w->n + n > w->cap) {
		size_t cap = w->cap != 0 ? w->cap * 2 : 1024;
		struct rpa_dp_stream *p;

		while (cap < w->n + n)
			cap *= 2;
		p = realloc(w->s, cap * sizeof(*p));
		if (p == NULL) {
			w->nomem = true;
			return 1;
		}
		w->s = p;
		w->cap = cap;
	}
	for (unsigned i = 0; i < n; i++)
		w->s[w->n++] = w->tmp[i].dp;
	return 0;
}

static int ep_cmp(const struct rpa_endpoint *a, const struct rpa_endpoint *b)
{
	int r;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	if (a->addr.family == RPA_AF_INET)
		r = memcmp(&a->addr.v4, &b->addr.v4, 4);
	else
		r = memcmp(a->addr.v6, b->addr.v6, a->addr.family == RPA_AF_INET6 ? 16 : 0);
	if (r != 0)
		return r;
	return a->port < b->port ? -1 : a->port > b->port;
}

static int stream_cmp(const void *a, const void *b)
{
	return ep_cmp(&((const struct rpa_dp_stream *)a)->local,
		      &((const struct rpa_dp_stream *)b)->local);
}

struct walk {
	struct dpsync *d;
	struct desired *w;
	unsigned kept, removed, replaced;
	bool nomem;
};

static int visit(const struct rpa_dp_stream_info *si, void *arg)
{
	struct walk *k = arg;
	struct rpa_dp_stream *want;
	struct dpclient_op *op;

	want = bsearch(&si->stream, k->w->s, k->w->n, sizeof(*k->w->s), stream_cmp);
	if (want != NULL) {
		size_t i = (size_t)(want - k->w->s);

		if (k->w->seen[i])
			return 0; /* seen twice: the table changed between pages */
		k->w->seen[i] = 1;
		if (stream_serves(&si->stream, want)) {
			k->kept++;
			return 0;
		}
		op = push(k->d, RPA_DP_STREAM_ADD);
		if (op == NULL)
			goto nomem;
		op->stream = *want;
		k->replaced++;
		return 0;
	}
	op = push(k->d, RPA_DP_STREAM_DEL);
	if (op == NULL)
		goto nomem;
	op->local = si->stream.local;
	k->removed++;
	return 0;
nomem:
	k->nomem = true;
	return 1;
}

int dpsync_reconcile(struct dpsync *d, struct calls *calls, unsigned *added, unsigned *removed,
		     unsigned *kept)
{
	struct desired w = {0};
	struct walk k = {.d = d, .w = &w};
	struct dpclient_op *op;
	unsigned nadd = 0, failed = 0;
	int rc;

	if (d->c == NULL)
		return -ENOTCONN;
	calls_walk(calls, collect, &w);
	if (w.nomem || (w.n > 0 && (w.seen = calloc(w.n, 1)) == NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	qsort(w.s, w.n, sizeof(*w.s), stream_cmp);

	/* Writes queued by commands were already flushed; this queue is ours. */
	dpsync_begin(d);
	rc = dpclient_stream_list(d->c, visit, &k);
	if (rc < 0) {
		dpsync_fail(d, "stream list", rc);
		goto out;
	}
	if (k.nomem) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w.n; i++) {
		if (w.seen[i])
			continue;
		op = push(d, RPA_DP_STREAM_ADD);
		if (op == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		op->stream = w.s[i];
		nadd++;
	}
	rc = send_ops(d, 0, 0);
	if (rc < 0)
		goto out;
	for (unsigned i = 0; i < d->nops; i++)
		if (d->ops[i].status < 0 && d->ops[i].status != -ENOENT)
			failed++;
	log_refusals(d, 0);
	d->boot_id = dpclient_server(d->c)->boot_id;
	d->need_reconcile = false;
	d->synced_ms = realtime_ms();
	log_info("dataplane: reconciled %zu stream(s) of %u call(s): %u added, %u replaced, %u "
		 "removed (owned by no call), %u kept as they were%s",
		 w.n, calls_count(calls), nadd, k.replaced, k.removed, k.kept,
		 failed > 0 ? "; some writes were refused (logged above)" : "");
	if (added != NULL)
		*added = nadd + k.replaced;
	if (removed != NULL)
		*removed = k.removed;
	if (kept != NULL)
		*kept = k.kept;
out:
	if (rc == -ENOMEM)
		log_error("dataplane: reconciliation ran out of memory; retrying later");
	dpsync_begin(d);
	free(w.s);
	free(w.seen);
	free(w.tmp);
	return rc;
}
