/* ARP frames (RFC 826) over Ethernet/IPv4: parse and build. Pure functions on buffers; the
 * neighbour state machine that uses them lives in neigh.c (main lcore). */
#ifndef DP_ARP_H
#define DP_ARP_H

#include <stdint.h>

#include <rte_ether.h>

#define ARP_FRAME_LEN 42 /* Ethernet 14 + ARP 28; the PMD pads to 60 */

struct arp_info {
	uint16_t op; /* 1 request, 2 reply (host order) */
	struct rte_ether_addr eth_src;
	struct rte_ether_addr sha; /* sender hardware address */
	uint32_t spa;              /* sender IPv4, network order */
	struct rte_ether_addr tha;
	uint32_t tpa; /* target IPv4, network order */
};

/* Parse an Ethernet frame holding an Ethernet/IPv4 ARP request or reply.
 * Returns 0, or -EINVAL for anything else (wrong htype/ptype/hlen/plen, unknown op,
 * too short, group sender address). */
int arp_parse(const uint8_t *frame, uint32_t len, struct arp_info *out);

/* Build a request for tpa into buf (>= ARP_FRAME_LEN bytes). dst NULL = broadcast. A
 * gratuitous ARP is a broadcast request with spa == tpa. Returns ARP_FRAME_LEN. */
uint32_t arp_build_request(uint8_t *buf, const struct rte_ether_addr *src_mac, uint32_t spa,
			   uint32_t tpa, const struct rte_ether_addr *dst);

/* Build the reply to `req` from (mac, ip). Returns ARP_FRAME_LEN. */
uint32_t arp_build_reply(uint8_t *buf, const struct rte_ether_addr *mac, uint32_t ip,
			 const struct arp_info *req);

#endif
