/* Unit tests for control/flags.c: every word, values, separators, bounds, and the errors
 * (unknown, malformed, conflicting), each naming the word. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "flags.h"

static void test_empty(void **state)
{
	struct flags f;
	char err[160] = "";

	assert_int_equal(flags_parse(NULL, &f, err, sizeof(err)), 0);
	assert_false(f.trust_address);
	assert_int_equal(f.rtcp_mux, FLAGS_MUX_DEFAULT);
	assert_int_equal(flags_parse("  \t ", &f, err, sizeof(err)), 0);
	assert_false(f.has_direction);
	assert_false(f.has_delete_delay);
}

static void test_all_words(void **state)
{
	struct flags f;
	char err[160] = "";

	assert_int_equal(flags_parse("trust-address strict-source symmetric ice-remove "
				     "replace-origin\treplace-session-connection "
				     "direction=priv,pub media-address=203.0.113.7 "
				     "rtcp-mux=require delete-delay=30",
				     &f, err, sizeof(err)),
			 0);
	assert_true(f.trust_address);
	assert_true(f.strict_source);
	assert_true(f.symmetric);
	assert_false(f.asymmetric);
	assert_true(f.ice_remove);
	assert_true(f.replace_origin);
	assert_true(f.replace_session_conn);
	assert_true(f.has_direction);
	assert_string_equal(f.direction[0], "priv");
	assert_string_equal(f.direction[1], "pub");
	assert_true(f.has_media_address);
	assert_int_equal(f.media_address.family, RPA_AF_INET);
	assert_int_equal(f.media_address.v4, htonl(0xcb007107));
	assert_int_equal(f.rtcp_mux, FLAGS_MUX_REQUIRE);
	assert_true(f.has_delete_delay);
	assert_int_equal(f.delete_delay_s, 30);

	assert_int_equal(flags_parse("asymmetric media-address=2001:db8::7 delete-delay=0", &f, err,
				     sizeof(err)),
			 0);
	assert_true(f.asymmetric);
	assert_int_equal(f.media_address.family, RPA_AF_INET6);
	assert_true(f.has_delete_delay);
	assert_int_equal(f.delete_delay_s, 0);
	assert_int_equal(f.transport, SDES_PROFILE_OTHER);
	assert_false(f.sdes_passthrough);
}

/* transport-protocol= and sdes-passthrough (SDES, see call.h). */
static void test_srtp_words(void **state)
{
	static const struct {
		const char *word;
		enum sdes_profile p;
	} t[] = {
	    {"transport-protocol=RTP/AVP", SDES_PROFILE_AVP},
	    {"transport-protocol=RTP/SAVP", SDES_PROFILE_SAVP},
	    {"transport-protocol=RTP/AVPF", SDES_PROFILE_AVPF},
	    {"transport-protocol=RTP/SAVPF", SDES_PROFILE_SAVPF},
	    {"transport-protocol=rtp/savp", SDES_PROFILE_SAVP},
	};
	struct flags f;
	char err[160] = "";

	(void)state;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(flags_parse(t[i].word, &f, err, sizeof(err)), 0);
		assert_int_equal(f.transport, t[i].p);
		assert_false(f.sdes_passthrough);
	}
	assert_int_equal(flags_parse("sdes-passthrough transport-protocol=RTP/SAVPF "
				     "transport-protocol=RTP/SAVPF trust-address",
				     &f, err, sizeof(err)),
			 0);
	assert_true(f.sdes_passthrough);
	assert_int_equal(f.transport, SDES_PROFILE_SAVPF);
	assert_true(f.trust_address);
}

static void test_rtcp_mux_modes(void **state)
{
	static const struct {
		const char *s;
		enum flags_rtcp_mux m;
	} cases[] = {
	    {"rtcp-mux=offer", FLAGS_MUX_OFFER},   {"rtcp-mux=require", FLAGS_MUX_REQUIRE},
	    {"rtcp-mux=demux", FLAGS_MUX_DEMUX},   {"rtcp-mux=accept", FLAGS_MUX_ACCEPT},
	    {"rtcp-mux=reject", FLAGS_MUX_REJECT},
	};
	struct flags f;
	char err[160];
	enum flags_rtcp_mux m;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(flags_parse(cases[i].s, &f, err, sizeof(err)), 0);
		assert_int_equal(f.rtcp_mux, cases[i].m);
		assert_int_equal(flags_rtcp_mux_parse(flags_rtcp_mux_name(cases[i].m), &m), 0);
		assert_int_equal(m, cases[i].m);
	}
	assert_int_equal(flags_parse("rtcp-mux=default", &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'rtcp-mux=default'"));
	assert_int_equal(flags_parse("rtcp-mux=offer rtcp-mux=offer", &f, err, sizeof(err)), 0);
	assert_int_equal(flags_parse("rtcp-mux=offer rtcp-mux=reject", &f, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "conflicting flag 'rtcp-mux=reject'"));
}

static void expect_error(const char *flags, const char *in_msg)
{
	struct flags f;
	char err[160] = "";

	assert_int_equal(flags_parse(flags, &f, err, sizeof(err)), -EINVAL);
	if (strstr(err, in_msg) == NULL)
		fail_msg("flags \"%s\": message \"%s\" lacks \"%s\"", flags, err, in_msg);
}

static void test_errors(void **state)
{
	char big[FLAGS_MAX_LEN + 10];
	char many[40 * 12];
	size_t n = 0;

	expect_error("trust-address bogus-flag", "unknown flag 'bogus-flag'");
	expect_error("TRUST-ADDRESS", "unknown flag 'TRUST-ADDRESS'");
	expect_error("trust-address=1", "unknown flag 'trust-address=1'");
	expect_error("direction=pub", "malformed flag 'direction=pub'");
	expect_error("direction=pub,", "malformed flag 'direction=pub,'");
	expect_error("direction=a,b,c", "malformed");
	expect_error("direction=pub,pr$v", "malformed");
	expect_error("direction=a,b direction=b,a", "conflicting flag 'direction=b,a'");
	expect_error("direction=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,b", "malformed");
	expect_error("media-address=example.com", "malformed flag 'media-address=example.com'");
	expect_error("media-address=", "malformed flag 'media-address='");
	expect_error("media-address=192.0.2.1 media-address=192.0.2.2", "conflicting");
	expect_error("rtcp-mux=maybe", "malformed flag 'rtcp-mux=maybe'");
	expect_error("delete-delay=abc", "malformed flag 'delete-delay=abc'");
	expect_error("delete-delay=-1", "malformed");
	expect_error("delete-delay=86401", "malformed");
	expect_error("delete-delay=99999999999999999999", "malformed");
	expect_error("delete-delay=5 delete-delay=6", "conflicting");
	expect_error("symmetric asymmetric", "'symmetric' and 'asymmetric'");
	expect_error("asymmetric strict-source", "'strict-source' and 'asymmetric'");
	expect_error("ice-remove\nbogus", "unknown flag 'ice-remove?bogus'");
	expect_error("transport-protocol=UDP/TLS/RTP/SAVPF",
		     "malformed flag 'transport-protocol=UDP/TLS/RTP/SAVPF' (want "
		     "transport-protocol=RTP/AVP|RTP/SAVP|RTP/AVPF|RTP/SAVPF)");
	expect_error("transport-protocol=", "malformed flag 'transport-protocol='");
	expect_error("transport-protocol=RTP/SAVP transport-protocol=RTP/AVP",
		     "conflicting flag 'transport-protocol=RTP/AVP'");
	expect_error("SDES-passthrough", "unknown flag 'SDES-passthrough'");
	expect_error("sdes-passthrough=1", "unknown flag 'sdes-passthrough=1'");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_error(big, "flags longer than");
	memset(big, 'x', 200);
	big[200] = '\0';
	expect_error(big, "overlong flag 'xxxx");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "ice-remove ");
	expect_error(many, "more than 32 flags");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),      cmocka_unit_test(test_all_words),
	    cmocka_unit_test(test_srtp_words), cmocka_unit_test(test_rtcp_mux_modes),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
