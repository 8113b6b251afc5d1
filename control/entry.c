/* Command entry validation (see entry.h). Pure. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "entry.h"
#include "reply.h"

static const char *const op_names[] = {
    [ENTRY_OP_NONE] = "unknown",  [ENTRY_OP_PING] = "ping",
    [ENTRY_OP_OFFER] = "offer",	  [ENTRY_OP_ANSWER] = "answer",
    [ENTRY_OP_DELETE] = "delete", [ENTRY_OP_QUERY] = "query",
    [ENTRY_OP_LIST] = "list",	  [ENTRY_OP_STATISTICS] = "statistics",
};

const char *entry_op_name(enum entry_op op)
{
	return (unsigned)op < sizeof(op_names) / sizeof(op_names[0]) ? op_names[op] : "unknown";
}

bool entry_op_mutates(enum entry_op op)
{
	return op == ENTRY_OP_OFFER || op == ENTRY_OP_ANSWER || op == ENTRY_OP_DELETE;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool entry_id_valid(const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len);

	return len < ENTRY_ID_MAX && dash != NULL && all_digits(s, (size_t)(dash - s)) &&
	       all_digits(dash + 1, len - (size_t)(dash - s) - 1);
}

/* Printable ASCII (0x21..0x7e), plus space when `space`. */
static bool printable(const struct entry_str *v, bool space)
{
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->ptr[i];

		if (c > 0x7e || c < 0x20 || (c == 0x20 && !space))
			return false;
	}
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *p, size_t plen)
{
	return len >= plen && memcmp(s, p, plen) == 0;
}

/* Would reply-to name one of control's own keys? */
static bool reply_to_is_ours(const struct entry_str *v, const char *prefix)
{
	static const char *const families[] = {"commands", "events", "call:", "node:"};
	size_t pl = strlen(prefix);
	const char *rest;
	size_t rl;

	if (!has_prefix(v->ptr, v->len, prefix, pl))
		return false;
	rest = v->ptr + pl;
	rl = v->len - pl;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (has_prefix(rest, rl, families[i], strlen(families[i])))
			return true;
	return has_prefix(rest, rl, "reply:", 6) && entry_id_valid(rest + 6, rl - 6);
}

struct field_rule {
	const char *name;
	size_t max;
	bool space; /* spaces allowed */
};

enum { F_OP, F_CALL_ID, F_FROM_TAG, F_TO_TAG, F_SDP, F_FLAGS, F_REPLY_TO, F_COUNT };

static const struct field_rule rules[F_COUNT] = {
    [F_OP] = {"op", ENTRY_OP_MAX, false},
    [F_CALL_ID] = {"call-id", ENTRY_CALL_ID_MAX, false},
    [F_FROM_TAG] = {"from-tag", ENTRY_TAG_MAX, false},
    [F_TO_TAG] = {"to-tag", ENTRY_TAG_MAX, false},
    [F_SDP] = {"sdp", ENTRY_SDP_MAX, true},
    [F_FLAGS] = {"flags", ENTRY_FLAGS_MAX, true},
    [F_REPLY_TO] = {"reply-to", ENTRY_REPLY_TO_MAX, false},
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int entry_parse(const struct entry_str *fields, size_t nfields, const char *key_prefix,
		struct entry *out, char *err, size_t errlen)
{
	const struct entry_str *val[F_COUNT] = {NULL};
	const struct entry_str *rt;
	char opbuf[ENTRY_OP_MAX + 1];
	size_t i, bad;
	int f, dup = -1;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (nfields % 2 != 0)
		return fail(err, errlen, "malformed entry: odd number of fields (%zu)", nfields);
	if (nfields / 2 > ENTRY_FIELDS_MAX)
		return fail(err, errlen, "too many fields: %zu pairs (limit %d)", nfields / 2,
			    ENTRY_FIELDS_MAX);
	for (i = 0; i < nfields; i += 2) {
		for (f = 0; f < F_COUNT; f++)
			if (fields[i].len == strlen(rules[f].name) &&
			    memcmp(fields[i].ptr, rules[f].name, fields[i].len) == 0)
				break;
		if (f == F_COUNT)
			continue; /* unknown fields are ignored: newer proxies may add some */
		if (val[f] != NULL) {
			if (f == F_REPLY_TO)
				return fail(err, errlen, "field 'reply-to' is given twice");
			if (dup < 0)
				dup = f;
			continue;
		}
		val[f] = &fields[i + 1];
	}

	/* reply-to first: every later error is reported through it. */
	rt = val[F_REPLY_TO];
	if (rt == NULL || rt->len == 0)
		return fail(err, errlen, "missing reply-to");
	if (rt->len > ENTRY_REPLY_TO_MAX)
		return fail(err, errlen, "reply-to too long: %zu bytes (limit %d)", rt->len,
			    ENTRY_REPLY_TO_MAX);
	if (!printable(rt, false))
		return fail(err, errlen, "reply-to contains a byte outside printable ASCII");
	if (reply_to_is_ours(rt, key_prefix))
		return fail(err, errlen, "reply-to '%s' names one of control's own keys", rt->ptr);
	out->reply_to = rt->ptr;
	out->reply_to_len = rt->len;
	if (dup >= 0)
		return fail(err, errlen, "field '%s' is given twice", rules[dup].name);

	if (val[F_OP] == NULL || val[F_OP]->len == 0)
		return fail(err, errlen, "missing op");
	if (val[F_OP]->len <= ENTRY_OP_MAX) {
		memcpy(opbuf, val[F_OP]->ptr, val[F_OP]->len);
		opbuf[val[F_OP]->len] = '\0';
		for (i = 1; i < sizeof(op_names) / sizeof(op_names[0]); i++)
			if (val[F_OP]->len == strlen(op_names[i]) &&
			    memcmp(opbuf, op_names[i], val[F_OP]->len) == 0)
				out->op = (enum entry_op)i;
	}
	if (out->op == ENTRY_OP_NONE) {
		char shown[ENTRY_OP_MAX + 1];
		size_t n = val[F_OP]->len < ENTRY_OP_MAX ? val[F_OP]->len : ENTRY_OP_MAX;

		memcpy(shown, val[F_OP]->ptr, n);
		shown[n] = '\0';
		reply_sanitize(shown, shown, sizeof(shown));
		return fail(err, errlen,
			    "unknown op '%s%s' (ping, offer, answer, delete, query, list, "
			    "statistics)",
			    shown, val[F_OP]->len > n ? "..." : "");
	}

	for (f = F_CALL_ID; f < F_COUNT; f++) {
		const struct entry_str *v = val[f];

		if (v == NULL || f == F_REPLY_TO)
			continue;
		if (v->len > rules[f].max)
			return fail(err, errlen, "%s too long: %zu bytes (limit %zu)",
				    rules[f].name, v->len, rules[f].max);
		if (f == F_SDP) {
			bad = reply_utf8_check((const unsigned char *)v->ptr, v->len);
			if (bad != v->len)
				return fail(err, errlen,
					    "sdp is not UTF-8 text: byte 0x%02x at offset %zu",
					    (unsigned char)v->ptr[bad], bad);
		} else if (!printable(v, rules[f].space)) {
			return fail(err, errlen, "%s contains a byte outside printable ASCII%s",
				    rules[f].name, rules[f].space ? "" : " or a space");
		}
	}

	switch (out->op) {
	case ENTRY_OP_OFFER:
	case ENTRY_OP_ANSWER:
		if (val[F_SDP] == NULL || val[F_SDP]->len == 0)
			return fail(err, errlen, "missing sdp (required by %s)",
				    entry_op_name(out->op));
		/* fall through */
	case ENTRY_OP_DELETE:
		if (val[F_FROM_TAG] == NULL || val[F_FROM_TAG]->len == 0)
			return fail(err, errlen, "missing from-tag (required by %s)",
				    entry_op_name(out->op));
		/* fall through */
	case ENTRY_OP_QUERY:
		if (val[F_CALL_ID] == NULL || val[F_CALL_ID]->len == 0)
			return fail(err, errlen, "missing call-id (required by %s)",
				    entry_op_name(out->op));
		break;
	default:
		break;
	}

#define TAKE(f, dst)                                                                               \
	do {                                                                                       \
		if (val[f] != NULL && val[f]->len > 0)                                             \
			out->dst = val[f]->ptr;                                                    \
	} while (0)
	TAKE(F_CALL_ID, call_id);
	TAKE(F_FROM_TAG, from_tag);
	TAKE(F_TO_TAG, to_tag);
	TAKE(F_FLAGS, flags);
#undef TAKE
	if (val[F_SDP] != NULL && val[F_SDP]->len > 0) {
		out->sdp = val[F_SDP]->ptr;
		out->sdp_len = val[F_SDP]->len;
	}
	return 0;
}
