/* Call state in Redis (see store.h). Main thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "jsonenc.h"
#include "keys.h"
#include "log.h"
#include "store.h"

#define STORE_CHUNK 512 /* states read, or calls written, per round trip */

void store_put(struct txn *t, const struct options *o, const struct call *c, bool add)
{
	char key[KEYS_MAX], set[KEYS_MAX], updated[TXN_U64_LEN];
	/* Kept across calls: the state is encoded for every command. */
	static struct jsonenc enc;
	const char *argv[8];
	size_t lens[8];

	jsonenc_reset(&enc);
	call_state_write(c, &enc);
	if (enc.failed) {
		log_error("store: cannot encode the state of call %s (out of memory)", call_id(c));
		t->failed = true;
		return;
	}
	keys_call(o, call_id(c), key, sizeof(key));
	txn_u64(call_updated_ms(c), updated);
	argv[0] = "HSET";
	argv[1] = key;
	argv[2] = "owner";
	argv[3] = call_owner(c);
	argv[4] = "updated";
	argv[5] = updated;
	argv[6] = "state";
	argv[7] = enc.p;
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	lens[7] = enc.len;
	txn_cmd(t, 8, argv, lens);
	if (add) {
		keys_node_calls(o, set, sizeof(set));
		txn_cmdl(t, "SADD", set, call_id(c), NULL);
	}
}

void store_del(struct txn *t, const struct options *o, const char *call_id)
{
	char key[KEYS_MAX], set[KEYS_MAX];

	keys_call(o, call_id, key, sizeof(key));
	keys_node_calls(o, set, sizeof(set));
	txn_cmdl(t, "DEL", key, NULL);
	txn_cmdl(t, "SREM", set, call_id, NULL);
}

static bool valid_id(const redisReply *r)
{
	if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > ENTRY_CALL_ID_MAX)
		return false;
	for (size_t i = 0; i < r->len; i++)
		if ((unsigned char)r->str[i] <= 0x20 || (unsigned char)r->str[i] >= 0x7f)
			return false;
	return true;
}

/* Restore one call from its HGET reply. Returns 1 loaded, 0 skipped, -1 failed. */
static int restore_one(const struct options *o, struct calls *calls, const char *id,
		       const redisReply *r, struct txn *cleanup)
{
	char err[CALL_ERRLEN], set[KEYS_MAX];
	json_error_t jerr;
	struct call *c;
	json_t *j;
	int rc;

	if (r->type == REDIS_REPLY_NIL) {
		log_warning("store: call %s is in the node's set but has no state; dropping it "
			    "from the set",
			    id);
		keys_node_calls(o, set, sizeof(set));
		txn_cmdl(cleanup, "SREM", set, id, NULL);
		return 0;
	}
	if (r->type != REDIS_REPLY_STRING) {
		log_error("store: call %s: unexpected reply type %d for its state", id, r->type);
		return -1;
	}
	j = json_loadb(r->str, r->len, 0, &jerr);
	if (j == NULL) {
		log_error("store: call %s: its state is not JSON (%s at offset %d); left in Redis",
			  id, jerr.text, jerr.position);
		return -1;
	}
	err[0] = '\0';
	rc = calls_restore(calls, j, &c, err, sizeof(err));
	json_decref(j);
	if (rc == -EEXIST)
		return 0;
	if (rc < 0) {
		log_error("store: call %s cannot be restored: %s; left in Redis", id,
			  err[0] != '\0' ? err : strerror(-rc));
		return -1;
	}
	return 1;
}

int store_load(struct chan *ch, const struct options *o, struct calls *calls, unsigned *loaded,
	       unsigned *failed)
{
	char set[KEYS_MAX], key[KEYS_MAX];
	const char *argv[] = {"SMEMBERS", set};
	redisReply *members, **rep = NULL;
	struct txn batch, cleanup;
	size_t i, k, n;
	int rc = 0;

	*loaded = *failed = 0;
	keys_node_calls(o, set, sizeof(set));
	members = chan_call(ch, 2, argv, NULL);
	if (members == NULL)
		return -EIO;
	if (members->type != REDIS_REPLY_ARRAY) {
		log_error("store: SMEMBERS %s: %s", set,
			  members->type == REDIS_REPLY_ERROR ? members->str : "not a set");
		freeReplyObject(members);
		return 0;
	}
	rep = calloc(STORE_CHUNK, sizeof(*rep));
	if (rep == NULL) {
		freeReplyObject(members);
		return -ENOMEM;
	}
	memset(&cleanup, 0, sizeof(cleanup));
	for (i = 0; i < members->elements && rc == 0; i += STORE_CHUNK) {
		n = members->elements - i < STORE_CHUNK ? members->elements - i : STORE_CHUNK;
		memset(&batch, 0, sizeof(batch));
		for (k = 0; k < n; k++) {
			const redisReply *m = members->element[i + k];
			const char *id = valid_id(m) ? m->str : "";

			keys_call(o, id, key, sizeof(key));
			txn_cmdl(&batch, "HGET", key, "state", NULL);
		}
		if (batch.failed) {
			rc = -ENOMEM;
		} else {
			rc = chan_pipeline(ch, batch.buf, batch.len, (unsigned)n, rep);
		}
		for (k = 0; k < n && rc == 0; k++) {
			const redisReply *m = members->element[i + k];

			if (!valid_id(m)) {
				log_error("store: the node's set %s holds a malformed call-id; "
					  "ignored",
					  set);
				(*failed)++;
				continue;
			}
			switch (restore_one(o, calls, m->str, rep[k], &cleanup)) {
			case 1:
				(*loaded)++;
				break;
			case -1:
				(*failed)++;
				break;
			}
		}
		for (k = 0; k < n; k++)
			if (rep[k] != NULL)
				freeReplyObject(rep[k]);
		txn_free(&batch);
	}
	if (rc == 0 && cleanup.ncmds > 0 && !cleanup.failed) {
		redisReply **all = calloc(cleanup.ncmds, sizeof(*all));

		if (all == NULL) {
			rc = -ENOMEM;
		} else {
			rc = chan_pipeline(ch, cleanup.buf, cleanup.len, cleanup.ncmds, all);
			for (k = 0; k < cleanup.ncmds; k++)
				if (all[k] != NULL)
					freeReplyObject(all[k]);
			free(all);
		}
	}
	txn_free(&cleanup);
	free(rep);
	freeReplyObject(members);
	return rc == -ENOMEM ? -ENOMEM : rc < 0 ? -EIO : 0;
}

struct write_all {
	const struct options *o;
	struct txn t;
	unsigned n;
};

static int add_call(struct call *c, void *arg)
{
	struct write_all *w = arg;

	if (w->n == 0)
		txn_init(&w->t, NULL);
	store_put(&w->t, w->o, c, true);
	w->n++;
	return 0;
}

int store_write_all(struct chan *ch, const struct options *o, struct calls *calls)
{
	struct write_all w = {.o = o};
	struct txn *tp = &w.t;
	unsigned done;

	/* One transaction for everything keeps the set and the hashes consistent; the
	 * commands are small, so even 100k calls are one quick EXEC. */
	calls_walk(calls, add_call, &w);
	if (w.n == 0)
		return 0;
	txn_end(&w.t);
	done = chan_commit(ch, &tp, 1);
	txn_free(&w.t);
	if (done != 1)
		return -EIO;
	log_info("store: wrote the state of %u call(s) again after reconnecting", w.n);
	return 0;
}
