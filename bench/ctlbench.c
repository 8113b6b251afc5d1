/* rtpanchor-bench-ctl: offer+answer pairs per second and their latency through a real
 * Redis and a running rtpanchor-control. Each client thread has its own hiredis connection
 * and speaks the command channel exactly as a SIP proxy does (tools/ctlreq.c): XADD the
 * offer, BLPOP its reply, XADD the answer, BLPOP, and (by default) delete the call; each
 * XADD and its BLPOP are written together (ctlreq_call: one round trip). The
 * main thread only times the run and merges the figures afterwards. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctlreq.h"

#define MAX_CLIENTS 256
#define SDP_MAX	    2048

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

struct bench_opts {
	struct ctlreq_endpoint redis;
	const char *prefix;
	unsigned clients;
	double duration_s; /* 0 when count is used */
	uint64_t count;	   /* pairs in all; 0 = run for duration_s */
	unsigned warmup;   /* pairs per client before measuring */
	bool delete;
	bool video;
	int timeout_ms;
	const char *flags;
	bool json;
};

/* Latencies in nanoseconds, appended by one client thread. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

enum cmd { CMD_OFFER, CMD_ANSWER, CMD_DELETE, CMD_N };
static const char *const cmd_names[CMD_N] = {"offer", "answer", "delete"};

struct client {
	pthread_t th;
	unsigned idx;
	const struct bench_opts *o;
	redisContext *c;
	char key[CTLREQ_KEY_MAX];
	uint64_t seq;
	struct samples pair, cmd[CMD_N];
	/* Failures while measuring, by kind. */
	uint64_t err_reply, timeouts, bad_reply, io, warnings;
	char first_error[256], first_warning[256];
	bool dead; /* the connection broke and could not be re-made */
	uint64_t last_done_ns;
};

static atomic_bool stop;
static atomic_uint_fast64_t started; /* measured pairs begun, for --count */
static pthread_barrier_t warm;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the whole process (every client thread), in seconds. */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void samples_add(struct samples *s, uint64_t v)
{
	uint64_t *n;

	if (s->n == s->cap) {
		n = realloc(s->v, (s->cap ? s->cap * 2 : 4096) * sizeof(*n));
		if (n == NULL)
			return; /* the figure is lost, the run goes on */
		s->v = n;
		s->cap = s->cap ? s->cap * 2 : 4096;
	}
	s->v[s->n++] = v;
}

/* An Asterisk-style offer and a FreeSWITCH-style answer, as carriers see them. */
static size_t offer_sdp(char *buf, size_t len, unsigned cl, uint64_t seq, bool video)
{
	unsigned host = 10 + cl % 200, port = 10000 + (unsigned)(seq % 20000) * 2;
	int n;

	n = snprintf(buf, len,
		     "v=0\r\n"
		     "o=- %" PRIu64 " %" PRIu64 " IN IP4 192.0.2.%u\r\n"
		     "s=Asterisk\r\n"
		     "c=IN IP4 192.0.2.%u\r\n"
		     "t=0 0\r\n"
		     "m=audio %u RTP/AVP 0 8 9 101\r\n"
		     "a=rtpmap:0 PCMU/8000\r\n"
		     "a=rtpmap:8 PCMA/8000\r\n"
		     "a=rtpmap:9 G722/8000\r\n"
		     "a=rtpmap:101 telephone-event/8000\r\n"
		     "a=fmtp:101 0-16\r\n"
		     "a=ptime:20\r\n"
		     "a=maxptime:150\r\n"
		     "a=sendrecv\r\n",
		     1700000000 + seq, 1700000000 + seq, host, host, port);
	if (video && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "m=video %u RTP/AVP 99\r\n"
			      "b=AS:2048\r\n"
			      "a=rtpmap:99 H264/90000\r\n"
			      "a=fmtp:99 profile-level-id=42e01f;packetization-mode=1\r\n"
			      "a=sendrecv\r\n",
			      port + 40000 < 65534 ? port + 40000 : port + 2);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static size_t answer_sdp(char *buf, size_t len, unsigned cl, uint64_t seq, bool video)
{
	unsigned host = 10 + cl % 200, port = 20000 + (unsigned)(seq % 20000) * 2;
	int n;

	n = snprintf(buf, len,
		     "v=0\r\n"
		     "o=FreeSWITCH %" PRIu64 " %" PRIu64 " IN IP4 198.51.100.%u\r\n"
		     "s=FreeSWITCH\r\n"
		     "c=IN IP4 198.51.100.%u\r\n"
		     "t=0 0\r\n"
		     "m=audio %u RTP/AVP 8 101\r\n"
		     "a=rtpmap:8 PCMA/8000\r\n"
		     "a=rtpmap:101 telephone-event/8000\r\n"
		     "a=fmtp:101 0-16\r\n"
		     "a=ptime:20\r\n"
		     "a=sendrecv\r\n"
		     "a=rtcp:%u IN IP4 198.51.100.%u\r\n",
		     1600000000 + seq, 1600000001 + seq, host, host, port, port + 1, host);
	if (video && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "m=video %u RTP/AVP 99\r\n"
			      "a=rtpmap:99 H264/90000\r\n"
			      "a=fmtp:99 profile-level-id=42e01f;packetization-mode=1\r\n"
			      "a=sendrecv\r\n",
			      port + 2);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static void note(char *dst, size_t len, const char *what, const char *msg)
{
	if (dst[0] == '\0')
		snprintf(dst, len, "%s: %.200s", what, msg);
}

enum outcome { OUT_OK, OUT_ERROR_REPLY, OUT_TIMEOUT, OUT_BAD, OUT_IO };

/* One command round trip; the reply is checked (result ok, and SDP for offer/answer). */
static enum outcome round_trip(struct client *cl, const struct ctlreq *r, bool measuring,
			       enum cmd which)
{
	char id[64], err[512], msg[256];
	const json_t *res, *w;
	enum ctlreq_status st;
	enum outcome out = OUT_OK;
	json_error_t jerr;
	uint64_t t0, t1;
	char *reply;
	size_t len;
	json_t *j;

	t0 = now_ns();
	st = ctlreq_call(cl->c, r, cl->o->prefix, cl->key, cl->o->timeout_ms, id, sizeof(id),
			 &reply, &len, err, sizeof(err));
	t1 = now_ns();
	switch (st) {
	case CTLREQ_OK:
		break;
	case CTLREQ_TIMEOUT:
		/* A late reply must not be taken for the next command's. */
		ctlreq_reply_key(cl->o->prefix, "bench", cl->key, sizeof(cl->key));
		if (measuring) {
			cl->timeouts++;
			note(cl->first_error, sizeof(cl->first_error), cmd_names[which], err);
		}
		return OUT_TIMEOUT;
	case CTLREQ_IO:
		if (measuring) {
			cl->io++;
			note(cl->first_error, sizeof(cl->first_error), cmd_names[which], err);
		}
		return OUT_IO;
	default:
		if (measuring) {
			cl->bad_reply++;
			note(cl->first_error, sizeof(cl->first_error), cmd_names[which], err);
		}
		return OUT_BAD;
	}
	j = json_loadb(reply, len, 0, &jerr);
	free(reply);
	res = json_object_get(j, "result");
	w = json_object_get(j, "warning");
	if (!json_is_string(res)) {
		out = OUT_BAD;
		snprintf(msg, sizeof(msg), "reply is not an object with a result");
	} else if (strcmp(json_string_value(res), "ok") != 0) {
		out = OUT_ERROR_REPLY;
		snprintf(msg, sizeof(msg), "%s",
			 json_is_string(json_object_get(j, "error-reason"))
			     ? json_string_value(json_object_get(j, "error-reason"))
			     : json_string_value(res));
	} else if (which != CMD_DELETE && !json_is_string(json_object_get(j, "sdp"))) {
		out = OUT_BAD;
		snprintf(msg, sizeof(msg), "ok reply without sdp");
	}
	if (measuring) {
		samples_add(&cl->cmd[which], t1 - t0);
		if (out == OUT_ERROR_REPLY)
			cl->err_reply++;
		else if (out == OUT_BAD)
			cl->bad_reply++;
		if (out != OUT_OK)
			note(cl->first_error, sizeof(cl->first_error), cmd_names[which], msg);
		if (json_is_string(w) && json_string_length(w) > 0) {
			cl->warnings++;
			note(cl->first_warning, sizeof(cl->first_warning), cmd_names[which],
			     json_string_value(w));
		}
	}
	json_decref(j);
	return out;
}

static bool reconnect(struct client *cl)
{
	char err[512];

	redisFree(cl->c);
	cl->c = ctlreq_connect(&cl->o->redis, cl->o->timeout_ms, err, sizeof(err));
	if (cl->c == NULL) {
		note(cl->first_error, sizeof(cl->first_error), "reconnect", err);
		cl->dead = true;
		return false;
	}
	ctlreq_call_prepare(cl->c, cl->o->timeout_ms);
	return true;
}

/* One call: offer, answer, optionally delete. Returns false when the client must stop. */
static bool one_pair(struct client *cl, bool measuring)
{
	char call_id[96], from_tag[48], to_tag[48], osdp[SDP_MAX], asdp[SDP_MAX];
	struct ctlreq r = {.call_id = call_id, .from_tag = from_tag, .flags = cl->o->flags};
	enum outcome out;
	uint64_t t0;
	bool need_delete = false;

	cl->seq++;
	snprintf(call_id, sizeof(call_id), "bench-%ld-%u-%" PRIu64 "@rtpanchor.test",
		 (long)getpid(), cl->idx, cl->seq);
	snprintf(from_tag, sizeof(from_tag), "ft%u-%" PRIu64, cl->idx, cl->seq);
	snprintf(to_tag, sizeof(to_tag), "tt%u-%" PRIu64, cl->idx, cl->seq);

	t0 = now_ns();
	r.op = "offer";
	r.sdp = osdp;
	r.sdp_len = offer_sdp(osdp, sizeof(osdp), cl->idx, cl->seq, cl->o->video);
	out = round_trip(cl, &r, measuring, CMD_OFFER);
	if (out == OUT_OK) {
		need_delete = true;
		r.op = "answer";
		r.to_tag = to_tag;
		r.sdp = asdp;
		r.sdp_len = answer_sdp(asdp, sizeof(asdp), cl->idx, cl->seq, cl->o->video);
		out = round_trip(cl, &r, measuring, CMD_ANSWER);
		if (out == OUT_OK && measuring) {
			cl->last_done_ns = now_ns();
			samples_add(&cl->pair, cl->last_done_ns - t0);
		}
	} else if (out == OUT_TIMEOUT) {
		need_delete = true; /* control may still apply it */
	}
	if (out == OUT_IO && !reconnect(cl))
		return false;
	if (need_delete && (cl->o->delete || out != OUT_OK)) {
		r = (struct ctlreq){.op = "delete",
				    .call_id = call_id,
				    .from_tag = from_tag,
				    .flags = "delete-delay=0"};
		out = round_trip(cl, &r, measuring, CMD_DELETE);
		if (out == OUT_IO && !reconnect(cl))
			return false;
	}
	return true;
}

static void *client_run(void *arg)
{
	struct client *cl = arg;
	unsigned i;

	for (i = 0; i < cl->o->warmup && !cl->dead; i++)
		one_pair(cl, false);
	pthread_barrier_wait(&warm);
	while (!atomic_load(&stop) && !cl->dead) {
		if (cl->o->count != 0 && atomic_fetch_add(&started, 1) >= cl->o->count)
			break;
		if (!one_pair(cl, true))
			break;
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct dist {
	size_t n;
	double p50, p90, p99, max, mean; /* ms */
};

/* Nearest-rank percentile p of sorted samples. */
static uint64_t rank(const struct samples *s, double p)
{
	size_t r = (size_t)(p * (double)s->n);

	if ((double)r < p * (double)s->n)
		r++; /* ceil */
	return s->v[r == 0 ? 0 : (r > s->n ? s->n : r) - 1];
}

/* Percentiles of the merged samples, in milliseconds. */
static struct dist distribution(struct samples *s)
{
	struct dist d = {.n = s->n};
	double sum = 0;
	size_t i;

	if (s->n == 0)
		return d;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_u64);
	for (i = 0; i < s->n; i++)
		sum += (double)s->v[i];
	d.p50 = (double)rank(s, 0.50) / 1e6;
	d.p90 = (double)rank(s, 0.90) / 1e6;
	d.p99 = (double)rank(s, 0.99) / 1e6;
	d.max = (double)s->v[s->n - 1] / 1e6;
	d.mean = sum / (double)s->n / 1e6;
	return d;
}

static void merge(struct samples *dst, const struct samples *src)
{
	uint64_t *n;

	if (src->n == 0)
		return;
	n = realloc(dst->v, (dst->n + src->n) * sizeof(*n));
	if (n == NULL)
		return;
	dst->v = n;
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*n));
	dst->n += src->n;
	dst->cap = dst->n;
}

static json_t *dist_json(const struct dist *d)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "n", (json_int_t)d->n, "p50", d->p50,
			 "p90", d->p90, "p99", d->p99, "max", d->max, "mean", d->mean);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rtpanchor-bench-ctl [OPTIONS]\n"
		"\n"
		"Offer+answer pairs per second and their latency through Redis and a running\n"
		"rtpanchor-control. Each client thread has its own Redis connection and does\n"
		"offer -> BLPOP -> answer -> BLPOP (-> delete -> BLPOP) in a loop, exactly as a\n"
		"SIP proxy would. A pair's latency runs from the offer's XADD to the answer's\n"
		"reply.\n"
		"\n"
		"Options:\n"
		"  --redis HOST:PORT|PATH  Redis (default 127.0.0.1:6379); credentials from\n"
		"                          $RTPANCHOR_REDIS_USER / $RTPANCHOR_REDIS_PASSWORD\n"
		"  --redis-db N            database (default 0)\n"
		"  --key-prefix P          key prefix (default rtpanchor:)\n"
		"  --clients N             client threads (default 4, at most %d)\n"
		"  --duration S            measure for S seconds (default 10)\n"
		"  --count N               measure N pairs in all instead of a duration\n"
		"  --warmup N              unmeasured pairs per client first (default 20)\n"
		"  --no-delete             keep the calls (by default each is deleted after its\n"
		"                          answer, so relay ports are not exhausted; not timed)\n"
		"  --flags \"F ...\"         flags for offer and answer (e.g. trust-address)\n"
		"  --video                 add a video m= line to both SDPs\n"
		"  --timeout MS            per reply (default 5000)\n"
		"  --json                  print one JSON object instead of text\n"
		"  --help\n"
		"\n"
		"Exit status: 0 no errors; 1 some command failed (counted and the first one\n"
		"shown); 2 usage; 3 Redis unreachable or rtpanchor-control does not answer ping.\n",
		MAX_CLIENTS);
}

static int parse_u64_arg(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "rtpanchor-bench-ctl: --%s: '%s' is not %" PRIu64 "..%" PRIu64 "\n",
			opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-db", required_argument, NULL, 'b'},
	    {"key-prefix", required_argument, NULL, 'p'},
	    {"clients", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 'd'},
	    {"count", required_argument, NULL, 'n'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"no-delete", no_argument, NULL, 'D'},
	    {"flags", required_argument, NULL, 'f'},
	    {"video", no_argument, NULL, 'v'},
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	char *end;
	int c;

	*o = (struct bench_opts){.prefix = CTLREQ_DEFAULT_PREFIX,
				 .clients = 4,
				 .duration_s = 10,
				 .warmup = 20,
				 .delete = true,
				 .timeout_ms = 5000};
	ctlreq_endpoint_parse(CTLREQ_DEFAULT_REDIS, &o->redis);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			v = (uint64_t)o->redis.db;
			if (ctlreq_endpoint_parse(optarg, &o->redis) < 0) {
				fprintf(stderr,
					"rtpanchor-bench-ctl: --redis: '%s' is not HOST:PORT, "
					"[IPv6]:PORT or a /socket/path\n",
					optarg);
				return EXIT_USAGE;
			}
			o->redis.db = (int)v;
			break;
		case 'b':
			if (parse_u64_arg("redis-db", optarg, 0, INT32_MAX, &v) < 0)
				return EXIT_USAGE;
			o->redis.db = (int)v;
			break;
		case 'p':
			if (strlen(optarg) > CTLREQ_PREFIX_MAX) {
				fprintf(stderr, "rtpanchor-bench-ctl: --key-prefix is too long\n");
				return EXIT_USAGE;
			}
			o->prefix = optarg;
			break;
		case 'c':
			if (parse_u64_arg("clients", optarg, 1, MAX_CLIENTS, &v) < 0)
				return EXIT_USAGE;
			o->clients = (unsigned)v;
			break;
		case 'd':
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (*end != '\0' || errno != 0 || !(o->duration_s > 0) ||
			    o->duration_s > 86400) {
				fprintf(stderr,
					"rtpanchor-bench-ctl: --duration: '%s' is not 0..86400 "
					"seconds\n",
					optarg);
				return EXIT_USAGE;
			}
			o->count = 0;
			break;
		case 'n':
			if (parse_u64_arg("count", optarg, 1, UINT64_MAX / 2, &o->count) < 0)
				return EXIT_USAGE;
			break;
		case 'w':
			if (parse_u64_arg("warmup", optarg, 0, 1000000, &v) < 0)
				return EXIT_USAGE;
			o->warmup = (unsigned)v;
			break;
		case 'D':
			o->delete = false;
			break;
		case 'f':
			o->flags = optarg;
			break;
		case 'v':
			o->video = true;
			break;
		case 't':
			if (parse_u64_arg("timeout", optarg, 1, 3600000, &v) < 0)
				return EXIT_USAGE;
			o->timeout_ms = (int)v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rtpanchor-bench-ctl: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

/* ping first: a missing control is reported as such, not as a run of timeouts. */
static int check_control(const struct bench_opts *o)
{
	struct ctlreq r = {.op = "ping"};
	char key[CTLREQ_KEY_MAX], id[64], err[512], *reply = NULL;
	enum ctlreq_status st;
	redisContext *c;
	size_t len;

	c = ctlreq_connect(&o->redis, o->timeout_ms, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "rtpanchor-bench-ctl: %s\n", err);
		return EXIT_UNREACHABLE;
	}
	ctlreq_reply_key(o->prefix, "bench", key, sizeof(key));
	st = ctlreq_send(c, &r, o->prefix, key, id, sizeof(id), err, sizeof(err));
	if (st == CTLREQ_OK)
		st = ctlreq_wait(c, key, o->timeout_ms, &reply, &len, err, sizeof(err));
	redisFree(c);
	if (st != CTLREQ_OK) {
		fprintf(stderr, "rtpanchor-bench-ctl: ping: %s%s\n", err,
			st == CTLREQ_TIMEOUT ? " (is rtpanchor-control running on this Redis "
					       "and key prefix?)"
					     : "");
		return EXIT_UNREACHABLE;
	}
	if (strstr(reply, "\"pong\"") == NULL) {
		fprintf(stderr, "rtpanchor-bench-ctl: ping: unexpected reply %s\n", reply);
		free(reply);
		return EXIT_UNREACHABLE;
	}
	free(reply);
	return 0;
}

int main(int argc, char **argv)
{
	struct samples pair = {0}, cmds[CMD_N] = {{0}};
	uint64_t err_reply = 0, timeouts = 0, bad = 0, io = 0, warnings = 0, t_start, t_end = 0;
	const char *first_error = "", *first_warning = "";
	struct client *cls;
	struct bench_opts o;
	struct dist pd, cd[CMD_N];
	char err[512], where[300];
	double elapsed, rate, cpu0, cpu1;
	size_t ncmds;
	unsigned i, k, ndead = 0;
	int rc;

	signal(SIGPIPE, SIG_IGN); /* see ctlreq.h */
	rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	rc = check_control(&o);
	if (rc != 0)
		return rc;

	cls = calloc(o.clients, sizeof(*cls));
	if (cls == NULL || pthread_barrier_init(&warm, NULL, o.clients + 1) != 0) {
		fprintf(stderr, "rtpanchor-bench-ctl: out of memory\n");
		return EXIT_ERRORS;
	}
	for (i = 0; i < o.clients; i++) {
		cls[i].idx = i;
		cls[i].o = &o;
		ctlreq_reply_key(o.prefix, "bench", cls[i].key, sizeof(cls[i].key));
		cls[i].c = ctlreq_connect(&o.redis, o.timeout_ms, err, sizeof(err));
		if (cls[i].c == NULL) {
			fprintf(stderr, "rtpanchor-bench-ctl: client %u: %s\n", i, err);
			return EXIT_UNREACHABLE;
		}
		ctlreq_call_prepare(cls[i].c, o.timeout_ms);
	}
	for (i = 0; i < o.clients; i++)
		if (pthread_create(&cls[i].th, NULL, client_run, &cls[i]) != 0) {
			fprintf(stderr, "rtpanchor-bench-ctl: cannot start client %u\n", i);
			return EXIT_ERRORS;
		}
	pthread_barrier_wait(&warm);
	t_start = now_ns();
	cpu0 = cpu_s();
	if (o.count == 0) {
		struct timespec ts = {
		    .tv_sec = (time_t)o.duration_s,
		    .tv_nsec = (long)((o.duration_s - (double)(time_t)o.duration_s) * 1e9)};

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		atomic_store(&stop, true);
	}
	for (i = 0; i < o.clients; i++) {
		pthread_join(cls[i].th, NULL);
		if (cls[i].last_done_ns > t_end)
			t_end = cls[i].last_done_ns;
		merge(&pair, &cls[i].pair);
		for (k = 0; k < CMD_N; k++)
			merge(&cmds[k], &cls[i].cmd[k]);
		err_reply += cls[i].err_reply;
		timeouts += cls[i].timeouts;
		bad += cls[i].bad_reply;
		io += cls[i].io;
		warnings += cls[i].warnings;
		ndead += cls[i].dead;
		if (first_error[0] == '\0')
			first_error = cls[i].first_error;
		if (first_warning[0] == '\0')
			first_warning = cls[i].first_warning;
	}
	cpu1 = cpu_s();
	/* The rate counts completed pairs over the time until the last one completed. */
	if (t_end <= t_start)
		t_end = now_ns();
	elapsed = (double)(t_end - t_start) / 1e9;
	rate = pair.n > 0 ? (double)pair.n / elapsed : 0;
	ncmds = cmds[CMD_OFFER].n + cmds[CMD_ANSWER].n + cmds[CMD_DELETE].n;
	pd = distribution(&pair);
	for (k = 0; k < CMD_N; k++)
		cd[k] = distribution(&cmds[k]);
	ctlreq_endpoint_format(&o.redis, where, sizeof(where));

	if (o.json) {
		json_t *j, *c = json_object();
		char *s;

		for (k = 0; k < CMD_N; k++)
			if (cd[k].n > 0)
				json_object_set_new(c, cmd_names[k], dist_json(&cd[k]));
		j = json_pack("{s:s, s:s, s:i, s:f, s:b, s:I, s:I, s:f, s:f, s:f, s:o, s:o, "
			      "s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:s, s:s}",
			      "redis", where, "key_prefix", o.prefix, "clients", (int)o.clients,
			      "seconds", elapsed, "delete", o.delete, "pairs", (json_int_t)pair.n,
			      "commands", (json_int_t)ncmds, "pairs_per_s", rate, "commands_per_s", (double)ncmds / elapsed,
			      "client_cpu_us_per_command",
			      ncmds > 0 ? (cpu1 - cpu0) * 1e6 / (double)ncmds : 0.0,
			      "pair_latency_ms", dist_json(&pd), "command_latency_ms", c, "errors",
			      "total", (json_int_t)(err_reply + timeouts + bad + io),
			      "error_replies", (json_int_t)err_reply, "timeouts",
			      (json_int_t)timeouts, "bad_replies", (json_int_t)bad, "io",
			      (json_int_t)io, "warnings", (json_int_t)warnings, "first_error",
			      first_error, "first_warning", first_warning);
		s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s == NULL) {
			fprintf(stderr, "rtpanchor-bench-ctl: out of memory\n");
			return EXIT_ERRORS;
		}
		printf("%s\n", s);
		free(s);
		json_decref(j);
	} else {
		printf("rtpanchor-bench-ctl: %u client%s, Redis %s, prefix %s, delete %s\n",
		       o.clients, o.clients == 1 ? "" : "s", where, o.prefix,
		       o.delete ? "on" : "off");
		printf("pairs:          %zu in %.2f s = %.1f pairs/s (%.1f commands/s)\n", pair.n,
		       elapsed, rate, (double)ncmds / elapsed);
		printf("pair latency:   p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  mean %.3f ms "
		       "(offer XADD -> answer reply)\n",
		       pd.p50, pd.p90, pd.p99, pd.max, pd.mean);
		for (k = 0; k < CMD_N; k++)
			if (cd[k].n > 0)
				printf("%-7s         p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  mean "
				       "%.3f ms (%zu)\n",
				       cmd_names[k], cd[k].p50, cd[k].p90, cd[k].p99, cd[k].max,
				       cd[k].mean, cd[k].n);
		printf("errors:         %" PRIu64 " (error replies %" PRIu64 ", timeouts %" PRIu64
		       ", bad replies %" PRIu64 ", connection %" PRIu64 ")%s%s\n",
		       err_reply + timeouts + bad + io, err_reply, timeouts, bad, io,
		       first_error[0] ? "; first: " : "", first_error);
		printf("client CPU:     %.1f us per command (all client threads)\n",
		       ncmds > 0 ? (cpu1 - cpu0) * 1e6 / (double)ncmds : 0.0);
		printf("warnings:       %" PRIu64 "%s%s\n", warnings,
		       first_warning[0] ? "; first: " : "", first_warning);
	}
	if (ndead > 0)
		fprintf(stderr, "rtpanchor-bench-ctl: %u client%s lost Redis and stopped early\n",
			ndead, ndead == 1 ? "" : "s");
	for (i = 0; i < o.clients; i++) {
		redisFree(cls[i].c);
		free(cls[i].pair.v);
		for (k = 0; k < CMD_N; k++)
			free(cls[i].cmd[k].v);
	}
	free(cls);
	free(pair.v);
	for (k = 0; k < CMD_N; k++)
		free(cmds[k].v);
	return err_reply + timeouts + bad + io > 0 || ndead > 0 ? EXIT_ERRORS : EXIT_OK;
}
