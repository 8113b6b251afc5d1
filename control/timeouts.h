/* Media and final timeouts: once a second or so the main loop reads every stream's idle
 * time from the dataplane (paged list) and finds calls whose media stopped (no packet on
 * any of their streams for --media-timeout seconds, counted from the later of the last
 * packet, the call's last change and the last dataplane sync) and calls older than
 * --final-timeout. A media timeout is reported once per silence: it is reported again
 * only after media came back. Main thread. */
#ifndef RTPANCHOR_CONTROL_TIMEOUTS_H
#define RTPANCHOR_CONTROL_TIMEOUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "dpsync.h"
#include "options.h"

enum timeout_kind {
	TIMEOUT_MEDIA = 1, /* event media-timeout; `remove` with --media-timeout-delete */
	TIMEOUT_FINAL,	   /* always removes */
};

struct timeout_hit {
	char call_id[CALL_ID_MAX + 1];
	enum timeout_kind kind;
	bool remove;
	uint64_t idle_ms; /* media: how long it has been silent */
};

struct timeouts;

struct timeouts *timeouts_create(const struct options *o);
void timeouts_destroy(struct timeouts *t);

/* One pass at now_ms (CLOCK_REALTIME ms). Stores up to cap hits in out and returns how
 * many; the rest are found by the next pass. Media timeouts are checked only while the
 * dataplane is up (its idle times are the evidence). */
unsigned timeouts_check(struct timeouts *t, struct calls *calls, struct dpsync *d, uint64_t now_ms,
			struct timeout_hit *out, unsigned cap);

/* Forget a call (it was removed). */
void timeouts_forget(struct timeouts *t, uint64_t dp_tag);

#endif
