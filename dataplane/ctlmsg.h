/* Control-socket message handling: validate one request datagram, execute it against the
 * session table / neighbour table / counters, and build exactly one reply. No I/O, so it is
 * unit-testable and the socket code stays dumb. Main lcore only. */
#ifndef DP_CTLMSG_H
#define DP_CTLMSG_H

#include <stddef.h>
#include <stdint.h>

/* Random per process start; reported by HELLO so control knows to replay its state. */
extern uint64_t ctlmsg_boot_id;

/* req/len: the datagram as received (len may be anything, including 0 or more than
 * RPA_DP_MSG_MAX when truncated=1). reply: RPA_DP_MSG_MAX bytes. Returns the reply length.
 * A malformed, truncated, unknown or wrong-version request gets an error reply and changes
 * nothing. */
size_t ctlmsg_handle(const void *req, size_t len, int truncated, void *reply);

#endif
