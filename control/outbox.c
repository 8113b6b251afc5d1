/* Transactions waiting for Redis (see outbox.h). Main thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"
#include "outbox.h"

#define OUTBOX_ROUND 512 /* transactions per pipeline */

int outbox_push(struct outbox *ob, struct txn *t)
{
	if (ob->n == ob->cap) {
		size_t cap = ob->cap != 0 ? ob->cap * 2 : 256;
		struct txn *q = malloc(cap * sizeof(*q));

		if (q == NULL) {
			log_error("outbox: out of memory; a transaction for %s is lost",
				  t->entry_id[0] != '\0' ? t->entry_id : "timer work");
			txn_free(t);
			return -ENOMEM;
		}
		for (size_t i = 0; i < ob->n; i++)
			q[i] = ob->q[(ob->head + i) % ob->cap];
		free(ob->q);
		ob->q = q;
		ob->cap = cap;
		ob->head = 0;
	}
	txn_move(&ob->q[(ob->head + ob->n) % ob->cap], t);
	ob->n++;
	return 0;
}

static struct txn *at(struct outbox *ob, size_t i)
{
	return &ob->q[(ob->head + i) % ob->cap];
}

static void pop(struct outbox *ob, outbox_done_fn done, void *arg)
{
	struct txn *t = at(ob, 0);

	if (done != NULL)
		done(t, arg);
	txn_free(t);
	ob->head = (ob->head + 1) % ob->cap;
	ob->n--;
}

/* Mark queued transactions whose stored reply exists (committed before): returns 0 or
 * -EIO. `committed[i]` for the first m transactions. */
static int check_stored(struct outbox *ob, struct chan *ch, const struct options *o, size_t m,
			unsigned char *committed)
{
	struct txn q = {0};
	redisReply **rep;
	unsigned nq = 0;
	size_t i;
	int rc;

	for (i = 0; i < m; i++) {
		char key[KEYS_MAX];

		committed[i] = 0;
		if (!at(ob, i)->has_reply)
			continue;
		keys_reply(o, at(ob, i)->entry_id, key, sizeof(key));
		txn_cmdl(&q, "EXISTS", key, NULL);
		nq++;
	}
	if (nq == 0)
		return 0;
	if (q.failed)
		return -ENOMEM;
	rep = calloc(nq, sizeof(*rep));
	if (rep == NULL) {
		txn_free(&q);
		return -ENOMEM;
	}
	rc = chan_pipeline(ch, q.buf, q.len, nq, rep);
	for (i = 0, nq = 0; i < m && rc == 0; i++) {
		if (!at(ob, i)->has_reply)
			continue;
		committed[i] = rep[nq]->type == REDIS_REPLY_INTEGER && rep[nq]->integer == 1;
		nq++;
	}
	for (i = 0; i < nq; i++)
		if (rep[i] != NULL)
			freeReplyObject(rep[i]);
	free(rep);
	txn_free(&q);
	return rc;
}

int outbox_flush(struct outbox *ob, struct chan *ch, const struct options *o, bool check,
		 outbox_done_fn done, void *arg, const struct chan_readreq *rq,
		 redisReply **read_out, int *read_rc)
{
	unsigned char committed[OUTBOX_ROUND];
	struct txn *round[OUTBOX_ROUND];
	unsigned skipped = 0;
	size_t m, k, i;
	unsigned ok;
	bool last;

	if (rq != NULL) {
		*read_out = NULL;
		*read_rc = -EIO;
	}
	while (ob->n > 0) {
		if (!chan_up(ch))
			return -EIO;
		m = ob->n < OUTBOX_ROUND ? ob->n : OUTBOX_ROUND;
		if (check) {
			int rc = check_stored(ob, ch, o, m, committed);

			if (rc == -EIO)
				return rc;
			if (rc < 0)
				memset(committed, 0, m);
		} else {
			memset(committed, 0, m);
		}
		for (i = 0, k = 0; i < m; i++)
			if (!committed[i])
				round[k++] = at(ob, i);
		/* The read rides with the last round. */
		last = ob->n <= OUTBOX_ROUND && rq != NULL && !check;
		ok = chan_commit(ch, round, (unsigned)k, last ? rq : NULL, read_out, read_rc);
		/* Pop in order up to the first transaction that did not commit. */
		for (i = 0, k = 0; i < m; i++) {
			if (!committed[i]) {
				if (k == ok)
					break;
				k++;
			} else {
				skipped++;
			}
			pop(ob, done, arg);
		}
		if (i < m)
			return -EIO;
	}
	if (skipped > 0)
		log_info("outbox: %u command(s) had been committed before the connection broke; "
			 "not written twice",
			 skipped);
	return 0;
}

void outbox_free(struct outbox *ob)
{
	while (ob->n > 0)
		pop(ob, NULL, NULL);
	free(ob->q);
	memset(ob, 0, sizeof(*ob));
}
