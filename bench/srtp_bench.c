/* rtpanchor-bench-srtp: cycles per packet of the SRTP engine's burst API on real mbufs, with
 * 1k..1M streams, each with its own contexts and states, in bursts whose packets belong to
 * streams drawn uniformly at random (every packet's context, state and session are then as
 * cold as in a relay with that many streams). Modes: protect (RTP->SRTP), unprotect
 * (SRTP->RTP), rekey (SRTP->SRTP: srtp_unprotect_burst with the stream's receive context,
 * then srtp_protect_burst with its send context, as the dataplane worker does). Single
 * thread (main lcore). Only the burst calls are timed; building the packets (and, for
 * unprotect and rekey, protecting them with the sender's key) is not.
 * With --table, the dataplane's session table and mbuf pool for as many streams are built
 * too, to show what the whole fits in (-m). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>

#include "ifaddr.h"
#include "session.h"
#include "srtp.h"

#define BENCH_MAX_RUNS 101
#define BENCH_OFF      42 /* Ethernet + IPv4 + UDP in front of the RTP header */

static const char *const bench_default_eal[] = {
    "rtpanchor-bench-srtp",
    "-l",
    "0",
    "--no-pci",
    "--no-huge",
    "-m",
    "512",
    "--no-shconf",
    "--no-telemetry",
    "--vdev",
    "crypto_aesni_mb0",
    "--log-level",
    "lib.eal:warning",
};

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: rtpanchor-bench-srtp [--streams N] [--suite NAME]\n"
	    "         [--mode protect|unprotect|rekey]\n"
	    "         [--len BYTES] [--burst N] [--bursts N] [--runs N] [--window N] [--table]\n"
	    "         [--compare-apis] [-- EAL options]\n"
	    "  --suite   AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32,\n"
	    "            AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM,\n"
	    "            AEAD_AES_256_GCM\n"
	    "  --len     RTP packet length with its 12-byte header (default 172)\n"
	    "  --mode    protect: RTP->SRTP; unprotect: SRTP->RTP; rekey: SRTP->SRTP, unprotect\n"
	    "            with one context and protect with another per stream (default protect)\n"
	    "  --table   also build the session table for --streams and the dataplane's default\n"
	    "            mbuf pool, and report the memory all of it takes\n"
	    "  --compare-apis  time the cryptodev alone (no SRTP) with --suite's algorithms:\n"
	    "            enqueue/dequeue bursts against rte_cryptodev_sym_cpu_crypto_process\n"
	    "  default EAL: -l 0 --no-pci --no-huge -m 512 --no-shconf --vdev crypto_aesni_mb0\n"
	    "  2 MB pages: mount hugetlbfs on DIR with enough free pages, then\n"
	    "            -- -l 0 --no-pci --in-memory --huge-dir DIR -m 512 --no-shconf\n"
	    "            --vdev crypto_aesni_mb0\n");
	exit(2);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned suite_by_name(const char *s)
{
	for (unsigned i = 1; i < RPA_DP_SRTP_SUITE_MAX; i++)
		if (strcmp(rpa_dp_srtp_suite_name(i), s) == 0)
			return i;
	fprintf(stderr, "bench: unknown suite %s\n", s);
	exit(2);
}

static struct rpa_dp_srtp bench_key(unsigned suite)
{
	struct rpa_dp_srtp k = {.suite = (uint8_t)suite};

	k.key_len =
	    (suite == RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80 ||
	     suite == RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32 || suite == RPA_DP_SRTP_AEAD_AES_256_GCM)
		? 32
		: 16;
	k.salt_len = suite >= RPA_DP_SRTP_AEAD_AES_128_GCM ? 12 : 14;
	for (unsigned i = 0; i < sizeof(k.key); i++)
		k.key[i] = (uint8_t)(rte_rand() >> 8);
	for (unsigned i = 0; i < sizeof(k.salt); i++)
		k.salt[i] = (uint8_t)(rte_rand() >> 8);
	return k;
}

/* The dataplane's session table for `streams` streams on one media address, and its
 * default mbuf pool: what shares the EAL memory with the SRTP contexts. */
static void build_table(uint32_t streams)
{
	struct session_config sc = {.max_streams = streams, .nworkers = 1, .latch_window_ms = 1000};
	struct rte_mempool *mp;
	struct rpa_addr a;

	rpa_addr_parse("192.0.2.1", &a);
	ifaddr_reset();
	ifaddr_add(0, &a, 24);
	sc.qsbr = rte_zmalloc("bench_qsbr", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	mp = rte_pktmbuf_pool_create("rpa_mbufs", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (sc.qsbr == NULL || rte_rcu_qsbr_init(sc.qsbr, 1) != 0 || mp == NULL ||
	    session_init(&sc) != 0) {
		fprintf(stderr, "bench: session table for %u streams does not fit\n", streams);
		exit(1);
	}
}

static void heap_report(const char *what)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) == 0)
		printf("memory %s: %.1f MiB of %.1f MiB EAL heap in use\n", what,
		       st.heap_allocsz_bytes / 1048576.0, st.heap_totalsz_bytes / 1048576.0);
}

/* --compare-apis: the measurement behind the engine's choice of the cryptodev enqueue/
 * dequeue API over the synchronous CPU-crypto API (rte_cryptodev_sym_cpu_crypto_process).
 * The cryptodev alone, no SRTP processing: `streams` sessions (AES-CTR + HMAC-SHA1 chain,
 * or AES-GCM), one 172-byte packet per session in random order, bursts of `burst`. The
 * CPU-crypto API takes one session per call, so a burst of distinct streams is one call
 * per packet and the PMD flushes its multi-buffer lanes after each. */
static void compare_apis(uint32_t streams, uint32_t burst, uint32_t bursts, uint32_t runs,
			 unsigned suite, struct rte_mempool *mp)
{
	const bool gcm = suite >= RPA_DP_SRTP_AEAD_AES_128_GCM;
	const uint16_t ivoff = sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op);
	struct rte_mempool *sp, *opp;
	struct rte_crypto_op *ops[SRTP_BURST_MAX], *done[SRTP_BURST_MAX];
	struct rte_mbuf *m[SRTP_BURST_MAX];
	uint8_t key[32], akey[20], digest[SRTP_BURST_MAX][32], aad[SRTP_BURST_MAX][16];
	void **sess = calloc(streams, sizeof(void *));
	uint64_t *bc = calloc(bursts, sizeof(uint64_t));
	uint8_t dev = 0;

	if (sess == NULL || bc == NULL || rte_cryptodev_count() == 0)
		exit(1);
	sp = rte_cryptodev_sym_session_pool_create("cmp_sess", streams + 1,
						   rte_cryptodev_sym_get_private_session_size(dev),
						   0, 0, (int)rte_socket_id());
	opp = rte_crypto_op_pool_create("cmp_ops", RTE_CRYPTO_OP_TYPE_SYMMETRIC, 2 * burst, 0, 16,
					(int)rte_socket_id());
	if (sp == NULL || opp == NULL ||
	    rte_crypto_op_bulk_alloc(opp, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ops, burst) != burst)
		exit(1);
	{
		struct rte_cryptodev_config dc = {.socket_id = (int)rte_socket_id(),
						  .nb_queue_pairs = 1};
		struct rte_cryptodev_qp_conf qc = {.nb_descriptors = 128, .mp_session = sp};

		if (rte_cryptodev_configure(dev, &dc) != 0 ||
		    rte_cryptodev_queue_pair_setup(dev, 0, &qc, (int)rte_socket_id()) != 0 ||
		    rte_cryptodev_start(dev) != 0)
			exit(1);
	}
	for (uint32_t i = 0; i < streams; i++) {
		struct rte_crypto_sym_xform c = {.type = RTE_CRYPTO_SYM_XFORM_CIPHER}, a = {0},
					    g = {0};

		for (unsigned k = 0; k < sizeof(key); k++)
			key[k] = (uint8_t)rte_rand();
		memcpy(akey, key, sizeof(akey));
		c.cipher.op = RTE_CRYPTO_CIPHER_OP_ENCRYPT;
		c.cipher.algo = RTE_CRYPTO_CIPHER_AES_CTR;
		c.cipher.key.data = key;
		c.cipher.key.length = 16;
		c.cipher.iv.offset = ivoff;
		c.cipher.iv.length = 16;
		c.next = &a;
		a.type = RTE_CRYPTO_SYM_XFORM_AUTH;
		a.auth.op = RTE_CRYPTO_AUTH_OP_GENERATE;
		a.auth.algo = RTE_CRYPTO_AUTH_SHA1_HMAC;
		a.auth.key.data = akey;
		a.auth.key.length = 20;
		a.auth.digest_length = 12;
		g.type = RTE_CRYPTO_SYM_XFORM_AEAD;
		g.aead.op = RTE_CRYPTO_AEAD_OP_ENCRYPT;
		g.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
		g.aead.key.data = key;
		g.aead.key.length = 16;
		g.aead.iv.offset = ivoff;
		g.aead.iv.length = 12;
		g.aead.digest_length = 16;
		g.aead.aad_length = 12;
		sess[i] = rte_cryptodev_sym_session_create(dev, gcm ? &g : &c, sp);
		if (sess[i] == NULL)
			exit(1);
	}
	for (unsigned i = 0; i < burst; i++) {
		m[i] = rte_pktmbuf_alloc(mp);
		if (m[i] == NULL || rte_pktmbuf_append(m[i], 200) == NULL)
			exit(1);
	}
	for (int api = 0; api < 2; api++) {
		uint64_t cyc[BENCH_MAX_RUNS];

		for (uint32_t r = 0; r < runs; r++) {
			for (uint32_t b = 0; b < bursts; b++) {
				uint64_t t0 = rte_rdtsc_precise();

				for (unsigned i = 0; i < burst; i++) {
					void *se = sess[rte_rand() % streams];
					uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);
					uint8_t *iv =
					    rte_crypto_op_ctod_offset(ops[i], uint8_t *, ivoff);
					struct rte_crypto_sym_op *o = ops[i]->sym;

					memset(iv, (int)i, 16);
					if (api == 1) {
						/* One call per packet: its session is its own. */
						struct rte_crypto_vec v = {.base = gcm ? d + 12 : d,
									   .len = gcm ? 160 : 176};
						struct rte_crypto_sgl sg = {.vec = &v, .num = 1};
						struct rte_crypto_va_iova_ptr ivp = {.va = iv},
									      dp = {.va =
											digest[i]},
									      ap = {.va = aad[i]};
						int32_t st;
						struct rte_crypto_sym_vec vec = {.num = 1,
										 .src_sgl = &sg,
										 .iv = &ivp,
										 .digest = &dp,
										 .aad = &ap,
										 .status = &st};
						union rte_crypto_sym_ofs ofs = {.raw = 0};

						if (!gcm) {
							ofs.ofs.cipher.head = 12;
							ofs.ofs.cipher.tail = 4;
						}
						if (rte_cryptodev_sym_cpu_crypto_process(
							dev, se, ofs, &vec) != 1)
							exit(1);
						continue;
					}
					ops[i]->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
					rte_crypto_op_attach_sym_session(ops[i], se);
					o->m_src = m[i];
					if (gcm) {
						o->aead.data.offset = 12;
						o->aead.data.length = 160;
						o->aead.digest.data = digest[i];
						o->aead.aad.data = aad[i];
					} else {
						o->cipher.data.offset = 12;
						o->cipher.data.length = 160;
						o->auth.data.offset = 0;
						o->auth.data.length = 176;
						o->auth.digest.data = digest[i];
					}
				}
				if (api == 0) {
					unsigned e = rte_cryptodev_enqueue_burst(dev, 0, ops,
										 (uint16_t)burst),
						 d = 0;

					while (d < e)
						d += rte_cryptodev_dequeue_burst(dev, 0, done + d,
										 (uint16_t)(e - d));
				}
				bc[b] = rte_rdtsc_precise() - t0;
			}
			/* Median burst, like the engine's figures: robust to preemption. */
			qsort(bc, bursts, sizeof(bc[0]), cmp_u64);
			cyc[r] = bc[bursts / 2] / burst;
		}
		qsort(cyc, runs, sizeof(cyc[0]), cmp_u64);
		printf("cryptodev %s alone, %s, %u sessions, 172-byte packets, bursts of %u: %s "
		       "median burst, median of %u runs: %" PRIu64 " cycles/packet\n",
		       rte_cryptodev_name_get(dev),
		       gcm ? "AES-128-GCM" : "AES-128-CTR+HMAC-SHA1-96", streams, burst,
		       api == 0 ? "enqueue/dequeue" : "cpu_crypto_process", runs, cyc[runs / 2]);
	}
	exit(0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"streams", required_argument, NULL, 's'}, {"suite", required_argument, NULL, 'S'},
	    {"mode", required_argument, NULL, 'm'},    {"len", required_argument, NULL, 'l'},
	    {"burst", required_argument, NULL, 'b'},   {"bursts", required_argument, NULL, 'n'},
	    {"runs", required_argument, NULL, 'r'},    {"window", required_argument, NULL, 'w'},
	    {"table", no_argument, NULL, 't'},	       {"compare-apis", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	uint32_t streams = 1000, len = 172, burst = 32, bursts = 20000, runs = 5, window = 0;
	unsigned suite = RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80;
	enum { PROTECT, UNPROTECT, REKEY } mode = PROTECT;
	static const char *const mode_name[] = {"protect", "unprotect", "rekey"};
	int table = 0, compare = 0, c, eal_argc, rc;
	char *eal_argv[64], err[160];
	uint64_t cyc[BENCH_MAX_RUNS], med[BENCH_MAX_RUNS], hz, fails = 0, *bc;
	struct srtp_engine_config ecfg = {.nworkers = 1, .socket_id = -1};
	struct rpa_dp_srtp key;
	struct srtp_ctx **ctx, **ctx2 = NULL, *txc = NULL;
	struct srtp_state **st, **st2 = NULL, **txst = NULL;
	uint16_t *seq;
	struct rte_mbuf *m[SRTP_BURST_MAX];
	struct srtp_pkt pk[SRTP_BURST_MAX];
	struct srtp_worker *w;
	struct rte_mempool *mp;
	uint8_t payload[2048];
	size_t per_stream;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			streams = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'S':
			suite = suite_by_name(optarg);
			break;
		case 'm':
			if (strcmp(optarg, "unprotect") == 0)
				mode = UNPROTECT;
			else if (strcmp(optarg, "rekey") == 0)
				mode = REKEY;
			else if (strcmp(optarg, "protect") != 0)
				usage();
			break;
		case 'l':
			len = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			burst = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			bursts = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			window = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 't':
			table = 1;
			break;
		case 'c':
			compare = 1;
			break;
		default:
			usage();
		}
	}
	if (streams == 0 || len < 12 || len > 1400 || burst == 0 || burst > SRTP_BURST_MAX ||
	    runs == 0 || runs > BENCH_MAX_RUNS || bursts == 0)
		usage();

	eal_argc = 0;
	if (optind < argc) {
		eal_argv[eal_argc++] = argv[0];
		for (int i = optind; i < argc && eal_argc < 63; i++)
			eal_argv[eal_argc++] = argv[i];
	} else {
		for (unsigned i = 0; i < RTE_DIM(bench_default_eal); i++)
			eal_argv[eal_argc++] = (char *)(uintptr_t)bench_default_eal[i];
	}
	eal_argv[eal_argc] = NULL;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "bench: EAL init failed\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	if (compare) {
		mp = rte_pktmbuf_pool_create("bench_mbufs", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     (int)rte_socket_id());
		if (mp == NULL)
			return 1;
		compare_apis(streams, burst, bursts, runs, suite, mp);
	}
	if (table)
		build_table(streams);

	/* Unprotect and rekey: one extra protect context makes the packets, with a state per
	 * stream (second states of that context: max_states). Rekey: two contexts a stream. */
	ecfg.max_contexts = (mode == REKEY ? 2 : 1) * streams + 1;
	ecfg.max_sessions = ecfg.max_contexts;
	ecfg.max_states = mode == PROTECT ? 0 : streams + 1;
	rc = srtp_engine_init(&ecfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	w = srtp_worker_create(0, (int)rte_socket_id());
	bc = calloc(bursts, sizeof(*bc));
	ctx = calloc(streams, sizeof(*ctx));
	st = calloc(streams, sizeof(*st));
	seq = calloc(streams, sizeof(*seq));
	if (w == NULL || bc == NULL || ctx == NULL || st == NULL || seq == NULL)
		return 1;

	/* Every stream gets contexts of its own (its own cryptodev sessions); the receive
	 * contexts share one master key so that one protect context can make valid packets
	 * for all of them, the send contexts each have their own. A stream's two contexts
	 * are made one after the other, as the dataplane installs them; without hugepages
	 * that puts them in one 4 KiB page (two sessions to a page) when the first lands at
	 * the start of a page. In a relay that has run a while, streams come and go and
	 * multiplexed ones take two sessions a context: about half the streams are so lucky.
	 * So here too: half the streams, drawn at random, swap send contexts among
	 * themselves. */
	key = bench_key(suite);
	if (mode == REKEY && ((ctx2 = calloc(streams, sizeof(*ctx2))) == NULL ||
			      (st2 = calloc(streams, sizeof(*st2))) == NULL))
		return 1;
	for (uint32_t s = 0; s < streams; s++) {
		struct rpa_dp_srtp own = bench_key(suite);

		ctx[s] = srtp_ctx_create(mode == PROTECT ? &own : &key,
					 SRTP_KIND_RTP | (mode == PROTECT ? SRTP_CTX_PROTECT : 0),
					 window, err, sizeof(err));
		if (ctx[s] == NULL) {
			fprintf(stderr, "bench: context %u: %s\n", s, err);
			return 1;
		}
		st[s] = srtp_state_create(ctx[s], (int)rte_socket_id());
		if (st[s] == NULL) {
			fprintf(stderr, "bench: state %u: %s\n", s, strerror(errno));
			return 1;
		}
		if (mode == REKEY) {
			ctx2[s] = srtp_ctx_create(&own, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err,
						  sizeof(err));
			if (ctx2[s] == NULL) {
				fprintf(stderr, "bench: send context %u: %s\n", s, err);
				return 1;
			}
			if ((st2[s] = srtp_state_create(ctx2[s], (int)rte_socket_id())) == NULL) {
				fprintf(stderr, "bench: state %u: %s\n", s, strerror(errno));
				return 1;
			}
		}
		seq[s] = (uint16_t)rte_rand();
	}
	if (mode == REKEY) {
		uint32_t *half = calloc(streams, sizeof(*half)), nh = 0;

		if (half == NULL)
			return 1;
		for (uint32_t s = 0; s < streams; s++)
			if (rte_rand() & 1)
				half[nh++] = s;
		for (uint32_t i = nh; i > 1; i--) { /* Fisher-Yates */
			uint32_t j = (uint32_t)(rte_rand() % i), a = half[i - 1], b = half[j];
			struct srtp_ctx *tc = ctx2[a];
			struct srtp_state *ts = st2[a];

			ctx2[a] = ctx2[b];
			st2[a] = st2[b];
			ctx2[b] = tc;
			st2[b] = ts;
		}
		free(half);
	}
	per_stream = srtp_ctx_bytes(ctx[0]) + srtp_state_bytes(st[0]);
	if (mode == REKEY)
		per_stream += srtp_ctx_bytes(ctx2[0]) + srtp_state_bytes(st2[0]);
	if (mode != PROTECT) {
		txc = srtp_ctx_create(&key, SRTP_KIND_RTP | SRTP_CTX_PROTECT, 0, err, sizeof(err));
		txst = calloc(streams, sizeof(*txst));
		if (txc == NULL || txst == NULL)
			return 1;
		for (uint32_t s = 0; s < streams; s++)
			if ((txst[s] = srtp_state_create(txc, (int)rte_socket_id())) == NULL)
				return 1;
	}
	mp = rte_pktmbuf_pool_create("bench_mbufs", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	for (unsigned i = 0; i < burst; i++)
		if (mp == NULL || (m[i] = rte_pktmbuf_alloc(mp)) == NULL)
			return 1;
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rte_rand();

	for (uint32_t r = 0; r < runs; r++) {
		uint64_t total = 0;

		for (uint32_t b = 0; b < bursts; b++) {
			uint32_t ids[SRTP_BURST_MAX];
			uint64_t t0;
			unsigned ok;

			for (unsigned i = 0; i < burst; i++) {
				uint32_t s = (uint32_t)(rte_rand() % streams);
				uint8_t *d;
				uint16_t q = ++seq[s];

				ids[i] = s;
				rte_pktmbuf_reset(m[i]);
				d = (uint8_t *)rte_pktmbuf_append(m[i],
								  (uint16_t)(BENCH_OFF + len));
				if (d == NULL)
					return 1;
				memset(d, 0, BENCH_OFF);
				memcpy(d + BENCH_OFF, payload, len);
				d += BENCH_OFF;
				d[0] = 0x80;
				d[1] = 0x00;
				d[2] = (uint8_t)(q >> 8);
				d[3] = (uint8_t)q;
				d[8] = (uint8_t)(s >> 24);
				d[9] = (uint8_t)(s >> 16);
				d[10] = (uint8_t)(s >> 8);
				d[11] = (uint8_t)s;
				pk[i] = (struct srtp_pkt){.m = m[i],
							  .ctx = mode == PROTECT ? ctx[s] : txc,
							  .st = mode == PROTECT ? st[s] : txst[s],
							  .off = BENCH_OFF,
							  .len = (uint16_t)len};
			}
			if (mode != PROTECT) {
				if (srtp_protect_burst(w, pk, burst) != burst)
					fails++;
				for (unsigned i = 0; i < burst; i++) {
					pk[i].ctx = ctx[ids[i]];
					pk[i].st = st[ids[i]];
				}
			}
			if (mode == REKEY) {
				/* As the worker's crypto_run: the burst's unprotect batch, then
				 * the protect batch of what passed. */
				t0 = rte_rdtsc_precise();
				ok = srtp_unprotect_burst(w, pk, burst);
				for (unsigned i = 0; i < burst; i++) {
					pk[i].ctx = ctx2[ids[i]];
					pk[i].st = st2[ids[i]];
				}
				ok = ok == burst ? srtp_protect_burst(w, pk, burst) : 0;
				bc[b] = rte_rdtsc_precise() - t0;
			} else if (mode == UNPROTECT) {
				t0 = rte_rdtsc_precise();
				ok = srtp_unprotect_burst(w, pk, burst);
				bc[b] = rte_rdtsc_precise() - t0;
			} else {
				t0 = rte_rdtsc_precise();
				ok = srtp_protect_burst(w, pk, burst);
				bc[b] = rte_rdtsc_precise() - t0;
			}
			total += bc[b];
			fails += burst - ok;
		}
		/* The mean counts every cycle, including the time this thread lost to other
		 * processes on a shared machine; the median burst does not. */
		qsort(bc, bursts, sizeof(bc[0]), cmp_u64);
		cyc[r] = total / ((uint64_t)bursts * burst);
		med[r] = bc[bursts / 2] / burst;
		printf("run %u: mean %" PRIu64 " cycles/packet (%.2f Mpps), median burst %" PRIu64
		       " cycles/packet (%.2f Mpps)\n",
		       r + 1, cyc[r], (double)hz / (double)cyc[r] / 1e6, med[r],
		       (double)hz / (double)med[r] / 1e6);
	}
	qsort(cyc, runs, sizeof(cyc[0]), cmp_u64);
	qsort(med, runs, sizeof(med[0]), cmp_u64);
	printf("srtp %s %s, %u streams, %u-byte RTP, bursts of %u, cryptodev %s, TSC %.2f GHz\n",
	       mode_name[mode], rpa_dp_srtp_suite_name(suite), streams, len, burst,
	       srtp_engine_device(), hz / 1e9);
	printf("median of %u runs: mean %" PRIu64
	       " cycles/packet (%.2f Mpps), median burst %" PRIu64
	       " cycles/packet (%.2f Mpps); failed packets %" PRIu64 "\n",
	       runs, cyc[runs / 2], (double)hz / (double)cyc[runs / 2] / 1e6, med[runs / 2],
	       (double)hz / (double)med[runs / 2] / 1e6, fails);
	printf("memory per SRTP stream (%s: context with its cryptodev session + state): %zu "
	       "bytes\n",
	       mode == REKEY ? "two of each" : "one of each", per_stream);
	heap_report(table ? "with session table and mbuf pool" : "SRTP only");
	return fails ? 1 : 0;
}
