/* RESP encoding of transactions (see txn.h). Pure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"

#define TXN_MAX_ARGS 64

static bool reserve(struct txn *t, size_t more)
{
	size_t cap;
	char *p;

	if (t->failed)
		return false;
	if (t->len + more <= t->cap)
		return true;
	cap = t->cap != 0 ? t->cap : 4096; /* a command's state + reply fits */
	while (cap < t->len + more)
		cap *= 2;
	p = realloc(t->buf, cap);
	if (p == NULL) {
		t->failed = true;
		return false;
	}
	t->buf = p;
	t->cap = cap;
	return true;
}

static void put(struct txn *t, const char *s, size_t n)
{
	if (!reserve(t, n))
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

/* "*<n>\r\n" or "$<n>\r\n": formatted by hand, this runs for every argument. */
static void put_header(struct txn *t, char kind, size_t n)
{
	char h[24], *p = h + sizeof(h);

	*--p = '\n';
	*--p = '\r';
	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	*--p = kind;
	put(t, p, (size_t)(h + sizeof(h) - p));
}

const char *txn_u64(uint64_t v, char *buf)
{
	char tmp[TXN_U64_LEN], *p = tmp + sizeof(tmp);

	*--p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(buf, p, (size_t)(tmp + sizeof(tmp) - p));
	return buf;
}

void txn_cmd(struct txn *t, int argc, const char *const *argv, const size_t *lens)
{
	put_header(t, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		size_t n = lens != NULL ? lens[i] : strlen(argv[i]);

		put_header(t, '$', n);
		put(t, argv[i], n);
		put(t, "\r\n", 2);
	}
	t->ncmds++;
}

void txn_cmdl(struct txn *t, ...)
{
	const char *argv[TXN_MAX_ARGS];
	int argc = 0;
	va_list ap;
	const char *a;

	va_start(ap, t);
	while ((a = va_arg(ap, const char *)) != NULL && argc < TXN_MAX_ARGS)
		argv[argc++] = a;
	va_end(ap);
	txn_cmd(t, argc, argv, NULL);
}

void txn_init(struct txn *t, const char *entry_id)
{
	memset(t, 0, sizeof(*t));
	if (entry_id != NULL)
		snprintf(t->entry_id, sizeof(t->entry_id), "%s", entry_id);
	txn_cmdl(t, "MULTI", NULL);
}

void txn_clear(struct txn *t)
{
	char *buf = t->buf;
	size_t cap = t->cap;
	struct txn_count *counts = t->counts;
	unsigned ccap = t->counts_cap;

	memset(t, 0, sizeof(*t));
	t->buf = buf;
	t->cap = cap;
	t->counts = counts;
	t->counts_cap = ccap;
}

void txn_append(struct txn *t, const struct txn *src)
{
	if (src->failed) {
		t->failed = true;
		return;
	}
	if (src->len > 0)
		put(t, src->buf, src->len);
	t->ncmds += src->ncmds;
}

void txn_count(struct txn *t, const char *op, const char *result)
{
	if (t->ncounts == t->counts_cap) {
		unsigned cap = t->counts_cap != 0 ? t->counts_cap * 2 : 64;
		struct txn_count *p = realloc(t->counts, cap * sizeof(*p));

		if (p == NULL)
			return;
		t->counts = p;
		t->counts_cap = cap;
	}
	t->counts[t->ncounts].op = op;
	t->counts[t->ncounts].result = result;
	t->ncounts++;
}

void txn_end(struct txn *t)
{
	txn_cmdl(t, "EXEC", NULL);
}

void txn_free(struct txn *t)
{
	free(t->buf);
	free(t->counts);
	memset(t, 0, sizeof(*t));
}

void txn_move(struct txn *dst, struct txn *src)
{
	*dst = *src;
	memset(src, 0, sizeof(*src));
}
