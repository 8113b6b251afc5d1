/* The call table: calls by call-id in a chained hash table (O(1) average) and the calls
 * waiting for their delete time in a min-heap. Control main thread only. */
#include "call_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 64u

uint64_t call_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

const char *call_shown(const char *s, char *buf, size_t cap)
{
	size_t n = 0;

	if (s == NULL)
		s = "";
	for (; s[n] != '\0' && n + 4 < cap && n < 64; n++)
		buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
	if (s[n] != '\0' && n + 4 <= cap) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

struct calls *calls_create(const struct calls_config *cfg)
{
	struct calls *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cfg = *cfg;
	t->nbuckets = INITIAL_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (t->buckets == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void calls_destroy(struct calls *t)
{
	if (t == NULL)
		return;
	for (uint32_t b = 0; b < t->nbuckets; b++) {
		struct call *c = t->buckets[b], *next;

		for (; c != NULL; c = next) {
			next = c->hnext;
			call_put_ports(c, 0);
			call_free(c);
		}
	}
	free(t->buckets);
	free(t->heap);
	free(t);
}

struct call *calls_find(struct calls *t, const char *id)
{
	size_t len = strnlen(id, CALL_ID_MAX + 1);
	uint64_t h = call_hash(id, len);

	if (len > CALL_ID_MAX)
		return NULL;
	for (struct call *c = t->buckets[h & (t->nbuckets - 1)]; c != NULL; c = c->hnext)
		if (c->hash == h && strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

unsigned calls_count(const struct calls *t)
{
	return t->count;
}

int calls_walk(struct calls *t, calls_walk_cb cb, void *arg)
{
	for (uint32_t b = 0; b < t->nbuckets; b++) {
		for (struct call *c = t->buckets[b]; c != NULL; c = c->hnext) {
			int rc = cb(c, arg);

			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static void grow(struct calls *t)
{
	uint32_t n = t->nbuckets * 2;
	struct call **nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return; /* longer chains, still correct */
	for (uint32_t b = 0; b < t->nbuckets; b++) {
		struct call *c = t->buckets[b], *next;

		for (; c != NULL; c = next) {
			next = c->hnext;
			c->hnext = nb[c->hash & (n - 1)];
			nb[c->hash & (n - 1)] = c;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

int calls_insert(struct calls *t, struct call *c)
{
	struct call **b;

	if (t->count >= t->nbuckets && t->nbuckets < (1u << 30))
		grow(t);
	c->hash = call_hash(c->id, strlen(c->id));
	b = &t->buckets[c->hash & (t->nbuckets - 1)];
	c->hnext = *b;
	*b = c;
	c->heap_idx = CALL_NO_HEAP;
	t->count++;
	calls_heap_update(t, c);
	return 0;
}

/* Heap on delete_at_ms. */
static bool before(const struct call *a, const struct call *b)
{
	return a->delete_at_ms < b->delete_at_ms;
}

static void heap_set(struct calls *t, uint32_t i, struct call *c)
{
	t->heap[i] = c;
	c->heap_idx = i;
}

static void sift_up(struct calls *t, uint32_t i)
{
	struct call *c = t->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!before(c, t->heap[p]))
			break;
		heap_set(t, i, t->heap[p]);
		i = p;
	}
	heap_set(t, i, c);
}

static void sift_down(struct calls *t, uint32_t i)
{
	struct call *c = t->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		struct call *best = c;

		if (l < t->heap_len && before(t->heap[l], best))
			best = t->heap[m = l];
		if (l + 1 < t->heap_len && before(t->heap[l + 1], best))
			best = t->heap[m = l + 1];
		if (m == i)
			break;
		heap_set(t, i, best);
		i = m;
	}
	heap_set(t, i, c);
}

static void heap_remove(struct calls *t, struct call *c)
{
	uint32_t i = c->heap_idx;
	struct call *last;

	if (i == CALL_NO_HEAP)
		return;
	c->heap_idx = CALL_NO_HEAP;
	last = t->heap[--t->heap_len];
	if (last == c)
		return;
	heap_set(t, i, last);
	sift_up(t, i);
	sift_down(t, last->heap_idx);
}

int calls_heap_reserve(struct calls *t)
{
	if (t->heap_len < t->heap_cap)
		return 0;
	uint32_t n = t->heap_cap ? t->heap_cap * 2 : 64;
	struct call **h = realloc(t->heap, n * sizeof(*h));

	if (h == NULL)
		return -ENOMEM;
	t->heap = h;
	t->heap_cap = n;
	return 0;
}

void calls_heap_update(struct calls *t, struct call *c)
{
	if (c->delete_at_ms == 0) {
		heap_remove(t, c);
		return;
	}
	if (c->heap_idx == CALL_NO_HEAP) {
		/* The caller reserved room with calls_heap_reserve. */
		heap_set(t, t->heap_len++, c);
		sift_up(t, c->heap_idx);
		return;
	}
	sift_up(t, c->heap_idx);
	sift_down(t, c->heap_idx);
}

void calls_unlink(struct calls *t, struct call *c)
{
	struct call **p = &t->buckets[c->hash & (t->nbuckets - 1)];

	while (*p != NULL && *p != c)
		p = &(*p)->hnext;
	if (*p == c) {
		*p = c->hnext;
		t->count--;
	}
	heap_remove(t, c);
	c->hnext = NULL;
}

void calls_replace(struct calls *t, struct call *to, struct call *from)
{
	struct call *hnext = to->hnext;
	uint32_t heap_idx = to->heap_idx;
	uint64_t hash = to->hash;
	struct call old = *to;

	*to = *from;
	to->hnext = hnext;
	to->heap_idx = heap_idx;
	to->hash = hash;
	if (heap_idx != CALL_NO_HEAP)
		t->heap[heap_idx] = to;
	calls_heap_update(t, to);
	/* The old arrays go; `from`'s arrays now belong to `to`. */
	call_free_contents(&old);
	free(from);
}

unsigned calls_due(struct calls *t, uint64_t now_ms, struct call **out, unsigned cap)
{
	/* Depth-first over the heap: a node that is not due has no due descendant. */
	uint32_t stack[64 * 2];
	unsigned n = 0, sp = 0;

	if (t->heap_len == 0 || cap == 0)
		return 0;
	stack[sp++] = 0;
	while (sp > 0 && n < cap) {
		uint32_t i = stack[--sp];

		if (t->heap[i]->delete_at_ms > now_ms)
			continue;
		out[n++] = t->heap[i];
		for (uint32_t k = 2 * i + 1; k <= 2 * i + 2; k++)
			if (k < t->heap_len && sp < sizeof(stack) / sizeof(stack[0]))
				stack[sp++] = k;
	}
	return n;
}

void calls_remove(struct calls *t, struct call *c, uint64_t now_ms)
{
	calls_unlink(t, c);
	call_put_ports(c, now_ms);
	call_free(c);
}
