/* SRTP engine against the RFC test vectors (RFC 3711 Appendix B.2 and B.3, RFC 7714 §16
 * and §17), and its refusals: bad keys, malformed packets, wrong MKI, no tailroom. Runs the
 * real cryptodev (crypto_aesni_mb) under a real EAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_srtp_fixture.h"

static struct rpa_dp_srtp suite_key(unsigned suite)
{
	struct rpa_dp_srtp k = {.suite = (uint8_t)suite};
	bool aead = suite >= RPA_DP_SRTP_AEAD_AES_128_GCM;
	bool k256 = suite == RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80 ||
		    suite == RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32 ||
		    suite == RPA_DP_SRTP_AEAD_AES_256_GCM;

	k.key_len = k256 ? 32 : 16;
	k.salt_len = aead ? 12 : 14;
	for (unsigned i = 0; i < sizeof(k.key); i++)
		k.key[i] = (uint8_t)(i * 7 + 1);
	for (unsigned i = 0; i < sizeof(k.salt); i++)
		k.salt[i] = (uint8_t)(0xa0 + i);
	return k;
}

/* RFC 3711 B.3: key derivation, labels 0 (cipher key), 1 (auth key), 2 (salt); and the
 * SRTCP labels 3-5 from the same master key, as libsrtp derives them. */
static void test_kdf_b3(void **unused)
{
	uint8_t mk[16], ms[14], enc[32], auth[32], salt[32], exp[32];
	uint8_t *out[3] = {enc, auth, salt};
	uint8_t l_rtp[3] = {0, 1, 2}, l_rtcp[3] = {3, 4, 5};
	unsigned len[3] = {16, 20, 14};

	fix_srtp_up();
	fix_hex("E1F97A0D3E018BE0D64FA32C06DE4139", mk);
	fix_hex("0EC675AD498AFEEBB6960B3AABE6", ms);
	assert_int_equal(srtp_kdf(mk, 16, ms, 14, l_rtp, out, len, 3), 0);
	fix_hex("C61E7A93744F39EE10734AFE3FF7A087", exp);
	assert_memory_equal(enc, exp, 16);
	fix_hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", exp);
	assert_memory_equal(auth, exp, 20);
	fix_hex("30CBBC08863D8C85D49DB34A9AE1", exp);
	assert_memory_equal(salt, exp, 14);

	assert_int_equal(srtp_kdf(mk, 16, ms, 14, l_rtcp, out, len, 3), 0);
	fix_hex("4c1aa45a81f73d61c800bbb00fbb1eaa", exp);
	assert_memory_equal(enc, exp, 16);
	fix_hex("8d54534feb49ae8e7993a6bd0b844fc323a93dfd", exp);
	assert_memory_equal(auth, exp, 20);
	fix_hex("9581c7ad87b3e530bf3e4454a8b3", exp);
	assert_memory_equal(salt, exp, 14);
}

/* RFC 3711 B.2: the AES-CM keystream for session key 2B7E..., salt F0F1...FD, SSRC 0,
 * index 0 is what encrypts a payload of zeros. Through the protect path itself. */
static void test_keystream_b2(void **unused)
{
	struct rpa_dp_srtp k = suite_key(RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	struct srtp_session_keys sk = {0};
	uint8_t pkt[12 + 48] = {0x80, 0x00}, out[FIX_PKTMAX], ks[48];
	struct srtp_ctx *c;
	struct srtp_state *st;
	unsigned olen;
	char err[128];

	fix_srtp_up();
	fix_hex("2B7E151628AED2A6ABF7158809CF4F3C", sk.enc);
	fix_hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", sk.salt);
	c = srtp_ctx_build(&k, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, &sk, &sk, err, sizeof(err));
	assert_non_null(c);
	st = srtp_state_create(c, -1);
	assert_non_null(st);
	assert_int_equal(fix_run(1, c, st, 0, pkt, sizeof(pkt), out, &olen), SRTP_OK);
	assert_int_equal(olen, sizeof(pkt) + 10);
	fix_hex("E03EAD0935C95E80E166B16DD92B4EB4"
		"D23513162B02D0F72A43A2FE4A5F97AB"
		"41E95B3BB0A2E8DD477901E4FCA894C0",
		ks);
	assert_memory_equal(out + 12, ks, 48);
	assert_memory_equal(out, pkt, 12);
	srtp_state_destroy(st);
	srtp_ctx_destroy(c);
}

struct gcm_vector {
	unsigned suite;
	const char *key, *plain, *prot;
	int rtcp;
	uint32_t index; /* SRTCP */
};

static const char GCM_SALT[] = "517569642070726f2071756f";
static const char RTP_PLAIN[] = "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e6973"
				"2064697669736120696e207061727465732074726573";
static const char RTCP_PLAIN[] = "81c8000d4d6172734e5450314e545032525450200000042a0000e930"
				 "4c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

static const struct gcm_vector gcm_vectors[] = {
    /* §16.1: AEAD_AES_128_GCM SRTP */
    {RPA_DP_SRTP_AEAD_AES_128_GCM, "000102030405060708090a0b0c0d0e0f", RTP_PLAIN,
     "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a"
     "51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce",
     0, 0},
    /* §17.1: AEAD_AES_256_GCM SRTP */
    {RPA_DP_SRTP_AEAD_AES_256_GCM,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", RTP_PLAIN,
     "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a02"
     "76ffae0f1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13",
     0, 0},
    /* §16.2: AEAD_AES_128_GCM SRTCP, index 0x5d4 */
    {RPA_DP_SRTP_AEAD_AES_128_GCM, "000102030405060708090a0b0c0d0e0f", RTCP_PLAIN,
     "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda"
     "4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4",
     1, 0x5d4},
    /* §17.2: AEAD_AES_256_GCM SRTCP, index 0x5d4 */
    {RPA_DP_SRTP_AEAD_AES_256_GCM,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", RTCP_PLAIN,
     "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be"
     "8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4",
     1, 0x5d4},
};

/* RFC 7714 §16-17: the vectors are stated for session keys, so the contexts are built
 * from them directly; protect must give the protected packet byte for byte, unprotect the
 * plain one, and a flipped bit anywhere must fail authentication. */
static void test_rfc7714(void **unused)
{
	fix_srtp_up();
	for (unsigned v = 0; v < sizeof(gcm_vectors) / sizeof(gcm_vectors[0]); v++) {
		const struct gcm_vector *g = &gcm_vectors[v];
		struct rpa_dp_srtp k = suite_key(g->suite);
		struct srtp_session_keys sk = {0};
		uint8_t plain[256], prot[256], out[FIX_PKTMAX];
		unsigned plen = fix_hex(g->plain, plain), qlen = fix_hex(g->prot, prot), olen = 0;
		unsigned kind = g->rtcp ? SRTP_KIND_RTCP : SRTP_KIND_RTP;
		struct srtp_ctx *tx, *rx;
		struct srtp_state *txs, *rxs;
		char err[128];

		fix_hex(g->key, sk.enc);
		fix_hex(GCM_SALT, sk.salt);
		tx = srtp_ctx_build(&k, kind | SRTP_CTX_PROTECT, 0, &sk, &sk, err, sizeof(err));
		rx = srtp_ctx_build(&k, kind, 0, &sk, &sk, err, sizeof(err));
		assert_non_null(tx);
		assert_non_null(rx);
		txs = srtp_state_create(tx, -1);
		rxs = srtp_state_create(rx, -1);
		if (g->rtcp) {
			/* The next SRTCP index the sender uses is g->index. */
			txs->rtcp_top = g->index - 1;
			txs->flags |= SRTP_ST_RTCP_STARTED;
		}
		assert_int_equal(fix_run(1, tx, txs, g->rtcp, plain, plen, out, &olen), SRTP_OK);
		assert_int_equal(olen, qlen);
		assert_memory_equal(out, prot, qlen);

		assert_int_equal(fix_run(0, rx, rxs, g->rtcp, prot, qlen, out, &olen), SRTP_OK);
		assert_int_equal(olen, plen);
		assert_memory_equal(out, plain, plen);
		/* The same packet again is a replay. */
		assert_int_equal(fix_run(0, rx, rxs, g->rtcp, prot, qlen, out, &olen), SRTP_REPLAY);

		for (unsigned bit = 0; bit < qlen * 8; bit += 7) {
			struct srtp_state *fresh = srtp_state_create(rx, -1);
			enum srtp_verdict v;

			prot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			v = fix_run(0, rx, fresh, g->rtcp, prot, qlen, out, &olen);
			/* The first byte (version, CSRC count, X) and the E flag change how
			 * the packet is parsed; every other bit must fail the tag. */
			if (bit / 8 == 0 || (g->rtcp && bit == (qlen - 4) * 8 + 7))
				assert_int_not_equal(v, SRTP_OK);
			else
				assert_int_equal(v, SRTP_AUTH_FAIL);
			prot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			srtp_state_destroy(fresh);
		}
		srtp_state_destroy(txs);
		srtp_state_destroy(rxs);
		srtp_ctx_destroy(tx);
		srtp_ctx_destroy(rx);
	}
}

/* Bad keys are refused with a message naming the value. */
static void test_ctx_refusals(void **unused)
{
	struct rpa_dp_srtp k = suite_key(RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	char err[128] = "";

	fix_srtp_up();
	k.suite = 9;
	assert_null(srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "suite 9"));

	k = suite_key(RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	k.key_len = 32;
	assert_null(srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "AES_CM_128_HMAC_SHA1_80 needs a 16-byte key"));

	k = suite_key(RPA_DP_SRTP_AEAD_AES_128_GCM);
	k.salt_len = 14;
	assert_null(srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "12-byte salt"));

	k = suite_key(RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	k.mki_len = 5;
	assert_null(srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "MKI length 5"));

	k.mki_len = 0;
	assert_null(srtp_ctx_create(&k, SRTP_KIND_RTP, 63, err, sizeof(err)));
	assert_non_null(strstr(err, "replay window 63"));
	assert_null(srtp_ctx_create(&k, SRTP_KIND_RTP, 32769, err, sizeof(err)));
	assert_null(srtp_ctx_create(&k, SRTP_CTX_PROTECT, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "need RTP and/or RTCP"));
}

/* Packets the engine must refuse before any crypto, and packets for the wrong direction
 * or kind. */
static void test_packet_refusals(void **unused)
{
	struct rpa_dp_srtp k = suite_key(RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	struct srtp_ctx *tx, *rx;
	struct srtp_state *txs, *rxs;
	uint8_t pkt[200], out[FIX_PKTMAX], prot[FIX_PKTMAX];
	unsigned olen = 0, plen = 0;
	char err[128];

	fix_srtp_up();
	k.mki_len = 2;
	k.mki[0] = 0xab;
	k.mki[1] = 0xcd;
	tx = srtp_ctx_create(&k, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err, sizeof(err));
	rx = srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err));
	assert_non_null(tx);
	assert_non_null(rx);
	txs = srtp_state_create(tx, -1);
	rxs = srtp_state_create(rx, -1);
	assert_true(srtp_state_fits(rxs, rx));
	assert_false(srtp_state_fits(rxs, tx));
	assert_false(srtp_state_fits(txs, rx));

	memset(pkt, 0x11, sizeof(pkt));
	pkt[0] = 0x80;
	assert_int_equal(fix_run(1, tx, txs, 0, pkt, 11, out, &olen), SRTP_MALFORMED);
	pkt[0] = 0x40; /* version 1 */
	assert_int_equal(fix_run(1, tx, txs, 0, pkt, 100, out, &olen), SRTP_MALFORMED);
	pkt[0] = 0x8f; /* 15 CSRCs: 72 bytes of header */
	assert_int_equal(fix_run(1, tx, txs, 0, pkt, 71, out, &olen), SRTP_MALFORMED);
	assert_int_equal(fix_run(1, tx, txs, 0, pkt, 72, out, &olen), SRTP_OK);
	pkt[0] = 0x90; /* extension of 0x1111 words: past the end */
	assert_int_equal(fix_run(1, tx, txs, 0, pkt, 100, out, &olen), SRTP_MALFORMED);
	pkt[0] = 0x80;
	assert_int_equal(fix_run(1, tx, txs, 1, pkt, 100, out, &olen), SRTP_MALFORMED);
	assert_int_equal(fix_run(0, tx, txs, 0, pkt, 100, out, &olen), SRTP_CRYPTO_ERR);
	assert_int_equal(fix_run(1, rx, rxs, 0, pkt, 100, out, &olen), SRTP_CRYPTO_ERR);
	/* A protect state (no replay bitmap) handed to unprotect. */
	assert_int_equal(fix_run(0, rx, txs, 0, pkt, 100, out, &olen), SRTP_CRYPTO_ERR);

	assert_int_equal(fix_run(1, tx, txs, 0, pkt, 100, prot, &plen), SRTP_OK);
	assert_int_equal(plen, 100 + 2 + 10);
	assert_memory_equal(prot + 100, k.mki, 2);
	prot[100] ^= 1;
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_BAD_MKI);
	prot[100] ^= 1;
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, 13, out, &olen), SRTP_MALFORMED);
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_OK);
	assert_int_equal(olen, 100);
	assert_memory_equal(out, pkt, 100);

	/* No tailroom: a packet that fills the mbuf. */
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(fix_mp);
		uint16_t room = rte_pktmbuf_tailroom(m);
		struct srtp_pkt p = {.m = m, .ctx = tx, .st = txs, .off = 0, .len = room};
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, room);

		memset(d, 0, room);
		d[0] = 0x80;
		assert_int_equal(srtp_protect_burst(fix_w, &p, 1), 0);
		assert_int_equal(p.verdict, SRTP_NO_ROOM);
		assert_int_equal(m->pkt_len, room);
		rte_pktmbuf_free(m);
	}
	printf("# bytes: protect context %zu + state %zu; unprotect context %zu + state %zu\n",
	       srtp_ctx_bytes(tx), srtp_state_bytes(txs), srtp_ctx_bytes(rx),
	       srtp_state_bytes(rxs));
	assert_true(srtp_ctx_bytes(rx) > 1000);
	srtp_state_destroy(txs);
	srtp_state_destroy(rxs);
	srtp_ctx_destroy(tx);
	srtp_ctx_destroy(rx);
}

/* The SRTCP index of a protect state runs out at 2^31 (RFC 3711 §9.2). */
static void test_srtcp_limit(void **unused)
{
	struct rpa_dp_srtp k = suite_key(RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32);
	uint8_t pkt[28] = {0x81, 0xc8, 0x00, 0x06}, out[FIX_PKTMAX];
	struct srtp_ctx *tx;
	struct srtp_state *st;
	unsigned olen;
	char err[128];

	fix_srtp_up();
	tx = srtp_ctx_create(&k, SRTP_KIND_RTCP | SRTP_CTX_PROTECT, 0, err, sizeof(err));
	assert_non_null(tx);
	st = srtp_state_create(tx, -1);
	st->rtcp_top = 0x7ffffffe;
	st->flags |= SRTP_ST_RTCP_STARTED;
	assert_int_equal(fix_run(1, tx, st, 1, pkt, sizeof(pkt), out, &olen), SRTP_OK);
	/* _32 suites still carry an 80-bit SRTCP tag (RFC 3711 §5.2, RFC 4568 §6.2). */
	assert_int_equal(olen, sizeof(pkt) + 4 + 10);
	assert_int_equal(out[sizeof(pkt)], 0xff);
	assert_int_equal(fix_run(1, tx, st, 1, pkt, sizeof(pkt), out, &olen), SRTP_LIMIT);
	srtp_state_destroy(st);
	srtp_ctx_destroy(tx);
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

/* Destroying a context wipes the keys: its own copy and the PMD's round keys (whose first
 * round key is the key itself) in the session object that holds both. */
static void test_keys_zeroed(void **unused)
{
	static const unsigned which[] = {RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80,
					 RPA_DP_SRTP_AEAD_AES_256_GCM};

	fix_srtp_up();
	for (unsigned w = 0; w < 2; w++) {
		struct rpa_dp_srtp k = suite_key(which[w]);
		struct srtp_session_keys sk;
		const uint8_t *obj;
		size_t size = srtp_engine.sess_pool->elt_size;
		struct srtp_ctx *c;
		char err[128];

		for (unsigned i = 0; i < sizeof(sk.enc); i++)
			sk.enc[i] = (uint8_t)(0x5a ^ (i * 37));
		memset(sk.auth, 0x33, sizeof(sk.auth));
		memset(sk.salt, 0x44, sizeof(sk.salt));
		c = srtp_ctx_build(&k, SRTP_KIND_RTP, 0, &sk, &sk, err, sizeof(err));
		assert_non_null(c);
		obj = c->rtp.sess;
		assert_true(contains(obj, size, sk.enc, k.key_len));
		srtp_ctx_destroy(c);
		assert_false(contains(obj, size, sk.enc, k.key_len));
		assert_false(contains(obj, size, sk.salt, 12));
	}
}

/* The engine prefetches only the session lines it believes the PMD reads (struct
 * srtp_engine.pf). Check that belief: with any other line of the session changed, protect
 * and unprotect must give exactly the same result. A PMD that starts reading another line
 * fails here (slower, not wrong, in production). Skipped where whole sessions are fetched. */
static enum srtp_verdict run_fresh(int protect, const struct srtp_ctx *c, int rtcp,
				   const uint8_t *in, unsigned len, uint8_t *out, unsigned *olen)
{
	struct srtp_state *st = srtp_state_create(c, -1);
	enum srtp_verdict v;

	assert_non_null(st);
	v = fix_run(protect, c, st, rtcp, in, len, out, olen);
	srtp_state_destroy(st);
	return v;
}

static void test_prefetch_profile(void **unused)
{
	static const unsigned suites[] = {
	    RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32,
	    RPA_DP_SRTP_AEAD_AES_128_GCM, RPA_DP_SRTP_AEAD_AES_256_GCM};
	static const unsigned lens[] = {60, 172, 400, 1200};
	unsigned lines, checked = 0;

	fix_srtp_up();
	lines = srtp_engine.sess_end / RTE_CACHE_LINE_SIZE;
	if (lines > 64 || srtp_engine.pf[0].mask == (lines == 64 ? ~0ull : (1ull << lines) - 1)) {
		printf("# skipped: %s sessions are prefetched whole\n", srtp_engine_device());
		return;
	}
	for (unsigned si = 0; si < RTE_DIM(suites); si++) {
		struct rpa_dp_srtp k = suite_key(suites[si]);
		struct srtp_session_keys sk;
		struct srtp_ctx *tx, *rx;
		char err[128];

		memset(&sk, 0, sizeof(sk));
		for (unsigned i = 0; i < sizeof(sk.enc); i++)
			sk.enc[i] = (uint8_t)(i * 13 + si);
		memset(sk.auth, 0x5c ^ (int)si, sizeof(sk.auth));
		memset(sk.salt, 0x3a, sizeof(sk.salt));
		tx = srtp_ctx_build(&k, SRTP_KIND_RTP | SRTP_KIND_RTCP | SRTP_CTX_PROTECT, 0, &sk,
				    &sk, err, sizeof(err));
		rx = srtp_ctx_build(&k, SRTP_KIND_RTP | SRTP_KIND_RTCP, 0, &sk, &sk, err,
				    sizeof(err));
		assert_non_null(tx);
		assert_non_null(rx);
		for (unsigned li = 0; li < RTE_DIM(lens); li++) {
			for (int rtcp = 0; rtcp < 2; rtcp++) {
				uint8_t pkt[FIX_PKTMAX], prot[FIX_PKTMAX], ref[FIX_PKTMAX],
				    out[FIX_PKTMAX];
				unsigned plen = 0, rlen = 0, olen = 0;

				for (unsigned i = 0; i < lens[li]; i++)
					pkt[i] = (uint8_t)(i * 29 + li);
				pkt[0] = rtcp ? 0x81 : 0x80;
				pkt[1] = rtcp ? 0xc8 : 0x60;
				assert_int_equal(run_fresh(1, tx, rtcp, pkt, lens[li], prot, &plen),
						 SRTP_OK);
				assert_int_equal(run_fresh(0, rx, rtcp, prot, plen, ref, &rlen),
						 SRTP_OK);
				assert_int_equal(rlen, lens[li]);
				for (int dir = 0; dir < 2; dir++) {
					const struct srtp_ctx *c = dir ? rx : tx;
					uint8_t *s = rtcp ? c->rtcp.sess : c->rtp.sess;
					uint64_t used =
					    srtp_pf_lines(c, rtcp, dir ? plen : lens[li]);

					for (unsigned l = 0; l < lines; l++) {
						uint8_t save[RTE_CACHE_LINE_SIZE];
						uint8_t *line = s + l * RTE_CACHE_LINE_SIZE;
						enum srtp_verdict v;

						if (used & (1ull << l))
							continue;
						memcpy(save, line, sizeof(save));
						for (unsigned b = 0; b < sizeof(save); b++)
							line[b] ^= 0x01;
						v = dir ? run_fresh(0, rx, rtcp, prot, plen, out,
								    &olen)
							: run_fresh(1, tx, rtcp, pkt, lens[li], out,
								    &olen);
						memcpy(line, save, sizeof(save));
						if (v != SRTP_OK || olen != (dir ? rlen : plen) ||
						    memcmp(out, dir ? ref : prot, olen) != 0)
							fail_msg(
							    "%s %s %s %u bytes: session line %u "
							    "is read but not prefetched",
							    rpa_dp_srtp_suite_name(k.suite),
							    dir ? "unprotect" : "protect",
							    rtcp ? "SRTCP" : "SRTP", lens[li], l);
						checked++;
					}
				}
			}
		}
		srtp_ctx_destroy(tx);
		srtp_ctx_destroy(rx);
	}
	printf("# %u session lines outside the prefetch profiles changed, results unchanged\n",
	       checked);
	assert_true(checked > 0);
}

/* A context's first state lives in its session object. Destroyed first, the context leaves
 * that object to the state, which goes on serving a context with the same keys (its window
 * intact) and frees the object when it goes: the pool ends where it began. */
static void test_state_outlives_ctx(void **unused)
{
	struct rpa_dp_srtp k = suite_key(RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80);
	uint8_t pkt[100], p1[FIX_PKTMAX], p2[FIX_PKTMAX], out[FIX_PKTMAX];
	unsigned avail, l1 = 0, l2 = 0, olen = 0;
	struct srtp_ctx *tx, *rx, *rx2;
	struct srtp_state *txs, *rxs, *second;
	char err[128];

	fix_srtp_up();
	avail = rte_mempool_avail_count(srtp_engine.sess_pool);
	tx = srtp_ctx_create(&k, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err, sizeof(err));
	rx = srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err));
	assert_non_null(tx);
	assert_non_null(rx);
	txs = srtp_state_create(tx, -1);
	rxs = srtp_state_create(rx, -1);
	second = srtp_state_create(rx, -1);
	assert_non_null(second);
	assert_int_equal(rxs->flags & SRTP_ST_EMBEDDED, SRTP_ST_EMBEDDED);
	assert_int_equal(second->flags & SRTP_ST_EMBEDDED, 0);
	assert_int_equal(srtp_state_bytes(rxs), 0);
	assert_true(srtp_state_bytes(second) > 0);
	srtp_state_destroy(second);

	memset(pkt, 0x42, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[3] = 1;
	assert_int_equal(fix_run(1, tx, txs, 0, pkt, sizeof(pkt), p1, &l1), SRTP_OK);
	pkt[3] = 2;
	assert_int_equal(fix_run(1, tx, txs, 0, pkt, sizeof(pkt), p2, &l2), SRTP_OK);
	assert_int_equal(fix_run(0, rx, rxs, 0, p1, l1, out, &olen), SRTP_OK);

	srtp_ctx_destroy(rx);
	rx2 = srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err));
	assert_non_null(rx2);
	assert_true(srtp_state_fits(rxs, rx2));
	assert_int_equal(fix_run(0, rx2, rxs, 0, p1, l1, out, &olen), SRTP_REPLAY);
	assert_int_equal(fix_run(0, rx2, rxs, 0, p2, l2, out, &olen), SRTP_OK);
	assert_int_equal(olen, sizeof(pkt));
	assert_memory_equal(out, pkt, sizeof(pkt));
	/* rx2's own slot is free: rxs lives in the object rx left. */
	second = srtp_state_create(rx2, -1);
	assert_int_equal(second->flags & SRTP_ST_EMBEDDED, SRTP_ST_EMBEDDED);
	srtp_state_destroy(second);

	srtp_state_destroy(rxs);
	srtp_state_destroy(txs);
	srtp_ctx_destroy(rx2);
	srtp_ctx_destroy(tx);
	assert_int_equal(rte_mempool_avail_count(srtp_engine.sess_pool), avail);
}

/* AES-GCM header lengths (struct srtp_cold): a slot for a new length is kept only once a
 * packet has authenticated with its session. Packets under a wrong key cannot use the
 * slots up, an authenticated length keeps its slot, a slot stays FRESH for the packet that
 * asked for it (and a packet the replay window refuses on its way back gives it up), and a
 * replaced session is freed only when released after the grace period. The test stands in
 * for the slow path: it runs srtp_engine_service between a PENDING and the retry. */
static unsigned gcm_rtp(uint8_t *pkt, unsigned cc, uint16_t seq)
{
	unsigned h = 12 + 4 * cc;

	memset(pkt, 0, h);
	pkt[0] = (uint8_t)(0x80 | cc);
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[8] = 0x5e;
	pkt[11] = 0x01;
	for (unsigned i = 0; i < cc; i++)
		pkt[12 + 4 * i + 3] = (uint8_t)(i + 1);
	for (unsigned i = 0; i < 40; i++)
		pkt[h + i] = (uint8_t)(seq + i);
	return h + 40;
}

/* Protect (retrying once after the main lcore's service on PENDING). */
static unsigned gcm_protect(const struct srtp_ctx *c, struct srtp_state *st, unsigned cc,
			    uint16_t seq, uint8_t *out)
{
	uint8_t pkt[200];
	unsigned len = gcm_rtp(pkt, cc, seq), olen = 0;
	enum srtp_verdict v = fix_run(1, c, st, 0, pkt, len, out, &olen);

	if (v == SRTP_PENDING) {
		assert_true(srtp_engine_service() > 0);
		v = fix_run(1, c, st, 0, pkt, len, out, &olen);
	}
	assert_int_equal(v, SRTP_OK);
	return olen;
}

/* A packet protected under a wrong key, by a context of its own. */
static unsigned gcm_forge(const struct rpa_dp_srtp *bad, unsigned cc, uint16_t seq, uint8_t *out)
{
	struct srtp_ctx *c = srtp_ctx_create(bad, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, NULL, 0);
	struct srtp_state *st;
	unsigned len;

	assert_non_null(c);
	st = srtp_state_create(c, -1);
	len = gcm_protect(c, st, cc, seq, out);
	srtp_state_destroy(st);
	srtp_ctx_destroy(c);
	return len;
}

static unsigned slots_in(const struct srtp_ctx *c, uint64_t state)
{
	const struct srtp_cold *cold = srtp_cold_of(c->rtp.sess);
	unsigned n = 0;

	for (unsigned i = 0; i < SRTP_AAD_SLOTS; i++)
		n += cold->aad[i] != 0 && (cold->aad[i] & SRTP_SLOT_STATE) == state;
	return n;
}

/* Age every FRESH slot of c by `ms` (as if that long had passed since it was filled). */
static void slots_age(const struct srtp_ctx *c, uint32_t ms)
{
	struct srtp_cold *cold = srtp_cold_of(c->rtp.sess);

	for (unsigned i = 0; i < SRTP_AAD_SLOTS; i++)
		cold->aad_born[i] -= ms;
}

static void test_aead_slots(void **unused)
{
	struct rpa_dp_srtp k = suite_key(RPA_DP_SRTP_AEAD_AES_128_GCM), bad = k;
	struct srtp_ctx *tx, *rx, *forger;
	struct srtp_state *txs, *rxs, *fs;
	uint8_t pkt[200], prot[FIX_PKTMAX], out[FIX_PKTMAX];
	unsigned avail, plen, olen = 0, len, n, retired;
	uint16_t seq = 100;
	char err[128];

	fix_srtp_up();
	avail = rte_mempool_avail_count(srtp_engine.sess_pool);
	bad.key[0] ^= 0xff;
	tx = srtp_ctx_create(&k, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err, sizeof(err));
	rx = srtp_ctx_create(&k, SRTP_KIND_RTP, 0, err, sizeof(err));
	forger = srtp_ctx_create(&bad, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err, sizeof(err));
	assert_non_null(tx);
	assert_non_null(rx);
	assert_non_null(forger);
	txs = srtp_state_create(tx, -1);
	rxs = srtp_state_create(rx, -1);
	fs = srtp_state_create(forger, -1);

	/* Six forged header lengths: each goes round once (PENDING), then fails; none keeps
	 * its slot, the last two replaced the oldest FAILED ones. */
	for (unsigned cc = 1; cc <= 6; cc++) {
		plen = gcm_forge(&bad, cc, (uint16_t)(seq + 1000 + cc), prot);
		assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_PENDING);
		assert_int_equal(srtp_engine_service(), 1);
		assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_AUTH_FAIL);
		assert_int_equal(slots_in(rx, SRTP_SLOT_FAILED), cc < 4 ? cc : 4);
	}
	assert_int_equal(srtp_engine_retired(), 2);
	/* A protect context confirms a slot with the first packet it protects; with four
	 * lengths confirmed, a fifth is refused. */
	for (unsigned cc = 1; cc <= 4; cc++)
		gcm_protect(forger, fs, cc, (uint16_t)cc, prot);
	assert_int_equal(slots_in(forger, SRTP_SLOT_CONFIRMED), 4);
	len = gcm_rtp(pkt, 5, 5);
	assert_int_equal(fix_run(1, forger, fs, 0, pkt, len, prot, &plen), SRTP_CRYPTO_ERR);
	assert_int_equal(srtp_engine_service(), 0);

	/* A real packet with a seventh length takes a FAILED slot and confirms it; the
	 * protect side's slot is confirmed too. */
	len = gcm_rtp(pkt, 7, seq);
	plen = gcm_protect(tx, txs, 7, seq++, prot);
	assert_int_equal(slots_in(tx, SRTP_SLOT_CONFIRMED), 1);
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_PENDING);
	assert_int_equal(srtp_engine_service(), 1);
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_OK);
	assert_int_equal(olen, len);
	assert_memory_equal(out, pkt, len);
	assert_int_equal(slots_in(rx, SRTP_SLOT_CONFIRMED), 1);
	assert_int_equal(slots_in(rx, SRTP_SLOT_FAILED), 3);

	/* Three forged lengths ask at once: the three FAILED slots become FRESH, kept for
	 * their packets; a fourth finds no slot (the CONFIRMED one is not taken) until the
	 * FRESH ones are older than SRTP_SLOT_FRESH_MS. */
	{
		static uint8_t forged[4][FIX_PKTMAX];
		unsigned flen[4];

		for (unsigned i = 0; i < 4; i++) /* the forger's service: before rx asks */
			flen[i] = gcm_forge(&bad, 8 + i, (uint16_t)(seq + 1008 + i), forged[i]);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(fix_run(0, rx, rxs, 0, forged[i], flen[i], out, &olen),
					 SRTP_PENDING);
		plen = flen[3];
		memcpy(prot, forged[3], plen);
	}
	assert_int_equal(srtp_engine_service(), 4);
	assert_int_equal(slots_in(rx, SRTP_SLOT_FRESH), 3);
	assert_int_equal(slots_in(rx, SRTP_SLOT_CONFIRMED), 1);
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_PENDING);
	slots_age(rx, SRTP_SLOT_FRESH_MS);
	assert_int_equal(srtp_engine_service(), 1);
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_AUTH_FAIL);
	assert_int_equal(slots_in(rx, SRTP_SLOT_FAILED), 1);
	assert_int_equal(srtp_engine_retired(), 5); /* the real packet's, and these four */

	/* The confirmed length still works, without asking. */
	plen = gcm_protect(tx, txs, 7, seq++, prot);
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_OK);

	/* A packet that asked for a slot and is refused by the replay window when it comes
	 * back (the stream moved on meanwhile) gives its FRESH slot up. */
	slots_age(rx, SRTP_SLOT_FRESH_MS);
	plen = gcm_protect(tx, txs, 12, seq, prot);
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_PENDING);
	assert_int_equal(srtp_engine_service(), 1);
	n = slots_in(rx, SRTP_SLOT_FRESH);
	assert_true(n >= 1);
	{
		uint8_t p2[FIX_PKTMAX];
		unsigned l2 = gcm_protect(tx, txs, 0, (uint16_t)(seq + 500), p2);

		assert_int_equal(fix_run(0, rx, rxs, 0, p2, l2, out, &olen), SRTP_OK);
	}
	assert_int_equal(fix_run(0, rx, rxs, 0, prot, plen, out, &olen), SRTP_TOO_OLD);
	assert_int_equal(slots_in(rx, SRTP_SLOT_FRESH), n - 1);

	/* Replaced sessions (2 + 5 + 1) are freed when released (no worker runs here: at
	 * once); until then they hold their pool objects. */
	retired = 7 + srtp_engine_retired();
	assert_int_equal(retired, 8);
	srtp_engine_release(retired);
	assert_int_equal(srtp_engine_retired(), 0);
	srtp_state_destroy(fs);
	srtp_state_destroy(rxs);
	srtp_state_destroy(txs);
	srtp_ctx_destroy(forger);
	srtp_ctx_destroy(rx);
	srtp_ctx_destroy(tx);
	assert_int_equal(rte_mempool_avail_count(srtp_engine.sess_pool), avail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kdf_b3),
	    cmocka_unit_test(test_keystream_b2),
	    cmocka_unit_test(test_rfc7714),
	    cmocka_unit_test(test_ctx_refusals),
	    cmocka_unit_test(test_packet_refusals),
	    cmocka_unit_test(test_srtcp_limit),
	    cmocka_unit_test(test_keys_zeroed),
	    cmocka_unit_test(test_prefetch_profile),
	    cmocka_unit_test(test_state_outlives_ctx),
	    cmocka_unit_test(test_aead_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
