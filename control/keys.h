/* Names of control's Redis keys, all under --key-prefix (default "rtpanchor:"):
 *   <p>commands             the command stream (consumer group rtpanchor)
 *   <p>events               the event stream
 *   <p>call:<call-id>       hash: owner, updated, state (the call as JSON)
 *   <p>node:<node>          heartbeat (JSON, short TTL)
 *   <p>node:<node>:calls    set of the node's call-ids
 *   <p>reply:<entry-id>     a command's reply, kept for redelivery
 * Pure; any thread. Each writes a NUL-terminated name into buf and returns its length
 * (truncated names are impossible with the buffer sizes below). */
#ifndef RTPANCHOR_CONTROL_KEYS_H
#define RTPANCHOR_CONTROL_KEYS_H

#include <stddef.h>

#include "entry.h"
#include "options.h"

/* Room for the longest key: prefix + "call:" + a call-id. */
#define KEYS_MAX (OPTIONS_PREFIX_MAX + 16 + ENTRY_CALL_ID_MAX + OPTIONS_NODE_MAX)

size_t keys_commands(const struct options *o, char *buf, size_t len);
size_t keys_events(const struct options *o, char *buf, size_t len);
size_t keys_call(const struct options *o, const char *call_id, char *buf, size_t len);
size_t keys_node(const struct options *o, char *buf, size_t len);
size_t keys_node_calls(const struct options *o, char *buf, size_t len);
size_t keys_reply(const struct options *o, const char *entry_id, char *buf, size_t len);

#endif
