/* rtpanchor-bench-ctl: offer+answer pairs per second and their latency through a real
 * Redis and a running rtpanchor-control. Each client has its own Redis connection and
 * speaks the command channel exactly as a SIP proxy does (the fields of tools/ctlreq.c):
 * XADD the offer, BLPOP its reply, XADD the answer, BLPOP, and (by default) delete the
 * call; each XADD and its BLPOP are written together. The clients are multiplexed by one
 * event loop per thread (bench/ctlbench_loop.c), so that the harness takes little CPU
 * from Redis and control on a small machine. The main thread parses the options, times
 * the run and merges the figures afterwards. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "ctlbench.h"

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static const char *const cmd_names[CTLBENCH_CMD_N] = {"offer", "answer", "delete"};

/* CPU time of the whole process (every loop thread), in seconds. */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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
static uint64_t rank(const struct ctlbench_samples *s, double p)
{
	size_t r = (size_t)(p * (double)s->n);

	if ((double)r < p * (double)s->n)
		r++; /* ceil */
	return s->v[r == 0 ? 0 : (r > s->n ? s->n : r) - 1];
}

/* Percentiles of the merged samples, in milliseconds. */
static struct dist distribution(struct ctlbench_samples *s)
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

static void merge(struct ctlbench_samples *dst, const struct ctlbench_samples *src)
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
		"rtpanchor-control. Each client has its own Redis connection and does\n"
		"offer -> BLPOP -> answer -> BLPOP (-> delete -> BLPOP) in a loop, exactly as a\n"
		"SIP proxy would, each XADD written together with its BLPOP. A pair's latency\n"
		"runs from the offer's XADD to the answer's reply. The clients share one event\n"
		"loop (non-blocking sockets) per thread.\n"
		"\n"
		"Options:\n"
		"  --redis HOST:PORT|PATH  Redis (default 127.0.0.1:6379); credentials from\n"
		"                          $RTPANCHOR_REDIS_USER / $RTPANCHOR_REDIS_PASSWORD\n"
		"  --redis-db N            database (default 0)\n"
		"  --key-prefix P          key prefix (default rtpanchor:)\n"
		"  --clients N             clients, each with its own connection (default 4, at\n"
		"                          most %d)\n"
		"  --threads T             event-loop threads the clients are spread over\n"
		"                          (default 1, at most %d and no more than the clients)\n"
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
		CTLBENCH_MAX_CLIENTS, CTLBENCH_MAX_THREADS);
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

static int parse_opts(int argc, char **argv, struct ctlbench_opts *o)
{
	static const struct option lo[] = {
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-db", required_argument, NULL, 'b'},
	    {"key-prefix", required_argument, NULL, 'p'},
	    {"clients", required_argument, NULL, 'c'},
	    {"threads", required_argument, NULL, 'T'},
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

	*o = (struct ctlbench_opts){.prefix = CTLREQ_DEFAULT_PREFIX,
				    .clients = 4,
				    .threads = 1,
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
			if (parse_u64_arg("clients", optarg, 1, CTLBENCH_MAX_CLIENTS, &v) < 0)
				return EXIT_USAGE;
			o->clients = (unsigned)v;
			break;
		case 'T':
			if (parse_u64_arg("threads", optarg, 1, CTLBENCH_MAX_THREADS, &v) < 0)
				return EXIT_USAGE;
			o->threads = (unsigned)v;
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
	if (o->threads > o->clients)
		o->threads = o->clients; /* a loop without clients would only wait */
	return 0;
}

/* ping first: a missing control is reported as such, not as a run of timeouts. */
static int check_control(const struct ctlbench_opts *o)
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
	struct ctlbench_samples pair = {0}, cmds[CTLBENCH_CMD_N] = {{0}};
	uint64_t err_reply = 0, timeouts = 0, bad = 0, io = 0, warnings = 0, t_start, t_end = 0;
	const char *first_error = "", *first_warning = "";
	struct ctlbench_loop *loops[CTLBENCH_MAX_THREADS] = {NULL};
	pthread_t th[CTLBENCH_MAX_THREADS];
	static struct ctlbench_shared sh;
	struct ctlbench_opts o;
	struct dist pd, cd[CTLBENCH_CMD_N];
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

	sh.o = &o;
	if (pthread_barrier_init(&sh.warm, NULL, o.threads + 1) != 0) {
		fprintf(stderr, "rtpanchor-bench-ctl: out of memory\n");
		return EXIT_ERRORS;
	}
	/* Client i runs on loop i % threads. */
	for (i = 0; i < o.threads; i++) {
		rc = ctlbench_loop_create(&sh, i, o.threads, &loops[i], err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "rtpanchor-bench-ctl: %s\n", err);
			return rc == -ENOTCONN ? EXIT_UNREACHABLE : EXIT_ERRORS;
		}
	}
	for (i = 0; i < o.threads; i++)
		if (pthread_create(&th[i], NULL, ctlbench_loop_run, loops[i]) != 0) {
			fprintf(stderr, "rtpanchor-bench-ctl: cannot start loop thread %u\n", i);
			return EXIT_ERRORS;
		}
	pthread_barrier_wait(&sh.warm);
	t_start = ctlbench_now_ns();
	cpu0 = cpu_s();
	if (o.count == 0) {
		struct timespec ts = {
		    .tv_sec = (time_t)o.duration_s,
		    .tv_nsec = (long)((o.duration_s - (double)(time_t)o.duration_s) * 1e9)};

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		atomic_store(&sh.stop, true);
	}
	for (i = 0; i < o.threads; i++) {
		struct ctlbench_stats *st = ctlbench_loop_stats(loops[i]);

		pthread_join(th[i], NULL);
		if (st->last_done_ns > t_end)
			t_end = st->last_done_ns;
		merge(&pair, &st->pair);
		for (k = 0; k < CTLBENCH_CMD_N; k++)
			merge(&cmds[k], &st->cmd[k]);
		err_reply += st->err_reply;
		timeouts += st->timeouts;
		bad += st->bad_reply;
		io += st->io;
		warnings += st->warnings;
		ndead += st->dead;
		if (first_error[0] == '\0')
			first_error = st->first_error;
		if (first_warning[0] == '\0')
			first_warning = st->first_warning;
	}
	cpu1 = cpu_s();
	/* The rate counts completed pairs over the time until the last one completed. */
	if (t_end <= t_start)
		t_end = ctlbench_now_ns();
	elapsed = (double)(t_end - t_start) / 1e9;
	rate = pair.n > 0 ? (double)pair.n / elapsed : 0;
	ncmds = cmds[CTLBENCH_OFFER].n + cmds[CTLBENCH_ANSWER].n + cmds[CTLBENCH_DELETE].n;
	pd = distribution(&pair);
	for (k = 0; k < CTLBENCH_CMD_N; k++)
		cd[k] = distribution(&cmds[k]);
	ctlreq_endpoint_format(&o.redis, where, sizeof(where));

	if (o.json) {
		json_t *j, *c = json_object();
		char *s;

		for (k = 0; k < CTLBENCH_CMD_N; k++)
			if (cd[k].n > 0)
				json_object_set_new(c, cmd_names[k], dist_json(&cd[k]));
		j = json_pack(
		    "{s:s, s:s, s:i, s:i, s:f, s:b, s:I, s:I, s:f, s:f, s:f, s:o, s:o, "
		    "s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:s, s:s}",
		    "redis", where, "key_prefix", o.prefix, "clients", (int)o.clients, "threads",
		    (int)o.threads, "seconds", elapsed, "delete", o.delete, "pairs",
		    (json_int_t)pair.n, "commands", (json_int_t)ncmds, "pairs_per_s", rate,
		    "commands_per_s", (double)ncmds / elapsed, "client_cpu_us_per_command",
		    ncmds > 0 ? (cpu1 - cpu0) * 1e6 / (double)ncmds : 0.0, "pair_latency_ms",
		    dist_json(&pd), "command_latency_ms", c, "errors", "total",
		    (json_int_t)(err_reply + timeouts + bad + io), "error_replies",
		    (json_int_t)err_reply, "timeouts", (json_int_t)timeouts, "bad_replies",
		    (json_int_t)bad, "io", (json_int_t)io, "warnings", (json_int_t)warnings,
		    "first_error", first_error, "first_warning", first_warning);
		s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s == NULL) {
			fprintf(stderr, "rtpanchor-bench-ctl: out of memory\n");
			return EXIT_ERRORS;
		}
		printf("%s\n", s);
		free(s);
		json_decref(j);
	} else {
		printf("rtpanchor-bench-ctl: %u client%s on %u loop thread%s, Redis %s, prefix %s, "
		       "delete %s\n",
		       o.clients, o.clients == 1 ? "" : "s", o.threads, o.threads == 1 ? "" : "s",
		       where, o.prefix, o.delete ? "on" : "off");
		printf("pairs:          %zu in %.2f s = %.1f pairs/s (%.1f commands/s)\n", pair.n,
		       elapsed, rate, (double)ncmds / elapsed);
		printf("pair latency:   p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  mean %.3f ms "
		       "(offer XADD -> answer reply)\n",
		       pd.p50, pd.p90, pd.p99, pd.max, pd.mean);
		for (k = 0; k < CTLBENCH_CMD_N; k++)
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
	for (i = 0; i < o.threads; i++)
		ctlbench_loop_destroy(loops[i]);
	free(pair.v);
	for (k = 0; k < CTLBENCH_CMD_N; k++)
		free(cmds[k].v);
	return err_reply + timeouts + bad + io > 0 || ndead > 0 ? EXIT_ERRORS : EXIT_OK;
}
