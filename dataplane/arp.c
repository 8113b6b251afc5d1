/* ARP (RFC 826) frames over Ethernet/IPv4: parse and build on caller buffers. Pure; called
 * by the neighbour code on the main lcore. */
#include "arp.h"

#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>

_Static_assert(ARP_FRAME_LEN == sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr),
	       "ARP_FRAME_LEN must match the DPDK header layouts");

int arp_parse(const uint8_t *frame, uint32_t len, struct arp_info *out)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);
	uint16_t op;

	/* Trailing bytes are Ethernet padding (frames are at least 60 bytes on the wire). */
	if (len < ARP_FRAME_LEN)
		return -EINVAL;
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_ARP))
		return -EINVAL;
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(uint32_t))
		return -EINVAL;
	op = rte_be_to_cpu_16(arp->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return -EINVAL;
	/* A group sender address would poison the neighbour table (and answering it would
	 * send a reply to a group): never a real host. */
	if (rte_is_multicast_ether_addr(&arp->arp_data.arp_sha))
		return -EINVAL;

	out->op = op;
	rte_ether_addr_copy(&eth->src_addr, &out->eth_src);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &out->sha);
	rte_ether_addr_copy(&arp->arp_data.arp_tha, &out->tha);
	memcpy(&out->spa, &arp->arp_data.arp_sip, sizeof(out->spa));
	memcpy(&out->tpa, &arp->arp_data.arp_tip, sizeof(out->tpa));
	return 0;
}

static void arp_build(uint8_t *buf, uint16_t op, const struct rte_ether_addr *eth_dst,
		      const struct rte_ether_addr *sha, uint32_t spa,
		      const struct rte_ether_addr *tha, uint32_t tpa)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	rte_ether_addr_copy(eth_dst, &eth->dst_addr);
	rte_ether_addr_copy(sha, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = sizeof(uint32_t);
	arp->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(sha, &arp->arp_data.arp_sha);
	memcpy(&arp->arp_data.arp_sip, &spa, sizeof(spa));
	rte_ether_addr_copy(tha, &arp->arp_data.arp_tha);
	memcpy(&arp->arp_data.arp_tip, &tpa, sizeof(tpa));
}

uint32_t arp_build_request(uint8_t *buf, const struct rte_ether_addr *src_mac, uint32_t spa,
			   uint32_t tpa, const struct rte_ether_addr *dst)
{
	static const struct rte_ether_addr bcast = {
	    .addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	/* The target hardware address of a request is unknown: zero, as Linux sends it and
	 * as RFC 5227 section 2.3 requires for announcements, also when the frame itself is
	 * unicast (a refresh of a known entry). */
	static const struct rte_ether_addr zero;

	arp_build(buf, RTE_ARP_OP_REQUEST, dst != NULL ? dst : &bcast, src_mac, spa, &zero, tpa);
	return ARP_FRAME_LEN;
}

uint32_t arp_build_reply(uint8_t *buf, const struct rte_ether_addr *mac, uint32_t ip,
			 const struct arp_info *req)
{
	/* RFC 826: the reply goes to the requester's hardware address as stated in the
	 * packet, which is also what the requester's ARP cache will be keyed on. */
	arp_build(buf, RTE_ARP_OP_REPLY, &req->sha, mac, ip, &req->sha, req->spa);
	return ARP_FRAME_LEN;
}
