/* The outbox: transactions built but not yet committed to Redis, in order. Every
 * transaction passes through it; while Redis is away they wait here (the commands they
 * answer are already applied to the call table and the dataplane) and are committed once
 * it is back, except those whose stored reply shows they were committed before the
 * connection broke. Main thread. */
#ifndef RTPANCHOR_CONTROL_OUTBOX_H
#define RTPANCHOR_CONTROL_OUTBOX_H

#include <stddef.h>

#include "chan.h"
#include "options.h"
#include "txn.h"

struct outbox {
	struct txn *q;
	size_t head, n, cap;
};

/* Called for each transaction once committed (or found committed already). */
typedef void (*outbox_done_fn)(const struct txn *t, void *arg);

/* Take ownership of *t (left empty). Returns 0 or -ENOMEM (then *t is freed). */
int outbox_push(struct outbox *ob, struct txn *t);
static inline size_t outbox_len(const struct outbox *ob)
{
	return ob->n;
}
/* Commit what is queued. With `check`, first ask Redis (one pipelined EXISTS per entry)
 * which stored replies exist, and drop those transactions. With rq (not with check), the
 * read is pipelined after the last transactions, its outcome in *read_rc / *read_out as
 * chan_commit gives them. Returns 0 when the outbox is empty, or -EIO when the
 * connection failed (the rest stays queued). */
int outbox_flush(struct outbox *ob, struct chan *ch, const struct options *o, bool check,
		 outbox_done_fn done, void *arg, const struct chan_readreq *rq,
		 redisReply **read_out, int *read_rc);
void outbox_free(struct outbox *ob);

#endif
