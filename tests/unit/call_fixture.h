/* Shared set-up for the call tests: three media interfaces with their own port ranges,
 * helpers to run commands and to check dataplane streams field by field, and realistic
 * SDPs (Asterisk caller, FreeSWITCH callee, Polycom, a WebRTC browser). */
#ifndef RTPANCHOR_TEST_CALL_FIXTURE_H
#define RTPANCHOR_TEST_CALL_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "call.h"
#include "portalloc.h"
#include "sdes.h"

#define T0	      1700000000000ull /* a realistic CLOCK_REALTIME in ms */
#define LATCH_MS      3000u
#define QUARANTINE_MS 10000u

/* "a": 192.0.2.1, ports 30000-30999. "b": 198.51.100.1, ports 40000-40999.
 * "nat": local 10.1.0.1 advertised as 203.0.113.50, ports 50000-50099. */
struct fix {
	struct portalloc *pa[3];
	struct calls_config cfg;
	struct calls *t;
	uint32_t rnd; /* the next position of fx_random's sequence */
};

/* The "random" bytes SRTP keys are made of in tests: byte n of the sequence is
 * n + 7 * (n >> 8) (mod 256), so keys are deterministic, the first 256 bytes are 0, 1, 2...,
 * and no two keys of a test repeat. */
static inline uint8_t fx_random_byte(uint32_t n)
{
	return (uint8_t)(n + 7 * (n >> 8));
}

static inline int fx_random(void *buf, size_t len, void *arg)
{
	uint32_t *next = arg;

	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = fx_random_byte((*next)++);
	return 0;
}

static inline struct rpa_addr fx_addr(const char *s)
{
	struct rpa_addr a;

	assert_int_equal(rpa_addr_parse(s, &a), 0);
	return a;
}

static inline void fx_iface(struct fix *f, unsigned i, const char *name, const char *local,
			    const char *adv, uint16_t min, uint16_t max)
{
	struct call_iface *ifc = &f->cfg.ifaces[i];

	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->local = fx_addr(local);
	ifc->advertised = fx_addr(adv);
	f->pa[i] = portalloc_create(min, max, QUARANTINE_MS);
	assert_non_null(f->pa[i]);
	ifc->ports = f->pa[i];
}

static inline struct fix *fx_new_ranges(uint16_t amin, uint16_t amax)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_iface(f, 0, "a", "192.0.2.1", "192.0.2.1", amin, amax);
	fx_iface(f, 1, "b", "198.51.100.1", "198.51.100.1", 40000, 40999);
	fx_iface(f, 2, "nat", "10.1.0.1", "203.0.113.50", 50000, 50099);
	f->cfg.nifaces = 3;
	snprintf(f->cfg.node, sizeof(f->cfg.node), "node1");
	f->cfg.latch_window_ms = LATCH_MS;
	f->cfg.random = fx_random;
	f->cfg.random_arg = &f->rnd;
	f->t = calls_create(&f->cfg);
	assert_non_null(f->t);
	return f;
}

static inline int fx_setup(void **state)
{
	*state = fx_new_ranges(30000, 30999);
	return 0;
}

static inline void fx_free(struct fix *f)
{
	calls_destroy(f->t);
	for (unsigned i = 0; i < 3; i++)
		portalloc_destroy(f->pa[i]);
	free(f);
}

static inline int fx_teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* Run one command; r must be cleared by the caller (call_result_clear). */
static inline int fx_run(struct fix *f, struct call_result *r, enum call_op op, const char *id,
			 const char *from, const char *to, const char *sdp, const char *flags,
			 uint64_t now)
{
	struct call_request req = {
	    .op = op,
	    .call_id = id,
	    .from_tag = from,
	    .to_tag = to,
	    .sdp = sdp,
	    .sdp_len = sdp ? strlen(sdp) : 0,
	    .flags = flags,
	};

	return calls_apply(f->t, &req, now, r);
}

/* A command that must succeed; returns the SDP (malloc'd, NUL-terminated) or NULL. */
static inline char *fx_ok(struct fix *f, enum call_op op, const char *id, const char *from,
			  const char *to, const char *sdp, const char *flags, uint64_t now,
			  struct call_result *keep)
{
	struct call_result r;
	char *out = NULL;
	int rc = fx_run(f, &r, op, id, from, to, sdp, flags, now);

	if (rc != 0)
		fail_msg("command %d on %s failed: %d %s", op, id, rc, r.error);
	assert_int_equal(r.status, 0);
	if (r.sdp != NULL) {
		out = malloc(r.sdp_len + 1);
		assert_non_null(out);
		memcpy(out, r.sdp, r.sdp_len);
		out[r.sdp_len] = '\0';
	}
	if (keep != NULL)
		*keep = r;
	call_result_clear(&r);
	if (keep != NULL) {
		keep->sdp = NULL;
		keep->sdp_len = 0;
	}
	return out;
}

static inline void fx_sdp_equal(const char *got, const char *want)
{
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("SDP differs.\n--- got:\n%s\n--- want:\n%s", got ? got : "(null)", want);
}

static inline struct rpa_endpoint fx_ep(const char *s)
{
	struct rpa_endpoint e;

	memset(&e, 0, sizeof(e));
	if (s != NULL)
		assert_int_equal(rpa_endpoint_parse(s, &e), 0);
	return e;
}

/* Check every field of one stream (dst/expect NULL = unspecified), its SRTP keys included:
 * rx/tx NULL = plain in that direction. */
static inline void fx_stream_srtp(const struct call_stream *cs, const char *local, const char *src,
				  const char *dst, const char *expect, uint32_t flags, uint64_t tag,
				  const char *from_tag, unsigned media, unsigned comp,
				  const struct sdes_crypto *rx, const struct sdes_crypto *tx)
{
	struct rpa_dp_stream want;
	char a[RPA_ENDPOINT_STRLEN], b[RPA_ENDPOINT_STRLEN], c[RPA_ENDPOINT_STRLEN],
	    d[RPA_ENDPOINT_STRLEN];

	memset(&want, 0, sizeof(want));
	want.local = fx_ep(local);
	want.src = fx_ep(src);
	want.dst = fx_ep(dst);
	want.expect = fx_ep(expect);
	want.flags = flags;
	want.latch_window_ms = LATCH_MS;
	want.tag = tag;
	sdes_to_dp(rx, &want.rx);
	sdes_to_dp(tx, &want.tx);
	if (memcmp(&cs->dp.rx, &want.rx, sizeof(want.rx)) != 0)
		fail_msg("stream local %s: rx suite %u (want %u) or its key differs", local,
			 cs->dp.rx.suite, want.rx.suite);
	if (memcmp(&cs->dp.tx, &want.tx, sizeof(want.tx)) != 0)
		fail_msg("stream local %s: tx suite %u (want %u) or its key differs", local,
			 cs->dp.tx.suite, want.tx.suite);
	assert_int_equal(cs->srtp_in, want.rx.suite);
	assert_int_equal(cs->srtp_out, want.tx.suite);
	assert_false(cs->sdes_passthrough);
	if (memcmp(&cs->dp, &want, sizeof(want)) != 0)
		fail_msg("stream local %s src %s dst %s expect %s flags %u window %u tag %llx; "
			 "want local %s src %s dst %s expect %s flags %u tag %llx",
			 rpa_endpoint_format(&cs->dp.local, a, sizeof(a)),
			 rpa_endpoint_format(&cs->dp.src, b, sizeof(b)),
			 rpa_endpoint_format(&cs->dp.dst, c, sizeof(c)),
			 rpa_endpoint_format(&cs->dp.expect, d, sizeof(d)), cs->dp.flags,
			 cs->dp.latch_window_ms, (unsigned long long)cs->dp.tag, local, src,
			 dst ? dst : "-", expect ? expect : "-", flags, (unsigned long long)tag);
	assert_string_equal(cs->from_tag, from_tag);
	assert_int_equal(cs->media, media);
	assert_int_equal(cs->component, comp);
}

/* A plain stream, every field checked. */
static inline void fx_stream(const struct call_stream *cs, const char *local, const char *src,
			     const char *dst, const char *expect, uint32_t flags, uint64_t tag,
			     const char *from_tag, unsigned media, unsigned comp)
{
	fx_stream_srtp(cs, local, src, dst, expect, flags, tag, from_tag, media, comp, NULL, NULL);
}

/* The streams of call id (at most 64). */
static inline unsigned fx_streams(struct fix *f, const char *id, struct call_stream *out)
{
	struct call *c = calls_find(f->t, id);
	unsigned n;

	assert_non_null(c);
	n = call_streams(c, out, 64);
	assert_true(n <= 64);
	return n;
}

/* Asterisk caller offer: one audio section, session-level c=. */
static const char SDP_CALLER[] = "v=0\n"
				 "o=- 1234567 1234567 IN IP4 203.0.113.10\n"
				 "s=Asterisk\n"
				 "c=IN IP4 203.0.113.10\n"
				 "t=0 0\n"
				 "m=audio 10000 RTP/AVP 0 8 101\n"
				 "a=rtpmap:0 PCMU/8000\n"
				 "a=rtpmap:8 PCMA/8000\n"
				 "a=rtpmap:101 telephone-event/8000\n"
				 "a=fmtp:101 0-16\n"
				 "a=ptime:20\n"
				 "a=maxptime:150\n"
				 "a=sendrecv\n";

/* FreeSWITCH callee answer with an explicit RTCP address and port (RFC 3605). */
static const char SDP_CALLEE[] = "v=0\r\n"
				 "o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.20\r\n"
				 "s=FreeSWITCH\r\n"
				 "c=IN IP4 198.51.100.20\r\n"
				 "t=0 0\r\n"
				 "m=audio 20000 RTP/AVP 0 101\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n"
				 "a=rtcp:20005 IN IP4 198.51.100.21\r\n";

/* A second fork: Polycom phone, media-level c=. */
static const char SDP_CALLEE2[] = "v=0\r\n"
				  "o=- 1700000100 1700000100 IN IP4 198.51.100.30\r\n"
				  "s=Polycom IP Phone\r\n"
				  "t=0 0\r\n"
				  "m=audio 2222 RTP/AVP 0 101\r\n"
				  "c=IN IP4 198.51.100.30\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=sendrecv\r\n";

#endif
