/* The session table: (media address index, UDP port) -> forwarding rule.
 *
 * Threads: only the main lcore calls the non-HOT functions (add, del, latch, flush, list,
 * reclaim); workers only look up. The table is an rte_hash with lock-free reader/writer
 * concurrency and an extendable bucket table; a rule, once published, is never modified:
 * changes publish a replacement and retire the old rule through an RCU QSBR defer queue,
 * freed once every worker has reported a quiescent state. Per-stream mutable state
 * (counters, last seen) lives in a slot array indexed by rule->slot and is written only by
 * the stream's owning worker. */
#ifndef DP_SESSION_H
#define DP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include <rtpanchor/dp_proto.h>

#include "rewrite.h"

#define SESSION_NEIGH_NONE UINT32_MAX

/* 8-byte key: family independent, because the address is a media address index. */
struct session_key {
	uint16_t addr_idx;
	uint16_t port; /* host order */
	uint32_t zero; /* always 0: keys are compared as 8 bytes */
};

/* Immutable once published. Read by workers (HOT); written only before publication by the
 * main lcore. Exactly one cache line: everything get/list report is derivable from it and
 * its key, so 1M streams cost 64 MB of rules. */
struct fwd_rule {
	uint32_t slot;        /* index into session_state[], kept across replacements */
	uint16_t owner;       /* worker index that owns the stream's mutable state */
	uint16_t egress;      /* DPDK port id packets leave from */
	uint32_t flags;       /* RPA_DP_F_* */
	uint32_t neigh;       /* next-hop neighbour index; SESSION_NEIGH_NONE: no peer yet */
	uint32_t expect_v4;   /* accepted source address, network order; 0 = none yet */
	uint16_t expect_port; /* network order */
	uint8_t latched;      /* the source was learnt (or given with LATCH): window running */
	uint8_t csum_offload; /* egress port computes IPv4/UDP checksums */
	uint64_t latch_until; /* tsc; before it a different source re-latches */
	struct rewrite_hdr rw; /* rw.daddr == 0: no peer yet */
	uint32_t latch_window_ms;
	uint64_t tag;
} __rte_cache_aligned;

_Static_assert(sizeof(struct fwd_rule) == 64, "a rule is one cache line");

/* Per-stream mutable state. Writer: the owning worker (relaxed stores). Readers: main lcore,
 * telemetry. Zeroed by the main lcore when a slot is (re)allocated, before publication. */
struct stream_state {
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops;
	uint64_t last_seen; /* tsc, 0 = never */
	/* Packets of this stream on the slow path. While non-zero the owner sends later
	 * packets the same way, so a latch or an ARP wait never reorders a stream: every
	 * punted media packet comes back through the owner's return ring. */
	uint32_t inflight;
	uint32_t pad;
	uint64_t punted_at; /* tsc of the last punt; a count older than 100 ms is reset */
};

extern struct rte_hash *session_table;
extern struct stream_state *session_state;

struct session_config {
	uint32_t max_streams;
	uint32_t nworkers;
	uint64_t latch_window_ms; /* default for streams that say 0 */
	struct rte_rcu_qsbr *qsbr; /* workers' quiescent-state variable */
	int socket_id;
};

/* Create the table, state slots and rule pool. 0 or -errno (message via RTE_LOG). */
int session_init(const struct session_config *cfg);
void session_fini(void);

/* Install or replace a stream. Validation failures return -EINVAL/-EADDRNOTAVAIL/-ENOSPC
 * etc. with a message naming the bad value in err. A replacement keeps the slot (counters)
 * and, where the new spec leaves dst/expect unspecified, the learnt peer. */
int session_add(const struct rpa_dp_stream *spec, char *err, size_t errlen);
/* -ENOENT if absent. */
int session_del(const struct rpa_endpoint *local);
int session_get(const struct rpa_endpoint *local, struct rpa_dp_stream_info *out);
/* Fill up to max entries from *cursor (0 = start); sets *cursor to 0 at the end. */
unsigned session_list(uint32_t *cursor, struct rpa_dp_stream_info *out, unsigned max);
/* Delete all streams, or those with `tag` when by_tag. Returns how many. */
uint64_t session_flush(bool by_tag, uint64_t tag);
uint64_t session_count(void);
uint32_t session_capacity(void);

/* Slow path: a packet for stream `key` came from (saddr, sport) (network order) that the
 * rule does not expect. Re-latches if allowed: publishes a new rule for this stream with
 * the new source, and a new rule for its reverse stream with the new peer.
 * Returns 1 if latched, 0 if latching was not allowed, -errno on failure. */
int session_latch(const struct session_key *key, uint32_t saddr, uint16_t sport, uint64_t now);

/* Free retired rules and slots whose grace period has passed. Main lcore, periodically. */
void session_reclaim(void);

/* Convert an endpoint to a key: -EADDRNOTAVAIL when the address is not a media address. */
int session_key_from(const struct rpa_endpoint *ep, struct session_key *key);

/* HOT: bulk lookup. rules[i] is NULL when keys[i] is absent. n <= RTE_HASH_LOOKUP_BULK_MAX. */
static inline void session_lookup_bulk(const struct session_key **keys, unsigned n,
				       const struct fwd_rule **rules)
{
	uint64_t hits;
	rte_hash_lookup_bulk_data(session_table, (const void **)keys, n, &hits, (void **)rules);
	for (unsigned i = 0; i < n; i++)
		if (!(hits & (1ULL << i)))
			rules[i] = NULL;
}

#endif
