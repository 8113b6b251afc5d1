/* rtpanchor-udpgen: UDP/RTP/RTCP traffic generator, verifying sink and echo used by the lab,
 * the functional tests and the end-to-end benchmark, optionally SRTP/SRTCP through libsrtp2
 * (udpgen_srtp.c). One thread, plain Linux sockets. */
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

#include "udpgen_srtp.h"
#include "udpgen_xform.h"

#define UDPGEN_MAGIC	   0x52504147u /* "RPAG" */
#define UDPGEN_RTCP_MAGIC  0x52504143u /* "RPAC" */
#define UDPGEN_RTP_HDR	   12
#define UDPGEN_PAYLOAD_HDR 20 /* magic, stream, seq, tx time */
#define UDPGEN_MIN_SIZE	   UDPGEN_PAYLOAD_HDR
#define UDPGEN_MAX_SIZE	   8972 /* jumbo-frame UDP payload minus RTP header */
#define UDPGEN_BUF	   9216
#define UDPGEN_ROOM	   (UDPGEN_BUF + UDPGEN_SRTP_TRAILER) /* a buffer: datagram + SRTP */
#define UDPGEN_RTCP_EXT	   64 /* profile-specific extension bytes after the SR's sender info */
#define UDPGEN_RTCP_LEN	   (8 + 20 + UDPGEN_RTCP_EXT)
#define UDPGEN_INJ	   4 /* slots per packet: wrong key, tampered, the packet, replay */
#define UDPGEN_MAX_SEQ	   0xffff0000ull /* --seq-base: the payload carries 32 bits */
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
	uint64_t count, expect, seq_base;
	uint32_t ssrc_base;
	bool have_ssrc, per_stream, replies, any_stream;
	/* RTCP: an SR after every rtcp_every-th RTP packet of a stream (send); --rtcp opens
	 * the RTCP sockets on port + 1 (recv, echo); rtcp_mux: RTCP on the RTP port. */
	uint64_t rtcp_every;
	bool rtcp, rtcp_mux;
	/* SRTP: tx protects what is sent (send, echo), rx unprotects what arrives. */
	struct udpgen_srtp_key srtp_tx, srtp_rx;
	bool have_srtp_tx, have_srtp_rx;
	unsigned srtp_window;
	/* Extra bad packets sent around every N-th packet of a stream (0: none). */
	uint64_t tamper, replay, wrong_key;
};

/* Receive-side accounting for one stream (also used by send --replies and echo). */
struct udpgen_rx {
	uint64_t pkts, bytes, uniq, dup, reord, corrupt, misrouted;
	uint64_t auth_fail, replay, srtp_other; /* dropped by SRTP before any check */
	uint64_t min_seq, max_seq;
	bool seen;
	uint64_t win[UDPGEN_WIN / 64];
};

struct udpgen_stream {
	int fd;
	int rtcp_fd;	   /* -1: no RTCP; = fd with RTCP mux */
	uint16_t port;	   /* local port */
	uint16_t dst_port; /* send: destination port */
	uint32_t ssrc;
	uint64_t next_seq; /* send: next sequence to send */
	uint64_t rtcp_seq; /* send: next RTCP sequence */
	uint64_t octets;   /* send: payload octets sent (the SR's sender octet count) */
	struct udpgen_rx rx, rtcp_rx;
};

/* Injected bad packets that were sent. */
struct udpgen_inj {
	uint64_t tampered, replayed, wrong_key;
};

struct udpgen_totals {
	uint64_t sent, send_errors, echoed, rtcp_sent, srtp_errors;
	struct udpgen_inj inj, rtcp_inj;
	uint64_t hist[UDPGEN_HIST];
	uint64_t lat_n, lat_max;
	uint64_t first_rx_ns, last_rx_ns, first_tx_ns, last_tx_ns;
};

static volatile sig_atomic_t udpgen_stop;
static struct udpgen_opts opt;
static struct udpgen_stream *streams;
static struct udpgen_totals tot;
static struct udpgen_srtp *srtp_tx, *srtp_rx, *srtp_wrong;

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

/* RTCP (RFC 3550 §6.4.1): an SR without report blocks whose profile-specific extension
 * carries magic, stream id, 32-bit RTCP sequence, send time and a pattern hashed from them
 * and from every header word, so any rewritten or flipped byte shows. */
static uint64_t udpgen_rtcp_seed(const uint8_t *p, uint32_t stream, uint64_t seq, uint64_t tx_ns)
{
	uint64_t hdr[2];

	memcpy(hdr, p + 16, 12);
	memset((uint8_t *)hdr + 12, 0, 4);
	return udpgen_mix64(udpgen_seed(stream, seq, udpgen_get32(p + 4) ^ 0xc0c0c0c0u, tx_ns) ^
			    udpgen_mix64(hdr[0]) ^ hdr[1]);
}

static void udpgen_ntp(uint8_t *p, uint64_t tx_ns)
{
	udpgen_put32(p, (uint32_t)(tx_ns / 1000000000ull));
	udpgen_put32(p + 4, (uint32_t)(((tx_ns % 1000000000ull) << 32) / 1000000000ull));
}

static unsigned udpgen_build_rtcp(uint8_t *p, const struct udpgen_stream *s, uint32_t stream,
				  uint64_t seq, uint64_t tx_ns)
{
	uint8_t *ext = p + 28;
	uint64_t h;

	p[0] = 0x80;
	p[1] = 200;
	p[2] = 0;
	p[3] = UDPGEN_RTCP_LEN / 4 - 1;
	udpgen_put32(p + 4, s->ssrc);
	udpgen_ntp(p + 8, tx_ns);
	udpgen_put32(p + 16, udpgen_ts(s->ssrc, s->next_seq, opt.size));
	udpgen_put32(p + 20, (uint32_t)(s->next_seq - opt.seq_base));
	udpgen_put32(p + 24, (uint32_t)s->octets);
	udpgen_put32(ext, UDPGEN_RTCP_MAGIC);
	udpgen_put32(ext + 4, stream);
	udpgen_put32(ext + 8, (uint32_t)seq);
	memcpy(ext + 12, &tx_ns, 8);
	h = udpgen_rtcp_seed(p, stream, seq, tx_ns);
	for (unsigned off = 48; off < UDPGEN_RTCP_LEN; off += 8) {
		uint64_t v = udpgen_mix64(h + off);
		memcpy(p + off, &v, UDPGEN_RTCP_LEN - off < 8 ? UDPGEN_RTCP_LEN - off : 8);
	}
	return UDPGEN_RTCP_LEN;
}

static int udpgen_verify_rtcp(const uint8_t *p, size_t len, struct udpgen_pkt *out)
{
	const uint8_t *ext = p + 28;
	uint8_t ntp[8];
	uint64_t h;

	if (len != UDPGEN_RTCP_LEN || p[0] != 0x80 || p[1] != 200 || p[2] != 0 ||
	    p[3] != UDPGEN_RTCP_LEN / 4 - 1 || udpgen_get32(ext) != UDPGEN_RTCP_MAGIC)
		return -1;
	out->ssrc = udpgen_get32(p + 4);
	out->stream = udpgen_get32(ext + 4);
	out->seq = udpgen_get32(ext + 8);
	memcpy(&out->tx_ns, ext + 12, 8);
	udpgen_ntp(ntp, out->tx_ns);
	if (memcmp(ntp, p + 8, 8) != 0)
		return -1;
	if (opt.have_ssrc && out->ssrc != opt.ssrc_base + out->stream)
		return -1;
	h = udpgen_rtcp_seed(p, out->stream, out->seq, out->tx_ns);
	for (unsigned off = 48; off < UDPGEN_RTCP_LEN; off += 8) {
		uint64_t v = udpgen_mix64(h + off);
		if (memcmp(p + off, &v, UDPGEN_RTCP_LEN - off < 8 ? UDPGEN_RTCP_LEN - off : 8))
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
static void udpgen_seq(struct udpgen_rx *r, uint64_t seq)
{
	uint64_t bit;

	if (!r->seen) {
		r->seen = true;
		r->min_seq = r->max_seq = seq;
		memset(r->win, 0, sizeof(r->win));
	} else if (seq > r->max_seq) {
		uint64_t d = seq - r->max_seq;
		if (d >= UDPGEN_WIN) {
			memset(r->win, 0, sizeof(r->win));
		} else {
			for (uint64_t q = r->max_seq + 1; q < seq; q++)
				r->win[(q % UDPGEN_WIN) / 64] &= ~(1ull << (q % 64));
		}
		r->max_seq = seq;
	} else if (r->max_seq - seq >= UDPGEN_WIN) {
		/* Too old for the window: cannot tell a duplicate, count it as late. */
		r->reord++;
		r->uniq++;
		if (seq < r->min_seq)
			r->min_seq = seq;
		return;
	} else {
		bit = 1ull << (seq % 64);
		if (r->win[(seq % UDPGEN_WIN) / 64] & bit) {
			r->dup++;
			return;
		}
		r->reord++;
		if (seq < r->min_seq)
			r->min_seq = seq;
	}
	r->win[(seq % UDPGEN_WIN) / 64] |= 1ull << (seq % 64);
	r->uniq++;
}

/* One received datagram on stream idx (rtcp_sock: it came to the RTCP port): SRTP
 * unprotect when --srtp-rx, then the checks. Returns the plaintext length, or -1 when
 * SRTP dropped it (counted by reason, not as corrupt). */
static long udpgen_account(struct udpgen_stream *s, unsigned idx, bool rtcp_sock, uint8_t *p,
			   size_t len, uint64_t now)
{
	bool rtcp = rtcp_sock || udpgen_srtp_is_rtcp(p, len);
	struct udpgen_rx *r = rtcp ? &s->rtcp_rx : &s->rx;
	struct udpgen_pkt k;

	r->pkts++;
	r->bytes += len;
	if (tot.first_rx_ns == 0)
		tot.first_rx_ns = now;
	tot.last_rx_ns = now;
	if (srtp_rx) {
		switch (udpgen_srtp_unprotect(srtp_rx, p, &len, rtcp)) {
		case UDPGEN_SRTP_OK:
			break;
		case UDPGEN_SRTP_AUTH:
			r->auth_fail++;
			return -1;
		case UDPGEN_SRTP_REPLAY:
			r->replay++;
			return -1;
		default:
			r->srtp_other++;
			return -1;
		}
	}
	if ((rtcp ? udpgen_verify_rtcp(p, len, &k) : udpgen_verify(p, len, &k)) != 0) {
		r->corrupt++;
		return (long)len;
	}
	if (!opt.any_stream && k.stream != idx) {
		r->misrouted++;
		return (long)len;
	}
	if (!rtcp && now >= k.tx_ns) {
		uint64_t lat = now - k.tx_ns;
		tot.hist[udpgen_hist_idx(lat) < UDPGEN_HIST ? udpgen_hist_idx(lat)
							    : UDPGEN_HIST - 1]++;
		tot.lat_n++;
		if (lat > tot.lat_max)
			tot.lat_max = lat;
	}
	udpgen_seq(r, k.seq);
	return (long)len;
}

static uint64_t udpgen_rx_lost(const struct udpgen_rx *r)
{
	uint64_t span;

	if (!r->seen)
		return 0;
	span = r->max_seq - r->min_seq + 1;
	return span > r->uniq ? span - r->uniq : 0;
}

struct udpgen_part {
	uint64_t pkts, bytes, uniq, dup, reord, corrupt, misrouted, lost;
	uint64_t auth_fail, replay, srtp_other;
};

struct udpgen_sum {
	struct udpgen_part rtp, rtcp;
	uint64_t pkts, corrupt, misrouted; /* both */
};

static void udpgen_part_add(struct udpgen_part *s, const struct udpgen_rx *r)
{
	s->pkts += r->pkts;
	s->bytes += r->bytes;
	s->uniq += r->uniq;
	s->dup += r->dup;
	s->reord += r->reord;
	s->corrupt += r->corrupt;
	s->misrouted += r->misrouted;
	s->lost += udpgen_rx_lost(r);
	s->auth_fail += r->auth_fail;
	s->replay += r->replay;
	s->srtp_other += r->srtp_other;
}

/* Packets lost at the tail of a stream leave no gap: a known total catches them. */
static void udpgen_tail_loss(struct udpgen_part *p, uint64_t want, uint64_t got)
{
	if (want > got && want - got > p->lost)
		p->lost = want - got;
}

static void udpgen_sum_rx(struct udpgen_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < opt.streams; i++) {
		udpgen_part_add(&s->rtp, &streams[i].rx);
		udpgen_part_add(&s->rtcp, &streams[i].rtcp_rx);
	}
	/* --expect counts RTP and RTCP together; what is missing is put on RTP. */
	if (opt.expect > s->rtp.uniq + s->rtcp.uniq)
		udpgen_tail_loss(&s->rtp, opt.expect - s->rtcp.uniq, s->rtp.uniq);
	if (opt.mode == UDPGEN_SEND && opt.replies) {
		udpgen_tail_loss(&s->rtp, tot.sent, s->rtp.uniq);
		udpgen_tail_loss(&s->rtcp, tot.rtcp_sent, s->rtcp.uniq);
	}
	s->pkts = s->rtp.pkts + s->rtcp.pkts;
	s->corrupt = s->rtp.corrupt + s->rtcp.corrupt;
	s->misrouted = s->rtp.misrouted + s->rtcp.misrouted;
}

static void udpgen_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rtpanchor-udpgen send --dst IP:PORT [--bind IP[:PORT]] [--streams N]\n"
	    "           [--port-step K] [--rate PPS] (--duration S | --count N) [--size BYTES]\n"
	    "           [--ssrc-base N] [--seq-base N] [--batch N] [--replies [--linger S]]\n"
	    "           [--rtcp-every N [--rtcp-mux]] [SRTP options]\n"
	    "       rtpanchor-udpgen recv --bind IP:PORT [--streams N] [--port-step K]\n"
	    "           [--duration S] [--expect N] [--idle-exit S] [--ssrc-base N]\n"
	    "           [--rtcp] [SRTP options]\n"
	    "       rtpanchor-udpgen echo --bind IP:PORT [--streams N] [--port-step K]\n"
	    "           [--duration S] [--expect N] [--idle-exit S] [--rtcp] [SRTP options]\n"
	    "       rtpanchor-udpgen protect|unprotect --srtp KEY [--window N]\n"
	    "\n"
	    "send: RTP (V=2, PT 0) with a per-stream SSRC (ssrc-base + stream), sequence (from\n"
	    "  --seq-base, default 0; the RTP header has its low 16 bits) and timestamp; the\n"
	    "  payload carries magic, stream id, 32-bit sequence, send time and a pattern hashed\n"
	    "  from all of them. Stream i goes from bind port + i*step to dst port + i*step (bind\n"
	    "  port omitted or 0: ephemeral source ports). --rate is the total over all streams\n"
	    "  (token bucket on CLOCK_MONOTONIC; 0 = as fast as possible, default 1000). --count\n"
	    "  is the total over all streams. --replies also receives and verifies what comes "
	    "back\n"
	    "  on the send sockets (e.g. from an echo), waiting up to --linger S (default 1) "
	    "after\n"
	    "  the last send. --rtcp-every N sends an RTCP SR after every N-th RTP packet of a\n"
	    "  stream, from bind port + 1 to dst port + 1 (--rtcp-mux: on the RTP ports).\n"
	    "recv: counts and verifies packets on bind port + i*step (and + 1 with --rtcp); a bad\n"
	    "  RTP or RTCP header or payload is corrupt, a packet carrying another stream id is\n"
	    "  misrouted (--any-stream to allow). RTCP on the RTP port is told apart by its\n"
	    "  packet type (RFC 5761). Sequence gaps are loss; late packets are reordered;\n"
	    "  repeats are dup. Exits at --duration, after --expect good packets (RTP and RTCP\n"
	    "  together; also counts missing ones as lost), after --idle-exit S without packets,\n"
	    "  or on SIGINT/SIGTERM. At least one needed.\n"
	    "echo: recv, and sends every datagram back to its source: unchanged, or unprotected\n"
	    "  with --srtp-rx and protected again with --srtp-tx.\n"
	    "\n"
	    "SRTP (libsrtp2): KEY is SUITE:BASE64[|LIFETIME][|MKI:LEN] as in a=crypto (RFC 4568;\n"
	    "  an inline: prefix is allowed), SUITE one of AES_CM_128_HMAC_SHA1_80,\n"
	    "  AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32,\n"
	    "  AEAD_AES_128_GCM, AEAD_AES_256_GCM.\n"
	    "  --srtp-tx KEY protects what is sent (SRTP, and SRTCP for RTCP); --srtp-rx KEY\n"
	    "  unprotects what arrives: packets failing authentication, replayed packets and "
	    "other\n"
	    "  SRTP errors are counted (auth_fail, replay, srtp_other), never checked further.\n"
	    "  --srtp KEY sets both. --srtp-window N: receive replay window (64..32768, default\n"
	    "  128). Bad packets for negative tests, each sent around every N-th packet of a\n"
	    "  stream (RTP and RTCP alike) and counted apart from sent: --tamper N a copy with "
	    "one\n"
	    "  payload byte flipped, before the packet; --wrong-key N the packet protected with\n"
	    "  the key inverted, before it; --replay N the same bytes again, after it.\n"
	    "  Debian's libsrtp2 uses NSS: ~5,700 cycles to protect a 172-byte packet with\n"
	    "  AES_CM_128_HMAC_SHA1_80 (~1,800 with AEAD_AES_128_GCM), far more with many\n"
	    "  streams: fine for tests at modest rates, not for measuring SRTP throughput.\n"
	    "protect|unprotect: a filter for tests: one packet per stdin line in hex, answered by\n"
	    "  one stdout line: 'ok HEX', or the verdict (auth_fail, replay, srtp_other). RTCP is\n"
	    "  told apart by packet type. One session for the whole input (ROC, replay window).\n"
	    "\n"
	    "common: --size payload bytes after the RTP header (%u..%u, default 160: 214-byte\n"
	    "  frames), --per-stream adds per-stream counts to the summary, --stats-interval S\n"
	    "  prints a line per interval on stderr.\n"
	    "output: one JSON line on stdout. Exit 0 ok, 1 corrupt or misrouted packets seen,\n"
	    "  2 usage error, 3 socket or SRTP setup error.\n",
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

static int udpgen_parse_key(const char *spec, bool tx, bool rx)
{
	struct udpgen_srtp_key k;
	char err[160];

	if (udpgen_srtp_parse(spec, &k, err, sizeof(err)) != 0) {
		fprintf(stderr, "rtpanchor-udpgen: --srtp: %s (see --help)\n", err);
		return -EINVAL;
	}
	if (tx) {
		opt.srtp_tx = k;
		opt.have_srtp_tx = true;
	}
	if (rx) {
		opt.srtp_rx = k;
		opt.have_srtp_rx = true;
	}
	memset(&k, 0, sizeof(k));
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
		O_SEQ_BASE,
		O_RTCP_EVERY,
		O_RTCP_MUX,
		O_RTCP,
		O_SRTP,
		O_SRTP_TX,
		O_SRTP_RX,
		O_SRTP_WINDOW,
		O_TAMPER,
		O_REPLAY,
		O_WRONG_KEY,
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
	    {"seq-base", required_argument, NULL, O_SEQ_BASE},
	    {"rtcp-every", required_argument, NULL, O_RTCP_EVERY},
	    {"rtcp-mux", no_argument, NULL, O_RTCP_MUX},
	    {"rtcp", no_argument, NULL, O_RTCP},
	    {"srtp", required_argument, NULL, O_SRTP},
	    {"srtp-tx", required_argument, NULL, O_SRTP_TX},
	    {"srtp-rx", required_argument, NULL, O_SRTP_RX},
	    {"srtp-window", required_argument, NULL, O_SRTP_WINDOW},
	    {"tamper", required_argument, NULL, O_TAMPER},
	    {"replay", required_argument, NULL, O_REPLAY},
	    {"wrong-key", required_argument, NULL, O_WRONG_KEY},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	bool hp, saw_tx = false;
	uint64_t u;
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
		case O_SEQ_BASE:
			if (udpgen_u64("--seq-base", optarg, 0, UDPGEN_MAX_SEQ, &opt.seq_base))
				return -EINVAL;
			break;
		case O_RTCP_EVERY:
			if (udpgen_u64("--rtcp-every", optarg, 1, UINT32_MAX, &opt.rtcp_every))
				return -EINVAL;
			break;
		case O_RTCP_MUX:
			opt.rtcp_mux = true;
			break;
		case O_RTCP:
			opt.rtcp = true;
			break;
		case O_SRTP:
		case O_SRTP_TX:
		case O_SRTP_RX:
			if (udpgen_parse_key(optarg, c != O_SRTP_RX, c != O_SRTP_TX) != 0)
				return -EINVAL;
			saw_tx |= c == O_SRTP_TX;
			break;
		case O_SRTP_WINDOW:
			if (udpgen_u64("--srtp-window", optarg, 64, 32768, &u))
				return -EINVAL;
			opt.srtp_window = (unsigned)u;
			break;
		case O_TAMPER:
		case O_REPLAY:
		case O_WRONG_KEY:
			if (udpgen_u64(c == O_TAMPER   ? "--tamper"
				       : c == O_REPLAY ? "--replay"
						       : "--wrong-key",
				       optarg, 1, UINT32_MAX,
				       c == O_TAMPER   ? &opt.tamper
				       : c == O_REPLAY ? &opt.replay
						       : &opt.wrong_key))
				return -EINVAL;
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
		if (udpgen_port(&opt.dst) + (opt.streams - 1) * opt.port_step +
			(opt.rtcp_every && !opt.rtcp_mux) >
		    65535)
			return udpgen_bad("--dst port + streams * port-step", "(beyond 65535)");
		if ((opt.tamper || opt.wrong_key) && !opt.have_srtp_tx)
			return udpgen_bad("--tamper/--wrong-key without --srtp-tx", "(plain)");
		if (opt.seq_base + opt.count > UINT32_MAX)
			return udpgen_bad("--seq-base + --count", "(beyond 32 bits)");
	} else {
		if (opt.rtcp_every || opt.tamper || opt.replay || opt.wrong_key || opt.seq_base)
			return udpgen_bad("option for send only",
					  "--rtcp-every/--tamper/"
					  "--replay/--wrong-key/--seq-base");
		if (opt.mode == UDPGEN_RECV && saw_tx)
			return udpgen_bad("--srtp-tx for recv", "(recv only unprotects)");
		if (opt.mode == UDPGEN_RECV)
			opt.have_srtp_tx = false;
		if (!opt.have_bind || !opt.have_bind_port)
			return udpgen_bad("--bind IP:PORT", opt.have_bind ? "(port missing)" : "");
		if (opt.duration == 0 && opt.expect == 0 && opt.idle_exit == 0)
			return udpgen_bad("bound: --duration, --expect or --idle-exit",
					  "(missing)");
	}
	if (opt.rtcp_every || opt.rtcp_mux)
		opt.rtcp = true;
	if (opt.have_bind_port && udpgen_port(&opt.bind) + (opt.streams - 1) * opt.port_step +
					  (opt.rtcp && !opt.rtcp_mux) >
				      65535)
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

/* A UDP socket bound to a (port 0: ephemeral); its local port in *port. */
static int udpgen_socket(const struct sockaddr_storage *a, uint16_t *port)
{
	struct sockaddr_storage got;
	socklen_t al = sizeof(got);
	char buf[INET6_ADDRSTRLEN];
	int one = 1, fd, e;

	fd = socket(a->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		fprintf(stderr, "rtpanchor-udpgen: socket: %s\n", strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)a, opt.alen) != 0) {
		e = errno;
		inet_ntop(a->ss_family,
			  a->ss_family == AF_INET
			      ? (const void *)&((const struct sockaddr_in *)a)->sin_addr
			      : (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr,
			  buf, sizeof(buf));
		fprintf(stderr, "rtpanchor-udpgen: bind %s port %u: %s\n", buf, udpgen_port(a),
			strerror(e));
		close(fd);
		return -e;
	}
	getsockname(fd, (struct sockaddr *)&got, &al);
	*port = udpgen_port(&got);
	return fd;
}

/* epoll data: stream index and whether the socket is the stream's RTCP one. */
static int udpgen_watch(int epfd, int fd, unsigned idx, bool rtcp)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx << 1 | rtcp};

	udpgen_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, 8 << 20);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		fprintf(stderr, "rtpanchor-udpgen: epoll_ctl: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int udpgen_open(int epfd)
{
	bool rx = opt.mode != UDPGEN_SEND || opt.replies;
	struct rlimit rl;
	unsigned need = opt.streams * (opt.rtcp && !opt.rtcp_mux ? 2 : 1) + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	streams = calloc(opt.streams, sizeof(*streams));
	if (!streams) {
		fprintf(stderr, "rtpanchor-udpgen: out of memory for %u streams\n", opt.streams);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < opt.streams; i++)
		streams[i].fd = streams[i].rtcp_fd = -1;
	for (unsigned i = 0; i < opt.streams; i++) {
		struct udpgen_stream *s = &streams[i];
		struct sockaddr_storage a = opt.bind;
		uint16_t rport;

		if (opt.have_bind_port)
			udpgen_set_port(&a, (uint16_t)(udpgen_port(&opt.bind) + i * opt.port_step));
		s->fd = udpgen_socket(&a, &s->port);
		if (s->fd < 0)
			return s->fd;
		s->ssrc = opt.ssrc_base + i;
		s->next_seq = opt.seq_base;
		if (opt.rtcp && opt.rtcp_mux) {
			s->rtcp_fd = s->fd;
		} else if (opt.rtcp) {
			if (opt.have_bind_port)
				udpgen_set_port(&a, (uint16_t)(s->port + 1));
			s->rtcp_fd = udpgen_socket(&a, &rport);
			if (s->rtcp_fd < 0)
				return s->rtcp_fd;
		}
		if (opt.mode == UDPGEN_SEND) {
			s->dst_port = (uint16_t)(udpgen_port(&opt.dst) + i * opt.port_step);
			udpgen_bufsize(s->fd, SO_SNDBUFFORCE, SO_SNDBUF, 1 << 20);
		}
		if (rx && udpgen_watch(epfd, s->fd, i, false) != 0)
			return -EIO;
		if (rx && s->rtcp_fd >= 0 && s->rtcp_fd != s->fd &&
		    udpgen_watch(epfd, s->rtcp_fd, i, true) != 0)
			return -EIO;
	}
	return 0;
}

static uint8_t rxbuf[UDPGEN_BATCH * 2][UDPGEN_ROOM];

/* Echo: what passed SRTP goes back to its source, protected again with --srtp-tx. */
static void udpgen_echo(int fd, struct mmsghdr *mm, struct iovec *iov, const long *plain,
			bool rtcp_sock, int n)
{
	struct mmsghdr om[UDPGEN_BATCH * 2];
	int m = 0, off = 0;

	for (int i = 0; i < n; i++) {
		size_t len;

		if (plain[i] < 0)
			continue;
		len = (size_t)plain[i];
		if (srtp_tx &&
		    udpgen_srtp_protect(srtp_tx, iov[i].iov_base, &len,
					rtcp_sock || udpgen_srtp_is_rtcp(iov[i].iov_base, len)) !=
			UDPGEN_SRTP_OK) {
			tot.srtp_errors++;
			continue;
		}
		iov[i].iov_len = len;
		om[m] = mm[i];
		om[m].msg_hdr.msg_flags = 0;
		m++;
	}
	while (off < m) {
		int k = sendmmsg(fd, om + off, (unsigned)(m - off), 0);
		if (k <= 0) {
			tot.send_errors += (uint64_t)(m - off);
			break;
		}
		tot.echoed += (uint64_t)k;
		off += k;
	}
}

/* Drain one socket: account every datagram; echo mode sends each back to its source. */
static void udpgen_drain(unsigned idx, bool rtcp_sock)
{
	struct udpgen_stream *s = &streams[idx];
	struct mmsghdr mm[UDPGEN_BATCH * 2];
	struct iovec iov[UDPGEN_BATCH * 2];
	struct sockaddr_storage from[UDPGEN_BATCH * 2];
	long plain[UDPGEN_BATCH * 2];
	unsigned const nb = UDPGEN_BATCH * 2;
	int fd = rtcp_sock ? s->rtcp_fd : s->fd;

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
		n = recvmmsg(fd, mm, nb, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = udpgen_now_ns();
		for (int i = 0; i < n; i++) {
			/* A truncated datagram is corrupt by length: verify sees the cut size. */
			size_t len = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : mm[i].msg_len;
			plain[i] = udpgen_account(s, idx, rtcp_sock, rxbuf[i], len, now);
			/* Plain echo returns every datagram as it came, even a cut one. */
			if (!srtp_rx)
				plain[i] = mm[i].msg_len;
		}
		if (opt.mode == UDPGEN_ECHO)
			udpgen_echo(fd, mm, iov, plain, rtcp_sock, n);
		if (n < (int)nb)
			return;
	}
}

static void udpgen_poll(int epfd, int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(epfd, ev, 64, timeout_ms);

	for (int i = 0; i < n; i++)
		udpgen_drain(ev[i].data.u32 >> 1, ev[i].data.u32 & 1);
}

static uint64_t udpgen_rx_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < opt.streams; i++) {
		const struct udpgen_rx *a = &streams[i].rx, *b = &streams[i].rtcp_rx;
		n += a->pkts - a->auth_fail - a->replay - a->srtp_other;
		n += b->pkts - b->auth_fail - b->replay - b->srtp_other;
	}
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
		" srtp-drop %" PRIu64 "\n",
		opt.mode == UDPGEN_SEND	  ? "send"
		: opt.mode == UDPGEN_RECV ? "recv"
					  : "echo",
		(double)(now - start) / 1e9, tot.sent + tot.echoed,
		(double)(tot.sent + tot.echoed - t->last_sent) / dt, s.pkts,
		(double)(s.pkts - t->last_rx) / dt, s.rtp.lost + s.rtcp.lost,
		s.rtp.dup + s.rtcp.dup, s.rtp.reord + s.rtcp.reord, s.corrupt,
		s.rtp.auth_fail + s.rtp.replay + s.rtp.srtp_other + s.rtcp.auth_fail +
		    s.rtcp.replay + s.rtcp.srtp_other);
	t->last_sent = tot.sent + tot.echoed;
	t->last_rx = s.pkts;
	t->last_ns = now;
	t->next = now + (uint64_t)(opt.stats_interval * 1e9);
}

enum udpgen_kind { UDPGEN_GOOD, UDPGEN_WRONG, UDPGEN_TAMPER, UDPGEN_REPLAY };

/* Datagrams for one sendmmsg: the packets and the bad copies injected around them. */
struct udpgen_out {
	struct mmsghdr mm[UDPGEN_BATCH * UDPGEN_INJ];
	struct iovec iov[UDPGEN_BATCH * UDPGEN_INJ];
	uint8_t kind[UDPGEN_BATCH * UDPGEN_INJ];
	uint8_t *base; /* slot i at base + i * stride */
	size_t stride;
	unsigned n;
	struct sockaddr_storage dst;
};

static uint8_t txbuf[UDPGEN_BATCH * UDPGEN_INJ][UDPGEN_ROOM];
static uint8_t rtcpbuf[UDPGEN_BATCH * UDPGEN_INJ][UDPGEN_RTCP_LEN + UDPGEN_SRTP_TRAILER];
static uint8_t scratch[3][UDPGEN_ROOM]; /* protected, wrong key, plain */

static void udpgen_out_init(struct udpgen_out *o, uint8_t *base, size_t stride, uint16_t port)
{
	o->base = base;
	o->stride = stride;
	o->n = 0;
	o->dst = opt.dst;
	udpgen_set_port(&o->dst, port);
}

static void udpgen_out_add(struct udpgen_out *o, const uint8_t *p, size_t len,
			   enum udpgen_kind kind)
{
	uint8_t *slot = o->base + o->n * o->stride;

	memcpy(slot, p, len);
	o->iov[o->n].iov_base = slot;
	o->iov[o->n].iov_len = len;
	memset(&o->mm[o->n], 0, sizeof(o->mm[o->n]));
	o->mm[o->n].msg_hdr.msg_iov = &o->iov[o->n];
	o->mm[o->n].msg_hdr.msg_iovlen = 1;
	o->mm[o->n].msg_hdr.msg_name = &o->dst;
	o->mm[o->n].msg_hdr.msg_namelen = opt.alen;
	o->kind[o->n++] = (uint8_t)kind;
}

static bool udpgen_due(uint64_t every, uint64_t nth)
{
	return every && (nth + 1) % every == 0;
}

/* Queues the plain packet p (the nth of its kind in the stream), protected with --srtp-tx,
 * with the bad copies due for it: [wrong key][tampered] packet [replay]. The tampered
 * byte (offset 16) is inside the encrypted part of SRTP and SRTCP alike, before any tag.
 * -1 when libsrtp refused to protect it (nothing queued). */
static int udpgen_queue(struct udpgen_out *o, const uint8_t *p, size_t len, uint64_t nth, bool rtcp)
{
	uint8_t *g = scratch[0], *w = scratch[1];
	size_t glen = len, wlen = len;

	memcpy(g, p, len);
	if (srtp_tx && udpgen_srtp_protect(srtp_tx, g, &glen, rtcp) != UDPGEN_SRTP_OK) {
		tot.srtp_errors++;
		return -1;
	}
	/* The SRTCP index is a counter in the session, not in the packet: the wrong-key session
	 * protects every RTCP packet so its index stays in step, or the relay would see a
	 * replayed index (checked before authentication, RFC 3711 §3.3 step 5) instead. */
	if (srtp_wrong && (rtcp || udpgen_due(opt.wrong_key, nth))) {
		memcpy(w, p, len);
		if (udpgen_srtp_protect(srtp_wrong, w, &wlen, rtcp) != UDPGEN_SRTP_OK)
			tot.srtp_errors++;
		else if (udpgen_due(opt.wrong_key, nth))
			udpgen_out_add(o, w, wlen, UDPGEN_WRONG);
	}
	if (udpgen_due(opt.tamper, nth)) {
		udpgen_out_add(o, g, glen, UDPGEN_TAMPER);
		o->base[(o->n - 1) * o->stride + 16] ^= 0x80;
	}
	udpgen_out_add(o, g, glen, UDPGEN_GOOD);
	if (udpgen_due(opt.replay, nth))
		udpgen_out_add(o, g, glen, UDPGEN_REPLAY);
	return 0;
}

/* Sends o on fd; returns how many of its good packets went (the first ones), counting
 * the injected copies that went in inj. */
static unsigned udpgen_out_send(int fd, struct udpgen_out *o, struct udpgen_inj *inj)
{
	unsigned good = 0;
	int k = o->n ? sendmmsg(fd, o->mm, o->n, 0) : 0;

	if (k < 0) {
		/* ENOBUFS/EPERM/ECONNREFUSED: the packets were not sent; the sequence stays. */
		tot.send_errors++;
		return 0;
	}
	for (int i = 0; i < k; i++) {
		switch (o->kind[i]) {
		case UDPGEN_GOOD:
			good++;
			break;
		case UDPGEN_WRONG:
			inj->wrong_key++;
			break;
		case UDPGEN_TAMPER:
			inj->tampered++;
			break;
		default:
			inj->replayed++;
			break;
		}
	}
	return good;
}

/* After RTP packets first..last-1 of stream s went: the RTCP SRs due for them. */
static void udpgen_send_rtcp(unsigned idx, uint64_t first, uint64_t last, uint64_t now)
{
	struct udpgen_stream *s = &streams[idx];
	static struct udpgen_out o;
	uint8_t pkt[UDPGEN_RTCP_LEN];
	uint64_t seq = s->rtcp_seq;

	udpgen_out_init(&o, rtcpbuf[0], sizeof(rtcpbuf[0]),
			(uint16_t)(s->dst_port + !opt.rtcp_mux));
	for (uint64_t q = first; q < last; q++) {
		if (!udpgen_due(opt.rtcp_every, q - opt.seq_base))
			continue;
		udpgen_build_rtcp(pkt, s, idx, seq, now);
		if (udpgen_queue(&o, pkt, sizeof(pkt), seq, true) != 0)
			break;
		seq++;
	}
	seq = udpgen_out_send(s->rtcp_fd, &o, &tot.rtcp_inj);
	s->rtcp_seq += seq;
	tot.rtcp_sent += seq;
}

/* Send up to n packets of stream idx in one sendmmsg; returns how many went. */
static unsigned udpgen_send_batch(unsigned idx, unsigned n)
{
	struct udpgen_stream *s = &streams[idx];
	static struct udpgen_out o;
	uint64_t now = udpgen_now_ns();
	unsigned k;

	udpgen_out_init(&o, txbuf[0], sizeof(txbuf[0]), s->dst_port);
	for (unsigned i = 0; i < n; i++) {
		uint64_t seq = s->next_seq + i;
		unsigned len = udpgen_build(scratch[2], opt.size, idx, s->ssrc, seq, now);
		if (udpgen_queue(&o, scratch[2], len, seq - opt.seq_base, false) != 0)
			break;
	}
	k = udpgen_out_send(s->fd, &o, &tot.inj);
	if (k == 0)
		return 0;
	if (tot.first_tx_ns == 0)
		tot.first_tx_ns = now;
	s->next_seq += k;
	s->octets += (uint64_t)k * opt.size;
	tot.sent += k;
	if (opt.rtcp_every)
		udpgen_send_rtcp(idx, s->next_seq - k, s->next_seq, now);
	tot.last_tx_ns = udpgen_now_ns();
	return k;
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
			if (r >= tot.sent + tot.rtcp_sent)
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

static void udpgen_print_part(const struct udpgen_part *p)
{
	printf(",\"received\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"lost\":%" PRIu64
	       ",\"dup\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"corrupt\":%" PRIu64
	       ",\"misrouted\":%" PRIu64 ",\"auth_fail\":%" PRIu64 ",\"replay\":%" PRIu64
	       ",\"srtp_other\":%" PRIu64,
	       p->pkts, p->bytes, p->lost, p->dup, p->reord, p->corrupt, p->misrouted, p->auth_fail,
	       p->replay, p->srtp_other);
}

static void udpgen_print_inj(const struct udpgen_inj *i)
{
	printf(",\"tampered\":%" PRIu64 ",\"replayed\":%" PRIu64 ",\"wrong_key\":%" PRIu64,
	       i->tampered, i->replayed, i->wrong_key);
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
	/* Top level: RTP (and everything when plain and without RTCP, as before SRTP). */
	printf("{\"mode\":\"%s\",\"streams\":%u,\"size\":%u,\"rate\":%.0f,\"sent\":%" PRIu64
	       ",\"send_errors\":%" PRIu64 ",\"echoed\":%" PRIu64,
	       mode, opt.streams, opt.size, opt.mode == UDPGEN_SEND ? opt.rate : 0, tot.sent,
	       tot.send_errors, tot.echoed);
	udpgen_print_part(&s.rtp);
	udpgen_print_inj(&tot.inj);
	printf(",\"pps\":%.0f,\"active\":%.3f,\"duration\":%.3f", pps, active, dur);
	if (tot.lat_n > 0)
		printf(",\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
		       (double)udpgen_hist_pct(50) / 1e3, (double)udpgen_hist_pct(99) / 1e3,
		       (double)tot.lat_max / 1e3);
	if (opt.have_srtp_tx || opt.have_srtp_rx)
		printf(",\"srtp\":{\"tx\":\"%s\",\"rx\":\"%s\",\"errors\":%" PRIu64 "}",
		       opt.have_srtp_tx ? udpgen_srtp_suite_name(opt.srtp_tx.suite) : "",
		       opt.have_srtp_rx ? udpgen_srtp_suite_name(opt.srtp_rx.suite) : "",
		       tot.srtp_errors);
	if (opt.rtcp || s.rtcp.pkts > 0) {
		printf(",\"rtcp\":{\"sent\":%" PRIu64, tot.rtcp_sent);
		udpgen_print_part(&s.rtcp);
		udpgen_print_inj(&tot.rtcp_inj);
		printf("}");
	}
	if (opt.per_stream) {
		printf(",\"per_stream\":[");
		for (unsigned i = 0; i < opt.streams; i++) {
			const struct udpgen_stream *st = &streams[i];
			printf("%s{\"port\":%u,\"sent\":%" PRIu64 ",\"received\":%" PRIu64
			       ",\"lost\":%" PRIu64 ",\"dup\":%" PRIu64 ",\"reordered\":%" PRIu64
			       ",\"corrupt\":%" PRIu64 ",\"misrouted\":%" PRIu64
			       ",\"auth_fail\":%" PRIu64 ",\"replay\":%" PRIu64
			       ",\"rtcp_sent\":%" PRIu64 ",\"rtcp_received\":%" PRIu64 "}",
			       i ? "," : "", st->port,
			       opt.mode == UDPGEN_SEND ? st->next_seq - opt.seq_base : 0,
			       st->rx.pkts, udpgen_rx_lost(&st->rx), st->rx.dup, st->rx.reord,
			       st->rx.corrupt, st->rx.misrouted,
			       st->rx.auth_fail + st->rtcp_rx.auth_fail,
			       st->rx.replay + st->rtcp_rx.replay, st->rtcp_seq, st->rtcp_rx.pkts);
		}
		printf("]");
	}
	printf("}\n");
	fflush(stdout);
}

/* The SRTP sessions the options ask for; 0 or -1 (message printed). */
static int udpgen_srtp_open(void)
{
	struct udpgen_srtp_key wrong;

	if (opt.have_srtp_tx && !(srtp_tx = udpgen_srtp_create(&opt.srtp_tx, true, 0)))
		return -1;
	if (opt.have_srtp_rx &&
	    !(srtp_rx = udpgen_srtp_create(&opt.srtp_rx, false, opt.srtp_window)))
		return -1;
	if (opt.wrong_key) {
		udpgen_srtp_key_wrong(&opt.srtp_tx, &wrong);
		srtp_wrong = udpgen_srtp_create(&wrong, true, 0);
		memset(&wrong, 0, sizeof(wrong));
		if (!srtp_wrong)
			return -1;
	}
	memset(&opt.srtp_tx.key, 0, sizeof(opt.srtp_tx.key));
	memset(&opt.srtp_rx.key, 0, sizeof(opt.srtp_rx.key));
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = udpgen_on_signal};
	struct udpgen_sum s;
	uint64_t start, stop;
	int epfd;

	if (argc >= 2 && (strcmp(argv[1], "protect") == 0 || strcmp(argv[1], "unprotect") == 0))
		return udpgen_xform_main(argc, argv);
	if (udpgen_parse(argc, argv) != 0)
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The default 50 us timer slack would make short pacing sleeps far too long. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (udpgen_srtp_open() != 0)
		return 3;
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
	for (unsigned i = 0; i < opt.streams; i++) {
		if (streams[i].rtcp_fd >= 0 && streams[i].rtcp_fd != streams[i].fd)
			close(streams[i].rtcp_fd);
		close(streams[i].fd);
	}
	close(epfd);
	free(streams);
	udpgen_srtp_destroy(srtp_tx);
	udpgen_srtp_destroy(srtp_rx);
	udpgen_srtp_destroy(srtp_wrong);
	return s.corrupt || s.misrouted ? 1 : 0;
}
