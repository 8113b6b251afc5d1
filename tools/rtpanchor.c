/* The rtpanchor operator CLI: global options and dispatch on the first word to a command
 * family (dataplane now; the Redis control commands later). Single-threaded. */
#include <stdio.h>
#include <string.h>

#include <rtpanchor/dp_proto.h>

#include "cli.h"
#include "cmd_dataplane.h"

#ifndef RTPANCHOR_VERSION
#define RTPANCHOR_VERSION "unknown"
#endif

struct command {
	const char *name;
	/* argv[0] is the command word; returns the exit code. */
	int (*run)(int argc, char **argv, struct cli_globals *g);
	const char *summary;
};

static int cmd_help(int argc, char **argv, struct cli_globals *g);

static const struct command commands[] = {
    {"dataplane", cmd_dataplane,
     "talk to rtpanchor-dataplane over its control socket: hello, add, del, get, list, "
     "stats, neigh, flush"},
    {"help", cmd_help, "show this text"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	int i;

	fprintf(f, "Usage: rtpanchor [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
		   "\n"
		   "Operate an rtpanchor media relay.\n"
		   "\n"
		   "Commands:\n");
	for (i = 0; commands[i].name != NULL; i++)
		cli_print_item(f, commands[i].name, commands[i].summary);
	fprintf(f, "\n");
	cli_print_global_opts(f);
	cli_print_item(f, "--version", "show the version and exit");
	fprintf(f,
		"\n"
		"Exit status: 0 success; 1 the dataplane refused the request (its message is\n"
		"printed); 2 usage error; 3 the dataplane cannot be reached.\n"
		"\n"
		"Run 'rtpanchor dataplane --help' for the dataplane commands and their options.\n");
}

static int cmd_help(int argc, char **argv, struct cli_globals *g)
{
	usage(stdout);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli_globals g = {.timeout_ms = CLI_DEFAULT_TIMEOUT_MS};
	int i, c, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("rtpanchor %s (dataplane protocol %d)\n", RTPANCHOR_VERSION,
			       RPA_DP_VERSION);
			return CLI_EXIT_OK;
		}
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-')
			break;
		rc = cli_global_opt(NULL, argc, argv, &i, &g);
		if (rc == 0) {
			fprintf(stderr, "rtpanchor: unknown option '%s'\n\n", argv[i]);
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
		if (rc != 1)
			return rc;
	}
	if (i >= argc) {
		fprintf(stderr, "rtpanchor: no command given\n\n");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (c = 0; commands[c].name != NULL; c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].run(argc - i, argv + i, &g);
	fprintf(stderr, "rtpanchor: unknown command '%s'\n\n", argv[i]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
