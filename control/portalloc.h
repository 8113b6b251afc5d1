/* Relay port allocation for one media address: even RTP ports with RTCP on +1, taken from
 * [min, max], released into a quarantine so a late packet of an old call never reaches a
 * new one. Single-threaded (the control main loop); no I/O. */
#ifndef RTPANCHOR_PORTALLOC_H
#define RTPANCHOR_PORTALLOC_H

#include <stdint.h>

struct portalloc;

/* Ports min..max inclusive; min is rounded up and max down so that every pair (even,
 * even+1) lies inside. quarantine_ms: how long a released pair stays unusable.
 * Returns NULL with errno EINVAL (fewer than one pair, min 0...) or ENOMEM. */
struct portalloc *portalloc_create(uint16_t min, uint16_t max, uint32_t quarantine_ms);
void portalloc_destroy(struct portalloc *pa);

/* Take a free pair; *rtp receives the even port. Pairs are handed out in a rotating
 * order (not always the lowest) so ports are reused as late as possible.
 * Returns 0, or -ENOSPC when every pair is in use or in quarantine. */
int portalloc_get(struct portalloc *pa, uint64_t now_ms, uint16_t *rtp);
/* Take a specific pair (restoring calls from Redis). -ERANGE outside the range or odd,
 * -EBUSY when in use (in quarantine is allowed: the call owned it before a restart). */
int portalloc_reserve(struct portalloc *pa, uint16_t rtp);
/* Release a pair taken by get or reserve into quarantine until now_ms + quarantine_ms.
 * Releasing a pair that is not in use is ignored (returns -ENOENT). */
int portalloc_put(struct portalloc *pa, uint16_t rtp, uint64_t now_ms);
/* Give back a pair taken by get or reserve that was never published (a command that failed
 * after allocating): it becomes free at once, first in line, without quarantine.
 * -ERANGE as for reserve, -ENOENT when the pair is not in use. */
int portalloc_cancel(struct portalloc *pa, uint16_t rtp);

/* Pairs that get() could hand out at now_ms, pairs in use, and the total. */
unsigned portalloc_free(const struct portalloc *pa, uint64_t now_ms);
unsigned portalloc_used(const struct portalloc *pa);
unsigned portalloc_total(const struct portalloc *pa);

#endif
