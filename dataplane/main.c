/* rtpanchor-dataplane: process lifecycle. Initialises EAL, ports, tables and workers, then
 * runs the main lcore's loop (slow path, control socket, timers) until SIGINT/SIGTERM, and
 * releases everything in reverse order. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_version.h>

#include "config.h"
#include "ctlmsg.h"
#include "ctlsock.h"
#include "ifaddr.h"
#include "neigh.h"
#include "ports.h"
#include "session.h"
#include "slowpath.h"
#include "srtp.h"
#include "stats.h"
#include "telemetry.h"
#include "worker.h"

#define TIMER_MS 10

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	quit = sig;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rtpanchor-dataplane: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --help and --version work without EAL (and without root). */
static void early_options(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			config_usage(stdout, argv[0]);
			exit(0);
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("rtpanchor-dataplane %s (DPDK %s)\n", RPA_VERSION, rte_version());
			exit(0);
		}
	}
}

static void setup_addresses(const struct dp_config *cfg)
{
	char b[RPA_ADDR_STRLEN];

	for (unsigned i = 0; i < cfg->naddrs; i++) {
		const struct config_addr *a = &cfg->addrs[i];
		int port = ports_resolve(a->dev), rc;

		if (port < 0)
			die("--addr %s: no DPDK port '%s' (check --vdev/-a in the EAL options)",
			    rpa_addr_format(&a->addr, b, sizeof(b)), a->dev);
		rc = ifaddr_add((uint16_t)port, &a->addr, a->prefix_len);
		if (rc < 0)
			die("--addr %s=%s/%u: %s", a->dev, rpa_addr_format(&a->addr, b, sizeof(b)),
			    a->prefix_len,
			    rc == -EEXIST   ? "address configured twice"
			    : rc == -ENOSPC ? "too many media addresses"
					    : "unusable address or port id above 7");
	}
	for (unsigned i = 0; i < cfg->ngateways; i++) {
		const struct config_addr *g = &cfg->gateways[i];
		int port = ports_resolve(g->dev);

		if (port < 0)
			die("--gateway: no DPDK port '%s'", g->dev);
		if (ifaddr_set_gateway((uint16_t)port, &g->addr) < 0)
			die("--gateway %s=%s: not inside a media prefix of that port", g->dev,
			    rpa_addr_format(&g->addr, b, sizeof(b)));
	}
}

static struct rte_rcu_qsbr *qsbr_create(unsigned n)
{
	size_t sz = rte_rcu_qsbr_get_memsize(n);
	struct rte_rcu_qsbr *v = rte_zmalloc("rpa_qsbr", sz, RTE_CACHE_LINE_SIZE);

	if (v == NULL || rte_rcu_qsbr_init(v, n) != 0)
		die("cannot create the RCU variable");
	return v;
}

/* The SRTP engine on its cryptodev and one engine worker per worker lcore. A cryptodev the
 * operator named must work; without one, a missing engine leaves SRTP passthrough only, and
 * streams that need crypto are refused with the reason. */
static void srtp_setup(const struct dp_config *cfg, struct session_config *scfg,
		       struct worker *workers, unsigned nworkers)
{
	struct srtp_engine_config ec = {
		.cryptodev = cfg->cryptodev[0] != '\0' ? cfg->cryptodev : NULL,
		.nworkers = nworkers,
		.max_contexts = session_srtp_contexts(scfg->srtp_streams),
		/* A cryptodev session (1857 bytes with crypto_aesni_mb) per context, and room for a
		 * quarter more: multiplexed streams need two, AEAD header lengths beyond the usual
		 * one more each. When they run out, the stream is refused with the reason. */
		.max_sessions = session_srtp_contexts(scfg->srtp_streams) +
				session_srtp_contexts(scfg->srtp_streams) / 4,
		.socket_id = (int)rte_socket_id(),
	};
	char err[sizeof(scfg->srtp_off_reason)];
	int rc;

	rc = srtp_engine_init(&ec, err, sizeof(err));
	if (rc < 0 && ec.cryptodev != NULL)
		die("--cryptodev %s: %s", ec.cryptodev, err);
	if (rc < 0) {
		RTE_LOG(WARNING, USER1,
			"no SRTP crypto engine: %s; only plain and SRTP passthrough streams\n", err);
		snprintf(scfg->srtp_off_reason, sizeof(scfg->srtp_off_reason), "%s", err);
		return;
	}
	for (unsigned i = 0; i < nworkers; i++) {
		workers[i].srtp =
		    srtp_worker_create(i, (int)rte_lcore_to_socket_id(workers[i].lcore));
		if (workers[i].srtp == NULL)
			die("SRTP: cannot set up worker %u on %s: %s", i, srtp_engine_device(),
			    strerror(errno));
	}
	scfg->srtp_engine = true;
	RTE_LOG(NOTICE, USER1,
		"SRTP on cryptodev %s, up to %u streams: %.1f MiB reserved, %zu bytes a stream "
		"(%u cryptodev sessions of %zu bytes; a stream takes one per SRTP side)\n",
		srtp_engine_device(), scfg->srtp_streams, srtp_engine_bytes() / 1048576.0,
		srtp_engine_bytes() / scfg->srtp_streams, ec.max_sessions,
		srtp_engine_session_bytes());
}

int main(int argc, char **argv)
{
	static struct worker workers[RPA_DP_MAX_WORKERS];
	struct dp_config cfg;
	struct session_config scfg;
	struct neigh_config ncfg;
	struct rte_mempool *mp;
	char err[256];
	unsigned nworkers, lcore, i;
	uint64_t next_timer, tick;
	int rc, eal;

	early_options(argc, argv);
	eal = rte_eal_init(argc, argv);
	if (eal < 0)
		die("EAL initialisation failed: %s", rte_strerror(rte_errno));
	argc -= eal;
	argv += eal;
	config_defaults(&cfg);
	if (config_parse(&cfg, argc, argv, err, sizeof(err)) < 0)
		die("%s (see --help)", err);
	if (cfg.naddrs == 0)
		die("no media address: give at least one --addr DEV=IP/PLEN");

	nworkers = rte_lcore_count() - 1;
	if (nworkers == 0)
		die("need at least 2 lcores (e.g. -l 0,1): the main lcore runs the slow path, "
		    "the others forward");
	if (nworkers > RPA_DP_MAX_WORKERS)
		die("%u worker lcores; at most %d are supported", nworkers, RPA_DP_MAX_WORKERS);

	stats_start_tsc = rte_get_tsc_cycles();
	if (getrandom(&ctlmsg_boot_id, sizeof(ctlmsg_boot_id), 0) != sizeof(ctlmsg_boot_id))
		ctlmsg_boot_id = rte_rdtsc();

	mp = rte_pktmbuf_pool_create("rpa_mbufs", cfg.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (mp == NULL)
		die("cannot create %u mbufs: %s (raise -m)", cfg.mbufs, rte_strerror(rte_errno));

	worker_shared.nworkers = nworkers;
	worker_shared.qsbr = qsbr_create(nworkers);
	worker_shared.idle_backoff = cfg.idle_backoff;
	worker_shared.idle_polls = cfg.idle_polls;
	worker_shared.idle_us = cfg.idle_sleep_us;
	worker_shared.inflight_reset_tsc = rte_get_tsc_hz() / 10;
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rc = worker_init(&workers[i], i, lcore, (int)rte_lcore_to_socket_id(lcore));
		if (rc < 0)
			die("worker %u: cannot create rings: %s", i, strerror(-rc));
		worker_shared.w[i] = &workers[i];
		i++;
	}

	setup_addresses(&cfg);
	for (uint16_t p = 0; p < RPA_DP_MAX_PORTS; p++) {
		if (!ifaddr_ports[p].used)
			continue;
		rc = ports_setup(p, nworkers, mp, cfg.rx_desc, cfg.tx_desc, err, sizeof(err));
		if (rc < 0)
			die("%s", err);
	}

	scfg = (struct session_config){
		.max_streams = cfg.max_streams,
		.nworkers = nworkers,
		.latch_window_ms = cfg.latch_window_ms,
		.srtp_replay_window = cfg.srtp_replay_window,
		.qsbr = worker_shared.qsbr,
		.socket_id = (int)rte_socket_id(),
	};
	scfg.srtp_streams = cfg.srtp_streams < cfg.max_streams ? cfg.srtp_streams : cfg.max_streams;
	if (scfg.srtp_streams > 0)
		srtp_setup(&cfg, &scfg, workers, nworkers);
	if (session_init(&scfg) < 0)
		die("cannot create the session table for %u streams", cfg.max_streams);
	ncfg = (struct neigh_config){
		.reachable_ms = cfg.arp_reachable_ms,
		.retrans_ms = cfg.arp_retrans_ms,
		.probes = cfg.arp_probes,
		.hold = cfg.arp_hold,
		.gc_ms = cfg.arp_gc_ms,
	};
	rc = slowpath_init(mp, &ncfg);
	if (rc < 0)
		die("cannot start the slow path: %s", strerror(-rc));
	if (ctlsock_open(cfg.socket_path, err, sizeof(err)) < 0)
		die("%s", err);
	if (telemetry_register() < 0)
		RTE_LOG(WARNING, USER1, "cannot register telemetry commands\n");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nworkers; i++)
		rte_eal_remote_launch(worker_main, &workers[i], workers[i].lcore);
	for (uint16_t p = 0; p < RPA_DP_MAX_PORTS; p++)
		if (worker_shared.port_used[p])
			neigh_announce(p);
	RTE_LOG(NOTICE, USER1, "rtpanchor-dataplane %s: %u worker(s), %u media address(es), "
		"control socket %s\n", RPA_VERSION, nworkers, ifaddr_count, cfg.socket_path);
	printf("rtpanchor-dataplane: ready, %u worker(s), socket %s\n", nworkers,
	       cfg.socket_path);
	fflush(stdout);

	tick = rte_get_tsc_hz() / 1000 * TIMER_MS;
	next_timer = rte_get_tsc_cycles() + tick;
	while (!quit) {
		uint64_t now = rte_get_tsc_cycles();
		unsigned busy = slowpath_poll(now);

		if (scfg.srtp_engine)
			busy += srtp_engine_service();

		if (now >= next_timer) {
			neigh_timer(now);
			session_reclaim();
			next_timer = now + tick;
		} else if (busy) {
			/* AES-GCM sessions the engine took out of their slots wait in a limbo of
			 * 64 for their grace period: under a flood of forged header lengths it
			 * must not stay full until the next tick. */
			session_reclaim();
		}
		/* Sleep in epoll only while the slow path is idle: punted packets wait <= 1 ms. */
		ctlsock_poll(busy ? 0 : 1);
	}

	RTE_LOG(NOTICE, USER1, "signal %d: stopping\n", (int)quit);
	__atomic_store_n(&worker_shared.stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	ctlsock_close();
	for (i = 0; i < nworkers; i++)
		worker_fini(&workers[i]);
	session_fini(); /* destroys the SRTP contexts: before the engine goes */
	for (i = 0; i < nworkers; i++)
		srtp_worker_destroy(workers[i].srtp);
	if (scfg.srtp_engine)
		srtp_engine_fini();
	slowpath_fini();
	ports_fini();
	rte_mempool_free(mp);
	rte_free(worker_shared.qsbr);
	rte_eal_cleanup();
	return 0;
}
