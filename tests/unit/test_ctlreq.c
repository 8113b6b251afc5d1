/* Unit tests for tools/ctlreq.c, the command-channel client, against a real redis-server
 * that the test starts (unix socket in a temporary directory, and TCP on a free loopback
 * port). The test itself plays rtpanchor-control: it reads the entry the client added and
 * pushes the reply. Covers the exact fields sent (binary SDP included), the reply round
 * trip, the timeout, Redis error replies, a dropped connection, ACL credentials from the
 * environment, SELECT, and unreachable endpoints. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctlreq.h"

struct server {
	pid_t pid;
	char dir[64];
	char sock[128];
	int port;
};

static struct server srv;

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd, port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static redisContext *admin(void)
{
	redisContext *c = redisConnectUnix(srv.sock);

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	return c;
}

static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	return r;
}

static int setup(void **state)
{
	char port[16];
	redisContext *c;
	int i;

	snprintf(srv.dir, sizeof(srv.dir), "/tmp/rpa-ctlreq-XXXXXX");
	if (mkdtemp(srv.dir) == NULL)
		return -1;
	snprintf(srv.sock, sizeof(srv.sock), "%s/redis.sock", srv.dir);
	srv.port = free_port();
	if (srv.port < 0)
		return -1;
	snprintf(port, sizeof(port), "%d", srv.port);
	srv.pid = fork();
	if (srv.pid == 0) {
		/* Never outlive the test, even when it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--unixsocket", srv.sock, "--save", "", "--appendonly", "no", "--dir",
		       srv.dir, "--logfile", "", "--loglevel", "warning", "--daemonize", "no",
		       (char *)NULL);
		_exit(127);
	}
	if (srv.pid < 0)
		return -1;
	/* Up to 10 s for the server to listen. */
	for (i = 0; i < 1000; i++) {
		c = redisConnectUnix(srv.sock);
		if (c != NULL && c->err == 0) {
			redisFree(c);
			return 0;
		}
		redisFree(c);
		usleep(10000);
	}
	fprintf(stderr, "redis-server did not start (is it installed?)\n");
	return -1;
}

static int teardown(void **state)
{
	char path[160];

	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/redis.sock", srv.dir);
	unlink(path);
	rmdir(srv.dir);
	return 0;
}

static redisContext *client(int db)
{
	struct ctlreq_endpoint ep;
	redisContext *c;
	char err[512];

	assert_int_equal(ctlreq_endpoint_parse(srv.sock, &ep), 0);
	ep.db = db;
	c = ctlreq_connect(&ep, 2000, err, sizeof(err));
	if (c == NULL)
		fail_msg("connect: %s", err);
	return c;
}

/* The field `name` of a stream entry reply (array of field, value). */
static const redisReply *field(const redisReply *fields, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < fields->elements; i += 2)
		if (strcmp(fields->element[i]->str, name) == 0)
			return fields->element[i + 1];
	return NULL;
}

static void test_round_trip(void **state)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\nx=\0\xff\r\n";
	struct ctlreq r = {.op = "offer",
			   .call_id = "c1@example",
			   .from_tag = "f1",
			   .sdp = sdp,
			   .sdp_len = sizeof(sdp) - 1,
			   .flags = "trust-address strict-source"};
	const char *reply_json = "{\"result\":\"ok\",\"sdp\":\"v=0\\r\\n\"}";
	char key[CTLREQ_KEY_MAX], id[64], err[512], *reply;
	redisContext *c = client(0), *a = admin();
	const redisReply *f, *v;
	redisReply *x;
	size_t len;

	assert_int_equal(ctlreq_reply_key("t1:", "cli", key, sizeof(key)), 0);
	assert_int_equal(ctlreq_send(c, &r, "t1:", key, id, sizeof(id), err, sizeof(err)),
			 CTLREQ_OK);

	x = cmd(a, "XRANGE t1:commands - +");
	assert_int_equal(x->type, REDIS_REPLY_ARRAY);
	assert_int_equal(x->elements, 1);
	assert_string_equal(x->element[0]->element[0]->str, id);
	f = x->element[0]->element[1];
	assert_int_equal(f->elements, 12);	       /* op call-id from-tag sdp flags reply-to */
	assert_string_equal(f->element[0]->str, "op"); /* op first, as a proxy writes it */
	assert_string_equal(field(f, "op")->str, "offer");
	assert_string_equal(field(f, "call-id")->str, "c1@example");
	assert_string_equal(field(f, "from-tag")->str, "f1");
	assert_null(field(f, "to-tag"));
	v = field(f, "sdp");
	assert_int_equal(v->len, sizeof(sdp) - 1);
	assert_memory_equal(v->str, sdp, sizeof(sdp) - 1);
	assert_string_equal(field(f, "flags")->str, "trust-address strict-source");
	assert_string_equal(field(f, "reply-to")->str, key);
	freeReplyObject(x);

	freeReplyObject(cmd(a, "LPUSH %s %s", key, reply_json));
	assert_int_equal(ctlreq_wait(c, key, 2000, &reply, &len, err, sizeof(err)), CTLREQ_OK);
	assert_int_equal(len, strlen(reply_json));
	assert_string_equal(reply, reply_json);
	free(reply);
	/* The reply was popped: nothing left behind. */
	x = cmd(a, "EXISTS %s", key);
	assert_int_equal(x->integer, 0);
	freeReplyObject(x);

	/* A reply with a NUL inside comes back whole (the renderer then refuses it). */
	freeReplyObject(cmd(a, "LPUSH %s %b", key, "{}\0x", (size_t)4));
	assert_int_equal(ctlreq_wait(c, key, 2000, &reply, &len, err, sizeof(err)), CTLREQ_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(reply, "{}\0x", 4);
	free(reply);

	freeReplyObject(cmd(a, "DEL t1:commands"));
	redisFree(a);
	redisFree(c);
}

static void test_timeout(void **state)
{
	redisContext *c = client(0);
	char key[CTLREQ_KEY_MAX], err[512], *reply = (char *)1;
	size_t len = 1;

	assert_int_equal(ctlreq_reply_key("t2:", "cli", key, sizeof(key)), 0);
	assert_int_equal(ctlreq_wait(c, key, 150, &reply, &len, err, sizeof(err)), CTLREQ_TIMEOUT);
	assert_null(reply);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err, key));
	/* The connection is still usable after a timeout. */
	assert_int_equal(ctlreq_wait(c, key, 10, &reply, &len, err, sizeof(err)), CTLREQ_TIMEOUT);
	redisFree(c);
}

/* ctlreq_call: XADD and BLPOP in one round trip. The reply is pushed before the call,
 * so its BLPOP finds it at once; the entry must still be there, complete. */
static void test_call(void **state)
{
	struct ctlreq r = {.op = "delete", .call_id = "c9@example", .from_tag = "f9"};
	const char *reply_json = "{\"result\":\"ok\"}";
	char key[CTLREQ_KEY_MAX], id[64], err[512], *reply;
	redisContext *c = client(0), *a = admin();
	redisReply *x;
	size_t len;

	ctlreq_call_prepare(c, 2000);
	assert_int_equal(ctlreq_reply_key("t5:", "bench", key, sizeof(key)), 0);
	freeReplyObject(cmd(a, "LPUSH %s %s", key, reply_json));
	assert_int_equal(ctlreq_call(c, &r, "t5:", key, 2000, id, sizeof(id), &reply, &len, err,
				     sizeof(err)),
			 CTLREQ_OK);
	assert_string_equal(reply, reply_json);
	assert_int_equal(len, strlen(reply_json));
	free(reply);
	x = cmd(a, "XRANGE t5:commands - +");
	assert_int_equal(x->elements, 1);
	assert_string_equal(x->element[0]->element[0]->str, id);
	assert_string_equal(field(x->element[0]->element[1], "op")->str, "delete");
	assert_string_equal(field(x->element[0]->element[1], "reply-to")->str, key);
	freeReplyObject(x);

	/* Nobody answers: a timeout after the entry was added; the connection stays usable. */
	assert_int_equal(ctlreq_call(c, &r, "t5:", key, 150, id, sizeof(id), &reply, &len, err,
				     sizeof(err)),
			 CTLREQ_TIMEOUT);
	assert_null(reply);
	assert_non_null(strstr(err, key));
	x = cmd(a, "XLEN t5:commands");
	assert_int_equal(x->integer, 2);
	freeReplyObject(x);

	/* A refused XADD is reported as such once its BLPOP has answered, and the replies
	 * stay in step: the next call gets its own reply. */
	freeReplyObject(cmd(a, "SET t6:commands oops"));
	assert_int_equal(ctlreq_call(c, &r, "t6:", key, 100, id, sizeof(id), &reply, &len, err,
				     sizeof(err)),
			 CTLREQ_REFUSED);
	assert_null(reply);
	assert_non_null(strstr(err, "WRONGTYPE"));
	freeReplyObject(cmd(a, "LPUSH %s %s", key, reply_json));
	assert_int_equal(ctlreq_call(c, &r, "t5:", key, 2000, id, sizeof(id), &reply, &len, err,
				     sizeof(err)),
			 CTLREQ_OK);
	assert_string_equal(reply, reply_json);
	free(reply);

	freeReplyObject(cmd(a, "DEL t5:commands t6:commands"));
	redisFree(a);
	redisFree(c);
}

static void test_redis_errors(void **state)
{
	struct ctlreq r = {.op = "list"};
	redisContext *c = client(0), *a = admin();
	char key[CTLREQ_KEY_MAX], id[64], err[512], *reply;
	redisReply *x;
	size_t len;

	/* The command stream is a string: Redis refuses the XADD. */
	freeReplyObject(cmd(a, "SET t3:commands oops"));
	assert_int_equal(ctlreq_reply_key("t3:", "cli", key, sizeof(key)), 0);
	assert_int_equal(ctlreq_send(c, &r, "t3:", key, id, sizeof(id), err, sizeof(err)),
			 CTLREQ_REFUSED);
	assert_non_null(strstr(err, "WRONGTYPE"));
	freeReplyObject(cmd(a, "DEL t3:commands"));
	/* The reply key is not a list. */
	freeReplyObject(cmd(a, "SET %s oops", key));
	assert_int_equal(ctlreq_wait(c, key, 100, &reply, &len, err, sizeof(err)), CTLREQ_REFUSED);
	assert_non_null(strstr(err, "WRONGTYPE"));
	freeReplyObject(cmd(a, "DEL %s", key));

	/* The server drops the connection: an I/O failure, not a timeout. */
	x = cmd(c, "CLIENT ID");
	assert_int_equal(x->type, REDIS_REPLY_INTEGER);
	freeReplyObject(cmd(a, "CLIENT KILL ID %lld", x->integer));
	freeReplyObject(x);
	assert_int_equal(ctlreq_wait(c, key, 1000, &reply, &len, err, sizeof(err)), CTLREQ_IO);
	assert_non_null(strstr(err, "connection to Redis failed"));
	redisFree(c);
	redisFree(a);
}

static void test_credentials_and_db(void **state)
{
	struct ctlreq r = {.op = "ping"};
	struct ctlreq_endpoint ep;
	redisContext *c, *a = admin();
	char key[CTLREQ_KEY_MAX], id[64], err[512];
	redisReply *x;

	freeReplyObject(cmd(a, "ACL SETUSER rpatest on >s3cret ~* &* +@all"));
	assert_int_equal(ctlreq_endpoint_parse(srv.sock, &ep), 0);

	setenv("RTPANCHOR_REDIS_USER", "rpatest", 1);
	setenv("RTPANCHOR_REDIS_PASSWORD", "s3cret", 1);
	c = ctlreq_connect(&ep, 2000, err, sizeof(err));
	if (c == NULL)
		fail_msg("connect: %s", err);
	x = cmd(c, "ACL WHOAMI");
	assert_string_equal(x->str, "rpatest");
	freeReplyObject(x);
	redisFree(c);

	setenv("RTPANCHOR_REDIS_PASSWORD", "wrong", 1);
	c = ctlreq_connect(&ep, 2000, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "refused the credentials"));
	assert_non_null(strstr(err, srv.sock));
	unsetenv("RTPANCHOR_REDIS_USER");
	unsetenv("RTPANCHOR_REDIS_PASSWORD");

	/* SELECT: the request lands in database 2 only. */
	c = client(2);
	assert_int_equal(ctlreq_reply_key("t4:", "cli", key, sizeof(key)), 0);
	assert_int_equal(ctlreq_send(c, &r, "t4:", key, id, sizeof(id), err, sizeof(err)),
			 CTLREQ_OK);
	x = cmd(a, "XLEN t4:commands");
	assert_int_equal(x->integer, 0);
	freeReplyObject(x);
	freeReplyObject(cmd(a, "SELECT 2"));
	x = cmd(a, "XLEN t4:commands");
	assert_int_equal(x->integer, 1);
	freeReplyObject(x);
	freeReplyObject(cmd(a, "DEL t4:commands"));
	redisFree(c);

	ep.db = 99999;
	c = ctlreq_connect(&ep, 2000, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "database 99999"));
	redisFree(a);
}

static void test_tcp_and_unreachable(void **state)
{
	struct ctlreq_endpoint ep;
	redisContext *c;
	char addr[160], err[512];
	redisReply *x;
	int port;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", srv.port);
	assert_int_equal(ctlreq_endpoint_parse(addr, &ep), 0);
	c = ctlreq_connect(&ep, 2000, err, sizeof(err));
	if (c == NULL)
		fail_msg("connect: %s", err);
	x = cmd(c, "PING");
	assert_string_equal(x->str, "PONG");
	freeReplyObject(x);
	redisFree(c);

	port = free_port();
	assert_true(port > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(ctlreq_endpoint_parse(addr, &ep), 0);
	c = ctlreq_connect(&ep, 2000, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "cannot reach Redis at"));
	assert_non_null(strstr(err, addr));

	snprintf(addr, sizeof(addr), "%s/nothing.sock", srv.dir);
	assert_int_equal(ctlreq_endpoint_parse(addr, &ep), 0);
	c = ctlreq_connect(&ep, 2000, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, addr));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),		cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_call),		cmocka_unit_test(test_redis_errors),
	    cmocka_unit_test(test_credentials_and_db),
	    cmocka_unit_test(test_tcp_and_unreachable),
	};

	unsetenv("RTPANCHOR_REDIS_USER");
	unsetenv("RTPANCHOR_REDIS_PASSWORD");
	signal(SIGPIPE, SIG_IGN); /* as every ctlreq user must (see ctlreq.h) */
	return cmocka_run_group_tests(tests, setup, teardown);
}
