/* A client of rtpanchor's Redis command channel, as a SIP proxy uses it (DESIGN.md "The
 * command channel"): XADD one request to <prefix>commands naming a reply key, then BLPOP
 * that key. Synchronous hiredis; one context per thread. Shared by the CLI and the
 * control-plane benchmark. */
#ifndef RTPANCHOR_CTLREQ_H
#define RTPANCHOR_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#define CTLREQ_DEFAULT_REDIS  "127.0.0.1:6379"
#define CTLREQ_DEFAULT_PREFIX "rtpanchor:"
#define CTLREQ_PREFIX_MAX     128
#define CTLREQ_KEY_MAX	      (CTLREQ_PREFIX_MAX + 192)
/* A reply bigger than this is refused: the CLI holds it whole. */
#define CTLREQ_REPLY_MAX (64u << 20)

/* Where Redis is (CTLREQ_DEFAULT_REDIS when not told): "HOST:PORT", "HOST" (port 6379),
 * "[V6]:PORT", or a unix socket path (anything starting with '/'). */
struct ctlreq_endpoint {
	bool is_unix;
	char host[256]; /* or the socket path */
	int port;
	int db; /* SELECT db after connecting when non-zero */
};

/* Parse s into ep (db left 0). 0, or -EINVAL for an empty host, a bad or missing port
 * after ':', an unbracketed IPv6 address or a name too long. Pure. */
int ctlreq_endpoint_parse(const char *s, struct ctlreq_endpoint *ep);
/* "host:port", "[v6]:port" or the path, for messages. Returns buf. */
const char *ctlreq_endpoint_format(const struct ctlreq_endpoint *ep, char *buf, size_t len);

/* Connect within timeout_ms, authenticate when $RTPANCHOR_REDIS_PASSWORD is set (with
 * $RTPANCHOR_REDIS_USER as the ACL user when that is set too: credentials never come from
 * the command line), SELECT ep->db, and leave timeout_ms as the socket timeout.
 * NULL with a message in err that names the endpoint. */
redisContext *ctlreq_connect(const struct ctlreq_endpoint *ep, int timeout_ms, char *err,
			     size_t errlen);

/* One request. Strings NUL-terminated; the optional ones may be NULL, and are then not
 * sent. sdp is sent with sdp_len bytes exactly (binary safe). */
struct ctlreq {
	const char *op; /* offer, answer, delete, query, list, statistics, ping */
	const char *call_id;
	const char *from_tag;
	const char *to_tag;
	const char *sdp;
	size_t sdp_len;
	const char *flags; /* space separated */
};

/* The XADD command for r, as argv/argvlen for redisCommandArgv: "XADD" <stream> "*" op ...
 * reply-to <reply_key>. stream must hold CTLREQ_KEY_MAX bytes and stay alive while argv
 * is used. argv/lens need CTLREQ_ARGV_MAX entries. Returns argc, or -ENAMETOOLONG when
 * the prefix exceeds CTLREQ_PREFIX_MAX. Pure. */
#define CTLREQ_ARGV_MAX 17
int ctlreq_argv(const struct ctlreq *r, const char *prefix, const char *reply_key, char *stream,
		const char **argv, size_t *lens);

/* A reply key nobody else uses: <prefix>reply-cli:<host>:<pid>:<16 random hex digits>.
 * `who` replaces "cli" (the benchmark uses its own). 0, or -ENAMETOOLONG. */
int ctlreq_reply_key(const char *prefix, const char *who, char *buf, size_t len);

/* Outcome of a round trip. */
enum ctlreq_status {
	CTLREQ_OK = 0,
	CTLREQ_IO = -1,	     /* the connection failed: Redis unreachable */
	CTLREQ_REFUSED = -2, /* Redis answered the command with an error (ACL, OOM, type) */
	CTLREQ_TIMEOUT = -3, /* no reply on the key within the timeout */
	CTLREQ_TOO_BIG = -4, /* the reply was longer than CTLREQ_REPLY_MAX */
};

/* XADD the request. On success the entry id is stored in id (at least 32 bytes).
 * On failure err says what happened. */
enum ctlreq_status ctlreq_send(redisContext *c, const struct ctlreq *r, const char *prefix,
			       const char *reply_key, char *id, size_t idlen, char *err,
			       size_t errlen);
/* BLPOP reply_key for up to timeout_ms (the socket timeout is raised above it for the
 * wait and restored). On success *reply is a malloc'd NUL-terminated copy of the value
 * and *len its length; the caller frees it. */
enum ctlreq_status ctlreq_wait(redisContext *c, const char *reply_key, int timeout_ms, char **reply,
			       size_t *len, char *err, size_t errlen);

/* ctlreq_send and ctlreq_wait in one round trip: the XADD and the BLPOP are written
 * together and their replies read in order, as a proxy that pipelines does. The socket
 * timeout of c must exceed timeout_ms: call ctlreq_call_prepare(c, timeout_ms) once after
 * connecting (it is not changed per call, unlike ctlreq_wait). A refused XADD is
 * reported as CTLREQ_REFUSED once the BLPOP that followed it has answered (nil, after
 * timeout_ms). */
void ctlreq_call_prepare(redisContext *c, int timeout_ms);
enum ctlreq_status ctlreq_call(redisContext *c, const struct ctlreq *r, const char *prefix,
			       const char *reply_key, int timeout_ms, char *id, size_t idlen,
			       char **reply, size_t *len, char *err, size_t errlen);

#endif
