/* One Redis transaction under construction: the RESP encoding of MULTI, its commands and
 * EXEC, ready to be pipelined, plus what the committer needs to know about it. Owns
 * copies of every argument, so it can wait in the outbox while Redis is away. Pure: no
 * I/O; main thread. */
#ifndef RTPANCHOR_CONTROL_TXN_H
#define RTPANCHOR_CONTROL_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"

struct txn {
	char *buf; /* RESP commands */
	size_t len, cap;
	unsigned ncmds;		     /* commands in buf, MULTI and EXEC included */
	bool failed;		     /* out of memory while building: do not send */
	char entry_id[ENTRY_ID_MAX]; /* the command entry it answers; "" for timer work */
	bool has_reply;		     /* it stores <prefix>reply:<entry_id> */
	/* For metrics once committed. */
	const char *op;	    /* entry_op_name() */
	const char *result; /* "ok", "error", "pong" */
	uint64_t read_ns;   /* CLOCK_MONOTONIC when the entry was read */
};

/* Start a transaction (writes MULTI). entry_id may be NULL. */
void txn_init(struct txn *t, const char *entry_id);
/* Append one command of argc arguments; lens[i] bytes of argv[i] (lens NULL = strlen). */
void txn_cmd(struct txn *t, int argc, const char *const *argv, const size_t *lens);
/* Append one command from NUL-terminated strings, ended by NULL. */
void txn_cmdl(struct txn *t, ...) __attribute__((sentinel));
/* Close it (writes EXEC). */
void txn_end(struct txn *t);
void txn_free(struct txn *t);
/* Move: *dst takes src's buffer, src is left empty. */
void txn_move(struct txn *dst, struct txn *src);

#endif
