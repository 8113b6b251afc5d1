/* One command entry of the Redis command stream, validated: field names and values as
 * read (hostile input), turned into an op and NUL-terminated strings, with bounded
 * lengths and a clear error otherwise. Pure: no I/O, any thread. */
#ifndef RTPANCHOR_CONTROL_ENTRY_H
#define RTPANCHOR_CONTROL_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#define ENTRY_FIELDS_MAX   32 /* field/value pairs; more is an error */
#define ENTRY_OP_MAX	   32
#define ENTRY_CALL_ID_MAX  256	 /* = CALL_ID_MAX */
#define ENTRY_TAG_MAX	   128	 /* = CALL_TAG_MAX */
#define ENTRY_SDP_MAX	   65536 /* = SDP_MAX_SIZE */
#define ENTRY_FLAGS_MAX	   4096
#define ENTRY_REPLY_TO_MAX 512
#define ENTRY_ID_MAX	   48 /* "<ms>-<seq>": two 64-bit numbers and a dash */
#define ENTRY_ERRLEN	   256

enum entry_op {
	ENTRY_OP_NONE = 0,
	ENTRY_OP_PING,
	ENTRY_OP_OFFER,
	ENTRY_OP_ANSWER,
	ENTRY_OP_DELETE,
	ENTRY_OP_QUERY,
	ENTRY_OP_LIST,
	ENTRY_OP_STATISTICS,
};

/* A byte string as read; ptr[len] must be a readable NUL (hiredis guarantees it). */
struct entry_str {
	const char *ptr;
	size_t len;
};

/* Strings point into the fields passed to entry_parse (absent = NULL). */
struct entry {
	enum entry_op op;
	const char *call_id;
	const char *from_tag;
	const char *to_tag;
	const char *sdp; /* sdp_len bytes, valid UTF-8 without NUL */
	size_t sdp_len;
	const char *flags;
	const char *reply_to; /* set whenever usable, also when entry_parse fails */
	size_t reply_to_len;
};

/* Parse fields[0..nfields) (name, value, name, value...). key_prefix is control's own key
 * prefix: reply-to may not name one of control's keys (commands, events, call:, node:,
 * reply:<entry-id> under the prefix), which a hostile reply-to could otherwise clobber.
 * Returns 0, or -EINVAL with a message naming the field and the problem in err; then
 * out->op is what was understood (NONE if not) and out->reply_to is set if usable. */
int entry_parse(const struct entry_str *fields, size_t nfields, const char *key_prefix,
		struct entry *out, char *err, size_t errlen);

/* "ping", "offer"... ; "unknown" for ENTRY_OP_NONE. */
const char *entry_op_name(enum entry_op op);
/* offer, answer and delete change state (and get their reply stored). */
bool entry_op_mutates(enum entry_op op);
/* A stream entry ID "<ms>-<seq>" (decimal, each at most 20 digits). */
bool entry_id_valid(const char *s, size_t len);

#endif
