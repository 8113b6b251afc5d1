/* Aggregated counters for the control socket and DPDK telemetry. Reads the per-worker and
 * slow-path counters without locks (each has a single writer; a reader may see a count one
 * burst old). Any thread. */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdint.h>

#include <rtpanchor/dp_proto.h>

#include "counters.h"

/* Process start, for uptime; set once by main before workers run. */
extern uint64_t stats_start_tsc;

void stats_summary(struct rpa_dp_stats *out);
/* Returns 0, or -ENODEV when the port is not in use. */
int stats_port(uint16_t port, struct rpa_dp_port_stats *out);
void stats_worker(unsigned w, struct rpa_dp_worker_stats *out);
/* per_worker[] covers workers; the slow path's drops count in total and per_port only. */
void stats_drop(enum dp_drop reason, struct rpa_dp_drop_stats *out);

#endif
