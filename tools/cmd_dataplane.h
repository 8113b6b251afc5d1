/* `rtpanchor dataplane ...`: the dataplane subcommands over the control socket. */
#ifndef RTPANCHOR_CMD_DATAPLANE_H
#define RTPANCHOR_CMD_DATAPLANE_H

#include "cli.h"

/* argv[0] is "dataplane". Returns the process exit code (enum cli_exit). */
int cmd_dataplane(int argc, char **argv, struct cli_globals *g);

#endif
