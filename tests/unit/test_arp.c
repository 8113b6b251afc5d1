/* Unit tests for dataplane/arp.c: parsing hostile ARP frames and building requests,
 * gratuitous ARPs and replies, checked byte by byte against RFC 826 layouts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "arp.h"

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr peer_mac = {{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero6[6];

/* 192.0.2.1 asks who has 192.0.2.10, exactly as it appears on the wire (padded to 60).
 * One line per header: Ethernet, ARP fixed part, sender, target. */
// clang-format off
static const uint8_t wire_request[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 0, 2, 1,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 0, 2, 10,
};

/* 192.0.2.1 tells 192.0.2.10 (us) it is at 02:11:22:33:44:55. */
static const uint8_t wire_reply[42] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x11, 0x22, 0x33, 0x44, 0x66, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
	0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 0, 2, 1,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192, 0, 2, 10,
};
// clang-format on

static uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t v[4] = {a, b, c, d};
	uint32_t r;

	memcpy(&r, v, 4);
	return r;
}

static void test_parse_request(void **state)
{
	struct arp_info ai;

	memset(&ai, 0xa5, sizeof(ai));
	assert_int_equal(arp_parse(wire_request, sizeof(wire_request), &ai), 0);
	assert_int_equal(ai.op, 1);
	assert_memory_equal(ai.eth_src.addr_bytes, peer_mac.addr_bytes, 6);
	assert_memory_equal(ai.sha.addr_bytes, peer_mac.addr_bytes, 6);
	assert_int_equal(ai.spa, ip4(192, 0, 2, 1));
	assert_memory_equal(ai.tha.addr_bytes, zero6, 6);
	assert_int_equal(ai.tpa, ip4(192, 0, 2, 10));
	/* Unpadded is fine too. */
	assert_int_equal(arp_parse(wire_request, ARP_FRAME_LEN, &ai), 0);
}

static void test_parse_reply(void **state)
{
	struct arp_info ai;

	memset(&ai, 0xa5, sizeof(ai));
	assert_int_equal(arp_parse(wire_reply, sizeof(wire_reply), &ai), 0);
	assert_int_equal(ai.op, 2);
	/* The Ethernet source and the sender hardware address are reported separately
	 * (they differ in this frame, as they do behind some bridges). */
	assert_int_equal(ai.eth_src.addr_bytes[5], 0x66);
	assert_memory_equal(ai.sha.addr_bytes, peer_mac.addr_bytes, 6);
	assert_int_equal(ai.spa, ip4(192, 0, 2, 1));
	assert_memory_equal(ai.tha.addr_bytes, our_mac.addr_bytes, 6);
	assert_int_equal(ai.tpa, ip4(192, 0, 2, 10));
}

static void expect_reject(const uint8_t *frame, uint32_t len, int line)
{
	struct arp_info ai;
	int rc = arp_parse(frame, len, &ai);

	if (rc != -EINVAL)
		fail_msg("line %d: arp_parse returned %d, want -EINVAL", line, rc);
}

#define REJECT(f, l) expect_reject(f, l, __LINE__)

static void test_parse_hostile(void **state)
{
	static const uint16_t bad_ops[] = {0, 3, 4, 8, 9, 0x0100, 0x0200, 0xffff};
	uint8_t f[64];

	for (uint32_t l = 0; l < ARP_FRAME_LEN; l++) {
		memcpy(f, wire_request, sizeof(wire_request));
		REJECT(f, l);
	}

	memcpy(f, wire_request, 60);
	f[12] = 0x08, f[13] = 0x00; /* IPv4 ethertype */
	REJECT(f, 60);

	memcpy(f, wire_request, 60);
	f[15] = 6; /* htype IEEE 802 */
	REJECT(f, 60);
	memcpy(f, wire_request, 60);
	f[14] = 0x01; /* htype 0x0101 */
	REJECT(f, 60);

	memcpy(f, wire_request, 60);
	f[16] = 0x86, f[17] = 0xdd; /* ptype IPv6 */
	REJECT(f, 60);
	memcpy(f, wire_request, 60);
	f[16] = 0x00, f[17] = 0x08; /* ptype byte-swapped */
	REJECT(f, 60);

	memcpy(f, wire_request, 60);
	f[18] = 8; /* hlen */
	REJECT(f, 60);
	memcpy(f, wire_request, 60);
	f[18] = 0;
	REJECT(f, 60);
	memcpy(f, wire_request, 60);
	f[19] = 16; /* plen */
	REJECT(f, 60);
	memcpy(f, wire_request, 60);
	f[19] = 0;
	REJECT(f, 60);

	for (size_t i = 0; i < sizeof(bad_ops) / sizeof(bad_ops[0]); i++) {
		memcpy(f, wire_request, 60);
		f[20] = (uint8_t)(bad_ops[i] >> 8), f[21] = (uint8_t)bad_ops[i];
		REJECT(f, 60);
	}

	/* Group sender hardware addresses. */
	memcpy(f, wire_request, 60);
	memset(f + 22, 0xff, 6);
	REJECT(f, 60);
	memcpy(f, wire_request, 60);
	f[22] = 0x01, f[23] = 0x00, f[24] = 0x5e;
	REJECT(f, 60);
	memcpy(f, wire_request, 60);
	f[22] = 0x03; /* group bit on an otherwise unicast address */
	REJECT(f, 60);

	/* Sanity: the untouched frame still parses, so each rejection above is the field. */
	struct arp_info ai;
	assert_int_equal(arp_parse(wire_request, 60, &ai), 0);
}

static void check_arp_bytes(const uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src,
			    uint16_t op, const uint8_t *sha, uint32_t spa, const uint8_t *tha,
			    uint32_t tpa)
{
	static const uint8_t fixed[6] = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04};

	assert_memory_equal(f, eth_dst, 6);
	assert_memory_equal(f + 6, eth_src, 6);
	assert_int_equal(f[12], 0x08);
	assert_int_equal(f[13], 0x06);
	assert_memory_equal(f + 14, fixed, 6);
	assert_int_equal(f[20], op >> 8);
	assert_int_equal(f[21], op & 0xff);
	assert_memory_equal(f + 22, sha, 6);
	assert_memory_equal(f + 28, &spa, 4);
	assert_memory_equal(f + 32, tha, 6);
	assert_memory_equal(f + 38, &tpa, 4);
}

static void test_build_request_bcast(void **state)
{
	uint8_t buf[64];
	struct arp_info ai;
	uint32_t spa = ip4(192, 0, 2, 10), tpa = ip4(192, 0, 2, 1);

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(arp_build_request(buf, &our_mac, spa, tpa, NULL), ARP_FRAME_LEN);
	check_arp_bytes(buf, bcast, our_mac.addr_bytes, 1, our_mac.addr_bytes, spa, zero6, tpa);
	for (size_t i = ARP_FRAME_LEN; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee); /* wrote nothing past the frame */

	assert_int_equal(arp_parse(buf, ARP_FRAME_LEN, &ai), 0);
	assert_int_equal(ai.op, 1);
	assert_memory_equal(ai.sha.addr_bytes, our_mac.addr_bytes, 6);
	assert_memory_equal(ai.eth_src.addr_bytes, our_mac.addr_bytes, 6);
	assert_int_equal(ai.spa, spa);
	assert_int_equal(ai.tpa, tpa);
}

static void test_build_request_unicast(void **state)
{
	uint8_t buf[64];
	struct arp_info ai;
	uint32_t spa = ip4(198, 51, 100, 7), tpa = ip4(198, 51, 100, 1);

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(arp_build_request(buf, &our_mac, spa, tpa, &peer_mac), ARP_FRAME_LEN);
	check_arp_bytes(buf, peer_mac.addr_bytes, our_mac.addr_bytes, 1, our_mac.addr_bytes, spa,
			zero6, tpa);
	assert_int_equal(buf[ARP_FRAME_LEN], 0xee);
	assert_int_equal(arp_parse(buf, ARP_FRAME_LEN, &ai), 0);
	assert_int_equal(ai.op, 1);
	assert_int_equal(ai.spa, spa);
	assert_int_equal(ai.tpa, tpa);
}

static void test_build_gratuitous(void **state)
{
	uint8_t buf[64];
	struct arp_info ai;
	uint32_t a = ip4(203, 0, 113, 5);

	assert_int_equal(arp_build_request(buf, &our_mac, a, a, NULL), ARP_FRAME_LEN);
	check_arp_bytes(buf, bcast, our_mac.addr_bytes, 1, our_mac.addr_bytes, a, zero6, a);
	assert_int_equal(arp_parse(buf, ARP_FRAME_LEN, &ai), 0);
	assert_int_equal(ai.spa, ai.tpa);
	assert_int_equal(ai.spa, a);
}

static void test_build_reply(void **state)
{
	uint8_t buf[64];
	struct arp_info req, rep;
	uint32_t ours = ip4(192, 0, 2, 10);

	assert_int_equal(arp_parse(wire_request, sizeof(wire_request), &req), 0);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(arp_build_reply(buf, &our_mac, ours, &req), ARP_FRAME_LEN);
	check_arp_bytes(buf, peer_mac.addr_bytes, our_mac.addr_bytes, 2, our_mac.addr_bytes, ours,
			peer_mac.addr_bytes, ip4(192, 0, 2, 1));
	assert_int_equal(buf[ARP_FRAME_LEN], 0xee);

	/* The reply is what the requester expects to parse. */
	assert_int_equal(arp_parse(buf, ARP_FRAME_LEN, &rep), 0);
	assert_int_equal(rep.op, 2);
	assert_memory_equal(rep.sha.addr_bytes, our_mac.addr_bytes, 6);
	assert_int_equal(rep.spa, ours);
	assert_memory_equal(rep.tha.addr_bytes, req.sha.addr_bytes, 6);
	assert_int_equal(rep.tpa, req.spa);

	/* A reply to our own request round-trips to the addresses we asked about. */
	uint8_t q[64];
	struct arp_info qi, ri;
	struct rte_ether_addr them = {{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}};
	arp_build_request(q, &our_mac, ours, ip4(192, 0, 2, 1), NULL);
	assert_int_equal(arp_parse(q, ARP_FRAME_LEN, &qi), 0);
	arp_build_reply(buf, &them, qi.tpa, &qi);
	assert_int_equal(arp_parse(buf, ARP_FRAME_LEN, &ri), 0);
	assert_int_equal(ri.op, 2);
	assert_memory_equal(ri.sha.addr_bytes, them.addr_bytes, 6);
	assert_int_equal(ri.spa, ip4(192, 0, 2, 1));
	assert_memory_equal(ri.tha.addr_bytes, our_mac.addr_bytes, 6);
	assert_int_equal(ri.tpa, ours);
	assert_memory_equal(buf, our_mac.addr_bytes, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_request),
	    cmocka_unit_test(test_parse_reply),
	    cmocka_unit_test(test_parse_hostile),
	    cmocka_unit_test(test_build_request_bcast),
	    cmocka_unit_test(test_build_request_unicast),
	    cmocka_unit_test(test_build_gratuitous),
	    cmocka_unit_test(test_build_reply),
	};

	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
