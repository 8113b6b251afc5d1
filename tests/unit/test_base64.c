/* Unit tests for common/base64.c: the RFC 4648 section 10 vectors both ways, optional but
 * exact padding, canonical leftover bits, hostile input, the output bound, and a round
 * trip of every length an SDES key can have. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rtpanchor/base64.h>

static int dec(const char *s, uint8_t *out, size_t cap)
{
	return rpa_base64_decode(s, strlen(s), out, cap);
}

static void test_rfc4648_vectors(void **state)
{
	static const char *const plain[] = {"f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					    "Zm9vYmFy"};
	char buf[16];
	uint8_t out[16];

	(void)state;
	for (unsigned i = 0; i < 6; i++) {
		size_t n = strlen(plain[i]);

		assert_int_equal(rpa_base64_encode((const uint8_t *)plain[i], n, buf),
				 strlen(coded[i]));
		assert_string_equal(buf, coded[i]);
		assert_int_equal(RPA_BASE64_LEN(n), strlen(coded[i]));
		memset(out, 0, sizeof(out));
		assert_int_equal(dec(coded[i], out, sizeof(out)), (int)n);
		assert_memory_equal(out, plain[i], n);
	}
	assert_int_equal(rpa_base64_encode(NULL, 0, buf), 0);
	assert_string_equal(buf, "");
}

static void test_padding_optional_but_exact(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(dec("Zg", out, sizeof(out)), 1);   /* SDES peers often omit it */
	assert_int_equal(dec("Zm8", out, sizeof(out)), 2);
	assert_int_equal(dec("Zg=", out, sizeof(out)), -EINVAL);  /* half the padding */
	assert_int_equal(dec("Zm8==", out, sizeof(out)), -EINVAL); /* too much */
	assert_int_equal(dec("Zm9v=", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Z===", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Zm9vY", out, sizeof(out)), -EINVAL); /* 4k+1 characters */
	assert_int_equal(dec("", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("==", out, sizeof(out)), -EINVAL);
}

static void test_canonical_only(void **state)
{
	uint8_t out[8];

	(void)state;
	/* "Zh" and "Zg" both start with 'f' (0x66); only "Zg" has zero leftover bits. */
	assert_int_equal(dec("Zh==", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Zm9=", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Zm8=", out, sizeof(out)), 2);
}

static void test_hostile(void **state)
{
	static const char *const bad[] = {"Zm9v\n", "Zm 9v", "Zm9-", "Zm9_", "Zm9v\xff", "=Zm9",
					  "Zm=v"};
	uint8_t out[8];

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dec(bad[i], out, sizeof(out)), -EINVAL);
	/* An embedded NUL is a character outside the alphabet, not an end. */
	assert_int_equal(rpa_base64_decode("Zm\0v", 4, out, sizeof(out)), -EINVAL);
}

static void test_output_bound(void **state)
{
	uint8_t out[8] = {0};

	(void)state;
	assert_int_equal(dec("Zm9vYmFy", out, 6), 6);
	assert_int_equal(dec("Zm9vYmFy", out, 5), -E2BIG);
	assert_int_equal(dec("Zm9vYmFy", out, 0), -E2BIG);
}

/* Every key||salt length of the SDES suites (30, 28, 46, 44) and everything around. */
static void test_round_trip(void **state)
{
	uint8_t in[64], out[64];
	char buf[RPA_BASE64_LEN(64) + 1];

	(void)state;
	for (size_t n = 1; n <= sizeof(in); n++) {
		size_t len;

		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 37 + n * 11 + 0x80);
		len = rpa_base64_encode(in, n, buf);
		assert_int_equal(len, RPA_BASE64_LEN(n));
		assert_int_equal(strlen(buf), len);
		assert_int_equal(rpa_base64_decode(buf, len, out, n), (int)n);
		assert_memory_equal(in, out, n);
		/* Without its padding it decodes to the same bytes. */
		while (len > 0 && buf[len - 1] == '=')
			len--;
		assert_int_equal(rpa_base64_decode(buf, len, out, n), (int)n);
		assert_memory_equal(in, out, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_vectors), cmocka_unit_test(test_padding_optional_but_exact),
	    cmocka_unit_test(test_canonical_only),  cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_output_bound),    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
