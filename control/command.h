/* Command handling: a batch of entries read from the command stream becomes replies and
 * one transaction per entry (state, stored reply, event, reply push, XACK), with the
 * dataplane writes of the whole batch pipelined in between. Also the removals that
 * timers decide (delete-delay, media and final timeouts). Main thread. */
#ifndef RTPANCHOR_CONTROL_COMMAND_H
#define RTPANCHOR_CONTROL_COMMAND_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <rtpanchor/dpclient.h>

#include "call.h"
#include "chan.h"
#include "dpsync.h"
#include "options.h"
#include "outbox.h"
#include "timeouts.h"

#define COMMAND_BATCH_MAX 256 /* entries per XREADGROUP */

struct command_ctx {
	const struct options *o;
	struct calls *calls;
	struct portalloc *ports[OPTIONS_MAX_IFACES];
	struct dpsync *dp;
	struct chan *ch;
	struct timeouts *to;
	struct outbox *outbox;
	uint64_t started_ms;		       /* CLOCK_REALTIME */
	uint64_t streams;		       /* dataplane streams the calls need */
	uint64_t ops[ENTRY_OP_STATISTICS + 1]; /* commands handled, by op */
	struct dpclient_stats *dpstats;	       /* scratch for statistics */
	/* Scratch for call_streams. */
	struct call_stream *before, *after;
	unsigned before_cap, after_cap;
	struct item *items; /* COMMAND_BATCH_MAX of them (command.c), allocated once */
};

/* Free what command_batch allocated in x. */
void command_free(struct command_ctx *x);

/* Handle the entries of one XREADGROUP reply (`reply` as chan_read returned it). With
 * `redelivered` (entries read by ID, i.e. pending ones), an entry whose stored reply
 * exists gets that reply again and is not applied. Transactions go to the outbox.
 * *last_id receives the last entry ID (for paging pending entries; "" if none).
 * Returns the number of entries, or -EIO when Redis failed during the stored-reply check
 * (nothing was applied). */
int command_batch(struct command_ctx *x, const redisReply *reply, bool redelivered,
		  uint64_t read_ns, char *last_id, size_t last_len);

/* Remove a call now for `reason` ("delete-delay", "media-timeout", "final-timeout"):
 * its streams, its ports, its state (DEL + SREM) and an event call-deleted, added to t.
 * The caller brackets a run of these with dpsync_begin/dpsync_flush. */
void command_remove(struct command_ctx *x, struct call *c, const char *reason, uint64_t now_ms,
		    struct txn *t);

/* The number of streams all calls need (walks every call). */
uint64_t command_count_streams(struct command_ctx *x);

#endif
