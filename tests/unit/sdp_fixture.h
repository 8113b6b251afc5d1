/* Loads the SDP fixtures of tests/unit/sdp/ for the SDP unit tests. SDP_FIXTURE_DIR is
 * set by tests/unit/meson.build to the source directory. */
#ifndef RTPANCHOR_TEST_SDP_FIXTURE_H
#define RTPANCHOR_TEST_SDP_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#ifndef SDP_FIXTURE_DIR
#error "SDP_FIXTURE_DIR must name tests/unit/sdp"
#endif

/* Reads tests/unit/sdp/<name> into buf (cap bytes); fails the test when it cannot. */
static size_t fixture_load(const char *name, char *buf, size_t cap)
{
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", SDP_FIXTURE_DIR, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		abort();
	}
	n = fread(buf, 1, cap, f);
	if (n == cap || ferror(f)) {
		fprintf(stderr, "fixture %s: read error or larger than %zu bytes\n", path, cap);
		abort();
	}
	fclose(f);
	return n;
}

#endif
