/* Calls: the node's in-memory call table and the offer/answer/delete state machine.
 * Pure logic on the control main thread: it parses and rewrites SDP, allocates relay
 * ports and decides which dataplane streams a call needs, but does no I/O. The daemon
 * turns the results into Redis writes, dataplane messages and replies.
 *
 * Model. A call (call-id) has a caller party (the from-tag of the first offer) and one or
 * more callee branches (to-tags; forking gives several). Each m= section i has a relay
 * port pair on the caller's side (the caller sends there; it appears in the SDP answered
 * to the caller) and one on the callee's side (appears in the offer sent on, shared by all
 * branches, since they all received that one offer). Media from the caller goes to the
 * active branch's address; the last answer (or a re-INVITE from a branch) makes a branch
 * active. A re-INVITE (offer for a known call, from either party) keeps the relay ports
 * and applies new peer addresses and media changes.
 *
 * Rules where the protocol leaves a choice (implemented in call.c, call_sdp.c,
 * call_streams.c):
 *  - Offer: from the caller's tag (or a new call-id: that tag becomes the caller) or from a
 *    branch's tag (a callee re-INVITE: for that exchange the callee is the offerer, its
 *    answer must come with from-tag = that branch and to-tag = the caller). Any other
 *    from-tag on a known call is an error. A caller offer whose to-tag names a branch makes
 *    it active. An offer clears a pending delete-delay (the call goes on).
 *  - Answer: from-tag must be the last offer's offerer; the to-tag picks the branch. For a
 *    caller's offer a new to-tag adds a branch (forking), an existing one answers again;
 *    the answering branch becomes active. An answer never clears a delete-delay (late 200 OK
 *    retransmissions must not revive a call).
 *  - Media sections: a re-offer must keep every m= line (RFC 3264 §8). A new section, or a
 *    rejected slot offered again with a port (RFC 3264 §8.1), gets new relay ports; a
 *    section with port 0 in an offer or answer releases its ports for every branch; an
 *    answer cannot revive a rejected section (its port 0 is written back). direction= on a
 *    re-offer that names other interfaces moves that side to new ports there.
 *  - direction=<if>,<if>: the first interface is the offerer's side (the caller's on the
 *    initial offer, the callee's on a callee re-INVITE), as rtpengine reads it. On an
 *    answer it must name the interfaces in effect.
 *  - trust-address, strict-source, asymmetric come with each SDP and describe its sender;
 *    a party that has sent no SDP yet (a callee before its answer) is latched. With
 *    trust-address and strict-source but no address (hold), strictness starts at the latch.
 *  - ICE: rtpanchor takes no part in ICE, so passing candidates on would let endpoints
 *    bypass (or fail to reach) the relay: ICE attributes are always removed, and without
 *    ice-remove the reply carries a warning saying so.
 *  - rtcp-mux (modes in flags.h): decided per leg. A leg that muxes has no RTCP stream of
 *    its own; RTCP towards a muxing leg leaves from and goes to the RTP ports. When only one
 *    leg muxes, the muxing party's RTCP reaches the other party's RTP port (the dataplane
 *    does not split RTP from RTCP); the reply warns about it.
 *  - Hold: c=0.0.0.0 is passed on unchanged and the streams towards that party lose their
 *    destination; sendonly/inactive with a real address change nothing in the streams.
 *  - o= version, per side: the first SDP sent towards a side keeps the sender's version;
 *    later ones carry the last version sent there, plus one when anything but the o= line
 *    differs from the last SDP sent there.
 *  - Delete: without tags, or with only the caller's from-tag, the whole call. A to-tag (or
 *    else from-tag) naming a branch deletes that branch: if others remain it goes at once
 *    and the latest remaining branch becomes active; the last branch takes the call with it
 *    (unless the caller's newest offer still waits for an answer), after delete-delay.
 *    A second delete never postpones an earlier delete time; delete-delay=0 removes now.
 *
 * SRTP (SDES, RFC 4568; call_sdes.c, the a=crypto syntax in sdes.c). Per m= section:
 *  - The profile each side gets: the offerer's side keeps its own; the other side gets
 *    transport-protocol= when given, else what it had (a re-offer of a bridged section),
 *    else the offerer's. A section whose profiles are both RTP/AVP(F), or the same SRTP
 *    profile without a=crypto, or not one of RTP/AVP, RTP/SAVP, RTP/AVPF, RTP/SAVPF
 *    (DTLS's UDP/TLS/RTP/SAVPF, udptl) is left alone: profile and a=crypto untouched.
 *    transport-protocol= that would convert such a section is an error.
 *  - Otherwise the relay terminates SDES ("bridge"): it writes each side's profile, drops
 *    the sender's a=crypto and, towards an SRTP side, writes its own. Towards the
 *    offerer (the relay answers it) it takes the offerer's first a=crypto line it can use
 *    (the offerer lists them by preference) and answers with the same tag and suite and a
 *    key of its own; lines it cannot use are skipped, and when none is left the offer is
 *    refused with each line's reason. Towards the answerer it offers every supported
 *    suite in sdes_offer_order, each with its own key; the answer must pick one of those
 *    tags with its suite. An answer without a=crypto in RTP/AVP(F) leaves that party's
 *    media plain (with a warning); in an SRTP profile it is an error.
 *  - sdes-passthrough: profiles (transport-protocol= may only change the F), a=crypto and
 *    payloads pass untouched; the streams carry no keys (rx = tx = NONE: forwarded as
 *    they are), so keys of a passthrough call are never stored. A re-offer keeps
 *    passthrough unless transport-protocol= turns a side plain (an error together with
 *    sdes-passthrough).
 *  - Keys: from getrandom(2) (calls_config.random for tests). A re-offer keeps the
 *    relay's keys: towards the answerer the same list (tags, keys, order; suites missing
 *    from it appended with new keys), towards the offerer the key of the same suite (its
 *    tag follows the offerer's). A party whose a=crypto changed gets its new key used for
 *    what it sends; the relay's own keys change only with the suite.
 *  - Streams: rx = the sending party's key (none if its leg is plain), tx = the relay's
 *    key towards the receiving party. A stream from an SRTP leg whose sender's key is not
 *    known yet (the callee before its answer) is not installed. Streams that carry SRTP
 *    get RPA_DP_F_RTCP (component 2) or RPA_DP_F_MUX (the RTP stream of a muxing leg);
 *    plain streams stay as they were. */
#ifndef RTPANCHOR_CALL_H
#define RTPANCHOR_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <rtpanchor/addr.h>
#include <rtpanchor/dp_proto.h>

#include "portalloc.h"

#define CALL_ID_MAX      256 /* bytes of a call-id, without NUL; longer is an error */
#define CALL_TAG_MAX     128 /* bytes of a from/to tag, without NUL */
#define CALL_MAX_IFACES  8   /* media interfaces a node can have */
#define CALL_MAX_BRANCHES 8  /* to-tags per call (forking) */
#define CALL_IFNAME_MAX  32
#define CALL_ERRLEN      256

/* A media interface: where relay ports live. */
struct call_iface {
	char name[CALL_IFNAME_MAX];  /* "pub", "priv"... referred to by direction= */
	struct rpa_addr local;       /* a media address the dataplane owns (--addr) */
	struct rpa_addr advertised;  /* written into SDP; = local unless behind NAT */
	struct portalloc *ports;     /* owned by the daemon; shared by every call */
};

struct calls_config {
	struct call_iface ifaces[CALL_MAX_IFACES]; /* [0] is the default for both sides */
	unsigned nifaces;
	char node[64];               /* this node's name; recorded as each call's owner */
	uint32_t delete_delay_s;     /* default for delete without delete-delay= (0 = now) */
	uint32_t latch_window_ms;    /* passed to the dataplane (0 = its default) */
	/* Random bytes for SRTP master keys: NULL = getrandom(2) (sdes_getrandom). Returns 0
	 * or a negative errno. Injectable so that tests are deterministic. */
	int (*random)(void *buf, size_t len, void *arg);
	void *random_arg;
};

enum call_op {
	CALL_OP_OFFER = 1,
	CALL_OP_ANSWER,
	CALL_OP_DELETE,
};

/* One command, already split out of the Redis entry. Strings are NUL-terminated; sdp
 * may contain anything (it is parsed with its length). to_tag/flags/sdp may be NULL. */
struct call_request {
	enum call_op op;
	const char *call_id;
	const char *from_tag;
	const char *to_tag;
	const char *sdp;
	size_t sdp_len;
	const char *flags; /* space separated, as in DESIGN.md / the issue */
};

struct call;

/* The outcome of calls_apply. status 0 = success (sdp set for offer/answer), else a
 * negative errno and error[] says why in words an operator understands (it becomes the
 * reply's error-reason). warning[] may be non-empty on success. On error nothing changed:
 * no call, port or branch was created, altered or freed. */
struct call_result {
	int status;
	char error[CALL_ERRLEN];
	char warning[CALL_ERRLEN];
	char *sdp;        /* malloc'd rewritten SDP; the caller frees it (free(r->sdp)) */
	size_t sdp_len;
	struct call *call; /* the call created/changed, NULL when it was removed */
	bool created;      /* a new call */
	bool removed;      /* the call is gone (its streams must be deleted, its state key
			    * removed); already freed: `call` is NULL */
	char removed_id[CALL_ID_MAX + 1];
};

struct calls;

/* The table takes a copy of cfg (the portalloc pointers stay the daemon's). */
struct calls *calls_create(const struct calls_config *cfg);
/* Frees every call and releases its ports. */
void calls_destroy(struct calls *t);

/* Apply one command at now_ms (CLOCK_REALTIME milliseconds). Never partially applies.
 * Errors include: unknown flag (named), bad SDP (the parser's message), IPv6 SDP while no
 * IPv6 interface exists, answer for an unknown call or tag, port exhaustion (-ENOSPC:
 * every port taken for this call is given back), too many branches, SDES: no usable
 * a=crypto in an SRTP offer (-ENOTSUP, each line's reason), an answer's a=crypto that does
 * not match the offer (-EINVAL), a profile transport-protocol= cannot convert (-ENOTSUP),
 * no random bytes for keys (getrandom's error). No message ever contains a key. Delete: without
 * to_tag the whole call; with to_tag that branch only (the call goes when no branch and
 * no pending offer remain); with delete-delay=N (or the configured default) the call is
 * marked and removed later by calls_due/calls_remove. */
int calls_apply(struct calls *t, const struct call_request *req, uint64_t now_ms,
		struct call_result *out);
/* Free out->sdp; the rest of the struct holds no resources. */
void call_result_clear(struct call_result *out);

struct call *calls_find(struct calls *t, const char *call_id);
unsigned calls_count(const struct calls *t);
/* Visit every call; the callback must not add or remove calls. A non-zero return stops
 * the walk and is returned. */
typedef int (*calls_walk_cb)(struct call *c, void *arg);
int calls_walk(struct calls *t, calls_walk_cb cb, void *arg);

/* Calls whose delete time (delete-delay) has passed at now_ms: up to cap of them are
 * stored in out; returns how many. */
unsigned calls_due(struct calls *t, uint64_t now_ms, struct call **out, unsigned cap);
/* Remove a call now (delete-delay ran out, media timeout with auto-delete, an operator):
 * releases its ports into quarantine at now_ms and frees it. */
void calls_remove(struct calls *t, struct call *c, uint64_t now_ms);

/* Accessors. */
const char *call_id(const struct call *c);
const char *call_owner(const struct call *c);
uint64_t call_created_ms(const struct call *c);
uint64_t call_updated_ms(const struct call *c);
/* 0 while the call is live; the time it will be removed once deleted with a delay. */
uint64_t call_delete_at_ms(const struct call *c);
/* Stable 64-bit tag for the call's dataplane streams (a hash of the call-id, never 0). */
uint64_t call_dp_tag(const struct call *c);

/* One dataplane stream the call needs, with what it is for (for query replies). */
struct call_stream {
	struct rpa_dp_stream dp;
	char from_tag[CALL_TAG_MAX + 1]; /* the party whose packets arrive at dp.local */
	uint8_t media;                   /* m= index */
	uint8_t component;               /* 1 = RTP (or the only flow), 2 = RTCP */
	/* SRTP for query replies (enum rpa_dp_srtp_suite): what packets arrive with and
	 * leave with. Equal to dp.rx.suite/dp.tx.suite, except with sdes_passthrough: then
	 * both are the suite the endpoints agreed on (NONE until the answer names it) and dp
	 * carries no keys. */
	uint8_t srtp_in;
	uint8_t srtp_out;
	bool sdes_passthrough;
};
/* The streams the call needs now, at most cap stored; returns how many it needs (may be
 * more than cap: call again with a larger array). A call waiting for its answer already
 * needs the streams whose peer the offer named (early media). */
unsigned call_streams(const struct call *c, struct call_stream *out, unsigned cap);

/* Redis state: the whole call as one JSON object (owner, parties, branches, media, ports,
 * peers, flags, timestamps, SDES modes, profiles and keys: the JSON holds SRTP master keys,
 * see the README on protecting Redis). call_to_json returns a new reference.
 * calls_restore adds a call from such an object (a restart): it reserves the call's ports
 * and fails with -EBUSY if one is taken, -EINVAL with err set on malformed JSON, -EEXIST
 * if the call-id is loaded already (err is set in every case; nothing is taken on error).
 * The object carries "format": 2 (format 1, written before SRTP, restores as a call
 * without SDES); interfaces are stored by name, o= versions as decimal
 * strings, output digests as 16 hex digits. to_json(restore(to_json(c))) equals
 * to_json(c). */
json_t *call_to_json(const struct call *c);
int calls_restore(struct calls *t, const json_t *state, struct call **out, char *err,
		  size_t errlen);

#endif
