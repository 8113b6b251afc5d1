/* Config-file reader shared by rtpanchor-dataplane and rtpanchor-control (conffile.h).
 * Start-up only, caller's thread. */
#include <rtpanchor/conffile.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct option *find_option(const struct option *opts, const char *name)
{
	for (const struct option *o = opts; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static bool refused_val(const int *refused, int val)
{
	for (; refused != NULL && *refused != 0; refused++)
		if (*refused == val)
			return true;
	return false;
}

/* Split a line in place into name and value; false for a blank or comment-only line. */
static bool split_line(char *line, char **name, char **value)
{
	char *p;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	*name = line + strspn(line, " \t\r\n");
	if (**name == '\0')
		return false;
	p = *name + strcspn(*name, " \t=\r\n");
	*value = p + strspn(p, " \t=");
	*p = '\0';
	p = *value + strcspn(*value, "\r\n");
	*p = '\0';
	while (p > *value && (p[-1] == ' ' || p[-1] == '\t'))
		*--p = '\0';
	if (strncmp(*name, "--", 2) == 0)
		*name += 2;
	return true;
}

int conffile_read(const char *path, const struct option *opts, const int *refused,
		  conffile_apply_fn apply, void *arg, char *err, size_t errlen)
{
	char line[CONFFILE_LINE_MAX + 2];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "config %s: %s", path, strerror(errno));
		return rc;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		const struct option *o;
		char *name, *value;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "config %s:%u: line longer than %d bytes", path,
				 lineno, CONFFILE_LINE_MAX);
			rc = -EINVAL;
			break;
		}
		if (!split_line(line, &name, &value))
			continue;
		o = find_option(opts, name);
		if (o == NULL || refused_val(refused, o->val)) {
			snprintf(err, errlen, "config %s:%u: unknown option '%s'", path, lineno,
				 name);
			rc = -EINVAL;
			break;
		}
		if ((o->has_arg == required_argument) != (*value != '\0')) {
			snprintf(err, errlen, "config %s:%u: '%s' %s", path, lineno, name,
				 o->has_arg == required_argument ? "needs a value"
								 : "takes no value");
			rc = -EINVAL;
			break;
		}
		rc = apply(arg, o->val, value, err, errlen);
		if (rc < 0) {
			size_t l = strlen(err);

			snprintf(err + l, errlen - l, " (config %s:%u)", path, lineno);
		}
	}
	fclose(f);
	return rc;
}
