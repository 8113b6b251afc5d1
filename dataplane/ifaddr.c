/* Media addresses per DPDK port. Start-up writes, everyone reads (see ifaddr.h). */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "ifaddr.h"

struct ifaddr ifaddr_table[IFADDR_MAX];
unsigned ifaddr_count;
struct ifaddr_port ifaddr_ports[RPA_DP_MAX_PORTS];

static uint32_t v4_mask(uint8_t plen)
{
	return plen == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - plen));
}

void ifaddr_reset(void)
{
	memset(ifaddr_table, 0, sizeof(ifaddr_table));
	memset(ifaddr_ports, 0, sizeof(ifaddr_ports));
	ifaddr_count = 0;
}

int ifaddr_add(uint16_t port_id, const struct rpa_addr *a, uint8_t prefix_len)
{
	struct ifaddr_port *p;
	struct ifaddr *ia;

	if (port_id >= RPA_DP_MAX_PORTS)
		return -EINVAL;
	/* IPv6 media addresses need the v6 classifier and ND; refuse until they exist. */
	if (a->family != RPA_AF_INET || prefix_len > 32 || a->v4 == 0)
		return -EINVAL;
	if (ifaddr_find(a) >= 0)
		return -EEXIST;
	p = &ifaddr_ports[port_id];
	if (ifaddr_count >= IFADDR_MAX || p->n >= IFADDR_PORT_MAX)
		return -ENOSPC;
	ia = &ifaddr_table[ifaddr_count];
	ia->addr = *a;
	ia->prefix_len = prefix_len;
	ia->port_id = port_id;
	ia->v4_mask = v4_mask(prefix_len);
	p->used = true;
	p->idx[p->n] = (uint16_t)ifaddr_count;
	p->v4[p->n] = a->v4;
	p->n++;
	return (int)ifaddr_count++;
}

static bool on_link(uint16_t port_id, const struct rpa_addr *dst)
{
	const struct ifaddr_port *p = &ifaddr_ports[port_id];

	if (dst->family != RPA_AF_INET)
		return false;
	for (unsigned i = 0; i < p->n; i++) {
		const struct ifaddr *ia = &ifaddr_table[p->idx[i]];
		if ((ia->addr.v4 & ia->v4_mask) == (dst->v4 & ia->v4_mask))
			return true;
	}
	return false;
}

int ifaddr_set_gateway(uint16_t port_id, const struct rpa_addr *gw)
{
	if (port_id >= RPA_DP_MAX_PORTS || !on_link(port_id, gw))
		return -EINVAL;
	ifaddr_ports[port_id].gateway = *gw;
	return 0;
}

void ifaddr_set_mac(uint16_t port_id, const struct rte_ether_addr *mac)
{
	if (port_id < RPA_DP_MAX_PORTS)
		ifaddr_ports[port_id].mac = *mac;
}

int ifaddr_find(const struct rpa_addr *a)
{
	for (unsigned i = 0; i < ifaddr_count; i++)
		if (rpa_addr_eq(&ifaddr_table[i].addr, a))
			return (int)i;
	return -1;
}

int ifaddr_next_hop(uint16_t port_id, const struct rpa_addr *dst, struct rpa_addr *nh)
{
	if (port_id >= RPA_DP_MAX_PORTS)
		return -EINVAL;
	if (on_link(port_id, dst)) {
		*nh = *dst;
		return 0;
	}
	if (rpa_addr_is_unspec(&ifaddr_ports[port_id].gateway))
		return -EHOSTUNREACH;
	*nh = ifaddr_ports[port_id].gateway;
	return 0;
}
