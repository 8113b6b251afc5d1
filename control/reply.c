/* Reply encoding (see reply.h). Pure. */
#include <stdlib.h>
#include <string.h>

#include "reply.h"

#define REPLY_REASON_MAX 512

char *reply_sanitize(const char *s, char *out, size_t cap)
{
	size_t i = 0;

	if (cap == 0)
		return out;
	for (; s != NULL && s[i] != '\0' && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[i] = '\0';
	return out;
}

static char *encode(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *reply_pong(void)
{
	return encode(json_pack("{s:s}", "result", "pong"));
}

char *reply_error(const char *reason)
{
	char clean[REPLY_REASON_MAX];

	reply_sanitize(reason != NULL && reason[0] != '\0' ? reason : "unspecified error", clean,
		       sizeof(clean));
	return encode(json_pack("{s:s, s:s}", "result", "error", "error-reason", clean));
}

char *reply_ok(const char *sdp, size_t sdp_len, const char *warning, json_t *extra)
{
	char clean[REPLY_REASON_MAX];
	json_t *o = json_object(), *v;

	if (o == NULL)
		goto fail;
	if (extra != NULL && json_object_update(o, extra) < 0)
		goto fail;
	if (json_object_set_new(o, "result", json_string("ok")) < 0)
		goto fail;
	if (sdp != NULL) {
		v = json_stringn(sdp, sdp_len);
		if (v == NULL || json_object_set_new(o, "sdp", v) < 0)
			goto fail;
	}
	if (warning != NULL && warning[0] != '\0' &&
	    json_object_set_new(o, "warning",
				json_string(reply_sanitize(warning, clean, sizeof(clean)))) < 0)
		goto fail;
	json_decref(extra);
	return encode(o);
fail:
	json_decref(extra);
	json_decref(o);
	return NULL;
}
