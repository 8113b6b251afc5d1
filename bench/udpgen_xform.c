/* rtpanchor-udpgen protect|unprotect: hex packets in, protected/unprotected hex out, through
 * one libsrtp2 session (udpgen_srtp.c). Runs on the process's one thread. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udpgen_srtp.h"
#include "udpgen_xform.h"

#define XFORM_MAX 9216 /* bytes of a packet, as udpgen's datagrams */

static int udpgen_xform_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes n hex digits into out (cap bytes): the length, or -1. */
static long udpgen_xform_unhex(const char *s, size_t n, uint8_t *out, size_t cap)
{
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = udpgen_xform_hex(s[i]), lo = udpgen_xform_hex(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static void udpgen_xform_usage(FILE *f)
{
	fprintf(f, "usage: rtpanchor-udpgen protect|unprotect --srtp KEY [--window N]\n"
		   "  one packet per stdin line in hex; one stdout line each: 'ok HEX' or the\n"
		   "  verdict (auth_fail, replay, srtp_other). KEY as for send --srtp (see\n"
		   "  rtpanchor-udpgen --help). RTCP is told apart by packet type (RFC 5761).\n"
		   "  --window: unprotect's replay window (64..32768, default 128).\n");
}

int udpgen_xform_main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"srtp", required_argument, NULL, 's'},
	    {"window", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static uint8_t pkt[XFORM_MAX + UDPGEN_SRTP_TRAILER];
	bool protect = strcmp(argv[1], "protect") == 0, have_key = false;
	struct udpgen_srtp_key key;
	struct udpgen_srtp *ctx;
	unsigned long window = 0;
	char err[160], *line = NULL, *end;
	size_t cap = 0;
	ssize_t n;
	int c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (udpgen_srtp_parse(optarg, &key, err, sizeof(err)) != 0) {
				fprintf(stderr, "rtpanchor-udpgen: --srtp: %s\n", err);
				return 2;
			}
			have_key = true;
			break;
		case 'w':
			errno = 0;
			window = strtoul(optarg, &end, 10);
			if (errno || *optarg == '\0' || *end != '\0' || window < 64 ||
			    window > 32768) {
				fprintf(stderr, "rtpanchor-udpgen: bad --window '%s' (64..32768)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			udpgen_xform_usage(stdout);
			return 0;
		default:
			udpgen_xform_usage(stderr);
			return 2;
		}
	}
	if (!have_key || optind < argc) {
		udpgen_xform_usage(stderr);
		return 2;
	}
	ctx = udpgen_srtp_create(&key, protect, (unsigned)window);
	memset(&key, 0, sizeof(key));
	if (!ctx)
		return 3;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		enum udpgen_srtp_verdict v;
		size_t len;
		long got;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		got = udpgen_xform_unhex(line, (size_t)n, pkt, XFORM_MAX);
		if (got < 8) {
			printf("error not hex of 8..%u bytes\n", XFORM_MAX);
			fflush(stdout);
			continue;
		}
		len = (size_t)got;
		if (protect)
			v = udpgen_srtp_protect(ctx, pkt, &len, udpgen_srtp_is_rtcp(pkt, len));
		else
			v = udpgen_srtp_unprotect(ctx, pkt, &len, udpgen_srtp_is_rtcp(pkt, len));
		if (v == UDPGEN_SRTP_OK) {
			fputs("ok ", stdout);
			for (size_t i = 0; i < len; i++)
				printf("%02x", pkt[i]);
			putchar('\n');
		} else {
			puts(v == UDPGEN_SRTP_AUTH     ? "auth_fail"
			     : v == UDPGEN_SRTP_REPLAY ? "replay"
						       : "srtp_other");
		}
		fflush(stdout);
	}
	free(line);
	udpgen_srtp_destroy(ctx);
	return 0;
}
