/* Unit tests for dataplane/classify.c: hostile and valid frames, each checked for the exact
 * verdict and drop reason, plus a mutation sweep against a reference validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "classify.h"
#include "frames.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint8_t port_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static struct ifaddr_port port;

/* Two media addresses with non-trivial indexes so addr_idx is really looked up. */
static const uint32_t media_a = IP4(192, 0, 2, 10);
static const uint32_t media_b = IP4(192, 0, 2, 11);
static const uint16_t media_a_idx = 3, media_b_idx = 7;

static int setup(void **state)
{
	memset(&port, 0, sizeof(port));
	port.used = true;
	port.n = 2;
	port.idx[0] = media_a_idx;
	port.v4[0] = htonl(media_a);
	port.idx[1] = media_b_idx;
	port.v4[1] = htonl(media_b);
	memcpy(port.mac.addr_bytes, port_mac, 6);
	return 0;
}

/* A valid RTP-sized frame from 198.51.100.5:4000 to media_b:30000; returns its length.
 * buf must hold FRAMES_MAX bytes; it is zeroed first so padding is deterministic. */
static uint32_t base_frame(uint8_t *buf, uint32_t payload_len)
{
	uint8_t payload[FRAMES_MAX];
	struct frames_udp4 s = {
	    .saddr = IP4(198, 51, 100, 5),
	    .daddr = media_b,
	    .sport = 4000,
	    .dport = 30000,
	    .ttl = 64,
	    .id = 0x1234,
	    .payload = payload,
	    .payload_len = payload_len,
	    .udp_csum = 1,
	};

	for (uint32_t i = 0; i < payload_len; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	memcpy(s.dst_mac, port_mac, 6);
	memcpy(s.src_mac, peer_mac, 6);
	memset(buf, 0, FRAMES_MAX);
	return frames_build_udp4(buf, &s);
}

static enum classify_verdict run(const uint8_t *buf, uint32_t len, int good,
				 struct classify_out *out, int line)
{
	uint8_t copy[FRAMES_MAX];
	enum classify_verdict v;

	memcpy(copy, buf, FRAMES_MAX);
	memset(out, 0xa5, sizeof(*out));
	v = classify_frame(buf, len, &port, good, out);
	if (memcmp(copy, buf, FRAMES_MAX) != 0)
		fail_msg("line %d: classify_frame wrote to the frame", line);
	return v;
}

static void expect_drop_at(const uint8_t *buf, uint32_t len, int good, enum dp_drop want, int line)
{
	struct classify_out out;
	enum classify_verdict v = run(buf, len, good, &out, line);

	if (v != CLASSIFY_DROP)
		fail_msg("line %d: verdict %d, want DROP %s", line, v, dp_drop_names[want]);
	if (out.drop != want)
		fail_msg("line %d: drop %s, want %s", line,
			 (unsigned)out.drop < DP_DROP_MAX ? dp_drop_names[out.drop] : "?",
			 dp_drop_names[want]);
}

#define EXPECT_DROP(buf, len, want)	       expect_drop_at(buf, len, 0, want, __LINE__)
#define EXPECT_DROP_GOOD(buf, len, good, want) expect_drop_at(buf, len, good, want, __LINE__)

static void expect_media_at(const uint8_t *buf, uint32_t len, int good, uint16_t idx,
			    uint32_t frame_len, int line)
{
	struct classify_out out;
	enum classify_verdict v = run(buf, len, good, &out, line);

	if (v != CLASSIFY_MEDIA)
		fail_msg("line %d: verdict %d (drop %u), want MEDIA", line, v, (unsigned)out.drop);
	if (out.addr_idx != idx || out.frame_len != frame_len || out.l3_off != 14)
		fail_msg("line %d: addr_idx %u frame_len %u l3_off %u, want %u %u 14", line,
			 out.addr_idx, out.frame_len, out.l3_off, idx, frame_len);
}

#define EXPECT_MEDIA(buf, len, idx, flen) expect_media_at(buf, len, 0, idx, flen, __LINE__)

static void test_valid(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 172);
	struct classify_out out;

	assert_int_equal(len, 14 + 20 + 8 + 172);
	assert_int_equal(run(buf, len, 0, &out, __LINE__), CLASSIFY_MEDIA);
	assert_int_equal(out.addr_idx, media_b_idx);
	assert_int_equal(out.sport, 4000);
	assert_int_equal(out.dport, 30000);
	assert_int_equal(out.saddr, htonl(IP4(198, 51, 100, 5)));
	assert_int_equal(out.l3_off, 14);
	assert_int_equal(out.frame_len, len);

	/* The other media address of the port. */
	frames_put32(buf + FRAMES_OFF_DADDR, media_a);
	frames_fix_ip_csum(buf);
	EXPECT_MEDIA(buf, len, media_a_idx, len);

	/* DF is what real senders set: it is not a fragment. */
	frames_put16(buf + FRAMES_OFF_FRAG, 0x4000);
	frames_fix_ip_csum(buf);
	EXPECT_MEDIA(buf, len, media_a_idx, len);

	/* Smallest valid: empty UDP payload. */
	len = base_frame(buf, 0);
	EXPECT_MEDIA(buf, len, media_b_idx, 42);
}

static void test_too_short(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 172);

	EXPECT_DROP(buf, 0, DP_DROP_TOO_SHORT);
	EXPECT_DROP(buf, 1, DP_DROP_TOO_SHORT);
	EXPECT_DROP(buf, 13, DP_DROP_TOO_SHORT);
	EXPECT_DROP(buf, 14, DP_DROP_TOO_SHORT);
	EXPECT_DROP(buf, 14 + 1, DP_DROP_TOO_SHORT);
	EXPECT_DROP(buf, 14 + 19, DP_DROP_TOO_SHORT);
	/* Every truncation of a valid frame is dropped: before a full IP header it is too
	 * short, after that the total length lies about the frame. */
	for (uint32_t l = 0; l < len; l++)
		EXPECT_DROP(buf, l, l < 34 ? DP_DROP_TOO_SHORT : DP_DROP_IP_LEN);
	EXPECT_MEDIA(buf, len, media_b_idx, len);
}

static void test_ethertype(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	frames_put16(buf + FRAMES_OFF_ETYPE, 0x8100); /* VLAN tag: never enabled on ports */
	EXPECT_DROP(buf, len, DP_DROP_NOT_IP);
	frames_put16(buf + FRAMES_OFF_ETYPE, 0x86dd);
	EXPECT_DROP(buf, len, DP_DROP_NOT_IP);
	frames_put16(buf + FRAMES_OFF_ETYPE, 0x0008); /* IPv4 in the wrong byte order */
	EXPECT_DROP(buf, len, DP_DROP_NOT_IP);
	frames_put16(buf + FRAMES_OFF_ETYPE, 0x0000);
	EXPECT_DROP(buf, 14, DP_DROP_NOT_IP);
}

static void test_arp_is_slow(void **state)
{
	uint8_t buf[FRAMES_MAX];
	struct classify_out out;

	memset(buf, 0, sizeof(buf));
	memset(buf, 0xff, 6); /* requests are broadcast: must still reach the slow path */
	memcpy(buf + 6, peer_mac, 6);
	frames_put16(buf + FRAMES_OFF_ETYPE, 0x0806);
	assert_int_equal(run(buf, 60, 0, &out, __LINE__), CLASSIFY_SLOW);
	memcpy(buf, port_mac, 6);
	assert_int_equal(run(buf, 42, 0, &out, __LINE__), CLASSIFY_SLOW);
	memcpy(buf, peer_mac, 6); /* not ours either: the slow path decides and counts */
	assert_int_equal(run(buf, 42, 0, &out, __LINE__), CLASSIFY_SLOW);
	/* ARP validation is the slow path's job (arp_parse). */
	assert_int_equal(run(buf, 14, 0, &out, __LINE__), CLASSIFY_SLOW);
}

static void test_l2_dst(void **state)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	static const uint8_t mcast6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
	static const uint8_t ours_group[6] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	memcpy(buf, bcast, 6);
	EXPECT_DROP(buf, len, DP_DROP_L2_BCAST);
	memcpy(buf, mcast4, 6);
	EXPECT_DROP(buf, len, DP_DROP_L2_BCAST);
	memcpy(buf, mcast6, 6);
	EXPECT_DROP(buf, len, DP_DROP_L2_BCAST);
	memcpy(buf, ours_group, 6); /* our MAC with the group bit set */
	EXPECT_DROP(buf, len, DP_DROP_L2_BCAST);
	memcpy(buf, other, 6);
	EXPECT_DROP(buf, len, DP_DROP_L2_NOT_US);
	memcpy(buf, port_mac, 6);
	EXPECT_MEDIA(buf, len, media_b_idx, len);
	/* The MAC is checked before anything IP: a broken IP header in someone else's frame
	 * counts as not-us. */
	memcpy(buf, other, 6);
	buf[FRAMES_OFF_VIHL] = 0x60;
	EXPECT_DROP(buf, len, DP_DROP_L2_NOT_US);
}

static void test_ip_version(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	buf[FRAMES_OFF_VIHL] = 0x65;
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_VERSION);
	buf[FRAMES_OFF_VIHL] = 0x05;
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_VERSION);
	buf[FRAMES_OFF_VIHL] = 0xf5;
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_VERSION);
}

static void test_ihl(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		buf[FRAMES_OFF_VIHL] = (uint8_t)(0x40 | ihl);
		EXPECT_DROP(buf, len, DP_DROP_IP_HDR_LEN);
	}
	/* IHL 15 = 60 bytes, in a frame with only 40 bytes after Ethernet. */
	len = base_frame(buf, 12);
	assert_int_equal(len - 14, 40);
	buf[FRAMES_OFF_VIHL] = 0x4f;
	frames_put16(buf + FRAMES_OFF_TOTLEN, 40);
	EXPECT_DROP(buf, len, DP_DROP_IP_HDR_LEN);
	/* IHL 6 with exactly 20 bytes of IP in the frame. */
	buf[FRAMES_OFF_VIHL] = 0x46;
	EXPECT_DROP(buf, 34, DP_DROP_IP_HDR_LEN);
}

static void test_total_length(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);
	uint16_t tot = (uint16_t)(len - 14);

	frames_put16(buf + FRAMES_OFF_TOTLEN, (uint16_t)(tot + 1));
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_LEN);
	frames_put16(buf + FRAMES_OFF_TOTLEN, 0xffff);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_LEN);
	frames_put16(buf + FRAMES_OFF_TOTLEN, 19);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_LEN);
	frames_put16(buf + FRAMES_OFF_TOTLEN, 0);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_LEN);
	/* IHL 6 and total length 20: shorter than its own header. */
	buf[FRAMES_OFF_VIHL] = 0x46;
	frames_put16(buf + FRAMES_OFF_TOTLEN, 20);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_LEN);
}

static void test_padding(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 2);
	struct classify_out out;

	/* A minimum-size Ethernet frame: 44 bytes of packet, 16 of padding. */
	assert_int_equal(len, 44);
	memset(buf + len, 0xee, 60 - len);
	assert_int_equal(run(buf, 60, 0, &out, __LINE__), CLASSIFY_MEDIA);
	assert_int_equal(out.frame_len, 44);
	assert_int_equal(out.addr_idx, media_b_idx);
	/* Padding longer than any minimum is still only padding. */
	EXPECT_MEDIA(buf, 1500, media_b_idx, 44);
}

static void test_ip_csum(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	buf[FRAMES_OFF_IPCSUM] ^= 0x01;
	EXPECT_DROP(buf, len, DP_DROP_IP_CSUM);
	expect_media_at(buf, len, 1, media_b_idx, len, __LINE__);
	buf[FRAMES_OFF_IPCSUM] ^= 0x01;
	EXPECT_MEDIA(buf, len, media_b_idx, len);

	/* A field changed without fixing the checksum. */
	buf[FRAMES_OFF_TTL]--;
	EXPECT_DROP(buf, len, DP_DROP_IP_CSUM);
	buf[FRAMES_OFF_TTL]++;
	frames_put32(buf + FRAMES_OFF_SADDR, IP4(198, 51, 100, 6));
	EXPECT_DROP(buf, len, DP_DROP_IP_CSUM);
	expect_media_at(buf, len, 1, media_b_idx, len, __LINE__);

	/* Zero checksum field is not "no checksum" in IPv4. */
	len = base_frame(buf, 40);
	frames_put16(buf + FRAMES_OFF_IPCSUM, 0);
	EXPECT_DROP(buf, len, DP_DROP_IP_CSUM);
}

static void test_options(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint8_t pkt[FRAMES_MAX];
	uint32_t len = base_frame(pkt, 40);

	/* Insert 4 option bytes (NOP x3, EOL) after the fixed header. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, pkt, 34);
	memcpy(buf + 34, "\x01\x01\x01\x00", 4);
	memcpy(buf + 38, pkt + 34, len - 34);
	len += 4;
	buf[FRAMES_OFF_VIHL] = 0x46;
	frames_put16(buf + FRAMES_OFF_TOTLEN, (uint16_t)(len - 14));
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_IP_OPTIONS);
	EXPECT_DROP_GOOD(buf, len, 1, DP_DROP_IP_OPTIONS);
	/* The checksum covers the options: corrupt one option byte. */
	buf[35] = 0x07;
	EXPECT_DROP(buf, len, DP_DROP_IP_CSUM);
	EXPECT_DROP_GOOD(buf, len, 1, DP_DROP_IP_OPTIONS);
}

static void test_fragment(void **state)
{
	static const uint16_t frags[] = {0x2000, 0x0001, 0x1fff, 0x2001, 0x6000, 0x4001, 0x3fff};
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		frames_put16(buf + FRAMES_OFF_FRAG, frags[i]);
		frames_fix_ip_csum(buf);
		EXPECT_DROP(buf, len, DP_DROP_IP_FRAGMENT);
	}
	/* The reserved (evil) bit alone is not a fragment. */
	frames_put16(buf + FRAMES_OFF_FRAG, 0x8000);
	frames_fix_ip_csum(buf);
	EXPECT_MEDIA(buf, len, media_b_idx, len);
}

static void test_ip_dst(void **state)
{
	static const uint32_t group[] = {
	    IP4(224, 0, 0, 1),
	    IP4(239, 255, 255, 255),
	    IP4(232, 1, 2, 3),
	    IP4(255, 255, 255, 255),
	};
	static const uint32_t others[] = {
	    IP4(192, 0, 2, 12), IP4(223, 255, 255, 255), IP4(240, 0, 0, 1), IP4(0, 0, 0, 0),
	    IP4(10, 192, 2, 0), IP4(11, 2, 0, 192), /* byte-swapped media_b */
	};
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	for (size_t i = 0; i < sizeof(group) / sizeof(group[0]); i++) {
		frames_put32(buf + FRAMES_OFF_DADDR, group[i]);
		frames_fix_ip_csum(buf);
		EXPECT_DROP(buf, len, DP_DROP_IP_BCAST);
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		frames_put32(buf + FRAMES_OFF_DADDR, others[i]);
		frames_fix_ip_csum(buf);
		EXPECT_DROP(buf, len, DP_DROP_NOT_OUR_ADDR);
	}
	/* A port without addresses owns nothing. */
	frames_put32(buf + FRAMES_OFF_DADDR, media_b);
	frames_fix_ip_csum(buf);
	port.n = 0;
	EXPECT_DROP(buf, len, DP_DROP_NOT_OUR_ADDR);
	port.n = 2;
	EXPECT_MEDIA(buf, len, media_b_idx, len);
}

static void test_ip_src(void **state)
{
	static const uint32_t bad[] = {
	    IP4(0, 0, 0, 0),       IP4(255, 255, 255, 255), IP4(224, 0, 0, 1),
	    IP4(239, 1, 2, 3),     IP4(240, 0, 0, 1),       IP4(127, 0, 0, 1),
	    IP4(127, 255, 0, 9),
	};
	static const uint32_t good[] = {IP4(192, 0, 2, 10), IP4(223, 255, 255, 254),
					IP4(1, 0, 0, 0), IP4(126, 255, 255, 255)};
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		frames_put32(buf + FRAMES_OFF_SADDR, bad[i]);
		frames_fix_ip_csum(buf);
		EXPECT_DROP(buf, len, DP_DROP_BAD_SRC);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		frames_put32(buf + FRAMES_OFF_SADDR, good[i]);
		frames_fix_ip_csum(buf);
		EXPECT_MEDIA(buf, len, media_b_idx, len);
	}
	/* Source port 0 cannot be answered. */
	buf[FRAMES_OFF_SPORT] = 0;
	buf[FRAMES_OFF_SPORT + 1] = 0;
	EXPECT_DROP(buf, len, DP_DROP_BAD_SRC);
}

static void test_not_udp(void **state)
{
	static const uint8_t protos[] = {1, 6, 0, 41, 47, 50, 132, 255, 16, 18};
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	for (size_t i = 0; i < sizeof(protos); i++) {
		buf[FRAMES_OFF_PROTO] = protos[i];
		frames_fix_ip_csum(buf);
		EXPECT_DROP(buf, len, DP_DROP_NOT_UDP);
	}
}

static void test_udp_len(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);
	uint16_t ulen = 8 + 40;

	frames_put16(buf + FRAMES_OFF_ULEN, (uint16_t)(ulen + 1));
	EXPECT_DROP(buf, len, DP_DROP_UDP_LEN);
	frames_put16(buf + FRAMES_OFF_ULEN, 0xffff);
	EXPECT_DROP(buf, len, DP_DROP_UDP_LEN);
	frames_put16(buf + FRAMES_OFF_ULEN, (uint16_t)(ulen - 1));
	EXPECT_DROP(buf, len, DP_DROP_UDP_LEN);
	frames_put16(buf + FRAMES_OFF_ULEN, 8);
	EXPECT_DROP(buf, len, DP_DROP_UDP_LEN);
	frames_put16(buf + FRAMES_OFF_ULEN, 0);
	EXPECT_DROP(buf, len, DP_DROP_UDP_LEN);
	frames_put16(buf + FRAMES_OFF_ULEN, ulen);
	EXPECT_MEDIA(buf, len, media_b_idx, len);

	/* UDP length checked against the IP length, not the (padded) frame. */
	EXPECT_MEDIA(buf, len + 20, media_b_idx, len);
	frames_put16(buf + FRAMES_OFF_ULEN, (uint16_t)(ulen + 20));
	EXPECT_DROP(buf, len + 20, DP_DROP_UDP_LEN);
}

static void test_udp_truncated(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 0);

	/* The IP packet ends 4 bytes into the UDP header; the frame is padded to 60 so the
	 * bytes are physically there, but they are not part of the packet. */
	frames_put16(buf + FRAMES_OFF_TOTLEN, 24);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, 60, DP_DROP_TOO_SHORT);
	frames_put16(buf + FRAMES_OFF_TOTLEN, 20);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, 60, DP_DROP_TOO_SHORT);
	frames_put16(buf + FRAMES_OFF_TOTLEN, 27);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, 60, DP_DROP_TOO_SHORT);
	/* And the frame itself ending inside the UDP header. */
	frames_put16(buf + FRAMES_OFF_TOTLEN, 24);
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, 38, DP_DROP_TOO_SHORT);
	frames_put16(buf + FRAMES_OFF_TOTLEN, 28);
	frames_fix_ip_csum(buf);
	EXPECT_MEDIA(buf, len, media_b_idx, 42);
}

static void test_ttl(void **state)
{
	uint8_t buf[FRAMES_MAX];
	uint32_t len = base_frame(buf, 40);

	buf[FRAMES_OFF_TTL] = 1;
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_TTL);
	buf[FRAMES_OFF_TTL] = 0;
	frames_fix_ip_csum(buf);
	EXPECT_DROP(buf, len, DP_DROP_TTL);
	buf[FRAMES_OFF_TTL] = 2;
	frames_fix_ip_csum(buf);
	EXPECT_MEDIA(buf, len, media_b_idx, len);
	buf[FRAMES_OFF_TTL] = 255;
	frames_fix_ip_csum(buf);
	EXPECT_MEDIA(buf, len, media_b_idx, len);
}

/* Independent statement of the contract, byte by byte. */
static int ref_is_media(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14;
	uint32_t tot, daddr;

	if (len < 42 || frames_get16(f + 12) != 0x0800 || memcmp(f, port_mac, 6) != 0)
		return 0;
	if (ip[0] != 0x45)
		return 0;
	tot = frames_get16(ip + 2);
	if (tot < 28 || tot > len - 14)
		return 0;
	if (frames_fold(frames_sum(ip, 20, 0)) != 0xffff)
		return 0;
	if (frames_get16(ip + 6) & 0x3fff)
		return 0;
	daddr = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	if (daddr != media_a && daddr != media_b)
		return 0;
	if (ip[12] == 0 && ip[13] == 0 && ip[14] == 0 && ip[15] == 0)
		return 0; /* unspecified source */
	if (ip[12] >= 224 || ip[12] == 127)
		return 0; /* multicast, class E, broadcast, loopback source */
	if (ip[9] != 17 || frames_get16(ip + 24) != tot - 20 || ip[8] <= 1)
		return 0;
	if (frames_get16(ip + 20) == 0)
		return 0; /* source port 0 */
	return 1;
}

/* Random header corruption: classify must accept exactly what the reference accepts.
 * Half the mutants get their IP checksum repaired so the later checks are reached. */
static void test_mutations(void **state)
{
	uint8_t base[FRAMES_MAX], buf[FRAMES_MAX];
	uint32_t base_len = base_frame(base, 30);
	unsigned media = 0, dropped = 0;
	struct classify_out out;

	srand(12345);
	for (int iter = 0; iter < 50000; iter++) {
		uint32_t len = base_len;
		int n = 1 + rand() % 3;

		memcpy(buf, base, sizeof(buf));
		for (int k = 0; k < n; k++) {
			int off = rand() % 42;
			/* Bias towards small deltas so lengths and TTL hit their boundaries. */
			if (rand() & 1)
				buf[off] = (uint8_t)rand();
			else
				buf[off] = (uint8_t)(buf[off] + (rand() % 5) - 2);
		}
		if (rand() % 4 == 0)
			len = (uint32_t)(rand() % (int)(base_len + 30));
		if ((rand() & 1) && (buf[14] & 0x0f) >= 5)
			frames_fix_ip_csum(buf);
		enum classify_verdict v = run(buf, len, 0, &out, __LINE__);
		int want = ref_is_media(buf, len);
		if (frames_get16(buf + 12) == 0x0806 && len >= 14) {
			assert_int_equal(v, CLASSIFY_SLOW);
			continue;
		}
		if (want != (v == CLASSIFY_MEDIA))
			fail_msg("iteration %d: classify %d drop %u, reference %d", iter, v,
				 (unsigned)out.drop, want);
		if (v == CLASSIFY_MEDIA) {
			media++;
			assert_int_equal(out.frame_len, 14 + frames_get16(buf + FRAMES_OFF_TOTLEN));
			assert_true(out.frame_len <= len);
		} else {
			assert_int_equal(v, CLASSIFY_DROP);
			assert_true((unsigned)out.drop < DP_DROP_MAX);
			dropped++;
		}
	}
	/* The sweep means something only if both outcomes occurred often. */
	assert_true(media > 1000);
	assert_true(dropped > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_valid, setup),
	    cmocka_unit_test_setup(test_too_short, setup),
	    cmocka_unit_test_setup(test_ethertype, setup),
	    cmocka_unit_test_setup(test_arp_is_slow, setup),
	    cmocka_unit_test_setup(test_l2_dst, setup),
	    cmocka_unit_test_setup(test_ip_version, setup),
	    cmocka_unit_test_setup(test_ihl, setup),
	    cmocka_unit_test_setup(test_total_length, setup),
	    cmocka_unit_test_setup(test_padding, setup),
	    cmocka_unit_test_setup(test_ip_csum, setup),
	    cmocka_unit_test_setup(test_options, setup),
	    cmocka_unit_test_setup(test_fragment, setup),
	    cmocka_unit_test_setup(test_ip_dst, setup),
	    cmocka_unit_test_setup(test_ip_src, setup),
	    cmocka_unit_test_setup(test_not_udp, setup),
	    cmocka_unit_test_setup(test_udp_len, setup),
	    cmocka_unit_test_setup(test_udp_truncated, setup),
	    cmocka_unit_test_setup(test_ttl, setup),
	    cmocka_unit_test_setup(test_mutations, setup),
	};

	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
