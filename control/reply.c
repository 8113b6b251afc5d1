/* Reply encoding (see reply.h). Pure. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "jsonenc.h"
#include "reply.h"

#define REPLY_REASON_MAX 512

size_t reply_utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values beyond U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

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
	struct jsonenc e = {0};
	json_t *j = NULL, *v;

	if (sdp != NULL && reply_utf8_check((const unsigned char *)sdp, sdp_len) != sdp_len) {
		json_decref(extra);
		return NULL;
	}
	if (extra == NULL) {
		/* offer and answer: by hand, they are most of the traffic. */
		jsonenc_raw(&e, "{\"result\":\"ok\"", 14);
		if (sdp != NULL) {
			jsonenc_raw(&e, ",\"sdp\":", 7);
			jsonenc_string(&e, sdp, sdp_len);
		}
		if (warning != NULL && warning[0] != '\0') {
			reply_sanitize(warning, clean, sizeof(clean));
			jsonenc_raw(&e, ",\"warning\":", 11);
			jsonenc_string(&e, clean, strlen(clean));
		}
		jsonenc_raw(&e, "}", 1);
		if (e.failed) {
			jsonenc_free(&e);
			return NULL;
		}
		return e.p;
	}
	j = json_object();
	if (j == NULL || json_object_update(j, extra) < 0)
		goto fail;
	if (json_object_set_new(j, "result", json_string("ok")) < 0)
		goto fail;
	if (sdp != NULL) {
		v = json_stringn(sdp, sdp_len);
		if (v == NULL || json_object_set_new(j, "sdp", v) < 0)
			goto fail;
	}
	if (warning != NULL && warning[0] != '\0' &&
	    json_object_set_new(j, "warning",
				json_string(reply_sanitize(warning, clean, sizeof(clean)))) < 0)
		goto fail;
	json_decref(extra);
	return encode(j);
fail:
	json_decref(extra);
	json_decref(j);
	return NULL;
}

static json_t *endpoint(const struct rpa_endpoint *e)
{
	char buf[RPA_ENDPOINT_STRLEN];

	if (rpa_addr_is_unspec(&e->addr))
		return json_null();
	return json_string(rpa_endpoint_format(e, buf, sizeof(buf)));
}

static const char *suite(unsigned s)
{
	const char *n = s == RPA_DP_SRTP_NONE ? "none" : rpa_dp_srtp_suite_name(s);

	return n != NULL ? n : "?";
}

json_t *reply_stream(const struct call_stream *cs, const struct rpa_dp_stream_info *si,
		     uint64_t now_ms)
{
	json_t *s =
	    json_pack("{s:o, s:s, s:i, s:s, s:s, s:s, s:b}", "local", endpoint(&cs->dp.local),
		      "from-tag", cs->from_tag, "media", cs->media, "component",
		      cs->component == 2 ? "rtcp" : "rtp", "crypto-in", suite(cs->srtp_in),
		      "crypto-out", suite(cs->srtp_out), "sdes-passthrough", cs->sdes_passthrough);

	if (s == NULL)
		return NULL;
	if (si == NULL) {
		json_object_set_new(s, "installed", json_false());
		json_object_set_new(s, "peer", endpoint(&cs->dp.dst));
		json_object_set_new(s, "source", endpoint(&cs->dp.expect));
		return s;
	}
	json_object_set_new(s, "installed", json_true());
	json_object_set_new(s, "peer", endpoint(&si->stream.dst));
	json_object_set_new(s, "source", endpoint(&si->stream.expect));
	json_object_set_new(s, "latched", json_boolean(si->latched));
	json_object_set_new(s, "packets", json_integer((json_int_t)si->packets));
	json_object_set_new(s, "bytes", json_integer((json_int_t)si->bytes));
	json_object_set_new(s, "drops", json_integer((json_int_t)si->drops));
	/* Among the drops: SRTP/SRTCP packets that failed authentication (tampered, wrong
	 * key), replays, and the rest (too short, unknown MKI...). */
	json_object_set_new(s, "srtp-auth-fail", json_integer((json_int_t)si->srtp_auth_fail));
	json_object_set_new(s, "srtp-replay", json_integer((json_int_t)si->srtp_replay));
	json_object_set_new(s, "srtp-other", json_integer((json_int_t)si->srtp_other));
	if (si->idle_ms == UINT64_MAX || si->idle_ms > now_ms) {
		json_object_set_new(s, "last-seen", json_null());
		json_object_set_new(s, "idle-ms", json_null());
	} else {
		json_object_set_new(s, "last-seen",
				    json_integer((json_int_t)(now_ms - si->idle_ms)));
		json_object_set_new(s, "idle-ms", json_integer((json_int_t)si->idle_ms));
	}
	return s;
}
