/* Programming the dataplane: the connection (dpclient, with timeouts and reconnects),
 * the stream writes that turn a call's streams before a command into its streams after
 * it (queued, then sent pipelined), and reconciliation — making the dataplane's table
 * exactly the streams the calls need — after control starts and whenever the dataplane
 * connection comes back (a new boot_id means it lost everything). Main thread only. */
#ifndef RTPANCHOR_CONTROL_DPSYNC_H
#define RTPANCHOR_CONTROL_DPSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rtpanchor/dpclient.h>

#include "call.h"
#include "options.h"

#define DPSYNC_WARNLEN 256

struct dpsync;

/* The ops of one command in the queue, for its warning once the queue is flushed. */
struct dpsync_mark {
	unsigned first, count;
	bool down; /* the dataplane was unavailable: nothing was queued */
};

struct dpsync *dpsync_create(const struct options *o);
void dpsync_destroy(struct dpsync *d);

bool dpsync_up(const struct dpsync *d);
/* Why the dataplane is unavailable ("" while up). */
const char *dpsync_error(const struct dpsync *d);
/* The connection for reads (list, get, stats), NULL while down. After a local failure of
 * such a call (not a refusal: dpclient_remote_error false), call dpsync_fail. */
struct dpclient *dpsync_client(struct dpsync *d);
void dpsync_fail(struct dpsync *d, const char *what, int err);

/* Keep the connection: when up, a HELLO (detects a restarted dataplane by its boot_id);
 * when down, a connect attempt once the backoff (250 ms doubling to 2 s) allows it.
 * Returns 1 when the caller must reconcile now (connected again, or a new boot_id), 0
 * when nothing changed, or a negative errno while down. */
int dpsync_tick(struct dpsync *d, uint64_t now_ms);

/* Start a new queue of writes (a batch of commands, or timer work); marks of the
 * previous queue become invalid. */
void dpsync_begin(struct dpsync *d);
/* Queue the writes that turn `before` into `after` for one call: delete streams whose
 * local endpoint is gone, add those that are new or differ. Nothing is queued while the
 * dataplane is down (m->down; reconciliation catches up). */
void dpsync_diff(struct dpsync *d, const struct call_stream *before, unsigned nb,
		 const struct call_stream *after, unsigned na, struct dpsync_mark *m);
/* Start sending the writes queued since the last flush without waiting for the
 * dataplane, so the caller can work meanwhile; dpsync_flush completes them. Nothing else
 * may use the connection in between. */
void dpsync_send(struct dpsync *d);
/* Send the writes queued since the last flush, pipelined, in order, and wait for every
 * answer. */
void dpsync_flush(struct dpsync *d);
/* After the flush that sent them: "" when the command's writes all succeeded, else a
 * warning for its reply. */
void dpsync_warning(const struct dpsync *d, const struct dpsync_mark *m, char *buf, size_t len);

/* Make the dataplane hold exactly the streams of every call in `calls`: delete the
 * streams no call owns, add the missing ones, replace those that differ (a stream whose
 * peer or source was learnt by latching, where the call leaves it open, is kept as it
 * is, so media is not disturbed). Counts go to the pointers (may be NULL). Returns 0 or
 * a negative errno (then the connection is down and the next dpsync_tick retries). */
int dpsync_reconcile(struct dpsync *d, struct calls *calls, unsigned *added, unsigned *removed,
		     unsigned *kept);

/* Streams of one call into a growable array owned by the caller: *buf (malloc'd, may be
 * NULL) of *cap entries. Returns how many, or 0 when out of memory. */
unsigned dpsync_call_streams(const struct call *c, struct call_stream **buf, unsigned *cap);

/* The time of the last successful reconciliation (CLOCK_REALTIME ms), 0 before. Idle
 * times the dataplane reports start no earlier than this. */
uint64_t dpsync_synced_ms(const struct dpsync *d);

#endif
