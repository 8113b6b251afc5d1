/* Options of rtpanchor-control: command line, --config file and environment, parsed once
 * at start into one struct that is read-only afterwards (main thread; other threads may
 * read it). */
#ifndef RTPANCHOR_CONTROL_OPTIONS_H
#define RTPANCHOR_CONTROL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rtpanchor/addr.h>

#include "log.h"

#define OPTIONS_MAX_IFACES    8
#define OPTIONS_IFNAME_MAX    32
#define OPTIONS_NODE_MAX      64
#define OPTIONS_PREFIX_MAX    64
#define OPTIONS_SECRET_MAX    512
#define OPTIONS_PATH_MAX      108 /* sun_path */
#define OPTIONS_DEFAULT_REDIS "127.0.0.1:6379"
#define OPTIONS_ENV_USER      "RTPANCHOR_REDIS_USER"
#define OPTIONS_ENV_PASSWORD  "RTPANCHOR_REDIS_PASSWORD"

struct options_iface {
	char name[OPTIONS_IFNAME_MAX];
	struct rpa_addr local;	    /* a media address of the dataplane */
	struct rpa_addr advertised; /* written into SDP (= local unless given after '!') */
};

struct options {
	/* Redis: TCP host:port, or a Unix socket path. */
	bool redis_unix;
	char redis_host[256];
	uint16_t redis_port;
	char redis_path[OPTIONS_PATH_MAX];
	uint32_t redis_db;
	char redis_user[OPTIONS_SECRET_MAX];	 /* "" = default user */
	char redis_password[OPTIONS_SECRET_MAX]; /* "" = no AUTH */
	char key_prefix[OPTIONS_PREFIX_MAX];
	uint32_t reply_ttl_s;	     /* EXPIRE on a reply list */
	uint32_t stored_reply_ttl_s; /* lifetime of <prefix>reply:<entry-id> */

	char node[OPTIONS_NODE_MAX];
	char dp_socket[OPTIONS_PATH_MAX];
	uint32_t dp_timeout_ms;

	struct options_iface ifaces[OPTIONS_MAX_IFACES];
	unsigned nifaces;
	uint16_t port_min, port_max;
	uint32_t port_quarantine_ms;
	uint32_t latch_window_ms; /* 0 = the dataplane's default */

	uint32_t media_timeout_s; /* 0 = off */
	bool media_timeout_delete;
	uint32_t final_timeout_s; /* 0 = off */
	uint32_t delete_delay_s;

	char metrics_listen[128]; /* "" = off */
	enum log_level log_level;

	bool help, version;
};

/* Defaults, then argv (with --config FILE read where it appears), then the environment
 * (RTPANCHOR_REDIS_USER, RTPANCHOR_REDIS_PASSWORD) and --redis-password-file, then the
 * checks that need every option (at least one --interface, port range). Returns 0, or
 * -EINVAL (or the errno of an unreadable file) with a message naming the option and the
 * value in err. With help/version set the caller prints and exits. */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);
void options_usage(FILE *f, const char *prog);

#endif
