/* Unit tests for the CLI's Redis commands without I/O: tools/cmd_call.c argument parsing
 * and reply rendering, tools/ctlreq.c request building, endpoint parsing and reply keys,
 * and the --timeout syntax of tools/cli.c. */
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

#include "cli.h"
#include "cmd_call.h"
#include "ctlreq.h"

static void clear_env(void)
{
	unsetenv("RTPANCHOR_REDIS");
	unsetenv("RTPANCHOR_REDIS_DB");
	unsetenv("RTPANCHOR_KEY_PREFIX");
}

/* Parse a NULL-terminated word list as the words after "rtpanchor". */
static int parse(struct cli_globals *g, struct cmd_call_args *a, char **help, ...)
{
	char *argv[32];
	size_t hlen = 0;
	FILE *out;
	va_list ap;
	int argc = 0, rc;

	va_start(ap, help);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	out = open_memstream(help, &hlen);
	assert_non_null(out);
	rc = cmd_call_parse(argc, argv, g, a, out);
	fclose(out);
	return rc;
}

static struct cli_globals globals(void)
{
	struct cli_globals g = {.timeout_ms = CLI_DEFAULT_TIMEOUT_MS};

	return g;
}

static void test_parse_offer(void **state)
{
	struct cli_globals g = globals();
	struct cmd_call_args a;
	char *help;

	clear_env();
	assert_int_equal(parse(&g, &a, &help, "offer", "--call-id", "c1@host", "--from-tag", "f1",
			       "--sdp", "-", "--flags", "trust-address strict-source", "--json",
			       NULL),
			 0);
	free(help);
	assert_string_equal(a.word, "offer");
	assert_string_equal(a.op, "offer");
	assert_string_equal(a.call_id, "c1@host");
	assert_string_equal(a.from_tag, "f1");
	assert_null(a.to_tag);
	assert_string_equal(a.sdp_path, "-");
	assert_string_equal(a.flags, "trust-address strict-source");
	assert_true(g.json); /* a global option after the command word */
	/* Defaults: local Redis, the standard prefix. */
	assert_false(a.redis.is_unix);
	assert_string_equal(a.redis.host, "127.0.0.1");
	assert_int_equal(a.redis.port, 6379);
	assert_int_equal(a.redis.db, 0);
	assert_string_equal(a.prefix, "rtpanchor:");

	/* --name=value works too. */
	g = globals();
	assert_int_equal(parse(&g, &a, &help, "answer", "--call-id=c", "--from-tag=f", "--to-tag=t",
			       "--sdp=x.sdp", NULL),
			 0);
	free(help);
	assert_string_equal(a.to_tag, "t");
	assert_string_equal(a.sdp_path, "x.sdp");
	assert_null(a.flags);
}

static void test_parse_errors(void **state)
{
	struct cli_globals g = globals();
	struct cmd_call_args a;
	char *help;

	clear_env();
	/* Missing required options. */
	assert_int_equal(parse(&g, &a, &help, "offer", "--call-id", "c", "--from-tag", "f", NULL),
			 CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(
	    parse(&g, &a, &help, "answer", "--call-id", "c", "--from-tag", "f", "--sdp", "x", NULL),
	    CLI_EXIT_USAGE); /* no --to-tag */
	free(help);
	assert_int_equal(parse(&g, &a, &help, "delete", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "delete", "--call-id", "c", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "query", "--from-tag", "f", NULL), CLI_EXIT_USAGE);
	free(help);
	/* Options a command does not take, unknown ones, stray words, empty values, twice. */
	assert_int_equal(parse(&g, &a, &help, "list", "--call-id", "c", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "query", "--call-id", "c", "--sdp", "x", NULL),
			 CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "ping", "--bogus", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "ping", "extra", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "delete", "--call-id", "", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "delete", "--call-id", "a", "--call-id", "b", NULL),
			 CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "delete", "--call-id", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "ping", "--timeout", "0", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "ping", "--redis", "::1:6379", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "ping", "--redis-db", "-1", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_int_equal(parse(&g, &a, &help, "bogus", NULL), CLI_EXIT_USAGE);
	free(help);
	assert_false(cmd_call_is_command("bogus"));
	assert_true(cmd_call_is_command("stats"));
}

static void test_parse_help(void **state)
{
	static const char *const words[] = {"offer", "answer", "delete", "query",
					    "list",  "stats",  "ping"};
	struct cli_globals g = globals();
	struct cmd_call_args a;
	char *help, want[64];
	unsigned i;

	clear_env();
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		/* --help wins even when required options are missing. */
		assert_int_equal(parse(&g, &a, &help, words[i], "--help", NULL), -1);
		snprintf(want, sizeof(want), "Usage: rtpanchor [GLOBAL OPTIONS] %s", words[i]);
		assert_non_null(strstr(help, want));
		assert_non_null(strstr(help, "--redis HOST:PORT|PATH"));
		assert_non_null(strstr(help, "Exit status"));
		free(help);
	}
	assert_int_equal(parse(&g, &a, &help, "offer", "-h", NULL), -1);
	assert_non_null(strstr(help, "--sdp FILE"));
	assert_non_null(strstr(help, "(required)"));
	free(help);
}

static void test_parse_stats_op(void **state)
{
	struct cli_globals g = globals();
	struct cmd_call_args a;
	char *help;

	clear_env();
	assert_int_equal(parse(&g, &a, &help, "stats", NULL), 0);
	free(help);
	assert_string_equal(a.op, "statistics");
	assert_int_equal(parse(&g, &a, &help, "ping", NULL), 0);
	free(help);
	assert_string_equal(a.op, "ping");
	assert_null(a.call_id);
	assert_null(a.sdp_path);
}

static void test_parse_redis(void **state)
{
	struct cli_globals g = globals();
	struct cmd_call_args a;
	char *help;

	clear_env();
	g.redis = "[::1]:6380";
	g.key_prefix = "rpa-test:";
	assert_int_equal(parse(&g, &a, &help, "list", NULL), 0);
	free(help);
	assert_string_equal(a.redis.host, "::1");
	assert_int_equal(a.redis.port, 6380);
	assert_string_equal(a.prefix, "rpa-test:");

	/* The environment when no option is given; the option when both are. */
	g = globals();
	setenv("RTPANCHOR_REDIS", "/run/redis/redis.sock", 1);
	setenv("RTPANCHOR_REDIS_DB", "3", 1);
	setenv("RTPANCHOR_KEY_PREFIX", "env:", 1);
	assert_int_equal(parse(&g, &a, &help, "list", NULL), 0);
	free(help);
	assert_true(a.redis.is_unix);
	assert_string_equal(a.redis.host, "/run/redis/redis.sock");
	assert_int_equal(a.redis.db, 3);
	assert_string_equal(a.prefix, "env:");
	assert_int_equal(parse(&g, &a, &help, "list", "--redis", "10.0.0.5", "--redis-db", "7",
			       "--key-prefix", "opt:", NULL),
			 0);
	free(help);
	assert_false(a.redis.is_unix);
	assert_string_equal(a.redis.host, "10.0.0.5");
	assert_int_equal(a.redis.port, 6379);
	assert_int_equal(a.redis.db, 7);
	assert_string_equal(a.prefix, "opt:");

	g = globals();
	setenv("RTPANCHOR_REDIS", "a:b:c", 1);
	assert_int_equal(parse(&g, &a, &help, "list", NULL), CLI_EXIT_USAGE);
	free(help);
	setenv("RTPANCHOR_REDIS", "127.0.0.1:1", 1);
	setenv("RTPANCHOR_REDIS_DB", "x", 1);
	assert_int_equal(parse(&g, &a, &help, "list", NULL), CLI_EXIT_USAGE);
	free(help);
	clear_env();
}

static void test_endpoint_parse(void **state)
{
	static const char *const bad[] = {"",	   ":6379", "host:", "host:0", "host:65536",
					  "h:1x",  "::1",   "[::1",  "[::1]x", "[]:1",
					  "a b:1", "h:-1",  "h:+1"};
	struct ctlreq_endpoint ep;
	char buf[300];
	unsigned i;

	assert_int_equal(ctlreq_endpoint_parse("redis.example.net:16379", &ep), 0);
	assert_string_equal(ep.host, "redis.example.net");
	assert_int_equal(ep.port, 16379);
	assert_string_equal(ctlreq_endpoint_format(&ep, buf, sizeof(buf)),
			    "redis.example.net:16379");
	assert_int_equal(ctlreq_endpoint_parse("[2001:db8::7]", &ep), 0);
	assert_string_equal(ep.host, "2001:db8::7");
	assert_int_equal(ep.port, 6379);
	assert_string_equal(ctlreq_endpoint_format(&ep, buf, sizeof(buf)), "[2001:db8::7]:6379");
	assert_int_equal(ctlreq_endpoint_parse("/tmp/r.sock", &ep), 0);
	assert_true(ep.is_unix);
	assert_string_equal(ctlreq_endpoint_format(&ep, buf, sizeof(buf)), "/tmp/r.sock");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ctlreq_endpoint_parse(bad[i], &ep) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(ctlreq_endpoint_parse(buf, &ep), -EINVAL);
}

static void test_timeout_syntax(void **state)
{
	int ms = -1;

	assert_int_equal(cli_parse_ms("250", 3600000, &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(cli_parse_ms("250ms", 3600000, &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(cli_parse_ms("5s", 3600000, &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(cli_parse_ms("3600s", 3600000, &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(cli_parse_ms("3601s", 3600000, &ms), -ERANGE);
	assert_int_equal(cli_parse_ms("0", 3600000, &ms), -ERANGE);
	assert_int_equal(cli_parse_ms("0s", 3600000, &ms), -ERANGE);
	assert_int_equal(cli_parse_ms("1.5s", 3600000, &ms), -EINVAL);
	assert_int_equal(cli_parse_ms("s", 3600000, &ms), -EINVAL);
	assert_int_equal(cli_parse_ms("ms", 3600000, &ms), -EINVAL);
	assert_int_equal(cli_parse_ms("5m", 3600000, &ms), -EINVAL);
	assert_int_equal(cli_parse_ms("-5", 3600000, &ms), -EINVAL);
	assert_int_equal(cli_parse_ms("0x10", 3600000, &ms), -EINVAL);
	assert_int_equal(cli_parse_ms("99999999999999999999999s", 3600000, &ms), -ERANGE);
	assert_int_equal(cli_parse_ms("999999999999999999999999999s", 3600000, &ms), -EINVAL);
}

static void test_request_argv(void **state)
{
	static const char sdp[] = "v=0\r\nx=\0binary\r\n"; /* a NUL inside travels too */
	struct ctlreq r = {.op = "offer",
			   .call_id = "c1",
			   .from_tag = "f1",
			   .to_tag = "t1",
			   .sdp = sdp,
			   .sdp_len = sizeof(sdp) - 1,
			   .flags = "trust-address"};
	static const char *const want[] = {"XADD",
					   "pfx:commands",
					   "*",
					   "op",
					   "offer",
					   "call-id",
					   "c1",
					   "from-tag",
					   "f1",
					   "to-tag",
					   "t1",
					   "sdp",
					   NULL,
					   "flags",
					   "trust-address",
					   "reply-to",
					   "pfx:reply-cli:h:1:0"};
	const char *argv[CTLREQ_ARGV_MAX];
	size_t lens[CTLREQ_ARGV_MAX];
	char stream[CTLREQ_KEY_MAX], longp[CTLREQ_PREFIX_MAX + 2];
	int n, i;

	n = ctlreq_argv(&r, "pfx:", "pfx:reply-cli:h:1:0", stream, argv, lens);
	assert_int_equal(n, 17);
	assert_int_equal(n, CTLREQ_ARGV_MAX);
	for (i = 0; i < n; i++) {
		if (want[i] == NULL) {
			assert_int_equal(lens[i], sizeof(sdp) - 1);
			assert_memory_equal(argv[i], sdp, sizeof(sdp) - 1);
			continue;
		}
		assert_int_equal(lens[i], strlen(want[i]));
		assert_memory_equal(argv[i], want[i], lens[i]);
	}

	/* Only what is given is sent. */
	r = (struct ctlreq){.op = "list"};
	n = ctlreq_argv(&r, "rtpanchor:", "k", stream, argv, lens);
	assert_int_equal(n, 7);
	assert_string_equal(argv[1], "rtpanchor:commands");
	assert_string_equal(argv[3], "op");
	assert_string_equal(argv[4], "list");
	assert_string_equal(argv[5], "reply-to");
	assert_string_equal(argv[6], "k");

	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(ctlreq_argv(&r, longp, "k", stream, argv, lens), -ENAMETOOLONG);
}

static void test_reply_key(void **state)
{
	char a[CTLREQ_KEY_MAX], b[CTLREQ_KEY_MAX], pid[32], small[20];

	assert_int_equal(ctlreq_reply_key("rtpanchor:", "cli", a, sizeof(a)), 0);
	assert_int_equal(ctlreq_reply_key("rtpanchor:", "cli", b, sizeof(b)), 0);
	assert_int_equal(strncmp(a, "rtpanchor:reply-cli:", 20), 0);
	snprintf(pid, sizeof(pid), ":%ld:", (long)getpid());
	assert_non_null(strstr(a, pid));
	assert_string_not_equal(a, b); /* random part */
	assert_int_equal(strlen(strrchr(a, ':') + 1), 16);
	assert_int_equal(ctlreq_reply_key("rtpanchor:", "cli", small, sizeof(small)),
			 -ENAMETOOLONG);
}

/* Render a reply; out/err captured. */
struct rendered {
	int rc;
	char *out, *err;
};

static struct rendered render(const char *word, const char *reply, size_t len, bool json)
{
	struct rendered r;
	size_t ol = 0, el = 0;
	FILE *o = open_memstream(&r.out, &ol), *e = open_memstream(&r.err, &el);

	assert_non_null(o);
	assert_non_null(e);
	r.rc = cmd_call_render(word, reply, len, json, o, e);
	fclose(o);
	fclose(e);
	return r;
}

static void rendered_free(struct rendered *r)
{
	free(r->out);
	free(r->err);
}

#define RENDER(word, reply, json) render((word), (reply), strlen(reply), (json))

static void test_render_sdp(void **state)
{
	struct rendered r;

	r = RENDER("offer",
		   "{\"result\":\"ok\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 203.0.113.1\\r\\n\"}",
		   false);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "v=0\r\no=- 1 2 IN IP4 203.0.113.1\r\n");
	assert_string_equal(r.err, "");
	rendered_free(&r);

	r = RENDER("answer",
		   "{\"result\":\"ok\",\"sdp\":\"v=0\\r\\n\",\"warning\":\"dataplane down\"}",
		   false);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "v=0\r\n");
	assert_string_equal(r.err, "rtpanchor: answer: warning: dataplane down\n");
	rendered_free(&r);

	/* An ok offer without SDP is a broken reply. */
	r = RENDER("offer", "{\"result\":\"ok\"}", false);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "no SDP"));
	rendered_free(&r);

	/* --json: the object itself, on one line, fields in their order. */
	r = RENDER("offer", "{ \"result\": \"ok\",\n \"sdp\": \"v=0\\r\\n\", \"x\": [1, 2] }",
		   true);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "{\"result\":\"ok\",\"sdp\":\"v=0\\r\\n\",\"x\":[1,2]}\n");
	rendered_free(&r);
}

static void test_render_errors(void **state)
{
	static const char bad_nul[] = "{\"result\":\"ok\"}\0junk";
	struct rendered r;

	r = RENDER("offer", "{\"result\":\"error\",\"error-reason\":\"unknown flag 'bogus'\"}",
		   false);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "rtpanchor: offer failed: unknown flag 'bogus'\n");
	rendered_free(&r);

	r = RENDER("delete", "{\"result\":\"error\",\"error-reason\":\"no call 'x'\"}", true);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "{\"result\":\"error\",\"error-reason\":\"no call 'x'\"}\n");
	assert_string_equal(r.err, "rtpanchor: delete failed: no call 'x'\n");
	rendered_free(&r);

	r = RENDER("query", "{\"result\":\"error\"}", false);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "no error-reason"));
	rendered_free(&r);

	/* Not JSON, not an object, no result, an unknown result, duplicate keys, a NUL. */
	r = RENDER("list", "{\"result\":", false);
	assert_int_equal(r.rc, 1);
	assert_non_null(
	    strstr(r.err, "rtpanchor: list: the reply from rtpanchor-control is not JSON"));
	rendered_free(&r);
	r = RENDER("list", "not json", true);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "{\"result\":\"error\",\"error-reason\":\"the reply from"));
	assert_string_equal(r.out + strlen(r.out) - 2, "}\n");
	rendered_free(&r);
	r = RENDER("list", "[\"result\",\"ok\"]", false);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "not an object"));
	rendered_free(&r);
	r = RENDER("list", "{\"calls\":[]}", false);
	assert_int_equal(r.rc, 1);
	rendered_free(&r);
	r = RENDER("list", "{\"result\":7}", false);
	assert_int_equal(r.rc, 1);
	rendered_free(&r);
	r = RENDER("list", "{\"result\":\"maybe\"}", false);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "unexpected result 'maybe'"));
	rendered_free(&r);
	r = RENDER("list", "{\"result\":\"ok\",\"result\":\"error\"}", false);
	assert_int_equal(r.rc, 1);
	rendered_free(&r);
	r = render("list", bad_nul, sizeof(bad_nul) - 1, false);
	assert_int_equal(r.rc, 1);
	rendered_free(&r);
	/* Terminal escapes from Redis are defused. */
	r = RENDER("offer", "{\"result\":\"error\",\"error-reason\":\"a\\u001b[2Jb\\nc\"}", false);
	assert_string_equal(r.err, "rtpanchor: offer failed: a?[2Jb?c\n");
	rendered_free(&r);
}

static void test_render_fields(void **state)
{
	struct rendered r;

	r = RENDER("ping", "{\"result\":\"pong\"}", false);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "pong\n");
	rendered_free(&r);
	r = RENDER("delete", "{\"result\":\"ok\"}", false);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "ok\n");
	rendered_free(&r);

	r = RENDER("query",
		   "{\"result\":\"ok\",\"call-id\":\"c1\",\"created\":1.5,\"active\":true,"
		   "\"deleted\":false,\"peer\":null,\"tags\":[],\"extra\":{},"
		   "\"streams\":[{\"local\":\"192.0.2.1:30000\",\"packets\":10,"
		   "\"flags\":[\"latch\",\"strict\"]},{\"local\":\"198.51.100.1:30002\","
		   "\"packets\":0}],\"ids\":[\"a\",[1,2]],"
		   "\"sdp\":\"v=0\\r\\nc=IN IP4 x\\r\\n\",\"warning\":\"w\"}",
		   false);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "call-id: c1\n"
				   "created: 1.5\n"
				   "active: yes\n"
				   "deleted: no\n"
				   "peer: -\n"
				   "tags: []\n"
				   "extra: {}\n"
				   "streams:\n"
				   "  - local: 192.0.2.1:30000\n"
				   "    packets: 10\n"
				   "    flags:\n"
				   "      - latch\n"
				   "      - strict\n"
				   "  - local: 198.51.100.1:30002\n"
				   "    packets: 0\n"
				   "ids:\n"
				   "  - a\n"
				   "  -\n"
				   "    - 1\n"
				   "    - 2\n"
				   "sdp: |\n"
				   "  v=0\n"
				   "  c=IN IP4 x\n");
	assert_string_equal(r.err, "rtpanchor: query: warning: w\n");
	rendered_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_offer),	   cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_help),	   cmocka_unit_test(test_parse_stats_op),
	    cmocka_unit_test(test_parse_redis),	   cmocka_unit_test(test_endpoint_parse),
	    cmocka_unit_test(test_timeout_syntax), cmocka_unit_test(test_request_argv),
	    cmocka_unit_test(test_reply_key),	   cmocka_unit_test(test_render_sdp),
	    cmocka_unit_test(test_render_errors),  cmocka_unit_test(test_render_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
