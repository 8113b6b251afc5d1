/* The slow path: frames workers could not handle alone (ARP, a source to latch, a next hop
 * to resolve), processed on the main lcore. Its counters are written by the main lcore only
 * and reported beside the workers'. */
#ifndef DP_SLOWPATH_H
#define DP_SLOWPATH_H

#include <rte_mempool.h>

#include "counters.h"

extern struct worker_stats slowpath_stats;

/* Create the slow ring and bring up ARP (neighbour table). 0 or -errno. */
int slowpath_init(struct rte_mempool *mp, const struct neigh_config *ncfg);
void slowpath_fini(void);

/* Handle up to a burst of punted frames. Returns how many. */
unsigned slowpath_poll(uint64_t now);

/* Queue a frame for transmission as it is (via worker 0, which owns a tx queue on every
 * port). 0, or -ENOBUFS (caller frees). */
int slowpath_tx(uint16_t port, struct rte_mbuf *m);

#endif
