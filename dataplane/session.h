/* The session table: (media address index, UDP port) -> forwarding rule.
 *
 * Threads: only the main lcore calls the non-HOT functions (add, del, latch, flush, list,
 * reclaim); workers only look up. The table is an rte_hash with lock-free reader/writer
 * concurrency and an extendable bucket table; a rule's forwarding part, once published, is
 * never modified: changes publish a replacement and retire the old rule through an RCU QSBR
 * defer queue, freed once every worker has reported a quiescent state.
 *
 * Workers do not search the rte_hash: the key space is dense (a media address has 65536
 * ports), so the main lcore also publishes every rule in a port index, one 32-bit entry per
 * (media address, port), which a worker reads with one load whose address it knows from
 * the packet alone and can prefetch a burst ahead. An rte_hash lookup needs two dependent
 * rounds of misses (two bucket lines, then the key) that its API gives no way to prefetch;
 * with a million streams it cost more than the whole budget of a packet. The index is
 * written with the table, under the same rules: entries change by one atomic store and a
 * rule it pointed to is freed only after the grace period.
 *
 * Memory layout, chosen so that a forwarded packet touches one line after the lookup: the
 * rule's 64-byte line holds its immutable forwarding fields and the stream's counters,
 * which the owning worker writes. A replacement starts with zeroed counters; the main lcore
 * folds the old rule's counters into a per-slot carry once its grace period has passed, and
 * until then reports them from the old rule itself. What the fast path rarely needs (latch
 * deadline, tag) sits in a parallel cold array; the in-flight state that keeps a stream in
 * order while some of its packets are on the slow path is per slot (the slot survives
 * replacements) and is read only while the owning worker has punted packets out.
 *
 * SRTP: a rule's treatment (plain, unprotect, protect, re-key) is chosen when it is
 * installed and stored in the rule line. Plain rules (including SRTP passthrough: same keys
 * both ways) touch nothing else. Crypto rules have their engine contexts and per-stream
 * states in a parallel array (session_rules_srtp), read by the owning worker only for
 * their packets. A context and its state belong to a "side" (rx or tx key material of a
 * stream): a replacement with the same key material (a latch, control re-sending its state)
 * shares the side, so the rollover counter and replay window carry on; new key material
 * gets a new side. A side is destroyed (keys zeroed) when the last rule using it has passed
 * its grace period. */
#ifndef DP_SESSION_H
#define DP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include <rtpanchor/dp_proto.h>

#include "rewrite.h"
#include "srtp.h"

#define SESSION_NEIGH_NONE UINT32_MAX

/* 8-byte key: family independent, because the address is a media address index. */
struct session_key {
	uint16_t addr_idx;
	uint16_t port; /* host order */
	uint32_t zero; /* always 0: keys are compared as 8 bytes */
};

/* Per-stream counters. Writer: the stream's owning worker (plain read, relaxed store: one
 * writer). Readers: the main lcore (relaxed loads). */
struct stream_counters {
	uint64_t packets;
	uint64_t bytes; /* UDP payload bytes */
	uint64_t drops;
	uint64_t last_seen; /* tsc, 0 = never */
};

/* What a rule does to a packet's payload, chosen at install (never per packet). */
enum fwd_treat {
	FWD_PLAIN = 0,  /* forward as it is: plain RTP, or SRTP passthrough */
	FWD_UNPROTECT,  /* SRTP in, plain out (rx context) */
	FWD_PROTECT,    /* plain in, SRTP out (tx context) */
	FWD_REKEY,      /* SRTP in, SRTP out with other keys: unprotect, then protect */
};

/* One cache line. The first 32 bytes are the forwarding rule: written by the main lcore
 * before publication, immutable afterwards, read by the owning worker (HOT). The last 32
 * are the stream's counters while this rule is the published one (and during its grace
 * period): written by the owning worker only, through session_rule_ctr(). The source MAC
 * is the egress port's (ifaddr_ports[egress].mac) and checksum offload the port's
 * (worker_shared.tx_csum_ok[egress]): neither is per stream. */
struct fwd_rule {
	uint32_t slot;        /* index into the per-slot arrays, kept across replacements */
	uint32_t neigh;       /* next-hop neighbour index; SESSION_NEIGH_NONE: no peer yet */
	uint32_t expect_v4;   /* accepted source address, network order; 0 = none yet */
	uint16_t expect_port; /* network order */
	uint16_t egress;      /* DPDK port id packets leave from */
	struct rewrite_hdr rw; /* rw.daddr == 0: no peer yet */
	uint8_t owner;        /* worker index that owns the stream (worker_owner_of the port) */
	uint8_t treat;        /* enum fwd_treat */
	uint8_t flags;        /* RPA_DP_F_* */
	uint8_t latched;      /* the source was learnt (or given with LATCH): window running */
	struct stream_counters ctr;
} __rte_cache_aligned;

_Static_assert(sizeof(struct fwd_rule) == 64, "a rule is one cache line");
_Static_assert(offsetof(struct fwd_rule, ctr) == 32, "forwarding fields in the first half");
_Static_assert(RPA_DP_F_ALL <= UINT8_MAX, "rule flags are 8 bits");
_Static_assert(RPA_DP_MAX_WORKERS <= UINT8_MAX, "rule owner is 8 bits");

/* The SRTP half of a rule whose treat is not FWD_PLAIN, at the same index in
 * session_rules_srtp[]: written by the main lcore before publication, immutable afterwards.
 * Read by the owning worker (HOT), which alone writes the states. rx serves FWD_UNPROTECT
 * and FWD_REKEY, tx FWD_PROTECT and FWD_REKEY; unused pointers are NULL. */
struct fwd_rule_srtp {
	const struct srtp_ctx *rx;
	struct srtp_state *rx_st;
	const struct srtp_ctx *tx;
	struct srtp_state *tx_st;
};

/* A stream's SRTP drops by reason, per slot (they survive replacements and re-keys).
 * Writer: the owning worker; readers: the main lcore (relaxed). Zeroed at install. */
struct stream_srtp_counters {
	uint64_t auth_fail;
	uint64_t replay;
	uint64_t other;
};

/* The rest of a rule, immutable like its forwarding fields, at the same index in
 * session_rules_cold[]. Workers read latch_until only for a packet from an unexpected
 * source. */
struct fwd_rule_cold {
	uint64_t latch_until; /* tsc; before it a different source re-latches */
	uint64_t tag;
	uint32_t latch_window_ms;
	uint32_t replay_window; /* SRTP replay window in effect, packets */
};

/* Ordering state of the stream in a slot. Writer and reader: the owning worker only.
 * inflight counts its packets on the slow path; while non-zero the owner sends later
 * packets the same way, so a latch or an ARP wait never reorders a stream: every punted
 * media packet comes back through the owner's return ring. The count belongs to the
 * owner's epoch it was taken in (struct worker): a count from an older epoch is void. */
struct stream_order {
	uint32_t inflight;
	uint32_t epoch;
	uint64_t punted_at; /* tsc of the last punt */
	/* Of inflight, the packets that were on their way back and went out again (an SRTP
	 * step waited for a session, or they stayed behind one that did): a packet coming
	 * back that is not one of them is behind them and goes round once more. */
	uint32_t ahead;
	uint32_t pad;
};

extern struct rte_hash *session_table;
/* Port index: entry (addr_idx << 16 | port) holds the published rule's index + 1, 0 when
 * the port has no stream, with SESSION_PORT_CRYPTO set when the rule's treatment is not
 * FWD_PLAIN (so that a worker can prefetch its SRTP half as early as the rule line).
 * Writer: main lcore (release stores); readers: workers. */
#define SESSION_PORT_CRYPTO 0x80000000u
extern uint32_t *session_ports;
extern struct fwd_rule *session_rules;            /* every rule, published or not */
extern struct fwd_rule_cold *session_rules_cold;  /* parallel to session_rules */
extern struct stream_order *session_order;        /* by slot */
/* NULL when SRTP is off (session_config.srtp_streams == 0 or no engine). */
extern struct fwd_rule_srtp *session_rules_srtp;          /* parallel to session_rules */
extern struct stream_srtp_counters *session_srtp_ctr;     /* by slot */

/* The counters half of a published rule: for the owning worker's writes only. */
static inline struct stream_counters *session_rule_ctr(const struct fwd_rule *r)
{
	return &session_rules[r - session_rules].ctr;
}

static inline const struct fwd_rule_cold *session_rule_cold(const struct fwd_rule *r)
{
	return &session_rules_cold[r - session_rules];
}

/* HOT: the SRTP half of a crypto rule (treat != FWD_PLAIN). */
static inline const struct fwd_rule_srtp *session_rule_srtp(const struct fwd_rule *r)
{
	return &session_rules_srtp[r - session_rules];
}

static inline struct stream_srtp_counters *session_rule_srtp_ctr(const struct fwd_rule *r)
{
	return &session_srtp_ctr[r->slot];
}

struct session_config {
	uint32_t max_streams;
	uint32_t nworkers;
	uint64_t latch_window_ms; /* default for streams that say 0 */
	uint32_t srtp_replay_window; /* default for streams that say 0; 0 = 128 */
	/* Streams with SRTP keys (passthrough included) at most; 0: SRTP refused. Crypto
	 * treatments also need srtp_engine: srtp_engine_init done, and srtp_max_contexts
	 * the engine's max_contexts (see session_srtp_contexts). */
	uint32_t srtp_streams;
	bool srtp_engine;
	/* Why SRTP is unavailable, shown in the refusal of an SRTP stream ("" if it is). */
	char srtp_off_reason[96];
	struct rte_rcu_qsbr *qsbr; /* workers' quiescent-state variable */
	int socket_id;
};

/* Create the table, port index, per-slot state and rule pool. Every media address must be
 * configured (ifaddr_add) before: the port index is sized for them. 0 or -errno (message
 * via RTE_LOG). */
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

/* How many engine contexts the table can hold for srtp_streams SRTP streams (both sides,
 * plus replacements in their grace period): srtp_engine_config.max_contexts. */
uint32_t session_srtp_contexts(uint32_t srtp_streams);
/* Live SRTP sides (key material held) and streams with SRTP keys. Main lcore. */
uint32_t session_srtp_sides(void);
uint32_t session_srtp_count(void);
uint32_t session_srtp_capacity(void); /* --srtp-streams in effect */
/* For tests: true if `len` bytes equal to `pattern` appear anywhere in the side pool (live
 * or freed sides): a freed side's key must not. */
bool session_srtp_pool_holds(const uint8_t *pattern, size_t len);

/* Free retired rules and slots whose grace period has passed. Main lcore, periodically. */
void session_reclaim(void);

/* Convert an endpoint to a key: -EADDRNOTAVAIL when the address is not a media address. */
int session_key_from(const struct rpa_endpoint *ep, struct session_key *key);

/* HOT: the port index entry of a media address and port; addr_idx must be a media address
 * index (classify only yields those), so the entry exists. Prefetch it, then read it with
 * session_port_rule. */
static inline const uint32_t *session_port_entry(uint16_t addr_idx, uint16_t port)
{
	return &session_ports[(uint32_t)addr_idx << 16 | port];
}

/* HOT: an index entry's value (acquire: the rule it names is fully written). */
static inline uint32_t session_port_load(const uint32_t *entry)
{
	return __atomic_load_n(entry, __ATOMIC_ACQUIRE);
}

/* HOT: the rule an entry value names, or NULL. Valid until the caller's next RCU
 * quiescent state. */
static inline const struct fwd_rule *session_port_rule_of(uint32_t v)
{
	v &= ~SESSION_PORT_CRYPTO;
	return v != 0 ? &session_rules[v - 1] : NULL;
}

static inline const struct fwd_rule *session_port_rule(const uint32_t *entry)
{
	return session_port_rule_of(session_port_load(entry));
}

/* HOT: lookup of n keys, as workers do it. rules[i] is NULL when keys[i] is absent. */
static inline void session_lookup_bulk(const struct session_key **keys, unsigned n,
				       const struct fwd_rule **rules)
{
	for (unsigned i = 0; i < n; i++)
		rules[i] = session_port_rule(session_port_entry(keys[i]->addr_idx, keys[i]->port));
}

#endif
