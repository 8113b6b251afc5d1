/* HOT. The worker loop: where every RTP/RTCP packet is classified, matched to its stream,
 * checked against the stream's source rules, unprotected/protected when its stream has SRTP
 * keys, and rewritten toward the peer. Runs on worker lcores only: no syscalls, allocation,
 * logging or locks here; anything unusual (ARP, a source to latch, an unresolved next hop)
 * goes to the main lcore through the slow ring. */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "classify.h"
#include "idle.h"
#include "ifaddr.h"
#include "neigh.h"
#include "rewrite.h"
#include "session.h"
#include "srtp.h"
#include "worker.h"

struct worker_shared worker_shared;

/* Where a burst came from decides what may still happen to its packets. */
enum origin {
	FROM_RX,      /* a NIC queue: may be handed off or punted */
	FROM_HANDOFF, /* another worker: we are the owner; may be punted */
	FROM_SLOW,    /* the slow path already dealt with it: forward or drop, never punt
		       * (but once for SRTP_PENDING, see crypto_refused) */
};

/* A packet of a crypto rule (treat != FWD_PLAIN) that passed the stream's checks, waiting
 * for the burst's SRTP batch (crypto_run). m is NULL once dropped. */
struct crypto_item {
	struct rte_mbuf *m;
	const struct fwd_rule *r;
	struct rte_ether_addr mac; /* next hop, resolved before the batch */
	uint16_t payload;          /* UDP payload bytes as received (stream byte counter) */
	uint8_t rtcp;              /* (S)RTCP rather than (S)RTP */
	uint8_t mark;              /* enum worker_srtp_mark: how far SRTP has got */
	uint8_t punt;              /* SRTP_PENDING: to the slow path, in order; the step's
				    * SRTP_MARK_PENDED_* flag */
	uint8_t latch;             /* from a new source inside the latch window: once it has
				    * authenticated it goes to the slow path to latch there */
};

/* One burst on its way through the three stages of the loop. Stage one (stage_in)
 * classifies, hands packets of other workers' streams over and prefetches the port index
 * entries of the rest; stage two (stage_mid) reads the entries and prefetches the rule
 * lines; stage three (stage_out) applies the rules. With many streams each of the two
 * prefetches is a cache miss per packet: worker_poll runs a burst's stages one push apart
 * (struct pipe), so the misses of one burst resolve while the others are worked on.
 * Stage three runs in arrival order, so no stream is reordered. On the stack. */
struct stage {
	enum origin origin;
	unsigned nm, nfree, npunt, ncx;
	struct rte_mbuf *media[WORKER_BURST];
	const uint32_t *ent[WORKER_BURST];
	const struct fwd_rule *rules[WORKER_BURST];
	struct classify_out co[WORKER_BURST];
	struct rte_mbuf *free[WORKER_BURST];
	struct rte_mbuf *punt[WORKER_BURST];
	struct crypto_item cx[WORKER_BURST];
};

#define HDRS_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))

struct pipe {
	struct stage st[3];
	struct stage *mid; /* stage one done */
	struct stage *out; /* stages one and two done */
	unsigned next;     /* which of st[] stage one fills next */
};

static inline void count_drop(struct worker *w, struct stage *s, struct rte_mbuf *m,
			      enum dp_drop why)
{
	w->stats.drops[m->port][why]++;
	s->free[s->nfree++] = m;
}

static inline void punt(struct worker *w, struct stage *s, struct rte_mbuf *m)
{
	s->punt[s->npunt++] = m;
	w->stats.punted++;
}

/* A media packet to the slow path: its stream keeps the slow path until it comes back. */
static inline void punt_media(struct worker *w, struct stage *s, struct rte_mbuf *m,
			      const struct fwd_rule *r, uint64_t now)
{
	struct stream_order *o = &session_order[r->slot];

	if (o->epoch != w->epoch) {
		o->epoch = w->epoch;
		o->inflight = 0;
		o->ahead = 0;
	}
	o->inflight++;
	o->punted_at = now;
	/* Whatever a recycled mbuf carried: this packet's SRTP is all still to do (crypto_finish
	 * says otherwise after this). Read only when the packet comes back. */
	*srtp_mark(m) = SRTP_MARK_NONE;
	w->inflight++;
	w->last_punt = now;
	punt(w, s, m);
}

/* Only while this worker has punted packets out (w->inflight > 0). Keeps w->inflight >= the
 * sum of its streams' counts of the current epoch, so that 0 means none has any. Returns
 * true when the packet was punted to stay behind earlier packets of its stream. */
static inline bool order_hold(struct worker *w, struct stage *s, struct rte_mbuf *m,
			      const struct fwd_rule *r, uint64_t now)
{
	struct stream_order *o;

	if (now - w->last_punt >= worker_shared.inflight_reset_tsc) {
		/* Nothing punted for that long: whatever is still out was lost (ring full). */
		w->stats.order_timeouts++;
		w->inflight = 0;
		w->epoch++;
		return false;
	}
	o = &session_order[r->slot];
	if (o->inflight == 0)
		return false;
	if (o->epoch != w->epoch) {
		o->inflight = 0;
		o->ahead = 0;
		return false;
	}
	if (s->origin == FROM_SLOW) {
		uint8_t mark;

		o->inflight--;
		w->inflight--;
		if (o->ahead == 0 || r->treat == FWD_PLAIN)
			return false;
		mark = *srtp_mark(m);
		if (mark & SRTP_MARK_AHEAD) {
			o->ahead--; /* one of those that went out again: its turn */
			return false;
		}
		/* An earlier packet of the stream went out again on its way back (its SRTP
		 * waited for a session): stay behind it, keeping how far SRTP got. */
		punt_media(w, s, m, r, now);
		*srtp_mark(m) = mark | SRTP_MARK_AHEAD;
		o->ahead++;
		return true;
	}
	if (now - o->punted_at < worker_shared.inflight_reset_tsc) {
		punt_media(w, s, m, r, now); /* stay behind the earlier packets */
		return true;
	}
	o->inflight = 0; /* a punted packet was lost (ring full): stop waiting */
	o->ahead = 0;
	w->stats.order_timeouts++;
	return false;
}

static inline void stream_drop(const struct fwd_rule *r)
{
	struct stream_counters *c = session_rule_ctr(r);
	__atomic_store_n(&c->drops, c->drops + 1, __ATOMIC_RELAXED);
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

static inline void handoff(struct worker *w, uint16_t owner, struct rte_mbuf *m)
{
	struct worker_txbuf *h = &w->hob[owner];

	h->pkts[h->n++] = m;
	if (h->n == WORKER_BURST)
		handoff_flush(w, owner);
}

/* RTCP or RTP: by the stream's flags, and with RFC 5761 multiplexing by the packet type in
 * the second byte (RTCP 192..223 = what RTP would read as marker + payload type 64..95). */
static inline uint8_t is_rtcp(const struct fwd_rule *r, const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, HDRS_LEN);

	if (r->flags & RPA_DP_F_RTCP)
		return 1;
	return (r->flags & RPA_DP_F_MUX) && m->data_len >= HDRS_LEN + 2 && p[1] >= 192 &&
	       p[1] <= 223;
}

/* Queue a packet for the burst's SRTP batch (its rule's SRTP half was prefetched by
 * stage_mid; the engine prefetches its own objects for the whole batch, and prefetching
 * them here as well measured slower). A packet back from the slow path carries how far
 * SRTP got before (crypto_run). */
static inline void crypto_defer(struct stage *s, struct rte_mbuf *m, const struct fwd_rule *r,
				const struct rte_ether_addr *mac, uint16_t payload)
{
	struct crypto_item *c = &s->cx[s->ncx++];

	c->m = m;
	c->r = r;
	c->mac = *mac;
	c->payload = payload;
	c->rtcp = is_rtcp(r, m);
	c->mark = s->origin == FROM_SLOW ? *srtp_mark(m) : SRTP_MARK_NONE;
	if (unlikely((c->mark & SRTP_MARK_PAYLOAD) > SRTP_MARK_PROTECTED ||
		     (c->mark & ~(SRTP_MARK_PAYLOAD | SRTP_MARK_PENDED | SRTP_MARK_AHEAD)) != 0))
		c->mark = SRTP_MARK_NONE;
	c->punt = 0;
	c->latch = 0;
}

/* A packet from a source other than the expected one, inside the latch window, on a
 * stream that arrives as SRTP: it is unprotected first, and only if it authenticates does
 * it go to the slow path to latch the stream (crypto_finish); a forged one is dropped and
 * counted (srtp-auth) and moves nothing. It never leaves from here, so no next hop is
 * needed yet. */
static inline void latch_after_auth(struct stage *s, struct rte_mbuf *m,
				    const struct classify_out *co, const struct fwd_rule *r)
{
	static const struct rte_ether_addr no_mac;

	if (m->data_len > co->frame_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - co->frame_len));
	crypto_defer(s, m, r, &no_mac, (uint16_t)(co->frame_len - HDRS_LEN));
	s->cx[s->ncx - 1].latch = 1;
}

/* The stream's rule unprotects what arrives (SRTP in). */
static inline bool rx_keyed(const struct fwd_rule *r)
{
	return r->treat == FWD_UNPROTECT || r->treat == FWD_REKEY;
}

/* One stream's treatment of one packet: we are the stream's owner. */
static inline void forward(struct worker *w, struct stage *s, struct rte_mbuf *m,
			   const struct classify_out *co, const struct fwd_rule *r, uint64_t now)
{
	struct stream_counters *c;
	struct rte_ether_addr mac;
	struct worker_txbuf *t;

	if (unlikely(w->inflight > 0) && order_hold(w, s, m, r, now))
		return;
	if (unlikely(co->saddr != r->expect_v4 || rte_cpu_to_be_16(co->sport) != r->expect_port)) {
		if ((r->flags & RPA_DP_F_LATCH) &&
		    (!r->latched || now < session_rule_cold(r)->latch_until)) {
			/* Back from the slow path without having authenticated (it was held
			 * behind a punted packet, or waited for an AEAD session): it may still
			 * try; one that did and is still not the source lost a race. */
			if (rx_keyed(r) && (s->origin != FROM_SLOW ||
					    !srtp_mark_authenticated(*srtp_mark(m))))
				latch_after_auth(s, m, co, r);
			else if (s->origin == FROM_SLOW)
				count_drop(w, s, m, DP_DROP_LATCH_RACE);
			else
				punt_media(w, s, m, r, now);
			return;
		}
		if (r->flags & RPA_DP_F_STRICT) {
			stream_drop(r);
			count_drop(w, s, m, DP_DROP_SRC_MISMATCH);
			return;
		}
	}
	if (unlikely(r->rw.daddr == 0)) {
		stream_drop(r);
		count_drop(w, s, m, DP_DROP_NO_PEER);
		return;
	}
	if (unlikely(!neigh_mac_get(r->neigh, &mac))) {
		if (s->origin == FROM_SLOW) {
			stream_drop(r);
			count_drop(w, s, m, DP_DROP_NEIGH);
		} else {
			punt_media(w, s, m, r, now);
		}
		return;
	}

	if (m->data_len > co->frame_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - co->frame_len));
	if (unlikely(r->treat != FWD_PLAIN)) {
		crypto_defer(s, m, r, &mac, (uint16_t)(co->frame_len - HDRS_LEN));
		return;
	}
	if (worker_shared.tx_csum_ok[r->egress])
		rewrite_ipv4_udp_offload(m, rte_pktmbuf_mtod(m, uint8_t *), &r->rw,
					 &ifaddr_ports[r->egress].mac, &mac);
	else
		rewrite_ipv4_udp(rte_pktmbuf_mtod(m, uint8_t *), &r->rw,
				 &ifaddr_ports[r->egress].mac, &mac);

	/* Single writer (this worker): plain read-modify-write published with relaxed stores. */
	c = session_rule_ctr(r);
	__atomic_store_n(&c->packets, c->packets + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes,
			 c->bytes + co->frame_len - RTE_ETHER_HDR_LEN -
				 sizeof(struct rte_ipv4_hdr) - sizeof(struct rte_udp_hdr),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&c->last_seen, now, __ATOMIC_RELAXED);

	t = &w->txb[r->egress];
	t->pkts[t->n++] = m;
	if (t->n == WORKER_BURST)
		tx_flush(w, r->egress);
}

/* Drop reason and per-stream counter of each engine verdict. */
static const uint8_t verdict_drop[SRTP_VERDICT_MAX] = {
	[SRTP_AUTH_FAIL] = DP_DROP_SRTP_AUTH,	  [SRTP_REPLAY] = DP_DROP_SRTP_REPLAY,
	[SRTP_TOO_OLD] = DP_DROP_SRTP_REPLAY,	  [SRTP_MALFORMED] = DP_DROP_SRTP_MALFORMED,
	[SRTP_BAD_MKI] = DP_DROP_SRTP_MKI,	  [SRTP_NO_ROOM] = DP_DROP_SRTP_NO_ROOM,
	[SRTP_LIMIT] = DP_DROP_SRTP_LIMIT,	  [SRTP_CRYPTO_ERR] = DP_DROP_SRTP_CRYPTO,
	[SRTP_PENDING] = DP_DROP_SRTP_PENDING,
};

static void crypto_drop(struct worker *w, struct stage *s, struct crypto_item *c, unsigned v)
{
	struct stream_srtp_counters *sc = session_rule_srtp_ctr(c->r);
	enum dp_drop why = v < SRTP_VERDICT_MAX && v != SRTP_OK ? (enum dp_drop)verdict_drop[v]
								 : DP_DROP_SRTP_CRYPTO;
	uint64_t *ctr = why == DP_DROP_SRTP_AUTH     ? &sc->auth_fail
			: why == DP_DROP_SRTP_REPLAY ? &sc->replay
						     : &sc->other;

	__atomic_store_n(ctr, *ctr + 1, __ATOMIC_RELAXED);
	stream_drop(c->r);
	count_drop(w, s, c->m, why);
	c->m = NULL;
}

/* The IP and UDP lengths of a packet whose SRTP transform changed its length. */
static inline void crypto_set_lengths(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	ip->total_length = rte_cpu_to_be_16((uint16_t)(m->data_len - RTE_ETHER_HDR_LEN));
	udp->dgram_len =
	    rte_cpu_to_be_16((uint16_t)(m->data_len - RTE_ETHER_HDR_LEN - sizeof(*ip)));
}

/* A packet SRTP has changed leaves like a plain one, with its new lengths and checksums. */
static inline void crypto_send(struct worker *w, const struct crypto_item *c, uint64_t now)
{
	struct rte_mbuf *m = c->m;
	const struct fwd_rule *r = c->r;
	uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);
	struct stream_counters *ctr;
	struct worker_txbuf *t;

	crypto_set_lengths(m);
	if (worker_shared.tx_csum_ok[r->egress])
		rewrite_ipv4_udp_offload(m, eth, &r->rw, &ifaddr_ports[r->egress].mac, &c->mac);
	else
		rewrite_ipv4_udp_full(eth, &r->rw, &ifaddr_ports[r->egress].mac, &c->mac);

	ctr = session_rule_ctr(r);
	__atomic_store_n(&ctr->packets, ctr->packets + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ctr->bytes, ctr->bytes + c->payload, __ATOMIC_RELAXED);
	__atomic_store_n(&ctr->last_seen, now, __ATOMIC_RELAXED);

	t = &w->txb[r->egress];
	t->pkts[t->n++] = m;
	if (t->n == WORKER_BURST)
		tx_flush(w, r->egress);
}

/* A packet the engine refused. SRTP_PENDING (an AEAD header length the context has no
 * cryptodev session for yet; the packet is as it was before this step) sends the packet to
 * the slow path, which builds the session (srtp_engine_service) and hands it back; marked
 * with how far it got, it resumes there. A packet goes round for this once per step
 * (`pended`: SRTP_MARK_PENDED_RX or _TX): one that came back through the slow path for
 * another reason (held behind a punted packet of its stream) may still need it, the
 * request for its session being made only now. */
static void crypto_refused(struct worker *w, struct stage *s, struct crypto_item *c,
			   unsigned v, uint8_t pended)
{
	if (v == SRTP_PENDING && !(c->mark & pended))
		c->punt = pended;
	else
		crypto_drop(w, s, c, v);
}

/* Punted packets leave for the slow path in stream order, and the packets of their streams
 * that follow them in this batch go the same way (already transformed, marked so), as
 * later packets do in later bursts (order_hold). */
static void crypto_finish(struct worker *w, struct stage *s, uint64_t now)
{
	const struct fwd_rule *held[WORKER_BURST];
	unsigned nheld = 0;

	for (unsigned i = 0; i < s->ncx; i++) {
		struct crypto_item *c = &s->cx[i];
		bool hold = c->punt || c->latch;

		if (c->m == NULL)
			continue;
		for (unsigned k = 0; !hold && k < nheld; k++)
			hold = held[k] == c->r;
		if (!hold) {
			crypto_send(w, c, now);
			continue;
		}
		if (c->punt || c->latch) {
			held[nheld++] = c->r;
			c->mark |= c->punt;
		}
		if ((c->mark & SRTP_MARK_PAYLOAD) != SRTP_MARK_NONE) {
			/* Transformed: a valid frame again for the slow path and the return. */
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
			    c->m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

			crypto_set_lengths(c->m);
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		punt_media(w, s, c->m, c->r, now);
		if (s->origin == FROM_SLOW) {
			/* Out again on its way back: later packets coming back wait for it. */
			c->mark |= SRTP_MARK_AHEAD;
			session_order[c->r->slot].ahead++;
		}
		*srtp_mark(c->m) = c->mark;
	}
}

/* The SRTP work of a burst, in two engine batches: unprotect everything that arrived as
 * SRTP (unprotect and re-key rules), then protect everything that leaves as SRTP and is
 * plaintext by then (protect rules, and re-keyed packets that passed). Packets of one
 * stream keep their order. */
static void crypto_run(struct worker *w, struct stage *s, uint64_t now)
{
	struct srtp_pkt sp[WORKER_BURST];
	uint8_t at[WORKER_BURST];
	unsigned n = 0;
	bool punts = false;

	for (unsigned i = 0; i < s->ncx; i++) {
		const struct crypto_item *c = &s->cx[i];
		const struct fwd_rule_srtp *fs;

		if (c->r->treat == FWD_PROTECT || (c->mark & SRTP_MARK_PAYLOAD) != SRTP_MARK_NONE)
			continue;
		fs = session_rule_srtp(c->r);
		sp[n] = (struct srtp_pkt){.m = c->m,
					  .ctx = fs->rx,
					  .st = fs->rx_st,
					  .off = HDRS_LEN,
					  .len = (uint16_t)(c->m->data_len - HDRS_LEN),
					  .rtcp = c->rtcp};
		at[n++] = (uint8_t)i;
	}
	if (n > 0 && srtp_unprotect_burst(w->srtp, sp, n) != n) {
		for (unsigned k = 0; k < n; k++)
			if (sp[k].verdict != SRTP_OK)
				crypto_refused(w, s, &s->cx[at[k]], sp[k].verdict,
					       SRTP_MARK_PENDED_RX);
	}
	for (unsigned k = 0; k < n; k++) {
		struct crypto_item *c = &s->cx[at[k]];

		if (sp[k].verdict == SRTP_OK)
			c->mark = (uint8_t)((c->mark & SRTP_MARK_PENDED) | SRTP_MARK_PLAIN);
		/* A latch candidate that authenticated goes to the slow path to latch. */
		punts |= c->punt | (c->m != NULL ? c->latch : 0);
	}

	n = 0;
	for (unsigned i = 0; i < s->ncx; i++) {
		const struct crypto_item *c = &s->cx[i];
		const struct fwd_rule_srtp *fs;

		/* Plaintext by now: received plain (protect rule) or unprotected. */
		if (c->m == NULL || c->punt || c->latch || c->r->treat == FWD_UNPROTECT ||
		    (c->mark & SRTP_MARK_PAYLOAD) == SRTP_MARK_PROTECTED ||
		    ((c->mark & SRTP_MARK_PAYLOAD) == SRTP_MARK_NONE && c->r->treat != FWD_PROTECT))
			continue;
		fs = session_rule_srtp(c->r);
		sp[n] = (struct srtp_pkt){.m = c->m,
					  .ctx = fs->tx,
					  .st = fs->tx_st,
					  .off = HDRS_LEN,
					  .len = (uint16_t)(c->m->data_len - HDRS_LEN),
					  .rtcp = c->rtcp};
		at[n++] = (uint8_t)i;
	}
	if (n > 0 && srtp_protect_burst(w->srtp, sp, n) != n) {
		for (unsigned k = 0; k < n; k++)
			if (sp[k].verdict != SRTP_OK)
				crypto_refused(w, s, &s->cx[at[k]], sp[k].verdict,
					       SRTP_MARK_PENDED_TX);
	}
	for (unsigned k = 0; k < n; k++) {
		struct crypto_item *c = &s->cx[at[k]];

		if (sp[k].verdict == SRTP_OK)
			c->mark = (uint8_t)((c->mark & SRTP_MARK_PENDED) | SRTP_MARK_PROTECTED);
		punts |= c->punt;
	}

	if (unlikely(punts)) {
		crypto_finish(w, s, now);
	} else {
		for (unsigned i = 0; i < s->ncx; i++)
			if (s->cx[i].m != NULL)
				crypto_send(w, &s->cx[i], now);
	}
	s->ncx = 0;
}

/* Stage one: classify; packets of streams another worker owns go to it before any lookup
 * (the port decides the owner, see worker_owner_of); prefetch the index entries of the
 * rest. */
static void stage_in(struct worker *w, struct stage *s, struct rte_mbuf **pkts, unsigned n,
		     enum origin origin)
{
	unsigned nworkers = worker_shared.nworkers;
	unsigned nm = 0;

	s->origin = origin;
	s->nfree = s->npunt = s->ncx = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t port = m->port;
		int csum_good;

		if (origin == FROM_RX) {
			w->stats.rx_pkts[port]++;
			w->stats.rx_bytes[port] += m->pkt_len;
		}
		if (unlikely(m->nb_segs != 1)) {
			count_drop(w, s, m, DP_DROP_MULTISEG);
			continue;
		}
		csum_good = worker_shared.rx_csum_ok[port] &&
			    (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
				    RTE_MBUF_F_RX_IP_CKSUM_GOOD;
		switch (classify_frame(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       &ifaddr_ports[port], csum_good, &s->co[nm])) {
		case CLASSIFY_MEDIA:
			if (origin == FROM_RX && nworkers > 1) {
				uint16_t owner = worker_owner_of(s->co[nm].dport, nworkers);
				if (owner != w->index) {
					handoff(w, owner, m);
					break;
				}
			}
			s->ent[nm] = session_port_entry(s->co[nm].addr_idx, s->co[nm].dport);
			rte_prefetch0(s->ent[nm]);
			s->media[nm++] = m;
			break;
		case CLASSIFY_SLOW:
			if (origin == FROM_SLOW)
				count_drop(w, s, m, DP_DROP_SLOW_OTHER);
			else
				punt(w, s, m);
			break;
		default:
			count_drop(w, s, m, s->co[nm].drop);
			break;
		}
	}
	s->nm = nm;
}

/* Stage two: the rules, whose lines stage three reads and writes (counters), and the SRTP
 * halves of crypto rules, which stage three reads to prefetch the engine's objects. */
static void stage_mid(struct stage *s)
{
	for (unsigned i = 0; i < s->nm; i++) {
		uint32_t v = session_port_load(s->ent[i]);

		s->rules[i] = session_port_rule_of(v);
		if (s->rules[i] != NULL)
			rte_prefetch0(s->rules[i]);
		if (unlikely(v & SESSION_PORT_CRYPTO))
			rte_prefetch0(session_rule_srtp(s->rules[i]));
	}
}

/* Stage three: apply each stream's rule, then punt and free. */
static void stage_out(struct worker *w, struct stage *s, uint64_t now)
{
	for (unsigned i = 0; i < s->nm; i++) {
		if (unlikely(s->rules[i] == NULL))
			count_drop(w, s, s->media[i], DP_DROP_NO_STREAM);
		else
			forward(w, s, s->media[i], &s->co[i], s->rules[i], now);
	}
	if (s->ncx > 0)
		crypto_run(w, s, now);
	if (s->npunt > 0) {
		unsigned q = rte_ring_enqueue_burst(worker_shared.slow, (void **)s->punt, s->npunt,
						    NULL);
		for (unsigned i = q; i < s->npunt; i++)
			count_drop(w, s, s->punt[i], DP_DROP_SLOW_RING);
	}
	if (s->nfree > 0)
		rte_pktmbuf_free_bulk(s->free, s->nfree);
}

static inline void pipe_push(struct worker *w, struct pipe *p, struct rte_mbuf **pkts,
			     unsigned n, enum origin origin, uint64_t now)
{
	struct stage *s = &p->st[p->next];

	stage_in(w, s, pkts, n, origin);
	if (p->mid != NULL)
		stage_mid(p->mid);
	if (p->out != NULL)
		stage_out(w, p->out, now);
	p->out = p->mid;
	p->mid = s;
	p->next = p->next == 2 ? 0 : p->next + 1;
}

static inline void pipe_drain(struct worker *w, struct pipe *p, uint64_t now)
{
	if (p->mid != NULL)
		stage_mid(p->mid);
	if (p->out != NULL)
		stage_out(w, p->out, now);
	if (p->mid != NULL)
		stage_out(w, p->mid, now);
}

unsigned worker_poll(struct worker *w)
{
	struct rte_mbuf *pkts[WORKER_BURST];
	struct pipe pp; /* stages are filled before use: no initialiser, it would clear 6 KB */
	uint64_t now = rte_rdtsc();
	unsigned total = 0, n;

	pp.mid = pp.out = NULL;
	pp.next = 0;

	/* Packets back from the slow path first: they arrived before anything still in the
	 * rx queues, and a freshly latched stream must not overtake its first packets. */
	n = rte_ring_dequeue_burst(w->ret, (void **)pkts, WORKER_BURST, NULL);
	if (n > 0) {
		pipe_push(w, &pp, pkts, n, FROM_SLOW, now);
		total += n;
	}
	for (unsigned q = 0; q < w->nrxq; q++) {
		n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts, WORKER_BURST);
		if (n > 0) {
			pipe_push(w, &pp, pkts, n, FROM_RX, now);
			total += n;
		}
	}
	n = rte_ring_dequeue_burst(w->handoff, (void **)pkts, WORKER_BURST, NULL);
	if (n > 0) {
		pipe_push(w, &pp, pkts, n, FROM_HANDOFF, now);
		total += n;
	}
	pipe_drain(w, &pp, now);
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
