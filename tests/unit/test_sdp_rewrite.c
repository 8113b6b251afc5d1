/* Unit tests for control/sdp_rewrite.c: realistic SDPs (tests/unit/sdp/) rewritten toward
 * the relay and compared with the exact expected text, then parsed again. Covers byte for
 * byte copying, CRLF output, ICE/RTCP/crypto drops, a=rtcp and a=rtcp-mux, hold, rejected
 * sections, the session/media c= rules, o=, extra lines, proto, and -ENOSPC. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"
#include "sdp_fixture.h"

#define OUTCAP (2 * SDP_MAX_SIZE)

static struct sdp_session sess, again;
static struct sdp_edit ed;
static char err[SDP_ERRLEN];
static char fix[SDP_MAX_SIZE + 1];
static size_t fix_len;
static char out[OUTCAP + 1];
static size_t out_len;
static char want[OUTCAP];

static struct rpa_addr addr_of(const char *s)
{
	struct rpa_addr a;

	if (rpa_addr_parse(s, &a) < 0)
		fail_msg("bad test address %s", s);
	return a;
}

/* Parses a fixture (or a literal SDP) into sess and starts an edit that changes nothing:
 * same ports, every address kept, same o= version. */
static void start(const char *sdp, size_t len)
{
	unsigned i;

	assert_int_equal(sdp_parse(sdp, len, &sess, err, sizeof(err)), 0);
	memset(&ed, 0, sizeof(ed));
	ed.o_version = sess.o_version;
	ed.nmedia = sess.nmedia;
	for (i = 0; i < sess.nmedia; i++) {
		ed.media[i].port = sess.media[i].port;
		ed.media[i].keep_addr = true;
	}
}

static void start_fixture(const char *name)
{
	fix_len = fixture_load(name, fix, sizeof(fix));
	start(fix, fix_len);
}

static void start_str(const char *sdp)
{
	fix_len = strlen(sdp);
	memcpy(fix, sdp, fix_len);
	start(fix, fix_len);
}

/* Rewrites into out (NUL-terminated for strstr), checks CRLF-only line endings, and
 * parses the result into `again`. */
static void rewrite_ok(void)
{
	size_t i;
	int rc;

	rc = sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err));
	if (rc != 0)
		fail_msg("sdp_rewrite: %d %s", rc, err);
	out[out_len] = '\0';
	assert_true(out_len >= 2 && memcmp(out + out_len - 2, "\r\n", 2) == 0);
	for (i = 0; i < out_len; i++) {
		if (out[i] == '\n')
			assert_true(i > 0 && out[i - 1] == '\r');
		if (out[i] == '\r')
			assert_true(i + 1 < out_len && out[i + 1] == '\n');
	}
	rc = sdp_parse(out, out_len, &again, err, sizeof(err));
	if (rc != 0)
		fail_msg("rewritten SDP does not parse: %s\n%s", err, out);
	assert_int_equal(again.nmedia, sess.nmedia);
}

/* want := fix with LF endings made CRLF, then each (from, to) pair replaced once. */
static void expect_edits(unsigned n, const char *const *pairs)
{
	size_t i, w = 0;
	unsigned k;

	for (i = 0; i < fix_len; i++) {
		if (fix[i] == '\n' && (i == 0 || fix[i - 1] != '\r'))
			want[w++] = '\r';
		want[w++] = fix[i];
	}
	want[w] = '\0';
	for (k = 0; k < n; k++) {
		const char *from = pairs[2 * k], *to = pairs[2 * k + 1];
		char *at = strstr(want, from);
		size_t fl = strlen(from), tl = strlen(to);

		if (at == NULL)
			fail_msg("test bug: \"%s\" not in the fixture", from);
		memmove(at + tl, at + fl, strlen(at + fl) + 1);
		memcpy(at, to, tl);
	}
}

static void assert_out_is_want(void)
{
	if (strcmp(out, want) != 0)
		fail_msg("rewritten SDP differs.\n--- got:\n%s--- want:\n%s", out, want);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* The edit that changes nothing reproduces every CRLF fixture byte for byte, and an LF
 * fixture with only CR added. */
static void test_identity(void **state)
{
	static const char *names[] = {
	    "asterisk_offer.sdp",   "freeswitch_srtp_video.sdp", "polycom_offer.sdp",
	    "cisco_cube_offer.sdp", "cisco_cucm_video.sdp",	 "webrtc_chrome_offer.sdp",
	    "t38_reinvite.sdp",	    "hold_reinvite.sdp",	 "ipv6_offer.sdp"};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		start_fixture(names[i]);
		rewrite_ok();
		expect_edits(0, NULL);
		assert_out_is_want();
	}
}

static void relay_media(unsigned i, uint16_t port, const char *addr)
{
	ed.media[i].port = port;
	ed.media[i].keep_addr = false;
	ed.media[i].addr = addr_of(addr);
}

static void test_asterisk_to_relay(void **state)
{
	static const char *const edits[] = {
	    "o=- 1839471230 1839471230 IN",
	    "o=- 1839471230 1839471231 IN",
	    "c=IN IP4 203.0.113.10\r\nt=",
	    "c=IN IP4 192.0.2.1\r\nt=",
	    "m=audio 14116 ",
	    "m=audio 30000 ",
	    "a=sendrecv\r\n",
	    "a=sendrecv\r\na=rtcp:30001\r\na=rtcp-mux\r\n",
	};

	start_fixture("asterisk_offer.sdp");
	ed.o_version = sess.o_version + 1;
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	ed.media[0].rtcp_port = 30001;
	ed.media[0].rtcp_mux = true;
	rewrite_ok();
	expect_edits(4, edits);
	assert_out_is_want();
	assert_true(again.o_version == 1839471231u);
	assert_int_equal(again.media[0].port, 30000);
	assert_int_equal(again.media[0].rtcp_port, 30001);
	assert_true(again.media[0].rtcp_mux);
	assert_int_equal(again.conn.addr.v4, addr_of("192.0.2.1").v4);
	assert_false(again.media[0].conn.present);

	/* replace-origin */
	ed.replace_origin = true;
	ed.origin_addr = addr_of("192.0.2.1");
	rewrite_ok();
	assert_non_null(strstr(out, "\r\no=- 1839471230 1839471231 IN IP4 192.0.2.1\r\n"));
	assert_int_equal(again.o_addr.v4, addr_of("192.0.2.1").v4);
	ed.origin_addr = addr_of("2001:db8::1");
	rewrite_ok();
	assert_non_null(strstr(out, "\r\no=- 1839471230 1839471231 IN IP6 2001:db8::1\r\n"));
}

/* A relay address other than the session's: the section gets its own c= right after m=. */
static void test_media_conn_inserted(void **state)
{
	static const char *const edits[] = {
	    "c=IN IP4 203.0.113.10\r\nt=",
	    "c=IN IP4 192.0.2.1\r\nt=",
	    "m=audio 14116 RTP/AVP 0 8 9 101\r\n",
	    "m=audio 30000 RTP/AVP 0 8 9 101\r\nc=IN IP4 198.51.100.1\r\n",
	};

	start_fixture("asterisk_offer.sdp");
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "198.51.100.1");
	rewrite_ok();
	expect_edits(2, edits);
	assert_out_is_want();
	assert_int_equal(again.media[0].conn.addr.v4, addr_of("198.51.100.1").v4);

	/* After i= lines, before b= (RFC 8866 field order); also when m= is the last line. */
	start_str("v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
		  "m=audio 4000 RTP/AVP 0\r\ni=main\r\nb=AS:64\r\na=ptime:20\r\n"
		  "m=video 4002 RTP/AVP 31");
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "198.51.100.1");
	relay_media(1, 30002, "198.51.100.1");
	rewrite_ok();
	assert_string_equal(out, "v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 "
				 "192.0.2.1\r\nt=0 0\r\n"
				 "m=audio 30000 RTP/AVP 0\r\ni=main\r\nc=IN IP4 198.51.100.1\r\n"
				 "b=AS:64\r\na=ptime:20\r\n"
				 "m=video 30002 RTP/AVP 31\r\nc=IN IP4 198.51.100.1\r\n");
}

/* Session c= vs media c= (the rules in sdp.h). */
static void test_conn_rules(void **state)
{
	static const char *const own_only[] = {
	    "m=audio 16384 ",
	    "m=audio 30000 ",
	    "c=IN IP4 192.0.2.51",
	    "c=IN IP4 192.0.2.1",
	};
	static const char *const both[] = {
	    "c=IN IP4 192.0.2.50", "c=IN IP4 192.0.2.1",  "m=audio 16384 ",
	    "m=audio 30000 ",	   "c=IN IP4 192.0.2.51", "c=IN IP4 192.0.2.1",
	};

	/* CUBE: every live section has its own c=, so the session c= stays... */
	start_fixture("cisco_cube_offer.sdp");
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	rewrite_ok();
	expect_edits(2, own_only);
	assert_out_is_want();
	/* ...unless replace-session-connection asks for it. */
	ed.replace_session_conn = true;
	rewrite_ok();
	expect_edits(3, both);
	assert_out_is_want();

	/* WebRTC: no session c= to replace, none is added. */
	start_fixture("webrtc_chrome_offer.sdp");
	ed.replace_session_conn = true;
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	relay_media(1, 30002, "192.0.2.1");
	relay_media(2, 30004, "192.0.2.1");
	rewrite_ok();
	assert_false(again.conn.present);
	assert_int_equal(count(out, "c=IN IP4 192.0.2.1\r\n"), 3);
	assert_int_equal(count(out, "\nc="), 3);

	/* RFC 8866 example: two sections inherit, the IPv6 video has its own c=; the relay
	 * is IPv6 on the video side. The "/2" port count is not carried over. */
	start_fixture("rfc8866_example.sdp");
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	relay_media(1, 30002, "192.0.2.1");
	relay_media(2, 30004, "2001:db8::100");
	rewrite_ok();
	{
		static const char *const edits[] = {
		    "c=IN IP4 198.51.100.1",  "c=IN IP4 192.0.2.1", "m=audio 49170 ",
		    "m=audio 30000 ",	      "m=audio 49180 ",	    "m=audio 30002 ",
		    "m=video 51372/2 ",	      "m=video 30004 ",	    "c=IN IP6 2001:db8::2",
		    "c=IN IP6 2001:db8::100",
		};

		expect_edits(5, edits);
		assert_out_is_want();
	}
	assert_int_equal(again.media[2].nports, 1);
	assert_int_equal(again.media[2].conn.addr.family, RPA_AF_INET6);

	/* The session c= must change but the edit gives no address for it. */
	start_fixture("asterisk_offer.sdp");
	relay_media(0, 30000, "192.0.2.1");
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "session"));
}

static void test_hold(void **state)
{
	static const char *const edits[] = {"m=audio 2222 ", "m=audio 30000 "};

	/* c=0.0.0.0 + a=sendonly, kept as it is: only the port changes; LF becomes CRLF. */
	start_fixture("hold_reinvite.sdp");
	ed.media[0].port = 30000;
	ed.session_addr = addr_of("192.0.2.1");
	rewrite_ok();
	expect_edits(1, edits);
	assert_out_is_want();
	assert_true(again.conn.hold);
	assert_int_equal(again.media[0].dir, SDP_DIR_SENDONLY);

	/* One section on hold, one not: the session c= goes to the relay for the live one,
	 * and the held one keeps 0.0.0.0 through a c= of its own. */
	start_str("v=0\r\no=- 1 2 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
		  "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\nm=video 4002 RTP/AVP 31\r\n"
		  "a=sendrecv\r\n");
	ed.session_addr = addr_of("192.0.2.1");
	ed.media[0].port = 30000;
	relay_media(1, 30002, "192.0.2.1");
	rewrite_ok();
	assert_string_equal(out, "v=0\r\no=- 1 2 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 "
				 "192.0.2.1\r\nt=0 0\r\n"
				 "m=audio 30000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"
				 "m=video 30002 RTP/AVP 31\r\na=sendrecv\r\n");
	assert_true(again.media[0].conn.hold);
	assert_false(again.conn.hold);
}

static void test_rejected(void **state)
{
	static const char *const t38[] = {
	    "o=- 1839471230 1839471232 ",
	    "o=- 1839471230 1839471233 ",
	    "c=IN IP4 203.0.113.10\r\nt=",
	    "c=IN IP4 192.0.2.1\r\nt=",
	    "m=image 4000 ",
	    "m=image 30002 ",
	};

	/* T.38 re-INVITE: the rejected audio stays "m=audio 0" whatever the edit says; the
	 * udptl section goes to the relay with its T.38 attributes intact. */
	start_fixture("t38_reinvite.sdp");
	ed.o_version = sess.o_version + 1;
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	ed.media[0].rtcp_port = 30001;
	ed.media[0].extra = "a=sendrecv\r\n";
	relay_media(1, 30002, "192.0.2.1");
	rewrite_ok();
	expect_edits(3, t38);
	assert_out_is_want();
	assert_int_equal(again.media[0].port, 0);
	assert_int_equal(again.media[1].port, 30002);
	assert_false(again.media[1].is_rtp);

	/* Rejected now: port 0, drops applied, nothing added, the rest copied. */
	start_fixture("cisco_cucm_video.sdp");
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	relay_media(1, 0, "192.0.2.1");
	ed.media[1].rtcp_port = 30003;
	ed.media[1].rtcp_mux = true;
	ed.media[1].extra = "a=x-extra\r\n";
	relay_media(3, 30004, "192.0.2.1");
	ed.media[2].port = 30010; /* rejected in the input: stays rejected */
	rewrite_ok();
	assert_non_null(strstr(out, "\r\nm=video 0 RTP/AVP 126 97\r\nb=TIAS:6000000\r\n"));
	assert_non_null(strstr(out, "\r\nm=application 0 RTP/AVP 96\r\na=rtpmap:96 H224/4800\r\n"
				    "m=application 30004 UDP/BFCP *\r\n"));
	assert_int_equal(count(out, "a=rtcp:"), 0);
	assert_int_equal(count(out, "a=rtcp-mux"), 0);
	assert_int_equal(count(out, "a=x-extra"), 0);
	assert_int_equal(again.media[1].port, 0);
	assert_int_equal(again.media[2].port, 0);
	assert_int_equal(again.media[3].port, 30004);
}

/* Untouched lines of a big WebRTC offer are copied in order; ICE goes; a=rtcp is replaced
 * where it stood; rtcp-mux is kept, written once, or dropped; proto is replaced. */
static void test_webrtc_ice_remove(void **state)
{
	const char *p, *q;
	unsigned i;

	start_fixture("webrtc_chrome_offer.sdp");
	ed.o_version = 3;
	ed.session_drop = SDP_DROP_ICE;
	for (i = 0; i < 3; i++) {
		relay_media(i, (uint16_t)(30000 + 2 * i), "192.0.2.1");
		ed.media[i].drop = SDP_DROP_ICE;
	}
	ed.media[0].rtcp_port = 30001;
	ed.media[0].rtcp_mux = true;
	ed.media[0].proto = "RTP/SAVPF";
	ed.media[1].drop |= SDP_DROP_RTCP | SDP_DROP_RTCP_MUX;
	rewrite_ok();

	assert_int_equal(count(out, "a=candidate"), 0);
	assert_int_equal(count(out, "a=ice-"), 0);
	assert_int_equal(count(out, "a=end-of-candidates"), 0);
	assert_int_equal(count(out, "a=rtcp-mux\r\n"), 1);
	assert_int_equal(count(out, "a=rtcp:"), 1);
	assert_non_null(strstr(out, "m=audio 30000 RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
				    "c=IN IP4 192.0.2.1\r\na=rtcp:30001\r\na=fingerprint:"));
	assert_non_null(strstr(out, "m=video 30002 UDP/TLS/RTP/SAVPF 96 97 102 103\r\n"
				    "c=IN IP4 192.0.2.1\r\na=fingerprint:"));
	assert_non_null(strstr(out, "m=application 30004 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
	assert_non_null(strstr(out, "\r\no=- 4611731400430051336 3 IN IP4 127.0.0.1\r\n"));
	for (i = 0; i < 3; i++)
		assert_false(again.media[i].has_ice);
	assert_true(again.media[0].rtcp_mux);
	assert_false(again.media[1].rtcp_mux);
	assert_false(again.media[1].has_rtcp);
	assert_true(again.media[2].port == 30004);
	assert_int_equal(again.media[0].proto.len, strlen("RTP/SAVPF"));

	/* Every input line that is not m=, c=, o=, ICE, a=rtcp or a=rtcp-mux appears in the
	 * output unchanged and in the same order. */
	p = fix;
	q = out;
	while (p < fix + fix_len) {
		const char *e = strstr(p, "\r\n");
		char buf[512], *line = buf + 1;
		size_t n = (size_t)(e - p);

		assert_true(n + 4 < sizeof(buf));
		buf[0] = '\n';
		memcpy(line, p, n);
		memcpy(line + n, "\r\n", 3);
		p = e + 2;
		if (strchr("moc", line[0]) != NULL || strncmp(line, "a=candidate", 11) == 0 ||
		    strncmp(line, "a=ice-", 6) == 0 || strncmp(line, "a=end-of-", 9) == 0 ||
		    strncmp(line, "a=rtcp:", 7) == 0 || strcmp(line, "a=rtcp-mux\r\n") == 0)
			continue;
		if (q == out && strncmp(out, line, n + 2) == 0) {
			q += n + 2; /* the first line */
			continue;
		}
		q = strstr(q > out ? q - 1 : q, buf); /* a whole line: after an LF */
		if (q == NULL)
			fail_msg("line not copied in order: %s", line);
		q += n + 3;
	}

	/* Session-level ICE (ice-lite) goes with session_drop, and only with it. */
	start_str("v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
		  "a=ice-lite\r\na=ice-options:trickle\r\na=tool:x\r\nm=audio 4000 RTP/AVP 0\r\n");
	rewrite_ok();
	assert_true(again.has_ice);
	ed.session_drop = SDP_DROP_ICE;
	rewrite_ok();
	assert_false(again.has_ice);
	assert_non_null(strstr(out, "t=0 0\r\na=tool:x\r\nm=audio"));
}

/* SDES: old a=crypto lines dropped, the relay's appended at the end of the section. */
static void test_crypto_and_extra(void **state)
{
	static const char key[] = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
				  "inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\n";

	start_fixture("freeswitch_srtp_video.sdp");
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	relay_media(1, 30002, "192.0.2.1");
	ed.media[0].drop = SDP_DROP_CRYPTO;
	ed.media[0].extra = key;
	ed.media[0].rtcp_port = 30001;
	ed.media[1].drop = SDP_DROP_CRYPTO | SDP_DROP_RTCP;
	ed.media[1].proto = "RTP/AVP";
	rewrite_ok();
	assert_int_equal(count(out, "a=crypto:"), 1);
	assert_non_null(strstr(out, "a=sendrecv\r\na=rtcp:30001\r\n"));
	assert_non_null(strstr(out, "a=rtcp:30001\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
				    "inline:MTIz"));
	assert_non_null(strstr(out, key));
	assert_true(strstr(out, key) < strstr(out, "m=video"));
	assert_non_null(strstr(out, "m=video 30002 RTP/AVP 96\r\nb=AS:1024\r\na=rtpmap:96"));
	assert_true(again.media[0].has_crypto);
	assert_int_equal(again.media[0].rtcp_port, 30001);
	assert_int_equal(again.media[0].rtcp_addr.family, RPA_AF_NONE);
	assert_false(again.media[1].has_crypto);
	assert_false(again.media[1].has_rtcp);
	assert_int_equal(again.media[1].proto.len, 7);
	assert_memory_equal(sdp_span_ptr(&again, again.media[1].proto), "RTP/AVP", 7);

	/* Extra lines that would break the SDP are refused. */
	ed.media[0].extra = "a=crypto:1 x";
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "extra line 1"));
	ed.media[0].extra = "a=x\r\na=y\n";
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "extra line 2"));
	ed.media[0].extra = "a=x\r\n\r\n";
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	ed.media[0].extra = "";
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	ed.media[0].extra = NULL;
	ed.media[0].proto = "RTP/ SAVP";
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "RTP/ SAVP"));
}

static void test_ipv6_relay(void **state)
{
	start_fixture("ipv6_offer.sdp");
	ed.session_addr = addr_of("2001:db8::100");
	relay_media(0, 30000, "2001:db8::100");
	ed.media[0].rtcp_port = 30001;
	rewrite_ok();
	assert_non_null(strstr(out, "\r\nc=IN IP6 2001:db8::100\r\n"));
	assert_non_null(strstr(out, "a=rtcp:30001\r\na=recvonly\r\n"));
	assert_int_equal(again.media[0].rtcp_port, 30001);
	assert_int_equal(again.media[0].rtcp_addr.family, RPA_AF_NONE);
	assert_int_equal(again.conn.addr.family, RPA_AF_INET6);
}

static void test_bad_edits(void **state)
{
	start_fixture("asterisk_offer.sdp");
	ed.nmedia = 2;
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2 media"));
	ed.nmedia = 1;
	ed.media[0].keep_addr = false; /* and no address */
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "media section 0"));
	ed.media[0].keep_addr = true;
	ed.replace_origin = true;
	assert_int_equal(sdp_rewrite(&sess, &ed, out, OUTCAP, &out_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "origin"));
}

static void test_nospace(void **state)
{
	static char small[4096];
	size_t need, got;

	start_fixture("polycom_offer.sdp");
	ed.session_addr = addr_of("192.0.2.1");
	relay_media(0, 30000, "192.0.2.1");
	ed.media[0].rtcp_mux = true;
	rewrite_ok();
	need = out_len;

	memset(small, '#', sizeof(small));
	got = 0;
	assert_int_equal(sdp_rewrite(&sess, &ed, small, need - 1, &got, err, sizeof(err)), -ENOSPC);
	assert_int_equal(got, need);
	snprintf(want, sizeof(want), "needs %zu bytes", need);
	assert_non_null(strstr(err, want));
	assert_int_equal(small[need - 1], '#'); /* nothing written past cap */
	assert_int_equal(sdp_rewrite(&sess, &ed, NULL, 0, &got, err, sizeof(err)), -ENOSPC);
	assert_int_equal(got, need);
	assert_int_equal(sdp_rewrite(&sess, &ed, small, need, &got, err, sizeof(err)), 0);
	assert_memory_equal(small, out, need);
	assert_int_equal(small[need], '#');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity),
	    cmocka_unit_test(test_asterisk_to_relay),
	    cmocka_unit_test(test_media_conn_inserted),
	    cmocka_unit_test(test_conn_rules),
	    cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_rejected),
	    cmocka_unit_test(test_webrtc_ice_remove),
	    cmocka_unit_test(test_crypto_and_extra),
	    cmocka_unit_test(test_ipv6_relay),
	    cmocka_unit_test(test_bad_edits),
	    cmocka_unit_test(test_nospace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
