/* Replies to commands: one JSON object with rtpengine's NG field names (`result` =
 * ok/error/pong, `sdp`, `error-reason`, `warning`), encoded compactly. Pure: no I/O, any
 * thread. */
#ifndef RTPANCHOR_CONTROL_REPLY_H
#define RTPANCHOR_CONTROL_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Each returns a malloc'd NUL-terminated JSON text (free() it), or NULL when out of
 * memory. */
char *reply_pong(void);
/* error-reason is `reason` with every byte outside printable ASCII replaced by '?', so
 * that any message (one naming hostile input included) encodes. */
char *reply_error(const char *reason);
/* result ok; sdp (may be NULL) must be valid UTF-8 (entry_parse checks the input SDP, and
 * the rewriter only adds ASCII); warning may be NULL or "" (then absent). `extra` (may be
 * NULL; the reference is stolen) holds further fields, merged in (query, list,
 * statistics). Returns NULL if sdp is not valid UTF-8. */
char *reply_ok(const char *sdp, size_t sdp_len, const char *warning, json_t *extra);

struct call_stream;
struct rpa_dp_stream_info;

/* One entry of a query reply's "streams": what the call wants (cs: local, from-tag, media,
 * component, the SRTP suite packets arrive with ("crypto-in") and leave with
 * ("crypto-out"), "sdes-passthrough") and, when the dataplane has the stream (si not NULL),
 * its peer, source, latch state and counters at now_ms (CLOCK_REALTIME ms), the SRTP drops
 * by reason among them; without si, "installed": false and the wanted peer and source.
 * Returns a new object, NULL when out of memory. No key is ever part of it. */
json_t *reply_stream(const struct call_stream *cs, const struct rpa_dp_stream_info *si,
		     uint64_t now_ms);

/* The offset of the first byte of s[0..len) that is not part of RFC 3629 UTF-8 text (NUL
 * counts as bad), or len when all of it is. */
size_t reply_utf8_check(const unsigned char *s, size_t len);

/* Copy s into out[0..cap) replacing bytes outside 0x20..0x7e by '?'. Returns out. */
char *reply_sanitize(const char *s, char *out, size_t cap);

#endif
