/* The SRTP engine's internal objects, shared by srtp.c (main lcore: engine, contexts,
 * states), srtp_kdf.c (main lcore) and srtp_burst.c (HOT). Not for use outside srtp*.c. */
#ifndef DP_SRTP_PRIV_H
#define DP_SRTP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_ring.h>

#include "srtp.h"
#include "srtp_window.h"

/* Where an op's IV lives: the op's private area, right after the symmetric op. */
#define SRTP_IV_OFFSET (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))

#define SRTP_AAD_SLOTS 4 /* extra AEAD sessions per kind (other header lengths) */
#define SRTP_AAD_STD                                                                               \
	12 /* the AAD length of a context's own AEAD sessions: a plain                             \
	    * RTP header, and every encrypted SRTCP packet (8 + 4) */
#define SRTP_HMAC_DIGEST                                                                           \
	12 /* what we ask the cryptodev for: ipsec-mb 1.3 writes 12 or                             \
	    * 20 bytes of HMAC-SHA1; the tags (10, 4) are its prefix */
#define SRTP_GCM_TAG  16
#define SRTP_REQ_RING 64 /* session requests each worker may have outstanding */

/* One kind's (RTP or RTCP) cryptodev session and salt: what each packet of that kind reads
 * from its context. */
struct srtp_keys {
	void *sess;	  /* AES-CM: the cipher+HMAC chain in the context's direction;
			   * AEAD: AES-GCM with SRTP_AAD_STD bytes of AAD */
	uint8_t salt[14]; /* session salt (GCM uses the first 12) */
	uint8_t pad[2];
};

/* A context: one cache line, the first of the user data of its home session (the RTP
 * session, or the RTCP one for an RTCP-only context), so that a packet's context, the
 * session the PMD reads and the stream's state (next line, see struct srtp_sess_ud) share
 * pages. Immutable once built; zeroed when destroyed. */
struct srtp_ctx {
	uint8_t suite;
	uint8_t aead;	      /* 1: AEAD GCM suite */
	uint8_t kinds;	      /* SRTP_KIND_*; 0 once destroyed */
	uint8_t protect;      /* 1: built for srtp_protect_burst */
	uint8_t key_len;      /* 16 or 32 */
	uint8_t tag_len;      /* SRTP tag: 10, 4 (AES-CM) or 16 (GCM) */
	uint8_t rtcp_tag_len; /* SRTCP tag: 10 (AES-CM, also for the _32 suites) or 16 */
	uint8_t mki_len;
	uint8_t mki[4];
	uint32_t window; /* replay window, packets */
	struct srtp_keys rtp, rtcp;
};

/* The AEAD sessions of a kind for AAD lengths other than SRTP_AAD_STD: SRTP_AAD_SLOTS slot
 * words, each 0 (empty) or length << 48 | session | state, so that one atomic load gives
 * a worker the length and the session together (never a torn pair). Sessions are objects
 * of the engine's pool: cache-line aligned, below 2^48. The state says whether a packet
 * has authenticated with the session:
 *   FRESH      built on a request, no packet has used it yet;
 *   FAILED     used only by packets that did not authenticate (or that the replay window
 *              refused on their way back from the slow path);
 *   CONFIRMED  a packet authenticated with it (protect: a packet was protected with it).
 * The main lcore (srtp_engine_service) fills an empty slot, or replaces a FAILED slot, or a
 * FRESH one older than SRTP_SLOT_FRESH_MS, with a compare-and-swap; a CONFIRMED slot is
 * kept for the context's life. Workers move a slot's state forward with a compare-and-swap
 * of the word they used, which fails harmlessly if the slot was replaced meanwhile. A
 * replaced session is freed after the workers' grace period (srtp_engine_retired). */
#define SRTP_SLOT_FRESH	    0x0ull
#define SRTP_SLOT_FAILED    0x1ull
#define SRTP_SLOT_CONFIRMED 0x2ull
#define SRTP_SLOT_STATE	    0x3ull
#define SRTP_SLOT_SESS	    0x0000fffffffffffcull
/* A FRESH slot is kept this long for the packet that asked for it: as long as a worker waits
 * for a punted packet before taking it as lost. */
#define SRTP_SLOT_FRESH_MS 100u

static inline uint64_t srtp_slot_make(void *sess, uint16_t aad_len)
{
	return (uint64_t)aad_len << 48 | (uint64_t)(uintptr_t)sess;
}

static inline void *srtp_slot_sess(uint64_t slot)
{
	return (void *)(uintptr_t)(slot & SRTP_SLOT_SESS);
}

static inline uint32_t srtp_slot_len(uint64_t slot)
{
	return (uint32_t)(slot >> 48);
}

/* One kind's rarely read part, in the user data of that kind's own session. */
struct srtp_cold {
	uint64_t aad[SRTP_AAD_SLOTS];	   /* slot words, see above */
	uint32_t aad_born[SRTP_AAD_SLOTS]; /* ms (srtp.c now_ms) a slot was filled. Main lcore */
	uint8_t slot_used; /* home session: a state lives in the slot. Main lcore only (the
			    * state's own flags are its worker's) */
	uint8_t pad[15];
	uint8_t key[32]; /* AEAD: the session key, to build sessions for other AAD lengths on
			  * request; zero for AES-CM */
};

/* The user data of every session of the engine's pool. In a context's home session: the
 * context, room for one state (srtp_state_create puts the first state made for the context
 * there), and the home kind's cold part; in the RTCP session of a multiplexed context only
 * the cold part is used. 224 bytes: with crypto_aesni_mb a session object is 28 lines
 * with the mempool's header line, which the mempool pads to 29 (1856 bytes) to spread
 * objects over memory channels (sess_pool_packed in srtp.c says when it does not); at
 * most 192 bytes would make it one line less. */
struct srtp_sess_ud {
	struct srtp_ctx ctx;
	uint64_t slot[8];
	struct srtp_cold cold;
};

static inline struct srtp_cold *srtp_cold_of(void *sess)
{
	return &((struct srtp_sess_ud *)rte_cryptodev_sym_session_get_user_data(sess))->cold;
}

/* States whose bitmaps fit SRTP_STATE_SMALL_WORDS words in all go in their context's slot
 * (or, when it is taken, come from a pool of fixed-size objects); others from rte_malloc. */
#define SRTP_STATE_SMALL_WORDS 4 /* RTP+RTCP windows of 128, or one kind's of 256 */

#define SRTP_ST_RTP_STARTED  0x1u
#define SRTP_ST_RTCP_STARTED 0x2u
#define SRTP_ST_POOLED	     0x4u /* from srtp_engine.state_pool */
#define SRTP_ST_EMBEDDED     0x8u /* in the slot of the context it was made for */

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

_Static_assert(sizeof(struct srtp_ctx) == RTE_CACHE_LINE_MIN_SIZE, "context: one line");
_Static_assert(offsetof(struct srtp_cold, key) == RTE_CACHE_LINE_MIN_SIZE,
	       "the AAD session slots in a line of their own, the key in the next");
_Static_assert(sizeof(struct srtp_state) + SRTP_STATE_SMALL_WORDS * sizeof(uint64_t) ==
		   sizeof(((struct srtp_sess_ud *)0)->slot),
	       "a small state fills the slot");

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

/* A burst's packet whose op uses an AAD slot that is not CONFIRMED: after the crypto, its
 * outcome moves the slot's state (srtp_burst.c slots_settle). */
struct srtp_slot_use {
	uint64_t *slot;
	uint64_t seen; /* the slot word the op's session came from */
	uint8_t opi;
	uint8_t pad[7];
};

struct srtp_worker {
	uint8_t dev;
	uint8_t nslot; /* entries in slot_use for the current burst */
	uint16_t qp;
	struct rte_ring *req; /* SP (this worker) / SC (main lcore) of struct srtp_req */
	struct rte_crypto_op *ops[SRTP_BURST_MAX];
	struct rte_crypto_op *deq[SRTP_BURST_MAX];
	struct srtp_pend pend[SRTP_BURST_MAX];
	struct srtp_scratch scratch[SRTP_BURST_MAX];
	rte_iova_t scratch_iova; /* IOVA of scratch[0], for devices that DMA */
	uint64_t stuck;		 /* bursts whose ops the device did not return in time */
	struct srtp_slot_use slot_use[SRTP_BURST_MAX];
} __rte_cache_aligned;

/* The engine: set once by srtp_engine_init on the main lcore, read-only afterwards. */
struct srtp_engine {
	bool up;
	uint8_t dev;
	uint16_t main_qp;
	unsigned nworkers;
	char name[RTE_CRYPTODEV_NAME_MAX_LEN];
	struct rte_mempool *sess_pool;
	struct rte_mempool *kdf_sess_pool; /* key derivation's one session at a time: apart,
					    * so that contexts made one after the other
					    * (a stream's two) are neighbours in sess_pool */
	struct rte_mempool *op_pool;
	struct rte_mempool *state_pool;
	struct rte_mempool *kdf_pool; /* a few mbufs for key derivation on the main lcore */
	struct rte_ring *req[RPA_DP_MAX_WORKERS];
	uint32_t sess_elt; /* bytes per session object (element + header) */
	uint32_t sess_end; /* where a session's user data starts (header + private data) */
	uint32_t state_elt;
	/* Session lines to prefetch, by profile (srtp_pf_index): a mask of cache lines from
	 * the session pointer; for the AEAD profiles also the GHASH key lines, which the PMD
	 * reads from hkey_top downwards, more for longer packets. See srtp_burst.c. */
	struct srtp_pf {
		uint64_t mask;
		uint8_t hkey_top; /* 0: none */
		uint8_t hkey_max; /* lines at most */
	} pf[4];
	uint64_t pf_common; /* the lines every profile has */
};

/* The prefetch profile of a context: AES-CM or AEAD, 128- or 256-bit key. */
static inline unsigned srtp_pf_index(const struct srtp_ctx *c)
{
	return (unsigned)c->aead * 2u + (c->key_len == 32);
}

extern struct srtp_engine srtp_engine;

/* The lines of a session of context c that the PMD reads for an (S)RTP or (S)RTCP packet
 * of `len` bytes as handed to the burst function: a mask of cache lines from the session
 * pointer. */
static inline uint64_t srtp_pf_lines(const struct srtp_ctx *c, bool rtcp, uint32_t len)
{
	const struct srtp_pf *pf = &srtp_engine.pf[srtp_pf_index(c)];
	uint64_t m = pf->mask;

	if (pf->hkey_top != 0) {
		/* One line of GHASH key powers per four 16-byte blocks of payload, plus one
		 * for the AAD and length blocks (measured for 60..1200-byte packets). The
		 * payload is taken at its largest: an SRTCP index or MKI is not subtracted. */
		uint32_t pay = len - (c->protect ? 0u : SRTP_GCM_TAG) - (rtcp ? 8u : 12u);
		uint32_t k = pay > len ? 1u : ((pay + 15u) / 16u + 5u) / 4u;

		k = k < pf->hkey_max ? k : pf->hkey_max;
		m |= ((1ull << k) - 1) << (pf->hkey_top + 1u - k);
	}
	return m;
}

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
