/* HOT. Rewrites a validated IPv4/UDP frame in place so it leaves toward a stream's peer:
 * Ethernet addresses, IP source/destination, TTL - 1, UDP ports. Checksums are either
 * updated incrementally (RFC 1624; the UDP payload never changes, so a UDP checksum that was
 * right stays right and one that was absent stays absent) or prepared for the port's
 * checksum offload. Header-only: the payload is not touched. rewrite_ipv4_udp_full serves
 * packets whose payload SRTP changed: lengths set by the caller, checksums recomputed. */
#ifndef DP_REWRITE_H
#define DP_REWRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "csum.h"

/* What a stream writes into each packet's IP and UDP headers; precomputed when the rule is
 * installed. The Ethernet addresses come from the egress port and the next hop. */
struct rewrite_hdr {
	uint32_t saddr; /* network order */
	uint32_t daddr; /* network order */
	uint16_t sport; /* network order */
	uint16_t dport; /* network order */
};

_Static_assert(sizeof(struct rewrite_hdr) == 12, "packed into the rule's first half");

/* One's-complement sum folding helpers (RFC 1071/1624). */
static inline uint32_t rewrite_csum_add32(uint32_t sum, uint32_t v)
{
	return sum + (v >> 16) + (v & 0xffff);
}

static inline uint16_t rewrite_csum_fold(uint32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

/* HC' = ~(~HC + ~m + m') over the changed 16-bit words (RFC 1624 eqn. 3). All values are
 * in network order as stored in the packet; one's-complement arithmetic is byte-order
 * independent as long as every operand has the same order. */
static inline uint16_t rewrite_csum_update(uint16_t csum, uint32_t old_sum_inv, uint32_t new_sum)
{
	uint32_t sum = (uint16_t)~csum;
	sum += old_sum_inv + new_sum;
	return (uint16_t)~rewrite_csum_fold(sum);
}

/* Rewrite with software checksum update. `eth` starts the frame; ip header length is 20
 * (classify drops options). src_mac is the egress port's, dst_mac the next hop's. */
static inline void rewrite_ipv4_udp(uint8_t *eth, const struct rewrite_hdr *rh,
				    const struct rte_ether_addr *src_mac,
				    const struct rte_ether_addr *dst_mac)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)eth;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint32_t old_inv = 0, new_sum = 0;
	uint16_t old_ttl_word, new_ttl_word;

	rte_ether_addr_copy(dst_mac, &e->dst_addr);
	rte_ether_addr_copy(src_mac, &e->src_addr);

	/* Addresses: shared by the IP header and the UDP pseudo-header. */
	old_inv = rewrite_csum_add32(old_inv, ~ip->src_addr);
	old_inv = rewrite_csum_add32(old_inv, ~ip->dst_addr);
	new_sum = rewrite_csum_add32(new_sum, rh->saddr);
	new_sum = rewrite_csum_add32(new_sum, rh->daddr);

	/* TTL shares a 16-bit word with the protocol field. */
	memcpy(&old_ttl_word, &ip->time_to_live, sizeof(old_ttl_word));
	ip->time_to_live--;
	memcpy(&new_ttl_word, &ip->time_to_live, sizeof(new_ttl_word));
	ip->hdr_checksum = rewrite_csum_update(
		ip->hdr_checksum, old_inv + (uint16_t)~old_ttl_word, new_sum + new_ttl_word);
	ip->src_addr = rh->saddr;
	ip->dst_addr = rh->daddr;

	if (udp->dgram_cksum != 0) {
		uint16_t c;
		old_inv += (uint16_t)~udp->src_port + (uint16_t)~udp->dst_port;
		new_sum += rh->sport + rh->dport;
		c = rewrite_csum_update(udp->dgram_cksum, old_inv, new_sum);
		/* 0 means "no checksum" on the wire; its one's-complement twin is 0xffff. */
		udp->dgram_cksum = c == 0 ? 0xffff : c;
	}
	udp->src_port = rh->sport;
	udp->dst_port = rh->dport;
}

/* Rewrite for a port with IPv4 and UDP tx checksum offload: fields written, the IP
 * checksum zeroed and the UDP checksum set to the pseudo-header sum as DPDK requires. */
static inline void rewrite_ipv4_udp_offload(struct rte_mbuf *m, uint8_t *eth,
					    const struct rewrite_hdr *rh,
					    const struct rte_ether_addr *src_mac,
					    const struct rte_ether_addr *dst_mac)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)eth;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	rte_ether_addr_copy(dst_mac, &e->dst_addr);
	rte_ether_addr_copy(src_mac, &e->src_addr);
	ip->time_to_live--;
	ip->src_addr = rh->saddr;
	ip->dst_addr = rh->daddr;
	ip->hdr_checksum = 0;
	udp->src_port = rh->sport;
	udp->dst_port = rh->dport;
	m->l2_len = sizeof(*e);
	m->l3_len = sizeof(*ip);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
	udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
}

/* Rewrite after the payload changed (SRTP protect/unprotect): the caller has set the IP
 * total length and the UDP length; the IP checksum and the UDP checksum are computed in
 * full by csum.h (a UDP checksum that was absent stays absent, as IPv4 allows). */
static inline void rewrite_ipv4_udp_full(uint8_t *eth, const struct rewrite_hdr *rh,
					 const struct rte_ether_addr *src_mac,
					 const struct rte_ether_addr *dst_mac)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)eth;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	bool csum = udp->dgram_cksum != 0;

	rte_ether_addr_copy(dst_mac, &e->dst_addr);
	rte_ether_addr_copy(src_mac, &e->src_addr);
	ip->time_to_live--;
	ip->src_addr = rh->saddr;
	ip->dst_addr = rh->daddr;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = csum_ipv4_hdr(ip);
	udp->src_port = rh->sport;
	udp->dst_port = rh->dport;
	if (csum) {
		udp->dgram_cksum = 0;
		udp->dgram_cksum = csum_ipv4_udp(ip, udp); /* never 0 */
	}
}

#endif
