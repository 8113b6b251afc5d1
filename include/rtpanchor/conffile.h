/* Config files in the form every rtpanchor program reads: one long option per line,
 * "name value" or "name=value" (a leading "--" is allowed), '#' starts a comment, blank
 * lines are ignored. The file's options are the program's getopt_long options, so the
 * command line and the file cannot drift apart. Runs on the caller's thread at start-up. */
#ifndef RTPANCHOR_CONFFILE_H
#define RTPANCHOR_CONFFILE_H

#include <getopt.h>
#include <stddef.h>

#define CONFFILE_LINE_MAX 1024 /* bytes in one line; longer is an error naming the line */

/* Called once per option line with getopt's val for it and the value ("" for options
 * without an argument). Returns 0 or a negative errno with a message in err. */
typedef int (*conffile_apply_fn)(void *arg, int val, const char *value, char *err, size_t errlen);

/* Read path and apply each line in order. Options whose val is in `refused` (a list ending
 * in 0, e.g. --help) are unknown in a file. Errors name the file and line: unknown option,
 * missing or unexpected value, line too long, and the apply function's own message with
 * " (config FILE:LINE)" appended. Returns 0 or the first negative errno. */
int conffile_read(const char *path, const struct option *opts, const int *refused,
		  conffile_apply_fn apply, void *arg, char *err, size_t errlen);

#endif
