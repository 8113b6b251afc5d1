/* Unit tests for control/sdp.c: realistic SDPs from common user agents and gateways
 * (tests/unit/sdp/) parsed field by field, and hostile input (truncation at every byte,
 * size, line and media limits, NUL bytes, bad ports and addresses) rejected cleanly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "sdp.h"
#include "sdp_fixture.h"

static struct sdp_session sess;
static char err[SDP_ERRLEN];
static char fix[SDP_MAX_SIZE + 1];

static int parse_str(const char *sdp)
{
	return sdp_parse(sdp, strlen(sdp), &sess, err, sizeof(err));
}

static size_t load(const char *name)
{
	return fixture_load(name, fix, sizeof(fix));
}

static void assert_span(struct sdp_span sp, const char *want)
{
	assert_int_equal(sp.len, strlen(want));
	assert_memory_equal(sdp_span_ptr(&sess, sp), want, sp.len);
}

static void assert_v4(const struct rpa_addr *a, const char *want)
{
	struct rpa_addr w;

	assert_int_equal(rpa_addr_parse(want, &w), 0);
	assert_int_equal(a->family, RPA_AF_INET);
	assert_true(rpa_addr_eq(a, &w));
}

static void assert_v6(const struct rpa_addr *a, const char *want)
{
	struct rpa_addr w;

	assert_int_equal(rpa_addr_parse(want, &w), 0);
	assert_int_equal(a->family, RPA_AF_INET6);
	assert_true(rpa_addr_eq(a, &w));
}

/* Sections tile the SDP from the first m= line to the end, in order. */
static void assert_sections_tile(size_t len)
{
	unsigned i;

	for (i = 0; i < sess.nmedia; i++) {
		const struct sdp_media *m = &sess.media[i];
		uint32_t end = i + 1 < sess.nmedia ? sess.media[i + 1].section.off : (uint32_t)len;

		assert_int_equal(m->section.off, m->line.off);
		assert_int_equal(m->section.off + m->section.len, end);
		assert_memory_equal(sess.buf + m->line.off, "m=", 2);
	}
}

static void test_asterisk(void **state)
{
	size_t n = load("asterisk_offer.sdp");
	const struct sdp_media *m = &sess.media[0];

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_ptr_equal(sess.buf, fix);
	assert_int_equal(sess.len, n);
	assert_span(sess.origin, "o=- 1839471230 1839471230 IN IP4 203.0.113.10");
	assert_span(sess.o_user, "-");
	assert_true(sess.o_sess_id == 1839471230u);
	assert_true(sess.o_version == 1839471230u);
	assert_v4(&sess.o_addr, "203.0.113.10");
	assert_true(sess.conn.present);
	assert_false(sess.conn.hold);
	assert_v4(&sess.conn.addr, "203.0.113.10");
	assert_span(sess.conn.line, "c=IN IP4 203.0.113.10");
	assert_int_equal(sess.dir, SDP_DIR_UNSET);
	assert_false(sess.has_ice);
	assert_int_equal(sess.nmedia, 1);
	assert_span(m->line, "m=audio 14116 RTP/AVP 0 8 9 101");
	assert_span(m->type, "audio");
	assert_span(m->proto, "RTP/AVP");
	assert_span(m->fmts, "0 8 9 101");
	assert_int_equal(m->port, 14116);
	assert_int_equal(m->nports, 1);
	assert_true(m->is_rtp);
	assert_false(m->conn.present);
	assert_false(m->has_rtcp);
	assert_false(m->rtcp_mux);
	assert_int_equal(m->dir, SDP_DIR_SENDRECV);
	assert_false(m->has_ice);
	assert_false(m->has_crypto);
	assert_sections_tile(n);
}

static void test_freeswitch_srtp_video(void **state)
{
	size_t n = load("freeswitch_srtp_video.sdp");

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_span(sess.o_user, "FreeSWITCH");
	assert_true(sess.o_version == 1700000001u);
	assert_int_equal(sess.nmedia, 2);
	assert_span(sess.media[0].proto, "RTP/SAVP");
	assert_true(sess.media[0].is_rtp);
	assert_true(sess.media[0].has_crypto);
	assert_true(sess.media[0].has_rtcp);
	assert_int_equal(sess.media[0].rtcp_port, 22403);
	assert_v4(&sess.media[0].rtcp_addr, "198.51.100.20");
	assert_int_equal(sess.media[0].dir, SDP_DIR_SENDRECV);
	assert_span(sess.media[1].type, "video");
	assert_int_equal(sess.media[1].port, 22404);
	assert_true(sess.media[1].has_crypto);
	assert_true(sess.media[1].has_rtcp);
	assert_int_equal(sess.media[1].rtcp_port, 22405);
	assert_int_equal(sess.media[1].rtcp_addr.family, RPA_AF_NONE);
	assert_sections_tile(n);
}

static void test_polycom(void **state)
{
	size_t n = load("polycom_offer.sdp");

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_int_equal(sess.dir, SDP_DIR_SENDRECV); /* session level */
	assert_int_equal(sess.nmedia, 1);
	assert_int_equal(sess.media[0].dir, SDP_DIR_UNSET);
	assert_int_equal(sess.media[0].port, 2222);
	assert_span(sess.media[0].fmts, "9 102 0 8 18 127");
	assert_v4(&sess.conn.addr, "10.20.30.40");
}

static void test_cisco_cube(void **state)
{
	size_t n = load("cisco_cube_offer.sdp");

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_span(sess.o_user, "CiscoSystemsSIP-GW-UserAgent");
	assert_true(sess.o_sess_id == 4662 && sess.o_version == 8418);
	assert_v4(&sess.conn.addr, "192.0.2.50");
	assert_true(sess.media[0].conn.present);
	assert_v4(&sess.media[0].conn.addr, "192.0.2.51");
	assert_span(sess.media[0].conn.line, "c=IN IP4 192.0.2.51");
}

static void test_cisco_cucm_video(void **state)
{
	size_t n = load("cisco_cucm_video.sdp");

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_int_equal(sess.nmedia, 4);
	assert_int_equal(sess.media[0].port, 24580);
	assert_int_equal(sess.media[1].port, 24582);
	assert_span(sess.media[2].type, "application");
	assert_int_equal(sess.media[2].port, 0);
	assert_true(sess.media[2].is_rtp);
	assert_span(sess.media[3].proto, "UDP/BFCP");
	assert_false(sess.media[3].is_rtp);
	assert_span(sess.media[3].fmts, "*");
	assert_sections_tile(n);
}

static void test_webrtc_chrome(void **state)
{
	size_t n = load("webrtc_chrome_offer.sdp");
	unsigned i;

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_true(sess.o_sess_id == 4611731400430051336ull);
	assert_true(sess.o_version == 2);
	assert_v4(&sess.o_addr, "127.0.0.1");
	assert_false(sess.conn.present);
	assert_false(sess.has_ice);
	assert_int_equal(sess.nmedia, 3);
	for (i = 0; i < 3; i++) {
		const struct sdp_media *m = &sess.media[i];

		assert_int_equal(m->port, 54400);
		assert_true(m->has_ice);
		assert_true(m->conn.present);
		assert_v4(&m->conn.addr, "203.0.113.77");
		assert_false(m->has_crypto);
	}
	assert_span(sess.media[0].proto, "UDP/TLS/RTP/SAVPF");
	assert_true(sess.media[0].is_rtp);
	assert_true(sess.media[0].rtcp_mux);
	assert_true(sess.media[0].has_rtcp);
	assert_int_equal(sess.media[0].rtcp_port, 9);
	assert_v4(&sess.media[0].rtcp_addr, "0.0.0.0");
	assert_int_equal(sess.media[0].dir, SDP_DIR_SENDRECV);
	assert_true(sess.media[1].rtcp_mux);
	assert_span(sess.media[2].proto, "UDP/DTLS/SCTP");
	assert_span(sess.media[2].fmts, "webrtc-datachannel");
	assert_false(sess.media[2].is_rtp);
	assert_false(sess.media[2].rtcp_mux);
	assert_int_equal(sess.media[2].dir, SDP_DIR_UNSET);
	assert_sections_tile(n);
}

static void test_t38_reinvite(void **state)
{
	size_t n = load("t38_reinvite.sdp");

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_int_equal(sess.nmedia, 2);
	assert_int_equal(sess.media[0].port, 0);
	assert_span(sess.media[0].line, "m=audio 0 RTP/AVP 0");
	assert_int_equal(sess.media[0].section.len, strlen("m=audio 0 RTP/AVP 0\r\n"));
	assert_span(sess.media[1].type, "image");
	assert_span(sess.media[1].proto, "udptl");
	assert_span(sess.media[1].fmts, "t38");
	assert_int_equal(sess.media[1].port, 4000);
	assert_false(sess.media[1].is_rtp);
	assert_sections_tile(n);
}

static void test_hold_reinvite(void **state)
{
	size_t n = load("hold_reinvite.sdp"); /* LF line endings */

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_true(sess.conn.present);
	assert_true(sess.conn.hold);
	assert_v4(&sess.conn.addr, "0.0.0.0");
	assert_span(sess.conn.line, "c=IN IP4 0.0.0.0");
	assert_int_equal(sess.media[0].dir, SDP_DIR_SENDONLY);
	assert_true(sess.o_version == 1700001235u);
	assert_span(sess.media[0].line, "m=audio 2222 RTP/AVP 9 0 8 127");
	assert_sections_tile(n);
}

static void test_ipv6(void **state)
{
	size_t n = load("ipv6_offer.sdp");

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_v6(&sess.o_addr, "2001:db8:1::10");
	assert_v6(&sess.conn.addr, "2001:db8:1::10");
	assert_false(sess.conn.hold);
	assert_int_equal(sess.media[0].rtcp_port, 7079);
	assert_v6(&sess.media[0].rtcp_addr, "2001:db8:1::10");
	assert_int_equal(sess.media[0].dir, SDP_DIR_RECVONLY);
}

static void test_rfc8866_example(void **state)
{
	size_t n = load("rfc8866_example.sdp"); /* LF, i= u= e= p= lines, /2 port count */

	assert_int_equal(sdp_parse(fix, n, &sess, err, sizeof(err)), 0);
	assert_int_equal(sess.nmedia, 3);
	assert_int_equal(sess.media[0].nports, 1);
	assert_int_equal(sess.media[2].port, 51372);
	assert_int_equal(sess.media[2].nports, 2);
	assert_v6(&sess.media[2].conn.addr, "2001:db8::2");
	assert_false(sess.media[2].conn.hold);
	assert_sections_tile(n);
}

/* The same SDP with LF, with CRLF, and without its final line ending parses the same. */
static void test_line_endings(void **state)
{
	static const char *lf = "v=0\no=- 1 2 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
				"m=audio 4000 RTP/AVP 0\na=rtcp-mux\na=sendonly\n";
	static const char *crlf = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
				  "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp-mux\r\na=sendonly\r\n";
	const char *v[] = {lf, crlf};
	unsigned i, cut;

	for (i = 0; i < 2; i++)
		for (cut = 0; cut < 3; cut++) {
			size_t n = strlen(v[i]) - (cut == 0 ? 0 : cut == 1 ? 1 : (i == 1 ? 2 : 1));

			assert_int_equal(sdp_parse(v[i], n, &sess, err, sizeof(err)), 0);
			assert_int_equal(sess.media[0].port, 4000);
			assert_true(sess.media[0].rtcp_mux);
			assert_int_equal(sess.media[0].dir, SDP_DIR_SENDONLY);
			assert_int_equal(sess.media[0].section.off + sess.media[0].section.len, n);
		}
	/* Trailing empty lines are padding, not content. */
	assert_int_equal(
	    parse_str("v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n\r\n\r\n"),
	    0);
}

static void test_session_ice_and_misc(void **state)
{
	assert_int_equal(parse_str("v=0\r\no=janus 1 1 IN IP4 gw.example.net\r\ns=-\r\n"
				   "c=IN IP4 224.2.1.1/127/3\r\nt=0 0\r\na=ice-lite\r\n"
				   "a=ice-ufrag:abcd\r\na=INACTIVE\r\n"
				   "m=audio 5000 RTP/AVP 0\r\na=sendrecv \r\na=rtcp:5001\r\n"),
			 0);
	assert_true(sess.has_ice);
	assert_int_equal(sess.o_addr.family, RPA_AF_NONE); /* a host name */
	assert_v4(&sess.conn.addr, "224.2.1.1");
	assert_int_equal(sess.dir, SDP_DIR_INACTIVE);
	assert_false(sess.media[0].has_ice);
	assert_int_equal(sess.media[0].dir, SDP_DIR_SENDRECV);
	assert_int_equal(sess.media[0].rtcp_port, 5001);
	assert_int_equal(parse_str("v=0 \r\no=- 1 1 IN IP4 192.0.2.1 \r\ns=-\r\n"), 0);
	/* The largest 64-bit numbers fit; one more does not. */
	assert_int_equal(parse_str("v=0\r\no=- 18446744073709551615 18446744073709551615 IN IP4 "
				   "192.0.2.1\r\ns=-\r\n"),
			 0);
	assert_true(sess.o_version == UINT64_MAX);
	assert_int_equal(parse_str("v=0\r\no=- 1 18446744073709551616 IN IP4 192.0.2.1\r\ns=-\r\n"),
			 -EINVAL);
	assert_non_null(strstr(err, "18446744073709551616"));
	/* A rejected section needs no c=. */
	assert_int_equal(parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
				   "m=audio 0 RTP/AVP 0\r\n"),
			 0);
	/* "::" is hold as well. */
	assert_int_equal(parse_str("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::\r\n"), 0);
	assert_true(sess.conn.hold);
}

/* An error names its line and the bad value. */
static void expect_error(const char *sdp, int rc, const char *part1, const char *part2)
{
	memset(err, 'X', sizeof(err));
	assert_int_equal(parse_str(sdp), rc);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	if (part1 != NULL && strstr(err, part1) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, part1);
	if (part2 != NULL && strstr(err, part2) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, part2);
}

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

static void test_bad_ports(void **state)
{
	expect_error(HEAD "m=audio 70000 RTP/AVP 0\r\n", -EINVAL, "line 6", "70000");
	expect_error(HEAD "m=audio 65536 RTP/AVP 0\r\n", -EINVAL, "line 6", "65536");
	expect_error(HEAD "m=audio 12a RTP/AVP 0\r\n", -EINVAL, "line 6", "\"12a\"");
	expect_error(HEAD "m=audio -1 RTP/AVP 0\r\n", -EINVAL, "line 6", "-1");
	expect_error(HEAD "m=audio 99999999999999999999999 RTP/AVP 0\r\n", -EINVAL, "line 6", NULL);
	expect_error(HEAD "m=video 4000/0 RTP/AVP 31\r\n", -EINVAL, "line 6", "4000/0");
	expect_error(HEAD "m=video 4000/x RTP/AVP 31\r\n", -EINVAL, "line 6", "4000/x");
	expect_error(HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp:70000\r\n", -EINVAL, "line 7", "70000");
	expect_error(HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp:\r\n", -EINVAL, "line 7", "a=rtcp");
	expect_error(HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4 nowhere\r\n", -EINVAL,
		     "line 7", "nowhere");
	expect_error(HEAD "m=audio \xff\xfe RTP/AVP 0\r\n", -EINVAL, "line 6", "\"??\"");
	assert_int_equal(parse_str(HEAD "m=audio 65535 RTP/AVP 0\r\n"), 0);
	assert_int_equal(sess.media[0].port, 65535);
}

static void test_bad_media_lines(void **state)
{
	expect_error(HEAD "m=audio 4000 RTP/AVP\r\n", -EINVAL, "line 6", "format");
	expect_error(HEAD "m=audio 4000 RTP/AVP \r\n", -EINVAL, "line 6", "format");
	expect_error(HEAD "m=audio 4000\r\n", -EINVAL, "line 6", "protocol");
	expect_error(HEAD "m=audio\r\n", -EINVAL, "line 6", "port");
	expect_error(HEAD "m=\r\n", -EINVAL, "line 6", "empty");
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
		     "m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\nm=video 5000 RTP/AVP 31\r\n"
		     "c=IN IP4 192.0.2.9\r\n",
		     -EINVAL, "line 5", "no c=");
}

static void test_bad_conn(void **state)
{
	static const char *bad[] = {
	    "c=IN IP4 999.1.2.3",
	    "c=IN IP4 host.example.com",
	    "c=IN IP4 2001:db8::1",
	    "c=IN IP6 192.0.2.1",
	    "c=IN IP5 192.0.2.1",
	    "c=ATM NSAP 47.0091",
	    "c=IN IP4",
	    "c=IN",
	    "c=",
	    "c=IN IP4 1.2.3.4 junk",
	    "c=IN IP4 1.2.3.4/",
	    "c=IN IP4 1.2.3.4/12/x",
	    "c=IN IP4 \x01\x02",
	};
	char sdp[256];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(sdp, sizeof(sdp), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n%s\r\n",
			 bad[i]);
		expect_error(sdp, -EINVAL, "line 4", "c=");
	}
	expect_error(HEAD "c=IN IP4 192.0.2.2\r\n", -EINVAL, "line 6", "second c=");
	expect_error(HEAD "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.2\r\nc=IN IP4 192.0.2.3\r\n",
		     -EINVAL, "line 8", "second c=");
}

static void test_bad_structure(void **state)
{
	expect_error("", -EINVAL, "empty", NULL);
	expect_error("\r\n\r\n", -EINVAL, "empty", NULL);
	expect_error("o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", -EINVAL, "line 1", "v=0");
	expect_error("v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", -EINVAL, "line 1", "v=1");
	expect_error("v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n", -EINVAL, "no o=", NULL);
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n", -EINVAL, "no s=", NULL);
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 0\r\n", -EINVAL,
		     "line 3", "s=");
	expect_error(HEAD "v=0\r\n", -EINVAL, "line 6", "v=");
	expect_error(HEAD "o=- 1 1 IN IP4 192.0.2.1\r\n", -EINVAL, "line 6", "o=");
	expect_error(HEAD "m=audio 0 RTP/AVP 0\r\ns=-\r\n", -EINVAL, "line 7", "s=");
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nhello\r\n", -EINVAL, "line 4",
		     "hello");
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nA=x\r\n", -EINVAL, "line 4", NULL);
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n\r\ns=-\r\n", -EINVAL, "line 3", "empty");
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\rc=IN IP4 192.0.2.1\r\n", -EINVAL,
		     "line 3", "CR");
	/* o= fields */
	expect_error("v=0\r\no=- x 1 IN IP4 192.0.2.1\r\ns=-\r\n", -EINVAL, "line 2", "\"x\"");
	expect_error("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n", -EINVAL, "line 2", "address");
	expect_error("v=0\r\no=- 1 1 IN IP4 2001:db8::1\r\ns=-\r\n", -EINVAL, "line 2", "IP4");
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1 extra\r\ns=-\r\n", -EINVAL, "line 2",
		     "extra");
	expect_error("v=0\r\no=\r\ns=-\r\n", -EINVAL, "line 2", "o=");
	/* A malformed line is quoted up to an SDES key, never with it. */
	expect_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nA=crypto:1 X "
		     "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
		     -EINVAL, "line 4: \"A=crypto:1 X ...\"", NULL);
	assert_null(strstr(err, "PS1u"));
}

static void test_nul_bytes(void **state)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
				  "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\0\r\n";

	assert_int_equal(sdp_parse(sdp, sizeof(sdp) - 1, &sess, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_non_null(strstr(err, "line 5"));
	/* A NUL where the first line should be. */
	assert_int_equal(sdp_parse("\0v=0\r\n", 6, &sess, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 1"));
}

/* Appends a line of exactly `len` bytes ("a=xxx...") and CRLF. */
static size_t add_line(char *buf, size_t at, size_t len)
{
	memcpy(buf + at, "a=", 2);
	memset(buf + at + 2, 'x', len - 2);
	memcpy(buf + at + len, "\r\n", 2);
	return at + len + 2;
}

static void test_limits(void **state)
{
	static char big[SDP_MAX_SIZE + 64];
	size_t n, i;

	/* Size: exactly SDP_MAX_SIZE parses, one more byte is -EMSGSIZE. */
	n = strlen(HEAD);
	memcpy(big, HEAD, n);
	while (SDP_MAX_SIZE - n > 1000)
		n = add_line(big, n, 998);
	n = add_line(big, n, SDP_MAX_SIZE - n - 2);
	assert_int_equal(n, SDP_MAX_SIZE);
	assert_int_equal(sdp_parse(big, n, &sess, err, sizeof(err)), 0);
	big[n] = 'x';
	assert_int_equal(sdp_parse(big, n + 1, &sess, err, sizeof(err)), -EMSGSIZE);
	assert_non_null(strstr(err, "65537"));

	/* Line length: SDP_MAX_LINE bytes pass, 5000 do not. */
	n = strlen(HEAD);
	memcpy(big, HEAD, n);
	n = add_line(big, n, SDP_MAX_LINE);
	assert_int_equal(sdp_parse(big, n, &sess, err, sizeof(err)), 0);
	n = add_line(big, strlen(HEAD), 5000);
	assert_int_equal(sdp_parse(big, n, &sess, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "line 6"));
	assert_non_null(strstr(err, "5000"));

	/* Line count. */
	n = strlen(HEAD);
	memcpy(big, HEAD, n);
	for (i = 5; i < SDP_MAX_LINES; i++)
		n = add_line(big, n, 3);
	assert_int_equal(sdp_parse(big, n, &sess, err, sizeof(err)), 0);
	n = add_line(big, n, 3);
	assert_int_equal(sdp_parse(big, n, &sess, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "4096"));

	/* Media sections: 32 parse, the 33rd is -E2BIG naming its line. */
	n = strlen(HEAD);
	memcpy(big, HEAD, n);
	for (i = 0; i < SDP_MAX_MEDIA; i++)
		n += (size_t)sprintf(big + n, "m=audio %zu RTP/AVP 0\r\n", 10000 + 2 * i);
	assert_int_equal(sdp_parse(big, n, &sess, err, sizeof(err)), 0);
	assert_int_equal(sess.nmedia, SDP_MAX_MEDIA);
	assert_int_equal(sess.media[31].port, 10062);
	n += (size_t)sprintf(big + n, "m=audio 20000 RTP/AVP 0\r\n");
	assert_int_equal(sdp_parse(big, n, &sess, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "line 38"));
}

/* Every prefix of every fixture either parses or fails cleanly; each prefix lives in a heap
 * block of its exact size so that AddressSanitizer or valgrind would see a read past it. */
static void test_truncated_everywhere(void **state)
{
	static const char *names[] = {"asterisk_offer.sdp",   "freeswitch_srtp_video.sdp",
				      "polycom_offer.sdp",    "cisco_cube_offer.sdp",
				      "cisco_cucm_video.sdp", "webrtc_chrome_offer.sdp",
				      "t38_reinvite.sdp",     "hold_reinvite.sdp",
				      "ipv6_offer.sdp",	      "rfc8866_example.sdp"};
	unsigned f, ok, bad;
	size_t n, cut;

	for (f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		n = load(names[f]);
		ok = bad = 0;
		for (cut = 0; cut <= n; cut++) {
			char *b = malloc(cut > 0 ? cut : 1);
			int rc;

			assert_non_null(b);
			memcpy(b, fix, cut);
			err[0] = 'X';
			rc = sdp_parse(b, cut, &sess, err, sizeof(err));
			if (rc == 0) {
				ok++;
				assert_true(sess.nmedia <= SDP_MAX_MEDIA);
			} else {
				bad++;
				assert_int_equal(rc, -EINVAL);
				assert_true(err[0] != '\0' && err[0] != 'X');
			}
			free(b);
		}
		/* The whole SDP parses; a cut inside the v= line cannot. */
		assert_true(ok >= 1);
		assert_true(bad >= 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_asterisk),
	    cmocka_unit_test(test_freeswitch_srtp_video),
	    cmocka_unit_test(test_polycom),
	    cmocka_unit_test(test_cisco_cube),
	    cmocka_unit_test(test_cisco_cucm_video),
	    cmocka_unit_test(test_webrtc_chrome),
	    cmocka_unit_test(test_t38_reinvite),
	    cmocka_unit_test(test_hold_reinvite),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_rfc8866_example),
	    cmocka_unit_test(test_line_endings),
	    cmocka_unit_test(test_session_ice_and_misc),
	    cmocka_unit_test(test_bad_ports),
	    cmocka_unit_test(test_bad_media_lines),
	    cmocka_unit_test(test_bad_conn),
	    cmocka_unit_test(test_bad_structure),
	    cmocka_unit_test(test_nul_bytes),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_truncated_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
