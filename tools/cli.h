/* Shared pieces of the rtpanchor CLI: global options, option parsing, exit codes, JSON and
 * table output. Single-threaded (the CLI's main thread). */
#ifndef RTPANCHOR_CLI_H
#define RTPANCHOR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Exit codes; scripts and tests rely on them. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,	  /* the dataplane or control answered with an error */
	CLI_EXIT_USAGE = 2,	  /* bad command line; the message names the argument */
	CLI_EXIT_UNREACHABLE = 3, /* no usable connection (dataplane, Redis), or no reply */
};

#define CLI_DEFAULT_TIMEOUT_MS 5000
#define CLI_MAX_TIMEOUT_MS     3600000

/* Options valid before the command word and after any subcommand. */
struct cli_globals {
	const char *socket; /* --socket; NULL = environment or default (cli_socket_path) */
	bool json;
	int timeout_ms;
	/* The Redis command channel (cmd_call.c resolves the defaults). */
	const char *redis;	/* --redis; NULL = $RTPANCHOR_REDIS, else 127.0.0.1:6379 */
	const char *key_prefix; /* --key-prefix; NULL = $RTPANCHOR_KEY_PREFIX, else rtpanchor: */
	bool redis_db_set;	/* --redis-db given; else $RTPANCHOR_REDIS_DB, else 0 */
	int redis_db;
};

/* One subcommand option, "--name" or "--name VALUE" / "--name=VALUE". */
struct cli_opt {
	const char *name; /* without the dashes */
	const char *arg;  /* metavariable shown in help; NULL for a flag */
	bool required;
	const char *help;
};

/* Parse args[0..argc) (the words after the subcommand) against opts (NULL-name terminated)
 * and the global options. vals[i] receives option i's value ("" for a flag that is set,
 * NULL if absent). `cmd` names the command in messages ("dataplane add").
 * Returns 0, or CLI_EXIT_USAGE after printing an error, or -1 when --help was given (the
 * caller prints its help and exits 0). */
int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts, const char **vals,
	      struct cli_globals *g);
/* Try argv[*i] as a global option, consuming its value; 1 if it was one, 0 if not,
 * CLI_EXIT_USAGE (after a message) for a bad value. */
int cli_global_opt(const char *cmd, int argc, char **argv, int *i, struct cli_globals *g);
/* Print "Options:" and the list of a subcommand, then the global options. */
void cli_print_opts(FILE *f, const struct cli_opt *opts);
/* Just the lines of opts. */
void cli_print_opt_list(FILE *f, const struct cli_opt *opts);
void cli_print_global_opts(FILE *f);
/* One help entry: left in a CLI_HELP_LEFT-wide column, text word-wrapped at 79 columns. */
#define CLI_HELP_LEFT 24
void cli_print_item(FILE *f, const char *left, const char *text);

/* The socket the dataplane listens on: --socket, else $RTPANCHOR_DP_SOCKET, else the
 * protocol default. */
const char *cli_socket_path(const struct cli_globals *g);

/* Print "rtpanchor: CMD: message" and a pointer to --help on stderr; CLI_EXIT_USAGE.
 * cmd NULL = the top level. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "rtpanchor: WHAT failed: MSG" on stderr and, with --json, the error object on stdout;
 * returns CLI_EXIT_REFUSED. */
int cli_refused(const struct cli_globals *g, const char *what, const char *msg);
/* "rtpanchor: cannot reach the dataplane at PATH: MSG" likewise; CLI_EXIT_UNREACHABLE. */
int cli_unreachable(const struct cli_globals *g, const char *msg);

/* Numbers in decimal or 0x-hex, no sign, no spaces, at most max. 0 or -EINVAL/-ERANGE. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* A duration: N or Nms (milliseconds), Ns (seconds); 1 ms .. max_ms. 0 or -EINVAL/-ERANGE. */
int cli_parse_ms(const char *s, uint64_t max_ms, int *out);

/* JSON values from dataplane data. Integers above INT64_MAX (jansson's limit) still come
 * out as exact JSON numbers; strings are made printable ASCII. */
json_t *cli_json_u64(uint64_t v);
json_t *cli_json_str(const char *s);
/* Compact text of j, fields in insertion order; caller frees. NULL on allocation failure. */
char *cli_json_dumps(const json_t *j);
/* Print j and a newline on stdout, then release j. 0 or -ENOMEM. */
int cli_json_print(json_t *j);

/* A text table: every column as wide as its widest cell, separated by two spaces. align
 * has one letter per column: 'l' left, 'r' right. Rows are added cell by cell. */
#define CLI_TABLE_MAX_COLS 32
struct cli_table;
/* NULL when out of memory or with more than CLI_TABLE_MAX_COLS columns; the other
 * functions accept NULL and cli_table_print then reports the failure on stderr. */
struct cli_table *cli_table_new(const char *align, const char *const *headers);
void cli_table_cell(struct cli_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_table_print(const struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);

#endif
