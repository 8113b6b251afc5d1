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
	h->version = 2;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_sequence, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
