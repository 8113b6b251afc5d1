/* The control <-> dataplane ABI: binary messages on a local Unix SOCK_SEQPACKET socket.
 * One datagram = one message. Fixed-size structs, host byte order for integers (the socket
 * is local), network byte order inside struct rpa_addr. Every request gets exactly one
 * reply carrying a status and a human-readable message. Bump RPA_DP_VERSION on any change
 * to a struct below; the dataplane refuses other versions with -EPROTO.
 *
 * Writers: rtpanchor-control and the rtpanchor CLI send requests; rtpanchor-dataplane
 * (main lcore) answers. */
#ifndef RTPANCHOR_DP_PROTO_H
#define RTPANCHOR_DP_PROTO_H

#include <stdint.h>

#include <rtpanchor/addr.h>

#define RPA_DP_MAGIC          0x52504144u /* "RPAD" */
#define RPA_DP_VERSION        2
#define RPA_DP_MSG_MAX        65536 /* largest datagram either side sends */
#define RPA_DP_DEFAULT_SOCKET "/run/rtpanchor/dataplane.sock"
#define RPA_DP_MAX_PORTS      8
#define RPA_DP_MAX_WORKERS    16
#define RPA_DP_NAME_LEN       32
#define RPA_DP_ERRMSG_LEN     128

enum rpa_dp_type {
	RPA_DP_HELLO = 1,   /* rpa_dp_hello -> rpa_dp_hello_reply */
	RPA_DP_STREAM_ADD,  /* rpa_dp_stream -> (none); replaces an existing stream */
	RPA_DP_STREAM_DEL,  /* rpa_endpoint (local) -> (none) */
	RPA_DP_STREAM_GET,  /* rpa_endpoint (local) -> rpa_dp_stream_info */
	RPA_DP_STREAM_LIST, /* rpa_dp_page -> rpa_dp_page_reply + rpa_dp_stream_info[count] */
	RPA_DP_STATS,       /* (none) -> rpa_dp_stats (see its comment for what follows) */
	RPA_DP_NEIGH_LIST,  /* rpa_dp_page -> rpa_dp_page_reply + rpa_dp_neigh[count] */
	RPA_DP_FLUSH,       /* rpa_dp_flush -> rpa_dp_flush_reply */
	RPA_DP_BATCH,       /* STREAM_ADD/STREAM_DEL requests back to back, each with its own
			     * header -> rpa_dp_batch_reply + int32_t status[count] */
	RPA_DP_TYPE_MAX,
};

struct rpa_dp_hdr {
	uint32_t magic;   /* RPA_DP_MAGIC */
	uint16_t version; /* RPA_DP_VERSION */
	uint16_t type;    /* enum rpa_dp_type; replies echo the request's type */
	uint32_t len;     /* whole message including this header */
	uint32_t seq;     /* chosen by the client, echoed in the reply */
};

struct rpa_dp_reply {
	struct rpa_dp_hdr hdr;
	int32_t status; /* 0, or a negative errno */
	uint32_t pad;
	char msg[RPA_DP_ERRMSG_LEN]; /* NUL-terminated; names the bad value on error */
	/* followed by the type's reply body when status == 0 */
};

struct rpa_dp_hello {
	uint32_t client_version; /* RPA_DP_VERSION the client speaks */
	uint32_t pad;
	char client[RPA_DP_NAME_LEN]; /* free text, e.g. "rtpanchor-control node1" */
};

struct rpa_dp_hello_reply {
	uint32_t version;
	uint32_t pid;
	uint64_t boot_id; /* random per dataplane start: a change means "replay your state" */
	uint64_t uptime_ms;
	char build[RPA_DP_NAME_LEN];
};

/* Stream flags. */
#define RPA_DP_F_LATCH  0x1u /* learn/relearn the peer from received packets (comedia) */
#define RPA_DP_F_STRICT 0x2u /* drop packets whose source is not the expected/latched one */
#define RPA_DP_F_RTCP   0x4u /* the stream carries RTCP only (SRTCP transforms) */
#define RPA_DP_F_MUX    0x8u /* RTP and RTCP share the port (RFC 5761): RTCP told apart by
			      * its packet type 192..223 in the second byte. Not with RTCP. */
#define RPA_DP_F_ALL    (RPA_DP_F_LATCH | RPA_DP_F_STRICT | RPA_DP_F_RTCP | RPA_DP_F_MUX)

enum rpa_dp_srtp_suite {
	RPA_DP_SRTP_NONE = 0,                /* plain RTP/RTCP on this side */
	RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80, /* RFC 3711/4568 */
	RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32,
	RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80, /* RFC 6188 */
	RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32,
	RPA_DP_SRTP_AEAD_AES_128_GCM,        /* RFC 7714, 16-byte tag */
	RPA_DP_SRTP_AEAD_AES_256_GCM,
	RPA_DP_SRTP_SUITE_MAX,
};

#define RPA_DP_SRTP_MKI_MAX          4
#define RPA_DP_SRTP_REPLAY_MIN       64    /* replay window bounds, packets */
#define RPA_DP_SRTP_REPLAY_MAX       32768
#define RPA_DP_SRTP_REPLAY_DEFAULT   128   /* the dataplane's --srtp-replay-window default */

/* One direction's SRTP master key material. With suite NONE every other field is 0.
 * Lengths must match the suite: key 16 (AES-128) or 32 (AES-256); salt 14 (AES-CM) or 12
 * (AEAD GCM). STREAM_GET/LIST return the suite, lengths and MKI with key and salt zeroed:
 * keys never leave the dataplane. */
struct rpa_dp_srtp {
	uint8_t suite;    /* enum rpa_dp_srtp_suite */
	uint8_t key_len;  /* 16 or 32, must match the suite */
	uint8_t salt_len; /* 14 (AES-CM), 12 (AEAD GCM) */
	uint8_t mki_len;  /* 0..4: MKI bytes carried in each packet (RFC 3711 §3.1) */
	uint8_t mki[RPA_DP_SRTP_MKI_MAX]; /* the MKI value (big-endian bytes as on the wire) */
	uint8_t key[32];
	uint8_t salt[14];
	uint8_t pad[2];
}; /* 56 bytes */

/* RFC 4568/6188/7714 suite names, NULL for NONE or out of range. */
static inline const char *rpa_dp_srtp_suite_name(unsigned suite)
{
	static const char *const names[RPA_DP_SRTP_SUITE_MAX] = {
		[RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80] = "AES_CM_128_HMAC_SHA1_80",
		[RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32] = "AES_CM_128_HMAC_SHA1_32",
		[RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80] = "AES_256_CM_HMAC_SHA1_80",
		[RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32] = "AES_256_CM_HMAC_SHA1_32",
		[RPA_DP_SRTP_AEAD_AES_128_GCM] = "AEAD_AES_128_GCM",
		[RPA_DP_SRTP_AEAD_AES_256_GCM] = "AEAD_AES_256_GCM",
	};
	return suite < RPA_DP_SRTP_SUITE_MAX ? names[suite] : NULL;
}

/* Master key and salt lengths a suite requires (0 for NONE or out of range). */
static inline unsigned rpa_dp_srtp_key_len(unsigned suite)
{
	switch (suite) {
	case RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80:
	case RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32:
	case RPA_DP_SRTP_AEAD_AES_128_GCM:
		return 16;
	case RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80:
	case RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32:
	case RPA_DP_SRTP_AEAD_AES_256_GCM:
		return 32;
	}
	return 0;
}

static inline unsigned rpa_dp_srtp_salt_len(unsigned suite)
{
	if (suite == RPA_DP_SRTP_NONE || suite >= RPA_DP_SRTP_SUITE_MAX)
		return 0;
	return suite >= RPA_DP_SRTP_AEAD_AES_128_GCM ? 12 : 14;
}

/* A stream: packets arriving at `local` are sent from `src` to `dst`.
 *  - local: a media address of the dataplane and the UDP port they arrive on (the key).
 *  - src:   a media address of the dataplane (it decides the egress port) and the source
 *           port the far side sees (normally the other leg's local port).
 *  - dst:   the peer; unspecified = not known yet, learnt when the reverse stream (the one
 *           whose local is this stream's src) latches.
 *  - expect: the accepted source; unspecified with LATCH = latch on the first packet.
 * With LATCH, the source may change (re-latch) for latch_window_ms after the first latch;
 * later changes are forwarded without re-latching, or dropped with STRICT. STRICT without
 * LATCH requires expect.
 * SRTP: rx NONE + tx NONE = the plain relay; rx == tx (same suite, key, salt and MKI) =
 * passthrough, forwarded untouched; otherwise packets are unprotected with rx (if not NONE),
 * then protected with tx (if not NONE). RTCP vs RTP: RPA_DP_F_RTCP, RPA_DP_F_MUX, else RTP. */
struct rpa_dp_stream {
	struct rpa_endpoint local;
	struct rpa_endpoint src;
	struct rpa_endpoint dst;
	struct rpa_endpoint expect;
	uint32_t flags;           /* RPA_DP_F_* */
	uint32_t latch_window_ms; /* 0 = the dataplane's --latch-window */
	uint64_t tag;             /* opaque owner tag chosen by control (e.g. call hash) */
	struct rpa_dp_srtp rx;    /* unprotect packets arriving at local (NONE: they are plain) */
	struct rpa_dp_srtp tx;    /* protect packets sent to dst (NONE: send plain) */
	uint32_t replay_window;   /* packets; 0 = the dataplane's --srtp-replay-window;
				   * else RPA_DP_SRTP_REPLAY_MIN..MAX. GET/LIST: in effect */
	uint32_t pad;
};

struct rpa_dp_stream_info {
	struct rpa_dp_stream stream; /* as in effect now: dst/expect include latched values;
				      * rx/tx key and salt zeroed */
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops;
	uint64_t idle_ms; /* since the last packet; UINT64_MAX if none yet */
	uint32_t owner;   /* owning worker index */
	uint32_t latched; /* 1 once the source is fixed: learnt from a packet, or given as
			   * expect with LATCH; the re-latch window then runs */
	/* Dropped packets by SRTP reason, also counted in drops: */
	uint64_t srtp_auth_fail; /* authentication tag wrong (tampered, wrong key) */
	uint64_t srtp_replay;    /* duplicate or older than the replay window */
	uint64_t srtp_other;     /* too short for SRTP, bad MKI, SRTCP index... */
};

struct rpa_dp_page {
	uint32_t cursor; /* 0 = from the start; else the previous reply's next_cursor */
	uint32_t max;    /* entries wanted; the dataplane caps it to what fits a message */
};

struct rpa_dp_page_reply {
	uint32_t next_cursor; /* 0 = no more */
	uint32_t count;       /* entries following */
};

struct rpa_dp_flush {
	uint64_t tag;   /* with RPA_DP_FLUSH_TAG: only streams carrying this tag */
	uint32_t flags; /* 0 = every stream */
	uint32_t pad;
};
#define RPA_DP_FLUSH_TAG 0x1u

/* A BATCH carries 1..RPA_DP_BATCH_MAX stream writes, applied in order as if each had come
 * alone, in one datagram each way (one wake-up of the dataplane for all of them). A batch
 * that is malformed as a whole (a truncated request, another type, a bad length) gets an
 * error status and nothing of it is applied; otherwise status is 0 and each write's own
 * status (0 or a negative errno) is in the array. A dataplane older than BATCH answers
 * -EOPNOTSUPP (unknown type): the client then sends the writes one by one. */
#define RPA_DP_BATCH_MAX 128

struct rpa_dp_batch_reply {
	uint32_t count; /* statuses following */
	uint32_t pad;
};

struct rpa_dp_flush_reply {
	uint64_t deleted;
};

/* RPA_DP_STATS reply body: rpa_dp_stats, then nports x rpa_dp_port_stats, then
 * nworkers x rpa_dp_worker_stats, then ndrops x rpa_dp_drop_stats. */
struct rpa_dp_stats {
	uint64_t uptime_ms;
	uint64_t streams;
	uint64_t streams_max;
	uint64_t tsc_hz;
	uint32_t neighbours;
	uint16_t nports;
	uint16_t nworkers;
	uint16_t ndrops;
	uint16_t pad[3];
};

struct rpa_dp_port_stats {
	char name[RPA_DP_NAME_LEN]; /* DPDK device name */
	uint16_t port_id;
	uint8_t mac[6];
	uint64_t rx_pkts; /* packets the workers received (all classes) */
	uint64_t rx_bytes;
	uint64_t tx_pkts; /* media packets forwarded out of this port */
	uint64_t tx_bytes;
	uint64_t drops; /* all reasons, attributed to the port the packet arrived on */
	uint64_t hw_ipackets; /* rte_eth_stats */
	uint64_t hw_opackets;
	uint64_t hw_imissed;
	uint64_t hw_ierrors;
	uint64_t hw_oerrors;
};

struct rpa_dp_worker_stats {
	uint32_t lcore;
	uint32_t order_timeouts; /* times the worker stopped holding a stream's packets behind
				  * punted ones that took over 100 ms to come back */
	uint64_t rx_pkts;
	uint64_t tx_pkts;
	uint64_t drops;
	uint64_t handoff; /* packets passed to their owner worker */
	uint64_t punted;  /* packets passed to the slow path */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
};

struct rpa_dp_drop_stats {
	char name[RPA_DP_NAME_LEN];
	uint64_t total;
	uint64_t per_port[RPA_DP_MAX_PORTS];
	uint64_t per_worker[RPA_DP_MAX_WORKERS];
};

/* Neighbour states. */
enum rpa_dp_neigh_state {
	RPA_DP_NEIGH_INCOMPLETE = 1, /* resolving */
	RPA_DP_NEIGH_REACHABLE,      /* answered recently */
	RPA_DP_NEIGH_STALE,          /* being refreshed; still used */
	RPA_DP_NEIGH_FAILED,         /* no answer; packets to it are dropped */
};

struct rpa_dp_neigh {
	struct rpa_addr addr;
	uint16_t port_id;
	uint8_t mac[6];
	uint8_t state; /* enum rpa_dp_neigh_state */
	uint8_t pad[3];
	uint32_t refs;   /* streams using it as next hop */
	uint32_t age_ms; /* since the last update */
	uint32_t held;   /* packets waiting for resolution */
	uint32_t probes; /* unanswered requests in the current round */
};

_Static_assert(sizeof(struct rpa_dp_hdr) == 16, "ABI");
_Static_assert(sizeof(struct rpa_dp_reply) == 152, "ABI");
_Static_assert(sizeof(struct rpa_dp_hello) == 40, "ABI");
_Static_assert(sizeof(struct rpa_dp_hello_reply) == 56, "ABI");
_Static_assert(sizeof(struct rpa_dp_srtp) == 56, "ABI");
_Static_assert(sizeof(struct rpa_dp_stream) == 232, "ABI");
_Static_assert(sizeof(struct rpa_dp_stream_info) == 296, "ABI");
_Static_assert(sizeof(struct rpa_dp_page) == 8, "ABI");
_Static_assert(sizeof(struct rpa_dp_page_reply) == 8, "ABI");
_Static_assert(sizeof(struct rpa_dp_flush) == 16, "ABI");
_Static_assert(sizeof(struct rpa_dp_stats) == 48, "ABI");
_Static_assert(sizeof(struct rpa_dp_port_stats) == 120, "ABI");
_Static_assert(sizeof(struct rpa_dp_worker_stats) == 64, "ABI");
_Static_assert(sizeof(struct rpa_dp_drop_stats) == 232, "ABI");
_Static_assert(sizeof(struct rpa_dp_neigh) == 48, "ABI");

#endif
