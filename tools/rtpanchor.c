/* The rtpanchor operator CLI: global options and dispatch on the first word to a command
 * family (the Redis commands to rtpanchor-control, the dataplane socket). Single-threaded. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rtpanchor/dp_proto.h>

#include "cli.h"
#include "cmd_call.h"
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
    {"offer", cmd_call, "send an SDP offer through Redis; prints the rewritten SDP"},
    {"answer", cmd_call, "send an SDP answer through Redis; prints the rewritten SDP"},
    {"delete", cmd_call, "delete a call (or one branch with --to-tag)"},
    {"query", cmd_call, "show a call with its streams' packet counters"},
    {"list", cmd_call, "list the calls"},
    {"stats", cmd_call, "show rtpanchor-control's statistics"},
    {"ping", cmd_call, "check that rtpanchor-control answers on the command channel"},
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
		"offer, answer, delete, query, list, stats and ping go to rtpanchor-control\n"
		"through Redis exactly as a SIP proxy sends them (XADD <prefix>commands, BLPOP\n"
		"on a private reply key); dataplane talks to rtpanchor-dataplane's socket.\n"
		"\n"
		"Exit status: 0 success; 1 the request was refused (rtpanchor-control's, Redis's\n"
		"or the dataplane's message is printed); 2 usage error; 3 Redis or the dataplane\n"
		"cannot be reached, or no reply came within --timeout.\n"
		"\n"
		"Run 'rtpanchor COMMAND --help' for a command's options.\n");
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

	/* A peer that closes its end shows as an error on that connection, not a signal. */
	signal(SIGPIPE, SIG_IGN);

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
