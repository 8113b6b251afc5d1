/* CLI plumbing shared by every rtpanchor subcommand: options, messages, JSON and tables.
 * Runs on the CLI's only thread. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rtpanchor/dp_proto.h>

/* jansson stores integers as long long. A larger uint64 (random boot ids, hashed tags) is
 * carried as a string starting with this control character, which cli_json_str never
 * lets through, and turned back into a bare number after dumping. */
#define U64_MARK      "\x01u64:"
#define U64_MARK_JSON "\"\\u0001u64:"

static const struct cli_opt global_opts[] = {
    {"socket", "PATH", false,
     "dataplane control socket (default: $RTPANCHOR_DP_SOCKET, else " RPA_DP_DEFAULT_SOCKET ")"},
    {"json", NULL, false, "print JSON on stdout instead of text"},
    {"timeout", "TIME", false,
     "give up after TIME: N or Nms milliseconds, Ns seconds (default 5000 ms)"},
    {"redis", "HOST:PORT|PATH", false,
     "Redis of the command channel: host:port, [v6]:port or a unix socket path (default: "
     "$RTPANCHOR_REDIS, else 127.0.0.1:6379); credentials only from $RTPANCHOR_REDIS_USER "
     "and $RTPANCHOR_REDIS_PASSWORD"},
    {"redis-db", "N", false, "Redis database number (default: $RTPANCHOR_REDIS_DB, else 0)"},
    {"key-prefix", "P", false,
     "prefix of every Redis key (default: $RTPANCHOR_KEY_PREFIX, else rtpanchor:)"},
    {"help", NULL, false, "show help and exit (also -h)"},
    {NULL, NULL, false, NULL},
};

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rtpanchor: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'rtpanchor %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return CLI_EXIT_USAGE;
}

static void json_error(const struct cli_globals *g, const char *msg)
{
	json_t *j;

	if (!g->json)
		return;
	j = json_object();
	json_object_set_new(j, "result", json_string("error"));
	json_object_set_new(j, "error", cli_json_str(msg));
	cli_json_print(j);
}

int cli_refused(const struct cli_globals *g, const char *what, const char *msg)
{
	fprintf(stderr, "rtpanchor: %s failed: %s\n", what, msg);
	json_error(g, msg);
	return CLI_EXIT_REFUSED;
}

int cli_unreachable(const struct cli_globals *g, const char *msg)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "cannot reach the dataplane at %s: %s", cli_socket_path(g), msg);
	fprintf(stderr, "rtpanchor: %s\n", buf);
	json_error(g, buf);
	return CLI_EXIT_UNREACHABLE;
}

const char *cli_socket_path(const struct cli_globals *g)
{
	const char *env;

	if (g->socket != NULL)
		return g->socket;
	env = getenv("RTPANCHOR_DP_SOCKET");
	if (env != NULL && env[0] != '\0')
		return env;
	return RPA_DP_DEFAULT_SOCKET;
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* strtoull accepts signs and spaces; we don't. */
	if (*s == '\0' || (base == 10 && (*s < '0' || *s > '9')) ||
	    (base == 16 && strchr("0123456789abcdefABCDEF", *s) == NULL))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_parse_ms(const char *s, uint64_t max_ms, int *out)
{
	uint64_t v, mul = 1;
	char num[24];
	size_t n = strlen(s);
	int rc;

	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		n -= 2;
	} else if (n > 1 && s[n - 1] == 's') {
		n -= 1;
		mul = 1000;
	}
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (strncmp(num, "0x", 2) == 0 || strncmp(num, "0X", 2) == 0)
		return -EINVAL; /* durations are decimal */
	rc = cli_parse_u64(num, max_ms / mul, &v);
	if (rc < 0)
		return rc;
	if (v == 0)
		return -ERANGE;
	*out = (int)(v * mul);
	return 0;
}

/* "--name" or "--name=value" against name; sets *inline_val for the second form. */
static bool opt_match(const char *word, const char *name, const char **inline_val)
{
	size_t n = strlen(name);

	*inline_val = NULL;
	if (strncmp(word, "--", 2) != 0 || strncmp(word + 2, name, n) != 0)
		return false;
	if (word[2 + n] == '\0')
		return true;
	if (word[2 + n] == '=') {
		*inline_val = word + 3 + n;
		return true;
	}
	return false;
}

/* The value of option `name` at args[*i]: inline, or the next word (consumed). */
static const char *opt_value(const char *cmd, const char *name, const char *inline_val, int argc,
			     char **argv, int *i)
{
	if (inline_val != NULL)
		return inline_val;
	if (*i + 1 >= argc) {
		cli_usage_error(cmd, "option --%s needs a value", name);
		return NULL;
	}
	return argv[++*i];
}

int cli_global_opt(const char *cmd, int argc, char **argv, int *i, struct cli_globals *g)
{
	const char *w = argv[*i], *iv, *v;
	uint64_t ms;

	if (opt_match(w, "json", &iv) && iv == NULL) {
		g->json = true;
		return 1;
	}
	if (opt_match(w, "socket", &iv)) {
		v = opt_value(cmd, "socket", iv, argc, argv, i);
		if (v == NULL)
			return CLI_EXIT_USAGE;
		if (v[0] == '\0')
			return cli_usage_error(cmd, "--socket: the path is empty");
		g->socket = v;
		return 1;
	}
	if (opt_match(w, "timeout", &iv)) {
		v = opt_value(cmd, "timeout", iv, argc, argv, i);
		if (v == NULL)
			return CLI_EXIT_USAGE;
		if (cli_parse_ms(v, CLI_MAX_TIMEOUT_MS, &g->timeout_ms) < 0)
			return cli_usage_error(cmd,
					       "--timeout: '%s' is not 1..%d milliseconds (N, Nms) "
					       "or seconds (Ns)",
					       v, CLI_MAX_TIMEOUT_MS);
		return 1;
	}
	if (opt_match(w, "redis", &iv)) {
		v = opt_value(cmd, "redis", iv, argc, argv, i);
		if (v == NULL)
			return CLI_EXIT_USAGE;
		if (v[0] == '\0')
			return cli_usage_error(cmd, "--redis: the address is empty");
		g->redis = v;
		return 1;
	}
	if (opt_match(w, "redis-db", &iv)) {
		v = opt_value(cmd, "redis-db", iv, argc, argv, i);
		if (v == NULL)
			return CLI_EXIT_USAGE;
		if (cli_parse_u64(v, INT32_MAX, &ms) < 0)
			return cli_usage_error(cmd, "--redis-db: '%s' is not a database number", v);
		g->redis_db = (int)ms;
		g->redis_db_set = true;
		return 1;
	}
	if (opt_match(w, "key-prefix", &iv)) {
		v = opt_value(cmd, "key-prefix", iv, argc, argv, i);
		if (v == NULL)
			return CLI_EXIT_USAGE;
		g->key_prefix = v;
		return 1;
	}
	return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts, const char **vals,
	      struct cli_globals *g)
{
	const char *iv, *v;
	int i, k, rc;

	for (k = 0; opts[k].name != NULL; k++)
		vals[k] = NULL;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return -1;
		rc = cli_global_opt(cmd, argc, argv, &i, g);
		if (rc == 1)
			continue;
		if (rc != 0)
			return rc;
		for (k = 0; opts[k].name != NULL; k++)
			if (opt_match(argv[i], opts[k].name, &iv))
				break;
		if (opts[k].name == NULL) {
			if (strncmp(argv[i], "-", 1) == 0)
				return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
		}
		if (vals[k] != NULL)
			return cli_usage_error(cmd, "option --%s given twice", opts[k].name);
		if (opts[k].arg == NULL) {
			if (iv != NULL)
				return cli_usage_error(cmd, "option --%s takes no value",
						       opts[k].name);
			vals[k] = "";
			continue;
		}
		v = opt_value(cmd, opts[k].name, iv, argc, argv, &i);
		if (v == NULL)
			return CLI_EXIT_USAGE;
		vals[k] = v;
	}
	for (k = 0; opts[k].name != NULL; k++)
		if (opts[k].required && vals[k] == NULL)
			return cli_usage_error(cmd, "missing required option --%s %s", opts[k].name,
					       opts[k].arg);
	return 0;
}

void cli_print_item(FILE *f, const char *left, const char *text)
{
	const int indent = 2 + CLI_HELP_LEFT + 1, width = 79;
	int col, wl;

	if ((int)strlen(left) > CLI_HELP_LEFT)
		fprintf(f, "  %s\n%*s", left, indent, "");
	else
		fprintf(f, "  %-*s ", CLI_HELP_LEFT, left);
	col = indent;
	while (*text != '\0') {
		wl = (int)strcspn(text, " ");
		if (col > indent && col + 1 + wl > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(text, 1, (size_t)wl, f);
		col += wl;
		text += wl;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

void cli_print_opt_list(FILE *f, const struct cli_opt *opts)
{
	char left[64], text[256];
	int k;

	for (k = 0; opts[k].name != NULL; k++) {
		snprintf(left, sizeof(left), "--%s%s%s", opts[k].name, opts[k].arg ? " " : "",
			 opts[k].arg ? opts[k].arg : "");
		snprintf(text, sizeof(text), "%s%s", opts[k].required ? "(required) " : "",
			 opts[k].help);
		cli_print_item(f, left, text);
	}
}

void cli_print_opts(FILE *f, const struct cli_opt *opts)
{
	if (opts[0].name != NULL) {
		fprintf(f, "Options:\n");
		cli_print_opt_list(f, opts);
		fprintf(f, "\n");
	}
	cli_print_global_opts(f);
}

void cli_print_global_opts(FILE *f)
{
	fprintf(f, "Global options (before the command word or after it):\n");
	cli_print_opt_list(f, global_opts);
}

json_t *cli_json_u64(uint64_t v)
{
	char buf[32];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), U64_MARK "%llu", (unsigned long long)v);
	return json_string(buf);
}

json_t *cli_json_str(const char *s)
{
	size_t n = strlen(s), i;
	json_t *j;
	char *t;

	t = malloc(n + 1);
	if (t == NULL)
		return NULL;
	/* Text from the dataplane is not trusted to be UTF-8 (jansson rejects that) nor free
	 * of the U64_MARK character. */
	for (i = 0; i < n; i++)
		t[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
	t[n] = '\0';
	j = json_string(t);
	free(t);
	return j;
}

char *cli_json_dumps(const json_t *j)
{
	size_t mlen = strlen(U64_MARK_JSON);
	char *s, *r, *w, *end;

	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (s == NULL)
		return NULL;
	/* Rewrite "\u0001u64:123" as 123 in place: the result is never longer. */
	for (r = w = s; *r != '\0';) {
		if (strncmp(r, U64_MARK_JSON, mlen) == 0 && (end = strchr(r + mlen, '"'))) {
			memmove(w, r + mlen, (size_t)(end - r - mlen));
			w += end - r - mlen;
			r = end + 1;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

int cli_json_print(json_t *j)
{
	char *s = cli_json_dumps(j);

	json_decref(j);
	if (s == NULL) {
		fprintf(stderr, "rtpanchor: out of memory formatting JSON\n");
		return -ENOMEM;
	}
	printf("%s\n", s);
	free(s);
	return 0;
}

struct cli_table {
	unsigned int ncols;
	char align[CLI_TABLE_MAX_COLS + 1];
	size_t ncells, cap;
	char **cells; /* row-major; the first ncols are the headers */
	bool oom;
};

static void table_push(struct cli_table *t, char *s)
{
	char **n;

	if (s == NULL) {
		t->oom = true;
		return;
	}
	if (t->ncells == t->cap) {
		n = realloc(t->cells, (t->cap ? t->cap * 2 : 64) * sizeof(*n));
		if (n == NULL) {
			free(s);
			t->oom = true;
			return;
		}
		t->cells = n;
		t->cap = t->cap ? t->cap * 2 : 64;
	}
	t->cells[t->ncells++] = s;
}

struct cli_table *cli_table_new(const char *align, const char *const *headers)
{
	struct cli_table *t;
	unsigned int i;

	if (strlen(align) >= sizeof(t->align))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->ncols = (unsigned int)strlen(align);
	strcpy(t->align, align);
	for (i = 0; i < t->ncols; i++)
		table_push(t, strdup(headers[i]));
	return t;
}

void cli_table_cell(struct cli_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	table_push(t, s);
}

void cli_table_print(const struct cli_table *t, FILE *f)
{
	size_t w[CLI_TABLE_MAX_COLS] = {0}, i, len;
	unsigned int c;

	if (t == NULL || t->oom) {
		fprintf(stderr, "rtpanchor: out of memory building a table\n");
		return;
	}
	for (i = 0; i < t->ncells; i++) {
		len = strlen(t->cells[i]);
		if (len > w[i % t->ncols])
			w[i % t->ncols] = len;
	}
	for (i = 0; i < t->ncells; i++) {
		c = (unsigned int)(i % t->ncols);
		if (c == t->ncols - 1 && t->align[c] == 'l')
			fprintf(f, "%s\n", t->cells[i]); /* no trailing blanks */
		else
			fprintf(f, t->align[c] == 'r' ? "%*s" : "%-*s", (int)w[c], t->cells[i]);
		if (c < t->ncols - 1)
			fputs("  ", f);
		else if (t->align[c] == 'r')
			fputc('\n', f);
	}
	if (t->ncells % t->ncols != 0)
		fputc('\n', f);
}

void cli_table_free(struct cli_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
