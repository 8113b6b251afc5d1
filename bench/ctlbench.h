/* rtpanchor-bench-ctl's parts: the options and figures that main (bench/ctlbench.c) and the
 * client event loops (bench/ctlbench_loop.c) share. */
#ifndef RTPANCHOR_CTLBENCH_H
#define RTPANCHOR_CTLBENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "ctlreq.h"

#define CTLBENCH_MAX_CLIENTS 256
#define CTLBENCH_MAX_THREADS 64

/* Filled once by main from the command line, then read-only. */
struct ctlbench_opts {
	struct ctlreq_endpoint redis;
	const char *prefix;
	unsigned clients;
	unsigned threads;  /* event loops the clients are spread over */
	double duration_s; /* 0 when count is used */
	uint64_t count;	   /* pairs in all; 0 = run for duration_s */
	unsigned warmup;   /* pairs per client before measuring */
	bool delete;
	bool video;
	int timeout_ms;
	const char *flags;
	bool json;
};

/* Latencies in nanoseconds, appended by one loop thread. */
struct ctlbench_samples {
	uint64_t *v;
	size_t n, cap;
};

enum ctlbench_cmd { CTLBENCH_OFFER, CTLBENCH_ANSWER, CTLBENCH_DELETE, CTLBENCH_CMD_N };

/* What one loop measured over all its clients; written by the loop's thread only, read by
 * main after pthread_join. */
struct ctlbench_stats {
	struct ctlbench_samples pair, cmd[CTLBENCH_CMD_N];
	/* Failures while measuring, by kind. */
	uint64_t err_reply, timeouts, bad_reply, io, warnings;
	char first_error[256], first_warning[256];
	unsigned dead;	       /* clients whose connection broke and could not be re-made */
	uint64_t last_done_ns; /* CLOCK_MONOTONIC when its last measured pair completed */
};

/* Shared by main and every loop thread. */
struct ctlbench_shared {
	const struct ctlbench_opts *o;
	atomic_bool stop;	      /* main: the duration is over */
	atomic_uint_fast64_t started; /* measured pairs begun, for --count */
	pthread_barrier_t warm;	      /* threads + 1: every client has warmed up */
};

struct ctlbench_loop;

/* A loop owning clients first, first + step, first + 2 * step ... (< o->clients), each
 * connected (ctlreq_connect: credentials, database) before this returns, into *out.
 * 0; or -ENOTCONN when a client cannot connect, -ENOMEM, -errno of epoll, with err set
 * (naming the client). */
int ctlbench_loop_create(struct ctlbench_shared *sh, unsigned first, unsigned step,
			 struct ctlbench_loop **out, char *err, size_t errlen);
/* The loop's thread: warm-up pairs, pthread_barrier_wait(&sh->warm), measured pairs until
 * sh->stop or sh->started reaches o->count, each pair in flight finished (bounded by the
 * reply timeout). Returns NULL. */
void *ctlbench_loop_run(void *loop);
/* The figures, valid after the thread has been joined. */
struct ctlbench_stats *ctlbench_loop_stats(struct ctlbench_loop *lp);
void ctlbench_loop_destroy(struct ctlbench_loop *lp);

uint64_t ctlbench_now_ns(void);

/* Decimal digits of v into d (no NUL); their count. */
size_t ctlbench_utoa(uint64_t v, char d[20]);
/* The SDP of call number seq of client cl into buf; its length, 0 when len is too small
 * (buf is not NUL-terminated). */
size_t ctlbench_sdp_offer(char *buf, size_t len, unsigned cl, uint64_t seq, bool video);
size_t ctlbench_sdp_answer(char *buf, size_t len, unsigned cl, uint64_t seq, bool video);
/* "bench-<pid>-<cl>-<seq>@rtpanchor.test", "ft<cl>-<seq>" and "tt<cl>-<seq>", NUL-
 * terminated; false (and empty strings where they did not fit) when a buffer is short. */
bool ctlbench_call_ids(char *call_id, size_t cl_len, char *from_tag, char *to_tag, size_t tag_len,
		       long pid, unsigned cl, uint64_t seq);

#endif
