/* HOT. Frame validation and classification, called by workers on every received frame.
 * Reads the frame only; no allocation, logging or syscalls. */
#include "classify.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#define CLASSIFY_L3_OFF ((uint32_t)sizeof(struct rte_ether_hdr))
#define CLASSIFY_IP_MIN ((uint32_t)sizeof(struct rte_ipv4_hdr))

/* 224.0.0.0/4 (RFC 5771) and the limited broadcast, compared in network order so the
 * constants fold at compile time. */
#define CLASSIFY_MCAST_MASK RTE_BE32(0xf0000000)
#define CLASSIFY_MCAST_NET  RTE_BE32(0xe0000000)
#define CLASSIFY_BCAST	    RTE_BE32(0xffffffff)
#define CLASSIFY_CLASS_DE_MASK RTE_BE32(0xe0000000) /* 224/3: multicast and class E */
#define CLASSIFY_LOOP_MASK     RTE_BE32(0xff000000)
#define CLASSIFY_LOOP_NET      RTE_BE32(0x7f000000)

/* RFC 1071 verification: the one's-complement sum over a correct header, checksum field
 * included, is 0xffff. The fixed 20 bytes are summed as five 32-bit words (the sum is
 * byte-order independent and folding 32->16 gives the 16-bit word sum); options are rare
 * and dropped anyway, so they take DPDK's generic routine. */
static inline int classify_ip_csum_ok(const struct rte_ipv4_hdr *ip, uint32_t hlen)
{
	uint32_t w[5];
	uint64_t sum;

	memcpy(w, ip, sizeof(w));
	sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	if (unlikely(hlen > CLASSIFY_IP_MIN))
		sum += rte_raw_cksum((const uint8_t *)ip + CLASSIFY_IP_MIN, hlen - CLASSIFY_IP_MIN);
	sum = (sum >> 32) + (sum & 0xffffffff);
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return sum == 0xffff;
}

static inline enum classify_verdict classify_drop(struct classify_out *out, enum dp_drop why)
{
	out->drop = why;
	return CLASSIFY_DROP;
}

enum classify_verdict classify_frame(const uint8_t *frame, uint32_t len,
				     const struct ifaddr_port *port, int rx_csum_good,
				     struct classify_out *out)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	uint32_t hlen, tot_len, ip_room;
	int idx;

	if (unlikely(len < CLASSIFY_L3_OFF))
		return classify_drop(out, DP_DROP_TOO_SHORT);
	out->l3_off = CLASSIFY_L3_OFF;

	if (unlikely(eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
		if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			out->frame_len = len;
			return CLASSIFY_SLOW;
		}
		return classify_drop(out, DP_DROP_NOT_IP);
	}

	/* Media is always unicast to us: a group-addressed IP frame is someone's broadcast
	 * or multicast traffic that we must not relay. The port MAC is unicast, so the group
	 * test only decides which reason gets counted. */
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &port->mac))) {
		if (rte_is_multicast_ether_addr(&eth->dst_addr))
			return classify_drop(out, DP_DROP_L2_BCAST);
		return classify_drop(out, DP_DROP_L2_NOT_US);
	}

	ip_room = len - CLASSIFY_L3_OFF;
	if (unlikely(ip_room < CLASSIFY_IP_MIN))
		return classify_drop(out, DP_DROP_TOO_SHORT);
	ip = (const struct rte_ipv4_hdr *)(frame + CLASSIFY_L3_OFF);

	if (unlikely((ip->version_ihl >> 4) != 4))
		return classify_drop(out, DP_DROP_IP_VERSION);
	hlen = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	if (unlikely(hlen < CLASSIFY_IP_MIN || hlen > ip_room))
		return classify_drop(out, DP_DROP_IP_HDR_LEN);
	tot_len = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot_len < hlen || tot_len > ip_room))
		return classify_drop(out, DP_DROP_IP_LEN);
	if (!rx_csum_good && unlikely(!classify_ip_csum_ok(ip, hlen)))
		return classify_drop(out, DP_DROP_IP_CSUM);
	if (unlikely(hlen != CLASSIFY_IP_MIN))
		return classify_drop(out, DP_DROP_IP_OPTIONS);
	if (unlikely(ip->fragment_offset &
		     RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return classify_drop(out, DP_DROP_IP_FRAGMENT);
	if (unlikely((ip->dst_addr & CLASSIFY_MCAST_MASK) == CLASSIFY_MCAST_NET ||
		     ip->dst_addr == CLASSIFY_BCAST))
		return classify_drop(out, DP_DROP_IP_BCAST);

	/* Never learn (latch) or answer an address no host can own. */
	if (unlikely(ip->src_addr == 0 || ip->src_addr == CLASSIFY_BCAST ||
		     (ip->src_addr & CLASSIFY_CLASS_DE_MASK) == CLASSIFY_MCAST_NET ||
		     (ip->src_addr & CLASSIFY_LOOP_MASK) == CLASSIFY_LOOP_NET))
		return classify_drop(out, DP_DROP_BAD_SRC);

	idx = ifaddr_port_lookup_v4(port, ip->dst_addr);
	if (unlikely(idx < 0))
		return classify_drop(out, DP_DROP_NOT_OUR_ADDR);
	if (unlikely(ip->next_proto_id != IPPROTO_UDP))
		return classify_drop(out, DP_DROP_NOT_UDP);
	/* The IP total length is what the packet announces; a UDP header that does not fit
	 * inside it is missing, whatever padding follows in the frame. */
	if (unlikely(tot_len - hlen < sizeof(struct rte_udp_hdr)))
		return classify_drop(out, DP_DROP_TOO_SHORT);
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + hlen);
	if (unlikely(rte_be_to_cpu_16(udp->dgram_len) != tot_len - hlen))
		return classify_drop(out, DP_DROP_UDP_LEN);
	/* We forward, so we decrement: a packet arriving with TTL 1 would leave with 0. */
	if (unlikely(ip->time_to_live <= 1))
		return classify_drop(out, DP_DROP_TTL);
	if (unlikely(udp->src_port == 0))
		return classify_drop(out, DP_DROP_BAD_SRC);

	out->addr_idx = (uint16_t)idx;
	out->dport = rte_be_to_cpu_16(udp->dst_port);
	out->sport = rte_be_to_cpu_16(udp->src_port);
	out->saddr = ip->src_addr;
	out->frame_len = CLASSIFY_L3_OFF + tot_len;
	return CLASSIFY_MEDIA;
}
