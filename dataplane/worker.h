/* Worker lcores: the packet loop. One struct worker per worker lcore, cache-aligned, written
 * only by that lcore (its stats, tx buffers, idle state); the main lcore reads stats.
 * The loop: poll the return ring (packets the slow path resolved), rx queues, the hand-off
 * ring (packets another worker received for a stream this worker owns) and the raw tx ring
 * (ARP frames the main lcore built); classify, hand packets of other workers' streams over,
 * look streams up in the port index, apply each stream's rule, rewrite, buffer and flush
 * tx; report an RCU quiescent state once per iteration. Bursts go through three stages a
 * burst apart, so that the index and rule lines of one burst load while the others are
 * worked on (worker.c). */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <rtpanchor/dp_proto.h>

#include "counters.h"

struct srtp_worker;

#define WORKER_BURST   32
#define WORKER_MAX_RXQ 16

struct worker_rxq {
	uint16_t port;
	uint16_t queue;
};

struct worker_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[WORKER_BURST];
};

struct worker {
	/* Set by the main lcore before the worker starts; read-only afterwards. */
	unsigned index; /* 0..nworkers-1; also the RCU thread id */
	unsigned lcore;
	unsigned nrxq;
	struct worker_rxq rxq[WORKER_MAX_RXQ];
	uint16_t txq[RPA_DP_MAX_PORTS]; /* this worker's tx queue on each port */
	struct rte_ring *handoff;       /* MP/SC: other workers -> this worker */
	struct rte_ring *ret;           /* SP/SC: main lcore -> this worker, to forward */
	struct rte_ring *txr;           /* SP/SC: main lcore -> this worker, frames to send as
					 * they are (ARP): workers own every tx queue */
	/* Written only by this worker. */
	struct worker_txbuf txb[RPA_DP_MAX_PORTS];
	struct worker_txbuf hob[RPA_DP_MAX_WORKERS]; /* pending hand-offs per owner */
	uint32_t empty_polls;
	/* Punted media packets of this worker's streams not back yet (an over-estimate when
	 * one was lost), the tsc of the last punt, and the epoch that voids older per-stream
	 * counts (struct stream_order): while inflight is 0 no stream's order is consulted. */
	uint32_t inflight;
	uint32_t epoch;
	uint64_t last_punt;
	/* This worker's SRTP engine resources (its cryptodev queue pair); NULL when SRTP is
	 * off, and then no rule has a crypto treatment. Set by the main lcore before start. */
	struct srtp_worker *srtp;
	struct worker_stats stats;
} __rte_cache_aligned;

/* Shared by all workers; set up by the main lcore before workers start. */
struct worker_shared {
	struct worker *w[RPA_DP_MAX_WORKERS];
	unsigned nworkers;
	struct rte_ring *slow; /* MP/SC: workers -> main lcore */
	struct rte_rcu_qsbr *qsbr;
	uint8_t rx_csum_ok[RPA_DP_MAX_PORTS];  /* port reports RX IP checksum status */
	uint8_t tx_csum_ok[RPA_DP_MAX_PORTS];  /* port computes IPv4+UDP checksums on tx */
	uint8_t port_used[RPA_DP_MAX_PORTS];
	/* Idle back-off (off by default): after idle_polls empty iterations sleep idle_us. */
	bool idle_backoff;
	uint32_t idle_polls;
	uint32_t idle_us;
	uint64_t inflight_reset_tsc; /* a punt older than this is taken as lost */
	/* mbuf dynamic field (uint8_t, enum worker_srtp_mark) recording how far SRTP got with a
	 * media packet punted to the slow path; written when punting, read only on return. */
	int srtp_mark_off;
	volatile int stop; /* written by the main lcore on shutdown */
};

extern struct worker_shared worker_shared;

/* Which worker owns the stream on this local UDP port: RTP and its RTCP (port + 1) share
 * an owner. */
static inline uint16_t worker_owner_of(uint16_t local_port, unsigned nworkers)
{
	return (uint16_t)((local_port >> 1) % nworkers);
}

/* What the payload of a punted packet of a crypto stream is (see worker.c crypto_run).
 * The stream's rule may have changed by the time it comes back: it then gets what the
 * new rule needs from where it is (plaintext is protected if the rule sends SRTP). */
enum worker_srtp_mark {
	SRTP_MARK_NONE = 0,  /* as received: the whole treatment still to do */
	SRTP_MARK_PLAIN,     /* plaintext (unprotected, or received plain) */
	SRTP_MARK_PROTECTED, /* protected with the stream's tx key: to be sent as it is */
	SRTP_MARK_PAYLOAD = 0x3,
	/* flags: already sent round once for SRTP_PENDING by the unprotect (rx) or protect
	 * (tx) step: a re-keyed AEAD packet may need a new session on both contexts */
	SRTP_MARK_PENDED_RX = 0x4,
	SRTP_MARK_PENDED_TX = 0x8,
	SRTP_MARK_PENDED = SRTP_MARK_PENDED_RX | SRTP_MARK_PENDED_TX,
	/* flag: punted again while coming back (counted in stream_order.ahead) */
	SRTP_MARK_AHEAD = 0x10,
};

/* The mark of a media packet that was punted (meaningful only while it is out, and only
 * when SRTP is on: the field exists from the first worker_init with SRTP). */
static inline uint8_t *srtp_mark(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, worker_shared.srtp_mark_off, uint8_t *);
}

/* Whether a packet of a stream that arrives as SRTP has passed authentication: only such
 * a packet may latch the stream to a new source (slowpath.c), so that nobody without the
 * key can move a call's media by sending from elsewhere. */
static inline bool srtp_mark_authenticated(uint8_t mark)
{
	return (mark & SRTP_MARK_PAYLOAD) != SRTP_MARK_NONE;
}

/* Allocate a worker's rings (and, once, the mbuf field for enum worker_srtp_mark).
 * index < RPA_DP_MAX_WORKERS. 0 or -errno. */
int worker_init(struct worker *w, unsigned index, unsigned lcore, int socket_id);
void worker_fini(struct worker *w);

/* One loop iteration: returns the number of packets handled (0 = idle). HOT. */
unsigned worker_poll(struct worker *w);

/* lcore entry point: registers with RCU, loops until worker_shared.stop, flushes. */
int worker_main(void *arg);

#endif
