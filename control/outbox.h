/* The outbox: transactions built but not yet committed to Redis, in order. Every
 * transaction passes through it: sent without waiting (its replies are collected later,
 * so the next batch is read and applied meanwhile), and popped once Redis confirmed it.
 * While Redis is away they wait here (the commands they answer are already applied to
 * the call table and the dataplane) and are committed once it is back, except those
 * whose stored reply shows they were committed before the connection broke. Main
 * thread. */
#ifndef RTPANCHOR_CONTROL_OUTBOX_H
#define RTPANCHOR_CONTROL_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "chan.h"
#include "options.h"
#include "txn.h"

struct outbox {
	struct txn *q;
	size_t head, n, cap;
	size_t nsent; /* the first nsent are in flight on the channel... */
	unsigned gen; /* ...of this generation (chan_generation) */
};

/* Called for each transaction once committed (or found committed already). */
typedef void (*outbox_done_fn)(const struct txn *t, void *arg);

/* Take ownership of *t (left empty). Returns 0 or -ENOMEM (then *t is freed). */
int outbox_push(struct outbox *ob, struct txn *t);
static inline size_t outbox_len(const struct outbox *ob)
{
	return ob->n;
}
/* Send what is queued and not sent yet, without waiting for the replies. Returns 0, or
 * -EIO when the connection failed (everything stays queued). */
int outbox_send(struct outbox *ob, struct chan *ch);
/* Pop the transactions in flight whose replies came, oldest first, calling done for
 * each; with `wait`, wait for all of them. Returns 0 (also when some are still in flight
 * and !wait), or -EIO when the connection failed (the rest stays queued, to be sent
 * again). */
int outbox_collect(struct outbox *ob, struct chan *ch, bool wait, outbox_done_fn done, void *arg);
/* Commit everything queued and wait for it. With `check`, first ask Redis (one pipelined
 * EXISTS per transaction that stores a reply) which were committed already, and drop
 * those. Returns 0 when the outbox is empty, or -EIO when the connection failed (the
 * rest stays queued). */
int outbox_flush(struct outbox *ob, struct chan *ch, const struct options *o, bool check,
		 outbox_done_fn done, void *arg);
void outbox_free(struct outbox *ob);

#endif
