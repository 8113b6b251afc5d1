/* Address parsing and formatting for all rtpanchor processes; no I/O, no state. */
#include <rtpanchor/addr.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int rpa_addr_parse(const char *s, struct rpa_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0' || strlen(s) >= RPA_ADDR_STRLEN)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = RPA_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->v6) == 1) {
		out->family = RPA_AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return -EINVAL;
	return 0;
}

int rpa_prefix_parse(const char *s, struct rpa_addr *out, uint8_t *plen)
{
	char buf[RPA_ADDR_STRLEN + 8];
	unsigned long len;
	char *slash;
	int rc;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	rc = rpa_addr_parse(buf, out);
	if (rc < 0)
		return rc;
	if (slash == NULL) {
		*plen = out->family == RPA_AF_INET ? 32 : 128;
		return 0;
	}
	if (parse_uint(slash + 1, out->family == RPA_AF_INET ? 32 : 128, &len) < 0)
		return -EINVAL;
	*plen = (uint8_t)len;
	return 0;
}

int rpa_endpoint_parse(const char *s, struct rpa_endpoint *out)
{
	char buf[RPA_ENDPOINT_STRLEN];
	const char *host, *port;
	unsigned long p;
	char *colon;

	memset(out, 0, sizeof(*out));
	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (close == NULL || close[1] != ':')
			return -EINVAL;
		*close = '\0';
		host = buf + 1;
		port = close + 2;
		if (rpa_addr_parse(host, &out->addr) < 0 || out->addr.family != RPA_AF_INET6)
			return -EINVAL;
	} else {
		colon = strrchr(buf, ':');
		if (colon == NULL)
			return -EINVAL;
		*colon = '\0';
		host = buf;
		port = colon + 1;
		if (rpa_addr_parse(host, &out->addr) < 0 || out->addr.family != RPA_AF_INET)
			return -EINVAL;
	}
	if (parse_uint(port, 65535, &p) < 0 || p == 0) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	out->port = (uint16_t)p;
	return 0;
}

const char *rpa_addr_format(const struct rpa_addr *a, char *buf, size_t len)
{
	const char *r = NULL;

	if (a->family == RPA_AF_INET)
		r = inet_ntop(AF_INET, &a->v4, buf, (socklen_t)len);
	else if (a->family == RPA_AF_INET6)
		r = inet_ntop(AF_INET6, a->v6, buf, (socklen_t)len);
	if (r == NULL)
		snprintf(buf, len, "-");
	return buf;
}

const char *rpa_endpoint_format(const struct rpa_endpoint *e, char *buf, size_t len)
{
	char a[RPA_ADDR_STRLEN];

	if (rpa_addr_is_unspec(&e->addr))
		snprintf(buf, len, "-");
	else if (e->addr.family == RPA_AF_INET6)
		snprintf(buf, len, "[%s]:%u", rpa_addr_format(&e->addr, a, sizeof(a)), e->port);
	else
		snprintf(buf, len, "%s:%u", rpa_addr_format(&e->addr, a, sizeof(a)), e->port);
	return buf;
}
