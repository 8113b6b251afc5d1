/* Media addresses: which IP addresses (with prefix and gateway) live on which DPDK port.
 * Filled once at start-up from the configuration, read-only afterwards, so every lcore
 * reads it without synchronisation. An address's index is stable for the process life and
 * is what the session table keys on (family-independent). */
#ifndef DP_IFADDR_H
#define DP_IFADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>

#include <rtpanchor/addr.h>
#include <rtpanchor/dp_proto.h>

#define IFADDR_MAX      64 /* media addresses in total */
#define IFADDR_PORT_MAX 8  /* media addresses per port */

struct ifaddr {
	struct rpa_addr addr;
	uint8_t prefix_len;
	uint16_t port_id;
	uint32_t v4_mask; /* network byte order */
};

/* Per DPDK port: its MAC, its addresses (v4 copied inline for the hot lookup) and gateway. */
struct ifaddr_port {
	bool used;
	uint16_t n;
	uint16_t idx[IFADDR_PORT_MAX];
	uint32_t v4[IFADDR_PORT_MAX]; /* network byte order, same order as idx */
	struct rte_ether_addr mac;
	struct rpa_addr gateway; /* RPA_AF_NONE: none */
};

extern struct ifaddr ifaddr_table[IFADDR_MAX];
extern unsigned ifaddr_count;
extern struct ifaddr_port ifaddr_ports[RPA_DP_MAX_PORTS];

/* Start-up only. Returns the new index, or -EEXIST (address on any port already),
 * -ENOSPC, -EINVAL (bad family/prefix, port out of range). */
int ifaddr_add(uint16_t port_id, const struct rpa_addr *a, uint8_t prefix_len);
/* Start-up only. -EINVAL if the gateway is not inside one of the port's prefixes. */
int ifaddr_set_gateway(uint16_t port_id, const struct rpa_addr *gw);
void ifaddr_set_mac(uint16_t port_id, const struct rte_ether_addr *mac);
/* Forget everything (tests, shutdown). */
void ifaddr_reset(void);

/* Index of a media address on any port, or -1. */
int ifaddr_find(const struct rpa_addr *a);

/* Next hop on port_id for dst: dst itself when inside a prefix of the port, else the port's
 * gateway. Returns 0, or -EHOSTUNREACH when off-link and the port has no gateway. */
int ifaddr_next_hop(uint16_t port_id, const struct rpa_addr *dst, struct rpa_addr *nh);

/* HOT: index of the port's media address equal to dst_v4 (network order), or -1. Compares
 * all eight slots at once without branching: with several addresses per port and traffic
 * spread over them, an early-exit loop mispredicts on most packets. */
typedef uint32_t ifaddr_v4x4 __attribute__((vector_size(16)));
_Static_assert(IFADDR_PORT_MAX == 8, "ifaddr_port_lookup_v4 compares two vectors of four");

static inline int ifaddr_port_lookup_v4(const struct ifaddr_port *p, uint32_t dst_v4)
{
	static const ifaddr_v4x4 bit_lo = {1, 2, 4, 8}, bit_hi = {16, 32, 64, 128};
	const ifaddr_v4x4 d = {dst_v4, dst_v4, dst_v4, dst_v4};
	ifaddr_v4x4 lo, hi, m;
	unsigned hit;

	memcpy(&lo, &p->v4[0], sizeof(lo));
	memcpy(&hi, &p->v4[4], sizeof(hi));
	m = ((lo == d) & bit_lo) | ((hi == d) & bit_hi);
	hit = (m[0] | m[1] | m[2] | m[3]) & ((1u << p->n) - 1); /* slots past n are unused */
	return hit != 0 ? p->idx[__builtin_ctz(hit)] : -1;
}

#endif
