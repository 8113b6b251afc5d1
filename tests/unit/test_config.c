/* Unit tests for option and config-file parsing (dataplane/config.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rtpanchor/dp_proto.h>

#include "config.h"

static char err[256];

static int parse(struct dp_config *c, int argc, char **argv)
{
	config_defaults(c);
	err[0] = '\0';
	return config_parse(c, argc, argv, err, sizeof(err));
}

static char *write_file(const char *text)
{
	static char path[] = "/tmp/rpa_test_config_XXXXXX";
	int fd;

	strcpy(path, "/tmp/rpa_test_config_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults_and_options(void **st)
{
	struct dp_config c;
	char *argv[] = {"dp", "--addr", "net_af_packet0=192.0.2.1/24", "--addr", "1=198.51.100.1",
			"--gateway", "1=198.51.100.254", "--socket", "/tmp/x.sock",
			"--max-streams", "4096", "--idle-backoff", "--latch-window-ms", "0"};

	assert_int_equal(parse(&c, 14, argv), 0);
	assert_int_equal(c.naddrs, 2);
	assert_string_equal(c.addrs[0].dev, "net_af_packet0");
	assert_int_equal(c.addrs[0].prefix_len, 24);
	assert_string_equal(c.addrs[1].dev, "1");
	assert_int_equal(c.addrs[1].prefix_len, 32);
	assert_int_equal(c.ngateways, 1);
	assert_string_equal(c.socket_path, "/tmp/x.sock");
	assert_int_equal(c.max_streams, 4096);
	assert_true(c.idle_backoff);
	assert_int_equal(c.latch_window_ms, 0);
	assert_int_equal(c.arp_probes, 3);

	config_defaults(&c);
	assert_int_equal(c.max_streams, 1048576);
	assert_string_equal(c.socket_path, RPA_DP_DEFAULT_SOCKET);
	assert_false(c.idle_backoff);
}

static void test_srtp_options(void **st)
{
	struct dp_config c;
	char *ok[] = {"dp", "--srtp-replay-window", "4096", "--srtp-streams", "0",
		      "--cryptodev", "crypto_aesni_mb_x"};
	char *b1[] = {"dp", "--srtp-replay-window", "63"};
	char *b2[] = {"dp", "--srtp-replay-window", "32769"};
	char *b3[] = {"dp", "--cryptodev", ""};
	char *b4[] = {"dp", "--srtp-streams", "-1"};

	config_defaults(&c);
	assert_int_equal(c.srtp_replay_window, RPA_DP_SRTP_REPLAY_DEFAULT);
	assert_int_equal(c.srtp_streams, 16384);
	assert_string_equal(c.cryptodev, "");
	assert_int_equal(parse(&c, 7, ok), 0);
	assert_int_equal(c.srtp_replay_window, 4096);
	assert_int_equal(c.srtp_streams, 0);
	assert_string_equal(c.cryptodev, "crypto_aesni_mb_x");
	assert_int_equal(parse(&c, 3, b1), -EINVAL);
	assert_non_null(strstr(err, "srtp-replay-window"));
	assert_non_null(strstr(err, "64..32768"));
	assert_int_equal(parse(&c, 3, b2), -EINVAL);
	assert_int_equal(parse(&c, 3, b3), -EINVAL);
	assert_non_null(strstr(err, "--cryptodev"));
	assert_int_equal(parse(&c, 3, b4), -EINVAL);
}

static void test_bad_options(void **st)
{
	struct dp_config c;
	char *a1[] = {"dp", "--max-streams", "0"};
	char *a2[] = {"dp", "--max-streams", "12x"};
	char *a3[] = {"dp", "--addr", "192.0.2.1/24"};
	char *a4[] = {"dp", "--addr", "p0=192.0.2.300/24"};
	char *a5[] = {"dp", "--addr", "p0=2001:db8::1/64"};
	char *a6[] = {"dp", "--frobnicate"};
	char *a7[] = {"dp", "--socket"};
	char *a8[] = {"dp", "stray"};
	char *a9[] = {"dp", "--arp-hold", "65"};
	char *a10[] = {"dp", "--addr", "p0=192.0.2.1/33"};

	assert_int_equal(parse(&c, 3, a1), -EINVAL);
	assert_non_null(strstr(err, "max-streams"));
	assert_int_equal(parse(&c, 3, a2), -EINVAL);
	assert_non_null(strstr(err, "12x"));
	assert_int_equal(parse(&c, 3, a3), -EINVAL);
	assert_non_null(strstr(err, "DEV="));
	assert_int_equal(parse(&c, 3, a4), -EINVAL);
	assert_non_null(strstr(err, "192.0.2.300"));
	assert_int_equal(parse(&c, 3, a5), -EINVAL);
	assert_non_null(strstr(err, "IPv6"));
	assert_int_equal(parse(&c, 2, a6), -EINVAL);
	assert_non_null(strstr(err, "frobnicate"));
	assert_int_equal(parse(&c, 2, a7), -EINVAL);
	assert_int_equal(parse(&c, 2, a8), -EINVAL);
	assert_non_null(strstr(err, "stray"));
	assert_int_equal(parse(&c, 3, a9), -EINVAL);
	assert_int_equal(parse(&c, 3, a10), -EINVAL);
}

static void test_config_file(void **st)
{
	struct dp_config c;
	char *path = write_file("# media addresses\n"
				"addr net_af_packet0=192.0.2.1/24   # leg A\n"
				"addr = net_af_packet1=198.51.100.1/24\r\n"
				"\n"
				"idle-backoff\n"
				"max-streams 2048\n");
	char *argv[] = {"dp", "--config", path, "--max-streams", "100"};

	assert_int_equal(parse(&c, 5, argv), 0);
	assert_int_equal(c.naddrs, 2);
	assert_string_equal(c.addrs[1].dev, "net_af_packet1");
	assert_true(c.idle_backoff);
	assert_int_equal(c.max_streams, 100); /* later argument wins */
	unlink(path);
}

static void test_config_file_errors(void **st)
{
	struct dp_config c;
	char *path;
	char *argv[] = {"dp", "--config", NULL};

	path = write_file("max-streams 10\nbogus 1\n");
	argv[2] = path;
	assert_int_equal(parse(&c, 3, argv), -EINVAL);
	assert_non_null(strstr(err, ":2"));
	assert_non_null(strstr(err, "bogus"));
	unlink(path);

	path = write_file("idle-backoff yes\n");
	argv[2] = path;
	assert_int_equal(parse(&c, 3, argv), -EINVAL);
	assert_non_null(strstr(err, "takes no value"));
	unlink(path);

	path = write_file("socket\n");
	argv[2] = path;
	assert_int_equal(parse(&c, 3, argv), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	unlink(path);

	path = write_file("config /etc/other\n");
	argv[2] = path;
	assert_int_equal(parse(&c, 3, argv), -EINVAL);
	assert_non_null(strstr(err, "nested"));
	unlink(path);

	argv[2] = "/nonexistent/rtpanchor.conf";
	assert_true(parse(&c, 3, argv) < 0);
	assert_non_null(strstr(err, "/nonexistent/rtpanchor.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_options),
		cmocka_unit_test(test_srtp_options),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_config_file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
