/* Creation and teardown of a worker's rings. Main lcore, before workers start / after they
 * stop; the loop itself is in worker.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "worker.h"

#define WORKER_RING_SIZE 8192 /* >= the slow ring: every punted packet fits back */

static int srtp_mark_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "rpa_srtp_mark",
		.size = sizeof(uint8_t),
		.align = __alignof__(uint8_t),
	};
	int off = rte_mbuf_dynfield_register(&desc);

	if (off < 0)
		return -rte_errno;
	worker_shared.srtp_mark_off = off;
	return 0;
}

int worker_init(struct worker *w, unsigned index, unsigned lcore, int socket_id)
{
	char name[RTE_RING_NAMESIZE];

	int rc;

	if (index >= RPA_DP_MAX_WORKERS)
		return -EINVAL;
	/* The same name gives the same offset: every worker_init may ask. */
	rc = srtp_mark_register();
	if (rc < 0)
		return rc;
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->lcore = lcore;
	snprintf(name, sizeof(name), "rpa_handoff%u", index);
	/* Any worker may hand off to this one: multi-producer, single consumer. */
	w->handoff = rte_ring_create(name, WORKER_RING_SIZE, socket_id, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "rpa_return%u", index);
	w->ret = rte_ring_create(name, WORKER_RING_SIZE, socket_id,
				 RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "rpa_txraw%u", index);
	w->txr = rte_ring_create(name, 1024, socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->handoff == NULL || w->ret == NULL || w->txr == NULL) {
		worker_fini(w);
		return -rte_errno;
	}
	return 0;
}

static void drain(struct rte_ring *r)
{
	void *m;

	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

void worker_fini(struct worker *w)
{
	if (w->handoff != NULL) {
		drain(w->handoff);
		rte_ring_free(w->handoff);
	}
	if (w->ret != NULL) {
		drain(w->ret);
		rte_ring_free(w->ret);
	}
	if (w->txr != NULL) {
		drain(w->txr);
		rte_ring_free(w->txr);
	}
	w->handoff = w->ret = w->txr = NULL;
	for (unsigned p = 0; p < RPA_DP_MAX_PORTS; p++) {
		rte_pktmbuf_free_bulk(w->txb[p].pkts, w->txb[p].n);
		w->txb[p].n = 0;
	}
}
