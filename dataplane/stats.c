/* Counter aggregation across workers and the slow path. See stats.h. */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "ifaddr.h"
#include "neigh.h"
#include "session.h"
#include "slowpath.h"
#include "stats.h"
#include "worker.h"

uint64_t stats_start_tsc;

#define RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static unsigned nports(void)
{
	unsigned n = 0;

	for (unsigned p = 0; p < RPA_DP_MAX_PORTS; p++)
		if (worker_shared.port_used[p])
			n = p + 1;
	return n;
}

void stats_summary(struct rpa_dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->uptime_ms = (rte_get_tsc_cycles() - stats_start_tsc) * 1000 / rte_get_tsc_hz();
	out->streams = session_count();
	out->streams_max = session_capacity();
	out->tsc_hz = rte_get_tsc_hz();
	out->neighbours = neigh_count();
	out->nports = (uint16_t)nports();
	out->nworkers = (uint16_t)worker_shared.nworkers;
	out->ndrops = DP_DROP_MAX;
}

static void add_port(const struct worker_stats *s, uint16_t p, struct rpa_dp_port_stats *o)
{
	o->rx_pkts += RD(s->rx_pkts[p]);
	o->rx_bytes += RD(s->rx_bytes[p]);
	o->tx_pkts += RD(s->tx_pkts[p]);
	o->tx_bytes += RD(s->tx_bytes[p]);
	for (unsigned r = 0; r < DP_DROP_MAX; r++)
		o->drops += RD(s->drops[p][r]);
}

int stats_port(uint16_t port, struct rpa_dp_port_stats *o)
{
	struct rte_eth_stats hw;

	memset(o, 0, sizeof(*o));
	if (port >= RPA_DP_MAX_PORTS || !worker_shared.port_used[port])
		return -ENODEV;
	rte_eth_dev_get_name_by_port(port, o->name);
	o->port_id = port;
	memcpy(o->mac, ifaddr_ports[port].mac.addr_bytes, 6);
	for (unsigned w = 0; w < worker_shared.nworkers; w++)
		add_port(&worker_shared.w[w]->stats, port, o);
	add_port(&slowpath_stats, port, o);
	if (rte_eth_stats_get(port, &hw) == 0) {
		o->hw_ipackets = hw.ipackets;
		o->hw_opackets = hw.opackets;
		o->hw_imissed = hw.imissed;
		o->hw_ierrors = hw.ierrors;
		o->hw_oerrors = hw.oerrors;
	}
	return 0;
}

void stats_worker(unsigned w, struct rpa_dp_worker_stats *o)
{
	const struct worker *wk = worker_shared.w[w];

	memset(o, 0, sizeof(*o));
	o->lcore = wk->lcore;
	for (unsigned p = 0; p < RPA_DP_MAX_PORTS; p++) {
		o->rx_pkts += RD(wk->stats.rx_pkts[p]);
		o->tx_pkts += RD(wk->stats.tx_pkts[p]);
		for (unsigned r = 0; r < DP_DROP_MAX; r++)
			o->drops += RD(wk->stats.drops[p][r]);
	}
	o->handoff = RD(wk->stats.handoff);
	o->punted = RD(wk->stats.punted);
	o->order_timeouts = (uint32_t)RD(wk->stats.order_timeouts);
	o->busy_cycles = RD(wk->stats.busy_cycles);
	o->idle_cycles = RD(wk->stats.idle_cycles);
}

void stats_drop(enum dp_drop reason, struct rpa_dp_drop_stats *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", dp_drop_names[reason]);
	for (unsigned p = 0; p < RPA_DP_MAX_PORTS; p++) {
		uint64_t slow = RD(slowpath_stats.drops[p][reason]);
		o->per_port[p] += slow;
		o->total += slow;
		for (unsigned w = 0; w < worker_shared.nworkers; w++) {
			uint64_t v = RD(worker_shared.w[w]->stats.drops[p][reason]);
			o->per_port[p] += v;
			o->per_worker[w] += v;
			o->total += v;
		}
	}
}
