/* Neighbour table: next-hop IPv4 -> MAC per port, resolved by ARP, aged and refreshed.
 *
 * Threads: everything except neigh_mac_get() runs on the main lcore. The MAC a worker reads
 * is one 64-bit word per entry (valid bit | 48-bit MAC), written by the main lcore with a
 * relaxed atomic store and read by workers with a relaxed atomic load, so a worker never
 * sees half a MAC. Entries are referenced by index from forwarding rules; an entry is
 * freed only when no rule references it and it has aged out, and rules drop their
 * reference only after the RCU grace period, so a worker never reads a recycled entry. */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <rtpanchor/dp_proto.h>

#include "arp.h"

#define NEIGH_MAX        16384
#define NEIGH_MAC_VALID  (1ULL << 63)

extern uint64_t *neigh_mac; /* [NEIGH_MAX]; see the file comment for who writes it */

struct neigh_config {
	uint32_t reachable_ms; /* refresh an entry this long after its last answer */
	uint32_t retrans_ms;   /* between requests while resolving or refreshing */
	uint32_t probes;       /* unanswered requests before FAILED */
	uint32_t hold;         /* packets held per unresolved entry */
	uint32_t gc_ms;        /* unreferenced entries are freed after this */
};

/* Sends a frame out of a port from the main lcore (its own tx queue). Returns 0 if queued. */
typedef int (*neigh_tx_fn)(uint16_t port, struct rte_mbuf *m);
/* Gives a held packet back to the owning worker once its next hop resolved. */
typedef void (*neigh_release_fn)(struct rte_mbuf *m);
/* Drops a held packet whose next hop failed (counts it as neigh-unresolved). */
typedef void (*neigh_drop_fn)(struct rte_mbuf *m);

int neigh_init(const struct neigh_config *cfg, struct rte_mempool *mp, neigh_tx_fn tx,
	       neigh_release_fn release, neigh_drop_fn drop);
void neigh_fini(void);

/* Take a reference on the entry for (port, ip), creating it and starting resolution if
 * needed. Returns the index, or -ENOSPC / -EAFNOSUPPORT. */
int neigh_ref(uint16_t port, const struct rpa_addr *ip);
/* Take another reference on an existing entry (a rule copied from another). */
void neigh_ref_idx(uint32_t idx);
/* Drop a reference (call only after the referencing rule's grace period). */
void neigh_unref(uint32_t idx);

/* A frame arrived that needs entry idx resolved: hold it (bounded) and make sure a request
 * is on its way. Takes ownership of m; returns false if it was dropped (hold full/failed). */
bool neigh_hold(uint32_t idx, struct rte_mbuf *m);

/* An ARP frame arrived on port. Answers requests for our media addresses, learns from
 * replies (and from requests whose sender we already track: RFC 826 merge). */
void neigh_input(uint16_t port, const struct arp_info *arp);

/* Timers: retransmit, refresh, expire, free. Call every few milliseconds. */
void neigh_timer(uint64_t now_tsc);

/* Gratuitous ARP for every media address of the port. */
void neigh_announce(uint16_t port);

unsigned neigh_count(void);
/* Same paging contract as session_list. */
unsigned neigh_list(uint32_t *cursor, struct rpa_dp_neigh *out, unsigned max);

/* HOT: the MAC of entry idx if it is usable. */
static inline bool neigh_mac_get(uint32_t idx, struct rte_ether_addr *mac)
{
	uint64_t v = __atomic_load_n(&neigh_mac[idx], __ATOMIC_RELAXED);
	if (!(v & NEIGH_MAC_VALID))
		return false;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac->addr_bytes[i] = (uint8_t)(v >> (8 * (5 - i)));
	return true;
}

#endif
