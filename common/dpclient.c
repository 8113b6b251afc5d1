/* Dataplane control-socket client: one request, one reply, bounded by a timeout. Runs on
 * the caller's thread (CLI main, rtpanchor-control's dataplane thread); prints nothing. */
#include <rtpanchor/dpclient.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Entries the largest page reply can carry; asking for more only gets us capped. */
#define STREAMS_PER_PAGE                                                                           \
	((RPA_DP_MSG_MAX - sizeof(struct rpa_dp_reply) - sizeof(struct rpa_dp_page_reply)) /       \
	 sizeof(struct rpa_dp_stream_info))
#define NEIGH_PER_PAGE                                                                             \
	((RPA_DP_MSG_MAX - sizeof(struct rpa_dp_reply) - sizeof(struct rpa_dp_page_reply)) /       \
	 sizeof(struct rpa_dp_neigh))
/* A dataplane that keeps handing out fresh cursors would make a walk endless; 2^20 pages
 * is beyond any table the dataplane can hold (220 streams a page). */
#define MAX_PAGES (1u << 20)
/* Requests in flight in a batch. The dataplane drops a client whose replies do not fit
 * its receive queue, and serves 32 messages per poll: 32 replies of 152 bytes fit any
 * default socket buffer. */
#define BATCH_WINDOW 32

struct dpclient {
	int fd;
	int timeout_ms;
	uint32_t seq; /* last request's sequence number */
	bool remote_err;
	char errmsg[DPCLIENT_ERRMSG_LEN];
	struct rpa_dp_hello_reply server;
	char client[RPA_DP_NAME_LEN]; /* announced in every HELLO */
	/* A batch started by dpclient_batch_start and not finished yet. */
	const struct dpclient_op *bops;
	unsigned bn, bsent;
	uint32_t bbase;
	bool no_batch; /* the dataplane predates RPA_DP_BATCH: one message per write */
	uint8_t buf[RPA_DP_MSG_MAX]; /* the request being sent, then the reply */
};

typedef int (*page_entry_fn)(const uint8_t *entry, void *cb, void *arg);

static void set_err(struct dpclient *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct dpclient *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
}

/* strerror() is not thread-safe and rtpanchor-control is threaded. */
static const char *errstr(int e, char *buf, size_t len)
{
	return strerror_r(e, buf, len);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` until deadline; 0 when ready, -ETIMEDOUT, or -errno. */
static int wait_fd(struct dpclient *c, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* wait_fd, with the client's error set when it fails: a timeout names what did not
 * happen (POLLOUT: the dataplane is not reading; POLLIN: it has not answered). */
static int wait_ready(struct dpclient *c, short events, int64_t deadline)
{
	char eb[64];
	int rc = wait_fd(c, events, deadline);

	if (rc == -ETIMEDOUT && events == POLLOUT)
		set_err(c, "could not send within %d ms (dataplane not reading)", c->timeout_ms);
	else if (rc == -ETIMEDOUT)
		set_err(c, "no reply within %d ms", c->timeout_ms);
	else if (rc < 0)
		set_err(c, "poll: %s", errstr(-rc, eb, sizeof(eb)));
	return rc;
}

/* After a non-blocking receive failed with errno e: the connection's error (set), or 0
 * once input is there to retry. */
static int recv_retry(struct dpclient *c, int e, int64_t deadline)
{
	char eb[64];

	if (e != EAGAIN && e != EINTR) {
		set_err(c, "recv: %s", errstr(e, eb, sizeof(eb)));
		return e == ECONNRESET || e == ENOTCONN ? -ECONNRESET : -e;
	}
	return wait_ready(c, POLLIN, deadline);
}

static int send_request(struct dpclient *c, size_t len, int64_t deadline)
{
	char eb[64];
	ssize_t n;
	int rc;

	for (;;) {
		rc = wait_ready(c, POLLOUT, deadline);
		if (rc < 0)
			return rc;
		n = send(c->fd, c->buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0) {
			/* SOCK_SEQPACKET sends whole records or nothing. */
			set_err(c, "short send (%zd of %zu bytes)", n, len);
			return -EPROTO;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
			set_err(c, "the dataplane closed the connection");
			return -ECONNRESET;
		}
		rc = -errno;
		set_err(c, "send: %s", errstr(-rc, eb, sizeof(eb)));
		return rc;
	}
}

/* Receive one datagram into c->buf; returns its length or a negative errno. */
static ssize_t recv_datagram(struct dpclient *c, int64_t deadline)
{
	struct iovec iov = {.iov_base = c->buf, .iov_len = sizeof(c->buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	char eb[64];
	ssize_t n;
	int rc;

	for (;;) {
		rc = wait_ready(c, POLLIN, deadline);
		if (rc < 0)
			return rc;
		mh.msg_flags = 0;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
		if (n > 0 && (mh.msg_flags & MSG_TRUNC)) {
			set_err(c, "reply longer than the protocol maximum of %d bytes",
				RPA_DP_MSG_MAX);
			return -EPROTO;
		}
		if (n > 0)
			return n;
		if (n == 0) {
			set_err(c, "the dataplane closed the connection");
			return -ECONNRESET;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		if (errno == ECONNRESET || errno == ENOTCONN) {
			set_err(c, "the dataplane closed the connection");
			return -ECONNRESET;
		}
		rc = -errno;
		set_err(c, "recv: %s", errstr(-rc, eb, sizeof(eb)));
		return rc;
	}
}

/* Check one received datagram buf[0..n) against the request numbered seq. Returns 1 for
 * a stale reply to skip, 0 for our reply, -EPROTO otherwise. */
static int check_reply(struct dpclient *c, const uint8_t *buf, size_t n, uint32_t seq,
		       uint16_t type)
{
	struct rpa_dp_hdr h;

	if (n < sizeof(h)) {
		set_err(c, "malformed reply: %zu bytes, shorter than the %zu-byte header", n,
			sizeof(h));
		return -EPROTO;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != RPA_DP_MAGIC) {
		set_err(c, "malformed reply: magic 0x%08x, expected 0x%08x", h.magic, RPA_DP_MAGIC);
		return -EPROTO;
	}
	if (h.version != RPA_DP_VERSION) {
		set_err(c,
			"protocol version mismatch: the dataplane speaks version %u, this "
			"client speaks version %u",
			h.version, RPA_DP_VERSION);
		return -EPROTO;
	}
	if (h.len != n) {
		set_err(c, "malformed reply: header says %u bytes, datagram has %zu", h.len, n);
		return -EPROTO;
	}
	if (h.seq != seq) {
		/* Older than ours: the answer to a request that timed out. */
		if ((int32_t)(seq - h.seq) > 0)
			return 1;
		set_err(c, "malformed reply: sequence %u, expected %u", h.seq, seq);
		return -EPROTO;
	}
	if (h.type != type) {
		set_err(c, "malformed reply: type %u to a request of type %u", h.type, type);
		return -EPROTO;
	}
	if (n < sizeof(struct rpa_dp_reply)) {
		set_err(c, "malformed reply: %zu bytes, shorter than the %zu-byte status", n,
			sizeof(struct rpa_dp_reply));
		return -EPROTO;
	}
	return 0;
}

/* One exchange. On status 0, *body points into c->buf (valid until the next call). */
static int xfer(struct dpclient *c, uint16_t type, const void *req, size_t req_len,
		const uint8_t **body, size_t *body_len)
{
	struct rpa_dp_reply r;
	struct rpa_dp_hdr h;
	int64_t deadline;
	char eb[64];
	ssize_t n;
	int rc;

	c->errmsg[0] = '\0';
	c->remote_err = false;
	c->bops = NULL;
	*body = NULL;
	*body_len = 0;
	if (req_len > sizeof(c->buf) - sizeof(h)) {
		set_err(c, "request of %zu bytes exceeds the protocol maximum", req_len);
		return -EMSGSIZE;
	}
	memset(&h, 0, sizeof(h));
	h.magic = RPA_DP_MAGIC;
	h.version = RPA_DP_VERSION;
	h.type = type;
	h.len = (uint32_t)(sizeof(h) + req_len);
	h.seq = ++c->seq;
	memcpy(c->buf, &h, sizeof(h));
	if (req_len > 0)
		memcpy(c->buf + sizeof(h), req, req_len);

	deadline = now_ms() + c->timeout_ms;
	rc = send_request(c, h.len, deadline);
	if (rc < 0)
		return rc;
	do {
		n = recv_datagram(c, deadline);
		if (n < 0)
			return (int)n;
		rc = check_reply(c, c->buf, (size_t)n, c->seq, type);
		if (rc < 0)
			return rc;
	} while (rc == 1);

	memcpy(&r, c->buf, sizeof(r));
	r.msg[sizeof(r.msg) - 1] = '\0';
	if (r.status > 0 || r.status < -4095) {
		set_err(c, "malformed reply: status %d is not 0 or a negative errno", r.status);
		return -EPROTO;
	}
	if (r.status < 0) {
		c->remote_err = true;
		if (r.msg[0] != '\0')
			set_err(c, "%s", r.msg);
		else
			set_err(c, "%s", errstr(-r.status, eb, sizeof(eb)));
		return r.status;
	}
	*body = c->buf + sizeof(r);
	*body_len = (size_t)n - sizeof(r);
	return 0;
}

static int expect_len(struct dpclient *c, const char *what, size_t got, size_t want)
{
	if (got == want)
		return 0;
	set_err(c, "malformed %s reply: body of %zu bytes, expected %zu", what, got, want);
	return -EPROTO;
}

int dpclient_call(struct dpclient *c, uint16_t type, const void *req, size_t req_len, void *reply,
		  size_t reply_cap, size_t *reply_len)
{
	const uint8_t *body;
	size_t len;
	int rc;

	if (reply_len != NULL)
		*reply_len = 0;
	rc = xfer(c, type, req, req_len, &body, &len);
	if (rc < 0)
		return rc;
	if (len > reply_cap) {
		set_err(c, "reply body of %zu bytes does not fit the %zu-byte buffer", len,
			reply_cap);
		return -EMSGSIZE;
	}
	if (len > 0)
		memcpy(reply, body, len);
	if (reply_len != NULL)
		*reply_len = len;
	return 0;
}

int dpclient_hello(struct dpclient *c, struct rpa_dp_hello_reply *out)
{
	struct rpa_dp_hello req;
	struct rpa_dp_hello_reply r;
	const uint8_t *body;
	size_t len;
	int rc;

	memset(&req, 0, sizeof(req));
	req.client_version = RPA_DP_VERSION;
	memcpy(req.client, c->client, sizeof(req.client));
	rc = xfer(c, RPA_DP_HELLO, &req, sizeof(req), &body, &len);
	if (rc < 0)
		return rc;
	rc = expect_len(c, "hello", len, sizeof(r));
	if (rc < 0)
		return rc;
	memcpy(&r, body, sizeof(r));
	r.build[sizeof(r.build) - 1] = '\0';
	if (r.version != RPA_DP_VERSION) {
		set_err(c,
			"protocol version mismatch: the dataplane speaks version %u, this "
			"client speaks version %u",
			r.version, RPA_DP_VERSION);
		return -EPROTO;
	}
	c->server = r;
	if (out != NULL)
		*out = r;
	return 0;
}

struct dpclient *dpclient_open(const char *path, int timeout_ms, const char *client, int *err,
			       char *errbuf, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv;
	struct dpclient *c;
	char eb[64];
	int rc;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		rc = path == NULL || path[0] == '\0' ? -EINVAL : -ENAMETOOLONG;
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "socket path must be 1..%zu characters",
				 sizeof(sa.sun_path) - 1);
		goto fail;
	}
	if (timeout_ms <= 0) {
		rc = -EINVAL;
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "timeout %d ms must be positive", timeout_ms);
		goto fail;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	c->timeout_ms = timeout_ms;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "socket: %s", errstr(-rc, eb, sizeof(eb)));
		goto fail_free;
	}
	/* Unix connect() waits for room in the listener's backlog for SO_SNDTIMEO. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	strcpy(sa.sun_path, path);
	do {
		rc = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "%s", errstr(-rc, eb, sizeof(eb)));
		goto fail_close;
	}

	snprintf(c->client, sizeof(c->client), "%s", client != NULL ? client : "rtpanchor");
	rc = dpclient_hello(c, NULL);
	if (rc < 0) {
		if (errbuf != NULL) {
			if (c->remote_err)
				snprintf(errbuf, errlen, "hello refused: %s", c->errmsg);
			else
				snprintf(errbuf, errlen, "%s", c->errmsg);
		}
		goto fail_close;
	}
	if (err != NULL)
		*err = 0;
	return c;

fail_close:
	close(c->fd);
fail_free:
	free(c);
fail:
	if (err != NULL)
		*err = rc;
	return NULL;
}

void dpclient_close(struct dpclient *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

const struct rpa_dp_hello_reply *dpclient_server(const struct dpclient *c)
{
	return &c->server;
}

const char *dpclient_errmsg(const struct dpclient *c)
{
	return c->errmsg;
}

bool dpclient_remote_error(const struct dpclient *c)
{
	return c->remote_err;
}

static int expect_empty(struct dpclient *c, const char *what, int rc, size_t len)
{
	if (rc < 0)
		return rc;
	return expect_len(c, what, len, 0);
}

int dpclient_stream_add(struct dpclient *c, const struct rpa_dp_stream *s)
{
	const uint8_t *body;
	size_t len;
	int rc;

	rc = xfer(c, RPA_DP_STREAM_ADD, s, sizeof(*s), &body, &len);
	return expect_empty(c, "stream add", rc, len);
}

int dpclient_stream_del(struct dpclient *c, const struct rpa_endpoint *local)
{
	const uint8_t *body;
	size_t len;
	int rc;

	rc = xfer(c, RPA_DP_STREAM_DEL, local, sizeof(*local), &body, &len);
	return expect_empty(c, "stream del", rc, len);
}

int dpclient_stream_get(struct dpclient *c, const struct rpa_endpoint *local,
			struct rpa_dp_stream_info *out)
{
	const uint8_t *body;
	size_t len;
	int rc;

	rc = xfer(c, RPA_DP_STREAM_GET, local, sizeof(*local), &body, &len);
	if (rc < 0)
		return rc;
	rc = expect_len(c, "stream get", len, sizeof(*out));
	if (rc < 0)
		return rc;
	memcpy(out, body, sizeof(*out));
	return 0;
}

/* Walk a paged table. Entries are copied out of the receive buffer one at a time so they
 * are aligned for the callback whatever the datagram layout. */
static int walk_pages(struct dpclient *c, uint16_t type, const char *what, uint32_t per_page,
		      size_t entry_size, page_entry_fn fn, void *cb, void *arg)
{
	struct rpa_dp_page_reply pr;
	struct rpa_dp_page req;
	const uint8_t *body;
	uint32_t cursor = 0, pages = 0, i;
	size_t len;
	int rc;

	for (;;) {
		req.cursor = cursor;
		req.max = per_page;
		rc = xfer(c, type, &req, sizeof(req), &body, &len);
		if (rc < 0)
			return rc;
		if (len < sizeof(pr)) {
			set_err(c, "malformed %s reply: body of %zu bytes lacks the page header",
				what, len);
			return -EPROTO;
		}
		memcpy(&pr, body, sizeof(pr));
		if (pr.count > per_page) {
			set_err(c, "malformed %s reply: %u entries, asked for at most %u", what,
				pr.count, per_page);
			return -EPROTO;
		}
		rc = expect_len(c, what, len, sizeof(pr) + (size_t)pr.count * entry_size);
		if (rc < 0)
			return rc;
		for (i = 0; i < pr.count; i++) {
			rc = fn(body + sizeof(pr) + (size_t)i * entry_size, cb, arg);
			if (rc != 0)
				return rc;
		}
		if (pr.next_cursor == 0)
			return 0;
		if (pr.next_cursor == cursor) {
			set_err(c, "malformed %s reply: cursor %u does not advance", what, cursor);
			return -EPROTO;
		}
		if (++pages >= MAX_PAGES) {
			set_err(c, "%s did not end after %u pages", what, pages);
			return -EPROTO;
		}
		cursor = pr.next_cursor;
	}
}

static int stream_entry(const uint8_t *entry, void *cb, void *arg)
{
	struct rpa_dp_stream_info s;

	memcpy(&s, entry, sizeof(s));
	return ((dpclient_stream_cb)cb)(&s, arg);
}

static int neigh_entry(const uint8_t *entry, void *cb, void *arg)
{
	struct rpa_dp_neigh n;

	memcpy(&n, entry, sizeof(n));
	return ((dpclient_neigh_cb)cb)(&n, arg);
}

int dpclient_stream_list(struct dpclient *c, dpclient_stream_cb cb, void *arg)
{
	return walk_pages(c, RPA_DP_STREAM_LIST, "stream list", STREAMS_PER_PAGE,
			  sizeof(struct rpa_dp_stream_info), stream_entry, (void *)cb, arg);
}

int dpclient_neigh_list(struct dpclient *c, dpclient_neigh_cb cb, void *arg)
{
	return walk_pages(c, RPA_DP_NEIGH_LIST, "neighbour list", NEIGH_PER_PAGE,
			  sizeof(struct rpa_dp_neigh), neigh_entry, (void *)cb, arg);
}

int dpclient_stats(struct dpclient *c, struct dpclient_stats *out)
{
	const uint8_t *body, *p;
	size_t len, want;
	unsigned int i;
	int rc;

	rc = xfer(c, RPA_DP_STATS, NULL, 0, &body, &len);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (len < sizeof(out->hdr)) {
		set_err(c, "malformed stats reply: body of %zu bytes, shorter than %zu", len,
			sizeof(out->hdr));
		return -EPROTO;
	}
	memcpy(&out->hdr, body, sizeof(out->hdr));
	if (out->hdr.nports > RPA_DP_MAX_PORTS || out->hdr.nworkers > RPA_DP_MAX_WORKERS ||
	    out->hdr.ndrops > DPCLIENT_MAX_DROPS) {
		set_err(c,
			"malformed stats reply: %u ports, %u workers, %u drop reasons exceed "
			"%u, %u, %u",
			out->hdr.nports, out->hdr.nworkers, out->hdr.ndrops, RPA_DP_MAX_PORTS,
			RPA_DP_MAX_WORKERS, DPCLIENT_MAX_DROPS);
		memset(out, 0, sizeof(*out));
		return -EPROTO;
	}
	want = sizeof(out->hdr) + out->hdr.nports * sizeof(out->ports[0]) +
	       out->hdr.nworkers * sizeof(out->workers[0]) +
	       out->hdr.ndrops * sizeof(out->drops[0]);
	rc = expect_len(c, "stats", len, want);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	p = body + sizeof(out->hdr);
	memcpy(out->ports, p, out->hdr.nports * sizeof(out->ports[0]));
	p += out->hdr.nports * sizeof(out->ports[0]);
	memcpy(out->workers, p, out->hdr.nworkers * sizeof(out->workers[0]));
	p += out->hdr.nworkers * sizeof(out->workers[0]);
	memcpy(out->drops, p, out->hdr.ndrops * sizeof(out->drops[0]));
	for (i = 0; i < out->hdr.nports; i++)
		out->ports[i].name[RPA_DP_NAME_LEN - 1] = '\0';
	for (i = 0; i < out->hdr.ndrops; i++)
		out->drops[i].name[RPA_DP_NAME_LEN - 1] = '\0';
	return 0;
}

int dpclient_flush(struct dpclient *c, bool by_tag, uint64_t tag, uint64_t *deleted)
{
	struct rpa_dp_flush req = {.tag = by_tag ? tag : 0, .flags = by_tag ? RPA_DP_FLUSH_TAG : 0};
	struct rpa_dp_flush_reply r;
	const uint8_t *body;
	size_t len;
	int rc;

	rc = xfer(c, RPA_DP_FLUSH, &req, sizeof(req), &body, &len);
	if (rc < 0)
		return rc;
	rc = expect_len(c, "flush", len, sizeof(r));
	if (rc < 0)
		return rc;
	memcpy(&r, body, sizeof(r));
	if (deleted != NULL)
		*deleted = r.deleted;
	return 0;
}

/* One reply of a batch: status into op, or a local failure. */
static int batch_reply(struct dpclient *c, const uint8_t *buf, size_t n, bool truncated,
		       uint32_t seq, struct dpclient_op *op)
{
	struct rpa_dp_reply r;
	int rc;

	if (truncated) {
		struct rpa_dp_hdr h;

		/* Only a stale reply (a list page after a timeout) can be that long. */
		memcpy(&h, buf, sizeof(h));
		if (h.magic == RPA_DP_MAGIC && (int32_t)(seq - h.seq) > 0)
			return 1;
		set_err(c, "malformed reply: longer than a stream add/del reply");
		return -EPROTO;
	}
	rc = check_reply(c, buf, n, seq, op->type);
	if (rc != 0)
		return rc;
	memcpy(&r, buf, sizeof(r));
	if (r.status > 0 || r.status < -4095) {
		set_err(c, "malformed reply: status %d is not 0 or a negative errno", r.status);
		return -EPROTO;
	}
	if (r.status < 0) {
		r.msg[sizeof(r.msg) - 1] = '\0';
		c->remote_err = true;
		set_err(c, "%s", r.msg[0] != '\0' ? r.msg : "refused");
	}
	op->status = r.status;
	return 0;
}

/* For a dataplane without RPA_DP_BATCH: one message per write. Requests go out with
 * sendmmsg and replies come back with recvmmsg, so a window of BATCH_WINDOW requests
 * costs two system calls instead of one poll, one send and one receive each; poll runs
 * only when the socket is not ready. */
static int run_single(struct dpclient *c, struct dpclient_op *ops, unsigned n, bool wait)
{
	enum {
		REQ_MAX = sizeof(struct rpa_dp_hdr) + sizeof(struct rpa_dp_stream),
		REP_MAX = sizeof(struct rpa_dp_reply) + 8
	};
	uint8_t sbuf[BATCH_WINDOW][REQ_MAX], rbuf[BATCH_WINDOW][REP_MAX];
	struct mmsghdr sm[BATCH_WINDOW], rm[BATCH_WINDOW];
	struct iovec siov[BATCH_WINDOW], riov[BATCH_WINDOW];
	const bool resume = c->bops == ops && c->bn == n;
	const uint32_t base = resume ? c->bbase : c->seq;
	unsigned sent = resume ? c->bsent : 0, done = 0, i, k, want;
	struct rpa_dp_hdr h;
	int64_t deadline;
	char eb[64];
	size_t blen;
	int rc = 0, got;

	c->errmsg[0] = '\0';
	c->remote_err = false;
	c->bops = NULL;
	for (i = 0; i < n; i++)
		if (ops[i].type != RPA_DP_STREAM_ADD && ops[i].type != RPA_DP_STREAM_DEL) {
			set_err(c, "batch op %u: type %u is not stream add or del", i, ops[i].type);
			return -EINVAL;
		}
	deadline = now_ms() + c->timeout_ms;
	while (done < n) {
		want = n - sent < BATCH_WINDOW - (sent - done) ? n - sent
							       : BATCH_WINDOW - (sent - done);
		for (k = 0; k < want; k++) {
			const struct dpclient_op *op = &ops[sent + k];
			uint8_t *m = sbuf[k];

			blen =
			    op->type == RPA_DP_STREAM_ADD ? sizeof(op->stream) : sizeof(op->local);
			memset(&h, 0, sizeof(h));
			h.magic = RPA_DP_MAGIC;
			h.version = RPA_DP_VERSION;
			h.type = op->type;
			h.len = (uint32_t)(sizeof(h) + blen);
			h.seq = base + sent + k + 1;
			memcpy(m, &h, sizeof(h));
			memcpy(m + sizeof(h), &op->stream, blen);
			siov[k].iov_base = m;
			siov[k].iov_len = h.len;
			memset(&sm[k], 0, sizeof(sm[k]));
			sm[k].msg_hdr.msg_iov = &siov[k];
			sm[k].msg_hdr.msg_iovlen = 1;
		}
		if (want > 0) {
			got = sendmmsg(c->fd, sm, want, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (got > 0) {
				sent += (unsigned)got;
				c->seq = base + sent;
			} else if (got < 0 && errno != EAGAIN && errno != EINTR) {
				if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
					rc = -ECONNRESET;
					set_err(c, "the dataplane closed the connection");
				} else {
					rc = -errno;
					set_err(c, "send: %s", errstr(-rc, eb, sizeof(eb)));
				}
				goto fail;
			}
		}
		if (!wait) {
			/* Started: the rest is sent and collected by dpclient_batch. */
			c->bops = ops;
			c->bn = n;
			c->bsent = sent;
			c->bbase = base;
			return 0;
		}
		if (sent == done) {
			rc = wait_ready(c, POLLOUT, deadline);
			if (rc < 0)
				goto fail;
			continue;
		}
		for (k = 0; k < sent - done; k++) {
			riov[k].iov_base = rbuf[k];
			riov[k].iov_len = REP_MAX;
			memset(&rm[k], 0, sizeof(rm[k]));
			rm[k].msg_hdr.msg_iov = &riov[k];
			rm[k].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(c->fd, rm, sent - done, MSG_DONTWAIT, NULL);
		if (got < 0) {
			rc = recv_retry(c, errno, deadline);
			if (rc < 0)
				goto fail;
			continue;
		}
		if (got == 0) {
			rc = -ECONNRESET;
			set_err(c, "the dataplane closed the connection");
			goto fail;
		}
		for (k = 0; k < (unsigned)got; k++) {
			if (rm[k].msg_len == 0) {
				rc = -ECONNRESET;
				set_err(c, "the dataplane closed the connection");
				goto fail;
			}
			rc = batch_reply(c, rbuf[k], rm[k].msg_len,
					 (rm[k].msg_hdr.msg_flags & MSG_TRUNC) != 0,
					 base + done + 1, &ops[done]);
			if (rc < 0)
				goto fail;
			if (rc == 0) {
				done++;
				deadline = now_ms() + c->timeout_ms;
			}
		}
	}
	c->seq = base + sent;
	return 0;

fail:
	c->seq = base + sent;
	for (i = done; i < n; i++)
		ops[i].status = rc;
	return rc;
}

/* BATCH messages in flight (each up to RPA_DP_BATCH_MAX writes, about 30 KiB). */
#define BATCH_MSGS 4

/* Writes ops[0..k) as one BATCH request into c->buf; returns its length. */
static size_t build_batch(struct dpclient *c, const struct dpclient_op *ops, unsigned k,
			  uint32_t seq)
{
	struct rpa_dp_hdr h = {.magic = RPA_DP_MAGIC, .version = RPA_DP_VERSION};
	size_t off = sizeof(h), blen;

	for (unsigned i = 0; i < k; i++) {
		blen = ops[i].type == RPA_DP_STREAM_ADD ? sizeof(ops[i].stream)
							: sizeof(ops[i].local);
		h.type = ops[i].type;
		h.len = (uint32_t)(sizeof(h) + blen);
		h.seq = seq;
		memcpy(c->buf + off, &h, sizeof(h));
		memcpy(c->buf + off + sizeof(h), &ops[i].stream, blen);
		off += sizeof(h) + blen;
	}
	h.type = RPA_DP_BATCH;
	h.len = (uint32_t)off;
	h.seq = seq;
	memcpy(c->buf, &h, sizeof(h));
	return off;
}

/* The reply to BATCH message seq carrying ops[0..k): statuses into the ops. Returns 0,
 * 1 for a stale reply (skip it), -EOPNOTSUPP when the dataplane does not know BATCH, or
 * -EPROTO. */
static int batch_reply_multi(struct dpclient *c, const uint8_t *buf, size_t n, bool truncated,
			     uint32_t seq, struct dpclient_op *ops, unsigned k)
{
	struct rpa_dp_batch_reply br;
	struct rpa_dp_reply r;
	char eb[64];
	int32_t st;
	int rc;

	if (truncated) {
		struct rpa_dp_hdr h;

		memcpy(&h, buf, sizeof(h));
		if (h.magic == RPA_DP_MAGIC && (int32_t)(seq - h.seq) > 0)
			return 1;
		set_err(c, "malformed reply: longer than a batch reply");
		return -EPROTO;
	}
	rc = check_reply(c, buf, n, seq, RPA_DP_BATCH);
	if (rc != 0)
		return rc;
	memcpy(&r, buf, sizeof(r));
	r.msg[sizeof(r.msg) - 1] = '\0';
	if (r.status == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	if (r.status != 0) {
		/* We built it: a dataplane that finds it malformed does not speak our BATCH. */
		set_err(c, "batch refused: %s", r.msg);
		return -EPROTO;
	}
	if (n < sizeof(r) + sizeof(br)) {
		set_err(c, "malformed reply: batch reply of %zu bytes without a count", n);
		return -EPROTO;
	}
	memcpy(&br, buf + sizeof(r), sizeof(br));
	if (br.count != k || n != sizeof(r) + sizeof(br) + (size_t)k * sizeof(st)) {
		set_err(c, "malformed reply: %u statuses in %zu bytes for a batch of %u",
			br.count, n, k);
		return -EPROTO;
	}
	for (unsigned i = 0; i < k; i++) {
		memcpy(&st, buf + sizeof(r) + sizeof(br) + i * sizeof(st), sizeof(st));
		if (st > 0 || st < -4095) {
			set_err(c, "malformed reply: status %d is not 0 or a negative errno", st);
			return -EPROTO;
		}
		if (st < 0) {
			c->remote_err = true;
			set_err(c, "refused: %s", errstr(-st, eb, sizeof(eb)));
		}
		ops[i].status = st;
	}
	return 0;
}

/* Every write in BATCH messages of up to RPA_DP_BATCH_MAX: one datagram each way for a
 * whole batch of commands, so the dataplane wakes up once, not once per write. At most
 * BATCH_MSGS in flight. Falls back to run_single for a dataplane without BATCH. */
static int run_multi(struct dpclient *c, struct dpclient_op *ops, unsigned n, bool wait)
{
	uint8_t rbuf[sizeof(struct rpa_dp_reply) + sizeof(struct rpa_dp_batch_reply) +
		     RPA_DP_BATCH_MAX * sizeof(int32_t) + 8];
	const bool resume = c->bops == ops && c->bn == n;
	const uint32_t base = resume ? c->bbase : c->seq;
	unsigned sent = resume ? c->bsent : 0, done = 0, k, i;
	int64_t deadline;
	char eb[64];
	ssize_t got;
	size_t len;
	int rc = 0;

	c->errmsg[0] = '\0';
	c->remote_err = false;
	c->bops = NULL;
	for (i = 0; i < n; i++)
		if (ops[i].type != RPA_DP_STREAM_ADD && ops[i].type != RPA_DP_STREAM_DEL) {
			set_err(c, "batch op %u: type %u is not stream add or del", i, ops[i].type);
			return -EINVAL;
		}
	deadline = now_ms() + c->timeout_ms;
	/* Message m carries ops[m * MAX, ...) and has sequence number base + m + 1. */
	while (done < n) {
		while (sent < n && (sent - done) / RPA_DP_BATCH_MAX < BATCH_MSGS) {
			k = n - sent < RPA_DP_BATCH_MAX ? n - sent : RPA_DP_BATCH_MAX;
			len = build_batch(c, &ops[sent], k, base + sent / RPA_DP_BATCH_MAX + 1);
			got = send(c->fd, c->buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (got < 0) {
				rc = errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN
					 ? -ECONNRESET
					 : -errno;
				if (rc == -ECONNRESET)
					set_err(c, "the dataplane closed the connection");
				else
					set_err(c, "send: %s", errstr(-rc, eb, sizeof(eb)));
				goto fail;
			}
			sent += k;
			c->seq = base + (sent + RPA_DP_BATCH_MAX - 1) / RPA_DP_BATCH_MAX;
		}
		if (!wait) {
			c->bops = ops;
			c->bn = n;
			c->bsent = sent;
			c->bbase = base;
			return 0;
		}
		if (sent == done) {
			rc = wait_ready(c, POLLOUT, deadline);
			if (rc < 0)
				goto fail;
			continue;
		}
		got = recv(c->fd, rbuf, sizeof(rbuf), MSG_DONTWAIT | MSG_TRUNC);
		if (got < 0) {
			rc = recv_retry(c, errno, deadline);
			if (rc < 0)
				goto fail;
			continue;
		}
		if (got == 0) {
			rc = -ECONNRESET;
			set_err(c, "the dataplane closed the connection");
			goto fail;
		}
		k = n - done < RPA_DP_BATCH_MAX ? n - done : RPA_DP_BATCH_MAX;
		rc = batch_reply_multi(c, rbuf, got > (ssize_t)sizeof(rbuf) ? sizeof(rbuf) : (size_t)got,
				       got > (ssize_t)sizeof(rbuf), base + done / RPA_DP_BATCH_MAX + 1,
				       &ops[done], k);
		if (rc == -EOPNOTSUPP && done == 0) {
			/* An older dataplane: the rest of what is in flight fails the same way
			 * (nothing of it was applied); collect it, then write one by one. */
			unsigned left = (sent + RPA_DP_BATCH_MAX - 1) / RPA_DP_BATCH_MAX - 1;

			for (; left > 0; left--) {
				rc = wait_fd(c, POLLIN, deadline);
				if (rc < 0 || recv(c->fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) <= 0) {
					rc = -EPROTO;
					set_err(c, "lost the dataplane while falling back to single "
						   "writes");
					goto fail;
				}
			}
			c->no_batch = true;
			c->seq = base + (sent + RPA_DP_BATCH_MAX - 1) / RPA_DP_BATCH_MAX;
			return run_single(c, ops, n, true);
		}
		if (rc == -EOPNOTSUPP)
			set_err(c, "the dataplane refused a BATCH after accepting one");
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			done += k;
			deadline = now_ms() + c->timeout_ms;
		}
	}
	c->seq = base + (sent + RPA_DP_BATCH_MAX - 1) / RPA_DP_BATCH_MAX;
	return 0;

fail:
	c->seq = base + (sent + RPA_DP_BATCH_MAX - 1) / RPA_DP_BATCH_MAX;
	for (i = done; i < n; i++)
		ops[i].status = rc;
	return rc;
}

int dpclient_batch(struct dpclient *c, struct dpclient_op *ops, unsigned n)
{
	return c->no_batch ? run_single(c, ops, n, true) : run_multi(c, ops, n, true);
}

int dpclient_batch_start(struct dpclient *c, struct dpclient_op *ops, unsigned n)
{
	return c->no_batch ? run_single(c, ops, n, false) : run_multi(c, ops, n, false);
}
