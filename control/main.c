/* rtpanchor-control: the main thread's loop. It reads commands from Redis, applies them
 * (command.c), commits their transactions (outbox.c), keeps the dataplane in step
 * (dpsync.c), and once a second runs the timers (delete-delay, timeouts), the heartbeat
 * and the metrics gauges; it trims the command stream ten times a second. The metrics
 * HTTP server is the only other thread. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "chan.h"
#include "command.h"
#include "dpsync.h"
#include "events.h"
#include "heartbeat.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "outbox.h"
#include "portalloc.h"
#include "store.h"
#include "timeouts.h"

_Static_assert(OPTIONS_MAX_IFACES <= CALL_MAX_IFACES, "interfaces");
_Static_assert(OPTIONS_MAX_IFACES <= METRICS_MAX_IFACES, "interfaces");
_Static_assert(OPTIONS_IFNAME_MAX <= CALL_IFNAME_MAX, "interface names");
_Static_assert(OPTIONS_NODE_MAX <= sizeof(((struct calls_config *)0)->node), "node names");
_Static_assert(ENTRY_CALL_ID_MAX == CALL_ID_MAX, "call-id limit");
_Static_assert(ENTRY_TAG_MAX == CALL_TAG_MAX, "tag limit");

#define TICK_MS 1000
/* Trimming the command stream often keeps each XTRIM short: at 5,000 calls/s a 1 s trim
 * removes ~15,000 entries and stalls Redis for 2.6-4.2 ms, which lands on the latency of
 * about 1% of the commands. */
#define TRIM_MS	    100
#define NAP_MAX_MS  100
#define TIMER_BATCH 256 /* calls removed per timer pass and kind */

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	/* A second signal: the operator does not want to wait for the batch. */
	if (quit != 0)
		_exit(1);
	quit = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ms(void)
{
	return mono_ns() / 1000000;
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sleep until `until` (CLOCK_MONOTONIC ms), at most NAP_MAX_MS; a signal ends it. */
static void nap(uint64_t until)
{
	uint64_t now = mono_ms(), ms = until > now ? until - now : 0;
	struct timespec ts;

	if (ms == 0)
		return;
	if (ms > NAP_MAX_MS)
		ms = NAP_MAX_MS;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)ms * 1000000;
	nanosleep(&ts, NULL);
}

struct daemon {
	struct options o;
	struct command_ctx x;
	struct outbox outbox;
	struct metrics *metrics;
	struct dpclient_stats *gstats; /* scratch for the gauges */
	uint64_t last_rx, last_tx, last_gauge_ns;
	bool loaded;
};

static void committed(const struct txn *t, void *arg)
{
	struct daemon *dm = arg;

	double s;

	if (dm->metrics == NULL || t->ncounts == 0)
		return;
	s = (double)(mono_ns() - t->read_ns) / 1e9;
	for (unsigned i = 0; i < t->ncounts; i++)
		metrics_command(dm->metrics, t->counts[i].op, t->counts[i].result, s);
}

static int flush_outbox(struct daemon *dm, bool check)
{
	if (outbox_len(&dm->outbox) == 0)
		return 0;
	return outbox_flush(&dm->outbox, dm->x.ch, &dm->o, check, committed, dm);
}

/* The command connection must be quiet (every reply read) for a command of its own. */
static int collect_all(struct daemon *dm)
{
	return outbox_collect(&dm->outbox, dm->x.ch, true, committed, dm);
}

/* New entries, waiting at least 1 ms (BLOCK 0 would wait forever) and at most until the
 * next tick. */
static int read_new(struct daemon *dm, uint64_t next_tick)
{
	struct chan_readreq rq = {.id = ">", .count = COMMAND_BATCH_MAX};
	uint64_t now = mono_ms();

	rq.block_ms = next_tick > now + 1 ? (int)(next_tick - now) : 1;
	return chan_read_start(dm->x.ch, &rq);
}

struct ahead {
	struct daemon *dm;
	uint64_t next_tick;
};

/* In the middle of a batch (command_mid_fn): read the next one while the dataplane works
 * on this one. A failure shows at the next use of the channel. */
static void read_ahead(void *arg)
{
	struct ahead *a = arg;

	read_new(a->dm, a->next_tick);
}

static void push_event(struct daemon *dm, const char *event)
{
	struct txn t;

	txn_init(&t, NULL);
	events_add(&t, &dm->o, event, NULL, NULL, 0, realtime_ms());
	txn_end(&t);
	outbox_push(&dm->outbox, &t);
}

static void gauges(struct daemon *dm, uint64_t now_ms)
{
	struct metrics_gauges g;
	uint64_t now_ns = mono_ns();
	double dt;
	int rc;

	if (dm->metrics == NULL)
		return;
	memset(&g, 0, sizeof(g));
	g.calls = calls_count(dm->x.calls);
	g.streams = dm->x.streams;
	g.redis_up = chan_up(dm->x.ch);
	g.dataplane_up = dpsync_up(dm->x.dp);
	if (g.dataplane_up) {
		rc = dpclient_stats(dpsync_client(dm->x.dp), dm->gstats);
		if (rc < 0) {
			if (!dpclient_remote_error(dpsync_client(dm->x.dp)))
				dpsync_fail(dm->x.dp, "stats", rc);
			g.dataplane_up = dpsync_up(dm->x.dp);
		} else {
			for (unsigned i = 0; i < dm->gstats->hdr.nports; i++) {
				g.dp_rx_pkts += dm->gstats->ports[i].rx_pkts;
				g.dp_tx_pkts += dm->gstats->ports[i].tx_pkts;
				g.dp_drops += dm->gstats->ports[i].drops;
			}
			for (unsigned i = 0; i < dm->gstats->hdr.ndrops && i < DPCLIENT_MAX_DROPS &&
					     g.ndrops < METRICS_MAX_DROP_REASONS;
			     i++) {
				struct metrics_drop *d = &g.drops[g.ndrops++];

				/* The dataplane's name may fill its field without a NUL. */
				_Static_assert(sizeof(d->reason) == RPA_DP_NAME_LEN, "drop names");
				memcpy(d->reason, dm->gstats->drops[i].name, sizeof(d->reason));
				d->total = dm->gstats->drops[i].total;
			}
			dt = (double)(now_ns - dm->last_gauge_ns) / 1e9;
			if (dm->last_gauge_ns != 0 && dt > 0 && g.dp_rx_pkts >= dm->last_rx &&
			    g.dp_tx_pkts >= dm->last_tx) {
				g.dp_rx_pps = (double)(g.dp_rx_pkts - dm->last_rx) / dt;
				g.dp_tx_pps = (double)(g.dp_tx_pkts - dm->last_tx) / dt;
			}
			dm->last_rx = g.dp_rx_pkts;
			dm->last_tx = g.dp_tx_pkts;
			dm->last_gauge_ns = now_ns;
		}
	}
	g.nifaces = dm->o.nifaces;
	for (unsigned i = 0; i < dm->o.nifaces; i++) {
		snprintf(g.ifaces[i].name, sizeof(g.ifaces[i].name), "%s", dm->o.ifaces[i].name);
		g.ifaces[i].ports_free = portalloc_free(dm->x.ports[i], now_ms);
		g.ifaces[i].ports_used = portalloc_used(dm->x.ports[i]);
		g.ifaces[i].ports_total = portalloc_total(dm->x.ports[i]);
	}
	metrics_set_gauges(dm->metrics, &g);
}

/* Once a second: the dataplane connection, delete-delay, timeouts, gauges. */
static void tick(struct daemon *dm)
{
	struct command_ctx *x = &dm->x;
	struct timeout_hit hits[TIMER_BATCH];
	struct call *due[TIMER_BATCH];
	uint64_t now = realtime_ms();
	unsigned n, i;
	struct txn t;

	if (dpsync_tick(x->dp, mono_ms()) == 1 && dm->loaded)
		dpsync_reconcile(x->dp, x->calls, NULL, NULL, NULL);
	if (!dm->loaded)
		return;

	txn_init(&t, NULL);
	dpsync_begin(x->dp);
	n = calls_due(x->calls, now, due, TIMER_BATCH);
	for (i = 0; i < n; i++)
		command_remove(x, due[i], "delete-delay", now, &t);
	n = timeouts_check(x->to, x->calls, x->dp, now, hits, TIMER_BATCH);
	for (i = 0; i < n; i++) {
		struct call *c = calls_find(x->calls, hits[i].call_id);

		if (c == NULL)
			continue;
		if (hits[i].kind == TIMEOUT_MEDIA) {
			events_add(&t, &dm->o, "media-timeout", hits[i].call_id, NULL,
				   hits[i].idle_ms, now);
			log_info("call %s: no media for %" PRIu64 " ms%s", hits[i].call_id,
				 hits[i].idle_ms, hits[i].remove ? "; deleting it" : "");
		}
		if (hits[i].remove)
			command_remove(
			    x, c, hits[i].kind == TIMEOUT_MEDIA ? "media-timeout" : "final-timeout",
			    now, &t);
	}
	dpsync_flush(x->dp);
	if (t.ncmds > 1) {
		txn_end(&t);
		outbox_push(&dm->outbox, &t);
	} else {
		txn_free(&t);
	}
	gauges(dm, now);
}

static void heartbeat(struct daemon *dm)
{
	struct heartbeat_info hi = {
	    .started_ms = dm->x.started_ms,
	    .now_ms = realtime_ms(),
	    .calls = calls_count(dm->x.calls),
	    .dataplane_up = dpsync_up(dm->x.dp),
	    .dataplane_boot_id =
		dpsync_up(dm->x.dp) ? dpclient_server(dpsync_client(dm->x.dp))->boot_id : 0,
	};

	heartbeat_send(dm->x.ch, &dm->o, &hi);
}

static int setup(struct daemon *dm)
{
	struct calls_config cfg;
	const struct options *o = &dm->o;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	for (unsigned i = 0; i < o->nifaces; i++) {
		struct call_iface *f = &cfg.ifaces[i];

		snprintf(f->name, sizeof(f->name), "%s", o->ifaces[i].name);
		f->local = o->ifaces[i].local;
		f->advertised = o->ifaces[i].advertised;
		dm->x.ports[i] = portalloc_create(o->port_min, o->port_max, o->port_quarantine_ms);
		if (dm->x.ports[i] == NULL) {
			log_error("ports %u-%u: %s", o->port_min, o->port_max, strerror(errno));
			return -1;
		}
		f->ports = dm->x.ports[i];
	}
	cfg.nifaces = o->nifaces;
	snprintf(cfg.node, sizeof(cfg.node), "%s", o->node);
	cfg.delete_delay_s = o->delete_delay_s;
	cfg.latch_window_ms = o->latch_window_ms;

	dm->x.o = o;
	dm->x.calls = calls_create(&cfg);
	dm->x.ch = chan_create(o);
	dm->x.dp = dpsync_create(o);
	dm->x.to = timeouts_create(o);
	dm->x.outbox = &dm->outbox;
	dm->x.dpstats = malloc(sizeof(*dm->x.dpstats));
	dm->gstats = malloc(sizeof(*dm->gstats));
	dm->x.started_ms = realtime_ms();
	if (dm->x.calls == NULL || dm->x.ch == NULL || dm->x.dp == NULL || dm->x.to == NULL ||
	    dm->x.dpstats == NULL || dm->gstats == NULL) {
		log_error("out of memory at start");
		return -1;
	}
	if (o->metrics_listen[0] != '\0') {
		dm->metrics = metrics_start(o->metrics_listen, err, sizeof(err));
		if (dm->metrics == NULL) {
			log_error("--metrics-listen %s: %s", o->metrics_listen, err);
			return -1;
		}
		log_info("metrics: GET /metrics on %s (port %u)", o->metrics_listen,
			 metrics_port(dm->metrics));
	}
	return 0;
}

static void teardown(struct daemon *dm)
{
	metrics_stop(dm->metrics);
	outbox_free(&dm->outbox);
	if (dm->x.calls != NULL)
		calls_destroy(dm->x.calls);
	for (unsigned i = 0; i < OPTIONS_MAX_IFACES; i++)
		if (dm->x.ports[i] != NULL)
			portalloc_destroy(dm->x.ports[i]);
	chan_destroy(dm->x.ch);
	dpsync_destroy(dm->x.dp);
	timeouts_destroy(dm->x.to);
	command_free(&dm->x);
	free(dm->x.dpstats);
	free(dm->gstats);
}

/* After (re)connecting to Redis: load the calls once, or commit what waited. Returns 0
 * when the channel is ready for commands. */
static int on_connected(struct daemon *dm, bool *resync)
{
	unsigned loaded, failed;
	int rc;

	if (!dm->loaded) {
		rc = store_load(dm->x.ch, &dm->o, dm->x.calls, &loaded, &failed);
		if (rc < 0)
			return rc;
		dm->loaded = true;
		dm->x.streams = command_count_streams(&dm->x);
		log_info("store: loaded %u call(s) of node %s%s", loaded, dm->o.node,
			 failed > 0 ? " (some could not be restored, see above)" : "");
		if (dpsync_tick(dm->x.dp, mono_ms()) == 1)
			dpsync_reconcile(dm->x.dp, dm->x.calls, NULL, NULL, NULL);
		push_event(dm, "node-up");
		*resync = false;
	}
	rc = flush_outbox(dm, true);
	if (rc < 0)
		return rc;
	if (*resync) {
		rc = store_write_all(dm->x.ch, &dm->o, dm->x.calls);
		if (rc < 0)
			return rc;
		*resync = false;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon *dm = calloc(1, sizeof(*dm));
	char err[512], last[ENTRY_ID_MAX], pending_id[ENTRY_ID_MAX] = "0";
	uint64_t next_tick = 0, next_heartbeat = 0, next_trim = 0, now, read_ns;
	bool ready = false, pending = true, resync = false;
	unsigned generation = 0, replayed = 0;
	struct chan_readreq rq;
	struct ahead ahead;
	struct sigaction sa;
	redisReply *r;
	int rc;

	if (dm == NULL)
		return 1;
	if (options_parse(&dm->o, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "rtpanchor-control: %s\n", err);
		fprintf(stderr, "Try '%s --help'.\n", argv[0]);
		return 2;
	}
	if (dm->o.help) {
		options_usage(stdout, argv[0]);
		return 0;
	}
	if (dm->o.version) {
		printf("rtpanchor-control %s\n", RPA_VERSION);
		return 0;
	}
	log_set_level(dm->o.log_level);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (setup(dm) < 0) {
		teardown(dm);
		free(dm);
		return 1;
	}
	log_info("rtpanchor-control %s: node %s, %u interface(s), ports %u-%u, dataplane %s",
		 RPA_VERSION, dm->o.node, dm->o.nifaces, dm->o.port_min, dm->o.port_max,
		 dm->o.dp_socket);

	/* A batch is read, applied (the dataplane written) and its transaction sent; the
	 * next read is sent as soon as a batch arrives, on the other connection, so Redis
	 * works on it while this batch is applied. Replies of sent transactions are
	 * collected when they are there. On a signal, a read in flight is finished and its
	 * batch handled before stopping. */
	for (;;) {
		now = mono_ms();
		if (quit && !chan_read_pending(dm->x.ch))
			break;
		if (!chan_up(dm->x.ch)) {
			ready = false;
			if (quit)
				break;
			if (chan_connect(dm->x.ch, now) < 0) {
				if (now >= next_tick && dm->loaded) {
					tick(dm);
					next_tick = now + TICK_MS;
				}
				nap(dm->loaded && next_tick < chan_retry_at(dm->x.ch)
					? next_tick
					: chan_retry_at(dm->x.ch));
				continue;
			}
		}
		if (chan_generation(dm->x.ch) != generation) {
			/* A new connection: our pending entries come first again. */
			resync = generation != 0;
			generation = chan_generation(dm->x.ch);
			pending = true;
			snprintf(pending_id, sizeof(pending_id), "0");
			ready = false;
		}
		if (!ready) {
			if (on_connected(dm, &resync) < 0)
				continue;
			ready = true;
		}
		if (!quit &&
		    (now >= next_tick || now >= next_heartbeat || (now >= next_trim && !pending))) {
			if (collect_all(dm) < 0)
				continue;
			if (now >= next_tick) {
				tick(dm);
				next_tick = now + TICK_MS;
			}
			if (now >= next_heartbeat && chan_up(dm->x.ch)) {
				heartbeat(dm);
				next_heartbeat = now + HEARTBEAT_INTERVAL_MS;
			}
			if (now >= next_trim && chan_up(dm->x.ch) && !pending) {
				chan_trim(dm->x.ch);
				next_trim = now + TRIM_MS;
			}
			if (outbox_send(&dm->outbox, dm->x.ch) < 0)
				continue;
		}
		if (!chan_read_pending(dm->x.ch)) {
			if (outbox_send(&dm->outbox, dm->x.ch) < 0)
				continue;
			if (pending) {
				rq.id = pending_id;
				rq.count = COMMAND_BATCH_MAX;
				rq.block_ms = -1;
				rc = chan_read_start(dm->x.ch, &rq);
			} else {
				rc = read_new(dm, next_tick);
			}
			if (rc < 0)
				continue;
		}
		/* Transactions are confirmed as their replies come, while the read waits (the
		 * latency metric ends when Redis has answered). */
		while (chan_wait_commit(dm->x.ch))
			if (outbox_collect(&dm->outbox, dm->x.ch, false, committed, dm) < 0)
				break;
		rc = chan_read_finish(dm->x.ch, &r);
		if (rc < 0) {
			if (rc == -EPROTO)
				nap(mono_ms() + NAP_MAX_MS);
			continue;
		}
		read_ns = mono_ns();
		/* With redelivered entries, the stored replies are read on the command
		 * connection: it must be quiet. */
		if (pending && collect_all(dm) < 0) {
			chan_read_free(dm->x.ch, r);
			continue;
		}
		ahead.dm = dm;
		ahead.next_tick = next_tick;
		rc = command_batch(&dm->x, r, pending, read_ns, last, sizeof(last),
				   pending || quit ? NULL : read_ahead, &ahead);
		/* The batch's transaction goes out first (the replies wait for it); then the
		 * entries are freed and earlier transactions confirmed. */
		if (rc >= 0 && outbox_send(&dm->outbox, dm->x.ch) == 0)
			outbox_collect(&dm->outbox, dm->x.ch, false, committed, dm);
		chan_read_free(dm->x.ch, r);
		if (rc < 0)
			continue;
		if (pending) {
			if (rc == 0) {
				if (replayed > 0)
					log_info("finished %u pending command(s) of node %s",
						 replayed, dm->o.node);
				pending = false;
				replayed = 0;
			} else {
				replayed += (unsigned)rc;
				snprintf(pending_id, sizeof(pending_id), "%s", last);
			}
		}
	}

	log_info("signal %d: stopping", (int)quit);
	if (dm->loaded) {
		bool again = !chan_up(dm->x.ch);

		push_event(dm, "node-down");
		/* On a new connection, what was in flight may have been committed. */
		if (again)
			chan_connect(dm->x.ch, mono_ms());
		if (flush_outbox(dm, again) < 0 || outbox_len(&dm->outbox) > 0)
			log_warning("redis unavailable: %zu transaction(s) not committed at exit "
				    "(their commands stay pending and are answered after restart)",
				    outbox_len(&dm->outbox));
	}
	teardown(dm);
	free(dm);
	return 0;
}
