/* Unit tests for control/jsonenc.c: every kind of value encodes to compact JSON that a
 * real parser (jansson) reads back equal, with strings escaped exactly as needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonenc.h"

static void roundtrip(json_t *v)
{
	struct jsonenc e = {0};
	json_error_t err;
	json_t *back;

	jsonenc_value(&e, v);
	assert_false(e.failed);
	assert_int_equal(strlen(e.p), e.len);
	back = json_loadb(e.p, e.len, JSON_DECODE_ANY, &err);
	if (back == NULL)
		fail_msg("not JSON: %s (%s)", e.p, err.text);
	if (!json_equal(v, back))
		fail_msg("read back differently: %s", e.p);
	json_decref(back);
	json_decref(v);
	jsonenc_free(&e);
}

static void test_values(void **state)
{
	roundtrip(json_pack("{s:s, s:i, s:I, s:b, s:b, s:n, s:f, s:[i,s,{}], s:{s:[]}}", "s",
			    "text", "i", -42, "big", (json_int_t)INT64_MIN, "t", 1, "f", 0, "nil",
			    "real", 0.5, "arr", 1, "x", "o", "a", "b"));
	roundtrip(json_integer(INT64_MAX));
	roundtrip(json_integer(0));
	roundtrip(json_real(3.0));
	roundtrip(json_real(-1e-300));
	roundtrip(json_string(""));
	roundtrip(json_array());
	roundtrip(json_object());
}

static void test_strings(void **state)
{
	char all[160];
	size_t n = 0;
	struct jsonenc e = {0};

	for (int c = 1; c < 0x80; c++)
		all[n++] = (char)c;
	memcpy(all + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9e", 9);
	n += 9;
	roundtrip(json_stringn(all, n));
	roundtrip(json_pack("{s:s}", "key \"with\" \\ and \n", "v"));

	jsonenc_string(&e, "a\"b\\c\n\x01", 7);
	assert_string_equal(e.p, "\"a\\\"b\\\\c\\n\\u0001\"");
	jsonenc_reset(&e);
	assert_int_equal(e.len, 0);
	jsonenc_value(&e, json_pack("{s:i,s:[b,n]}", "a", 1, "b", 1));
	assert_false(e.failed);
	assert_string_equal(e.p, "{\"a\":1,\"b\":[true,null]}");
	jsonenc_free(&e);
}

static void test_limits(void **state)
{
	struct jsonenc e = {0};
	json_t *deep = json_array(), *cur = deep;

	for (int i = 0; i < JSONENC_DEPTH_MAX + 2; i++) {
		json_t *next = json_array();

		json_array_append_new(cur, next);
		cur = next;
	}
	jsonenc_value(&e, deep);
	assert_true(e.failed);
	json_decref(deep);
	jsonenc_reset(&e);
	jsonenc_value(&e, NULL);
	assert_true(e.failed);
	jsonenc_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
