/* rtpanchor-dataplane configuration: filled once from the command line (after EAL's "--")
 * and an optional config file, read-only afterwards. */
#ifndef DP_CONFIG_H
#define DP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rtpanchor/addr.h>

#define CONFIG_MAX_ADDRS 64
#define CONFIG_DEV_LEN   64
#define CONFIG_PATH_LEN  108 /* sun_path */

struct config_addr {
	char dev[CONFIG_DEV_LEN]; /* DPDK port id or device name */
	struct rpa_addr addr;
	uint8_t prefix_len;
};

struct dp_config {
	struct config_addr addrs[CONFIG_MAX_ADDRS];
	unsigned naddrs;
	struct config_addr gateways[CONFIG_MAX_ADDRS]; /* prefix_len unused */
	unsigned ngateways;
	char socket_path[CONFIG_PATH_LEN];
	uint32_t max_streams;
	uint32_t latch_window_ms;
	uint32_t srtp_replay_window;
	uint32_t srtp_streams;        /* 0: SRTP off */
	char cryptodev[CONFIG_DEV_LEN]; /* "": the engine's default choice */
	uint32_t arp_reachable_ms;
	uint32_t arp_retrans_ms;
	uint32_t arp_probes;
	uint32_t arp_hold;
	uint32_t arp_gc_ms;
	bool idle_backoff;
	uint32_t idle_polls;
	uint32_t idle_sleep_us;
	uint32_t mbufs;
	uint16_t rx_desc;
	uint16_t tx_desc;
	bool help;
	bool version;
};

void config_defaults(struct dp_config *c);
/* Parse the application arguments (argv[0] is the program name). Returns 0, or -EINVAL
 * with a message naming the bad option or value in err. --config FILE is read in place:
 * later arguments override it. */
int config_parse(struct dp_config *c, int argc, char **argv, char *err, size_t errlen);
/* Read "option value" lines (# comments; "option" alone for flags). */
int config_parse_file(struct dp_config *c, const char *path, char *err, size_t errlen);
void config_usage(FILE *f, const char *prog);

#endif
