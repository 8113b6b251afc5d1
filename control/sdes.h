/* SDES (RFC 4568): the a=crypto attribute parsed and generated, the SRTP suites rtpanchor
 * terminates (RFC 4568, RFC 6188, RFC 7714), the four RTP profiles of transport-protocol=,
 * and master keys from getrandom(2). Pure apart from sdes_getrandom; any thread.
 *
 * Key material never appears in a message this module writes: errors name the tag, the
 * suite and what is wrong, never a key parameter. */
#ifndef RTPANCHOR_SDES_H
#define RTPANCHOR_SDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rtpanchor/dp_proto.h>

#define SDES_NSUITES  6		 /* suites rtpanchor supports (enum rpa_dp_srtp_suite 1..6) */
#define SDES_TAG_MAX  999999999u /* RFC 4568 section 9.1: tag = 1*9DIGIT */
#define SDES_LINE_MAX 128	 /* room for one generated "a=crypto:...\r\n" line, with NUL */
#define SDES_KEY_B64  64	 /* base64 characters of the longest key||salt (46 bytes) */
#define SDES_ERRLEN   160

/* One a=crypto line's usable content: one master key (RFC 4568 allows several in a line;
 * rtpanchor refuses that). */
struct sdes_crypto {
	uint32_t tag;
	uint8_t suite;	 /* enum rpa_dp_srtp_suite, never NONE in a parsed or generated one */
	uint8_t mki_len; /* 0 = no MKI; else 1..RPA_DP_SRTP_MKI_MAX bytes in each packet */
	uint8_t pad[2];
	uint32_t mki;	  /* the MKI value (< 256^mki_len) */
	uint8_t key[32];  /* rpa_dp_srtp_key_len(suite) bytes used */
	uint8_t salt[14]; /* rpa_dp_srtp_salt_len(suite) bytes used */
};

/* The order in which rtpanchor offers suites to an SRTP leg: the most widely deployed
 * first (AES_CM_128_HMAC_SHA1_80, then _32, as common SBCs and phones do), then AEAD GCM
 * (cheapest in the dataplane), then the AES-256 counter-mode suites. */
extern const uint8_t sdes_offer_order[SDES_NSUITES];

/* The suite named name[0..len) (RFC names, case-insensitive), or RPA_DP_SRTP_NONE. */
unsigned sdes_suite_parse(const char *name, size_t len);
/* "AES_CM_128_HMAC_SHA1_80"..., "none" for RPA_DP_SRTP_NONE, "?" out of range. */
const char *sdes_suite_name(unsigned suite);

/* Parse the value of one a=crypto attribute, v[0..len) being everything after
 * "a=crypto:" (RFC 4568 section 9.1):
 *   <tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>] [<params>]
 * The lifetime may be decimal or 2^n and is checked, then ignored (the relay never sends
 * that many packets on one key). Session parameters: KDR=0, WSH=<n> and FEC_ORDER=<x> are
 * accepted and ignored, as is any unknown one starting with '-' (RFC 4568 section 6.3);
 * those that change packet processing (UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP,
 * UNAUTHENTICATED_SRTP, KDR other than 0, FEC_KEY) and unknown ones are refused. Returns 0,
 * or with a message in err that names the tag (when it parsed) and never a key:
 *   -EINVAL   malformed: tag, missing fields, bad base64, a key||salt of the wrong length
 *             for the suite, a bad lifetime or MKI, an overlong line
 *   -ENOTSUP  well-formed but not usable here: an unknown suite, several keys in the line,
 *             an MKI longer than RPA_DP_SRTP_MKI_MAX bytes, a refused session parameter.
 * *out is only written on success; *suite_out (may be NULL) receives the suite even when
 * the rest is refused (NONE when unknown), for passthrough reporting. */
int sdes_parse(const char *v, size_t len, struct sdes_crypto *out, unsigned *suite_out, char *err,
	       size_t errlen);

/* Write "a=crypto:<tag> <suite> inline:<key||salt>[|<mki>:<len>]\r\n" into buf (NUL
 * terminated). Returns its length, or 0 if cap is too small (SDES_LINE_MAX always fits). */
size_t sdes_format(const struct sdes_crypto *c, char *buf, size_t cap);

/* The key||salt of c in base64 with padding (the inline: form), NUL terminated: cap must
 * be at least SDES_KEY_B64 + 1. Returns the length. */
size_t sdes_key_encode(const struct sdes_crypto *c, char *buf, size_t cap);
/* Set c's key and salt from base64 b[0..len) for c->suite (padding optional). -EINVAL
 * (c unchanged) when it is not base64 or not exactly key + salt bytes for the suite. */
int sdes_key_decode(struct sdes_crypto *c, const char *b, size_t len);

/* Random bytes: fills buf[0..len) and returns 0, or a negative errno. */
typedef int (*sdes_random_fn)(void *buf, size_t len, void *arg);
/* getrandom(2) from the kernel's pool (arg unused); retries interrupted calls. */
int sdes_getrandom(void *buf, size_t len, void *arg);
/* A fresh master key and salt for suite with this tag and no MKI, from rnd (NULL means
 * sdes_getrandom). Returns 0 or rnd's error. */
int sdes_generate(struct sdes_crypto *c, uint32_t tag, unsigned suite, sdes_random_fn rnd,
		  void *arg);

/* The dataplane's form of c (NULL: RPA_DP_SRTP_NONE, all zero). */
void sdes_to_dp(const struct sdes_crypto *c, struct rpa_dp_srtp *out);
/* Same suite, key, salt and MKI (the tag is not compared). Constant time in the key. */
bool sdes_same_key(const struct sdes_crypto *a, const struct sdes_crypto *b);
/* Zero c in a way the compiler keeps. */
void sdes_wipe(void *p, size_t len);

/* The RTP profiles of an m= line that transport-protocol= converts between. */
enum sdes_profile {
	SDES_PROFILE_OTHER = 0, /* anything else: UDP/TLS/RTP/SAVPF (DTLS), udptl, TCP... */
	SDES_PROFILE_AVP,	/* RTP/AVP */
	SDES_PROFILE_SAVP,	/* RTP/SAVP */
	SDES_PROFILE_AVPF,	/* RTP/AVPF */
	SDES_PROFILE_SAVPF,	/* RTP/SAVPF */
};

/* The profile named p[0..len) (case-insensitive), SDES_PROFILE_OTHER if none of the four. */
enum sdes_profile sdes_profile_parse(const char *p, size_t len);
/* "RTP/AVP"...; "-" for SDES_PROFILE_OTHER. */
const char *sdes_profile_name(enum sdes_profile p);
static inline bool sdes_profile_srtp(enum sdes_profile p)
{
	return p == SDES_PROFILE_SAVP || p == SDES_PROFILE_SAVPF;
}

#endif
