/* Logging to stderr (see log.h). Called from the main thread and, rarely, the metrics
 * thread; the level is written once before threads start. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024

static enum log_level level = LOG_LEVEL_INFO;

static const char *const names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARNING] = "warning",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -EINVAL;
}

const char *log_level_name(enum log_level l)
{
	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "?";
}

void log_set_level(enum log_level l)
{
	level = l;
}

bool log_enabled(enum log_level l)
{
	return l <= level;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;
	int k;

	if (l > level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	k = snprintf(line + n, sizeof(line) - n,
		     ".%03ldZ rtpanchor-control %s: ", ts.tv_nsec / 1000000, log_level_name(l));
	n += k > 0 ? (size_t)k : 0;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (k < 0)
		k = 0;
	n = n + (size_t)k < sizeof(line) - 1 ? n + (size_t)k : sizeof(line) - 2;
	line[n++] = '\n';
	/* stderr is unbuffered; one write keeps concurrent lines whole. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
