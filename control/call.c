/* Calls: the call object's lifetime and accessors, command checks and dispatch
 * (calls_apply) and delete; offer and answer are in call_negotiate.c. Control main thread
 * only; no I/O. */
#include "call_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the call object ---- */

void call_media_clear(struct call_media *m)
{
	if (m->sdes != NULL) {
		sdes_wipe(m->sdes, sizeof(*m->sdes));
		free(m->sdes);
	}
	memset(m, 0, sizeof(*m));
}

/* Key material is wiped before the memory goes back (peers hold the parties' keys). */
void call_free_contents(struct call *c)
{
	if (c->party != NULL)
		for (unsigned i = 0; i < c->party_cap; i++) {
			if (c->party[i].peer != NULL)
				sdes_wipe(c->party[i].peer, c->nmedia * sizeof(struct call_peer));
			free(c->party[i].peer);
		}
	if (c->media != NULL)
		for (unsigned i = 0; i < c->nmedia; i++)
			call_media_clear(&c->media[i]);
	free(c->party);
	free(c->media);
	c->party = NULL;
	c->media = NULL;
	c->nparties = 0;
	c->party_cap = 0;
}

void call_free(struct call *c)
{
	if (c == NULL)
		return;
	call_free_contents(c);
	free(c);
}

/* Party arrays hold nparties + 1 entries (room for a new branch); each peer array holds
 * nmedia entries. */
static int alloc_arrays(struct call *c, unsigned nmedia, unsigned nparties)
{
	c->media = calloc(nmedia ? nmedia : 1, sizeof(*c->media));
	c->party = calloc(nparties + 1, sizeof(*c->party));
	if (c->media == NULL || c->party == NULL)
		return -ENOMEM;
	c->party_cap = (uint8_t)(nparties + 1);
	for (unsigned i = 0; i <= nparties; i++) {
		c->party[i].peer = calloc(nmedia ? nmedia : 1, sizeof(struct call_peer));
		if (c->party[i].peer == NULL)
			return -ENOMEM;
	}
	return 0;
}

struct call *call_new(const struct calls_config *cfg, unsigned nmedia)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cfg = cfg;
	c->heap_idx = CALL_NO_HEAP;
	c->nparties = 0;
	if (alloc_arrays(c, nmedia, 1) < 0) {
		call_free(c);
		return NULL;
	}
	c->nmedia = (uint8_t)nmedia;
	c->nparties = 1;
	return c;
}

struct call *call_clone(const struct call *c, unsigned nmedia)
{
	struct call *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	*n = *c;
	n->hnext = NULL;
	n->heap_idx = CALL_NO_HEAP;
	n->media = NULL;
	n->party = NULL;
	n->party_cap = 0;
	if (nmedia < c->nmedia)
		nmedia = c->nmedia;
	if (alloc_arrays(n, nmedia, c->nparties) < 0) {
		call_free(n);
		return NULL;
	}
	memcpy(n->media, c->media, c->nmedia * sizeof(*c->media));
	for (unsigned i = 0; i < c->nmedia; i++) {
		if (c->media[i].sdes == NULL)
			continue;
		n->media[i].sdes = malloc(sizeof(struct call_sdes));
		if (n->media[i].sdes == NULL) {
			for (unsigned k = i; k < c->nmedia; k++)
				n->media[k].sdes = NULL; /* still c's: not to be freed with n */
			call_free(n);
			return NULL;
		}
		*n->media[i].sdes = *c->media[i].sdes;
	}
	for (unsigned i = 0; i < c->nparties; i++) {
		struct call_peer *peer = n->party[i].peer;

		n->party[i] = c->party[i];
		n->party[i].peer = peer;
		memcpy(peer, c->party[i].peer, c->nmedia * sizeof(*peer));
	}
	n->nmedia = (uint8_t)nmedia;
	return n;
}

void call_put_ports(struct call *c, uint64_t now_ms)
{
	for (unsigned i = 0; i < c->nmedia; i++)
		for (unsigned s = 0; s < CALL_SIDES; s++)
			if (c->media[i].port[s] != 0)
				portalloc_put(c->cfg->ifaces[c->iface[s]].ports,
					      c->media[i].port[s], now_ms);
}

const char *call_id(const struct call *c)
{
	return c->id;
}

const char *call_owner(const struct call *c)
{
	return c->owner;
}

uint64_t call_created_ms(const struct call *c)
{
	return c->created_ms;
}

uint64_t call_updated_ms(const struct call *c)
{
	return c->updated_ms;
}

uint64_t call_delete_at_ms(const struct call *c)
{
	return c->delete_at_ms;
}

uint64_t call_dp_tag(const struct call *c)
{
	/* FNV-1a through a finaliser (splitmix64) so similar call-ids spread. */
	uint64_t h = call_hash(c->id, strlen(c->id));

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h != 0 ? h : 1;
}

void call_result_clear(struct call_result *out)
{
	if (out->sdp != NULL)
		sdes_wipe(out->sdp, out->sdp_len); /* it may carry the relay's keys */
	free(out->sdp);
	out->sdp = NULL;
	out->sdp_len = 0;
}

/* ---- errors and warnings ---- */

int call_fail(struct call_result *out, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
	out->status = rc;
	return rc;
}

void call_warn(struct call_result *out, const char *msg)
{
	size_t n = strlen(out->warning);

	if (strstr(out->warning, msg) != NULL)
		return;
	snprintf(out->warning + n, sizeof(out->warning) - n, "%s%s", n ? "; " : "", msg);
}

/* ---- request checks ---- */

static bool present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int check_str(const char *s, size_t max, bool required, const char *what,
		     struct call_result *out)
{
	if (!present(s))
		return required ? call_fail(out, -EINVAL, "%s missing", what) : 0;
	if (strnlen(s, max + 1) > max)
		return call_fail(out, -EINVAL, "%s longer than %zu bytes", what, max);
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return call_fail(out, -EINVAL, "%s contains a control character", what);
	return 0;
}

int call_party_index(const struct call *c, const char *tag)
{
	if (!present(tag))
		return -1;
	for (unsigned i = 0; i < c->nparties; i++)
		if (strcmp(c->party[i].tag, tag) == 0)
			return (int)i;
	return -1;
}

/* ---- delete ---- */

static void remove_now(struct calls *t, struct call *c, uint64_t now, struct call_result *out)
{
	snprintf(out->removed_id, sizeof(out->removed_id), "%s", c->id);
	calls_remove(t, c, now);
	out->removed = true;
	out->call = NULL;
}

static int delete_call(struct calls *t, struct call *c, uint32_t delay_s, uint64_t now,
		       struct call_result *out)
{
	uint64_t at;

	if (delay_s == 0) {
		remove_now(t, c, now, out);
		return 0;
	}
	at = now + (uint64_t)delay_s * 1000u;
	if (c->delete_at_ms != 0 && c->delete_at_ms <= at) {
		out->call = c; /* already due earlier */
		return 0;
	}
	if (calls_heap_reserve(t) < 0)
		return call_fail(out, -ENOMEM, "out of memory");
	c->delete_at_ms = at;
	c->updated_ms = now;
	calls_heap_update(t, c);
	out->call = c;
	return 0;
}

/* Remove branch party b (>= 1) from a copy of c. */
static int delete_branch(struct calls *t, struct call *c, unsigned b, uint64_t now,
			 struct call_result *out)
{
	struct call *n = call_clone(c, c->nmedia);

	if (n == NULL)
		return call_fail(out, -ENOMEM, "out of memory");
	sdes_wipe(n->party[b].peer, n->nmedia * sizeof(struct call_peer));
	free(n->party[b].peer);
	memmove(&n->party[b], &n->party[b + 1], (n->nparties - b) * sizeof(n->party[0]));
	n->party[n->nparties].peer = NULL; /* moved down one */
	n->nparties--;
	if (n->offer.from == b)
		n->offer.valid = false;
	else if (n->offer.from > b)
		n->offer.from--;
	if (n->active == b)
		n->active = (uint8_t)(n->nparties - 1); /* the latest remaining branch, or none */
	else if (n->active > b)
		n->active--;
	n->updated_ms = now;
	calls_replace(t, c, n);
	out->call = c;
	return 0;
}

static int apply_delete(struct calls *t, const struct call_request *req, const struct flags *fl,
			uint64_t now, struct call_result *out)
{
	uint32_t delay = fl->has_delete_delay ? fl->delete_delay_s : t->cfg.delete_delay_s;
	struct call *c = calls_find(t, req->call_id);
	char b1[80], b2[80];
	int b = -1;

	if (c == NULL)
		return call_fail(out, -ENOENT, "unknown call '%s'",
				 call_shown(req->call_id, b1, sizeof(b1)));
	if (present(req->to_tag) && call_party_index(c, req->to_tag) > 0)
		b = call_party_index(c, req->to_tag);
	else if (present(req->from_tag) && call_party_index(c, req->from_tag) > 0)
		b = call_party_index(c, req->from_tag); /* the callee's BYE: from = the branch */
	if (b < 0) {
		if (present(req->to_tag) && call_party_index(c, req->to_tag) != 0)
			return call_fail(out, -ENOENT, "call '%s' has no party with tag '%s'",
					 call_shown(req->call_id, b1, sizeof(b1)),
					 call_shown(req->to_tag, b2, sizeof(b2)));
		if (present(req->from_tag) && call_party_index(c, req->from_tag) < 0)
			return call_fail(out, -ENOENT, "call '%s' has no party with tag '%s'",
					 call_shown(req->call_id, b1, sizeof(b1)),
					 call_shown(req->from_tag, b2, sizeof(b2)));
		return delete_call(t, c, delay, now, out);
	}
	/* One branch. The call goes with its last branch unless the caller's offer still
	 * waits for an answer; a delay keeps the branch forwarding until then. */
	if (c->nparties == 2 && !(c->offer.valid && c->offer.from == 0 && !c->offer.answered))
		return delete_call(t, c, delay, now, out);
	return delete_branch(t, c, (unsigned)b, now, out);
}

int calls_apply(struct calls *t, const struct call_request *req, uint64_t now_ms,
		struct call_result *out)
{
	char err[CALL_ERRLEN] = "";
	struct flags fl;
	int rc;

	memset(out, 0, sizeof(*out));
	if (check_str(req->call_id, CALL_ID_MAX, true, "call-id", out) < 0 ||
	    check_str(req->from_tag, CALL_TAG_MAX, req->op != CALL_OP_DELETE, "from-tag", out) <
		0 ||
	    check_str(req->to_tag, CALL_TAG_MAX, req->op == CALL_OP_ANSWER, "to-tag", out) < 0)
		return out->status;
	rc = flags_parse(req->flags, &fl, err, sizeof(err));
	if (rc < 0)
		return call_fail(out, rc, "%s", err);
	switch (req->op) {
	case CALL_OP_OFFER:
		return call_negotiate_offer(t, req, &fl, now_ms, out);
	case CALL_OP_ANSWER:
		return call_negotiate_answer(t, req, &fl, now_ms, out);
	case CALL_OP_DELETE:
		return apply_delete(t, req, &fl, now_ms, out);
	}
	return call_fail(out, -EINVAL, "unknown operation %d", (int)req->op);
}
