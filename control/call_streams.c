/* The dataplane streams a call needs now (call_streams), derived from its state: relay
 * ports, the peers' SDP addresses, rtcp-mux per leg, the endpoint flags of the party
 * each stream receives from and the SRTP keys of both directions. Control main thread
 * only; no I/O. */
#include "call_priv.h"

#include <string.h>

static const struct call_party *party_on(const struct call *c, unsigned side)
{
	if (side == 0)
		return &c->party[0];
	return c->active != 0 ? &c->party[c->active] : NULL;
}

/* Latching and the accepted source for packets from party `from` (may be NULL: a callee
 * that has not answered yet) whose SDP named `sdp_src` (unspecified when unknown). */
static void source_rules(struct rpa_dp_stream *st, const struct call_party *from,
			 const struct rpa_endpoint *sdp_src)
{
	uint8_t pf = from != NULL ? from->pflags : 0;
	bool have = sdp_src != NULL && !rpa_addr_is_unspec(&sdp_src->addr);

	if (pf & CALL_PF_TRUST) {
		if (have)
			st->expect = *sdp_src;
		if (pf & CALL_PF_STRICT)
			/* Without a known address (hold) strictness starts after a latch. */
			st->flags = have ? RPA_DP_F_STRICT : (RPA_DP_F_LATCH | RPA_DP_F_STRICT);
		return;
	}
	if (pf & CALL_PF_ASYM)
		return; /* no latching, any source */
	st->flags = RPA_DP_F_LATCH | ((pf & CALL_PF_STRICT) ? RPA_DP_F_STRICT : 0);
}

/* SRTP of one stream (see call.h, "SRTP"). */
struct srtp {
	const struct sdes_crypto *rx, *tx;
	uint8_t pass_suite;
	bool pass;
};

static void put(struct call_stream *out, unsigned cap, unsigned *n, const struct call *c,
		const struct call_party *from, unsigned i, unsigned comp,
		const struct rpa_dp_stream *st, const struct srtp *sr, bool mux)
{
	if (*n < cap) {
		struct call_stream *cs = &out[*n];

		memset(cs, 0, sizeof(*cs));
		cs->dp = *st;
		if (from != NULL)
			memcpy(cs->from_tag, from->tag, sizeof(cs->from_tag));
		cs->media = (uint8_t)i;
		cs->component = (uint8_t)comp;
		sdes_to_dp(sr->rx, &cs->dp.rx);
		sdes_to_dp(sr->tx, &cs->dp.tx);
		if (sr->rx != NULL || sr->tx != NULL)
			cs->dp.flags |= comp == 2 ? RPA_DP_F_RTCP : mux ? RPA_DP_F_MUX : 0;
		cs->srtp_in = sr->pass ? sr->pass_suite : cs->dp.rx.suite;
		cs->srtp_out = sr->pass ? sr->pass_suite : cs->dp.tx.suite;
		cs->sdes_passthrough = sr->pass;
	}
	(*n)++;
}

static struct rpa_endpoint ep(const struct rpa_addr *a, uint16_t port)
{
	struct rpa_endpoint e;

	memset(&e, 0, sizeof(e));
	e.addr = *a;
	e.port = port;
	return e;
}

unsigned call_streams(const struct call *c, struct call_stream *out, unsigned cap)
{
	uint64_t tag = call_dp_tag(c);
	unsigned n = 0;

	for (unsigned i = 0; i < c->nmedia; i++) {
		const struct call_media *m = &c->media[i];

		if (m->port[0] == 0)
			continue;
		for (unsigned s = 0; s < CALL_SIDES; s++) {
			unsigned t = 1 - s;
			const struct call_party *from = party_on(c, s), *to = party_on(c, t);
			const struct call_peer *dst, *src;
			const struct rpa_addr *la = &c->cfg->ifaces[c->iface[s]].local;
			const struct rpa_addr *ta = &c->cfg->ifaces[c->iface[t]].local;
			const struct call_sdes *sd = m->sdes;
			struct srtp sr = {0};
			struct rpa_dp_stream st;

			/* A stream exists once the party it sends to has described the section
			 * (so before the answer only towards the offerer: early media). */
			if (to == NULL || !to->peer[i].known)
				continue;
			dst = &to->peer[i];
			src = from != NULL && from->peer[i].known ? &from->peer[i] : NULL;
			if (sd != NULL && sd->mode == CALL_SDES_BRIDGE) {
				/* Without the sender's key nothing arriving could be decrypted. */
				if (src == NULL &&
				    sdes_profile_srtp((enum sdes_profile)sd->profile[s]))
					continue;
				sr.rx = src != NULL && src->has_crypto ? &src->crypto : NULL;
				sr.tx = call_sdes_ours(c, i, t, dst);
			} else if (sd != NULL) {
				sr.pass = true;
				sr.pass_suite = sd->pass_suite;
			}

			memset(&st, 0, sizeof(st));
			st.local = ep(la, m->port[s]);
			st.src = ep(ta, m->port[t]);
			if (!dst->hold)
				st.dst = dst->rtp;
			st.latch_window_ms = c->cfg->latch_window_ms;
			st.tag = tag;
			source_rules(&st, from, src ? &src->rtp : NULL);
			put(out, cap, &n, c, from, i, 1, &st, &sr, m->is_rtp && m->mux[s]);

			/* RTCP on +1 from a leg that does not mux; towards a muxing leg it
			 * leaves from, and goes to, the RTP ports. */
			if (!m->is_rtp || m->mux[s])
				continue;
			memset(&st, 0, sizeof(st));
			st.local = ep(la, (uint16_t)(m->port[s] + 1));
			st.src = ep(ta, (uint16_t)(m->port[t] + (m->mux[t] ? 0 : 1)));
			if (!dst->hold)
				st.dst = m->mux[t] ? dst->rtp : dst->rtcp;
			st.latch_window_ms = c->cfg->latch_window_ms;
			st.tag = tag;
			source_rules(&st, from, src ? &src->rtcp : NULL);
			put(out, cap, &n, c, from, i, 2, &st, &sr, false);
		}
	}
	return n;
}
