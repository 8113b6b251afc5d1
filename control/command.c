/* Command handling (see command.h). Main thread. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command.h"
#include "events.h"
#include "keys.h"
#include "log.h"
#include "reply.h"
#include "store.h"

#define WARN_MAX (CALL_ERRLEN + DPSYNC_WARNLEN + 4)

struct item {
	char id[ENTRY_ID_MAX];
	bool deleted; /* the entry's fields are gone (XDEL'd while pending) */
	struct entry e;
	int parse_rc;
	const redisReply *stored; /* its stored reply (a redelivery) */
	struct txn t;		  /* its commands, without MULTI/EXEC (see commit_batch) */
	const char *count_op, *count_result; /* for metrics; result NULL = not counted */
	/* Outcome, turned into the reply once the dataplane writes are flushed. */
	const char *result; /* "ok", "error", "pong"; NULL = no reply */
	bool has_r;	    /* r is set (apply cleared it first) */
	struct dpsync_mark mark;
	bool has_mark;
	json_t *extra;
	/* State to write once the dataplane writes are on their way (see store_pending). */
	struct call *store_call;
	bool store_add;
	/* Text buffers last: item_reset clears only their first byte. */
	char err[ENTRY_ERRLEN];
	char error[CALL_ERRLEN];
	char warning[WARN_MAX];
	struct call_result r;
};

/* An empty item keeping its command list's buffers (reused batch after batch). Not a
 * memset of the whole item: it holds a few kilobytes of text buffers. */
static void item_reset(struct item *it)
{
	struct txn keep = it->t;

	memset(it, 0, offsetof(struct item, err));
	it->err[0] = it->error[0] = it->warning[0] = '\0';
	it->t = keep;
	txn_clear(&it->t);
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void append_warning(char *buf, size_t len, const char *w)
{
	size_t n = strlen(buf);

	if (w == NULL || w[0] == '\0' || n + 3 >= len)
		return;
	snprintf(buf + n, len - n, "%s%s", n > 0 ? "; " : "", w);
}

static int count_one(struct call *c, void *arg)
{
	*(uint64_t *)arg += call_streams(c, NULL, 0);
	return 0;
}

uint64_t command_count_streams(struct command_ctx *x)
{
	uint64_t n = 0;

	calls_walk(x->calls, count_one, &n);
	return n;
}

/* ---- read-only ops ---- */

static int list_one(struct call *c, void *arg)
{
	return json_array_append_new(arg, json_string(call_id(c))) < 0 ? -1 : 0;
}

static json_t *do_list(struct command_ctx *x)
{
	json_t *a = json_array();

	if (a == NULL || calls_walk(x->calls, list_one, a) != 0) {
		json_decref(a);
		return NULL;
	}
	return json_pack("{s:o, s:I}", "calls", a, "count", (json_int_t)json_array_size(a));
}

static json_t *do_statistics(struct command_ctx *x, uint64_t now_ms, char *warning, size_t wlen)
{
	json_t *cmds = json_object(), *ifs = json_array(), *dp;
	char a1[RPA_ADDR_STRLEN], a2[RPA_ADDR_STRLEN];
	uint64_t rx = 0, tx = 0, drops = 0, nstreams = 0;
	bool dp_ok = false;
	int rc;

	for (int op = ENTRY_OP_PING; op <= ENTRY_OP_STATISTICS; op++)
		json_object_set_new(cmds, entry_op_name((enum entry_op)op),
				    json_integer((json_int_t)x->ops[op]));
	for (unsigned i = 0; i < x->o->nifaces; i++) {
		const struct options_iface *f = &x->o->ifaces[i];

		json_array_append_new(
		    ifs, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "name", f->name, "local",
				   rpa_addr_format(&f->local, a1, sizeof(a1)), "advertised",
				   rpa_addr_format(&f->advertised, a2, sizeof(a2)), "ports-free",
				   (json_int_t)portalloc_free(x->ports[i], now_ms), "ports-used",
				   (json_int_t)portalloc_used(x->ports[i]), "ports-total",
				   (json_int_t)portalloc_total(x->ports[i])));
	}
	if (dpsync_up(x->dp)) {
		rc = dpclient_stats(dpsync_client(x->dp), x->dpstats);
		if (rc == 0) {
			dp_ok = true;
			nstreams = x->dpstats->hdr.streams;
			for (unsigned i = 0; i < x->dpstats->hdr.nports; i++) {
				rx += x->dpstats->ports[i].rx_pkts;
				tx += x->dpstats->ports[i].tx_pkts;
				drops += x->dpstats->ports[i].drops;
			}
		} else if (!dpclient_remote_error(dpsync_client(x->dp))) {
			dpsync_fail(x->dp, "stats", rc);
		}
	}
	if (dp_ok)
		dp = json_pack("{s:b, s:I, s:I, s:I, s:I}", "up", 1, "streams",
			       (json_int_t)nstreams, "rx-packets", (json_int_t)rx, "tx-packets",
			       (json_int_t)tx, "drops", (json_int_t)drops);
	else
		dp = json_pack("{s:b, s:s}", "up", 0, "error", dpsync_error(x->dp));
	if (!dp_ok)
		snprintf(warning, wlen, "dataplane unavailable: %s", dpsync_error(x->dp));
	return json_pack("{s:{s:s, s:s, s:I, s:I, s:I, s:o, s:{s:I}, s:o, s:o}}", "statistics",
			 "node", x->o->node, "version", RPA_VERSION, "uptime-ms",
			 (json_int_t)(now_ms - x->started_ms), "calls",
			 (json_int_t)calls_count(x->calls), "streams", (json_int_t)x->streams,
			 "commands", cmds, "redis", "outbox", (json_int_t)outbox_len(x->outbox),
			 "dataplane", dp, "interfaces", ifs);
}

static json_t *do_query(struct command_ctx *x, struct call *c, uint64_t now_ms, char *warning,
			size_t wlen)
{
	json_t *streams = json_array(), *s, *o;
	uint64_t tp = 0, tb = 0, td = 0, ta = 0, tr = 0, to = 0;
	struct rpa_dp_stream_info si;
	unsigned n = dpsync_call_streams(c, &x->after, &x->after_cap);
	int rc;

	/* Counters must include this batch's writes: send them first. */
	dpsync_flush(x->dp);
	for (unsigned i = 0; i < n; i++) {
		const struct call_stream *cs = &x->after[i];
		bool have = false;

		if (dpsync_up(x->dp)) {
			rc = dpclient_stream_get(dpsync_client(x->dp), &cs->dp.local, &si);
			if (rc == 0)
				have = true;
			else if (!dpclient_remote_error(dpsync_client(x->dp)))
				dpsync_fail(x->dp, "stream get", rc);
		}
		s = reply_stream(cs, have ? &si : NULL, now_ms);
		if (have) {
			tp += si.packets;
			tb += si.bytes;
			td += si.drops;
			ta += si.srtp_auth_fail;
			tr += si.srtp_replay;
			to += si.srtp_other;
		}
		json_array_append_new(streams, s);
	}
	if (!dpsync_up(x->dp))
		snprintf(warning, wlen, "dataplane unavailable (%s): no counters",
			 dpsync_error(x->dp));
	o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "call-id",
		      call_id(c), "owner", call_owner(c), "created", (json_int_t)call_created_ms(c),
		      "last-signal", (json_int_t)call_updated_ms(c), "streams", streams, "totals",
		      "packets", (json_int_t)tp, "bytes", (json_int_t)tb, "drops", (json_int_t)td,
		      "srtp-auth-fail", (json_int_t)ta, "srtp-replay", (json_int_t)tr, "srtp-other",
		      (json_int_t)to);
	if (o != NULL && call_delete_at_ms(c) != 0)
		json_object_set_new(o, "delete-at", json_integer((json_int_t)call_delete_at_ms(c)));
	return o;
}

/* ---- state-changing ops ---- */

/* The state of a changed call is encoded after the batch's dataplane writes were sent,
 * while the dataplane works on them; until then the item holds the call. */
static void store_pending(struct command_ctx *x, struct item *it)
{
	if (it->store_call == NULL)
		return;
	store_put(&it->t, x->o, it->store_call, it->store_add);
	it->store_call = NULL;
}

static void apply(struct command_ctx *x, struct item *it, uint64_t now_ms)
{
	struct call_request req = {
	    .op = it->e.op == ENTRY_OP_OFFER	? CALL_OP_OFFER
		  : it->e.op == ENTRY_OP_ANSWER ? CALL_OP_ANSWER
						: CALL_OP_DELETE,
	    .call_id = it->e.call_id,
	    .from_tag = it->e.from_tag,
	    .to_tag = it->e.to_tag,
	    .sdp = it->e.sdp,
	    .sdp_len = it->e.sdp_len,
	    .flags = it->e.flags,
	};
	struct call *c0 = calls_find(x->calls, it->e.call_id);
	unsigned nb = c0 != NULL ? dpsync_call_streams(c0, &x->before, &x->before_cap) : 0, na;
	uint64_t tag0 = c0 != NULL ? call_dp_tag(c0) : 0;
	int rc;

	/* An earlier command of this batch on the same call has not written its state yet:
	 * write it now, as it was after that command. */
	if (c0 != NULL)
		for (struct item *p = x->items; p < it; p++)
			if (p->store_call == c0)
				store_pending(x, p);
	memset(&it->r, 0, sizeof(it->r));
	rc = calls_apply(x->calls, &req, now_ms, &it->r);
	it->has_r = true;
	if (rc < 0 || it->r.status < 0) {
		it->result = "error";
		snprintf(it->error, sizeof(it->error), "%s",
			 it->r.error[0] != '\0' ? it->r.error
						: strerror(rc < 0 ? -rc : -it->r.status));
		log_info("%s %s call %s: %s", it->id, entry_op_name(it->e.op), it->e.call_id,
			 it->error);
		return;
	}
	it->result = "ok";
	append_warning(it->warning, sizeof(it->warning), it->r.warning);
	if (it->r.removed) {
		dpsync_diff(x->dp, x->before, nb, NULL, 0, &it->mark);
		store_del(&it->t, x->o, it->r.removed_id);
		events_add(&it->t, x->o, "call-deleted", it->r.removed_id, "delete", 0, now_ms);
		if (tag0 != 0)
			timeouts_forget(x->to, tag0);
		x->streams -= nb <= x->streams ? nb : x->streams;
		log_debug("%s delete: call %s removed", it->id, it->r.removed_id);
	} else if (it->r.call != NULL) {
		na = dpsync_call_streams(it->r.call, &x->after, &x->after_cap);
		dpsync_diff(x->dp, x->before, nb, x->after, na, &it->mark);
		it->store_call = it->r.call;
		it->store_add = it->r.created;
		if (it->r.created)
			events_add(&it->t, x->o, "call-created", call_id(it->r.call), NULL, 0,
				   now_ms);
		x->streams = x->streams + na >= nb ? x->streams + na - nb : 0;
		log_debug("%s %s: call %s, %u stream(s)", it->id, entry_op_name(it->e.op),
			  call_id(it->r.call), na);
	}
	it->has_mark = true;
}

void command_remove(struct command_ctx *x, struct call *c, const char *reason, uint64_t now_ms,
		    struct txn *t)
{
	char id[CALL_ID_MAX + 1];
	struct dpsync_mark m;
	unsigned nb = dpsync_call_streams(c, &x->before, &x->before_cap);

	snprintf(id, sizeof(id), "%s", call_id(c));
	dpsync_diff(x->dp, x->before, nb, NULL, 0, &m);
	timeouts_forget(x->to, call_dp_tag(c));
	calls_remove(x->calls, c, now_ms);
	x->streams -= nb <= x->streams ? nb : x->streams;
	store_del(t, x->o, id);
	events_add(t, x->o, "call-deleted", id, reason, 0, now_ms);
	log_info("call %s removed: %s", id, reason);
}

/* ---- the batch ---- */

static bool split_entry(const redisReply *en, struct item *it, const char *prefix)
{
	struct entry_str f[2 * ENTRY_FIELDS_MAX + 2];
	const redisReply *fields;
	size_t n;

	if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
	    en->element[0]->type != REDIS_REPLY_STRING ||
	    !entry_id_valid(en->element[0]->str, en->element[0]->len))
		return false;
	memcpy(it->id, en->element[0]->str, en->element[0]->len);
	it->id[en->element[0]->len] = '\0';
	fields = en->element[1];
	if (fields->type != REDIS_REPLY_ARRAY) {
		it->deleted = true;
		return true;
	}
	n = fields->elements;
	if (n > sizeof(f) / sizeof(f[0])) {
		it->parse_rc = -EINVAL;
		snprintf(it->err, sizeof(it->err), "too many fields: %zu (limit %d pairs)", n,
			 ENTRY_FIELDS_MAX);
		/* Still find reply-to so the error can be reported. */
		for (size_t i = 0; i + 1 < n; i += 2) {
			const redisReply *k = fields->element[i], *v = fields->element[i + 1];

			if (k->type == REDIS_REPLY_STRING && k->len == 8 &&
			    memcmp(k->str, "reply-to", 8) == 0 && v->type == REDIS_REPLY_STRING) {
				struct entry_str one[4] = {
				    {"reply-to", 8}, {v->str, v->len}, {"op", 2}, {"ping", 4}};
				struct entry tmp;
				char e2[ENTRY_ERRLEN];

				if (entry_parse(one, 4, prefix, &tmp, e2, sizeof(e2)) == 0) {
					it->e.reply_to = tmp.reply_to;
					it->e.reply_to_len = tmp.reply_to_len;
				}
				break;
			}
		}
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *v = fields->element[i];

		if (v->type != REDIS_REPLY_STRING) {
			f[i].ptr = "";
			f[i].len = 0;
			continue;
		}
		f[i].ptr = v->str;
		f[i].len = v->len;
	}
	it->parse_rc = entry_parse(f, n, prefix, &it->e, it->err, sizeof(it->err));
	return true;
}

/* Redelivered entries: fetch their stored replies in one round trip. */
static int fetch_stored(struct command_ctx *x, unsigned n, redisReply **rep)
{
	struct item *items = x->items;
	struct txn q = {0};
	unsigned nq = 0, i;
	int rc;

	for (i = 0; i < n; i++) {
		char key[KEYS_MAX];

		if (items[i].id[0] == '\0' || items[i].deleted)
			continue;
		keys_reply(x->o, items[i].id, key, sizeof(key));
		txn_cmdl(&q, "GET", key, NULL);
		nq++;
	}
	if (nq == 0)
		return 0;
	if (q.failed)
		return -ENOMEM;
	rc = chan_pipeline(x->ch, q.buf, q.len, nq, rep);
	txn_free(&q);
	if (rc < 0) {
		for (i = 0; i < nq; i++)
			if (rep[i] != NULL)
				freeReplyObject(rep[i]);
		return -EIO;
	}
	for (i = 0, nq = 0; i < n; i++) {
		if (items[i].id[0] == '\0' || items[i].deleted)
			continue;
		if (rep[nq]->type == REDIS_REPLY_STRING)
			items[i].stored = rep[nq];
		nq++;
	}
	return 0;
}

/* v in decimal into buf (at least 11 bytes), NUL-terminated: per command, without
 * snprintf. */
static void decimal(uint32_t v, char *buf)
{
	char tmp[12], *p = tmp + sizeof(tmp);
	size_t n;

	*--p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(buf, p, n);
}

/* The reply part of an item's commands: LPUSH + EXPIRE of the reply, preceded by the
 * stored reply when `store` (the batch's proof, see commit_batch). it->t.has_reply says
 * that a stored reply of this entry is in Redis once the batch commits: the one written
 * here, or the one a redelivered entry already had. */
static void finish_txn(struct command_ctx *x, struct item *it, const char *reply, size_t rlen,
		       bool store)
{
	char rkey[KEYS_MAX], ttl[16], sttl[16];
	const char *argv[6];
	size_t lens[6];

	if (reply == NULL || it->e.reply_to == NULL)
		return;
	if (store) {
		keys_reply(x->o, it->id, rkey, sizeof(rkey));
		decimal(x->o->stored_reply_ttl_s, sttl);
		argv[0] = "SET";
		argv[1] = rkey;
		argv[2] = reply;
		argv[3] = "EX";
		argv[4] = sttl;
		lens[0] = 3;
		lens[1] = strlen(rkey);
		lens[2] = rlen;
		lens[3] = 2;
		lens[4] = strlen(sttl);
		txn_cmd(&it->t, 5, argv, lens);
	}
	it->t.has_reply = store || it->stored != NULL;
	decimal(x->o->reply_ttl_s, ttl);
	argv[0] = "LPUSH";
	argv[1] = it->e.reply_to;
	argv[2] = reply;
	lens[0] = 5;
	lens[1] = it->e.reply_to_len;
	lens[2] = rlen;
	txn_cmd(&it->t, 3, argv, lens);
	argv[0] = "EXPIRE";
	argv[2] = ttl;
	lens[0] = 6;
	lens[2] = strlen(ttl);
	txn_cmd(&it->t, 3, argv, lens);
}

/* One transaction for the whole batch, in entry order: each entry's state, events and
 * reply, then one XACK of every entry. Atomic as a whole (MULTI/EXEC), so one stored
 * reply proves that all of it was committed: only the first entry it applies with a
 * reply stores its reply (the batch's proof). That is also all redelivery needs: an entry
 * is acknowledged in the transaction that applies it, so an entry read again (pending)
 * was never applied (a stored reply found for it anyway is still re-sent rather than
 * the entry applied twice: one GET per redelivered entry). With only redelivered entries,
 * the proof is a stored reply that exists already, and skipping the transaction on a
 * reconnect is safe because unacknowledged entries are read again first. Goes to the
 * outbox. */
static void commit_batch(struct command_ctx *x, unsigned n, uint64_t read_ns)
{
	const char *argv[COMMAND_BATCH_MAX + 3];
	const char *proof = NULL, *proof_old = NULL;
	char ckey[KEYS_MAX];
	struct txn bt;
	int argc = 0;
	unsigned i;

	keys_commands(x->o, ckey, sizeof(ckey));
	argv[argc++] = "XACK";
	argv[argc++] = ckey;
	argv[argc++] = CHAN_GROUP;
	txn_init(&bt, NULL);
	bt.read_ns = read_ns;
	for (i = 0; i < n; i++) {
		struct item *it = &x->items[i];

		if (it->id[0] == '\0')
			continue;
		txn_append(&bt, &it->t);
		argv[argc++] = it->id;
		bt.nentries++;
		if (it->t.has_reply && it->stored == NULL && proof == NULL)
			proof = it->id;
		if (it->t.has_reply && it->stored != NULL && proof_old == NULL)
			proof_old = it->id;
		/* Redeliveries were counted when first applied. */
		if (it->stored == NULL && it->count_result != NULL)
			txn_count(&bt, it->count_op, it->count_result);
	}
	if (argc == 3) {
		txn_free(&bt);
		return;
	}
	if (proof == NULL)
		proof = proof_old;
	if (proof != NULL) {
		snprintf(bt.entry_id, sizeof(bt.entry_id), "%s", proof);
		bt.has_reply = true;
	}
	txn_cmd(&bt, argc, argv, NULL);
	txn_end(&bt);
	outbox_push(x->outbox, &bt);
}

static char *build_reply(struct item *it)
{
	char *s = NULL;

	if (it->result == NULL)
		return NULL;
	if (strcmp(it->result, "pong") == 0)
		s = reply_pong();
	else if (strcmp(it->result, "error") == 0)
		s = reply_error(it->error);
	else
		s = reply_ok(it->has_r ? it->r.sdp : NULL, it->has_r ? it->r.sdp_len : 0,
			     it->warning, it->extra);
	it->extra = NULL; /* reply_ok took it */
	if (s == NULL && strcmp(it->result, "error") != 0) {
		it->result = "error";
		s = reply_error("internal error: the reply could not be encoded");
	}
	return s;
}

static void handle(struct command_ctx *x, struct item *it, uint64_t now_ms)
{
	struct call *c;

	if (it->deleted)
		return;
	if (it->stored != NULL)
		return;
	if (it->parse_rc < 0) {
		if (it->e.reply_to == NULL) {
			log_warning("command %s: %s; no usable reply-to, so it is acknowledged "
				    "without a reply",
				    it->id, it->err);
			return;
		}
		it->result = "error";
		snprintf(it->error, sizeof(it->error), "%s", it->err);
		log_info("command %s: %s", it->id, it->err);
		return;
	}
	x->ops[it->e.op]++;
	switch (it->e.op) {
	case ENTRY_OP_PING:
		it->result = "pong";
		return;
	case ENTRY_OP_LIST:
		it->extra = do_list(x);
		it->result = "ok";
		return;
	case ENTRY_OP_STATISTICS:
		it->extra = do_statistics(x, now_ms, it->warning, sizeof(it->warning));
		it->result = "ok";
		return;
	case ENTRY_OP_QUERY:
		c = calls_find(x->calls, it->e.call_id);
		if (c == NULL) {
			it->result = "error";
			snprintf(it->error, sizeof(it->error), "unknown call-id %s", it->e.call_id);
			return;
		}
		it->extra = do_query(x, c, now_ms, it->warning, sizeof(it->warning));
		it->result = "ok";
		return;
	case ENTRY_OP_OFFER:
	case ENTRY_OP_ANSWER:
	case ENTRY_OP_DELETE:
		apply(x, it, now_ms);
		return;
	case ENTRY_OP_NONE:
		break;
	}
	it->result = "error";
	snprintf(it->error, sizeof(it->error), "unknown op");
}

void command_free(struct command_ctx *x)
{
	for (unsigned i = 0; x->items != NULL && i < COMMAND_BATCH_MAX; i++)
		txn_free(&x->items[i].t);
	free(x->items);
	free(x->before);
	free(x->after);
	x->items = NULL;
	x->before = x->after = NULL;
}

int command_batch(struct command_ctx *x, const redisReply *reply, bool redelivered,
		  uint64_t read_ns, char *last_id, size_t last_len, command_mid_fn mid,
		  void *mid_arg)
{
	struct item *items, *last = NULL;
	redisReply *stored[COMMAND_BATCH_MAX];
	bool stored_one = false; /* the batch's proof is written (see commit_batch) */
	const redisReply *entries;
	uint64_t now_ms;
	unsigned n, i;
	char dpw[DPSYNC_WARNLEN];

	last_id[0] = '\0';
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0)
		return 0;
	if (reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[0]->elements != 2 ||
	    reply->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		log_warning("redis: XREADGROUP reply has an unexpected shape; ignored");
		return 0;
	}
	if (x->items == NULL) {
		x->items = calloc(COMMAND_BATCH_MAX, sizeof(*x->items));
		if (x->items == NULL)
			return -ENOMEM;
	}
	items = x->items;
	entries = reply->element[0]->element[1];
	n = entries->elements < COMMAND_BATCH_MAX ? (unsigned)entries->elements : COMMAND_BATCH_MAX;
	for (i = 0; i < n; i++) {
		struct item *it = &items[i];

		item_reset(it);
		if (!split_entry(entries->element[i], it, x->o->key_prefix)) {
			log_warning("redis: a stream entry without a valid ID; ignored");
			it->id[0] = '\0';
			continue;
		}
		last = it;
	}
	if (last != NULL)
		snprintf(last_id, last_len, "%s", last->id);
	memset(stored, 0, sizeof(stored));
	if (redelivered) {
		int rc = fetch_stored(x, n, stored);

		if (rc < 0)
			return rc;
	}

	now_ms = realtime_ms();
	dpsync_begin(x->dp);
	for (i = 0; i < n; i++) {
		struct item *it = &items[i];

		if (it->id[0] == '\0')
			continue;
		handle(x, it, now_ms);
	}
	dpsync_send(x->dp);
	if (mid != NULL)
		mid(mid_arg);
	for (i = 0; i < n; i++)
		store_pending(x, &items[i]);
	dpsync_flush(x->dp);

	for (i = 0; i < n; i++) {
		struct item *it = &items[i];
		char *json = NULL;

		if (it->id[0] == '\0')
			continue;
		if (it->stored != NULL) {
			log_info("command %s was redelivered: sending its stored reply again, "
				 "not applying it twice",
				 it->id);
			finish_txn(x, it, it->stored->str, it->stored->len, false);
		} else {
			if (it->has_mark) {
				dpsync_warning(x->dp, &it->mark, dpw, sizeof(dpw));
				append_warning(it->warning, sizeof(it->warning), dpw);
			}
			json = build_reply(it);
			/* No reply (no usable reply-to) still counts as a failed command. */
			it->count_op = it->parse_rc == 0 ? entry_op_name(it->e.op) : "unknown";
			it->count_result = it->result != NULL ? it->result
					   : it->deleted      ? NULL
							      : "error";
			finish_txn(x, it, json, json != NULL ? strlen(json) : 0, !stored_one);
			stored_one = stored_one || it->t.has_reply;
		}
		free(json);
		if (it->has_r)
			call_result_clear(&it->r);
		json_decref(it->extra);
	}
	commit_batch(x, n, read_ns);
	for (i = 0; i < COMMAND_BATCH_MAX; i++)
		if (stored[i] != NULL)
			freeReplyObject(stored[i]);
	return (int)n;
}
