/* Parsing of a command's flags field into struct flags. Pure, any thread. */
#include "flags.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const mux_names[] = {
    [FLAGS_MUX_DEFAULT] = "default", [FLAGS_MUX_OFFER] = "offer",   [FLAGS_MUX_REQUIRE] = "require",
    [FLAGS_MUX_DEMUX] = "demux",     [FLAGS_MUX_ACCEPT] = "accept", [FLAGS_MUX_REJECT] = "reject",
};

const char *flags_rtcp_mux_name(enum flags_rtcp_mux m)
{
	if ((unsigned)m >= sizeof(mux_names) / sizeof(mux_names[0]))
		return "?";
	return mux_names[m];
}

int flags_rtcp_mux_parse(const char *name, enum flags_rtcp_mux *out)
{
	for (unsigned i = 0; i < sizeof(mux_names) / sizeof(mux_names[0]); i++) {
		if (strcmp(name, mux_names[i]) == 0) {
			*out = (enum flags_rtcp_mux)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* A word as it may appear in a message: printable ASCII only, at most 64 bytes shown. */
static const char *shown(const char *w, size_t len, char *buf, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 4 < cap && i < 64; i++)
		buf[n++] = (w[i] >= 0x20 && w[i] < 0x7f) ? w[i] : '?';
	if (len > 64 && n + 4 < cap) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* "<what> flag '<word>'", then " (<hint>)" when hint is not NULL. */
static int fail(char *err, size_t errlen, const char *what, const char *w, size_t len,
		const char *hint)
{
	char b[80];

	snprintf(err, errlen, "%s flag '%s'%s%s%s", what, shown(w, len, b, sizeof(b)),
		 hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	return -EINVAL;
}

static bool is_word(const char *w, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(w, name, len) == 0;
}

/* "name=" prefix: the value follows. */
static const char *value_of(const char *w, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || memcmp(w, name, n) != 0 || w[n] != '=')
		return NULL;
	*vlen = len - n - 1;
	return w + n + 1;
}

static int parse_direction(const char *v, size_t vlen, struct flags *f)
{
	const char *comma = memchr(v, ',', vlen);
	size_t a, b;

	if (comma == NULL)
		return -EINVAL;
	a = (size_t)(comma - v);
	b = vlen - a - 1;
	if (a == 0 || b == 0 || a >= FLAGS_IFNAME_MAX || b >= FLAGS_IFNAME_MAX ||
	    memchr(comma + 1, ',', b) != NULL)
		return -EINVAL;
	for (size_t i = 0; i < vlen; i++) {
		char c = v[i];

		if (c != ',' && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return -EINVAL;
	}
	memcpy(f->direction[0], v, a);
	f->direction[0][a] = '\0';
	memcpy(f->direction[1], comma + 1, b);
	f->direction[1][b] = '\0';
	return 0;
}

static int parse_seconds(const char *v, size_t vlen, uint32_t *out)
{
	uint32_t n = 0;

	if (vlen == 0 || vlen > 6)
		return -EINVAL;
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint32_t)(v[i] - '0');
	}
	if (n > FLAGS_DELAY_MAX)
		return -EINVAL;
	*out = n;
	return 0;
}

/* One word with a value; *seen guards against a second, different value. */
static int parse_valued(const char *w, size_t len, struct flags *f, char *err, size_t errlen)
{
	struct flags prev = *f;
	const char *v;
	size_t vlen;
	char buf[FLAGS_WORD_MAX + 1];
	bool again;

	if ((v = value_of(w, len, "direction", &vlen)) != NULL) {
		again = f->has_direction;
		if (parse_direction(v, vlen, f) < 0)
			return fail(err, errlen, "malformed", w, len, "want direction=<if>,<if>");
		if (again && (strcmp(prev.direction[0], f->direction[0]) != 0 ||
			      strcmp(prev.direction[1], f->direction[1]) != 0))
			return fail(err, errlen, "conflicting", w, len, NULL);
		f->has_direction = true;
		return 0;
	}
	if ((v = value_of(w, len, "media-address", &vlen)) != NULL) {
		struct rpa_addr a;

		memcpy(buf, v, vlen);
		buf[vlen] = '\0';
		if (rpa_addr_parse(buf, &a) < 0)
			return fail(err, errlen, "malformed", w, len, "want an IP address");
		if (f->has_media_address && !rpa_addr_eq(&a, &f->media_address))
			return fail(err, errlen, "conflicting", w, len, NULL);
		f->has_media_address = true;
		f->media_address = a;
		return 0;
	}
	if ((v = value_of(w, len, "rtcp-mux", &vlen)) != NULL) {
		enum flags_rtcp_mux m;

		memcpy(buf, v, vlen);
		buf[vlen] = '\0';
		if (flags_rtcp_mux_parse(buf, &m) < 0 || m == FLAGS_MUX_DEFAULT)
			return fail(err, errlen, "malformed", w, len,
				    "want rtcp-mux=offer|require|demux|accept|reject");
		if (f->rtcp_mux != FLAGS_MUX_DEFAULT && f->rtcp_mux != m)
			return fail(err, errlen, "conflicting", w, len, NULL);
		f->rtcp_mux = m;
		return 0;
	}
	if ((v = value_of(w, len, "delete-delay", &vlen)) != NULL) {
		uint32_t s;

		if (parse_seconds(v, vlen, &s) < 0)
			return fail(err, errlen, "malformed", w, len,
				    "want delete-delay=<0..86400>");
		if (f->has_delete_delay && f->delete_delay_s != s)
			return fail(err, errlen, "conflicting", w, len, NULL);
		f->has_delete_delay = true;
		f->delete_delay_s = s;
		return 0;
	}
	if ((v = value_of(w, len, "transport-protocol", &vlen)) != NULL) {
		enum sdes_profile p = sdes_profile_parse(v, vlen);

		if (p == SDES_PROFILE_OTHER)
			return fail(err, errlen, "malformed", w, len,
				    "want transport-protocol=RTP/AVP|RTP/SAVP|RTP/AVPF|RTP/SAVPF");
		if (f->transport != SDES_PROFILE_OTHER && f->transport != p)
			return fail(err, errlen, "conflicting", w, len, NULL);
		f->transport = p;
		return 0;
	}
	return fail(err, errlen, "unknown", w, len, NULL);
}

static int parse_word(const char *w, size_t len, struct flags *f, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} bools[] = {
	    {"trust-address", offsetof(struct flags, trust_address)},
	    {"strict-source", offsetof(struct flags, strict_source)},
	    {"symmetric", offsetof(struct flags, symmetric)},
	    {"asymmetric", offsetof(struct flags, asymmetric)},
	    {"ice-remove", offsetof(struct flags, ice_remove)},
	    {"replace-origin", offsetof(struct flags, replace_origin)},
	    {"replace-session-connection", offsetof(struct flags, replace_session_conn)},
	    {"sdes-passthrough", offsetof(struct flags, sdes_passthrough)},
	};

	for (unsigned i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		if (is_word(w, len, bools[i].name)) {
			*(bool *)((char *)f + bools[i].off) = true;
			return 0;
		}
	}
	return parse_valued(w, len, f, err, errlen);
}

int flags_parse(const char *s, struct flags *out, char *err, size_t errlen)
{
	size_t len, i = 0;
	unsigned words = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return 0;
	len = strnlen(s, FLAGS_MAX_LEN + 1);
	if (len > FLAGS_MAX_LEN) {
		snprintf(err, errlen, "flags longer than %u bytes", FLAGS_MAX_LEN);
		return -EINVAL;
	}
	while (i < len) {
		size_t start;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		if (++words > FLAGS_MAX_WORDS) {
			snprintf(err, errlen, "more than %u flags", FLAGS_MAX_WORDS);
			return -EINVAL;
		}
		if (i - start > FLAGS_WORD_MAX)
			return fail(err, errlen, "overlong", s + start, i - start, NULL);
		rc = parse_word(s + start, i - start, out, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (out->symmetric && out->asymmetric) {
		snprintf(err, errlen, "conflicting flags 'symmetric' and 'asymmetric'");
		return -EINVAL;
	}
	if (out->strict_source && out->asymmetric) {
		snprintf(err, errlen,
			 "conflicting flags 'strict-source' and 'asymmetric' (an asymmetric "
			 "endpoint sends from another address than it receives on)");
		return -EINVAL;
	}
	return 0;
}
