/* DPDK telemetry commands under /rtpanchor/, so dpdk-telemetry.py and any telemetry client
 * read rtpanchor's counters. Callbacks run on DPDK's telemetry thread and only read
 * counters (see stats.h). */
#ifndef DP_TELEMETRY_H
#define DP_TELEMETRY_H

/* Register /rtpanchor/stats, /rtpanchor/ports, /rtpanchor/workers, /rtpanchor/drops.
 * 0 or -errno. */
int telemetry_register(void);

#endif
