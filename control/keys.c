/* Redis key names (see keys.h). Pure. */
#include <stdio.h>

#include "keys.h"

static size_t fmt(char *buf, size_t len, int n)
{
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

size_t keys_commands(const struct options *o, char *buf, size_t len)
{
	return fmt(buf, len, snprintf(buf, len, "%scommands", o->key_prefix));
}

size_t keys_events(const struct options *o, char *buf, size_t len)
{
	return fmt(buf, len, snprintf(buf, len, "%sevents", o->key_prefix));
}

size_t keys_call(const struct options *o, const char *call_id, char *buf, size_t len)
{
	return fmt(buf, len, snprintf(buf, len, "%scall:%s", o->key_prefix, call_id));
}

size_t keys_node(const struct options *o, char *buf, size_t len)
{
	return fmt(buf, len, snprintf(buf, len, "%snode:%s", o->key_prefix, o->node));
}

size_t keys_node_calls(const struct options *o, char *buf, size_t len)
{
	return fmt(buf, len, snprintf(buf, len, "%snode:%s:calls", o->key_prefix, o->node));
}

size_t keys_reply(const struct options *o, const char *entry_id, char *buf, size_t len)
{
	return fmt(buf, len, snprintf(buf, len, "%sreply:%s", o->key_prefix, entry_id));
}
