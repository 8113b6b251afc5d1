/* DPDK ports: resolution of configured device names, queue layout (one rx queue per worker
 * as far as the port has them, one tx queue per worker), offloads, start/stop. Main lcore,
 * at start-up and shutdown. */
#ifndef DP_PORTS_H
#define DP_PORTS_H

#include <stdint.h>

#include <rte_mempool.h>

#include "config.h"

/* Port id for "0" or a device name ("net_af_packet0", "0000:01:00.0"); -ENODEV if none. */
int ports_resolve(const char *dev);

/* Configure and start port_id for nworkers workers: rx queues min(nworkers, max), tx
 * queue w for worker w (the port must have nworkers tx queues), checksum offloads where
 * offered (recorded in worker_shared), rx queues assigned round-robin to workers.
 * Also records the port's MAC in ifaddr. 0 or -errno with a message in err. */
int ports_setup(uint16_t port_id, unsigned nworkers, struct rte_mempool *mp, uint16_t rx_desc,
		uint16_t tx_desc, char *err, size_t errlen);

/* Stop and close every port that ports_setup started. */
void ports_fini(void);

#endif
