/* Unit tests for neighbour resolution (dataplane/neigh.c): requests on demand, replies
 * learnt, requests for our addresses answered, packets held and released or dropped,
 * retransmission and failure, refresh of stale entries, garbage collection. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_cycles.h>

#include "eal_fixture.h"

static const struct rte_ether_addr peer_mac = {{0x02, 0xaa, 0, 0, 0, 0x0a}};

static int setup(void **st)
{
	fix_core_up(64, 3000);
	return 0;
}

static int teardown(void **st)
{
	fix_core_down();
	return 0;
}

static struct rpa_addr v4(const char *s)
{
	struct rpa_addr a;
	rpa_addr_parse(s, &a);
	return a;
}

static void last_arp(struct arp_info *out)
{
	assert_true(fix_ntx > 0);
	assert_int_equal(arp_parse(rte_pktmbuf_mtod(fix_tx[fix_ntx - 1], uint8_t *),
				   fix_tx[fix_ntx - 1]->data_len, out),
			 0);
}

static void reply_from(const char *ip, uint16_t port)
{
	struct arp_info a = {.op = RTE_ARP_OP_REPLY};

	a.sha = peer_mac;
	a.eth_src = peer_mac;
	a.spa = v4(ip).v4;
	a.tha = ifaddr_ports[port].mac;
	a.tpa = ifaddr_ports[port].v4[0];
	neigh_input(port, &a);
}

static struct rte_mbuf *pkt(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fix_mp);
	assert_non_null(m);
	return m;
}

static void test_resolve_and_hold(void **st)
{
	struct rpa_addr peer = v4("192.0.2.10");
	struct rte_ether_addr mac;
	struct arp_info a;
	int idx = neigh_ref(0, &peer);

	assert_true(idx >= 0);
	last_arp(&a);
	assert_int_equal(a.op, RTE_ARP_OP_REQUEST);
	assert_int_equal(a.tpa, peer.v4);
	assert_int_equal(a.spa, v4("192.0.2.1").v4);
	assert_true(rte_is_broadcast_ether_addr(
		&rte_pktmbuf_mtod(fix_tx[0], struct rte_ether_hdr *)->dst_addr));
	assert_false(neigh_mac_get((uint32_t)idx, &mac));

	/* Bounded hold: 4 held, the 5th dropped. */
	for (int i = 0; i < 4; i++)
		assert_true(neigh_hold((uint32_t)idx, pkt()));
	assert_false(neigh_hold((uint32_t)idx, pkt()));
	assert_int_equal(fix_dropped, 1);

	/* A second user shares the entry and sends no new request. */
	assert_int_equal(neigh_ref(0, &peer), idx);
	assert_int_equal(fix_ntx, 1);

	reply_from("192.0.2.10", 0);
	assert_true(neigh_mac_get((uint32_t)idx, &mac));
	assert_true(rte_is_same_ether_addr(&mac, &peer_mac));
	assert_int_equal(fix_released, 4);
	/* Resolved: a late punted packet goes straight back. */
	assert_true(neigh_hold((uint32_t)idx, pkt()));
	assert_int_equal(fix_released, 5);
}

static void test_unsolicited_reply_ignored(void **st)
{
	reply_from("192.0.2.99", 0);
	assert_int_equal(neigh_count(), 0);
}

static void test_answer_request_for_us(void **st)
{
	struct arp_info req = {.op = RTE_ARP_OP_REQUEST}, rep;

	req.sha = peer_mac;
	req.eth_src = peer_mac;
	req.spa = v4("198.51.100.7").v4;
	req.tpa = v4("198.51.100.1").v4;
	neigh_input(1, &req);
	last_arp(&rep);
	assert_int_equal(rep.op, RTE_ARP_OP_REPLY);
	assert_int_equal(rep.spa, req.tpa);
	assert_int_equal(rep.tpa, req.spa);
	assert_true(rte_is_same_ether_addr(&rep.sha, &ifaddr_ports[1].mac));
	assert_true(rte_is_same_ether_addr(&rep.tha, &peer_mac));
	assert_int_equal(fix_tx[fix_ntx - 1]->port, 1);
	/* The asker is learnt: resolving it needs no request. */
	{
		struct rpa_addr p = v4("198.51.100.7");
		struct rte_ether_addr mac;
		unsigned before = fix_ntx;
		int idx = neigh_ref(1, &p);
		assert_true(neigh_mac_get((uint32_t)idx, &mac));
		assert_int_equal(fix_ntx, before);
	}
	/* A request for someone else is not answered. */
	{
		unsigned before = fix_ntx;
		req.tpa = v4("198.51.100.2").v4;
		neigh_input(1, &req);
		assert_int_equal(fix_ntx, before);
	}
	/* Someone claiming our address is ignored. */
	{
		struct arp_info bad = req;
		bad.spa = v4("198.51.100.1").v4;
		bad.tpa = v4("198.51.100.1").v4;
		neigh_input(1, &bad);
		assert_int_equal(neigh_count(), 1);
	}
}

static void test_retransmit_then_fail(void **st)
{
	struct rpa_addr peer = v4("192.0.2.20");
	uint64_t ms = rte_get_tsc_hz() / 1000, now = rte_get_tsc_cycles();
	struct rpa_dp_neigh out[4];
	uint32_t cursor = 0;
	int idx = neigh_ref(0, &peer);

	assert_true(neigh_hold((uint32_t)idx, pkt()));
	assert_int_equal(fix_ntx, 1);
	neigh_timer(now + 50 * ms); /* before retrans_ms (100) */
	assert_int_equal(fix_ntx, 1);
	neigh_timer(now + 150 * ms);
	neigh_timer(now + 300 * ms);
	assert_int_equal(fix_ntx, 3);
	neigh_timer(now + 450 * ms); /* 3 probes unanswered */
	assert_int_equal(fix_ntx, 3);
	assert_int_equal(fix_dropped, 1);
	assert_int_equal(neigh_list(&cursor, out, 4), 1);
	assert_int_equal(out[0].state, RPA_DP_NEIGH_FAILED);
	assert_int_equal(out[0].refs, 1);
	/* Failed: held packets are dropped, not queued. */
	assert_false(neigh_hold((uint32_t)idx, pkt()));
}

static void test_refresh_and_gc(void **st)
{
	struct rpa_addr peer = v4("192.0.2.10");
	uint64_t ms = rte_get_tsc_hz() / 1000, now;
	struct rte_ether_addr mac;
	struct rpa_dp_neigh out[4];
	uint32_t cursor = 0;
	int idx = neigh_ref(0, &peer);

	reply_from("192.0.2.10", 0);
	now = rte_get_tsc_cycles();
	fix_tx_clear();
	neigh_timer(now + 31000 * ms); /* past reachable_ms: stale, unicast probe */
	assert_int_equal(fix_ntx, 1);
	assert_true(rte_is_same_ether_addr(
		&rte_pktmbuf_mtod(fix_tx[0], struct rte_ether_hdr *)->dst_addr, &peer_mac));
	assert_true(neigh_mac_get((uint32_t)idx, &mac)); /* still usable while stale */
	assert_int_equal(neigh_list(&cursor, out, 4), 1);
	assert_int_equal(out[0].state, RPA_DP_NEIGH_STALE);
	reply_from("192.0.2.10", 0);
	cursor = 0;
	neigh_list(&cursor, out, 4);
	assert_int_equal(out[0].state, RPA_DP_NEIGH_REACHABLE);

	neigh_unref((uint32_t)idx);
	neigh_timer(rte_get_tsc_cycles() + 500 * ms);
	assert_int_equal(neigh_count(), 1);
	neigh_timer(rte_get_tsc_cycles() + 1500 * ms); /* past gc_ms */
	assert_int_equal(neigh_count(), 0);
	assert_false(neigh_mac_get((uint32_t)idx, &mac));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_and_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsolicited_reply_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_request_for_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit_then_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_and_gc, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
