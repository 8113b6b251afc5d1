/* SDP rewriter: writes a parsed SDP (sdp.c) back out with the relay's ports and addresses,
 * dropping and adding attribute lines as an edit says and copying every other line byte
 * for byte with a CRLF ending. Pure: no I/O, no allocation, no globals; any thread. */
#include "sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp_lex.h"

/* The output buffer. len counts every byte the SDP needs even once cap is exceeded, so
 * that -ENOSPC can say how much room it takes. */
struct out {
	char *p;
	size_t cap;
	size_t len;
};

/* What the walk over one m= section needs to know. */
struct section {
	const struct sdp_media *m;
	const struct sdp_media_edit *me;
	bool verbatim;	   /* rejected in the input: copied unchanged */
	bool live;	   /* accepted in the output (port != 0) */
	bool pending_conn; /* a media-level c= must be inserted after m= and i= */
	bool rtcp_done;	   /* the edit's a=rtcp has been written */
	bool mux_done;	   /* the edit's a=rtcp-mux has been written */
};

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc,
						      const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (n <= o->cap && o->len <= o->cap - n)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t x)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + x % 10);
		x /= 10;
	} while (x != 0);
	put(o, tmp + i, sizeof(tmp) - i);
}

/* "IN IP4 192.0.2.1" / "IN IP6 2001:db8::1"; the family was checked by check_addr. */
static void put_inaddr(struct out *o, const struct rpa_addr *a)
{
	char tmp[RPA_ADDR_STRLEN];

	put_str(o, a->family == RPA_AF_INET ? "IN IP4 " : "IN IP6 ");
	put_str(o, rpa_addr_format(a, tmp, sizeof(tmp)));
}

static void put_line(struct out *o, const struct sdp_session *s, const struct sdp_line *l)
{
	put(o, s->buf + l->off, l->len);
	put(o, "\r\n", 2);
}

static void put_conn(struct out *o, const struct rpa_addr *a)
{
	put_str(o, "c=");
	put_inaddr(o, a);
	put(o, "\r\n", 2);
}

static bool family_ok(const struct rpa_addr *a)
{
	return a->family == RPA_AF_INET || a->family == RPA_AF_INET6;
}

/* A transport from the caller: one token of visible ASCII ("RTP/SAVP"). */
static bool proto_ok(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return false;
	return true;
}

/* Extra lines must be complete "<letter>=..." lines ending in CRLF with no stray CR or LF,
 * so that the output still parses. Returns the 1-based number of the first bad line, or 0. */
static unsigned extra_bad_line(const char *x)
{
	unsigned line = 1;

	if (*x == '\0')
		return 1;
	while (*x != '\0') {
		const char *crlf = strstr(x, "\r\n");
		size_t n = crlf != NULL ? (size_t)(crlf - x) : strlen(x);

		if (crlf == NULL || n < 2 || x[0] < 'a' || x[0] > 'z' || x[1] != '=' ||
		    memchr(x, '\r', n) != NULL || memchr(x, '\n', n) != NULL || n > SDP_MAX_LINE)
			return line;
		x = crlf + 2;
		line++;
	}
	return 0;
}

/* True if an attribute line is dropped by `drop` (SDP_DROP_*). */
static bool dropped(enum sdp_attr a, uint32_t drop)
{
	return (a == SDP_ATTR_ICE && (drop & SDP_DROP_ICE)) ||
	       (a == SDP_ATTR_RTCP && (drop & SDP_DROP_RTCP)) ||
	       (a == SDP_ATTR_RTCP_MUX && (drop & SDP_DROP_RTCP_MUX)) ||
	       (a == SDP_ATTR_CRYPTO && (drop & SDP_DROP_CRYPTO));
}

static enum sdp_attr line_attr(const struct sdp_session *s, const struct sdp_line *l)
{
	size_t val;

	return sdp_lex_attr(s->buf + l->off + 2, l->len - 2, &val);
}

/* o=<username> <sess-id> <version> <nettype> <addrtype> <address>: the version is the
 * edit's; the rest is copied unless the origin address is replaced. */
static void put_origin(struct out *o, const struct sdp_session *s, const struct sdp_line *l,
		       const struct sdp_edit *e)
{
	const char *v = s->buf + l->off + 2;
	size_t n = l->len - 2, pos = 0, fo = 0, fl = 0;

	/* The parser checked that all six fields are there. */
	sdp_lex_field(v, n, &pos, &fo, &fl); /* username */
	sdp_lex_field(v, n, &pos, &fo, &fl); /* sess-id */
	put(o, s->buf + l->off, 2 + fo + fl);
	put(o, " ", 1);
	put_u64(o, e->o_version);
	sdp_lex_field(v, n, &pos, &fo, &fl); /* version */
	if (e->replace_origin) {
		put(o, " ", 1);
		put_inaddr(o, &e->origin_addr);
	} else {
		put(o, v + pos, n - pos);
	}
	put(o, "\r\n", 2);
}

/* m=<media> <port> <proto> <fmts>. A "/<n>" port count is not carried over: the relay
 * gives each section one port (and RTCP on the next one). */
static void put_media_line(struct out *o, const struct sdp_session *s, const struct section *sec)
{
	const struct sdp_media *m = sec->m;

	put_str(o, "m=");
	put(o, s->buf + m->type.off, m->type.len);
	put(o, " ", 1);
	put_u64(o, sec->live ? sec->me->port : 0);
	put(o, " ", 1);
	if (sec->me->proto != NULL)
		put_str(o, sec->me->proto);
	else
		put(o, s->buf + m->proto.off, m->proto.len);
	put(o, " ", 1);
	put(o, s->buf + m->fmts.off, m->fmts.len);
	put(o, "\r\n", 2);
}

/* The media-level c= a section without one of its own gets when it would otherwise
 * inherit the wrong address. */
static void put_pending_conn(struct out *o, const struct sdp_session *s, struct section *sec)
{
	if (!sec->pending_conn)
		return;
	sec->pending_conn = false;
	if (sec->me->keep_addr) {
		put(o, s->buf + s->conn.line.off, s->conn.line.len); /* what it inherited */
		put(o, "\r\n", 2);
	} else {
		put_conn(o, &sec->me->addr);
	}
}

static void media_line(struct out *o, const struct sdp_session *s, struct section *sec,
		       const struct sdp_line *l)
{
	const struct sdp_media_edit *me = sec->me;
	char type = s->buf[l->off];
	enum sdp_attr a;

	if (sec->verbatim) {
		put_line(o, s, l);
		return;
	}
	if (type != 'i')
		put_pending_conn(o, s, sec);
	if (type == 'c') {
		if (me->keep_addr || !family_ok(&me->addr))
			put_line(o, s, l);
		else
			put_conn(o, &me->addr);
		return;
	}
	if (type != 'a') {
		put_line(o, s, l);
		return;
	}
	a = line_attr(s, l);
	if (a == SDP_ATTR_RTCP && sec->live && me->rtcp_port != 0) {
		if (!sec->rtcp_done) {
			put_str(o, "a=rtcp:");
			put_u64(o, me->rtcp_port);
			put(o, "\r\n", 2);
			sec->rtcp_done = true;
		}
		return;
	}
	if (a == SDP_ATTR_RTCP_MUX && sec->live && me->rtcp_mux) {
		if (!sec->mux_done) {
			put_str(o, "a=rtcp-mux\r\n");
			sec->mux_done = true;
		}
		return;
	}
	if (!dropped(a, me->drop))
		put_line(o, s, l);
}

/* What a section gains at its end: the inserted c= if the section had only an m= line,
 * then a=rtcp and a=rtcp-mux not yet written in place of old ones, then the extra lines. */
static void finish_section(struct out *o, const struct sdp_session *s, struct section *sec)
{
	const struct sdp_media_edit *me = sec->me;

	if (sec->verbatim)
		return;
	put_pending_conn(o, s, sec);
	if (!sec->live)
		return;
	if (me->rtcp_port != 0 && !sec->rtcp_done) {
		put_str(o, "a=rtcp:");
		put_u64(o, me->rtcp_port);
		put(o, "\r\n", 2);
	}
	if (me->rtcp_mux && !sec->mux_done)
		put_str(o, "a=rtcp-mux\r\n");
	if (me->extra != NULL)
		put_str(o, me->extra);
}

static int check_edit(const struct sdp_session *s, const struct sdp_edit *e, char *err,
		      size_t errlen)
{
	unsigned i, bad;

	if (e->nmedia != s->nmedia)
		return fail(err, errlen, -EINVAL, "the edit has %u media sections, the SDP has %u",
			    e->nmedia, s->nmedia);
	if (e->replace_origin && !family_ok(&e->origin_addr))
		return fail(err, errlen, -EINVAL,
			    "origin address of family %u cannot go into o=", e->origin_addr.family);
	for (i = 0; i < s->nmedia; i++) {
		const struct sdp_media_edit *me = &e->media[i];

		if (s->media[i].port == 0)
			continue; /* copied unchanged whatever the edit says */
		if (me->port != 0 && !me->keep_addr && !family_ok(&me->addr))
			return fail(err, errlen, -EINVAL,
				    "media section %u: address of family %u cannot go into c=", i,
				    me->addr.family);
		if (me->proto != NULL && !proto_ok(me->proto))
			return fail(err, errlen, -EINVAL,
				    "media section %u: transport \"%.64s\" is not one token", i,
				    me->proto);
		if (me->extra != NULL && (bad = extra_bad_line(me->extra)) != 0)
			return fail(err, errlen, -EINVAL,
				    "media section %u: extra line %u is not a <type>=<value> line "
				    "ending in CRLF",
				    i, bad);
	}
	return 0;
}

/* The session-level c= changes when asked to, or when a live section that does not keep
 * its address inherits it. */
static bool session_conn_rewritten(const struct sdp_session *s, const struct sdp_edit *e)
{
	unsigned i;

	if (!s->conn.present)
		return false;
	if (e->replace_session_conn)
		return true;
	for (i = 0; i < s->nmedia; i++)
		if (s->media[i].port != 0 && e->media[i].port != 0 && !e->media[i].keep_addr &&
		    !s->media[i].conn.present)
			return true;
	return false;
}

int sdp_rewrite(const struct sdp_session *s, const struct sdp_edit *e, char *out, size_t cap,
		size_t *out_len, char *err, size_t errlen)
{
	struct out o = {out, out != NULL ? cap : 0, 0};
	struct section sec = {0};
	const struct rpa_addr *s_out;
	bool sess_rw;
	int cur = -1, rc;
	size_t pos = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = check_edit(s, e, err, errlen);
	if (rc < 0)
		return rc;
	sess_rw = session_conn_rewritten(s, e);
	if (sess_rw && !family_ok(&e->session_addr))
		return fail(err, errlen, -EINVAL,
			    "session address of family %u cannot go into the session c=",
			    e->session_addr.family);
	s_out = sess_rw ? &e->session_addr : &s->conn.addr;

	while (pos < s->len) {
		struct sdp_line l;
		char type;

		sdp_lex_line(s->buf, s->len, pos, &l);
		pos = l.next;
		if (l.len == 0)
			continue; /* trailing padding */
		type = s->buf[l.off];
		if (type == 'm' && (unsigned)(cur + 1) < s->nmedia) {
			const struct sdp_media *m;
			const struct sdp_media_edit *me;

			if (cur >= 0)
				finish_section(&o, s, &sec);
			cur++;
			m = &s->media[cur];
			me = &e->media[cur];
			memset(&sec, 0, sizeof(sec));
			sec.m = m;
			sec.me = me;
			sec.verbatim = m->port == 0;
			sec.live = m->port != 0 && me->port != 0;
			if (sec.verbatim) {
				put_line(&o, s, &l);
				continue;
			}
			/* A live section without a c= of its own inherits s_out; when that
			 * is not the address it needs, it gets a line of its own. */
			if (sec.live && !m->conn.present) {
				const struct rpa_addr *want =
				    me->keep_addr ? &s->conn.addr : &me->addr;

				sec.pending_conn = !rpa_addr_eq(want, s_out);
			}
			put_media_line(&o, s, &sec);
			continue;
		}
		if (cur >= 0) {
			media_line(&o, s, &sec, &l);
			continue;
		}
		if (type == 'o') {
			put_origin(&o, s, &l, e);
		} else if (type == 'c' && sess_rw) {
			put_conn(&o, &e->session_addr);
		} else if (type == 'a' && dropped(line_attr(s, &l), e->session_drop)) {
			continue;
		} else {
			put_line(&o, s, &l);
		}
	}
	if (cur >= 0)
		finish_section(&o, s, &sec);

	if (out_len != NULL)
		*out_len = o.len;
	if (o.len > o.cap)
		return fail(err, errlen, -ENOSPC,
			    "the rewritten SDP needs %zu bytes, the buffer has %zu", o.len, cap);
	return 0;
}
