/* Redis connection and command-stream access (see chan.h). Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "log.h"

/* Bounds every reply wait (plus the longest XREADGROUP BLOCK, for all calls alike). */
#define CHAN_TIMEOUT_MS		3000
#define CHAN_CONNECT_TIMEOUT_MS 1000

struct chan {
	const struct options *o;
	redisContext *rc;
	bool up;
	unsigned generation;
	uint32_t backoff_ms;
	uint64_t retry_at;
	unsigned failures;    /* attempts since the connection was last up */
	char logged_err[256]; /* the failure last logged; repeats go to debug */
	char where[300];      /* endpoint, for messages */
	char key_commands[OPTIONS_PREFIX_MAX + 16];
	int timeout_ms; /* SO_RCVTIMEO currently set */
};

static struct timeval tv_ms(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	return tv;
}

struct chan *chan_create(const struct options *o)
{
	struct chan *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	ch->o = o;
	ch->backoff_ms = CHAN_BACKOFF_MIN_MS;
	if (o->redis_unix)
		snprintf(ch->where, sizeof(ch->where), "unix:%s", o->redis_path);
	else if (strchr(o->redis_host, ':') != NULL)
		snprintf(ch->where, sizeof(ch->where), "[%s]:%u", o->redis_host, o->redis_port);
	else
		snprintf(ch->where, sizeof(ch->where), "%s:%u", o->redis_host, o->redis_port);
	snprintf(ch->key_commands, sizeof(ch->key_commands), "%scommands", o->key_prefix);
	return ch;
}

static void drop(struct chan *ch)
{
	if (ch->rc != NULL)
		redisFree(ch->rc);
	ch->rc = NULL;
	ch->up = false;
}

void chan_destroy(struct chan *ch)
{
	if (ch == NULL)
		return;
	drop(ch);
	free(ch);
}

bool chan_up(const struct chan *ch)
{
	return ch->up;
}

uint64_t chan_retry_at(const struct chan *ch)
{
	return ch->retry_at;
}

unsigned chan_generation(const struct chan *ch)
{
	return ch->generation;
}

/* Log a connection problem once per distinct message while down. */
static void log_down(struct chan *ch, const char *msg)
{
	if (strcmp(ch->logged_err, msg) == 0) {
		log_debug("redis %s: %s (attempt %u)", ch->where, msg, ch->failures);
		return;
	}
	snprintf(ch->logged_err, sizeof(ch->logged_err), "%s", msg);
	log_warning("redis %s: %s; retrying with backoff (up to %d ms)", ch->where, msg,
		    CHAN_BACKOFF_MAX_MS);
}

void chan_fail(struct chan *ch, const char *what)
{
	char msg[256];

	if (!ch->up)
		return;
	snprintf(msg, sizeof(msg), "connection lost during %s: %s", what,
		 ch->rc != NULL && ch->rc->err != 0 ? ch->rc->errstr : "protocol error");
	drop(ch);
	ch->failures = 0;
	ch->backoff_ms = CHAN_BACKOFF_MIN_MS;
	ch->retry_at = 0; /* the first reconnect is immediate */
	ch->logged_err[0] = '\0';
	log_down(ch, msg);
}

static void set_timeout(struct chan *ch, int ms)
{
	if (ch->timeout_ms == ms)
		return;
	redisSetTimeout(ch->rc, tv_ms(ms));
	ch->timeout_ms = ms;
}

/* A command during connect; returns 0 or -EIO/-EPROTO with msg set. */
static int setup_cmd(struct chan *ch, int argc, const char *const *argv, const char *what,
		     bool busygroup_ok, char *msg, size_t msglen)
{
	redisReply *r = redisCommandArgv(ch->rc, argc, (const char **)argv, NULL);
	int rc = 0;

	if (r == NULL) {
		snprintf(msg, msglen, "%s: %s", what, ch->rc->errstr);
		return -EIO;
	}
	if (r->type == REDIS_REPLY_ERROR &&
	    !(busygroup_ok && strncmp(r->str, "BUSYGROUP", 9) == 0)) {
		snprintf(msg, msglen, "%s refused: %.200s", what, r->str);
		rc = -EPROTO;
	}
	freeReplyObject(r);
	return rc;
}

static int create_group(struct chan *ch, char *msg, size_t msglen)
{
	const char *argv[] = {"XGROUP", "CREATE", ch->key_commands, CHAN_GROUP, "0", "MKSTREAM"};

	return setup_cmd(ch, 6, argv, "XGROUP CREATE", true, msg, msglen);
}

int chan_connect(struct chan *ch, uint64_t now_ms)
{
	const struct options *o = ch->o;
	char msg[256], db[16];
	int rc;

	if (ch->up)
		return 0;
	if (now_ms < ch->retry_at)
		return -EAGAIN;
	ch->failures++;
	if (o->redis_unix)
		ch->rc = redisConnectUnixWithTimeout(o->redis_path, tv_ms(CHAN_CONNECT_TIMEOUT_MS));
	else
		ch->rc = redisConnectWithTimeout(o->redis_host, o->redis_port,
						 tv_ms(CHAN_CONNECT_TIMEOUT_MS));
	if (ch->rc == NULL) {
		snprintf(msg, sizeof(msg), "cannot connect: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if (ch->rc->err != 0) {
		snprintf(msg, sizeof(msg), "cannot connect: %s", ch->rc->errstr);
		rc = -ECONNREFUSED;
		goto fail;
	}
	ch->timeout_ms = -1;
	set_timeout(ch, CHAN_TIMEOUT_MS + CHAN_BLOCK_MAX_MS);
	/* TCP keepalive notices a silently dead peer; a Unix socket has none (and the call
	 * would fail and poison the context). */
	if (!o->redis_unix && redisEnableKeepAlive(ch->rc) != REDIS_OK) {
		snprintf(msg, sizeof(msg), "keepalive: %s", ch->rc->errstr);
		rc = -EIO;
		goto fail;
	}
	if (o->redis_password[0] != '\0') {
		const char *auth_user[] = {"AUTH", o->redis_user, o->redis_password};
		const char *auth[] = {"AUTH", o->redis_password};

		rc = o->redis_user[0] != '\0'
			 ? setup_cmd(ch, 3, auth_user, "AUTH", false, msg, sizeof(msg))
			 : setup_cmd(ch, 2, auth, "AUTH", false, msg, sizeof(msg));
		if (rc < 0)
			goto fail;
	}
	if (o->redis_db != 0) {
		const char *sel[] = {"SELECT", db};

		snprintf(db, sizeof(db), "%u", o->redis_db);
		rc = setup_cmd(ch, 2, sel, "SELECT", false, msg, sizeof(msg));
		if (rc < 0)
			goto fail;
	}
	rc = create_group(ch, msg, sizeof(msg));
	if (rc < 0)
		goto fail;

	ch->up = true;
	ch->generation++;
	if (ch->generation == 1)
		log_info("redis %s: connected (db %u, stream %s, group %s, consumer %s)", ch->where,
			 o->redis_db, ch->key_commands, CHAN_GROUP, o->node);
	else
		log_info("redis %s: connection restored after %u attempt(s)", ch->where,
			 ch->failures);
	ch->failures = 0;
	ch->backoff_ms = CHAN_BACKOFF_MIN_MS;
	ch->logged_err[0] = '\0';
	return 0;

fail:
	drop(ch);
	ch->retry_at = now_ms + ch->backoff_ms;
	ch->backoff_ms =
	    ch->backoff_ms * 2 > CHAN_BACKOFF_MAX_MS ? CHAN_BACKOFF_MAX_MS : ch->backoff_ms * 2;
	log_down(ch, msg);
	return rc;
}

redisReply *chan_call(struct chan *ch, int argc, const char *const *argv, const size_t *lens)
{
	redisReply *r;

	if (!ch->up)
		return NULL;
	r = redisCommandArgv(ch->rc, argc, (const char **)argv, lens);
	if (r == NULL)
		chan_fail(ch, argv[0]);
	return r;
}

int chan_pipeline(struct chan *ch, const char *buf, size_t len, unsigned nreplies,
		  redisReply **replies)
{
	void *r;

	for (unsigned i = 0; i < nreplies; i++)
		replies[i] = NULL;
	if (!ch->up)
		return -EIO;
	if (redisAppendFormattedCommand(ch->rc, buf, len) != REDIS_OK) {
		chan_fail(ch, "pipeline");
		return -EIO;
	}
	for (unsigned i = 0; i < nreplies; i++) {
		if (redisGetReply(ch->rc, &r) != REDIS_OK) {
			chan_fail(ch, "pipeline");
			return -EIO;
		}
		replies[i] = r;
	}
	return 0;
}

static void append_read(struct chan *ch, const struct chan_readreq *rq)
{
	char cnt[16], blk[16];
	const char *argv[12];
	int argc = 0, block = rq->block_ms;

	snprintf(cnt, sizeof(cnt), "%u", rq->count);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = CHAN_GROUP;
	argv[argc++] = ch->o->node;
	argv[argc++] = "COUNT";
	argv[argc++] = cnt;
	if (block >= 0) {
		if (block > CHAN_BLOCK_MAX_MS)
			block = CHAN_BLOCK_MAX_MS;
		snprintf(blk, sizeof(blk), "%d", block);
		argv[argc++] = "BLOCK";
		argv[argc++] = blk;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = ch->key_commands;
	argv[argc++] = rq->id;
	redisAppendCommandArgv(ch->rc, argc, argv, NULL);
}

/* Read the XREADGROUP reply appended earlier. */
static int read_entries(struct chan *ch, redisReply **out)
{
	char msg[256];
	void *v;
	redisReply *r;

	*out = NULL;
	if (redisGetReply(ch->rc, &v) != REDIS_OK) {
		chan_fail(ch, "XREADGROUP");
		return -EIO;
	}
	r = v;
	if (r->type == REDIS_REPLY_ERROR) {
		/* The stream or the group vanished (FLUSHALL, a new server): create again. */
		if (strncmp(r->str, "NOGROUP", 7) == 0) {
			log_warning("redis %s: consumer group %s is gone; creating it again",
				    ch->where, CHAN_GROUP);
			if (create_group(ch, msg, sizeof(msg)) < 0) {
				log_warning("redis %s: %s", ch->where, msg);
				if (ch->rc->err != 0)
					chan_fail(ch, "XGROUP CREATE");
			}
		} else {
			log_warning("redis %s: XREADGROUP refused: %.200s", ch->where, r->str);
		}
		freeReplyObject(r);
		return -EPROTO;
	}
	*out = r;
	return 0;
}

int chan_read(struct chan *ch, const struct chan_readreq *rq, redisReply **out)
{
	*out = NULL;
	if (!ch->up)
		return -EIO;
	append_read(ch, rq);
	return read_entries(ch, out);
}

/* One reply of a transaction (MULTI, QUEUED..., EXEC at index n - 1): log failures. */
static void check_reply(struct chan *ch, const struct txn *t, const redisReply *r, unsigned k,
			unsigned n)
{
	const char *who = t->entry_id[0] != '\0' ? t->entry_id : "timer work";

	if (r->type == REDIS_REPLY_ERROR) {
		log_warning("redis %s: transaction for %s: %s %u refused: %.200s", ch->where, who,
			    k + 1 == n ? "EXEC" : "command", k, r->str);
		return;
	}
	if (k + 1 != n || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_ERROR)
			log_warning("redis %s: transaction for %s: command %zu failed: %.200s",
				    ch->where, who, i + 1, r->element[i]->str);
}

unsigned chan_commit(struct chan *ch, struct txn *const *txns, unsigned n,
		     const struct chan_readreq *rq, redisReply **read_out, int *read_rc)
{
	unsigned done = 0, i, k;
	void *r;

	if (rq != NULL) {
		*read_out = NULL;
		*read_rc = -EIO;
	}
	if (!ch->up)
		return 0;
	for (i = 0; i < n; i++) {
		if (txns[i]->failed || txns[i]->len == 0)
			continue;
		if (redisAppendFormattedCommand(ch->rc, txns[i]->buf, txns[i]->len) != REDIS_OK) {
			chan_fail(ch, "commit");
			return 0;
		}
	}
	if (rq != NULL)
		append_read(ch, rq);
	for (i = 0; i < n; i++) {
		const struct txn *t = txns[i];

		if (!t->failed && t->len != 0) {
			for (k = 0; k < t->ncmds; k++) {
				if (redisGetReply(ch->rc, &r) != REDIS_OK) {
					chan_fail(ch, "commit");
					return done;
				}
				check_reply(ch, t, r, k, t->ncmds);
				freeReplyObject(r);
			}
		}
		done++;
	}
	if (rq != NULL)
		*read_rc = read_entries(ch, read_out);
	return done;
}

/* "<ms>-<seq>" of a reply into numbers; false if malformed. */
static bool parse_id(const redisReply *r, unsigned long long *ms, unsigned long long *seq)
{
	char buf[48], *end;

	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(buf))
		return false;
	memcpy(buf, r->str, r->len);
	buf[r->len] = '\0';
	errno = 0;
	*ms = strtoull(buf, &end, 10);
	if (*end != '-' || errno != 0)
		return false;
	*seq = strtoull(end + 1, &end, 10);
	return *end == '\0' && errno == 0;
}

long chan_trim(struct chan *ch)
{
	const char *info[] = {"XINFO", "GROUPS", ch->key_commands};
	const char *pend[] = {"XPENDING", ch->key_commands, CHAN_GROUP};
	unsigned long long ms = 0, seq = 0;
	const redisReply *last = NULL;
	redisReply *gi, *pi, *tr;
	char minid[48];
	long removed = 0;
	bool have = false;

	gi = chan_call(ch, 3, info, NULL);
	if (gi == NULL)
		return -EIO;
	pi = chan_call(ch, 3, pend, NULL);
	if (pi == NULL) {
		freeReplyObject(gi);
		return -EIO;
	}
	/* XPENDING summary: count, smallest ID, greatest ID, consumers. */
	if (pi->type == REDIS_REPLY_ARRAY && pi->elements >= 2 &&
	    pi->element[0]->type == REDIS_REPLY_INTEGER && pi->element[0]->integer > 0) {
		have = parse_id(pi->element[1], &ms, &seq);
	} else if (gi->type == REDIS_REPLY_ARRAY) {
		for (size_t g = 0; g < gi->elements; g++) {
			const redisReply *e = gi->element[g];
			bool ours = false;

			if (e->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t k = 0; k + 1 < e->elements; k += 2) {
				const redisReply *n = e->element[k], *v = e->element[k + 1];

				if (n->type != REDIS_REPLY_STRING)
					continue;
				if (strcmp(n->str, "name") == 0 && v->type == REDIS_REPLY_STRING &&
				    strcmp(v->str, CHAN_GROUP) == 0)
					ours = true;
				if (strcmp(n->str, "last-delivered-id") == 0)
					last = v;
			}
			if (ours)
				break;
			last = NULL;
		}
		if (last != NULL && parse_id(last, &ms, &seq) && (ms != 0 || seq != 0)) {
			have = true;
			if (seq == ~0ull) {
				ms++;
				seq = 0;
			} else {
				seq++;
			}
		}
	}
	if (have) {
		const char *trim[] = {"XTRIM", ch->key_commands, "MINID", minid};

		snprintf(minid, sizeof(minid), "%llu-%llu", ms, seq);
		tr = chan_call(ch, 4, trim, NULL);
		if (tr == NULL)
			removed = -EIO;
		else if (tr->type == REDIS_REPLY_INTEGER)
			removed = (long)tr->integer;
		if (tr != NULL)
			freeReplyObject(tr);
	}
	freeReplyObject(gi);
	freeReplyObject(pi);
	return removed;
}
