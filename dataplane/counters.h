/* Drop reasons and per-worker counters. Each worker writes only its own struct worker_stats
 * (plain increments: one writer); the main lcore and the telemetry thread read them. */
#ifndef DP_COUNTERS_H
#define DP_COUNTERS_H

#include <stdint.h>

#include <rte_common.h>

#include <rtpanchor/dp_proto.h>

/* X(enum suffix, name shown to operators, meaning) */
#define DP_DROP_REASONS(X)                                                                   \
	X(TOO_SHORT, "too-short", "frame shorter than the headers it announces")            \
	X(NOT_IP, "not-ip", "ethertype is neither IPv4 nor ARP")                            \
	X(L2_NOT_US, "l2-not-us", "unicast frame for another MAC address")                  \
	X(L2_BCAST, "l2-broadcast", "IP packet in a broadcast or multicast frame")          \
	X(IP_VERSION, "ip-version", "IPv4 ethertype with another IP version")               \
	X(IP_HDR_LEN, "ip-hdr-len", "IHL below 5 or beyond the packet")                     \
	X(IP_LEN, "ip-len", "IP total length lies about the frame")                         \
	X(IP_CSUM, "ip-csum", "IPv4 header checksum wrong")                                 \
	X(IP_OPTIONS, "ip-options", "IPv4 options present (never in media)")                \
	X(IP_FRAGMENT, "ip-fragment", "IPv4 fragment (media is never fragmented)")          \
	X(IP_BCAST, "ip-broadcast", "destination is broadcast or multicast")                \
	X(BAD_SRC, "bad-src", "source is 0, broadcast, multicast, loopback or port 0")       \
	X(NOT_OUR_ADDR, "not-our-addr", "destination is not a media address of the port")   \
	X(NOT_UDP, "not-udp", "IP protocol is not UDP")                                     \
	X(UDP_LEN, "udp-len", "UDP length disagrees with the IP length")                    \
	X(TTL, "ttl-expired", "TTL would reach zero")                                       \
	X(MULTISEG, "multi-segment", "chained mbuf (scatter is never enabled)")             \
	X(NO_STREAM, "no-stream", "no stream on this address and port")                     \
	X(SRC_MISMATCH, "src-mismatch", "strict-source: packet from an unexpected source")  \
	X(NO_PEER, "no-peer", "stream has no peer address yet")                             \
	X(NEIGH, "neigh-unresolved", "next hop did not answer ARP, or hold queue full")     \
	X(LATCH_RACE, "latch-race", "source changed again while the slow path relatched")   \
	X(SLOW_RING, "slow-ring-full", "slow-path ring full")                               \
	X(HANDOFF_RING, "handoff-ring-full", "ring to the owning worker full")              \
	X(TX_FULL, "tx-full", "port transmit queue full")                                   \
	X(SRTP_AUTH, "srtp-auth", "SRTP/SRTCP authentication tag wrong (tampered, wrong key)") \
	X(SRTP_REPLAY, "srtp-replay", "SRTP duplicate or older than the replay window")     \
	X(SRTP_MALFORMED, "srtp-malformed", "too short or not RTP/RTCP v2 for SRTP, no SRTCP index") \
	X(SRTP_MKI, "srtp-bad-mki", "SRTP MKI differs from the stream's")                   \
	X(SRTP_NO_ROOM, "srtp-no-room", "no room in the packet buffer for the SRTP tag")    \
	X(SRTP_LIMIT, "srtp-key-limit", "SRTP key lifetime spent (SRTCP index 2^31)")       \
	X(SRTP_CRYPTO, "srtp-crypto", "the crypto device failed the operation")             \
	X(SRTP_PENDING, "srtp-pending", "re-keyed AEAD packet with a new header length")     \
	X(SLOW_OTHER, "slow-other", "slow path: ARP or other control frame not for us")

enum dp_drop {
#define X(e, n, d) DP_DROP_##e,
	DP_DROP_REASONS(X)
#undef X
	DP_DROP_MAX
};

_Static_assert(DP_DROP_MAX <= 64, "drop reasons must fit the stats message");

extern const char *const dp_drop_names[DP_DROP_MAX];
extern const char *const dp_drop_descr[DP_DROP_MAX];

/* Written only by the worker that owns it (index = worker index). */
struct worker_stats {
	uint64_t rx_pkts[RPA_DP_MAX_PORTS];
	uint64_t rx_bytes[RPA_DP_MAX_PORTS];
	uint64_t tx_pkts[RPA_DP_MAX_PORTS];
	uint64_t tx_bytes[RPA_DP_MAX_PORTS];
	uint64_t drops[RPA_DP_MAX_PORTS][DP_DROP_MAX]; /* by port the packet came in on */
	uint64_t handoff;
	uint64_t punted;
	uint64_t order_timeouts; /* see rpa_dp_worker_stats */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
} __rte_cache_aligned;

#endif
