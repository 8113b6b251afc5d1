/* DPDK port set-up and teardown. See ports.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "ifaddr.h"
#include "ports.h"
#include "worker.h"

int ports_resolve(const char *dev)
{
	uint16_t id;
	char *end;
	unsigned long v = strtoul(dev, &end, 10);

	if (*dev != '\0' && *end == '\0')
		return v < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port((uint16_t)v)
			       ? (int)v
			       : -ENODEV;
	if (rte_eth_dev_get_port_by_name(dev, &id) != 0)
		return -ENODEV;
	return id;
}

int ports_setup(uint16_t port_id, unsigned nworkers, struct rte_mempool *mp, uint16_t rx_desc,
		uint16_t tx_desc, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nrxq, ntxq, nb_rxd = rx_desc, nb_txd = tx_desc;
	int rc;

	if (port_id >= RPA_DP_MAX_PORTS) {
		snprintf(err, errlen, "port %u: only ports 0..%d are supported", port_id,
			 RPA_DP_MAX_PORTS - 1);
		return -EINVAL;
	}
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: cannot read device info: %s", port_id,
			 strerror(-rc));
		return rc;
	}
	nrxq = (uint16_t)RTE_MIN(nworkers, info.max_rx_queues);
	ntxq = (uint16_t)nworkers;
	if (info.max_tx_queues < ntxq) {
		snprintf(err, errlen,
			 "port %u (%s) has %u tx queues, one per worker is needed (%u); for "
			 "net_af_packet add qpairs=%u to the --vdev",
			 port_id, info.driver_name, info.max_tx_queues, ntxq, ntxq);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	if (nrxq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		worker_shared.rx_csum_ok[port_id] = 1;
	}
	if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) &&
	    (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		worker_shared.tx_csum_ok[port_id] = 1;
	}
	rc = rte_eth_dev_configure(port_id, nrxq, ntxq, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	for (uint16_t q = 0; rc == 0 && q < nrxq; q++)
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, rte_eth_dev_socket_id(port_id),
					    NULL, mp);
	for (uint16_t q = 0; rc == 0 && q < ntxq; q++)
		rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, rte_eth_dev_socket_id(port_id),
					    NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): configure/start failed: %s", port_id,
			 info.driver_name, strerror(rc < 0 ? -rc : rc));
		return rc < 0 ? rc : -rc;
	}
	rte_eth_macaddr_get(port_id, &mac);
	ifaddr_set_mac(port_id, &mac);
	worker_shared.port_used[port_id] = 1;

	for (uint16_t q = 0; q < nrxq; q++) {
		struct worker *w = worker_shared.w[q % nworkers];
		if (w->nrxq < WORKER_MAX_RXQ)
			w->rxq[w->nrxq++] = (struct worker_rxq){.port = port_id, .queue = q};
	}
	for (unsigned i = 0; i < nworkers; i++)
		worker_shared.w[i]->txq[port_id] = (uint16_t)i;
	return 0;
}

void ports_fini(void)
{
	for (uint16_t p = 0; p < RPA_DP_MAX_PORTS; p++) {
		if (!worker_shared.port_used[p])
			continue;
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
		worker_shared.port_used[p] = 0;
	}
}
