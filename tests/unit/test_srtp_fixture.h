/* Unit-test helper for the SRTP engine: EAL without hugepages, the engine on whatever
 * cryptodev it picks (it creates a crypto_aesni_mb vdev when there is none), one worker,
 * and single-packet helpers that run the real burst functions on real mbufs. */
#ifndef TEST_SRTP_FIXTURE_H
#define TEST_SRTP_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "srtp.h"
#include "srtp_priv.h"

/* Packets sit behind 42 bytes, where Ethernet, IPv4 and UDP headers would be. */
#define FIX_OFF	   42
#define FIX_PKTMAX 1600

static struct rte_mempool *fix_mp;
static struct srtp_worker *fix_w;

static void fix_srtp_up(void)
{
	static int done;
	char *argv[] = {"test", "-l",	       "0",	      "--no-pci", "--no-huge", "-m",
			"512",	"--no-shconf", "--log-level", "error",	  NULL};
	struct srtp_engine_config cfg = {
	    .nworkers = 1, .max_contexts = 512, .max_sessions = 1024, .socket_id = -1};
	char err[128];

	if (done)
		return;
	if (rte_eal_init(10, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		exit(1);
	}
	fix_mp = rte_pktmbuf_pool_create("fix_mp", 1023, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM,
					 (int)rte_socket_id());
	if (fix_mp == NULL || srtp_engine_init(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "SRTP engine init failed: %s\n", err);
		exit(1);
	}
	fix_w = srtp_worker_create(0, (int)rte_socket_id());
	if (fix_w == NULL) {
		fprintf(stderr, "SRTP worker failed\n");
		exit(1);
	}
	printf("# cryptodev %s\n", srtp_engine_device());
	done = 1;
}

/* An mbuf holding `len` bytes of `pkt` at FIX_OFF. */
static inline struct rte_mbuf *fix_mbuf(const uint8_t *pkt, unsigned len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fix_mp);
	uint8_t *d;

	if (m == NULL)
		exit(1);
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(FIX_OFF + len));
	memset(d, 0xee, FIX_OFF);
	memcpy(d + FIX_OFF, pkt, len);
	return m;
}

/* Run one packet through the engine; on SRTP_OK the result is in out, its length in
 * outlen. */
static inline enum srtp_verdict fix_run(int protect, const struct srtp_ctx *c,
					struct srtp_state *st, int rtcp, const uint8_t *in,
					unsigned len, uint8_t *out, unsigned *outlen)
{
	struct srtp_pkt p = {.m = fix_mbuf(in, len),
			     .ctx = c,
			     .st = st,
			     .off = FIX_OFF,
			     .len = (uint16_t)len,
			     .rtcp = (uint8_t)rtcp};
	unsigned ok =
	    protect ? srtp_protect_burst(fix_w, &p, 1) : srtp_unprotect_burst(fix_w, &p, 1);

	if (ok == 1) {
		if (p.m->pkt_len != FIX_OFF + (unsigned)p.len || p.m->data_len != p.m->pkt_len) {
			fprintf(stderr, "mbuf length %u does not match %u\n", p.m->pkt_len,
				FIX_OFF + p.len);
			exit(1);
		}
		memcpy(out, rte_pktmbuf_mtod_offset(p.m, uint8_t *, FIX_OFF), p.len);
		*outlen = p.len;
	}
	rte_pktmbuf_free(p.m);
	return (enum srtp_verdict)p.verdict;
}

static inline unsigned fix_hex(const char *s, uint8_t *out)
{
	unsigned n = 0;

	while (*s) {
		unsigned v;

		if (*s == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1)
			exit(1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

#endif
