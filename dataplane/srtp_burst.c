/* HOT. The SRTP/SRTCP transforms over bursts of mbufs (RFC 3711 §3-4, RFC 7714 §7-9):
 * parse and check each packet, build one cryptodev op per packet, run the whole burst
 * through the worker's queue pair in one enqueue/dequeue, then verify, replay-check and
 * commit in burst order. Runs on the worker that owns the streams of the burst: no
 * syscall, no allocation, no lock, no log.
 *
 * Packet layouts (MKI optional, 0..4 bytes):
 *   SRTP  AES-CM: header | payload (encrypted)        | MKI | tag (10 or 4)
 *   SRTP  GCM:    header | payload (encrypted) | tag 16 | MKI
 *   SRTCP AES-CM: header (8) | rest (encrypted if E)   | E+index | MKI | tag (10)
 *   SRTCP GCM:    header (8) | rest (encrypted) | tag 16 | E+index | MKI
 * The SRTP header is 12 bytes plus 4 per CSRC plus any header extension (X bit); the
 * payload, including RTP padding, starts after it.
 *
 * Why enqueue/dequeue and not the synchronous CPU-crypto API: rte_cryptodev_sym_cpu_crypto_
 * process takes one session per call, and a burst mixes streams, so it becomes one call
 * per packet and crypto_aesni_mb flushes its multi-buffer HMAC lanes after each. Measured
 * on this project's 2-vCPU machine (rtpanchor-bench-srtp --compare-apis, 1000 sessions,
 * 172-byte packets, bursts of 32, median burst of 5 runs): AES-128-CTR + HMAC-SHA1
 * 339-408 cycles/packet enqueue/dequeue against 1694-1740 CPU-crypto; AES-128-GCM 178-232
 * against 201-234. One API for all suites: enqueue/dequeue.
 *
 * Why one hash-then-cipher job for AES-CM unprotect, not an HMAC job and a decrypt job:
 * two passes measured 552 cycles/packet of cryptodev time against 380 for the chain (1000
 * sessions, same set-up), which alone would miss the 500-cycle budget. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cryptodev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "srtp_priv.h"

#define SRTP_DEQ_POLLS 1000000u /* dequeue polls before ops count as lost */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, 4);
}

/* XOR v, big-endian, into p[0..4) or p[0..8). */
static inline void xor_be32(uint8_t *p, uint32_t v)
{
	uint32_t x;

	memcpy(&x, p, 4);
	x ^= rte_cpu_to_be_32(v);
	memcpy(p, &x, 4);
}

static inline void xor_be64(uint8_t *p, uint64_t v)
{
	uint64_t x;

	memcpy(&x, p, 8);
	x ^= rte_cpu_to_be_64(v);
	memcpy(p, &x, 8);
}

/* Copy a tag or MKI: the usual lengths as fixed-size copies (no library call). */
static inline void copy_short(uint8_t *dst, const uint8_t *src, unsigned n)
{
	switch (n) {
	case 0:
		break;
	case 4:
		memcpy(dst, src, 4);
		break;
	case 10:
		memcpy(dst, src, 10);
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	default:
		memcpy(dst, src, n);
		break;
	}
}

/* RTP header length if the header is well formed and ends within `avail` bytes, else 0. */
static inline uint32_t rtp_hlen(const uint8_t *p, uint32_t avail)
{
	uint32_t h;

	if (avail < 12 || (p[0] & 0xc0) != 0x80)
		return 0;
	h = 12 + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (h + 4 > avail)
			return 0;
		h += 4 + 4u * rd16(p + h + 2);
	}
	return h <= avail ? h : 0;
}

/* Tags are compared without an early exit, so the time taken does not tell an attacker
 * how many leading bytes of a forged tag were right. */
static inline int tag_differs(const uint8_t *a, const uint8_t *b, unsigned n)
{
	uint64_t d = 0;
	unsigned i = 0;

	for (; i + 4 <= n; i += 4) {
		uint32_t x, y;

		memcpy(&x, a + i, 4);
		memcpy(&y, b + i, 4);
		d |= x ^ y;
		/* Keep the compiler from turning the sum into an early exit. */
		__asm__ volatile("" : "+r"(d));
	}
	for (; i < n; i++) {
		d |= (uint64_t)(a[i] ^ b[i]);
		__asm__ volatile("" : "+r"(d));
	}
	return d != 0;
}

/* AES-CM counter block (RFC 3711 §4.1.1): salt * 2^16 XOR SSRC * 2^64 XOR index * 2^16. */
static inline void cm_iv(uint8_t *iv, const uint8_t *salt, uint32_t ssrc, uint64_t index)
{
	memcpy(iv, salt, 14);
	iv[14] = 0;
	iv[15] = 0;
	xor_be32(iv + 4, ssrc);
	xor_be64(iv + 8, index << 16); /* 48-bit index, then the block counter's 16 zero bits */
}

/* AEAD IV (RFC 7714 §8.1, §9.1): 00 00 || SSRC || ROC || SEQ, or 00 00 || SSRC || 00 00 ||
 * SRTCP index, XOR the 96-bit salt. The 48-bit RTP index is ROC || SEQ. */
static inline void gcm_iv(uint8_t *iv, const uint8_t *salt, uint32_t ssrc, uint64_t index)
{
	memcpy(iv, salt, 12);
	xor_be32(iv + 2, ssrc);
	xor_be64(iv + 4, index); /* bytes 4-5 of the 48-bit index's 64 are zero */
}

static inline uint64_t *rtp_map(struct srtp_state *st)
{
	return st->map;
}

static inline uint64_t *rtcp_map(struct srtp_state *st)
{
	return st->map + ((st->kinds & SRTP_KIND_RTP) ? st->words : 0);
}

/* The cold part of a context's kind: in the context's own session (next-but-one line), or
 * for RTCP on a multiplexed context in the RTCP session's user data. Its slot words are
 * the one part workers write (struct srtp_cold). */
static inline struct srtp_cold *cold_of(const struct srtp_ctx *c, bool rtcp)
{
	if (!rtcp || !(c->kinds & SRTP_KIND_RTP))
		return &((struct srtp_sess_ud *)(uintptr_t)c)->cold;
	return srtp_cold_of(c->rtcp.sess);
}

/* The AEAD session for a length other than SRTP_AAD_STD: the one in the slot for that
 * length (struct srtp_cold); a slot not yet CONFIRMED is noted for op `opi`, whose outcome
 * settles it (slots_settle). NULL: none yet (*pending set when a request was queued: a
 * slot is empty or not CONFIRMED) or every slot holds another CONFIRMED length. Out of
 * line: the usual header never comes here. */
static __rte_noinline void *aead_slot(struct srtp_worker *w, const struct srtp_ctx *c, bool rtcp,
				      uint32_t aad_len, unsigned opi, bool *pending)
{
	struct srtp_cold *cold = cold_of(c, rtcp);
	struct srtp_req r;
	bool room = false;

	for (unsigned i = 0; i < SRTP_AAD_SLOTS; i++) {
		/* Acquire: the session the word names is built. */
		uint64_t v = __atomic_load_n(&cold->aad[i], __ATOMIC_ACQUIRE);

		if (v != 0 && srtp_slot_len(v) == aad_len) {
			if ((v & SRTP_SLOT_STATE) != SRTP_SLOT_CONFIRMED) {
				struct srtp_slot_use *u = &w->slot_use[w->nslot++];

				u->slot = &cold->aad[i];
				u->seen = v;
				u->opi = (uint8_t)opi;
			}
			return srtp_slot_sess(v);
		}
		if ((v & SRTP_SLOT_STATE) != SRTP_SLOT_CONFIRMED)
			room = true;
	}
	if (room && aad_len <= UINT16_MAX) {
		r.ctx = c;
		r.aad_len = (uint16_t)aad_len;
		r.rtcp = rtcp;
		memset(r.pad, 0, sizeof(r.pad));
		/* A full ring still means the request is on its way (duplicates are). */
		(void)rte_ring_enqueue_elem(w->req, &r, sizeof(r));
		*pending = true;
	}
	return NULL;
}

/* The AEAD session for `aad_len` bytes of AAD: the context's own for SRTP_AAD_STD, else
 * aead_slot's. */
static inline void *aead_sess(struct srtp_worker *w, const struct srtp_ctx *c, bool rtcp,
			      uint32_t aad_len, unsigned opi, bool *pending)
{
	*pending = false;
	if (likely(aad_len == SRTP_AAD_STD))
		return rtcp ? c->rtcp.sess : c->rtp.sess;
	return aead_slot(w, c, rtcp, aad_len, opi, pending);
}

/* A packet the replay window refused before its AEAD session was looked up. If its header
 * length has a FRESH slot, the packet that asked for it may be this one, back from the slow
 * path: it will not use the session, so the slot counts as FAILED (else packets that the
 * window refuses by the time they come back could hold slots FRESH). Returns v. */
static __rte_noinline enum srtp_verdict window_refused(const struct srtp_ctx *c, bool rtcp,
						       uint32_t aad_len, enum srtp_verdict v)
{
	struct srtp_cold *cold;

	if (!c->aead || aad_len == SRTP_AAD_STD)
		return v;
	cold = cold_of(c, rtcp);
	for (unsigned i = 0; i < SRTP_AAD_SLOTS; i++) {
		uint64_t s = __atomic_load_n(&cold->aad[i], __ATOMIC_RELAXED);

		if (s != 0 && srtp_slot_len(s) == aad_len &&
		    (s & SRTP_SLOT_STATE) == SRTP_SLOT_FRESH)
			(void)__atomic_compare_exchange_n(&cold->aad[i], &s, s | SRTP_SLOT_FAILED,
							  false, __ATOMIC_RELAXED,
							  __ATOMIC_RELAXED);
	}
	return v;
}

/* After a burst's crypto, for the ops noted by aead_sess: an op that succeeded (the tag
 * verified; protect: the packet was protected) makes its slot CONFIRMED, one whose tag did
 * not verify makes a FRESH slot FAILED. A slot replaced meanwhile (the main lcore swapped
 * in another word) is left alone; its old session lives until this worker is quiescent. */
static __rte_noinline void slots_settle(struct srtp_worker *w)
{
	for (unsigned i = 0; i < w->nslot; i++) {
		const struct srtp_slot_use *u = &w->slot_use[i];
		uint8_t status = w->ops[u->opi]->status;
		uint64_t want, cur;

		if (status == RTE_CRYPTO_OP_STATUS_SUCCESS)
			want = SRTP_SLOT_CONFIRMED;
		else if (status == RTE_CRYPTO_OP_STATUS_AUTH_FAILED)
			want = SRTP_SLOT_FAILED;
		else
			continue;
		cur = __atomic_load_n(u->slot, __ATOMIC_RELAXED);
		/* Forward only: FRESH -> FAILED -> CONFIRMED, FRESH -> CONFIRMED. */
		while ((cur & ~SRTP_SLOT_STATE) == (u->seen & ~SRTP_SLOT_STATE) &&
		       (cur & SRTP_SLOT_STATE) < want &&
		       !__atomic_compare_exchange_n(u->slot, &cur, (cur & ~SRTP_SLOT_STATE) | want,
						    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	w->nslot = 0;
}

static inline struct rte_crypto_op *op_start(struct srtp_worker *w, unsigned opi, void *sess,
					     struct rte_mbuf *m)
{
	struct rte_crypto_op *op = w->ops[opi];

	op->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
	rte_crypto_op_attach_sym_session(op, sess);
	op->sym->m_src = m;
	op->sym->m_dst = NULL;
	return op;
}

static inline void op_chain(struct rte_crypto_op *op, uint32_t coff, uint32_t clen, uint32_t aoff,
			    uint32_t alen, struct srtp_worker *w, unsigned opi)
{
	op->sym->cipher.data.offset = coff;
	op->sym->cipher.data.length = clen;
	op->sym->auth.data.offset = aoff;
	op->sym->auth.data.length = alen;
	op->sym->auth.digest.data = w->scratch[opi].digest;
	op->sym->auth.digest.phys_addr = w->scratch_iova + opi * sizeof(struct srtp_scratch) +
					 offsetof(struct srtp_scratch, digest);
}

static inline void op_aead(struct rte_crypto_op *op, struct rte_mbuf *m, uint32_t doff,
			   uint32_t dlen, uint8_t *digest, rte_iova_t digest_iova, uint8_t *aad,
			   rte_iova_t aad_iova)
{
	op->sym->aead.data.offset = doff;
	op->sym->aead.data.length = dlen;
	op->sym->aead.digest.data = digest;
	op->sym->aead.digest.phys_addr = digest_iova;
	op->sym->aead.aad.data = aad;
	op->sym->aead.aad.phys_addr = aad_iova;
	RTE_SET_USED(m);
}

static inline rte_iova_t scratch_iova(const struct srtp_worker *w, unsigned opi, size_t field)
{
	return w->scratch_iova + opi * sizeof(struct srtp_scratch) + field;
}

static inline uint8_t *op_iv(struct rte_crypto_op *op)
{
	return rte_crypto_op_ctod_offset(op, uint8_t *, SRTP_IV_OFFSET);
}

/* Run ops[0..n) through the worker's queue pair; statuses end up in the ops. */
static void run_ops(struct srtp_worker *w, unsigned n)
{
	unsigned enq, deq = 0, polls = 0;

	if (n == 0)
		return;
	enq = rte_cryptodev_enqueue_burst(w->dev, w->qp, w->ops, (uint16_t)n);
	while (deq < enq && polls++ < SRTP_DEQ_POLLS)
		deq +=
		    rte_cryptodev_dequeue_burst(w->dev, w->qp, w->deq + deq, (uint16_t)(enq - deq));
	if (unlikely(deq < enq))
		w->stuck++;
}

/* Prefetching: a burst takes streams in any order, so with many streams each packet's
 * context, state and cryptodev session lines are cache misses, and with 4 KiB pages one or
 * two TLB misses (a session object holds the context and the stream's first state; 2 MB
 * pages measured no faster at 100k streams, so the line misses are what costs). They are
 * fetched for the whole burst before any is
 * used, so that the misses overlap: the context and state lines, which the burst reads
 * first, into L1; the session lines the PMD reads (struct srtp_engine.pf: 9 of a session's
 * 23 lines for AES-CM, 8 for AES-GCM on a 172-byte packet with crypto_aesni_mb) into L2,
 * which keeps more misses in flight (prefetcht1 measured 4-6% fewer cycles per packet at
 * 100k streams than prefetcht0 for these lines). Measured here, the misses cost the same
 * whether they are issued at the start of the burst or a burst ahead, or interleaved with
 * the cryptodev's work in sub-bursts: the core's outstanding misses, not their latency,
 * bound it; fewer lines and fewer pages are what pays. Two interleavings measured worse at
 * 100k streams (rtpanchor-bench-srtp, median burst): session lines prefetched between
 * dequeues of 2-16 ops, 840-1118 cycles/packet against 664 (AES-CM protect: partial
 * dequeues also starve the PMD's 16 HMAC lanes); AEAD one packet at a time through the
 * CPU-crypto API with each packet's lines prefetched 2-16 packets ahead, 548-652 against
 * 434-447 (AES-GCM protect; equal only at 16 ahead, i.e. all up front). This machine's
 * memory explains it: a dependent random access costs ~1200 cycles with 4 KiB pages and
 * ~870 with 2 MB pages, and 16 independent streams of them ~60-80 cycles a line, so no
 * amount of AES work per packet (~180-330 cycles) covers a packet's ~10 lines. */
static inline void prefetch_lines(const uint8_t *s, uint64_t m)
{
	while (m != 0) {
		rte_prefetch1(s + (unsigned)__builtin_ctzll(m) * RTE_CACHE_LINE_SIZE);
		m &= m - 1;
	}
}

/* The session lines of packet `p` beyond those every profile has. */
static inline void prefetch_sess(const struct srtp_pkt *p)
{
	const struct srtp_ctx *c = p->ctx;
	const uint8_t *s = (const uint8_t *)(p->rtcp ? c->rtcp.sess : c->rtp.sess);
	uint64_t m;

	if (s == NULL)
		return;
	m = srtp_pf_lines(c, p->rtcp, p->len);
	if (!p->rtcp)
		m &= ~srtp_engine.pf_common;
	prefetch_lines(s, m);
}

/* First every context and state line, and for RTP packets the session lines all profiles
 * share (the RTP session is the one whose user data holds the context: its address needs
 * no load); then the rest, chosen by what the context says, by then mostly arrived. */
static inline void prefetch_burst(const struct srtp_pkt *p, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		rte_prefetch0(p[i].ctx);
		rte_prefetch0(p[i].st);
		if (!p[i].rtcp)
			prefetch_lines((const uint8_t *)p[i].ctx - srtp_engine.sess_end,
				       srtp_engine.pf_common);
	}
	for (i = 0; i < n; i++)
		prefetch_sess(&p[i]);
}

/* ---- unprotect ---- */

static inline enum srtp_verdict unprotect_rtp_prep(struct srtp_worker *w, struct srtp_pkt *pk,
						   struct srtp_pend *pd, unsigned opi)
{
	const struct srtp_ctx *c = pk->ctx;
	struct srtp_state *st = pk->st;
	struct rte_mbuf *m = pk->m;
	uint8_t *b = rte_pktmbuf_mtod_offset(m, uint8_t *, pk->off);
	uint32_t len = pk->len, trailer = (uint32_t)c->mki_len + c->tag_len, end, hlen, mkipos;
	struct rte_crypto_op *op;
	uint64_t index;
	uint32_t ssrc;
	void *sess;

	if (unlikely(!(c->kinds & SRTP_KIND_RTP)))
		return SRTP_MALFORMED;
	if (unlikely(len < trailer))
		return SRTP_MALFORMED;
	end = len - trailer;
	hlen = rtp_hlen(b, end);
	if (unlikely(hlen == 0))
		return SRTP_MALFORMED;
	mkipos = c->aead ? len - c->mki_len : end;
	if (c->mki_len && memcmp(b + mkipos, c->mki, c->mki_len) != 0)
		return SRTP_BAD_MKI;

	ssrc = rd32(b + 8);
	if (!(st->flags & SRTP_ST_RTP_STARTED) || st->rtp_ssrc != ssrc) {
		index = rd16(b + 2);
	} else {
		int64_t g = srtp_index_guess((uint32_t)(st->rtp_top >> 16), (uint16_t)st->rtp_top,
					     rd16(b + 2));

		if (g < 0)
			return window_refused(c, false, hlen, SRTP_TOO_OLD);
		index = (uint64_t)g;
		switch (srtp_window_check(st->rtp_top, true, st->window, st->words * 64u,
					  rtp_map(st), index)) {
		case SRTP_WIN_DUP:
			return window_refused(c, false, hlen, SRTP_REPLAY);
		case SRTP_WIN_OLD:
			return window_refused(c, false, hlen, SRTP_TOO_OLD);
		default:
			break;
		}
	}

	if (c->aead) {
		bool pending;

		sess = aead_sess(w, c, false, hlen, opi, &pending);
		if (sess == NULL)
			return pending ? SRTP_PENDING : SRTP_CRYPTO_ERR;
		op = op_start(w, opi, sess, m);
		op_aead(op, m, pk->off + hlen, end - hlen, b + end,
			rte_pktmbuf_iova_offset(m, pk->off + end), b,
			rte_pktmbuf_iova_offset(m, pk->off));
		gcm_iv(op_iv(op), c->rtp.salt, ssrc, index);
	} else {
		/* The authenticated message is header || ciphertext || ROC (§4.2): the ROC
		 * goes where MKI and tag were, once the tag is saved. */
		copy_short(w->scratch[opi].tag, b + end + c->mki_len, c->tag_len);
		wr32(b + end, (uint32_t)(index >> 16));
		op = op_start(w, opi, c->rtp.sess, m);
		op_chain(op, pk->off + hlen, end - hlen, pk->off, end + 4, w, opi);
		cm_iv(op_iv(op), c->rtp.salt, ssrc, index);
	}
	pd->index = index;
	pd->ssrc = ssrc;
	pd->newlen = (uint16_t)end;
	return SRTP_OK;
}

static inline enum srtp_verdict unprotect_rtcp_prep(struct srtp_worker *w, struct srtp_pkt *pk,
						    struct srtp_pend *pd, unsigned opi)
{
	const struct srtp_ctx *c = pk->ctx;
	struct srtp_state *st = pk->st;
	struct rte_mbuf *m = pk->m;
	uint8_t *b = rte_pktmbuf_mtod_offset(m, uint8_t *, pk->off);
	uint32_t len = pk->len, trailer = 4u + c->mki_len + c->rtcp_tag_len;
	uint32_t idxpos, mkipos, eidx, index, ssrc;
	struct rte_crypto_op *op;
	bool enc;

	if (unlikely(!(c->kinds & SRTP_KIND_RTCP)))
		return SRTP_MALFORMED;
	if (unlikely(len < 8 + trailer || (b[0] & 0xc0) != 0x80))
		return SRTP_MALFORMED;
	if (c->aead) {
		mkipos = len - c->mki_len;
		idxpos = mkipos - 4;
	} else {
		mkipos = len - c->rtcp_tag_len - c->mki_len;
		idxpos = mkipos - 4;
	}
	if (c->mki_len && memcmp(b + mkipos, c->mki, c->mki_len) != 0)
		return SRTP_BAD_MKI;
	eidx = rd32(b + idxpos);
	enc = (eidx >> 31) != 0;
	index = eidx & 0x7fffffffu;
	ssrc = rd32(b + 4);
	if ((st->flags & SRTP_ST_RTCP_STARTED) && st->rtcp_ssrc == ssrc) {
		/* The AAD of an unencrypted SRTCP packet: all of it, and E+index. */
		uint32_t aad = enc ? SRTP_AAD_STD : idxpos - SRTP_GCM_TAG + 4;

		switch (srtp_window_check(st->rtcp_top, true, st->window, st->words * 64u,
					  rtcp_map(st), index)) {
		case SRTP_WIN_DUP:
			return window_refused(c, true, aad, SRTP_REPLAY);
		case SRTP_WIN_OLD:
			return window_refused(c, true, aad, SRTP_TOO_OLD);
		default:
			break;
		}
	}

	if (c->aead) {
		uint32_t tagpos = idxpos - SRTP_GCM_TAG;
		struct srtp_scratch *sc = &w->scratch[opi];
		bool pending;
		void *sess;

		if (enc) {
			/* AAD = header || E+index (§9.1), gathered into scratch. */
			memcpy(sc->aad, b, 8);
			memcpy(sc->aad + 8, b + idxpos, 4);
			op = op_start(w, opi, c->rtcp.sess, m);
			op_aead(op, m, pk->off + 8, tagpos - 8, b + tagpos,
				rte_pktmbuf_iova_offset(m, pk->off + tagpos), sc->aad,
				scratch_iova(w, opi, offsetof(struct srtp_scratch, aad)));
		} else {
			/* Unencrypted SRTCP (§9.2): AAD = the whole packet || E+index. The tag
			 * sits between them on the wire: save it, pull the index over it. */
			sess = aead_sess(w, c, true, tagpos + 4, opi, &pending);
			if (sess == NULL)
				return pending ? SRTP_PENDING : SRTP_CRYPTO_ERR;
			memcpy(sc->tag, b + tagpos, SRTP_GCM_TAG);
			memmove(b + tagpos, b + idxpos, 4);
			op = op_start(w, opi, sess, m);
			op_aead(op, m, pk->off + tagpos + 4, 0, sc->tag,
				scratch_iova(w, opi, offsetof(struct srtp_scratch, tag)), b,
				rte_pktmbuf_iova_offset(m, pk->off));
		}
		gcm_iv(op_iv(op), c->rtcp.salt, ssrc, index);
		pd->newlen = (uint16_t)tagpos;
	} else {
		copy_short(w->scratch[opi].tag, b + mkipos + c->mki_len, c->rtcp_tag_len);
		op = op_start(w, opi, c->rtcp.sess, m);
		/* Authenticated: header, (encrypted) rest and E+index; decrypted only if E. */
		op_chain(op, pk->off + 8, enc ? idxpos - 8 : 0, pk->off, mkipos, w, opi);
		cm_iv(op_iv(op), c->rtcp.salt, ssrc, index);
		pd->newlen = (uint16_t)idxpos;
	}
	pd->index = index;
	pd->ssrc = ssrc;
	return SRTP_OK;
}

/* After the crypto: tag, then replay again (an earlier packet of this burst may have
 * taken the index), then commit. */
static inline enum srtp_verdict unprotect_finish(struct srtp_worker *w, struct srtp_pkt *pk,
						 struct srtp_pend *pd)
{
	const struct srtp_ctx *c = pk->ctx;
	struct srtp_state *st = pk->st;
	struct rte_crypto_op *op = w->ops[pd->opi];
	uint32_t size = st->words * 64u;

	if (c->aead) {
		if (op->status == RTE_CRYPTO_OP_STATUS_AUTH_FAILED)
			return SRTP_AUTH_FAIL;
		if (op->status != RTE_CRYPTO_OP_STATUS_SUCCESS)
			return SRTP_CRYPTO_ERR;
	} else {
		if (op->status != RTE_CRYPTO_OP_STATUS_SUCCESS)
			return SRTP_CRYPTO_ERR;
		if (tag_differs(w->scratch[pd->opi].digest, w->scratch[pd->opi].tag,
				pk->rtcp ? c->rtcp_tag_len : c->tag_len))
			return SRTP_AUTH_FAIL;
	}

	if (!pk->rtcp) {
		bool started = (st->flags & SRTP_ST_RTP_STARTED) && st->rtp_ssrc == pd->ssrc;

		if (started) {
			enum srtp_window_check k = srtp_window_check(st->rtp_top, true, st->window,
								     size, rtp_map(st), pd->index);

			if (k != SRTP_WIN_NEW)
				return k == SRTP_WIN_DUP ? SRTP_REPLAY : SRTP_TOO_OLD;
		}
		srtp_window_accept(&st->rtp_top, started, size, rtp_map(st), pd->index);
		st->rtp_ssrc = pd->ssrc;
		st->flags |= SRTP_ST_RTP_STARTED;
	} else {
		bool started = (st->flags & SRTP_ST_RTCP_STARTED) && st->rtcp_ssrc == pd->ssrc;

		if (started) {
			enum srtp_window_check k = srtp_window_check(st->rtcp_top, true, st->window,
								     size, rtcp_map(st), pd->index);

			if (k != SRTP_WIN_NEW)
				return k == SRTP_WIN_DUP ? SRTP_REPLAY : SRTP_TOO_OLD;
		}
		srtp_window_accept(&st->rtcp_top, started, size, rtcp_map(st), pd->index);
		st->rtcp_ssrc = pd->ssrc;
		st->flags |= SRTP_ST_RTCP_STARTED;
	}
	/* Single segment: the trailer comes off this one. */
	pk->m->data_len = (uint16_t)(pk->m->data_len - (pk->len - pd->newlen));
	pk->m->pkt_len -= (uint32_t)(pk->len - pd->newlen);
	pk->len = pd->newlen;
	return SRTP_OK;
}

/* ---- protect ---- */

static inline enum srtp_verdict protect_rtp_prep(struct srtp_worker *w, struct srtp_pkt *pk,
						 struct srtp_pend *pd, unsigned opi)
{
	const struct srtp_ctx *c = pk->ctx;
	struct srtp_state *st = pk->st;
	struct rte_mbuf *m = pk->m;
	uint8_t *b = rte_pktmbuf_mtod_offset(m, uint8_t *, pk->off);
	uint32_t len = pk->len, hlen, extra, ssrc;
	struct rte_crypto_op *op;
	void *sess = c->rtp.sess;
	uint64_t index;
	uint16_t seq;

	if (unlikely(!(c->kinds & SRTP_KIND_RTP)))
		return SRTP_MALFORMED;
	hlen = rtp_hlen(b, len);
	if (unlikely(hlen == 0))
		return SRTP_MALFORMED;
	extra = (uint32_t)c->mki_len + c->tag_len;
	if (unlikely(rte_pktmbuf_tailroom(m) < extra || len + extra > UINT16_MAX))
		return SRTP_NO_ROOM;
	if (c->aead) {
		bool pending;

		sess = aead_sess(w, c, false, hlen, opi, &pending);
		if (sess == NULL)
			return pending ? SRTP_PENDING : SRTP_CRYPTO_ERR;
	}

	/* The sender's index: the receiver's estimate applied to what we forward (§3.3.1),
	 * so both sides agree on the ROC; a new SSRC starts again at ROC 0. */
	seq = rd16(b + 2);
	ssrc = rd32(b + 8);
	if (!(st->flags & SRTP_ST_RTP_STARTED) || st->rtp_ssrc != ssrc) {
		index = seq;
		st->rtp_top = index;
		st->rtp_ssrc = ssrc;
		st->flags |= SRTP_ST_RTP_STARTED;
	} else {
		int64_t g =
		    srtp_index_guess((uint32_t)(st->rtp_top >> 16), (uint16_t)st->rtp_top, seq);

		index = g < 0 ? seq : (uint64_t)g;
		if (index > st->rtp_top)
			st->rtp_top = index;
	}

	m->data_len = (uint16_t)(m->data_len + extra); /* single segment, tailroom checked */
	m->pkt_len += extra;
	op = op_start(w, opi, sess, m);
	if (c->aead) {
		op_aead(op, m, pk->off + hlen, len - hlen, b + len,
			rte_pktmbuf_iova_offset(m, pk->off + len), b,
			rte_pktmbuf_iova_offset(m, pk->off));
		gcm_iv(op_iv(op), c->rtp.salt, ssrc, index);
		copy_short(b + len + SRTP_GCM_TAG, c->mki, c->mki_len);
	} else {
		wr32(b + len, (uint32_t)(index >> 16)); /* ROC, authenticated, then replaced */
		op_chain(op, pk->off + hlen, len - hlen, pk->off, len + 4, w, opi);
		cm_iv(op_iv(op), c->rtp.salt, ssrc, index);
	}
	pd->index = index;
	pd->newlen = (uint16_t)(len + extra);
	return SRTP_OK;
}

static inline enum srtp_verdict protect_rtcp_prep(struct srtp_worker *w, struct srtp_pkt *pk,
						  struct srtp_pend *pd, unsigned opi)
{
	const struct srtp_ctx *c = pk->ctx;
	struct srtp_state *st = pk->st;
	struct rte_mbuf *m = pk->m;
	uint8_t *b = rte_pktmbuf_mtod_offset(m, uint8_t *, pk->off);
	uint32_t len = pk->len, extra, ssrc, eidx;
	struct rte_crypto_op *op;
	uint64_t index;

	if (unlikely(!(c->kinds & SRTP_KIND_RTCP)))
		return SRTP_MALFORMED;
	if (unlikely(len < 8 || (b[0] & 0xc0) != 0x80))
		return SRTP_MALFORMED;
	extra = 4u + c->mki_len + c->rtcp_tag_len;
	if (unlikely(rte_pktmbuf_tailroom(m) < extra || len + extra > UINT16_MAX))
		return SRTP_NO_ROOM;
	/* RFC 3711 §3.4: the index starts at 0 and counts every packet sent with this key;
	 * at 2^31 the key is spent (§9.2). */
	index = (st->flags & SRTP_ST_RTCP_STARTED) ? st->rtcp_top + 1 : 0;
	if (unlikely(index > 0x7fffffffu))
		return SRTP_LIMIT;
	ssrc = rd32(b + 4);
	st->rtcp_top = index;
	st->rtcp_ssrc = ssrc;
	st->flags |= SRTP_ST_RTCP_STARTED;
	eidx = 0x80000000u | (uint32_t)index;

	m->data_len = (uint16_t)(m->data_len + extra); /* single segment, tailroom checked */
	m->pkt_len += extra;
	op = op_start(w, opi, c->rtcp.sess, m);
	if (c->aead) {
		struct srtp_scratch *sc = &w->scratch[opi];

		memcpy(sc->aad, b, 8);
		wr32(sc->aad + 8, eidx);
		op_aead(op, m, pk->off + 8, len - 8, b + len,
			rte_pktmbuf_iova_offset(m, pk->off + len), sc->aad,
			scratch_iova(w, opi, offsetof(struct srtp_scratch, aad)));
		gcm_iv(op_iv(op), c->rtcp.salt, ssrc, index);
		wr32(b + len + SRTP_GCM_TAG, eidx);
		copy_short(b + len + SRTP_GCM_TAG + 4, c->mki, c->mki_len);
	} else {
		wr32(b + len, eidx);
		op_chain(op, pk->off + 8, len - 8, pk->off, len + 4, w, opi);
		cm_iv(op_iv(op), c->rtcp.salt, ssrc, index);
	}
	pd->index = index;
	pd->newlen = (uint16_t)(len + extra);
	return SRTP_OK;
}

/* ---- both ---- */

/* A burst's first pass: each packet checked against its context and state and given its
 * op (numbered in burst order), or a verdict. `protect` is a constant at each call, so
 * each burst function gets its own copy with the other direction's branches gone. An
 * unprotect state must have a window (words > 0); either must serve the context's kinds. */
static inline __attribute__((always_inline)) unsigned
prep_burst(struct srtp_worker *w, struct srtp_pkt *p, unsigned n, bool protect)
{
	unsigned nops = 0;

	for (unsigned i = 0; i < n; i++) {
		struct srtp_pkt *pk = &p[i];
		struct srtp_pend *pd = &w->pend[i];
		enum srtp_verdict v;

		pd->op = 0;
		if (unlikely(pk->ctx->protect != protect || (!protect && pk->st->words == 0) ||
			     (pk->st->kinds & pk->ctx->kinds) != pk->ctx->kinds))
			v = SRTP_CRYPTO_ERR;
		else if (pk->rtcp)
			v = protect ? protect_rtcp_prep(w, pk, pd, nops)
				    : unprotect_rtcp_prep(w, pk, pd, nops);
		else
			v = protect ? protect_rtp_prep(w, pk, pd, nops)
				    : unprotect_rtp_prep(w, pk, pd, nops);
		if (v == SRTP_OK) {
			pd->op = 1;
			pd->opi = (uint8_t)nops++;
		}
		pk->verdict = (uint8_t)v;
	}
	return nops;
}

unsigned srtp_unprotect_burst(struct srtp_worker *w, struct srtp_pkt *p, unsigned n)
{
	unsigned ok = 0, i;

	prefetch_burst(p, n);
	run_ops(w, prep_burst(w, p, n, false));
	for (i = 0; i < n; i++) {
		if (!w->pend[i].op)
			continue;
		p[i].verdict = (uint8_t)unprotect_finish(w, &p[i], &w->pend[i]);
		ok += p[i].verdict == SRTP_OK;
	}
	if (unlikely(w->nslot != 0))
		slots_settle(w);
	return ok;
}

unsigned srtp_protect_burst(struct srtp_worker *w, struct srtp_pkt *p, unsigned n)
{
	unsigned ok = 0, i;

	prefetch_burst(p, n);
	run_ops(w, prep_burst(w, p, n, true));
	for (i = 0; i < n; i++) {
		struct srtp_pkt *pk = &p[i];
		struct srtp_pend *pd = &w->pend[i];
		const struct srtp_ctx *c = pk->ctx;
		uint8_t *b;

		if (!pd->op)
			continue;
		if (w->ops[pd->opi]->status != RTE_CRYPTO_OP_STATUS_SUCCESS) {
			pk->verdict = SRTP_CRYPTO_ERR;
			continue;
		}
		if (!c->aead) {
			/* MKI, then the tag: a prefix of the 96-bit HMAC output. */
			b = rte_pktmbuf_mtod_offset(pk->m, uint8_t *, pk->off);
			if (pk->rtcp) {
				copy_short(b + pk->len + 4, c->mki, c->mki_len);
				copy_short(b + pk->len + 4 + c->mki_len, w->scratch[pd->opi].digest,
					   c->rtcp_tag_len);
			} else {
				copy_short(b + pk->len, c->mki, c->mki_len);
				copy_short(b + pk->len + c->mki_len, w->scratch[pd->opi].digest,
					   c->tag_len);
			}
		}
		pk->len = pd->newlen;
		ok++;
	}
	if (unlikely(w->nslot != 0))
		slots_settle(w);
	return ok;
}
