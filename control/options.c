/* Option, config-file and environment parsing for rtpanchor-control. Runs once on the
 * main thread before anything else starts. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rtpanchor/conffile.h>
#include <rtpanchor/dp_proto.h>

#include "options.h"

enum {
	OPT_CONFIG = 256,
	OPT_REDIS,
	OPT_REDIS_DB,
	OPT_REDIS_PASSWORD_FILE,
	OPT_REDIS_PASSWORD, /* refused: secrets never on argv */
	OPT_KEY_PREFIX,
	OPT_REPLY_TTL,
	OPT_STORED_REPLY_TTL,
	OPT_NODE,
	OPT_DP_SOCKET,
	OPT_DP_TIMEOUT,
	OPT_INTERFACE,
	OPT_PORT_MIN,
	OPT_PORT_MAX,
	OPT_PORT_QUARANTINE,
	OPT_LATCH_WINDOW,
	OPT_MEDIA_TIMEOUT,
	OPT_MEDIA_TIMEOUT_DELETE,
	OPT_FINAL_TIMEOUT,
	OPT_DELETE_DELAY,
	OPT_METRICS_LISTEN,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option longopts[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"redis", required_argument, NULL, OPT_REDIS},
    {"redis-db", required_argument, NULL, OPT_REDIS_DB},
    {"redis-password-file", required_argument, NULL, OPT_REDIS_PASSWORD_FILE},
    {"redis-password", required_argument, NULL, OPT_REDIS_PASSWORD},
    {"key-prefix", required_argument, NULL, OPT_KEY_PREFIX},
    {"reply-ttl", required_argument, NULL, OPT_REPLY_TTL},
    {"stored-reply-ttl", required_argument, NULL, OPT_STORED_REPLY_TTL},
    {"node", required_argument, NULL, OPT_NODE},
    {"dataplane-socket", required_argument, NULL, OPT_DP_SOCKET},
    {"dataplane-timeout", required_argument, NULL, OPT_DP_TIMEOUT},
    {"interface", required_argument, NULL, OPT_INTERFACE},
    {"port-min", required_argument, NULL, OPT_PORT_MIN},
    {"port-max", required_argument, NULL, OPT_PORT_MAX},
    {"port-quarantine-ms", required_argument, NULL, OPT_PORT_QUARANTINE},
    {"latch-window-ms", required_argument, NULL, OPT_LATCH_WINDOW},
    {"media-timeout", required_argument, NULL, OPT_MEDIA_TIMEOUT},
    {"media-timeout-delete", no_argument, NULL, OPT_MEDIA_TIMEOUT_DELETE},
    {"final-timeout", required_argument, NULL, OPT_FINAL_TIMEOUT},
    {"delete-delay", required_argument, NULL, OPT_DELETE_DELAY},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* State of one parse that is not part of the result. */
struct parse_state {
	char password_file[OPTIONS_PATH_MAX * 4];
};

void options_usage(FILE *f, const char *prog)
{
	fprintf(
	    f,
	    "Usage: %s [options]\n"
	    "\n"
	    "rtpanchor's control plane: reads offer/answer/delete commands from Redis,\n"
	    "rewrites SDP, allocates relay ports and programs rtpanchor-dataplane.\n"
	    "\n"
	    "Redis:\n"
	    "  --redis HOST:PORT|PATH     server (default %s); a path starting with '/'\n"
	    "                             is a Unix socket; [v6addr]:PORT for IPv6\n"
	    "  --redis-db N               database number (default 0)\n"
	    "  --redis-password-file FILE first line = password (overrides the environment)\n"
	    "                             ACL user and password come from %s\n"
	    "                             and %s, never from arguments\n"
	    "  --key-prefix STR           prefix of every key (default \"rtpanchor:\")\n"
	    "  --reply-ttl S              EXPIRE of a reply list (default 60)\n"
	    "  --stored-reply-ttl S       keep the stored reply proving each batch committed\n"
	    "                             (default 60)\n"
	    "Node:\n"
	    "  --node NAME                consumer and owner name (default: the host name)\n"
	    "  --dataplane-socket PATH    dataplane control socket (default %s)\n"
	    "  --dataplane-timeout MS     per dataplane request (default 1000)\n"
	    "Media:\n"
	    "  --interface NAME=LOCAL[!ADVERTISED]\n"
	    "                             media interface: a dataplane address, and the\n"
	    "                             address written into SDP when behind NAT;\n"
	    "                             repeatable, the first is the default; required\n"
	    "  --port-min N, --port-max N relay port range (default 30000-39999); RTP on even\n"
	    "                             ports, RTCP on +1\n"
	    "  --port-quarantine-ms N     a released port pair is not reused for N ms (5000)\n"
	    "  --latch-window-ms N        passed to the dataplane (default 0: its own)\n"
	    "Timeouts:\n"
	    "  --media-timeout S          no packet on any stream of a call for S seconds:\n"
	    "                             event media-timeout (default 60, 0 = off)\n"
	    "  --media-timeout-delete     also delete such a call\n"
	    "  --final-timeout S          delete calls older than S seconds (default 0 = off)\n"
	    "  --delete-delay S           default delay of delete (default 0 = at once)\n"
	    "Other:\n"
	    "  --metrics-listen ADDR:PORT Prometheus /metrics (default 127.0.0.1:9810; off)\n"
	    "  --log-level LEVEL          error, warning, info (default), debug\n"
	    "  --config FILE              options from FILE: one \"option value\" per line,\n"
	    "                             '#' comments; later arguments override it\n"
	    "  --help, --version\n",
	    prog, OPTIONS_DEFAULT_REDIS, OPTIONS_ENV_USER, OPTIONS_ENV_PASSWORD,
	    RPA_DP_DEFAULT_SOCKET);
}

static void defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->redis_host, sizeof(o->redis_host), "127.0.0.1");
	o->redis_port = 6379;
	snprintf(o->key_prefix, sizeof(o->key_prefix), "rtpanchor:");
	o->reply_ttl_s = 60;
	o->stored_reply_ttl_s = 60;
	snprintf(o->dp_socket, sizeof(o->dp_socket), "%s", RPA_DP_DEFAULT_SOCKET);
	o->dp_timeout_ms = 1000;
	o->port_min = 30000;
	o->port_max = 39999;
	o->port_quarantine_ms = 5000;
	o->media_timeout_s = 60;
	snprintf(o->metrics_listen, sizeof(o->metrics_listen), "127.0.0.1:9810");
	o->log_level = LOG_LEVEL_INFO;
}

static int parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out,
		     char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		snprintf(err, errlen, "--%s: '%s' is not a number in %u..%u", opt, s, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Names (node, interface): letters, digits, '.', '_', '-'. */
static bool valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static int copy_path(const char *opt, const char *s, char *dst, size_t cap, char *err,
		     size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n >= cap) {
		snprintf(err, errlen, "--%s: '%s' must be 1..%zu bytes", opt, s, cap - 1);
		return -EINVAL;
	}
	memcpy(dst, s, n + 1);
	return 0;
}

/* "HOST:PORT", "HOST" (port 6379), "[V6]:PORT", or "/path". */
static int parse_redis(struct options *o, const char *s, char *err, size_t errlen)
{
	const char *host = s, *colon = NULL;
	size_t hl;
	uint32_t port = 6379;

	if (s[0] == '/') {
		o->redis_unix = true;
		return copy_path("redis", s, o->redis_path, sizeof(o->redis_path), err, errlen);
	}
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			goto bad;
		host = s + 1;
		hl = (size_t)(rb - host);
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			goto bad; /* a bare IPv6 address needs brackets */
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0 || hl >= sizeof(o->redis_host))
		goto bad;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-' &&
		    host[i] != ':' && host[i] != '_')
			goto bad;
	if (colon != NULL && parse_u32("redis", colon + 1, 1, 65535, &port, err, errlen) < 0)
		goto bad;
	memcpy(o->redis_host, host, hl);
	o->redis_host[hl] = '\0';
	o->redis_port = (uint16_t)port;
	o->redis_unix = false;
	return 0;
bad:
	snprintf(err, errlen, "--redis: '%s' is not HOST:PORT, [IPv6]:PORT or a /socket/path", s);
	return -EINVAL;
}

/* "NAME=LOCAL[!ADVERTISED]" */
static int parse_iface(struct options *o, const char *s, char *err, size_t errlen)
{
	char buf[OPTIONS_IFNAME_MAX + 2 * RPA_ADDR_STRLEN + 4];
	struct options_iface *f;
	char *eq, *bang;

	if (o->nifaces >= OPTIONS_MAX_IFACES) {
		snprintf(err, errlen, "--interface: '%s': more than %d interfaces", s,
			 OPTIONS_MAX_IFACES);
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	eq = strchr(buf, '=');
	if (eq == NULL)
		goto bad;
	*eq = '\0';
	bang = strchr(eq + 1, '!');
	if (bang != NULL)
		*bang = '\0';
	if (!valid_name(buf, OPTIONS_IFNAME_MAX)) {
		snprintf(err, errlen,
			 "--interface: '%s': the name must be 1..%d letters, digits, '.', '_' or "
			 "'-'",
			 s, OPTIONS_IFNAME_MAX - 1);
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->nifaces; i++)
		if (strcmp(o->ifaces[i].name, buf) == 0) {
			snprintf(err, errlen, "--interface: '%s': interface %s is given twice", s,
				 buf);
			return -EINVAL;
		}
	f = &o->ifaces[o->nifaces];
	memset(f, 0, sizeof(*f));
	if (rpa_addr_parse(eq + 1, &f->local) < 0) {
		snprintf(err, errlen, "--interface: '%s': '%s' is not an IP address", s, eq + 1);
		return -EINVAL;
	}
	if (f->local.family != RPA_AF_INET) {
		snprintf(err, errlen,
			 "--interface: '%s': IPv6 media addresses are not supported yet", s);
		return -EINVAL;
	}
	if (f->local.v4 == 0) {
		snprintf(err, errlen, "--interface: '%s': the local address cannot be 0.0.0.0", s);
		return -EINVAL;
	}
	f->advertised = f->local;
	if (bang != NULL) {
		if (rpa_addr_parse(bang + 1, &f->advertised) < 0 ||
		    f->advertised.family != RPA_AF_INET || f->advertised.v4 == 0) {
			snprintf(err, errlen,
				 "--interface: '%s': advertised address '%s' is not an IPv4 "
				 "address",
				 s, bang + 1);
			return -EINVAL;
		}
	}
	snprintf(f->name, sizeof(f->name), "%s", buf);
	o->nifaces++;
	return 0;
bad:
	snprintf(err, errlen, "--interface: '%s' is not NAME=LOCAL[!ADVERTISED]", s);
	return -EINVAL;
}

static int parse_file(struct options *o, struct parse_state *ps, const char *path, char *err,
		      size_t errlen);

static int apply(struct options *o, struct parse_state *ps, int opt, const char *arg, bool in_file,
		 char *err, size_t errlen)
{
	uint32_t v = 0;
	int rc;

	switch (opt) {
	case OPT_CONFIG:
		if (in_file) {
			snprintf(err, errlen, "config: 'config' cannot be nested");
			return -EINVAL;
		}
		return parse_file(o, ps, arg, err, errlen);
	case OPT_REDIS:
		return parse_redis(o, arg, err, errlen);
	case OPT_REDIS_DB:
		return parse_u32("redis-db", arg, 0, 1000000, &o->redis_db, err, errlen);
	case OPT_REDIS_PASSWORD_FILE:
		return copy_path("redis-password-file", arg, ps->password_file,
				 sizeof(ps->password_file), err, errlen);
	case OPT_REDIS_PASSWORD:
		snprintf(err, errlen,
			 "--redis-password: a password is never taken from arguments (other "
			 "users can read them); use %s or --redis-password-file",
			 OPTIONS_ENV_PASSWORD);
		return -EINVAL;
	case OPT_KEY_PREFIX:
		if (strlen(arg) >= sizeof(o->key_prefix)) {
			snprintf(err, errlen, "--key-prefix: '%s' is longer than %zu bytes", arg,
				 sizeof(o->key_prefix) - 1);
			return -EINVAL;
		}
		for (const char *p = arg; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
				snprintf(err, errlen,
					 "--key-prefix: '%s' may contain only printable "
					 "characters without spaces",
					 arg);
				return -EINVAL;
			}
		snprintf(o->key_prefix, sizeof(o->key_prefix), "%s", arg);
		return 0;
	case OPT_REPLY_TTL:
		return parse_u32("reply-ttl", arg, 1, 86400, &o->reply_ttl_s, err, errlen);
	case OPT_STORED_REPLY_TTL:
		return parse_u32("stored-reply-ttl", arg, 1, 604800, &o->stored_reply_ttl_s, err,
				 errlen);
	case OPT_NODE:
		if (!valid_name(arg, sizeof(o->node))) {
			snprintf(err, errlen,
				 "--node: '%s' must be 1..%zu letters, digits, '.', '_' or '-'",
				 arg, sizeof(o->node) - 1);
			return -EINVAL;
		}
		snprintf(o->node, sizeof(o->node), "%s", arg);
		return 0;
	case OPT_DP_SOCKET:
		return copy_path("dataplane-socket", arg, o->dp_socket, sizeof(o->dp_socket), err,
				 errlen);
	case OPT_DP_TIMEOUT:
		return parse_u32("dataplane-timeout", arg, 10, 60000, &o->dp_timeout_ms, err,
				 errlen);
	case OPT_INTERFACE:
		return parse_iface(o, arg, err, errlen);
	case OPT_PORT_MIN:
		rc = parse_u32("port-min", arg, 1024, 65534, &v, err, errlen);
		if (rc == 0)
			o->port_min = (uint16_t)v;
		return rc;
	case OPT_PORT_MAX:
		rc = parse_u32("port-max", arg, 1025, 65535, &v, err, errlen);
		if (rc == 0)
			o->port_max = (uint16_t)v;
		return rc;
	case OPT_PORT_QUARANTINE:
		return parse_u32("port-quarantine-ms", arg, 0, 3600000, &o->port_quarantine_ms, err,
				 errlen);
	case OPT_LATCH_WINDOW:
		return parse_u32("latch-window-ms", arg, 0, 86400000, &o->latch_window_ms, err,
				 errlen);
	case OPT_MEDIA_TIMEOUT:
		return parse_u32("media-timeout", arg, 0, 86400, &o->media_timeout_s, err, errlen);
	case OPT_MEDIA_TIMEOUT_DELETE:
		o->media_timeout_delete = true;
		return 0;
	case OPT_FINAL_TIMEOUT:
		return parse_u32("final-timeout", arg, 0, 604800, &o->final_timeout_s, err, errlen);
	case OPT_DELETE_DELAY:
		return parse_u32("delete-delay", arg, 0, 86400, &o->delete_delay_s, err, errlen);
	case OPT_METRICS_LISTEN:
		if (strcmp(arg, "off") == 0) {
			o->metrics_listen[0] = '\0';
			return 0;
		}
		if (strlen(arg) == 0 || strlen(arg) >= sizeof(o->metrics_listen) ||
		    strrchr(arg, ':') == NULL) {
			snprintf(err, errlen, "--metrics-listen: '%s' is not ADDR:PORT or off",
				 arg);
			return -EINVAL;
		}
		snprintf(o->metrics_listen, sizeof(o->metrics_listen), "%s", arg);
		return 0;
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &o->log_level) < 0) {
			snprintf(err, errlen,
				 "--log-level: '%s' is not error, warning, info or debug", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_HELP:
		o->help = true;
		return 0;
	case OPT_VERSION:
		o->version = true;
		return 0;
	}
	snprintf(err, errlen, "internal: option %d not handled", opt);
	return -EINVAL;
}

struct file_ctx {
	struct options *o;
	struct parse_state *ps;
};

static int apply_from_file(void *arg, int val, const char *value, char *err, size_t errlen)
{
	struct file_ctx *x = arg;

	return apply(x->o, x->ps, val, value, true, err, errlen);
}

static int parse_file(struct options *o, struct parse_state *ps, const char *path, char *err,
		      size_t errlen)
{
	static const int refused[] = {OPT_HELP, OPT_VERSION, 0};
	struct file_ctx x = {o, ps};

	return conffile_read(path, longopts, refused, apply_from_file, &x, err, errlen);
}

/* First line of the file, without its line ending. */
static int read_password_file(struct options *o, const char *path, char *err, size_t errlen)
{
	char buf[OPTIONS_SECRET_MAX + 2];
	FILE *f = fopen(path, "r");
	size_t n;
	int rc;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "--redis-password-file: %s: %s", path, strerror(errno));
		return rc;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	if (n == strlen(buf) && n > OPTIONS_SECRET_MAX - 1) {
		snprintf(err, errlen,
			 "--redis-password-file: %s: the password is longer than %d "
			 "bytes",
			 path, OPTIONS_SECRET_MAX - 1);
		return -EINVAL;
	}
	buf[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "--redis-password-file: %s: the first line is empty", path);
		return -EINVAL;
	}
	memcpy(o->redis_password, buf, n + 1);
	memset(buf, 0, sizeof(buf));
	return 0;
}

static int copy_env(const char *name, char *dst, size_t cap, char *err, size_t errlen)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		return 0;
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s is longer than %zu bytes", name, cap - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int finish(struct options *o, struct parse_state *ps, char *err, size_t errlen)
{
	int rc;

	rc = copy_env(OPTIONS_ENV_USER, o->redis_user, sizeof(o->redis_user), err, errlen);
	if (rc == 0)
		rc = copy_env(OPTIONS_ENV_PASSWORD, o->redis_password, sizeof(o->redis_password),
			      err, errlen);
	if (rc == 0 && ps->password_file[0] != '\0')
		rc = read_password_file(o, ps->password_file, err, errlen);
	if (rc < 0)
		return rc;
	if (o->redis_user[0] != '\0' && o->redis_password[0] == '\0') {
		snprintf(err, errlen,
			 "%s is set but no password is given (%s or "
			 "--redis-password-file)",
			 OPTIONS_ENV_USER, OPTIONS_ENV_PASSWORD);
		return -EINVAL;
	}
	if (o->node[0] == '\0') {
		char host[256] = "";

		if (gethostname(host, sizeof(host) - 1) < 0 || !valid_name(host, sizeof(o->node))) {
			snprintf(err, errlen,
				 "--node: the host name '%s' is not a usable node name; give "
				 "--node",
				 host);
			return -EINVAL;
		}
		snprintf(o->node, sizeof(o->node), "%s", host);
	}
	if (o->nifaces == 0) {
		snprintf(err, errlen,
			 "--interface: at least one media interface is required "
			 "(e.g. --interface pub=192.0.2.1)");
		return -EINVAL;
	}
	/* Every pair (even, even+1) must fit: the range needs an even port below its end. */
	if ((uint32_t)((o->port_min + 1u) & ~1u) + 1 > o->port_max) {
		snprintf(err, errlen,
			 "--port-min %u / --port-max %u: the range holds no even/odd port pair",
			 o->port_min, o->port_max);
		return -EINVAL;
	}
	if (o->stored_reply_ttl_s < o->reply_ttl_s) {
		snprintf(err, errlen, "--stored-reply-ttl %u is shorter than --reply-ttl %u",
			 o->stored_reply_ttl_s, o->reply_ttl_s);
		return -EINVAL;
	}
	return 0;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	struct parse_state ps;
	int opt, rc;

	defaults(o);
	memset(&ps, 0, sizeof(ps));
	err[0] = '\0';
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			snprintf(err, errlen, "unknown option or missing value: %s",
				 argv[optind - 1]);
			return -EINVAL;
		}
		rc = apply(o, &ps, opt, optarg, false, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument: %s", argv[optind]);
		return -EINVAL;
	}
	if (o->help || o->version)
		return 0;
	return finish(o, &ps, err, errlen);
}
