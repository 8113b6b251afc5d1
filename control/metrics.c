/* Prometheus metrics of rtpanchor-control: the figures (written by the control main thread)
 * and their text exposition (format 0.0.4), served by libmicrohttpd's internal polling
 * thread. The two threads share only `struct metrics_data`, under `lock`. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Label sets are fixed so that every series exists from the first scrape (rate() then
 * works from zero) and a hostile op name cannot grow the table. */
static const char *const ops[] = {"offer", "answer", "delete",	   "query",
				  "list",  "ping",   "statistics", "unknown"};
#define NOPS	   (sizeof(ops) / sizeof(ops[0]))
#define OP_UNKNOWN (NOPS - 1)
static const char *const results[] = {"ok", "error", "pong"};
#define NRESULTS  (sizeof(results) / sizeof(results[0]))
#define RES_ERROR 1
#define RES_PONG  2

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				 0.05,	 0.1,	0.25,	0.5,   1.0};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct metrics_data {
	uint64_t commands[NOPS][NRESULTS];
	uint64_t hist[NOPS][NBUCKETS + 1]; /* per bucket, not cumulative; [NBUCKETS] = +Inf */
	double hist_sum[NOPS];
	struct metrics_gauges g;
};

struct metrics {
	struct MHD_Daemon *httpd;
	uint16_t port;
	pthread_mutex_t lock; /* guards d; writer: main thread, reader: the HTTP thread */
	struct metrics_data d;
};

/* A growing text buffer; `failed` sticks after an allocation failure. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	size_t ncap;
	char *nbuf;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		ncap = t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
		nbuf = realloc(t->buf, ncap);
		if (nbuf == NULL) {
			t->failed = true;
			return;
		}
		t->buf = nbuf;
		t->cap = ncap;
	}
}

/* A sample value: shortest decimal that reads back exactly; Prometheus spellings for the
 * non-finite ones. */
static const char *fmt_double(double v, char *buf, size_t len)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
	return buf;
}

/* A label value with '\\', '"' and newline escaped (exposition format 0.0.4); at most
 * max bytes of s are read, since interface names come in fixed-size arrays. */
static const char *escape_label(const char *s, size_t max, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < max && s[i] != '\0' && o + 3 < len; i++) {
		if (s[i] == '\\' || s[i] == '"') {
			buf[o++] = '\\';
			buf[o++] = s[i];
		} else if (s[i] == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	return buf;
}

static void header(struct text *t, const char *name, const char *type, const char *help)
{
	text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge_u64(struct text *t, const char *name, const char *help, uint64_t v)
{
	header(t, name, "gauge", help);
	text_add(t, "%s %llu\n", name, (unsigned long long)v);
}

static void counter_u64(struct text *t, const char *name, const char *help, uint64_t v)
{
	header(t, name, "counter", help);
	text_add(t, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge_double(struct text *t, const char *name, const char *help, double v)
{
	char b[32];

	header(t, name, "gauge", help);
	text_add(t, "%s %s\n", name, fmt_double(v, b, sizeof(b)));
}

static void render_commands(struct text *t, const struct metrics_data *d)
{
	char b[32], le[32];
	uint64_t cum;
	unsigned o, r, k;

	header(t, "rtpanchor_commands_total", "counter",
	       "Commands handled from the Redis channel, by op and reply result.");
	for (o = 0; o < NOPS; o++)
		for (r = 0; r < NRESULTS; r++) {
			/* The usual pairs always; odd ones (an offer answered "pong") once seen. */
			bool usual =
			    r == RES_ERROR || (r == RES_PONG) == (strcmp(ops[o], "ping") == 0);

			if (usual || d->commands[o][r] != 0)
				text_add(t,
					 "rtpanchor_commands_total{op=\"%s\",result=\"%s\"} %llu\n",
					 ops[o], results[r], (unsigned long long)d->commands[o][r]);
		}

	header(t, "rtpanchor_command_duration_seconds", "histogram",
	       "Time from reading a command to writing its reply.");
	for (o = 0; o < NOPS; o++) {
		cum = 0;
		for (k = 0; k <= NBUCKETS; k++) {
			cum += d->hist[o][k];
			text_add(t,
				 "rtpanchor_command_duration_seconds_bucket{op=\"%s\",le=\"%s\"} "
				 "%llu\n",
				 ops[o],
				 k < NBUCKETS ? fmt_double(buckets[k], le, sizeof(le)) : "+Inf",
				 (unsigned long long)cum);
		}
		text_add(t, "rtpanchor_command_duration_seconds_sum{op=\"%s\"} %s\n", ops[o],
			 fmt_double(d->hist_sum[o], b, sizeof(b)));
		text_add(t, "rtpanchor_command_duration_seconds_count{op=\"%s\"} %llu\n", ops[o],
			 (unsigned long long)cum);
	}
}

static void render_ports(struct text *t, const struct metrics_gauges *g)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} series[] = {
	    {"rtpanchor_ports_free", "Relay port pairs free to hand out now, by interface.",
	     offsetof(struct metrics_iface, ports_free)},
	    {"rtpanchor_ports_used", "Relay port pairs in use by calls, by interface.",
	     offsetof(struct metrics_iface, ports_used)},
	    {"rtpanchor_ports_total", "Relay port pairs configured, by interface.",
	     offsetof(struct metrics_iface, ports_total)},
	};
	char name[sizeof(g->ifaces[0].name) * 2 + 1];
	unsigned s, i, n = g->nifaces < METRICS_MAX_IFACES ? g->nifaces : METRICS_MAX_IFACES;
	uint32_t v;

	for (s = 0; s < sizeof(series) / sizeof(series[0]); s++) {
		header(t, series[s].name, "gauge", series[s].help);
		for (i = 0; i < n; i++) {
			memcpy(&v, (const char *)&g->ifaces[i] + series[s].off, sizeof(v));
			text_add(t, "%s{interface=\"%s\"} %u\n", series[s].name,
				 escape_label(g->ifaces[i].name, sizeof(g->ifaces[i].name), name,
					      sizeof(name)),
				 v);
		}
	}
}

/* Every reason with its count, zeros too, so that rate() and alerts see a series from the
 * start (a forged-SRTP alarm on srtp-auth, say). */
static void render_drops(struct text *t, const struct metrics_gauges *g)
{
	char reason[sizeof(g->drops[0].reason) * 2 + 1];
	unsigned i, n = g->ndrops < METRICS_MAX_DROP_REASONS ? g->ndrops : METRICS_MAX_DROP_REASONS;

	header(t, "rtpanchor_dataplane_drops_by_reason_total", "counter",
	       "Packets the dataplane dropped, by reason (as rtpanchor dataplane stats names "
	       "them).");
	for (i = 0; i < n; i++)
		text_add(t, "rtpanchor_dataplane_drops_by_reason_total{reason=\"%s\"} %llu\n",
			 escape_label(g->drops[i].reason, sizeof(g->drops[i].reason), reason,
				      sizeof(reason)),
			 (unsigned long long)g->drops[i].total);
}

/* The whole exposition from a snapshot; NULL when out of memory. */
static char *render(const struct metrics_data *d, size_t *len)
{
	const struct metrics_gauges *g = &d->g;
	struct text t = {0};

	t.cap = 8192;
	t.buf = malloc(t.cap);
	if (t.buf == NULL)
		return NULL;
	t.buf[0] = '\0';
	gauge_u64(&t, "rtpanchor_calls", "Calls in the call table.", g->calls);
	gauge_u64(&t, "rtpanchor_streams", "Dataplane streams the calls need.", g->streams);
	render_commands(&t, d);
	render_ports(&t, g);
	gauge_u64(&t, "rtpanchor_dataplane_up", "1 while the dataplane control socket answers.",
		  g->dataplane_up ? 1 : 0);
	gauge_u64(&t, "rtpanchor_redis_up", "1 while the Redis connection works.",
		  g->redis_up ? 1 : 0);
	counter_u64(&t, "rtpanchor_dataplane_rx_packets_total",
		    "Packets the dataplane received on its ports.", g->dp_rx_pkts);
	counter_u64(&t, "rtpanchor_dataplane_tx_packets_total",
		    "Packets the dataplane transmitted on its ports.", g->dp_tx_pkts);
	counter_u64(&t, "rtpanchor_dataplane_drops_total",
		    "Packets the dataplane dropped, every reason.", g->dp_drops);
	render_drops(&t, g);
	gauge_double(&t, "rtpanchor_dataplane_rx_pps",
		     "Dataplane receive rate over the last refresh interval, packets/s.",
		     g->dp_rx_pps);
	gauge_double(&t, "rtpanchor_dataplane_tx_pps",
		     "Dataplane transmit rate over the last refresh interval, packets/s.",
		     g->dp_tx_pps);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned status, const char *s)
{
	return reply(conn, status, "text/plain; charset=utf-8", (char *)s, strlen(s),
		     MHD_RESPMEM_PERSISTENT);
}

/* Runs on the HTTP thread. Every request is answered on the first call, before any body:
 * nothing here reads one. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct metrics *m = cls;
	struct metrics_data *snap;
	char *body;
	size_t len;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method not allowed: use GET\n");
	if (strcmp(url, "/") == 0)
		return reply_static(conn, MHD_HTTP_OK,
				    "rtpanchor-control: Prometheus metrics are at /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_static(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");

	snap = malloc(sizeof(*snap));
	if (snap == NULL)
		return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	pthread_mutex_lock(&m->lock);
	memcpy(snap, &m->d, sizeof(*snap));
	pthread_mutex_unlock(&m->lock);
	body = render(snap, &len);
	free(snap);
	if (body == NULL)
		return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(conn, MHD_HTTP_OK, CONTENT_TYPE, body, len, MHD_RESPMEM_MUST_FREE);
}

/* "ADDR:PORT" or "[V6]:PORT", numeric only, port 0..65535. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *p, *hs;
	unsigned long port;
	size_t hl;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		p = strchr(s, ']');
		if (p == NULL || p[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hl = (size_t)(p - hs);
		colon = p + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -EINVAL; /* a bare IPv6 address needs brackets */
		hs = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host) || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || port > 65535)
		return -EINVAL;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (s[0] != '[' && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

/* Our own socket, so that a bind error names the address and errno, and port 0 can be
 * read back with getsockname. */
static int open_listener(const char *listen_addr, uint16_t *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, e;

	if (parse_listen(listen_addr, &ss, &sl) < 0) {
		snprintf(err, errlen,
			 "metrics listen address '%s' is not IPv4:PORT or [IPv6]:PORT (numeric, "
			 "port 0..65535)",
			 listen_addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "metrics on %s: socket: %s", listen_addr, strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		e = errno;
		snprintf(err, errlen, "metrics cannot listen on %s: %s", listen_addr, strerror(e));
		close(fd);
		return -e;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		e = errno;
		snprintf(err, errlen, "metrics on %s: getsockname: %s", listen_addr, strerror(e));
		close(fd);
		return -e;
	}
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

struct metrics *metrics_start(const char *listen_addr, char *err, size_t errlen)
{
	struct metrics *m;
	int fd, rc;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	rc = pthread_mutex_init(&m->lock, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "metrics: mutex: %s", strerror(rc));
		free(m);
		return NULL;
	}
	fd = open_listener(listen_addr, &m->port, err, errlen);
	if (fd < 0)
		goto fail;
	/* A scrape is small and fast: a handful of connections, closed when idle. */
	m->httpd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, handle, m,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (m->httpd == NULL) {
		snprintf(err, errlen, "metrics on %s: libmicrohttpd failed to start", listen_addr);
		close(fd);
		goto fail;
	}
	return m;
fail:
	pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}

void metrics_stop(struct metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->httpd); /* joins the thread and closes the listening socket */
	pthread_mutex_destroy(&m->lock);
	free(m);
}

uint16_t metrics_port(const struct metrics *m)
{
	return m->port;
}

void metrics_command(struct metrics *m, const char *op, const char *result, double seconds)
{
	unsigned o, r, k;

	for (o = 0; o < OP_UNKNOWN; o++)
		if (strcmp(op, ops[o]) == 0)
			break;
	for (r = 0; r < NRESULTS; r++)
		if (strcmp(result, results[r]) == 0)
			break;
	if (r == NRESULTS)
		r = RES_ERROR;
	if (!(seconds >= 0)) /* negative (a clock step) or NaN */
		seconds = 0;
	for (k = 0; k < NBUCKETS && seconds > buckets[k]; k++)
		;
	pthread_mutex_lock(&m->lock);
	m->d.commands[o][r]++;
	m->d.hist[o][k]++;
	m->d.hist_sum[o] += seconds;
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_gauges(struct metrics *m, const struct metrics_gauges *g)
{
	pthread_mutex_lock(&m->lock);
	m->d.g = *g;
	if (m->d.g.nifaces > METRICS_MAX_IFACES)
		m->d.g.nifaces = METRICS_MAX_IFACES;
	pthread_mutex_unlock(&m->lock);
}
