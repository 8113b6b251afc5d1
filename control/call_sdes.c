/* SDES in offers and answers: each section's mode and profiles, the offerer's key chosen,
 * the relay's keys made and kept, the answer checked against the offer, and the
 * profile/a=crypto part of the SDP the relay sends (rules in call.h, "SRTP"). Control main
 * thread only; no I/O besides the random bytes for keys. */
#include "call_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINES_MAX 16 /* a=crypto lines read per section; more is an error */

struct line {
	const char *v; /* the value after "a=crypto:" */
	size_t len;
};

/* The a=crypto lines of section i, in order. Returns how many, or -E2BIG. */
static int crypto_lines(const struct sdp_session *s, unsigned i, struct line *out)
{
	const struct sdp_media *m = &s->media[i];
	const char *p = s->buf + m->section.off, *end = p + m->section.len;
	int n = 0;

	if (!m->has_crypto)
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len >= 9 && strncasecmp(p, "a=crypto:", 9) == 0) {
			if (n == LINES_MAX)
				return -E2BIG;
			out[n].v = p + 9;
			out[n++].len = len - 9;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return n;
}

static enum sdes_profile profile_of(const struct sdp_session *s, const struct sdp_media *m)
{
	return sdes_profile_parse(sdp_span_ptr(s, m->proto), m->proto.len);
}

static void set_sdes(struct call_media *m, struct call_sdes *sd)
{
	if (m->sdes != NULL) {
		sdes_wipe(m->sdes, sizeof(*m->sdes));
		free(m->sdes);
	}
	m->sdes = sd;
}

static int lines_or_fail(const struct sdp_session *s, unsigned i, struct line *l,
			 struct call_result *out)
{
	int n = crypto_lines(s, i, l);

	if (n < 0)
		return call_fail(out, -E2BIG, "m= section %u has more than %d a=crypto lines",
				 i + 1, LINES_MAX);
	return n;
}

/* The offerer's key: its first line the relay can use (RFC 4568 section 5.1.1: the
 * offerer lists them by preference). Lines it cannot use are skipped; if none is left,
 * the error lists why, line by line. */
static int choose(const struct sdp_session *s, unsigned i, enum sdes_profile po,
		  struct sdes_crypto *c, struct call_result *out)
{
	struct line l[LINES_MAX];
	char why[CALL_ERRLEN] = "", err[SDES_ERRLEN];
	bool all_unsupported = true;
	int n = lines_or_fail(s, i, l, out);

	if (n < 0)
		return n;
	for (int k = 0; k < n; k++) {
		size_t w = strlen(why);
		int rc = sdes_parse(l[k].v, l[k].len, c, NULL, err, sizeof(err));

		if (rc == 0)
			return 0;
		all_unsupported &= rc == -ENOTSUP;
		snprintf(why + w, sizeof(why) - w, "%s%s", w ? "; " : "", err);
	}
	return call_fail(out, all_unsupported ? -ENOTSUP : -EINVAL,
			 "m= section %u (%s): no supported crypto suite in its %d a=crypto "
			 "line%s: %s",
			 i + 1, sdes_profile_name(po), n, n == 1 ? "" : "s", why);
}

static int make_key(const struct call *n, struct sdes_crypto *c, uint32_t tag, unsigned suite,
		    struct call_result *out)
{
	int rc = sdes_generate(c, tag, suite, n->cfg->random, n->cfg->random_arg);

	if (rc < 0)
		return call_fail(out, rc, "cannot make SRTP keys: no random bytes (%s)",
				 strerror(-rc));
	return 0;
}

static const struct sdes_crypto *find_suite(const struct call_sdes *old, unsigned side,
					    unsigned suite)
{
	if (old == NULL || old->mode != CALL_SDES_BRIDGE)
		return NULL;
	for (unsigned k = 0; k < old->nours[side]; k++)
		if (old->ours[side][k].suite == suite)
			return &old->ours[side][k];
	return NULL;
}

/* The relay's offer towards side a: what it offered or answered there before (same tags,
 * keys, order), then every other supported suite with a new key and the lowest free tag. */
static int offer_keys(const struct call *n, const struct call_sdes *old, unsigned a,
		      struct call_sdes *nw, struct call_result *out)
{
	unsigned k = 0;
	int rc;

	if (old != NULL && old->mode == CALL_SDES_BRIDGE)
		for (; k < old->nours[a]; k++)
			nw->ours[a][k] = old->ours[a][k];
	for (unsigned o = 0; o < SDES_NSUITES; o++) {
		unsigned suite = sdes_offer_order[o];
		uint32_t tag = 1;
		bool have = false;

		for (unsigned j = 0; j < k; j++)
			have |= nw->ours[a][j].suite == suite;
		if (have)
			continue;
		for (unsigned j = 0; j < k; j++)
			if (nw->ours[a][j].tag == tag) {
				tag++;
				j = (unsigned)-1; /* rescan: tags are few */
			}
		rc = make_key(n, &nw->ours[a][k], tag, suite, out);
		if (rc < 0)
			return rc;
		k++;
	}
	nw->nours[a] = (uint8_t)k;
	return 0;
}

int call_sdes_offer(struct call *n, const struct sdp_session *s, unsigned i, unsigned offerer,
		    const struct flags *fl, struct call_result *out)
{
	const struct sdp_media *sm = &s->media[i];
	struct call_media *m = &n->media[i];
	struct call_peer *peer = &n->party[offerer].peer[i];
	const struct call_sdes *old = m->sdes;
	unsigned o = call_side_of(offerer), a = 1 - o;
	enum sdes_profile po, pa;
	struct call_sdes *nw;
	bool pass;
	int rc;

	peer->has_crypto = false;
	if (!sm->is_rtp) {
		set_sdes(m, NULL);
		return 0;
	}
	po = profile_of(s, sm);
	if (fl->transport != SDES_PROFILE_OTHER)
		pa = fl->transport;
	else if (old != NULL)
		pa = (enum sdes_profile)old->profile[a];
	else
		pa = po;
	if (po == SDES_PROFILE_OTHER) {
		if (fl->transport != SDES_PROFILE_OTHER)
			return call_fail(
			    out, -ENOTSUP,
			    "m= section %u has transport '%.*s', which "
			    "transport-protocol= cannot convert (rtpanchor terminates "
			    "SDES over RTP/AVP, RTP/SAVP, RTP/AVPF and RTP/SAVPF only)",
			    i + 1, (int)(sm->proto.len > 40 ? 40 : sm->proto.len),
			    sdp_span_ptr(s, sm->proto));
		set_sdes(m, NULL);
		return 0;
	}
	pass = sdes_profile_srtp(po) &&
	       (fl->sdes_passthrough ||
		(old != NULL && old->mode == CALL_SDES_PASS && sdes_profile_srtp(pa)));
	if (fl->sdes_passthrough && sdes_profile_srtp(po) && !sdes_profile_srtp(pa))
		return call_fail(out, -EINVAL,
				 "sdes-passthrough keeps SRTP end to end: transport-protocol=%s "
				 "cannot apply to m= section %u (%s)",
				 sdes_profile_name(pa), i + 1, sdes_profile_name(po));
	if (!pass && (po == pa && (!sdes_profile_srtp(po) || !sm->has_crypto))) {
		/* Plain on both legs, or SRTP keyed some other way (ZRTP, DTLS): untouched. */
		set_sdes(m, NULL);
		return 0;
	}
	if (!pass && sdes_profile_srtp(po) && !sm->has_crypto)
		return call_fail(out, -ENOTSUP,
				 "m= section %u is %s without a=crypto: rtpanchor converts "
				 "SDES-keyed SRTP only",
				 i + 1, sdes_profile_name(po));

	nw = calloc(1, sizeof(*nw));
	if (nw == NULL)
		return call_fail(out, -ENOMEM, "out of memory");
	nw->profile[o] = (uint8_t)po;
	nw->profile[a] = (uint8_t)pa;
	if (pass) {
		nw->mode = CALL_SDES_PASS;
		nw->pass_suite = old != NULL && old->mode == CALL_SDES_PASS ? old->pass_suite : 0;
		set_sdes(m, nw);
		return 0;
	}
	nw->mode = CALL_SDES_BRIDGE;
	if (sdes_profile_srtp(po)) {
		const struct sdes_crypto *keep;

		rc = choose(s, i, po, &peer->crypto, out);
		if (rc < 0)
			goto fail;
		peer->has_crypto = true;
		keep = find_suite(old, o, peer->crypto.suite);
		if (keep != NULL) {
			nw->ours[o][0] = *keep;
			nw->ours[o][0].tag = peer->crypto.tag;
		} else {
			rc =
			    make_key(n, &nw->ours[o][0], peer->crypto.tag, peer->crypto.suite, out);
			if (rc < 0)
				goto fail;
		}
		nw->nours[o] = 1;
	}
	if (sdes_profile_srtp(pa)) {
		rc = offer_keys(n, old, a, nw, out);
		if (rc < 0)
			goto fail;
	}
	set_sdes(m, nw);
	return 0;
fail:
	peer->has_crypto = false;
	sdes_wipe(&peer->crypto, sizeof(peer->crypto));
	sdes_wipe(nw, sizeof(*nw));
	free(nw);
	return rc;
}

/* The tag of an a=crypto value, without parsing the rest. */
static bool line_tag(const struct line *l, uint32_t *tag)
{
	uint64_t v = 0;
	size_t k = 0;

	while (k < l->len && k < 10 && l->v[k] >= '0' && l->v[k] <= '9')
		v = v * 10 + (uint64_t)(l->v[k++] - '0');
	if (k == 0 || k > 9 || (k < l->len && l->v[k] != ' ' && l->v[k] != '\t'))
		return false;
	*tag = (uint32_t)v;
	return true;
}

int call_sdes_answer(struct call *n, const struct sdp_session *s, unsigned i, unsigned answerer,
		     struct call_result *out)
{
	const struct sdp_media *sm = &s->media[i];
	struct call_sdes *sd = n->media[i].sdes;
	struct call_peer *peer = &n->party[answerer].peer[i];
	unsigned a = call_side_of(answerer);
	struct line l[LINES_MAX];
	char err[SDES_ERRLEN], msg[CALL_ERRLEN];
	enum sdes_profile ap;
	int nl, rc;

	peer->has_crypto = false;
	if (!sm->is_rtp || sd == NULL)
		return 0;
	nl = lines_or_fail(s, i, l, out);
	if (nl < 0)
		return nl;
	if (sd->mode == CALL_SDES_PASS) {
		struct sdes_crypto tmp;
		unsigned suite = RPA_DP_SRTP_NONE;

		if (nl > 0)
			sdes_parse(l[0].v, l[0].len, &tmp, &suite, err, sizeof(err));
		sdes_wipe(&tmp, sizeof(tmp));
		sd->pass_suite = (uint8_t)suite;
		return 0;
	}
	if (!sdes_profile_srtp((enum sdes_profile)sd->profile[a]))
		return 0; /* offered plain: any a=crypto it sent is dropped */
	ap = profile_of(s, sm);
	if (nl == 0) {
		if (ap == SDES_PROFILE_AVP || ap == SDES_PROFILE_AVPF) {
			snprintf(msg, sizeof(msg),
				 "m= section %u: the answer declined SRTP (%s without a=crypto): "
				 "media to and from that party stays plain",
				 i + 1, sdes_profile_name(ap));
			call_warn(out, msg);
			return 0;
		}
		return call_fail(out, -EINVAL,
				 "m= section %u: the answer accepts SRTP without an a=crypto line",
				 i + 1);
	}
	for (int k = 0; k < nl; k++) {
		uint32_t tag;

		if (!line_tag(&l[k], &tag))
			continue;
		for (unsigned j = 0; j < sd->nours[a]; j++) {
			if (sd->ours[a][j].tag != tag)
				continue;
			rc = sdes_parse(l[k].v, l[k].len, &peer->crypto, NULL, err, sizeof(err));
			if (rc < 0)
				return call_fail(out, rc, "m= section %u: the answer's %s", i + 1,
						 err);
			if (peer->crypto.suite != sd->ours[a][j].suite) {
				unsigned got = peer->crypto.suite;

				sdes_wipe(&peer->crypto, sizeof(peer->crypto));
				return call_fail(
				    out, -EINVAL,
				    "m= section %u: the answer's a=crypto tag %u names "
				    "%s, offered as %s",
				    i + 1, tag, sdes_suite_name(got),
				    sdes_suite_name(sd->ours[a][j].suite));
			}
			peer->has_crypto = true;
			return 0;
		}
	}
	return call_fail(out, -EINVAL,
			 "m= section %u: the answer's a=crypto line%s name%s no tag the offer had",
			 i + 1, nl == 1 ? "" : "s", nl == 1 ? "s" : "");
}

void call_sdes_edit(const struct call *c, unsigned i, unsigned side, const char **proto,
		    uint32_t *drop, char *extra, size_t cap)
{
	const struct call_sdes *sd = c->media[i].sdes;
	size_t len = 0;

	*proto = NULL;
	if (cap > 0)
		extra[0] = '\0';
	if (sd == NULL)
		return;
	*proto = sdes_profile_name((enum sdes_profile)sd->profile[side]);
	if (sd->mode == CALL_SDES_PASS)
		return;
	*drop |= SDP_DROP_CRYPTO;
	for (unsigned k = 0; k < sd->nours[side] && len < cap; k++)
		len += sdes_format(&sd->ours[side][k], extra + len, cap - len);
}

const struct sdes_crypto *call_sdes_ours(const struct call *c, unsigned i, unsigned side,
					 const struct call_peer *p)
{
	const struct call_sdes *sd = c->media[i].sdes;

	if (sd == NULL || sd->mode != CALL_SDES_BRIDGE || p == NULL || !p->has_crypto)
		return NULL;
	for (unsigned k = 0; k < sd->nours[side]; k++)
		if (sd->ours[side][k].tag == p->crypto.tag &&
		    sd->ours[side][k].suite == p->crypto.suite)
			return &sd->ours[side][k];
	return NULL;
}
