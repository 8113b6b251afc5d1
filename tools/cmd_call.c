/* The commands that go to rtpanchor-control through Redis (offer, answer, delete, query,
 * list, stats, ping): argument checking, one request/reply round trip, reply rendering.
 * Runs on the CLI's only thread. */
#include "cmd_call.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* What the CLI reads from --sdp: far above the control's 64 KiB limit, so that the
 * control, not the CLI, is what refuses an oversized SDP. */
#define SDP_FILE_MAX (1u << 20)

enum { O_CALL_ID, O_FROM_TAG, O_TO_TAG, O_SDP, O_FLAGS, O_COUNT };

/* The options of one command: which of O_* it takes and which it needs. */
struct call_sub {
	const char *word;
	const char *op;
	const char *summary;
	unsigned takes, needs; /* bit (1 << O_*) */
};

#define B(o) (1u << (o))
static const struct call_sub subs[] = {
    {"offer", "offer",
     "send an SDP offer; prints the rewritten SDP that points the other party at the relay",
     B(O_CALL_ID) | B(O_FROM_TAG) | B(O_TO_TAG) | B(O_SDP) | B(O_FLAGS),
     B(O_CALL_ID) | B(O_FROM_TAG) | B(O_SDP)},
    {"answer", "answer",
     "send the SDP answer of a branch; prints the rewritten SDP for the offering party",
     B(O_CALL_ID) | B(O_FROM_TAG) | B(O_TO_TAG) | B(O_SDP) | B(O_FLAGS),
     B(O_CALL_ID) | B(O_FROM_TAG) | B(O_TO_TAG) | B(O_SDP)},
    {"delete", "delete", "delete a call, or one branch of it with --to-tag",
     B(O_CALL_ID) | B(O_FROM_TAG) | B(O_TO_TAG) | B(O_FLAGS), B(O_CALL_ID) | B(O_FROM_TAG)},
    {"query", "query", "show a call: its parties, media and per-stream packet counters",
     B(O_CALL_ID) | B(O_FROM_TAG) | B(O_TO_TAG), B(O_CALL_ID)},
    {"list", "list", "list the calls rtpanchor-control holds", 0, 0},
    {"stats", "statistics", "show rtpanchor-control's statistics", 0, 0},
    {"ping", "ping", "check that an rtpanchor-control answers on the command channel", 0, 0},
    {NULL, NULL, NULL, 0, 0},
};
#undef B

static const struct cli_opt all_opts[O_COUNT] = {
    [O_CALL_ID] = {"call-id", "ID", false, "the SIP Call-ID"},
    [O_FROM_TAG] = {"from-tag", "TAG", false,
		    "the caller's tag: the From tag of the INVITE (for an answer too, as "
		    "rtpengine's protocol has it)"},
    [O_TO_TAG] = {"to-tag", "TAG", false, "tag of the answering branch (To tag)"},
    [O_SDP] = {"sdp", "FILE", false, "the SDP body, read from FILE, or standard input for '-'"},
    [O_FLAGS] = {"flags", "\"F ...\"", false,
		 "space-separated flags, e.g. \"trust-address strict-source "
		 "rtcp-mux=offer direction=pub,priv delete-delay=0\""},
};

static const struct call_sub *sub_find(const char *word)
{
	const struct call_sub *s;

	for (s = subs; s->word != NULL; s++)
		if (strcmp(s->word, word) == 0)
			return s;
	return NULL;
}

bool cmd_call_is_command(const char *word)
{
	return sub_find(word) != NULL;
}

/* The options of s in cli_parse's form; idx[k] = the O_* of entry k. */
static unsigned sub_opts(const struct call_sub *s, struct cli_opt *opts, unsigned *idx)
{
	unsigned o, n = 0;

	for (o = 0; o < O_COUNT; o++) {
		if (!(s->takes & (1u << o)))
			continue;
		opts[n] = all_opts[o];
		opts[n].required = (s->needs & (1u << o)) != 0;
		idx[n++] = o;
	}
	opts[n].name = NULL;
	return n;
}

static void sub_usage(FILE *f, const struct call_sub *s)
{
	struct cli_opt opts[O_COUNT + 1];
	unsigned idx[O_COUNT], n, k;

	n = sub_opts(s, opts, idx);
	fprintf(f, "Usage: rtpanchor [GLOBAL OPTIONS] %s", s->word);
	for (k = 0; k < n; k++)
		fprintf(f, " %s--%s %s%s", opts[k].required ? "" : "[", opts[k].name, opts[k].arg,
			opts[k].required ? "" : "]");
	fprintf(f, "\n\n%c%s.\n\n", toupper((unsigned char)s->summary[0]), s->summary + 1);
	cli_print_opts(f, opts);
	fprintf(f,
		"\n"
		"The request goes to rtpanchor-control as a SIP proxy sends it: XADD to the\n"
		"stream <prefix>commands with a private reply key, then BLPOP on that key for up\n"
		"to --timeout.\n"
		"--json prints the reply object; otherwise %s.\n"
		"Exit status: 0 ok; 1 rtpanchor-control (or Redis) answered with an error, whose\n"
		"reason is printed; 2 usage error; 3 Redis cannot be reached, or no reply came\n"
		"within --timeout.\n",
		strcmp(s->op, "offer") == 0 || strcmp(s->op, "answer") == 0
		    ? "the SDP is printed on standard output,\n"
		      "warnings and errors on standard error"
		    : "the reply's fields are printed as\n"
		      "\"key: value\" lines");
}

int cmd_call_parse(int argc, char **argv, struct cli_globals *g, struct cmd_call_args *a, FILE *out)
{
	const char *vals[O_COUNT + 1], *env, *v;
	struct cli_opt opts[O_COUNT + 1];
	unsigned idx[O_COUNT], n, k;
	const struct call_sub *s;
	uint64_t db;
	int rc;

	memset(a, 0, sizeof(*a));
	s = sub_find(argv[0]);
	if (s == NULL)
		return cli_usage_error(NULL, "unknown command '%s'", argv[0]);
	a->word = s->word;
	a->op = s->op;
	n = sub_opts(s, opts, idx);
	rc = cli_parse(s->word, argc - 1, argv + 1, opts, vals, g);
	if (rc == -1) {
		sub_usage(out, s);
		return -1;
	}
	if (rc != 0)
		return rc;
	for (k = 0; k < n; k++) {
		v = vals[k];
		if (v != NULL && v[0] == '\0')
			return cli_usage_error(s->word, "--%s: the value is empty", opts[k].name);
		switch (idx[k]) {
		case O_CALL_ID:
			a->call_id = v;
			break;
		case O_FROM_TAG:
			a->from_tag = v;
			break;
		case O_TO_TAG:
			a->to_tag = v;
			break;
		case O_SDP:
			a->sdp_path = v;
			break;
		case O_FLAGS:
			a->flags = v;
			break;
		}
	}

	v = g->redis;
	if (v == NULL)
		v = getenv("RTPANCHOR_REDIS");
	if (v == NULL || v[0] == '\0')
		v = CTLREQ_DEFAULT_REDIS;
	if (ctlreq_endpoint_parse(v, &a->redis) < 0)
		return cli_usage_error(s->word,
				       "%s '%s' is not HOST:PORT, [IPv6]:PORT or a socket path "
				       "starting with '/'",
				       g->redis != NULL ? "--redis" : "$RTPANCHOR_REDIS", v);
	if (g->redis_db_set) {
		a->redis.db = g->redis_db;
	} else if ((env = getenv("RTPANCHOR_REDIS_DB")) != NULL && env[0] != '\0') {
		if (cli_parse_u64(env, INT32_MAX, &db) < 0)
			return cli_usage_error(
			    s->word, "$RTPANCHOR_REDIS_DB '%s' is not a database number", env);
		a->redis.db = (int)db;
	}
	a->prefix = g->key_prefix;
	if (a->prefix == NULL)
		a->prefix = getenv("RTPANCHOR_KEY_PREFIX");
	if (a->prefix == NULL)
		a->prefix = CTLREQ_DEFAULT_PREFIX;
	if (strlen(a->prefix) > CTLREQ_PREFIX_MAX)
		return cli_usage_error(s->word, "the key prefix is longer than %d bytes",
				       CTLREQ_PREFIX_MAX);
	return 0;
}

/* ---- rendering ---- */

/* Text from Redis goes to a terminal: control characters become '?'. UTF-8 stays. */
static void put_clean(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], f);
}

static void put_scalar(FILE *f, const json_t *v)
{
	char buf[32];

	switch (json_typeof(v)) {
	case JSON_STRING:
		put_clean(f, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
		if (strtod(buf, NULL) != json_real_value(v))
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		fputs(buf, f);
		break;
	case JSON_TRUE:
		fputs("yes", f);
		break;
	case JSON_FALSE:
		fputs("no", f);
		break;
	default:
		fputs("-", f);
		break;
	}
}

static bool is_container(const json_t *v)
{
	return json_is_object(v) || json_is_array(v);
}

static bool is_empty_container(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static void put_value(FILE *f, const json_t *v, int indent);

/* A multi-line string (an SDP inside a query) as a block under its key. */
static bool put_block(FILE *f, const json_t *v, int indent)
{
	const char *s, *nl;
	size_t len, n;

	if (!json_is_string(v) || memchr(json_string_value(v), '\n', json_string_length(v)) == NULL)
		return false;
	s = json_string_value(v);
	len = json_string_length(v);
	fputs("|\n", f);
	while (len > 0) {
		nl = memchr(s, '\n', len);
		n = nl != NULL ? (size_t)(nl - s) : len;
		fprintf(f, "%*s", indent, "");
		put_clean(f, s, n > 0 && s[n - 1] == '\r' ? n - 1 : n);
		fputc('\n', f);
		n += nl != NULL;
		s += n;
		len -= n;
	}
	return true;
}

/* "key: value" for one member at indent; containers open an indented block. */
static void put_member(FILE *f, const char *key, const json_t *v, int indent, bool first_in_item)
{
	if (!first_in_item)
		fprintf(f, "%*s", indent, "");
	put_clean(f, key, strlen(key));
	fputc(':', f);
	if (is_empty_container(v)) {
		fputs(json_is_object(v) ? " {}\n" : " []\n", f);
	} else if (is_container(v)) {
		fputc('\n', f);
		put_value(f, v, indent + 2);
	} else {
		fputc(' ', f);
		if (!put_block(f, v, indent + 2)) {
			put_scalar(f, v);
			fputc('\n', f);
		}
	}
}

static void put_object(FILE *f, const json_t *o, int indent, bool first_on_line)
{
	const char *key;
	json_t *v;
	bool first = first_on_line;

	json_object_foreach((json_t *)o, key, v)
	{
		put_member(f, key, v, indent, first);
		first = false;
	}
}

/* A container's contents as lines at indent; arrays as "- " items. */
static void put_value(FILE *f, const json_t *v, int indent)
{
	size_t i;
	json_t *e;

	if (json_is_object(v)) {
		put_object(f, v, indent, false);
		return;
	}
	json_array_foreach(v, i, e)
	{
		if (json_is_array(e) && json_array_size(e) > 0) {
			fprintf(f, "%*s-\n", indent, "");
			put_value(f, e, indent + 2);
			continue;
		}
		fprintf(f, "%*s- ", indent, "");
		if (json_is_object(e) && json_object_size(e) > 0) {
			put_object(f, e, indent + 2, true);
		} else if (is_empty_container(e)) {
			fputs(json_is_object(e) ? "{}\n" : "[]\n", f);
		} else if (!put_block(f, e, indent + 2)) {
			put_scalar(f, e);
			fputc('\n', f);
		}
	}
}

static void json_line(FILE *out, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL) {
		fputs("{\"result\":\"error\",\"error-reason\":\"out of memory\"}\n", out);
		return;
	}
	fprintf(out, "%s\n", s);
	free(s);
}

/* A failure found by the CLI itself: message on err, and with json an object shaped like
 * an error reply on out. */
static int local_error(const char *word, int code, bool json, FILE *out, FILE *err, const char *fmt,
		       ...) __attribute__((format(printf, 6, 7)));

static int local_error(const char *word, int code, bool json, FILE *out, FILE *err, const char *fmt,
		       ...)
{
	char msg[1024];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(err, "rtpanchor: %s: %s\n", word, msg);
	if (json) {
		j = json_object();
		json_object_set_new(j, "result", json_string("error"));
		json_object_set_new(j, "error-reason", cli_json_str(msg));
		json_line(out, j);
		json_decref(j);
	}
	return code;
}

int cmd_call_render(const char *word, const char *reply, size_t len, bool json, FILE *out,
		    FILE *err)
{
	const json_t *result, *reason, *warning, *sdp;
	const char *key, *res;
	json_error_t jerr;
	json_t *j, *v;
	bool sdp_op = strcmp(word, "offer") == 0 || strcmp(word, "answer") == 0;
	int rc = CLI_EXIT_OK;

	j = json_loadb(reply, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return local_error(word, CLI_EXIT_REFUSED, json, out, err,
				   "the reply from rtpanchor-control is not JSON: %s (at byte %d)",
				   jerr.text, jerr.position);
	result = json_object_get(j, "result");
	if (!json_is_object(j) || !json_is_string(result)) {
		json_decref(j);
		return local_error(word, CLI_EXIT_REFUSED, json, out, err,
				   "the reply from rtpanchor-control is not an object with a "
				   "\"result\" string");
	}
	res = json_string_value(result);
	reason = json_object_get(j, "error-reason");
	warning = json_object_get(j, "warning");
	sdp = json_object_get(j, "sdp");

	if (strcmp(res, "error") == 0) {
		fprintf(err, "rtpanchor: %s failed: ", word);
		if (json_is_string(reason))
			put_clean(err, json_string_value(reason), json_string_length(reason));
		else
			fputs("(the reply gives no error-reason)", err);
		fputc('\n', err);
		rc = CLI_EXIT_REFUSED;
	} else if (strcmp(res, "ok") != 0 && strcmp(res, "pong") != 0) {
		fprintf(err, "rtpanchor: %s: unexpected result '", word);
		put_clean(err, res, strlen(res));
		fputs("' in the reply\n", err);
		rc = CLI_EXIT_REFUSED;
	} else if (sdp_op && !json_is_string(sdp)) {
		fprintf(err, "rtpanchor: %s: the reply carries no SDP\n", word);
		rc = CLI_EXIT_REFUSED;
	}
	if (json_is_string(warning) && json_string_length(warning) > 0) {
		fprintf(err, "rtpanchor: %s: warning: ", word);
		put_clean(err, json_string_value(warning), json_string_length(warning));
		fputc('\n', err);
	}

	if (json) {
		json_line(out, j);
	} else if (rc == CLI_EXIT_OK && sdp_op) {
		/* The SDP exactly as control wrote it (CRLF lines), ready for a SIP body. */
		fwrite(json_string_value(sdp), 1, json_string_length(sdp), out);
	} else if (rc == CLI_EXIT_OK) {
		bool shown = false;

		if (strcmp(res, "pong") == 0) {
			fputs("pong\n", out);
			shown = true;
		}
		json_object_foreach(j, key, v)
		{
			if (strcmp(key, "result") == 0 || strcmp(key, "warning") == 0)
				continue;
			put_member(out, key, v, 0, false);
			shown = true;
		}
		if (!shown)
			fprintf(out, "%s\n", res);
	}
	json_decref(j);
	return rc;
}

/* ---- the round trip ---- */

static int read_sdp(const char *word, const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n = 0, cap = 4096, r;
	char *b = NULL, *nb;
	int e;

	if (f == NULL)
		return cli_usage_error(word, "--sdp: cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		if (n == cap || b == NULL) {
			cap = b == NULL ? cap : cap * 2;
			nb = realloc(b, cap + 1);
			if (nb == NULL) {
				free(b);
				if (f != stdin)
					fclose(f);
				fprintf(stderr, "rtpanchor: %s: out of memory reading the SDP\n",
					word);
				return CLI_EXIT_USAGE;
			}
			b = nb;
		}
		r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
		if (n > SDP_FILE_MAX)
			break;
	}
	e = ferror(f) ? errno : 0;
	if (f != stdin)
		fclose(f);
	if (e != 0 || n > SDP_FILE_MAX || n == 0) {
		free(b);
		if (e != 0)
			return cli_usage_error(word, "--sdp: cannot read '%s': %s", path,
					       strerror(e));
		if (n == 0)
			return cli_usage_error(word, "--sdp: '%s' is empty", path);
		return cli_usage_error(word, "--sdp: '%s' is larger than %u bytes", path,
				       SDP_FILE_MAX);
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int cmd_call(int argc, char **argv, struct cli_globals *g)
{
	char key[CTLREQ_KEY_MAX], err[1024], id[64], where[300];
	struct cmd_call_args a;
	struct ctlreq req;
	enum ctlreq_status st;
	redisContext *c;
	char *sdp = NULL, *reply = NULL;
	size_t sdp_len = 0, reply_len = 0;
	int rc;

	rc = cmd_call_parse(argc, argv, g, &a, stdout);
	if (rc == -1)
		return CLI_EXIT_OK;
	if (rc != 0)
		return rc;
	if (a.sdp_path != NULL) {
		rc = read_sdp(a.word, a.sdp_path, &sdp, &sdp_len);
		if (rc != 0)
			return rc;
	}
	req = (struct ctlreq){.op = a.op,
			      .call_id = a.call_id,
			      .from_tag = a.from_tag,
			      .to_tag = a.to_tag,
			      .sdp = sdp,
			      .sdp_len = sdp_len,
			      .flags = a.flags};
	if (ctlreq_reply_key(a.prefix, "cli", key, sizeof(key)) < 0) {
		free(sdp);
		return cli_usage_error(a.word, "the key prefix is too long");
	}

	c = ctlreq_connect(&a.redis, g->timeout_ms, err, sizeof(err));
	if (c == NULL) {
		free(sdp);
		return local_error(a.word, CLI_EXIT_UNREACHABLE, g->json, stdout, stderr, "%s",
				   err);
	}
	st = ctlreq_send(c, &req, a.prefix, key, id, sizeof(id), err, sizeof(err));
	free(sdp);
	if (st == CTLREQ_OK)
		st = ctlreq_wait(c, key, g->timeout_ms, &reply, &reply_len, err, sizeof(err));
	redisFree(c);
	switch (st) {
	case CTLREQ_OK:
		break;
	case CTLREQ_TIMEOUT:
		return local_error(a.word, CLI_EXIT_UNREACHABLE, g->json, stdout, stderr,
				   "no reply from rtpanchor-control within %d ms (request %s on "
				   "%scommands): is it running and reading that stream?",
				   g->timeout_ms, id, a.prefix);
	case CTLREQ_IO:
		return local_error(a.word, CLI_EXIT_UNREACHABLE, g->json, stdout, stderr,
				   "Redis at %s: %s",
				   ctlreq_endpoint_format(&a.redis, where, sizeof(where)), err);
	default:
		return local_error(a.word, CLI_EXIT_REFUSED, g->json, stdout, stderr, "%s", err);
	}
	rc = cmd_call_render(a.word, reply, reply_len, g->json, stdout, stderr);
	free(reply);
	return rc;
}
