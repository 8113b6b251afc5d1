/* Neighbour resolution (ARP) and the neighbour table. Main lcore only, except the MAC words
 * that workers read (see neigh.h). States follow RFC 4861's shape, applied to ARP:
 * INCOMPLETE -> REACHABLE -> STALE (refreshing, still used) -> FAILED. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "ifaddr.h"
#include "neigh.h"

#define NEIGH_HOLD_MAX 64

uint64_t *neigh_mac;

struct neigh_key {
	uint32_t ip; /* network order */
	uint16_t port;
	uint16_t zero;
};

struct neigh_entry {
	bool used;
	uint8_t state;
	uint16_t port;
	uint32_t ip;
	uint32_t refs;
	uint32_t probes;
	uint64_t updated;  /* tsc of the last answer or state change */
	uint64_t next_tx;  /* tsc of the next request */
	uint64_t unref_at; /* tsc when refs dropped to 0 */
	uint16_t nheld;
	struct rte_mbuf **held; /* [cfg.hold] */
};

static struct {
	struct neigh_config cfg;
	struct rte_mempool *mp;
	neigh_tx_fn tx;
	neigh_release_fn release;
	neigh_drop_fn drop;
	struct rte_hash *index;
	struct neigh_entry *e;
	struct rte_mbuf **held_store;
	uint32_t *free_idx;
	uint32_t nfree;
	uint32_t hiwat; /* entries at or above this were never used */
	uint64_t ms;    /* tsc per millisecond */
} N;

static void set_mac_word(uint32_t idx, const struct rte_ether_addr *mac)
{
	uint64_t v = 0;

	if (mac != NULL) {
		for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
			v |= (uint64_t)mac->addr_bytes[i] << (8 * (5 - i));
		v |= NEIGH_MAC_VALID;
	}
	__atomic_store_n(&neigh_mac[idx], v, __ATOMIC_RELAXED);
}

int neigh_init(const struct neigh_config *cfg, struct rte_mempool *mp, neigh_tx_fn tx,
	       neigh_release_fn release, neigh_drop_fn drop)
{
	struct rte_hash_parameters hp = {
		.name = "rpa_neigh",
		.entries = NEIGH_MAX,
		.key_len = sizeof(struct neigh_key),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
	};

	if (cfg->hold > NEIGH_HOLD_MAX || cfg->probes == 0 || cfg->retrans_ms == 0)
		return -EINVAL;
	memset(&N, 0, sizeof(N));
	N.cfg = *cfg;
	N.mp = mp;
	N.tx = tx;
	N.release = release;
	N.drop = drop;
	N.ms = rte_get_tsc_hz() / 1000;
	N.index = rte_hash_create(&hp);
	neigh_mac = rte_zmalloc("rpa_neigh_mac", NEIGH_MAX * sizeof(uint64_t), RTE_CACHE_LINE_SIZE);
	N.e = calloc(NEIGH_MAX, sizeof(*N.e));
	N.held_store = calloc((size_t)NEIGH_MAX * (cfg->hold ? cfg->hold : 1), sizeof(void *));
	N.free_idx = malloc(NEIGH_MAX * sizeof(uint32_t));
	if (N.index == NULL || neigh_mac == NULL || N.e == NULL || N.held_store == NULL ||
	    N.free_idx == NULL) {
		neigh_fini();
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < NEIGH_MAX; i++) {
		N.free_idx[i] = NEIGH_MAX - 1 - i;
		N.e[i].held = &N.held_store[(size_t)i * (cfg->hold ? cfg->hold : 1)];
	}
	N.nfree = NEIGH_MAX;
	return 0;
}

static void drop_held(struct neigh_entry *e)
{
	for (unsigned i = 0; i < e->nheld; i++)
		N.drop(e->held[i]);
	e->nheld = 0;
}

void neigh_fini(void)
{
	if (N.e != NULL)
		for (uint32_t i = 0; i < N.hiwat; i++)
			for (unsigned j = 0; j < N.e[i].nheld; j++)
				rte_pktmbuf_free(N.e[i].held[j]);
	rte_hash_free(N.index);
	rte_free(neigh_mac);
	free(N.e);
	free(N.held_store);
	free(N.free_idx);
	memset(&N, 0, sizeof(N));
	neigh_mac = NULL;
}

static void send_request(struct neigh_entry *e, bool unicast)
{
	const struct ifaddr_port *p = &ifaddr_ports[e->port];
	struct rte_ether_addr dst;
	struct rte_mbuf *m;
	uint32_t spa = 0;

	/* Source address: the port's media address on the target's subnet, else its first. */
	for (unsigned i = 0; i < p->n && spa == 0; i++) {
		const struct ifaddr *ia = &ifaddr_table[p->idx[i]];
		if ((ia->addr.v4 & ia->v4_mask) == (e->ip & ia->v4_mask))
			spa = ia->addr.v4;
	}
	if (spa == 0 && p->n > 0)
		spa = p->v4[0];
	m = rte_pktmbuf_alloc(N.mp);
	if (m == NULL)
		return;
	if (unicast) {
		uint64_t v = neigh_mac[e - N.e];
		for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
			dst.addr_bytes[i] = (uint8_t)(v >> (8 * (5 - i)));
	}
	m->data_len = m->pkt_len = arp_build_request(rte_pktmbuf_mtod(m, uint8_t *), &p->mac, spa,
						     e->ip, unicast ? &dst : NULL);
	if (N.tx(e->port, m) != 0)
		rte_pktmbuf_free(m);
}

static int lookup(uint16_t port, uint32_t ip)
{
	struct neigh_key k = {.ip = ip, .port = port};
	void *d;

	if (rte_hash_lookup_data(N.index, &k, &d) < 0)
		return -1;
	return (int)(uintptr_t)d;
}

static int create(uint16_t port, uint32_t ip, uint64_t now)
{
	struct neigh_key k = {.ip = ip, .port = port};
	struct neigh_entry *e;
	uint32_t idx;

	if (N.nfree == 0)
		return -ENOSPC;
	idx = N.free_idx[--N.nfree];
	if (rte_hash_add_key_data(N.index, &k, (void *)(uintptr_t)idx) < 0) {
		N.free_idx[N.nfree++] = idx;
		return -ENOSPC;
	}
	e = &N.e[idx];
	e->used = true;
	e->state = RPA_DP_NEIGH_INCOMPLETE;
	e->port = port;
	e->ip = ip;
	e->refs = 0;
	e->probes = 0;
	e->updated = now;
	e->next_tx = now;
	e->unref_at = now;
	e->nheld = 0;
	set_mac_word(idx, NULL);
	if (idx >= N.hiwat)
		N.hiwat = idx + 1;
	return (int)idx;
}

static void destroy(uint32_t idx)
{
	struct neigh_entry *e = &N.e[idx];
	struct neigh_key k = {.ip = e->ip, .port = e->port};

	drop_held(e);
	rte_hash_del_key(N.index, &k);
	set_mac_word(idx, NULL);
	e->used = false;
	N.free_idx[N.nfree++] = idx;
}

int neigh_ref(uint16_t port, const struct rpa_addr *ip)
{
	uint64_t now = rte_get_tsc_cycles();
	int idx;

	if (ip->family != RPA_AF_INET)
		return -EAFNOSUPPORT;
	idx = lookup(port, ip->v4);
	if (idx < 0) {
		idx = create(port, ip->v4, now);
		if (idx < 0)
			return idx;
		send_request(&N.e[idx], false);
		N.e[idx].probes = 1;
		N.e[idx].next_tx = now + N.cfg.retrans_ms * N.ms;
	} else if (N.e[idx].state == RPA_DP_NEIGH_FAILED) {
		/* A new user of a failed next hop deserves a fresh attempt. */
		N.e[idx].state = RPA_DP_NEIGH_INCOMPLETE;
		N.e[idx].probes = 0;
		N.e[idx].next_tx = now;
	}
	N.e[idx].refs++;
	return idx;
}

void neigh_ref_idx(uint32_t idx)
{
	N.e[idx].refs++;
}

void neigh_unref(uint32_t idx)
{
	struct neigh_entry *e = &N.e[idx];

	RTE_VERIFY(e->used && e->refs > 0);
	if (--e->refs == 0)
		e->unref_at = rte_get_tsc_cycles();
}

bool neigh_hold(uint32_t idx, struct rte_mbuf *m)
{
	struct neigh_entry *e = &N.e[idx];
	uint64_t now = rte_get_tsc_cycles();

	if (!e->used) {
		N.drop(m);
		return false;
	}
	if (neigh_mac[idx] & NEIGH_MAC_VALID) {
		/* Resolved between the worker's look and ours. */
		N.release(m);
		return true;
	}
	if (e->state == RPA_DP_NEIGH_FAILED && now >= e->next_tx) {
		e->state = RPA_DP_NEIGH_INCOMPLETE;
		e->probes = 0;
	}
	if (e->state == RPA_DP_NEIGH_FAILED || e->nheld >= N.cfg.hold) {
		N.drop(m);
		return false;
	}
	e->held[e->nheld++] = m;
	return true;
}

static void resolved(uint32_t idx, const struct rte_ether_addr *mac, uint64_t now)
{
	struct neigh_entry *e = &N.e[idx];

	set_mac_word(idx, mac);
	e->state = RPA_DP_NEIGH_REACHABLE;
	e->probes = 0;
	e->updated = now;
	for (unsigned i = 0; i < e->nheld; i++)
		N.release(e->held[i]);
	e->nheld = 0;
}

void neigh_input(uint16_t port, const struct arp_info *arp)
{
	const struct ifaddr_port *p = &ifaddr_ports[port];
	uint64_t now = rte_get_tsc_cycles();
	bool for_us = false;
	int idx;

	if (rte_is_same_ether_addr(&arp->sha, &p->mac))
		return; /* our own frame, looped back */
	for (unsigned i = 0; i < p->n; i++) {
		if (p->v4[i] == arp->tpa)
			for_us = true;
		if (p->v4[i] == arp->spa && arp->spa != 0) {
			RTE_LOG(WARNING, USER1, "port %u: ARP from another host claims media "
				"address %u.%u.%u.%u\n", port, arp->spa & 0xff,
				(arp->spa >> 8) & 0xff, (arp->spa >> 16) & 0xff, arp->spa >> 24);
			return;
		}
	}
	if (arp->spa == 0)
		return; /* ARP probe (RFC 5227): nothing to learn */
	idx = lookup(port, arp->spa);
	/* RFC 826 merge: refresh what we track; a request to us also creates an entry, since
	 * the asker is about to talk to us (bounded: only while the table is mostly free). */
	if (idx < 0 && for_us && arp->op == RTE_ARP_OP_REQUEST && N.nfree > NEIGH_MAX / 4)
		idx = create(port, arp->spa, now);
	if (idx >= 0)
		resolved((uint32_t)idx, &arp->sha, now);
	if (for_us && arp->op == RTE_ARP_OP_REQUEST) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(N.mp);
		if (m == NULL)
			return;
		m->data_len = m->pkt_len =
			arp_build_reply(rte_pktmbuf_mtod(m, uint8_t *), &p->mac, arp->tpa, arp);
		if (N.tx(port, m) != 0)
			rte_pktmbuf_free(m);
	}
}

void neigh_timer(uint64_t now)
{
	for (uint32_t i = 0; i < N.hiwat; i++) {
		struct neigh_entry *e = &N.e[i];

		if (!e->used)
			continue;
		if (e->refs == 0 && now - e->unref_at >= N.cfg.gc_ms * N.ms &&
		    e->nheld == 0) {
			destroy(i);
			continue;
		}
		switch (e->state) {
		case RPA_DP_NEIGH_REACHABLE:
			/* Nobody using it: let it age out rather than refresh it. */
			if (now - e->updated < N.cfg.reachable_ms * N.ms || e->refs == 0)
				break;
			e->state = RPA_DP_NEIGH_STALE;
			e->probes = 0;
			e->next_tx = now;
			__attribute__((fallthrough)); /* probe right away */
		case RPA_DP_NEIGH_INCOMPLETE:
		case RPA_DP_NEIGH_STALE:
			if (now < e->next_tx)
				break;
			if (e->probes >= N.cfg.probes) {
				e->state = RPA_DP_NEIGH_FAILED;
				e->updated = now;
				/* Retry on demand, but not more than once per second. */
				e->next_tx = now + 1000 * N.ms;
				set_mac_word(i, NULL);
				drop_held(e);
				break;
			}
			/* Refresh with unicast first, as Linux does; resolve with broadcast. */
			send_request(e, e->state == RPA_DP_NEIGH_STALE && e->probes == 0);
			e->probes++;
			e->next_tx = now + N.cfg.retrans_ms * N.ms;
			break;
		default:
			break;
		}
	}
}

void neigh_announce(uint16_t port)
{
	const struct ifaddr_port *p = &ifaddr_ports[port];

	for (unsigned i = 0; i < p->n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(N.mp);
		if (m == NULL)
			return;
		m->data_len = m->pkt_len = arp_build_request(rte_pktmbuf_mtod(m, uint8_t *), &p->mac,
							     p->v4[i], p->v4[i], NULL);
		if (N.tx(port, m) != 0)
			rte_pktmbuf_free(m);
	}
}

unsigned neigh_count(void)
{
	return NEIGH_MAX - N.nfree;
}

unsigned neigh_list(uint32_t *cursor, struct rpa_dp_neigh *out, unsigned max)
{
	uint64_t now = rte_get_tsc_cycles();
	unsigned n = 0;
	uint32_t i;

	for (i = *cursor; i < N.hiwat && n < max; i++) {
		const struct neigh_entry *e = &N.e[i];
		struct rpa_dp_neigh *o;
		uint64_t v;

		if (!e->used)
			continue;
		o = &out[n++];
		memset(o, 0, sizeof(*o));
		rpa_addr_set_v4(&o->addr, e->ip);
		o->port_id = e->port;
		v = neigh_mac[i];
		if (v & NEIGH_MAC_VALID)
			for (int j = 0; j < RTE_ETHER_ADDR_LEN; j++)
				o->mac[j] = (uint8_t)(v >> (8 * (5 - j)));
		o->state = e->state;
		o->refs = e->refs;
		o->age_ms = (uint32_t)((now - e->updated) / N.ms);
		o->held = e->nheld;
		o->probes = e->probes;
	}
	*cursor = i < N.hiwat ? i : 0;
	return n;
}
