/* The SRTP engine's slow path: picks and starts the cryptodev, builds contexts (key
 * derivation, cryptodev sessions) and per-stream states, and serves workers' requests for
 * AEAD sessions of other header lengths. Main lcore only. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cpuflags.h>
#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "srtp_priv.h"

struct srtp_engine srtp_engine;

#define SRTP_VDEV_NAME "crypto_aesni_mb_rpa"
#define SRTP_QP_DESC   (2 * SRTP_BURST_MAX)
#define SRTP_KDF_MBUFS 15u /* the main lcore's key derivation needs 3 at a time */
#define SRTP_MAIN_OPS  8u  /* ops the main lcore may hold (key derivation) */
/* AEAD sessions replaced and not yet freed, at most: bounds what a flood of forged header
 * lengths can hold of the session pool. */
#define SRTP_LIMBO 64u

/* AEAD sessions replaced in their slot (serve), waiting for the workers' grace period before
 * they are freed: a ring, main lcore only. [head, mark) srtp_engine_retired has reported,
 * [mark, tail) not yet. */
static struct {
	void *sess[SRTP_LIMBO];
	uint32_t head, mark, tail;
} limbo;

static const struct srtp_suite_info {
	uint8_t key_len;
	uint8_t salt_len;
	uint8_t tag_len;
	uint8_t aead;
} suites[RPA_DP_SRTP_SUITE_MAX] = {
    [RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80] = {16, 14, 10, 0},
    [RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32] = {16, 14, 4, 0},
    [RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80] = {32, 14, 10, 0},
    [RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32] = {32, 14, 4, 0},
    [RPA_DP_SRTP_AEAD_AES_128_GCM] = {16, 12, 16, 1},
    [RPA_DP_SRTP_AEAD_AES_256_GCM] = {32, 12, 16, 1},
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Every algorithm, key length and digest the six suites need. Returns the missing one or
 * NULL. */
static const char *dev_missing(uint8_t dev)
{
	struct rte_cryptodev_sym_capability_idx ci = {.type = RTE_CRYPTO_SYM_XFORM_CIPHER};
	struct rte_cryptodev_sym_capability_idx ai = {.type = RTE_CRYPTO_SYM_XFORM_AUTH};
	struct rte_cryptodev_sym_capability_idx gi = {.type = RTE_CRYPTO_SYM_XFORM_AEAD};
	const struct rte_cryptodev_symmetric_capability *cap;
	struct rte_cryptodev_info info;

	rte_cryptodev_info_get(dev, &info);
	if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYMMETRIC_CRYPTO))
		return "symmetric crypto";
	if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYM_OPERATION_CHAINING))
		return "cipher+auth chaining";
	ci.algo.cipher = RTE_CRYPTO_CIPHER_AES_CTR;
	cap = rte_cryptodev_sym_capability_get(dev, &ci);
	if (cap == NULL || rte_cryptodev_sym_capability_check_cipher(cap, 16, 16) != 0 ||
	    rte_cryptodev_sym_capability_check_cipher(cap, 32, 16) != 0)
		return "AES-CTR with 128/256-bit keys";
	ai.algo.auth = RTE_CRYPTO_AUTH_SHA1_HMAC;
	cap = rte_cryptodev_sym_capability_get(dev, &ai);
	if (cap == NULL ||
	    rte_cryptodev_sym_capability_check_auth(cap, 20, SRTP_HMAC_DIGEST, 0) != 0)
		return "HMAC-SHA1 with a 160-bit key and a 96-bit digest";
	gi.algo.aead = RTE_CRYPTO_AEAD_AES_GCM;
	cap = rte_cryptodev_sym_capability_get(dev, &gi);
	if (cap == NULL ||
	    rte_cryptodev_sym_capability_check_aead(cap, 16, SRTP_GCM_TAG, SRTP_AAD_STD, 12) != 0 ||
	    rte_cryptodev_sym_capability_check_aead(cap, 32, SRTP_GCM_TAG, SRTP_AAD_STD, 12) != 0)
		return "AES-GCM with 128/256-bit keys, 16-byte tag, 12-byte IV";
	return NULL;
}

static int pick_device(const struct srtp_engine_config *cfg, unsigned nqp, char *err, size_t errlen)
{
	char args[64];
	const char *why;
	int id = -1;

	snprintf(args, sizeof(args), "max_nb_queue_pairs=%u,socket_id=%d", nqp,
		 cfg->socket_id < 0 ? 0 : cfg->socket_id);
	if (cfg->cryptodev != NULL) {
		id = rte_cryptodev_get_dev_id(cfg->cryptodev);
		if (id < 0 && strncmp(cfg->cryptodev, "crypto_aesni_mb", 15) == 0 &&
		    rte_vdev_init(cfg->cryptodev, args) == 0)
			id = rte_cryptodev_get_dev_id(cfg->cryptodev);
		if (id < 0) {
			seterr(err, errlen, "cryptodev %s: no such device", cfg->cryptodev);
			return -ENODEV;
		}
	} else {
		for (unsigned d = 0; d < rte_cryptodev_count() && id < 0; d++)
			if (rte_cryptodev_is_valid_dev(d) && dev_missing((uint8_t)d) == NULL)
				id = (int)d;
		if (id < 0) {
			if (rte_vdev_init(SRTP_VDEV_NAME, args) != 0) {
				seterr(err, errlen,
				       "no cryptodev offers the SRTP algorithms and vdev %s "
				       "could not be created (is librte-crypto-ipsec-mb "
				       "installed?)",
				       SRTP_VDEV_NAME);
				return -ENODEV;
			}
			id = rte_cryptodev_get_dev_id(SRTP_VDEV_NAME);
			if (id < 0)
				return -ENODEV;
		}
	}
	why = dev_missing((uint8_t)id);
	if (why != NULL) {
		seterr(err, errlen, "cryptodev %s does not offer %s", rte_cryptodev_name_get(id),
		       why);
		return -ENOTSUP;
	}
	return id;
}

/* Which cache lines of a session the PMD reads (struct srtp_engine.pf). By default all of
 * them. For crypto_aesni_mb as DPDK 22.11 lays its session out (1408 bytes of private
 * data after a 64-byte header; struct aesni_mb_session), the lines found by changing one
 * line of a session at a time and comparing the results (test_prefetch_profile checks that
 * no line outside a profile matters): the modes and the AES round keys (lines 1-4, 1-5
 * for 256-bit keys), the HMAC-SHA1 inner and outer states (17-20; each straddles two
 * lines) and the digest and AAD lengths (22). AES-GCM with VAES (what ipsec-mb picks on
 * AVX512 CPUs that have it) reads its GHASH key powers from line 17 downwards, about one
 * line per four 16-byte blocks of the packet; other GCM code reads them from the front, so
 * without VAES the whole session is fetched. A wrong profile costs speed, never
 * correctness. */
#define AESNI_MB_PRIV	1408u
#define AESNI_MB_UD_OFF 1472u
#define LINE(n)		(1ull << (n))
#define LINES(a, b)	(((2ull << (b)) - 1) & ~(LINE(a) - 1)) /* lines a..b */

static void pf_setup(struct srtp_engine *e)
{
	struct rte_cryptodev_info info;
	unsigned lines = e->sess_end / RTE_CACHE_LINE_SIZE;
	uint64_t all = lines >= 64 ? ~0ull : LINE(lines) - 1;
	bool vaes;

	for (unsigned k = 0; k < RTE_DIM(e->pf); k++)
		e->pf[k] = (struct srtp_pf){.mask = all};
	e->pf_common = all;
	rte_cryptodev_info_get(e->dev, &info);
	if (info.driver_name == NULL || strcmp(info.driver_name, "crypto_aesni_mb") != 0 ||
	    rte_cryptodev_sym_get_private_session_size(e->dev) != AESNI_MB_PRIV ||
	    e->sess_end != AESNI_MB_UD_OFF)
		return;
	e->pf_common = LINES(1, 4) | LINE(22);
	e->pf[0].mask = LINES(1, 4) | LINES(17, 20) | LINE(22);
	e->pf[1].mask = LINES(1, 5) | LINES(17, 20) | LINE(22);
	vaes = rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512F) > 0 &&
	       rte_cpu_get_flag_enabled(RTE_CPUFLAG_VAES) > 0 &&
	       rte_cpu_get_flag_enabled(RTE_CPUFLAG_VPCLMULQDQ) > 0;
	if (!vaes)
		return;
	e->pf[2] = (struct srtp_pf){.mask = LINES(1, 4) | LINE(22), .hkey_top = 17, .hkey_max = 13};
	e->pf[3] = (struct srtp_pf){.mask = LINES(1, 5) | LINE(22), .hkey_top = 17, .hkey_max = 12};
}

/* Where a session's user data starts, from the session pointer: made once and measured
 * (from the key derivation's pool, whose sessions are laid out alike, so that the
 * contexts' pool starts untouched). */
static int ud_offset(const struct srtp_engine *e)
{
	static const uint8_t zero[16];
	struct rte_crypto_sym_xform x = {
	    .type = RTE_CRYPTO_SYM_XFORM_CIPHER,
	    .cipher = {.op = RTE_CRYPTO_CIPHER_OP_ENCRYPT,
		       .algo = RTE_CRYPTO_CIPHER_AES_CTR,
		       .key = {.data = zero, .length = 16},
		       .iv = {.offset = SRTP_IV_OFFSET, .length = 16}},
	};
	void *sess = rte_cryptodev_sym_session_create(e->dev, &x, e->kdf_sess_pool);
	uint8_t *ud;
	int off;

	if (sess == NULL)
		return -ENOMEM;
	ud = rte_cryptodev_sym_session_get_user_data(sess);
	off = ud == NULL ? -ENOTSUP : (int)(ud - (uint8_t *)sess);
	rte_cryptodev_sym_session_free(e->dev, sess);
	return off;
}

static void chunk_len(struct rte_mempool *mp, void *arg, struct rte_mempool_memhdr *hdr,
		      unsigned idx)
{
	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	*(size_t *)arg += hdr->len;
}

/* Bytes a pool takes per object, counting what a pool that keeps objects within pages loses
 * at page ends (the state pool; the session pool of a hardware cryptodev). */
static uint32_t pool_obj_size(struct rte_mempool *mp)
{
	size_t total = 0;

	rte_mempool_mem_iter(mp, chunk_len, &total);
	return (uint32_t)(total / mp->size);
}

/* The contexts' session pool when the one rte_cryptodev_sym_session_pool_create makes does
 * not fit: the same pool (its private data, which the cryptodev checks sessions against, is
 * copied from a one-session pool made by that function, so nothing of its layout is
 * assumed here), packed: objects not padded to spread them over memory channels (28 lines
 * a session instead of 29 with crypto_aesni_mb), and for a software cryptodev without
 * hugepages free to cross 4 KiB page boundaries (the PMD reads its sessions by virtual
 * address, never by IOVA), 1792 bytes a session instead of 2048 (two to a 4 KiB page) or
 * 1857 (2 MB pages). Only as a fallback: 44% of the packed sessions span two 4 KiB pages,
 * which measured 11% more cycles per packet at 100k streams (rtpanchor-bench-fwd --srtp
 * rtp-srtp: 1023-1064 against 911-939), and the effect of dropping the spread alone was
 * within this machine's noise (-16% to +23% between interleaved runs). */
static struct rte_mempool *sess_pool_packed(const char *name, uint32_t n, uint8_t dev, int socket,
					    bool cross_pages)
{
	struct rte_mempool *tmpl, *mp;
	unsigned flags = RTE_MEMPOOL_F_NO_SPREAD;

	tmpl = rte_cryptodev_sym_session_pool_create(
	    "srtp_sess_tmpl", 1, rte_cryptodev_sym_get_private_session_size(dev), 0,
	    sizeof(struct srtp_sess_ud), socket);
	if (tmpl == NULL)
		return NULL;
	if (cross_pages)
		flags |= RTE_MEMPOOL_F_NO_IOVA_CONTIG;
	mp = rte_mempool_create_empty(name, n, tmpl->elt_size, 0, tmpl->private_data_size, socket,
				      flags);
	if (mp != NULL) {
		memcpy(rte_mempool_get_priv(mp), rte_mempool_get_priv(tmpl),
		       tmpl->private_data_size);
		if (rte_mempool_set_ops_byname(mp, "ring_mp_mc", NULL) != 0 ||
		    rte_mempool_populate_default(mp) < 0) {
			rte_mempool_free(mp);
			mp = NULL;
		}
	}
	rte_mempool_free(tmpl);
	return mp;
}

int srtp_engine_init(const struct srtp_engine_config *cfg, char *err, size_t errlen)
{
	struct srtp_engine *e = &srtp_engine;
	struct rte_cryptodev_info info;
	struct rte_cryptodev_config dc = {0};
	struct rte_cryptodev_qp_conf qc = {.nb_descriptors = SRTP_QP_DESC};
	unsigned nqp = cfg->nworkers + 1;
	uint32_t nsess = cfg->max_sessions ? cfg->max_sessions : cfg->max_contexts;
	uint32_t nstates = cfg->max_states ? cfg->max_states : cfg->max_contexts / 16 + 64;
	int socket = cfg->socket_id < 0 ? (int)rte_socket_id() : cfg->socket_id;
	int id, ret;

	if (e->up) {
		seterr(err, errlen, "SRTP engine already initialised");
		return -EALREADY;
	}
	if (cfg->nworkers == 0 || cfg->nworkers > RPA_DP_MAX_WORKERS || cfg->max_contexts == 0) {
		seterr(err, errlen, "SRTP engine: bad config (workers %u, contexts %u)",
		       cfg->nworkers, cfg->max_contexts);
		return -EINVAL;
	}
	memset(e, 0, sizeof(*e));
	id = pick_device(cfg, nqp, err, errlen);
	if (id < 0)
		return id;
	e->dev = (uint8_t)id;
	e->nworkers = cfg->nworkers;
	e->main_qp = (uint16_t)cfg->nworkers;
	snprintf(e->name, sizeof(e->name), "%s", rte_cryptodev_name_get(e->dev));
	rte_cryptodev_info_get(e->dev, &info);
	if (info.max_nb_queue_pairs < nqp) {
		seterr(err, errlen,
		       "cryptodev %s has %u queue pairs, %u needed (one per worker and one "
		       "for the main lcore): give it max_nb_queue_pairs=%u",
		       e->name, info.max_nb_queue_pairs, nqp, nqp);
		return -ENOSPC;
	}

	/* Sessions: the contexts' own, and apart a key-derivation session at a time. A
	 * context and its first state live in the user data of its home session, so that a
	 * packet's context, state and the session the PMD reads share pages and TLB entries. */
	e->sess_pool = rte_cryptodev_sym_session_pool_create(
	    "srtp_sess", nsess, rte_cryptodev_sym_get_private_session_size(e->dev), 0,
	    sizeof(struct srtp_sess_ud), socket);
	if (e->sess_pool == NULL)
		e->sess_pool = sess_pool_packed(
		    "srtp_sess", nsess, e->dev, socket,
		    !(info.feature_flags & RTE_CRYPTODEV_FF_HW_ACCELERATED) &&
			!rte_eal_has_hugepages());
	e->kdf_sess_pool = rte_cryptodev_sym_session_pool_create(
	    "srtp_kdf_sess", 2, rte_cryptodev_sym_get_private_session_size(e->dev), 0,
	    sizeof(struct srtp_sess_ud), socket);
	e->op_pool = rte_crypto_op_pool_create("srtp_ops", RTE_CRYPTO_OP_TYPE_SYMMETRIC,
					       cfg->nworkers * SRTP_BURST_MAX + SRTP_MAIN_OPS, 0,
					       16, socket);
	/* States that do not go in their context's slot: cache-aligned, not spread over
	 * memory channels (the padding would add a cache line to each small object). */
	e->state_pool = rte_mempool_create(
	    "srtp_state", nstates,
	    sizeof(struct srtp_state) + SRTP_STATE_SMALL_WORDS * sizeof(uint64_t), 0, 0, NULL, NULL,
	    NULL, NULL, socket, RTE_MEMPOOL_F_NO_SPREAD);
	e->kdf_pool = rte_pktmbuf_pool_create("srtp_kdf", SRTP_KDF_MBUFS, 0, 0,
					      RTE_PKTMBUF_HEADROOM + 64, socket);
	if (e->sess_pool == NULL || e->kdf_sess_pool == NULL || e->op_pool == NULL ||
	    e->state_pool == NULL || e->kdf_pool == NULL) {
		seterr(err, errlen, "SRTP engine: no memory for %u contexts and %u sessions",
		       cfg->max_contexts, nsess);
		ret = -ENOMEM;
		goto fail;
	}
	e->sess_elt = pool_obj_size(e->sess_pool);
	e->state_elt = pool_obj_size(e->state_pool);

	dc.socket_id = socket;
	dc.nb_queue_pairs = (uint16_t)nqp;
	qc.mp_session = e->sess_pool;
	if (rte_cryptodev_configure(e->dev, &dc) != 0) {
		seterr(err, errlen, "cryptodev %s: configure failed", e->name);
		ret = -EIO;
		goto fail;
	}
	for (unsigned q = 0; q < nqp; q++)
		if (rte_cryptodev_queue_pair_setup(e->dev, (uint16_t)q, &qc, socket) != 0) {
			seterr(err, errlen, "cryptodev %s: queue pair %u setup failed", e->name, q);
			ret = -EIO;
			goto fail;
		}
	if (rte_cryptodev_start(e->dev) != 0) {
		seterr(err, errlen, "cryptodev %s: start failed", e->name);
		ret = -EIO;
		goto fail;
	}
	ret = ud_offset(e);
	if (ret < 0) {
		seterr(err, errlen, "cryptodev %s: cannot make an AES-CTR session", e->name);
		goto fail;
	}
	e->sess_end = (uint32_t)ret;
	pf_setup(e);
	e->up = true;
	return 0;
fail:
	rte_mempool_free(e->sess_pool);
	rte_mempool_free(e->kdf_sess_pool);
	rte_mempool_free(e->op_pool);
	rte_mempool_free(e->state_pool);
	rte_mempool_free(e->kdf_pool);
	memset(e, 0, sizeof(*e));
	return ret;
}

void srtp_engine_fini(void)
{
	struct srtp_engine *e = &srtp_engine;

	if (!e->up)
		return;
	/* The workers are stopped: what still waits for a grace period can go. */
	limbo.mark = limbo.tail;
	srtp_engine_release(limbo.tail - limbo.head);
	rte_cryptodev_stop(e->dev);
	rte_mempool_free(e->sess_pool);
	rte_mempool_free(e->kdf_sess_pool);
	rte_mempool_free(e->op_pool);
	rte_mempool_free(e->state_pool);
	rte_mempool_free(e->kdf_pool);
	memset(e, 0, sizeof(*e));
}

const char *srtp_engine_device(void)
{
	return srtp_engine.name;
}

/* ---- workers ---- */

struct srtp_worker *srtp_worker_create(unsigned index, int socket_id)
{
	struct srtp_engine *e = &srtp_engine;
	struct srtp_worker *w;
	char name[RTE_RING_NAMESIZE];

	if (!e->up || index >= e->nworkers || e->req[index] != NULL) {
		errno = EINVAL;
		return NULL;
	}
	w = rte_zmalloc_socket("srtp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket_id);
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	w->dev = e->dev;
	w->qp = (uint16_t)index;
	w->scratch_iova = rte_malloc_virt2iova(w) + offsetof(struct srtp_worker, scratch);
	snprintf(name, sizeof(name), "srtp_req%u", index);
	w->req = rte_ring_create_elem(name, sizeof(struct srtp_req), SRTP_REQ_RING, socket_id,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->req == NULL || rte_crypto_op_bulk_alloc(e->op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC,
						       w->ops, SRTP_BURST_MAX) != SRTP_BURST_MAX) {
		rte_ring_free(w->req);
		rte_free(w);
		errno = ENOMEM;
		return NULL;
	}
	e->req[index] = w->req;
	return w;
}

void srtp_worker_destroy(struct srtp_worker *w)
{
	if (w == NULL)
		return;
	srtp_engine_service();
	srtp_engine.req[w->qp] = NULL;
	rte_ring_free(w->req);
	for (unsigned i = 0; i < SRTP_BURST_MAX; i++)
		rte_crypto_op_free(w->ops[i]);
	explicit_bzero(w->scratch, sizeof(w->scratch));
	rte_free(w);
}

/* ---- contexts ---- */

static void *make_session(const struct srtp_ctx *c, const uint8_t *enc_key, const uint8_t *auth_key,
			  uint16_t aad_len)
{
	struct rte_crypto_sym_xform cx = {
	    .type = RTE_CRYPTO_SYM_XFORM_CIPHER,
	    /* AES-CM decrypts by encrypting (XOR with the same keystream); DPDK's
	     * aesni_mb also refuses a hash-generate -> decrypt chain. */
	    .cipher = {.op = RTE_CRYPTO_CIPHER_OP_ENCRYPT,
		       .algo = RTE_CRYPTO_CIPHER_AES_CTR,
		       .key = {.data = enc_key, .length = c->key_len},
		       .iv = {.offset = SRTP_IV_OFFSET, .length = 16}},
	};
	struct rte_crypto_sym_xform ax = {
	    .type = RTE_CRYPTO_SYM_XFORM_AUTH,
	    .auth = {.op = RTE_CRYPTO_AUTH_OP_GENERATE,
		     .algo = RTE_CRYPTO_AUTH_SHA1_HMAC,
		     .key = {.data = auth_key, .length = 20},
		     .digest_length = SRTP_HMAC_DIGEST},
	};
	struct rte_crypto_sym_xform gx = {
	    .type = RTE_CRYPTO_SYM_XFORM_AEAD,
	    .aead = {.op = c->protect ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT,
		     .algo = RTE_CRYPTO_AEAD_AES_GCM,
		     .key = {.data = enc_key, .length = c->key_len},
		     .iv = {.offset = SRTP_IV_OFFSET, .length = 12},
		     .digest_length = SRTP_GCM_TAG,
		     .aad_length = aad_len},
	};
	struct rte_crypto_sym_xform *x;

	if (c->aead) {
		x = &gx;
	} else if (c->protect) {
		/* Encrypt, then HMAC over header, ciphertext and ROC. */
		cx.next = &ax;
		x = &cx;
	} else {
		/* HMAC over what arrived, then decrypt: the tag is computed over the
		 * ciphertext before the payload is decrypted (RFC 3711 §3.3 steps 5-6);
		 * the engine compares it once the job is done. */
		ax.next = &cx;
		x = &ax;
	}
	return rte_cryptodev_sym_session_create(srtp_engine.dev, x, srtp_engine.sess_pool);
}

/* Derive one kind's session keys (labels base..base+2). AEAD: encryption key and 96-bit
 * salt only (RFC 7714 §11). */
static int derive(const struct rpa_dp_srtp *key, bool aead, uint8_t base,
		  struct srtp_session_keys *k)
{
	uint8_t labels[3] = {base, (uint8_t)(base + 1), (uint8_t)(base + 2)};
	uint8_t *out[3] = {k->enc, k->auth, k->salt};
	unsigned len[3] = {key->key_len, 20, 14};

	if (aead) {
		labels[1] = (uint8_t)(base + 2);
		out[1] = k->salt;
		len[1] = 12;
		return srtp_kdf(key->key, key->key_len, key->salt, key->salt_len, labels, out, len,
				2);
	}
	return srtp_kdf(key->key, key->key_len, key->salt, key->salt_len, labels, out, len, 3);
}

/* One kind's session; the key of an AEAD kind is kept in the session's cold part, for the
 * sessions of other AAD lengths built later. */
static int install(const struct srtp_ctx *c, struct srtp_keys *k,
		   const struct srtp_session_keys *sk)
{
	k->sess = make_session(c, sk->enc, sk->auth, SRTP_AAD_STD);
	if (k->sess == NULL)
		return -ENOMEM;
	memset(rte_cryptodev_sym_session_get_user_data(k->sess), 0, sizeof(struct srtp_sess_ud));
	memcpy(k->salt, sk->salt, sizeof(k->salt));
	if (c->aead)
		memcpy(srtp_cold_of(k->sess)->key, sk->enc, c->key_len);
	return 0;
}

/* Zero one session's user data (context, cold part with the AEAD key, slot) and free the
 * session and the AAD sessions listed in its cold part. */
static void sess_free(void *sess, bool keep)
{
	struct srtp_cold *cold;
	void *aad[SRTP_AAD_SLOTS];

	if (sess == NULL)
		return;
	cold = srtp_cold_of(sess);
	for (unsigned i = 0; i < SRTP_AAD_SLOTS; i++)
		aad[i] = srtp_slot_sess(cold->aad[i]);
	explicit_bzero(cold, sizeof(*cold));
	for (unsigned i = 0; i < SRTP_AAD_SLOTS; i++)
		if (aad[i] != NULL)
			rte_cryptodev_sym_session_free(srtp_engine.dev, aad[i]);
	if (!keep)
		rte_cryptodev_sym_session_free(srtp_engine.dev, sess);
}

static void *home_sess(const struct srtp_ctx *c)
{
	return (c->kinds & SRTP_KIND_RTP) ? c->rtp.sess : c->rtcp.sess;
}

static struct srtp_sess_ud *ud_of(const struct srtp_ctx *c)
{
	return (struct srtp_sess_ud *)(uintptr_t)c;
}

/* Free a context's sessions and zero its keys: the context and cold parts, then (the
 * PMD's clear) the sessions. `c` may be a context in its home session's user data or a
 * copy being built. A state that still lives in the home session's slot keeps that one
 * session (its user data wiped, its PMD keys still in place) until srtp_state_destroy. */
static void ctx_free(struct srtp_ctx *c)
{
	void *rtp = c->rtp.sess, *rtcp = c->rtcp.sess, *home = home_sess(c);
	bool keep = false;

	if (home != NULL) {
		struct srtp_sess_ud *ud = rte_cryptodev_sym_session_get_user_data(home);

		keep = ud->cold.slot_used;
		explicit_bzero(&ud->ctx, sizeof(ud->ctx));
	}
	explicit_bzero(c, sizeof(*c));
	sess_free(rtp, keep && rtp == home);
	sess_free(rtcp, keep && rtcp == home);
}

static int check_key(const struct rpa_dp_srtp *key, unsigned flags, uint32_t *window, char *err,
		     size_t errlen)
{
	const struct srtp_suite_info *si;

	if (!srtp_engine.up) {
		seterr(err, errlen, "SRTP engine not initialised");
		return -ENODEV;
	}
	if (key->suite == RPA_DP_SRTP_NONE || key->suite >= RPA_DP_SRTP_SUITE_MAX) {
		seterr(err, errlen, "SRTP suite %u unknown", key->suite);
		return -EINVAL;
	}
	si = &suites[key->suite];
	if (key->key_len != si->key_len || key->salt_len != si->salt_len) {
		seterr(err, errlen, "%s needs a %u-byte key and a %u-byte salt, not %u and %u",
		       rpa_dp_srtp_suite_name(key->suite), si->key_len, si->salt_len, key->key_len,
		       key->salt_len);
		return -EINVAL;
	}
	if (key->mki_len > RPA_DP_SRTP_MKI_MAX) {
		seterr(err, errlen, "MKI length %u (at most %u)", key->mki_len,
		       RPA_DP_SRTP_MKI_MAX);
		return -EINVAL;
	}
	if (*window == 0)
		*window = SRTP_REPLAY_WINDOW_DEFAULT;
	if (*window < SRTP_REPLAY_WINDOW_MIN || *window > SRTP_REPLAY_WINDOW_MAX) {
		seterr(err, errlen, "replay window %u (%u..%u packets)", *window,
		       SRTP_REPLAY_WINDOW_MIN, SRTP_REPLAY_WINDOW_MAX);
		return -EINVAL;
	}
	if ((flags & (SRTP_KIND_RTP | SRTP_KIND_RTCP)) == 0 ||
	    (flags & ~(SRTP_KIND_RTP | SRTP_KIND_RTCP | SRTP_CTX_PROTECT)) != 0) {
		seterr(err, errlen, "SRTP context flags %#x: need RTP and/or RTCP", flags);
		return -EINVAL;
	}
	return 0;
}

struct srtp_ctx *srtp_ctx_build(const struct rpa_dp_srtp *key, unsigned flags,
				uint32_t replay_window, const struct srtp_session_keys *rtp,
				const struct srtp_session_keys *rtcp, char *err, size_t errlen)
{
	const struct srtp_suite_info *si;
	struct srtp_ctx t, *c;
	int ret;

	ret = check_key(key, flags, &replay_window, err, errlen);
	if (ret != 0) {
		errno = -ret;
		return NULL;
	}
	si = &suites[key->suite];
	memset(&t, 0, sizeof(t));
	t.suite = key->suite;
	t.aead = si->aead;
	t.kinds = (uint8_t)(flags & (SRTP_KIND_RTP | SRTP_KIND_RTCP));
	t.protect = (flags & SRTP_CTX_PROTECT) != 0;
	t.key_len = si->key_len;
	t.tag_len = si->tag_len;
	t.rtcp_tag_len = si->aead ? SRTP_GCM_TAG : 10; /* RFC 3711 §5.2: SRTCP tag 80 bits */
	t.mki_len = key->mki_len;
	memcpy(t.mki, key->mki, key->mki_len);
	t.window = replay_window;
	if (t.kinds & SRTP_KIND_RTP)
		ret = install(&t, &t.rtp, rtp);
	if (ret == 0 && (t.kinds & SRTP_KIND_RTCP))
		ret = install(&t, &t.rtcp, rtcp);
	c = ret == 0 ? rte_cryptodev_sym_session_get_user_data(home_sess(&t)) : NULL;
	if (c == NULL) {
		seterr(err, errlen, "%s: no cryptodev session memory",
		       rpa_dp_srtp_suite_name(key->suite));
		ctx_free(&t);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(c, &t, sizeof(*c));
	explicit_bzero(&t, sizeof(t));
	return c;
}

struct srtp_ctx *srtp_ctx_create(const struct rpa_dp_srtp *key, unsigned flags,
				 uint32_t replay_window, char *err, size_t errlen)
{
	struct srtp_session_keys k[2];
	struct srtp_ctx *c = NULL;
	int ret;

	ret = check_key(key, flags, &replay_window, err, errlen);
	if (ret != 0) {
		errno = -ret;
		return NULL;
	}
	memset(k, 0, sizeof(k));
	if (flags & SRTP_KIND_RTP)
		ret = derive(key, suites[key->suite].aead, 0x00, &k[0]);
	if (ret == 0 && (flags & SRTP_KIND_RTCP))
		ret = derive(key, suites[key->suite].aead, 0x03, &k[1]);
	if (ret == 0)
		c = srtp_ctx_build(key, flags, replay_window, &k[0], &k[1], err, errlen);
	else
		seterr(err, errlen, "%s: key derivation failed in cryptodev %s",
		       rpa_dp_srtp_suite_name(key->suite), srtp_engine.name);
	explicit_bzero(k, sizeof(k));
	if (ret != 0)
		errno = -ret;
	return c;
}

void srtp_ctx_destroy(struct srtp_ctx *ctx)
{
	if (ctx == NULL)
		return;
	/* Requests naming this context were queued before its grace period ended: serve
	 * them now so none outlives it. */
	srtp_engine_service();
	ctx_free(ctx);
}

static uint32_t now_ms(void)
{
	return (uint32_t)(rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000));
}

/* The slot a request for `len` may take: an empty one, else the FAILED slot filled longest
 * ago, else a FRESH one past SRTP_SLOT_FRESH_MS (its packet is taken as lost). -1: the
 * length has a slot already, or every slot is CONFIRMED or FRESH. *seen: the slot's word. */
static int pick_slot(const struct srtp_cold *cold, uint16_t len, uint32_t now, uint64_t *seen)
{
	int empty = -1, failed = -1, stale = -1, i;

	for (i = 0; i < (int)SRTP_AAD_SLOTS; i++) {
		uint64_t v = __atomic_load_n(&cold->aad[i], __ATOMIC_RELAXED);
		uint32_t age = now - cold->aad_born[i];

		if (v == 0) {
			if (empty < 0)
				empty = i;
			continue;
		}
		if (srtp_slot_len(v) == len)
			return -1;
		switch (v & SRTP_SLOT_STATE) {
		case SRTP_SLOT_FAILED:
			if (failed < 0 || age > now - cold->aad_born[failed])
				failed = i;
			break;
		case SRTP_SLOT_FRESH:
			if (age >= SRTP_SLOT_FRESH_MS &&
			    (stale < 0 || age > now - cold->aad_born[stale]))
				stale = i;
			break;
		default:
			break;
		}
	}
	i = empty >= 0 ? empty : failed >= 0 ? failed : stale;
	if (i >= 0)
		*seen = __atomic_load_n(&cold->aad[i], __ATOMIC_RELAXED);
	return i;
}

/* A request: a session for the AAD length in a slot (see struct srtp_cold). A slot another
 * packet holds is replaced only while the replaced session has room to wait in limbo. */
static void serve(const struct srtp_req *r)
{
	const struct srtp_ctx *c = r->ctx;
	const struct srtp_keys *k = r->rtcp ? &c->rtcp : &c->rtp;
	struct srtp_cold *cold;
	uint32_t now = now_ms();
	uint64_t seen = 0, word = 0;
	void *s = NULL;
	int slot;

	if (k->sess == NULL || !c->aead)
		return;
	cold = srtp_cold_of(k->sess);
	/* A worker may move the chosen slot's state meanwhile (the swap then fails): look
	 * again, a few times at most. */
	for (unsigned tries = 0; tries < 2 * SRTP_AAD_SLOTS; tries++) {
		slot = pick_slot(cold, r->aad_len, now, &seen);
		if (slot < 0 || (seen != 0 && limbo.tail - limbo.head >= SRTP_LIMBO))
			break;
		if (s == NULL) {
			s = make_session(c, cold->key, NULL, r->aad_len);
			if (s == NULL)
				return;
			word = srtp_slot_make(s, r->aad_len);
			if (srtp_slot_sess(word) != s || srtp_slot_len(word) != r->aad_len)
				break; /* not representable in a slot word: never seen here */
		}
		/* Release: a worker that loads the word sees the session built. */
		if (__atomic_compare_exchange_n(&cold->aad[slot], &seen, word, false,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
			cold->aad_born[slot] = now;
			if (seen != 0)
				limbo.sess[limbo.tail++ % SRTP_LIMBO] = srtp_slot_sess(seen);
			return;
		}
	}
	if (s != NULL)
		rte_cryptodev_sym_session_free(srtp_engine.dev, s);
}

unsigned srtp_engine_service(void)
{
	struct srtp_req r;
	unsigned n = 0;

	for (unsigned i = 0; i < srtp_engine.nworkers; i++) {
		if (srtp_engine.req[i] == NULL)
			continue;
		while (rte_ring_dequeue_elem(srtp_engine.req[i], &r, sizeof(r)) == 0) {
			serve(&r);
			n++;
		}
	}
	return n;
}

unsigned srtp_engine_retired(void)
{
	unsigned n = limbo.tail - limbo.mark;

	limbo.mark = limbo.tail;
	return n;
}

void srtp_engine_release(unsigned n)
{
	if (!srtp_engine.up)
		return; /* srtp_engine_fini freed them */
	RTE_VERIFY(n <= limbo.mark - limbo.head);
	for (; n > 0; n--) {
		void **p = &limbo.sess[limbo.head++ % SRTP_LIMBO];

		rte_cryptodev_sym_session_free(srtp_engine.dev, *p);
		*p = NULL;
	}
}

/* ---- states ---- */

struct srtp_state *srtp_state_create(const struct srtp_ctx *ctx, int socket_id)
{
	uint32_t words = ctx->protect ? 0 : srtp_window_size(ctx->window) / 64;
	uint32_t nmaps = ((ctx->kinds & SRTP_KIND_RTP) != 0) + ((ctx->kinds & SRTP_KIND_RTCP) != 0);
	size_t size = sizeof(struct srtp_state) + (size_t)words * nmaps * sizeof(uint64_t);
	struct srtp_sess_ud *ud = ud_of(ctx);
	struct srtp_state *st;
	uint8_t flags = 0;
	void *obj;

	if (words * nmaps <= SRTP_STATE_SMALL_WORDS && !ud->cold.slot_used) {
		st = (struct srtp_state *)(void *)ud->slot;
		ud->cold.slot_used = 1;
		flags = SRTP_ST_EMBEDDED;
	} else if (words * nmaps <= SRTP_STATE_SMALL_WORDS) {
		if (rte_mempool_get(srtp_engine.state_pool, &obj) != 0) {
			errno = ENOSPC;
			return NULL;
		}
		st = obj;
		flags = SRTP_ST_POOLED;
	} else {
		st = rte_malloc_socket("srtp_state", size, RTE_CACHE_LINE_SIZE, socket_id);
		if (st == NULL) {
			errno = ENOMEM;
			return NULL;
		}
	}
	memset(st, 0, size);
	st->flags = flags;
	st->window = ctx->window;
	st->words = (uint16_t)words;
	st->kinds = ctx->kinds;
	return st;
}

void srtp_state_destroy(struct srtp_state *st)
{
	struct srtp_sess_ud *ud;

	if (st == NULL)
		return;
	if (st->flags & SRTP_ST_POOLED) {
		rte_mempool_put(srtp_engine.state_pool, st);
	} else if (st->flags & SRTP_ST_EMBEDDED) {
		/* A context destroyed first (kinds 0) left its home session to this state. */
		ud = (struct srtp_sess_ud *)(void *)((uint8_t *)st -
						     offsetof(struct srtp_sess_ud, slot));
		explicit_bzero(st, sizeof(ud->slot));
		ud->cold.slot_used = 0;
		if (ud->ctx.kinds == 0)
			rte_cryptodev_sym_session_free(srtp_engine.dev,
						       (uint8_t *)ud - srtp_engine.sess_end);
	} else {
		rte_free(st);
	}
}

bool srtp_state_fits(const struct srtp_state *st, const struct srtp_ctx *ctx)
{
	return st->window == ctx->window && (st->kinds & ctx->kinds) == ctx->kinds &&
	       (st->words == 0) == (ctx->protect != 0);
}

/* ---- reports ---- */

static unsigned aad_count(void *sess)
{
	const struct srtp_cold *cold;
	unsigned n = 0;

	if (sess == NULL)
		return 0;
	cold = srtp_cold_of(sess);
	for (unsigned i = 0; i < SRTP_AAD_SLOTS; i++)
		n += __atomic_load_n(&cold->aad[i], __ATOMIC_RELAXED) != 0;
	return n + 1;
}

size_t srtp_ctx_bytes(const struct srtp_ctx *ctx)
{
	/* The context itself, and its first state, are part of its home session object. */
	return (size_t)srtp_engine.sess_elt *
	       (aad_count(ctx->rtp.sess) + aad_count(ctx->rtcp.sess));
}

static size_t pool_bytes(struct rte_mempool *mp)
{
	size_t total = 0;

	if (mp != NULL)
		rte_mempool_mem_iter(mp, chunk_len, &total);
	return total;
}

size_t srtp_engine_bytes(void)
{
	const struct srtp_engine *e = &srtp_engine;

	return pool_bytes(e->sess_pool) + pool_bytes(e->kdf_sess_pool) + pool_bytes(e->op_pool) +
	       pool_bytes(e->state_pool) + pool_bytes(e->kdf_pool);
}

size_t srtp_engine_session_bytes(void)
{
	return srtp_engine.sess_elt;
}

size_t srtp_state_bytes(const struct srtp_state *st)
{
	uint32_t nmaps = ((st->kinds & SRTP_KIND_RTP) != 0) + ((st->kinds & SRTP_KIND_RTCP) != 0);

	if (st->flags & SRTP_ST_EMBEDDED)
		return 0;
	if (st->flags & SRTP_ST_POOLED)
		return srtp_engine.state_elt;
	/* rte_malloc: the size rounded to a cache line plus one line of element header. */
	return RTE_ALIGN_CEIL(sizeof(*st) + (size_t)st->words * nmaps * 8, RTE_CACHE_LINE_SIZE) +
	       RTE_CACHE_LINE_SIZE;
}

const char *srtp_verdict_name(enum srtp_verdict v)
{
	static const char *const names[SRTP_VERDICT_MAX] = {
	    [SRTP_OK] = "ok",
	    [SRTP_AUTH_FAIL] = "auth-fail",
	    [SRTP_REPLAY] = "replay",
	    [SRTP_TOO_OLD] = "too-old",
	    [SRTP_MALFORMED] = "malformed",
	    [SRTP_BAD_MKI] = "bad-mki",
	    [SRTP_NO_ROOM] = "no-room",
	    [SRTP_LIMIT] = "limit",
	    [SRTP_CRYPTO_ERR] = "crypto-error",
	    [SRTP_PENDING] = "pending",
	};

	return (unsigned)v < SRTP_VERDICT_MAX ? names[v] : "?";
}
