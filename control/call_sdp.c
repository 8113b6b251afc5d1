/* The SDP a command returns: the sdp_edit built from a call's new state (relay ports and
 * addresses, a=rtcp, a=rtcp-mux, ICE removal, profiles and a=crypto, o= and session c=)
 * and the o= version kept
 * per direction. Control main thread only; no I/O. */
#include "call_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a of the output without its o= line: only a change elsewhere moves the version. */
static uint64_t digest(const char *buf, size_t len)
{
	size_t pos = 0, skip_from = len, skip_to = len;
	uint64_t h;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len;

		if (end - pos >= 2 && buf[pos] == 'o' && buf[pos + 1] == '=') {
			skip_from = pos;
			skip_to = end;
			break;
		}
		pos = end;
	}
	h = call_hash(buf, skip_from);
	/* Continue the same FNV-1a state over the rest. */
	for (size_t i = skip_to; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define EXTRA_CAP (SDES_NSUITES * SDES_LINE_MAX)

/* The edit and the a=crypto lines it points to (key material: wiped after use). */
struct edit {
	struct sdp_edit e;
	char extra[SDP_MAX_MEDIA][EXTRA_CAP];
};

static void build_edit(const struct call *c, const struct sdp_session *s, unsigned side,
		       const struct flags *fl, uint32_t mux_bits, uint32_t rtcp_bits,
		       struct edit *ed)
{
	struct sdp_edit *e = &ed->e;
	const struct call_iface *ifc = &c->cfg->ifaces[c->iface[side]];
	const struct rpa_addr *addr = fl->has_media_address ? &fl->media_address : &ifc->advertised;

	memset(e, 0, sizeof(*e));
	e->replace_origin = fl->replace_origin;
	e->origin_addr = *addr;
	e->replace_session_conn = fl->replace_session_conn;
	e->session_addr = *addr;
	/* ICE always goes: the relay's candidates would be needed and it has none
	 * (see call.h). */
	e->session_drop = SDP_DROP_ICE;
	e->nmedia = s->nmedia;
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *sm = &s->media[i];
		const struct call_media *m = &c->media[i];
		struct sdp_media_edit *me = &e->media[i];
		const struct sdp_conn *cn = sm->conn.present ? &sm->conn : &s->conn;

		me->drop = SDP_DROP_ICE;
		if (m->port[side] == 0)
			continue; /* port 0: rejected */
		me->port = m->port[side];
		me->addr = *addr;
		me->keep_addr = cn->hold; /* hold with 0.0.0.0 is passed on as it is */
		me->drop |= SDP_DROP_RTCP | SDP_DROP_RTCP_MUX;
		if (!m->is_rtp)
			continue;
		call_sdes_edit(c, i, side, &me->proto, &me->drop, ed->extra[i], EXTRA_CAP);
		if (ed->extra[i][0] != '\0')
			me->extra = ed->extra[i];
		me->rtcp_mux = (mux_bits >> i) & 1u;
		if ((rtcp_bits >> i) & 1u)
			me->rtcp_port = (uint16_t)(m->port[side] + 1);
	}
}

static int rewrite(const struct sdp_session *s, const struct sdp_edit *e, char **out, size_t *len,
		   char *err, size_t errlen)
{
	size_t cap = s->len + 1024 + 256 * (size_t)s->nmedia;
	int rc;

	for (int tries = 0; tries < 3; tries++, cap *= 2) {
		char *buf = malloc(cap);

		if (buf == NULL) {
			snprintf(err, errlen, "out of memory for the rewritten SDP");
			return -ENOMEM;
		}
		rc = sdp_rewrite(s, e, buf, cap, len, err, errlen);
		if (rc == 0) {
			*out = buf;
			return 0;
		}
		sdes_wipe(buf, cap); /* may hold a=crypto keys */
		free(buf);
		if (rc != -ENOSPC)
			break;
	}
	return rc;
}

int call_sdp_output(struct call *c, const struct sdp_session *s, unsigned side,
		    const struct flags *fl, uint32_t mux_bits, uint32_t rtcp_bits, char **sdp,
		    size_t *len, char *err, size_t errlen)
{
	struct call_out *last = &c->out[side];
	struct edit *ed = malloc(sizeof(*ed));
	struct sdp_edit *e = &ed->e;
	char rerr[SDP_ERRLEN] = "";
	uint64_t h, version;
	int rc;

	*sdp = NULL;
	*len = 0;
	if (ed == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	build_edit(c, s, side, fl, mux_bits, rtcp_bits, ed);
	/* The first SDP towards a side keeps the sender's version; later ones carry ours,
	 * one up whenever anything but the o= line changed (RFC 3264 section 8). */
	e->o_version = last->valid ? last->version : s->o_version;
	rc = rewrite(s, e, sdp, len, rerr, sizeof(rerr));
	if (rc < 0)
		goto fail;
	h = digest(*sdp, *len);
	version = e->o_version;
	if (last->valid && h != last->digest && version < UINT64_MAX)
		version++;
	if (version != e->o_version) {
		sdes_wipe(*sdp, *len);
		free(*sdp);
		*sdp = NULL;
		e->o_version = version;
		rc = rewrite(s, e, sdp, len, rerr, sizeof(rerr));
		if (rc < 0)
			goto fail;
	}
	last->valid = true;
	last->version = version;
	last->digest = h;
	sdes_wipe(ed->extra, sizeof(ed->extra));
	free(ed);
	return 0;
fail:
	snprintf(err, errlen, "cannot rewrite the SDP: %s", rerr);
	sdes_wipe(ed->extra, sizeof(ed->extra));
	free(ed);
	return rc;
}
