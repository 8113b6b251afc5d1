/* The SRTP/SRTCP engine (RFC 3711, RFC 7714 AEAD GCM, RFC 6188 AES-256): key derivation,
 * packet index and rollover counter, replay window, and burst transforms whose crypto runs
 * on a DPDK cryptodev (crypto_aesni_mb by default; any device offering the algorithms).
 *
 * Threads:
 *  - main lcore: srtp_engine_init/fini, srtp_worker_create/destroy, srtp_ctx_create/destroy,
 *    srtp_state_create/destroy, the *_bytes reports.
 *  - workers (HOT): srtp_protect_burst, srtp_unprotect_burst, each with its own
 *    struct srtp_worker (one cryptodev queue pair per worker).
 *
 * Objects and their owners:
 *  - struct srtp_ctx: one direction's keys (derived from a struct rpa_dp_srtp) and the
 *    cryptodev sessions built from them, for RTP, RTCP or both (RFC 5761 mux). Created on
 *    the main lcore, immutable afterwards, readable by any worker. Destroy it only after an
 *    RCU grace period (no worker can still hold it); destroy zeroes every key byte. The one
 *    exception to immutability is internal: a few slots of AEAD sessions for unusual
 *    header lengths, filled on request by the main lcore (srtp_engine_service). A slot is
 *    kept once a packet has authenticated with its session; until then a request for
 *    another length may take it over (so that packets without the key cannot use the
 *    slots up), and the session it held is freed after a grace period
 *    (srtp_engine_retired).
 *  - struct srtp_state: one stream's mutable state (ROC and highest sequence, replay
 *    bitmaps, SRTCP index; a cache of cryptodev sessions for unusual AEAD header lengths).
 *    Created and destroyed on the main lcore (destroy after the grace period), read and
 *    written only by the stream's owning worker, no atomics. A state serves one direction:
 *    an unprotect state holds the receiver's window, a protect state the sender's ROC
 *    (estimated from the sequence numbers it sees, RFC 3711 §3.3.1) and SRTCP index. It is
 *    made for one context (its window and kinds): hand it to the burst functions only with
 *    a context for which srtp_state_fits() is true. Keeping a state across a rule
 *    replacement with the same keys keeps the ROC and window; new keys need a new state.
 *    The first state made for a context (windows up to 128 packets for RTP and RTCP, 256
 *    for one kind) lives in the context's own memory, next to it, so a packet's context
 *    and state are one page: destroy such a state before or with its context (a context
 *    destroyed first keeps one cryptodev session, wiped of its SRTP keys but not yet of
 *    the PMD's, until the state goes).
 *
 * Packets: single-segment mbufs. srtp_pkt.off is where the RTP/RTCP header starts in the
 * mbuf's data, .len the bytes from there to the end of the UDP payload (the mbuf's data must
 * end there too: the engine trims or appends at the tail). On SRTP_OK the engine has set
 * .len to the new length and changed the mbuf's data_len/pkt_len by the same amount;
 * the caller then fixes the IP total length and the UDP length and checksum (the payload
 * has changed). Protect needs tailroom for MKI + tag (+ 4 for the SRTCP index): at most
 * 4 + 16 + 4 = 24 bytes; SRTP_NO_ROOM says when it is missing (the packet is then
 * untouched). Any other verdict but SRTP_OK leaves the packet for the caller to drop: its
 * bytes and, for protect, its length may have changed. An unprotect state is only changed
 * by packets that pass; a protect state counts the index of every packet it numbered.
 *
 * A burst may mix streams, contexts, RTP and RTCP, in any order. Packets of one stream in
 * one burst are handled in burst order: a later duplicate of an earlier packet in the same
 * burst gets SRTP_REPLAY. The crypto of the whole burst goes to the cryptodev as one batch. */
#ifndef DP_SRTP_H
#define DP_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <rtpanchor/dp_proto.h>

#define SRTP_KIND_RTP  0x1u /* the context/state handles SRTP packets */
#define SRTP_KIND_RTCP 0x2u /* ... SRTCP packets (both: RFC 5761 mux) */
/* Flag for srtp_ctx_create: the context protects (struct rpa_dp_stream.tx); without it
 * the context unprotects (.rx). The cryptodev sessions are built for one direction only
 * (half the memory): hand a protect context only to srtp_protect_burst and the reverse. */
#define SRTP_CTX_PROTECT 0x4u

#define SRTP_REPLAY_WINDOW_MIN	   64u
#define SRTP_REPLAY_WINDOW_MAX	   32768u
#define SRTP_REPLAY_WINDOW_DEFAULT 128u

#define SRTP_BURST_MAX 64u /* most packets one burst call takes */
#define SRTP_TAILROOM  24u /* protect appends at most this many bytes */

/* Per-packet outcome. Counters: AUTH_FAIL -> srtp_auth_fail; REPLAY, TOO_OLD ->
 * srtp_replay; everything else except OK -> srtp_other. */
enum srtp_verdict {
	SRTP_OK = 0,
	SRTP_AUTH_FAIL,	 /* authentication tag wrong (tampered, wrong key) */
	SRTP_REPLAY,	 /* duplicate: this index was already accepted within the window */
	SRTP_TOO_OLD,	 /* index older than the replay window */
	SRTP_MALFORMED,	 /* too short, not version 2, CSRC/extension past the end, no
			  * SRTCP index, RTCP on an RTP-only context or the reverse */
	SRTP_BAD_MKI,	 /* MKI differs from the context's */
	SRTP_NO_ROOM,	 /* protect: less than SRTP_TAILROOM bytes of tailroom */
	SRTP_LIMIT,	 /* key lifetime spent: SRTCP index 2^31 (RFC 3711 §9.2) */
	SRTP_CRYPTO_ERR, /* the cryptodev failed the operation, no session memory, or the
			  * caller's bug: a context of the other direction, a state that does
			  * not fit the context */
	SRTP_PENDING,	 /* AEAD only: first packet with this RTP header length (CSRC or
			  * extension) on this context. DPDK fixes the AAD length per cryptodev
			  * session, so the engine asked the main lcore for a session of this
			  * length (srtp_engine_service); later packets of the length pass. The
			  * packet is untouched: drop it, or hand it back once service ran. */
	SRTP_VERDICT_MAX,
};

struct srtp_ctx;
struct srtp_state;
struct srtp_worker;

/* One packet of a burst. */
struct srtp_pkt {
	struct rte_mbuf *m; /* single segment */
	const struct srtp_ctx *ctx;
	struct srtp_state *st;
	uint16_t off;	 /* RTP/RTCP header offset in the mbuf data */
	uint16_t len;	 /* in: packet length from off; out (SRTP_OK): new length */
	uint8_t rtcp;	 /* 1: (S)RTCP, 0: (S)RTP (the caller tells them apart) */
	uint8_t verdict; /* out: enum srtp_verdict */
};

struct srtp_engine_config {
	/* Cryptodev by name (e.g. "crypto_aesni_mb0", created from --vdev); NULL: the first
	 * cryptodev that offers every algorithm of the six suites, or, when there is none,
	 * a crypto_aesni_mb vdev the engine creates itself. */
	const char *cryptodev;
	unsigned nworkers;     /* queue pairs: worker i uses queue pair i, the main lcore
				* the one after the workers' */
	uint32_t max_contexts; /* contexts that can exist at once; each holds the first state
				* made for it in its own memory. Contexts live in their
				* home session's user data, so max_sessions bounds them */
	uint32_t max_sessions; /* cryptodev sessions (one per context and kind, plus one per
				* extra AEAD header length); 0 = max_contexts */
	uint32_t max_states;   /* states beyond one per context (a second state made for a
				* context while its first lives); 0 = max_contexts / 16 + 64.
				* States with windows over 128 packets (256 for one kind) come
				* from rte_malloc and are not counted here */
	int socket_id;
};

/* Main lcore, once, after rte_eal_init. Configures and starts the cryptodev. 0 or -errno
 * with a message in err naming the device or algorithm that is missing. */
int srtp_engine_init(const struct srtp_engine_config *cfg, char *err, size_t errlen);
void srtp_engine_fini(void);
/* Name of the cryptodev in use ("" before init). */
const char *srtp_engine_device(void);
/* Main lcore, from its loop (every iteration or at least every few ms) and before
 * srtp_ctx_destroy: builds the sessions workers asked for (SRTP_PENDING). Returns how
 * many requests it handled. */
unsigned srtp_engine_service(void);
/* Main lcore: how many AEAD sessions srtp_engine_service has taken out of their slots since
 * the last call. A worker may still be using them: once every worker has passed a quiescent
 * state after this call, hand the count to srtp_engine_release, which frees them (oldest
 * first; counts are released in the order they were returned). Until they are released, at
 * most 64 such sessions wait, and no slot is taken over beyond that. srtp_engine_fini frees
 * whatever still waits (the workers are stopped by then); a release after it does nothing. */
unsigned srtp_engine_retired(void);
void srtp_engine_release(unsigned n);

/* Main lcore: per-worker batch resources on queue pair `index`. NULL with errno set. */
struct srtp_worker *srtp_worker_create(unsigned index, int socket_id);
void srtp_worker_destroy(struct srtp_worker *w);

/* Main lcore. Derives the session keys (RFC 3711 §4.3, key derivation rate 0; RFC 7714
 * §11 for GCM) for the kinds in `flags` (SRTP_KIND_*, plus SRTP_CTX_PROTECT), builds the
 * cryptodev sessions. replay_window is
 * in packets, SRTP_REPLAY_WINDOW_MIN..MAX (0 = default). Returns NULL with errno set and a
 * message naming the bad value (suite, key or salt length, MKI length, window) in err. */
struct srtp_ctx *srtp_ctx_create(const struct rpa_dp_srtp *key, unsigned flags,
				 uint32_t replay_window, char *err, size_t errlen);
/* Main lcore, after a grace period. Zeroes the keys and frees the sessions. NULL is a
 * no-op. */
void srtp_ctx_destroy(struct srtp_ctx *ctx);

/* Main lcore. A fresh state for streams using ctx (window and kinds taken from it). NULL
 * with errno set. */
struct srtp_state *srtp_state_create(const struct srtp_ctx *ctx, int socket_id);
/* Main lcore, after a grace period; frees the sessions the state cached. NULL: no-op. */
void srtp_state_destroy(struct srtp_state *st);
/* True if st can serve packets of ctx (same window size, at least ctx's kinds). */
bool srtp_state_fits(const struct srtp_state *st, const struct srtp_ctx *ctx);

/* HOT. Replay-check, authenticate, decrypt, strip MKI/tag/SRTCP index, update the state
 * (after authentication only). AES-CM suites: one cryptodev job per packet computes the
 * HMAC over the received header, ciphertext and ROC and then decrypts in place (a
 * hash-then-cipher chain); the engine compares the tag in constant time and drops the
 * packet on a mismatch, so unauthenticated plaintext never leaves. AEAD suites: the
 * cryptodev checks the tag as part of decryption (RFC 5116), with its own compare.
 * Sets every p[i].verdict; returns how many are SRTP_OK. n <= SRTP_BURST_MAX. */
unsigned srtp_unprotect_burst(struct srtp_worker *w, struct srtp_pkt *p, unsigned n);
/* HOT. Encrypt, append MKI/tag (SRTCP: E flag and index, always encrypted), update the
 * sender state. Sets every p[i].verdict; returns how many are SRTP_OK. */
unsigned srtp_protect_burst(struct srtp_worker *w, struct srtp_pkt *p, unsigned n);

/* Memory, bytes, for the README: a context (with its cryptodev sessions, counting the
 * memory its pool loses to page boundaries) and a state (0 for one that lives in its
 * context's memory). */
size_t srtp_ctx_bytes(const struct srtp_ctx *ctx);
/* Memory the engine reserved at init (its session, state and op pools), bytes, and what
 * one cryptodev session object takes in it (a context uses one per kind). */
size_t srtp_engine_bytes(void);
size_t srtp_engine_session_bytes(void);
size_t srtp_state_bytes(const struct srtp_state *st);

/* "ok", "auth-fail", "replay", "too-old", "malformed", "bad-mki", "no-room", "limit",
 * "crypto-error", "pending". */
const char *srtp_verdict_name(enum srtp_verdict v);

#endif
