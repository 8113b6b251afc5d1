/* Unit tests for control/reply.c: the JSON replies decode to rtpengine's field names,
 * carry the SDP byte for byte, merge extra fields, and never emit raw control bytes; a
 * query's stream entry with its SRTP suites and drop counters, without keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "call.h"
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

static struct rpa_endpoint ep(const char *s)
{
	struct rpa_endpoint e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(rpa_endpoint_parse(s, &e), 0);
	return e;
}

static json_int_t num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", k);
	return json_integer_value(v);
}

/* A query's stream entry: SRTP suites per direction and the SRTP drops by reason, and
 * never a key (the stream carries some). */
static void test_stream(void **state)
{
	struct call_stream cs;
	struct rpa_dp_stream_info si;
	json_t *j;
	char *text;

	(void)state;
	memset(&cs, 0, sizeof(cs));
	cs.dp.local = ep("192.0.2.1:30000");
	cs.dp.dst = ep("198.51.100.20:20000");
	cs.dp.rx.suite = RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80;
	cs.dp.rx.key_len = 16;
	cs.dp.rx.salt_len = 14;
	memset(cs.dp.rx.key, 'K', 16);
	memset(cs.dp.rx.salt, 'S', 14);
	cs.srtp_in = RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80;
	cs.srtp_out = RPA_DP_SRTP_NONE;
	snprintf(cs.from_tag, sizeof(cs.from_tag), "alice");
	cs.component = 2;

	/* Not installed: what the call wants. */
	j = reply_stream(&cs, NULL, 1000);
	assert_non_null(j);
	assert_string_equal(str(j, "crypto-in"), "AES_CM_128_HMAC_SHA1_80");
	assert_string_equal(str(j, "crypto-out"), "none");
	assert_true(json_is_false(json_object_get(j, "sdes-passthrough")));
	assert_true(json_is_false(json_object_get(j, "installed")));
	assert_string_equal(str(j, "peer"), "198.51.100.20:20000");
	assert_string_equal(str(j, "component"), "rtcp");
	assert_null(json_object_get(j, "srtp-auth-fail"));
	json_decref(j);

	memset(&si, 0, sizeof(si));
	si.stream = cs.dp;
	memset(si.stream.rx.key, 0, sizeof(si.stream.rx.key));
	si.packets = 100;
	si.drops = 7;
	si.srtp_auth_fail = 3;
	si.srtp_replay = 2;
	si.srtp_other = 1;
	si.idle_ms = 400;
	cs.srtp_out = RPA_DP_SRTP_AEAD_AES_256_GCM;
	j = reply_stream(&cs, &si, 1000);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "installed")));
	assert_string_equal(str(j, "crypto-out"), "AEAD_AES_256_GCM");
	assert_int_equal(num(j, "packets"), 100);
	assert_int_equal(num(j, "drops"), 7);
	assert_int_equal(num(j, "srtp-auth-fail"), 3);
	assert_int_equal(num(j, "srtp-replay"), 2);
	assert_int_equal(num(j, "srtp-other"), 1);
	assert_int_equal(num(j, "last-seen"), 600);
	text = json_dumps(j, JSON_COMPACT);
	assert_null(strstr(text, "KKKK"));
	assert_null(strstr(text, "SSSS"));
	free(text);
	json_decref(j);

	cs.sdes_passthrough = true;
	cs.srtp_in = cs.srtp_out = RPA_DP_SRTP_AEAD_AES_128_GCM;
	j = reply_stream(&cs, &si, 1000);
	assert_true(json_is_true(json_object_get(j, "sdes-passthrough")));
	assert_string_equal(str(j, "crypto-in"), "AEAD_AES_128_GCM");
	assert_string_equal(str(j, "crypto-out"), "AEAD_AES_128_GCM");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pong),	cmocka_unit_test(test_error),
	    cmocka_unit_test(test_ok_with_sdp), cmocka_unit_test(test_ok_escaping),
	    cmocka_unit_test(test_ok_extra),	cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
