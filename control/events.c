/* Event entries (see events.h). Main thread. */
#include <inttypes.h>
#include <stdio.h>

#include "events.h"
#include "keys.h"

void events_add(struct txn *t, const struct options *o, const char *event, const char *call_id,
		const char *reason, uint64_t idle_ms, uint64_t now_ms)
{
	char key[KEYS_MAX], when[TXN_U64_LEN], idle[TXN_U64_LEN];
	const char *argv[18];
	int argc = 0;

	keys_events(o, key, sizeof(key));
	txn_u64(now_ms, when);
	argv[argc++] = "XADD";
	argv[argc++] = key;
	argv[argc++] = "MAXLEN";
	argv[argc++] = "~";
	argv[argc++] = EVENTS_MAXLEN;
	argv[argc++] = "*";
	argv[argc++] = "event";
	argv[argc++] = event;
	argv[argc++] = "node";
	argv[argc++] = o->node;
	argv[argc++] = "time";
	argv[argc++] = when;
	if (call_id != NULL) {
		argv[argc++] = "call-id";
		argv[argc++] = call_id;
	}
	if (reason != NULL) {
		argv[argc++] = "reason";
		argv[argc++] = reason;
	}
	if (idle_ms != 0) {
		txn_u64(idle_ms, idle);
		argv[argc++] = "idle-ms";
		argv[argc++] = idle;
	}
	txn_cmd(t, argc, argv, NULL);
}
