/* Events on the stream <prefix>events (XADD ... MAXLEN ~ 100000): call-created,
 * call-deleted (with a reason), media-timeout, node-up, node-down. Each entry has the
 * fields event, node, time (CLOCK_REALTIME ms) and, where they apply, call-id, reason and
 * idle-ms. Built into a transaction; main thread. */
#ifndef RTPANCHOR_CONTROL_EVENTS_H
#define RTPANCHOR_CONTROL_EVENTS_H

#include <stdint.h>

#include "options.h"
#include "txn.h"

#define EVENTS_MAXLEN "100000"

/* call_id and reason may be NULL; idle_ms 0 = not given. */
void events_add(struct txn *t, const struct options *o, const char *event, const char *call_id,
		const char *reason, uint64_t idle_ms, uint64_t now_ms);

#endif
