/* SDP parser (RFC 8866): splits a buffer into lines, checks every limit and value, and
 * records spans into the buffer for the fields the relay needs. Pure: no I/O, no
 * allocation, no globals; any thread. */
#include "sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp_lex.h"

/* Longest value quoted in an error message; longer values are cut and marked "...". */
#define SHOW_MAX 40

struct parser {
	const char *buf;
	size_t len;
	struct sdp_session *s;
	char *err;
	size_t errlen;
	unsigned lineno;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int rc, const char *fmt,
						      ...)
{
	va_list ap;

	if (p->err != NULL && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A printable copy of untrusted bytes for an error message: the message ends up in a JSON
 * reply and a log, so anything outside printable ASCII becomes '?', and an SDES key
 * ("inline:...", RFC 4568) is cut off where it starts. */
static const char *show(const char *v, size_t n, char out[SHOW_MAX + 4])
{
	size_t i, m = n > SHOW_MAX ? SHOW_MAX : n;

	for (i = 0; i + 7 <= n && i < m; i++)
		if (strncasecmp(v + i, "inline:", 7) == 0) {
			m = i;
			break;
		}
	for (i = 0; i < m; i++)
		out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (m < n) {
		memcpy(out + m, "...", 3);
		m += 3;
	}
	out[m] = '\0';
	return out;
}

/* Decimal digits only (no sign, no blanks), at most max. */
static bool parse_num(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (d > 9 || x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

static bool span_is(const char *v, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(v, want, n) == 0;
}

/* "IP4" or "IP6" to RPA_AF_*, 0 if neither. */
static uint8_t addrtype(const char *v, size_t n)
{
	if (span_is(v, n, "IP4"))
		return RPA_AF_INET;
	if (span_is(v, n, "IP6"))
		return RPA_AF_INET6;
	return RPA_AF_NONE;
}

/* A literal address of the given family. Returns 0, or -1 when it is not a literal at all
 * (a host name), or -2 when it is a literal of the other family. */
static int parse_literal(const char *v, size_t n, uint8_t family, struct rpa_addr *out)
{
	char tmp[RPA_ADDR_STRLEN];

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (rpa_addr_parse(tmp, out) < 0)
		return -1;
	if (out->family != family) {
		memset(out, 0, sizeof(*out));
		return -2;
	}
	return 0;
}

/* "IN <IP4|IP6> <address>" starting at field position *pos of v[0..n); what = the line's
 * name for messages. With allow_suffix, "/ttl[/count]" after the address is accepted
 * (RFC 8866 §5.7 multicast); the address must be a literal. */
static int parse_inaddr(struct parser *p, const char *v, size_t n, size_t *pos, const char *what,
			bool allow_suffix, struct rpa_addr *out)
{
	char sh[SHOW_MAX + 4];
	size_t fo, fl, ao, al;
	uint8_t fam;
	int rc;

	if (!sdp_lex_field(v, n, pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: %s has no network type", p->lineno, what);
	if (!span_is(v + fo, fl, "IN"))
		return fail(p, -EINVAL, "line %u: %s network type \"%s\" is not IN", p->lineno,
			    what, show(v + fo, fl, sh));
	if (!sdp_lex_field(v, n, pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: %s has no address type", p->lineno, what);
	fam = addrtype(v + fo, fl);
	if (fam == RPA_AF_NONE)
		return fail(p, -EINVAL, "line %u: %s address type \"%s\" is not IP4 or IP6",
			    p->lineno, what, show(v + fo, fl, sh));
	if (!sdp_lex_field(v, n, pos, &ao, &al))
		return fail(p, -EINVAL, "line %u: %s has no address", p->lineno, what);
	if (allow_suffix) {
		const char *slash = memchr(v + ao, '/', al);

		if (slash != NULL) {
			const char *q = slash + 1, *end = v + ao + al;
			const char *slash2 = memchr(q, '/', (size_t)(end - q));
			uint64_t x;

			if (!parse_num(q, (size_t)((slash2 != NULL ? slash2 : end) - q), 65535,
				       &x) ||
			    (slash2 != NULL &&
			     !parse_num(slash2 + 1, (size_t)(end - slash2 - 1), 65535, &x)))
				return fail(p, -EINVAL,
					    "line %u: %s address \"%s\" has a bad /ttl or /count",
					    p->lineno, what, show(v + ao, al, sh));
			al = (size_t)(slash - (v + ao));
		}
	}
	rc = parse_literal(v + ao, al, fam, out);
	if (rc == -2)
		return fail(p, -EINVAL, "line %u: %s address \"%s\" is not an %s address",
			    p->lineno, what, show(v + ao, al, sh),
			    fam == RPA_AF_INET ? "IP4" : "IP6");
	if (rc < 0)
		return fail(p, -EINVAL, "line %u: %s address \"%s\" is not an IP address",
			    p->lineno, what, show(v + ao, al, sh));
	return 0;
}

static int no_more_fields(struct parser *p, const char *v, size_t n, size_t pos, const char *what)
{
	char sh[SHOW_MAX + 4];
	size_t fo, fl;

	if (sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: unexpected \"%s\" at the end of %s", p->lineno,
			    show(v + fo, n - fo, sh), what);
	return 0;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
static int parse_origin(struct parser *p, const struct sdp_line *l)
{
	const char *v = p->buf + l->off + 2;
	size_t n = l->len - 2, pos = 0, fo, fl;
	struct sdp_session *s = p->s;
	char sh[SHOW_MAX + 4];
	uint8_t fam;
	int rc;

	s->origin = (struct sdp_span){l->off, l->len};
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: o= is empty", p->lineno);
	s->o_user = (struct sdp_span){(uint32_t)(l->off + 2 + fo), (uint32_t)fl};
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: o= has no session id", p->lineno);
	if (!parse_num(v + fo, fl, UINT64_MAX, &s->o_sess_id))
		return fail(p, -EINVAL, "line %u: o= session id \"%s\" is not a 64-bit number",
			    p->lineno, show(v + fo, fl, sh));
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: o= has no version", p->lineno);
	if (!parse_num(v + fo, fl, UINT64_MAX, &s->o_version))
		return fail(p, -EINVAL, "line %u: o= version \"%s\" is not a 64-bit number",
			    p->lineno, show(v + fo, fl, sh));
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: o= has no network type", p->lineno);
	if (!span_is(v + fo, fl, "IN"))
		return fail(p, -EINVAL, "line %u: o= network type \"%s\" is not IN", p->lineno,
			    show(v + fo, fl, sh));
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: o= has no address type", p->lineno);
	fam = addrtype(v + fo, fl);
	if (fam == RPA_AF_NONE)
		return fail(p, -EINVAL, "line %u: o= address type \"%s\" is not IP4 or IP6",
			    p->lineno, show(v + fo, fl, sh));
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: o= has no address", p->lineno);
	/* The origin may name a host (RFC 8866 §5.2); only a literal of the other family
	 * is wrong. */
	rc = parse_literal(v + fo, fl, fam, &s->o_addr);
	if (rc == -2)
		return fail(p, -EINVAL, "line %u: o= address \"%s\" is not an %s address",
			    p->lineno, show(v + fo, fl, sh), fam == RPA_AF_INET ? "IP4" : "IP6");
	return no_more_fields(p, v, n, pos, "o=");
}

/* c=<nettype> <addrtype> <connection-address> */
static int parse_conn(struct parser *p, const struct sdp_line *l, struct sdp_conn *c)
{
	const char *v = p->buf + l->off + 2;
	size_t n = l->len - 2, pos = 0;
	int rc;

	if (c->present)
		return fail(p, -EINVAL, "line %u: second c= line at the same level", p->lineno);
	rc = parse_inaddr(p, v, n, &pos, "c=", true, &c->addr);
	if (rc < 0)
		return rc;
	rc = no_more_fields(p, v, n, pos, "c=");
	if (rc < 0)
		return rc;
	c->present = true;
	c->line = (struct sdp_span){l->off, l->len};
	/* 0.0.0.0 is RFC 2543 hold; "::" is its IPv6 counterpart seen in the field. */
	if (c->addr.family == RPA_AF_INET)
		c->hold = c->addr.v4 == 0;
	else
		c->hold = memcmp(c->addr.v6, (const uint8_t[16]){0}, 16) == 0;
	return 0;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int parse_media(struct parser *p, const struct sdp_line *l, struct sdp_media *m)
{
	const char *v = p->buf + l->off + 2;
	size_t n = l->len - 2, pos = 0, fo, fl, po, pl;
	uint32_t base = l->off + 2;
	char sh[SHOW_MAX + 4];
	const char *slash;
	uint64_t x;

	memset(m, 0, sizeof(*m));
	m->line = (struct sdp_span){l->off, l->len};
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: m= is empty", p->lineno);
	m->type = (struct sdp_span){(uint32_t)(base + fo), (uint32_t)fl};
	if (!sdp_lex_field(v, n, &pos, &po, &pl))
		return fail(p, -EINVAL, "line %u: m= has no port", p->lineno);
	slash = memchr(v + po, '/', pl);
	if (!parse_num(v + po, slash != NULL ? (size_t)(slash - (v + po)) : pl, 65535, &x))
		return fail(p, -EINVAL, "line %u: m= port \"%s\" is not a number from 0 to 65535",
			    p->lineno, show(v + po, pl, sh));
	m->port = (uint16_t)x;
	m->nports = 1;
	if (slash != NULL) {
		size_t cn = (size_t)(v + po + pl - slash - 1);

		if (!parse_num(slash + 1, cn, 65535, &x) || x == 0)
			return fail(p, -EINVAL,
				    "line %u: m= port count in \"%s\" is not a number from 1 to "
				    "65535",
				    p->lineno, show(v + po, pl, sh));
		m->nports = (uint16_t)x;
	}
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: m= has no transport protocol", p->lineno);
	m->proto = (struct sdp_span){(uint32_t)(base + fo), (uint32_t)fl};
	m->is_rtp =
	    (fl >= 4 && memcmp(v + fo, "RTP/", 4) == 0) || memmem(v + fo, fl, "/RTP/", 5) != NULL;
	if (!sdp_lex_field(v, n, &pos, &fo, &fl))
		return fail(p, -EINVAL, "line %u: m= has no media format", p->lineno);
	while (n > fo && v[n - 1] == ' ')
		n--;
	m->fmts = (struct sdp_span){(uint32_t)(base + fo), (uint32_t)(n - fo)};
	return 0;
}

/* a=rtcp:<port> [<nettype> <addrtype> <connection-address>] (RFC 3605 §2.1) */
static int parse_rtcp(struct parser *p, const char *v, size_t n, struct sdp_media *m)
{
	char sh[SHOW_MAX + 4];
	size_t pos = 0, fo, fl;
	uint64_t x;
	int rc;

	if (!sdp_lex_field(v, n, &pos, &fo, &fl) || !parse_num(v + fo, fl, 65535, &x))
		return fail(p, -EINVAL,
			    "line %u: a=rtcp port \"%s\" is not a number from 0 to 65535",
			    p->lineno, show(v, n, sh));
	m->has_rtcp = true;
	m->rtcp_port = (uint16_t)x;
	memset(&m->rtcp_addr, 0, sizeof(m->rtcp_addr));
	if (!sdp_lex_field(v, n, &(size_t){pos}, &fo, &fl))
		return 0;
	rc = parse_inaddr(p, v, n, &pos, "a=rtcp", false, &m->rtcp_addr);
	if (rc < 0)
		return rc;
	return no_more_fields(p, v, n, pos, "a=rtcp");
}

static enum sdp_dir attr_dir(enum sdp_attr a)
{
	switch (a) {
	case SDP_ATTR_SENDRECV:
		return SDP_DIR_SENDRECV;
	case SDP_ATTR_SENDONLY:
		return SDP_DIR_SENDONLY;
	case SDP_ATTR_RECVONLY:
		return SDP_DIR_RECVONLY;
	case SDP_ATTR_INACTIVE:
		return SDP_DIR_INACTIVE;
	default:
		return SDP_DIR_UNSET;
	}
}

/* a= at session level (m == NULL) or in a media section. Attributes the relay does not
 * act on are left to the rewriter, which copies them. */
static int parse_attr(struct parser *p, const struct sdp_line *l, struct sdp_media *m)
{
	const char *v = p->buf + l->off + 2;
	size_t n = l->len - 2, val;
	enum sdp_attr a = sdp_lex_attr(v, n, &val);

	if (attr_dir(a) != SDP_DIR_UNSET) {
		/* RFC 3264 allows one; when a stack sends two, the last one wins. */
		if (m != NULL)
			m->dir = attr_dir(a);
		else
			p->s->dir = attr_dir(a);
		return 0;
	}
	if (a == SDP_ATTR_ICE) {
		if (m != NULL)
			m->has_ice = true;
		else
			p->s->has_ice = true;
		return 0;
	}
	if (m == NULL)
		return 0; /* rtcp, rtcp-mux and crypto mean nothing at session level */
	if (a == SDP_ATTR_RTCP)
		return parse_rtcp(p, v + val, n - val, m);
	if (a == SDP_ATTR_RTCP_MUX)
		m->rtcp_mux = true;
	else if (a == SDP_ATTR_CRYPTO)
		m->has_crypto = true;
	return 0;
}

/* Checks one line's limits and shape; returns its type letter through *type. */
static int check_line(struct parser *p, const struct sdp_line *l, char *type)
{
	const char *t = p->buf + l->off;
	char sh[SHOW_MAX + 4];
	const char *z;

	if (p->lineno > SDP_MAX_LINES)
		return fail(p, -E2BIG, "SDP has more than %d lines", SDP_MAX_LINES);
	if (l->len > SDP_MAX_LINE)
		return fail(p, -E2BIG, "line %u: %u bytes long, longer than %d", p->lineno, l->len,
			    SDP_MAX_LINE);
	z = memchr(t, '\0', l->len);
	if (z != NULL)
		return fail(p, -EINVAL, "line %u: NUL byte at offset %zu", p->lineno,
			    (size_t)(z - p->buf));
	z = memchr(t, '\r', l->len);
	if (z != NULL)
		return fail(p, -EINVAL, "line %u: CR not followed by LF at offset %zu", p->lineno,
			    (size_t)(z - p->buf));
	if (l->len < 2 || t[1] != '=' || t[0] < 'a' || t[0] > 'z')
		return fail(p, -EINVAL, "line %u: \"%s\" is not <type>=<value>", p->lineno,
			    show(t, l->len, sh));
	*type = t[0];
	return 0;
}

static void close_section(struct parser *p, int cur, uint32_t end)
{
	if (cur >= 0) {
		struct sdp_media *m = &p->s->media[cur];

		m->section.len = end - m->section.off;
	}
}

int sdp_parse(const char *buf, size_t len, struct sdp_session *out, char *err, size_t errlen)
{
	struct parser p = {buf, len, out, err, errlen, 0};
	unsigned mline[SDP_MAX_MEDIA];
	unsigned empty = 0, i;
	bool have_o = false, have_s = false;
	int cur = -1, rc;
	size_t pos = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > SDP_MAX_SIZE)
		return fail(&p, -EMSGSIZE, "SDP is %zu bytes, larger than %d", len, SDP_MAX_SIZE);
	if (buf == NULL || len == 0)
		return fail(&p, -EINVAL, "SDP is empty");
	memset(out, 0, sizeof(*out));
	out->buf = buf;
	out->len = len;

	while (pos < len) {
		struct sdp_line l;
		char type = 0;

		sdp_lex_line(buf, len, pos, &l);
		pos = l.next;
		p.lineno++;
		if (l.len == 0 && p.lineno <= SDP_MAX_LINES) {
			/* Tolerated only as trailing padding after the last line. */
			if (empty == 0)
				empty = p.lineno;
			continue;
		}
		rc = check_line(&p, &l, &type);
		if (rc < 0)
			return rc;
		if (empty != 0)
			return fail(&p, -EINVAL, "line %u: empty line inside the SDP", empty);
		if (p.lineno == 1) {
			char sh[SHOW_MAX + 4];
			size_t vl = l.len;

			while (vl > 3 &&
			       (buf[l.off + vl - 1] == ' ' || buf[l.off + vl - 1] == '\t'))
				vl--;
			if (!span_is(buf + l.off, vl, "v=0"))
				return fail(&p, -EINVAL,
					    "line 1: SDP must start with \"v=0\", not \"%s\"",
					    show(buf + l.off, l.len, sh));
			continue;
		}
		switch (type) {
		case 'v':
			return fail(&p, -EINVAL, "line %u: second v= line", p.lineno);
		case 'o':
		case 's':
			if (cur >= 0)
				return fail(&p, -EINVAL, "line %u: %c= inside a media section",
					    p.lineno, type);
			if (type == 's') {
				if (have_s)
					return fail(&p, -EINVAL, "line %u: second s= line",
						    p.lineno);
				have_s = true;
				break;
			}
			if (have_o)
				return fail(&p, -EINVAL, "line %u: second o= line", p.lineno);
			have_o = true;
			rc = parse_origin(&p, &l);
			if (rc < 0)
				return rc;
			break;
		case 'c':
			rc = parse_conn(&p, &l, cur >= 0 ? &out->media[cur].conn : &out->conn);
			if (rc < 0)
				return rc;
			break;
		case 'm':
			if (!have_o || !have_s)
				return fail(&p, -EINVAL, "line %u: m= before the %s line", p.lineno,
					    !have_o ? "o=" : "s=");
			if (out->nmedia == SDP_MAX_MEDIA)
				return fail(&p, -E2BIG,
					    "line %u: more than %d media sections (m= lines)",
					    p.lineno, SDP_MAX_MEDIA);
			close_section(&p, cur, l.off);
			cur = (int)out->nmedia++;
			mline[cur] = p.lineno;
			rc = parse_media(&p, &l, &out->media[cur]);
			if (rc < 0)
				return rc;
			out->media[cur].section.off = l.off;
			break;
		case 'a':
			rc = parse_attr(&p, &l, cur >= 0 ? &out->media[cur] : NULL);
			if (rc < 0)
				return rc;
			break;
		default:
			break; /* i=, u=, e=, p=, b=, t=, r=, z=, k= and unknown types: copied */
		}
	}
	if (p.lineno == 0 || empty == 1)
		return fail(&p, -EINVAL, "SDP is empty");
	if (!have_o)
		return fail(&p, -EINVAL, "SDP has no o= line");
	if (!have_s)
		return fail(&p, -EINVAL, "SDP has no s= line");
	close_section(&p, cur, (uint32_t)len);
	for (i = 0; i < out->nmedia; i++) {
		const struct sdp_media *m = &out->media[i];
		char sh[SHOW_MAX + 4];

		if (m->port != 0 && !m->conn.present && !out->conn.present)
			return fail(&p, -EINVAL,
				    "line %u: m=%s port %u has no c= line, in its section or at "
				    "session level",
				    mline[i], show(buf + m->type.off, m->type.len, sh), m->port);
	}
	return 0;
}
