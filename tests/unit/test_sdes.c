/* Unit tests for control/sdes.c: the a=crypto syntax of RFC 4568 (with the RFC's own
 * examples), every suite's key length, lifetimes, MKIs, session parameters, hostile lines
 * (bad base64, wrong lengths, unknown suites, overlong and random bytes) with the rule that
 * no message ever quotes a key; generation from an injected random source and from
 * getrandom(2); the dataplane form; the transport-protocol profiles. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdes.h"

/* RFC 4568 section 4's example keys (key||salt of AES_CM_128_HMAC_SHA1_*). */
#define RFC_KEY1 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define RFC_KEY2 "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"
/* Bytes 0, 1, 2... as key||salt for each length. */
#define SEQ30 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
#define SEQ46 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ=="
#define SEQ28 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=="
#define SEQ44 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis="

static const char *const all_keys[] = {RFC_KEY1, RFC_KEY2, SEQ30, SEQ46, SEQ28, SEQ44};

/* No message may contain any 8-character piece of a key used in these tests. */
static void no_key_in(const char *msg)
{
	for (unsigned k = 0; k < sizeof(all_keys) / sizeof(all_keys[0]); k++) {
		size_t n = strlen(all_keys[k]);

		for (size_t i = 0; i + 8 <= n; i++) {
			char piece[9];

			memcpy(piece, all_keys[k] + i, 8);
			piece[8] = '\0';
			if (strstr(msg, piece) != NULL)
				fail_msg("message \"%s\" contains key material \"%s\"", msg, piece);
		}
	}
}

static int parse(const char *v, struct sdes_crypto *c, char *err)
{
	int rc = sdes_parse(v, strlen(v), c, NULL, err, SDES_ERRLEN);

	no_key_in(err);
	return rc;
}

static void good(const char *v, struct sdes_crypto *c)
{
	char err[SDES_ERRLEN];
	int rc = parse(v, c, err);

	if (rc != 0)
		fail_msg("\"%s\" refused: %d %s", v, rc, err);
}

static void refused(const char *v, int want, const char *in_msg)
{
	struct sdes_crypto c, before;
	char err[SDES_ERRLEN];
	int rc;

	memset(&c, 0x5a, sizeof(c));
	before = c;
	rc = parse(v, &c, err);
	if (rc != want)
		fail_msg("\"%s\": got %d (%s), want %d", v, rc, err, want);
	if (strstr(err, in_msg) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", v, err, in_msg);
	assert_memory_equal(&c, &before, sizeof(c)); /* untouched on error */
}

static void test_suites(void **state)
{
	(void)state;
	assert_int_equal(sdes_suite_parse("AES_CM_128_HMAC_SHA1_80", 23),
			 RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(sdes_suite_parse("aead_aes_256_gcm", 16), RPA_DP_SRTP_AEAD_AES_256_GCM);
	assert_int_equal(sdes_suite_parse("AES_CM_128_HMAC_SHA1_8", 22), RPA_DP_SRTP_NONE);
	assert_int_equal(sdes_suite_parse("F8_128_HMAC_SHA1_80", 19), RPA_DP_SRTP_NONE);
	assert_int_equal(sdes_suite_parse("", 0), RPA_DP_SRTP_NONE);
	assert_string_equal(sdes_suite_name(RPA_DP_SRTP_NONE), "none");
	assert_string_equal(sdes_suite_name(RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32),
			    "AES_256_CM_HMAC_SHA1_32");
	assert_string_equal(sdes_suite_name(99), "?");
	/* The offer order: AES_CM_128_HMAC_SHA1_80 first, every suite once. */
	assert_int_equal(sdes_offer_order[0], RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	for (unsigned s = 1; s < RPA_DP_SRTP_SUITE_MAX; s++) {
		unsigned seen = 0;

		for (unsigned k = 0; k < SDES_NSUITES; k++)
			seen += sdes_offer_order[k] == s;
		assert_int_equal(seen, 1);
	}
}

static void test_parse_rfc_examples(void **state)
{
	static const uint8_t key1[30] = {0x3d, 0x2d, 0x6e, 0x40, 0x25, 0x5e, 0x78, 0x21,
					 0x42, 0x6a, 0x75, 0x66, 0x72, 0x39, 0x29, 0x3f,
					 0x2c, 0x23, 0x35, 0x68, 0x5c, 0x60, 0x3d, 0x26,
					 0x5d, 0x7b, 0x71, 0x69, 0x50, 0x51};
	struct sdes_crypto c;

	(void)state;
	/* RFC 4568 section 4: lifetime 2^20 and MKI 1 of 4 bytes. */
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY1 "|2^20|1:4", &c);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.suite, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_memory_equal(c.key, key1, 16);
	assert_memory_equal(c.salt, key1 + 16, 14);
	assert_int_equal(c.mki_len, 4);
	assert_int_equal(c.mki, 1);
	/* Its second line has an MKI of 32 bytes: refused, clearly. */
	refused("2 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY2 "|2^20|1:32", -ENOTSUP,
		"a=crypto tag 2: MKI of 32 bytes: rtpanchor handles MKIs of 1 to 4 bytes");
	/* The usual form without lifetime or MKI, and extra blanks between fields. */
	good("7  AES_CM_128_HMAC_SHA1_32\tinline:" RFC_KEY2, &c);
	assert_int_equal(c.tag, 7);
	assert_int_equal(c.suite, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(c.mki_len, 0);
	assert_int_equal(c.mki, 0);
	good("999999999 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY1, &c);
	assert_int_equal(c.tag, 999999999);
}

static void test_parse_suites_and_lengths(void **state)
{
	static const struct {
		const char *suite, *key;
		unsigned id, klen, slen;
	} t[] = {
	    {"AES_CM_128_HMAC_SHA1_80", SEQ30, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, 16, 14},
	    {"AES_CM_128_HMAC_SHA1_32", SEQ30, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32, 16, 14},
	    {"AES_256_CM_HMAC_SHA1_80", SEQ46, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80, 32, 14},
	    {"AES_256_CM_HMAC_SHA1_32", SEQ46, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32, 32, 14},
	    {"AEAD_AES_128_GCM", SEQ28, RPA_DP_SRTP_AEAD_AES_128_GCM, 16, 12},
	    {"AEAD_AES_256_GCM", SEQ44, RPA_DP_SRTP_AEAD_AES_256_GCM, 32, 12},
	};
	const char *lens[] = {SEQ28, SEQ30, SEQ44, SEQ46};
	char line[256], want[64];
	struct sdes_crypto c;
	uint8_t seq[46];

	(void)state;
	for (unsigned i = 0; i < sizeof(seq); i++)
		seq[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(line, sizeof(line), "3 %s inline:%s", t[i].suite, t[i].key);
		good(line, &c);
		assert_int_equal(c.suite, t[i].id);
		assert_memory_equal(c.key, seq, t[i].klen);
		assert_memory_equal(c.salt, seq + t[i].klen, t[i].slen);
		/* Every other length is refused with both numbers named. */
		for (unsigned k = 0; k < 4; k++) {
			if (strcmp(lens[k], t[i].key) == 0)
				continue;
			snprintf(line, sizeof(line), "3 %s inline:%s", t[i].suite, lens[k]);
			snprintf(want, sizeof(want), "%s needs %u", t[i].suite,
				 t[i].klen + t[i].slen);
			refused(line, -EINVAL, want);
		}
	}
	/* Padding is optional: the same key without its '='. */
	good("1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw", &c);
	assert_memory_equal(c.salt, seq + 16, 12);
	good("1 AES_256_CM_HMAC_SHA1_80 inline:"
	     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ",
	     &c);
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "AAAA", -EINVAL, "is 33 bytes");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 SEQ30 SEQ30, -EINVAL,
		"longer than 48 bytes");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ46 SEQ46, -EINVAL, "key is not base64");
}

static void test_parse_lifetime_and_mki(void **state)
{
	struct sdes_crypto c;

	(void)state;
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^31", &c);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^48", &c);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^0", &c);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|1048576", &c);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|281474976710656", &c);
	assert_int_equal(c.mki_len, 0);
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^49", -EINVAL,
		"lifetime is not 2^0 to 2^48");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^", -EINVAL, "lifetime");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^x", -EINVAL, "lifetime");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|0", -EINVAL,
		"lifetime is not a number from 1 to 2^48");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|281474976710657", -EINVAL, "lifetime");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|-5", -EINVAL, "lifetime");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|", -EINVAL, "lifetime");

	/* MKI alone, with a lifetime, every length up to 4, values at the limits. */
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|255:1", &c);
	assert_int_equal(c.mki_len, 1);
	assert_int_equal(c.mki, 255);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^31|65535:2", &c);
	assert_int_equal(c.mki_len, 2);
	assert_int_equal(c.mki, 65535);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|16777215:3", &c);
	assert_int_equal(c.mki, 16777215);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|4294967295:4", &c);
	assert_int_equal(c.mki, 4294967295u);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|0000000000000000000007:1", &c);
	assert_int_equal(c.mki, 7);
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|256:1", -EINVAL,
		"MKI value is not a number that fits in 1 byte");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|4294967296:4", -EINVAL,
		"fits in 4 bytes");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|1:0", -EINVAL,
		"MKI length is not 1 to 128 bytes");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|1:129", -EINVAL, "MKI length");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|1:5", -ENOTSUP, "MKI of 5 bytes");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|1:128", -ENOTSUP, "MKI of 128 bytes");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|x:1", -EINVAL, "MKI value");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|:1", -EINVAL, "MKI value");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|1:", -EINVAL, "MKI length");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|1:4|2^20", -EINVAL,
		"MKI before the lifetime");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^20|2^20", -EINVAL, "two lifetimes");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "|2^20|1:4|x", -EINVAL,
		"more than key, lifetime and MKI");
}

static void test_parse_session_params(void **state)
{
	struct sdes_crypto c;

	(void)state;
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " KDR=0 WSH=128 FEC_ORDER=FEC_SRTP", &c);
	good("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " FEC_ORDER=SRTP_FEC -X-VENDOR=1 -Y", &c);
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " UNENCRYPTED_SRTP", -ENOTSUP,
		"session parameter UNENCRYPTED_SRTP is not supported");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " UNENCRYPTED_SRTCP", -ENOTSUP,
		"UNENCRYPTED_SRTCP");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " UNAUTHENTICATED_SRTP", -ENOTSUP,
		"UNAUTHENTICATED_SRTP");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " KDR=3", -ENOTSUP,
		"KDR=3 (key derivation rate) is not supported");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " KDR=25", -EINVAL, "KDR is not");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " WSH=10", -EINVAL, "WSH");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " FEC_ORDER=BOTH", -EINVAL, "FEC_ORDER");
	/* FEC_KEY carries a key: refused without quoting it. */
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " FEC_KEY=inline:" RFC_KEY2, -ENOTSUP,
		"FEC_KEY (a second key)");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " BOGUS=" RFC_KEY1, -ENOTSUP,
		"session parameter 'BOGUS' is not supported");
}

static void test_parse_hostile(void **state)
{
	char line[2048];
	struct sdes_crypto c;
	char err[SDES_ERRLEN];
	unsigned suite = 99;

	(void)state;
	refused("", -EINVAL, "a=crypto: tag is not 1 to 9 digits");
	refused("x AES_CM_128_HMAC_SHA1_80 inline:" SEQ30, -EINVAL, "tag is not");
	refused("1234567890 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30, -EINVAL, "tag is not");
	refused("-1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30, -EINVAL, "tag is not");
	refused("1", -EINVAL, "a=crypto tag 1: no crypto suite");
	refused("1 AES_CM_128_HMAC_SHA1_80", -EINVAL, "no key parameter");
	refused("1 F8_128_HMAC_SHA1_80 inline:" SEQ30, -ENOTSUP,
		"unknown crypto suite 'F8_128_HMAC_SHA1_80'");
	refused("1 AES_192_CM_HMAC_SHA1_80 inline:" SEQ30, -ENOTSUP, "unknown crypto suite");
	/* A key where a name belongs (hostile spacing) is never quoted. */
	refused("1 " RFC_KEY1 " inline:" SEQ30, -ENOTSUP, "unknown crypto suite (not a name)");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " " RFC_KEY2, -ENOTSUP,
		"session parameter (not a name) is not supported");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQ CVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		-EINVAL, "key is not base64");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:!!!!" SEQ30, -EINVAL, "key is not base64");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY1 "-", -EINVAL, "key is not base64");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:A", -EINVAL, "key is not base64");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:", -EINVAL, "key is not base64");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=A",
		-EINVAL, "key is not base64");
	/* Bits after the last byte must be zero (a canonical encoding). */
	refused("1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx==", -EINVAL,
		"key is not base64");
	refused("1 AES_CM_128_HMAC_SHA1_80 key:" SEQ30, -ENOTSUP, "key method is not 'inline'");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY1 ";inline:" RFC_KEY2, -ENOTSUP,
		"several keys in one a=crypto line are not supported");
	refused("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY1 "|2^20|1:4;inline:" RFC_KEY2
		"|2^20|2:4",
		-ENOTSUP, "several keys");

	/* Long lines: the key field or trailing parameters past the limit. */
	memset(line, 0, sizeof(line));
	snprintf(line, sizeof(line), "1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 " ");
	for (size_t n = strlen(line); n < 1030; n++)
		line[n] = '-';
	refused(line, -EINVAL, "attribute of 1030 bytes, longer than 1024");
	line[1024] = '\0';
	good(line, &c); /* one long optional parameter, 1024 bytes in all */
	memset(line, 'A', 1500);
	memcpy(line, "1 AES_CM_128_HMAC_SHA1_80 inline:", 33);
	line[1000] = '\0';
	refused(line, -EINVAL, "longer than 48 bytes");

	/* NUL inside the value. */
	assert_int_equal(sdes_parse("1 AES\0CM", 8, &c, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL byte"));

	/* The suite is reported even when the line is refused (passthrough shows it). */
	assert_int_equal(
	    sdes_parse("5 AEAD_AES_256_GCM inline:bad", 29, &c, &suite, err, sizeof(err)), -EINVAL);
	assert_int_equal(suite, RPA_DP_SRTP_AEAD_AES_256_GCM);
	assert_int_equal(sdes_parse("5 NULL_SUITE inline:x", 21, &c, &suite, err, sizeof(err)),
			 -ENOTSUP);
	assert_int_equal(suite, RPA_DP_SRTP_NONE);
	/* Errors fit small buffers and errlen 0. */
	assert_int_equal(sdes_parse("x", 1, &c, NULL, err, 4), -EINVAL);
	assert_int_equal(strlen(err), 3);
	assert_int_equal(sdes_parse("x", 1, &c, NULL, NULL, 0), -EINVAL);

	/* Random bytes, and random mutations of a good line: never a crash, a message that
	 * quotes no key, and success only with a whole key. */
	srand(4568);
	for (unsigned round = 0; round < 20000; round++) {
		size_t n;

		if (round % 2 == 0) {
			n = (size_t)rand() % 200;
			for (size_t i = 0; i < n; i++)
				line[i] = (char)(rand() % 256);
		} else {
			n = (size_t)snprintf(line, sizeof(line),
					     "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY1
					     "|2^20|1:4 KDR=0");
			for (int k = rand() % 4; k >= 0; k--)
				line[(size_t)rand() % n] = "0123456789|:;^ =+/A\t-x"[rand() % 22];
		}
		err[0] = '\0';
		if (sdes_parse(line, n, &c, NULL, err, sizeof(err)) == 0)
			assert_true(c.suite != RPA_DP_SRTP_NONE);
		else
			assert_true(err[0] != '\0');
		assert_true(strlen(err) < sizeof(err));
		no_key_in(err);
	}
}

/* Deterministic "random" bytes: 0, 1, 2... from *arg on. */
static int seq_random(void *buf, size_t len, void *arg)
{
	uint8_t *p = buf, *next = arg;

	for (size_t i = 0; i < len; i++)
		p[i] = (*next)++;
	return 0;
}

static int no_random(void *buf, size_t len, void *arg)
{
	(void)buf;
	(void)len;
	(void)arg;
	return -ENOSYS;
}

static void test_generate_and_format(void **state)
{
	static const struct {
		unsigned suite;
		const char *line;
	} t[] = {
	    {RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80,
	     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" SEQ30 "\r\n"},
	    {RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32,
	     "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" SEQ30 "\r\n"},
	    {RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80,
	     "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" SEQ46 "\r\n"},
	    {RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32,
	     "a=crypto:1 AES_256_CM_HMAC_SHA1_32 inline:" SEQ46 "\r\n"},
	    {RPA_DP_SRTP_AEAD_AES_128_GCM, "a=crypto:1 AEAD_AES_128_GCM inline:" SEQ28 "\r\n"},
	    {RPA_DP_SRTP_AEAD_AES_256_GCM, "a=crypto:1 AEAD_AES_256_GCM inline:" SEQ44 "\r\n"},
	};
	struct sdes_crypto c, back;
	char buf[SDES_LINE_MAX], err[SDES_ERRLEN];
	size_t n;

	(void)state;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t next = 0;

		assert_int_equal(sdes_generate(&c, 1, t[i].suite, seq_random, &next), 0);
		assert_int_equal(next, rpa_dp_srtp_key_len(t[i].suite) +
					   rpa_dp_srtp_salt_len(t[i].suite));
		n = sdes_format(&c, buf, sizeof(buf));
		assert_int_equal(n, strlen(t[i].line));
		assert_string_equal(buf, t[i].line);
		/* And back: the same key, without the "a=crypto:" and CRLF. */
		assert_int_equal(sdes_parse(buf + 9, n - 11, &back, NULL, err, sizeof(err)), 0);
		assert_true(sdes_same_key(&c, &back));
		assert_int_equal(back.tag, 1);
	}
	/* An MKI is written as value:length. */
	c.tag = 42;
	c.mki = 258;
	c.mki_len = 2;
	n = sdes_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "a=crypto:42 AEAD_AES_256_GCM inline:" SEQ44 "|258:2\r\n");
	assert_int_equal(sdes_parse(buf + 9, n - 11, &back, NULL, err, sizeof(err)), 0);
	assert_true(sdes_same_key(&c, &back));
	back.mki = 3;
	assert_false(sdes_same_key(&c, &back));
	/* Too small a buffer: nothing, and nothing of the key left in it. */
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(sdes_format(&c, buf, 40), 0);
	assert_string_equal(buf, "");
	for (unsigned i = 1; i < 40; i++)
		assert_int_equal(buf[i], 0);
	/* A failing random source fails generation; an unknown suite is refused. */
	assert_int_equal(sdes_generate(&c, 1, RPA_DP_SRTP_AEAD_AES_128_GCM, no_random, NULL),
			 -ENOSYS);
	assert_int_equal(sdes_generate(&c, 1, RPA_DP_SRTP_NONE, NULL, NULL), -EINVAL);
}

static void test_getrandom(void **state)
{
	struct sdes_crypto a, b;
	uint8_t zero[32] = {0};

	(void)state;
	assert_int_equal(sdes_generate(&a, 1, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80, NULL, NULL), 0);
	assert_int_equal(sdes_generate(&b, 1, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80, NULL, NULL), 0);
	/* 368 random bits each: equal or zero only if getrandom did nothing. */
	assert_false(sdes_same_key(&a, &b));
	assert_memory_not_equal(a.key, zero, 32);
	assert_int_equal(sdes_getrandom(zero, sizeof(zero), NULL), 0);
}

static void test_key_codec_and_dp(void **state)
{
	struct sdes_crypto c;
	struct rpa_dp_srtp dp;
	char b[SDES_KEY_B64 + 1];
	uint8_t next = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.suite = RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32;
	assert_int_equal(sdes_key_decode(&c, SEQ46, strlen(SEQ46)), 0);
	assert_int_equal(sdes_key_encode(&c, b, sizeof(b)), strlen(SEQ46));
	assert_string_equal(b, SEQ46);
	assert_int_equal(sdes_key_encode(&c, b, SDES_KEY_B64), 0); /* too small */
	assert_int_equal(sdes_key_decode(&c, SEQ30, strlen(SEQ30)), -EINVAL);
	assert_int_equal(c.key[31], 31); /* unchanged */
	c.suite = RPA_DP_SRTP_NONE;
	assert_int_equal(sdes_key_decode(&c, SEQ30, strlen(SEQ30)), -EINVAL);

	/* The dataplane form: lengths from the suite, MKI big-endian. */
	assert_int_equal(sdes_generate(&c, 9, RPA_DP_SRTP_AEAD_AES_128_GCM, seq_random, &next), 0);
	c.mki = 0x01020304;
	c.mki_len = 3;
	sdes_to_dp(&c, &dp);
	assert_int_equal(dp.suite, RPA_DP_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(dp.key_len, 16);
	assert_int_equal(dp.salt_len, 12);
	assert_int_equal(dp.mki_len, 3);
	assert_int_equal(dp.mki[0], 0x02);
	assert_int_equal(dp.mki[1], 0x03);
	assert_int_equal(dp.mki[2], 0x04);
	assert_int_equal(dp.mki[3], 0);
	assert_memory_equal(dp.key, c.key, 16);
	assert_int_equal(dp.key[16], 0);
	assert_memory_equal(dp.salt, c.salt, 12);
	assert_int_equal(dp.salt[12], 0);
	sdes_to_dp(NULL, &dp);
	assert_int_equal(dp.suite, RPA_DP_SRTP_NONE);
	assert_int_equal(dp.key_len, 0);
	sdes_wipe(&c, sizeof(c));
	assert_int_equal(c.suite, 0);
	assert_int_equal(c.key[0], 0);
}

static void test_profiles(void **state)
{
	(void)state;
	assert_int_equal(sdes_profile_parse("RTP/AVP", 7), SDES_PROFILE_AVP);
	assert_int_equal(sdes_profile_parse("RTP/SAVP", 8), SDES_PROFILE_SAVP);
	assert_int_equal(sdes_profile_parse("rtp/avpf", 8), SDES_PROFILE_AVPF);
	assert_int_equal(sdes_profile_parse("RTP/SAVPF", 9), SDES_PROFILE_SAVPF);
	assert_int_equal(sdes_profile_parse("UDP/TLS/RTP/SAVPF", 17), SDES_PROFILE_OTHER);
	assert_int_equal(sdes_profile_parse("RTP/SAVP", 7), SDES_PROFILE_OTHER);
	assert_int_equal(sdes_profile_parse("udptl", 5), SDES_PROFILE_OTHER);
	assert_string_equal(sdes_profile_name(SDES_PROFILE_SAVPF), "RTP/SAVPF");
	assert_string_equal(sdes_profile_name(SDES_PROFILE_OTHER), "-");
	assert_true(sdes_profile_srtp(SDES_PROFILE_SAVP));
	assert_true(sdes_profile_srtp(SDES_PROFILE_SAVPF));
	assert_false(sdes_profile_srtp(SDES_PROFILE_AVPF));
	assert_false(sdes_profile_srtp(SDES_PROFILE_OTHER));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suites),
	    cmocka_unit_test(test_parse_rfc_examples),
	    cmocka_unit_test(test_parse_suites_and_lengths),
	    cmocka_unit_test(test_parse_lifetime_and_mki),
	    cmocka_unit_test(test_parse_session_params),
	    cmocka_unit_test(test_parse_hostile),
	    cmocka_unit_test(test_generate_and_format),
	    cmocka_unit_test(test_getrandom),
	    cmocka_unit_test(test_key_codec_and_dp),
	    cmocka_unit_test(test_profiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
