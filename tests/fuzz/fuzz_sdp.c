/* libFuzzer target for the SDP parser and rewriter (control/sdp.c, control/sdp_rewrite.c).
 * Every input is parsed; one that parses is rewritten with an edit derived from the input
 * bytes, and the output is parsed again and checked against the edit. Any broken
 * invariant aborts, which libFuzzer reports as a crash. Built and run by scripts/fuzz.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

#define OUT_CAP (8 * SDP_MAX_SIZE)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_sdp: invariant failed at line %d: %s\n", __LINE__,   \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static const char *const protos[] = {"RTP/AVP", "RTP/SAVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVPF",
				     "udptl"};
static const char *const extras[] = {
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\n",
    "a=sendrecv\r\n",
    "a=ptime:20\r\na=maxptime:40\r\n",
};

/* xorshift64*, seeded from the input so that a crash reproduces from its file alone. */
static uint64_t rnd(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 2685821657736338717ull;
}

static struct rpa_addr rnd_addr(uint64_t *st)
{
	struct rpa_addr a;
	uint64_t r = rnd(st);

	memset(&a, 0, sizeof(a));
	if (r & 1) {
		a.family = RPA_AF_INET6;
		memcpy(a.v6, (uint64_t[2]){rnd(st), rnd(st)}, 16);
	} else {
		a.family = RPA_AF_INET;
		a.v4 = (uint32_t)(r >> 32);
	}
	return a;
}

static void check_err(const char *err)
{
	size_t i, n = strnlen(err, SDP_ERRLEN);

	CHECK(n > 0 && n < SDP_ERRLEN);
	for (i = 0; i < n; i++)
		CHECK(err[i] >= 0x20 && err[i] < 0x7f);
}

static void check_span(struct sdp_span sp, size_t len)
{
	CHECK(sp.off <= len && sp.len <= len - sp.off);
}

/* The spans of a parsed session lie inside the input and the sections tile it. */
static void check_session(const struct sdp_session *s, size_t len)
{
	unsigned i;

	CHECK(s->nmedia <= SDP_MAX_MEDIA);
	check_span(s->origin, len);
	check_span(s->o_user, len);
	CHECK(s->origin.len > 0);
	for (i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];
		uint32_t end = i + 1 < s->nmedia ? s->media[i + 1].section.off : (uint32_t)len;

		check_span(m->line, len);
		check_span(m->type, len);
		check_span(m->proto, len);
		check_span(m->fmts, len);
		check_span(m->section, len);
		check_span(m->conn.line, len);
		CHECK(m->section.off == m->line.off && m->section.off + m->section.len == end);
		CHECK(m->nports >= 1);
		CHECK(m->port == 0 || m->conn.present || s->conn.present);
		CHECK(m->type.len > 0 && m->proto.len > 0 && m->fmts.len > 0);
	}
}

/* The address a section's packets go to: its own c=, else the session's. */
static const struct rpa_addr *effective(const struct sdp_session *s, unsigned i)
{
	return s->media[i].conn.present ? &s->media[i].conn.addr : &s->conn.addr;
}

static size_t count_lines(const uint8_t *d, size_t n)
{
	size_t i, lines = 1;

	for (i = 0; i < n; i++)
		lines += d[i] == '\n';
	return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdp_session s, s2;
	static struct sdp_edit e;
	static char out[OUT_CAP];
	char err[SDP_ERRLEN];
	uint64_t st = 0x9e3779b97f4a7c15ull;
	size_t i, olen = 0, olen2 = 0, bound;
	unsigned k;
	int rc;

	memset(err, 'X', sizeof(err));
	rc = sdp_parse((const char *)data, size, &s, err, sizeof(err));
	if (rc != 0) {
		CHECK(rc == -EINVAL || rc == -E2BIG || rc == -EMSGSIZE);
		check_err(err);
		return 0;
	}
	check_session(&s, size);

	for (i = 0; i < size; i++)
		st = (st ^ data[i]) * 0x100000001b3ull;
	memset(&e, 0, sizeof(e));
	e.o_version = rnd(&st) >> (rnd(&st) & 63);
	e.replace_origin = rnd(&st) & 1;
	e.origin_addr = rnd_addr(&st);
	e.replace_session_conn = rnd(&st) & 1;
	e.session_addr = rnd_addr(&st);
	e.session_drop = (uint32_t)rnd(&st) & 0xf;
	e.nmedia = s.nmedia;
	for (k = 0; k < s.nmedia; k++) {
		struct sdp_media_edit *me = &e.media[k];
		uint64_t r = rnd(&st);

		me->port = (r & 7) == 0 ? 0 : (uint16_t)(1 + (r >> 8) % 65535);
		me->keep_addr = (r >> 3) & 1;
		me->addr = rnd_addr(&st);
		me->rtcp_port = (r >> 4) & 1 ? (uint16_t)(r >> 32) : 0;
		me->rtcp_mux = (r >> 5) & 1;
		me->drop = (uint32_t)(r >> 24) & 0xf;
		me->proto = (r >> 6) & 1 ? protos[(r >> 40) % 5] : NULL;
		me->extra = (r >> 7) & 1 ? extras[(r >> 48) % 3] : NULL;
	}

	/* An edit that does not fit the session is refused, not applied. */
	if ((rnd(&st) & 15) == 0) {
		struct sdp_edit bad = e;

		bad.nmedia = s.nmedia + 1;
		CHECK(sdp_rewrite(&s, &bad, out, OUT_CAP, &olen, err, sizeof(err)) == -EINVAL);
		check_err(err);
	}

	rc = sdp_rewrite(&s, &e, out, OUT_CAP, &olen, err, sizeof(err));
	CHECK(rc == 0);
	/* Per line: CR added, o= version (<= 20 digits), origin, m= port and proto, c=;
	 * per section: an inserted c= (at most a copy of the session c=), a=rtcp,
	 * a=rtcp-mux and the longest extra. */
	bound = size + count_lines(data, size) + 128 + (size_t)s.nmedia * (2 * SDP_MAX_LINE + 256);
	CHECK(olen <= bound);
	CHECK(olen >= 2 && out[olen - 2] == '\r' && out[olen - 1] == '\n');
	for (i = 0; i < olen; i++)
		CHECK(out[i] != '\0' && (out[i] != '\n' || (i > 0 && out[i - 1] == '\r')) &&
		      (out[i] != '\r' || (i + 1 < olen && out[i + 1] == '\n')));

	/* Too small a buffer: -ENOSPC and the same size reported. */
	if (olen > 0) {
		rc = sdp_rewrite(&s, &e, out, olen - 1, &olen2, err, sizeof(err));
		CHECK(rc == -ENOSPC && olen2 == olen);
		check_err(err);
		rc = sdp_rewrite(&s, &e, out, OUT_CAP, &olen2, err, sizeof(err));
		CHECK(rc == 0 && olen2 == olen);
	}

	rc = sdp_parse(out, olen, &s2, err, sizeof(err));
	if (rc != 0) {
		/* Only growth past a limit may stop the output from parsing again. */
		if (rc != -EMSGSIZE && rc != -E2BIG)
			fprintf(stderr, "fuzz_sdp: output does not parse: %s\n%.*s\n", err,
				(int)(olen > 4096 ? 4096 : olen), out);
		CHECK(rc == -EMSGSIZE || rc == -E2BIG);
		CHECK(olen > SDP_MAX_SIZE || rc == -E2BIG);
		return 0;
	}
	check_session(&s2, olen);
	CHECK(s2.nmedia == s.nmedia);
	CHECK(s2.o_version == e.o_version);
	if (e.replace_origin)
		CHECK(rpa_addr_eq(&s2.o_addr, &e.origin_addr));
	if (e.session_drop & SDP_DROP_ICE)
		CHECK(!s2.has_ice);
	for (k = 0; k < s.nmedia; k++) {
		const struct sdp_media *a = &s.media[k], *b = &s2.media[k];
		const struct sdp_media_edit *me = &e.media[k];

		CHECK(a->type.len == b->type.len &&
		      memcmp(data + a->type.off, out + b->type.off, a->type.len) == 0);
		if (a->port == 0) {
			/* Rejected stays rejected, its m= line copied unchanged. */
			CHECK(b->port == 0);
			CHECK(b->line.len == a->line.len &&
			      memcmp(out + b->line.off, data + a->line.off, a->line.len) == 0);
			continue;
		}
		if (me->port == 0) {
			CHECK(b->port == 0);
			continue;
		}
		CHECK(b->port == me->port);
		CHECK(b->nports == 1);
		if (me->proto != NULL)
			CHECK(b->proto.len == strlen(me->proto) &&
			      memcmp(out + b->proto.off, me->proto, b->proto.len) == 0);
		if (me->keep_addr)
			CHECK(rpa_addr_eq(effective(&s2, k), effective(&s, k)));
		else
			CHECK(rpa_addr_eq(effective(&s2, k), &me->addr));
		if (me->drop & SDP_DROP_ICE)
			CHECK(!b->has_ice);
		if (me->rtcp_port != 0)
			CHECK(b->has_rtcp && b->rtcp_port == me->rtcp_port &&
			      b->rtcp_addr.family == RPA_AF_NONE);
		else if (me->drop & SDP_DROP_RTCP)
			CHECK(!b->has_rtcp);
		else
			CHECK(b->has_rtcp == a->has_rtcp && b->rtcp_port == a->rtcp_port);
		if (me->rtcp_mux)
			CHECK(b->rtcp_mux);
		else if (me->drop & SDP_DROP_RTCP_MUX)
			CHECK(!b->rtcp_mux);
		else
			CHECK(b->rtcp_mux == a->rtcp_mux);
		if (me->drop & SDP_DROP_CRYPTO)
			CHECK(b->has_crypto == (me->extra == extras[0]));
		else
			CHECK(b->has_crypto == (a->has_crypto || me->extra == extras[0]));
		if (me->extra == extras[1])
			CHECK(b->dir == SDP_DIR_SENDRECV);
		else
			CHECK(b->dir == a->dir);
	}
	return 0;
}
