/* Unit tests for control/outbox.c and control/chan.c against a real redis-server that the
 * test starts (Unix socket in a temporary directory, append-only file fsynced on every
 * write, so a kill -9 loses nothing it acknowledged). Covers: transactions sent without
 * waiting and confirmed later, in order; a blocking read on the read connection does not
 * hold back a transaction on the command connection, whose replies are noticed while the
 * read still waits; a transaction committed just before Redis was killed is recognised
 * by its stored reply and not written twice, while one that never arrived is committed
 * after the restart; and a command issued while replies are in flight drops the
 * connection instead of taking their replies. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "chan.h"
#include "keys.h"
#include "outbox.h"
#include "txn.h"

static struct {
	pid_t pid;
	char dir[64];
	char sock[100];
} srv;

static struct options opts;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void server_start(void)
{
	redisContext *c;

	srv.pid = fork();
	assert_true(srv.pid >= 0);
	if (srv.pid == 0) {
		/* Never outlive the test, even when it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", srv.sock,
		       "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir",
		       srv.dir, "--logfile", "", "--loglevel", "warning", "--daemonize", "no",
		       (char *)NULL);
		_exit(127);
	}
	/* Up to 10 s for the server to listen (and to load its append-only file). */
	for (int i = 0; i < 1000; i++) {
		redisReply *r;

		c = redisConnectUnix(srv.sock);
		if (c != NULL && c->err == 0) {
			r = redisCommand(c, "PING");
			if (r != NULL && r->type == REDIS_REPLY_STATUS) {
				freeReplyObject(r);
				redisFree(c);
				return;
			}
			if (r != NULL)
				freeReplyObject(r);
		}
		redisFree(c);
		usleep(10000);
	}
	fail_msg("redis-server did not start (is it installed?)");
}

static void server_stop(int sig)
{
	if (srv.pid > 0) {
		kill(srv.pid, sig);
		waitpid(srv.pid, NULL, 0);
	}
	srv.pid = 0;
}

static int setup(void **state)
{
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/rpa-outbox-XXXXXX");
	if (mkdtemp(srv.dir) == NULL)
		return -1;
	snprintf(srv.sock, sizeof(srv.sock), "%s/redis.sock", srv.dir);
	memset(&opts, 0, sizeof(opts));
	opts.redis_unix = true;
	snprintf(opts.redis_path, sizeof(opts.redis_path), "%s", srv.sock);
	snprintf(opts.key_prefix, sizeof(opts.key_prefix), "rpa:");
	snprintf(opts.node, sizeof(opts.node), "n1");
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	server_stop(SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", srv.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static redisContext *admin(void)
{
	redisContext *c = redisConnectUnix(srv.sock);

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	return c;
}

static long long admin_int(const char *fmt, ...)
{
	redisContext *c = admin();
	redisReply *r;
	long long v;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static void up(struct chan *ch)
{
	uint64_t until = mono_ms() + 10000;

	while (chan_connect(ch, mono_ms()) != 0) {
		assert_true(mono_ms() < until);
		usleep(20000);
	}
}

/* A transaction as command_batch builds one: its commands, the stored reply of entry
 * `id` (the proof of the commit) and an LPUSH of `val` to `list`. */
static void batch_txn(struct txn *t, const char *id, const char *list, const char *val)
{
	char key[KEYS_MAX];

	keys_reply(&opts, id, key, sizeof(key));
	txn_init(t, id);
	t->has_reply = true;
	t->nentries = 1;
	txn_cmdl(t, "SET", key, val, "EX", "300", NULL);
	txn_cmdl(t, "LPUSH", list, val, NULL);
	txn_end(t);
}

struct seen {
	char ids[8][ENTRY_ID_MAX];
	unsigned n;
};

static void on_done(const struct txn *t, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->ids[s->n++], ENTRY_ID_MAX, "%s", t->entry_id);
}

static void test_send_then_collect(void **state)
{
	struct chan *ch = chan_create(&opts);
	struct outbox ob = {0};
	struct seen seen = {0};
	struct txn t;

	server_start();
	up(ch);
	batch_txn(&t, "1-1", "rpa:l", "a");
	assert_int_equal(outbox_push(&ob, &t), 0);
	batch_txn(&t, "1-2", "rpa:l", "b");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	batch_txn(&t, "1-3", "rpa:l", "c");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	assert_int_equal(chan_inflight(ch), 3);
	assert_int_equal(outbox_len(&ob), 3);
	/* Sending again sends nothing twice. */
	assert_int_equal(outbox_send(&ob, ch), 0);
	assert_int_equal(chan_inflight(ch), 3);
	assert_int_equal(outbox_collect(&ob, ch, true, on_done, &seen), 0);
	assert_int_equal(outbox_len(&ob), 0);
	assert_int_equal(chan_inflight(ch), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.ids[0], "1-1");
	assert_string_equal(seen.ids[2], "1-3");
	assert_int_equal(admin_int("LLEN rpa:l"), 3);
	/* Without waiting: popped once the replies are there. */
	batch_txn(&t, "1-4", "rpa:l", "d");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	for (int i = 0; i < 500 && outbox_len(&ob) > 0; i++) {
		assert_int_equal(outbox_collect(&ob, ch, false, on_done, &seen), 0);
		usleep(2000);
	}
	assert_int_equal(outbox_len(&ob), 0);
	assert_string_equal(seen.ids[3], "1-4");
	outbox_free(&ob);
	chan_destroy(ch);
	server_stop(SIGTERM);
}

static void test_read_does_not_block_commit(void **state)
{
	struct chan_readreq rq = {.id = ">", .count = 16, .block_ms = 1000};
	struct chan *ch = chan_create(&opts);
	struct outbox ob = {0};
	redisReply *r = NULL;
	struct txn t;

	server_start();
	up(ch);
	/* Nothing to read: the read blocks in Redis until the transaction adds an entry. */
	assert_int_equal(chan_read_start(ch, &rq), 0);
	assert_true(chan_read_pending(ch));
	txn_init(&t, NULL);
	txn_cmdl(&t, "XADD", "rpa:commands", "*", "op", "ping", NULL);
	txn_end(&t);
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	assert_int_equal(chan_read_finish(ch, &r), 0);
	assert_false(chan_read_pending(ch));
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->element[0]->element[1]->elements, 1);
	chan_read_free(ch, r);
	assert_int_equal(outbox_collect(&ob, ch, true, NULL, NULL), 0);
	assert_int_equal(outbox_len(&ob), 0);
	outbox_free(&ob);
	chan_destroy(ch);
	server_stop(SIGTERM);
}

/* A transaction's replies are noticed while a read still blocks in Redis. */
static void test_wait_commit(void **state)
{
	struct chan_readreq rq = {.id = ">", .count = 16, .block_ms = 5000};
	struct chan *ch = chan_create(&opts);
	struct outbox ob = {0};
	struct seen seen = {0};
	redisReply *r = NULL;
	struct txn t;

	server_start();
	up(ch);
	assert_false(chan_wait_commit(ch)); /* nothing in flight */
	assert_int_equal(chan_read_start(ch, &rq), 0);
	assert_false(chan_wait_commit(ch)); /* no transaction in flight */
	batch_txn(&t, "4-1", "rpa:w", "x");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	/* The read blocks for 5 s; the transaction's replies come long before. */
	while (outbox_len(&ob) > 0) {
		assert_true(chan_wait_commit(ch));
		assert_int_equal(outbox_collect(&ob, ch, false, on_done, &seen), 0);
	}
	assert_int_equal(seen.n, 1);
	assert_false(chan_wait_commit(ch));
	/* An entry ends the read. */
	txn_init(&t, NULL);
	txn_cmdl(&t, "XADD", "rpa:commands", "*", "op", "ping", NULL);
	txn_end(&t);
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	assert_int_equal(chan_read_finish(ch, &r), 0);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	chan_read_free(ch, r);
	assert_int_equal(outbox_collect(&ob, ch, true, NULL, NULL), 0);
	outbox_free(&ob);
	chan_destroy(ch);
	server_stop(SIGTERM);
}

static void test_killed_after_commit(void **state)
{
	struct chan *ch = chan_create(&opts);
	struct outbox ob = {0};
	struct seen seen = {0};
	struct txn t;

	server_start();
	up(ch);
	/* Committed, but Redis dies before its replies are read. */
	batch_txn(&t, "2-1", "rpa:k", "once");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	for (int i = 0; i < 500 && admin_int("EXISTS rpa:reply:2-1") == 0; i++)
		usleep(2000);
	assert_int_equal(admin_int("EXISTS rpa:reply:2-1"), 1);
	server_stop(SIGKILL);
	/* Built while Redis is away: it cannot be sent. */
	batch_txn(&t, "2-2", "rpa:k", "later");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), -EIO);
	assert_false(chan_up(ch));
	assert_int_equal(outbox_len(&ob), 2);
	server_start();
	up(ch);
	/* As on_connected does: the first is recognised by its stored reply. */
	assert_int_equal(outbox_flush(&ob, ch, &opts, true, on_done, &seen), 0);
	assert_int_equal(outbox_len(&ob), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(admin_int("LLEN rpa:k"), 2); /* "once" once, and "later" */
	assert_int_equal(admin_int("EXISTS rpa:reply:2-2"), 1);
	outbox_free(&ob);
	chan_destroy(ch);
	server_stop(SIGTERM);
}

static void test_call_while_in_flight(void **state)
{
	const char *argv[] = {"PING"};
	struct chan *ch = chan_create(&opts);
	struct outbox ob = {0};
	struct txn t;

	server_start();
	up(ch);
	batch_txn(&t, "3-1", "rpa:m", "x");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	/* Its replies come first: the PING must not take them. */
	assert_null(chan_call(ch, 1, argv, NULL));
	assert_false(chan_up(ch));
	assert_int_equal(chan_inflight(ch), 0);
	up(ch);
	assert_int_equal(outbox_flush(&ob, ch, &opts, true, NULL, NULL), 0);
	assert_int_equal(admin_int("LLEN rpa:m"), 1);
	outbox_free(&ob);
	chan_destroy(ch);
	server_stop(SIGTERM);
}

/* Reads come back whole from the channel's arena: many entries, a value bigger than an
 * arena block, every byte as written; read after read (each freed before the next), and
 * after the group vanished (the read is refused, the group made again, reads go on). */
static void test_reads_from_arena(void **state)
{
	struct chan_readreq rq = {.id = ">", .count = 256, .block_ms = -1};
	static char big[200000];
	struct chan *ch = chan_create(&opts);
	redisContext *a;
	redisReply *r, *x;
	char val[32];

	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	server_start();
	up(ch);
	a = admin();
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 100; i++) {
			snprintf(val, sizeof(val), "v%d-%d", round, i);
			x = redisCommand(a, "XADD rpa:commands * op ping sdp %s", i == 50 ? big : val);
			assert_int_equal(x->type, REDIS_REPLY_STRING);
			freeReplyObject(x);
		}
		assert_int_equal(chan_read(ch, &rq, &r), 0);
		assert_int_equal(r->type, REDIS_REPLY_ARRAY);
		x = r->element[0]->element[1];
		assert_int_equal(x->elements, 100);
		for (int i = 0; i < 100; i++) {
			const redisReply *f = x->element[i]->element[1];

			snprintf(val, sizeof(val), "v%d-%d", round, i);
			assert_int_equal(f->elements, 4);
			assert_string_equal(f->element[1]->str, "ping");
			assert_string_equal(f->element[3]->str, i == 50 ? big : val);
			assert_int_equal(f->element[3]->len, strlen(i == 50 ? big : val));
		}
		chan_read_free(ch, r);
	}
	/* Nothing new: a nil reply, also from the arena. */
	assert_int_equal(chan_read(ch, &rq, &r), 0);
	assert_int_equal(r->type, REDIS_REPLY_NIL);
	chan_read_free(ch, r);
	x = redisCommand(a, "XGROUP DESTROY rpa:commands rtpanchor");
	freeReplyObject(x);
	assert_int_equal(chan_read(ch, &rq, &r), -EPROTO);
	assert_true(chan_up(ch));
	x = redisCommand(a, "XADD rpa:commands * op ping");
	freeReplyObject(x);
	/* The group is made again from the start of the stream (id 0): 301 entries. */
	assert_int_equal(chan_read(ch, &rq, &r), 0);
	assert_int_equal(r->element[0]->element[1]->elements, 256);
	chan_read_free(ch, r);
	redisFree(a);
	chan_destroy(ch);
	server_stop(SIGTERM);
}

/* Replies of transactions in flight are built without an allocation per reply; a command
 * refused inside one (LPUSH to a string) does not stop the rest, and the connection is
 * back to ordinary replies for a command of its own once nothing is in flight. */
static void test_txn_replies(void **state)
{
	const char *get[] = {"GET", "rpa:s"};
	struct chan *ch = chan_create(&opts);
	struct outbox ob = {0};
	struct seen seen = {0};
	struct txn t;
	redisReply *r;

	server_start();
	up(ch);
	txn_init(&t, NULL);
	txn_cmdl(&t, "SET", "rpa:s", "text", NULL);
	txn_end(&t);
	assert_int_equal(outbox_push(&ob, &t), 0);
	batch_txn(&t, "6-1", "rpa:s", "x"); /* its LPUSH fails: wrong type */
	assert_int_equal(outbox_push(&ob, &t), 0);
	batch_txn(&t, "6-2", "rpa:l6", "y");
	assert_int_equal(outbox_push(&ob, &t), 0);
	assert_int_equal(outbox_send(&ob, ch), 0);
	assert_int_equal(outbox_collect(&ob, ch, true, on_done, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(admin_int("EXISTS rpa:reply:6-1"), 1); /* the rest of it committed */
	assert_int_equal(admin_int("LLEN rpa:l6"), 1);
	r = chan_call(ch, 2, get, NULL);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "text");
	freeReplyObject(r);
	outbox_free(&ob);
	chan_destroy(ch);
	server_stop(SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_then_collect),
	    cmocka_unit_test(test_read_does_not_block_commit),
	    cmocka_unit_test(test_wait_commit),
	    cmocka_unit_test(test_killed_after_commit),
	    cmocka_unit_test(test_call_while_in_flight),
	    cmocka_unit_test(test_reads_from_arena),
	    cmocka_unit_test(test_txn_replies),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
