/* SDP lines and attribute names, shared by the parser (sdp.c) and the rewriter
 * (sdp_rewrite.c) so both split and classify lines the same way. Private to those two
 * files; pure, any thread. */
#ifndef RTPANCHOR_SDP_LEX_H
#define RTPANCHOR_SDP_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* One line of the input: buf[off .. off+len) is its text without the line ending; the
 * next line starts at `next`. `eol` is the length of its ending: 2 (CRLF), 1 (LF, or a
 * lone CR as the very last byte), 0 (none: the last line of the buffer). */
struct sdp_line {
	uint32_t off;
	uint32_t len;
	uint32_t next;
	uint8_t eol;
};

/* Splits the line starting at pos (< len). Never reads past len. A CR inside a line that
 * is not followed by LF stays part of the line text (the parser rejects it). */
static inline void sdp_lex_line(const char *buf, size_t len, size_t pos, struct sdp_line *l)
{
	const char *p = buf + pos;
	const char *nl = memchr(p, '\n', len - pos);
	size_t end = nl != NULL ? (size_t)(nl - buf) : len;

	l->off = (uint32_t)pos;
	l->eol = nl != NULL ? 1 : 0;
	if (end > pos && buf[end - 1] == '\r') {
		end--;
		l->eol++;
	}
	l->len = (uint32_t)(end - pos);
	l->next = (uint32_t)(nl != NULL ? (size_t)(nl - buf) + 1 : len);
}

/* The next space-separated field of p[0..n) at or after *pos: p[*fo .. *fo+*fl). Runs of
 * spaces count as one separator (RFC 8866 says one SP; some stacks send two). Returns
 * false when no field is left. */
static inline bool sdp_lex_field(const char *p, size_t n, size_t *pos, size_t *fo, size_t *fl)
{
	size_t i = *pos;

	while (i < n && p[i] == ' ')
		i++;
	if (i >= n) {
		*pos = n;
		return false;
	}
	*fo = i;
	while (i < n && p[i] != ' ')
		i++;
	*fl = i - *fo;
	*pos = i;
	return true;
}

/* Attribute kinds the parser records and the rewriter may drop or replace. */
enum sdp_attr {
	SDP_ATTR_OTHER = 0,
	SDP_ATTR_RTCP,	   /* a=rtcp:<port> [IN IP4 <addr>] (RFC 3605) */
	SDP_ATTR_RTCP_MUX, /* a=rtcp-mux (RFC 5761) */
	SDP_ATTR_ICE,	   /* a=candidate, a=ice-*, a=remote-candidates, a=end-of-candidates */
	SDP_ATTR_CRYPTO,   /* a=crypto (RFC 4568) */
	SDP_ATTR_SENDRECV,
	SDP_ATTR_SENDONLY,
	SDP_ATTR_RECVONLY,
	SDP_ATTR_INACTIVE,
};

static inline bool sdp_lex_name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* Classifies "a=<name>[:<value>]" from the text after "a=". Attribute names are compared
 * without regard to case: some user agents send "a=SendOnly" and the meaning is clear.
 * *value receives the offset of the value within v (after ':'), or n when there is none. */
static inline enum sdp_attr sdp_lex_attr(const char *v, size_t n, size_t *value)
{
	const char *colon = memchr(v, ':', n);
	size_t nl = colon != NULL ? (size_t)(colon - v) : n;

	/* Trailing blanks after a flag attribute ("a=sendonly ") are seen in the field. */
	if (colon == NULL)
		while (nl > 0 && (v[nl - 1] == ' ' || v[nl - 1] == '\t'))
			nl--;
	*value = colon != NULL ? nl + 1 : n;
	if (sdp_lex_name_is(v, nl, "rtcp"))
		return SDP_ATTR_RTCP;
	if (sdp_lex_name_is(v, nl, "rtcp-mux"))
		return SDP_ATTR_RTCP_MUX;
	if (sdp_lex_name_is(v, nl, "candidate") || sdp_lex_name_is(v, nl, "remote-candidates") ||
	    sdp_lex_name_is(v, nl, "end-of-candidates") ||
	    (nl > 4 && strncasecmp(v, "ice-", 4) == 0))
		return SDP_ATTR_ICE;
	if (sdp_lex_name_is(v, nl, "crypto"))
		return SDP_ATTR_CRYPTO;
	if (sdp_lex_name_is(v, nl, "sendrecv"))
		return SDP_ATTR_SENDRECV;
	if (sdp_lex_name_is(v, nl, "sendonly"))
		return SDP_ATTR_SENDONLY;
	if (sdp_lex_name_is(v, nl, "recvonly"))
		return SDP_ATTR_RECVONLY;
	if (sdp_lex_name_is(v, nl, "inactive"))
		return SDP_ATTR_INACTIVE;
	return SDP_ATTR_OTHER;
}

#endif
