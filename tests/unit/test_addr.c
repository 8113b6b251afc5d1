/* Unit tests for common/addr.c: address, prefix and endpoint parsing (valid and hostile)
 * and the text forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include <rtpanchor/addr.h>

static void test_addr_v4(void **state)
{
	struct rpa_addr a;
	char buf[RPA_ADDR_STRLEN];

	assert_int_equal(rpa_addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, RPA_AF_INET);
	assert_int_equal(a.v4, htonl(0xc0000201));
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "192.0.2.1");
	assert_int_equal(rpa_addr_parse("255.255.255.255", &a), 0);
	assert_int_equal(a.v4, 0xffffffff);
	assert_int_equal(rpa_addr_parse("0.0.0.0", &a), 0);
	assert_int_equal(a.family, RPA_AF_INET);
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "0.0.0.0");
}

static void test_addr_v6(void **state)
{
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					 0,    0,    0,	   0,	 0, 0, 0, 0x01};
	/* 45 characters: the longest text form, one below RPA_ADDR_STRLEN. */
	static const char longest[] = "0000:0000:0000:0000:0000:ffff:255.255.255.255";
	struct rpa_addr a;
	char buf[RPA_ADDR_STRLEN];

	assert_int_equal(rpa_addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.family, RPA_AF_INET6);
	assert_memory_equal(a.v6, want, 16);
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(rpa_addr_parse("2001:DB8:0:0:0:0:0:1", &a), 0);
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(rpa_addr_parse("::", &a), 0);
	assert_int_equal(a.family, RPA_AF_INET6);

	assert_int_equal(strlen(longest), RPA_ADDR_STRLEN - 1);
	assert_int_equal(rpa_addr_parse(longest, &a), 0);
	assert_int_equal(a.family, RPA_AF_INET6);
	assert_int_equal(a.v6[10], 0xff);
	assert_int_equal(a.v6[15], 0xff);
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "::ffff:255.255.255.255");

	memset(a.v6, 0xff, 16);
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_addr_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "1.2.3.256",
	    "1.2.3",
	    "1.2.3.4.5",
	    "1.2.3.4 ",
	    " 1.2.3.4",
	    "1.2.3.-1",
	    "a.b.c.d",
	    "1.2.3.4/24",
	    "1.2.3.4:5",
	    "2001:db8:::1",
	    "2001:db8::g",
	    "[2001:db8::1]",
	    "12345::",
	    "localhost",
	    "0x01020304",
	    /* 46 characters: a valid-looking address, one too long */
	    "0000:0000:0000:0000:0000:ffff:255.255.255.2555",
	};
	char huge[4096];
	struct rpa_addr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rpa_addr_parse(bad[i], &a) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(a.family, RPA_AF_NONE);
	}
	assert_int_equal(rpa_addr_parse(NULL, &a), -EINVAL);
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(rpa_addr_parse(huge, &a), -EINVAL);
	/* Long strings that start with a valid address are not truncated into one. */
	memcpy(huge, "192.0.2.1", 9);
	assert_int_equal(rpa_addr_parse(huge, &a), -EINVAL);
}

static void test_prefix(void **state)
{
	struct rpa_addr a;
	uint8_t plen = 0;
	char buf[RPA_ADDR_STRLEN];

	assert_int_equal(rpa_prefix_parse("192.0.2.10/24", &a, &plen), 0);
	assert_int_equal(plen, 24);
	assert_int_equal(a.family, RPA_AF_INET);
	/* A media address keeps its host bits: it is an address with a prefix, not a net. */
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "192.0.2.10");
	assert_int_equal(rpa_prefix_parse("192.0.2.10", &a, &plen), 0);
	assert_int_equal(plen, 32);
	assert_int_equal(rpa_prefix_parse("10.0.0.0/0", &a, &plen), 0);
	assert_int_equal(plen, 0);
	assert_int_equal(rpa_prefix_parse("10.0.0.1/32", &a, &plen), 0);
	assert_int_equal(plen, 32);
	assert_int_equal(rpa_prefix_parse("2001:db8::1/64", &a, &plen), 0);
	assert_int_equal(a.family, RPA_AF_INET6);
	assert_int_equal(plen, 64);
	assert_int_equal(rpa_prefix_parse("2001:db8::1", &a, &plen), 0);
	assert_int_equal(plen, 128);
	assert_int_equal(rpa_prefix_parse("2001:db8::/128", &a, &plen), 0);
	assert_int_equal(plen, 128);
}

static void test_prefix_bad(void **state)
{
	static const char *const bad[] = {
	    "192.0.2.1/33",
	    "192.0.2.1/",
	    "192.0.2.1/-1",
	    "192.0.2.1/+8",
	    "192.0.2.1/ 8",
	    "192.0.2.1/8x",
	    "192.0.2.1/8/8",
	    "192.0.2.1/256",
	    "192.0.2.1/4294967320",
	    "/24",
	    "",
	    "2001:db8::/129",
	    "2001:db8::/1280",
	    "1.2.3.256/8",
	    "192.0.2.1//8",
	};
	char huge[512];
	struct rpa_addr a;
	uint8_t plen;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rpa_prefix_parse(bad[i], &a, &plen) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_int_equal(rpa_prefix_parse(NULL, &a, &plen), -EINVAL);
	memset(huge, '0', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "10.0.0.1/", 9); /* "/000...0" would be /0 if length were not capped */
	assert_int_equal(rpa_prefix_parse(huge, &a, &plen), -EINVAL);
}

static void test_endpoint(void **state)
{
	/* Longest accepted form: 45-char v6 in brackets with a 5-digit port. */
	static const char longest[] = "[0000:0000:0000:0000:0000:ffff:255.255.255.255]:65535";
	struct rpa_endpoint e;
	char buf[RPA_ENDPOINT_STRLEN];

	assert_int_equal(rpa_endpoint_parse("192.0.2.1:4000", &e), 0);
	assert_int_equal(e.addr.family, RPA_AF_INET);
	assert_int_equal(e.addr.v4, htonl(0xc0000201));
	assert_int_equal(e.port, 4000);
	assert_string_equal(rpa_endpoint_format(&e, buf, sizeof(buf)), "192.0.2.1:4000");

	assert_int_equal(rpa_endpoint_parse("203.0.113.255:1", &e), 0);
	assert_int_equal(e.port, 1);
	assert_int_equal(rpa_endpoint_parse("203.0.113.255:65535", &e), 0);
	assert_int_equal(e.port, 65535);

	assert_int_equal(rpa_endpoint_parse("[2001:db8::1]:5004", &e), 0);
	assert_int_equal(e.addr.family, RPA_AF_INET6);
	assert_int_equal(e.port, 5004);
	assert_string_equal(rpa_endpoint_format(&e, buf, sizeof(buf)), "[2001:db8::1]:5004");

	assert_int_equal(rpa_endpoint_parse("[::]:9", &e), 0);
	assert_string_equal(rpa_endpoint_format(&e, buf, sizeof(buf)), "[::]:9");

	assert_int_equal(rpa_endpoint_parse(longest, &e), 0);
	assert_int_equal(e.port, 65535);
	assert_string_equal(rpa_endpoint_format(&e, buf, sizeof(buf)),
			    "[::ffff:255.255.255.255]:65535");
	memset(e.addr.v6, 0xff, 16);
	assert_string_equal(rpa_endpoint_format(&e, buf, sizeof(buf)),
			    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_endpoint_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    ":",
	    ":5",
	    "1.2.3.4",
	    "1.2.3.4:",
	    "1.2.3.4:0",
	    "1.2.3.4:65536",
	    "1.2.3.4:-1",
	    "1.2.3.4:+5",
	    "1.2.3.4: 5",
	    "1.2.3.4:5 ",
	    "1.2.3.4:5x",
	    "1.2.3.4:0x10",
	    "1.2.3.4:99999999999999999999",
	    "1.2.3.256:5",
	    "1.2.3.4:5:6",
	    "2001:db8::1:5",
	    "[2001:db8::1]",
	    "[2001:db8::1]:",
	    "[2001:db8::1]5",
	    "[2001:db8::1]:0",
	    "[2001:db8::1]:65536",
	    "[1.2.3.4]:5",
	    "[]:5",
	    "[:5",
	    "2001:db8::1]:5",
	    "[[2001:db8::1]]:5",
	    "host:5",
	};
	char huge[1024];
	struct rpa_endpoint e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rpa_endpoint_parse(bad[i], &e) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_int_equal(rpa_endpoint_parse(NULL, &e), -EINVAL);
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "192.0.2.1:", 10);
	assert_int_equal(rpa_endpoint_parse(huge, &e), -EINVAL);
	/* One past the length limit, otherwise well formed. */
	assert_int_equal(rpa_endpoint_parse("[0000:0000:0000:0000:0000:ffff:255.255.255.255]:"
					    "0000065535",
					    &e),
			 -EINVAL);
}

static void test_unspec_format(void **state)
{
	struct rpa_addr a;
	struct rpa_endpoint e;
	char buf[RPA_ENDPOINT_STRLEN];

	memset(&a, 0, sizeof(a));
	assert_true(rpa_addr_is_unspec(&a));
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "-");
	memset(&e, 0, sizeof(e));
	e.port = 4000; /* a port without an address is still "not known yet" */
	assert_string_equal(rpa_endpoint_format(&e, buf, sizeof(buf)), "-");
	a.family = 9; /* corrupt family from a peer: printed as unknown, not as garbage */
	assert_string_equal(rpa_addr_format(&a, buf, sizeof(buf)), "-");
}

static void test_addr_eq(void **state)
{
	struct rpa_addr a, b;

	rpa_addr_set_v4(&a, htonl(0xc0000201));
	assert_int_equal(rpa_addr_parse("192.0.2.1", &b), 0);
	assert_true(rpa_addr_eq(&a, &b));
	assert_int_equal(rpa_addr_parse("192.0.2.2", &b), 0);
	assert_false(rpa_addr_eq(&a, &b));
	/* Same bytes, other family. */
	assert_int_equal(rpa_addr_parse("c000:201::", &b), 0);
	assert_false(rpa_addr_eq(&a, &b));
	assert_int_equal(rpa_addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(rpa_addr_parse("2001:db8:0::1", &b), 0);
	assert_true(rpa_addr_eq(&a, &b));
	b.v6[15] = 2;
	assert_false(rpa_addr_eq(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_v4),	 cmocka_unit_test(test_addr_v6),
	    cmocka_unit_test(test_addr_bad),	 cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_prefix_bad),	 cmocka_unit_test(test_endpoint),
	    cmocka_unit_test(test_endpoint_bad), cmocka_unit_test(test_unspec_format),
	    cmocka_unit_test(test_addr_eq),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
