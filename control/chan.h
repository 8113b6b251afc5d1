/* The Redis connection of rtpanchor-control (hiredis, blocking with timeouts): connect
 * with AUTH/SELECT and the consumer group, reconnect with exponential backoff, read
 * command entries, and commit transactions pipelined. Main thread only. Each change of
 * the connection's state is logged once, not each retry. */
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
 * when the connection failed (then the channel is down). freeReplyObject() it. */
redisReply *chan_call(struct chan *ch, int argc, const char *const *argv, const size_t *lens);
/* Commands already RESP-encoded in buf, nreplies answers expected. Fills replies[] and
 * returns 0, or -EIO when the connection failed (the channel is down; replies received
 * before the failure are filled, the rest NULL). */
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

/* Read entries. Returns 0 with *out set (a nil reply when nothing came), -EIO when the
 * connection failed, or -EPROTO for an error reply (logged; a missing group is created
 * again). */
int chan_read(struct chan *ch, const struct chan_readreq *rq, redisReply **out);

/* Commit txns[0..n) in one pipeline. Returns how many were committed, in order: n, or
 * fewer when the connection failed (the channel is down and the rest must be retried).
 * A command that fails inside a transaction (a reply-to of the wrong type...) is logged;
 * the transaction still counts as committed. A txn that failed to build is skipped.
 * With rq, the read is sent in the same pipeline, after the transactions (one round trip
 * for both): *read_rc and *read_out are set as by chan_read (-EIO if not reached). */
unsigned chan_commit(struct chan *ch, struct txn *const *txns, unsigned n,
		     const struct chan_readreq *rq, redisReply **read_out, int *read_rc);

/* Trim the command stream: remove every entry already delivered to the group and no
 * longer pending anywhere (XTRIM MINID: the oldest pending entry, else the one after the
 * group's last delivered ID). Entries are not deleted one by one as they are
 * acknowledged; this runs about once a second. Returns entries removed, or -EIO. */
long chan_trim(struct chan *ch);

#endif
