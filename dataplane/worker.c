/* HOT. The worker loop: where every RTP/RTCP packet is classified, matched to its stream,
 * checked against the stream's source rules and rewritten toward the peer. Runs on worker
 * lcores only: no syscalls, allocation, logging or locks here; anything unusual (ARP, a
 * source to latch, an unresolved next hop) goes to the main lcore through the slow ring. */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "classify.h"
#include "idle.h"
#include "neigh.h"
#include "rewrite.h"
#include "session.h"
#include "worker.h"

struct worker_shared worker_shared;

/* Where a burst came from decides what may still happen to its packets. */
enum origin {
	FROM_RX,      /* a NIC queue: may be handed off or punted */
	FROM_HANDOFF, /* another worker: we are the owner; may be punted */
	FROM_SLOW,    /* the slow path already dealt with it: forward or drop, never punt */
};

/* Per-burst scratch, on the stack. */
struct burst {
	unsigned nfree, npunt;
	struct rte_mbuf *free[WORKER_BURST];
	struct rte_mbuf *punt[WORKER_BURST];
};

static inline void count_drop(struct worker *w, struct burst *b, struct rte_mbuf *m,
			      enum dp_drop why)
{
	w->stats.drops[m->port][why]++;
	b->free[b->nfree++] = m;
}

static inline void punt(struct worker *w, struct burst *b, struct rte_mbuf *m)
{
	b->punt[b->npunt++] = m;
	w->stats.punted++;
}

/* A media packet to the slow path: its stream keeps the slow path until it comes back. */
static inline void punt_media(struct worker *w, struct burst *b, struct rte_mbuf *m,
			      struct stream_state *st, uint64_t now)
{
	st->inflight++;
	st->punted_at = now;
	punt(w, b, m);
}

static inline void stream_drop(const struct fwd_rule *r)
{
	struct stream_state *st = &session_state[r->slot];
	__atomic_store_n(&st->drops, st->drops + 1, __ATOMIC_RELAXED);
}

static void tx_flush(struct worker *w, uint16_t port)
{
	struct worker_txbuf *t = &w->txb[port];
	uint16_t sent = rte_eth_tx_burst(port, w->txq[port], t->pkts, t->n);

	w->stats.tx_pkts[port] += sent;
	for (uint16_t i = 0; i < sent; i++)
		w->stats.tx_bytes[port] += t->pkts[i]->pkt_len;
	if (unlikely(sent < t->n)) {
		w->stats.drops[port][DP_DROP_TX_FULL] += t->n - sent;
		rte_pktmbuf_free_bulk(&t->pkts[sent], t->n - sent);
	}
	t->n = 0;
}

static void handoff_flush(struct worker *w, uint16_t owner)
{
	struct worker_txbuf *h = &w->hob[owner];
	unsigned sent = rte_ring_enqueue_burst(worker_shared.w[owner]->handoff, (void **)h->pkts,
					       h->n, NULL);

	w->stats.handoff += sent;
	for (unsigned i = sent; i < h->n; i++) {
		w->stats.drops[h->pkts[i]->port][DP_DROP_HANDOFF_RING]++;
		rte_pktmbuf_free(h->pkts[i]);
	}
	h->n = 0;
}

/* One stream's treatment of one packet. */
static inline void forward(struct worker *w, struct burst *b, struct rte_mbuf *m,
			   const struct classify_out *co, const struct fwd_rule *r, uint64_t now,
			   enum origin origin)
{
	struct stream_state *st;
	struct rte_ether_addr mac;
	struct worker_txbuf *t;

	if (unlikely(r->owner != w->index) && origin == FROM_RX) {
		struct worker_txbuf *h = &w->hob[r->owner];
		h->pkts[h->n++] = m;
		if (h->n == WORKER_BURST)
			handoff_flush(w, r->owner);
		return;
	}
	st = &session_state[r->slot];
	if (origin == FROM_SLOW) {
		if (st->inflight > 0)
			st->inflight--;
	} else if (unlikely(st->inflight > 0)) {
		if (now - st->punted_at < worker_shared.inflight_reset_tsc) {
			punt_media(w, b, m, st, now); /* stay behind the earlier packets */
			return;
		}
		st->inflight = 0; /* a punted packet was lost (ring full): stop waiting */
	}
	if (unlikely(co->saddr != r->expect_v4 || rte_cpu_to_be_16(co->sport) != r->expect_port)) {
		if ((r->flags & RPA_DP_F_LATCH) && (!r->latched || now < r->latch_until)) {
			if (origin == FROM_SLOW)
				count_drop(w, b, m, DP_DROP_LATCH_RACE);
			else
				punt_media(w, b, m, st, now);
			return;
		}
		if (r->flags & RPA_DP_F_STRICT) {
			stream_drop(r);
			count_drop(w, b, m, DP_DROP_SRC_MISMATCH);
			return;
		}
	}
	if (unlikely(r->rw.daddr == 0)) {
		stream_drop(r);
		count_drop(w, b, m, DP_DROP_NO_PEER);
		return;
	}
	if (unlikely(!neigh_mac_get(r->neigh, &mac))) {
		if (origin == FROM_SLOW) {
			stream_drop(r);
			count_drop(w, b, m, DP_DROP_NEIGH);
		} else {
			punt_media(w, b, m, st, now);
		}
		return;
	}

	if (m->data_len > co->frame_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - co->frame_len));
	if (r->csum_offload)
		rewrite_ipv4_udp_offload(m, rte_pktmbuf_mtod(m, uint8_t *), &r->rw, &mac);
	else
		rewrite_ipv4_udp(rte_pktmbuf_mtod(m, uint8_t *), &r->rw, &mac);

	/* Single writer (this worker): plain read-modify-write published with relaxed stores. */
	__atomic_store_n(&st->packets, st->packets + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&st->bytes,
			 st->bytes + co->frame_len - RTE_ETHER_HDR_LEN -
				 sizeof(struct rte_ipv4_hdr) - sizeof(struct rte_udp_hdr),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&st->last_seen, now, __ATOMIC_RELAXED);

	t = &w->txb[r->egress];
	t->pkts[t->n++] = m;
	if (t->n == WORKER_BURST)
		tx_flush(w, r->egress);
}

static void process(struct worker *w, struct rte_mbuf **pkts, unsigned n, uint64_t now,
		    enum origin origin)
{
	struct classify_out co[WORKER_BURST];
	struct session_key keys[WORKER_BURST];
	const struct session_key *kp[WORKER_BURST];
	const struct fwd_rule *rules[WORKER_BURST];
	struct rte_mbuf *media[WORKER_BURST];
	struct burst b = {.nfree = 0, .npunt = 0};
	unsigned nm = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t port = m->port;
		int csum_good;

		if (origin == FROM_RX) {
			w->stats.rx_pkts[port]++;
			w->stats.rx_bytes[port] += m->pkt_len;
		}
		if (unlikely(m->nb_segs != 1)) {
			count_drop(w, &b, m, DP_DROP_MULTISEG);
			continue;
		}
		csum_good = worker_shared.rx_csum_ok[port] &&
			    (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
				    RTE_MBUF_F_RX_IP_CKSUM_GOOD;
		switch (classify_frame(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       &ifaddr_ports[port], csum_good, &co[nm])) {
		case CLASSIFY_MEDIA:
			keys[nm].addr_idx = co[nm].addr_idx;
			keys[nm].port = co[nm].dport;
			keys[nm].zero = 0;
			kp[nm] = &keys[nm];
			media[nm++] = m;
			break;
		case CLASSIFY_SLOW:
			if (origin == FROM_SLOW)
				count_drop(w, &b, m, DP_DROP_SLOW_OTHER);
			else
				punt(w, &b, m);
			break;
		default:
			count_drop(w, &b, m, co[nm].drop);
			break;
		}
	}

	if (nm > 0) {
		session_lookup_bulk(kp, nm, rules);
		for (unsigned i = 0; i < nm; i++)
			if (rules[i] != NULL)
				rte_prefetch0(&session_state[rules[i]->slot]);
		for (unsigned i = 0; i < nm; i++) {
			if (unlikely(rules[i] == NULL))
				count_drop(w, &b, media[i], DP_DROP_NO_STREAM);
			else
				forward(w, &b, media[i], &co[i], rules[i], now, origin);
		}
	}

	if (b.npunt > 0) {
		unsigned q = rte_ring_enqueue_burst(worker_shared.slow, (void **)b.punt, b.npunt,
						    NULL);
		for (unsigned i = q; i < b.npunt; i++)
			count_drop(w, &b, b.punt[i], DP_DROP_SLOW_RING);
	}
	if (b.nfree > 0)
		rte_pktmbuf_free_bulk(b.free, b.nfree);
}

unsigned worker_poll(struct worker *w)
{
	struct rte_mbuf *pkts[WORKER_BURST];
	uint64_t now = rte_rdtsc();
	unsigned total = 0, n;

	/* Packets back from the slow path first: they arrived before anything still in the
	 * rx queues, and a freshly latched stream must not overtake its first packets. */
	n = rte_ring_dequeue_burst(w->ret, (void **)pkts, WORKER_BURST, NULL);
	if (n > 0) {
		process(w, pkts, n, now, FROM_SLOW);
		total += n;
	}
	for (unsigned q = 0; q < w->nrxq; q++) {
		n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts, WORKER_BURST);
		if (n > 0) {
			process(w, pkts, n, now, FROM_RX);
			total += n;
		}
	}
	n = rte_ring_dequeue_burst(w->handoff, (void **)pkts, WORKER_BURST, NULL);
	if (n > 0) {
		process(w, pkts, n, now, FROM_HANDOFF);
		total += n;
	}
	n = rte_ring_dequeue_burst(w->txr, (void **)pkts, WORKER_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct worker_txbuf *t = &w->txb[pkts[i]->port];
		t->pkts[t->n++] = pkts[i];
		if (t->n == WORKER_BURST)
			tx_flush(w, pkts[i]->port);
	}
	total += n;
	if (total > 0) {
		for (uint16_t p = 0; p < RPA_DP_MAX_PORTS; p++)
			if (w->txb[p].n > 0)
				tx_flush(w, p);
		for (unsigned o = 0; o < worker_shared.nworkers; o++)
			if (w->hob[o].n > 0)
				handoff_flush(w, o);
	}
	rte_rcu_qsbr_quiescent(worker_shared.qsbr, w->index);
	return total;
}

int worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t t0 = rte_rdtsc(), t1;

	rte_rcu_qsbr_thread_register(worker_shared.qsbr, w->index);
	rte_rcu_qsbr_thread_online(worker_shared.qsbr, w->index);
	while (!__atomic_load_n(&worker_shared.stop, __ATOMIC_RELAXED)) {
		unsigned n = worker_poll(w);

		t1 = rte_rdtsc();
		if (n > 0) {
			w->stats.busy_cycles += t1 - t0;
			w->empty_polls = 0;
		} else {
			w->stats.idle_cycles += t1 - t0;
			if (worker_shared.idle_backoff &&
			    ++w->empty_polls >= worker_shared.idle_polls) {
				uint64_t t2;
				idle_pause(w);
				t2 = rte_rdtsc();
				w->stats.idle_cycles += t2 - t1;
				t1 = t2;
			}
		}
		t0 = t1;
	}
	rte_rcu_qsbr_thread_offline(worker_shared.qsbr, w->index);
	rte_rcu_qsbr_thread_unregister(worker_shared.qsbr, w->index);
	return 0;
}
