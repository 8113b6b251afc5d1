/* Compact JSON encoder (see jsonenc.h). Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonenc.h"

void jsonenc_raw(struct jsonenc *e, const char *s, size_t n)
{
	if (e->failed)
		return;
	if (e->len + n + 1 > e->cap) {
		size_t cap = e->cap != 0 ? e->cap : 512;
		char *p;

		while (cap < e->len + n + 1)
			cap *= 2;
		p = realloc(e->p, cap);
		if (p == NULL) {
			e->failed = true;
			return;
		}
		e->p = p;
		e->cap = cap;
	}
	memcpy(e->p + e->len, s, n);
	e->len += n;
	e->p[e->len] = '\0';
}

void jsonenc_string(struct jsonenc *e, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	jsonenc_raw(e, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t el = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jsonenc_raw(e, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			el = 6;
		}
		jsonenc_raw(e, esc, el);
	}
	jsonenc_raw(e, s + run, n - run);
	jsonenc_raw(e, "\"", 1);
}

static void integer(struct jsonenc *e, json_int_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	jsonenc_raw(e, p, (size_t)(buf + sizeof(buf) - p));
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
		integer(e, json_integer_value(v));
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
