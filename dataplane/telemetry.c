/* /rtpanchor/... DPDK telemetry commands. See telemetry.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "session.h"
#include "srtp.h"
#include "stats.h"

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rpa_dp_stats s;
	struct rpa_dp_port_stats p;
	uint64_t rx = 0, tx = 0, drops = 0;

	stats_summary(&s);
	for (uint16_t i = 0; i < s.nports; i++)
		if (stats_port(i, &p) == 0) {
			rx += p.rx_pkts;
			tx += p.tx_pkts;
			drops += p.drops;
		}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "uptime_ms", s.uptime_ms);
	rte_tel_data_add_dict_u64(d, "streams", s.streams);
	rte_tel_data_add_dict_u64(d, "streams_max", s.streams_max);
	rte_tel_data_add_dict_u64(d, "neighbours", s.neighbours);
	rte_tel_data_add_dict_u64(d, "ports", s.nports);
	rte_tel_data_add_dict_u64(d, "workers", s.nworkers);
	rte_tel_data_add_dict_u64(d, "rx_pkts", rx);
	rte_tel_data_add_dict_u64(d, "tx_pkts", tx);
	rte_tel_data_add_dict_u64(d, "drops", drops);
	return 0;
}

/* /rtpanchor/ports,<id>: one port's counters; without a parameter, the list of port ids. */
static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rpa_dp_stats s;
	struct rpa_dp_port_stats p;
	char *end;
	unsigned long id;

	stats_summary(&s);
	if (params == NULL || *params == '\0') {
		rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
		for (uint16_t i = 0; i < s.nports; i++)
			if (stats_port(i, &p) == 0)
				rte_tel_data_add_array_int(d, i);
		return 0;
	}
	id = strtoul(params, &end, 10);
	if (*end != '\0' || id >= RPA_DP_MAX_PORTS || stats_port((uint16_t)id, &p) != 0)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", p.name);
	rte_tel_data_add_dict_u64(d, "rx_pkts", p.rx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_bytes", p.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_pkts", p.tx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_bytes", p.tx_bytes);
	rte_tel_data_add_dict_u64(d, "drops", p.drops);
	rte_tel_data_add_dict_u64(d, "hw_ipackets", p.hw_ipackets);
	rte_tel_data_add_dict_u64(d, "hw_opackets", p.hw_opackets);
	rte_tel_data_add_dict_u64(d, "hw_imissed", p.hw_imissed);
	return 0;
}

static int tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rpa_dp_stats s;
	struct rpa_dp_worker_stats w;
	char name[32];

	stats_summary(&s);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < s.nworkers; i++) {
		stats_worker(i, &w);
		snprintf(name, sizeof(name), "worker%u_rx_pkts", i);
		rte_tel_data_add_dict_u64(d, name, w.rx_pkts);
		snprintf(name, sizeof(name), "worker%u_tx_pkts", i);
		rte_tel_data_add_dict_u64(d, name, w.tx_pkts);
		snprintf(name, sizeof(name), "worker%u_drops", i);
		rte_tel_data_add_dict_u64(d, name, w.drops);
		snprintf(name, sizeof(name), "worker%u_busy_cycles", i);
		rte_tel_data_add_dict_u64(d, name, w.busy_cycles);
	}
	return 0;
}

static int tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rpa_dp_drop_stats ds;

	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < DP_DROP_MAX; i++) {
		stats_drop((enum dp_drop)i, &ds);
		/* Telemetry dictionary keys allow only [A-Za-z0-9_/]: "no-stream" -> "no_stream". */
		for (char *c = ds.name; *c != '\0'; c++)
			if (*c == '-')
				*c = '_';
		rte_tel_data_add_dict_u64(d, ds.name, ds.total);
	}
	return 0;
}

/* SRTP: the cryptodev, streams with keys and their limit, key sides held (including those
 * of replaced rules in their grace period). Read racily, like every counter here. */
static int tel_srtp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "cryptodev", srtp_engine_device());
	rte_tel_data_add_dict_u64(d, "streams", session_srtp_count());
	rte_tel_data_add_dict_u64(d, "streams_max", session_srtp_capacity());
	rte_tel_data_add_dict_u64(d, "key_sides", session_srtp_sides());
	return 0;
}

int telemetry_register(void)
{
	int rc = 0;

	rc |= rte_telemetry_register_cmd("/rtpanchor/stats", tel_stats,
					 "rtpanchor totals: streams, rx/tx packets, drops");
	rc |= rte_telemetry_register_cmd("/rtpanchor/ports", tel_ports,
					 "rtpanchor port counters. Parameter: port id");
	rc |= rte_telemetry_register_cmd("/rtpanchor/workers", tel_workers,
					 "rtpanchor per-worker counters");
	rc |= rte_telemetry_register_cmd("/rtpanchor/drops", tel_drops,
					 "rtpanchor drops by reason");
	rc |= rte_telemetry_register_cmd("/rtpanchor/srtp", tel_srtp,
					 "rtpanchor SRTP: cryptodev, streams with keys, limit");
	return rc == 0 ? 0 : -EINVAL;
}
