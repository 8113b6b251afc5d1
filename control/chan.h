/* The Redis connection of rtpanchor-control (hiredis, blocking with timeouts): connect
 * with AUTH/SELECT and the consumer group, reconnect with exponential backoff, read
 * command entries, and send transactions without waiting for their replies. Two
 * connections make one channel: one carries only XREADGROUP, so the next read (even a
 * blocking one) can be in flight while the batch read before it is still being applied
 * and committed on the other; they fail and come back together. Main thread only. Each
 * change of the channel's state is logged once, not each retry. */
#ifndef RTPANCHOR_CONTROL_CHAN_H
#define RTPANCHOR_CONTROL_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "options.h"
#include "txn.h"

#define CHAN_GROUP	    "rtpanchor"
#define CHAN_BLOCK_MAX_MS   1000 /* longest XREADGROUP BLOCK */
#define CHAN_BACKOFF_MIN_MS 50
#define CHAN_BACKOFF_MAX_MS 2000

struct chan;

struct chan *chan_create(const struct options *o);
void chan_destroy(struct chan *ch);

bool chan_up(const struct chan *ch);
/* Connect if down and the backoff allows it at now_ms (CLOCK_MONOTONIC ms): connect,
 * AUTH, SELECT, XGROUP CREATE <prefix>commands rtpanchor 0 MKSTREAM (an existing group
 * is fine). Returns 0 when up (also when it already was), -EAGAIN while waiting for the
 * backoff, or the failure (then the next attempt waits twice as long, up to 2 s). */
int chan_connect(struct chan *ch, uint64_t now_ms);
/* When the next connect attempt may run (CLOCK_MONOTONIC ms). */
uint64_t chan_retry_at(const struct chan *ch);
/* How many times the connection came up (1 after the first connect). */
unsigned chan_generation(const struct chan *ch);
/* Drop the connection after a failure in `what`; logged once. */
void chan_fail(struct chan *ch, const char *what);

/* One command. Returns the reply (an error reply is a reply: check its type), or NULL
 * when the connection failed (then the channel is down). freeReplyObject() it. No
 * transaction may be in flight (chan_inflight() == 0): their replies come first. */
redisReply *chan_call(struct chan *ch, int argc, const char *const *argv, const size_t *lens);
/* Commands already RESP-encoded in buf, nreplies answers expected. Fills replies[] and
 * returns 0, or -EIO when the connection failed (the channel is down; replies received
 * before the failure are filled, the rest NULL). No transaction may be in flight. */
int chan_pipeline(struct chan *ch, const char *buf, size_t len, unsigned nreplies,
		  redisReply **replies);

/* An XREADGROUP GROUP rtpanchor <node> COUNT count [BLOCK block_ms] STREAMS
 * <prefix>commands <id>: id "0" (or a later ID) for our pending entries, ">" for new
 * ones; block_ms < 0: no BLOCK (0 would block forever: use >= 1). */
struct chan_readreq {
	const char *id;
	unsigned count;
	int block_ms;
};

/* Send a read on the read connection; at most one is in flight. Returns 0, or -EIO when
 * the connection failed. */
int chan_read_start(struct chan *ch, const struct chan_readreq *rq);
bool chan_read_pending(const struct chan *ch);
/* Wait for the reply of the read in flight. Returns 0 with *out set (a nil reply when
 * nothing came), -EIO when the connection failed, or -EPROTO for an error reply (logged;
 * a missing group is created again). *out is freed with chan_read_free (not
 * freeReplyObject: it lives in the channel's arena), before the next chan_read_finish; it
 * stays valid until then, also when the connection fails meanwhile. */
int chan_read_finish(struct chan *ch, redisReply **out);
/* Free the reply of chan_read_finish (NULL is fine). */
void chan_read_free(struct chan *ch, redisReply *r);
/* While a read is in flight and transactions too: wait until the read's reply may be
 * there (data, an error, or the reply timeout) or until replies of transactions arrive
 * first. Returns true for the latter (collect them, then call again), false when the
 * caller should go on to chan_read_finish. */
bool chan_wait_commit(struct chan *ch);
/* chan_read_start and chan_read_finish. */
int chan_read(struct chan *ch, const struct chan_readreq *rq, redisReply **out);

/* Send txns[0..n) (skipping those that failed to build) without waiting for their
 * replies; they are in flight until chan_collect reads them, oldest first. Returns 0, or
 * -EIO when the connection failed (the channel is down: nothing is in flight any more). */
int chan_send(struct chan *ch, struct txn *const *txns, unsigned n);
/* Transactions sent and not collected (0 whenever the channel is down). */
unsigned chan_inflight(const struct chan *ch);
/* Read the replies of t, the oldest transaction in flight (as sent: skip one that failed
 * to build, it was not sent). A command that fails inside a transaction (a reply-to of
 * the wrong type...) is logged; the transaction still counts as committed. With `wait`
 * false, returns -EAGAIN unless its replies have all arrived already. Returns 0, -EAGAIN,
 * or -EIO when the connection failed. */
int chan_collect(struct chan *ch, const struct txn *t, bool wait);
/* Send txns[0..n) and wait for their replies. Returns how many were committed, in
 * order: n, or fewer when the connection failed (the rest must be retried). Nothing else
 * may be in flight. */
unsigned chan_commit(struct chan *ch, struct txn *const *txns, unsigned n);

/* Trim the command stream: remove every entry already delivered to the group and no
 * longer pending anywhere (XTRIM MINID: the oldest pending entry, else the one after the
 * group's last delivered ID). Entries are not deleted one by one as they are
 * acknowledged; the main loop trims ten times a second, because one long trim stalls
 * Redis. Returns entries removed, or -EIO. */
long chan_trim(struct chan *ch);

#endif
