/* Call state in Redis: one hash per call (<prefix>call:<call-id>: owner, updated, state =
 * call_to_json) and the node's set of call-ids (<prefix>node:<node>:calls). Writes are
 * added to a command's transaction, so the state is committed with (and before) the
 * reply; loading runs at start. Main thread. */
#ifndef RTPANCHOR_CONTROL_STORE_H
#define RTPANCHOR_CONTROL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "chan.h"
#include "options.h"
#include "txn.h"

/* HSET the call's hash; with `add` also SADD it to the node's set (a new call). */
void store_put(struct txn *t, const struct options *o, const struct call *c, bool add);
/* DEL the call's hash and SREM it from the node's set. */
void store_del(struct txn *t, const struct options *o, const char *call_id);

/* Load the node's calls: SMEMBERS of the node's set, the state of each (pipelined), and
 * calls_restore. A member without state is removed from the set; a state that does not
 * restore is logged and left in Redis for an operator. Calls already in the table are
 * skipped, so a load cut short by a lost connection can simply run again. Returns 0 (with
 * the counts), or -EIO when the connection failed. */
int store_load(struct chan *ch, const struct options *o, struct calls *calls, unsigned *loaded,
	       unsigned *failed);

/* Write every call's state again (after Redis came back: it may have lost writes).
 * Returns 0 or -EIO. */
int store_write_all(struct chan *ch, const struct options *o, struct calls *calls);

#endif
