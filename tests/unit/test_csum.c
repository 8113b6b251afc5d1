/* Unit tests for dataplane/csum.h: every result is compared with DPDK's rte_raw_cksum /
 * rte_ipv4_cksum / rte_ipv4_udptcp_cksum (bit for bit) and with the byte-by-byte RFC 1071
 * sums of tests/unit/frames.h, over every length 0..2048 at every start alignment 0..7,
 * the RFC 1071 §3 example, and sums whose folding needs more than one carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csum.h"
#include "frames.h"

#define MAX_LEN 2048
#define ALIGNS	8

static uint64_t rng_state;

/* xorshift64*: deterministic across libcs, unlike rand(). */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* The folded sum as the bytes it becomes in a packet, read big-endian: the value RFC 1071
 * and frames.h state. */
static uint16_t wire16(uint16_t host_order_sum)
{
	uint8_t b[2];

	memcpy(b, &host_order_sum, 2);
	return frames_get16(b);
}

static uint16_t csum16(const void *buf, size_t len)
{
	return csum_fold(csum_raw(buf, len, 0));
}

/* Every length at every alignment of one buffer content, against DPDK and frames.h. */
static void check_all_lengths(const uint8_t *buf, const char *what)
{
	for (size_t off = 0; off < ALIGNS; off++)
		for (size_t len = 0; len <= MAX_LEN; len++) {
			uint16_t got = csum16(buf + off, len);
			uint16_t want = rte_raw_cksum(buf + off, len);

			if (got != want)
				fail_msg("%s: offset %zu length %zu: %04x, rte_raw_cksum %04x", what,
					 off, len, got, want);
			if (wire16(got) != frames_fold(frames_sum(buf + off, len, 0)))
				fail_msg("%s: offset %zu length %zu: %04x, RFC 1071 %04x", what, off,
					 len, wire16(got), frames_fold(frames_sum(buf + off, len, 0)));
		}
}

static void test_raw_random(void **state)
{
	static uint8_t buf[MAX_LEN + ALIGNS];

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rng();
		check_all_lengths(buf, "random");
	}
}

/* All 0xff: every word is negative zero, the sum of an even length is 0xffff, never 0.
 * Mostly 0xff with sparse small bytes: long carry chains at every folding step. */
static void test_raw_ones_and_carries(void **state)
{
	static uint8_t buf[MAX_LEN + ALIGNS];

	memset(buf, 0xff, sizeof(buf));
	check_all_lengths(buf, "all 0xff");
	for (size_t len = 2; len <= MAX_LEN; len += 2)
		assert_int_equal(csum16(buf, len), 0xffff);
	assert_int_equal(csum16(buf, 1), 0x00ff); /* 0xff padded with zero, in memory order */
	assert_int_equal(wire16(csum16(buf, 3)), 0xff00);

	rng_state = 3;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rng() % 61 == 0 ? (uint8_t)(rng() % 3) : 0xff;
	check_all_lengths(buf, "0xff with carries");
}

static void test_raw_zero(void **state)
{
	static uint8_t buf[MAX_LEN + ALIGNS];

	check_all_lengths(buf, "zeros");
	for (size_t len = 0; len <= MAX_LEN; len++)
		assert_int_equal(csum16(buf + (len & 7), len), 0);
}

/* RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (carry 2 folded in), on the
 * wire as dd f2, at any alignment; the same bytes with an odd tail and a seed. */
static void test_rfc1071_example(void **state)
{
	static const uint8_t ex[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint8_t buf[8 + ALIGNS + 1];

	for (size_t off = 0; off < ALIGNS; off++) {
		memset(buf, 0xa5, sizeof(buf));
		memcpy(buf + off, ex, sizeof(ex));
		assert_int_equal(wire16(csum16(buf + off, 8)), 0xddf2);
		/* 00 01 f2 03 f4 f5 f6 = 0x0001 + 0xf203 + 0xf4f5 + 0xf600 = 0x2dcf9 -> 0xdcfb */
		assert_int_equal(wire16(csum16(buf + off, 7)), 0xdcfb);
	}
	/* A seed is added like one more word: the first 4 bytes, then the rest on top. */
	assert_int_equal(wire16(csum_fold(csum_raw(ex + 4, 4, csum_raw(ex, 4, 0)))), 0xddf2);
}

/* Sums that need two or more end-around folds, against a fold written as RFC 1071 says
 * (add the carries back until none is left). */
static void test_fold(void **state)
{
	static const uint64_t sums[] = {
	    0,
	    1,
	    0xffff,
	    0x10000,	       /* carry 1 -> 1 */
	    0x1ffff,	       /* 0xffff + 1 = 0x10000: a second 16-bit fold */
	    0xffffffff,	       /* 0xffff + 0xffff = 0x1fffe, then 0xffff */
	    0x100000000,       /* 32-bit carry */
	    0x1ffffffff,       /* 0xffffffff + 1: a second 32-bit fold */
	    0xffffffffffffffff, /* every fold carries */
	    0x8000000000000000,
	    0x0001fffffffeffff,
	};
	uint8_t two_folds[6] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x01};

	rng_state = 77;
	for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]) + 1000; i++) {
		uint64_t s = i < sizeof(sums) / sizeof(sums[0]) ? sums[i] : rng();
		uint64_t ref = s;

		while (ref >> 16)
			ref = (ref & 0xffff) + (ref >> 16);
		assert_int_equal(csum_fold(s), ref);
	}
	/* ffff + ffff + 0001 = 0x1ffff -> 0x10000 -> 0x0001 */
	assert_int_equal(wire16(csum16(two_folds, 6)), 0x0001);
	assert_int_equal(csum16(two_folds, 6), rte_raw_cksum(two_folds, 6));
}

/* A random IPv4/UDP packet (IHL 5..15, any payload length, any alignment), checksum fields
 * zero as both APIs require. Returns the L4 header. */
static uint8_t *random_packet(uint8_t *buf, size_t off, unsigned ihl, uint16_t ulen)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + off);
	uint8_t *l4 = buf + off + ihl * 4;

	for (size_t i = 0; i < ihl * 4u + ulen; i++)
		buf[off + i] = (uint8_t)rng();
	ip->version_ihl = (uint8_t)(0x40 | ihl);
	ip->next_proto_id = IPPROTO_UDP;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(ihl * 4 + ulen));
	ip->hdr_checksum = 0;
	if (ulen >= 8) {
		frames_put16(l4 + 4, ulen);
		frames_put16(l4 + 6, 0);
	}
	return l4;
}

static void test_ipv4_udp_random(void **state)
{
	static uint8_t buf[60 + MAX_LEN + ALIGNS];

	rng_state = 0xc0ffee;
	for (int i = 0; i < 20000; i++) {
		size_t off = (size_t)i % ALIGNS;
		unsigned ihl = i % 4 ? 5 : 5 + (unsigned)(rng() % 11);
		uint16_t ulen = (uint16_t)(8 + rng() % (MAX_LEN - 8 + 1));
		uint8_t *l4 = random_packet(buf, off, ihl, ulen);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(buf + off);
		uint16_t c = csum_ipv4_udp(ip, l4);
		uint32_t sum;

		assert_int_equal(c, rte_ipv4_udptcp_cksum(ip, l4));
		assert_int_equal(csum_ipv4_hdr(ip), rte_ipv4_cksum(ip));
		assert_int_equal(csum_fold(csum_ipv4_phdr(ip)), rte_ipv4_phdr_cksum(ip, 0));
		/* The receiver's view (RFC 1071 verify): with the checksum in, all sums to 0xffff. */
		memcpy(l4 + 6, &c, 2);
		sum = frames_sum((const uint8_t *)ip + 12, 8, 0) + 17 + ulen;
		assert_int_equal(frames_fold(frames_sum(l4, ulen, sum)), 0xffff);
		c = csum_ipv4_hdr(ip);
		memcpy(&buf[off + 10], &c, 2);
		assert_int_equal(frames_fold(frames_sum((const uint8_t *)ip, ihl * 4u, 0)), 0xffff);
	}
}

/* A datagram whose sum is 0xffff has checksum 0, which UDP sends as 0xffff (RFC 768). */
static void test_udp_zero_is_ffff(void **state)
{
	static uint8_t buf[20 + 300 + ALIGNS];

	rng_state = 99;
	for (int i = 0; i < 200; i++) {
		size_t off = (size_t)i % ALIGNS;
		uint16_t ulen = (uint16_t)(10 + rng() % 290);
		uint8_t *l4 = random_packet(buf, off, 5, ulen);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(buf + off);
		uint16_t w;

		/* The first payload word makes the whole datagram sum to 0xffff. */
		l4[8] = l4[9] = 0;
		w = (uint16_t)(0xffff - csum_fold(csum_raw(l4, ulen, csum_ipv4_phdr(ip))));
		memcpy(l4 + 8, &w, 2);
		assert_int_equal(csum_fold(csum_raw(l4, ulen, csum_ipv4_phdr(ip))), 0xffff);
		assert_int_equal(rte_ipv4_udptcp_cksum(ip, l4), 0xffff);
		assert_int_equal(csum_ipv4_udp(ip, l4), 0xffff);
	}
}

/* A total length shorter than the header: the same answer as DPDK (a sum of zero). */
static void test_udp_short_total_length(void **state)
{
	uint8_t buf[60 + 8];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

	rng_state = 5;
	random_packet(buf, 0, 15, 8);
	for (uint16_t tl = 0; tl < 60; tl++) {
		ip->total_length = rte_cpu_to_be_16(tl);
		assert_int_equal(csum_ipv4_udp(ip, buf + 60), rte_ipv4_udptcp_cksum(ip, buf + 60));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raw_random),
	    cmocka_unit_test(test_raw_ones_and_carries),
	    cmocka_unit_test(test_raw_zero),
	    cmocka_unit_test(test_rfc1071_example),
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_ipv4_udp_random),
	    cmocka_unit_test(test_udp_zero_is_ffff),
	    cmocka_unit_test(test_udp_short_total_length),
	};

	return cmocka_run_group_tests_name("csum", tests, NULL, NULL);
}
