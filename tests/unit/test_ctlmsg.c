/* Unit tests for control message handling (dataplane/ctlmsg.c): every malformed request gets
 * an error reply naming the problem and changes nothing; valid requests do what they say. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctlmsg.h"
#include "eal_fixture.h"

static uint64_t req[RPA_DP_MSG_MAX / 8 + 8];
static uint64_t rep[RPA_DP_MSG_MAX / 8];

static int setup(void **st)
{
	fix_core_up(256, 3000);
	return 0;
}

static int teardown(void **st)
{
	fix_core_down();
	return 0;
}

static size_t build(uint16_t type, const void *body, size_t blen)
{
	struct rpa_dp_hdr *h = (void *)req;

	h->magic = RPA_DP_MAGIC;
	h->version = RPA_DP_VERSION;
	h->type = type;
	h->len = (uint32_t)(sizeof(*h) + blen);
	h->seq = 4242;
	if (blen)
		memcpy(h + 1, body, blen);
	return sizeof(*h) + blen;
}

static const struct rpa_dp_reply *call(size_t len, int truncated)
{
	const struct rpa_dp_reply *r = (const void *)rep;
	size_t n = ctlmsg_handle(req, len, truncated, rep);

	assert_true(n >= sizeof(*r));
	assert_int_equal(r->hdr.len, n);
	assert_int_equal(r->hdr.magic, RPA_DP_MAGIC);
	assert_non_null(memchr(r->msg, '\0', sizeof(r->msg)));
	return r;
}

static struct rpa_dp_stream good_stream(void)
{
	struct rpa_dp_stream s;

	memset(&s, 0, sizeof(s));
	s.local = fix_ep("192.0.2.1:30000");
	s.src = fix_ep("198.51.100.1:30002");
	s.flags = RPA_DP_F_LATCH;
	return s;
}

static void test_malformed(void **st)
{
	struct rpa_dp_stream s = good_stream();
	struct rpa_dp_hdr *h = (void *)req;
	const struct rpa_dp_reply *r;
	size_t len;

	memset(req, 0, 64);
	r = call(0, 0);
	assert_int_equal(r->status, -EBADMSG);
	r = call(15, 0);
	assert_int_equal(r->status, -EBADMSG);
	assert_non_null(strstr(r->msg, "15 bytes"));

	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	h->magic = 0xdeadbeef;
	r = call(len, 0);
	assert_int_equal(r->status, -EBADMSG);
	assert_non_null(strstr(r->msg, "magic"));

	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	h->version = RPA_DP_VERSION + 1;
	r = call(len, 0);
	assert_int_equal(r->status, -EPROTO);
	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	h->version = 1; /* a v1 client (no SRTP fields) */
	r = call(len, 0);
	assert_int_equal(r->status, -EPROTO);

	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	r = call(len - 1, 0); /* truncated datagram: header length disagrees */
	assert_int_equal(r->status, -EBADMSG);

	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s) - 8);
	r = call(len, 0); /* consistent header, short body */
	assert_int_equal(r->status, -EBADMSG);
	assert_non_null(strstr(r->msg, "STREAM_ADD"));

	len = build(99, NULL, 0);
	r = call(len, 0);
	assert_int_equal(r->status, -EOPNOTSUPP);
	assert_int_equal(r->hdr.seq, 4242);
	len = build(0, NULL, 0);
	assert_int_equal(call(len, 0)->status, -EOPNOTSUPP);

	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	r = call(len, 1);
	assert_int_equal(r->status, -EMSGSIZE);

	/* Semantically bad add: error names the value, table untouched. */
	s.local = fix_ep("203.0.113.5:30000");
	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	r = call(len, 0);
	assert_int_equal(r->status, -EADDRNOTAVAIL);
	assert_non_null(strstr(r->msg, "203.0.113.5:30000"));

	{
		struct rpa_dp_flush f = {.flags = 0x8};
		len = build(RPA_DP_FLUSH, &f, sizeof(f));
		assert_int_equal(call(len, 0)->status, -EINVAL);
	}
	{
		struct rpa_dp_hello hello = {.client_version = 7};
		len = build(RPA_DP_HELLO, &hello, sizeof(hello));
		assert_int_equal(call(len, 0)->status, -EPROTO);
	}
	assert_int_equal(session_count(), 0);
}

static void test_valid_sequence(void **st)
{
	struct rpa_dp_stream s = good_stream();
	struct rpa_dp_hello hello = {.client_version = RPA_DP_VERSION};
	const struct rpa_dp_reply *r;
	const struct rpa_dp_hello_reply *hr;
	const struct rpa_dp_stream_info *info;
	struct rpa_dp_page page = {0};
	const struct rpa_dp_page_reply *pr;
	struct rpa_dp_flush f = {0};
	size_t len;

	ctlmsg_boot_id = 0x1234;
	len = build(RPA_DP_HELLO, &hello, sizeof(hello));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->hdr.len, sizeof(*r) + sizeof(*hr));
	hr = (const void *)(r + 1);
	assert_int_equal(hr->version, RPA_DP_VERSION);
	assert_int_equal(hr->boot_id, 0x1234);

	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	assert_int_equal(call(len, 0)->status, 0);
	s.local.port = 30002;
	s.src.port = 30000;
	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	assert_int_equal(call(len, 0)->status, 0);

	len = build(RPA_DP_STREAM_GET, &s.local, sizeof(s.local));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	info = (const void *)(r + 1);
	assert_int_equal(info->stream.local.port, 30002);
	assert_int_equal(info->stream.src.port, 30000);

	len = build(RPA_DP_STREAM_LIST, &page, sizeof(page));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	pr = (const void *)(r + 1);
	assert_int_equal(pr->count, 2);
	assert_int_equal(pr->next_cursor, 0);
	assert_int_equal(r->hdr.len, sizeof(*r) + sizeof(*pr) + 2 * sizeof(*info));

	len = build(RPA_DP_STATS, NULL, 0);
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	{
		const struct rpa_dp_stats *ss = (const void *)(r + 1);
		assert_int_equal(ss->streams, 2);
		assert_int_equal(ss->streams_max, 256);
		assert_int_equal(ss->nworkers, 1);
		assert_int_equal(ss->ndrops, DP_DROP_MAX);
		assert_int_equal(r->hdr.len,
				 sizeof(*r) + sizeof(*ss) +
					 ss->nports * sizeof(struct rpa_dp_port_stats) +
					 ss->nworkers * sizeof(struct rpa_dp_worker_stats) +
					 ss->ndrops * sizeof(struct rpa_dp_drop_stats));
	}

	len = build(RPA_DP_STREAM_DEL, &s.local, sizeof(s.local));
	assert_int_equal(call(len, 0)->status, 0);
	assert_int_equal(call(len, 0)->status, -ENOENT);

	len = build(RPA_DP_FLUSH, &f, sizeof(f));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(((const struct rpa_dp_flush_reply *)(r + 1))->deleted, 1);
	assert_int_equal(session_count(), 0);
}

/* Appends one write (its own header) to the BATCH body being built at req + 16. */
static size_t batch_put(size_t off, uint16_t type, const void *body, size_t blen)
{
	struct rpa_dp_hdr h = {.magic = RPA_DP_MAGIC,
			       .version = RPA_DP_VERSION,
			       .type = type,
			       .len = (uint32_t)(sizeof(h) + blen),
			       .seq = 7};
	uint8_t *p = (uint8_t *)req + sizeof(struct rpa_dp_hdr) + off;

	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), body, blen);
	return off + sizeof(h) + blen;
}

static size_t batch_close(size_t off)
{
	struct rpa_dp_hdr *h = (void *)req;

	h->magic = RPA_DP_MAGIC;
	h->version = RPA_DP_VERSION;
	h->type = RPA_DP_BATCH;
	h->len = (uint32_t)(sizeof(*h) + off);
	h->seq = 99;
	return h->len;
}

static void test_batch(void **st)
{
	struct rpa_dp_stream a = good_stream(), b = good_stream(), bad = good_stream();
	struct rpa_endpoint gone = fix_ep("192.0.2.1:30100");
	const struct rpa_dp_batch_reply *br;
	const struct rpa_dp_reply *r;
	const int32_t *status;
	struct rpa_dp_hello hello = {.client_version = RPA_DP_VERSION};
	size_t off;

	b.local.port = 30002;
	bad.local.port = 30004;
	bad.replay_window = 1; /* below RPA_DP_SRTP_REPLAY_MIN: refused */
	/* Each write is applied as if it came alone, in order. */
	off = batch_put(0, RPA_DP_STREAM_ADD, &a, sizeof(a));
	off = batch_put(off, RPA_DP_STREAM_DEL, &gone, sizeof(gone));
	off = batch_put(off, RPA_DP_STREAM_ADD, &b, sizeof(b));
	off = batch_put(off, RPA_DP_STREAM_ADD, &bad, sizeof(bad));
	off = batch_put(off, RPA_DP_STREAM_DEL, &a.local, sizeof(a.local));
	r = call(batch_close(off), 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->hdr.type, RPA_DP_BATCH);
	assert_int_equal(r->hdr.seq, 99);
	br = (const void *)(r + 1);
	status = (const int32_t *)(br + 1);
	assert_int_equal(br->count, 5);
	assert_int_equal(r->hdr.len, sizeof(*r) + sizeof(*br) + 5 * sizeof(int32_t));
	assert_int_equal(status[0], 0);
	assert_int_equal(status[1], -ENOENT);
	assert_int_equal(status[2], 0);
	assert_int_equal(status[3], -EINVAL);
	assert_int_equal(status[4], 0);
	assert_non_null(strstr(r->msg, "5 writes, 2 refused"));
	assert_int_equal(session_count(), 1); /* b only */

	/* Malformed as a whole: nothing of it is applied (the valid DEL of b first). */
	off = batch_put(0, RPA_DP_STREAM_DEL, &b.local, sizeof(b.local));
	off = batch_put(off, RPA_DP_HELLO, &hello, sizeof(hello));
	r = call(batch_close(off), 0);
	assert_int_equal(r->status, -EBADMSG);
	assert_non_null(strstr(r->msg, "batch write 1: type 1"));
	assert_int_equal(r->hdr.len, sizeof(*r));
	assert_int_equal(session_count(), 1);

	off = batch_put(0, RPA_DP_STREAM_DEL, &b.local, sizeof(b.local));
	off = batch_put(off, RPA_DP_STREAM_ADD, &a, sizeof(a));
	r = call(batch_close(off - 8), 0); /* the ADD cut short */
	assert_int_equal(r->status, -EBADMSG);
	assert_non_null(strstr(r->msg, "batch write 1"));
	r = call(batch_close(sizeof(struct rpa_dp_hdr) + 4), 0); /* a header and 4 bytes */
	assert_int_equal(r->status, -EBADMSG);
	r = call(batch_close(10), 0); /* not even a header */
	assert_int_equal(r->status, -EBADMSG);
	assert_non_null(strstr(r->msg, "no header"));
	r = call(batch_close(0), 0);
	assert_int_equal(r->status, -EBADMSG);
	assert_non_null(strstr(r->msg, "empty batch"));
	assert_int_equal(session_count(), 1);

	off = 0;
	for (int i = 0; i <= RPA_DP_BATCH_MAX; i++)
		off = batch_put(off, RPA_DP_STREAM_DEL, &b.local, sizeof(b.local));
	r = call(batch_close(off), 0);
	assert_int_equal(r->status, -E2BIG);
	assert_int_equal(session_count(), 1);
	off = 0;
	for (int i = 0; i < RPA_DP_BATCH_MAX; i++)
		off = batch_put(off, RPA_DP_STREAM_DEL, &b.local, sizeof(b.local));
	r = call(batch_close(off), 0);
	assert_int_equal(r->status, 0);
	status = (const int32_t *)((const struct rpa_dp_batch_reply *)(r + 1) + 1);
	assert_int_equal(status[0], 0);
	assert_int_equal(status[1], -ENOENT);
	assert_int_equal(status[RPA_DP_BATCH_MAX - 1], -ENOENT);
	assert_int_equal(session_count(), 0);
}

static void set_srtp(struct rpa_dp_srtp *k, uint8_t suite)
{
	memset(k, 0, sizeof(*k));
	k->suite = suite;
	k->key_len = (uint8_t)rpa_dp_srtp_key_len(suite);
	k->salt_len = (uint8_t)rpa_dp_srtp_salt_len(suite);
	memset(k->key, 0xa5, k->key_len);
	memset(k->salt, 0x5a, k->salt_len);
}

/* One mutation of a good stream, the status it must get and a word its message names. */
struct srtp_case {
	const char *what;
	void (*mutate)(struct rpa_dp_stream *s);
	int status;
	const char *names;
};

static void m_suite_max(struct rpa_dp_stream *s)
{
	set_srtp(&s->rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	s->rx.suite = RPA_DP_SRTP_SUITE_MAX;
}
static void m_suite_255(struct rpa_dp_stream *s)
{
	s->tx.suite = 255;
}
static void m_key_long(struct rpa_dp_stream *s)
{
	set_srtp(&s->rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32);
	s->rx.key_len = 32;
}
static void m_key_short(struct rpa_dp_stream *s)
{
	set_srtp(&s->tx, RPA_DP_SRTP_AEAD_AES_256_GCM);
	s->tx.key_len = 16;
}
static void m_key_zero(struct rpa_dp_stream *s)
{
	set_srtp(&s->tx, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32);
	s->tx.key_len = 0;
}
static void m_salt_gcm14(struct rpa_dp_stream *s)
{
	set_srtp(&s->rx, RPA_DP_SRTP_AEAD_AES_128_GCM);
	s->rx.salt_len = 14;
}
static void m_salt_cm12(struct rpa_dp_stream *s)
{
	set_srtp(&s->tx, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80);
	s->tx.salt_len = 12;
}
static void m_mki5(struct rpa_dp_stream *s)
{
	set_srtp(&s->rx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	s->rx.mki_len = 5;
}
static void m_none_key(struct rpa_dp_stream *s)
{
	s->rx.key_len = 16;
}
static void m_none_salt(struct rpa_dp_stream *s)
{
	s->tx.salt_len = 14;
}
static void m_none_mki(struct rpa_dp_stream *s)
{
	s->tx.mki_len = 1;
}
static void m_replay_low(struct rpa_dp_stream *s)
{
	s->replay_window = RPA_DP_SRTP_REPLAY_MIN - 1;
}
static void m_replay_high(struct rpa_dp_stream *s)
{
	s->replay_window = RPA_DP_SRTP_REPLAY_MAX + 1;
}
static void m_rtcp_mux(struct rpa_dp_stream *s)
{
	s->flags |= RPA_DP_F_RTCP | RPA_DP_F_MUX;
}
static void m_flag16(struct rpa_dp_stream *s)
{
	s->flags |= 0x10;
}

static void test_srtp_validation(void **st)
{
	static const struct srtp_case cases[] = {
		{"suite SUITE_MAX", m_suite_max, -EINVAL, "rx SRTP suite 7 unknown"},
		{"suite 255", m_suite_255, -EINVAL, "tx SRTP suite 255"},
		{"key 32 for AES-128", m_key_long, -EINVAL, "rx key_len 32, AES_CM_128_HMAC_SHA1_32 needs 16"},
		{"key 16 for AES-256 GCM", m_key_short, -EINVAL, "tx key_len 16, AEAD_AES_256_GCM needs 32"},
		{"key 0", m_key_zero, -EINVAL, "tx key_len 0"},
		{"GCM salt 14", m_salt_gcm14, -EINVAL, "rx salt_len 14, AEAD_AES_128_GCM needs 12"},
		{"CM salt 12", m_salt_cm12, -EINVAL, "tx salt_len 12, AES_256_CM_HMAC_SHA1_80 needs 14"},
		{"mki 5", m_mki5, -EINVAL, "rx mki_len 5, at most 4"},
		{"none with key", m_none_key, -EINVAL, "rx has no SRTP suite but key_len 16"},
		{"none with salt", m_none_salt, -EINVAL, "salt_len 14"},
		{"none with mki", m_none_mki, -EINVAL, "mki_len 1"},
		{"replay 63", m_replay_low, -EINVAL, "replay window 63"},
		{"replay 32769", m_replay_high, -EINVAL, "replay window 32769"},
		{"rtcp+mux", m_rtcp_mux, -EINVAL, "rtcp and mux"},
		{"flag 0x10", m_flag16, -EINVAL, "unknown flags 0x10"},
	};
	const struct rpa_dp_reply *r;
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rpa_dp_stream s = good_stream();

		cases[i].mutate(&s);
		len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
		r = call(len, 0);
		if (r->status != cases[i].status || strstr(r->msg, cases[i].names) == NULL)
			fail_msg("%s: status %d msg '%s', wanted %d naming '%s'", cases[i].what,
				 r->status, r->msg, cases[i].status, cases[i].names);
		assert_int_equal(session_count(), 0);
	}
}

/* Flags and the replay window go through; GET reports the window in effect. */
static void test_srtp_fields_accepted(void **st)
{
	struct rpa_dp_stream s = good_stream();
	const struct rpa_dp_stream_info *info;
	const struct rpa_dp_reply *r;
	size_t len;

	s.flags |= RPA_DP_F_MUX;
	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	assert_int_equal(call(len, 0)->status, 0);
	len = build(RPA_DP_STREAM_GET, &s.local, sizeof(s.local));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	info = (const void *)(r + 1);
	assert_int_equal(info->stream.flags, RPA_DP_F_LATCH | RPA_DP_F_MUX);
	assert_int_equal(info->stream.replay_window, RPA_DP_SRTP_REPLAY_DEFAULT);
	assert_int_equal(info->stream.rx.suite, RPA_DP_SRTP_NONE);
	assert_int_equal(info->srtp_auth_fail + info->srtp_replay + info->srtp_other, 0);

	s.flags = RPA_DP_F_LATCH | RPA_DP_F_RTCP;
	s.replay_window = RPA_DP_SRTP_REPLAY_MAX;
	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	assert_int_equal(call(len, 0)->status, 0);
	len = build(RPA_DP_STREAM_GET, &s.local, sizeof(s.local));
	r = call(len, 0);
	info = (const void *)(r + 1);
	assert_int_equal(info->stream.flags, RPA_DP_F_LATCH | RPA_DP_F_RTCP);
	assert_int_equal(info->stream.replay_window, RPA_DP_SRTP_REPLAY_MAX);
	assert_int_equal(session_count(), 1);
}

static int setup_srtp(void **st)
{
	fix_core_up_srtp(256, 3000);
	return 0;
}

/* Keys go in; GET and LIST show suites and MKI but never a key or salt byte. */
static void test_srtp_keys_not_echoed(void **st)
{
	static const uint8_t zero[32];
	struct rpa_dp_stream s = good_stream();
	const struct rpa_dp_stream_info *info;
	const struct rpa_dp_page_reply *pr;
	struct rpa_dp_page page = {0};
	const struct rpa_dp_reply *r;
	size_t len;

	set_srtp(&s.rx, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80);
	set_srtp(&s.tx, RPA_DP_SRTP_AEAD_AES_256_GCM);
	s.tx.mki_len = 4;
	memcpy(s.tx.mki, "\x01\x02\x03\x04", 4);
	s.replay_window = 4096;
	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->hdr.len, sizeof(*r));

	len = build(RPA_DP_STREAM_GET, &s.local, sizeof(s.local));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	info = (const void *)(r + 1);
	assert_int_equal(info->stream.rx.suite, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80);
	assert_int_equal(info->stream.rx.key_len, 32);
	assert_int_equal(info->stream.tx.suite, RPA_DP_SRTP_AEAD_AES_256_GCM);
	assert_int_equal(info->stream.tx.salt_len, 12);
	assert_memory_equal(info->stream.tx.mki, "\x01\x02\x03\x04", 4);
	assert_int_equal(info->stream.replay_window, 4096);
	assert_memory_equal(info->stream.rx.key, zero, 32);
	assert_memory_equal(info->stream.rx.salt, zero, 14);
	assert_memory_equal(info->stream.tx.key, zero, 32);
	assert_memory_equal(info->stream.tx.salt, zero, 14);
	/* Not anywhere in the reply either. */
	assert_null(memmem(rep, r->hdr.len, s.rx.key, 8));
	assert_null(memmem(rep, r->hdr.len, s.tx.salt, 8));

	len = build(RPA_DP_STREAM_LIST, &page, sizeof(page));
	r = call(len, 0);
	assert_int_equal(r->status, 0);
	pr = (const void *)(r + 1);
	assert_int_equal(pr->count, 1);
	info = (const void *)(pr + 1);
	assert_int_equal(info->stream.rx.suite, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80);
	assert_memory_equal(info->stream.rx.key, zero, 32);
	assert_null(memmem(rep, r->hdr.len, s.rx.key, 8));
	assert_null(memmem(rep, r->hdr.len, s.tx.key, 8));
}

/* Without an engine: a clear refusal naming why, and nothing installed. */
static void test_srtp_refused_without_engine(void **st)
{
	struct rpa_dp_stream s = good_stream();
	const struct rpa_dp_reply *r;
	size_t len;

	set_srtp(&s.tx, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	len = build(RPA_DP_STREAM_ADD, &s, sizeof(s));
	r = call(len, 0);
	assert_int_equal(r->status, -EOPNOTSUPP);
	assert_non_null(strstr(r->msg, "no SRTP crypto engine"));
	assert_non_null(strstr(r->msg, "192.0.2.1:30000"));
	assert_int_equal(session_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_fields_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_keys_not_echoed, setup_srtp, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_refused_without_engine, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
