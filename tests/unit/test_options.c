/* Unit tests for control/options.c: defaults, every option's parsing, bad values naming
 * the option, the config file, and secrets only from the environment or a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "options.h"

#define MAXARGS 64

static int parse(struct options *o, char *err, size_t errlen, ...)
{
	char *argv[MAXARGS];
	int argc = 0;
	va_list ap;
	char *a;

	argv[argc++] = "rtpanchor-control";
	va_start(ap, errlen);
	while ((a = va_arg(ap, char *)) != NULL && argc < MAXARGS - 1)
		argv[argc++] = a;
	va_end(ap);
	assert_null(a); /* every argument fitted */
	argv[argc] = NULL;
	return options_parse(o, argc, argv, err, errlen);
}

static int setup(void **state)
{
	unsetenv(OPTIONS_ENV_USER);
	unsetenv(OPTIONS_ENV_PASSWORD);
	return 0;
}

static void test_defaults(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(
	    parse(&o, err, sizeof(err), "--interface", "pub=192.0.2.1", "--node", "n1", NULL), 0);
	assert_false(o.redis_unix);
	assert_string_equal(o.redis_host, "127.0.0.1");
	assert_int_equal(o.redis_port, 6379);
	assert_int_equal(o.redis_db, 0);
	assert_string_equal(o.redis_password, "");
	assert_string_equal(o.key_prefix, "rtpanchor:");
	assert_int_equal(o.reply_ttl_s, 60);
	assert_int_equal(o.stored_reply_ttl_s, 60); /* not below --reply-ttl */
	assert_int_equal(o.port_min, 30000);
	assert_int_equal(o.port_max, 39999);
	assert_int_equal(o.media_timeout_s, 60);
	assert_false(o.media_timeout_delete);
	assert_int_equal(o.final_timeout_s, 0);
	assert_int_equal(o.delete_delay_s, 0);
	assert_string_equal(o.metrics_listen, "127.0.0.1:9810");
	assert_string_equal(o.dp_socket, "/run/rtpanchor/dataplane.sock");
	assert_int_equal(o.log_level, LOG_LEVEL_INFO);
	assert_string_equal(o.node, "n1");
	assert_int_equal(o.nifaces, 1);
	assert_string_equal(o.ifaces[0].name, "pub");
	assert_int_equal(o.ifaces[0].local.v4, htonl(0xc0000201));
	assert_int_equal(o.ifaces[0].advertised.v4, htonl(0xc0000201));
}

static void test_default_node_is_hostname(void **state)
{
	struct options o;
	char err[256], host[256] = "";

	gethostname(host, sizeof(host) - 1);
	if (parse(&o, err, sizeof(err), "--interface", "pub=192.0.2.1", NULL) == 0)
		assert_string_equal(o.node, host);
	else
		assert_non_null(strstr(err, "--node")); /* a host name we cannot use */
}

static void test_all_options(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(
	    parse(&o, err, sizeof(err), "--redis", "[::1]:7000", "--redis-db", "3", "--key-prefix",
		  "rpa{1}:", "--reply-ttl", "5", "--stored-reply-ttl", "50", "--node",
		  "relay-1.example", "--dataplane-socket", "/tmp/dp.sock", "--dataplane-timeout",
		  "250", "--interface", "pub=192.0.2.1!203.0.113.7", "--interface", "priv=10.0.0.1",
		  "--port-min", "40000", "--port-max", "40009", "--port-quarantine-ms", "0",
		  "--latch-window-ms", "500", "--media-timeout", "0", "--media-timeout-delete",
		  "--final-timeout", "7200", "--delete-delay", "30", "--metrics-listen", "off",
		  "--log-level", "debug", NULL),
	    0);
	assert_string_equal(o.redis_host, "::1");
	assert_int_equal(o.redis_port, 7000);
	assert_int_equal(o.redis_db, 3);
	assert_string_equal(o.key_prefix, "rpa{1}:");
	assert_int_equal(o.reply_ttl_s, 5);
	assert_int_equal(o.stored_reply_ttl_s, 50);
	assert_string_equal(o.node, "relay-1.example");
	assert_string_equal(o.dp_socket, "/tmp/dp.sock");
	assert_int_equal(o.dp_timeout_ms, 250);
	assert_int_equal(o.nifaces, 2);
	assert_string_equal(o.ifaces[0].name, "pub");
	assert_int_equal(o.ifaces[0].advertised.v4, htonl(0xcb007107));
	assert_string_equal(o.ifaces[1].name, "priv");
	assert_int_equal(o.ifaces[1].local.v4, htonl(0x0a000001));
	assert_int_equal(o.port_min, 40000);
	assert_int_equal(o.port_max, 40009);
	assert_int_equal(o.port_quarantine_ms, 0);
	assert_int_equal(o.latch_window_ms, 500);
	assert_int_equal(o.media_timeout_s, 0);
	assert_true(o.media_timeout_delete);
	assert_int_equal(o.final_timeout_s, 7200);
	assert_int_equal(o.delete_delay_s, 30);
	assert_string_equal(o.metrics_listen, "");
	assert_int_equal(o.log_level, LOG_LEVEL_DEBUG);

	assert_int_equal(parse(&o, err, sizeof(err), "--redis", "/run/redis/redis.sock",
			       "--interface", "a=192.0.2.1", "--node", "n", NULL),
			 0);
	assert_true(o.redis_unix);
	assert_string_equal(o.redis_path, "/run/redis/redis.sock");
	assert_int_equal(parse(&o, err, sizeof(err), "--redis", "redis.example", "--interface",
			       "a=192.0.2.1", "--node", "n", NULL),
			 0);
	assert_string_equal(o.redis_host, "redis.example");
	assert_int_equal(o.redis_port, 6379);
}

/* Each bad value fails with a message naming the option and the value. */
static void test_bad_values(void **state)
{
	static const char *const bad[][3] = {
	    {"--redis", "host:0", "--redis"},
	    {"--redis", "host:99999", "--redis"},
	    {"--redis", "::1", "--redis"},
	    {"--redis", "[::1", "--redis"},
	    {"--redis-db", "-1", "--redis-db"},
	    {"--redis-db", "x", "--redis-db"},
	    {"--reply-ttl", "0", "--reply-ttl"},
	    {"--node", "bad node", "--node"},
	    {"--node", "", "--node"},
	    {"--interface", "pub", "--interface"},
	    {"--interface", "pub=", "--interface"},
	    {"--interface", "pub=300.1.1.1", "--interface"},
	    {"--interface", "=192.0.2.1", "--interface"},
	    {"--interface", "p b=192.0.2.1", "--interface"},
	    {"--interface", "pub=2001:db8::1", "--interface"},
	    {"--interface", "pub=0.0.0.0", "--interface"},
	    {"--interface", "pub=192.0.2.1!junk", "--interface"},
	    {"--port-min", "80", "--port-min"},
	    {"--port-max", "70000", "--port-max"},
	    {"--port-quarantine-ms", "1e3", "--port-quarantine-ms"},
	    {"--media-timeout", "-5", "--media-timeout"},
	    {"--final-timeout", "99999999", "--final-timeout"},
	    {"--delete-delay", "1.5", "--delete-delay"},
	    {"--metrics-listen", "nowhere", "--metrics-listen"},
	    {"--log-level", "loud", "--log-level"},
	    {"--key-prefix", "a b", "--key-prefix"},
	    {"--dataplane-timeout", "0", "--dataplane-timeout"},
	};
	struct options o;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(&o, err, sizeof(err), "--interface", "x=192.0.2.9", "--node",
				       "n", bad[i][0], bad[i][1], NULL),
				 -EINVAL);
		if (strstr(err, bad[i][2]) == NULL || strstr(err, bad[i][1]) == NULL)
			fail_msg("%s %s: message '%s' does not name the option and value",
				 bad[i][0], bad[i][1], err);
	}
	assert_int_equal(parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--interface",
			       "a=192.0.2.2", "--node", "n", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(parse(&o, err, sizeof(err), "--node", "n", NULL), -EINVAL);
	assert_non_null(strstr(err, "--interface"));
	assert_int_equal(parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n",
			       "--port-min", "40001", "--port-max", "40002", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "40001"));
	assert_int_equal(parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n",
			       "--bogus", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n", "stray", NULL),
	    -EINVAL);
	assert_non_null(strstr(err, "stray"));
}

static void test_password_never_from_argv(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n",
			       "--redis-password", "hunter2", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "--redis-password"));
	assert_null(strstr(err, "hunter2"));
	assert_non_null(strstr(err, OPTIONS_ENV_PASSWORD));
}

static void test_secrets_from_env_and_file(void **state)
{
	char path[] = "/tmp/rpa-test-pw-XXXXXX", err[256];
	struct options o;
	int fd;

	setenv(OPTIONS_ENV_USER, "relay", 1);
	setenv(OPTIONS_ENV_PASSWORD, "from-env", 1);
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n", NULL), 0);
	assert_string_equal(o.redis_user, "relay");
	assert_string_equal(o.redis_password, "from-env");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "from-file\nsecond line\n", 22), 22);
	close(fd);
	assert_int_equal(parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n",
			       "--redis-password-file", path, NULL),
			 0);
	assert_string_equal(o.redis_password, "from-file");

	unsetenv(OPTIONS_ENV_PASSWORD);
	unlink(path);
	assert_int_equal(parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n",
			       "--redis-password-file", path, NULL),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	/* A user without a password is a configuration mistake. */
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--interface", "a=192.0.2.1", "--node", "n", NULL),
	    -EINVAL);
	assert_non_null(strstr(err, OPTIONS_ENV_USER));
	unsetenv(OPTIONS_ENV_USER);
}

static void test_config_file(void **state)
{
	char path[] = "/tmp/rpa-test-cfg-XXXXXX", err[256];
	static const char cfg[] = "# control config\n"
				  "redis 127.0.0.1:6390\n"
				  "node = cfgnode   \n"
				  "interface pub=192.0.2.1\n"
				  "--interface priv=10.0.0.1!198.51.100.5\n"
				  "media-timeout-delete\n"
				  "reply-ttl 30 # seconds\n"
				  "\n";
	struct options o;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(cfg, f);
	fclose(f);
	/* Arguments after --config override it. */
	assert_int_equal(parse(&o, err, sizeof(err), "--config", path, "--reply-ttl", "9", NULL),
			 0);
	assert_int_equal(o.redis_port, 6390);
	assert_string_equal(o.node, "cfgnode");
	assert_int_equal(o.nifaces, 2);
	assert_int_equal(o.ifaces[1].advertised.v4, htonl(0xc6336405));
	assert_true(o.media_timeout_delete);
	assert_int_equal(o.reply_ttl_s, 9);

	f = fopen(path, "w");
	fputs("node n\ninterface a=192.0.2.1\nport-max 12\n", f);
	fclose(f);
	assert_int_equal(parse(&o, err, sizeof(err), "--config", path, NULL), -EINVAL);
	assert_non_null(strstr(err, "--port-max"));
	assert_non_null(strstr(err, ":3")); /* the line */

	f = fopen(path, "w");
	fputs("unknown-thing 1\n", f);
	fclose(f);
	assert_int_equal(parse(&o, err, sizeof(err), "--config", path, NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown-thing"));

	f = fopen(path, "w");
	fputs("media-timeout-delete yes\n", f);
	fclose(f);
	assert_int_equal(parse(&o, err, sizeof(err), "--config", path, NULL), -EINVAL);
	assert_non_null(strstr(err, "takes no value"));

	f = fopen(path, "w");
	fputs("redis-password secret\n", f);
	fclose(f);
	assert_int_equal(parse(&o, err, sizeof(err), "--config", path, NULL), -EINVAL);
	assert_null(strstr(err, "secret"));
	unlink(path);

	assert_int_equal(parse(&o, err, sizeof(err), "--config", path, NULL), -ENOENT);
	assert_non_null(strstr(err, path));
}

static void test_help_version(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL), 0);
	assert_true(o.help);
	assert_int_equal(parse(&o, err, sizeof(err), "--version", NULL), 0);
	assert_true(o.version);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, setup),
	    cmocka_unit_test_setup(test_default_node_is_hostname, setup),
	    cmocka_unit_test_setup(test_all_options, setup),
	    cmocka_unit_test_setup(test_bad_values, setup),
	    cmocka_unit_test_setup(test_password_never_from_argv, setup),
	    cmocka_unit_test_setup(test_secrets_from_env_and_file, setup),
	    cmocka_unit_test_setup(test_config_file, setup),
	    cmocka_unit_test_setup(test_help_version, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
