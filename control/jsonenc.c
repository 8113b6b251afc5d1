/* Compact JSON encoder (see jsonenc.h). Pure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonenc.h"

/* Room for n more bytes and the NUL; false (and e->failed) when out of memory. */
static bool reserve(struct jsonenc *e, size_t n)
{
	size_t cap;
	char *p;

	if (e->failed)
		return false;
	if (e->len + n + 1 <= e->cap)
		return true;
	if (n > SIZE_MAX / 2 - e->len) {
		e->failed = true;
		return false;
	}
	cap = e->cap != 0 ? e->cap : 512;
	while (cap < e->len + n + 1)
		cap *= 2;
	p = realloc(e->p, cap);
	if (p == NULL) {
		e->failed = true;
		return false;
	}
	e->p = p;
	e->cap = cap;
	return true;
}

void jsonenc_raw(struct jsonenc *e, const char *s, size_t n)
{
	if (!reserve(e, n))
		return;
	memcpy(e->p + e->len, s, n);
	e->len += n;
	e->p[e->len] = '\0';
}

void jsonenc_string(struct jsonenc *e, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o;

	/* At most 6 bytes per input byte (\u00XX) and the quotes: written in place, byte
	 * by byte (an SDP goes through here for every reply). */
	if (n > SIZE_MAX / 8 || !reserve(e, 6 * n + 2))
		return;
	o = e->p + e->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	*o++ = '"';
	e->len = (size_t)(o - e->p);
	e->p[e->len] = '\0';
}

static void decimal(struct jsonenc *e, unsigned long long u, bool neg)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (neg)
		*--p = '-';
	jsonenc_raw(e, p, (size_t)(buf + sizeof(buf) - p));
}

void jsonenc_int(struct jsonenc *e, long long v)
{
	decimal(e, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, v < 0);
}

void jsonenc_uint(struct jsonenc *e, unsigned long long v)
{
	decimal(e, v, false);
}

static void value(struct jsonenc *e, const json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i;
	char num[32];
	int n;

	if (depth > JSONENC_DEPTH_MAX) {
		e->failed = true;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jsonenc_raw(e, "{", 1);
		i = 0;
		json_object_foreach((json_t *)v, key, item)
		{
			if (i++ > 0)
				jsonenc_raw(e, ",", 1);
			jsonenc_string(e, key, strlen(key));
			jsonenc_raw(e, ":", 1);
			value(e, item, depth + 1);
		}
		jsonenc_raw(e, "}", 1);
		return;
	case JSON_ARRAY:
		jsonenc_raw(e, "[", 1);
		json_array_foreach(v, i, item)
		{
			if (i > 0)
				jsonenc_raw(e, ",", 1);
			value(e, item, depth + 1);
		}
		jsonenc_raw(e, "]", 1);
		return;
	case JSON_STRING:
		jsonenc_string(e, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		jsonenc_int(e, json_integer_value(v));
		return;
	case JSON_REAL:
		n = snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		/* A real keeps a fraction or exponent so it reads back as a real. */
		if (n > 0 && strpbrk(num, ".eE") == NULL && (size_t)n + 2 < sizeof(num)) {
			strcat(num, ".0");
			n += 2;
		}
		/* inf and nan have no JSON form (jansson refuses them too). */
		if (n <= 0 || strpbrk(num, "ni") != NULL) {
			e->failed = true;
			return;
		}
		jsonenc_raw(e, num, (size_t)n);
		return;
	case JSON_TRUE:
		jsonenc_raw(e, "true", 4);
		return;
	case JSON_FALSE:
		jsonenc_raw(e, "false", 5);
		return;
	case JSON_NULL:
		jsonenc_raw(e, "null", 4);
		return;
	}
	e->failed = true;
}

void jsonenc_value(struct jsonenc *e, const json_t *v)
{
	if (v == NULL) {
		e->failed = true;
		return;
	}
	value(e, v, 0);
}

void jsonenc_reset(struct jsonenc *e)
{
	e->len = 0;
	e->failed = false;
	if (e->p != NULL)
		e->p[0] = '\0';
}

void jsonenc_free(struct jsonenc *e)
{
	free(e->p);
	e->p = NULL;
	e->len = e->cap = 0;
	e->failed = false;
}
