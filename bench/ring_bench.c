/* rtpanchor-bench-fwd: cycles per packet of the real worker loop (worker_poll) on net_ring
 * ports with 1k..1M streams installed through session_add, plain or with SRTP (RTP->SRTP,
 * SRTP->RTP, SRTP->SRTP re-key) on the real engine and cryptodev. Single thread (main
 * lcore). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_udp.h>
#include <rte_version.h>

#include "arp.h"
#include "ifaddr.h"
#include "neigh.h"
#include "session.h"
#include "srtp.h"
#include "worker.h"

#define BENCH_PORT_LO	1024 /* local UDP ports 1024..65535 per media address */
#define BENCH_PER_ADDR	(65536 - BENCH_PORT_LO)
#define BENCH_ADDR_PORT (IFADDR_PORT_MAX - 1) /* one address per port is the egress one */
#define BENCH_RING_SIZE 1024
#define BENCH_MAX_RUNS	101
#define BENCH_SRC_PORT	40000
#define BENCH_RTP_PAYLOAD 54 /* Ethernet, IPv4, UDP, RTP headers */

static const char *const bench_default_eal[] = {
    "rtpanchor-bench-fwd",
    "-l",
    "0",
    "--no-pci",
    "--no-huge",
    "-m",
    "2048",
    "--no-shconf",
    "--no-telemetry",
    "--log-level",
    "lib.eal:warning",
};

/* With --huge: 2 MB pages from an existing hugetlbfs mount; --in-memory leaves no files. */
static const char *const bench_huge_eal[] = {
    "rtpanchor-bench-fwd",
    "-l",
    "0",
    "--no-pci",
    "--in-memory",
    "--no-telemetry",
    "--log-level",
    "lib.eal:warning",
    "--huge-dir",
};

#define BENCH_HUGE_MIN_PAGES 256 /* 512 MB: enough for 1M streams and the mbufs */

enum bench_mode { MODE_PLAIN, MODE_PROTECT, MODE_UNPROTECT, MODE_REKEY };

static const char *const mode_names[] = {
    [MODE_PLAIN] = "plain",
    [MODE_PROTECT] = "rtp-srtp",
    [MODE_UNPROTECT] = "srtp-rtp",
    [MODE_REKEY] = "srtp-srtp",
};

static struct {
	uint32_t streams;
	bool rr;
	bool huge;
	unsigned runs;
	unsigned bursts;
	unsigned frame; /* the plain RTP frame; SRTP frames are longer by the tag */
	unsigned nports;
	enum bench_mode mode;
	uint8_t suite;
} cfg = {.streams = 1000,
	 .runs = 5,
	 .bursts = 20000,
	 .frame = 214,
	 .suite = RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80};

/* SRTP: the far sides' keys (one for what arrives, one for what leaves), the sender that
 * protects arriving frames outside the timed region (its own engine worker), and per stream
 * the next RTP sequence number. */
static struct {
	struct rpa_dp_srtp in, out;
	struct srtp_worker *gen; /* queue pair 1: the bench's own */
	struct srtp_ctx *send;   /* protects arriving frames with `in` */
	struct srtp_state *send_st;
	struct srtp_ctx *check;  /* unprotects forwarded frames with `out` */
	uint16_t *seq;
	unsigned tag; /* bytes SRTP adds */
} bs;

struct bench_port {
	uint16_t id;
	struct rte_ring *rx, *tx[2];
	struct rte_ether_addr mac, peer_mac;
	uint32_t egress_v4, peer_v4; /* network order */
	uint32_t nstreams;	     /* streams whose local address is on this port */
	uint32_t rr_next;
	uint8_t tmpl[RTE_ETHER_MAX_LEN];
};

static struct bench_port ports[RPA_DP_MAX_PORTS];
static struct rte_mempool *pool;
static struct worker wk;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t bench_rand(void)
{
	/* xorshift64*: cheap, and outside the measured region anyway. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t bench_v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return rte_cpu_to_be_32(a << 24 | b << 16 | c << 8 | d);
}

/* Stream j of port p: media address 198.18.p.(1 + j / BENCH_PER_ADDR), UDP port
 * 1024 + j % BENCH_PER_ADDR; it leaves from 198.19.p.1 toward the peer 198.19.p.10. */
static uint32_t bench_local_v4(unsigned p, uint32_t j)
{
	return bench_v4(198, 18, p, 1 + j / BENCH_PER_ADDR);
}

static uint16_t bench_local_port(uint32_t j)
{
	return (uint16_t)(BENCH_PORT_LO + j % BENCH_PER_ADDR);
}

static int bench_neigh_tx(uint16_t port, struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
	return 0;
}

static void bench_neigh_free(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

static void bench_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rtpanchor-bench-fwd [EAL args --] [--streams N] [--dist random|rr]\n"
	    "           [--runs N] [--bursts N] [--frame BYTES] [--huge]\n"
	    "           [--srtp rtp-srtp|srtp-rtp|srtp-srtp [--suite SUITE]]\n"
	    "Drives the real worker loop (worker_poll) against net_ring ports with N streams\n"
	    "installed through session_add (default 1000; 1M needs -m 2048). Each burst puts\n"
	    "%d frames per port on the rx ring (streams picked uniformly at random, or\n"
	    "round-robin with --dist rr) and times one worker_poll with rdtsc; ring refill and\n"
	    "tx drain are outside the timed region. Prints the median of --runs (default 5)\n"
	    "runs of --bursts bursts (default 20000). Frame default 214 bytes (160-byte RTP\n"
	    "payload). Default EAL args: -l 0 --no-pci --no-huge -m 2048 --no-shconf\n"
	    "--no-telemetry (4 KiB pages, works anywhere). --huge uses 2 MB pages instead:\n"
	    "it needs a mounted hugetlbfs (pagesize=2M) and at least %d free pages, e.g.\n"
	    "  mkdir -p /mnt/huge && mount -t hugetlbfs -o pagesize=2M nodev /mnt/huge\n"
	    "  echo 512 > /proc/sys/vm/nr_hugepages\n"
	    "and reserves nothing itself (undo with echo 0 and umount). Explicit EAL args\n"
	    "before '--' replace both defaults.\n"
	    "--srtp gives every stream SRTP keys: rtp-srtp protects (plain frames in),\n"
	    "srtp-rtp unprotects, srtp-srtp re-keys (other keys out). Arriving SRTP is made\n"
	    "by the engine outside the timed region, one RTP sequence per stream; forwarded\n"
	    "SRTP is checked by unprotecting it. --suite: AES_CM_128_HMAC_SHA1_80 (default),\n"
	    "AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32,\n"
	    "AEAD_AES_128_GCM, AEAD_AES_256_GCM. The engine makes its crypto_aesni_mb vdev;\n"
	    "1M SRTP streams need more memory (e.g. -l 0 --no-pci --no-huge -m 6144\n"
	    "--no-shconf --no-telemetry --).\n",
	    WORKER_BURST, BENCH_HUGE_MIN_PAGES);
}

static int bench_parse(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"streams", required_argument, NULL, 's'},
	    {"dist", required_argument, NULL, 'd'},
	    {"runs", required_argument, NULL, 'r'},
	    {"bursts", required_argument, NULL, 'b'},
	    {"frame", required_argument, NULL, 'f'},
	    {"huge", no_argument, NULL, 'H'},
	    {"srtp", required_argument, NULL, 'S'},
	    {"suite", required_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long v;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			bench_usage(stdout);
			exit(0);
		}
		if (c == 'H') {
			cfg.huge = true;
			continue;
		}
		if (c == 'S') {
			unsigned m;
			for (m = MODE_PROTECT; m <= MODE_REKEY; m++)
				if (strcmp(optarg, mode_names[m]) == 0)
					break;
			if (m > MODE_REKEY)
				goto bad;
			cfg.mode = (enum bench_mode)m;
			continue;
		}
		if (c == 'U') {
			unsigned su;
			for (su = 1; su < RPA_DP_SRTP_SUITE_MAX; su++)
				if (strcmp(optarg, rpa_dp_srtp_suite_name(su)) == 0)
					break;
			if (su == RPA_DP_SRTP_SUITE_MAX)
				goto bad;
			cfg.suite = (uint8_t)su;
			continue;
		}
		if (c == 'd') {
			if (strcmp(optarg, "rr") == 0)
				cfg.rr = true;
			else if (strcmp(optarg, "random") == 0)
				cfg.rr = false;
			else
				goto bad;
			continue;
		}
		if (c == '?')
			return -EINVAL;
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *optarg == '\0' || *end != '\0')
			goto bad;
		switch (c) {
		case 's':
			if (v < 1 ||
			    v > (unsigned long)RPA_DP_MAX_PORTS * BENCH_ADDR_PORT * BENCH_PER_ADDR)
				goto bad;
			cfg.streams = (uint32_t)v;
			break;
		case 'r':
			if (v < 1 || v > BENCH_MAX_RUNS)
				goto bad;
			cfg.runs = (unsigned)v;
			break;
		case 'b':
			if (v < 1 || v > 100000000)
				goto bad;
			cfg.bursts = (unsigned)v;
			break;
		case 'f':
			if (v < 64 || v > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN)
				goto bad;
			cfg.frame = (unsigned)v;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rtpanchor-bench-fwd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
bad:
	for (const struct option *o = lo; o->name != NULL; o++)
		if (o->val == c)
			fprintf(stderr,
				"rtpanchor-bench-fwd: bad value '%s' for --%s (see --help)\n",
				optarg, o->name);
	return -EINVAL;
}

/* Frame sent by the far side toward a media address: what the worker sees on rx. */
static void bench_template(struct bench_port *bp)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)bp->tmpl;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *rtp = (uint8_t *)(udp + 1);
	unsigned l4 = cfg.frame - RTE_ETHER_HDR_LEN - (unsigned)sizeof(*ip);

	memset(bp->tmpl, 0, sizeof(bp->tmpl));
	e->dst_addr = bp->mac;
	e->src_addr = bp->peer_mac;
	e->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = bp->peer_v4;
	udp->src_port = rte_cpu_to_be_16(BENCH_SRC_PORT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)l4);
	rtp[0] = 0x80;
	for (unsigned i = 12; i < l4 - sizeof(*udp); i++)
		rtp[i] = (uint8_t)(0xd5 ^ i); /* PCMU-ish filler */
}

static int bench_ports_setup(void)
{
	struct rte_eth_conf conf = {0};

	for (unsigned p = 0; p < cfg.nports; p++) {
		struct bench_port *bp = &ports[p];
		char name[RTE_RING_NAMESIZE];
		int id, rc;

		snprintf(name, sizeof(name), "bench_rx%u", p);
		bp->rx = rte_ring_create(name, BENCH_RING_SIZE, (int)rte_socket_id(),
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
		for (unsigned q = 0; q < 2; q++) {
			snprintf(name, sizeof(name), "bench_tx%u_%u", p, q);
			bp->tx[q] = rte_ring_create(name, BENCH_RING_SIZE, (int)rte_socket_id(),
						    RING_F_SP_ENQ | RING_F_SC_DEQ);
		}
		if (bp->rx == NULL || bp->tx[0] == NULL || bp->tx[1] == NULL) {
			fprintf(stderr, "bench: ring create: %s\n", rte_strerror(rte_errno));
			return -ENOMEM;
		}
		snprintf(name, sizeof(name), "net_ring_bench%u", p);
		/* rx queue 0 for the worker; tx queue 0 the worker's, 1 the main lcore's. */
		id = rte_eth_from_rings(name, &bp->rx, 1, bp->tx, 2, rte_socket_id());
		if (id < 0 || id >= RPA_DP_MAX_PORTS) {
			fprintf(stderr, "bench: rte_eth_from_rings %s failed\n", name);
			return -ENODEV;
		}
		bp->id = (uint16_t)id;
		rc = rte_eth_dev_configure(bp->id, 1, 2, &conf);
		if (rc == 0)
			rc = rte_eth_rx_queue_setup(bp->id, 0, BENCH_RING_SIZE, rte_socket_id(),
						    NULL, pool);
		for (uint16_t q = 0; q < 2 && rc == 0; q++)
			rc = rte_eth_tx_queue_setup(bp->id, q, BENCH_RING_SIZE, rte_socket_id(),
						    NULL);
		if (rc == 0)
			rc = rte_eth_dev_start(bp->id);
		if (rc == 0)
			rc = rte_eth_macaddr_get(bp->id, &bp->mac);
		if (rc != 0) {
			fprintf(stderr, "bench: port %u setup: %s\n", bp->id, rte_strerror(-rc));
			return rc;
		}
		bp->peer_mac = (struct rte_ether_addr){{0x02, 0x00, 0x5e, 0x10, 0x00, (uint8_t)p}};
		bp->egress_v4 = bench_v4(198, 19, p, 1);
		bp->peer_v4 = bench_v4(198, 19, p, 10);
	}
	return 0;
}

static int bench_addrs_setup(void)
{
	for (unsigned p = 0; p < cfg.nports; p++) {
		struct bench_port *bp = &ports[p];
		unsigned naddr = (bp->nstreams + BENCH_PER_ADDR - 1) / BENCH_PER_ADDR;
		struct rpa_addr a;
		int rc;

		ifaddr_set_mac(bp->id, &bp->mac);
		rpa_addr_set_v4(&a, bp->egress_v4);
		rc = ifaddr_add(bp->id, &a, 24);
		for (unsigned k = 0; k < naddr && rc >= 0; k++) {
			rpa_addr_set_v4(&a, bench_local_v4(p, k * BENCH_PER_ADDR));
			rc = ifaddr_add(bp->id, &a, 24);
		}
		if (rc < 0) {
			fprintf(stderr, "bench: ifaddr_add on port %u: %s\n", bp->id,
				strerror(-rc));
			return rc;
		}
		worker_shared.port_used[bp->id] = 1;
		worker_shared.rx_csum_ok[bp->id] = 0;
		/* net_ring has no checksum offload: the rules take the software path. */
		worker_shared.tx_csum_ok[bp->id] = 0;
	}
	return 0;
}

static int bench_streams_add(void)
{
	uint64_t t0 = rte_rdtsc();
	char err[RPA_DP_ERRMSG_LEN];

	for (uint32_t i = 0; i < cfg.streams; i++) {
		unsigned p = i % cfg.nports;
		uint32_t j = i / cfg.nports;
		struct rpa_dp_stream s;
		int rc;

		memset(&s, 0, sizeof(s));
		rpa_addr_set_v4(&s.local.addr, bench_local_v4(p, j));
		s.local.port = bench_local_port(j);
		rpa_addr_set_v4(&s.src.addr, ports[p].egress_v4);
		s.src.port = s.local.port;
		rpa_addr_set_v4(&s.dst.addr, ports[p].peer_v4);
		s.dst.port = s.local.port;
		s.tag = i;
		if (cfg.mode == MODE_UNPROTECT || cfg.mode == MODE_REKEY)
			s.rx = bs.in;
		if (cfg.mode == MODE_PROTECT || cfg.mode == MODE_REKEY)
			s.tx = bs.out;
		rc = session_add(&s, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "bench: session_add #%u: %s (%s)\n", i, err, strerror(-rc));
			return rc;
		}
	}
	printf("installed %" PRIu64 " streams in %.2f s (%.0f cycles each)\n", session_count(),
	       (double)(rte_rdtsc() - t0) / rte_get_tsc_hz(),
	       (double)(rte_rdtsc() - t0) / cfg.streams);
	return 0;
}

/* The peer answers the ARP request session_add's neigh_ref sent: the real parse + learn
 * path, as if the reply had come in on the port. */
static int bench_neigh_resolve(void)
{
	struct rpa_dp_neigh nb[RPA_DP_MAX_PORTS * 2];
	uint32_t cursor = 0;
	unsigned n;

	for (unsigned p = 0; p < cfg.nports; p++) {
		struct bench_port *bp = &ports[p];
		struct arp_info req = {.op = RTE_ARP_OP_REQUEST,
				       .eth_src = bp->mac,
				       .sha = bp->mac,
				       .spa = bp->egress_v4,
				       .tpa = bp->peer_v4};
		struct arp_info reply;
		uint8_t frame[ARP_FRAME_LEN];
		uint32_t len = arp_build_reply(frame, &bp->peer_mac, bp->peer_v4, &req);

		if (arp_parse(frame, len, &reply) != 0) {
			fprintf(stderr, "bench: arp_parse rejected the synthetic reply\n");
			return -EINVAL;
		}
		neigh_input(bp->id, &reply);
	}
	n = neigh_list(&cursor, nb, RTE_DIM(nb));
	if (n != cfg.nports) {
		fprintf(stderr, "bench: %u neighbours, expected %u\n", n, cfg.nports);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		if (nb[i].state != RPA_DP_NEIGH_REACHABLE) {
			fprintf(stderr, "bench: neighbour on port %u not reachable (state %u)\n",
				nb[i].port_id, nb[i].state);
			return -EINVAL;
		}
	}
	return 0;
}

static bool bench_srtp_in(void)
{
	return cfg.mode == MODE_UNPROTECT || cfg.mode == MODE_REKEY;
}

static bool bench_srtp_out(void)
{
	return cfg.mode == MODE_PROTECT || cfg.mode == MODE_REKEY;
}

/* The far side's SRTP: protect a burst of plain frames, then fix their lengths. */
static void bench_protect(struct rte_mbuf **m, unsigned n)
{
	const unsigned hdrs = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
			      sizeof(struct rte_udp_hdr);
	struct srtp_pkt sp[WORKER_BURST];

	for (unsigned i = 0; i < n; i++)
		sp[i] = (struct srtp_pkt){.m = m[i],
					  .ctx = bs.send,
					  .st = bs.send_st,
					  .off = (uint16_t)hdrs,
					  .len = (uint16_t)(m[i]->data_len - hdrs)};
	if (srtp_protect_burst(bs.gen, sp, n) != n) {
		for (unsigned i = 0; i < n; i++)
			if (sp[i].verdict != SRTP_OK)
				fprintf(stderr, "bench: sender protect: %s\n",
					srtp_verdict_name(sp[i].verdict));
		exit(1);
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + RTE_ETHER_HDR_LEN);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		ip->total_length = rte_cpu_to_be_16((uint16_t)(m[i]->data_len - RTE_ETHER_HDR_LEN));
		udp->dgram_len = rte_cpu_to_be_16(
		    (uint16_t)(m[i]->data_len - RTE_ETHER_HDR_LEN - sizeof(*ip)));
	}
}

static void bench_fill(struct bench_port *bp, unsigned pidx)
{
	struct rte_mbuf *m[WORKER_BURST];

	if (rte_pktmbuf_alloc_bulk(pool, m, WORKER_BURST) != 0) {
		fprintf(stderr, "bench: mbuf pool empty\n");
		exit(1);
	}
	for (unsigned i = 0; i < WORKER_BURST; i++) {
		uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + RTE_ETHER_HDR_LEN);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
		uint32_t j =
		    cfg.rr ? bp->rr_next++ % bp->nstreams : (uint32_t)(bench_rand() % bp->nstreams);

		memcpy(d, bp->tmpl, cfg.frame);
		ip->dst_addr = bench_local_v4(pidx, j);
		udp->dst_port = rte_cpu_to_be_16(bench_local_port(j));
		if (cfg.mode != MODE_PLAIN) {
			/* Each stream its own SSRC and sequence, as SRTP requires. */
			uint8_t *rtp = (uint8_t *)(udp + 1);
			uint32_t g = j * cfg.nports + pidx;
			uint16_t seq = ++bs.seq[g];
			uint32_t ts = rte_cpu_to_be_32((uint32_t)seq * 160), ssrc = rte_cpu_to_be_32(g + 1);

			seq = rte_cpu_to_be_16(seq);
			memcpy(rtp + 2, &seq, 2);
			memcpy(rtp + 4, &ts, 4);
			memcpy(rtp + 8, &ssrc, 4);
		}
		m[i]->data_len = m[i]->pkt_len = (uint16_t)cfg.frame;
		/* A NIC PMD stamps the input port; net_ring passes mbufs through untouched. */
		m[i]->port = bp->id;
	}
	if (bench_srtp_in())
		bench_protect(m, WORKER_BURST);
	for (unsigned i = 0; i < WORKER_BURST; i++) {
		uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + RTE_ETHER_HDR_LEN);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	if (rte_ring_enqueue_bulk(bp->rx, (void **)m, WORKER_BURST, NULL) != WORKER_BURST) {
		fprintf(stderr, "bench: rx ring full\n");
		exit(1);
	}
}

/* Check what the worker sent: the real rewrite must have happened. */
static int bench_check(const struct bench_port *bp, struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)d;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ucs = udp->dgram_cksum, ics = ip->hdr_checksum;

	/* Recompute both checksums from scratch (the frame is freed afterwards). */
	udp->dgram_cksum = 0;
	ip->hdr_checksum = 0;

	if (!rte_is_same_ether_addr(&e->dst_addr, &bp->peer_mac) ||
	    !rte_is_same_ether_addr(&e->src_addr, &bp->mac) || ip->dst_addr != bp->peer_v4 ||
	    ip->src_addr != bp->egress_v4 || ip->time_to_live != 63 ||
	    udp->src_port != udp->dst_port || rte_ipv4_cksum(ip) != ics ||
	    rte_ipv4_udptcp_cksum(ip, udp) != ucs ||
	    m->data_len != cfg.frame + (bench_srtp_out() ? bs.tag : 0) ||
	    rte_be_to_cpu_16(ip->total_length) != m->data_len - RTE_ETHER_HDR_LEN) {
		fprintf(stderr, "bench: forwarded frame on port %u is not the expected rewrite\n",
			bp->id);
		return -EINVAL;
	}
	if (bench_srtp_out()) {
		/* The far side unprotects it with the outgoing key (a fresh receiver). */
		const unsigned hdrs = (unsigned)((uint8_t *)(udp + 1) - d);
		struct srtp_pkt p = {.m = m,
				     .ctx = bs.check,
				     .st = srtp_state_create(bs.check, (int)rte_socket_id()),
				     .off = (uint16_t)hdrs,
				     .len = (uint16_t)(m->data_len - hdrs)};

		if (p.st == NULL || srtp_unprotect_burst(bs.gen, &p, 1) != 1) {
			fprintf(stderr, "bench: forwarded SRTP on port %u does not unprotect: %s\n",
				bp->id, p.st ? srtp_verdict_name(p.verdict) : "no state");
			srtp_state_destroy(p.st);
			return -EINVAL;
		}
		srtp_state_destroy(p.st);
	}
	/* What the far side hears is the payload that was sent. */
	if (cfg.mode != MODE_PLAIN &&
	    (m->data_len != cfg.frame ||
	     memcmp(d + BENCH_RTP_PAYLOAD, bp->tmpl + BENCH_RTP_PAYLOAD,
		    cfg.frame - BENCH_RTP_PAYLOAD) != 0)) {
		fprintf(stderr, "bench: forwarded payload on port %u differs from the sent one\n",
			bp->id);
		return -EINVAL;
	}
	return 0;
}

static uint64_t bench_drain(bool check, int *bad)
{
	struct rte_mbuf *m[BENCH_RING_SIZE];
	uint64_t out = 0;
	void *s[64];
	unsigned n;

	for (unsigned p = 0; p < cfg.nports; p++) {
		for (unsigned q = 0; q < 2; q++) {
			n = rte_ring_dequeue_burst(ports[p].tx[q], (void **)m, RTE_DIM(m), NULL);
			if (q == 0) {
				out += n;
				if (check && n > 0 && bench_check(&ports[p], m[0]) != 0)
					*bad = 1;
			}
			rte_pktmbuf_free_bulk(m, n);
		}
	}
	while ((n = rte_ring_dequeue_burst(worker_shared.slow, s, RTE_DIM(s), NULL)) > 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)s, n);
	return out;
}

static uint64_t bench_drops(void)
{
	uint64_t d = 0;

	for (unsigned p = 0; p < RPA_DP_MAX_PORTS; p++)
		for (unsigned r = 0; r < DP_DROP_MAX; r++)
			d += wk.stats.drops[p][r];
	return d + wk.stats.punted;
}

static void bench_print_drops(void)
{
	for (unsigned p = 0; p < RPA_DP_MAX_PORTS; p++)
		for (unsigned r = 0; r < DP_DROP_MAX; r++)
			if (wk.stats.drops[p][r])
				fprintf(stderr, "bench: port %u drop %s: %" PRIu64 "\n", p,
					dp_drop_names[r], wk.stats.drops[p][r]);
	if (wk.stats.punted)
		fprintf(stderr, "bench: punted to the slow path: %" PRIu64 "\n", wk.stats.punted);
}

/* The SRTP engine with queue pairs for the worker (0) and the bench (1), the far sides'
 * keys and the sender and checker contexts. 0 or -1 after a message. */
static int bench_srtp_setup(struct session_config *scfg)
{
	char err[256];
	struct srtp_engine_config ec = {
	    .nworkers = 2,
	    .max_contexts = session_srtp_contexts(cfg.streams) + 8,
	    .max_sessions = session_srtp_contexts(cfg.streams) + 8, /* RTP only: one each */
	    .socket_id = (int)rte_socket_id(),
	};
	unsigned klen = rpa_dp_srtp_key_len(cfg.suite), slen = rpa_dp_srtp_salt_len(cfg.suite);

	if (srtp_engine_init(&ec, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: SRTP engine: %s\n", err);
		return -1;
	}
	for (unsigned k = 0; k < 2; k++) {
		struct rpa_dp_srtp *key = k == 0 ? &bs.in : &bs.out;

		memset(key, 0, sizeof(*key));
		key->suite = cfg.suite;
		key->key_len = (uint8_t)klen;
		key->salt_len = (uint8_t)slen;
		for (unsigned i = 0; i < klen; i++)
			key->key[i] = (uint8_t)bench_rand();
		for (unsigned i = 0; i < slen; i++)
			key->salt[i] = (uint8_t)bench_rand();
	}
	bs.tag = cfg.suite == RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32 ||
			 cfg.suite == RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32
		     ? 4
		 : cfg.suite >= RPA_DP_SRTP_AEAD_AES_128_GCM ? 16
							     : 10;
	bs.gen = srtp_worker_create(1, (int)rte_socket_id());
	bs.send = srtp_ctx_create(&bs.in, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err, sizeof(err));
	bs.send_st = bs.send ? srtp_state_create(bs.send, (int)rte_socket_id()) : NULL;
	bs.check = srtp_ctx_create(&bs.out, SRTP_KIND_RTP, 0, err, sizeof(err));
	bs.seq = calloc(cfg.streams, sizeof(*bs.seq));
	if (bs.gen == NULL || bs.send_st == NULL || bs.check == NULL || bs.seq == NULL) {
		fprintf(stderr, "bench: SRTP sender/checker: %s\n", err[0] ? err : strerror(errno));
		return -1;
	}
	scfg->srtp_streams = cfg.streams;
	scfg->srtp_engine = true;
	return 0;
}

static void bench_srtp_fini(void)
{
	srtp_worker_destroy(wk.srtp);
	srtp_worker_destroy(bs.gen);
	srtp_state_destroy(bs.send_st);
	srtp_ctx_destroy(bs.send);
	srtp_ctx_destroy(bs.check);
	free(bs.seq);
	srtp_engine_fini();
}

/* Cost of the timing itself, subtracted from every measurement. */
static uint64_t bench_timer_overhead(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t t0 = rte_rdtsc_precise(), t1 = rte_rdtsc_precise();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

static double bench_run(unsigned bursts, uint64_t ovh, int *bad)
{
	uint64_t cycles = 0, pkts = 0, out = 0, drops0 = bench_drops();

	for (unsigned b = 0; b < bursts; b++) {
		uint64_t t0, t1;
		unsigned n;

		for (unsigned p = 0; p < cfg.nports; p++)
			bench_fill(&ports[p], p);
		t0 = rte_rdtsc_precise();
		n = worker_poll(&wk);
		t1 = rte_rdtsc_precise();
		cycles += t1 - t0 > ovh ? t1 - t0 - ovh : 0;
		pkts += n;
		out += bench_drain(b == 0 || b == bursts - 1, bad);
	}
	if (pkts != (uint64_t)bursts * WORKER_BURST * cfg.nports || out != pkts ||
	    bench_drops() != drops0) {
		fprintf(stderr,
			"bench: handled %" PRIu64 ", forwarded %" PRIu64 " of %" PRIu64
			" packets\n",
			pkts, out, (uint64_t)bursts * WORKER_BURST * cfg.nports);
		bench_print_drops();
		*bad = 1;
	}
	return pkts ? (double)cycles / (double)pkts : 0;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The mount point of a hugetlbfs with 2 MB pages, and how many such pages are free. The
 * check matters: EAL's --in-memory with pages reserved but no mount "succeeds" and then has
 * no memory. 0 and *dir set on success, -ENOENT with a message otherwise. */
static int bench_huge_find(char *dir, size_t len)
{
	char line[512], mnt[256], type[64], opts[256];
	FILE *f = fopen("/proc/mounts", "r");
	long free_pages = -1;
	bool found = false;

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %255s %63s %255s", mnt, type, opts) == 3 &&
		    strcmp(type, "hugetlbfs") == 0 &&
		    (strstr(opts, "pagesize=2M") != NULL || strstr(opts, "pagesize") == NULL))
			found = snprintf(dir, len, "%s", mnt) < (int)len;
	if (f != NULL)
		fclose(f);
	f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &free_pages) != 1)
			free_pages = -1;
		fclose(f);
	}
	if (!found || free_pages < BENCH_HUGE_MIN_PAGES) {
		fprintf(stderr,
			"bench: --huge needs a mounted hugetlbfs with 2 MB pages (%s) and %d free "
			"pages (%ld free); see --help\n",
			found ? dir : "none mounted", BENCH_HUGE_MIN_PAGES, free_pages);
		return -ENOENT;
	}
	return 0;
}

static void bench_machine(void)
{
	char line[256], model[128] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			if (c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = '\0';
			}
			break;
		}
	}
	if (f)
		fclose(f);
	printf("machine: %s, %ld cpus, tsc %.1f MHz, %s, %s pages\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), (double)rte_get_tsc_hz() / 1e6, rte_version(),
	       rte_eal_has_hugepages() ? "2 MB" : "4 KiB");
}

int main(int argc, char **argv)
{
	struct neigh_config ncfg = {
	    .reachable_ms = 3600000, .retrans_ms = 1000, .probes = 3, .hold = 4, .gc_ms = 3600000};
	struct session_config scfg = {0};
	double cpp[BENCH_MAX_RUNS], med;
	char *eal_argv[64], huge_dir[256];
	int eal_argc = 0, sep = -1, rc, bad = 0;
	struct rte_rcu_qsbr *qsbr;
	uint64_t ovh;
	uint32_t per_port_max = BENCH_ADDR_PORT * BENCH_PER_ADDR;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	argv[sep < 0 ? 0 : sep] = argv[0];
	if (bench_parse(sep < 0 ? argc : argc - sep, argv + (sep < 0 ? 0 : sep)) != 0)
		return 2;
	if (sep >= 0 && cfg.huge) {
		fprintf(stderr, "rtpanchor-bench-fwd: --huge chooses the EAL args; give either it "
				"or EAL args before '--'\n");
		return 2;
	}
	if (sep >= 0) {
		for (int i = 0; i < sep && eal_argc < 63; i++)
			eal_argv[eal_argc++] = argv[i];
	} else if (cfg.huge) {
		if (bench_huge_find(huge_dir, sizeof(huge_dir)) != 0)
			return 2;
		for (size_t i = 0; i < RTE_DIM(bench_huge_eal); i++)
			eal_argv[eal_argc++] = (char *)bench_huge_eal[i];
		eal_argv[eal_argc++] = huge_dir;
	} else {
		for (size_t i = 0; i < RTE_DIM(bench_default_eal); i++)
			eal_argv[eal_argc++] = (char *)bench_default_eal[i];
	}
	eal_argv[eal_argc] = NULL;
	cfg.nports = (cfg.streams + per_port_max - 1) / per_port_max;

	optind = 0; /* EAL parses its own argv with getopt: start it from scratch */
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "bench: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	bench_machine();
	pool = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	qsbr = rte_zmalloc("bench_qsbr", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	if (pool == NULL || qsbr == NULL || rte_rcu_qsbr_init(qsbr, 1) != 0) {
		fprintf(stderr, "bench: mempool/qsbr: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (unsigned p = 0; p < cfg.nports; p++)
		ports[p].nstreams = cfg.streams / cfg.nports + (p < cfg.streams % cfg.nports);
	if (bench_ports_setup() != 0 || bench_addrs_setup() != 0)
		return 1;
	for (unsigned p = 0; p < cfg.nports; p++)
		bench_template(&ports[p]);

	scfg.max_streams = cfg.streams < 1024 ? 1024 : cfg.streams;
	scfg.nworkers = 1;
	scfg.latch_window_ms = 10000;
	scfg.qsbr = qsbr;
	scfg.socket_id = (int)rte_socket_id();
	if (cfg.mode != MODE_PLAIN && bench_srtp_setup(&scfg) != 0)
		return 1;
	rc = session_init(&scfg);
	if (rc == 0)
		rc = neigh_init(&ncfg, pool, bench_neigh_tx, bench_neigh_free, bench_neigh_free);
	if (rc == 0)
		rc = worker_init(&wk, 0, rte_lcore_id(), (int)rte_socket_id());
	if (rc != 0) {
		fprintf(stderr, "bench: init: %s\n", strerror(-rc));
		return 1;
	}
	if (cfg.mode != MODE_PLAIN) {
		wk.srtp = srtp_worker_create(0, (int)rte_socket_id());
		if (wk.srtp == NULL) {
			fprintf(stderr, "bench: SRTP worker: %s\n", strerror(errno));
			return 1;
		}
	}
	wk.nrxq = cfg.nports;
	for (unsigned p = 0; p < cfg.nports; p++) {
		wk.rxq[p].port = ports[p].id;
		wk.rxq[p].queue = 0;
		wk.txq[ports[p].id] = 0;
	}
	worker_shared.w[0] = &wk;
	worker_shared.nworkers = 1;
	worker_shared.qsbr = qsbr;
	worker_shared.idle_backoff = false;
	worker_shared.slow =
	    rte_ring_create("bench_slow", 4096, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (worker_shared.slow == NULL)
		return 1;
	if (bench_streams_add() != 0 || bench_neigh_resolve() != 0)
		return 1;
	if (cfg.mode != MODE_PLAIN) {
		const struct fwd_rule *r = session_port_rule(session_port_entry(
		    (uint16_t)ifaddr_find(&(struct rpa_addr){.family = RPA_AF_INET,
							     .v4 = bench_local_v4(0, 0)}),
		    bench_local_port(0)));
		const struct fwd_rule_srtp *fs = session_rule_srtp(r);
		size_t ctx = 0, st = 0;

		if (fs->rx != NULL) {
			ctx += srtp_ctx_bytes(fs->rx);
			st += srtp_state_bytes(fs->rx_st);
		}
		if (fs->tx != NULL) {
			ctx += srtp_ctx_bytes(fs->tx);
			st += srtp_state_bytes(fs->tx_st);
		}
		printf("SRTP %s %s on %s: per stream %zu bytes of engine contexts (with their "
		       "cryptodev sessions) + %zu of states + %zu of table\n",
		       mode_names[cfg.mode], rpa_dp_srtp_suite_name(cfg.suite),
		       srtp_engine_device(), ctx, st,
		       sizeof(struct fwd_rule_srtp) + sizeof(struct stream_srtp_counters));
	}
	/* session_add's ARP requests went out through neigh's tx callback (freed); nothing may
	 * be left on the worker's raw tx ring to skew the first run. */
	rte_rcu_qsbr_thread_register(qsbr, 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);

	printf("streams %u on %u port(s), %s, %u-byte frames, %s, %u runs x %u bursts of %u "
	       "per port\n",
	       cfg.streams, cfg.nports, cfg.rr ? "round-robin" : "uniform random", cfg.frame,
	       cfg.mode == MODE_PLAIN ? "plain" : mode_names[cfg.mode], cfg.runs, cfg.bursts,
	       WORKER_BURST);
	ovh = bench_timer_overhead();
	bench_run(cfg.bursts / 4 + 1, ovh, &bad); /* warm-up: caches, branch predictors */
	for (unsigned r = 0; r < cfg.runs; r++) {
		cpp[r] = bench_run(cfg.bursts, ovh, &bad);
		printf("run %u: %.1f cycles/packet\n", r + 1, cpp[r]);
	}
	if (bad) {
		fprintf(stderr, "bench: the worker did not forward every packet correctly\n");
		return 1;
	}
	qsort(cpp, cfg.runs, sizeof(cpp[0]), bench_cmp);
	med = cpp[cfg.runs / 2];
	printf("median: %.1f cycles/packet, %.2f Mpps per worker core (timer overhead %" PRIu64
	       " cycles/burst subtracted)\n",
	       med, (double)rte_get_tsc_hz() / med / 1e6, ovh);
	printf("{\"streams\":%u,\"dist\":\"%s\",\"frame\":%u,\"mode\":\"%s\",\"suite\":\"%s\","
	       "\"cycles_per_pkt\":%.1f,\"mpps\":%.2f,\"tsc_hz\":%" PRIu64 "}\n",
	       cfg.streams, cfg.rr ? "rr" : "random", cfg.frame, mode_names[cfg.mode],
	       cfg.mode == MODE_PLAIN ? "none" : rpa_dp_srtp_suite_name(cfg.suite), med,
	       (double)rte_get_tsc_hz() / med / 1e6, rte_get_tsc_hz());

	rte_rcu_qsbr_thread_offline(qsbr, 0);
	rte_rcu_qsbr_thread_unregister(qsbr, 0);
	bench_drain(false, &bad);
	worker_fini(&wk);
	session_fini();
	if (cfg.mode != MODE_PLAIN)
		bench_srtp_fini();
	neigh_fini();
	for (unsigned p = 0; p < cfg.nports; p++) {
		rte_eth_dev_stop(ports[p].id);
		rte_eth_dev_close(ports[p].id);
	}
	rte_eal_cleanup();
	return 0;
}
