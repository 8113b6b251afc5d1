/* Unit tests for control/metrics.c: the real HTTP server on loopback, scraped over a plain
 * TCP socket; the exposition is parsed and its values, HELP/TYPE lines, histogram buckets
 * and label escaping checked; 404/405; listen address errors; consistent snapshots while
 * the writer runs. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"

/* One HTTP exchange: the whole response, split. */
struct http {
	int status;
	char *raw;
	const char *headers; /* inside raw, NUL-terminated at the blank line */
	const char *body;
};

static void http_free(struct http *h)
{
	free(h->raw);
	memset(h, 0, sizeof(*h));
}

/* Send `request` verbatim to family/port on loopback and read until the server closes. */
static int http_raw(int family, uint16_t port, const char *request, struct http *h)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	size_t len = 0, cap = 65536;
	char *end;
	ssize_t n;
	int fd;

	memset(h, 0, sizeof(*h));
	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s6.sin6_addr = in6addr_loopback;
	fd = socket(family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (connect(fd, family == AF_INET ? (struct sockaddr *)&s4 : (struct sockaddr *)&s6,
		    family == AF_INET ? sizeof(s4) : sizeof(s6)) < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	h->raw = malloc(cap);
	assert_non_null(h->raw);
	while ((n = read(fd, h->raw + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			h->raw = realloc(h->raw, cap);
			assert_non_null(h->raw);
		}
	}
	close(fd);
	h->raw[len] = '\0';
	assert_int_equal(sscanf(h->raw, "HTTP/1.%*d %d", &h->status), 1);
	end = strstr(h->raw, "\r\n\r\n");
	assert_non_null(end);
	*end = '\0';
	h->headers = h->raw;
	h->body = end + 4;
	return 0;
}

static void http_get(uint16_t port, const char *path, struct http *h)
{
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
		 path);
	assert_int_equal(http_raw(AF_INET, port, req, h), 0);
}

/* A parsed exposition. */
#define MAX_SAMPLES  512
#define MAX_FAMILIES 64
struct sample {
	char name[96];
	char labels[160]; /* the text between the braces, verbatim; "" without labels */
	double value;
};
struct family {
	char name[96];
	char type[16];
	bool help;
};
struct expo {
	struct sample s[MAX_SAMPLES];
	unsigned ns;
	struct family f[MAX_FAMILIES];
	unsigned nf;
};

static struct family *family_get(struct expo *e, const char *name, bool create)
{
	unsigned i;

	for (i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].name, name) == 0)
			return &e->f[i];
	if (!create)
		return NULL;
	assert_true(e->nf < MAX_FAMILIES);
	memset(&e->f[e->nf], 0, sizeof(e->f[0]));
	snprintf(e->f[e->nf].name, sizeof(e->f[0].name), "%s", name);
	return &e->f[e->nf++];
}

/* The family a sample belongs to: a histogram's _bucket/_sum/_count series are its own. */
static struct family *family_of(struct expo *e, const char *sample)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	struct family *f;
	char base[96];
	size_t n = strlen(sample), k;
	unsigned i;

	f = family_get(e, sample, false);
	if (f != NULL)
		return f;
	for (i = 0; i < 3; i++) {
		k = strlen(suffixes[i]);
		if (n > k && strcmp(sample + n - k, suffixes[i]) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - k), sample);
			f = family_get(e, base, false);
			if (f != NULL && strcmp(f->type, "histogram") == 0)
				return f;
		}
	}
	return NULL;
}

/* Parse text format 0.0.4 strictly enough to catch a malformed line: every sample needs
 * its family's HELP and TYPE first; label values are quoted with escapes. */
static void expo_parse(const char *text, struct expo *e)
{
	char line[512], name[96], type[16];
	const char *p = text, *nl, *q;
	struct family *f;
	struct sample *s;
	size_t len, i;
	char *end;

	memset(e, 0, sizeof(*e));
	while (*p != '\0') {
		nl = strchr(p, '\n');
		assert_non_null(nl); /* every line ends with \n */
		len = (size_t)(nl - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%95s", name), 1);
			assert_true(strlen(line) > 8 + strlen(name)); /* non-empty text */
			f = family_get(e, name, true);
			assert_false(f->help);
			f->help = true;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%95s %15s", name, type), 2);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
				    strcmp(type, "histogram") == 0);
			f = family_get(e, name, true);
			assert_true(f->help); /* HELP comes first, as Prometheus writes it */
			assert_string_equal(f->type, "");
			snprintf(f->type, sizeof(f->type), "%s", type);
			continue;
		}
		assert_true(line[0] != '#' && line[0] != '\0');
		assert_true(e->ns < MAX_SAMPLES);
		s = &e->s[e->ns++];
		for (i = 0; line[i] != '\0' && line[i] != '{' && line[i] != ' '; i++)
			assert_true(line[i] == '_' || line[i] == ':' ||
				    (line[i] >= 'a' && line[i] <= 'z') ||
				    (line[i] >= 'A' && line[i] <= 'Z') ||
				    (i > 0 && line[i] >= '0' && line[i] <= '9'));
		assert_true(i > 0 && i < sizeof(s->name));
		memcpy(s->name, line, i);
		s->name[i] = '\0';
		q = line + i;
		if (*q == '{') {
			/* name="value" pairs; a value ends at an unescaped quote. */
			const char *start = ++q;

			while (*q != '}') {
				while (*q != '=') {
					assert_true(*q != '\0' && *q != '"');
					q++;
				}
				assert_true(q[1] == '"');
				for (q += 2; *q != '"'; q++) {
					assert_true(*q != '\0' && *q != '\n');
					if (*q == '\\') {
						assert_non_null(strchr("\\\"n", q[1]));
						q++;
					}
				}
				q++;
				assert_true(*q == ',' || *q == '}');
				if (*q == ',')
					q++;
			}
			assert_true((size_t)(q - start) < sizeof(s->labels));
			memcpy(s->labels, start, (size_t)(q - start));
			s->labels[q - start] = '\0';
			q++;
		}
		assert_true(*q == ' ');
		q++;
		if (strcmp(q, "+Inf") == 0)
			s->value = INFINITY;
		else if (strcmp(q, "NaN") == 0)
			s->value = NAN;
		else {
			errno = 0;
			s->value = strtod(q, &end);
			assert_true(end != q && *end == '\0' && errno == 0);
		}
		f = family_of(e, s->name);
		assert_non_null(f);
		assert_true(f->help);
		assert_string_not_equal(f->type, "");
	}
}

static bool find(const struct expo *e, const char *name, const char *labels, double *v)
{
	unsigned i;

	for (i = 0; i < e->ns; i++)
		if (strcmp(e->s[i].name, name) == 0 && strcmp(e->s[i].labels, labels) == 0) {
			*v = e->s[i].value;
			return true;
		}
	return false;
}

static double val(const struct expo *e, const char *name, const char *labels)
{
	double v = 0;

	if (!find(e, name, labels, &v))
		fail_msg("no sample %s{%s}", name, labels);
	return v;
}

static void scrape(uint16_t port, struct expo *e)
{
	struct http h;

	http_get(port, "/metrics", &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.headers, "text/plain; version=0.0.4"));
	expo_parse(h.body, e);
	http_free(&h);
}

static const char *const all_ops[] = {"offer", "answer", "delete",     "query",
				      "list",  "ping",	 "statistics", "unknown"};

/* Every op's buckets: cumulative, non-decreasing, ending in +Inf == _count. */
static void check_histograms(const struct expo *e)
{
	char lab[64];
	double prev, le, cnt, v;
	unsigned o, i, nb;

	for (o = 0; o < 8; o++) {
		prev = -1;
		nb = 0;
		le = -INFINITY;
		for (i = 0; i < e->ns; i++) {
			const struct sample *s = &e->s[i];
			char want[64];
			const char *lv;
			double b;

			snprintf(want, sizeof(want), "op=\"%s\",le=\"", all_ops[o]);
			if (strcmp(s->name, "rtpanchor_command_duration_seconds_bucket") != 0 ||
			    strncmp(s->labels, want, strlen(want)) != 0)
				continue;
			lv = s->labels + strlen(want);
			b = strncmp(lv, "+Inf\"", 5) == 0 ? INFINITY : strtod(lv, NULL);
			assert_true(b > le); /* bounds ascend */
			assert_true(s->value >= prev);
			le = b;
			prev = s->value;
			nb++;
		}
		assert_int_equal(nb, 12); /* 11 bounds and +Inf */
		assert_true(isinf(le));
		snprintf(lab, sizeof(lab), "op=\"%s\"", all_ops[o]);
		cnt = val(e, "rtpanchor_command_duration_seconds_count", lab);
		assert_true(cnt == prev);
		v = val(e, "rtpanchor_command_duration_seconds_sum", lab);
		assert_true(v >= 0);
	}
}

static struct metrics *start_local(void)
{
	char err[256] = "";
	struct metrics *m = metrics_start("127.0.0.1:0", err, sizeof(err));

	if (m == NULL)
		fail_msg("metrics_start: %s", err);
	assert_true(metrics_port(m) != 0);
	return m;
}

static void test_empty(void **state)
{
	struct metrics *m = start_local();
	struct expo *e = malloc(sizeof(*e));
	static const char *const families[][2] = {
	    {"rtpanchor_calls", "gauge"},
	    {"rtpanchor_streams", "gauge"},
	    {"rtpanchor_commands_total", "counter"},
	    {"rtpanchor_command_duration_seconds", "histogram"},
	    {"rtpanchor_ports_free", "gauge"},
	    {"rtpanchor_ports_used", "gauge"},
	    {"rtpanchor_ports_total", "gauge"},
	    {"rtpanchor_dataplane_up", "gauge"},
	    {"rtpanchor_redis_up", "gauge"},
	    {"rtpanchor_dataplane_rx_packets_total", "counter"},
	    {"rtpanchor_dataplane_tx_packets_total", "counter"},
	    {"rtpanchor_dataplane_drops_total", "counter"},
	    {"rtpanchor_dataplane_drops_by_reason_total", "counter"},
	    {"rtpanchor_dataplane_rx_pps", "gauge"},
	    {"rtpanchor_dataplane_tx_pps", "gauge"},
	};
	struct family *f;
	unsigned i;

	assert_non_null(e);
	scrape(metrics_port(m), e);
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		f = family_get(e, families[i][0], false);
		if (f == NULL)
			fail_msg("family %s missing", families[i][0]);
		assert_string_equal(f->type, families[i][1]);
	}
	assert_true(val(e, "rtpanchor_calls", "") == 0);
	assert_true(val(e, "rtpanchor_dataplane_up", "") == 0);
	assert_true(val(e, "rtpanchor_redis_up", "") == 0);
	/* The usual series exist at zero before the first command. */
	assert_true(val(e, "rtpanchor_commands_total", "op=\"offer\",result=\"ok\"") == 0);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"offer\",result=\"error\"") == 0);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"ping\",result=\"pong\"") == 0);
	check_histograms(e);
	free(e);
	metrics_stop(m);
}

static void test_commands(void **state)
{
	struct metrics *m = start_local();
	struct expo *e = malloc(sizeof(*e));
	double v;

	assert_non_null(e);
	metrics_command(m, "offer", "ok", 0.0003);
	metrics_command(m, "offer", "ok", 0.002);
	metrics_command(m, "offer", "ok", 0.7);
	metrics_command(m, "offer", "error", 2.0); /* beyond the last bound: +Inf only */
	metrics_command(m, "offer", "ok", 0.001);  /* exactly on a bound counts in it */
	metrics_command(m, "ping", "pong", 0.0001);
	metrics_command(m, "statistics", "ok", 0.01);
	metrics_command(m, "flush-all", "error", 0.004); /* not an op: "unknown" */
	metrics_command(m, "answer", "weird", 0.004);	 /* not a result: "error" */
	metrics_command(m, "delete", "ok", -1.0);	 /* a clock step: 0 */
	metrics_command(m, "delete", "ok", NAN);
	scrape(metrics_port(m), e);

	assert_true(val(e, "rtpanchor_commands_total", "op=\"offer\",result=\"ok\"") == 4);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"offer\",result=\"error\"") == 1);
	assert_false(find(e, "rtpanchor_commands_total", "op=\"offer\",result=\"pong\"", &v));
	assert_true(val(e, "rtpanchor_commands_total", "op=\"ping\",result=\"pong\"") == 1);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"statistics\",result=\"ok\"") == 1);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"unknown\",result=\"error\"") == 1);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"answer\",result=\"error\"") == 1);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"answer\",result=\"ok\"") == 0);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"delete\",result=\"ok\"") == 2);

#define B(op, le) val(e, "rtpanchor_command_duration_seconds_bucket", "op=\"" op "\",le=\"" le "\"")
	assert_true(B("offer", "0.0005") == 1);
	assert_true(B("offer", "0.001") == 2);
	assert_true(B("offer", "0.0025") == 3);
	assert_true(B("offer", "0.5") == 3);
	assert_true(B("offer", "1") == 4);
	assert_true(B("offer", "+Inf") == 5);
	assert_true(B("ping", "0.0005") == 1);
	assert_true(B("statistics", "0.005") == 0);
	assert_true(B("statistics", "0.01") == 1);
	assert_true(B("delete", "0.0005") == 2);
	assert_true(B("query", "+Inf") == 0);
#undef B
	assert_true(val(e, "rtpanchor_command_duration_seconds_count", "op=\"offer\"") == 5);
	v = val(e, "rtpanchor_command_duration_seconds_sum", "op=\"offer\"");
	assert_true(fabs(v - 2.7033) < 1e-9);
	assert_true(val(e, "rtpanchor_command_duration_seconds_sum", "op=\"delete\"") == 0);
	check_histograms(e);
	free(e);
	metrics_stop(m);
}

static void test_gauges(void **state)
{
	struct metrics *m = start_local();
	struct expo *e = malloc(sizeof(*e));
	struct metrics_gauges g;

	assert_non_null(e);
	memset(&g, 0, sizeof(g));
	g.calls = 7;
	g.streams = 28;
	g.dataplane_up = true;
	g.redis_up = false;
	g.dp_rx_pkts = 12345678901234ull; /* exact in a double */
	g.dp_tx_pkts = 12345678900000ull;
	g.dp_drops = 3;
	g.dp_rx_pps = 1234.5;
	g.dp_tx_pps = 0.25;
	g.nifaces = 2;
	snprintf(g.ifaces[0].name, sizeof(g.ifaces[0].name), "pub");
	g.ifaces[0].ports_free = 4990;
	g.ifaces[0].ports_used = 10;
	g.ifaces[0].ports_total = 5000;
	/* A name that needs every escape; and one that fills the array without a NUL. */
	memset(g.ifaces[1].name, 'x', sizeof(g.ifaces[1].name));
	memcpy(g.ifaces[1].name, "a\"b\\c\nd", 7);
	g.ifaces[1].ports_free = 1;
	g.ifaces[1].ports_used = 2;
	g.ifaces[1].ports_total = 3;
	/* Drop reasons: zeros are series too; a name that fills its field without a NUL. */
	g.ndrops = 3;
	snprintf(g.drops[0].reason, sizeof(g.drops[0].reason), "no-stream");
	g.drops[0].total = 2;
	snprintf(g.drops[1].reason, sizeof(g.drops[1].reason), "srtp-auth");
	g.drops[1].total = 0;
	memset(g.drops[2].reason, 'r', sizeof(g.drops[2].reason));
	g.drops[2].total = 1;
	metrics_set_gauges(m, &g);
	scrape(metrics_port(m), e);
	assert_true(val(e, "rtpanchor_dataplane_drops_by_reason_total", "reason=\"no-stream\"") == 2);
	assert_true(val(e, "rtpanchor_dataplane_drops_by_reason_total", "reason=\"srtp-auth\"") == 0);
	assert_true(val(e, "rtpanchor_dataplane_drops_by_reason_total",
			"reason=\"rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\"") == 1);

	assert_true(val(e, "rtpanchor_calls", "") == 7);
	assert_true(val(e, "rtpanchor_streams", "") == 28);
	assert_true(val(e, "rtpanchor_dataplane_up", "") == 1);
	assert_true(val(e, "rtpanchor_redis_up", "") == 0);
	assert_true(val(e, "rtpanchor_dataplane_rx_packets_total", "") == 12345678901234.0);
	assert_true(val(e, "rtpanchor_dataplane_tx_packets_total", "") == 12345678900000.0);
	assert_true(val(e, "rtpanchor_dataplane_drops_total", "") == 3);
	assert_true(val(e, "rtpanchor_dataplane_rx_pps", "") == 1234.5);
	assert_true(val(e, "rtpanchor_dataplane_tx_pps", "") == 0.25);
	assert_true(val(e, "rtpanchor_ports_free", "interface=\"pub\"") == 4990);
	assert_true(val(e, "rtpanchor_ports_used", "interface=\"pub\"") == 10);
	assert_true(val(e, "rtpanchor_ports_total", "interface=\"pub\"") == 5000);
	assert_true(val(e, "rtpanchor_ports_total",
			"interface=\"a\\\"b\\\\c\\nd"
			"xxxxxxxxxxxxxxxxxxxxxxxxx\"") == 3); /* 7 + 25 = 32 bytes */

	/* A new refresh replaces the figures; fewer interfaces drop their series. */
	g.calls = 1;
	g.redis_up = true;
	g.nifaces = 1;
	metrics_set_gauges(m, &g);
	scrape(metrics_port(m), e);
	assert_true(val(e, "rtpanchor_calls", "") == 1);
	assert_true(val(e, "rtpanchor_redis_up", "") == 1);
	assert_true(val(e, "rtpanchor_ports_free", "interface=\"pub\"") == 4990);
	{
		unsigned i, n = 0;

		for (i = 0; i < e->ns; i++)
			n += strcmp(e->s[i].name, "rtpanchor_ports_total") == 0;
		assert_int_equal(n, 1);
	}
	free(e);
	metrics_stop(m);
}

static void test_http(void **state)
{
	struct metrics *m = start_local();
	uint16_t port = metrics_port(m);
	struct http h;

	http_get(port, "/", &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "/metrics"));
	http_free(&h);

	http_get(port, "/other", &h);
	assert_int_equal(h.status, 404);
	http_free(&h);
	http_get(port, "/metrics/x", &h);
	assert_int_equal(h.status, 404);
	http_free(&h);

	assert_int_equal(http_raw(AF_INET, port,
				  "POST /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
				  "Content-Length: 3\r\n\r\nabc",
				  &h),
			 0);
	assert_int_equal(h.status, 405);
	assert_non_null(strstr(h.headers, "Allow: GET"));
	http_free(&h);
	assert_int_equal(
	    http_raw(AF_INET, port,
		     "DELETE /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &h),
	    0);
	assert_int_equal(h.status, 405);
	http_free(&h);

	/* HEAD: the headers of GET without a body. */
	assert_int_equal(http_raw(AF_INET, port,
				  "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
				  &h),
			 0);
	assert_int_equal(h.status, 200);
	assert_string_equal(h.body, "");
	http_free(&h);

	metrics_stop(m);
	/* Stopped means the port is closed. */
	assert_int_equal(http_raw(AF_INET, port, "GET / HTTP/1.0\r\n\r\n", &h), -ECONNREFUSED);
	metrics_stop(NULL);
}

static void test_ipv6(void **state)
{
	char err[256] = "";
	struct metrics *m;
	struct http h;

	m = metrics_start("[::1]:0", err, sizeof(err));
	if (m == NULL)
		fail_msg("metrics_start [::1]:0: %s", err);
	assert_int_equal(http_raw(AF_INET6, metrics_port(m), "GET /metrics HTTP/1.0\r\n\r\n", &h),
			 0);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "# TYPE rtpanchor_calls gauge"));
	http_free(&h);
	metrics_stop(m);
}

static void test_bad_listen(void **state)
{
	static const char *const bad[] = {
	    "",
	    "127.0.0.1",
	    "127.0.0.1:",
	    ":80",
	    "127.0.0.1:x",
	    "127.0.0.1:70000",
	    "127.0.0.1:-1",
	    "1.2.3.4.5:80",
	    "::1:80",
	    "[::1]",
	    "[::1]80",
	    "[127.0.0.1]:80",
	    "[::1:80",
	    "localhost:9810",
	    "127.0.0.1:80 ",
	    "203.0.113.300:1",
	};
	struct metrics *m, *m2;
	char err[256], addr[64];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		m = metrics_start(bad[i], err, sizeof(err));
		if (m != NULL)
			fail_msg("'%s' accepted", bad[i]);
		if (strstr(err, bad[i]) == NULL)
			fail_msg("error for '%s' does not name it: %s", bad[i], err);
	}
	/* Valid syntax, but the port is taken, or the address is not ours. */
	m = start_local();
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", metrics_port(m));
	m2 = metrics_start(addr, err, sizeof(err));
	assert_null(m2);
	assert_non_null(strstr(err, addr));
	assert_non_null(strstr(err, strerror(EADDRINUSE)));
	metrics_stop(m);
	m2 = metrics_start("192.0.2.77:0", err, sizeof(err));
	assert_null(m2);
	assert_non_null(strstr(err, "192.0.2.77:0"));
	assert_non_null(strstr(err, strerror(EADDRNOTAVAIL)));
}

/* A scraper thread while the main thread writes: every scrape is one consistent copy, so
 * the offer counter always equals the offer histogram's count, and the calls gauge, set
 * after the commands it counts, never runs ahead of them. The thread uses no cmocka
 * assertion (they cannot unwind another thread); it counts what it saw. */
struct scraper {
	uint16_t port;
	atomic_bool stop;
	atomic_uint scrapes;
	unsigned bad; /* scrapes that failed, did not parse or broke the invariants */
};

/* The value of the sample line starting with `prefix` (name and labels), or NAN. */
static double grep_value(const char *body, const char *prefix)
{
	const char *p = body;
	size_t n = strlen(prefix);

	while ((p = strstr(p, prefix)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return NAN;
}

static void *scraper_run(void *arg)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct scraper *s = arg;
	static char buf[1 << 16];
	double ok, cnt, calls;
	size_t len;
	ssize_t n;
	int fd;

	sa.sin_port = htons(s->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (!atomic_load(&s->stop)) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		len = 0;
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1)
			while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
				len += (size_t)n;
		if (fd >= 0)
			close(fd);
		buf[len] = '\0';
		ok = grep_value(buf, "rtpanchor_commands_total{op=\"offer\",result=\"ok\"}");
		cnt = grep_value(buf, "rtpanchor_command_duration_seconds_count{op=\"offer\"}");
		calls = grep_value(buf, "rtpanchor_calls");
		if (!(ok == cnt && calls <= ok))
			s->bad++;
		atomic_fetch_add(&s->scrapes, 1);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct metrics *m = start_local();
	struct scraper *s = calloc(1, sizeof(*s));
	struct expo *e = malloc(sizeof(*e));
	struct metrics_gauges g;
	pthread_t th;
	unsigned i, n = 50000;

	assert_non_null(s);
	assert_non_null(e);
	s->port = metrics_port(m);
	memset(&g, 0, sizeof(g));
	assert_int_equal(pthread_create(&th, NULL, scraper_run, s), 0);
	for (i = 1; i <= n; i++) {
		metrics_command(m, "offer", "ok", (double)(i % 1000) / 1000.0);
		if (i % 100 == 0) {
			g.calls = i;
			metrics_set_gauges(m, &g);
		}
	}
	/* Two more scrapes, so that at least one saw the final figures. */
	i = atomic_load(&s->scrapes);
	while (atomic_load(&s->scrapes) < i + 2)
		usleep(1000);
	atomic_store(&s->stop, true);
	pthread_join(th, NULL);
	assert_true(atomic_load(&s->scrapes) >= 2);
	assert_int_equal(s->bad, 0);
	scrape(metrics_port(m), e);
	assert_true(val(e, "rtpanchor_commands_total", "op=\"offer\",result=\"ok\"") == n);
	assert_true(val(e, "rtpanchor_calls", "") == n);
	check_histograms(e);
	free(e);
	free(s);
	metrics_stop(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),      cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_gauges),     cmocka_unit_test(test_http),
	    cmocka_unit_test(test_ipv6),       cmocka_unit_test(test_bad_listen),
	    cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
