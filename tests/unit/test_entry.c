/* Unit tests for control/entry.c: command entries as a proxy writes them, and hostile
 * ones (missing fields, unknown op, oversized fields, binary junk, reply-to naming our own
 * keys), each refused with a message naming the problem. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "entry.h"

#define PREFIX "rtpanchor:"

struct fields {
	struct entry_str f[2 * ENTRY_FIELDS_MAX + 4];
	size_t n;
};

static void add(struct fields *fs, const char *name, const char *value, size_t vlen)
{
	fs->f[fs->n].ptr = name;
	fs->f[fs->n++].len = strlen(name);
	fs->f[fs->n].ptr = value;
	fs->f[fs->n++].len = vlen;
}

static void adds(struct fields *fs, const char *name, const char *value)
{
	add(fs, name, value, strlen(value));
}

static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
			  "t=0 0\r\nm=audio 20000 RTP/AVP 0\r\n";

static void base(struct fields *fs, const char *op)
{
	memset(fs, 0, sizeof(*fs));
	adds(fs, "op", op);
	adds(fs, "call-id", "a84b4c76e66710@pc33.atlanta.example.com");
	adds(fs, "from-tag", "1928301774");
	adds(fs, "reply-to", "kamailio:reply:17");
}

static int parse(struct fields *fs, struct entry *e, char *err)
{
	return entry_parse(fs->f, fs->n, PREFIX, e, err, ENTRY_ERRLEN);
}

static void test_offer(void **state)
{
	struct fields fs;
	struct entry e;
	char err[ENTRY_ERRLEN];

	base(&fs, "offer");
	adds(&fs, "sdp", sdp);
	adds(&fs, "flags", "trust-address ice-remove  rtcp-mux=demux");
	adds(&fs, "x-future-field", "ignored");
	assert_int_equal(parse(&fs, &e, err), 0);
	assert_int_equal(e.op, ENTRY_OP_OFFER);
	assert_string_equal(e.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
	assert_string_equal(e.from_tag, "1928301774");
	assert_null(e.to_tag);
	assert_int_equal(e.sdp_len, strlen(sdp));
	assert_memory_equal(e.sdp, sdp, e.sdp_len);
	assert_string_equal(e.flags, "trust-address ice-remove  rtcp-mux=demux");
	assert_int_equal(e.reply_to_len, strlen("kamailio:reply:17"));
	assert_string_equal(e.reply_to, "kamailio:reply:17");
	assert_string_equal(entry_op_name(e.op), "offer");
	assert_true(entry_op_mutates(e.op));
}

static void test_every_op(void **state)
{
	static const char *const ops[] = {"ping",  "offer", "answer",	 "delete",
					  "query", "list",  "statistics"};
	struct fields fs;
	struct entry e;
	char err[ENTRY_ERRLEN];

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		base(&fs, ops[i]);
		adds(&fs, "to-tag", "314159");
		adds(&fs, "sdp", sdp);
		assert_int_equal(parse(&fs, &e, err), 0);
		assert_int_equal(e.op, (enum entry_op)(ENTRY_OP_PING + i));
		assert_string_equal(entry_op_name(e.op), ops[i]);
		assert_string_equal(e.to_tag, "314159");
	}
	/* ping, list and statistics need nothing but op and reply-to. */
	memset(&fs, 0, sizeof(fs));
	adds(&fs, "reply-to", "r");
	adds(&fs, "op", "ping");
	assert_int_equal(parse(&fs, &e, err), 0);
	assert_false(entry_op_mutates(e.op));
	assert_null(e.call_id);
}

static void expect_error(struct fields *fs, const char *needle, bool reply_usable)
{
	struct entry e;
	char err[ENTRY_ERRLEN];

	assert_int_equal(parse(fs, &e, err), -EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("message '%s' lacks '%s'", err, needle);
	if (reply_usable)
		assert_non_null(e.reply_to);
	else
		assert_null(e.reply_to);
}

static void test_missing_fields(void **state)
{
	struct fields fs;

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "offer");
	adds(&fs, "call-id", "c");
	expect_error(&fs, "missing reply-to", false);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "reply-to", "r");
	adds(&fs, "call-id", "c");
	expect_error(&fs, "missing op", true);

	base(&fs, "offer");
	expect_error(&fs, "missing sdp", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "answer");
	adds(&fs, "call-id", "c");
	adds(&fs, "sdp", sdp);
	adds(&fs, "reply-to", "r");
	expect_error(&fs, "missing from-tag", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "delete");
	adds(&fs, "from-tag", "f");
	adds(&fs, "reply-to", "r");
	expect_error(&fs, "missing call-id", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "query");
	adds(&fs, "reply-to", "r");
	expect_error(&fs, "missing call-id", true);

	/* An empty value is as good as none. */
	base(&fs, "delete");
	fs.f[5].len = 0; /* from-tag */
	expect_error(&fs, "missing from-tag", true);
}

static void test_unknown_op(void **state)
{
	struct fields fs;

	base(&fs, "explode");
	expect_error(&fs, "unknown op 'explode'", true);
	base(&fs, "OFFER");
	expect_error(&fs, "unknown op 'OFFER'", true);
	/* Binary junk is shown as '?', never echoed raw. */
	memset(&fs, 0, sizeof(fs));
	add(&fs, "op", "of\x01\xff", 4);
	adds(&fs, "reply-to", "r");
	expect_error(&fs, "unknown op 'of?\?'", true);
	/* A long op is cut. */
	base(&fs, "offeroffer-offeroffer-offeroffer-offeroffer-offeroffer");
	expect_error(&fs, "...", true);
}

static void test_oversized(void **state)
{
	char *big = malloc(1024 * 1024 + 1);
	struct fields fs;

	memset(big, 'a', 1024 * 1024);
	big[1024 * 1024] = '\0';

	base(&fs, "offer");
	add(&fs, "sdp", big, 1024 * 1024);
	expect_error(&fs, "sdp too long: 1048576 bytes (limit 65536)", true);

	base(&fs, "offer");
	add(&fs, "sdp", big, ENTRY_SDP_MAX + 1);
	expect_error(&fs, "sdp too long", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "delete");
	add(&fs, "call-id", big, ENTRY_CALL_ID_MAX + 1);
	adds(&fs, "from-tag", "f");
	adds(&fs, "reply-to", "r");
	expect_error(&fs, "call-id too long: 257 bytes (limit 256)", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "delete");
	add(&fs, "call-id", big, ENTRY_CALL_ID_MAX);
	adds(&fs, "from-tag", "f");
	adds(&fs, "reply-to", "r");
	{
		struct entry e;
		char err[ENTRY_ERRLEN];

		big[ENTRY_CALL_ID_MAX] = '\0';
		assert_int_equal(parse(&fs, &e, err), 0); /* exactly the limit is fine */
		big[ENTRY_CALL_ID_MAX] = 'a';
	}

	base(&fs, "delete");
	add(&fs, "to-tag", big, ENTRY_TAG_MAX + 1);
	expect_error(&fs, "to-tag too long", true);

	base(&fs, "delete");
	add(&fs, "flags", big, ENTRY_FLAGS_MAX + 1);
	expect_error(&fs, "flags too long", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "ping");
	add(&fs, "reply-to", big, ENTRY_REPLY_TO_MAX + 1);
	expect_error(&fs, "reply-to too long", false);

	memset(&fs, 0, sizeof(fs));
	for (int i = 0; i < ENTRY_FIELDS_MAX + 1; i++)
		adds(&fs, "x", "y");
	expect_error(&fs, "too many fields", false);
	free(big);
}

static void test_binary_junk(void **state)
{
	struct fields fs;

	base(&fs, "offer");
	add(&fs, "sdp", "v=0\r\n\0\0junk", 11);
	expect_error(&fs, "sdp is not UTF-8 text: byte 0x00 at offset 5", true);

	base(&fs, "offer");
	add(&fs, "sdp", "v=0\r\ns=\xc3\x28\r\n", 11);
	expect_error(&fs, "byte 0xc3 at offset 7", true);

	base(&fs, "offer");
	add(&fs, "sdp", "v=0\r\ns=\xed\xa0\x80\r\n", 12); /* a UTF-16 surrogate */
	expect_error(&fs, "offset 7", true);

	base(&fs, "offer");
	add(&fs, "sdp", "v=0\r\ns=\xc0\xaf\r\n", 11); /* overlong '/' */
	expect_error(&fs, "offset 7", true);

	/* Real UTF-8 in SDP (s= and i= lines may carry it) is fine. */
	{
		struct entry e;
		char err[ENTRY_ERRLEN];

		base(&fs, "offer");
		static const char utf8[] = "v=0\r\ns=Gr\xc3\xbc\xc3\x9f"
					   "e \xe2\x82\xac \xf0\x9f\x93\x9e\r\n";

		add(&fs, "sdp", utf8, sizeof(utf8) - 1);
		assert_int_equal(parse(&fs, &e, err), 0);
	}

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "delete");
	add(&fs, "call-id", "abc\0def", 7);
	adds(&fs, "from-tag", "f");
	adds(&fs, "reply-to", "r");
	expect_error(&fs, "call-id contains a byte outside printable ASCII", true);

	base(&fs, "delete");
	adds(&fs, "to-tag", "a b");
	expect_error(&fs, "to-tag contains", true);

	base(&fs, "delete");
	adds(&fs, "flags", "trust-address\nstrict-source");
	expect_error(&fs, "flags contains", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "ping");
	add(&fs, "reply-to", "r\xff", 2);
	expect_error(&fs, "reply-to contains", false);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "ping");
	adds(&fs, "reply-to", "r");
	adds(&fs, "op", "offer");
	expect_error(&fs, "'op' is given twice", true);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "ping");
	adds(&fs, "reply-to", "r");
	adds(&fs, "reply-to", "s");
	expect_error(&fs, "'reply-to' is given twice", false);

	memset(&fs, 0, sizeof(fs));
	adds(&fs, "op", "ping");
	fs.n = 1; /* a name without a value */
	expect_error(&fs, "odd number of fields", false);
}

static void test_reply_to_not_ours(void **state)
{
	static const char *const ours[] = {
	    PREFIX "commands",	  PREFIX "events",	  PREFIX "call:abc",
	    PREFIX "node:n1",	  PREFIX "node:n1:calls", PREFIX "reply:1700000000000-0",
	    PREFIX "commands:n2",
	};
	static const char *const fine[] = {
	    PREFIX "reply:cli-4711", PREFIX "cli:1", "other:events", "rtpanchor", "r",
	};
	struct fields fs;
	struct entry e;
	char err[ENTRY_ERRLEN];

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		memset(&fs, 0, sizeof(fs));
		adds(&fs, "op", "ping");
		adds(&fs, "reply-to", ours[i]);
		expect_error(&fs, "names one of control's own keys", false);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		memset(&fs, 0, sizeof(fs));
		adds(&fs, "op", "ping");
		adds(&fs, "reply-to", fine[i]);
		assert_int_equal(parse(&fs, &e, err), 0);
	}
}

static void test_entry_id(void **state)
{
	assert_true(entry_id_valid("1700000000000-0", 15));
	assert_true(entry_id_valid("0-1", 3));
	assert_false(entry_id_valid("1700000000000", 13));
	assert_false(entry_id_valid("-1", 2));
	assert_false(entry_id_valid("1-", 2));
	assert_false(entry_id_valid("1-2-3", 5));
	assert_false(entry_id_valid("a-1", 3));
	assert_false(entry_id_valid("123456789012345678901-1", 23));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offer),
	    cmocka_unit_test(test_every_op),
	    cmocka_unit_test(test_missing_fields),
	    cmocka_unit_test(test_unknown_op),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_binary_junk),
	    cmocka_unit_test(test_reply_to_not_ours),
	    cmocka_unit_test(test_entry_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
