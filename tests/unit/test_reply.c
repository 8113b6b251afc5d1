/* Unit tests for control/reply.c: the JSON replies decode to rtpengine's field names,
 * carry the SDP byte for byte, merge extra fields, and never emit raw control bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "reply.h"

static json_t *decode(char *s)
{
	json_error_t e;
	json_t *j;

	assert_non_null(s);
	j = json_loads(s, 0, &e);
	if (j == NULL)
		fail_msg("not JSON: %s (%s)", s, e.text);
	assert_true(json_is_object(j));
	/* Compact: one line, no spaces after separators. */
	assert_null(strchr(s, '\n'));
	free(s);
	return j;
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_pong(void **state)
{
	json_t *j = decode(reply_pong());

	assert_string_equal(str(j, "result"), "pong");
	assert_int_equal(json_object_size(j), 1);
	json_decref(j);
}

static void test_error(void **state)
{
	json_t *j = decode(reply_error("unknown flag 'frobnicate'"));

	assert_string_equal(str(j, "result"), "error");
	assert_string_equal(str(j, "error-reason"), "unknown flag 'frobnicate'");
	assert_int_equal(json_object_size(j), 2);
	json_decref(j);

	/* Control bytes and invalid UTF-8 in a reason cannot break the encoding. */
	j = decode(reply_error("bad \x01 value \xff\xfe\n"));
	assert_string_equal(str(j, "error-reason"), "bad ? value ???");
	json_decref(j);

	j = decode(reply_error(""));
	assert_string_equal(str(j, "error-reason"), "unspecified error");
	json_decref(j);
}

static void test_ok_with_sdp(void **state)
{
	static const char sdp[] =
	    "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=Gr\xc3\xbc\xc3\x9f"
	    "e\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0 8\r\n"
	    "a=rtcp:30001\r\na=tool:\"quoted\" \\ backslash\r\n";
	json_t *j = decode(reply_ok(sdp, sizeof(sdp) - 1, NULL, NULL));

	assert_string_equal(str(j, "result"), "ok");
	assert_string_equal(str(j, "sdp"), sdp);
	assert_null(json_object_get(j, "warning"));
	json_decref(j);

	j = decode(reply_ok(sdp, sizeof(sdp) - 1, "dataplane unavailable", NULL));
	assert_string_equal(str(j, "warning"), "dataplane unavailable");
	json_decref(j);

	/* Invalid UTF-8 SDP is refused rather than mangled. */
	assert_null(reply_ok("v=0\r\ns=\xff\r\n", 10, NULL, NULL));
}

/* The hand-written encoder escapes exactly what JSON needs: every ASCII byte and some
 * multi-byte UTF-8 round-trip through a real JSON parser unchanged. */
static void test_ok_escaping(void **state)
{
	char text[200];
	size_t n = 0;
	json_t *j;

	for (int c = 1; c < 0x80; c++)
		text[n++] = (char)c;
	memcpy(text + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9e\"\\", 11);
	n += 11;
	j = decode(reply_ok(text, n, "w\"\\", NULL));
	assert_int_equal(json_string_length(json_object_get(j, "sdp")), n);
	assert_memory_equal(json_string_value(json_object_get(j, "sdp")), text, n);
	assert_string_equal(str(j, "warning"), "w\"\\");
	json_decref(j);
	/* An empty SDP is still a string. */
	j = decode(reply_ok("", 0, NULL, NULL));
	assert_string_equal(str(j, "sdp"), "");
	json_decref(j);
}

static void test_ok_extra(void **state)
{
	json_t *extra =
	    json_pack("{s:[s,s], s:i, s:s}", "calls", "a", "b", "count", 2, "result", "not-this");
	json_t *j = decode(reply_ok(NULL, 0, "", extra));

	/* result is always ours; the extra fields are merged; "" warning is absent. */
	assert_string_equal(str(j, "result"), "ok");
	assert_int_equal(json_array_size(json_object_get(j, "calls")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
	assert_null(json_object_get(j, "warning"));
	assert_null(json_object_get(j, "sdp"));
	json_decref(j);
}

static void test_sanitize(void **state)
{
	char out[8];

	assert_string_equal(reply_sanitize("abc\tdef", out, sizeof(out)), "abc?def");
	assert_string_equal(reply_sanitize("0123456789", out, sizeof(out)), "0123456");
	assert_string_equal(reply_sanitize(NULL, out, sizeof(out)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pong),	cmocka_unit_test(test_error),
	    cmocka_unit_test(test_ok_with_sdp), cmocka_unit_test(test_ok_escaping),
	    cmocka_unit_test(test_ok_extra),	cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
