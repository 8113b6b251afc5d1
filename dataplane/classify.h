/* HOT. Frame validation and classification for the worker loop: decides whether a frame
 * is media for one of the port's addresses, a slow-path frame (ARP), or a drop and why.
 * Pure: takes a buffer and a length, touches nothing else, never writes the frame. */
#ifndef DP_CLASSIFY_H
#define DP_CLASSIFY_H

#include <stdint.h>

#include "counters.h"
#include "ifaddr.h"

enum classify_verdict {
	CLASSIFY_MEDIA, /* valid IPv4/UDP to a media address: out is filled */
	CLASSIFY_SLOW,  /* ARP: hand to the main lcore */
	CLASSIFY_DROP,  /* out->drop says why */
};

struct classify_out {
	uint16_t addr_idx; /* media address (ifaddr index) the packet is for */
	uint16_t dport;    /* host order */
	uint16_t sport;    /* host order */
	uint16_t l3_off;   /* 14 */
	uint32_t saddr;    /* network order */
	uint32_t frame_len; /* Ethernet + IP total length: trim trailing padding to this */
	enum dp_drop drop;
};

/* Checks, in order: Ethernet header present; ARP -> SLOW; IPv4 ethertype else NOT_IP;
 * destination MAC is the port's (else L2_NOT_US) and not group (else L2_BCAST);
 * version 4; IHL >= 5 and within the frame; total length >= IHL*4 and <= frame; header
 * checksum (skipped when rx_csum_good); no options; not a fragment (MF or offset);
 * destination not broadcast/multicast/limited; destination is one of the port's media
 * addresses; protocol UDP; UDP header present and UDP length == IP payload length;
 * TTL > 1. Ethernet padding beyond the IP total length is allowed (frame_len says where
 * the packet really ends). */
enum classify_verdict classify_frame(const uint8_t *frame, uint32_t len,
				     const struct ifaddr_port *port, int rx_csum_good,
				     struct classify_out *out);

#endif
