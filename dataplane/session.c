/* The session table's writer side: install, replace, latch, delete, list. Main lcore only.
 * Workers read the table concurrently (lock-free rte_hash); retired rules, key positions and
 * slots are freed through an RCU defer queue once every worker has passed a quiescent
 * state, and a replaced rule's counters are folded into its slot's carry then. See
 * session.h for the contracts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "ifaddr.h"
#include "neigh.h"
#include "session.h"
#include "worker.h"

struct rte_hash *session_table;
uint32_t *session_ports;
struct fwd_rule *session_rules;
struct fwd_rule_cold *session_rules_cold;
struct stream_order *session_order;
struct fwd_rule_srtp *session_rules_srtp;
struct stream_srtp_counters *session_srtp_ctr;

/* What waits in the defer queue: a retired rule, and for deletes also its key position and
 * its slot; or (rule RETIRED_SRTP) a count of AEAD sessions the SRTP engine took out of
 * their slots (srtp_engine_retired). Must be a multiple of 4 bytes (rte_rcu_qsbr_dq). */
struct retired {
	uint32_t rule;	 /* index into session_rules, or RETIRED_SRTP */
	int32_t key_pos; /* -1: rule replaced, key stays; RETIRED_SRTP: the count */
};

#define RETIRED_SRTP UINT32_MAX

/* A slot's counters from rules that are gone. Main lcore only. A stream's counters are
 * carry + its published rule's + those of the replaced rule still in its grace period
 * (pending), whose owner may still count a packet or two on it. */
struct slot_carry {
	struct stream_counters ctr;
	uint32_t pending; /* index + 1 of that replaced rule; 0: none */
	uint32_t pad;
};

/* One direction's SRTP key material of a stream, with the engine context and per-stream
 * state made from it (none for passthrough). Shared by the rules of one stream that carry
 * the same material (see session.h). Main lcore only; workers see ctx and st through
 * fwd_rule_srtp. Lives in a pool so that a freed side's bytes stay inspectable (zero). */
struct srtp_side {
	struct srtp_ctx *ctx; /* NULL: no transform (passthrough) */
	struct srtp_state *st;
	uint32_t refs; /* rules holding it; 0: free */
	uint32_t flags; /* srtp_ctx_create's: SRTP_KIND_*, SRTP_CTX_PROTECT for tx */
	uint32_t window;
	uint32_t pad;
	struct rpa_dp_srtp key; /* as installed, for "same material" and GET (keys not shown) */
};

enum { SIDE_RX, SIDE_TX };

static struct {
	struct session_config cfg;
	/* Rules live in one array with a free-index stack: only this lcore allocates and
	 * frees them, so no mempool (and its per-object headers) is needed. */
	uint32_t *free_rules;
	uint32_t nfree_rules;
	struct rte_rcu_qsbr_dq *dq;
	struct slot_carry *carry; /* by slot */
	uint32_t *free_slots; /* stack of free slot indices */
	uint32_t nfree;
	uint64_t count;
	uint32_t naddr; /* media addresses with a port index (all there were at init) */
	/* SRTP: per rule, the sides it holds (pool index + 1, 0: none); the side pool with its
	 * free stack; streams whose published rule holds a side. */
	uint32_t (*rule_side)[2];
	struct srtp_side *sides;
	uint32_t *free_sides;
	uint32_t nsides, nfree_sides;
	uint32_t nsrtp;
} S;

static void rule_put(struct fwd_rule *r)
{
	S.free_rules[S.nfree_rules++] = (uint32_t)(r - session_rules);
}

static void ctr_add(struct stream_counters *sum, const struct stream_counters *c)
{
	uint64_t last = __atomic_load_n(&c->last_seen, __ATOMIC_RELAXED);

	sum->packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
	sum->bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	sum->drops += __atomic_load_n(&c->drops, __ATOMIC_RELAXED);
	if (last > sum->last_seen)
		sum->last_seen = last;
}

static void side_put(uint32_t idx)
{
	struct srtp_side *sd;

	if (idx == 0)
		return;
	sd = &S.sides[idx - 1];
	RTE_VERIFY(sd->refs > 0);
	if (--sd->refs > 0)
		return;
	if (sd->ctx != NULL)
		srtp_engine_service(); /* requests workers made for this context first */
	srtp_state_destroy(sd->st);
	srtp_ctx_destroy(sd->ctx); /* zeroes the derived keys */
	explicit_bzero(sd, sizeof(*sd));
	S.free_sides[S.nfree_sides++] = idx - 1;
}

static bool rule_has_srtp(const struct fwd_rule *r)
{
	return S.rule_side != NULL && (S.rule_side[r - session_rules][SIDE_RX] != 0 ||
				       S.rule_side[r - session_rules][SIDE_TX] != 0);
}

/* A rule no worker can see any more (never published, or past its grace period): its
 * neighbour reference, its sides and the rule itself go back. */
static void rule_release(struct fwd_rule *r)
{
	uint32_t i = (uint32_t)(r - session_rules);

	if (r->neigh != SESSION_NEIGH_NONE)
		neigh_unref(r->neigh);
	if (S.rule_side != NULL) {
		side_put(S.rule_side[i][SIDE_RX]);
		side_put(S.rule_side[i][SIDE_TX]);
		S.rule_side[i][SIDE_RX] = S.rule_side[i][SIDE_TX] = 0;
	}
	if (session_rules_srtp != NULL)
		memset(&session_rules_srtp[i], 0, sizeof(session_rules_srtp[i]));
	rule_put(r);
}

/* The defer queue hands entries back in the order they were retired, so a replaced rule
 * is folded into its slot before a later delete frees the slot. */
static void retire_free(void *p, void *e, unsigned int n)
{
	struct retired *r = e;

	for (unsigned i = 0; i < n; i++) {
		struct fwd_rule *rule;
		struct slot_carry *c;

		if (r[i].rule == RETIRED_SRTP) {
			srtp_engine_release((unsigned)r[i].key_pos);
			continue;
		}
		rule = &session_rules[r[i].rule];
		c = &S.carry[rule->slot];
		if (r[i].key_pos >= 0) {
			rte_hash_free_key_with_position(session_table, r[i].key_pos);
			S.free_slots[S.nfree++] = rule->slot;
		} else {
			/* No worker can count on this rule any more: its counters are final. */
			ctr_add(&c->ctr, &rule->ctr);
			if (c->pending == r[i].rule + 1)
				c->pending = 0;
		}
		rule_release(rule);
	}
}

uint32_t session_srtp_contexts(uint32_t srtp_streams)
{
	/* Two sides a stream; a re-key needs new sides while the old ones finish their grace
	 * period, and side_get waits for one grace period when the pool runs dry. */
	return srtp_streams == 0 ? 0 : 2 * srtp_streams + 64;
}

uint32_t session_srtp_sides(void)
{
	return S.nsides - S.nfree_sides;
}

uint32_t session_srtp_count(void)
{
	return S.nsrtp;
}

uint32_t session_srtp_capacity(void)
{
	return S.cfg.srtp_streams;
}

bool session_srtp_pool_holds(const uint8_t *pattern, size_t len)
{
	const uint8_t *p = (const uint8_t *)S.sides;
	size_t n = (size_t)S.nsides * sizeof(*S.sides);

	for (size_t i = 0; len > 0 && i + len <= n; i++)
		if (memcmp(p + i, pattern, len) == 0)
			return true;
	return false;
}

static int srtp_init(uint32_t nrules)
{
	if (S.cfg.srtp_streams == 0)
		return 0;
	S.nsides = session_srtp_contexts(S.cfg.srtp_streams);
	S.rule_side = calloc(nrules, sizeof(*S.rule_side));
	S.sides = calloc(S.nsides, sizeof(*S.sides));
	S.free_sides = malloc((size_t)S.nsides * sizeof(uint32_t));
	if (S.rule_side == NULL || S.sides == NULL || S.free_sides == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < S.nsides; i++)
		S.free_sides[i] = S.nsides - 1 - i;
	S.nfree_sides = S.nsides;
	if (!S.cfg.srtp_engine)
		return 0;
	session_rules_srtp = rte_zmalloc_socket("rpa_rules_srtp",
						(size_t)nrules * sizeof(*session_rules_srtp),
						RTE_CACHE_LINE_SIZE, S.cfg.socket_id);
	session_srtp_ctr = rte_zmalloc_socket("rpa_srtp_ctr",
					      (size_t)S.cfg.max_streams * sizeof(*session_srtp_ctr),
					      RTE_CACHE_LINE_SIZE, S.cfg.socket_id);
	return session_rules_srtp != NULL && session_srtp_ctr != NULL ? 0 : -ENOMEM;
}

int session_init(const struct session_config *cfg)
{
	struct rte_hash_parameters hp = {0};
	struct rte_rcu_qsbr_dq_parameters dp = {0};
	uint32_t nrules;

	if (cfg->max_streams == 0 || cfg->nworkers == 0 || cfg->qsbr == NULL)
		return -EINVAL;
	S.cfg = *cfg;
	if (S.cfg.srtp_replay_window == 0)
		S.cfg.srtp_replay_window = RPA_DP_SRTP_REPLAY_DEFAULT;
	/* 16-byte keys stopped inserting at 78% of 1M in a plain cuckoo table (MEASURED.md):
	 * the extendable bucket table takes the overflow, so the configured capacity is real. */
	hp.name = "rpa_sessions";
	hp.entries = cfg->max_streams;
	hp.key_len = sizeof(struct session_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = cfg->socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	session_table = rte_hash_create(&hp);
	if (session_table == NULL) {
		RTE_LOG(ERR, USER1, "cannot create session table for %u streams: %s\n",
			cfg->max_streams, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	session_order = rte_zmalloc_socket("rpa_stream_order",
					   (size_t)cfg->max_streams * sizeof(*session_order),
					   RTE_CACHE_LINE_SIZE, cfg->socket_id);
	S.carry = calloc(cfg->max_streams, sizeof(*S.carry));
	S.free_slots = malloc((size_t)cfg->max_streams * sizeof(uint32_t));
	/* Replacements (latching, updates) need a second rule until the grace period ends;
	 * when they run out, rule_alloc waits for one grace period. */
	nrules = cfg->max_streams + cfg->max_streams / 8 + 1024;
	session_rules = rte_malloc_socket("rpa_rules", (size_t)nrules * sizeof(struct fwd_rule),
					  RTE_CACHE_LINE_SIZE, cfg->socket_id);
	session_rules_cold = rte_malloc_socket("rpa_rules_cold",
					       (size_t)nrules * sizeof(struct fwd_rule_cold),
					       RTE_CACHE_LINE_SIZE, cfg->socket_id);
	S.free_rules = malloc((size_t)nrules * sizeof(uint32_t));
	/* Media addresses are all configured before the table (ifaddr.h): 256 KiB each. */
	S.naddr = ifaddr_count;
	session_ports = rte_zmalloc_socket("rpa_port_index",
					   ((size_t)(S.naddr ? S.naddr : 1) << 16) * sizeof(uint32_t),
					   RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (session_ports == NULL || session_order == NULL || S.carry == NULL || S.free_slots == NULL ||
	    session_rules == NULL || session_rules_cold == NULL || S.free_rules == NULL ||
	    srtp_init(nrules) < 0) {
		RTE_LOG(ERR, USER1, "cannot allocate state for %u streams (raise -m)\n",
			cfg->max_streams);
		session_fini();
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->max_streams; i++)
		S.free_slots[i] = cfg->max_streams - 1 - i;
	S.nfree = cfg->max_streams;
	for (uint32_t i = 0; i < nrules; i++)
		S.free_rules[i] = nrules - 1 - i;
	S.nfree_rules = nrules;

	dp.name = "rpa_retired";
	dp.size = nrules;
	dp.esize = sizeof(struct retired);
	dp.trigger_reclaim_limit = 256;
	dp.max_reclaim_size = 1024;
	dp.free_fn = retire_free;
	dp.v = cfg->qsbr;
	S.dq = rte_rcu_qsbr_dq_create(&dp);
	if (S.dq == NULL) {
		RTE_LOG(ERR, USER1, "cannot create RCU defer queue: %s\n", rte_strerror(rte_errno));
		session_fini();
		return -ENOMEM;
	}
	S.count = 0;
	return 0;
}

void session_fini(void)
{
	const void *k;
	void *d;
	uint32_t it = 0;

	if (S.dq != NULL) {
		/* Workers are stopped (offline) by now: everything can be reclaimed. */
		rte_rcu_qsbr_dq_delete(S.dq);
		S.dq = NULL;
	}
	/* The published rules' keys are zeroed too (their engine contexts destroyed). */
	while (S.rule_side != NULL && session_table != NULL &&
	       rte_hash_iterate(session_table, &k, &d, &it) >= 0)
		rule_release(d);
	free(S.rule_side);
	S.rule_side = NULL;
	if (S.sides != NULL)
		explicit_bzero(S.sides, (size_t)S.nsides * sizeof(*S.sides));
	free(S.sides);
	S.sides = NULL;
	free(S.free_sides);
	S.free_sides = NULL;
	S.nsides = S.nfree_sides = S.nsrtp = 0;
	rte_free(session_rules_srtp);
	session_rules_srtp = NULL;
	rte_free(session_srtp_ctr);
	session_srtp_ctr = NULL;
	rte_hash_free(session_table);
	session_table = NULL;
	rte_free(session_ports);
	session_ports = NULL;
	rte_free(session_order);
	session_order = NULL;
	free(S.carry);
	S.carry = NULL;
	rte_free(session_rules);
	session_rules = NULL;
	rte_free(session_rules_cold);
	session_rules_cold = NULL;
	free(S.free_rules);
	S.free_rules = NULL;
	free(S.free_slots);
	S.free_slots = NULL;
	S.count = 0;
}

uint64_t session_count(void)
{
	return S.count;
}

uint32_t session_capacity(void)
{
	return S.cfg.max_streams;
}

static void retire_entry(struct retired *r);

void session_reclaim(void)
{
	unsigned n;

	if (S.dq == NULL)
		return;
	/* AEAD sessions the SRTP engine replaced wait out the same grace period as rules. */
	if (S.cfg.srtp_engine && (n = srtp_engine_retired()) > 0)
		retire_entry(&(struct retired){.rule = RETIRED_SRTP, .key_pos = (int32_t)n});
	rte_rcu_qsbr_dq_reclaim(S.dq, UINT32_MAX, NULL, NULL, NULL);
}

/* The queue is sized for every rule that can exist, but reclaim first if a burst of
 * changes filled it. */
static void retire_entry(struct retired *r)
{
	while (rte_rcu_qsbr_dq_enqueue(S.dq, r) != 0) {
		rte_rcu_qsbr_synchronize(S.cfg.qsbr, RTE_QSBR_THRID_INVALID);
		rte_rcu_qsbr_dq_reclaim(S.dq, UINT32_MAX, NULL, NULL, NULL);
	}
}

/* Hand a rule (and for deletes its key position and slot) to the defer queue. */
static void retire(struct fwd_rule *rule, int32_t key_pos)
{
	retire_entry(&(struct retired){.rule = (uint32_t)(rule - session_rules),
				       .key_pos = key_pos});
}

static struct fwd_rule *rule_alloc(void)
{
	if (S.nfree_rules == 0) {
		/* Retired rules still in their grace period: wait it out once. */
		rte_rcu_qsbr_synchronize(S.cfg.qsbr, RTE_QSBR_THRID_INVALID);
		session_reclaim();
	}
	return S.nfree_rules > 0 ? &session_rules[S.free_rules[--S.nfree_rules]] : NULL;
}

int session_key_from(const struct rpa_endpoint *ep, struct session_key *key)
{
	int idx = ifaddr_find(&ep->addr);

	if (idx < 0 || (uint32_t)idx >= S.naddr)
		return -EADDRNOTAVAIL;
	memset(key, 0, sizeof(*key));
	key->addr_idx = (uint16_t)idx;
	key->port = ep->port;
	return 0;
}

static bool endpoint_ok(const struct rpa_endpoint *e)
{
	return e->addr.family == RPA_AF_INET && e->addr.v4 != 0 && e->port != 0;
}

/* Point a rule at a peer: next hop on the egress port, neighbour reference. */
static int rule_set_peer(struct fwd_rule *r, uint32_t daddr, uint16_t dport_be, char *err,
			 size_t errlen)
{
	struct rpa_addr dst, nh;
	char buf[RPA_ADDR_STRLEN];
	int rc;

	rpa_addr_set_v4(&dst, daddr);
	rc = ifaddr_next_hop(r->egress, &dst, &nh);
	if (rc < 0) {
		snprintf(err, errlen, "dst %s is off-link on port %u and the port has no gateway",
			 rpa_addr_format(&dst, buf, sizeof(buf)), r->egress);
		return rc;
	}
	rc = neigh_ref(r->egress, &nh);
	if (rc < 0) {
		snprintf(err, errlen, "neighbour table full (next hop %s)",
			 rpa_addr_format(&nh, buf, sizeof(buf)));
		return rc;
	}
	r->neigh = (uint32_t)rc;
	r->rw.daddr = daddr;
	r->rw.dport = dport_be;
	return 0;
}

/* Workers see a rule from this store on; it was fully written before (release). */
static void index_set(const struct session_key *key, const struct fwd_rule *r)
{
	uint32_t v = r != NULL ? (uint32_t)(r - session_rules) + 1 : 0;

	if (r != NULL && r->treat != FWD_PLAIN)
		v |= SESSION_PORT_CRYPTO;

	__atomic_store_n(&session_ports[(uint32_t)key->addr_idx << 16 | key->port], v,
			 __ATOMIC_RELEASE);
}

static struct fwd_rule_cold *cold_of(const struct fwd_rule *r)
{
	return &session_rules_cold[r - session_rules];
}

/* Replace `old`, the published rule of `key`, by `r` (same slot, zeroed counters). */
static void publish(const struct session_key *key, struct fwd_rule *r, struct fwd_rule *old)
{
	struct slot_carry *c = &S.carry[old->slot];
	int rc;

	/* A slot tracks one replaced rule in its grace period: when one is still pending
	 * (a second change within a grace period), wait for it to be folded first. */
	if (c->pending != 0) {
		rte_rcu_qsbr_synchronize(S.cfg.qsbr, RTE_QSBR_THRID_INVALID);
		session_reclaim();
		RTE_VERIFY(c->pending == 0);
	}
	/* With RW_CONCURRENCY_LF an existing key's data pointer is replaced atomically. */
	rc = rte_hash_add_key_data(session_table, key, r);
	RTE_VERIFY(rc == 0);
	index_set(key, r);
	c->pending = (uint32_t)(old - session_rules) + 1;
	retire(old, -1);
}

static int validate(const struct rpa_dp_stream *s, struct session_key *key, int *src_idx,
		    char *err, size_t errlen)
{
	char b[RPA_ENDPOINT_STRLEN];

	if (!endpoint_ok(&s->local)) {
		snprintf(err, errlen, "local must be an IPv4 address and a non-zero port");
		return -EINVAL;
	}
	if (session_key_from(&s->local, key) < 0) {
		snprintf(err, errlen, "local %s is not a media address of this dataplane",
			 rpa_endpoint_format(&s->local, b, sizeof(b)));
		return -EADDRNOTAVAIL;
	}
	if (!endpoint_ok(&s->src)) {
		snprintf(err, errlen, "src must be an IPv4 address and a non-zero port");
		return -EINVAL;
	}
	*src_idx = ifaddr_find(&s->src.addr);
	if (*src_idx < 0) {
		snprintf(err, errlen, "src %s is not a media address of this dataplane",
			 rpa_endpoint_format(&s->src, b, sizeof(b)));
		return -EADDRNOTAVAIL;
	}
	if (!rpa_addr_is_unspec(&s->dst.addr) && !endpoint_ok(&s->dst)) {
		snprintf(err, errlen, "dst must be unspecified or an IPv4 address and port");
		return -EINVAL;
	}
	if (!rpa_addr_is_unspec(&s->expect.addr) && !endpoint_ok(&s->expect)) {
		snprintf(err, errlen, "expect must be unspecified or an IPv4 address and port");
		return -EINVAL;
	}
	if (s->flags & ~RPA_DP_F_ALL) {
		snprintf(err, errlen, "unknown flags 0x%x", s->flags & ~RPA_DP_F_ALL);
		return -EINVAL;
	}
	if ((s->flags & RPA_DP_F_STRICT) && !(s->flags & RPA_DP_F_LATCH) &&
	    rpa_addr_is_unspec(&s->expect.addr)) {
		snprintf(err, errlen, "strict-source without latching needs an expected source");
		return -EINVAL;
	}
	if (s->latch_window_ms > 86400000u) {
		snprintf(err, errlen, "latch window %u ms is longer than a day", s->latch_window_ms);
		return -EINVAL;
	}
	return 0;
}

static bool srtp_same(const struct rpa_dp_srtp *a, const struct rpa_dp_srtp *b)
{
	return a->suite == b->suite && a->key_len == b->key_len && a->salt_len == b->salt_len &&
	       a->mki_len == b->mki_len && memcmp(a->mki, b->mki, a->mki_len) == 0 &&
	       memcmp(a->key, b->key, a->key_len) == 0 &&
	       memcmp(a->salt, b->salt, a->salt_len) == 0;
}

/* A side for `key`: the stream's current one (`cur`, pool index + 1 or 0) when it holds the
 * same material for the same use, so the stream's ROC and replay window carry on; else a
 * new one, with an engine context and state when `crypto`. Returns the pool index + 1 (a
 * reference the rule holds) or -errno with a message. */
static int side_get(uint32_t cur, const struct rpa_dp_srtp *key, unsigned flags,
		    uint32_t window, bool crypto, const char *which, char *err, size_t errlen)
{
	struct srtp_side *sd;
	char sub[RPA_DP_ERRMSG_LEN] = "";
	uint32_t idx;

	if (cur != 0) {
		sd = &S.sides[cur - 1];
		if (srtp_same(&sd->key, key) && sd->flags == flags && sd->window == window &&
		    (sd->ctx != NULL) == crypto) {
			sd->refs++;
			return (int)cur;
		}
	}
	if (S.nfree_sides == 0) {
		/* Sides of re-keyed or deleted streams return after their grace period. */
		rte_rcu_qsbr_synchronize(S.cfg.qsbr, RTE_QSBR_THRID_INVALID);
		session_reclaim();
	}
	if (S.nfree_sides == 0) {
		snprintf(err, errlen, "SRTP key pool full (%u sides for --srtp-streams %u)",
			 S.nsides, S.cfg.srtp_streams);
		return -ENOSPC;
	}
	idx = S.free_sides[--S.nfree_sides];
	sd = &S.sides[idx];
	memset(sd, 0, sizeof(*sd));
	sd->key.suite = key->suite;
	sd->key.key_len = key->key_len;
	sd->key.salt_len = key->salt_len;
	sd->key.mki_len = key->mki_len;
	memcpy(sd->key.mki, key->mki, key->mki_len);
	memcpy(sd->key.key, key->key, key->key_len);
	memcpy(sd->key.salt, key->salt, key->salt_len);
	sd->flags = flags;
	sd->window = window;
	sd->refs = 1;
	if (!crypto)
		return (int)idx + 1;
	sd->ctx = srtp_ctx_create(&sd->key, flags, window, sub, sizeof(sub));
	if (sd->ctx != NULL)
		sd->st = srtp_state_create(sd->ctx, S.cfg.socket_id);
	if (sd->st == NULL) {
		int e = errno != 0 ? errno : ENOMEM;

		if (sub[0] == '\0')
			snprintf(sub, sizeof(sub), "%s", strerror(e));
		snprintf(err, errlen, "%s %s: %s", which, rpa_dp_srtp_suite_name(key->suite), sub);
		side_put(idx + 1);
		return -e;
	}
	return (int)idx + 1;
}

/* Choose the rule's treatment from the stream's key material and give it its sides. On
 * failure the caller releases the rule (and with it the sides it got). */
static int srtp_attach(const struct rpa_dp_stream *s, struct fwd_rule *r,
		       const struct fwd_rule *old, char *err, size_t errlen)
{
	bool rx_on = s->rx.suite != RPA_DP_SRTP_NONE, tx_on = s->tx.suite != RPA_DP_SRTP_NONE;
	bool pass = rx_on && tx_on && srtp_same(&s->rx, &s->tx);
	uint32_t ri = (uint32_t)(r - session_rules);
	const uint32_t *cur = old != NULL && S.rule_side != NULL
				  ? S.rule_side[old - session_rules]
				  : (const uint32_t[2]){0, 0};
	unsigned kinds = s->flags & RPA_DP_F_RTCP  ? SRTP_KIND_RTCP
			 : s->flags & RPA_DP_F_MUX ? SRTP_KIND_RTP | SRTP_KIND_RTCP
						   : SRTP_KIND_RTP;
	char b[RPA_ENDPOINT_STRLEN];
	int rc;

	if (!rx_on && !tx_on)
		r->treat = FWD_PLAIN;
	else if (pass)
		r->treat = FWD_PLAIN; /* same keys both ways: the payload goes through untouched */
	else
		r->treat = rx_on && tx_on ? FWD_REKEY : rx_on ? FWD_UNPROTECT : FWD_PROTECT;
	if (!rx_on && !tx_on)
		return 0;
	rpa_endpoint_format(&s->local, b, sizeof(b));
	if (S.rule_side == NULL) {
		snprintf(err, errlen, "local %s: SRTP is off in this dataplane (--srtp-streams 0)",
			 b);
		return -EOPNOTSUPP;
	}
	if (r->treat != FWD_PLAIN && !S.cfg.srtp_engine) {
		snprintf(err, errlen, "local %s: no SRTP crypto engine (%s)", b,
			 S.cfg.srtp_off_reason[0] ? S.cfg.srtp_off_reason : "not started");
		return -EOPNOTSUPP;
	}
	if ((old == NULL || !rule_has_srtp(old)) && S.nsrtp >= S.cfg.srtp_streams) {
		snprintf(err, errlen, "SRTP stream limit reached (--srtp-streams %u)",
			 S.cfg.srtp_streams);
		return -ENOSPC;
	}
	if (rx_on) {
		rc = side_get(cur[SIDE_RX], &s->rx, kinds, cold_of(r)->replay_window, !pass, "rx",
			      err, errlen);
		if (rc < 0)
			return rc;
		S.rule_side[ri][SIDE_RX] = (uint32_t)rc;
	}
	if (pass) {
		S.rule_side[ri][SIDE_TX] = S.rule_side[ri][SIDE_RX];
		S.sides[S.rule_side[ri][SIDE_RX] - 1].refs++;
	} else if (tx_on) {
		/* A sender has no replay window: the default keeps a window change from
		 * resetting the sender's rollover counter. */
		rc = side_get(cur[SIDE_TX], &s->tx, kinds | SRTP_CTX_PROTECT, 0, true, "tx", err,
			      errlen);
		if (rc < 0)
			return rc;
		S.rule_side[ri][SIDE_TX] = (uint32_t)rc;
	}
	if (r->treat != FWD_PLAIN) {
		struct fwd_rule_srtp *fs = &session_rules_srtp[ri];
		const uint32_t *sd = S.rule_side[ri];

		memset(fs, 0, sizeof(*fs));
		if (sd[SIDE_RX] != 0) {
			fs->rx = S.sides[sd[SIDE_RX] - 1].ctx;
			fs->rx_st = S.sides[sd[SIDE_RX] - 1].st;
		}
		if (sd[SIDE_TX] != 0) {
			fs->tx = S.sides[sd[SIDE_TX] - 1].ctx;
			fs->tx_st = S.sides[sd[SIDE_TX] - 1].st;
		}
	}
	return 0;
}

int session_add(const struct rpa_dp_stream *s, char *err, size_t errlen)
{
	struct fwd_rule *r, *old = NULL;
	struct fwd_rule_cold *rc_cold;
	struct session_key key;
	uint64_t now = rte_get_tsc_cycles();
	int src_idx, rc;

	rc = validate(s, &key, &src_idx, err, errlen);
	if (rc < 0)
		return rc;
	if (rte_hash_lookup_data(session_table, &key, (void **)&old) < 0)
		old = NULL;
	if (old == NULL && S.nfree == 0 && S.count < S.cfg.max_streams) {
		/* Slots of deleted streams return only after their grace period. */
		rte_rcu_qsbr_synchronize(S.cfg.qsbr, RTE_QSBR_THRID_INVALID);
		session_reclaim();
	}
	if (old == NULL && (S.count >= S.cfg.max_streams || S.nfree == 0)) {
		snprintf(err, errlen, "stream table full (%u streams)", S.cfg.max_streams);
		return -ENOSPC;
	}
	r = rule_alloc();
	if (r == NULL) {
		snprintf(err, errlen, "out of rule memory");
		return -ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	rc_cold = cold_of(r);
	memset(rc_cold, 0, sizeof(*rc_cold));
	r->egress = ifaddr_table[src_idx].port_id;
	r->owner = worker_owner_of(key.port, S.cfg.nworkers);
	r->flags = (uint8_t)s->flags;
	r->neigh = SESSION_NEIGH_NONE;
	r->rw.saddr = s->src.addr.v4;
	r->rw.sport = rte_cpu_to_be_16(s->src.port);
	rc_cold->latch_window_ms = s->latch_window_ms ? s->latch_window_ms
						      : (uint32_t)S.cfg.latch_window_ms;
	rc_cold->tag = s->tag;
	rc_cold->replay_window = s->replay_window ? s->replay_window : S.cfg.srtp_replay_window;
	if (!rpa_addr_is_unspec(&s->expect.addr)) {
		r->expect_v4 = s->expect.addr.v4;
		r->expect_port = rte_cpu_to_be_16(s->expect.port);
		/* A given source counts as the first latch: the window runs from now. */
		r->latched = (s->flags & RPA_DP_F_LATCH) != 0;
		rc_cold->latch_until = now + rte_get_tsc_hz() / 1000 * rc_cold->latch_window_ms;
	} else if (old != NULL && old->latched && (s->flags & RPA_DP_F_LATCH)) {
		/* An update that does not name the source keeps what was learnt. */
		r->expect_v4 = old->expect_v4;
		r->expect_port = old->expect_port;
		r->latched = 1;
		rc_cold->latch_until = cold_of(old)->latch_until;
	}
	rc = srtp_attach(s, r, old, err, errlen);
	if (rc == 0 && !rpa_addr_is_unspec(&s->dst.addr))
		rc = rule_set_peer(r, s->dst.addr.v4, rte_cpu_to_be_16(s->dst.port), err, errlen);
	else if (rc == 0 && old != NULL && old->rw.daddr != 0)
		rc = rule_set_peer(r, old->rw.daddr, old->rw.dport, err, errlen);
	if (rc < 0) {
		rule_release(r);
		return rc;
	}

	if (old != NULL) {
		r->slot = old->slot;
		S.nsrtp += (uint32_t)rule_has_srtp(r) - (uint32_t)rule_has_srtp(old);
		publish(&key, r, old);
		return 0;
	}
	r->slot = S.free_slots[--S.nfree];
	memset(&S.carry[r->slot], 0, sizeof(S.carry[r->slot]));
	if (session_srtp_ctr != NULL)
		memset(&session_srtp_ctr[r->slot], 0, sizeof(session_srtp_ctr[r->slot]));
	/* The slot's previous owner may have left an in-flight count: the epoch voids it, but
	 * the slot may now belong to another worker whose epoch happens to match. */
	memset(&session_order[r->slot], 0, sizeof(session_order[r->slot]));
	rc = rte_hash_add_key_data(session_table, &key, r);
	if (rc == -ENOSPC) {
		/* Key slots of deleted streams return only after their grace period. */
		rte_rcu_qsbr_synchronize(S.cfg.qsbr, RTE_QSBR_THRID_INVALID);
		session_reclaim();
		rc = rte_hash_add_key_data(session_table, &key, r);
	}
	if (rc < 0) {
		S.free_slots[S.nfree++] = r->slot;
		rule_release(r);
		snprintf(err, errlen, "session table insert failed: %s", strerror(-rc));
		return rc;
	}
	index_set(&key, r);
	S.count++;
	S.nsrtp += rule_has_srtp(r);
	return 0;
}

static int del_key(const struct session_key *key)
{
	struct fwd_rule *r;
	int32_t pos;

	if (rte_hash_lookup_data(session_table, key, (void **)&r) < 0)
		return -ENOENT;
	/* Unpublish before the grace period starts (retire): a worker that still read r
	 * keeps it until its next quiescent state. */
	index_set(key, NULL);
	pos = rte_hash_del_key(session_table, key);
	if (pos < 0) {
		index_set(key, r);
		return pos;
	}
	S.nsrtp -= rule_has_srtp(r);
	retire(r, pos);
	S.count--;
	return 0;
}

int session_del(const struct rpa_endpoint *local)
{
	struct session_key key;

	if (session_key_from(local, &key) < 0)
		return -EADDRNOTAVAIL;
	return del_key(&key);
}

static void rule_info(const struct session_key *key, const struct fwd_rule *r,
		      struct rpa_dp_stream_info *o)
{
	const struct slot_carry *c = &S.carry[r->slot];
	const struct fwd_rule_cold *cold = cold_of(r);
	struct stream_counters sum = c->ctr;

	memset(o, 0, sizeof(*o));
	o->stream.local.addr = ifaddr_table[key->addr_idx].addr;
	o->stream.local.port = key->port;
	rpa_addr_set_v4(&o->stream.src.addr, r->rw.saddr);
	o->stream.src.port = rte_be_to_cpu_16(r->rw.sport);
	if (r->rw.daddr != 0) {
		rpa_addr_set_v4(&o->stream.dst.addr, r->rw.daddr);
		o->stream.dst.port = rte_be_to_cpu_16(r->rw.dport);
	}
	if (r->expect_v4 != 0) {
		rpa_addr_set_v4(&o->stream.expect.addr, r->expect_v4);
		o->stream.expect.port = rte_be_to_cpu_16(r->expect_port);
	}
	o->stream.flags = r->flags;
	o->stream.latch_window_ms = cold->latch_window_ms;
	o->stream.tag = cold->tag;
	o->stream.replay_window = cold->replay_window;
	if (S.rule_side != NULL) {
		const uint32_t *sd = S.rule_side[r - session_rules];

		/* Suite, lengths and MKI; the key and salt stay here. */
		for (unsigned k = SIDE_RX; k <= SIDE_TX; k++) {
			struct rpa_dp_srtp *out = k == SIDE_RX ? &o->stream.rx : &o->stream.tx;

			if (sd[k] == 0)
				continue;
			*out = S.sides[sd[k] - 1].key;
			memset(out->key, 0, sizeof(out->key));
			memset(out->salt, 0, sizeof(out->salt));
		}
	}
	if (session_srtp_ctr != NULL) {
		const struct stream_srtp_counters *sc = &session_srtp_ctr[r->slot];

		o->srtp_auth_fail = __atomic_load_n(&sc->auth_fail, __ATOMIC_RELAXED);
		o->srtp_replay = __atomic_load_n(&sc->replay, __ATOMIC_RELAXED);
		o->srtp_other = __atomic_load_n(&sc->other, __ATOMIC_RELAXED);
	}
	ctr_add(&sum, &r->ctr);
	if (c->pending != 0)
		ctr_add(&sum, &session_rules[c->pending - 1].ctr);
	o->packets = sum.packets;
	o->bytes = sum.bytes;
	o->drops = sum.drops;
	o->idle_ms = sum.last_seen == 0
			 ? UINT64_MAX
			 : (rte_get_tsc_cycles() - sum.last_seen) * 1000 / rte_get_tsc_hz();
	o->owner = r->owner;
	o->latched = r->latched;
}

int session_get(const struct rpa_endpoint *local, struct rpa_dp_stream_info *out)
{
	struct session_key key;
	struct fwd_rule *r;

	if (session_key_from(local, &key) < 0)
		return -EADDRNOTAVAIL;
	if (rte_hash_lookup_data(session_table, &key, (void **)&r) < 0)
		return -ENOENT;
	rule_info(&key, r, out);
	return 0;
}

unsigned session_list(uint32_t *cursor, struct rpa_dp_stream_info *out, unsigned max)
{
	const void *k;
	void *d;
	unsigned n = 0;
	int32_t rc;

	while (n < max) {
		rc = rte_hash_iterate(session_table, &k, &d, cursor);
		if (rc < 0) {
			*cursor = 0;
			return n;
		}
		rule_info(k, d, &out[n++]);
	}
	/* Full page: *cursor is past at least one entry, so non-zero: the caller comes back. */
	return n;
}

uint64_t session_flush(bool by_tag, uint64_t tag)
{
	struct session_key *keys;
	uint32_t it = 0, n = 0;
	const void *k;
	void *d;
	uint64_t deleted = 0;

	if (S.count == 0)
		return 0;
	/* Collect first: deleting while iterating could skip keys that move. */
	keys = malloc(S.count * sizeof(*keys));
	if (keys == NULL)
		return 0;
	while (n < S.count && rte_hash_iterate(session_table, &k, &d, &it) >= 0)
		if (!by_tag || cold_of(d)->tag == tag)
			keys[n++] = *(const struct session_key *)k;
	for (uint32_t i = 0; i < n; i++)
		if (del_key(&keys[i]) == 0)
			deleted++;
	free(keys);
	return deleted;
}

/* A new rule with the forwarding fields of `old` (and a reference on its neighbour), ready
 * to be changed and published in its place; counters start at zero. */
static struct fwd_rule *rule_copy(const struct fwd_rule *old)
{
	struct fwd_rule *r = rule_alloc();

	if (r == NULL)
		return NULL;
	memcpy(r, old, offsetof(struct fwd_rule, ctr));
	memset(&r->ctr, 0, sizeof(r->ctr));
	*cold_of(r) = *cold_of(old);
	if (r->neigh != SESSION_NEIGH_NONE)
		neigh_ref_idx(r->neigh);
	if (S.rule_side != NULL) {
		uint32_t ri = (uint32_t)(r - session_rules), oi = (uint32_t)(old - session_rules);

		for (unsigned k = SIDE_RX; k <= SIDE_TX; k++) {
			S.rule_side[ri][k] = S.rule_side[oi][k];
			if (S.rule_side[ri][k] != 0)
				S.sides[S.rule_side[ri][k] - 1].refs++;
		}
	}
	if (session_rules_srtp != NULL)
		session_rules_srtp[r - session_rules] = session_rules_srtp[old - session_rules];
	return r;
}

int session_latch(const struct session_key *key, uint32_t saddr, uint16_t sport, uint64_t now)
{
	struct fwd_rule *old, *r, *rev_old, *rev;
	struct session_key rkey;
	struct rpa_endpoint src;
	char err[RPA_DP_ERRMSG_LEN];

	if (rte_hash_lookup_data(session_table, key, (void **)&old) < 0)
		return -ENOENT;
	if (!(old->flags & RPA_DP_F_LATCH) || (old->latched && now >= cold_of(old)->latch_until))
		return 0;
	if (old->expect_v4 == saddr && old->expect_port == sport)
		return 1; /* several packets of the new source were queued: first one did it */
	r = rule_copy(old);
	if (r == NULL)
		return -ENOMEM;
	r->expect_v4 = saddr;
	r->expect_port = sport;
	if (!old->latched)
		cold_of(r)->latch_until =
			now + rte_get_tsc_hz() / 1000 * cold_of(r)->latch_window_ms;
	r->latched = 1;
	publish(key, r, old);

	/* The reverse stream sends from our local to this stream's peer: learn its dst. */
	rpa_addr_set_v4(&src.addr, old->rw.saddr);
	src.port = rte_be_to_cpu_16(old->rw.sport);
	if (session_key_from(&src, &rkey) < 0 ||
	    rte_hash_lookup_data(session_table, &rkey, (void **)&rev_old) < 0)
		return 1;
	if (rev_old->rw.saddr != ifaddr_table[key->addr_idx].addr.v4 ||
	    rev_old->rw.sport != rte_cpu_to_be_16(key->port))
		return 1; /* not paired with us */
	if (rev_old->rw.daddr == saddr && rev_old->rw.dport == sport)
		return 1;
	rev = rule_copy(rev_old);
	if (rev == NULL)
		return 1;
	if (rev->neigh != SESSION_NEIGH_NONE) {
		neigh_unref(rev->neigh);
		rev->neigh = SESSION_NEIGH_NONE;
	}
	if (rule_set_peer(rev, saddr, sport, err, sizeof(err)) < 0) {
		rule_release(rev);
		return 1;
	}
	publish(&rkey, rev, rev_old);
	return 1;
}
