/* Compact JSON text written into a growing buffer, without jansson's per-token callbacks
 * and allocations: for the texts written on every command (replies, call state). Pure;
 * any thread. */
#ifndef RTPANCHOR_CONTROL_JSONENC_H
#define RTPANCHOR_CONTROL_JSONENC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define JSONENC_DEPTH_MAX 32

/* p[0..len) is the text so far, NUL-terminated; `failed` after an allocation failure
 * (or a value jansson could not hold), then the text is incomplete. */
struct jsonenc {
	char *p;
	size_t len, cap;
	bool failed;
};

/* Append raw bytes (already JSON). */
void jsonenc_raw(struct jsonenc *e, const char *s, size_t n);
/* Append a JSON string of s[0..n), which must be valid UTF-8: quotes, backslashes and
 * control characters are escaped, everything else is copied. */
void jsonenc_string(struct jsonenc *e, const char *s, size_t n);
/* Append the compact form of a jansson value (objects in their insertion order). Nesting
 * deeper than JSONENC_DEPTH_MAX fails. */
void jsonenc_value(struct jsonenc *e, const json_t *v);
/* Empty the text, keeping the buffer. */
void jsonenc_reset(struct jsonenc *e);
void jsonenc_free(struct jsonenc *e);

#endif
