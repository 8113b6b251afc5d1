/* The SRTP engine's internal objects, shared by srtp.c (main lcore: engine, contexts,
 * states), srtp_kdf.c (main lcore) and srtp_burst.c (HOT). Not for use outside srtp*.c. */
#ifndef DP_SRTP_PRIV_H
#define DP_SRTP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_ring.h>

#include "srtp.h"
#include "srtp_window.h"

/* Where an op's IV lives: the op's private area, right after the symmetric op. */
#define SRTP_IV_OFFSET (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))

#define SRTP_AAD_SLOTS 4 /* extra AEAD sessions per context (other header lengths) */
#define SRTP_AAD_STD                                                                               \
	12 /* the AAD length of a context's own AEAD sessions: a plain                             \
	    * RTP header, and every encrypted SRTCP packet (8 + 4) */
#define SRTP_HMAC_DIGEST                                                                           \
	12 /* what we ask the cryptodev for: ipsec-mb 1.3 writes 12 or                             \
	    * 20 bytes of HMAC-SHA1; the tags (10, 4) are its prefix */
#define SRTP_GCM_TAG  16
#define SRTP_REQ_RING 64 /* session requests each worker may have outstanding */

/* One kind's (RTP or RTCP) session keys and cryptodev session. */
struct srtp_keys {
	void *sess;	  /* AES-CM: the cipher+HMAC chain in the context's direction;
			   * AEAD: AES-GCM with SRTP_AAD_STD bytes of AAD */
	uint8_t salt[14]; /* session salt (GCM uses the first 12) */
	uint8_t key[32];  /* AEAD only: the session key, to build sessions for other
			   * AAD lengths on request; zero for AES-CM */
};

/* An AEAD session for another AAD length. Writer: main lcore (srtp_engine_service), which
 * fills aad_len and rtcp, then publishes sess with a release store; readers: workers,
 * acquire load of sess first. Never changed once published; freed with the context. */
struct srtp_aad_sess {
	void *sess;
	uint16_t aad_len;
	uint8_t rtcp;
	uint8_t pad[5];
};

struct srtp_ctx {
	uint8_t suite;
	uint8_t aead;	      /* 1: AEAD GCM suite */
	uint8_t kinds;	      /* SRTP_KIND_* */
	uint8_t protect;      /* 1: built for srtp_protect_burst */
	uint8_t key_len;      /* 16 or 32 */
	uint8_t tag_len;      /* SRTP tag: 10, 4 (AES-CM) or 16 (GCM) */
	uint8_t rtcp_tag_len; /* SRTCP tag: 10 (AES-CM, also for the _32 suites) or 16 */
	uint8_t mki_len;
	uint8_t mki[4];
	uint32_t window; /* replay window, packets */
	struct srtp_keys rtp, rtcp;
	struct srtp_aad_sess aad[SRTP_AAD_SLOTS];
};

/* States with small windows come from a pool of these fixed-size objects; others from
 * rte_malloc. */
#define SRTP_STATE_POOLED_WORDS 2 /* 128-bit bitmaps per kind */

#define SRTP_ST_RTP_STARTED  0x1u
#define SRTP_ST_RTCP_STARTED 0x2u
#define SRTP_ST_POOLED	     0x4u /* from srtp_engine.state_pool, else rte_malloc */

/* Windows: RTP top = highest 48-bit index (ROC << 16 | SEQ); SRTCP top = highest index.
 * For a protect state the tops are the last index sent and there are no bitmaps. */
struct srtp_state {
	uint64_t rtp_top;
	uint64_t rtcp_top;
	uint32_t rtp_ssrc;  /* the SSRC the RTP window belongs to */
	uint32_t rtcp_ssrc; /* the SSRC (sender) the SRTCP window belongs to */
	uint32_t window;    /* packets */
	uint16_t words;	    /* u64 words per bitmap: size = 64 * words (a power of two) */
	uint8_t kinds;	    /* SRTP_KIND_* */
	uint8_t flags;	    /* SRTP_ST_* */
	uint64_t map[];	    /* RTP bitmap (words), then RTCP bitmap (words) */
};

/* A request from a worker for an AEAD session of another AAD length. */
struct srtp_req {
	const struct srtp_ctx *ctx;
	uint16_t aad_len;
	uint8_t rtcp;
	uint8_t pad[5];
};

/* Per-op scratch the cryptodev reads or writes. */
struct srtp_scratch {
	uint8_t digest[32]; /* HMAC output (12 used) */
	uint8_t tag[16];    /* the received tag, saved before the ROC overwrites it */
	uint8_t aad[16];    /* SRTCP AEAD: header (8) || E|index (4) */
};

/* Per packet of a burst, kept between building ops and committing results. */
struct srtp_pend {
	uint64_t index; /* packet index (RTP 48-bit, SRTCP 31-bit) */
	uint32_t ssrc;
	uint16_t newlen; /* the packet length if the packet passes */
	uint8_t op;	 /* 1: has a crypto op (ops[opi]) */
	uint8_t opi;
};

struct srtp_worker {
	uint8_t dev;
	uint16_t qp;
	struct rte_ring *req; /* SP (this worker) / SC (main lcore) of struct srtp_req */
	struct rte_crypto_op *ops[SRTP_BURST_MAX];
	struct rte_crypto_op *deq[SRTP_BURST_MAX];
	struct srtp_pend pend[SRTP_BURST_MAX];
	struct srtp_scratch scratch[SRTP_BURST_MAX];
	rte_iova_t scratch_iova; /* IOVA of scratch[0], for devices that DMA */
	uint64_t stuck;		 /* bursts whose ops the device did not return in time */
} __rte_cache_aligned;

/* The engine: set once by srtp_engine_init on the main lcore, read-only afterwards. */
struct srtp_engine {
	bool up;
	uint8_t dev;
	uint16_t main_qp;
	unsigned nworkers;
	char name[RTE_CRYPTODEV_NAME_MAX_LEN];
	struct rte_mempool *sess_pool;
	struct rte_mempool *op_pool;
	struct rte_mempool *state_pool;
	struct rte_mempool *kdf_pool; /* a few mbufs for key derivation on the main lcore */
	struct rte_ring *req[RPA_DP_MAX_WORKERS];
	uint32_t sess_elt; /* bytes per session object (element + header) */
	uint32_t sess_end; /* bytes of a session in use: header + private data */
	uint32_t state_elt;
};

extern struct srtp_engine srtp_engine;

/* One kind's session keys (RFC 3711 §4.3): what key derivation yields. */
struct srtp_session_keys {
	uint8_t enc[32];
	uint8_t auth[20]; /* AES-CM only */
	uint8_t salt[14]; /* GCM: 12 */
};

/* srtp.c: srtp_ctx_create without the key derivation: the session keys are given (the
 * RFC 7714 test vectors are stated for session keys). key supplies suite, lengths and
 * MKI; its key and salt are not read. */
struct srtp_ctx *srtp_ctx_build(const struct rpa_dp_srtp *key, unsigned flags,
				uint32_t replay_window, const struct srtp_session_keys *rtp,
				const struct srtp_session_keys *rtcp, char *err, size_t errlen);

/* srtp_kdf.c: RFC 3711 §4.3.1 AES-CM PRF with key derivation rate 0 (RFC 6188 for 256-bit
 * keys, RFC 7714 §11 for GCM), computed by the cryptodev on the main lcore's queue pair.
 * Writes out[i] (len[i] bytes, <= 32) for label[i], i < n (<= 3). 0 or -errno. */
int srtp_kdf(const uint8_t *master_key, unsigned key_len, const uint8_t *master_salt,
	     unsigned salt_len, const uint8_t *label, uint8_t *const *out, const unsigned *len,
	     unsigned n);

/* srtp_kdf.c: one synchronous batch on the main lcore's queue pair. 0 or -EIO. */
int srtp_main_run(struct rte_crypto_op **ops, unsigned n);

#endif
