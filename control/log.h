/* Logging of rtpanchor-control: one line per message on stderr, with a UTC timestamp and
 * a level. Any thread may log (one write(2) per line keeps lines whole). At info level
 * nothing secret or bulky is logged: no passwords, SRTP keys or SDP bodies. */
#ifndef RTPANCHOR_CONTROL_LOG_H
#define RTPANCHOR_CONTROL_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* "error", "warning", "info", "debug". Returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);
/* Set once at start, before other threads exist. */
void log_set_level(enum log_level l);
bool log_enabled(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)	 log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	 log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
