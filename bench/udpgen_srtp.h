/* SRTP and SRTCP for the traffic tools (rtpanchor-udpgen), through Debian's libsrtp2: key
 * specs, sessions, protect and unprotect with a verdict. One thread.
 *
 * libsrtp2 is the independent reference the relay is checked against; it is not fast:
 * Debian builds it on NSS, ~5,700 cycles to protect one 172-byte packet with
 * AES_CM_128_HMAC_SHA1_80 (~1,800 with AEAD_AES_128_GCM) and much more with many sessions.
 * Fine for tests and labs at modest rates, not for measuring the relay's SRTP rate. */
#ifndef RTPANCHOR_UDPGEN_SRTP_H
#define RTPANCHOR_UDPGEN_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDPGEN_SRTP_KEY_MAX  46	 /* master key || salt: 32 + 14 */
#define UDPGEN_SRTP_MKI_MAX  4	 /* bytes; what the relay's ABI carries (RFC 4568 allows 128) */
#define UDPGEN_SRTP_TRAILER  160 /* room protect needs after a packet (tag, MKI, SRTCP index) */
#define UDPGEN_SRTP_SPEC_MAX 256 /* bytes of a key spec */

enum udpgen_srtp_verdict {
	UDPGEN_SRTP_OK = 0,
	UDPGEN_SRTP_AUTH,   /* authentication tag wrong: tampered or another key */
	UDPGEN_SRTP_REPLAY, /* index seen already, or older than the replay window */
	UDPGEN_SRTP_OTHER,  /* too short, unknown MKI, not SRTP at all... */
};

/* One direction's key: RFC 4568 suite name and inline key-params. */
struct udpgen_srtp_key {
	unsigned suite; /* index into the suite table (udpgen_srtp_suite_name) */
	uint8_t key[UDPGEN_SRTP_KEY_MAX];
	unsigned key_len; /* master key || salt, bytes: 30, 46, 28 or 44 */
	uint8_t mki[UDPGEN_SRTP_MKI_MAX];
	unsigned mki_len; /* 0: no MKI in packets */
};

struct udpgen_srtp;

/* Parses "SUITE:[inline:]BASE64[|LIFETIME][|MKI:LEN]", i.e. the suite and key-params of an
 * a=crypto line (RFC 4568 §6.1, §9.2). Suites: AES_CM_128_HMAC_SHA1_80,
 * AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32,
 * AEAD_AES_128_GCM, AEAD_AES_256_GCM. 0, or -EINVAL with a message naming the bad part in
 * err. Pure. */
int udpgen_srtp_parse(const char *spec, struct udpgen_srtp_key *k, char *err, size_t errlen);

/* The suite's RFC 4568 name. */
const char *udpgen_srtp_suite_name(unsigned suite);

/* Writes the same key with every master-key byte inverted: a "wrong key" that gets the
 * suite, salt and MKI right, so only authentication can tell. */
void udpgen_srtp_key_wrong(const struct udpgen_srtp_key *k, struct udpgen_srtp_key *out);

/* A libsrtp2 session for every SSRC: outbound (protect) or inbound (unprotect, replay
 * window of `window` packets, 0 = libsrtp's 128). SRTP and SRTCP from one key; SRTCP of the
 * _32 suites uses the 80-bit tag (RFC 4568 §6.2.1, RFC 6188 §4). Outbound sessions allow a
 * sequence number to be protected again (a packet that could not be sent is rebuilt).
 * NULL with errno set (message on stderr naming libsrtp's status). */
struct udpgen_srtp *udpgen_srtp_create(const struct udpgen_srtp_key *k, bool outbound,
				       unsigned window);
void udpgen_srtp_destroy(struct udpgen_srtp *s);

/* Protects (or unprotects) the packet in place. *len in and out; buf must have
 * UDPGEN_SRTP_TRAILER bytes of room after *len for protect. rtcp: SRTCP instead of SRTP.
 * Returns a verdict; *len is only changed on UDPGEN_SRTP_OK. */
enum udpgen_srtp_verdict udpgen_srtp_protect(struct udpgen_srtp *s, uint8_t *buf, size_t *len,
					     bool rtcp);
enum udpgen_srtp_verdict udpgen_srtp_unprotect(struct udpgen_srtp *s, uint8_t *buf, size_t *len,
					       bool rtcp);

/* RFC 5761 §4: with RTP and RTCP on one port, a second byte of 192..223 is RTCP. */
static inline bool udpgen_srtp_is_rtcp(const uint8_t *p, size_t len)
{
	return len >= 2 && p[1] >= 192 && p[1] <= 223;
}

#endif
