/* Synchronous client for the dataplane control socket (dp_proto.h), used by the rtpanchor
 * CLI and rtpanchor-control. Runs on the caller's thread; prints nothing. */
#ifndef RTPANCHOR_DPCLIENT_H
#define RTPANCHOR_DPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rtpanchor/dp_proto.h>

/* The dataplane asserts it has at most 64 drop reasons; more in a reply is -EPROTO. */
#define DPCLIENT_MAX_DROPS 64
/* Room for the longest error text the client builds itself (path + errno + detail). */
#define DPCLIENT_ERRMSG_LEN 256

/* One connection. Not thread-safe: one call at a time per struct dpclient. */
struct dpclient;

/* Connect to the SOCK_SEQPACKET socket at `path` and complete the HELLO handshake,
 * announcing `client` (free text, truncated to RPA_DP_NAME_LEN - 1; NULL = "rtpanchor").
 * timeout_ms (> 0) bounds the connect and every later call.
 * Returns the connection, or NULL with *err set to a negative errno and, if errbuf is not
 * NULL, a message in errbuf: -ENOENT/-ECONNREFUSED/-EACCES... from connect, -ETIMEDOUT,
 * -ECONNRESET, -EPROTO for a malformed reply or a protocol version mismatch (the message
 * names both versions). */
struct dpclient *dpclient_open(const char *path, int timeout_ms, const char *client, int *err,
			       char *errbuf, size_t errlen);
/* Close the socket and free; NULL is fine. */
void dpclient_close(struct dpclient *c);

/* What the dataplane said at the last successful HELLO (dpclient_open or dpclient_hello). */
const struct rpa_dp_hello_reply *dpclient_server(const struct dpclient *c);
/* Text explaining the last failure: the dataplane's own message when it answered an
 * error, else the client's description (timeout, malformed reply...). "" after success. */
const char *dpclient_errmsg(const struct dpclient *c);
/* True when the last failure was an error reply from the dataplane (the request arrived
 * and was refused), false when the exchange itself failed. */
bool dpclient_remote_error(const struct dpclient *c);

/* Send one request of `type` with body req[0..req_len) and wait for its reply.
 * Returns the dataplane's status (0 or a negative errno), or a local negative errno:
 * -ETIMEDOUT, -ECONNRESET (dataplane closed), -EPROTO (malformed or inconsistent reply),
 * -EMSGSIZE (request too large, or reply body larger than reply_cap).
 * On status 0 the reply body (after struct rpa_dp_reply) is copied to reply and its length
 * stored in *reply_len; reply may be NULL when reply_cap is 0. Replies carrying an older
 * sequence number (left over from a timed-out call) are skipped. */
int dpclient_call(struct dpclient *c, uint16_t type, const void *req, size_t req_len, void *reply,
		  size_t reply_cap, size_t *reply_len);

/* A new HELLO; refreshes dpclient_server(). A boot_id change means the dataplane
 * restarted and lost its streams. */
int dpclient_hello(struct dpclient *c, struct rpa_dp_hello_reply *out);

/* Install (or replace) a stream. */
int dpclient_stream_add(struct dpclient *c, const struct rpa_dp_stream *s);
/* Remove the stream keyed by local. */
int dpclient_stream_del(struct dpclient *c, const struct rpa_endpoint *local);
/* One write of a pipelined batch (dpclient_batch). */
struct dpclient_op {
	uint16_t type; /* RPA_DP_STREAM_ADD (uses stream) or RPA_DP_STREAM_DEL (uses local) */
	uint16_t pad;
	int32_t status; /* out: 0, the dataplane's negative errno, or the local failure */
	union {
		struct rpa_dp_stream stream;
		struct rpa_endpoint local;
	};
};
/* Send ops[0..n) pipelined (a bounded window of requests in flight, so neither socket
 * queue overflows) and collect their replies in order; each op's status is filled in.
 * Returns 0 when every exchange completed (statuses may still hold refusals), -EINVAL
 * for an op of another type (nothing sent), or the local negative errno that broke the
 * connection (-ETIMEDOUT, -ECONNRESET, -EPROTO): that op and every later one get it as
 * status, and the connection must be closed. The timeout applies to each reply. */
int dpclient_batch(struct dpclient *c, struct dpclient_op *ops, unsigned n);
/* Start a batch without waiting: send the first window of ops[0..n) and return, so the
 * caller can work while the dataplane does; dpclient_batch(c, ops, n) with the same ops
 * and n then completes it. No other call may use the connection in between. Returns 0
 * or the local failure (as dpclient_batch). */
int dpclient_batch_start(struct dpclient *c, struct dpclient_op *ops, unsigned n);

/* Read one stream with its counters. */
int dpclient_stream_get(struct dpclient *c, const struct rpa_endpoint *local,
			struct rpa_dp_stream_info *out);

/* Per-entry callbacks for the paged lists: return 0 to go on, anything else stops the
 * walk and becomes the list call's return value. The entry is valid during the call. */
typedef int (*dpclient_stream_cb)(const struct rpa_dp_stream_info *s, void *arg);
typedef int (*dpclient_neigh_cb)(const struct rpa_dp_neigh *n, void *arg);

/* Walk every stream, page by page, until the dataplane's next_cursor is 0. The table may
 * change between pages: entries added or removed meanwhile may be missed or seen twice,
 * as with rte_hash_iterate. Returns 0, a callback's non-zero value, or a negative errno. */
int dpclient_stream_list(struct dpclient *c, dpclient_stream_cb cb, void *arg);
/* Walk the neighbour table, same rules. */
int dpclient_neigh_list(struct dpclient *c, dpclient_neigh_cb cb, void *arg);

/* A parsed RPA_DP_STATS reply; only the first hdr.nports / nworkers / ndrops are valid.
 * Strings are NUL-terminated. About 17 KB: allocate it, don't put it on a small stack. */
struct dpclient_stats {
	struct rpa_dp_stats hdr;
	struct rpa_dp_port_stats ports[RPA_DP_MAX_PORTS];
	struct rpa_dp_worker_stats workers[RPA_DP_MAX_WORKERS];
	struct rpa_dp_drop_stats drops[DPCLIENT_MAX_DROPS];
};
int dpclient_stats(struct dpclient *c, struct dpclient_stats *out);

/* Delete every stream, or with by_tag only those carrying tag. *deleted (may be NULL)
 * receives the count. */
int dpclient_flush(struct dpclient *c, bool by_tag, uint64_t tag, uint64_t *deleted);

#endif
