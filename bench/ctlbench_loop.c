/* rtpanchor-bench-ctl's clients: one epoll loop multiplexes its share of the client
 * connections on non-blocking sockets, hiredis only parsing the replies (redisReader).
 * Each client still does what a SIP proxy does on its own connection: XADD of the
 * command and BLPOP of its own reply list written together, offer -> answer -> delete.
 * One loop per thread; a loop shares only struct ctlbench_shared with the others. */
#include "ctlbench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/read.h>
#include <jansson.h>

#define SDP_MAX 2048
/* A command as written, the XADD (the SDP, two keys, the ids and framing) and the
 * BLPOP, without the flags, which are added per run. */
#define OUT_MAX	 (SDP_MAX + 4 * CTLREQ_KEY_MAX + 1024)
#define READ_MAX 16384
/* How often replies overdue are looked for. */
#define SCAN_MS 100

static const char *const cmd_names[CTLBENCH_CMD_N] = {"offer", "answer", "delete"};

enum outcome { OUT_OK, OUT_ERROR_REPLY, OUT_TIMEOUT, OUT_BAD, OUT_IO };

struct client {
	struct ctlbench_loop *lp;
	unsigned idx;
	redisContext *c; /* connected and authenticated by ctlreq; owns the fd */
	redisReader *rd; /* this connection's replies (hiredis' own I/O is not used) */
	char key[CTLREQ_KEY_MAX];
	uint64_t seq;
	unsigned warm_left; /* warm-up pairs still to run */
	bool measuring;	    /* the pair in flight is measured */
	bool need_delete;   /* the pair in flight may have created a call */
	bool parked;	    /* between pairs, waiting for the others (warm-up) or finished */
	bool dead;
	enum ctlbench_cmd cmd; /* in flight */
	unsigned due;	       /* replies still due for it: 2 (XADD, BLPOP), 1, 0 */
	enum ctlreq_status xadd_st;
	char xadd_err[300];
	uint64_t t_pair, t_cmd, deadline_ns;
	uint64_t t_reply; /* when the read that brought the last reply returned */
	char call_id[96], from_tag[48], to_tag[48];
	char *out;		 /* out_max bytes */
	size_t out_len, out_off; /* bytes of out to write, written */
	bool want_out;		 /* EPOLLOUT registered */
};

struct ctlbench_loop {
	struct ctlbench_shared *sh;
	const struct ctlbench_opts *o;
	int ep;
	unsigned n;
	unsigned busy; /* clients not parked */
	bool warming;
	long pid;
	size_t out_max; /* OUT_MAX + the flags */
	char secs[32];	/* the BLPOP timeout: fractional seconds (Redis >= 6) */
	size_t secs_len;
	struct client *cl;
	struct ctlbench_stats st;
};

uint64_t ctlbench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void samples_add(struct ctlbench_samples *s, uint64_t v)
{
	uint64_t *n;

	if (s->n == s->cap) {
		n = realloc(s->v, (s->cap ? s->cap * 2 : 4096) * sizeof(*n));
		if (n == NULL)
			return; /* the figure is lost, the run goes on */
		s->v = n;
		s->cap = s->cap ? s->cap * 2 : 4096;
	}
	s->v[s->n++] = v;
}

static void note(char *dst, size_t len, const char *what, const char *msg)
{
	if (dst[0] == '\0')
		snprintf(dst, len, "%s: %.200s", what, msg);
}

/* "<c><n>\r\n" at p + *off; false when it does not fit in cap. */
static bool resp_head(char *p, size_t cap, size_t *off, char c, size_t n)
{
	char d[20];
	size_t k = ctlbench_utoa(n, d);

	if (k + 3 > cap - *off)
		return false;
	p[(*off)++] = c;
	memcpy(p + *off, d, k);
	*off += k;
	p[(*off)++] = '\r';
	p[(*off)++] = '\n';
	return true;
}

/* argv as a RESP array at p; the length, or 0 when it does not fit in cap. */
static size_t resp_put(char *p, size_t cap, int argc, const char *const *argv, const size_t *lens)
{
	size_t off = 0;
	int i;

	if (!resp_head(p, cap, &off, '*', (size_t)argc))
		return 0;
	for (i = 0; i < argc; i++) {
		if (!resp_head(p, cap, &off, '$', lens[i]) || lens[i] + 2 > cap - off)
			return 0;
		memcpy(p + off, argv[i], lens[i]);
		off += lens[i];
		p[off++] = '\r';
		p[off++] = '\n';
	}
	return off;
}

/* Wait for EPOLLOUT too (a partial write) or no longer. */
static int want_out(struct client *cl, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = cl};

	if (cl->want_out == on)
		return 0;
	cl->want_out = on;
	return epoll_ctl(cl->lp->ep, EPOLL_CTL_MOD, cl->c->fd, &ev) == 0 ? 0 : -errno;
}

/* Writes what is left of out; 0 (done or to be continued on EPOLLOUT) or -errno. */
static int flush_out(struct client *cl)
{
	ssize_t w;

	while (cl->out_off < cl->out_len) {
		w = write(cl->c->fd, cl->out + cl->out_off, cl->out_len - cl->out_off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return want_out(cl, true);
			return -errno;
		}
		cl->out_off += (size_t)w;
	}
	return want_out(cl, false);
}

/* Put the connection of cl in the loop: non-blocking, its own reader.
 * SO_RCVLOWAT spares a wake-up and a read per command: the XADD's reply (an entry id,
 * at most 48 bytes) no longer makes the socket readable on its own, while any BLPOP reply
 * with a value (the key and the value, framed: more than key + 16 bytes) does, the XADD's
 * reply then read with it. What is shorter (the nil of a BLPOP timeout, a short error)
 * waits for scan_overdue. Ignored by unix sockets, which then wake twice. */
static int attach(struct client *cl, char *err, size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
	int fl, fd = cl->c->fd, lowat = (int)strlen(cl->key) + 16;

	cl->rd = redisReaderCreate();
	if (cl->rd == NULL) {
		snprintf(err, errlen, "out of memory for a reply reader");
		return -ENOMEM;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    (!cl->lp->o->redis.is_unix &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) < 0) ||
	    epoll_ctl(cl->lp->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		snprintf(err, errlen, "cannot watch the Redis connection: %s", strerror(errno));
		return -errno;
	}
	cl->want_out = false;
	return 0;
}

static void detach(struct client *cl)
{
	if (cl->c != NULL) {
		epoll_ctl(cl->lp->ep, EPOLL_CTL_DEL, cl->c->fd, NULL);
		redisFree(cl->c);
		cl->c = NULL;
	}
	if (cl->rd != NULL) {
		redisReaderFree(cl->rd);
		cl->rd = NULL;
	}
}

/* A fresh connection after a broken one (what was in flight on the old one is lost).
 * Connecting blocks this loop for up to the reply timeout: Redis is then gone for every
 * client alike. false, with the client dead, when it cannot be re-made. */
static bool reconnect(struct client *cl)
{
	const struct ctlbench_opts *o = cl->lp->o;
	char err[512];

	detach(cl);
	cl->c = ctlreq_connect(&o->redis, o->timeout_ms, err, sizeof(err));
	if (cl->c == NULL || attach(cl, err, sizeof(err)) < 0) {
		note(cl->lp->st.first_error, sizeof(cl->lp->st.first_error), "reconnect", err);
		detach(cl);
		cl->dead = true;
		return false;
	}
	return true;
}

static void finish(struct client *cl, enum outcome out);

/* A failure of the connection itself while cmd was in flight. */
static void io_failed(struct client *cl, const char *fmt, const char *why)
{
	struct ctlbench_stats *st = &cl->lp->st;
	char msg[300];
	int n;

	/* Which of the two replies was awaited, as tools/ctlreq.c says. */
	n = snprintf(msg, sizeof(msg), "%s: ", cl->due == 2 ? "XADD" : "BLPOP");
	snprintf(msg + n, sizeof(msg) - (size_t)n, fmt, why);
	if (cl->measuring) {
		st->io++;
		note(st->first_error, sizeof(st->first_error), cmd_names[cl->cmd], msg);
	}
	cl->due = 0;
	finish(cl, OUT_IO);
}

/* Write r's XADD and the BLPOP of the client's reply list together. */
static void send_cmd(struct client *cl, enum ctlbench_cmd which, const struct ctlreq *r)
{
	struct ctlbench_loop *lp = cl->lp;
	const struct ctlbench_opts *o = lp->o;
	const char *argv[CTLREQ_ARGV_MAX];
	size_t lens[CTLREQ_ARGV_MAX], n, m;
	char stream[CTLREQ_KEY_MAX];
	const char *bl[3] = {"BLPOP", cl->key, lp->secs};
	size_t bll[3] = {5, 0, lp->secs_len};
	int argc;

	cl->cmd = which;
	argc = ctlreq_argv(r, o->prefix, cl->key, stream, argv, lens);
	bll[1] = strlen(cl->key);
	n = argc < 0 ? 0 : resp_put(cl->out, lp->out_max, argc, argv, lens);
	m = n == 0 ? 0 : resp_put(cl->out + n, lp->out_max - n, 3, bl, bll);
	cl->t_cmd = ctlbench_now_ns();
	cl->deadline_ns = cl->t_cmd + ((uint64_t)o->timeout_ms + 1000) * 1000000u;
	if (m == 0) {
		/* Not reached: out_max and the option checks make room for every field. Were
		 * it, the client could send nothing: it stops (finishing the pair instead
		 * would come straight back here). */
		note(lp->st.first_error, sizeof(lp->st.first_error), cmd_names[which],
		     "the command does not fit in the client's buffer");
		detach(cl);
		cl->dead = true;
		cl->parked = true;
		lp->busy--;
		return;
	}
	cl->out_len = n + m;
	cl->out_off = 0;
	cl->due = 2;
	cl->xadd_st = CTLREQ_OK;
	/* A failed write is not handled here (that would recurse through finish and
	 * reconnect): the broken socket is readable (EOF or error), and on_readable ends the
	 * command; failing that, the reply deadline does. */
	flush_out(cl);
}

/* The pair is over: the next one, or the client parks. */
static void pair_start(struct client *cl);

/* Next step of the pair after cmd ended with out: offer -> answer -> delete, as a proxy
 * does, the delete also after a failed or unanswered one that may have left a call. */
static void finish(struct client *cl, enum outcome out)
{
	const struct ctlbench_opts *o = cl->lp->o;
	struct ctlbench_stats *st = &cl->lp->st;
	char sdp[SDP_MAX];
	struct ctlreq r = {.call_id = cl->call_id, .from_tag = cl->from_tag, .flags = o->flags};

	switch (cl->cmd) {
	case CTLBENCH_OFFER:
		if (out == OUT_OK) {
			cl->need_delete = true;
			r.op = "answer";
			r.to_tag = cl->to_tag;
			r.sdp = sdp;
			r.sdp_len =
			    ctlbench_sdp_answer(sdp, sizeof(sdp), cl->idx, cl->seq, o->video);
			send_cmd(cl, CTLBENCH_ANSWER, &r);
			return;
		}
		if (out == OUT_TIMEOUT)
			cl->need_delete = true; /* control may still apply it */
		break;
	case CTLBENCH_ANSWER:
		if (out == OUT_OK && cl->measuring) {
			st->last_done_ns = cl->t_reply;
			samples_add(&st->pair, cl->t_reply - cl->t_pair);
		}
		break;
	default: /* the delete: the pair is over whatever happened */
		cl->need_delete = false;
		break;
	}
	if (out == OUT_IO && !reconnect(cl)) {
		pair_start(cl); /* parks it: it is dead */
		return;
	}
	if (cl->need_delete && (o->delete || out != OUT_OK)) {
		r = (struct ctlreq){.op = "delete",
				    .call_id = cl->call_id,
				    .from_tag = cl->from_tag,
				    .flags = "delete-delay=0"};
		send_cmd(cl, CTLBENCH_DELETE, &r);
		return;
	}
	pair_start(cl);
}

/* The checks of a command's reply: result ok, and SDP for offer/answer. */
static enum outcome check_reply(struct client *cl, const char *reply, size_t len)
{
	struct ctlbench_stats *st = &cl->lp->st;
	const char *what = cmd_names[cl->cmd];
	const json_t *res, *w;
	enum outcome out = OUT_OK;
	json_error_t jerr;
	char msg[256];
	json_t *j;

	j = json_loadb(reply, len, 0, &jerr);
	res = json_object_get(j, "result");
	w = json_object_get(j, "warning");
	if (!json_is_string(res)) {
		out = OUT_BAD;
		snprintf(msg, sizeof(msg), "reply is not an object with a result");
	} else if (strcmp(json_string_value(res), "ok") != 0) {
		out = OUT_ERROR_REPLY;
		snprintf(msg, sizeof(msg), "%s",
			 json_is_string(json_object_get(j, "error-reason"))
			     ? json_string_value(json_object_get(j, "error-reason"))
			     : json_string_value(res));
	} else if (cl->cmd != CTLBENCH_DELETE && !json_is_string(json_object_get(j, "sdp"))) {
		out = OUT_BAD;
		snprintf(msg, sizeof(msg), "ok reply without sdp");
	}
	if (cl->measuring) {
		if (out == OUT_ERROR_REPLY)
			st->err_reply++;
		else if (out == OUT_BAD)
			st->bad_reply++;
		if (out != OUT_OK)
			note(st->first_error, sizeof(st->first_error), what, msg);
		if (json_is_string(w) && json_string_length(w) > 0) {
			st->warnings++;
			note(st->first_warning, sizeof(st->first_warning), what,
			     json_string_value(w));
		}
	}
	json_decref(j);
	return out;
}

/* The BLPOP's reply r (its XADD's outcome in cl->xadd_st): the command is over. */
static void on_blpop(struct client *cl, redisReply *r)
{
	const struct ctlbench_opts *o = cl->lp->o;
	struct ctlbench_stats *st = &cl->lp->st;
	const char *what = cmd_names[cl->cmd];
	enum outcome out;
	char msg[CTLREQ_KEY_MAX + 64];

	if (cl->xadd_st != CTLREQ_OK) {
		/* The refused XADD's BLPOP has answered (nil, after the timeout). */
		if (cl->measuring) {
			st->bad_reply++;
			note(st->first_error, sizeof(st->first_error), what, cl->xadd_err);
		}
		out = OUT_BAD;
	} else if (r->type == REDIS_REPLY_NIL) {
		if (cl->measuring) {
			st->timeouts++;
			snprintf(msg, sizeof(msg), "no reply on %s within %d ms", cl->key,
				 o->timeout_ms);
			note(st->first_error, sizeof(st->first_error), what, msg);
		}
		/* A late reply must not be taken for the next command's. */
		ctlreq_reply_key(o->prefix, "bench", cl->key, sizeof(cl->key));
		out = OUT_TIMEOUT;
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		   r->element[1]->type != REDIS_REPLY_STRING) {
		if (r->type == REDIS_REPLY_ERROR)
			snprintf(msg, sizeof(msg), "BLPOP: Redis refused it: %.*s", (int)r->len,
				 r->str);
		else
			snprintf(msg, sizeof(msg), "BLPOP: unexpected reply type %d from Redis",
				 r->type);
		if (cl->measuring) {
			st->bad_reply++;
			note(st->first_error, sizeof(st->first_error), what, msg);
		}
		out = OUT_BAD;
	} else if (r->element[1]->len > CTLREQ_REPLY_MAX) {
		snprintf(msg, sizeof(msg),
			 "the reply is %zu bytes, more than the %u this tool accepts",
			 r->element[1]->len, CTLREQ_REPLY_MAX);
		if (cl->measuring) {
			st->bad_reply++;
			note(st->first_error, sizeof(st->first_error), what, msg);
		}
		out = OUT_BAD;
	} else {
		if (cl->measuring)
			samples_add(&st->cmd[cl->cmd], cl->t_reply - cl->t_cmd);
		out = check_reply(cl, r->element[1]->str, r->element[1]->len);
	}
	freeReplyObject(r);
	finish(cl, out);
}

/* One reply read for the command in flight: the XADD's, then the BLPOP's. */
static void on_reply(struct client *cl, redisReply *r)
{
	if (cl->due == 2) {
		cl->due = 1;
		if (r->type != REDIS_REPLY_STRING) {
			/* The BLPOP still runs: its answer ends the command. */
			cl->xadd_st = CTLREQ_REFUSED;
			if (r->type == REDIS_REPLY_ERROR)
				snprintf(cl->xadd_err, sizeof(cl->xadd_err),
					 "XADD: Redis refused it: %.*s", (int)r->len, r->str);
			else
				snprintf(cl->xadd_err, sizeof(cl->xadd_err),
					 "XADD: unexpected reply type %d from Redis", r->type);
		}
		freeReplyObject(r);
		return;
	}
	cl->due = 0;
	on_blpop(cl, r);
}

/* Readable: every complete reply is handled; a broken connection or stream ends the
 * command in flight as an I/O failure. */
static void on_readable(struct client *cl)
{
	char buf[READ_MAX];
	void *r;
	ssize_t n;

	for (;;) {
		n = read(cl->c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			io_failed(cl, "connection to Redis failed: %s",
				  n == 0 ? "Server closed the connection" : strerror(errno));
			return;
		}
		cl->t_reply = ctlbench_now_ns();
		if (redisReaderFeed(cl->rd, buf, (size_t)n) != REDIS_OK) {
			io_failed(cl, "connection to Redis failed: %s", cl->rd->errstr);
			return;
		}
		for (;;) {
			r = NULL;
			if (redisReaderGetReply(cl->rd, &r) != REDIS_OK) {
				io_failed(cl, "Redis protocol error: %s", cl->rd->errstr);
				return;
			}
			if (r == NULL)
				break;
			if (cl->due == 0) {
				/* RESP2 sends nothing unasked: the stream is out of step. */
				freeReplyObject(r);
				io_failed(cl, "%s", "a reply from Redis that nothing asked for");
				return;
			}
			/* May end the command and write the next one, or reconnect. */
			on_reply(cl, r);
			if (cl->dead || cl->parked)
				return;
		}
		if ((size_t)n < sizeof(buf))
			return; /* all there was: level-triggered epoll reports what comes next */
	}
}

/* A new call: offer it, or park the client (warm-up over, run over, or count reached). */
static void pair_start(struct client *cl)
{
	struct ctlbench_loop *lp = cl->lp;
	const struct ctlbench_opts *o = lp->o;
	char sdp[SDP_MAX];
	struct ctlreq r = {.op = "offer",
			   .call_id = cl->call_id,
			   .from_tag = cl->from_tag,
			   .flags = o->flags,
			   .sdp = sdp};

	if (cl->dead || (cl->c == NULL && !reconnect(cl)))
		goto park;
	if (lp->warming) {
		if (cl->warm_left == 0)
			goto park;
		cl->warm_left--;
		cl->measuring = false;
	} else {
		if (atomic_load(&lp->sh->stop))
			goto park;
		if (o->count != 0 && atomic_fetch_add(&lp->sh->started, 1) >= o->count)
			goto park;
		cl->measuring = true;
	}
	cl->seq++;
	/* Cannot fail: 96 and 48 bytes hold the longest ids. */
	ctlbench_call_ids(cl->call_id, sizeof(cl->call_id), cl->from_tag, cl->to_tag,
			  sizeof(cl->from_tag), lp->pid, cl->idx, cl->seq);
	cl->need_delete = false;
	r.sdp_len = ctlbench_sdp_offer(sdp, sizeof(sdp), cl->idx, cl->seq, o->video);
	cl->t_pair = ctlbench_now_ns();
	send_cmd(cl, CTLBENCH_OFFER, &r);
	return;
park:
	cl->parked = true;
	lp->busy--;
}

/* Commands past the BLPOP timeout: what arrived below the low-water mark (see attach)
 * is read; a second later, with still no reply, the connection is taken as broken (as a
 * socket timeout would). */
static void scan_overdue(struct ctlbench_loop *lp, uint64_t now)
{
	uint64_t after = (uint64_t)lp->o->timeout_ms * 1000000u;
	unsigned i;

	for (i = 0; i < lp->n; i++) {
		struct client *cl = &lp->cl[i];

		if (cl->parked || cl->dead || cl->due == 0 || cl->t_cmd + after > now)
			continue;
		on_readable(cl);
		if (!cl->parked && !cl->dead && cl->due > 0 && now > cl->deadline_ns)
			io_failed(cl, "connection to Redis failed: %s",
				  "no answer from Redis within the timeout");
	}
}

/* Runs the loop until every client is parked. */
static void run_phase(struct ctlbench_loop *lp)
{
	struct epoll_event ev[64];
	uint64_t now, next_scan = ctlbench_now_ns() + SCAN_MS * 1000000u;
	unsigned i;
	int n, k;

	lp->busy = lp->n;
	for (i = 0; i < lp->n; i++) {
		lp->cl[i].parked = false;
		pair_start(&lp->cl[i]);
	}
	while (lp->busy > 0) {
		n = epoll_wait(lp->ep, ev, (int)(sizeof(ev) / sizeof(ev[0])), SCAN_MS);
		if (n < 0 && errno != EINTR) {
			/* Only a bug makes epoll_wait fail: stop every client rather than spin. */
			note(lp->st.first_error, sizeof(lp->st.first_error), "epoll_wait",
			     strerror(errno));
			for (i = 0; i < lp->n; i++)
				if (!lp->cl[i].dead) {
					detach(&lp->cl[i]);
					lp->cl[i].dead = true;
				}
			return;
		}
		for (k = 0; k < n; k++) {
			struct client *cl = ev[k].data.ptr;
			int rc;

			if (cl->dead || cl->c == NULL)
				continue; /* an event of a connection dropped in this batch */
			if (cl->parked) {
				/* Nothing is due on it: Redis closed it (or broke the protocol).
				 * Dropped now, so that it does not keep epoll_wait busy. */
				detach(cl);
				continue;
			}
			if (ev[k].events & EPOLLOUT) {
				rc = flush_out(cl);
				if (rc < 0) {
					io_failed(cl, "connection to Redis failed: %s",
						  strerror(-rc));
					continue;
				}
			}
			if (ev[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(cl);
		}
		now = ctlbench_now_ns();
		if (now >= next_scan) {
			scan_overdue(lp, now);
			next_scan = now + SCAN_MS * 1000000u;
		}
	}
}

void *ctlbench_loop_run(void *arg)
{
	struct ctlbench_loop *lp = arg;

	lp->warming = true;
	if (lp->o->warmup > 0)
		run_phase(lp);
	pthread_barrier_wait(&lp->sh->warm);
	lp->warming = false;
	run_phase(lp);
	for (unsigned i = 0; i < lp->n; i++)
		lp->st.dead += lp->cl[i].dead;
	return NULL;
}

int ctlbench_loop_create(struct ctlbench_shared *sh, unsigned first, unsigned step,
			 struct ctlbench_loop **out, char *err, size_t errlen)
{
	const struct ctlbench_opts *o = sh->o;
	struct ctlbench_loop *lp;
	char msg[512];
	unsigned i;
	int rc;

	*out = NULL;
	lp = calloc(1, sizeof(*lp));
	if (lp == NULL)
		goto oom;
	lp->sh = sh;
	lp->o = o;
	lp->ep = -1;
	lp->pid = (long)getpid();
	lp->out_max = OUT_MAX + (o->flags != NULL ? strlen(o->flags) : 0);
	snprintf(lp->secs, sizeof(lp->secs), "%d.%03d", o->timeout_ms / 1000, o->timeout_ms % 1000);
	lp->secs_len = strlen(lp->secs);
	lp->n = first < o->clients ? (o->clients - first + step - 1) / step : 0;
	lp->cl = calloc(lp->n ? lp->n : 1, sizeof(*lp->cl));
	if (lp->cl == NULL)
		goto oom;
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	if (lp->ep < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < lp->n; i++) {
		struct client *cl = &lp->cl[i];

		cl->lp = lp;
		cl->idx = first + i * step;
		cl->out = malloc(lp->out_max);
		if (cl->out == NULL)
			goto oom;
		cl->warm_left = o->warmup;
		rc = ctlreq_reply_key(o->prefix, "bench", cl->key, sizeof(cl->key));
		if (rc < 0) {
			snprintf(err, errlen, "client %u: key prefix too long", cl->idx);
			goto fail;
		}
		cl->c = ctlreq_connect(&o->redis, o->timeout_ms, msg, sizeof(msg));
		if (cl->c == NULL) {
			rc = -ENOTCONN;
			snprintf(err, errlen, "client %u: %s", cl->idx, msg);
			goto fail;
		}
		rc = attach(cl, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "client %u: %s", cl->idx, msg);
			goto fail;
		}
	}
	*out = lp;
	return 0;
oom:
	rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	ctlbench_loop_destroy(lp);
	return rc;
}

struct ctlbench_stats *ctlbench_loop_stats(struct ctlbench_loop *lp)
{
	return &lp->st;
}

void ctlbench_loop_destroy(struct ctlbench_loop *lp)
{
	unsigned i, k;

	if (lp == NULL)
		return;
	for (i = 0; lp->cl != NULL && i < lp->n; i++)
		if (lp->cl[i].lp != NULL) {
			detach(&lp->cl[i]);
			free(lp->cl[i].out);
		}
	if (lp->ep >= 0)
		close(lp->ep);
	free(lp->st.pair.v);
	for (k = 0; k < CTLBENCH_CMD_N; k++)
		free(lp->st.cmd[k].v);
	free(lp->cl);
	free(lp);
}
