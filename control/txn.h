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

/* One command entry answered by a transaction, for metrics once it is committed. */
struct txn_count {
	const char *op;	    /* entry_op_name() */
	const char *result; /* "ok", "error", "pong" */
};

struct txn {
	char *buf; /* RESP commands */
	size_t len, cap;
	unsigned ncmds; /* commands in buf, MULTI and EXEC included */
	bool failed;	/* out of memory while building: do not send */
	/* The proof of a commit: the command entry whose stored reply
	 * (<prefix>reply:<entry_id>) this transaction writes ("" for timer work). Once that
	 * key exists, the whole transaction was committed (EXEC is atomic). */
	char entry_id[ENTRY_ID_MAX];
	bool has_reply;
	unsigned nentries; /* command entries it answers (for messages) */
	/* For metrics once committed: the entries applied here (redeliveries are not). */
	struct txn_count *counts;
	unsigned ncounts, counts_cap;
	uint64_t read_ns; /* CLOCK_MONOTONIC when its entries were read */
};

/* Start a transaction (writes MULTI). entry_id may be NULL. */
void txn_init(struct txn *t, const char *entry_id);
/* Empty t, keeping its buffers, for use as a plain list of commands (no MULTI) that
 * txn_append later copies into a transaction. */
void txn_clear(struct txn *t);
/* Append one command of argc arguments; lens[i] bytes of argv[i] (lens NULL = strlen). */
void txn_cmd(struct txn *t, int argc, const char *const *argv, const size_t *lens);
/* Append one command from NUL-terminated strings, ended by NULL. */
void txn_cmdl(struct txn *t, ...) __attribute__((sentinel));
/* Append the commands of src (a list built after txn_clear) to t. */
void txn_append(struct txn *t, const struct txn *src);
/* Record one answered entry for metrics (dropped, not fatal, when out of memory). */
void txn_count(struct txn *t, const char *op, const char *result);
/* v in decimal into buf (TXN_U64_LEN bytes), NUL-terminated, for an argument; returns
 * buf. By hand: it runs for several arguments of every command. */
#define TXN_U64_LEN 21
const char *txn_u64(uint64_t v, char *buf);
/* Close it (writes EXEC). */
void txn_end(struct txn *t);
void txn_free(struct txn *t);
/* Move: *dst takes src's buffers, src is left empty. */
void txn_move(struct txn *dst, struct txn *src);

#endif
