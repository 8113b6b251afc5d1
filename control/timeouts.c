/* Media and final timeouts (see timeouts.h). Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeouts.h"

/* Per call during one pass, in an open-addressing table keyed by the call's dp tag. */
struct slot {
	uint64_t tag; /* 0 = empty (call_dp_tag is never 0) */
	struct call *call;
	uint64_t min_idle; /* over its streams that saw packets; UINT64_MAX if none */
};

struct timeouts {
	const struct options *o;
	struct slot *slots;
	size_t nslots; /* power of two */
	/* Tags whose media timeout was reported and has not ended, sorted. */
	uint64_t *fired;
	size_t nfired, capfired;
	uint64_t *fired_next;
	size_t capnext;
};

struct timeouts *timeouts_create(const struct options *o)
{
	struct timeouts *t = calloc(1, sizeof(*t));

	if (t != NULL)
		t->o = o;
	return t;
}

void timeouts_destroy(struct timeouts *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->fired);
	free(t->fired_next);
	free(t);
}

static size_t hash_tag(uint64_t tag, size_t mask)
{
	tag ^= tag >> 33;
	tag *= 0xff51afd7ed558ccdull;
	tag ^= tag >> 33;
	return (size_t)tag & mask;
}

static struct slot *find(struct timeouts *t, uint64_t tag)
{
	size_t mask = t->nslots - 1, i = hash_tag(tag, mask);

	while (t->slots[i].tag != 0) {
		if (t->slots[i].tag == tag)
			return &t->slots[i];
		i = (i + 1) & mask;
	}
	return NULL;
}

static int fill(struct call *c, void *arg)
{
	struct timeouts *t = arg;
	uint64_t tag = call_dp_tag(c);
	size_t mask = t->nslots - 1, i = hash_tag(tag, mask);

	while (t->slots[i].tag != 0 && t->slots[i].tag != tag)
		i = (i + 1) & mask;
	t->slots[i].tag = tag;
	t->slots[i].call = c;
	t->slots[i].min_idle = UINT64_MAX;
	return 0;
}

static int visit(const struct rpa_dp_stream_info *si, void *arg)
{
	struct timeouts *t = arg;
	struct slot *s;

	if (si->idle_ms == UINT64_MAX || si->stream.tag == 0)
		return 0;
	s = find(t, si->stream.tag);
	if (s != NULL && si->idle_ms < s->min_idle)
		s->min_idle = si->idle_ms;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool fired(const struct timeouts *t, uint64_t tag)
{
	return t->nfired > 0 && bsearch(&tag, t->fired, t->nfired, sizeof(tag), cmp_u64) != NULL;
}

void timeouts_forget(struct timeouts *t, uint64_t tag)
{
	uint64_t *p;

	if (t->nfired == 0)
		return;
	p = bsearch(&tag, t->fired, t->nfired, sizeof(tag), cmp_u64);
	if (p == NULL)
		return;
	memmove(p, p + 1, (t->nfired - (size_t)(p - t->fired) - 1) * sizeof(*p));
	t->nfired--;
}

/* Size the table for n calls (load <= 1/2). */
static int prepare(struct timeouts *t, unsigned n)
{
	size_t want = 16;

	while (want < (size_t)n * 2)
		want *= 2;
	if (want != t->nslots) {
		struct slot *s = malloc(want * sizeof(*s));

		if (s == NULL)
			return -ENOMEM;
		free(t->slots);
		t->slots = s;
		t->nslots = want;
	}
	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	if (t->capnext < n) {
		uint64_t *p = realloc(t->fired_next, (n + 16) * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		t->fired_next = p;
		t->capnext = n + 16;
	}
	return 0;
}

static void add_hit(struct timeout_hit *out, unsigned *n, unsigned cap, const struct call *c,
		    enum timeout_kind kind, bool remove, uint64_t idle)
{
	struct timeout_hit *h;

	if (*n >= cap)
		return;
	h = &out[(*n)++];
	memset(h, 0, sizeof(*h));
	snprintf(h->call_id, sizeof(h->call_id), "%s", call_id(c));
	h->kind = kind;
	h->remove = remove;
	h->idle_ms = idle;
}

unsigned timeouts_check(struct timeouts *t, struct calls *calls, struct dpsync *d, uint64_t now_ms,
			struct timeout_hit *out, unsigned cap)
{
	const uint64_t media_ms = (uint64_t)t->o->media_timeout_s * 1000;
	const uint64_t final_ms = (uint64_t)t->o->final_timeout_s * 1000;
	bool media = media_ms > 0 && dpsync_up(d);
	size_t nnext = 0;
	unsigned n = 0;
	int rc;

	if (media_ms == 0 && final_ms == 0)
		return 0;
	if (prepare(t, calls_count(calls)) < 0) {
		log_error("timeouts: out of memory; skipping this pass");
		return 0;
	}
	calls_walk(calls, fill, t);
	if (media) {
		rc = dpclient_stream_list(dpsync_client(d), visit, t);
		if (rc < 0) {
			if (!dpclient_remote_error(dpsync_client(d)))
				dpsync_fail(d, "stream list", rc);
			media = false;
		}
	}
	for (size_t i = 0; i < t->nslots; i++) {
		struct slot *s = &t->slots[i];
		uint64_t floor, idle;

		if (s->tag == 0)
			continue;
		if (final_ms > 0 && now_ms >= call_created_ms(s->call) + final_ms) {
			add_hit(out, &n, cap, s->call, TIMEOUT_FINAL, true, 0);
			continue;
		}
		if (!media) {
			if (fired(t, s->tag) && nnext < t->capnext)
				t->fired_next[nnext++] = s->tag;
			continue;
		}
		floor = call_updated_ms(s->call);
		if (dpsync_synced_ms(d) > floor)
			floor = dpsync_synced_ms(d);
		idle = now_ms > floor ? now_ms - floor : 0;
		if (s->min_idle < idle)
			idle = s->min_idle;
		if (idle < media_ms)
			continue; /* media flows: a later silence is reported again */
		if (!fired(t, s->tag)) {
			if (n >= cap)
				continue;
			add_hit(out, &n, cap, s->call, TIMEOUT_MEDIA, t->o->media_timeout_delete,
				idle);
		}
		if (nnext < t->capnext)
			t->fired_next[nnext++] = s->tag;
	}
	/* The new fired set: calls still silent (and reported). */
	qsort(t->fired_next, nnext, sizeof(uint64_t), cmp_u64);
	{
		uint64_t *tmp = t->fired;
		size_t tcap = t->capfired;

		t->fired = t->fired_next;
		t->capfired = t->capnext;
		t->nfired = nnext;
		t->fired_next = tmp;
		t->capnext = tcap;
	}
	return n;
}
