/* `rtpanchor offer|answer|delete|query|list|stats|ping`: commands to rtpanchor-control
 * through the Redis command channel, sent exactly as a SIP proxy sends them. */
#ifndef RTPANCHOR_CMD_CALL_H
#define RTPANCHOR_CMD_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "ctlreq.h"

/* argv[0] is the command word. Returns the process exit code (enum cli_exit): 0 ok,
 * 1 control (or Redis) answered with an error, 2 usage, 3 Redis unreachable or no reply
 * within the timeout. */
int cmd_call(int argc, char **argv, struct cli_globals *g);

/* True when word is one of the command words above. */
bool cmd_call_is_command(const char *word);

/* A command line, checked; strings point into argv or the environment. */
struct cmd_call_args {
	const char *word; /* the command word ("stats") */
	const char *op;	  /* the op sent ("statistics") */
	const char *call_id, *from_tag, *to_tag, *flags;
	const char *sdp_path; /* "-" = standard input */
	struct ctlreq_endpoint redis;
	const char *prefix;
};

/* Parse argv (argv[0] = the command word) with the globals already seen in g. Returns 0,
 * CLI_EXIT_USAGE after a message on stderr, or -1 when --help was asked for (the help is
 * printed on out). Reads only argv and the environment. */
int cmd_call_parse(int argc, char **argv, struct cli_globals *g, struct cmd_call_args *a,
		   FILE *out);

/* Print the reply text (len bytes) of command `word`: with json, the reply object on one
 * line; otherwise the SDP for offer/answer, "pong" for ping, and the fields of other
 * replies as indented "key: value" lines. An error reply's error-reason and any warning
 * go to err. Returns the exit code: 0 for result ok/pong, 1 for an error reply or a reply
 * that is not a JSON object with a result (described on err). */
int cmd_call_render(const char *word, const char *reply, size_t len, bool json, FILE *out,
		    FILE *err);

#endif
