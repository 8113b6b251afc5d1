/* Offer and answer: a command works on a copy of the call and on relay ports it takes in
 * a transaction; only when everything (ports, SDP) succeeded does the copy replace the call
 * and do released ports go to quarantine, so a failure changes nothing. Control main
 * thread only; no I/O. */
#include "call_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ports taken and released by one command ---- */

struct txn {
	const struct calls_config *cfg;
	uint64_t now;
	unsigned ntaken, nput;
	struct {
		uint8_t iface;
		uint16_t port;
	} taken[CALL_SIDES * SDP_MAX_MEDIA], put[CALL_SIDES * SDP_MAX_MEDIA];
};

static int txn_take(struct txn *x, unsigned iface, uint16_t *port, struct call_result *out)
{
	const struct call_iface *ifc = &x->cfg->ifaces[iface];

	if (portalloc_get(ifc->ports, x->now, port) < 0)
		return call_fail(out, -ENOSPC,
				 "no free relay port pair on interface '%s' (%u in use, %u in "
				 "quarantine)",
				 ifc->name, portalloc_used(ifc->ports),
				 portalloc_total(ifc->ports) - portalloc_used(ifc->ports) -
				     portalloc_free(ifc->ports, x->now));
	x->taken[x->ntaken].iface = (uint8_t)iface;
	x->taken[x->ntaken++].port = *port;
	return 0;
}

static void txn_release(struct txn *x, unsigned iface, uint16_t port)
{
	x->put[x->nput].iface = (uint8_t)iface;
	x->put[x->nput++].port = port;
}

static void txn_abort(struct txn *x)
{
	for (unsigned i = 0; i < x->ntaken; i++)
		portalloc_cancel(x->cfg->ifaces[x->taken[i].iface].ports, x->taken[i].port);
	x->ntaken = x->nput = 0;
}

static void txn_commit(struct txn *x)
{
	for (unsigned i = 0; i < x->nput; i++)
		portalloc_put(x->cfg->ifaces[x->put[i].iface].ports, x->put[i].port, x->now);
	x->ntaken = x->nput = 0;
}

static int iface_index(const struct calls_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nifaces; i++)
		if (strcmp(cfg->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* direction= names the offerer's interface first. */
static int resolve_direction(const struct calls_config *cfg, const struct flags *fl,
			     unsigned offerer_side, uint8_t iface[CALL_SIDES],
			     struct call_result *out)
{
	for (unsigned k = 0; k < 2; k++) {
		int i = iface_index(cfg, fl->direction[k]);

		if (i < 0)
			return call_fail(out, -EINVAL,
					 "unknown interface '%s' in direction=", fl->direction[k]);
		iface[k == 0 ? offerer_side : 1 - offerer_side] = (uint8_t)i;
	}
	return 0;
}

static const struct sdp_conn *conn_of(const struct sdp_session *s, const struct sdp_media *m)
{
	return m->conn.present ? &m->conn : &s->conn;
}

/* Every live section's address must have the family of the interface it arrives on. */
static int check_family(const struct calls_config *cfg, const struct sdp_session *s, unsigned iface,
			struct call_result *out)
{
	const struct call_iface *ifc = &cfg->ifaces[iface];
	char a[RPA_ADDR_STRLEN];
	bool have_v6 = false;

	for (unsigned i = 0; i < cfg->nifaces; i++)
		have_v6 |= cfg->ifaces[i].local.family == RPA_AF_INET6;
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_conn *cn = conn_of(s, &s->media[i]);

		if (s->media[i].port == 0 || cn->addr.family == ifc->local.family)
			continue;
		rpa_addr_format(&cn->addr, a, sizeof(a));
		if (cn->addr.family == RPA_AF_INET6 && !have_v6)
			return call_fail(
			    out, -EAFNOSUPPORT,
			    "m= section %u has IPv6 address %s and no IPv6 media interface "
			    "is configured",
			    i + 1, a);
		return call_fail(out, -EAFNOSUPPORT,
				 "m= section %u has %s address %s but interface '%s' is %s", i + 1,
				 cn->addr.family == RPA_AF_INET6 ? "IPv6" : "IPv4", a, ifc->name,
				 ifc->local.family == RPA_AF_INET6 ? "IPv6" : "IPv4");
	}
	return 0;
}

static void set_peer(struct call_peer *p, const struct sdp_session *s, const struct sdp_media *m)
{
	const struct sdp_conn *cn = conn_of(s, m);

	memset(p, 0, sizeof(*p));
	p->known = true;
	p->hold = cn->hold;
	p->mux = m->rtcp_mux;
	p->dir = (uint8_t)(m->dir != SDP_DIR_UNSET ? m->dir : s->dir);
	p->rtp.port = m->port;
	if (m->has_rtcp)
		p->rtcp.port = m->rtcp_port;
	else if (m->port < UINT16_MAX)
		p->rtcp.port = (uint16_t)(m->port + 1);
	if (cn->hold)
		return;
	p->rtp.addr = cn->addr;
	if (p->rtcp.port == 0)
		return;
	/* a=rtcp:9 IN IP4 0.0.0.0 (WebRTC's placeholder) names no address. */
	p->rtcp.addr = cn->addr;
	if (m->has_rtcp && m->rtcp_addr.family != RPA_AF_NONE &&
	    !(m->rtcp_addr.family == RPA_AF_INET && m->rtcp_addr.v4 == 0))
		p->rtcp.addr = m->rtcp_addr;
}

static uint8_t party_flags(const struct flags *fl)
{
	return (uint8_t)((fl->trust_address ? CALL_PF_TRUST : 0) |
			 (fl->strict_source ? CALL_PF_STRICT : 0) |
			 (fl->asymmetric ? CALL_PF_ASYM : 0));
}

static bool has_ice(const struct sdp_session *s)
{
	bool ice = s->has_ice;

	for (unsigned i = 0; i < s->nmedia; i++)
		ice |= s->media[i].has_ice && s->media[i].port != 0;
	return ice;
}

static void common_warnings(const struct call *n, const struct sdp_session *s,
			    const struct flags *fl, struct call_result *out)
{
	if (has_ice(s) && !fl->ice_remove)
		call_warn(out,
			  "ICE attributes removed: rtpanchor relays the media and takes no part "
			  "in ICE");
	for (unsigned i = 0; i < n->nmedia; i++) {
		const struct call_media *m = &n->media[i];

		if (m->port[0] != 0 && m->is_rtp && m->mux[0] != m->mux[1])
			call_warn(out,
				  "rtcp-mux on one leg only: RTCP of the muxed leg is forwarded "
				  "to the other party's RTP port");
	}
}

static int parse_sdp(const struct call_request *req, struct sdp_session *s, struct call_result *out)
{
	char err[SDP_ERRLEN] = "";
	int rc;

	if (req->sdp == NULL || req->sdp_len == 0)
		return call_fail(out, -EINVAL, "%s without SDP",
				 req->op == CALL_OP_OFFER ? "offer" : "answer");
	rc = sdp_parse(req->sdp, req->sdp_len, s, err, sizeof(err));
	if (rc < 0)
		return call_fail(out, rc, "bad SDP: %s", err);
	return 0;
}

static int output(struct call *n, const struct sdp_session *s, unsigned side,
		  const struct flags *fl, uint32_t mux_bits, uint32_t rtcp_bits,
		  struct call_result *out)
{
	char err[CALL_ERRLEN] = "";
	int rc = call_sdp_output(n, s, side, fl, mux_bits, rtcp_bits, &out->sdp, &out->sdp_len, err,
				 sizeof(err));

	if (rc < 0)
		return call_fail(out, rc, "%s", err);
	return 0;
}
/* ---- offer ---- */

/* rtcp-mux at offer time (flags.h): what is offered onward, and the legs whose mux the
 * mode decides before the answer. */
static void offer_mux(struct call_media *m, bool fresh, enum flags_rtcp_mux mode, bool om,
		      unsigned o, bool *offered)
{
	unsigned a = 1 - o;

	*offered = (mode == FLAGS_MUX_OFFER || mode == FLAGS_MUX_REQUIRE) ||
		   ((mode == FLAGS_MUX_DEFAULT || mode == FLAGS_MUX_ACCEPT) && om);
	if (fresh)
		m->mux[0] = m->mux[1] = false;
	switch (mode) {
	case FLAGS_MUX_REQUIRE:
		m->mux[a] = true;
		m->mux[o] = om;
		break;
	case FLAGS_MUX_DEMUX:
		m->mux[a] = false;
		m->mux[o] = om;
		break;
	case FLAGS_MUX_ACCEPT:
		m->mux[o] = om;
		break;
	case FLAGS_MUX_REJECT:
		m->mux[a] = m->mux[o] = false;
		break;
	default:
		break;
	}
}

static int offer_sections(struct call *n, const struct sdp_session *s, unsigned offerer,
			  const uint8_t iface[CALL_SIDES], const struct flags *fl, struct txn *x,
			  uint32_t *mux_bits, uint32_t *rtcp_bits, struct call_result *out)
{
	unsigned o = call_side_of(offerer), a = 1 - o;
	int rc;

	*mux_bits = *rtcp_bits = 0;
	n->offer.offerer_mux = 0;
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *sm = &s->media[i];
		struct call_media *m = &n->media[i];
		bool live = m->port[0] != 0, offered;

		if (sm->port == 0) {
			for (unsigned side = 0; live && side < CALL_SIDES; side++)
				txn_release(x, n->iface[side], m->port[side]);
			call_media_clear(m);
			for (unsigned p = 0; p < n->nparties; p++)
				memset(&n->party[p].peer[i], 0, sizeof(struct call_peer));
			continue;
		}
		if (!live) {
			/* A new section, or a rejected slot reused (RFC 3264 §8.1): new ports,
			 * and what anybody said about the old stream no longer counts. */
			call_media_clear(m);
			rc = txn_take(x, iface[o], &m->port[o], out);
			if (rc == 0)
				rc = txn_take(x, iface[a], &m->port[a], out);
			if (rc < 0)
				return rc;
			for (unsigned p = 0; p < n->nparties; p++)
				memset(&n->party[p].peer[i], 0, sizeof(struct call_peer));
		} else {
			for (unsigned side = 0; side < CALL_SIDES; side++) {
				uint16_t port;

				if (iface[side] == n->iface[side])
					continue;
				rc = txn_take(x, iface[side], &port, out);
				if (rc < 0)
					return rc;
				txn_release(x, n->iface[side], m->port[side]);
				m->port[side] = port;
			}
		}
		m->is_rtp = sm->is_rtp;
		set_peer(&n->party[offerer].peer[i], s, sm);
		rc = call_sdes_offer(n, s, i, offerer, fl, out);
		if (rc < 0)
			return rc;
		if (!m->is_rtp) {
			m->mux[0] = m->mux[1] = false;
			continue;
		}
		offer_mux(m, !live, (enum flags_rtcp_mux)n->offer.mode, sm->rtcp_mux, o, &offered);
		if (sm->rtcp_mux)
			n->offer.offerer_mux |= 1u << i;
		if (offered)
			*mux_bits |= 1u << i;
		if (n->offer.mode != FLAGS_MUX_REQUIRE)
			*rtcp_bits |= 1u << i;
	}
	return 0;
}

int call_negotiate_offer(struct calls *t, const struct call_request *req, const struct flags *fl,
			 uint64_t now, struct call_result *out)
{
	struct sdp_session *s = malloc(sizeof(*s));
	struct txn x = {.cfg = &t->cfg, .now = now};
	struct call *c, *n = NULL;
	uint8_t iface[CALL_SIDES] = {0, 0};
	uint32_t mux_bits, rtcp_bits;
	char b1[80], b2[80];
	int offerer = 0, rc;

	if (s == NULL)
		return call_fail(out, -ENOMEM, "out of memory");
	rc = parse_sdp(req, s, out);
	if (rc < 0)
		goto done;
	c = calls_find(t, req->call_id);
	if (c != NULL) {
		offerer = call_party_index(c, req->from_tag);
		if (offerer < 0) {
			rc = call_fail(
			    out, -EINVAL,
			    "from-tag '%s' is neither the caller nor a branch of call '%s'",
			    call_shown(req->from_tag, b1, sizeof(b1)),
			    call_shown(req->call_id, b2, sizeof(b2)));
			goto done;
		}
		if (s->nmedia < c->nmedia) {
			rc = call_fail(
			    out, -EINVAL,
			    "offer has %u m= sections, call '%s' has %u: sections are never "
			    "removed (RFC 3264 section 8)",
			    s->nmedia, call_shown(req->call_id, b2, sizeof(b2)), c->nmedia);
			goto done;
		}
		memcpy(iface, c->iface, sizeof(iface));
	}
	if (fl->has_direction) {
		rc = resolve_direction(&t->cfg, fl, call_side_of((unsigned)offerer), iface, out);
		if (rc < 0)
			goto done;
	}
	rc = check_family(&t->cfg, s, iface[call_side_of((unsigned)offerer)], out);
	if (rc < 0)
		goto done;

	n = c != NULL ? call_clone(c, s->nmedia) : call_new(&t->cfg, s->nmedia);
	if (n == NULL) {
		rc = call_fail(out, -ENOMEM, "out of memory");
		goto done;
	}
	if (c == NULL) {
		n->iface[0] = iface[0];
		n->iface[1] = iface[1];
		snprintf(n->id, sizeof(n->id), "%s", req->call_id);
		snprintf(n->owner, sizeof(n->owner), "%s", t->cfg.node);
		snprintf(n->party[0].tag, sizeof(n->party[0].tag), "%s", req->from_tag);
		n->created_ms = now;
	}
	n->offer.valid = true;
	n->offer.answered = false;
	n->offer.from = (uint8_t)offerer;
	n->offer.mode = (uint8_t)fl->rtcp_mux;
	rc = offer_sections(n, s, (unsigned)offerer, iface, fl, &x, &mux_bits, &rtcp_bits, out);
	if (rc < 0)
		goto done;
	n->offer.offered_mux = mux_bits;
	n->iface[0] = iface[0];
	n->iface[1] = iface[1];
	n->party[offerer].pflags = party_flags(fl);
	if (offerer != 0) {
		n->active = (uint8_t)offerer;
	} else {
		int b = call_party_index(n, req->to_tag);

		if (b > 0)
			n->active = (uint8_t)b;
	}
	n->updated_ms = now;
	n->delete_at_ms = 0; /* a new offer revives a call waiting for its delete-delay */
	rc = output(n, s, 1 - call_side_of((unsigned)offerer), fl, mux_bits, rtcp_bits, out);
	if (rc < 0)
		goto done;
	common_warnings(n, s, fl, out);

	if (c != NULL) {
		calls_replace(t, c, n);
		out->call = c;
	} else {
		calls_insert(t, n);
		out->call = n;
		out->created = true;
	}
	n = NULL;
	txn_commit(&x);
	rc = 0;
done:
	if (rc < 0) {
		txn_abort(&x);
		call_result_clear(out);
	}
	call_free(n);
	free(s);
	return rc;
}

/* ---- answer ---- */

static void answer_mux(struct call_media *m, enum flags_rtcp_mux mode, bool offered, bool om,
		       bool am, unsigned o)
{
	unsigned a = 1 - o;

	m->mux[a] = mode == FLAGS_MUX_REQUIRE || (offered && am);
	if (mode == FLAGS_MUX_DEMUX || mode == FLAGS_MUX_ACCEPT)
		m->mux[o] = om;
	else if (mode == FLAGS_MUX_REJECT)
		m->mux[o] = false;
	else
		m->mux[o] = om && m->mux[a];
}

int call_negotiate_answer(struct calls *t, const struct call_request *req, const struct flags *fl,
			  uint64_t now, struct call_result *out)
{
	struct sdp_session *s = malloc(sizeof(*s));
	struct txn x = {.cfg = &t->cfg, .now = now};
	struct call *c, *n = NULL;
	uint32_t mux_bits = 0, rtcp_bits = 0;
	char b1[80], b2[80];
	unsigned o, answerer;
	int rc, p;

	if (s == NULL)
		return call_fail(out, -ENOMEM, "out of memory");
	rc = parse_sdp(req, s, out);
	if (rc < 0)
		goto done;
	c = calls_find(t, req->call_id);
	if (c == NULL) {
		rc = call_fail(out, -ENOENT, "unknown call '%s'",
			       call_shown(req->call_id, b1, sizeof(b1)));
		goto done;
	}
	if (!c->offer.valid || strcmp(c->party[c->offer.from].tag, req->from_tag) != 0) {
		rc = call_fail(out, -EINVAL, "no offer from tag '%s' is pending on call '%s'",
			       call_shown(req->from_tag, b1, sizeof(b1)),
			       call_shown(req->call_id, b2, sizeof(b2)));
		goto done;
	}
	o = call_side_of(c->offer.from);
	p = call_party_index(c, req->to_tag);
	if (c->offer.from != 0 && p != 0) {
		rc = call_fail(out, -EINVAL,
			       "the offer came from branch '%s': its answer's to-tag must be the "
			       "caller's '%s', not '%s'",
			       call_shown(req->from_tag, b1, sizeof(b1)), c->party[0].tag,
			       call_shown(req->to_tag, b2, sizeof(b2)));
		goto done;
	}
	if (c->offer.from == 0 && p == 0) {
		rc = call_fail(out, -EINVAL, "answer to-tag '%s' is the caller's own tag",
			       call_shown(req->to_tag, b1, sizeof(b1)));
		goto done;
	}
	if (p < 0 && c->nparties >= CALL_NPARTIES) {
		rc = call_fail(out, -E2BIG, "call '%s' already has %u branches (forks)",
			       call_shown(req->call_id, b1, sizeof(b1)), CALL_MAX_BRANCHES);
		goto done;
	}
	if (s->nmedia != c->nmedia) {
		rc = call_fail(out, -EINVAL, "answer has %u m= sections, the offer had %u",
			       s->nmedia, c->nmedia);
		goto done;
	}
	if (fl->has_direction) {
		uint8_t iface[CALL_SIDES];

		rc = resolve_direction(&t->cfg, fl, o, iface, out);
		if (rc < 0)
			goto done;
		if (iface[0] != c->iface[0] || iface[1] != c->iface[1]) {
			rc = call_fail(out, -EINVAL,
				       "direction=%s,%s in an answer differs from the offer's "
				       "interfaces %s,%s",
				       fl->direction[0], fl->direction[1],
				       t->cfg.ifaces[c->iface[o]].name,
				       t->cfg.ifaces[c->iface[1 - o]].name);
			goto done;
		}
	}
	rc = check_family(&t->cfg, s, c->iface[1 - o], out);
	if (rc < 0)
		goto done;

	n = call_clone(c, c->nmedia);
	if (n == NULL) {
		rc = call_fail(out, -ENOMEM, "out of memory");
		goto done;
	}
	if (p < 0) {
		p = n->nparties++;
		snprintf(n->party[p].tag, sizeof(n->party[p].tag), "%s", req->to_tag);
	}
	answerer = (unsigned)p;
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *sm = &s->media[i];
		struct call_media *m = &n->media[i];
		struct call_peer *peer = &n->party[answerer].peer[i];

		if (m->port[0] == 0 || sm->port == 0) {
			/* Rejected before (it stays rejected) or now: for every branch. */
			for (unsigned side = 0; m->port[0] != 0 && side < CALL_SIDES; side++)
				txn_release(&x, n->iface[side], m->port[side]);
			call_media_clear(m);
			for (unsigned q = 0; q < n->nparties; q++)
				memset(&n->party[q].peer[i], 0, sizeof(*peer));
			continue;
		}
		set_peer(peer, s, sm);
		rc = call_sdes_answer(n, s, i, answerer, out);
		if (rc < 0)
			goto done;
		if (!m->is_rtp)
			continue;
		answer_mux(m, (enum flags_rtcp_mux)n->offer.mode, n->offer.offered_mux >> i & 1u,
			   n->offer.offerer_mux >> i & 1u, sm->rtcp_mux, o);
		if (m->mux[o])
			mux_bits |= 1u << i;
		else
			rtcp_bits |= 1u << i;
	}
	n->party[answerer].pflags = party_flags(fl);
	n->offer.answered = true;
	if (answerer != 0)
		n->active = (uint8_t)answerer;
	n->updated_ms = now;
	rc = output(n, s, o, fl, mux_bits, rtcp_bits, out);
	if (rc < 0)
		goto done;
	common_warnings(n, s, fl, out);
	calls_replace(t, c, n);
	n = NULL;
	out->call = c;
	txn_commit(&x);
	rc = 0;
done:
	if (rc < 0) {
		txn_abort(&x);
		call_result_clear(out);
	}
	call_free(n);
	free(s);
	return rc;
}
