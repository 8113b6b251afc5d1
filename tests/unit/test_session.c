/* Unit tests for the session table (dataplane/session.c): add/get/del/list/flush, validation
 * errors, capacity, replacement keeping counters and learnt peers, latching and its window,
 * a reader lcore doing bulk lookups while the main lcore adds, replaces and deletes, and
 * SRTP: the treatment chosen at install, engine contexts shared across replacements with
 * the same keys and replaced with new ones, keys gone from memory once retired, AES-GCM
 * header-length sessions the engine replaced freed only after the grace period. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "eal_fixture.h"
#include "srtp_priv.h"

static struct rpa_dp_stream stream(const char *local, const char *src, const char *dst,
				   uint32_t flags)
{
	struct rpa_dp_stream s;

	memset(&s, 0, sizeof(s));
	s.local = fix_ep(local);
	s.src = fix_ep(src);
	if (dst != NULL)
		s.dst = fix_ep(dst);
	s.flags = flags;
	return s;
}

static int setup(void **st)
{
	fix_core_up(1024, 3000);
	return 0;
}

static int teardown(void **st)
{
	fix_core_down();
	return 0;
}

static void test_add_get_del(void **st)
{
	struct rpa_dp_stream s = stream("192.0.2.1:30000", "198.51.100.1:30002",
					"198.51.100.10:5000", RPA_DP_F_LATCH);
	struct rpa_dp_stream_info info;
	struct rpa_endpoint local = s.local;
	struct session_key key, other = {.addr_idx = 0, .port = 30002};
	const struct session_key *kp[2] = {&key, &other};
	const struct fwd_rule *found[2], *first;
	char err[128];
	char b[64];

	s.tag = 77;
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_int_equal(session_count(), 1);
	/* Workers find it through the port index, and nothing on the neighbouring port. */
	assert_int_equal(session_key_from(&local, &key), 0);
	session_lookup_bulk(kp, 2, found);
	assert_non_null(found[0]);
	assert_null(found[1]);
	assert_int_equal(found[0]->rw.daddr, htonl(0xc633640a));
	assert_int_equal(found[0]->rw.dport, htons(5000));
	assert_int_equal(session_rule_cold(found[0])->tag, 77);
	first = found[0];
	assert_int_equal(session_get(&local, &info), 0);
	assert_string_equal(rpa_endpoint_format(&info.stream.src, b, sizeof(b)),
			    "198.51.100.1:30002");
	assert_string_equal(rpa_endpoint_format(&info.stream.dst, b, sizeof(b)),
			    "198.51.100.10:5000");
	assert_true(rpa_addr_is_unspec(&info.stream.expect.addr));
	assert_int_equal(info.stream.tag, 77);
	assert_int_equal(info.stream.latch_window_ms, 3000);
	assert_int_equal(info.latched, 0);
	assert_int_equal(info.idle_ms, UINT64_MAX);
	/* The peer's next hop is being resolved: one broadcast ARP request out of port 1. */
	assert_int_equal(neigh_count(), 1);
	assert_int_equal(fix_ntx, 1);
	assert_int_equal(fix_tx[0]->port, 1);

	/* A replacement is what workers find next. */
	s.dst = fix_ep("198.51.100.11:5002");
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	session_lookup_bulk(kp, 1, found);
	assert_true(found[0] != NULL && found[0] != first);
	assert_int_equal(found[0]->rw.dport, htons(5002));

	assert_int_equal(session_del(&local), 0);
	session_lookup_bulk(kp, 1, found);
	assert_null(found[0]);
	assert_int_equal(session_get(&local, &info), -ENOENT);
	assert_int_equal(session_del(&local), -ENOENT);
	assert_int_equal(session_count(), 0);
}

static void test_validation(void **st)
{
	struct rpa_dp_stream s;
	char err[128];

	s = stream("203.0.113.1:30000", "198.51.100.1:30002", NULL, 0);
	assert_int_equal(session_add(&s, err, sizeof(err)), -EADDRNOTAVAIL);
	assert_non_null(strstr(err, "203.0.113.1:30000"));

	s = stream("192.0.2.1:30000", "203.0.113.1:30002", NULL, 0);
	assert_int_equal(session_add(&s, err, sizeof(err)), -EADDRNOTAVAIL);
	assert_non_null(strstr(err, "src"));

	s = stream("192.0.2.1:30000", "198.51.100.1:30002", NULL, 0);
	s.local.port = 0;
	assert_int_equal(session_add(&s, err, sizeof(err)), -EINVAL);

	s = stream("192.0.2.1:30000", "198.51.100.1:30002", NULL, RPA_DP_F_STRICT);
	assert_int_equal(session_add(&s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "strict"));

	s = stream("192.0.2.1:30000", "198.51.100.1:30002", NULL, 0x80);
	assert_int_equal(session_add(&s, err, sizeof(err)), -EINVAL);

	/* Off-link on port 0, which has no gateway. */
	s = stream("198.51.100.1:30000", "192.0.2.1:30002", "203.0.113.9:4000", 0);
	assert_int_equal(session_add(&s, err, sizeof(err)), -EHOSTUNREACH);
	assert_non_null(strstr(err, "203.0.113.9"));
	/* Off-link on port 1 goes through its gateway. */
	s = stream("192.0.2.1:30000", "198.51.100.1:30002", "203.0.113.9:4000", 0);
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);

	s = stream("192.0.2.1:30002", "198.51.100.1:30004", NULL, 0);
	rpa_addr_parse("2001:db8::1", &s.local.addr);
	assert_int_equal(session_add(&s, err, sizeof(err)), -EINVAL);
	assert_int_equal(session_count(), 1);
}

static void test_capacity(void **st)
{
	char err[128], ep[64];
	struct rpa_dp_stream s;

	for (unsigned i = 0; i < 1024; i++) {
		snprintf(ep, sizeof(ep), "192.0.2.1:%u", 10000 + i);
		s = stream(ep, "198.51.100.1:40000", NULL, RPA_DP_F_LATCH);
		assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	}
	s = stream("192.0.2.1:9000", "198.51.100.1:40000", NULL, RPA_DP_F_LATCH);
	assert_int_equal(session_add(&s, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "full"));
	/* Replacing an existing stream needs no new slot. */
	s = stream("192.0.2.1:10000", "198.51.100.1:40000", NULL, 0);
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_int_equal(session_flush(false, 0), 1024);
	assert_int_equal(session_count(), 0);
	session_reclaim();
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
}

static void test_list_paging_and_flush_tag(void **st)
{
	struct rpa_dp_stream_info out[64];
	uint8_t seen[1000] = {0};
	char err[128], ep[64];
	uint32_t cursor = 0;
	unsigned total = 0, n;

	for (unsigned i = 0; i < 1000; i++) {
		struct rpa_dp_stream s;
		snprintf(ep, sizeof(ep), "192.0.2.1:%u", 20000 + i);
		s = stream(ep, "198.51.100.1:40000", NULL, RPA_DP_F_LATCH);
		s.tag = i % 2;
		assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	}
	do {
		n = session_list(&cursor, out, 64);
		for (unsigned i = 0; i < n; i++) {
			unsigned p = out[i].stream.local.port - 20000;
			assert_true(p < 1000);
			assert_int_equal(seen[p], 0);
			seen[p] = 1;
		}
		total += n;
	} while (cursor != 0);
	assert_int_equal(total, 1000);
	assert_int_equal(session_flush(true, 1), 500);
	assert_int_equal(session_count(), 500);
}

/* A rule replaced or updated keeps its counters; an update without dst keeps the learnt
 * peer; latching teaches the reverse stream its destination. */
static void test_latch_and_replace(void **st)
{
	struct rpa_dp_stream a = stream("192.0.2.1:30000", "198.51.100.1:30002",
					"198.51.100.10:5000", RPA_DP_F_LATCH);
	struct rpa_dp_stream b = stream("198.51.100.1:30002", "192.0.2.1:30000", NULL,
					RPA_DP_F_LATCH);
	struct rpa_endpoint la = a.local, lb = b.local;
	struct rpa_dp_stream_info info;
	struct session_key ka;
	char err[128], s[64];
	uint64_t now = rte_get_tsc_cycles();

	assert_int_equal(session_add(&a, err, sizeof(err)), 0);
	assert_int_equal(session_add(&b, err, sizeof(err)), 0);
	assert_int_equal(session_get(&lb, &info), 0);
	assert_true(rpa_addr_is_unspec(&info.stream.dst.addr));

	assert_int_equal(session_key_from(&la, &ka), 0);
	/* A sends from 192.0.2.10:4000 (network order args). */
	assert_int_equal(session_latch(&ka, htonl(0xc000020a), htons(4000), now), 1);
	assert_int_equal(session_get(&la, &info), 0);
	assert_int_equal(info.latched, 1);
	assert_string_equal(rpa_endpoint_format(&info.stream.expect, s, sizeof(s)),
			    "192.0.2.10:4000");
	assert_int_equal(session_get(&lb, &info), 0);
	assert_string_equal(rpa_endpoint_format(&info.stream.dst, s, sizeof(s)),
			    "192.0.2.10:4000");

	/* Inside the window another source re-latches; after it, not any more. */
	assert_int_equal(session_latch(&ka, htonl(0xc000020b), htons(4002), now + 1), 1);
	assert_int_equal(session_get(&lb, &info), 0);
	assert_string_equal(rpa_endpoint_format(&info.stream.dst, s, sizeof(s)),
			    "192.0.2.11:4002");
	assert_int_equal(session_latch(&ka, htonl(0xc000020c), htons(4004),
				       now + 4 * rte_get_tsc_hz()),
			 0);
	assert_int_equal(session_get(&la, &info), 0);
	assert_string_equal(rpa_endpoint_format(&info.stream.expect, s, sizeof(s)),
			    "192.0.2.11:4002");

	/* Counters survive a replacement; the learnt dst survives an update without dst. */
	{
		const struct fwd_rule *r;
		rte_hash_lookup_data(session_table, &ka, (void **)&r);
		session_rule_ctr(r)->packets = 5; /* as the owning worker would */
	}
	assert_int_equal(session_add(&b, err, sizeof(err)), 0);
	assert_int_equal(session_get(&lb, &info), 0);
	assert_string_equal(rpa_endpoint_format(&info.stream.dst, s, sizeof(s)),
			    "192.0.2.11:4002");
	a.dst = fix_ep("198.51.100.20:5000");
	assert_int_equal(session_add(&a, err, sizeof(err)), 0);
	assert_int_equal(session_get(&la, &info), 0);
	assert_int_equal(info.packets, 5);
	assert_string_equal(rpa_endpoint_format(&info.stream.dst, s, sizeof(s)),
			    "198.51.100.20:5000");
	/* The replaced rule's counters are reported from it during its grace period and from
	 * the slot's carry after it; a second change within a grace period waits for one. */
	{
		const struct fwd_rule *r;
		rte_rcu_qsbr_synchronize(worker_shared.qsbr, RTE_QSBR_THRID_INVALID);
		session_reclaim();
		assert_int_equal(session_get(&la, &info), 0);
		assert_int_equal(info.packets, 5);
		rte_hash_lookup_data(session_table, &ka, (void **)&r);
		session_rule_ctr(r)->packets = 3;
		session_rule_ctr(r)->bytes = 100;
		session_rule_ctr(r)->last_seen = rte_get_tsc_cycles();
		assert_int_equal(session_add(&a, err, sizeof(err)), 0);
		assert_int_equal(session_add(&a, err, sizeof(err)), 0);
		assert_int_equal(session_get(&la, &info), 0);
		assert_int_equal(info.packets, 8);
		assert_int_equal(info.bytes, 100);
		assert_true(info.idle_ms < 60000);
	}

	/* A stream without LATCH never latches. */
	b.flags = 0;
	assert_int_equal(session_add(&b, err, sizeof(err)), 0);
	{
		struct session_key kb;
		session_key_from(&lb, &kb);
		assert_int_equal(session_latch(&kb, htonl(0xc6336414), htons(9), now), 0);
	}
}

/* Reader lcore: bulk lookups over every key; a rule found must belong to its key (its tag
 * encodes the port), never a recycled one. */
#define RD_KEYS 256
static volatile int rd_stop;
static uint64_t rd_hits, rd_misses, rd_bad;

static int reader(void *arg)
{
	struct session_key keys[RD_KEYS];
	const struct session_key *kp[32];
	const struct fwd_rule *rules[32];

	for (unsigned i = 0; i < RD_KEYS; i++)
		keys[i] = (struct session_key){.addr_idx = 0, .port = (uint16_t)(30000 + i)};
	rte_rcu_qsbr_thread_register(worker_shared.qsbr, 0);
	rte_rcu_qsbr_thread_online(worker_shared.qsbr, 0);
	while (!rd_stop) {
		for (unsigned base = 0; base < RD_KEYS; base += 32) {
			for (unsigned i = 0; i < 32; i++)
				kp[i] = &keys[base + i];
			session_lookup_bulk(kp, 32, rules);
			for (unsigned i = 0; i < 32; i++) {
				if (rules[i] == NULL) {
					rd_misses++;
					continue;
				}
				rd_hits++;
				if (session_rule_cold(rules[i])->tag % 65536 != 30000 + base + i)
					rd_bad++;
			}
		}
		rte_rcu_qsbr_quiescent(worker_shared.qsbr, 0);
	}
	rte_rcu_qsbr_thread_offline(worker_shared.qsbr, 0);
	rte_rcu_qsbr_thread_unregister(worker_shared.qsbr, 0);
	return 0;
}

static void test_reader_through_deletes(void **st)
{
	unsigned lcore = rte_get_next_lcore(-1, 1, 0);
	uint64_t seed = 12345, ops = 0;
	char err[128], ep[64];
	uint64_t end;

	assert_true(lcore < RTE_MAX_LCORE);
	rd_stop = 0;
	rd_hits = rd_misses = rd_bad = 0;
	assert_int_equal(rte_eal_remote_launch(reader, NULL, lcore), 0);
	end = rte_get_tsc_cycles() + rte_get_tsc_hz(); /* one second of churn */
	while (rte_get_tsc_cycles() < end && ops < 2000000) {
		unsigned k;
		struct rpa_dp_stream s;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (unsigned)(seed >> 33) % RD_KEYS;
		snprintf(ep, sizeof(ep), "192.0.2.1:%u", 30000 + k);
		if ((seed >> 20) & 1) {
			s = stream(ep, "198.51.100.1:40000", NULL, RPA_DP_F_LATCH);
			/* Tag = port + a generation, so replacement rules differ. */
			s.tag = (ops << 16) | (30000 + k);
			if (session_add(&s, err, sizeof(err)) != 0)
				fail_msg("op %llu: %s", (unsigned long long)ops, err);
		} else {
			struct rpa_endpoint l = fix_ep(ep);
			session_del(&l);
		}
		if ((ops & 63) == 0)
			session_reclaim();
		ops++;
	}
	rd_stop = 1;
	rte_eal_wait_lcore(lcore);
	print_message("%llu table ops, reader: %llu hits, %llu misses\n",
		      (unsigned long long)ops, (unsigned long long)rd_hits,
		      (unsigned long long)rd_misses);
	assert_true(ops > 1000);
	assert_true(rd_hits > 0);
	assert_true(rd_misses > 0);
	assert_int_equal(rd_bad, 0);
}

static void set_key(struct rpa_dp_srtp *k, uint8_t suite, uint8_t fill)
{
	memset(k, 0, sizeof(*k));
	k->suite = suite;
	k->key_len = (uint8_t)rpa_dp_srtp_key_len(suite);
	k->salt_len = (uint8_t)rpa_dp_srtp_salt_len(suite);
	memset(k->key, fill, k->key_len);
	memset(k->salt, fill ^ 0xff, k->salt_len);
}

static const struct fwd_rule *rule_at(const char *local)
{
	struct rpa_endpoint ep = fix_ep(local);
	struct session_key key;

	assert_int_equal(session_key_from(&ep, &key), 0);
	return session_port_rule(session_port_entry(key.addr_idx, key.port));
}

/* Wait out every grace period (no reader is registered) and free what was retired. */
static void grace(void)
{
	rte_rcu_qsbr_synchronize(worker_shared.qsbr, RTE_QSBR_THRID_INVALID);
	session_reclaim();
}

static int setup_srtp(void **st)
{
	fix_core_up_srtp(1024, 3000);
	return 0;
}

static void test_srtp_treatments(void **st)
{
	struct rpa_dp_stream s = stream("192.0.2.1:30010", "198.51.100.1:30012",
					"198.51.100.10:5000", RPA_DP_F_LATCH);
	struct rpa_dp_stream_info info;
	const struct fwd_rule *r;
	const struct fwd_rule_srtp *fs;
	char err[128];

	/* SRTP in, plain out. */
	set_key(&s.rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, 0x11);
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	r = rule_at("192.0.2.1:30010");
	assert_int_equal(r->treat, FWD_UNPROTECT);
	fs = session_rule_srtp(r);
	assert_non_null(fs->rx);
	assert_non_null(fs->rx_st);
	assert_null(fs->tx);
	assert_int_equal(session_srtp_sides(), 1);
	assert_int_equal(session_srtp_count(), 1);
	assert_int_equal(session_get(&s.local, &info), 0);
	assert_int_equal(info.stream.rx.suite, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(info.stream.rx.key_len, 16);
	assert_int_equal(info.stream.rx.salt_len, 14);
	assert_int_equal(info.stream.tx.suite, RPA_DP_SRTP_NONE);
	assert_int_equal(info.stream.replay_window, RPA_DP_SRTP_REPLAY_DEFAULT);
	{
		static const uint8_t zero[32];
		/* GET shows what is in use, never the key. */
		assert_memory_equal(info.stream.rx.key, zero, sizeof(info.stream.rx.key));
		assert_memory_equal(info.stream.rx.salt, zero, sizeof(info.stream.rx.salt));
	}

	/* Plain in, SRTP out (GCM with an MKI), RTCP only. */
	s.local = fix_ep("192.0.2.1:30011");
	s.flags = RPA_DP_F_LATCH | RPA_DP_F_RTCP;
	memset(&s.rx, 0, sizeof(s.rx));
	set_key(&s.tx, RPA_DP_SRTP_AEAD_AES_128_GCM, 0x22);
	s.tx.mki_len = 2;
	s.tx.mki[0] = 0xab;
	s.tx.mki[1] = 0xcd;
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	r = rule_at("192.0.2.1:30011");
	assert_int_equal(r->treat, FWD_PROTECT);
	assert_null(session_rule_srtp(r)->rx);
	assert_non_null(session_rule_srtp(r)->tx);
	assert_int_equal(session_get(&s.local, &info), 0);
	assert_int_equal(info.stream.tx.suite, RPA_DP_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(info.stream.tx.mki_len, 2);
	assert_int_equal(info.stream.tx.mki[1], 0xcd);

	/* Re-key: two contexts. */
	s.local = fix_ep("192.0.2.1:30012");
	s.flags = RPA_DP_F_LATCH | RPA_DP_F_MUX;
	set_key(&s.rx, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32, 0x33);
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	r = rule_at("192.0.2.1:30012");
	assert_int_equal(r->treat, FWD_REKEY);
	assert_non_null(session_rule_srtp(r)->rx);
	assert_non_null(session_rule_srtp(r)->tx);
	assert_int_equal(session_srtp_sides(), 4);

	/* Passthrough: the same keys both ways forward untouched, with no context. */
	s.local = fix_ep("192.0.2.1:30013");
	s.flags = RPA_DP_F_LATCH;
	s.rx = s.tx;
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	r = rule_at("192.0.2.1:30013");
	assert_int_equal(r->treat, FWD_PLAIN);
	assert_int_equal(session_srtp_sides(), 5); /* one side serves both directions */
	assert_int_equal(session_get(&s.local, &info), 0);
	assert_int_equal(info.stream.rx.suite, RPA_DP_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(info.stream.tx.suite, RPA_DP_SRTP_AEAD_AES_128_GCM);

	/* Plain stays plain, and does not count as an SRTP stream. */
	s.local = fix_ep("192.0.2.1:30014");
	memset(&s.rx, 0, sizeof(s.rx));
	memset(&s.tx, 0, sizeof(s.tx));
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_int_equal(rule_at("192.0.2.1:30014")->treat, FWD_PLAIN);
	assert_int_equal(session_srtp_count(), 4);

	assert_int_equal(session_flush(false, 0), 5);
	assert_int_equal(session_srtp_count(), 0);
	grace();
	assert_int_equal(session_srtp_sides(), 0);
}

/* A replacement with the same keys keeps the stream's contexts and state (ROC, replay
 * window); new keys get new ones, and the old key bytes are gone once retired. */
static void test_srtp_replace_and_retire(void **st)
{
	struct rpa_dp_stream s = stream("192.0.2.1:30020", "198.51.100.1:30022",
					"198.51.100.10:5000", RPA_DP_F_LATCH);
	uint8_t old_key[16], new_key[16];
	const struct fwd_rule *r1, *r2, *r3;
	struct srtp_state *st1;
	char err[128];

	set_key(&s.rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, 0x5c);
	set_key(&s.tx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32, 0x6d);
	memcpy(old_key, s.rx.key, sizeof(old_key));
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	r1 = rule_at("192.0.2.1:30020");
	st1 = session_rule_srtp(r1)->rx_st;
	assert_true(session_srtp_pool_holds(old_key, sizeof(old_key)));

	/* Same keys, other peer: a new rule on the same contexts. */
	s.dst = fix_ep("198.51.100.11:5002");
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	r2 = rule_at("192.0.2.1:30020");
	assert_ptr_not_equal(r1, r2);
	assert_ptr_equal(session_rule_srtp(r2)->rx, session_rule_srtp(r1)->rx);
	assert_ptr_equal(session_rule_srtp(r2)->rx_st, st1);
	assert_ptr_equal(session_rule_srtp(r2)->tx_st, session_rule_srtp(r1)->tx_st);
	grace();
	assert_int_equal(session_srtp_sides(), 2);

	/* A latch copies the rule: contexts shared again. */
	{
		struct session_key key;
		assert_int_equal(session_key_from(&s.local, &key), 0);
		assert_int_equal(session_latch(&key, htonl(0xc000020a), htons(7000),
					       rte_get_tsc_cycles()),
				 1);
		assert_ptr_equal(session_rule_srtp(rule_at("192.0.2.1:30020"))->rx_st, st1);
		grace();
		assert_int_equal(session_srtp_sides(), 2);
	}

	/* New rx key: a new rx side; tx unchanged keeps its own. */
	set_key(&s.rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, 0x7e);
	memcpy(new_key, s.rx.key, sizeof(new_key));
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	r3 = rule_at("192.0.2.1:30020");
	assert_ptr_not_equal(session_rule_srtp(r3)->rx_st, st1);
	assert_ptr_equal(session_rule_srtp(r3)->tx_st, session_rule_srtp(r2)->tx_st);
	/* The old rule may still be read by a worker: its side lives until the grace period. */
	assert_int_equal(session_srtp_sides(), 3);
	assert_true(session_srtp_pool_holds(old_key, sizeof(old_key)));
	grace();
	assert_int_equal(session_srtp_sides(), 2);
	assert_false(session_srtp_pool_holds(old_key, sizeof(old_key)));
	assert_true(session_srtp_pool_holds(new_key, sizeof(new_key)));

	/* A new replay window is new rx state; the tx side does not depend on it. */
	s.replay_window = 1024;
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_ptr_equal(session_rule_srtp(rule_at("192.0.2.1:30020"))->tx_st,
			 session_rule_srtp(r3)->tx_st);
	grace();
	assert_int_equal(session_srtp_sides(), 2);

	/* Back to plain: both sides retired, keys zeroed. */
	memset(&s.rx, 0, sizeof(s.rx));
	memset(&s.tx, 0, sizeof(s.tx));
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_int_equal(rule_at("192.0.2.1:30020")->treat, FWD_PLAIN);
	assert_int_equal(session_srtp_count(), 0);
	grace();
	assert_int_equal(session_srtp_sides(), 0);
	assert_false(session_srtp_pool_holds(new_key, sizeof(new_key)));

	/* Delete: same. */
	set_key(&s.tx, RPA_DP_SRTP_AEAD_AES_256_GCM, 0x4b);
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_true(session_srtp_pool_holds(s.tx.key, 32));
	assert_int_equal(session_del(&s.local), 0);
	assert_true(session_srtp_pool_holds(s.tx.key, 32)); /* still in its grace period */
	grace();
	assert_false(session_srtp_pool_holds(s.tx.key, 32));
	assert_int_equal(session_srtp_sides(), 0);
}

static void test_srtp_limits(void **st)
{
	struct rpa_dp_stream s;
	char err[128], ep[64];
	unsigned i;

	/* --srtp-streams: SRTP streams beyond it are refused, plain ones are not. */
	for (i = 0; i < FIX_SRTP_STREAMS; i++) {
		snprintf(ep, sizeof(ep), "192.0.2.1:%u", 31000 + i);
		s = stream(ep, "198.51.100.1:40000", NULL, RPA_DP_F_LATCH);
		set_key(&s.rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, (uint8_t)i);
		if (session_add(&s, err, sizeof(err)) != 0)
			fail_msg("SRTP stream %u: %s", i, err);
	}
	s = stream("192.0.2.1:32000", "198.51.100.1:40000", NULL, RPA_DP_F_LATCH);
	set_key(&s.rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, 1);
	assert_int_equal(session_add(&s, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "--srtp-streams 64"));
	memset(&s.rx, 0, sizeof(s.rx));
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	/* Re-keying one of the 64 is a replacement, not a new SRTP stream. */
	s = stream("192.0.2.1:31000", "198.51.100.1:40000", NULL, RPA_DP_F_LATCH);
	set_key(&s.rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, 0xee);
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_int_equal(session_srtp_count(), FIX_SRTP_STREAMS);
}

/* Without an engine, streams that need crypto are refused with the reason; passthrough
 * needs none. */
static void test_srtp_without_engine(void **st)
{
	struct rpa_dp_stream s = stream("192.0.2.1:30030", "198.51.100.1:30032", NULL,
					RPA_DP_F_LATCH);
	char err[128];

	set_key(&s.rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, 0x21);
	assert_int_equal(session_add(&s, err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "no SRTP crypto engine (not started by this test)"));
	assert_int_equal(session_count(), 0);
	s.tx = s.rx;
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	assert_int_equal(rule_at("192.0.2.1:30030")->treat, FWD_PLAIN);
	assert_int_equal(session_srtp_sides(), 1);
}

/* One RTP packet with `cc` CSRCs through the engine on worker w (protect or unprotect),
 * retried once after srtp_engine_service on SRTP_PENDING (the slow path's part). */
static enum srtp_verdict gcm_run(struct srtp_worker *w, int protect, const struct srtp_ctx *c,
				 struct srtp_state *st, uint8_t *pkt, unsigned *len)
{
	enum srtp_verdict v = SRTP_PENDING;

	for (unsigned round = 0; round < 2 && v == SRTP_PENDING; round++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(fix_mp);
		struct srtp_pkt p = {.m = m, .ctx = c, .st = st, .len = (uint16_t)*len};

		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)*len), pkt, *len);
		if (protect)
			srtp_protect_burst(w, &p, 1);
		else
			srtp_unprotect_burst(w, &p, 1);
		v = (enum srtp_verdict)p.verdict;
		if (v == SRTP_OK) {
			memcpy(pkt, rte_pktmbuf_mtod(m, uint8_t *), p.len);
			*len = p.len;
		} else if (v == SRTP_PENDING) {
			assert_true(srtp_engine_service() > 0);
		}
		rte_pktmbuf_free(m);
	}
	return v;
}

static void test_srtp_aead_slot_retire(void **st)
{
	struct rpa_dp_stream s = stream("192.0.2.1:30040", "198.51.100.1:30042",
					"198.51.100.10:5000", RPA_DP_F_LATCH);
	struct srtp_worker *w = srtp_worker_create(0, (int)rte_socket_id());
	struct rpa_dp_srtp bad;
	const struct fwd_rule_srtp *fs;
	struct srtp_ctx *forger;
	struct srtp_state *fst;
	unsigned avail;
	char err[128];

	assert_non_null(w);
	set_key(&s.rx, RPA_DP_SRTP_AEAD_AES_128_GCM, 0x3a);
	assert_int_equal(session_add(&s, err, sizeof(err)), 0);
	fs = session_rule_srtp(rule_at("192.0.2.1:30040"));
	bad = s.rx;
	bad.key[0] ^= 0xff;

	/* Five forged header lengths under a wrong key (each by a context of its own, which
	 * has four slots too): the fifth takes over a slot. */
	for (unsigned cc = 1; cc <= 5; cc++) {
		uint8_t pkt[200] = {(uint8_t)(0x80 | cc), 0, 0, (uint8_t)cc, 0, 0, 0, 0, 1, 2, 3, 4};
		unsigned len = 12 + 4 * cc + 40;

		forger = srtp_ctx_create(&bad, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err,
					 sizeof(err));
		assert_non_null(forger);
		fst = srtp_state_create(forger, -1);
		assert_int_equal(gcm_run(w, 1, forger, fst, pkt, &len), SRTP_OK);
		srtp_state_destroy(fst);
		srtp_ctx_destroy(forger);
		assert_int_equal(gcm_run(w, 0, fs->rx, fs->rx_st, pkt, &len), SRTP_AUTH_FAIL);
	}

	/* The replaced session waits in the rules' defer queue: not freed while a worker
	 * (this thread, registered) has not passed a quiescent state since. */
	avail = rte_mempool_avail_count(srtp_engine.sess_pool);
	rte_rcu_qsbr_thread_register(worker_shared.qsbr, 0);
	rte_rcu_qsbr_thread_online(worker_shared.qsbr, 0);
	session_reclaim();
	assert_int_equal(rte_mempool_avail_count(srtp_engine.sess_pool), avail);
	rte_rcu_qsbr_quiescent(worker_shared.qsbr, 0);
	session_reclaim();
	assert_int_equal(rte_mempool_avail_count(srtp_engine.sess_pool), avail + 1);
	rte_rcu_qsbr_thread_offline(worker_shared.qsbr, 0);
	rte_rcu_qsbr_thread_unregister(worker_shared.qsbr, 0);

	assert_int_equal(session_del(&s.local), 0);
	grace();
	assert_int_equal(session_srtp_sides(), 0);
	srtp_worker_destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_get_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_paging_and_flush_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latch_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_through_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_treatments, setup_srtp, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_replace_and_retire, setup_srtp, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_limits, setup_srtp, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_aead_slot_retire, setup_srtp, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_without_engine, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
