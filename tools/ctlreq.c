/* The Redis command channel client: endpoint parsing, connecting with credentials from
 * the environment, XADD of a request and BLPOP of its reply. Runs on the calling thread;
 * nothing here is shared between threads. */
#include "ctlreq.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int ctlreq_endpoint_parse(const char *s, struct ctlreq_endpoint *ep)
{
	const char *colon = NULL, *host = s;
	unsigned long port = 6379;
	size_t hl;
	char *end;

	memset(ep, 0, sizeof(*ep));
	if (s[0] == '/') {
		if (strlen(s) >= sizeof(ep->host))
			return -EINVAL;
		ep->is_unix = true;
		strcpy(ep->host, s);
		return 0;
	}
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != ':' && end[1] != '\0'))
			return -EINVAL;
		host = s + 1;
		hl = (size_t)(end - host);
		if (end[1] == ':')
			colon = end + 1;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return -EINVAL; /* IPv6 needs brackets */
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0 || hl >= sizeof(ep->host))
		return -EINVAL;
	if (colon != NULL) {
		if (colon[1] < '0' || colon[1] > '9')
			return -EINVAL;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || errno != 0 || port == 0 || port > 65535)
			return -EINVAL;
	}
	memcpy(ep->host, host, hl);
	ep->host[hl] = '\0';
	if (strpbrk(ep->host, " \t/[]") != NULL)
		return -EINVAL;
	ep->port = (int)port;
	return 0;
}

const char *ctlreq_endpoint_format(const struct ctlreq_endpoint *ep, char *buf, size_t len)
{
	if (ep->is_unix)
		snprintf(buf, len, "%s", ep->host);
	else if (strchr(ep->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", ep->host, ep->port);
	else
		snprintf(buf, len, "%s:%d", ep->host, ep->port);
	return buf;
}

static struct timeval tv_ms(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	return tv;
}

/* A command whose reply must be +OK; false with err set otherwise. */
static bool simple_ok(redisContext *c, int argc, const char **argv, const char *what, char *err,
		      size_t errlen)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	bool ok;

	if (r == NULL) {
		snprintf(err, errlen, "%s: %s", what, c->errstr);
		return false;
	}
	ok = r->type == REDIS_REPLY_STATUS;
	if (!ok)
		snprintf(err, errlen, "%s: %.*s", what,
			 r->type == REDIS_REPLY_ERROR ? (int)r->len : 20,
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply type");
	freeReplyObject(r);
	return ok;
}

redisContext *ctlreq_connect(const struct ctlreq_endpoint *ep, int timeout_ms, char *err,
			     size_t errlen)
{
	const char *pass = getenv("RTPANCHOR_REDIS_PASSWORD");
	const char *user = getenv("RTPANCHOR_REDIS_USER");
	const char *argv[3];
	char where[300], msg[256], dbs[16];
	redisContext *c;

	ctlreq_endpoint_format(ep, where, sizeof(where));
	if (ep->is_unix)
		c = redisConnectUnixWithTimeout(ep->host, tv_ms(timeout_ms));
	else
		c = redisConnectWithTimeout(ep->host, ep->port, tv_ms(timeout_ms));
	if (c == NULL) {
		snprintf(err, errlen, "cannot reach Redis at %s: out of memory", where);
		return NULL;
	}
	if (c->err) {
		snprintf(err, errlen, "cannot reach Redis at %s: %s", where, c->errstr);
		goto fail;
	}
	if (redisSetTimeout(c, tv_ms(timeout_ms)) != REDIS_OK) {
		snprintf(err, errlen, "Redis at %s: cannot set the socket timeout: %s", where,
			 c->errstr);
		goto fail;
	}
	if (pass != NULL && pass[0] != '\0') {
		argv[0] = "AUTH";
		if (user != NULL && user[0] != '\0') {
			argv[1] = user;
			argv[2] = pass;
		} else {
			argv[1] = pass;
		}
		if (!simple_ok(c, user != NULL && user[0] != '\0' ? 3 : 2, argv, "AUTH", msg,
			       sizeof(msg))) {
			snprintf(err, errlen,
				 "Redis at %s refused the credentials from "
				 "RTPANCHOR_REDIS_USER/RTPANCHOR_REDIS_PASSWORD: %s",
				 where, msg);
			goto fail;
		}
	}
	if (ep->db != 0) {
		snprintf(dbs, sizeof(dbs), "%d", ep->db);
		argv[0] = "SELECT";
		argv[1] = dbs;
		if (!simple_ok(c, 2, argv, "SELECT", msg, sizeof(msg))) {
			snprintf(err, errlen, "Redis at %s: database %d: %s", where, ep->db, msg);
			goto fail;
		}
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}

int ctlreq_argv(const struct ctlreq *r, const char *prefix, const char *reply_key, char *stream,
		const char **argv, size_t *lens)
{
	int n = 0;

	if (strlen(prefix) > CTLREQ_PREFIX_MAX)
		return -ENAMETOOLONG;
	snprintf(stream, CTLREQ_KEY_MAX, "%scommands", prefix);
#define ADD(s, l)                                                                                  \
	do {                                                                                       \
		argv[n] = (s);                                                                     \
		lens[n] = (l);                                                                     \
		n++;                                                                               \
	} while (0)
#define ADDSTR(s) ADD((s), strlen(s))
	ADDSTR("XADD");
	ADDSTR(stream);
	ADDSTR("*");
	ADDSTR("op");
	ADDSTR(r->op);
	if (r->call_id != NULL) {
		ADDSTR("call-id");
		ADDSTR(r->call_id);
	}
	if (r->from_tag != NULL) {
		ADDSTR("from-tag");
		ADDSTR(r->from_tag);
	}
	if (r->to_tag != NULL) {
		ADDSTR("to-tag");
		ADDSTR(r->to_tag);
	}
	if (r->sdp != NULL) {
		ADDSTR("sdp");
		ADD(r->sdp, r->sdp_len);
	}
	if (r->flags != NULL) {
		ADDSTR("flags");
		ADDSTR(r->flags);
	}
	ADDSTR("reply-to");
	ADDSTR(reply_key);
#undef ADDSTR
#undef ADD
	return n;
}

int ctlreq_reply_key(const char *prefix, const char *who, char *buf, size_t len)
{
	char host[65];
	uint64_t rnd;
	size_t i;
	int n;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] == ':' || (unsigned char)host[i] <= ' ')
			host[i] = '_';
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		struct timespec ts;

		/* getrandom only fails before the pool is seeded: pid + time is still unique
		 * per process. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		rnd = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	n = snprintf(buf, len, "%sreply-%s:%s:%ld:%016llx", prefix, who, host, (long)getpid(),
		     (unsigned long long)rnd);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The failure of a command sent on c: broken connection or Redis error reply. */
static enum ctlreq_status failed(redisContext *c, redisReply *r, const char *what, char *err,
				 size_t errlen)
{
	if (r == NULL) {
		snprintf(err, errlen, "%s: connection to Redis failed: %s", what,
			 c->errstr[0] ? c->errstr : "unknown error");
		return CTLREQ_IO;
	}
	if (r->type == REDIS_REPLY_ERROR)
		snprintf(err, errlen, "%s: Redis refused it: %.*s", what, (int)r->len, r->str);
	else
		snprintf(err, errlen, "%s: unexpected reply type %d from Redis", what, r->type);
	freeReplyObject(r);
	return CTLREQ_REFUSED;
}

enum ctlreq_status ctlreq_send(redisContext *c, const struct ctlreq *r, const char *prefix,
			       const char *reply_key, char *id, size_t idlen, char *err,
			       size_t errlen)
{
	const char *argv[CTLREQ_ARGV_MAX];
	size_t lens[CTLREQ_ARGV_MAX];
	char stream[CTLREQ_KEY_MAX];
	redisReply *rep;
	int argc;

	argc = ctlreq_argv(r, prefix, reply_key, stream, argv, lens);
	if (argc < 0) {
		snprintf(err, errlen, "key prefix longer than %d bytes", CTLREQ_PREFIX_MAX);
		return CTLREQ_REFUSED;
	}
	rep = redisCommandArgv(c, argc, argv, lens);
	if (rep == NULL || rep->type != REDIS_REPLY_STRING)
		return failed(c, rep, "XADD", err, errlen);
	snprintf(id, idlen, "%.*s", (int)rep->len, rep->str);
	freeReplyObject(rep);
	return CTLREQ_OK;
}

/* The reply of a BLPOP (rep as read, NULL if the connection failed), into *reply. */
static enum ctlreq_status take_reply(redisContext *c, redisReply *rep, const char *reply_key,
				     int timeout_ms, char **reply, size_t *len, char *err,
				     size_t errlen)
{
	enum ctlreq_status st;
	redisReply *v;

	*reply = NULL;
	*len = 0;
	if (rep == NULL)
		return failed(c, rep, "BLPOP", err, errlen);
	if (rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		snprintf(err, errlen, "no reply on %s within %d ms", reply_key, timeout_ms);
		return CTLREQ_TIMEOUT;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[1]->type != REDIS_REPLY_STRING)
		return failed(c, rep, "BLPOP", err, errlen);
	v = rep->element[1];
	if (v->len > CTLREQ_REPLY_MAX) {
		snprintf(err, errlen, "the reply is %zu bytes, more than the %u this tool accepts",
			 v->len, CTLREQ_REPLY_MAX);
		st = CTLREQ_TOO_BIG;
	} else if ((*reply = malloc(v->len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory for a %zu-byte reply", v->len);
		st = CTLREQ_TOO_BIG;
	} else {
		memcpy(*reply, v->str, v->len);
		(*reply)[v->len] = '\0';
		*len = v->len;
		st = CTLREQ_OK;
	}
	freeReplyObject(rep);
	return st;
}

/* BLPOP takes fractional seconds (Redis >= 6). */
static void blpop_secs(int timeout_ms, char *buf, size_t len)
{
	snprintf(buf, len, "%d.%03d", timeout_ms / 1000, timeout_ms % 1000);
}

enum ctlreq_status ctlreq_wait(redisContext *c, const char *reply_key, int timeout_ms, char **reply,
			       size_t *len, char *err, size_t errlen)
{
	const char *argv[3] = {"BLPOP", reply_key, NULL};
	redisReply *rep;
	char secs[32];

	/* The socket waits a second longer, so a silent control shows as a nil reply, not as
	 * a broken connection. */
	blpop_secs(timeout_ms, secs, sizeof(secs));
	argv[2] = secs;
	redisSetTimeout(c, tv_ms(timeout_ms + 1000));
	rep = redisCommandArgv(c, 3, argv, NULL);
	redisSetTimeout(c, tv_ms(timeout_ms));
	return take_reply(c, rep, reply_key, timeout_ms, reply, len, err, errlen);
}

void ctlreq_call_prepare(redisContext *c, int timeout_ms)
{
	redisSetTimeout(c, tv_ms(timeout_ms + 1000));
}

enum ctlreq_status ctlreq_call(redisContext *c, const struct ctlreq *r, const char *prefix,
			       const char *reply_key, int timeout_ms, char *id, size_t idlen,
			       char **reply, size_t *len, char *err, size_t errlen)
{
	const char *argv[CTLREQ_ARGV_MAX], *bl[3] = {"BLPOP", reply_key, NULL};
	size_t lens[CTLREQ_ARGV_MAX];
	char stream[CTLREQ_KEY_MAX], secs[32];
	enum ctlreq_status st = CTLREQ_OK;
	void *v = NULL;
	redisReply *rep;
	int argc;

	*reply = NULL;
	*len = 0;
	argc = ctlreq_argv(r, prefix, reply_key, stream, argv, lens);
	if (argc < 0) {
		snprintf(err, errlen, "key prefix longer than %d bytes", CTLREQ_PREFIX_MAX);
		return CTLREQ_REFUSED;
	}
	blpop_secs(timeout_ms, secs, sizeof(secs));
	bl[2] = secs;
	if (redisAppendCommandArgv(c, argc, argv, lens) != REDIS_OK ||
	    redisAppendCommandArgv(c, 3, bl, NULL) != REDIS_OK)
		return failed(c, NULL, "XADD", err, errlen);
	if (redisGetReply(c, &v) != REDIS_OK)
		return failed(c, NULL, "XADD", err, errlen);
	rep = v;
	if (rep->type == REDIS_REPLY_STRING) {
		snprintf(id, idlen, "%.*s", (int)rep->len, rep->str);
		freeReplyObject(rep);
	} else {
		/* The BLPOP still runs: its answer is read (and dropped) below. */
		st = failed(c, rep, "XADD", err, errlen);
	}
	v = NULL;
	if (redisGetReply(c, &v) != REDIS_OK)
		return failed(c, NULL, "BLPOP", err, errlen);
	if (st != CTLREQ_OK) {
		freeReplyObject(v);
		return st;
	}
	return take_reply(c, v, reply_key, timeout_ms, reply, len, err, errlen);
}
