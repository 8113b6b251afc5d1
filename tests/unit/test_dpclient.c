/* Unit tests for dpclient_batch (common/dpclient.c) against the dataplane's own message
 * handling (ctlmsg_handle on a real EAL) served from a thread over a real SOCK_SEQPACKET
 * socket: a batch of writes goes out as RPA_DP_BATCH messages and every write gets its
 * own status, in order; a dataplane that predates BATCH (it answers -EOPNOTSUPP, as any
 * unknown type) gets the same writes one message each, with the same outcome. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <rtpanchor/dpclient.h>

#include "ctlmsg.h"
#include "eal_fixture.h"

struct server {
	int lfd;
	bool old; /* answer BATCH as a dataplane without it does */
	unsigned batches, singles;
	char path[108];
};

static uint64_t srx[RPA_DP_MSG_MAX / 8 + 1], stx[RPA_DP_MSG_MAX / 8];

static void *serve(void *arg)
{
	struct server *s = arg;
	struct rpa_dp_hdr *h = (void *)srx;
	struct rpa_dp_reply *r = (void *)stx;
	int fd = accept(s->lfd, NULL, NULL);
	ssize_t n;
	size_t len;

	if (fd < 0)
		return NULL;
	while ((n = recv(fd, srx, sizeof(srx), 0)) > 0) {
		if (h->type == RPA_DP_BATCH) {
			s->batches++;
			if (s->old) {
				/* Its type is past that dataplane's RPA_DP_TYPE_MAX. */
				h->type = RPA_DP_TYPE_MAX;
				len = ctlmsg_handle(srx, (size_t)n, 0, stx);
				r->hdr.type = RPA_DP_BATCH;
			} else {
				len = ctlmsg_handle(srx, (size_t)n, 0, stx);
			}
		} else {
			s->singles += h->type == RPA_DP_STREAM_ADD || h->type == RPA_DP_STREAM_DEL;
			len = ctlmsg_handle(srx, (size_t)n, 0, stx);
		}
		if (send(fd, stx, len, MSG_NOSIGNAL) < 0)
			break;
	}
	close(fd);
	return NULL;
}

static int setup(void **st)
{
	fix_core_up(1024, 3000);
	return 0;
}

static int teardown(void **st)
{
	fix_core_down();
	return 0;
}

static void start(struct server *s, pthread_t *th, bool old)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	memset(s, 0, sizeof(*s));
	s->old = old;
	snprintf(s->path, sizeof(s->path), "/tmp/rpa-test-dpclient-%d.sock", (int)getpid());
	unlink(s->path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", s->path);
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (void *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(pthread_create(th, NULL, serve, s), 0);
}

static void stop(struct server *s, pthread_t th, struct dpclient *c)
{
	dpclient_close(c);
	pthread_join(th, NULL);
	close(s->lfd);
	unlink(s->path);
}

/* n writes: adds of ports 30000, 30002, ...; every 5th is refused (replay window 1);
 * then deletes of every add (the refused ones are -ENOENT). */
static unsigned make_ops(struct dpclient_op *ops, unsigned nadd)
{
	unsigned n = 0;
	char ep[32];

	for (unsigned i = 0; i < nadd; i++, n++) {
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].type = RPA_DP_STREAM_ADD;
		snprintf(ep, sizeof(ep), "192.0.2.1:%u", 30000 + 2 * i);
		ops[n].stream.local = fix_ep(ep);
		ops[n].stream.src = fix_ep("198.51.100.1:30002");
		ops[n].stream.flags = RPA_DP_F_LATCH;
		ops[n].stream.replay_window = i % 5 == 4 ? 1 : 0;
	}
	for (unsigned i = 0; i < nadd; i++, n++) {
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].type = RPA_DP_STREAM_DEL;
		ops[n].local = ops[i].stream.local;
	}
	return n;
}

static void check_ops(const struct dpclient_op *ops, unsigned nadd)
{
	for (unsigned i = 0; i < nadd; i++) {
		assert_int_equal(ops[i].status, i % 5 == 4 ? -EINVAL : 0);
		assert_int_equal(ops[nadd + i].status, i % 5 == 4 ? -ENOENT : 0);
	}
}

static void run(bool old, bool started, unsigned nadd, unsigned *batches, unsigned *singles)
{
	static struct dpclient_op ops[2 * 400];
	char err[256];
	struct server s;
	struct dpclient *c;
	pthread_t th;
	unsigned n;
	int e = 0;

	start(&s, &th, old);
	c = dpclient_open(s.path, 3000, "test", &e, err, sizeof(err));
	assert_non_null(c);
	n = make_ops(ops, nadd);
	for (unsigned i = 0; i < n; i++)
		ops[i].status = 1; /* must be overwritten */
	/* The adds first (a batch of their own), then the deletes. */
	if (started)
		assert_int_equal(dpclient_batch_start(c, ops, nadd), 0);
	assert_int_equal(dpclient_batch(c, ops, nadd), 0);
	assert_int_equal(session_count(), nadd - nadd / 5);
	assert_int_equal(dpclient_batch(c, ops + nadd, n - nadd), 0);
	check_ops(ops, nadd);
	assert_int_equal(session_count(), 0);
	/* The connection is still in step: a plain request after the batches. */
	assert_int_equal(dpclient_hello(c, NULL), 0);
	stop(&s, th, c);
	*batches = s.batches;
	*singles = s.singles;
}

static void test_batches(void **st)
{
	unsigned b, s;

	run(false, false, 10, &b, &s);
	assert_int_equal(b, 2); /* one message per batch call */
	assert_int_equal(s, 0);
	/* More than RPA_DP_BATCH_MAX writes: several messages, in flight together. */
	run(false, true, 300, &b, &s);
	assert_int_equal(b, 3 + 3);
	assert_int_equal(s, 0);
}

static void test_old_dataplane(void **st)
{
	unsigned b, s;

	run(true, false, 10, &b, &s);
	/* The first BATCH was refused; from then on, one message per write. */
	assert_int_equal(b, 1);
	assert_int_equal(s, 20);
	/* Refused while several BATCH messages were in flight (started, not waited for). */
	run(true, true, 300, &b, &s);
	assert_int_equal(b, 3);
	assert_int_equal(s, 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_dataplane, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
