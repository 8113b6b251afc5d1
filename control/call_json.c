/* A call's complete state as one JSON object (call_to_json) and back (calls_restore), for
 * the Redis call hash. Restoring checks every field of hostile input and reserves the
 * call's relay ports. Control main thread only; no I/O. */
#include "call_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALL_JSON_FORMAT 2 /* 2 added SDES; 1 (no SDES) is still read */

static const char *const dir_names[] = {
    [SDP_DIR_UNSET] = "unset",	     [SDP_DIR_SENDRECV] = "sendrecv",
    [SDP_DIR_SENDONLY] = "sendonly", [SDP_DIR_RECVONLY] = "recvonly",
    [SDP_DIR_INACTIVE] = "inactive",
};

static const struct {
	const char *name;
	uint8_t bit;
} pflag_names[] = {
    {"trust-address", CALL_PF_TRUST},
    {"strict-source", CALL_PF_STRICT},
    {"asymmetric", CALL_PF_ASYM},
};

/* ---- to JSON ---- */

static json_t *addr_json(const struct rpa_addr *a)
{
	char buf[RPA_ADDR_STRLEN];

	if (rpa_addr_is_unspec(a))
		return json_null();
	return json_string(rpa_addr_format(a, buf, sizeof(buf)));
}

static json_t *endpoint_json(const struct rpa_endpoint *e)
{
	return json_pack("{s:o, s:i}", "addr", addr_json(&e->addr), "port", (int)e->port);
}

/* A master key as {tag, suite, key (base64 key||salt, as after inline:), mki, mki-length}. */
static json_t *crypto_json(const struct sdes_crypto *c)
{
	char key[SDES_KEY_B64 + 1];
	json_t *j;

	sdes_key_encode(c, key, sizeof(key));
	j = json_pack("{s:I, s:s, s:s, s:I, s:i}", "tag", (json_int_t)c->tag, "suite",
		      sdes_suite_name(c->suite), "key", key, "mki", (json_int_t)c->mki,
		      "mki-length", (int)c->mki_len);
	sdes_wipe(key, sizeof(key));
	return j;
}

static json_t *peer_json(const struct call_peer *p)
{
	if (!p->known)
		return json_null();
	return json_pack("{s:b, s:b, s:s, s:o, s:o, s:o}", "hold", p->hold, "rtcp-mux", p->mux,
			 "direction", p->dir < 5 ? dir_names[p->dir] : "unset", "rtp",
			 endpoint_json(&p->rtp), "rtcp", endpoint_json(&p->rtcp), "crypto",
			 p->has_crypto ? crypto_json(&p->crypto) : json_null());
}

static json_t *sdes_json(const struct call_sdes *sd)
{
	json_t *keys[CALL_SIDES];

	if (sd == NULL)
		return json_null();
	for (unsigned s = 0; s < CALL_SIDES; s++) {
		keys[s] = json_array();
		for (unsigned k = 0; k < sd->nours[s]; k++)
			json_array_append_new(keys[s], crypto_json(&sd->ours[s][k]));
	}
	return json_pack("{s:s, s:[s,s], s:s, s:[o,o]}", "mode",
			 sd->mode == CALL_SDES_PASS ? "passthrough" : "bridge", "profiles",
			 sdes_profile_name((enum sdes_profile)sd->profile[0]),
			 sdes_profile_name((enum sdes_profile)sd->profile[1]), "suite",
			 sdes_suite_name(sd->pass_suite), "keys", keys[0], keys[1]);
}

static json_t *party_json(const struct call *c, const struct call_party *p)
{
	json_t *flags = json_array(), *peers = json_array();

	for (unsigned k = 0; k < sizeof(pflag_names) / sizeof(pflag_names[0]); k++)
		if (p->pflags & pflag_names[k].bit)
			json_array_append_new(flags, json_string(pflag_names[k].name));
	for (unsigned i = 0; i < c->nmedia; i++)
		json_array_append_new(peers, peer_json(&p->peer[i]));
	return json_pack("{s:s, s:o, s:o}", "tag", p->tag, "flags", flags, "peers", peers);
}

static json_t *out_json(const struct call_out *o)
{
	char v[24], d[20];

	if (!o->valid)
		return json_null();
	snprintf(v, sizeof(v), "%" PRIu64, o->version);
	snprintf(d, sizeof(d), "%016" PRIx64, o->digest);
	return json_pack("{s:s, s:s}", "version", v, "digest", d);
}

json_t *call_to_json(const struct call *c)
{
	json_t *media = json_array(), *parties = json_array(), *offer, *j;

	for (unsigned i = 0; i < c->nmedia; i++) {
		const struct call_media *m = &c->media[i];

		json_array_append_new(media, json_pack("{s:b, s:[i,i], s:[b,b], s:o}", "rtp",
						       m->is_rtp, "ports", (int)m->port[0],
						       (int)m->port[1], "rtcp-mux", m->mux[0],
						       m->mux[1], "sdes", sdes_json(m->sdes)));
	}
	for (unsigned p = 0; p < c->nparties; p++)
		json_array_append_new(parties, party_json(c, &c->party[p]));
	offer = json_pack("{s:b, s:b, s:i, s:s, s:I, s:I}", "valid", c->offer.valid, "answered",
			  c->offer.answered, "from", (int)c->offer.from, "rtcp-mux",
			  flags_rtcp_mux_name((enum flags_rtcp_mux)c->offer.mode), "offered-mux",
			  (json_int_t)c->offer.offered_mux, "offerer-mux",
			  (json_int_t)c->offer.offerer_mux);
	j = json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:[s,s], s:i, s:o, s:o, s:o, s:[o,o]}",
		      "format", CALL_JSON_FORMAT, "call-id", c->id, "owner", c->owner, "created",
		      (json_int_t)c->created_ms, "updated", (json_int_t)c->updated_ms, "delete-at",
		      (json_int_t)c->delete_at_ms, "interfaces", c->cfg->ifaces[c->iface[0]].name,
		      c->cfg->ifaces[c->iface[1]].name, "active", (int)c->active, "media", media,
		      "parties", parties, "offer", offer, "sdp-out", out_json(&c->out[0]),
		      out_json(&c->out[1]));
	return j;
}

/* ---- from JSON ---- */

struct rctx {
	char *err;
	size_t errlen;
	int format;
};

static int bad(struct rctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct rctx *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->errlen, "call state: ");

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < r->errlen)
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int get_int(struct rctx *r, const json_t *o, const char *key, json_int_t min, json_int_t max,
		   json_int_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return bad(r, "'%s' missing or not an integer", key);
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return bad(r, "'%s' = %lld out of range %lld..%lld", key, (long long)*out,
			   (long long)min, (long long)max);
	return 0;
}

static int get_bool(struct rctx *r, const json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return bad(r, "'%s' missing or not a boolean", key);
	*out = json_is_true(v);
	return 0;
}

/* A string of 1..max bytes (0..max with allow_empty) without NUL bytes. */
static int get_str(struct rctx *r, const json_t *o, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return bad(r, "'%s' missing or not a string", key);
	if (json_string_length(v) == 0 || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(r, "'%s' empty, longer than %zu bytes or holding NUL", key, max);
	*out = json_string_value(v);
	return 0;
}

static int get_array(struct rctx *r, const json_t *o, const char *key, size_t min, size_t max,
		     json_t **out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_array(v))
		return bad(r, "'%s' missing or not an array", key);
	if (json_array_size(v) < min || json_array_size(v) > max)
		return bad(r, "'%s' has %zu entries, not %zu..%zu", key, json_array_size(v), min,
			   max);
	*out = v;
	return 0;
}

static int endpoint_from(struct rctx *r, const json_t *o, struct rpa_endpoint *e)
{
	json_t *a = json_object_get(o, "addr");
	json_int_t port = 0;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o))
		return bad(r, "peer endpoint is not an object");
	if (get_int(r, o, "port", 0, 65535, &port) < 0)
		return -EINVAL;
	e->port = (uint16_t)port;
	if (json_is_null(a))
		return 0;
	if (!json_is_string(a) || rpa_addr_parse(json_string_value(a), &e->addr) < 0)
		return bad(r, "peer address is not an IP address");
	return 0;
}

/* A key object (crypto_json). Messages never quote the key. */
static int crypto_from(struct rctx *r, const json_t *o, struct sdes_crypto *c)
{
	json_int_t tag = 0, mki = 0, mlen = 0;
	const char *suite = NULL, *key = NULL;
	size_t klen;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(o))
		return bad(r, "an SRTP key is not an object");
	if (get_int(r, o, "tag", 0, SDES_TAG_MAX, &tag) < 0 ||
	    get_str(r, o, "suite", 32, &suite) < 0 ||
	    get_int(r, o, "mki-length", 0, RPA_DP_SRTP_MKI_MAX, &mlen) < 0 ||
	    get_int(r, o, "mki", 0, mlen == 0 ? 0 : (json_int_t)((1ull << (8 * mlen)) - 1), &mki) <
		0)
		return -EINVAL;
	if (!json_is_string(json_object_get(o, "key")))
		return bad(r, "an SRTP key has no 'key' string");
	key = json_string_value(json_object_get(o, "key"));
	klen = json_string_length(json_object_get(o, "key"));
	c->tag = (uint32_t)tag;
	c->suite = (uint8_t)sdes_suite_parse(suite, strlen(suite));
	c->mki_len = (uint8_t)mlen;
	c->mki = (uint32_t)mki;
	if (c->suite == RPA_DP_SRTP_NONE)
		return bad(r, "unknown SRTP suite '%.32s'", suite);
	if (sdes_key_decode(c, key, klen) < 0) {
		sdes_wipe(c, sizeof(*c));
		return bad(r, "SRTP key (tag %u) is not base64 of %u bytes for %s", (unsigned)tag,
			   rpa_dp_srtp_key_len(c->suite) + rpa_dp_srtp_salt_len(c->suite),
			   sdes_suite_name(c->suite));
	}
	return 0;
}

static int peer_from(struct rctx *r, const json_t *o, struct call_peer *p)
{
	const char *dir = NULL;
	json_t *cr;

	memset(p, 0, sizeof(*p));
	if (json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return bad(r, "peer is neither null nor an object");
	p->known = true;
	if (get_bool(r, o, "hold", &p->hold) < 0 || get_bool(r, o, "rtcp-mux", &p->mux) < 0 ||
	    get_str(r, o, "direction", 16, &dir) < 0 ||
	    endpoint_from(r, json_object_get(o, "rtp"), &p->rtp) < 0 ||
	    endpoint_from(r, json_object_get(o, "rtcp"), &p->rtcp) < 0)
		return -EINVAL;
	if (r->format >= 2) {
		cr = json_object_get(o, "crypto");
		if (cr == NULL)
			return bad(r, "'crypto' missing");
		if (!json_is_null(cr)) {
			if (crypto_from(r, cr, &p->crypto) < 0)
				return -EINVAL;
			p->has_crypto = true;
		}
	}
	for (unsigned d = 0; d < sizeof(dir_names) / sizeof(dir_names[0]); d++)
		if (strcmp(dir, dir_names[d]) == 0) {
			p->dir = (uint8_t)d;
			return 0;
		}
	return bad(r, "unknown direction '%.16s'", dir);
}

static int party_from(struct rctx *r, const json_t *o, unsigned nmedia, struct call_party *p)
{
	json_t *flags = NULL, *peers = NULL;
	const char *tag = NULL;

	if (!json_is_object(o))
		return bad(r, "party is not an object");
	if (get_str(r, o, "tag", CALL_TAG_MAX, &tag) < 0 ||
	    get_array(r, o, "flags", 0, 3, &flags) < 0 ||
	    get_array(r, o, "peers", nmedia, nmedia, &peers) < 0)
		return -EINVAL;
	snprintf(p->tag, sizeof(p->tag), "%s", tag);
	p->pflags = 0;
	for (size_t k = 0; k < json_array_size(flags); k++) {
		json_t *f = json_array_get(flags, k);
		unsigned b;

		for (b = 0; b < sizeof(pflag_names) / sizeof(pflag_names[0]); b++)
			if (json_is_string(f) &&
			    strcmp(json_string_value(f), pflag_names[b].name) == 0)
				break;
		if (b == sizeof(pflag_names) / sizeof(pflag_names[0]))
			return bad(r, "unknown party flag");
		p->pflags |= pflag_names[b].bit;
	}
	for (unsigned i = 0; i < nmedia; i++)
		if (peer_from(r, json_array_get(peers, i), &p->peer[i]) < 0)
			return -EINVAL;
	return 0;
}

static int sdes_from(struct rctx *r, const json_t *o, struct call_media *m)
{
	json_t *profiles = NULL, *keys = NULL;
	const char *mode = NULL, *suite = NULL;
	struct call_sdes *sd;

	if (json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return bad(r, "'sdes' missing, or neither null nor an object");
	if (!m->is_rtp || m->port[0] == 0)
		return bad(r, "SDES state on a section that is not live RTP");
	if (get_str(r, o, "mode", 16, &mode) < 0 ||
	    get_array(r, o, "profiles", 2, 2, &profiles) < 0 ||
	    get_str(r, o, "suite", 32, &suite) < 0 || get_array(r, o, "keys", 2, 2, &keys) < 0)
		return -EINVAL;
	sd = m->sdes = calloc(1, sizeof(*sd));
	if (sd == NULL)
		return bad(r, "out of memory");
	if (strcmp(mode, "bridge") == 0)
		sd->mode = CALL_SDES_BRIDGE;
	else if (strcmp(mode, "passthrough") == 0)
		sd->mode = CALL_SDES_PASS;
	else
		return bad(r, "unknown SDES mode '%.16s'", mode);
	sd->pass_suite = (uint8_t)sdes_suite_parse(suite, strlen(suite));
	if (sd->pass_suite == RPA_DP_SRTP_NONE && strcmp(suite, "none") != 0)
		return bad(r, "unknown SRTP suite '%.32s'", suite);
	for (unsigned s = 0; s < CALL_SIDES; s++) {
		json_t *pv = json_array_get(profiles, s), *kv = json_array_get(keys, s);
		enum sdes_profile p;
		size_t nk;

		if (!json_is_string(pv) || !json_is_array(kv))
			return bad(r, "SDES profiles must be strings, keys arrays");
		p = sdes_profile_parse(json_string_value(pv), json_string_length(pv));
		if (p == SDES_PROFILE_OTHER)
			return bad(r, "unknown profile '%.16s'", json_string_value(pv));
		sd->profile[s] = (uint8_t)p;
		nk = json_array_size(kv);
		/* Keys exactly on the SRTP legs of a bridged section. */
		if (nk > SDES_NSUITES ||
		    (nk > 0) != (sd->mode == CALL_SDES_BRIDGE && sdes_profile_srtp(p)))
			return bad(r, "%zu SRTP keys on a %s side of a %s section", nk,
				   sdes_profile_name(p), mode);
		for (size_t k = 0; k < nk; k++) {
			if (crypto_from(r, json_array_get(kv, k), &sd->ours[s][k]) < 0)
				return -EINVAL;
			for (size_t q = 0; q < k; q++)
				if (sd->ours[s][q].tag == sd->ours[s][k].tag)
					return bad(r, "two SRTP keys with tag %u",
						   sd->ours[s][k].tag);
		}
		sd->nours[s] = (uint8_t)nk;
	}
	if (sd->mode == CALL_SDES_PASS && !(sdes_profile_srtp((enum sdes_profile)sd->profile[0]) &&
					    sdes_profile_srtp((enum sdes_profile)sd->profile[1])))
		return bad(r, "a passthrough section with a plain side");
	return 0;
}

static int media_from(struct rctx *r, const json_t *o, struct call_media *m)
{
	json_t *ports = NULL, *mux = NULL;
	json_int_t p[2];

	if (!json_is_object(o))
		return bad(r, "media entry is not an object");
	if (get_bool(r, o, "rtp", &m->is_rtp) < 0 || get_array(r, o, "ports", 2, 2, &ports) < 0 ||
	    get_array(r, o, "rtcp-mux", 2, 2, &mux) < 0)
		return -EINVAL;
	for (unsigned s = 0; s < 2; s++) {
		json_t *v = json_array_get(ports, s), *b = json_array_get(mux, s);

		if (!json_is_integer(v) || !json_is_boolean(b))
			return bad(r, "media ports must be integers, rtcp-mux booleans");
		p[s] = json_integer_value(v);
		if (p[s] < 0 || p[s] > 65534 || (p[s] & 1))
			return bad(r, "media port %lld is not an even port", (long long)p[s]);
		m->port[s] = (uint16_t)p[s];
		m->mux[s] = json_is_true(b);
	}
	if ((m->port[0] == 0) != (m->port[1] == 0))
		return bad(r, "media with a port on one side only");
	if (r->format >= 2) {
		json_t *sd = json_object_get(o, "sdes");

		if (sd == NULL)
			return bad(r, "'sdes' missing");
		return sdes_from(r, sd, m);
	}
	return 0;
}

static int out_from(struct rctx *r, const json_t *o, struct call_out *out)
{
	const char *v = NULL, *d = NULL;
	char *end;

	memset(out, 0, sizeof(*out));
	if (json_is_null(o))
		return 0;
	if (!json_is_object(o) || get_str(r, o, "version", 20, &v) < 0 ||
	    get_str(r, o, "digest", 16, &d) < 0)
		return bad(r, "'sdp-out' entries must be null or {version, digest}");
	if (v[0] < '0' || v[0] > '9' || strlen(d) != 16)
		return bad(r, "bad sdp-out version or digest");
	errno = 0;
	out->version = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return bad(r, "bad sdp-out version '%s'", v);
	for (const char *p = d; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return bad(r, "bad sdp-out digest '%s'", d);
	out->digest = strtoull(d, NULL, 16);
	out->valid = true;
	return 0;
}

static int offer_from(struct rctx *r, const json_t *o, unsigned nparties, unsigned nmedia,
		      struct call_offer *f)
{
	json_int_t from = 0, om = 0, xm = 0;
	enum flags_rtcp_mux mode;
	const char *mux = NULL;
	json_int_t maxbits = nmedia >= 32 ? (json_int_t)UINT32_MAX : ((json_int_t)1 << nmedia) - 1;

	if (!json_is_object(o))
		return bad(r, "'offer' missing or not an object");
	if (get_bool(r, o, "valid", &f->valid) < 0 ||
	    get_bool(r, o, "answered", &f->answered) < 0 ||
	    get_int(r, o, "from", 0, (json_int_t)nparties - 1, &from) < 0 ||
	    get_str(r, o, "rtcp-mux", 16, &mux) < 0 ||
	    get_int(r, o, "offered-mux", 0, maxbits, &om) < 0 ||
	    get_int(r, o, "offerer-mux", 0, maxbits, &xm) < 0)
		return -EINVAL;
	if (flags_rtcp_mux_parse(mux, &mode) < 0)
		return bad(r, "unknown rtcp-mux mode '%.16s'", mux);
	f->from = (uint8_t)from;
	f->mode = (uint8_t)mode;
	f->offered_mux = (uint32_t)om;
	f->offerer_mux = (uint32_t)xm;
	return 0;
}

static int iface_by_name(struct rctx *r, const struct calls_config *cfg, const json_t *v,
			 uint8_t *out)
{
	if (!json_is_string(v))
		return bad(r, "interface names must be strings");
	for (unsigned i = 0; i < cfg->nifaces; i++)
		if (strcmp(cfg->ifaces[i].name, json_string_value(v)) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	return bad(r, "interface '%.32s' is not configured", json_string_value(v));
}

/* Everything but the ports; n was made by call_new with nmedia sections, 1 party. */
static int parse_call(struct rctx *r, const struct calls_config *cfg, const json_t *j,
		      struct call *n)
{
	json_t *ifs = NULL, *media = NULL, *parties = NULL, *outs = NULL;
	json_int_t v = 0, created = 0, updated = 0, del = 0, active = 0;
	const char *id = NULL, *owner = NULL;

	if (!json_is_object(j))
		return bad(r, "not a JSON object");
	if (get_int(r, j, "format", 1, CALL_JSON_FORMAT, &v) < 0)
		return -EINVAL;
	r->format = (int)v;
	if (get_str(r, j, "call-id", CALL_ID_MAX, &id) < 0 ||
	    get_str(r, j, "owner", sizeof(n->owner) - 1, &owner) < 0 ||
	    get_int(r, j, "created", 0, INT64_MAX, &created) < 0 ||
	    get_int(r, j, "updated", 0, INT64_MAX, &updated) < 0 ||
	    get_int(r, j, "delete-at", 0, INT64_MAX, &del) < 0 ||
	    get_array(r, j, "interfaces", 2, 2, &ifs) < 0 ||
	    get_array(r, j, "media", 0, SDP_MAX_MEDIA, &media) < 0 ||
	    get_array(r, j, "parties", 1, CALL_NPARTIES, &parties) < 0 ||
	    get_int(r, j, "active", 0, (json_int_t)json_array_size(parties) - 1, &active) < 0 ||
	    get_array(r, j, "sdp-out", 2, 2, &outs) < 0)
		return -EINVAL;
	if (json_array_size(media) != n->nmedia)
		return bad(r, "media count changed while restoring");
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->owner, sizeof(n->owner), "%s", owner);
	n->created_ms = (uint64_t)created;
	n->updated_ms = (uint64_t)updated;
	n->delete_at_ms = (uint64_t)del;
	n->active = (uint8_t)active;
	for (unsigned s = 0; s < CALL_SIDES; s++)
		if (iface_by_name(r, cfg, json_array_get(ifs, s), &n->iface[s]) < 0 ||
		    out_from(r, json_array_get(outs, s), &n->out[s]) < 0)
			return -EINVAL;
	for (unsigned i = 0; i < n->nmedia; i++)
		if (media_from(r, json_array_get(media, i), &n->media[i]) < 0)
			return -EINVAL;
	for (unsigned p = 0; p < json_array_size(parties); p++) {
		if (p >= n->party_cap) {
			/* Grow by one party with its peer array. */
			struct call_party *np = realloc(n->party, (p + 1) * sizeof(*np));

			if (np == NULL)
				return bad(r, "out of memory");
			n->party = np;
			memset(&n->party[p], 0, sizeof(n->party[p]));
			n->party_cap = (uint8_t)(p + 1);
			n->party[p].peer =
			    calloc(n->nmedia ? n->nmedia : 1, sizeof(struct call_peer));
			if (n->party[p].peer == NULL)
				return bad(r, "out of memory");
		}
		if (party_from(r, json_array_get(parties, p), n->nmedia, &n->party[p]) < 0)
			return -EINVAL;
		for (unsigned q = 0; q < p; q++)
			if (strcmp(n->party[q].tag, n->party[p].tag) == 0)
				return bad(r, "two parties with tag '%.64s'", n->party[p].tag);
		n->nparties = (uint8_t)(p + 1);
	}
	if (active == 0 && n->nparties > 1)
		return bad(r, "branches without an active one");
	for (unsigned p = 0; p < n->nparties; p++)
		for (unsigned i = 0; i < n->nmedia; i++)
			if (n->party[p].peer[i].has_crypto &&
			    (n->media[i].sdes == NULL ||
			     n->media[i].sdes->mode != CALL_SDES_BRIDGE))
				return bad(r, "a party's SRTP key in a section the relay does not "
					      "bridge");
	return offer_from(r, json_object_get(j, "offer"), n->nparties, n->nmedia, &n->offer);
}

static int reserve_ports(struct rctx *r, const struct call *n)
{
	int rc = 0;
	unsigned i, s;

	for (i = 0; i < n->nmedia; i++) {
		for (s = 0; s < CALL_SIDES; s++) {
			const struct call_iface *ifc = &n->cfg->ifaces[n->iface[s]];

			if (n->media[i].port[s] == 0)
				continue;
			rc = portalloc_reserve(ifc->ports, n->media[i].port[s]);
			if (rc == -ERANGE) {
				bad(r, "port %u is outside interface '%s''s range",
				    n->media[i].port[s], ifc->name);
				rc = -EINVAL;
			} else if (rc == -EBUSY) {
				snprintf(r->err, r->errlen,
					 "call state: port %u on interface '%s' is taken already",
					 n->media[i].port[s], ifc->name);
			}
			if (rc < 0)
				goto undo;
		}
	}
	return 0;
undo:
	/* Give back what this call reserved before the failure. */
	for (unsigned k = 0; k <= i && k < n->nmedia; k++)
		for (unsigned t = 0; t < CALL_SIDES; t++)
			if ((k < i || t < s) && n->media[k].port[t] != 0)
				portalloc_cancel(n->cfg->ifaces[n->iface[t]].ports,
						 n->media[k].port[t]);
	return rc;
}

int calls_restore(struct calls *t, const json_t *state, struct call **out, char *err, size_t errlen)
{
	struct rctx r = {.err = err, .errlen = errlen, .format = CALL_JSON_FORMAT};
	json_t *media = json_is_object(state) ? json_object_get(state, "media") : NULL;
	const char *id;
	struct call *n;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (!json_is_object(state))
		return bad(&r, "not a JSON object");
	if (!json_is_array(media) || json_array_size(media) > SDP_MAX_MEDIA)
		return bad(&r, "'media' missing, not an array or longer than %u", SDP_MAX_MEDIA);
	n = call_new(&t->cfg, (unsigned)json_array_size(media));
	if (n == NULL)
		return bad(&r, "out of memory");
	rc = parse_call(&r, &t->cfg, state, n);
	if (rc < 0)
		goto fail;
	id = n->id;
	if (calls_find(t, id) != NULL) {
		char b[80];

		snprintf(err, errlen, "call '%s' is loaded already", call_shown(id, b, sizeof(b)));
		rc = -EEXIST;
		goto fail;
	}
	if (n->delete_at_ms != 0 && calls_heap_reserve(t) < 0) {
		rc = bad(&r, "out of memory");
		goto fail;
	}
	rc = reserve_ports(&r, n);
	if (rc < 0)
		goto fail;
	calls_insert(t, n);
	if (out != NULL)
		*out = n;
	return 0;
fail:
	call_free(n);
	return rc;
}
