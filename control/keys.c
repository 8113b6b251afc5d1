/* Redis key names (see keys.h). Pure. */
#include <string.h>

#include "keys.h"

/* buf = a + b + c (c may be NULL), truncated to len - 1 bytes and NUL-terminated; returns
 * the length. By hand: some of these run several times for every command. */
static size_t cat3(char *buf, size_t len, const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	size_t n = 0;

	if (len == 0)
		return 0;
	for (unsigned i = 0; i < 3 && parts[i] != NULL; i++) {
		size_t k = strlen(parts[i]);

		if (k > len - 1 - n)
			k = len - 1 - n;
		memcpy(buf + n, parts[i], k);
		n += k;
	}
	buf[n] = '\0';
	return n;
}

size_t keys_commands(const struct options *o, char *buf, size_t len)
{
	return cat3(buf, len, o->key_prefix, "commands", NULL);
}

size_t keys_events(const struct options *o, char *buf, size_t len)
{
	return cat3(buf, len, o->key_prefix, "events", NULL);
}

size_t keys_call(const struct options *o, const char *call_id, char *buf, size_t len)
{
	return cat3(buf, len, o->key_prefix, "call:", call_id);
}

size_t keys_node(const struct options *o, char *buf, size_t len)
{
	return cat3(buf, len, o->key_prefix, "node:", o->node);
}

size_t keys_node_calls(const struct options *o, char *buf, size_t len)
{
	size_t n = cat3(buf, len, o->key_prefix, "node:", o->node);

	return n + cat3(buf + n, len - n, ":calls", NULL, NULL);
}

size_t keys_reply(const struct options *o, const char *entry_id, char *buf, size_t len)
{
	return cat3(buf, len, o->key_prefix, "reply:", entry_id);
}
