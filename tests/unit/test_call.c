/* Unit tests for the call state machine (control/call*.c, calls.c) on realistic SDPs:
 * offer/answer SDPs and every field of the dataplane streams, interfaces and addresses,
 * rtcp-mux modes, endpoint flags, ICE removal, re-INVITEs from either side, added and
 * rejected media, hold, T.38, forking, delete and delete-delay, port exhaustion, errors
 * that change nothing, and a 100k-call table. SRTP (SDES): SRTP to RTP, RTP to SRTP, SRTP
 * to SRTP re-keyed across re-INVITEs from both sides, passthrough, offers and answers
 * refused (no common suite, MKI, bad keys, conversions that cannot be done) with messages
 * that quote no key, rtcp-mux and forking, every key of every stream checked. */
#include "call_fixture.h"

#include <jansson.h>

#define F_LATCH	 RPA_DP_F_LATCH
#define F_STRICT RPA_DP_F_STRICT

/* The state of a call as JSON text, to show a failed command changed nothing. */
static char *state_of(struct fix *f, const char *id)
{
	struct call *c = calls_find(f->t, id);
	json_t *j;
	char *s;

	assert_non_null(c);
	j = call_to_json(c);
	assert_non_null(j);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static void expect_fail(struct fix *f, enum call_op op, const char *id, const char *from,
			const char *to, const char *sdp, const char *flags, int rc,
			const char *in_msg)
{
	struct call_result r;

	assert_int_equal(fx_run(f, &r, op, id, from, to, sdp, flags, T0 + 5000), rc);
	assert_int_equal(r.status, rc);
	assert_null(r.sdp);
	assert_null(r.call);
	if (strstr(r.error, in_msg) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", r.error, in_msg);
	call_result_clear(&r);
}

static void establish(struct fix *f, const char *id)
{
	free(fx_ok(f, CALL_OP_OFFER, id, "from-1", NULL, SDP_CALLER, NULL, T0, NULL));
	free(fx_ok(f, CALL_OP_ANSWER, id, "from-1", "to-1", SDP_CALLEE, NULL, T0 + 1000, NULL));
}

static const char WANT_OFFER[] = "v=0\r\n"
				 "o=- 1234567 1234567 IN IP4 203.0.113.10\r\n"
				 "s=Asterisk\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 30002 RTP/AVP 0 8 101\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=maxptime:150\r\n"
				 "a=sendrecv\r\n"
				 "a=rtcp:30003\r\n";

static const char WANT_ANSWER[] = "v=0\r\n"
				  "o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.20\r\n"
				  "s=FreeSWITCH\r\n"
				  "c=IN IP4 192.0.2.1\r\n"
				  "t=0 0\r\n"
				  "m=audio 30000 RTP/AVP 0 101\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=fmtp:101 0-16\r\n"
				  "a=ptime:20\r\n"
				  "a=sendrecv\r\n"
				  "a=rtcp:30001\r\n";

static void test_offer_answer(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	struct call_result r;
	struct call *c;
	uint64_t tag;
	char *sdp;

	sdp = fx_ok(f, CALL_OP_OFFER, "a84b4c76e66710@pbx.example.com", "1928301774", NULL,
		    SDP_CALLER, NULL, T0, &r);
	fx_sdp_equal(sdp, WANT_OFFER);
	free(sdp);
	assert_true(r.created);
	assert_false(r.removed);
	assert_string_equal(r.warning, "");
	c = calls_find(f->t, "a84b4c76e66710@pbx.example.com");
	assert_ptr_equal(c, r.call);
	assert_int_equal(calls_count(f->t), 1);
	assert_string_equal(call_id(c), "a84b4c76e66710@pbx.example.com");
	assert_string_equal(call_owner(c), "node1");
	assert_int_equal(call_created_ms(c), T0);
	assert_int_equal(call_updated_ms(c), T0);
	assert_int_equal(call_delete_at_ms(c), 0);
	tag = call_dp_tag(c);
	assert_true(tag != 0);
	assert_int_equal(portalloc_used(f->pa[0]), 2);

	/* Before the answer only the caller's address is known: early media towards it. */
	assert_int_equal(fx_streams(f, "a84b4c76e66710@pbx.example.com", st), 2);
	fx_stream(&st[0], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL, F_LATCH,
		  tag, "", 0, 1);
	fx_stream(&st[1], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001", NULL, F_LATCH,
		  tag, "", 0, 2);

	sdp = fx_ok(f, CALL_OP_ANSWER, "a84b4c76e66710@pbx.example.com", "1928301774", "a6c85cf",
		    SDP_CALLEE, NULL, T0 + 1500, &r);
	fx_sdp_equal(sdp, WANT_ANSWER);
	free(sdp);
	assert_false(r.created);
	assert_ptr_equal(r.call, c);
	assert_int_equal(call_created_ms(c), T0);
	assert_int_equal(call_updated_ms(c), T0 + 1500);
	assert_int_equal(call_dp_tag(c), tag);
	assert_int_equal(portalloc_used(f->pa[0]), 2);

	assert_int_equal(fx_streams(f, "a84b4c76e66710@pbx.example.com", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		  F_LATCH, tag, "1928301774", 0, 1);
	/* a=rtcp:20005 IN IP4 198.51.100.21 */
	fx_stream(&st[1], "192.0.2.1:30001", "192.0.2.1:30003", "198.51.100.21:20005", NULL,
		  F_LATCH, tag, "1928301774", 0, 2);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL, F_LATCH,
		  tag, "a6c85cf", 0, 1);
	fx_stream(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001", NULL, F_LATCH,
		  tag, "a6c85cf", 0, 2);
	/* A short array still learns how many are needed. */
	assert_int_equal(call_streams(c, st, 1), 4);
	assert_int_equal(call_streams(c, NULL, 0), 4);

	/* Another call gets other ports and another tag. */
	free(fx_ok(f, CALL_OP_OFFER, "second", "x", NULL, SDP_CALLER, NULL, T0, NULL));
	assert_int_equal(portalloc_used(f->pa[0]), 4);
	assert_true(call_dp_tag(calls_find(f->t, "second")) != tag);
	assert_int_equal(calls_count(f->t), 2);
}

static void test_interfaces_and_addresses(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	uint64_t tag;
	char *sdp;

	/* The caller is behind "nat" (advertised 203.0.113.50), the callee on "b". */
	sdp = fx_ok(f, CALL_OP_OFFER, "dir", "f", NULL, SDP_CALLER,
		    "direction=nat,b replace-origin replace-session-connection", T0, NULL);
	fx_sdp_equal(sdp, "v=0\r\n"
			  "o=- 1234567 1234567 IN IP4 198.51.100.1\r\n"
			  "s=Asterisk\r\n"
			  "c=IN IP4 198.51.100.1\r\n"
			  "t=0 0\r\n"
			  "m=audio 40000 RTP/AVP 0 8 101\r\n"
			  "a=rtpmap:0 PCMU/8000\r\n"
			  "a=rtpmap:8 PCMA/8000\r\n"
			  "a=rtpmap:101 telephone-event/8000\r\n"
			  "a=fmtp:101 0-16\r\n"
			  "a=ptime:20\r\n"
			  "a=maxptime:150\r\n"
			  "a=sendrecv\r\n"
			  "a=rtcp:40001\r\n");
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 0);
	assert_int_equal(portalloc_used(f->pa[1]), 1);
	assert_int_equal(portalloc_used(f->pa[2]), 1);
	/* The answer keeps the interfaces; its SDP carries the NAT's advertised address,
	 * or media-address= when given. The session c= is rewritten as the section
	 * inherits it; o= stays (no replace-origin on the answer). */
	sdp = fx_ok(f, CALL_OP_ANSWER, "dir", "f", "t", SDP_CALLEE, NULL, T0, NULL);
	fx_sdp_equal(sdp, "v=0\r\n"
			  "o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.20\r\n"
			  "s=FreeSWITCH\r\n"
			  "c=IN IP4 203.0.113.50\r\n"
			  "t=0 0\r\n"
			  "m=audio 50000 RTP/AVP 0 101\r\n"
			  "a=rtpmap:0 PCMU/8000\r\n"
			  "a=rtpmap:101 telephone-event/8000\r\n"
			  "a=fmtp:101 0-16\r\n"
			  "a=ptime:20\r\n"
			  "a=sendrecv\r\n"
			  "a=rtcp:50001\r\n");
	free(sdp);
	sdp = fx_ok(f, CALL_OP_ANSWER, "dir", "f", "t", SDP_CALLEE,
		    "media-address=192.0.2.99 direction=nat,b", T0, NULL);
	assert_non_null(strstr(sdp, "\r\nc=IN IP4 192.0.2.99\r\nt=0 0\r\nm=audio 50000 "));
	free(sdp);
	expect_fail(f, CALL_OP_ANSWER, "dir", "f", "t", SDP_CALLEE, "direction=a,b", -EINVAL,
		    "differs from the offer's interfaces nat,b");
	expect_fail(f, CALL_OP_OFFER, "dir2", "f", NULL, SDP_CALLER, "direction=nat,wan", -EINVAL,
		    "unknown interface 'wan' in direction=");

	/* Streams use the local addresses, never the advertised one. */
	tag = call_dp_tag(calls_find(f->t, "dir"));
	assert_int_equal(fx_streams(f, "dir", st), 4);
	fx_stream(&st[0], "10.1.0.1:50000", "198.51.100.1:40000", "198.51.100.20:20000", NULL,
		  F_LATCH, tag, "f", 0, 1);
	fx_stream(&st[1], "10.1.0.1:50001", "198.51.100.1:40001", "198.51.100.21:20005", NULL,
		  F_LATCH, tag, "f", 0, 2);
	fx_stream(&st[2], "198.51.100.1:40000", "10.1.0.1:50000", "203.0.113.10:10000", NULL,
		  F_LATCH, tag, "t", 0, 1);
	fx_stream(&st[3], "198.51.100.1:40001", "10.1.0.1:50001", "203.0.113.10:10001", NULL,
		  F_LATCH, tag, "t", 0, 2);

	/* A re-offer moving the callee to "a" gives that side new ports there. */
	sdp =
	    fx_ok(f, CALL_OP_OFFER, "dir", "f", "t", SDP_CALLER, "direction=nat,a", T0 + 10, NULL);
	assert_non_null(strstr(sdp, "c=IN IP4 192.0.2.1\r\n"));
	assert_non_null(strstr(sdp, "m=audio 30000 RTP/AVP"));
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[1]), 0);
	assert_int_equal(portalloc_used(f->pa[0]), 1);
	assert_int_equal(portalloc_used(f->pa[2]), 1);
	assert_int_equal(portalloc_free(f->pa[1], T0 + 10), 499); /* 40000 in quarantine */
}

/* rtcp-mux: every mode against offers and answers with and without a=rtcp-mux. */
static void mux_sdp(char *buf, size_t cap, const char *addr, unsigned port, bool mux)
{
	snprintf(buf, cap,
		 "v=0\r\no=- 5 5 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n%s",
		 addr, addr, port, mux ? "a=rtcp-mux\r\n" : "");
}

static void test_rtcp_mux_modes(void **state)
{
	/* {flag, offerer mux, answerer mux, offered onward, callee leg muxed, caller leg
	 * muxed}, as flags.h reads rtpengine's documentation. */
	static const struct {
		const char *flag;
		bool om, am, offered, mux_a, mux_o;
	} cases[] = {
	    {NULL, 0, 0, 0, 0, 0},
	    {NULL, 0, 1, 0, 0, 0},
	    {NULL, 1, 0, 1, 0, 0},
	    {NULL, 1, 1, 1, 1, 1},
	    {"rtcp-mux=offer", 0, 0, 1, 0, 0},
	    {"rtcp-mux=offer", 0, 1, 1, 1, 0},
	    {"rtcp-mux=offer", 1, 0, 1, 0, 0},
	    {"rtcp-mux=offer", 1, 1, 1, 1, 1},
	    {"rtcp-mux=require", 0, 0, 1, 1, 0},
	    {"rtcp-mux=require", 0, 1, 1, 1, 0},
	    {"rtcp-mux=require", 1, 0, 1, 1, 1},
	    {"rtcp-mux=require", 1, 1, 1, 1, 1},
	    {"rtcp-mux=demux", 0, 0, 0, 0, 0},
	    {"rtcp-mux=demux", 0, 1, 0, 0, 0},
	    {"rtcp-mux=demux", 1, 0, 0, 0, 1},
	    {"rtcp-mux=demux", 1, 1, 0, 0, 1},
	    {"rtcp-mux=accept", 0, 0, 0, 0, 0},
	    {"rtcp-mux=accept", 0, 1, 0, 0, 0},
	    {"rtcp-mux=accept", 1, 0, 1, 0, 1},
	    {"rtcp-mux=accept", 1, 1, 1, 1, 1},
	    {"rtcp-mux=reject", 0, 0, 0, 0, 0},
	    {"rtcp-mux=reject", 0, 1, 0, 0, 0},
	    {"rtcp-mux=reject", 1, 0, 0, 0, 0},
	    {"rtcp-mux=reject", 1, 1, 0, 0, 0},
	};

	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct fix *f = fx_new_ranges(30000, 30999);
		char offer[512], answer[512], id[16];
		struct call_stream st[64];
		struct call_result r;
		unsigned n, want, i = 0;
		bool require = cases[k].flag && strcmp(cases[k].flag, "rtcp-mux=require") == 0;
		uint64_t tag;
		char *sdp;

		print_message("case %u: %s om=%d am=%d\n", k, cases[k].flag ? cases[k].flag : "-",
			      cases[k].om, cases[k].am);
		snprintf(id, sizeof(id), "mux%u", k);
		mux_sdp(offer, sizeof(offer), "203.0.113.10", 10000, cases[k].om);
		mux_sdp(answer, sizeof(answer), "198.51.100.20", 20000, cases[k].am);
		sdp = fx_ok(f, CALL_OP_OFFER, id, "f", NULL, offer, cases[k].flag, T0, NULL);
		assert_int_equal(strstr(sdp, "a=rtcp-mux\r\n") != NULL, cases[k].offered);
		assert_int_equal(strstr(sdp, "a=rtcp:30003\r\n") != NULL, !require);
		free(sdp);
		/* With require the callee's leg muxes from the offer on: no RTCP stream
		 * from it even before the answer. */
		if (require)
			assert_int_equal(fx_streams(f, id, st), 1);

		sdp = fx_ok(f, CALL_OP_ANSWER, id, "f", "t", answer, cases[k].flag, T0, &r);
		assert_int_equal(strstr(sdp, "a=rtcp-mux\r\n") != NULL, cases[k].mux_o);
		assert_int_equal(strstr(sdp, "a=rtcp:30001\r\n") != NULL, !cases[k].mux_o);
		free(sdp);
		assert_int_equal(strstr(r.warning, "rtcp-mux on one leg only") != NULL,
				 cases[k].mux_a != cases[k].mux_o);

		tag = call_dp_tag(calls_find(f->t, id));
		n = fx_streams(f, id, st);
		want = 2 + !cases[k].mux_o + !cases[k].mux_a;
		assert_int_equal(n, want);
		/* Caller -> callee. RTCP towards a muxing callee leaves from and goes to
		 * the RTP ports. */
		fx_stream(&st[i++], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000",
			  NULL, F_LATCH, tag, "f", 0, 1);
		if (!cases[k].mux_o)
			fx_stream(&st[i++], "192.0.2.1:30001",
				  cases[k].mux_a ? "192.0.2.1:30002" : "192.0.2.1:30003",
				  cases[k].mux_a ? "198.51.100.20:20000" : "198.51.100.20:20001",
				  NULL, F_LATCH, tag, "f", 0, 2);
		fx_stream(&st[i++], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000",
			  NULL, F_LATCH, tag, "t", 0, 1);
		if (!cases[k].mux_a)
			fx_stream(&st[i++], "192.0.2.1:30003",
				  cases[k].mux_o ? "192.0.2.1:30000" : "192.0.2.1:30001",
				  cases[k].mux_o ? "203.0.113.10:10000" : "203.0.113.10:10001",
				  NULL, F_LATCH, tag, "t", 0, 2);
		fx_free(f);
	}
}

static void test_endpoint_flags(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	uint64_t tag;

	/* The caller is trusted and strict, the callee asymmetric. */
	free(fx_ok(f, CALL_OP_OFFER, "fl", "f", NULL, SDP_CALLER, "trust-address strict-source", T0,
		   NULL));
	free(fx_ok(f, CALL_OP_ANSWER, "fl", "f", "t", SDP_CALLEE, "asymmetric", T0, NULL));
	tag = call_dp_tag(calls_find(f->t, "fl"));
	assert_int_equal(fx_streams(f, "fl", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000",
		  "203.0.113.10:10000", F_STRICT, tag, "f", 0, 1);
	fx_stream(&st[1], "192.0.2.1:30001", "192.0.2.1:30003", "198.51.100.21:20005",
		  "203.0.113.10:10001", F_STRICT, tag, "f", 0, 2);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL, 0, tag,
		  "t", 0, 1);
	fx_stream(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001", NULL, 0, tag,
		  "t", 0, 2);

	/* Flags come with each SDP: a re-offer with only strict-source latches again
	 * (strict after the latch); the callee's answer now trusts its address. */
	free(fx_ok(f, CALL_OP_OFFER, "fl", "f", "t", SDP_CALLER, "strict-source symmetric", T0 + 1,
		   NULL));
	free(fx_ok(f, CALL_OP_ANSWER, "fl", "f", "t", SDP_CALLEE, "trust-address", T0 + 2, NULL));
	assert_int_equal(fx_streams(f, "fl", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		  F_LATCH | F_STRICT, tag, "f", 0, 1);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000",
		  "198.51.100.20:20000", 0, tag, "t", 0, 1);
	fx_stream(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001",
		  "198.51.100.21:20005", 0, tag, "t", 0, 2);

	expect_fail(f, CALL_OP_OFFER, "fl", "f", "t", SDP_CALLER, "symmetric asymmetric", -EINVAL,
		    "conflicting flags 'symmetric' and 'asymmetric'");
	expect_fail(f, CALL_OP_OFFER, "fl3", "f", NULL, SDP_CALLER, "trust-address frobnicate",
		    -EINVAL, "unknown flag 'frobnicate'");
	assert_null(calls_find(f->t, "fl3"));
	assert_int_equal(portalloc_used(f->pa[0]), 2);
}

/* A browser offer (ICE, BUNDLE, rtcp-mux, a=rtcp placeholder). */
static const char SDP_WEBRTC[] =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic: WMS stream0\r\n"
    "m=audio 54400 RTP/AVPF 111 0\r\n"
    "c=IN IP4 203.0.113.77\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1467250027 1 udp 2122260223 192.168.1.23 54400 typ host generation 0\r\n"
    "a=candidate:435653019 1 udp 1686052607 203.0.113.77 54400 typ srflx raddr "
    "192.168.1.23 rport 54400 generation 0\r\n"
    "a=ice-ufrag:Kx7b\r\n"
    "a=ice-pwd:4Ke8BWqL1p3ymqTGVQxP0b5m\r\n"
    "a=mid:0\r\n"
    "a=sendrecv\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=end-of-candidates\r\n";

static const char WANT_WEBRTC[] = "v=0\r\n"
				  "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
				  "s=-\r\n"
				  "t=0 0\r\n"
				  "a=group:BUNDLE 0\r\n"
				  "a=msid-semantic: WMS stream0\r\n"
				  "m=audio 30002 RTP/AVPF 111 0\r\n"
				  "c=IN IP4 192.0.2.1\r\n"
				  "a=rtcp:30003\r\n"
				  "a=mid:0\r\n"
				  "a=sendrecv\r\n"
				  "a=rtcp-mux\r\n"
				  "a=rtpmap:111 opus/48000/2\r\n"
				  "a=rtcp-fb:111 transport-cc\r\n"
				  "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n";

static void test_ice_remove(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	struct call_result r;
	char *sdp;

	/* Without ice-remove ICE still goes, with a warning saying so. */
	sdp = fx_ok(f, CALL_OP_OFFER, "ice1", "f", NULL, SDP_WEBRTC, NULL, T0, &r);
	fx_sdp_equal(sdp, WANT_WEBRTC);
	free(sdp);
	assert_non_null(strstr(r.warning, "ICE attributes removed"));
	sdp = fx_ok(f, CALL_OP_OFFER, "ice2", "f", NULL, SDP_WEBRTC, "ice-remove", T0, &r);
	assert_null(strstr(sdp, "candidate"));
	assert_null(strstr(sdp, "ice-"));
	free(sdp);
	assert_string_equal(r.warning, "");
	/* The placeholder a=rtcp:9 0.0.0.0 names no address: RTCP goes to c=, port 9. */
	assert_int_equal(fx_streams(f, "ice2", st), 2);
	fx_stream(&st[1], "192.0.2.1:30007", "192.0.2.1:30005", "203.0.113.77:9", NULL, F_LATCH,
		  call_dp_tag(calls_find(f->t, "ice2")), "", 0, 2);
}

static void test_reinvite_caller(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	char *sdp, moved[sizeof(SDP_CALLER) + 16], fewer[sizeof(SDP_CALLER)];
	char *before;
	uint64_t tag;

	establish(f, "re");
	tag = call_dp_tag(calls_find(f->t, "re"));
	/* The caller moves (new address and port, its version up): our SDP towards the
	 * callee is the same apart from o=, so its version stays. */
	snprintf(moved, sizeof(moved), "%s", SDP_CALLER);
	memcpy(strstr(moved, "1234567 IN"), "1234568 IN", 10);
	memcpy(strstr(moved, "c=IN IP4 203.0.113.10"), "c=IN IP4 203.0.113.11", 21);
	memcpy(strstr(moved, "audio 10000"), "audio 10010", 11);
	sdp = fx_ok(f, CALL_OP_OFFER, "re", "from-1", "to-1", moved, NULL, T0 + 2000, NULL);
	fx_sdp_equal(sdp, WANT_OFFER);
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	assert_int_equal(fx_streams(f, "re", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		  F_LATCH, tag, "from-1", 0, 1);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.11:10010", NULL, F_LATCH,
		  tag, "to-1", 0, 1);
	fx_stream(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.11:10011", NULL, F_LATCH,
		  tag, "to-1", 0, 2);
	/* The answer to the re-INVITE: same SDP from the callee, same version back. */
	sdp = fx_ok(f, CALL_OP_ANSWER, "re", "from-1", "to-1", SDP_CALLEE, NULL, T0 + 2100, NULL);
	fx_sdp_equal(sdp, WANT_ANSWER);
	free(sdp);

	/* A codec dropped: the output changes, the version goes up once... */
	snprintf(moved, sizeof(moved), "%s", SDP_CALLER);
	memcpy(strstr(moved, "a=ptime:20"), "a=ptime:30", 10);
	sdp = fx_ok(f, CALL_OP_OFFER, "re", "from-1", "to-1", moved, NULL, T0 + 3000, NULL);
	assert_non_null(strstr(sdp, "o=- 1234567 1234568 IN IP4 203.0.113.10\r\n"));
	free(sdp);
	/* ...and not again for the same SDP. */
	sdp = fx_ok(f, CALL_OP_OFFER, "re", "from-1", "to-1", moved, NULL, T0 + 3100, NULL);
	assert_non_null(strstr(sdp, "o=- 1234567 1234568 IN IP4 203.0.113.10\r\n"));
	free(sdp);

	/* Sections are never removed: a re-offer with fewer is refused, nothing changes. */
	snprintf(fewer, sizeof(fewer), "%.*s", (int)(strstr(SDP_CALLER, "m=audio") - SDP_CALLER),
		 SDP_CALLER);
	before = state_of(f, "re");
	expect_fail(f, CALL_OP_OFFER, "re", "from-1", "to-1", fewer, NULL, -EINVAL,
		    "offer has 0 m= sections, call 're' has 1");
	expect_fail(f, CALL_OP_OFFER, "re", "stranger", NULL, SDP_CALLER, NULL, -EINVAL,
		    "from-tag 'stranger' is neither the caller nor a branch of call 're'");
	sdp = state_of(f, "re");
	assert_string_equal(sdp, before);
	free(sdp);
	free(before);
}

static void test_reinvite_callee(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	char offer[sizeof(SDP_CALLEE) + 8], answer[sizeof(SDP_CALLER) + 8];
	uint64_t tag;
	char *sdp;

	establish(f, "cre");
	tag = call_dp_tag(calls_find(f->t, "cre"));
	/* The callee re-INVITEs (new port, sendonly): roles reverse for this exchange. */
	snprintf(offer, sizeof(offer), "%s", SDP_CALLEE);
	memcpy(strstr(offer, "audio 20000"), "audio 20010", 11);
	memcpy(strstr(offer, "a=sendrecv"), "a=sendonly", 10);
	memcpy(strstr(offer, "a=rtcp:20005"), "a=rtcp:20011", 12);
	sdp = fx_ok(f, CALL_OP_OFFER, "cre", "to-1", "from-1", offer, NULL, T0 + 5000, NULL);
	fx_sdp_equal(sdp, "v=0\r\n"
			  "o=FreeSWITCH 1700000000 1700000002 IN IP4 198.51.100.20\r\n"
			  "s=FreeSWITCH\r\n"
			  "c=IN IP4 192.0.2.1\r\n"
			  "t=0 0\r\n"
			  "m=audio 30000 RTP/AVP 0 101\r\n"
			  "a=rtpmap:0 PCMU/8000\r\n"
			  "a=rtpmap:101 telephone-event/8000\r\n"
			  "a=fmtp:101 0-16\r\n"
			  "a=ptime:20\r\n"
			  "a=sendonly\r\n"
			  "a=rtcp:30001\r\n");
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	/* Its answer comes from the caller: from-tag = the callee, to-tag = the caller. */
	expect_fail(f, CALL_OP_ANSWER, "cre", "from-1", "to-1", SDP_CALLER, NULL, -EINVAL,
		    "no offer from tag 'from-1' is pending on call 'cre'");
	expect_fail(f, CALL_OP_ANSWER, "cre", "to-1", "to-9", SDP_CALLER, NULL, -EINVAL,
		    "its answer's to-tag must be the caller's 'from-1'");
	snprintf(answer, sizeof(answer), "%s", SDP_CALLER);
	memcpy(strstr(answer, "a=sendrecv"), "a=recvonly", 10);
	sdp = fx_ok(f, CALL_OP_ANSWER, "cre", "to-1", "from-1", answer, NULL, T0 + 5100, NULL);
	assert_non_null(strstr(sdp, "o=- 1234567 1234568 IN IP4 203.0.113.10\r\n"));
	assert_non_null(strstr(sdp, "m=audio 30002 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(sdp, "a=recvonly\r\na=rtcp:30003\r\n"));
	free(sdp);
	assert_int_equal(fx_streams(f, "cre", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20010", NULL,
		  F_LATCH, tag, "from-1", 0, 1);
	fx_stream(&st[1], "192.0.2.1:30001", "192.0.2.1:30003", "198.51.100.21:20011", NULL,
		  F_LATCH, tag, "from-1", 0, 2);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL, F_LATCH,
		  tag, "to-1", 0, 1);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
}

static const char SDP_CALLER_VIDEO[] = "v=0\r\n"
				       "o=- 1234567 1234568 IN IP4 203.0.113.10\r\n"
				       "s=Asterisk\r\n"
				       "c=IN IP4 203.0.113.10\r\n"
				       "t=0 0\r\n"
				       "m=audio 10000 RTP/AVP 0 8 101\r\n"
				       "a=rtpmap:0 PCMU/8000\r\n"
				       "a=sendrecv\r\n"
				       "m=video %u RTP/AVP 99\r\n"
				       "a=rtpmap:99 H264/90000\r\n"
				       "a=fmtp:99 profile-level-id=42801F\r\n";

static void test_add_and_reject_media(void **state)
{
	struct fix *f = *state;
	char offer[1024], answer[1024];
	struct call_stream st[64];
	uint64_t tag;
	char *sdp;

	establish(f, "av");
	tag = call_dp_tag(calls_find(f->t, "av"));
	snprintf(offer, sizeof(offer), SDP_CALLER_VIDEO, 10002u);
	sdp = fx_ok(f, CALL_OP_OFFER, "av", "from-1", "to-1", offer, NULL, T0 + 100, NULL);
	assert_non_null(strstr(sdp, "m=audio 30002 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(sdp, "m=video 30006 RTP/AVP 99\r\n"));
	assert_non_null(strstr(sdp, "a=fmtp:99 profile-level-id=42801F\r\na=rtcp:30007\r\n"));
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 4);
	/* The new section's callee stream comes with the answer; towards the caller the
	 * video stream exists already. */
	assert_int_equal(fx_streams(f, "av", st), 6);
	fx_stream(&st[4], "192.0.2.1:30006", "192.0.2.1:30004", "203.0.113.10:10002", NULL, F_LATCH,
		  tag, "to-1", 1, 1);
	fx_stream(&st[5], "192.0.2.1:30007", "192.0.2.1:30005", "203.0.113.10:10003", NULL, F_LATCH,
		  tag, "to-1", 1, 2);

	/* The callee rejects video: its ports go (into quarantine). */
	snprintf(answer, sizeof(answer), "%sm=video 0 RTP/AVP 99\r\n", SDP_CALLEE);
	sdp = fx_ok(f, CALL_OP_ANSWER, "av", "from-1", "to-1", answer, NULL, T0 + 200, NULL);
	assert_non_null(strstr(sdp, "m=audio 30000 RTP/AVP 0 101\r\n"));
	assert_non_null(strstr(sdp, "m=video 0 RTP/AVP 99\r\n"));
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	assert_int_equal(portalloc_free(f->pa[0], T0 + 200), 496);
	assert_int_equal(fx_streams(f, "av", st), 4);

	/* Rejected stays rejected: the caller's next offer has port 0 there. */
	snprintf(offer, sizeof(offer), SDP_CALLER_VIDEO, 0u);
	sdp = fx_ok(f, CALL_OP_OFFER, "av", "from-1", "to-1", offer, NULL, T0 + 300, NULL);
	assert_non_null(strstr(sdp, "m=video 0 RTP/AVP 99\r\n"));
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	sdp = fx_ok(f, CALL_OP_ANSWER, "av", "from-1", "to-1", answer, NULL, T0 + 300, NULL);
	assert_non_null(strstr(sdp, "m=video 0 RTP/AVP 99\r\n"));
	free(sdp);
	/* An answer cannot revive a section the call has rejected. */
	snprintf(answer, sizeof(answer), "%sm=video 20002 RTP/AVP 99\r\n", SDP_CALLEE);
	sdp = fx_ok(f, CALL_OP_ANSWER, "av", "from-1", "to-1", answer, NULL, T0 + 300, NULL);
	assert_non_null(strstr(sdp, "m=video 0 RTP/AVP 99\r\n"));
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	/* A later offer may reuse the slot (RFC 3264 8.1): new ports, past quarantine. */
	snprintf(offer, sizeof(offer), SDP_CALLER_VIDEO, 10004u);
	sdp = fx_ok(f, CALL_OP_OFFER, "av", "from-1", "to-1", offer, NULL, T0 + 400, NULL);
	assert_non_null(strstr(sdp, "m=video 30010 RTP/AVP 99\r\n"));
	free(sdp);
	assert_int_equal(portalloc_used(f->pa[0]), 4);
	assert_int_equal(fx_streams(f, "av", st), 6);
	fx_stream(&st[4], "192.0.2.1:30010", "192.0.2.1:30008", "203.0.113.10:10004", NULL, F_LATCH,
		  tag, "to-1", 1, 1);

	/* The answer with fewer sections than the offer is refused. */
	expect_fail(f, CALL_OP_ANSWER, "av", "from-1", "to-1", SDP_CALLEE, NULL, -EINVAL,
		    "answer has 1 m= sections, the offer had 2");
}

static const char SDP_CALLER_HOLD[] = "v=0\r\n"
				      "o=- 1234567 1234568 IN IP4 203.0.113.10\r\n"
				      "s=Asterisk\r\n"
				      "c=IN IP4 0.0.0.0\r\n"
				      "t=0 0\r\n"
				      "m=audio 10000 RTP/AVP 0 8 101\r\n"
				      "a=rtpmap:0 PCMU/8000\r\n"
				      "a=rtpmap:8 PCMA/8000\r\n"
				      "a=rtpmap:101 telephone-event/8000\r\n"
				      "a=fmtp:101 0-16\r\n"
				      "a=ptime:20\r\n"
				      "a=maxptime:150\r\n"
				      "a=sendonly\r\n";

static void test_hold(void **state)
{
	struct fix *f = *state;
	char hold[sizeof(SDP_CALLER) + 8];
	struct call_stream st[64];
	uint64_t tag;
	char *sdp;

	establish(f, "hold");
	tag = call_dp_tag(calls_find(f->t, "hold"));
	/* RFC 2543 hold: c=0.0.0.0 and sendonly. The 0.0.0.0 is passed on; the streams
	 * stay but nothing is sent to a 0.0.0.0 address. */
	snprintf(hold, sizeof(hold), "%s", SDP_CALLER_HOLD);
	sdp = fx_ok(f, CALL_OP_OFFER, "hold", "from-1", "to-1", hold, NULL, T0 + 100, NULL);
	assert_non_null(strstr(sdp, "\r\nc=IN IP4 0.0.0.0\r\n"));
	assert_non_null(strstr(sdp, "m=audio 30002 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(sdp, "a=sendonly\r\na=rtcp:30003\r\n"));
	free(sdp);
	assert_int_equal(fx_streams(f, "hold", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		  F_LATCH, tag, "from-1", 0, 1);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", NULL, NULL, F_LATCH, tag, "to-1", 0,
		  1);
	fx_stream(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", NULL, NULL, F_LATCH, tag, "to-1", 0,
		  2);

	/* A trusted, strict party on hold has no address to expect: strict after a latch. */
	sdp = fx_ok(f, CALL_OP_ANSWER, "hold", "from-1", "to-1", SDP_CALLEE, NULL, T0 + 110, NULL);
	free(sdp);
	free(fx_ok(f, CALL_OP_OFFER, "hold", "from-1", "to-1", hold, "trust-address strict-source",
		   T0 + 120, NULL));
	assert_int_equal(fx_streams(f, "hold", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		  F_LATCH | F_STRICT, tag, "from-1", 0, 1);

	/* Hold with sendonly and a real address keeps the peer. */
	snprintf(hold, sizeof(hold), "%s", SDP_CALLER);
	memcpy(strstr(hold, "a=sendrecv"), "a=inactive", 10);
	free(fx_ok(f, CALL_OP_OFFER, "hold", "from-1", "to-1", hold, NULL, T0 + 200, NULL));
	assert_int_equal(fx_streams(f, "hold", st), 4);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL, F_LATCH,
		  tag, "to-1", 0, 1);
}

static const char SDP_T38[] = "v=0\r\n"
			      "o=- 1234567 1234569 IN IP4 203.0.113.10\r\n"
			      "s=Asterisk\r\n"
			      "c=IN IP4 203.0.113.10\r\n"
			      "t=0 0\r\n"
			      "m=audio 0 RTP/AVP 0\r\n"
			      "m=image 4000 udptl t38\r\n"
			      "a=T38FaxVersion:0\r\n"
			      "a=T38FaxMaxBuffer:400\r\n"
			      "a=T38FaxUdpEC:t38UDPRedundancy\r\n";

static const char SDP_T38_ANSWER[] = "v=0\r\n"
				     "o=FreeSWITCH 1700000000 1700000002 IN IP4 198.51.100.20\r\n"
				     "s=FreeSWITCH\r\n"
				     "c=IN IP4 198.51.100.20\r\n"
				     "t=0 0\r\n"
				     "m=audio 0 RTP/AVP 0\r\n"
				     "m=image 20020 udptl t38\r\n"
				     "a=T38FaxVersion:0\r\n";

static void test_t38(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	uint64_t tag;
	char *sdp;

	establish(f, "fax");
	tag = call_dp_tag(calls_find(f->t, "fax"));
	sdp = fx_ok(f, CALL_OP_OFFER, "fax", "from-1", "to-1", SDP_T38, NULL, T0 + 100, NULL);
	fx_sdp_equal(sdp, "v=0\r\n"
			  "o=- 1234567 1234568 IN IP4 203.0.113.10\r\n"
			  "s=Asterisk\r\n"
			  "c=IN IP4 192.0.2.1\r\n"
			  "t=0 0\r\n"
			  "m=audio 0 RTP/AVP 0\r\n"
			  "m=image 30006 udptl t38\r\n"
			  "a=T38FaxVersion:0\r\n"
			  "a=T38FaxMaxBuffer:400\r\n"
			  "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
	free(sdp);
	sdp =
	    fx_ok(f, CALL_OP_ANSWER, "fax", "from-1", "to-1", SDP_T38_ANSWER, NULL, T0 + 200, NULL);
	assert_non_null(strstr(sdp, "m=image 30004 udptl t38\r\na=T38FaxVersion:0\r\n"));
	assert_null(strstr(sdp, "a=rtcp"));
	free(sdp);
	/* Audio gone, UDPTL is one flow per direction. */
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	assert_int_equal(fx_streams(f, "fax", st), 2);
	fx_stream(&st[0], "192.0.2.1:30004", "192.0.2.1:30006", "198.51.100.20:20020", NULL,
		  F_LATCH, tag, "from-1", 1, 1);
	fx_stream(&st[1], "192.0.2.1:30006", "192.0.2.1:30004", "203.0.113.10:4000", NULL, F_LATCH,
		  tag, "to-1", 1, 1);
}

static void test_forking(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	struct call_result r;
	char tagbuf[16];
	uint64_t tag;
	char *sdp;

	free(fx_ok(f, CALL_OP_OFFER, "fork", "from-1", NULL, SDP_CALLER, NULL, T0, NULL));
	sdp = fx_ok(f, CALL_OP_ANSWER, "fork", "from-1", "to-1", SDP_CALLEE, NULL, T0 + 100, NULL);
	fx_sdp_equal(sdp, WANT_ANSWER);
	free(sdp);
	/* A second fork answers the same offer: it becomes the active branch. */
	sdp = fx_ok(f, CALL_OP_ANSWER, "fork", "from-1", "to-2", SDP_CALLEE2, NULL, T0 + 200, NULL);
	fx_sdp_equal(sdp, "v=0\r\n"
			  "o=- 1700000100 1700000002 IN IP4 198.51.100.30\r\n"
			  "s=Polycom IP Phone\r\n"
			  "t=0 0\r\n"
			  "m=audio 30000 RTP/AVP 0 101\r\n"
			  "c=IN IP4 192.0.2.1\r\n"
			  "a=rtpmap:0 PCMU/8000\r\n"
			  "a=rtpmap:101 telephone-event/8000\r\n"
			  "a=sendrecv\r\n"
			  "a=rtcp:30001\r\n");
	free(sdp);
	tag = call_dp_tag(calls_find(f->t, "fork"));
	assert_int_equal(portalloc_used(f->pa[0]), 2); /* the branches share the ports */
	assert_int_equal(fx_streams(f, "fork", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.30:2222", NULL, F_LATCH,
		  tag, "from-1", 0, 1);
	fx_stream(&st[1], "192.0.2.1:30001", "192.0.2.1:30003", "198.51.100.30:2223", NULL, F_LATCH,
		  tag, "from-1", 0, 2);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL, F_LATCH,
		  tag, "to-2", 0, 1);

	/* A caller re-INVITE in the first fork's dialog makes it active again. */
	free(fx_ok(f, CALL_OP_OFFER, "fork", "from-1", "to-1", SDP_CALLER, NULL, T0 + 250, NULL));
	assert_int_equal(fx_streams(f, "fork", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		  F_LATCH, tag, "from-1", 0, 1);
	free(fx_ok(f, CALL_OP_ANSWER, "fork", "from-1", "to-2", SDP_CALLEE2, NULL, T0 + 260, NULL));

	/* Deleting the active branch reverts to the other one. */
	free(fx_ok(f, CALL_OP_DELETE, "fork", "from-1", "to-2", NULL, NULL, T0 + 300, &r));
	assert_false(r.removed);
	assert_ptr_equal(r.call, calls_find(f->t, "fork"));
	assert_int_equal(fx_streams(f, "fork", st), 4);
	fx_stream(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		  F_LATCH, tag, "from-1", 0, 1);
	fx_stream(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL, F_LATCH,
		  tag, "to-1", 0, 1);
	expect_fail(f, CALL_OP_DELETE, "fork", "from-1", "to-2", NULL, NULL, -ENOENT,
		    "call 'fork' has no party with tag 'to-2'");
	/* The callee's BYE (from = its tag) ends the last branch and with it the call. */
	free(fx_ok(f, CALL_OP_DELETE, "fork", "to-1", "from-1", NULL, NULL, T0 + 400, &r));
	assert_true(r.removed);
	assert_null(r.call);
	assert_string_equal(r.removed_id, "fork");
	assert_null(calls_find(f->t, "fork"));
	assert_int_equal(portalloc_used(f->pa[0]), 0);
	assert_int_equal(portalloc_free(f->pa[0], T0 + 400), 498);
	assert_int_equal(portalloc_free(f->pa[0], T0 + 400 + QUARANTINE_MS), 500);

	/* At most CALL_MAX_BRANCHES forks. */
	free(fx_ok(f, CALL_OP_OFFER, "many", "from-1", NULL, SDP_CALLER, NULL, T0, NULL));
	for (unsigned i = 0; i < CALL_MAX_BRANCHES; i++) {
		snprintf(tagbuf, sizeof(tagbuf), "b%u", i);
		free(
		    fx_ok(f, CALL_OP_ANSWER, "many", "from-1", tagbuf, SDP_CALLEE, NULL, T0, NULL));
	}
	expect_fail(f, CALL_OP_ANSWER, "many", "from-1", "b-extra", SDP_CALLEE, NULL, -E2BIG,
		    "already has 8 branches");
	/* An existing branch may answer again. */
	free(fx_ok(f, CALL_OP_ANSWER, "many", "from-1", "b3", SDP_CALLEE2, NULL, T0, NULL));
	assert_int_equal(fx_streams(f, "many", st), 4);
	assert_string_equal(st[2].from_tag, "b3");
}

static void test_delete_delay(void **state)
{
	struct fix *f = *state;
	struct call_stream st[64];
	struct call *due[16];
	struct call_result r;
	struct call *c;
	char id[16];

	establish(f, "dd");
	c = calls_find(f->t, "dd");
	free(
	    fx_ok(f, CALL_OP_DELETE, "dd", "from-1", NULL, NULL, "delete-delay=30", T0 + 1000, &r));
	assert_false(r.removed);
	assert_ptr_equal(r.call, c);
	assert_int_equal(call_delete_at_ms(c), T0 + 31000);
	/* It keeps forwarding until then. */
	assert_int_equal(fx_streams(f, "dd", st), 4);
	assert_int_equal(calls_due(f->t, T0 + 30999, due, 16), 0);
	assert_int_equal(calls_due(f->t, T0 + 31000, due, 16), 1);
	assert_ptr_equal(due[0], c);
	/* A new offer revives it. */
	free(fx_ok(f, CALL_OP_OFFER, "dd", "from-1", "to-1", SDP_CALLER, NULL, T0 + 2000, NULL));
	assert_int_equal(call_delete_at_ms(c), 0);
	assert_int_equal(calls_due(f->t, T0 + 99000, due, 16), 0);
	/* A later delete never postpones an earlier one; delete-delay=0 removes now. */
	free(fx_ok(f, CALL_OP_DELETE, "dd", NULL, NULL, NULL, "delete-delay=10", T0 + 3000, NULL));
	free(fx_ok(f, CALL_OP_DELETE, "dd", NULL, NULL, NULL, "delete-delay=60", T0 + 3000, NULL));
	assert_int_equal(call_delete_at_ms(c), T0 + 13000);
	free(fx_ok(f, CALL_OP_DELETE, "dd", NULL, NULL, NULL, "delete-delay=0", T0 + 4000, &r));
	assert_true(r.removed);
	assert_null(calls_find(f->t, "dd"));
	assert_int_equal(calls_due(f->t, T0 + 99000, due, 16), 0);

	/* Many calls: exactly the due ones, whatever order they were marked in. */
	for (unsigned i = 0; i < 12; i++) {
		snprintf(id, sizeof(id), "d%u", i);
		free(fx_ok(f, CALL_OP_OFFER, id, "f", NULL, SDP_CALLER, NULL, T0, NULL));
	}
	for (unsigned i = 0; i < 12; i++) {
		char fl[32];

		snprintf(id, sizeof(id), "d%u", (i * 5) % 12);
		snprintf(fl, sizeof(fl), "delete-delay=%u", 1 + (i * 5) % 12);
		free(fx_ok(f, CALL_OP_DELETE, id, NULL, NULL, NULL, fl, T0, NULL));
	}
	assert_int_equal(calls_due(f->t, T0 + 4000, due, 16), 4); /* d0..d3 */
	for (unsigned i = 0; i < 4; i++) {
		assert_true(call_delete_at_ms(due[i]) <= T0 + 4000);
		calls_remove(f->t, due[i], T0 + 4000);
	}
	assert_int_equal(calls_count(f->t), 8);
	assert_int_equal(calls_due(f->t, T0 + 4000, due, 16), 0);
	assert_int_equal(calls_due(f->t, T0 + 12000, due, 3), 3); /* capped */
	assert_int_equal(calls_due(f->t, T0 + 12000, due, 16), 8);
	assert_int_equal(portalloc_used(f->pa[0]), 16);

	/* The configured default applies when the delete names no delay. */
	{
		struct fix *g = fx_new_ranges(30000, 30999);

		calls_destroy(g->t);
		g->cfg.delete_delay_s = 5;
		g->t = calls_create(&g->cfg);
		establish(g, "def");
		free(fx_ok(g, CALL_OP_DELETE, "def", "from-1", "to-1", NULL, NULL, T0 + 100, &r));
		assert_false(r.removed);
		assert_int_equal(call_delete_at_ms(calls_find(g->t, "def")), T0 + 5100);
		/* Deleting its only branch waits too, and keeps the branch forwarding. */
		assert_int_equal(fx_streams(g, "def", st), 4);
		fx_free(g);
	}
}

static void test_exhaustion(void **state)
{
	struct fix *f = fx_new_ranges(30000, 30005); /* 3 pairs */
	char offer[1024];
	char *before, *after;
	struct call_result r;

	(void)state;
	establish(f, "one");
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	/* The second call needs two pairs, one is left: nothing is taken, no call. */
	assert_int_equal(fx_run(f, &r, CALL_OP_OFFER, "two", "f", NULL, SDP_CALLER, NULL, T0),
			 -ENOSPC);
	assert_non_null(strstr(r.error, "no free relay port pair on interface 'a'"));
	assert_null(r.sdp);
	assert_null(r.call);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	assert_int_equal(portalloc_free(f->pa[0], T0), 1);
	assert_null(calls_find(f->t, "two"));
	assert_int_equal(calls_count(f->t), 1);
	/* The one free pair is still handed out first (cancel is no release). */
	before = state_of(f, "one");
	snprintf(offer, sizeof(offer), SDP_CALLER_VIDEO, 10002u);
	assert_int_equal(fx_run(f, &r, CALL_OP_OFFER, "one", "from-1", "to-1", offer, NULL, T0),
			 -ENOSPC);
	after = state_of(f, "one");
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
	assert_int_equal(portalloc_free(f->pa[0], T0), 1);
	fx_free(f);
}

static const char SDP_V6[] = "v=0\r\n"
			     "o=linphone 2145 3011 IN IP6 2001:db8:1::10\r\n"
			     "s=Talk\r\n"
			     "c=IN IP6 2001:db8:1::10\r\n"
			     "t=0 0\r\n"
			     "m=audio 7078 RTP/AVP 96 0 8 101\r\n"
			     "a=rtpmap:96 opus/48000/2\r\n"
			     "a=rtcp:7079 IN IP6 2001:db8:1::10\r\n";

static void test_errors(void **state)
{
	struct fix *f = *state;
	char *before, *after, big[CALL_ID_MAX + 2];

	expect_fail(f, CALL_OP_OFFER, "v6", "f", NULL, SDP_V6, NULL, -EAFNOSUPPORT,
		    "m= section 1 has IPv6 address 2001:db8:1::10 and no IPv6 media interface");
	assert_null(calls_find(f->t, "v6"));
	assert_int_equal(portalloc_used(f->pa[0]), 0);

	expect_fail(f, CALL_OP_OFFER, "x", "f", NULL, NULL, NULL, -EINVAL, "offer without SDP");
	expect_fail(f, CALL_OP_OFFER, "x", "f", NULL, "v=0\r\nbogus", NULL, -EINVAL, "bad SDP: ");
	expect_fail(f, CALL_OP_OFFER, NULL, "f", NULL, SDP_CALLER, NULL, -EINVAL,
		    "call-id missing");
	expect_fail(f, CALL_OP_OFFER, "x", "", NULL, SDP_CALLER, NULL, -EINVAL, "from-tag missing");
	expect_fail(f, CALL_OP_OFFER, "x\x01y", "f", NULL, SDP_CALLER, NULL, -EINVAL,
		    "call-id contains a control character");
	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_fail(f, CALL_OP_OFFER, big, "f", NULL, SDP_CALLER, NULL, -EINVAL,
		    "call-id longer than 256 bytes");
	assert_int_equal(calls_count(f->t), 0);

	expect_fail(f, CALL_OP_ANSWER, "nope", "f", "t", SDP_CALLEE, NULL, -ENOENT,
		    "unknown call 'nope'");
	establish(f, "e");
	before = state_of(f, "e");
	expect_fail(f, CALL_OP_ANSWER, "e", "from-1", NULL, SDP_CALLEE, NULL, -EINVAL,
		    "to-tag missing");
	expect_fail(f, CALL_OP_ANSWER, "e", "to-1", "from-1", SDP_CALLEE, NULL, -EINVAL,
		    "no offer from tag 'to-1' is pending on call 'e'");
	expect_fail(f, CALL_OP_ANSWER, "e", "from-1", "from-1", SDP_CALLEE, NULL, -EINVAL,
		    "is the caller's own tag");
	expect_fail(f, CALL_OP_ANSWER, "e", "from-1", "to-1", SDP_V6, NULL, -EAFNOSUPPORT, "IPv6");
	expect_fail(f, CALL_OP_ANSWER, "e", "from-1", "to-1", SDP_CALLEE, "rtcp-mux=sometimes",
		    -EINVAL, "malformed flag 'rtcp-mux=sometimes'");
	expect_fail(f, CALL_OP_DELETE, "nope", "f", NULL, NULL, NULL, -ENOENT,
		    "unknown call 'nope'");
	expect_fail(f, CALL_OP_DELETE, "e", "from-1", "to-7", NULL, NULL, -ENOENT,
		    "call 'e' has no party with tag 'to-7'");
	expect_fail(f, CALL_OP_DELETE, "e", "someone", NULL, NULL, NULL, -ENOENT,
		    "no party with tag 'someone'");
	expect_fail(f, CALL_OP_DELETE, "e", NULL, NULL, NULL, "delete-delay=soon", -EINVAL,
		    "malformed flag 'delete-delay=soon'");
	after = state_of(f, "e");
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(portalloc_used(f->pa[0]), 2);
}

/* The table at 100k calls: every call found again, then all removed. Calls whose only
 * section is rejected need no ports; a second loop churns through calls with ports. */
static void test_scale(void **state)
{
	static const char rejected[] = "v=0\r\no=- 1 1 IN IP4 203.0.113.10\r\ns=-\r\nt=0 0\r\n"
				       "m=audio 0 RTP/AVP 0\r\n";
	struct fix *f = fx_new_ranges(30000, 39999);
	enum { N = 100000, WINDOW = 1000 };
	struct call **due = malloc(N * sizeof(*due));
	char id[32];

	(void)state;
	assert_non_null(due);
	for (unsigned i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "scale-%u@example.com", i);
		free(fx_ok(f, CALL_OP_OFFER, id, "f", NULL, rejected, NULL, T0, NULL));
	}
	assert_int_equal(calls_count(f->t), N);
	for (unsigned i = 0; i < N; i++) {
		struct call *c;

		snprintf(id, sizeof(id), "scale-%u@example.com", i);
		c = calls_find(f->t, id);
		assert_non_null(c);
		assert_string_equal(call_id(c), id);
		if (i % 2 == 0)
			free(fx_ok(f, CALL_OP_DELETE, id, NULL, NULL, NULL, "delete-delay=10",
				   T0 + i, NULL));
	}
	assert_null(calls_find(f->t, "scale-100000@example.com"));
	assert_int_equal(calls_due(f->t, T0 + 10000 + N, due, N), N / 2);
	for (unsigned i = 0; i < N / 2; i++)
		calls_remove(f->t, due[i], T0 + 20000 + N);
	assert_int_equal(calls_count(f->t), N / 2);
	for (unsigned i = 1; i < N; i += 2) {
		snprintf(id, sizeof(id), "scale-%u@example.com", i);
		free(fx_ok(f, CALL_OP_DELETE, id, NULL, NULL, NULL, NULL, T0, NULL));
	}
	assert_int_equal(calls_count(f->t), 0);

	/* Churn with real ports: at most WINDOW calls live. */
	for (unsigned i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "churn-%u", i);
		free(
		    fx_ok(f, CALL_OP_OFFER, id, "f", NULL, SDP_CALLER, NULL, T0 + 10ull * i, NULL));
		if (i >= WINDOW) {
			snprintf(id, sizeof(id), "churn-%u", i - WINDOW);
			free(fx_ok(f, CALL_OP_DELETE, id, NULL, NULL, NULL, NULL, T0 + 10ull * i,
				   NULL));
		}
	}
	assert_int_equal(calls_count(f->t), WINDOW);
	assert_int_equal(portalloc_used(f->pa[0]), 2 * WINDOW);
	free(due);
	fx_free(f);
}

/* ---- SRTP (SDES) ---- */

#define F_RTCP RPA_DP_F_RTCP
#define F_MUX  RPA_DP_F_MUX

/* RFC 4568's example keys (AES_CM_128_*, 30 bytes) for the caller and the callee, and an
 * AEAD_AES_128_GCM key (28 bytes). */
#define KEY_A1 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define KEY_A2 "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"
#define KEY_B  "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj"
#define KEY_G  "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fw=="

#define AES80  RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80
#define AES32  RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32
#define GCM128 RPA_DP_SRTP_AEAD_AES_128_GCM

/* An Asterisk caller offering SRTP, crypto lines given (CRLF-terminated, or ""). */
static char *srtp_offer(const char *version, const char *proto, const char *cryptos,
			const char *extra)
{
	char *s = malloc(4096);

	assert_non_null(s);
	snprintf(s, 4096,
		 "v=0\r\n"
		 "o=- 1234567 %s IN IP4 203.0.113.10\r\n"
		 "s=Asterisk\r\n"
		 "c=IN IP4 203.0.113.10\r\n"
		 "t=0 0\r\n"
		 "m=audio 10000 %s 0 8 101\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:8 PCMA/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n"
		 "%s%s"
		 "a=sendrecv\r\n",
		 version, proto, cryptos, extra);
	return s;
}

/* A callee's answer with its a=crypto lines (or ""). */
static char *srtp_answer(const char *ip, unsigned port, const char *proto, const char *cryptos,
			 const char *extra)
{
	char *s = malloc(4096);

	assert_non_null(s);
	snprintf(s, 4096,
		 "v=0\r\n"
		 "o=- 1700000000 1700000001 IN IP4 %s\r\n"
		 "s=-\r\n"
		 "c=IN IP4 %s\r\n"
		 "t=0 0\r\n"
		 "m=audio %u %s 0 101\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "%s%s"
		 "a=sendrecv\r\n",
		 ip, ip, port, proto, cryptos, extra);
	return s;
}

static const char CALLER_CRYPTO[] = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A1 "\r\n"
				    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A2 "\r\n";

/* The key fx_random makes for a suite from position `start` of its sequence. */
static struct sdes_crypto key_at(uint32_t start, unsigned suite, uint32_t tag)
{
	struct sdes_crypto c;
	uint32_t n = start;

	assert_int_equal(sdes_generate(&c, tag, suite, fx_random, &n), 0);
	return c;
}

static struct sdes_crypto key_of(const char *b64, unsigned suite, uint32_t tag)
{
	struct sdes_crypto c;

	memset(&c, 0, sizeof(c));
	c.tag = tag;
	c.suite = (uint8_t)suite;
	assert_int_equal(sdes_key_decode(&c, b64, strlen(b64)), 0);
	return c;
}

/* The a=crypto lines of an SDP, parsed; returns how many (at most cap). */
static unsigned cryptos_of(const char *sdp, struct sdes_crypto *out, unsigned cap)
{
	unsigned n = 0;
	char err[SDES_ERRLEN];

	for (const char *p = strstr(sdp, "a=crypto:"); p != NULL; p = strstr(p + 1, "a=crypto:")) {
		const char *e = strstr(p, "\r\n");

		assert_non_null(e);
		assert_true(n < cap);
		if (sdes_parse(p + 9, (size_t)(e - p - 9), &out[n], NULL, err, sizeof(err)) != 0)
			fail_msg("the relay wrote a bad a=crypto line: %s", err);
		n++;
	}
	return n;
}

static void same_key(const struct sdes_crypto *got, const struct sdes_crypto *want)
{
	assert_int_equal(got->tag, want->tag);
	assert_int_equal(got->suite, want->suite);
	assert_true(sdes_same_key(got, want));
}

/* No message may carry a key: none of these keys' 8-character pieces, no "inline:". */
static void no_keys_in(const char *msg)
{
	static const char *const keys[] = {KEY_A1, KEY_A2, KEY_B, KEY_G};
	struct sdes_crypto c;
	char b64[SDES_KEY_B64 + 1];

	assert_null(strstr(msg, "inline:"));
	for (unsigned k = 0; k < 4 + 6; k++) {
		const char *key = keys[k < 4 ? k : 0];
		size_t n;

		if (k >= 4) { /* keys the relay made in these tests */
			c = key_at(30 * (k - 4), AES80, 1);
			sdes_key_encode(&c, b64, sizeof(b64));
			key = b64;
		}
		n = strlen(key);
		for (size_t i = 0; i + 8 <= n; i++) {
			char piece[9];

			memcpy(piece, key + i, 8);
			piece[8] = '\0';
			if (strstr(msg, piece) != NULL)
				fail_msg("\"%s\" contains key material", msg);
		}
	}
}

static void sdes_fail(struct fix *f, enum call_op op, const char *id, const char *from,
		      const char *to, const char *sdp, const char *flags, int rc,
		      const char *in_msg)
{
	struct call_result r;

	assert_int_equal(fx_run(f, &r, op, id, from, to, sdp, flags, T0 + 5000), rc);
	assert_null(r.sdp);
	if (strstr(r.error, in_msg) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", r.error, in_msg);
	no_keys_in(r.error);
	no_keys_in(r.warning);
	call_result_clear(&r);
}

static const char WANT_SRTP_ANSWER[] = "v=0\r\n"
				       "o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.20\r\n"
				       "s=FreeSWITCH\r\n"
				       "c=IN IP4 192.0.2.1\r\n"
				       "t=0 0\r\n"
				       "m=audio 30000 RTP/SAVP 0 101\r\n"
				       "a=rtpmap:0 PCMU/8000\r\n"
				       "a=rtpmap:101 telephone-event/8000\r\n"
				       "a=fmtp:101 0-16\r\n"
				       "a=ptime:20\r\n"
				       "a=sendrecv\r\n"
				       "a=rtcp:30001\r\n"
				       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
				       "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n";

/* SRTP caller, plain callee: the relay answers the caller with its own key and decrypts
 * what the caller sends, encrypts what goes back. */
static void test_srtp_to_rtp(void **state)
{
	struct fix *f = *state;
	char *offer = srtp_offer("1234567", "RTP/SAVP", CALLER_CRYPTO, "");
	struct sdes_crypto a1 = key_of(KEY_A1, AES80, 1), ours = key_at(0, AES80, 1);
	struct call_stream st[64];
	struct call_result r;
	uint64_t tag;
	char *sdp;

	sdp = fx_ok(f, CALL_OP_OFFER, "s1", "caller", NULL, offer, "transport-protocol=RTP/AVP", T0,
		    &r);
	assert_string_equal(r.warning, "");
	assert_non_null(strstr(sdp, "\r\nm=audio 30002 RTP/AVP 0 8 101\r\n"));
	assert_null(strstr(sdp, "a=crypto"));
	assert_null(strstr(sdp, "SAVP"));
	free(sdp);
	assert_int_equal(f->rnd, 30); /* one key: the relay's towards the caller */
	tag = call_dp_tag(calls_find(f->t, "s1"));
	/* Early media towards the caller is already encrypted with the relay's key. */
	assert_int_equal(fx_streams(f, "s1", st), 2);
	fx_stream_srtp(&st[0], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL,
		       F_LATCH, tag, "", 0, 1, NULL, &ours);
	fx_stream_srtp(&st[1], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001", NULL,
		       F_LATCH | F_RTCP, tag, "", 0, 2, NULL, &ours);

	sdp = fx_ok(f, CALL_OP_ANSWER, "s1", "caller", "callee", SDP_CALLEE, NULL, T0 + 1000, &r);
	fx_sdp_equal(sdp, WANT_SRTP_ANSWER);
	free(sdp);
	assert_string_equal(r.warning, "");
	assert_int_equal(fx_streams(f, "s1", st), 4);
	fx_stream_srtp(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		       F_LATCH, tag, "caller", 0, 1, &a1, NULL);
	fx_stream_srtp(&st[1], "192.0.2.1:30001", "192.0.2.1:30003", "198.51.100.21:20005", NULL,
		       F_LATCH | F_RTCP, tag, "caller", 0, 2, &a1, NULL);
	fx_stream_srtp(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL,
		       F_LATCH, tag, "callee", 0, 1, NULL, &ours);
	fx_stream_srtp(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001", NULL,
		       F_LATCH | F_RTCP, tag, "callee", 0, 2, NULL, &ours);
	free(offer);
}

static const char CALLEE_GCM[] = "a=crypto:3 AEAD_AES_128_GCM inline:" KEY_G "\r\n";

/* Plain caller, SRTP callee: the relay offers every suite with keys of its own; the
 * answer picks one tag; bad answers are refused and change nothing. */
static void test_rtp_to_srtp(void **state)
{
	static const uint8_t order[6] = {AES80,
					 AES32,
					 GCM128,
					 RPA_DP_SRTP_AEAD_AES_256_GCM,
					 RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80,
					 RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32};
	struct fix *f = *state;
	struct sdes_crypto offered[8], g = key_of(KEY_G, GCM128, 3);
	struct call_stream st[64];
	struct call_result r;
	char *sdp, *ans, *before, *after;
	uint32_t pos = 0;
	uint64_t tag;

	sdp = fx_ok(f, CALL_OP_OFFER, "s2", "caller", NULL, SDP_CALLER,
		    "transport-protocol=RTP/SAVP", T0, NULL);
	assert_non_null(strstr(sdp, "\r\nm=audio 30002 RTP/SAVP 0 8 101\r\n"));
	/* Six lines, tags 1..6, in sdes_offer_order, each its own key, after the other
	 * attributes. */
	assert_int_equal(cryptos_of(sdp, offered, 8), 6);
	for (unsigned k = 0; k < 6; k++) {
		struct sdes_crypto want = key_at(pos, order[k], k + 1);

		same_key(&offered[k], &want);
		pos += rpa_dp_srtp_key_len(order[k]) + rpa_dp_srtp_salt_len(order[k]);
	}
	assert_int_equal(f->rnd, pos);
	assert_non_null(strstr(sdp, "a=rtcp:30003\r\na=crypto:1 "));
	free(sdp);
	tag = call_dp_tag(calls_find(f->t, "s2"));
	/* The callee's key is unknown until it answers: nothing from its side yet, and the
	 * caller's plain stream waits for the callee's address. */
	assert_int_equal(fx_streams(f, "s2", st), 0);

	before = state_of(f, "s2");
	ans = srtp_answer("198.51.100.20", 20000, "RTP/SAVP",
			  "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n", "");
	sdes_fail(f, CALL_OP_ANSWER, "s2", "caller", "callee", ans, NULL, -EINVAL,
		  "m= section 1: the answer's a=crypto tag 3 names AES_CM_128_HMAC_SHA1_80, "
		  "offered as AEAD_AES_128_GCM");
	free(ans);
	ans = srtp_answer("198.51.100.20", 20000, "RTP/SAVP",
			  "a=crypto:9 AEAD_AES_128_GCM inline:" KEY_G "\r\n", "");
	sdes_fail(f, CALL_OP_ANSWER, "s2", "caller", "callee", ans, NULL, -EINVAL,
		  "m= section 1: the answer's a=crypto line names no tag the offer had");
	free(ans);
	ans = srtp_answer("198.51.100.20", 20000, "RTP/SAVP",
			  "a=crypto:3 AEAD_AES_128_GCM inline:" KEY_B "\r\n", "");
	sdes_fail(f, CALL_OP_ANSWER, "s2", "caller", "callee", ans, NULL, -EINVAL,
		  "m= section 1: the answer's a=crypto tag 3: inline key||salt is 30 bytes, "
		  "AEAD_AES_128_GCM needs 28");
	free(ans);
	ans = srtp_answer("198.51.100.20", 20000, "RTP/SAVP", "", "");
	sdes_fail(f, CALL_OP_ANSWER, "s2", "caller", "callee", ans, NULL, -EINVAL,
		  "m= section 1: the answer accepts SRTP without an a=crypto line");
	free(ans);
	after = state_of(f, "s2");
	assert_string_equal(before, after);
	free(before);
	free(after);

	ans = srtp_answer("198.51.100.20", 20000, "RTP/SAVP", CALLEE_GCM, "");
	sdp = fx_ok(f, CALL_OP_ANSWER, "s2", "caller", "callee", ans, NULL, T0 + 1000, &r);
	free(ans);
	assert_non_null(strstr(sdp, "\r\nm=audio 30000 RTP/AVP 0 101\r\n"));
	assert_null(strstr(sdp, "a=crypto"));
	free(sdp);
	assert_int_equal(fx_streams(f, "s2", st), 4);
	fx_stream_srtp(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		       F_LATCH, tag, "caller", 0, 1, NULL, &offered[2]);
	fx_stream_srtp(&st[1], "192.0.2.1:30001", "192.0.2.1:30003", "198.51.100.20:20001", NULL,
		       F_LATCH | F_RTCP, tag, "caller", 0, 2, NULL, &offered[2]);
	fx_stream_srtp(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL,
		       F_LATCH, tag, "callee", 0, 1, &g, NULL);
	fx_stream_srtp(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001", NULL,
		       F_LATCH | F_RTCP, tag, "callee", 0, 2, &g, NULL);

	/* A callee that answers RTP/AVP without a=crypto declined SRTP: plain both ways,
	 * with a warning. */
	free(fx_ok(f, CALL_OP_OFFER, "s2b", "caller", NULL, SDP_CALLER,
		   "transport-protocol=RTP/SAVP", T0, NULL));
	sdp = fx_ok(f, CALL_OP_ANSWER, "s2b", "caller", "callee", SDP_CALLEE, NULL, T0 + 1000, &r);
	free(sdp);
	assert_non_null(strstr(r.warning, "m= section 1: the answer declined SRTP (RTP/AVP without "
					  "a=crypto): media to and from that party stays plain"));
	no_keys_in(r.warning);
	assert_int_equal(fx_streams(f, "s2b", st), 4);
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(st[k].dp.rx.suite, RPA_DP_SRTP_NONE);
		assert_int_equal(st[k].dp.tx.suite, RPA_DP_SRTP_NONE);
		assert_int_equal(st[k].dp.flags, F_LATCH);
	}
}

/* SRTP on both legs: re-keyed, each leg with keys of its own; re-INVITEs keep the relay's
 * keys and take a party's new key. */
static void test_srtp_rekey(void **state)
{
	struct fix *f = *state;
	/* The caller's first line has an MKI the relay cannot honour: its second is used. */
	char *offer = srtp_offer("1", "RTP/SAVP",
				 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A1 "|2^20|1:8\r\n"
				 "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A2 "\r\n",
				 "");
	char *ans = srtp_answer("198.51.100.20", 20000, "RTP/SAVP",
				"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n", "");
	struct sdes_crypto a2 = key_of(KEY_A2, AES32, 2), b = key_of(KEY_B, AES80, 1);
	struct sdes_crypto to_caller = key_at(0, AES32, 2), to_callee = key_at(30, AES80, 1);
	struct sdes_crypto offered[8], answered[2], a_new = key_of(KEY_A1, AES32, 2);
	struct call_stream st[64], st2[64];
	char *sdp, *sdp2, *ans1, *ans2, *off2;
	uint64_t tag;

	sdp = fx_ok(f, CALL_OP_OFFER, "s3", "caller", NULL, offer, NULL, T0, NULL);
	assert_non_null(strstr(sdp, "\r\nm=audio 30002 RTP/SAVP 0 8 101\r\n"));
	assert_null(strstr(sdp, KEY_A1));
	assert_null(strstr(sdp, KEY_A2));
	assert_int_equal(cryptos_of(sdp, offered, 8), 6);
	same_key(&offered[0], &to_callee);
	assert_int_equal(f->rnd, 254);
	tag = call_dp_tag(calls_find(f->t, "s3"));

	ans1 = fx_ok(f, CALL_OP_ANSWER, "s3", "caller", "callee", ans, NULL, T0 + 100, NULL);
	assert_non_null(strstr(ans1, "\r\nm=audio 30000 RTP/SAVP 0 101\r\n"));
	assert_null(strstr(ans1, KEY_B));
	assert_int_equal(cryptos_of(ans1, answered, 2), 1);
	same_key(&answered[0], &to_caller); /* the caller's tag 2 and suite, the relay's key */
	assert_int_equal(fx_streams(f, "s3", st), 4);
	fx_stream_srtp(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		       F_LATCH, tag, "caller", 0, 1, &a2, &to_callee);
	fx_stream_srtp(&st[1], "192.0.2.1:30001", "192.0.2.1:30003", "198.51.100.20:20001", NULL,
		       F_LATCH | F_RTCP, tag, "caller", 0, 2, &a2, &to_callee);
	fx_stream_srtp(&st[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL,
		       F_LATCH, tag, "callee", 0, 1, &b, &to_caller);
	fx_stream_srtp(&st[3], "192.0.2.1:30003", "192.0.2.1:30001", "203.0.113.10:10001", NULL,
		       F_LATCH | F_RTCP, tag, "callee", 0, 2, &b, &to_caller);

	/* The same re-INVITE: the same offer onward (so the same o= version), no new key,
	 * the same streams. */
	sdp2 = fx_ok(f, CALL_OP_OFFER, "s3", "caller", "callee", offer, NULL, T0 + 200, NULL);
	assert_string_equal(sdp, sdp2);
	free(sdp2);
	assert_int_equal(f->rnd, 254);
	assert_int_equal(fx_streams(f, "s3", st2), 4);
	assert_memory_equal(st, st2, 4 * sizeof(st[0]));
	ans2 = fx_ok(f, CALL_OP_ANSWER, "s3", "caller", "callee", ans, NULL, T0 + 300, NULL);
	assert_string_equal(ans1, ans2);
	free(ans2);

	/* The caller changes its key (same suite): what it sends is decrypted with the new
	 * one; the relay's keys stay. */
	free(offer);
	offer = srtp_offer("2", "RTP/SAVP",
			   "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A1 "\r\n", "");
	sdp2 = fx_ok(f, CALL_OP_OFFER, "s3", "caller", "callee", offer, NULL, T0 + 400, NULL);
	assert_string_equal(sdp, sdp2);
	free(sdp2);
	assert_int_equal(f->rnd, 254);
	ans2 = fx_ok(f, CALL_OP_ANSWER, "s3", "caller", "callee", ans, NULL, T0 + 500, NULL);
	assert_string_equal(ans1, ans2);
	free(ans2);
	assert_int_equal(fx_streams(f, "s3", st2), 4);
	fx_stream_srtp(&st2[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		       F_LATCH, tag, "caller", 0, 1, &a_new, &to_callee);
	assert_memory_equal(&st2[2], &st[2], 2 * sizeof(st[0]));

	/* It changes the suite: the relay answers with a new key of that suite. */
	free(offer);
	offer = srtp_offer("3", "RTP/SAVP", "a=crypto:7 AEAD_AES_128_GCM inline:" KEY_G "\r\n", "");
	free(fx_ok(f, CALL_OP_OFFER, "s3", "caller", "callee", offer, NULL, T0 + 600, NULL));
	assert_int_equal(f->rnd, 254 + 28);
	ans2 = fx_ok(f, CALL_OP_ANSWER, "s3", "caller", "callee", ans, NULL, T0 + 700, NULL);
	assert_int_equal(cryptos_of(ans2, answered, 2), 1);
	to_caller = key_at(254, GCM128, 7);
	same_key(&answered[0], &to_caller);
	free(ans2);

	/* The callee re-INVITEs with its key: the relay answers it with the key it offered
	 * it under that tag, and offers the caller its current key first (same tag), then
	 * the other suites with new keys. */
	off2 = fx_ok(f, CALL_OP_OFFER, "s3", "callee", "caller", ans, NULL, T0 + 900, NULL);
	assert_int_equal(cryptos_of(off2, offered, 8), 6);
	same_key(&offered[0], &to_caller);
	assert_int_equal(offered[1].suite, AES80);
	assert_int_equal(offered[1].tag, 1);
	assert_int_equal(offered[2].tag, 2);
	free(off2);
	sdp2 = fx_ok(f, CALL_OP_ANSWER, "s3", "callee", "caller", offer, NULL, T0 + 1000, NULL);
	assert_int_equal(cryptos_of(sdp2, answered, 2), 1);
	same_key(&answered[0], &to_callee);
	free(sdp2);
	assert_int_equal(fx_streams(f, "s3", st2), 4);
	{
		struct sdes_crypto g = key_of(KEY_G, GCM128, 7);

		fx_stream_srtp(&st2[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000",
			       NULL, F_LATCH, tag, "caller", 0, 1, &g, &to_callee);
		fx_stream_srtp(&st2[2], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000",
			       NULL, F_LATCH, tag, "callee", 0, 1, &b, &to_caller);
	}
	free(sdp);
	free(ans1);
	free(ans);
	free(offer);
}

/* sdes-passthrough: a=crypto and payloads untouched, no keys anywhere in the relay. */
static void test_sdes_passthrough(void **state)
{
	struct fix *f = *state;
	char *offer = srtp_offer("1", "RTP/SAVP", CALLER_CRYPTO, "");
	char *ans = srtp_answer("198.51.100.20", 20000, "RTP/SAVP",
				"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n", "");
	struct call_stream st[64];
	char *sdp, *state_text;

	sdp = fx_ok(f, CALL_OP_OFFER, "s4", "caller", NULL, offer, "sdes-passthrough", T0, NULL);
	assert_non_null(strstr(sdp, "\r\nm=audio 30002 RTP/SAVP 0 8 101\r\n"));
	assert_non_null(strstr(sdp, CALLER_CRYPTO));
	free(sdp);
	sdp = fx_ok(f, CALL_OP_ANSWER, "s4", "caller", "callee", ans, NULL, T0 + 100, NULL);
	assert_non_null(strstr(sdp, "\r\nm=audio 30000 RTP/SAVP 0 101\r\n"));
	assert_non_null(strstr(sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n"));
	free(sdp);
	assert_int_equal(f->rnd, 0);
	assert_int_equal(fx_streams(f, "s4", st), 4);
	for (unsigned k = 0; k < 4; k++) {
		struct rpa_dp_srtp none;

		memset(&none, 0, sizeof(none));
		assert_memory_equal(&st[k].dp.rx, &none, sizeof(none));
		assert_memory_equal(&st[k].dp.tx, &none, sizeof(none));
		assert_int_equal(st[k].dp.flags, F_LATCH);
		assert_true(st[k].sdes_passthrough);
		assert_int_equal(st[k].srtp_in, AES80);
		assert_int_equal(st[k].srtp_out, AES80);
	}
	state_text = state_of(f, "s4");
	no_keys_in(state_text);
	assert_non_null(strstr(state_text, "\"mode\":\"passthrough\""));
	free(state_text);

	/* A re-offer without the flag stays passthrough; with a plain profile for the other
	 * side it is an error together with the flag, and a conversion without it. */
	sdp = fx_ok(f, CALL_OP_OFFER, "s4", "caller", "callee", offer, NULL, T0 + 200, NULL);
	assert_non_null(strstr(sdp, CALLER_CRYPTO));
	free(sdp);
	sdes_fail(f, CALL_OP_OFFER, "s4", "caller", "callee", offer,
		  "sdes-passthrough transport-protocol=RTP/AVP", -EINVAL,
		  "sdes-passthrough keeps SRTP end to end: transport-protocol=RTP/AVP cannot apply "
		  "to m= section 1 (RTP/SAVP)");
	sdp = fx_ok(f, CALL_OP_OFFER, "s4", "caller", "callee", offer, "transport-protocol=RTP/AVP",
		    T0 + 300, NULL);
	assert_non_null(strstr(sdp, "\r\nm=audio 30002 RTP/AVP 0 8 101\r\n"));
	assert_null(strstr(sdp, "a=crypto"));
	free(sdp);
	/* A plain offer with the flag: nothing to pass through, nothing changed. */
	sdp = fx_ok(f, CALL_OP_OFFER, "s4b", "caller", NULL, SDP_CALLER, "sdes-passthrough", T0,
		    NULL);
	assert_non_null(strstr(sdp, "\r\nm=audio 30006 RTP/AVP 0 8 101\r\n"));
	assert_null(strstr(sdp, "a=crypto"));
	free(sdp);
	state_text = state_of(f, "s4b");
	assert_non_null(strstr(state_text, "\"sdes\":null"));
	free(state_text);
	free(offer);
	free(ans);
}

static int broken_random(void *buf, size_t len, void *arg)
{
	(void)buf;
	(void)len;
	(void)arg;
	return -EIO;
}

/* Offers the relay cannot bridge: clear errors that quote no key and take nothing. */
static void test_sdes_errors(void **state)
{
	struct fix *f = *state;
	char lines[17 * 100], *sdp;
	size_t n = 0;

	sdp =
	    srtp_offer("1", "RTP/SAVP",
		       "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" KEY_A1 "\r\n"
		       "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A2 "|2^20|1:8\r\n"
		       "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A2 ";inline:" KEY_B "\r\n",
		       "");
	sdes_fail(f, CALL_OP_OFFER, "e1", "caller", NULL, sdp, NULL, -ENOTSUP,
		  "m= section 1 (RTP/SAVP): no supported crypto suite in its 3 a=crypto lines: "
		  "a=crypto tag 1: unknown crypto suite 'F8_128_HMAC_SHA1_80'; a=crypto tag 2: "
		  "MKI of 8 bytes: rtpanchor handles MKIs of 1 to 4 bytes; a=crypto tag 3: "
		  "several keys");
	free(sdp);
	sdp = srtp_offer("1", "RTP/SAVP",
			 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A1 "|1:5\r\n", "");
	sdes_fail(f, CALL_OP_OFFER, "e1", "caller", NULL, sdp, "transport-protocol=RTP/AVP",
		  -ENOTSUP, "a=crypto tag 1: MKI of 5 bytes");
	free(sdp);
	sdp = srtp_offer("1", "RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_G "\r\n",
			 "");
	sdes_fail(f, CALL_OP_OFFER, "e1", "caller", NULL, sdp, NULL, -EINVAL,
		  "a=crypto tag 1: inline key||salt is 28 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");
	free(sdp);
	sdp = srtp_offer("1", "RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%%%%\r\n", "");
	sdes_fail(f, CALL_OP_OFFER, "e1", "caller", NULL, sdp, NULL, -EINVAL, "key is not base64");
	free(sdp);
	for (int k = 0; k < 17; k++)
		n += (size_t)snprintf(lines + n, sizeof(lines) - n,
				      "a=crypto:%d AES_CM_128_HMAC_SHA1_80 inline:" KEY_A1 "\r\n",
				      k + 1);
	sdp = srtp_offer("1", "RTP/SAVP", lines, "");
	sdes_fail(f, CALL_OP_OFFER, "e1", "caller", NULL, sdp, NULL, -E2BIG,
		  "m= section 1 has more than 16 a=crypto lines");
	free(sdp);
	/* SAVP without a=crypto (keyed some other way) cannot be converted... */
	sdp = srtp_offer("1", "RTP/SAVP", "a=zrtp-hash:1.10 abcdef\r\n", "");
	sdes_fail(f, CALL_OP_OFFER, "e1", "caller", NULL, sdp, "transport-protocol=RTP/AVP",
		  -ENOTSUP,
		  "m= section 1 is RTP/SAVP without a=crypto: rtpanchor converts SDES-keyed SRTP "
		  "only");
	/* ...but passes untouched when nothing asks to convert it. */
	free(fx_ok(f, CALL_OP_OFFER, "e2", "caller", NULL, sdp, NULL, T0, NULL));
	free(sdp);
	/* DTLS-SRTP: refused for conversion, untouched otherwise. */
	sdp = srtp_offer("1", "UDP/TLS/RTP/SAVPF", "a=fingerprint:sha-256 AB:CD\r\n", "");
	sdes_fail(f, CALL_OP_OFFER, "e1", "caller", NULL, sdp, "transport-protocol=RTP/AVP",
		  -ENOTSUP,
		  "m= section 1 has transport 'UDP/TLS/RTP/SAVPF', which transport-protocol= "
		  "cannot convert");
	{
		char *out = fx_ok(f, CALL_OP_OFFER, "e3", "caller", NULL, sdp, NULL, T0, NULL);

		assert_non_null(strstr(out, "m=audio 30004 UDP/TLS/RTP/SAVPF 0 8 101\r\n"));
		assert_non_null(strstr(out, "a=fingerprint:sha-256 AB:CD\r\n"));
		free(out);
	}
	free(sdp);
	assert_null(calls_find(f->t, "e1"));
	assert_int_equal(portalloc_used(f->pa[0]), 4); /* e2 and e3 only */
	assert_int_equal(f->rnd, 0);

	/* No random bytes: nothing is created. */
	{
		struct fix *g = fx_new_ranges(30000, 30999);

		calls_destroy(g->t);
		g->cfg.random = broken_random;
		g->t = calls_create(&g->cfg);
		sdes_fail(g, CALL_OP_OFFER, "e4", "caller", NULL, SDP_CALLER,
			  "transport-protocol=RTP/SAVP", -EIO,
			  "cannot make SRTP keys: no random bytes (Input/output error)");
		assert_int_equal(calls_count(g->t), 0);
		assert_int_equal(portalloc_used(g->pa[0]), 0);
		fx_free(g);
	}
}

/* rtcp-mux on both legs (streams flagged MUX) and forking: each branch's tag picks the
 * relay's key towards it. */
static void test_srtp_mux_forking(void **state)
{
	struct fix *f = *state;
	char *offer = srtp_offer("1", "RTP/SAVPF", CALLER_CRYPTO, "a=rtcp-mux\r\n");
	char *ans1 = srtp_answer("198.51.100.20", 20000, "RTP/SAVPF",
				 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n",
				 "a=rtcp-mux\r\n");
	char *ans2 = srtp_answer("198.51.100.30", 2222, "RTP/SAVPF", CALLEE_GCM, "a=rtcp-mux\r\n");
	struct sdes_crypto a1 = key_of(KEY_A1, AES80, 1), b = key_of(KEY_B, AES80, 1),
			   g = key_of(KEY_G, GCM128, 3);
	struct sdes_crypto to_caller = key_at(0, AES80, 1), to_b1 = key_at(30, AES80, 1),
			   to_b2 = key_at(90, GCM128, 3);
	struct call_stream st[64];
	uint64_t tag;
	char *sdp;

	sdp = fx_ok(f, CALL_OP_OFFER, "s5", "caller", NULL, offer, NULL, T0, NULL);
	assert_non_null(strstr(sdp, "\r\nm=audio 30002 RTP/SAVPF 0 8 101\r\n"));
	free(sdp);
	tag = call_dp_tag(calls_find(f->t, "s5"));
	free(fx_ok(f, CALL_OP_ANSWER, "s5", "caller", "b1", ans1, NULL, T0 + 100, NULL));
	free(fx_ok(f, CALL_OP_ANSWER, "s5", "caller", "b2", ans2, NULL, T0 + 200, NULL));
	assert_int_equal(fx_streams(f, "s5", st), 2);
	fx_stream_srtp(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.30:2222", NULL,
		       F_LATCH | F_MUX, tag, "caller", 0, 1, &a1, &to_b2);
	fx_stream_srtp(&st[1], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL,
		       F_LATCH | F_MUX, tag, "b2", 0, 1, &g, &to_caller);
	free(fx_ok(f, CALL_OP_DELETE, "s5", "caller", "b2", NULL, NULL, T0 + 300, NULL));
	assert_int_equal(fx_streams(f, "s5", st), 2);
	fx_stream_srtp(&st[0], "192.0.2.1:30000", "192.0.2.1:30002", "198.51.100.20:20000", NULL,
		       F_LATCH | F_MUX, tag, "caller", 0, 1, &a1, &to_b1);
	fx_stream_srtp(&st[1], "192.0.2.1:30002", "192.0.2.1:30000", "203.0.113.10:10000", NULL,
		       F_LATCH | F_MUX, tag, "b1", 0, 1, &b, &to_caller);
	free(offer);
	free(ans1);
	free(ans2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_offer_answer, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_interfaces_and_addresses, fx_setup, fx_teardown),
	    cmocka_unit_test(test_rtcp_mux_modes),
	    cmocka_unit_test_setup_teardown(test_endpoint_flags, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ice_remove, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reinvite_caller, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reinvite_callee, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_add_and_reject_media, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_hold, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_t38, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_forking, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_delay, fx_setup, fx_teardown),
	    cmocka_unit_test(test_exhaustion),
	    cmocka_unit_test_setup_teardown(test_errors, fx_setup, fx_teardown),
	    cmocka_unit_test(test_scale),
	    cmocka_unit_test_setup_teardown(test_srtp_to_rtp, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rtp_to_srtp, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_srtp_rekey, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sdes_passthrough, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sdes_errors, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_srtp_mux_forking, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
