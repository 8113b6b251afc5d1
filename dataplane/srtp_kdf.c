/* SRTP key derivation (RFC 3711 §4.3.1, key derivation rate 0; RFC 6188 §3 for AES-256;
 * RFC 7714 §11 for AEAD GCM) through the cryptodev, and the main lcore's synchronous
 * crypto batches. Main lcore only. */
#include <errno.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_mbuf.h>

#include "srtp_priv.h"

#define SRTP_MAIN_POLLS 10000000u /* dequeue polls before a batch counts as lost */

int srtp_main_run(struct rte_crypto_op **ops, unsigned n)
{
	struct rte_crypto_op *done[SRTP_BURST_MAX];
	unsigned enq, deq = 0, polls = 0, i;

	enq = rte_cryptodev_enqueue_burst(srtp_engine.dev, srtp_engine.main_qp, ops, n);
	while (deq < enq && polls++ < SRTP_MAIN_POLLS)
		deq += rte_cryptodev_dequeue_burst(srtp_engine.dev, srtp_engine.main_qp, done + deq,
						   enq - deq);
	if (enq != n || deq != enq)
		return -EIO;
	for (i = 0; i < n; i++)
		if (ops[i]->status != RTE_CRYPTO_OP_STATUS_SUCCESS)
			return -EIO;
	return 0;
}

/* x = key_id XOR master_salt with key_id = label || r (r = 0 for rate 0) right-aligned in
 * 112 bits: the label lands on byte 7. A 96-bit GCM salt is the first 12 of 14 bytes, the
 * last two zero (RFC 7714 §11 runs the AES-CM PRF on it unchanged; libsrtp agrees). The
 * counter block is x * 2^16. */
int srtp_kdf(const uint8_t *master_key, unsigned key_len, const uint8_t *master_salt,
	     unsigned salt_len, const uint8_t *label, uint8_t *const *out, const unsigned *len,
	     unsigned n)
{
	struct rte_crypto_sym_xform x = {
	    .type = RTE_CRYPTO_SYM_XFORM_CIPHER,
	    .cipher = {.op = RTE_CRYPTO_CIPHER_OP_ENCRYPT,
		       .algo = RTE_CRYPTO_CIPHER_AES_CTR,
		       .key = {.data = master_key, .length = (uint16_t)key_len},
		       .iv = {.offset = SRTP_IV_OFFSET, .length = 16}},
	};
	struct rte_crypto_op *ops[3] = {NULL, NULL, NULL};
	struct rte_mbuf *m[3] = {NULL, NULL, NULL};
	void *sess;
	unsigned i;
	int ret = -ENOMEM;

	if (n == 0 || n > 3 || salt_len > 14)
		return -EINVAL;
	sess = rte_cryptodev_sym_session_create(srtp_engine.dev, &x, srtp_engine.kdf_sess_pool);
	if (sess == NULL)
		return -ENOMEM;
	if (rte_crypto_op_bulk_alloc(srtp_engine.op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ops, n) !=
	    n)
		goto out;
	if (rte_pktmbuf_alloc_bulk(srtp_engine.kdf_pool, m, n) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		uint8_t *iv = rte_crypto_op_ctod_offset(ops[i], uint8_t *, SRTP_IV_OFFSET);
		uint8_t *d;

		if (len[i] > 32) {
			ret = -EINVAL;
			goto out;
		}
		d = (uint8_t *)rte_pktmbuf_append(m[i], 32);
		if (d == NULL)
			goto out;
		memset(d, 0, 32);
		memset(iv, 0, 16);
		memcpy(iv, master_salt, salt_len);
		iv[7] ^= label[i];
		rte_crypto_op_attach_sym_session(ops[i], sess);
		ops[i]->sym->m_src = m[i];
		ops[i]->sym->cipher.data.offset = 0;
		ops[i]->sym->cipher.data.length = len[i];
	}
	ret = srtp_main_run(ops, n);
	for (i = 0; i < n && ret == 0; i++)
		memcpy(out[i], rte_pktmbuf_mtod(m[i], uint8_t *), len[i]);
out:
	for (i = 0; i < n; i++) {
		if (m[i] != NULL) {
			if (m[i]->data_len)
				explicit_bzero(rte_pktmbuf_mtod(m[i], void *), m[i]->data_len);
			rte_pktmbuf_free(m[i]);
		}
		if (ops[i] != NULL) {
			explicit_bzero(rte_crypto_op_ctod_offset(ops[i], uint8_t *, SRTP_IV_OFFSET),
				       16);
			rte_crypto_op_free(ops[i]);
		}
	}
	rte_cryptodev_sym_session_free(srtp_engine.dev, sess);
	return ret;
}
