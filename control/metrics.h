/* Prometheus metrics of rtpanchor-control, served as text format 0.0.4 over HTTP
 * (libmicrohttpd, its own thread). The control main thread is the only writer of every
 * value; the HTTP thread reads a consistent copy under a mutex taken once per update
 * batch and once per scrape, never per packet. */
#ifndef RTPANCHOR_METRICS_H
#define RTPANCHOR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_DEFAULT_LISTEN "127.0.0.1:9810"
#define METRICS_MAX_IFACES 8
#define METRICS_MAX_DROP_REASONS 64 /* as many as the dataplane reports (DPCLIENT_MAX_DROPS) */

struct metrics;

/* Listen on "ADDR:PORT" ("[v6]:PORT" too); port 0 picks a free one (see metrics_port).
 * Serves GET /metrics (and / with a pointer to it); other paths 404, other methods 405.
 * Returns NULL with a message naming the address in err. */
struct metrics *metrics_start(const char *listen, char *err, size_t errlen);
/* Stop the HTTP thread and free; NULL is fine. */
void metrics_stop(struct metrics *m);
/* The bound TCP port. */
uint16_t metrics_port(const struct metrics *m);

/* One command handled: op ("offer", "answer", "delete", "query", "list", "ping",
 * "statistics", or "unknown"), result ("ok", "error", "pong") and its latency from the
 * moment it was read to the moment its reply was written, in seconds. Feeds
 * rtpanchor_commands_total{op,result} and the histogram
 * rtpanchor_command_duration_seconds{op} (buckets 0.0005 .. 1 s). An op outside that list
 * counts as "unknown", a result outside it as "error"; negative or NaN seconds as 0. */
void metrics_command(struct metrics *m, const char *op, const char *result, double seconds);

/* Gauges and dataplane figures, refreshed by the main loop (about once a second). */
struct metrics_iface {
	char name[32];
	uint32_t ports_free; /* pairs get() could hand out now */
	uint32_t ports_used;
	uint32_t ports_total;
};
/* One dataplane drop reason (its name as `rtpanchor dataplane stats` shows it) and its
 * total over ports and workers. */
struct metrics_drop {
	char reason[32];
	uint64_t total;
};
struct metrics_gauges {
	uint64_t calls;
	uint64_t streams;            /* dataplane streams the calls need */
	bool dataplane_up;
	bool redis_up;
	uint64_t dp_rx_pkts;         /* dataplane totals (counters, from RPA_DP_STATS) */
	uint64_t dp_tx_pkts;
	uint64_t dp_drops;
	double dp_rx_pps;            /* rate over the last refresh interval */
	double dp_tx_pps;
	unsigned nifaces;
	struct metrics_iface ifaces[METRICS_MAX_IFACES];
	unsigned ndrops; /* drop reasons, every one the dataplane knows, zeros included */
	struct metrics_drop drops[METRICS_MAX_DROP_REASONS];
};
void metrics_set_gauges(struct metrics *m, const struct metrics_gauges *g);

#endif
