/* SRTP/SRTCP for rtpanchor-udpgen through libsrtp2: key specs (RFC 4568 key-params),
 * sessions, protect/unprotect verdicts. Runs on udpgen's one thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include <rtpanchor/base64.h>

#include "udpgen_srtp.h"

struct udpgen_srtp_suite {
	const char *name;
	unsigned key_len, salt_len;
	unsigned rtcp_tag; /* bytes; differs from SRTP's for the _32 suites */
	bool short_tag;	   /* SRTP's tag is 4 bytes */
	void (*rtp)(srtp_crypto_policy_t *p);
	void (*rtcp)(srtp_crypto_policy_t *p);
};

static void udpgen_srtp_cm128_80(srtp_crypto_policy_t *p)
{
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(p);
}

static const struct udpgen_srtp_suite suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, false, udpgen_srtp_cm128_80, udpgen_srtp_cm128_80},
    {"AES_CM_128_HMAC_SHA1_32", 16, 14, 10, true, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
     udpgen_srtp_cm128_80},
    {"AES_256_CM_HMAC_SHA1_80", 32, 14, 10, false, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
    {"AES_256_CM_HMAC_SHA1_32", 32, 14, 10, true, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
    {"AEAD_AES_128_GCM", 16, 12, 16, false, srtp_crypto_policy_set_aes_gcm_128_16_auth,
     srtp_crypto_policy_set_aes_gcm_128_16_auth},
    {"AEAD_AES_256_GCM", 32, 12, 16, false, srtp_crypto_policy_set_aes_gcm_256_16_auth,
     srtp_crypto_policy_set_aes_gcm_256_16_auth},
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

struct udpgen_srtp {
	srtp_t ctx;
	bool mki;
	/* libsrtp2 2.5 looks for the MKI of an SRTCP packet before the SRTP tag length, not
	 * the SRTCP one, so it cannot unprotect SRTCP with an MKI when they differ (the _32
	 * suites). The MKI is not authenticated (RFC 3711 §3.4): for those, inbound SRTCP is
	 * checked for the MKI here, which is then cut out for a session without one. */
	srtp_t rtcp_nomki;
	uint8_t mki_val[UDPGEN_SRTP_MKI_MAX];
	unsigned mki_len, rtcp_tag;
};

static bool udpgen_srtp_ready;

const char *udpgen_srtp_suite_name(unsigned suite)
{
	return suite < NSUITES ? suites[suite].name : "?";
}

static int udpgen_srtp_fail(char *err, size_t errlen, const char *what, const char *val,
			    size_t vlen)
{
	snprintf(err, errlen, "%s '%.*s'", what, (int)(vlen > 80 ? 80 : vlen), val);
	return -EINVAL;
}

/* "2^N" (N 1..64) or a decimal count: accepted and ignored (udpgen never re-keys). */
static bool udpgen_srtp_lifetime_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n > 2 && s[0] == '2' && s[1] == '^')
		i = 2;
	if (i == n || n - i > 20)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "VALUE:LENGTH", decimal (RFC 4568 §9.2: mki-value ":" mki-length). */
static int udpgen_srtp_mki(const char *s, size_t n, struct udpgen_srtp_key *k)
{
	unsigned long long v = 0;
	unsigned len = 0;
	size_t i = 0;

	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || i >= n - 1 || s[i] != ':' || n - i - 1 > 3)
		return -1;
	for (i++; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		len = len * 10 + (unsigned)(s[i] - '0');
	}
	if (len < 1 || len > UDPGEN_SRTP_MKI_MAX || (len < 8 && v >> (8 * len) != 0))
		return -1;
	k->mki_len = len;
	for (unsigned b = 0; b < len; b++)
		k->mki[len - 1 - b] = (uint8_t)(v >> (8 * b));
	return 0;
}

int udpgen_srtp_parse(const char *spec, struct udpgen_srtp_key *k, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':'), *p, *bar;
	size_t slen = strlen(spec), n;
	unsigned fields = 0;
	int dl;

	memset(k, 0, sizeof(*k));
	if (slen > UDPGEN_SRTP_SPEC_MAX)
		return udpgen_srtp_fail(err, errlen, "key spec longer than 256 bytes", spec, 40);
	if (!colon)
		return udpgen_srtp_fail(err, errlen, "key spec without SUITE: in", spec, slen);
	for (k->suite = 0; k->suite < NSUITES; k->suite++)
		if (strlen(suites[k->suite].name) == (size_t)(colon - spec) &&
		    memcmp(suites[k->suite].name, spec, (size_t)(colon - spec)) == 0)
			break;
	if (k->suite == NSUITES)
		return udpgen_srtp_fail(err, errlen, "unknown SRTP suite", spec,
					(size_t)(colon - spec));
	p = colon + 1;
	if (strncmp(p, "inline:", 7) == 0)
		p += 7;
	do {
		bar = strchr(p, '|');
		n = bar ? (size_t)(bar - p) : strlen(p);
		if (fields == 0) {
			unsigned want = suites[k->suite].key_len + suites[k->suite].salt_len;
			dl = rpa_base64_decode(p, n, k->key, sizeof(k->key));
			if (dl < 0)
				return udpgen_srtp_fail(err, errlen, "bad base64 key", p, n);
			if ((unsigned)dl != want) {
				snprintf(err, errlen, "key||salt of %d bytes for %s (wants %u)", dl,
					 suites[k->suite].name, want);
				return -EINVAL;
			}
			k->key_len = want;
		} else if (fields == 1 && !memchr(p, ':', n)) {
			if (!udpgen_srtp_lifetime_ok(p, n))
				return udpgen_srtp_fail(err, errlen, "bad key lifetime", p, n);
		} else if (fields <= 2 && k->mki_len == 0) {
			if (udpgen_srtp_mki(p, n, k) != 0)
				return udpgen_srtp_fail(
				    err, errlen, "bad MKI (VALUE:LENGTH, length 1..4)", p, n);
		} else {
			return udpgen_srtp_fail(err, errlen, "extra key parameter", p, n);
		}
		fields++;
		p = bar ? bar + 1 : NULL;
	} while (p);
	return 0;
}

void udpgen_srtp_key_wrong(const struct udpgen_srtp_key *k, struct udpgen_srtp_key *out)
{
	*out = *k;
	for (unsigned i = 0; i < suites[k->suite].key_len; i++)
		out->key[i] ^= 0xff;
}

static const char *udpgen_srtp_status(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return "ok";
	case srtp_err_status_bad_param:
		return "bad parameter";
	case srtp_err_status_alloc_fail:
		return "allocation failed";
	case srtp_err_status_init_fail:
		return "init failed";
	case srtp_err_status_cipher_fail:
		return "cipher failed";
	case srtp_err_status_auth_fail:
		return "authentication failed";
	default:
		return "error";
	}
}

/* One libsrtp2 session; with_mki false ignores k's MKI. */
static int udpgen_srtp_session(srtp_t *ctx, const struct udpgen_srtp_key *k, bool outbound,
			       unsigned window, bool with_mki)
{
	const struct udpgen_srtp_suite *su = &suites[k->suite];
	srtp_master_key_t mk, *mkp = &mk;
	uint8_t key[UDPGEN_SRTP_KEY_MAX], mki[UDPGEN_SRTP_MKI_MAX];
	srtp_policy_t pol;
	srtp_err_status_t st;

	memset(&pol, 0, sizeof(pol));
	su->rtp(&pol.rtp);
	su->rtcp(&pol.rtcp);
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	memcpy(key, k->key, k->key_len);
	if (with_mki && k->mki_len > 0) {
		memcpy(mki, k->mki, k->mki_len);
		mk.key = key;
		mk.mki_id = mki;
		mk.mki_size = k->mki_len;
		pol.keys = &mkp;
		pol.num_master_keys = 1;
	} else {
		pol.key = key;
	}
	pol.window_size = window;
	pol.allow_repeat_tx = outbound;
	st = srtp_create(ctx, &pol);
	memset(key, 0, sizeof(key));
	if (st != srtp_err_status_ok) {
		fprintf(stderr, "rtpanchor-udpgen: srtp_create (%s, window %u): %s (%d)\n",
			su->name, window, udpgen_srtp_status(st), st);
		return -EINVAL;
	}
	return 0;
}

struct udpgen_srtp *udpgen_srtp_create(const struct udpgen_srtp_key *k, bool outbound,
				       unsigned window)
{
	struct udpgen_srtp *s;
	srtp_err_status_t st;

	if (!udpgen_srtp_ready) {
		st = srtp_init();
		if (st != srtp_err_status_ok) {
			fprintf(stderr, "rtpanchor-udpgen: srtp_init: %s (%d)\n",
				udpgen_srtp_status(st), st);
			errno = EIO;
			return NULL;
		}
		udpgen_srtp_ready = true;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->mki = k->mki_len > 0;
	s->mki_len = k->mki_len;
	memcpy(s->mki_val, k->mki, k->mki_len);
	s->rtcp_tag = suites[k->suite].rtcp_tag;
	if (udpgen_srtp_session(&s->ctx, k, outbound, window, true) != 0)
		goto fail;
	if (!outbound && s->mki && suites[k->suite].short_tag &&
	    udpgen_srtp_session(&s->rtcp_nomki, k, false, window, false) != 0) {
		srtp_dealloc(s->ctx);
		goto fail;
	}
	return s;
fail:
	free(s);
	errno = EINVAL;
	return NULL;
}

void udpgen_srtp_destroy(struct udpgen_srtp *s)
{
	if (!s)
		return;
	srtp_dealloc(s->ctx);
	if (s->rtcp_nomki)
		srtp_dealloc(s->rtcp_nomki);
	free(s);
}

static enum udpgen_srtp_verdict udpgen_srtp_verdict(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return UDPGEN_SRTP_OK;
	case srtp_err_status_auth_fail:
		return UDPGEN_SRTP_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return UDPGEN_SRTP_REPLAY;
	default:
		return UDPGEN_SRTP_OTHER;
	}
}

enum udpgen_srtp_verdict udpgen_srtp_protect(struct udpgen_srtp *s, uint8_t *buf, size_t *len,
					     bool rtcp)
{
	int n = (int)*len;
	srtp_err_status_t st;

	if (*len < (rtcp ? 8u : 12u))
		return UDPGEN_SRTP_OTHER;
	if (rtcp)
		st = srtp_protect_rtcp_mki(s->ctx, buf, &n, s->mki, 0);
	else
		st = srtp_protect_mki(s->ctx, buf, &n, s->mki, 0);
	if (st == srtp_err_status_ok)
		*len = (size_t)n;
	return udpgen_srtp_verdict(st);
}

enum udpgen_srtp_verdict udpgen_srtp_unprotect(struct udpgen_srtp *s, uint8_t *buf, size_t *len,
					       bool rtcp)
{
	int n = (int)*len;
	srtp_err_status_t st;

	/* libsrtp reads the header before checking the length; never hand it less. */
	if (*len < (rtcp ? 8u : 12u))
		return UDPGEN_SRTP_OTHER;
	if (rtcp && s->rtcp_nomki) {
		size_t at;

		if (*len < 8 + 4 + s->mki_len + s->rtcp_tag)
			return UDPGEN_SRTP_OTHER;
		at = *len - s->rtcp_tag - s->mki_len;
		if (memcmp(buf + at, s->mki_val, s->mki_len) != 0)
			return UDPGEN_SRTP_OTHER;
		memmove(buf + at, buf + at + s->mki_len, s->rtcp_tag);
		n -= (int)s->mki_len;
		st = srtp_unprotect_rtcp(s->rtcp_nomki, buf, &n);
		if (st != srtp_err_status_ok) {
			/* Put the packet back as it came: callers may look at it again. */
			memmove(buf + at + s->mki_len, buf + at, s->rtcp_tag);
			memcpy(buf + at, s->mki_val, s->mki_len);
		}
	} else if (rtcp)
		st = srtp_unprotect_rtcp_mki(s->ctx, buf, &n, s->mki);
	else
		st = srtp_unprotect_mki(s->ctx, buf, &n, s->mki);
	if (st == srtp_err_status_ok)
		*len = (size_t)n;
	return udpgen_srtp_verdict(st);
}
