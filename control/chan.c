/* Redis connection and command-stream access (see chan.h). Main thread. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "chan.h"
#include "log.h"

/* Bounds every reply wait (plus the longest XREADGROUP BLOCK, for all calls alike). */
#define CHAN_TIMEOUT_MS		3000
#define CHAN_CONNECT_TIMEOUT_MS 1000
#define CHAN_IOV_MAX		64 /* transactions per writev */

struct chan {
	const struct options *o;
	redisContext *rc; /* transactions and every other command */
	redisReplyObjectFunctions *rc_fn; /* rc's own reply builders (see txn_fns) */
	redisContext *rd; /* XREADGROUP only; its replies live in `arena` */
	redisReplyObjectFunctions *rd_fn; /* rd's own reply builders, for XGROUP CREATE */
	struct arena {
		struct arena_block *head; /* newest first; the last one is kept on reset */
		size_t used;		  /* bytes handed out since the last reset */
	} arena;
	bool up;
	bool reading;	   /* a read is in flight on rd */
	unsigned inflight; /* transactions sent on rc whose replies are not all read */
	unsigned partial;  /* replies of the oldest of them read already */
	unsigned generation;
	uint32_t backoff_ms;
	uint64_t retry_at;
	unsigned failures;    /* attempts since the connection was last up */
	char logged_err[256]; /* the failure last logged; repeats go to debug */
	char where[300];      /* endpoint, for messages */
	char key_commands[OPTIONS_PREFIX_MAX + 16];
	struct txn readcmd; /* the XREADGROUP being sent, RESP-encoded (kept for its buffer) */
};

/* Transaction replies (MULTI's +OK, one +QUEUED per command, EXEC's array of results) are
 * only checked for errors. While transactions are in flight, rc's reader is given these
 * builders: every reply but an error or an array is one shared object, so a transaction's
 * replies cost two allocations (EXEC's array), not one or two per command. Nothing else
 * reads rc meanwhile (rc_busy), and the reader holds no half-built reply between
 * transactions, so the builders are swapped when the first is sent and the last
 * collected. Objects are freed with txn_free_object only. */
static redisReply txn_shared[REDIS_REPLY_ERROR + 1];

static bool txn_is_shared(const redisReply *r)
{
	return r >= txn_shared && r < txn_shared + sizeof(txn_shared) / sizeof(txn_shared[0]);
}

/* Hang a reply object under its parent array (both reply builders below). */
static void *reply_attach(const redisReadTask *task, redisReply *r)
{
	if (task->parent != NULL) {
		redisReply *p = task->parent->obj;

		p->element[task->idx] = r;
	}
	return r;
}

static void *txn_shared_obj(const redisReadTask *task, int type)
{
	txn_shared[type].type = type;
	return reply_attach(task, &txn_shared[type]);
}

static void *txn_create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r;

	if (task->type != REDIS_REPLY_ERROR)
		return txn_shared_obj(task, task->type);
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->str = malloc(len + 1)) == NULL) {
		free(r);
		return NULL;
	}
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	r->type = REDIS_REPLY_ERROR;
	return reply_attach(task, r);
}

static void *txn_create_array(const redisReadTask *task, int n)
{
	redisReply *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->type = REDIS_REPLY_ARRAY;
	if (n > 0 && (r->element = calloc((size_t)n, sizeof(*r->element))) == NULL) {
		free(r);
		return NULL;
	}
	r->elements = n > 0 ? (size_t)n : 0;
	return reply_attach(task, r);
}

static void *txn_create_integer(const redisReadTask *task, long long v)
{
	(void)v;
	return txn_shared_obj(task, REDIS_REPLY_INTEGER);
}

static void *txn_create_nil(const redisReadTask *task)
{
	return txn_shared_obj(task, REDIS_REPLY_NIL);
}

static void txn_free_object(void *o)
{
	redisReply *r = o;

	if (r == NULL || txn_is_shared(r))
		return;
	if (r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < r->elements; i++)
			txn_free_object(r->element[i]);
		free(r->element);
	} else {
		free(r->str);
	}
	free(r);
}

static redisReplyObjectFunctions txn_fns = {
    .createString = txn_create_string,
    .createArray = txn_create_array,
    .createInteger = txn_create_integer,
    .createNil = txn_create_nil,
    .freeObject = txn_free_object,
};

/* The reply of XREADGROUP (a few hundred objects for a batch: every entry, field and
 * value) is built in an arena, without a malloc and a free per object: it is freed whole
 * by chan_read_free, before the next read's reply is parsed. The arena belongs to the
 * channel, not to the connection, so a reply stays valid across a lost connection. */
struct arena_block {
	struct arena_block *next;
	size_t size, off;
	max_align_t data[];
};

#define ARENA_BLOCK_MIN (64u << 10)
#define ARENA_KEEP_MAX	(4u << 20) /* a block grown to more is not kept for the next read */

static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1), size;

	if (b == NULL || b->size - b->off < need) {
		size = need > ARENA_BLOCK_MIN ? need : ARENA_BLOCK_MIN;
		b = malloc(sizeof(*b) + size);
		if (b == NULL)
			return NULL;
		b->size = size;
		b->off = 0;
		b->next = a->head;
		a->head = b;
	}
	a->used += need;
	b->off += need;
	return (char *)b->data + b->off - need;
}

/* Empty the arena, keeping one block big enough for what the last reply needed (so a
 * steady load settles on one block), unless that is more than ARENA_KEEP_MAX. */
static void arena_reset(struct arena *a)
{
	struct arena_block *b = a->head, *next;
	size_t want = a->used;

	if (b != NULL && b->next == NULL && b->size >= want) {
		b->off = 0;
		a->used = 0;
		return;
	}
	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->used = 0;
	if (want > ARENA_BLOCK_MIN && want <= ARENA_KEEP_MAX && arena_alloc(a, want) != NULL) {
		a->head->off = 0;
		a->used = 0;
	}
}

static void arena_free(struct arena *a)
{
	a->used = ARENA_KEEP_MAX + 1;
	arena_reset(a);
}

static redisReply *rd_obj(const redisReadTask *task, int type)
{
	struct arena *a = task->privdata;
	redisReply *r = arena_alloc(a, sizeof(*r));

	if (r != NULL) {
		memset(r, 0, sizeof(*r));
		r->type = type;
	}
	return r;
}

static void *rd_create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r = rd_obj(task, task->type);

	if (r == NULL || (r->str = arena_alloc(task->privdata, len + 1)) == NULL)
		return NULL;
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	return reply_attach(task, r);
}

static void *rd_create_array(const redisReadTask *task, int n)
{
	redisReply *r = rd_obj(task, REDIS_REPLY_ARRAY);

	if (r == NULL)
		return NULL;
	if (n > 0) {
		r->element = arena_alloc(task->privdata, (size_t)n * sizeof(*r->element));
		if (r->element == NULL)
			return NULL;
		memset(r->element, 0, (size_t)n * sizeof(*r->element));
		r->elements = (size_t)n;
	}
	return reply_attach(task, r);
}

static void *rd_create_integer(const redisReadTask *task, long long v)
{
	redisReply *r = rd_obj(task, REDIS_REPLY_INTEGER);

	if (r == NULL)
		return NULL;
	r->integer = v;
	return reply_attach(task, r);
}

static void *rd_create_nil(const redisReadTask *task)
{
	redisReply *r = rd_obj(task, REDIS_REPLY_NIL);

	return r != NULL ? reply_attach(task, r) : NULL;
}

static void rd_free_object(void *o)
{
	(void)o; /* the arena is emptied as a whole (chan_read_free) */
}

static redisReplyObjectFunctions rd_fns = {
    .createString = rd_create_string,
    .createArray = rd_create_array,
    .createInteger = rd_create_integer,
    .createNil = rd_create_nil,
    .freeObject = rd_free_object,
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
	if (ch->rd != NULL)
		redisFree(ch->rd);
	ch->rc = ch->rd = NULL;
	ch->up = false;
	ch->reading = false;
	ch->inflight = ch->partial = 0;
}

void chan_destroy(struct chan *ch)
{
	if (ch == NULL)
		return;
	drop(ch);
	arena_free(&ch->arena);
	txn_free(&ch->readcmd);
	free(ch);
}

void chan_read_free(struct chan *ch, redisReply *r)
{
	if (r != NULL)
		arena_reset(&ch->arena);
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

static void fail_because(struct chan *ch, const char *what, const char *why)
{
	char msg[256];

	if (!ch->up)
		return;
	snprintf(msg, sizeof(msg), "connection lost during %s: %s", what, why);
	drop(ch);
	ch->failures = 0;
	ch->backoff_ms = CHAN_BACKOFF_MIN_MS;
	ch->retry_at = 0; /* the first reconnect is immediate */
	ch->logged_err[0] = '\0';
	log_down(ch, msg);
}

void chan_fail(struct chan *ch, const char *what)
{
	fail_because(ch, what,
		     ch->rc != NULL && ch->rc->err != 0	  ? ch->rc->errstr
		     : ch->rd != NULL && ch->rd->err != 0 ? ch->rd->errstr
							  : "protocol error");
}

/* A command during connect; returns 0 or -EIO/-EPROTO with msg set. */
static int setup_cmd(redisContext *c, int argc, const char *const *argv, const char *what,
		     bool busygroup_ok, char *msg, size_t msglen)
{
	redisReply *r = redisCommandArgv(c, argc, (const char **)argv, NULL);
	int rc = 0;

	if (r == NULL) {
		snprintf(msg, msglen, "%s: %s", what, c->errstr);
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

static int create_group(struct chan *ch, redisContext *c, char *msg, size_t msglen)
{
	const char *argv[] = {"XGROUP", "CREATE", ch->key_commands, CHAN_GROUP, "0", "MKSTREAM"};

	return setup_cmd(c, 6, argv, "XGROUP CREATE", true, msg, msglen);
}

/* One connection: connect, timeouts, keepalive, AUTH, SELECT. Returns 0 or a negative
 * errno with msg set; *out is set either way (NULL only when out of memory). */
static int connect_one(struct chan *ch, int timeout_ms, redisContext **out, char *msg,
		       size_t msglen)
{
	const struct options *o = ch->o;
	redisContext *c;
	char db[16];
	int rc;

	if (o->redis_unix)
		c = redisConnectUnixWithTimeout(o->redis_path, tv_ms(CHAN_CONNECT_TIMEOUT_MS));
	else
		c = redisConnectWithTimeout(o->redis_host, o->redis_port,
					    tv_ms(CHAN_CONNECT_TIMEOUT_MS));
	*out = c;
	if (c == NULL) {
		snprintf(msg, msglen, "cannot connect: out of memory");
		return -ENOMEM;
	}
	if (c->err != 0) {
		snprintf(msg, msglen, "cannot connect: %s", c->errstr);
		return -ECONNREFUSED;
	}
	redisSetTimeout(c, tv_ms(timeout_ms));
	/* TCP keepalive notices a silently dead peer; a Unix socket has none (and the call
	 * would fail and poison the context). */
	if (!o->redis_unix && redisEnableKeepAlive(c) != REDIS_OK) {
		snprintf(msg, msglen, "keepalive: %s", c->errstr);
		return -EIO;
	}
	if (o->redis_password[0] != '\0') {
		const char *auth_user[] = {"AUTH", o->redis_user, o->redis_password};
		const char *auth[] = {"AUTH", o->redis_password};

		rc = o->redis_user[0] != '\0'
			 ? setup_cmd(c, 3, auth_user, "AUTH", false, msg, msglen)
			 : setup_cmd(c, 2, auth, "AUTH", false, msg, msglen);
		if (rc < 0)
			return rc;
	}
	if (o->redis_db != 0) {
		const char *sel[] = {"SELECT", db};

		snprintf(db, sizeof(db), "%u", o->redis_db);
		rc = setup_cmd(c, 2, sel, "SELECT", false, msg, msglen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int chan_connect(struct chan *ch, uint64_t now_ms)
{
	const struct options *o = ch->o;
	char msg[256];
	int rc;

	if (ch->up)
		return 0;
	if (now_ms < ch->retry_at)
		return -EAGAIN;
	ch->failures++;
	/* Nothing on rc blocks in Redis; reads wait up to the longest BLOCK besides. */
	rc = connect_one(ch, CHAN_TIMEOUT_MS, &ch->rc, msg, sizeof(msg));
	if (rc == 0)
		rc =
		    connect_one(ch, CHAN_TIMEOUT_MS + CHAN_BLOCK_MAX_MS, &ch->rd, msg, sizeof(msg));
	if (rc == 0)
		rc = create_group(ch, ch->rc, msg, sizeof(msg));
	if (rc < 0)
		goto fail;

	ch->rc_fn = ch->rc->reader->fn;
	ch->rd_fn = ch->rd->reader->fn;
	ch->rd->reader->fn = &rd_fns;
	ch->rd->reader->privdata = &ch->arena;
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

/* The replies of transactions in flight come first on rc: using it now would take them
 * for this command's. A caller bug; dropping the connection keeps every guarantee (the
 * outbox checks what was committed when it is back). */
static bool rc_busy(struct chan *ch, const char *what)
{
	if (ch->inflight == 0)
		return false;
	log_error("redis %s: %s while %u transaction(s) await their replies; reconnecting",
		  ch->where, what, ch->inflight);
	chan_fail(ch, what);
	return true;
}

redisReply *chan_call(struct chan *ch, int argc, const char *const *argv, const size_t *lens)
{
	redisReply *r;

	if (!ch->up || rc_busy(ch, argv[0]))
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
	if (!ch->up || rc_busy(ch, "pipeline"))
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

/* Write out what hiredis buffered for c. */
static int write_out(struct chan *ch, redisContext *c, const char *what)
{
	int done = 0;

	do {
		if (redisBufferWrite(c, &done) != REDIS_OK) {
			chan_fail(ch, what);
			return -EIO;
		}
	} while (!done);
	return 0;
}

int chan_read_start(struct chan *ch, const struct chan_readreq *rq)
{
	char cnt[TXN_U64_LEN], blk[TXN_U64_LEN];
	const char *argv[12];
	int argc = 0, block = rq->block_ms;

	if (!ch->up)
		return -EIO;
	if (ch->reading) {
		log_error("redis %s: a second read while one is in flight; reconnecting",
			  ch->where);
		chan_fail(ch, "XREADGROUP");
		return -EIO;
	}
	txn_u64(rq->count, cnt);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = CHAN_GROUP;
	argv[argc++] = ch->o->node;
	argv[argc++] = "COUNT";
	argv[argc++] = cnt;
	if (block >= 0) {
		if (block > CHAN_BLOCK_MAX_MS)
			block = CHAN_BLOCK_MAX_MS;
		txn_u64((uint64_t)block, blk);
		argv[argc++] = "BLOCK";
		argv[argc++] = blk;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = ch->key_commands;
	argv[argc++] = rq->id;
	/* Encoded by txn_cmd: hiredis's own formatting cost more than the rest of sending a
	 * read (one per batch). */
	txn_clear(&ch->readcmd);
	txn_cmd(&ch->readcmd, argc, argv, NULL);
	if (ch->readcmd.failed ||
	    redisAppendFormattedCommand(ch->rd, ch->readcmd.buf, ch->readcmd.len) != REDIS_OK) {
		chan_fail(ch, "XREADGROUP");
		return -EIO;
	}
	if (write_out(ch, ch->rd, "XREADGROUP") < 0)
		return -EIO;
	ch->reading = true;
	return 0;
}

bool chan_read_pending(const struct chan *ch)
{
	return ch->reading;
}

int chan_read_finish(struct chan *ch, redisReply **out)
{
	char msg[256];
	void *v;
	redisReply *r;

	*out = NULL;
	if (!ch->up || !ch->reading)
		return -EIO;
	if (redisGetReply(ch->rd, &v) != REDIS_OK) {
		chan_fail(ch, "XREADGROUP");
		return -EIO;
	}
	ch->reading = false;
	r = v;
	if (r->type == REDIS_REPLY_ERROR) {
		/* The stream or the group vanished (FLUSHALL, a new server): create again. */
		if (strncmp(r->str, "NOGROUP", 7) == 0) {
			log_warning("redis %s: consumer group %s is gone; creating it again",
				    ch->where, CHAN_GROUP);
			/* Its reply is freed by setup_cmd: hiredis's own builders (the reader
			 * holds nothing half-built here). */
			ch->rd->reader->fn = ch->rd_fn;
			if (create_group(ch, ch->rd, msg, sizeof(msg)) < 0) {
				log_warning("redis %s: %s", ch->where, msg);
				if (ch->rd->err != 0)
					chan_fail(ch, "XGROUP CREATE");
			}
			if (ch->rd != NULL)
				ch->rd->reader->fn = &rd_fns;
		} else {
			log_warning("redis %s: XREADGROUP refused: %.200s", ch->where, r->str);
		}
		chan_read_free(ch, r);
		return -EPROTO;
	}
	*out = r;
	return 0;
}

bool chan_wait_commit(struct chan *ch)
{
	struct pollfd p[2];

	if (!ch->up || !ch->reading || ch->inflight == 0)
		return false;
	/* Bytes of the read's reply already buffered: go and parse them. (rc's buffer holds
	 * at most an incomplete reply here: every complete one was collected.) */
	if (ch->rd->reader->pos < ch->rd->reader->len)
		return false;
	p[0] = (struct pollfd){.fd = ch->rd->fd, .events = POLLIN};
	p[1] = (struct pollfd){.fd = ch->rc->fd, .events = POLLIN};
	if (poll(p, 2, CHAN_TIMEOUT_MS + CHAN_BLOCK_MAX_MS) <= 0 || p[0].revents != 0)
		return false;
	return p[1].revents != 0;
}

int chan_read(struct chan *ch, const struct chan_readreq *rq, redisReply **out)
{
	int rc = chan_read_start(ch, rq);

	*out = NULL;
	return rc < 0 ? rc : chan_read_finish(ch, out);
}

/* One reply of a transaction (MULTI, QUEUED..., EXEC at index n - 1): log failures. */
static void check_reply(struct chan *ch, const struct txn *t, const redisReply *r, unsigned k,
			unsigned n)
{
	char who[ENTRY_ID_MAX + 48];
	size_t i;

	if (r->type != REDIS_REPLY_ERROR && (k + 1 != n || r->type != REDIS_REPLY_ARRAY))
		return;
	/* EXEC's results: most often no error at all. */
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_ERROR)
			break;
	if (r->type == REDIS_REPLY_ARRAY && i == r->elements)
		return;
	if (t->nentries == 0)
		snprintf(who, sizeof(who), "timer work");
	else
		snprintf(who, sizeof(who), "%u command(s)%s%s", t->nentries,
			 t->has_reply ? ", reply " : "", t->has_reply ? t->entry_id : "");
	if (r->type == REDIS_REPLY_ERROR) {
		log_warning("redis %s: transaction for %s: %s %u refused: %.200s", ch->where, who,
			    k + 1 == n ? "EXEC" : "command", k, r->str);
		return;
	}
	for (; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_ERROR)
			log_warning("redis %s: transaction for %s: command %zu failed: %.200s",
				    ch->where, who, i + 1, r->element[i]->str);
}

static bool sendable(const struct txn *t)
{
	return !t->failed && t->len != 0;
}

/* Write the sendable txns[0..n) from their own buffers. hiredis would first copy each
 * into its output buffer, which it frees whenever it empties: a large reallocation for
 * every batch. Only while hiredis holds nothing unsent itself (always the case: every
 * other write on rc is complete before its caller returns). Returns 0 or -EIO. */
static int write_txns(struct chan *ch, struct txn *const *txns, unsigned n)
{
	struct iovec iov[CHAN_IOV_MAX];
	unsigned i = 0, k;
	size_t off = 0, left;
	ssize_t w;
	int cnt;

	for (;;) {
		while (i < n && !sendable(txns[i]))
			i++;
		if (i == n)
			return 0;
		cnt = 0;
		for (k = i; k < n && cnt < CHAN_IOV_MAX; k++) {
			if (!sendable(txns[k]))
				continue;
			iov[cnt].iov_base = txns[k]->buf + (k == i ? off : 0);
			iov[cnt].iov_len = txns[k]->len - (k == i ? off : 0);
			cnt++;
		}
		w = writev(ch->rc->fd, iov, cnt);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fail_because(ch, "commit",
				     w == 0 || errno == EAGAIN ? "write timed out"
							       : strerror(errno));
			return -EIO;
		}
		for (left = (size_t)w; left > 0; i++) {
			while (!sendable(txns[i]))
				i++;
			if (left < txns[i]->len - off) {
				off += left;
				break;
			}
			left -= txns[i]->len - off;
			off = 0;
		}
	}
}

int chan_send(struct chan *ch, struct txn *const *txns, unsigned n)
{
	unsigned sent = 0;

	if (!ch->up)
		return -EIO;
	for (unsigned i = 0; i < n; i++)
		sent += sendable(txns[i]);
	if (sent == 0)
		return 0;
	if (sdslen(ch->rc->obuf) == 0) {
		if (write_txns(ch, txns, n) < 0)
			return -EIO;
	} else {
		for (unsigned i = 0; i < n; i++) {
			if (!sendable(txns[i]))
				continue;
			if (redisAppendFormattedCommand(ch->rc, txns[i]->buf, txns[i]->len) !=
			    REDIS_OK) {
				chan_fail(ch, "commit");
				return -EIO;
			}
		}
		if (write_out(ch, ch->rc, "commit") < 0)
			return -EIO;
	}
	if (ch->inflight == 0)
		ch->rc->reader->fn = &txn_fns;
	ch->inflight += sent;
	return 0;
}

unsigned chan_inflight(const struct chan *ch)
{
	return ch->inflight;
}

/* The next reply on rc: 0, -EAGAIN (not complete yet and !wait) or -EIO. */
static int next_reply(struct chan *ch, bool wait, void **r)
{
	struct pollfd p = {.fd = ch->rc->fd, .events = POLLIN};

	*r = NULL;
	if (wait)
		return redisGetReply(ch->rc, r) == REDIS_OK ? 0 : -EIO;
	if (redisGetReplyFromReader(ch->rc, r) != REDIS_OK)
		return -EIO;
	if (*r != NULL)
		return 0;
	if (poll(&p, 1, 0) <= 0)
		return -EAGAIN;
	/* Readable: data, or the end of the connection (then the read fails). */
	if (redisBufferRead(ch->rc) != REDIS_OK || redisGetReplyFromReader(ch->rc, r) != REDIS_OK)
		return -EIO;
	return *r != NULL ? 0 : -EAGAIN;
}

int chan_collect(struct chan *ch, const struct txn *t, bool wait)
{
	void *r;
	int rc;

	if (!sendable(t))
		return 0; /* never sent */
	if (!ch->up || ch->inflight == 0)
		return -EIO;
	while (ch->partial < t->ncmds) {
		rc = next_reply(ch, wait, &r);
		if (rc == -EAGAIN)
			return rc;
		if (rc < 0) {
			chan_fail(ch, "commit");
			return -EIO;
		}
		check_reply(ch, t, r, ch->partial, t->ncmds);
		txn_free_object(r);
		ch->partial++;
	}
	ch->partial = 0;
	if (--ch->inflight == 0)
		ch->rc->reader->fn = ch->rc_fn;
	return 0;
}

unsigned chan_commit(struct chan *ch, struct txn *const *txns, unsigned n)
{
	unsigned done = 0;

	if (!ch->up || rc_busy(ch, "commit") || chan_send(ch, txns, n) < 0)
		return 0;
	for (; done < n; done++)
		if (chan_collect(ch, txns[done], true) < 0)
			break;
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
