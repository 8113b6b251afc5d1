/* SDP (RFC 8866) parser and rewriter. Pure functions: a buffer and a length in, a parsed
 * view or a new buffer out; no I/O, no globals, bounded in size, lines and counts, so any
 * thread may call them and hostile input cannot make them misbehave.
 *
 * The parsed view points into the caller's buffer (spans), so the rewriter can copy every
 * line it does not change byte for byte. Input may use LF or CRLF; output is always CRLF. */
#ifndef RTPANCHOR_SDP_H
#define RTPANCHOR_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rtpanchor/addr.h>

#define SDP_MAX_SIZE   65536 /* bytes of input; larger is -EMSGSIZE */
#define SDP_MAX_MEDIA  32    /* m= sections; more is -E2BIG */
#define SDP_MAX_LINE   4096  /* bytes in one line without its line ending; longer is -E2BIG */
#define SDP_MAX_LINES  4096  /* lines in the whole SDP; more is -E2BIG */
#define SDP_ERRLEN     160   /* room for the parser's and rewriter's messages */

/* A byte range of the input buffer. len 0 = absent. */
struct sdp_span {
	uint32_t off;
	uint32_t len;
};

enum sdp_dir {
	SDP_DIR_UNSET = 0, /* no direction attribute (means sendrecv) */
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
};

/* A c= line. addr.family is RPA_AF_INET or RPA_AF_INET6 when present. */
struct sdp_conn {
	bool present;
	bool hold; /* c=IN IP4 0.0.0.0 (RFC 2543 style hold) */
	struct rpa_addr addr;
	struct sdp_span line; /* the whole line, without its line ending */
};

struct sdp_media {
	struct sdp_span line;  /* the m= line, without its line ending */
	struct sdp_span type;  /* "audio", "video", "image", "application", ... */
	struct sdp_span proto; /* "RTP/AVP", "RTP/SAVPF", "udptl", "UDP/TLS/RTP/SAVPF", ... */
	struct sdp_span fmts;  /* everything after the proto */
	uint16_t port;         /* 0 = rejected/disabled */
	uint16_t nports;       /* the "/<n>" count; 1 when absent */
	bool is_rtp;           /* proto starts with "RTP/" or contains "/RTP/" (forwarded as
				* RTP+RTCP); otherwise (udptl, TCP...) forwarded as one UDP flow */
	struct sdp_conn conn;  /* media-level c=; absent = inherits the session's */
	/* a=rtcp (RFC 3605): port, and address when given (family NONE when not). */
	bool has_rtcp;
	uint16_t rtcp_port;
	struct rpa_addr rtcp_addr;
	bool rtcp_mux;      /* a=rtcp-mux */
	enum sdp_dir dir;   /* media-level direction attribute */
	bool has_ice;       /* any ICE attribute (candidate, ice-ufrag, ice-pwd, ...) */
	bool has_crypto;    /* any a=crypto (RFC 4568); parsed by the SDES code, not here */
	struct sdp_span section; /* from the m= line to the end of the section (before the
				  * next m= or the end), including line endings */
};

struct sdp_session {
	const char *buf; /* the parsed input; spans point into it; not owned */
	size_t len;
	struct sdp_span origin;   /* the o= line */
	struct sdp_span o_user;   /* o= fields */
	uint64_t o_sess_id;
	uint64_t o_version;
	struct rpa_addr o_addr;   /* family NONE if the o= address is a name, not a literal */
	struct sdp_conn conn;     /* session-level c= */
	enum sdp_dir dir;         /* session-level direction attribute */
	bool has_ice;             /* session-level ICE attributes (ice-ufrag, ice-lite...) */
	unsigned nmedia;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/* Parse buf[0..len). Accepts LF or CRLF line endings, and a missing final line ending.
 * Requires v=0 first, then o= and s= (RFC 8866 §5); an m= section needs a c= of its own or
 * at session level unless its port is 0. Every port, count, address and number is range
 * checked. Returns 0, or a negative errno with a message naming the line number and the
 * bad value in err (NUL-terminated, errlen bytes at most):
 *   -EMSGSIZE  larger than SDP_MAX_SIZE
 *   -E2BIG     too many media sections or lines, or a line too long
 *   -EINVAL    anything malformed (NUL bytes, missing v/o/s, bad m= or c=, bad port...)
 * On error *out is undefined. `out` keeps pointers into buf: buf must outlive it. */
int sdp_parse(const char *buf, size_t len, struct sdp_session *out, char *err, size_t errlen);

/* What to drop while rewriting. */
#define SDP_DROP_ICE      0x1u /* a=candidate, a=ice-*, a=remote-candidates, a=end-of-candidates */
#define SDP_DROP_RTCP     0x2u /* a=rtcp */
#define SDP_DROP_RTCP_MUX 0x4u /* a=rtcp-mux */
#define SDP_DROP_CRYPTO   0x8u /* a=crypto */

/* How one m= section changes. A section with port 0 in the input stays rejected whatever
 * the edit says (its m= line and body are copied unchanged). A section rejected now (port
 * 0 here) gets "m=<type> 0 <proto> <fmts>", its lines copied with `drop` applied and its
 * own c= rewritten when addr is given; nothing is added to it. An accepted section's m=
 * line loses any "/<n>" port count: the relay gives it one port (RTCP on the next). */
struct sdp_media_edit {
	uint16_t port;        /* new m= port (the relay's); 0 = reject this section now */
	bool keep_addr;       /* leave this section's c= as it is (hold with 0.0.0.0) */
	struct rpa_addr addr; /* the relay address the peer should send to */
	uint16_t rtcp_port;   /* non-zero: write a=rtcp:<port> (after dropping any old one) */
	bool rtcp_mux;        /* write a=rtcp-mux (after dropping any old one) */
	uint32_t drop;        /* SDP_DROP_* for attribute lines of this section */
	const char *proto;    /* NULL = keep; else the new transport (e.g. "RTP/SAVP") */
	const char *extra;    /* NULL, or whole lines ("a=crypto:...\r\n") appended at the end
			       * of the section; each must end in CRLF */
};

/* How the whole SDP changes. */
struct sdp_edit {
	uint64_t o_version;        /* written into o= (the caller decides when it increases) */
	bool replace_origin;       /* write origin_addr as the o= address */
	struct rpa_addr origin_addr;
	/* The session-level c= is rewritten to session_addr when present and either
	 * replace_session_conn is set or some non-rejected section has no c= of its own (so
	 * it inherits the session's); a keep_addr section does not count, it keeps what it
	 * inherits. A section whose own addr differs from what it would inherit gets a
	 * media-level c= line written (after m= and i=; for keep_addr, a copy of the old
	 * session c= line). */
	bool replace_session_conn;
	struct rpa_addr session_addr;
	uint32_t session_drop;     /* SDP_DROP_ICE for session-level ICE lines */
	unsigned nmedia;           /* must equal the parsed nmedia */
	struct sdp_media_edit media[SDP_MAX_MEDIA];
};

/* Write the edited SDP of `s` into out[0..cap) with CRLF line endings; *out_len receives
 * its length (no NUL is written). Unchanged lines are copied byte for byte (only their
 * line ending may change to CRLF; trailing empty lines are left out). Returns 0, -ENOSPC
 * if cap is too small (the message says how much is needed, and *out_len is set to it;
 * out may be NULL with cap 0 to ask for the size), or -EINVAL if the edit does not fit the
 * session (nmedia differs, an address family the SDP cannot carry, a proto that is not
 * one token, extra lines that are not "<type>=...CRLF" lines). */
int sdp_rewrite(const struct sdp_session *s, const struct sdp_edit *e, char *out, size_t cap,
		size_t *out_len, char *err, size_t errlen);

/* The bytes of a span, for printing with "%.*s". */
static inline const char *sdp_span_ptr(const struct sdp_session *s, struct sdp_span sp)
{
	return s->buf + sp.off;
}

#endif
