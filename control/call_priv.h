/* The call model shared by the call_* and calls_* files (not for other modules): parties,
 * media sections, relay ports, the pending offer and the SDP output state. Control main
 * thread only. */
#ifndef RTPANCHOR_CALL_PRIV_H
#define RTPANCHOR_CALL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "flags.h"
#include "sdes.h"
#include "sdp.h"

#define CALL_SIDES    2 /* 0: the caller's side, 1: the callee's side */
#define CALL_NPARTIES (1 + CALL_MAX_BRANCHES)
#define CALL_NO_HEAP  UINT32_MAX

/* Endpoint flags of a party, set by each SDP it sends (see flags.h). */
#define CALL_PF_TRUST  0x1u
#define CALL_PF_STRICT 0x2u
#define CALL_PF_ASYM   0x4u

/* What one party's latest SDP said about one m= section. */
struct call_peer {
	bool known;  /* the party sent an SDP with this section live (port non-zero) */
	bool hold;   /* its address was 0.0.0.0: addresses below are unspecified */
	bool mux;    /* it listed a=rtcp-mux */
	uint8_t dir; /* enum sdp_dir of the section (media level, else session level) */
	struct rpa_endpoint rtp;
	struct rpa_endpoint rtcp; /* a=rtcp (RFC 3605), else the RTP port + 1 */
	/* The SDES key it sends with, when the relay terminates SRTP on its leg (the
	 * section's sdes is CALL_SDES_BRIDGE): the one a=crypto of its answer, or the one
	 * the relay chose from its offer. */
	bool has_crypto;
	struct sdes_crypto crypto;
};

struct call_party {
	char tag[CALL_TAG_MAX + 1];
	uint8_t pflags;		/* CALL_PF_* */
	struct call_peer *peer; /* [nmedia] */
};

enum call_sdes_mode {
	CALL_SDES_BRIDGE = 1, /* the relay writes each side's profile and, on SRTP legs, its
			       * own a=crypto: it decrypts, encrypts or re-keys */
	CALL_SDES_PASS,	      /* sdes-passthrough: a=crypto and payloads go through untouched */
};

/* SDES state of one m= section (see call.h, "SRTP"). Absent (NULL) when the relay leaves
 * the section's profile and a=crypto alone: plain RTP, or SRTP it does not terminate
 * (DTLS, a SAVP section without a=crypto). */
struct call_sdes {
	uint8_t mode;		     /* enum call_sdes_mode */
	uint8_t profile[CALL_SIDES]; /* enum sdes_profile the relay writes towards each side */
	uint8_t pass_suite;	     /* PASS: the suite the answer chose (for query), or NONE */
	uint8_t nours[CALL_SIDES];
	/* The relay's keys towards each side (it encrypts what it sends there with the one
	 * whose tag that side's party chose): the list it offered, or the one it answered
	 * with. Empty on a plain leg. Tags are distinct within a side. */
	struct sdes_crypto ours[CALL_SIDES][SDES_NSUITES];
};

/* One m= section: relay RTP ports (RTCP on +1) per side; both 0 once rejected. */
struct call_media {
	uint16_t port[CALL_SIDES];
	bool is_rtp;
	bool mux[CALL_SIDES];	/* RTCP shares the RTP port on that side's leg */
	struct call_sdes *sdes; /* owned; NULL: no SDES handling (see struct call_sdes) */
};

/* The last offer: what its answer needs to know. */
struct call_offer {
	bool valid; /* false once its offerer's branch was deleted */
	bool answered;
	uint8_t from;	      /* party index of the offerer */
	uint8_t mode;	      /* enum flags_rtcp_mux of the offer */
	uint32_t offered_mux; /* bit i: rtcp-mux was offered onward for section i */
	uint32_t offerer_mux; /* bit i: the offerer's SDP had a=rtcp-mux in section i */
};

/* The SDP last returned towards one side. */
struct call_out {
	bool valid;
	uint64_t version; /* its o= version */
	uint64_t digest;  /* FNV-1a of it without the o= line */
};

struct call {
	/* Table linkage: kept when a command replaces the contents. */
	struct call *hnext;
	uint32_t heap_idx;
	uint64_t hash;

	const struct calls_config *cfg; /* the table's copy */
	char id[CALL_ID_MAX + 1];
	char owner[64];
	uint64_t created_ms;
	uint64_t updated_ms;
	uint64_t delete_at_ms;
	uint8_t iface[CALL_SIDES];
	uint8_t nmedia;
	uint8_t nparties;	  /* the caller (index 0) and the branches (1..) in answer order */
	uint8_t active;		  /* party index of the active branch; 0 = none yet */
	uint8_t party_cap;	  /* entries allocated in party[] (a NULL peer is unused) */
	struct call_media *media; /* [nmedia] */
	struct call_party *party; /* [nparties], room for one more */
	struct call_offer offer;
	struct call_out out[CALL_SIDES];
};

struct calls {
	struct calls_config cfg;
	struct call **buckets;
	uint32_t nbuckets; /* a power of two */
	uint32_t count;
	struct call **heap; /* calls with delete_at_ms set, a min-heap on it */
	uint32_t heap_len;
	uint32_t heap_cap;
};

/* The side a party's media arrives on. */
static inline unsigned call_side_of(unsigned party)
{
	return party == 0 ? 0 : 1;
}

/* 64-bit FNV-1a. */
uint64_t call_hash(const void *p, size_t len);
/* The printable start of a hostile string for messages ('?' for other bytes). */
const char *call_shown(const char *s, char *buf, size_t cap);

/* A deep copy with room for nmedia sections (>= c->nmedia; new ones zeroed) and one
 * more party; NULL on ENOMEM. Linkage fields are not copied. */
struct call *call_clone(const struct call *c, unsigned nmedia);
struct call *call_new(const struct calls_config *cfg, unsigned nmedia);
/* Free the arrays and the struct; ports are not touched. */
void call_free(struct call *c);
/* Free the arrays only. */
void call_free_contents(struct call *c);
/* Empty a section: frees (and wipes) its SDES state, zeroes the rest. */
void call_media_clear(struct call_media *m);
/* Give every relay port of c back (quarantine from now_ms). */
void call_put_ports(struct call *c, uint64_t now_ms);

/* Set out->status and out->error (printf format); returns rc. */
int call_fail(struct call_result *out, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Index of the party with this tag, -1 if none (or tag NULL/empty). */
int call_party_index(const struct call *c, const char *tag);
/* Offer and answer (call_negotiate.c), after calls_apply checked ids and parsed flags. */
int call_negotiate_offer(struct calls *t, const struct call_request *req, const struct flags *fl,
			 uint64_t now, struct call_result *out);
int call_negotiate_answer(struct calls *t, const struct call_request *req, const struct flags *fl,
			  uint64_t now, struct call_result *out);

/* SDES per section (call_sdes.c). Offer: section i of s from party `offerer`, with the
 * previous state in n->media[i] (cleared when the section is new): decides the mode and
 * profiles, picks the offerer's key, makes the relay's keys (keeping existing ones, see
 * call.h) and sets the offerer's peer crypto (after set_peer). Answer: checks the
 * answerer's a=crypto against what the relay offered and sets its peer crypto. Both
 * return 0, or call_fail's error; warnings go to out->warning. */
int call_sdes_offer(struct call *n, const struct sdp_session *s, unsigned i, unsigned offerer,
		    const struct flags *fl, struct call_result *out);
int call_sdes_answer(struct call *n, const struct sdp_session *s, unsigned i, unsigned answerer,
		     struct call_result *out);
/* What the SDP towards `side` needs for section i: *proto (NULL = keep), drop bits to add,
 * and the a=crypto lines written into extra[0..cap) ("" for none). */
void call_sdes_edit(const struct call *c, unsigned i, unsigned side, const char **proto,
		    uint32_t *drop, char *extra, size_t cap);
/* The relay's key towards party p (side `side`) in section i: the entry of ours[side]
 * whose tag and suite p chose; NULL when p has no key there. */
const struct sdes_crypto *call_sdes_ours(const struct call *c, unsigned i, unsigned side,
					 const struct call_peer *p);
/* Add a warning to out->warning (once). */
void call_warn(struct call_result *out, const char *msg);

/* Build the SDP sent towards `side` from the parsed input s and the new state c, with
 * a=rtcp-mux where bit i of mux_bits is set and a=rtcp:<port+1> where rtcp_bits is set.
 * Chooses the o= version (c->out[side] is updated) and returns a malloc'd buffer. */
int call_sdp_output(struct call *c, const struct sdp_session *s, unsigned side,
		    const struct flags *fl, uint32_t mux_bits, uint32_t rtcp_bits, char **sdp,
		    size_t *len, char *err, size_t errlen);

/* Table internals used by calls_apply and calls_restore. */
int calls_insert(struct calls *t, struct call *c);
void calls_unlink(struct calls *t, struct call *c);
/* Move the contents of `from` into the table's `to` (keeping its linkage) and free the
 * old contents and `from`'s shell. */
void calls_replace(struct calls *t, struct call *to, struct call *from);
/* Queue/requeue c by c->delete_at_ms (0 = dequeue). -ENOMEM when the heap cannot grow. */
int calls_heap_reserve(struct calls *t);
void calls_heap_update(struct calls *t, struct call *c);

#endif
