/* Unit tests for dataplane/rewrite.h: every rewritten frame is compared byte for byte with
 * the same frame built from scratch (checksums by RFC 1071 in tests/unit/frames.h), also
 * after a payload change (rewrite_ipv4_udp_full, the SRTP path). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "frames.h"
#include "rewrite.h"

#define ITERATIONS  4000
#define PAYLOAD_MAX 1472

static uint64_t rng_state;

/* xorshift64*: deterministic across libcs, unlike rand(). */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void rng_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

static void random_spec(struct frames_udp4 *s, uint8_t *payload, uint32_t payload_len)
{
	memset(s, 0, sizeof(*s));
	rng_bytes(s->dst_mac, 6);
	rng_bytes(s->src_mac, 6);
	s->saddr = (uint32_t)rng();
	s->daddr = (uint32_t)rng();
	s->sport = (uint16_t)rng();
	s->dport = (uint16_t)rng();
	s->ttl = (uint8_t)(2 + rng() % 254);
	s->tos = (uint8_t)rng();
	s->id = (uint16_t)rng();
	s->frag = (rng() & 1) ? 0x4000 : 0;
	rng_bytes(payload, payload_len);
	s->payload = payload;
	s->payload_len = payload_len;
	s->udp_csum = (rng() % 4) != 0;
}

/* The egress port's MAC: a fresh one with every random_rewrite. */
static struct rte_ether_addr src_mac;

/* What the stream writes: new addresses and ports, in the rewrite_hdr's network order. */
static void random_rewrite(struct rewrite_hdr *rh, struct rte_ether_addr *dst_mac)
{
	memset(rh, 0, sizeof(*rh));
	rng_bytes(src_mac.addr_bytes, 6);
	rng_bytes(dst_mac->addr_bytes, 6);
	rh->saddr = htonl((uint32_t)rng());
	rh->daddr = htonl((uint32_t)rng());
	rh->sport = htons((uint16_t)rng());
	rh->dport = htons((uint16_t)rng());
}

/* The frame the rewrite must produce, built independently from `orig` and the rule. */
static uint32_t expected_frame(uint8_t *buf, const struct frames_udp4 *orig,
			       const struct rewrite_hdr *rh, const struct rte_ether_addr *dst)
{
	struct frames_udp4 s = *orig;

	memcpy(s.dst_mac, dst->addr_bytes, 6);
	memcpy(s.src_mac, src_mac.addr_bytes, 6);
	s.saddr = ntohl(rh->saddr);
	s.daddr = ntohl(rh->daddr);
	s.sport = ntohs(rh->sport);
	s.dport = ntohs(rh->dport);
	s.ttl = (uint8_t)(orig->ttl - 1);
	return frames_build_udp4(buf, &s);
}

static void check_rewrite(const struct frames_udp4 *orig, const struct rewrite_hdr *rh,
			  const struct rte_ether_addr *dst, int iter)
{
	_Alignas(64) uint8_t frame[FRAMES_MAX];
	_Alignas(64) uint8_t want[FRAMES_MAX];
	uint32_t len, want_len;

	memset(frame, 0, sizeof(frame));
	memset(want, 0, sizeof(want));
	len = frames_build_udp4(frame, orig);
	rewrite_ipv4_udp(frame, rh, &src_mac, dst);
	want_len = expected_frame(want, orig, rh, dst);
	assert_int_equal(len, want_len);
	if (memcmp(frame, want, len) != 0) {
		for (uint32_t i = 0; i < len; i++)
			if (frame[i] != want[i])
				fail_msg("iteration %d, payload %u, udp csum %d: byte %u is %02x, "
					 "want %02x",
					 iter, orig->payload_len, orig->udp_csum, i, frame[i],
					 want[i]);
	}
	/* Receiver's view: the header sums to 0xffff, and so does a checked UDP datagram. */
	assert_int_equal(frames_fold(frames_sum(frame + 14, 20, 0)), 0xffff);
	if (orig->udp_csum) {
		const uint8_t *ip = frame + 14;
		uint16_t ulen = frames_get16(ip + 24);
		uint32_t sum = frames_sum(ip + 12, 8, 0) + 17 + ulen;
		assert_int_equal(frames_fold(frames_sum(ip + 20, ulen, sum)), 0xffff);
	} else {
		assert_int_equal(frames_get16(frame + FRAMES_OFF_UCSUM), 0);
	}
}

static void test_random(void **state)
{
	uint8_t payload[PAYLOAD_MAX];
	unsigned odd = 0, with_csum = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int iter = 0; iter < ITERATIONS; iter++) {
		struct frames_udp4 orig;
		struct rewrite_hdr rh;
		struct rte_ether_addr dst;
		uint32_t plen = (uint32_t)(rng() % (PAYLOAD_MAX + 1));

		random_spec(&orig, payload, plen);
		random_rewrite(&rh, &dst);
		check_rewrite(&orig, &rh, &dst, iter);
		odd += plen & 1;
		with_csum += orig.udp_csum != 0;
	}
	assert_true(odd > ITERATIONS / 4);
	assert_true(with_csum > ITERATIONS / 2 && with_csum < ITERATIONS);
}

static void test_fields(void **state)
{
	static const uint32_t lens[] = {0, 1, 2, 3, 171, 172, 1471};
	_Alignas(64) uint8_t frame[FRAMES_MAX];
	uint8_t payload[PAYLOAD_MAX];
	struct frames_udp4 orig;
	struct rewrite_hdr rh;
	struct rte_ether_addr dst;

	rng_state = 42;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		random_spec(&orig, payload, lens[i]);
		orig.udp_csum = 1;
		orig.ttl = i == 0 ? 2 : 255;
		random_rewrite(&rh, &dst);
		memset(frame, 0, sizeof(frame));
		frames_build_udp4(frame, &orig);
		rewrite_ipv4_udp(frame, &rh, &src_mac, &dst);

		assert_memory_equal(frame, dst.addr_bytes, 6);
		assert_memory_equal(frame + 6, src_mac.addr_bytes, 6);
		assert_int_equal(frames_get16(frame + 12), 0x0800);
		assert_int_equal(frame[FRAMES_OFF_TTL], orig.ttl - 1);
		assert_memory_equal(frame + FRAMES_OFF_SADDR, &rh.saddr, 4);
		assert_memory_equal(frame + FRAMES_OFF_DADDR, &rh.daddr, 4);
		assert_memory_equal(frame + FRAMES_OFF_SPORT, &rh.sport, 2);
		assert_memory_equal(frame + FRAMES_OFF_DPORT, &rh.dport, 2);
		assert_int_equal(frames_get16(frame + FRAMES_OFF_ULEN), 8 + lens[i]);
		if (lens[i])
			assert_memory_equal(frame + FRAMES_HDRS, payload, lens[i]);
		assert_int_equal(frames_get16(frame + FRAMES_OFF_IPCSUM),
				 frames_ip_csum(frame + 14, 20));
		assert_int_equal(frames_get16(frame + FRAMES_OFF_UCSUM),
				 frames_udp_csum(frame + 14));
		check_rewrite(&orig, &rh, &dst, (int)i);
	}
}

static void test_no_udp_csum(void **state)
{
	uint8_t payload[PAYLOAD_MAX];
	struct frames_udp4 orig;
	struct rewrite_hdr rh;
	struct rte_ether_addr dst;

	rng_state = 7;
	for (int i = 0; i < 200; i++) {
		random_spec(&orig, payload, (uint32_t)(rng() % 300));
		orig.udp_csum = 0;
		random_rewrite(&rh, &dst);
		check_rewrite(&orig, &rh, &dst, i);
	}
}

/* Choose the 16-bit word at payload[0..1] so the UDP checksum of (spec) computes to 0. */
static void force_zero_udp_sum(struct frames_udp4 *spec, uint8_t *payload)
{
	_Alignas(64) uint8_t frame[FRAMES_MAX];
	const uint8_t *ip = frame + 14;
	uint32_t sum;
	uint16_t w;

	payload[0] = payload[1] = 0;
	spec->udp_csum = 0;
	frames_build_udp4(frame, spec);
	sum = frames_sum(ip + 12, 8, 0) + 17 + frames_get16(ip + 24);
	sum = frames_sum(ip + 20, frames_get16(ip + 24), sum);
	w = (uint16_t)(0xffff - frames_fold(sum));
	frames_put16(payload, w);
	spec->udp_csum = 1;
	frames_build_udp4(frame, spec);
	assert_int_equal(frames_get16(frame + FRAMES_OFF_UCSUM), 0xffff);
}

static void test_zero_result_is_ffff(void **state)
{
	_Alignas(64) uint8_t frame[FRAMES_MAX];
	uint8_t payload[PAYLOAD_MAX];
	struct frames_udp4 orig, after;
	struct rewrite_hdr rh;
	struct rte_ether_addr dst;
	int hits = 0;

	rng_state = 99;
	for (int i = 0; i < 50; i++) {
		/* Make the rewritten datagram sum to zero: the field must read 0xffff, since
		 * 0 would tell the receiver there is no checksum (RFC 768). */
		random_spec(&orig, payload, 2 + (uint32_t)(rng() % 200));
		random_rewrite(&rh, &dst);
		after = orig;
		after.saddr = ntohl(rh.saddr);
		after.daddr = ntohl(rh.daddr);
		after.sport = ntohs(rh.sport);
		after.dport = ntohs(rh.dport);
		force_zero_udp_sum(&after, payload);
		orig.udp_csum = 1;
		memset(frame, 0, sizeof(frame));
		frames_build_udp4(frame, &orig);
		if (frames_get16(frame + FRAMES_OFF_UCSUM) == 0xffff)
			continue; /* the original also sums to zero: not the case under test */
		rewrite_ipv4_udp(frame, &rh, &src_mac, &dst);
		assert_int_equal(frames_get16(frame + FRAMES_OFF_UCSUM), 0xffff);
		check_rewrite(&orig, &rh, &dst, i);
		hits++;
	}
	assert_true(hits > 40);
}

static void test_ffff_input(void **state)
{
	uint8_t payload[PAYLOAD_MAX];
	struct frames_udp4 orig;
	struct rewrite_hdr rh;
	struct rte_ether_addr dst;

	/* Originals whose checksum is 0xffff (their sum was zero) update correctly too. */
	rng_state = 1234;
	for (int i = 0; i < 50; i++) {
		random_spec(&orig, payload, 2 + (uint32_t)(rng() % 200));
		force_zero_udp_sum(&orig, payload);
		random_rewrite(&rh, &dst);
		check_rewrite(&orig, &rh, &dst, i);
	}
}

static void test_offload(void **state)
{
	_Alignas(64) uint8_t frame[FRAMES_MAX];
	uint8_t payload[PAYLOAD_MAX];
	struct frames_udp4 orig;
	struct rewrite_hdr rh;
	struct rte_ether_addr dst;
	struct rte_mbuf m;

	rng_state = 5;
	for (int i = 0; i < 100; i++) {
		const uint8_t *ip = frame + 14;
		uint16_t ulen;
		uint32_t sum;
		uint16_t c;

		random_spec(&orig, payload, (uint32_t)(rng() % 400));
		random_rewrite(&rh, &dst);
		memset(frame, 0, sizeof(frame));
		memset(&m, 0, sizeof(m));
		frames_build_udp4(frame, &orig);
		rewrite_ipv4_udp_offload(&m, frame, &rh, &src_mac, &dst);

		assert_int_equal(m.l2_len, 14);
		assert_int_equal(m.l3_len, 20);
		assert_true(m.ol_flags & RTE_MBUF_F_TX_IPV4);
		assert_true(m.ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
		assert_true(m.ol_flags & RTE_MBUF_F_TX_UDP_CKSUM);
		assert_memory_equal(frame, dst.addr_bytes, 6);
		assert_memory_equal(frame + 6, src_mac.addr_bytes, 6);
		assert_int_equal(frames_get16(frame + FRAMES_OFF_IPCSUM), 0);
		assert_int_equal(frame[FRAMES_OFF_TTL], orig.ttl - 1);
		assert_memory_equal(frame + FRAMES_OFF_SADDR, &rh.saddr, 4);
		assert_memory_equal(frame + FRAMES_OFF_SPORT, &rh.sport, 2);
		/* The seed is the folded pseudo-header sum; a NIC that sums the datagram over
		 * it and complements must land on the from-scratch checksum. */
		ulen = frames_get16(ip + 24);
		sum = frames_sum(ip + 12, 8, 0) + 17 + ulen;
		assert_int_equal(frames_get16(frame + FRAMES_OFF_UCSUM), frames_fold(sum));
		c = (uint16_t)~frames_fold(frames_sum(ip + 20, ulen, 0));
		assert_int_equal(c == 0 ? 0xffff : c, frames_udp_csum(ip));
	}
}

/* rewrite_ipv4_udp_full after SRTP changed the payload and its length: the frame must be
 * the one built from scratch with the new payload (checksums by frames.h), with or without
 * a UDP checksum, at every payload length up to the maximum. */
static void test_full(void **state)
{
	_Alignas(64) uint8_t frame[FRAMES_MAX];
	_Alignas(64) uint8_t want[FRAMES_MAX];
	uint8_t payload[PAYLOAD_MAX], changed[PAYLOAD_MAX];
	struct frames_udp4 orig, after;
	struct rewrite_hdr rh;
	struct rte_ether_addr dst;

	rng_state = 2718;
	for (uint32_t len = 0; len <= PAYLOAD_MAX; len++) {
		uint32_t old_len = (uint32_t)(rng() % (PAYLOAD_MAX + 1));
		uint8_t *ip = frame + 14;
		uint32_t n;

		random_spec(&orig, payload, old_len);
		orig.udp_csum = len % 5 != 0;
		random_rewrite(&rh, &dst);
		memset(frame, 0, sizeof(frame));
		frames_build_udp4(frame, &orig);

		/* What the worker does: new payload in place, then crypto_set_lengths. */
		rng_bytes(changed, len);
		memcpy(frame + FRAMES_HDRS, changed, len);
		frames_put16(frame + FRAMES_OFF_TOTLEN, (uint16_t)(FRAMES_IP_LEN + 8 + len));
		frames_put16(frame + FRAMES_OFF_ULEN, (uint16_t)(8 + len));
		rewrite_ipv4_udp_full(frame, &rh, &src_mac, &dst);

		after = orig;
		after.payload = changed;
		after.payload_len = len;
		memset(want, 0, sizeof(want));
		n = expected_frame(want, &after, &rh, &dst);
		assert_int_equal(n, FRAMES_HDRS + len);
		if (memcmp(frame, want, n) != 0)
			for (uint32_t i = 0; i < n; i++)
				if (frame[i] != want[i])
					fail_msg("payload %u -> %u, udp csum %d: byte %u is %02x, "
						 "want %02x",
						 old_len, len, orig.udp_csum, i, frame[i], want[i]);
		assert_int_equal(frames_fold(frames_sum(ip, 20, 0)), 0xffff);
		if (!orig.udp_csum)
			assert_int_equal(frames_get16(frame + FRAMES_OFF_UCSUM), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random),	cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_no_udp_csum), cmocka_unit_test(test_zero_result_is_ffff),
	    cmocka_unit_test(test_ffff_input),	cmocka_unit_test(test_offload),
	    cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests_name("rewrite", tests, NULL, NULL);
}
