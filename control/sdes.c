/* SDES a=crypto parsing and generation, suites, profiles and key generation (see sdes.h).
 * Pure apart from sdes_getrandom; any thread. */
#include "sdes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <rtpanchor/base64.h>

#define ATTR_MAX      1024 /* bytes of one a=crypto value; real ones are under 200 */
#define LIFETIME_LOG2 48   /* SRTP's limit on packets per master key (RFC 3711 section 9.2) */
#define SHOW_MAX      40   /* bytes of a suite or parameter name quoted in a message */

const uint8_t sdes_offer_order[SDES_NSUITES] = {
    RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32,
    RPA_DP_SRTP_AEAD_AES_128_GCM,	 RPA_DP_SRTP_AEAD_AES_256_GCM,
    RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32,
};

unsigned sdes_suite_parse(const char *name, size_t len)
{
	for (unsigned s = 1; s < RPA_DP_SRTP_SUITE_MAX; s++) {
		const char *n = rpa_dp_srtp_suite_name(s);

		if (strlen(n) == len && strncasecmp(n, name, len) == 0)
			return s;
	}
	return RPA_DP_SRTP_NONE;
}

const char *sdes_suite_name(unsigned suite)
{
	if (suite == RPA_DP_SRTP_NONE)
		return "none";
	return suite < RPA_DP_SRTP_SUITE_MAX ? rpa_dp_srtp_suite_name(suite) : "?";
}

size_t sdes_key_encode(const struct sdes_crypto *c, char *buf, size_t cap)
{
	uint8_t raw[46];
	size_t kl = rpa_dp_srtp_key_len(c->suite), sl = rpa_dp_srtp_salt_len(c->suite), n;

	if (cap < SDES_KEY_B64 + 1) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	memcpy(raw, c->key, kl);
	memcpy(raw + kl, c->salt, sl);
	n = rpa_base64_encode(raw, kl + sl, buf);
	sdes_wipe(raw, sizeof(raw));
	return n;
}

int sdes_key_decode(struct sdes_crypto *c, const char *b, size_t len)
{
	uint8_t raw[48];
	size_t kl = rpa_dp_srtp_key_len(c->suite), sl = rpa_dp_srtp_salt_len(c->suite);
	int n = kl != 0 ? rpa_base64_decode(b, len, raw, sizeof(raw)) : -EINVAL;

	if (n < 0 || (size_t)n != kl + sl) {
		sdes_wipe(raw, sizeof(raw));
		return -EINVAL;
	}
	memset(c->key, 0, sizeof(c->key));
	memset(c->salt, 0, sizeof(c->salt));
	memcpy(c->key, raw, kl);
	memcpy(c->salt, raw + kl, sl);
	sdes_wipe(raw, sizeof(raw));
	return 0;
}

/* ---- parsing ---- */

struct pctx {
	char *err;
	size_t errlen;
	bool have_tag;
	uint32_t tag;
};

static int fail(struct pctx *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct pctx *p, int rc, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (p->errlen == 0)
		return rc;
	if (p->have_tag)
		n = snprintf(p->err, p->errlen, "a=crypto tag %u: ", p->tag);
	else
		n = snprintf(p->err, p->errlen, "a=crypto: ");
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

/* A suite or parameter name quoted in a message. Only a name made of what registered
 * names are made of (A-Z, 0-9, '_', at most SHOW_MAX bytes) is quoted: hostile spacing can
 * put part of a key where a name belongs, and base64 keys have lowercase letters. */
static const char *shown(const char *s, size_t len, char *buf, size_t cap)
{
	bool ok = len > 0 && len <= SHOW_MAX && len + 3 <= cap;

	for (size_t i = 0; ok && i < len; i++)
		ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
	if (!ok) {
		snprintf(buf, cap, "(not a name)");
		return buf;
	}
	buf[0] = '\'';
	memcpy(buf + 1, s, len);
	buf[len + 1] = '\'';
	buf[len + 2] = '\0';
	return buf;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next blank-separated field of v[0..len) from *pos. */
static bool field(const char *v, size_t len, size_t *pos, const char **f, size_t *flen)
{
	size_t i = *pos;

	while (i < len && is_space(v[i]))
		i++;
	if (i >= len) {
		*pos = len;
		return false;
	}
	*f = v + i;
	while (i < len && !is_space(v[i]))
		i++;
	*flen = (size_t)(v + i - *f);
	*pos = i;
	return true;
}

/* Decimal digits only, 1..maxdigits of them, value <= max. */
static bool decimal(const char *s, size_t len, size_t maxdigits, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > maxdigits)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* lifetime = ["2^"] 1*DIGIT: packets under this key; at most 2^48 (RFC 3711 section 9.2). */
static int parse_lifetime(struct pctx *p, const char *s, size_t len)
{
	uint64_t v;

	if (len > 2 && s[0] == '2' && s[1] == '^') {
		if (!decimal(s + 2, len - 2, 2, LIFETIME_LOG2, &v))
			return fail(p, -EINVAL, "lifetime is not 2^0 to 2^%d", LIFETIME_LOG2);
		return 0;
	}
	if (!decimal(s, len, 15, (uint64_t)1 << LIFETIME_LOG2, &v) || v == 0)
		return fail(p, -EINVAL, "lifetime is not a number from 1 to 2^%d", LIFETIME_LOG2);
	return 0;
}

/* mki = mki-value ":" mki-length: decimal value, length in bytes 1..128 (RFC 4568 9.1). */
static int parse_mki(struct pctx *p, const char *s, size_t len, struct sdes_crypto *c)
{
	const char *colon = memchr(s, ':', len);
	uint64_t v = 0, n = 0;
	size_t vl;

	if (colon == NULL)
		return fail(p, -EINVAL, "MKI is not <value>:<length>");
	vl = (size_t)(colon - s);
	if (!decimal(colon + 1, len - vl - 1, 3, 128, &n) || n == 0)
		return fail(p, -EINVAL, "MKI length is not 1 to 128 bytes");
	if (n > RPA_DP_SRTP_MKI_MAX)
		return fail(p, -ENOTSUP, "MKI of %u bytes: rtpanchor handles MKIs of 1 to %d bytes",
			    (unsigned)n, RPA_DP_SRTP_MKI_MAX);
	/* The value must fit in its length; leading zeros are fine, so count digits loosely
	 * and let the range check decide. */
	while (vl > 1 && s[0] == '0') {
		s++;
		vl--;
	}
	if (!decimal(s, vl, 10, n == 4 ? UINT32_MAX : (1ull << (8 * n)) - 1, &v))
		return fail(p, -EINVAL, "MKI value is not a number that fits in %u byte%s",
			    (unsigned)n, n == 1 ? "" : "s");
	c->mki_len = (uint8_t)n;
	c->mki = (uint32_t)v;
	return 0;
}

/* inline:<key||salt>[|lifetime][|mki:length] */
static int parse_key(struct pctx *p, const char *s, size_t len, struct sdes_crypto *c)
{
	const char *part[4];
	size_t plen[4], np = 0, i = 0;
	int rc;

	if (len < 7 || memcmp(s, "inline:", 7) != 0)
		return fail(p, -ENOTSUP,
			    "key method is not 'inline' (the only one RFC 4568 defines "
			    "for SRTP)");
	s += 7;
	len -= 7;
	while (np < 4) {
		const char *bar = memchr(s + i, '|', len - i);
		size_t end = bar != NULL ? (size_t)(bar - s) : len;

		part[np] = s + i;
		plen[np++] = end - i;
		if (bar == NULL)
			break;
		i = end + 1;
	}
	if (np == 4)
		return fail(p, -EINVAL, "inline key parameter has more than key, lifetime and MKI");
	if (sdes_key_decode(c, part[0], plen[0]) < 0) {
		uint8_t raw[48];
		int n = rpa_base64_decode(part[0], plen[0], raw, sizeof(raw));

		sdes_wipe(raw, sizeof(raw));
		if (n == -EINVAL)
			return fail(p, -EINVAL, "inline key is not base64");
		if (n == -E2BIG)
			return fail(p, -EINVAL,
				    "inline key||salt is longer than %u bytes, %s needs %u",
				    (unsigned)sizeof(raw), sdes_suite_name(c->suite),
				    rpa_dp_srtp_key_len(c->suite) + rpa_dp_srtp_salt_len(c->suite));
		return fail(p, -EINVAL, "inline key||salt is %d bytes, %s needs %u", n,
			    sdes_suite_name(c->suite),
			    rpa_dp_srtp_key_len(c->suite) + rpa_dp_srtp_salt_len(c->suite));
	}
	for (i = 1; i < np; i++) {
		bool is_mki = memchr(part[i], ':', plen[i]) != NULL;

		if (is_mki && i + 1 < np)
			return fail(p, -EINVAL, "MKI before the lifetime");
		if (!is_mki && i == 2)
			return fail(p, -EINVAL, "two lifetimes");
		rc = is_mki ? parse_mki(p, part[i], plen[i], c)
			    : parse_lifetime(p, part[i], plen[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool param_is(const char *s, size_t len, const char *name, const char **val, size_t *vlen)
{
	size_t n = strlen(name);

	if (len == n && memcmp(s, name, n) == 0) {
		*val = NULL;
		*vlen = 0;
		return true;
	}
	if (len > n && memcmp(s, name, n) == 0 && s[n] == '=') {
		*val = s + n + 1;
		*vlen = len - n - 1;
		return true;
	}
	return false;
}

/* One SRTP session parameter (RFC 4568 section 6.3). Values are not quoted in messages:
 * FEC_KEY= carries a key. */
static int parse_param(struct pctx *p, const char *s, size_t len)
{
	static const char *const refused[] = {"UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP",
					      "UNAUTHENTICATED_SRTP"};
	const char *v, *eq;
	size_t vl;
	uint64_t n;
	char b[SHOW_MAX + 4];

	if (s[0] == '-')
		return 0; /* optional: may be ignored when not understood */
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (param_is(s, len, refused[i], &v, &vl))
			return fail(p, -ENOTSUP,
				    "session parameter %s is not supported (the relay "
				    "encrypts and authenticates every packet)",
				    refused[i]);
	if (param_is(s, len, "KDR", &v, &vl)) {
		if (v == NULL || !decimal(v, vl, 2, 24, &n))
			return fail(p, -EINVAL, "KDR is not 0 to 24");
		if (n != 0)
			return fail(p, -ENOTSUP,
				    "KDR=%u (key derivation rate) is not supported, "
				    "only 0",
				    (unsigned)n);
		return 0;
	}
	if (param_is(s, len, "WSH", &v, &vl)) {
		/* A hint for the receiver's replay window; the dataplane's is at least 64. */
		if (v == NULL || !decimal(v, vl, 5, 32768, &n) || n < 64)
			return fail(p, -EINVAL, "WSH is not 64 to 32768");
		return 0;
	}
	if (param_is(s, len, "FEC_ORDER", &v, &vl)) {
		if (v == NULL || !((vl == 8 && memcmp(v, "FEC_SRTP", 8) == 0) ||
				   (vl == 8 && memcmp(v, "SRTP_FEC", 8) == 0)))
			return fail(p, -EINVAL, "FEC_ORDER is not FEC_SRTP or SRTP_FEC");
		return 0; /* the relay forwards FEC packets like any other */
	}
	if (param_is(s, len, "FEC_KEY", &v, &vl))
		return fail(p, -ENOTSUP,
			    "session parameter FEC_KEY (a second key) is not supported");
	eq = memchr(s, '=', len);
	return fail(p, -ENOTSUP, "session parameter %s is not supported",
		    shown(s, eq != NULL ? (size_t)(eq - s) : len, b, sizeof(b)));
}

int sdes_parse(const char *v, size_t len, struct sdes_crypto *out, unsigned *suite_out, char *err,
	       size_t errlen)
{
	struct pctx p = {.err = err, .errlen = errlen};
	struct sdes_crypto c;
	const char *f, *keys;
	size_t pos = 0, fl, klen;
	uint64_t tag;
	char b[SHOW_MAX + 4];
	int rc;

	if (suite_out != NULL)
		*suite_out = RPA_DP_SRTP_NONE;
	if (errlen > 0)
		err[0] = '\0';
	memset(&c, 0, sizeof(c));
	if (len > ATTR_MAX)
		return fail(&p, -EINVAL, "attribute of %zu bytes, longer than %d", len, ATTR_MAX);
	if (memchr(v, '\0', len) != NULL)
		return fail(&p, -EINVAL, "NUL byte in the attribute");
	if (!field(v, len, &pos, &f, &fl) || !decimal(f, fl, 9, SDES_TAG_MAX, &tag))
		return fail(&p, -EINVAL, "tag is not 1 to 9 digits");
	p.have_tag = true;
	p.tag = c.tag = (uint32_t)tag;
	if (!field(v, len, &pos, &f, &fl))
		return fail(&p, -EINVAL, "no crypto suite");
	c.suite = (uint8_t)sdes_suite_parse(f, fl);
	if (suite_out != NULL)
		*suite_out = c.suite;
	if (c.suite == RPA_DP_SRTP_NONE)
		return fail(&p, -ENOTSUP, "unknown crypto suite %s", shown(f, fl, b, sizeof(b)));
	if (!field(v, len, &pos, &keys, &klen))
		return fail(&p, -EINVAL, "no key parameter");
	if (memchr(keys, ';', klen) != NULL)
		return fail(&p, -ENOTSUP, "several keys in one a=crypto line are not supported");
	rc = parse_key(&p, keys, klen, &c);
	while (rc == 0 && field(v, len, &pos, &f, &fl))
		rc = parse_param(&p, f, fl);
	if (rc == 0)
		*out = c;
	sdes_wipe(&c, sizeof(c));
	return rc;
}

/* ---- generating ---- */

size_t sdes_format(const struct sdes_crypto *c, char *buf, size_t cap)
{
	char key[SDES_KEY_B64 + 1], mki[24] = "";
	int n;

	if (cap == 0)
		return 0;
	sdes_key_encode(c, key, sizeof(key));
	if (c->mki_len != 0)
		snprintf(mki, sizeof(mki), "|%u:%u", c->mki, c->mki_len);
	n = snprintf(buf, cap, "a=crypto:%u %s inline:%s%s\r\n", c->tag, sdes_suite_name(c->suite),
		     key, mki);
	sdes_wipe(key, sizeof(key));
	if (n < 0 || (size_t)n >= cap) {
		sdes_wipe(buf, cap);
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

int sdes_getrandom(void *buf, size_t len, void *arg)
{
	uint8_t *p = buf;

	(void)arg;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sdes_generate(struct sdes_crypto *c, uint32_t tag, unsigned suite, sdes_random_fn rnd,
		  void *arg)
{
	uint8_t raw[46];
	size_t kl = rpa_dp_srtp_key_len(suite), sl = rpa_dp_srtp_salt_len(suite);
	int rc;

	if (kl == 0)
		return -EINVAL;
	rc = (rnd != NULL ? rnd : sdes_getrandom)(raw, kl + sl, arg);
	if (rc < 0) {
		sdes_wipe(raw, sizeof(raw));
		return rc;
	}
	memset(c, 0, sizeof(*c));
	c->tag = tag;
	c->suite = (uint8_t)suite;
	memcpy(c->key, raw, kl);
	memcpy(c->salt, raw + kl, sl);
	sdes_wipe(raw, sizeof(raw));
	return 0;
}

void sdes_to_dp(const struct sdes_crypto *c, struct rpa_dp_srtp *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	out->suite = c->suite;
	out->key_len = (uint8_t)rpa_dp_srtp_key_len(c->suite);
	out->salt_len = (uint8_t)rpa_dp_srtp_salt_len(c->suite);
	out->mki_len = c->mki_len;
	/* The MKI travels big-endian in mki_len bytes (RFC 3711 section 3.1). */
	for (unsigned i = 0; i < c->mki_len; i++)
		out->mki[i] = (uint8_t)(c->mki >> (8 * (c->mki_len - 1 - i)));
	memcpy(out->key, c->key, out->key_len);
	memcpy(out->salt, c->salt, out->salt_len);
}

bool sdes_same_key(const struct sdes_crypto *a, const struct sdes_crypto *b)
{
	uint8_t d = 0;

	for (size_t i = 0; i < sizeof(a->key); i++)
		d |= a->key[i] ^ b->key[i];
	for (size_t i = 0; i < sizeof(a->salt); i++)
		d |= a->salt[i] ^ b->salt[i];
	return d == 0 && a->suite == b->suite && a->mki_len == b->mki_len && a->mki == b->mki;
}

void sdes_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}

/* ---- profiles ---- */

static const char *const profile_names[] = {
    [SDES_PROFILE_OTHER] = "-",		[SDES_PROFILE_AVP] = "RTP/AVP",
    [SDES_PROFILE_SAVP] = "RTP/SAVP",	[SDES_PROFILE_AVPF] = "RTP/AVPF",
    [SDES_PROFILE_SAVPF] = "RTP/SAVPF",
};

enum sdes_profile sdes_profile_parse(const char *p, size_t len)
{
	for (unsigned i = SDES_PROFILE_AVP; i <= SDES_PROFILE_SAVPF; i++)
		if (strlen(profile_names[i]) == len && strncasecmp(profile_names[i], p, len) == 0)
			return (enum sdes_profile)i;
	return SDES_PROFILE_OTHER;
}

const char *sdes_profile_name(enum sdes_profile p)
{
	return (unsigned)p <= SDES_PROFILE_SAVPF ? profile_names[p] : "-";
}
