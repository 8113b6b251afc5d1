/* The node's heartbeat: SET <prefix>node:<node> <JSON> EX 10, every 3 s, so other nodes
 * and operators see which nodes are alive. Main thread. */
#ifndef RTPANCHOR_CONTROL_HEARTBEAT_H
#define RTPANCHOR_CONTROL_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "options.h"

#define HEARTBEAT_INTERVAL_MS 3000
#define HEARTBEAT_TTL_S	      10

struct heartbeat_info {
	uint64_t started_ms; /* CLOCK_REALTIME */
	uint64_t now_ms;
	unsigned calls;
	bool dataplane_up;
	uint64_t dataplane_boot_id;
};

/* Returns 0, or -EIO when the connection failed. */
int heartbeat_send(struct chan *ch, const struct options *o, const struct heartbeat_info *hi);

#endif
