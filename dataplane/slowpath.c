/* Slow path on the main lcore: ARP in, latching, holding packets for unresolved next hops,
 * and handing frames back to workers. See slowpath.h. */
#include <errno.h>

#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_ring.h>

#include "arp.h"
#include "classify.h"
#include "neigh.h"
#include "session.h"
#include "slowpath.h"
#include "srtp.h"
#include "worker.h"

#define SLOW_RING_SIZE 8192
#define SLOW_BURST     64

struct worker_stats slowpath_stats;

static void drop(struct rte_mbuf *m, enum dp_drop why)
{
	slowpath_stats.drops[m->port][why]++;
	rte_pktmbuf_free(m);
}

/* Back to the owning worker, which forwards it with the current rule (never punts again). */
static void release(struct rte_mbuf *m)
{
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(
		m, const struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr));
	uint16_t owner = worker_owner_of(rte_be_to_cpu_16(udp->dst_port), worker_shared.nworkers);

	/* The return ring is as large as the slow ring; if held packets still overflow it,
	 * the worker's in-flight count times out (stream_state.inflight). */
	if (rte_ring_enqueue(worker_shared.w[owner]->ret, m) != 0)
		drop(m, DP_DROP_SLOW_RING);
}

/* A held packet whose next hop failed, or that found the hold queue full, still goes back
 * to its owner: the worker counts the drop and closes the stream's in-flight count. */
static void held_drop(struct rte_mbuf *m)
{
	release(m);
}

int slowpath_tx(uint16_t port, struct rte_mbuf *m)
{
	m->port = port;
	return rte_ring_enqueue(worker_shared.w[0]->txr, m) == 0 ? 0 : -ENOBUFS;
}

int slowpath_init(struct rte_mempool *mp, const struct neigh_config *ncfg)
{
	int rc;

	worker_shared.slow =
		rte_ring_create("rpa_slow", SLOW_RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (worker_shared.slow == NULL)
		return -ENOMEM;
	rc = neigh_init(ncfg, mp, slowpath_tx, release, held_drop);
	if (rc < 0) {
		rte_ring_free(worker_shared.slow);
		worker_shared.slow = NULL;
	}
	return rc;
}

void slowpath_fini(void)
{
	void *m;

	if (worker_shared.slow != NULL) {
		while (rte_ring_dequeue(worker_shared.slow, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(worker_shared.slow);
		worker_shared.slow = NULL;
	}
	neigh_fini();
}

static void media(struct rte_mbuf *m, const struct classify_out *co, uint64_t now)
{
	struct session_key key = {.addr_idx = co->addr_idx, .port = co->dport};
	const struct fwd_rule *r;
	struct rte_ether_addr mac;

	if (rte_hash_lookup_data(session_table, &key, (void **)&r) < 0) {
		drop(m, DP_DROP_NO_STREAM); /* deleted since the worker looked */
		return;
	}
	/* A stream that arrives as SRTP latches only to a packet that authenticated (the
	 * worker unprotected it before punting it: worker.c latch_after_auth). One that did
	 * not goes back as it is and the worker authenticates it first. */
	if ((co->saddr != r->expect_v4 || rte_cpu_to_be_16(co->sport) != r->expect_port) &&
	    ((r->treat != FWD_UNPROTECT && r->treat != FWD_REKEY) ||
	     srtp_mark_authenticated(*srtp_mark(m)))) {
		if (session_latch(&key, co->saddr, rte_cpu_to_be_16(co->sport), now) > 0 &&
		    rte_hash_lookup_data(session_table, &key, (void **)&r) < 0) {
			drop(m, DP_DROP_NO_STREAM);
			return;
		}
	}
	if (r->neigh != SESSION_NEIGH_NONE && !neigh_mac_get(r->neigh, &mac)) {
		neigh_hold(r->neigh, m);
		return;
	}
	release(m);
}

unsigned slowpath_poll(uint64_t now)
{
	struct rte_mbuf *pkts[SLOW_BURST];
	unsigned n = rte_ring_dequeue_burst(worker_shared.slow, (void **)pkts, SLOW_BURST, NULL);

	/* Packets a worker punted with SRTP_PENDING go back once the engine has the cryptodev
	 * session they wait for: the request was made before the punt. */
	if (n > 0 && worker_shared.w[0] != NULL && worker_shared.w[0]->srtp != NULL)
		srtp_engine_service();

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct classify_out co;
		struct arp_info arp;

		switch (classify_frame(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       &ifaddr_ports[m->port], 0, &co)) {
		case CLASSIFY_SLOW:
			if (arp_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &arp) == 0)
				neigh_input(m->port, &arp);
			else
				slowpath_stats.drops[m->port][DP_DROP_SLOW_OTHER]++;
			rte_pktmbuf_free(m);
			break;
		case CLASSIFY_MEDIA:
			media(m, &co, now);
			break;
		default:
			drop(m, co.drop);
			break;
		}
	}
	return n;
}
