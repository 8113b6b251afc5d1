/* rtpanchor-udpgen: UDP/RTP traffic generator, verifying sink and echo used by the lab, the
 * functional tests and the end-to-end benchmark. One thread, plain Linux sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UDPGEN_MAGIC	   0x52504147u /* "RPAG" */
#define UDPGEN_RTP_HDR	   12
#define UDPGEN_PAYLOAD_HDR 20 /* magic, stream, seq, tx time */
#define UDPGEN_MIN_SIZE	   UDPGEN_PAYLOAD_HDR
#define UDPGEN_MAX_SIZE	   8972 /* jumbo-frame UDP payload minus RTP header */
#define UDPGEN_BUF	   9216
#define UDPGEN_BATCH	   32
#define UDPGEN_MAX_STREAMS 20000
#define UDPGEN_WIN	   1024 /* duplicate-detection window per stream, in packets */
#define UDPGEN_HIST	   (64 * 8)

enum udpgen_mode { UDPGEN_SEND, UDPGEN_RECV, UDPGEN_ECHO };

struct udpgen_opts {
	enum udpgen_mode mode;
	struct sockaddr_storage bind, dst;
	socklen_t alen;
	bool have_bind, have_bind_port, have_dst;
	unsigned streams, port_step, size, batch;
	double rate, duration, idle_exit, stats_interval, linger;
	uint64_t count, expect;
	uint32_t ssrc_base;
	bool have_ssrc, per_stream, replies, any_stream;
};

/* Receive-side accounting for one stream (also used by send --replies and echo). */
struct udpgen_rx {
	uint64_t pkts, bytes, uniq, dup, reord, corrupt, misrouted;
	uint64_t min_seq, max_seq;
	bool seen;
	uint64_t win[UDPGEN_WIN / 64];
};

struct udpgen_stream {
	int fd;
	uint16_t port;	   /* local port */
	uint16_t dst_port; /* send: destination port */
	uint32_t ssrc;
	uint64_t next_seq; /* send: next sequence to send */
	struct udpgen_rx rx;
};

struct udpgen_totals {
	uint64_t sent, send_errors, echoed;
	uint64_t hist[UDPGEN_HIST];
	uint64_t lat_n, lat_max;
	uint64_t first_rx_ns, last_rx_ns, first_tx_ns, last_tx_ns;
};

static volatile sig_atomic_t udpgen_stop;
static struct udpgen_opts opt;
static struct udpgen_stream *streams;
static struct udpgen_totals tot;

static void udpgen_on_signal(int sig)
{
	(void)sig;
	udpgen_stop = 1;
}

static uint64_t udpgen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t udpgen_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static void udpgen_put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t udpgen_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* The pattern depends on every header field, so a payload moved to another packet, a
 * rewritten SSRC or a flipped byte anywhere is caught. */
static uint64_t udpgen_seed(uint32_t stream, uint64_t seq, uint32_t ssrc, uint64_t tx_ns)
{
	return udpgen_mix64(((uint64_t)stream << 32 | ssrc) ^ udpgen_mix64(seq ^ (tx_ns << 1)));
}

static uint32_t udpgen_ts(uint32_t ssrc, uint64_t seq, unsigned payload_len)
{
	return (uint32_t)(udpgen_mix64(ssrc) + seq * payload_len);
}

/* RTP (RFC 3550) V=2, no padding/extension/CSRC, M=0, PT 0 (PCMU: 1 byte per sample, so the
 * timestamp advances by the payload length). The 32-bit sequence lives in the payload; the
 * RTP sequence is its low 16 bits. */
static unsigned udpgen_build(uint8_t *p, unsigned size, uint32_t stream, uint32_t ssrc,
			     uint64_t seq, uint64_t tx_ns)
{
	uint8_t *pl = p + UDPGEN_RTP_HDR;
	uint64_t h = udpgen_seed(stream, seq, ssrc, tx_ns);
	unsigned off;

	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	udpgen_put32(p + 4, udpgen_ts(ssrc, seq, size));
	udpgen_put32(p + 8, ssrc);
	udpgen_put32(pl, UDPGEN_MAGIC);
	udpgen_put32(pl + 4, stream);
	udpgen_put32(pl + 8, (uint32_t)seq);
	memcpy(pl + 12, &tx_ns, 8);
	for (off = UDPGEN_PAYLOAD_HDR; off < size; off += 8) {
		uint64_t v = udpgen_mix64(h + off);
		memcpy(pl + off, &v, size - off < 8 ? size - off : 8);
	}
	return UDPGEN_RTP_HDR + size;
}

struct udpgen_pkt {
	uint32_t stream, ssrc;
	uint64_t seq, tx_ns;
};

/* 0, or -1 when the datagram is not exactly what udpgen_build produced. */
static int udpgen_verify(const uint8_t *p, size_t len, struct udpgen_pkt *out)
{
	const uint8_t *pl = p + UDPGEN_RTP_HDR;
	unsigned size, off;
	uint64_t h;

	if (len < UDPGEN_RTP_HDR + UDPGEN_MIN_SIZE || len > UDPGEN_RTP_HDR + UDPGEN_MAX_SIZE)
		return -1;
	size = (unsigned)(len - UDPGEN_RTP_HDR);
	if (p[0] != 0x80 || p[1] != 0 || udpgen_get32(pl) != UDPGEN_MAGIC)
		return -1;
	out->ssrc = udpgen_get32(p + 8);
	out->stream = udpgen_get32(pl + 4);
	out->seq = udpgen_get32(pl + 8);
	memcpy(&out->tx_ns, pl + 12, 8);
	if ((uint16_t)out->seq != (uint16_t)(p[2] << 8 | p[3]))
		return -1;
	if (udpgen_get32(p + 4) != udpgen_ts(out->ssrc, out->seq, size))
		return -1;
	if (opt.have_ssrc && out->ssrc != opt.ssrc_base + out->stream)
		return -1;
	h = udpgen_seed(out->stream, out->seq, out->ssrc, out->tx_ns);
	for (off = UDPGEN_PAYLOAD_HDR; off < size; off += 8) {
		uint64_t v = udpgen_mix64(h + off);
		if (memcmp(pl + off, &v, size - off < 8 ? size - off : 8) != 0)
			return -1;
	}
	return 0;
}

/* Histogram buckets: 8 per power of two of nanoseconds (12% resolution). */
static unsigned udpgen_hist_idx(uint64_t v)
{
	unsigned e;

	if (v < 8)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - 2) * 8 + (unsigned)((v >> (e - 3)) & 7);
}

static uint64_t udpgen_hist_val(unsigned idx)
{
	unsigned e;

	if (idx < 8)
		return idx;
	e = idx / 8 + 2;
	return (8ull + idx % 8) << (e - 3);
}

static uint64_t udpgen_hist_pct(double pct)
{
	uint64_t want = (uint64_t)ceil(tot.lat_n * pct / 100.0), acc = 0;

	for (unsigned i = 0; i < UDPGEN_HIST; i++) {
		acc += tot.hist[i];
		if (acc >= want && acc > 0)
			return udpgen_hist_val(i);
	}
	return 0;
}

/* Sequence accounting: a window bitmap relative to the highest sequence seen tells
 * duplicates from late (reordered) packets; loss is what is missing between the lowest and
 * highest sequence at the end. */
static void udpgen_account(struct udpgen_stream *s, unsigned idx, const uint8_t *p, size_t len,
			   uint64_t now)
{
	struct udpgen_rx *r = &s->rx;
	struct udpgen_pkt k;
	uint64_t bit;

	r->pkts++;
	r->bytes += len;
	if (tot.first_rx_ns == 0)
		tot.first_rx_ns = now;
	tot.last_rx_ns = now;
	if (udpgen_verify(p, len, &k) != 0) {
		r->corrupt++;
		return;
	}
	if (!opt.any_stream && k.stream != idx) {
		r->misrouted++;
		return;
	}
	if (now >= k.tx_ns) {
		uint64_t lat = now - k.tx_ns;
		tot.hist[udpgen_hist_idx(lat) < UDPGEN_HIST ? udpgen_hist_idx(lat)
							    : UDPGEN_HIST - 1]++;
		tot.lat_n++;
		if (lat > tot.lat_max)
			tot.lat_max = lat;
	}
	if (!r->seen) {
		r->seen = true;
		r->min_seq = r->max_seq = k.seq;
		memset(r->win, 0, sizeof(r->win));
	} else if (k.seq > r->max_seq) {
		uint64_t d = k.seq - r->max_seq;
		if (d >= UDPGEN_WIN) {
			memset(r->win, 0, sizeof(r->win));
		} else {
			for (uint64_t q = r->max_seq + 1; q < k.seq; q++)
				r->win[(q % UDPGEN_WIN) / 64] &= ~(1ull << (q % 64));
		}
		r->max_seq = k.seq;
	} else if (r->max_seq - k.seq >= UDPGEN_WIN) {
		/* Too old for the window: cannot tell a duplicate, count it as late. */
		r->reord++;
		r->uniq++;
		if (k.seq < r->min_seq)
			r->min_seq = k.seq;
		return;
	} else {
		bit = 1ull << (k.seq % 64);
		if (r->win[(k.seq % UDPGEN_WIN) / 64] & bit) {
			r->dup++;
			return;
		}
		r->reord++;
		if (k.seq < r->min_seq)
			r->min_seq = k.seq;
	}
	r->win[(k.seq % UDPGEN_WIN) / 64] |= 1ull << (k.seq % 64);
	r->uniq++;
}

static uint64_t udpgen_rx_lost(const struct udpgen_rx *r)
{
	uint64_t span;

	if (!r->seen)
		return 0;
	span = r->max_seq - r->min_seq + 1;
	return span > r->uniq ? span - r->uniq : 0;
}

struct udpgen_sum {
	uint64_t pkts, bytes, uniq, dup, reord, corrupt, misrouted, lost;
};

static void udpgen_sum_rx(struct udpgen_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < opt.streams; i++) {
		const struct udpgen_rx *r = &streams[i].rx;
		s->pkts += r->pkts;
		s->bytes += r->bytes;
		s->uniq += r->uniq;
		s->dup += r->dup;
		s->reord += r->reord;
		s->corrupt += r->corrupt;
		s->misrouted += r->misrouted;
		s->lost += udpgen_rx_lost(r);
	}
	/* Packets lost at the tail of a stream leave no gap: the expected total catches them. */
	if (opt.expect > 0 && opt.expect > s->uniq && opt.expect - s->uniq > s->lost)
		s->lost = opt.expect - s->uniq;
	if (opt.mode == UDPGEN_SEND && opt.replies && tot.sent > s->uniq &&
	    tot.sent - s->uniq > s->lost)
		s->lost = tot.sent - s->uniq;
}

static void udpgen_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rtpanchor-udpgen send --dst IP:PORT [--bind IP[:PORT]] [--streams N]\n"
	    "           [--port-step K] [--rate PPS] (--duration S | --count N) [--size BYTES]\n"
	    "           [--ssrc-base N] [--batch N] [--replies [--linger S]]\n"
	    "       rtpanchor-udpgen recv --bind IP:PORT [--streams N] [--port-step K]\n"
	    "           [--duration S] [--expect N] [--idle-exit S] [--ssrc-base N]\n"
	    "       rtpanchor-udpgen echo --bind IP:PORT [--streams N] [--port-step K]\n"
	    "           [--duration S] [--expect N] [--idle-exit S]\n"
	    "\n"
	    "send: RTP (V=2, PT 0) with a per-stream SSRC (ssrc-base + stream), sequence and\n"
	    "  timestamp; the payload carries magic, stream id, 32-bit sequence, send time and a\n"
	    "  pattern hashed from all of them. Stream i goes from bind port + i*step to\n"
	    "  dst port + i*step (bind port omitted or 0: ephemeral source ports). --rate is the\n"
	    "  total over all streams (token bucket on CLOCK_MONOTONIC; 0 = as fast as possible,\n"
	    "  default 1000). --count is the total over all streams. --replies also receives and\n"
	    "  verifies what comes back on the send sockets (e.g. from an echo), waiting up to\n"
	    "  --linger S (default 1) after the last send.\n"
	    "recv: counts and verifies packets on bind port + i*step; a bad RTP header or payload\n"
	    "  is corrupt, a packet carrying another stream id is misrouted (--any-stream to\n"
	    "  allow). Sequence gaps are loss; late packets are reordered; repeats are dup.\n"
	    "  Exits at --duration, after --expect packets (also counts missing ones as lost),\n"
	    "  after --idle-exit S without packets, or on SIGINT/SIGTERM. At least one needed.\n"
	    "echo: recv, and sends every datagram back unchanged to its source.\n"
	    "\n"
	    "common: --size payload bytes after the RTP header (%u..%u, default 160: 214-byte\n"
	    "  frames), --per-stream adds per-stream counts to the summary, --stats-interval S\n"
	    "  prints a line per interval on stderr.\n"
	    "output: one JSON line on stdout. Exit 0 ok, 1 corrupt or misrouted packets seen,\n"
	    "  2 usage error, 3 socket error.\n",
	    UDPGEN_MIN_SIZE, UDPGEN_MAX_SIZE);
}

static int udpgen_bad(const char *what, const char *val)
{
	fprintf(stderr, "rtpanchor-udpgen: bad %s '%s' (see --help)\n", what, val);
	return -EINVAL;
}

/* "IP", "IP:PORT", "[IPv6]:PORT", "IPv6". */
static int udpgen_parse_addr(const char *s, bool need_port, struct sockaddr_storage *ss,
			     bool *have_port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL;
	unsigned long pv = 0;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (size_t)(rb - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return -EINVAL;
	} else {
		const char *c = strchr(s, ':');
		size_t hl = strlen(s);
		if (c && strchr(c + 1, ':') == NULL) {
			port = c + 1;
			hl = (size_t)(c - s);
		}
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (port) {
		errno = 0;
		pv = strtoul(port, &end, 10);
		if (errno || *port == '\0' || *end != '\0' || pv > 65535)
			return -EINVAL;
	} else if (need_port) {
		return -EINVAL;
	}
	*have_port = port != NULL && pv != 0;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)pv);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)pv);
		return 0;
	}
	return -EINVAL;
}

static uint16_t udpgen_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void udpgen_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int udpgen_num(const char *what, const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || *s == '\0' || *end != '\0' || !(*out >= min && *out <= max))
		return udpgen_bad(what, s);
	return 0;
}

static int udpgen_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return udpgen_bad(what, s);
	*out = strtoull(s, &end, 0);
	if (errno || *end != '\0' || *out < min || *out > max)
		return udpgen_bad(what, s);
	return 0;
}

static int udpgen_parse(int argc, char **argv)
{
	enum {
		O_DST = 256,
		O_BIND,
		O_STREAMS,
		O_STEP,
		O_RATE,
		O_DURATION,
		O_COUNT,
		O_SIZE,
		O_SSRC,
		O_EXPECT,
		O_IDLE,
		O_STATS,
		O_PERSTREAM,
		O_REPLIES,
		O_LINGER,
		O_BATCH,
		O_ANY,
		O_HELP,
	};
	static const struct option lo[] = {
	    {"dst", required_argument, NULL, O_DST},
	    {"bind", required_argument, NULL, O_BIND},
	    {"streams", required_argument, NULL, O_STREAMS},
	    {"port-step", required_argument, NULL, O_STEP},
	    {"rate", required_argument, NULL, O_RATE},
	    {"duration", required_argument, NULL, O_DURATION},
	    {"count", required_argument, NULL, O_COUNT},
	    {"size", required_argument, NULL, O_SIZE},
	    {"ssrc-base", required_argument, NULL, O_SSRC},
	    {"expect", required_argument, NULL, O_EXPECT},
	    {"idle-exit", required_argument, NULL, O_IDLE},
	    {"stats-interval", required_argument, NULL, O_STATS},
	    {"per-stream", no_argument, NULL, O_PERSTREAM},
	    {"replies", no_argument, NULL, O_REPLIES},
	    {"linger", required_argument, NULL, O_LINGER},
	    {"batch", required_argument, NULL, O_BATCH},
	    {"any-stream", no_argument, NULL, O_ANY},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	uint64_t u;
	bool hp;
	int c;

	opt.streams = 1;
	opt.port_step = 2;
	opt.size = 160;
	opt.batch = UDPGEN_BATCH;
	opt.rate = 1000;
	opt.linger = 1;
	if (argc < 2)
		return udpgen_bad("mode", "(none)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		udpgen_usage(stdout);
		exit(0);
	}
	if (strcmp(argv[1], "send") == 0)
		opt.mode = UDPGEN_SEND;
	else if (strcmp(argv[1], "recv") == 0)
		opt.mode = UDPGEN_RECV;
	else if (strcmp(argv[1], "echo") == 0)
		opt.mode = UDPGEN_ECHO;
	else
		return udpgen_bad("mode (send, recv or echo)", argv[1]);
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_DST:
			if (udpgen_parse_addr(optarg, true, &opt.dst, &hp) || !hp)
				return udpgen_bad("--dst IP:PORT", optarg);
			opt.have_dst = true;
			break;
		case O_BIND:
			if (udpgen_parse_addr(optarg, false, &opt.bind, &opt.have_bind_port))
				return udpgen_bad("--bind IP[:PORT]", optarg);
			opt.have_bind = true;
			break;
		case O_STREAMS:
			if (udpgen_u64("--streams", optarg, 1, UDPGEN_MAX_STREAMS, &u))
				return -EINVAL;
			opt.streams = (unsigned)u;
			break;
		case O_STEP:
			if (udpgen_u64("--port-step", optarg, 1, 1000, &u))
				return -EINVAL;
			opt.port_step = (unsigned)u;
			break;
		case O_RATE:
			if (udpgen_num("--rate", optarg, 0, 1e8, &opt.rate))
				return -EINVAL;
			break;
		case O_DURATION:
			if (udpgen_num("--duration", optarg, 0.001, 86400, &opt.duration))
				return -EINVAL;
			break;
		case O_COUNT:
			if (udpgen_u64("--count", optarg, 1, UINT32_MAX, &opt.count))
				return -EINVAL;
			break;
		case O_SIZE:
			if (udpgen_u64("--size", optarg, UDPGEN_MIN_SIZE, UDPGEN_MAX_SIZE, &u))
				return -EINVAL;
			opt.size = (unsigned)u;
			break;
		case O_SSRC:
			if (udpgen_u64("--ssrc-base", optarg, 0, UINT32_MAX, &u))
				return -EINVAL;
			opt.ssrc_base = (uint32_t)u;
			opt.have_ssrc = true;
			break;
		case O_EXPECT:
			if (udpgen_u64("--expect", optarg, 1, UINT64_MAX / 2, &opt.expect))
				return -EINVAL;
			break;
		case O_IDLE:
			if (udpgen_num("--idle-exit", optarg, 0.001, 86400, &opt.idle_exit))
				return -EINVAL;
			break;
		case O_STATS:
			if (udpgen_num("--stats-interval", optarg, 0.01, 86400,
				       &opt.stats_interval))
				return -EINVAL;
			break;
		case O_PERSTREAM:
			opt.per_stream = true;
			break;
		case O_REPLIES:
			opt.replies = true;
			break;
		case O_LINGER:
			if (udpgen_num("--linger", optarg, 0, 3600, &opt.linger))
				return -EINVAL;
			break;
		case O_BATCH:
			if (udpgen_u64("--batch", optarg, 1, UDPGEN_BATCH, &u))
				return -EINVAL;
			opt.batch = (unsigned)u;
			break;
		case O_ANY:
			opt.any_stream = true;
			break;
		case O_HELP:
		case 'h':
			udpgen_usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return udpgen_bad("argument", argv[optind]);
	if (opt.mode == UDPGEN_SEND) {
		if (!opt.have_dst)
			return udpgen_bad("--dst", "(missing)");
		if (opt.duration == 0 && opt.count == 0)
			return udpgen_bad("bound: --duration or --count", "(missing)");
		if (opt.have_bind && opt.bind.ss_family != opt.dst.ss_family)
			return udpgen_bad("--bind family (differs from --dst)", "");
		if (!opt.have_bind) {
			opt.bind.ss_family = opt.dst.ss_family;
			opt.have_bind = true;
		}
		if (udpgen_port(&opt.dst) + (opt.streams - 1) * opt.port_step > 65535)
			return udpgen_bad("--dst port + streams * port-step", "(beyond 65535)");
	} else {
		if (!opt.have_bind || !opt.have_bind_port)
			return udpgen_bad("--bind IP:PORT", opt.have_bind ? "(port missing)" : "");
		if (opt.duration == 0 && opt.expect == 0 && opt.idle_exit == 0)
			return udpgen_bad("bound: --duration, --expect or --idle-exit",
					  "(missing)");
	}
	if (opt.have_bind_port &&
	    udpgen_port(&opt.bind) + (opt.streams - 1) * opt.port_step > 65535)
		return udpgen_bad("--bind port + streams * port-step", "(beyond 65535)");
	opt.alen = opt.bind.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						 : sizeof(struct sockaddr_in6);
	return 0;
}

static void udpgen_bufsize(int fd, int opt_force, int opt_plain, int bytes)
{
	/* FORCE needs CAP_NET_ADMIN (the lab runs as root); fall back to the capped size. */
	if (setsockopt(fd, SOL_SOCKET, opt_force, &bytes, sizeof(bytes)) != 0)
		setsockopt(fd, SOL_SOCKET, opt_plain, &bytes, sizeof(bytes));
}

static int udpgen_open(int epfd)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < opt.streams + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	streams = calloc(opt.streams, sizeof(*streams));
	if (!streams) {
		fprintf(stderr, "rtpanchor-udpgen: out of memory for %u streams\n", opt.streams);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < opt.streams; i++) {
		struct udpgen_stream *s = &streams[i];
		struct sockaddr_storage a = opt.bind;
		socklen_t al = sizeof(a);
		char buf[INET6_ADDRSTRLEN];
		int one = 1;

		s->fd = -1;
		if (opt.have_bind_port)
			udpgen_set_port(&a, (uint16_t)(udpgen_port(&opt.bind) + i * opt.port_step));
		s->fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			fprintf(stderr, "rtpanchor-udpgen: socket: %s\n", strerror(errno));
			return -errno;
		}
		setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s->fd, (struct sockaddr *)&a, opt.alen) != 0) {
			int e = errno;
			inet_ntop(a.ss_family,
				  a.ss_family == AF_INET
				      ? (void *)&((struct sockaddr_in *)&a)->sin_addr
				      : (void *)&((struct sockaddr_in6 *)&a)->sin6_addr,
				  buf, sizeof(buf));
			fprintf(stderr, "rtpanchor-udpgen: bind %s port %u: %s\n", buf,
				udpgen_port(&a), strerror(e));
			return -e;
		}
		getsockname(s->fd, (struct sockaddr *)&a, &al);
		s->port = udpgen_port(&a);
		s->ssrc = opt.ssrc_base + i;
		if (opt.mode == UDPGEN_SEND) {
			s->dst_port = (uint16_t)(udpgen_port(&opt.dst) + i * opt.port_step);
			udpgen_bufsize(s->fd, SO_SNDBUFFORCE, SO_SNDBUF, 1 << 20);
		}
		if (opt.mode != UDPGEN_SEND || opt.replies) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
			udpgen_bufsize(s->fd, SO_RCVBUFFORCE, SO_RCVBUF, 8 << 20);
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
				fprintf(stderr, "rtpanchor-udpgen: epoll_ctl: %s\n",
					strerror(errno));
				return -errno;
			}
		}
	}
	return 0;
}

static uint8_t rxbuf[UDPGEN_BATCH * 2][UDPGEN_BUF];

/* Drain one socket: account every datagram; echo mode sends each back to its source. */
static void udpgen_drain(unsigned idx)
{
	struct udpgen_stream *s = &streams[idx];
	struct mmsghdr mm[UDPGEN_BATCH * 2];
	struct iovec iov[UDPGEN_BATCH * 2];
	struct sockaddr_storage from[UDPGEN_BATCH * 2];
	unsigned const nb = UDPGEN_BATCH * 2;

	for (int round = 0; round < 16; round++) {
		uint64_t now;
		int n;

		for (unsigned i = 0; i < nb; i++) {
			iov[i].iov_base = rxbuf[i];
			iov[i].iov_len = UDPGEN_BUF;
			memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(s->fd, mm, nb, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = udpgen_now_ns();
		for (int i = 0; i < n; i++) {
			/* A truncated datagram is corrupt by length: verify sees the cut size. */
			size_t len = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : mm[i].msg_len;
			udpgen_account(s, idx, rxbuf[i], len, now);
		}
		if (opt.mode == UDPGEN_ECHO) {
			int off = 0;
			for (int i = 0; i < n; i++) {
				iov[i].iov_len = mm[i].msg_len;
				mm[i].msg_hdr.msg_flags = 0;
			}
			while (off < n) {
				int k = sendmmsg(s->fd, mm + off, (unsigned)(n - off), 0);
				if (k <= 0) {
					tot.send_errors += (uint64_t)(n - off);
					break;
				}
				tot.echoed += (uint64_t)k;
				off += k;
			}
		}
		if (n < (int)nb)
			return;
	}
}

static void udpgen_poll(int epfd, int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(epfd, ev, 64, timeout_ms);

	for (int i = 0; i < n; i++)
		udpgen_drain(ev[i].data.u32);
}

static uint64_t udpgen_rx_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < opt.streams; i++)
		n += streams[i].rx.pkts;
	return n;
}

struct udpgen_ticker {
	uint64_t next, last_ns, last_sent, last_rx;
};

static void udpgen_tick(struct udpgen_ticker *t, uint64_t start, uint64_t now)
{
	struct udpgen_sum s;
	double dt;

	if (opt.stats_interval <= 0 || now < t->next)
		return;
	udpgen_sum_rx(&s);
	dt = (double)(now - t->last_ns) / 1e9;
	fprintf(stderr,
		"udpgen %s t=%.1fs sent %" PRIu64 " (%.0f pps) recv %" PRIu64
		" (%.0f pps) lost %" PRIu64 " dup %" PRIu64 " reord %" PRIu64 " corrupt %" PRIu64
		"\n",
		opt.mode == UDPGEN_SEND	  ? "send"
		: opt.mode == UDPGEN_RECV ? "recv"
					  : "echo",
		(double)(now - start) / 1e9, tot.sent + tot.echoed,
		(double)(tot.sent + tot.echoed - t->last_sent) / dt, s.pkts,
		(double)(s.pkts - t->last_rx) / dt, s.lost, s.dup, s.reord, s.corrupt);
	t->last_sent = tot.sent + tot.echoed;
	t->last_rx = s.pkts;
	t->last_ns = now;
	t->next = now + (uint64_t)(opt.stats_interval * 1e9);
}

static uint8_t txbuf[UDPGEN_BATCH][UDPGEN_BUF];

/* Send up to n packets of stream idx in one sendmmsg; returns how many left. */
static unsigned udpgen_send_batch(unsigned idx, unsigned n)
{
	struct udpgen_stream *s = &streams[idx];
	struct mmsghdr mm[UDPGEN_BATCH];
	struct iovec iov[UDPGEN_BATCH];
	struct sockaddr_storage dst = opt.dst;
	uint64_t now = udpgen_now_ns();
	int k;

	udpgen_set_port(&dst, s->dst_port);
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = txbuf[i];
		iov[i].iov_len =
		    udpgen_build(txbuf[i], opt.size, idx, s->ssrc, s->next_seq + i, now);
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &dst;
		mm[i].msg_hdr.msg_namelen = opt.alen;
	}
	k = sendmmsg(s->fd, mm, n, 0);
	if (k < 0) {
		/* ENOBUFS/EPERM/ECONNREFUSED: the packets were not sent; the sequence stays. */
		tot.send_errors++;
		return 0;
	}
	if (tot.first_tx_ns == 0)
		tot.first_tx_ns = now;
	tot.last_tx_ns = udpgen_now_ns();
	s->next_seq += (uint64_t)k;
	tot.sent += (uint64_t)k;
	return (unsigned)k;
}

static void udpgen_sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};

	nanosleep(&ts, NULL);
}

static void udpgen_run_send(int epfd, uint64_t start)
{
	uint64_t end = opt.duration > 0 ? start + (uint64_t)(opt.duration * 1e9) : UINT64_MAX;
	/* Wake up at most ~20k times a second; burst cap bounds catch-up after a stall. */
	double target = opt.rate > 0 ? fmin(opt.batch, fmax(1, opt.rate / 20000)) : opt.batch;
	double cap = opt.rate > 0 ? fmax(target, opt.rate * 0.002) : opt.batch;
	double tokens = target;
	uint64_t last = start;
	struct udpgen_ticker t = {.next = start, .last_ns = start};
	unsigned cur = 0, fails = 0;

	t.next = start + (uint64_t)(opt.stats_interval * 1e9);
	while (!udpgen_stop) {
		uint64_t now = udpgen_now_ns();
		unsigned n;

		if (now >= end || (opt.count && tot.sent >= opt.count))
			break;
		udpgen_tick(&t, start, now);
		if (opt.rate > 0) {
			tokens = fmin(cap, tokens + (double)(now - last) * opt.rate / 1e9);
			last = now;
			if (tokens < target) {
				uint64_t wait = (uint64_t)((target - tokens) * 1e9 / opt.rate);
				if (opt.replies)
					udpgen_poll(epfd, 0);
				if (wait > 30000)
					udpgen_sleep_ns(wait - 10000);
				continue;
			}
			n = (unsigned)fmin(tokens, opt.batch);
		} else {
			n = opt.batch;
		}
		if (opt.count && opt.count - tot.sent < n)
			n = (unsigned)(opt.count - tot.sent);
		n = udpgen_send_batch(cur, n);
		if (n == 0) {
			/* Back off on persistent errors instead of spinning on a dead route. */
			if (++fails > 1000)
				udpgen_sleep_ns(1000000);
		} else {
			fails = 0;
		}
		tokens -= n;
		cur = (cur + 1) % opt.streams;
		if (opt.replies)
			udpgen_poll(epfd, 0);
	}
	if (opt.replies) {
		uint64_t lend = udpgen_now_ns() + (uint64_t)(opt.linger * 1e9);
		uint64_t last_rx = udpgen_rx_total();
		uint64_t quiet = udpgen_now_ns();
		while (!udpgen_stop && udpgen_now_ns() < lend) {
			uint64_t r;
			udpgen_poll(epfd, 20);
			r = udpgen_rx_total();
			if (r >= tot.sent)
				break;
			if (r != last_rx) {
				last_rx = r;
				quiet = udpgen_now_ns();
			} else if (udpgen_now_ns() - quiet > 200000000ull && r > 0) {
				/* Replies stopped for 200 ms: the rest is lost, not late. */
				break;
			}
		}
	}
}

static void udpgen_run_recv(int epfd, uint64_t start)
{
	uint64_t end = opt.duration > 0 ? start + (uint64_t)(opt.duration * 1e9) : UINT64_MAX;
	uint64_t idle_ns = (uint64_t)(opt.idle_exit * 1e9);
	uint64_t last_rx = 0, last_change = start;
	struct udpgen_ticker t = {.last_ns = start};

	t.next = start + (uint64_t)(opt.stats_interval * 1e9);
	while (!udpgen_stop) {
		uint64_t now = udpgen_now_ns(), r;

		if (now >= end)
			break;
		udpgen_poll(epfd, 10);
		now = udpgen_now_ns();
		udpgen_tick(&t, start, now);
		r = udpgen_rx_total();
		if (r != last_rx) {
			last_rx = r;
			last_change = now;
		}
		if (opt.expect && r >= opt.expect)
			break;
		if (idle_ns && now - last_change >= idle_ns)
			break;
	}
}

static void udpgen_summary(uint64_t start, uint64_t stop)
{
	struct udpgen_sum s;
	double dur = (double)(stop - start) / 1e9, active, pps;
	const char *mode = opt.mode == UDPGEN_SEND   ? "send"
			   : opt.mode == UDPGEN_RECV ? "recv"
						     : "echo";

	udpgen_sum_rx(&s);
	if (opt.mode == UDPGEN_SEND) {
		active = (double)(tot.last_tx_ns - tot.first_tx_ns) / 1e9;
		pps = active > 0 ? (double)tot.sent / active : 0;
	} else {
		active = (double)(tot.last_rx_ns - tot.first_rx_ns) / 1e9;
		pps = active > 0 ? (double)s.pkts / active : 0;
	}
	printf("{\"mode\":\"%s\",\"streams\":%u,\"size\":%u,\"rate\":%.0f,\"sent\":%" PRIu64
	       ",\"send_errors\":%" PRIu64 ",\"echoed\":%" PRIu64 ",\"received\":%" PRIu64
	       ",\"bytes\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"dup\":%" PRIu64
	       ",\"reordered\":%" PRIu64 ",\"corrupt\":%" PRIu64 ",\"misrouted\":%" PRIu64
	       ",\"pps\":%.0f,\"active\":%.3f,\"duration\":%.3f",
	       mode, opt.streams, opt.size, opt.mode == UDPGEN_SEND ? opt.rate : 0, tot.sent,
	       tot.send_errors, tot.echoed, s.pkts, s.bytes, s.lost, s.dup, s.reord, s.corrupt,
	       s.misrouted, pps, active, dur);
	if (tot.lat_n > 0)
		printf(",\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
		       (double)udpgen_hist_pct(50) / 1e3, (double)udpgen_hist_pct(99) / 1e3,
		       (double)tot.lat_max / 1e3);
	if (opt.per_stream) {
		printf(",\"per_stream\":[");
		for (unsigned i = 0; i < opt.streams; i++) {
			const struct udpgen_stream *st = &streams[i];
			printf("%s{\"port\":%u,\"sent\":%" PRIu64 ",\"received\":%" PRIu64
			       ",\"lost\":%" PRIu64 ",\"dup\":%" PRIu64 ",\"reordered\":%" PRIu64
			       ",\"corrupt\":%" PRIu64 ",\"misrouted\":%" PRIu64 "}",
			       i ? "," : "", st->port, opt.mode == UDPGEN_SEND ? st->next_seq : 0,
			       st->rx.pkts, udpgen_rx_lost(&st->rx), st->rx.dup, st->rx.reord,
			       st->rx.corrupt, st->rx.misrouted);
		}
		printf("]");
	}
	printf("}\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = udpgen_on_signal};
	struct udpgen_sum s;
	uint64_t start, stop;
	int epfd;

	if (udpgen_parse(argc, argv) != 0)
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The default 50 us timer slack would make short pacing sleeps far too long. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || udpgen_open(epfd) != 0)
		return 3;
	start = udpgen_now_ns();
	if (opt.mode == UDPGEN_SEND)
		udpgen_run_send(epfd, start);
	else
		udpgen_run_recv(epfd, start);
	stop = udpgen_now_ns();
	udpgen_summary(start, stop);
	udpgen_sum_rx(&s);
	for (unsigned i = 0; i < opt.streams; i++)
		close(streams[i].fd);
	close(epfd);
	free(streams);
	return s.corrupt || s.misrouted ? 1 : 0;
}
