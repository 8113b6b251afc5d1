/* HOT. Full RFC 1071 Internet checksums computed in software: the raw one's-complement sum
 * of any buffer, the IPv4 header checksum and the IPv4 UDP checksum with its pseudo-header.
 * Results are bit-identical to DPDK's rte_raw_cksum / rte_ipv4_cksum /
 * rte_ipv4_udptcp_cksum (tests/unit/test_csum.c holds them to it) and cost less. */
#ifndef DP_CSUM_H
#define DP_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

/* Two 64-bit lanes, in GCC/clang's generic vector extension: plain C that the compiler
 * lowers to the baseline SIMD of any target (SSE2 on x86-64), with no intrinsics and no
 * CPU requirement beyond the build's -march. */
typedef uint64_t csum_v2u64 __attribute__((vector_size(16)));

static inline csum_v2u64 csum_load16(const uint8_t *p)
{
	csum_v2u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Adds the one's-complement sum of buf[0..len) to `sum` without folding it. Any length and
 * any alignment (loads go through memcpy). The buffer is summed as 32-bit words in host
 * order added into 64-bit accumulators: 2^16 = 1 (mod 0xffff), so a sum of 32- or 64-bit
 * words folds to the same 16-bit sum as one of 16-bit words (RFC 1071 §2(B)), and 64-bit
 * lanes cannot overflow below 2^32 words. Host order for the words makes the folded result
 * read right when stored into the packet as is (RFC 1071 §2(B) byte order independence),
 * like rte_raw_cksum; an odd last byte is its first byte padded with zero (§4.1), loaded in
 * memory order as rte_raw_cksum does. `sum` must stay below 2^63. */
static inline uint64_t csum_raw(const void *buf, size_t len, uint64_t sum)
{
	const csum_v2u64 lo32 = {0xffffffffu, 0xffffffffu};
	csum_v2u64 a = {0, 0}, b = {0, 0};
	const uint8_t *p = buf;
	uint32_t w32;
	uint16_t w16;

	/* Two independent accumulators per half keep the dependency chains short; 32 bytes an
	 * iteration measured faster than 16 or 64 for RTP-sized datagrams. */
	for (; len >= 32; p += 32, len -= 32) {
		csum_v2u64 x = csum_load16(p), y = csum_load16(p + 16);

		a += (x & lo32) + (y & lo32);
		b += (x >> 32) + (y >> 32);
	}
	if (len >= 16) {
		csum_v2u64 x = csum_load16(p);

		a += x & lo32;
		b += x >> 32;
		p += 16;
		len -= 16;
	}
	a += b;
	sum += a[0] + a[1];
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w32, p, sizeof(w32));
		sum += w32;
	}
	if (len >= 2) {
		memcpy(&w16, p, sizeof(w16));
		sum += w16;
		p += 2;
		len -= 2;
	}
	if (len) {
		w16 = 0;
		memcpy(&w16, p, 1);
		sum += w16;
	}
	return sum;
}

/* Folds a 64-bit partial sum to 16 bits with end-around carries. The result is 0 only for
 * a sum of 0 (all-zero data), as with rte_raw_cksum; otherwise 1..0xffff. */
static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* The IPv4 header checksum to store, computed over ihl*4 bytes; the header's checksum
 * field must be 0 (rte_ipv4_cksum's contract). */
static inline uint16_t csum_ipv4_hdr(const struct rte_ipv4_hdr *ip)
{
	return (uint16_t)~csum_fold(csum_raw(ip, rte_ipv4_hdr_len(ip), 0));
}

/* Unfolded sum of the IPv4 pseudo-header (RFC 768): addresses, zero, protocol, and the L4
 * length taken from the IP total length, as rte_ipv4_phdr_cksum takes it. Summed from the
 * header's fields in registers, in the same host-order words as csum_raw. */
static inline uint64_t csum_ipv4_phdr(const struct rte_ipv4_hdr *ip)
{
	uint16_t l4_len = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip));

	return (uint64_t)ip->src_addr + ip->dst_addr + rte_cpu_to_be_16(ip->next_proto_id) +
	       rte_cpu_to_be_16(l4_len);
}

/* The UDP checksum to store for the datagram at `l4` behind `ip` (length from the IP total
 * length; the UDP checksum field must be 0). A zero result is sent as 0xffff, since 0 on the
 * wire means "no checksum" (RFC 768). Equals rte_ipv4_udptcp_cksum for UDP, including its
 * answer for a total length shorter than the header (a sum of 0). */
static inline uint16_t csum_ipv4_udp(const struct rte_ipv4_hdr *ip, const void *l4)
{
	uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
	uint32_t hdr_len = rte_ipv4_hdr_len(ip);
	uint16_t c;

	if (ip_len < hdr_len)
		return 0xffff;
	c = (uint16_t)~csum_fold(csum_raw(l4, ip_len - hdr_len, csum_ipv4_phdr(ip)));
	return c == 0 ? 0xffff : c;
}

#endif
