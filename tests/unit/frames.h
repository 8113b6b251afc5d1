/* Unit-test helper: builds Ethernet/IPv4/UDP frames byte by byte and computes RFC 1071
 * checksums from scratch, deliberately without DPDK structs or dataplane checksum code. */
#ifndef TEST_FRAMES_H
#define TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FRAMES_ETH_LEN 14
#define FRAMES_IP_LEN  20
#define FRAMES_UDP_LEN 8
#define FRAMES_HDRS    (FRAMES_ETH_LEN + FRAMES_IP_LEN + FRAMES_UDP_LEN)
#define FRAMES_MAX     2048

/* Offsets from the start of the frame. */
#define FRAMES_OFF_ETYPE  12
#define FRAMES_OFF_VIHL	  14
#define FRAMES_OFF_TOTLEN 16
#define FRAMES_OFF_FRAG	  20
#define FRAMES_OFF_TTL	  22
#define FRAMES_OFF_PROTO  23
#define FRAMES_OFF_IPCSUM 24
#define FRAMES_OFF_SADDR  26
#define FRAMES_OFF_DADDR  30
#define FRAMES_OFF_SPORT  34
#define FRAMES_OFF_DPORT  36
#define FRAMES_OFF_ULEN	  38
#define FRAMES_OFF_UCSUM  40

struct frames_udp4 {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t saddr; /* host order */
	uint32_t daddr; /* host order */
	uint16_t sport;
	uint16_t dport;
	uint8_t ttl;
	uint8_t tos;
	uint16_t id;
	uint16_t frag; /* flags and offset, host order */
	const uint8_t *payload;
	uint32_t payload_len;
	int udp_csum; /* 0: send without UDP checksum */
};

static inline void frames_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void frames_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t frames_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 sum of big-endian 16-bit words; an odd last byte is padded with zero. */
static inline uint32_t frames_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t frames_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Header checksum of the IP header at `ip`, with its checksum field taken as zero. */
static inline uint16_t frames_ip_csum(const uint8_t *ip, size_t hlen)
{
	uint32_t sum = frames_sum(ip, hlen, 0);

	sum -= frames_get16(ip + 10);
	return (uint16_t)~frames_fold(sum);
}

/* UDP checksum (RFC 768) of the datagram after a 20-byte IP header, checksum field taken
 * as zero; a computed 0 is sent as 0xffff. */
static inline uint16_t frames_udp_csum(const uint8_t *ip)
{
	const uint8_t *udp = ip + FRAMES_IP_LEN;
	uint16_t ulen = frames_get16(udp + 4);
	uint32_t sum = 0;
	uint16_t c;

	sum = frames_sum(ip + 12, 8, sum); /* source and destination address */
	sum += ip[9];			   /* zero byte, protocol */
	sum += ulen;
	sum = frames_sum(udp, ulen, sum);
	sum -= frames_get16(udp + 6);
	c = (uint16_t)~frames_fold(sum);
	return c == 0 ? 0xffff : c;
}

/* Writes the frame into buf (>= FRAMES_HDRS + payload_len) and returns its length. */
static inline uint32_t frames_build_udp4(uint8_t *buf, const struct frames_udp4 *s)
{
	uint8_t *ip = buf + FRAMES_ETH_LEN;
	uint8_t *udp = ip + FRAMES_IP_LEN;
	uint16_t ulen = (uint16_t)(FRAMES_UDP_LEN + s->payload_len);

	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	frames_put16(buf + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = s->tos;
	frames_put16(ip + 2, (uint16_t)(FRAMES_IP_LEN + ulen));
	frames_put16(ip + 4, s->id);
	frames_put16(ip + 6, s->frag);
	ip[8] = s->ttl;
	ip[9] = 17;
	frames_put16(ip + 10, 0);
	frames_put32(ip + 12, s->saddr);
	frames_put32(ip + 16, s->daddr);
	frames_put16(ip + 10, frames_ip_csum(ip, FRAMES_IP_LEN));

	frames_put16(udp, s->sport);
	frames_put16(udp + 2, s->dport);
	frames_put16(udp + 4, ulen);
	frames_put16(udp + 6, 0);
	if (s->payload_len)
		memcpy(udp + FRAMES_UDP_LEN, s->payload, s->payload_len);
	if (s->udp_csum)
		frames_put16(udp + 6, frames_udp_csum(ip));
	return FRAMES_ETH_LEN + FRAMES_IP_LEN + ulen;
}

/* Recompute the IP header checksum after a test edited the header (hlen from IHL). */
static inline void frames_fix_ip_csum(uint8_t *frame)
{
	uint8_t *ip = frame + FRAMES_ETH_LEN;
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	frames_put16(ip + 10, frames_ip_csum(ip, hlen));
}

#endif
