/* Unit-test helper: brings up EAL the way every test on these machines can (no PCI, no
 * hugepages, no shared config) and a dataplane core with two media addresses on ports 0
 * and 1, a session table, RCU and a neighbour table whose transmitted frames are captured.
 * fix_core_up allows FIX_SRTP_STREAMS streams with SRTP keys but has no SRTP engine
 * (passthrough only); fix_core_up_srtp also starts the engine (once per process, on the
 * crypto_aesni_mb vdev it creates) so that crypto treatments install. */
#ifndef TEST_EAL_FIXTURE_H
#define TEST_EAL_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "arp.h"
#include "ifaddr.h"
#include "neigh.h"
#include "session.h"
#include "slowpath.h"
#include "srtp.h"
#include "worker.h"

#define FIX_SRTP_STREAMS 64

#define FIX_TX_MAX 64

/* Frames the neighbour code transmitted (ARP), newest last. */
static struct rte_mbuf *fix_tx[FIX_TX_MAX];
static unsigned fix_ntx;
static unsigned fix_released, fix_dropped;
static struct rte_mempool *fix_mp;
static struct worker fix_worker;

static int fix_tx_fn(uint16_t port, struct rte_mbuf *m)
{
	m->port = port;
	if (fix_ntx == FIX_TX_MAX)
		return -1;
	fix_tx[fix_ntx++] = m;
	return 0;
}

static void fix_tx_clear(void)
{
	for (unsigned i = 0; i < fix_ntx; i++)
		rte_pktmbuf_free(fix_tx[i]);
	fix_ntx = 0;
}

static void fix_release(struct rte_mbuf *m)
{
	fix_released++;
	rte_pktmbuf_free(m);
}

static void fix_drop(struct rte_mbuf *m)
{
	fix_dropped++;
	rte_pktmbuf_free(m);
}

static void fix_eal(void)
{
	static int done;
	char *argv[] = {"test", "-l", "0,1", "--no-pci", "--no-huge", "-m", "512",
			"--no-shconf", "--log-level", "error", NULL};

	if (done)
		return;
	if (rte_eal_init(10, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		exit(1);
	}
	fix_mp = rte_pktmbuf_pool_create("fix_mp", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (fix_mp == NULL)
		exit(1);
	done = 1;
}

/* The engine for SRTP_STREAMS streams, started at most once; 0 or exits. */
static inline void fix_srtp_engine(void)
{
	static int done;
	struct srtp_engine_config ec = {.nworkers = 1,
					.max_contexts = session_srtp_contexts(FIX_SRTP_STREAMS),
					.max_sessions =
					    2 * session_srtp_contexts(FIX_SRTP_STREAMS)};
	char err[256];

	if (done)
		return;
	if (srtp_engine_init(&ec, err, sizeof(err)) < 0) {
		fprintf(stderr, "SRTP engine init failed: %s\n", err);
		exit(1);
	}
	done = 1;
}

static void fix_core_up_cfg(uint32_t max_streams, uint32_t latch_window_ms, bool engine);

static void fix_core_up(uint32_t max_streams, uint32_t latch_window_ms)
{
	fix_core_up_cfg(max_streams, latch_window_ms, false);
}

static inline void fix_core_up_srtp(uint32_t max_streams, uint32_t latch_window_ms)
{
	fix_eal();
	fix_srtp_engine();
	fix_core_up_cfg(max_streams, latch_window_ms, true);
}

/* Media addresses: 192.0.2.1/24 on port 0, 198.51.100.1/24 on port 1 (gateway .254). */
static void fix_core_up_cfg(uint32_t max_streams, uint32_t latch_window_ms, bool engine)
{
	struct rpa_addr a;
	struct rte_ether_addr mac0 = {{0x02, 0, 0, 0, 0, 0x10}}, mac1 = {{0x02, 0, 0, 0, 0, 0x11}};
	struct neigh_config nc = {.reachable_ms = 30000, .retrans_ms = 100, .probes = 3,
				  .hold = 4, .gc_ms = 1000};
	struct session_config sc = {.max_streams = max_streams,
				    .nworkers = 1,
				    .latch_window_ms = latch_window_ms,
				    .srtp_streams = FIX_SRTP_STREAMS,
				    .srtp_engine = engine,
				    .srtp_off_reason = "not started by this test"};
	size_t sz = rte_rcu_qsbr_get_memsize(1);

	fix_eal();
	ifaddr_reset();
	rpa_addr_parse("192.0.2.1", &a);
	ifaddr_add(0, &a, 24);
	rpa_addr_parse("198.51.100.1", &a);
	ifaddr_add(1, &a, 24);
	rpa_addr_parse("198.51.100.254", &a);
	ifaddr_set_gateway(1, &a);
	ifaddr_set_mac(0, &mac0);
	ifaddr_set_mac(1, &mac1);
	memset(&worker_shared, 0, sizeof(worker_shared));
	worker_shared.nworkers = 1;
	worker_shared.qsbr = rte_zmalloc("fix_qsbr", sz, RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(worker_shared.qsbr, 1);
	worker_shared.w[0] = &fix_worker;
	sc.qsbr = worker_shared.qsbr;
	if (neigh_init(&nc, fix_mp, fix_tx_fn, fix_release, fix_drop) < 0 ||
	    session_init(&sc) < 0) {
		fprintf(stderr, "core init failed\n");
		exit(1);
	}
	fix_ntx = fix_released = fix_dropped = 0;
}

static void fix_core_down(void)
{
	session_fini();
	neigh_fini();
	fix_tx_clear();
	rte_free(worker_shared.qsbr);
	worker_shared.qsbr = NULL;
}

static inline struct rpa_endpoint fix_ep(const char *s)
{
	struct rpa_endpoint e;

	if (rpa_endpoint_parse(s, &e) < 0) {
		fprintf(stderr, "bad endpoint %s\n", s);
		exit(1);
	}
	return e;
}

#endif
