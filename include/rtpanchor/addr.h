/* Addresses shared by every rtpanchor process: a family-tagged IP address and an
 * address:port endpoint. Plain data, usable in the control-socket ABI (host byte order for
 * ports, network byte order for the address bytes). IPv6 fits without a new layout. */
#ifndef RTPANCHOR_ADDR_H
#define RTPANCHOR_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RPA_AF_NONE  0 /* unspecified: "not known yet" */
#define RPA_AF_INET  4
#define RPA_AF_INET6 6

/* Longest text form: an IPv6 address in brackets, ':' and a port, plus NUL. */
#define RPA_ADDR_STRLEN     46
#define RPA_ENDPOINT_STRLEN 56

struct rpa_addr {
	uint8_t family; /* RPA_AF_* */
	uint8_t pad[3];
	union {
		uint32_t v4; /* network byte order */
		uint8_t v6[16];
	};
};

struct rpa_endpoint {
	struct rpa_addr addr;
	uint16_t port; /* host byte order */
	uint16_t pad;
};

_Static_assert(sizeof(struct rpa_addr) == 20, "rpa_addr is part of the socket ABI");
_Static_assert(sizeof(struct rpa_endpoint) == 24, "rpa_endpoint is part of the socket ABI");

static inline bool rpa_addr_is_unspec(const struct rpa_addr *a)
{
	return a->family == RPA_AF_NONE;
}

static inline bool rpa_addr_eq(const struct rpa_addr *a, const struct rpa_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == RPA_AF_INET)
		return a->v4 == b->v4;
	if (a->family == RPA_AF_INET6)
		return memcmp(a->v6, b->v6, 16) == 0;
	return true;
}

static inline void rpa_addr_set_v4(struct rpa_addr *a, uint32_t v4_be)
{
	memset(a, 0, sizeof(*a));
	a->family = RPA_AF_INET;
	a->v4 = v4_be;
}

/* Parse "192.0.2.1" or "2001:db8::1". Returns 0, or -EINVAL. */
int rpa_addr_parse(const char *s, struct rpa_addr *out);
/* Parse "ADDR/LEN"; a missing "/LEN" means a host prefix. Returns 0 or -EINVAL. */
int rpa_prefix_parse(const char *s, struct rpa_addr *out, uint8_t *plen);
/* Parse "192.0.2.1:4000" or "[2001:db8::1]:4000"; port 1..65535. 0 or -EINVAL. */
int rpa_endpoint_parse(const char *s, struct rpa_endpoint *out);
/* Text forms; an unspecified address prints as "-". Return buf. */
const char *rpa_addr_format(const struct rpa_addr *a, char *buf, size_t len);
const char *rpa_endpoint_format(const struct rpa_endpoint *e, char *buf, size_t len);

#endif
