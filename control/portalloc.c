/* Relay port pairs of one media address: a free list in least-recently-released order and a
 * quarantine list ordered by expiry. Control main thread only; no I/O. */
#include "portalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define NIL UINT32_MAX

enum pair_state {
	PAIR_FREE = 0, /* on the free list */
	PAIR_QUAR,     /* on the quarantine list until `until` */
	PAIR_USED,     /* on no list */
};

struct pair {
	uint64_t until; /* quarantine expiry (PAIR_QUAR) */
	uint32_t prev;
	uint32_t next;
	uint8_t state;
};

struct plist {
	uint32_t head;
	uint32_t tail;
	uint32_t count;
};

struct portalloc {
	uint16_t min; /* first even port */
	uint32_t npairs;
	uint32_t used;
	uint32_t quarantine_ms;
	struct plist free;
	struct plist quar; /* sorted by until, earliest first */
	struct pair *pairs;
};

static void list_unlink(struct portalloc *pa, struct plist *l, uint32_t i)
{
	struct pair *p = &pa->pairs[i];

	if (p->prev != NIL)
		pa->pairs[p->prev].next = p->next;
	else
		l->head = p->next;
	if (p->next != NIL)
		pa->pairs[p->next].prev = p->prev;
	else
		l->tail = p->prev;
	p->prev = p->next = NIL;
	l->count--;
}

/* Insert i after `after` (NIL = at the head). */
static void list_insert_after(struct portalloc *pa, struct plist *l, uint32_t after, uint32_t i)
{
	struct pair *p = &pa->pairs[i];

	p->prev = after;
	p->next = after == NIL ? l->head : pa->pairs[after].next;
	if (p->next != NIL)
		pa->pairs[p->next].prev = i;
	else
		l->tail = i;
	if (after != NIL)
		pa->pairs[after].next = i;
	else
		l->head = i;
	l->count++;
}

static struct plist *list_of(struct portalloc *pa, uint32_t i)
{
	return pa->pairs[i].state == PAIR_FREE ? &pa->free : &pa->quar;
}

/* Move every pair whose quarantine ended by now_ms to the tail of the free list, so the
 * free list stays in release order. */
static void expire(struct portalloc *pa, uint64_t now_ms)
{
	while (pa->quar.head != NIL && pa->pairs[pa->quar.head].until <= now_ms) {
		uint32_t i = pa->quar.head;

		list_unlink(pa, &pa->quar, i);
		pa->pairs[i].state = PAIR_FREE;
		list_insert_after(pa, &pa->free, pa->free.tail, i);
	}
}

struct portalloc *portalloc_create(uint16_t min, uint16_t max, uint32_t quarantine_ms)
{
	uint32_t lo = min, hi = max;
	struct portalloc *pa;

	if (lo == 0) {
		errno = EINVAL;
		return NULL;
	}
	lo += lo & 1u;
	if ((hi & 1u) == 0)
		hi = hi == 0 ? 0 : hi - 1; /* the last pair must end on an odd port */
	if (hi < lo + 1) {
		errno = EINVAL;
		return NULL;
	}
	pa = calloc(1, sizeof(*pa));
	if (pa == NULL)
		return NULL;
	pa->min = (uint16_t)lo;
	pa->npairs = (hi - lo + 1) / 2;
	pa->quarantine_ms = quarantine_ms;
	pa->pairs = calloc(pa->npairs, sizeof(*pa->pairs));
	if (pa->pairs == NULL) {
		free(pa);
		errno = ENOMEM;
		return NULL;
	}
	pa->free.head = pa->free.tail = NIL;
	pa->quar.head = pa->quar.tail = NIL;
	for (uint32_t i = 0; i < pa->npairs; i++) {
		pa->pairs[i].state = PAIR_FREE;
		list_insert_after(pa, &pa->free, pa->free.tail, i);
	}
	return pa;
}

void portalloc_destroy(struct portalloc *pa)
{
	if (pa == NULL)
		return;
	free(pa->pairs);
	free(pa);
}

int portalloc_get(struct portalloc *pa, uint64_t now_ms, uint16_t *rtp)
{
	uint32_t i;

	expire(pa, now_ms);
	i = pa->free.head;
	if (i == NIL)
		return -ENOSPC;
	list_unlink(pa, &pa->free, i);
	pa->pairs[i].state = PAIR_USED;
	pa->used++;
	*rtp = (uint16_t)(pa->min + 2 * i);
	return 0;
}

static int index_of(const struct portalloc *pa, uint16_t rtp, uint32_t *i)
{
	if (rtp < pa->min || ((rtp - pa->min) & 1u) != 0)
		return -ERANGE;
	*i = (uint32_t)(rtp - pa->min) / 2;
	if (*i >= pa->npairs)
		return -ERANGE;
	return 0;
}

int portalloc_reserve(struct portalloc *pa, uint16_t rtp)
{
	uint32_t i;
	int rc = index_of(pa, rtp, &i);

	if (rc < 0)
		return rc;
	if (pa->pairs[i].state == PAIR_USED)
		return -EBUSY;
	list_unlink(pa, list_of(pa, i), i);
	pa->pairs[i].state = PAIR_USED;
	pa->used++;
	return 0;
}

int portalloc_put(struct portalloc *pa, uint16_t rtp, uint64_t now_ms)
{
	uint64_t until = now_ms + pa->quarantine_ms;
	uint32_t i, at;
	int rc = index_of(pa, rtp, &i);

	if (rc < 0)
		return rc;
	if (pa->pairs[i].state != PAIR_USED)
		return -ENOENT;
	pa->used--;
	if (pa->quarantine_ms == 0) {
		pa->pairs[i].state = PAIR_FREE;
		list_insert_after(pa, &pa->free, pa->free.tail, i);
		return 0;
	}
	/* Normally the tail; a clock stepping back must not let a later expiry block an
	 * earlier one at the head. */
	at = pa->quar.tail;
	while (at != NIL && pa->pairs[at].until > until)
		at = pa->pairs[at].prev;
	pa->pairs[i].state = PAIR_QUAR;
	pa->pairs[i].until = until;
	list_insert_after(pa, &pa->quar, at, i);
	return 0;
}

int portalloc_cancel(struct portalloc *pa, uint16_t rtp)
{
	uint32_t i;
	int rc = index_of(pa, rtp, &i);

	if (rc < 0)
		return rc;
	if (pa->pairs[i].state != PAIR_USED)
		return -ENOENT;
	pa->used--;
	pa->pairs[i].state = PAIR_FREE;
	list_insert_after(pa, &pa->free, NIL, i);
	return 0;
}

unsigned portalloc_free(const struct portalloc *pa, uint64_t now_ms)
{
	unsigned n = pa->free.count;

	for (uint32_t i = pa->quar.head; i != NIL && pa->pairs[i].until <= now_ms;
	     i = pa->pairs[i].next)
		n++;
	return n;
}

unsigned portalloc_used(const struct portalloc *pa)
{
	return pa->used;
}

unsigned portalloc_total(const struct portalloc *pa)
{
	return pa->npairs;
}
