/* Heartbeat key (see heartbeat.h). Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "heartbeat.h"
#include "keys.h"
#include "log.h"

int heartbeat_send(struct chan *ch, const struct options *o, const struct heartbeat_info *hi)
{
	char key[KEYS_MAX], ttl[16], boot[24];
	const char *argv[5];
	redisReply *r;
	json_t *j;
	char *s;

	snprintf(boot, sizeof(boot), "%016llx", (unsigned long long)hi->dataplane_boot_id);
	j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:s}", "node", o->node, "version",
		      RPA_VERSION, "pid", (json_int_t)getpid(), "started",
		      (json_int_t)hi->started_ms, "time", (json_int_t)hi->now_ms, "calls",
		      (json_int_t)hi->calls, "dataplane", hi->dataplane_up, "dataplane-boot-id",
		      boot);
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		return -ENOMEM;
	keys_node(o, key, sizeof(key));
	snprintf(ttl, sizeof(ttl), "%d", HEARTBEAT_TTL_S);
	argv[0] = "SET";
	argv[1] = key;
	argv[2] = s;
	argv[3] = "EX";
	argv[4] = ttl;
	r = chan_call(ch, 5, argv, NULL);
	free(s);
	if (r == NULL)
		return -EIO;
	if (r->type == REDIS_REPLY_ERROR)
		log_warning("heartbeat: SET %s refused: %.200s", key, r->str);
	freeReplyObject(r);
	return 0;
}
