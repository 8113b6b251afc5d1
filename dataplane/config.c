/* Option and config-file parsing for rtpanchor-dataplane. Runs once, before workers exist. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <rtpanchor/conffile.h>
#include <rtpanchor/dp_proto.h>

#include "config.h"

enum {
	OPT_ADDR = 256,
	OPT_GATEWAY,
	OPT_SOCKET,
	OPT_CONFIG,
	OPT_MAX_STREAMS,
	OPT_LATCH_WINDOW,
	OPT_SRTP_REPLAY,
	OPT_SRTP_STREAMS,
	OPT_CRYPTODEV,
	OPT_ARP_REACHABLE,
	OPT_ARP_RETRANS,
	OPT_ARP_PROBES,
	OPT_ARP_HOLD,
	OPT_ARP_GC,
	OPT_IDLE_BACKOFF,
	OPT_IDLE_POLLS,
	OPT_IDLE_SLEEP,
	OPT_MBUFS,
	OPT_RX_DESC,
	OPT_TX_DESC,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option options[] = {
    {"addr", required_argument, NULL, OPT_ADDR},
    {"gateway", required_argument, NULL, OPT_GATEWAY},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"max-streams", required_argument, NULL, OPT_MAX_STREAMS},
    {"latch-window-ms", required_argument, NULL, OPT_LATCH_WINDOW},
    {"srtp-replay-window", required_argument, NULL, OPT_SRTP_REPLAY},
    {"srtp-streams", required_argument, NULL, OPT_SRTP_STREAMS},
    {"cryptodev", required_argument, NULL, OPT_CRYPTODEV},
    {"arp-reachable-ms", required_argument, NULL, OPT_ARP_REACHABLE},
    {"arp-retrans-ms", required_argument, NULL, OPT_ARP_RETRANS},
    {"arp-probes", required_argument, NULL, OPT_ARP_PROBES},
    {"arp-hold", required_argument, NULL, OPT_ARP_HOLD},
    {"arp-gc-ms", required_argument, NULL, OPT_ARP_GC},
    {"idle-backoff", no_argument, NULL, OPT_IDLE_BACKOFF},
    {"idle-polls", required_argument, NULL, OPT_IDLE_POLLS},
    {"idle-sleep-us", required_argument, NULL, OPT_IDLE_SLEEP},
    {"mbufs", required_argument, NULL, OPT_MBUFS},
    {"rx-desc", required_argument, NULL, OPT_RX_DESC},
    {"tx-desc", required_argument, NULL, OPT_TX_DESC},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void config_usage(FILE *f, const char *prog)
{
	fprintf(
	    f,
	    "Usage: %s [EAL options] -- [options]\n"
	    "\n"
	    "rtpanchor's DPDK dataplane: forwards RTP/RTCP between call legs. EAL options\n"
	    "come first (e.g. -l 0,1 --vdev net_af_packet0,iface=eth1); the main lcore runs\n"
	    "the slow path (ARP, control socket), every other lcore is a forwarding worker.\n"
	    "\n"
	    "Addresses:\n"
	    "  --addr DEV=IP/PLEN       media address on DPDK port DEV (port id or device\n"
	    "                           name, e.g. 0 or net_af_packet0); repeatable, >= 1\n"
	    "  --gateway DEV=IP         default gateway of DEV (must be on-link)\n"
	    "Control:\n"
	    "  --socket PATH            control socket (default %s), mode 0600\n"
	    "  --config FILE            read options from FILE: one \"option value\" per line,\n"
	    "                           '#' starts a comment; later arguments override it\n"
	    "Streams:\n"
	    "  --max-streams N          session table capacity (default 1048576)\n"
	    "  --latch-window-ms N      after the first latch, a stream may re-latch to a new\n"
	    "                           source for N ms (default 3000)\n"
	    "SRTP:\n"
	    "  --srtp-replay-window N   packets a stream's replay window spans when control\n"
	    "                           does not say, %u..%u (default %u)\n"
	    "  --srtp-streams N         streams with SRTP keys at most, <= --max-streams\n"
	    "                           (default 16384); 0 turns SRTP off (no cryptodev).\n"
	    "                           Memory is reserved at start (logged): about 4.6 KB\n"
	    "                           a stream with crypto_aesni_mb\n"
	    "  --cryptodev NAME         DPDK cryptodev for SRTP, e.g. one made with --vdev or\n"
	    "                           a PCI device (default: the first one offering every\n"
	    "                           SRTP algorithm, else a crypto_aesni_mb vdev is made)\n"
	    "ARP:\n"
	    "  --arp-reachable-ms N     refresh a neighbour N ms after its last answer (30000)\n"
	    "  --arp-retrans-ms N       between requests while resolving (1000)\n"
	    "  --arp-probes N           unanswered requests before a neighbour fails (3)\n"
	    "  --arp-hold N             packets held per unresolved neighbour, <= 64 (16)\n"
	    "  --arp-gc-ms N            forget unused neighbours after N ms (60000)\n"
	    "Workers:\n"
	    "  --idle-backoff           sleep after a run of empty polls (off: pure polling)\n"
	    "  --idle-polls N           empty polls before sleeping (1000)\n"
	    "  --idle-sleep-us N        sleep length (100)\n"
	    "  --mbufs N                packet buffers (default 32767)\n"
	    "  --rx-desc N, --tx-desc N ring sizes per queue (default 1024)\n"
	    "  --help, --version\n",
	    prog, RPA_DP_DEFAULT_SOCKET, RPA_DP_SRTP_REPLAY_MIN, RPA_DP_SRTP_REPLAY_MAX,
	    RPA_DP_SRTP_REPLAY_DEFAULT);
}

void config_defaults(struct dp_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket_path, sizeof(c->socket_path), "%s", RPA_DP_DEFAULT_SOCKET);
	c->max_streams = 1048576;
	c->latch_window_ms = 3000;
	c->srtp_replay_window = RPA_DP_SRTP_REPLAY_DEFAULT;
	c->srtp_streams = 16384;
	c->arp_reachable_ms = 30000;
	c->arp_retrans_ms = 1000;
	c->arp_probes = 3;
	c->arp_hold = 16;
	c->arp_gc_ms = 60000;
	c->idle_polls = 1000;
	c->idle_sleep_us = 100;
	c->mbufs = 32767;
	c->rx_desc = 1024;
	c->tx_desc = 1024;
}

static int parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out,
		     char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		snprintf(err, errlen, "--%s: '%s' is not a number in %u..%u", opt, s, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* "DEV=IP[/PLEN]" */
static int parse_dev_addr(const char *opt, const char *s, struct config_addr *a, bool prefix,
			  char *err, size_t errlen)
{
	const char *eq = strchr(s, '=');
	size_t dl = eq ? (size_t)(eq - s) : 0;
	int rc;

	memset(a, 0, sizeof(*a));
	if (eq == NULL || dl == 0 || dl >= sizeof(a->dev)) {
		snprintf(err, errlen, "--%s: '%s' is not DEV=%s", opt, s,
			 prefix ? "IP/PLEN" : "IP");
		return -EINVAL;
	}
	memcpy(a->dev, s, dl);
	if (prefix)
		rc = rpa_prefix_parse(eq + 1, &a->addr, &a->prefix_len);
	else
		rc = rpa_addr_parse(eq + 1, &a->addr);
	if (rc < 0) {
		snprintf(err, errlen, "--%s: '%s' is not an IP address%s", opt, eq + 1,
			 prefix ? " with optional /PLEN" : "");
		return -EINVAL;
	}
	if (a->addr.family != RPA_AF_INET) {
		snprintf(err, errlen, "--%s: %s: IPv6 media addresses are not supported yet", opt,
			 eq + 1);
		return -EINVAL;
	}
	return 0;
}

static int apply(struct dp_config *c, int opt, const char *arg, bool in_file, char *err,
		 size_t errlen)
{
	uint32_t v = 0;
	int rc = 0;

	switch (opt) {
	case OPT_ADDR:
		if (c->naddrs >= CONFIG_MAX_ADDRS) {
			snprintf(err, errlen, "--addr: more than %d addresses", CONFIG_MAX_ADDRS);
			return -EINVAL;
		}
		rc = parse_dev_addr("addr", arg, &c->addrs[c->naddrs], true, err, errlen);
		if (rc == 0)
			c->naddrs++;
		return rc;
	case OPT_GATEWAY:
		if (c->ngateways >= CONFIG_MAX_ADDRS) {
			snprintf(err, errlen, "--gateway: too many gateways");
			return -EINVAL;
		}
		rc = parse_dev_addr("gateway", arg, &c->gateways[c->ngateways], false, err, errlen);
		if (rc == 0)
			c->ngateways++;
		return rc;
	case OPT_SOCKET:
		if (strlen(arg) == 0 || strlen(arg) >= sizeof(c->socket_path)) {
			snprintf(err, errlen, "--socket: path must be 1..%zu bytes",
				 sizeof(c->socket_path) - 1);
			return -EINVAL;
		}
		snprintf(c->socket_path, sizeof(c->socket_path), "%s", arg);
		return 0;
	case OPT_CONFIG:
		if (in_file) {
			snprintf(err, errlen, "config: 'config' cannot be nested");
			return -EINVAL;
		}
		return config_parse_file(c, arg, err, errlen);
	case OPT_MAX_STREAMS:
		return parse_u32("max-streams", arg, 1, 1u << 26, &c->max_streams, err, errlen);
	case OPT_LATCH_WINDOW:
		return parse_u32("latch-window-ms", arg, 0, 86400000, &c->latch_window_ms, err,
				 errlen);
	case OPT_SRTP_REPLAY:
		return parse_u32("srtp-replay-window", arg, RPA_DP_SRTP_REPLAY_MIN,
				 RPA_DP_SRTP_REPLAY_MAX, &c->srtp_replay_window, err, errlen);
	case OPT_SRTP_STREAMS:
		return parse_u32("srtp-streams", arg, 0, 1u << 26, &c->srtp_streams, err, errlen);
	case OPT_CRYPTODEV:
		if (arg[0] == '\0' || strlen(arg) >= sizeof(c->cryptodev)) {
			snprintf(err, errlen, "--cryptodev: '%s' is not a device name (1..%zu chars)",
				 arg, sizeof(c->cryptodev) - 1);
			return -EINVAL;
		}
		snprintf(c->cryptodev, sizeof(c->cryptodev), "%s", arg);
		return 0;
	case OPT_ARP_REACHABLE:
		return parse_u32("arp-reachable-ms", arg, 100, 3600000, &c->arp_reachable_ms, err,
				 errlen);
	case OPT_ARP_RETRANS:
		return parse_u32("arp-retrans-ms", arg, 10, 60000, &c->arp_retrans_ms, err, errlen);
	case OPT_ARP_PROBES:
		return parse_u32("arp-probes", arg, 1, 100, &c->arp_probes, err, errlen);
	case OPT_ARP_HOLD:
		return parse_u32("arp-hold", arg, 0, 64, &c->arp_hold, err, errlen);
	case OPT_ARP_GC:
		return parse_u32("arp-gc-ms", arg, 100, 86400000, &c->arp_gc_ms, err, errlen);
	case OPT_IDLE_BACKOFF:
		c->idle_backoff = true;
		return 0;
	case OPT_IDLE_POLLS:
		return parse_u32("idle-polls", arg, 1, 100000000, &c->idle_polls, err, errlen);
	case OPT_IDLE_SLEEP:
		return parse_u32("idle-sleep-us", arg, 1, 100000, &c->idle_sleep_us, err, errlen);
	case OPT_MBUFS:
		return parse_u32("mbufs", arg, 1023, 1u << 24, &c->mbufs, err, errlen);
	case OPT_RX_DESC:
		rc = parse_u32("rx-desc", arg, 64, 16384, &v, err, errlen);
		c->rx_desc = (uint16_t)v;
		return rc;
	case OPT_TX_DESC:
		rc = parse_u32("tx-desc", arg, 64, 16384, &v, err, errlen);
		c->tx_desc = (uint16_t)v;
		return rc;
	case OPT_HELP:
		c->help = true;
		return 0;
	case OPT_VERSION:
		c->version = true;
		return 0;
	}
	return -EINVAL;
}

int config_parse(struct dp_config *c, int argc, char **argv, char *err, size_t errlen)
{
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			snprintf(err, errlen, "unknown option or missing value: %s",
				 argv[optind - 1]);
			return -EINVAL;
		}
		rc = apply(c, opt, optarg, false, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument: %s", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int apply_from_file(void *arg, int val, const char *value, char *err, size_t errlen)
{
	return apply(arg, val, value, true, err, errlen);
}

int config_parse_file(struct dp_config *c, const char *path, char *err, size_t errlen)
{
	static const int refused[] = {OPT_HELP, OPT_VERSION, 0};

	return conffile_read(path, options, refused, apply_from_file, c, err, errlen);
}
