/* The `rtpanchor dataplane` subcommands: argument checking, one dpclient session, text or
 * JSON output. Runs on the CLI's only thread. */
#include "cmd_dataplane.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rtpanchor/addr.h>
#include <rtpanchor/base64.h>
#include <rtpanchor/dpclient.h>

/* What a subcommand's options turned into, checked before connecting so that a usage error
 * is reported as one even when the dataplane is down. */
struct dp_args {
	struct rpa_dp_stream stream; /* add */
	struct rpa_endpoint local;   /* del, get */
	bool by_tag;		     /* flush */
	uint64_t tag;
};

struct dp_sub {
	const char *name;
	const char *synopsis;
	const char *summary;
	const struct cli_opt *opts;
	/* vals from cli_parse -> args; CLI_EXIT_USAGE after a message, or 0. */
	int (*prepare)(const char *cmd, const char **vals, struct dp_args *a);
	int (*run)(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g);
};

enum {
	ADD_LOCAL,
	ADD_SRC,
	ADD_DST,
	ADD_EXPECT,
	ADD_NO_LATCH,
	ADD_STRICT,
	ADD_WINDOW,
	ADD_TAG,
	ADD_RTCP,
	ADD_MUX,
	ADD_RX_SUITE,
	ADD_RX_KEY,
	ADD_RX_MKI,
	ADD_TX_SUITE,
	ADD_TX_KEY,
	ADD_TX_MKI,
	ADD_REPLAY,
	ADD_NOPTS
};

static const struct cli_opt add_opts[] = {
    [ADD_LOCAL] = {"local", "IP:PORT", true,
		   "media address and UDP port the packets arrive on (the stream's key)"},
    [ADD_SRC] = {"src", "IP:PORT", true,
		 "media address and port to send from (the address picks the egress port)"},
    [ADD_DST] = {"dst", "IP:PORT", false,
		 "peer to send to; omitted = learnt when the reverse stream latches"},
    [ADD_EXPECT] = {"expect", "IP:PORT", false,
		    "accepted source; omitted with latching = the first packet's source"},
    [ADD_NO_LATCH] = {"no-latch", NULL, false,
		      "do not learn the peer from received packets (latching is on by "
		      "default)"},
    [ADD_STRICT] = {"strict", NULL, false,
		    "drop packets from any other source than the expected or latched one "
		    "(with --no-latch, needs --expect)"},
    [ADD_WINDOW] = {"latch-window-ms", "N", false,
		    "the source may re-latch for N ms after the first latch (default 0 = "
		    "the dataplane's --latch-window)"},
    [ADD_TAG] = {"tag", "N", false,
		 "opaque owner tag, decimal or 0x-hex (default 0); see flush --tag"},
    [ADD_RTCP] = {"rtcp", NULL, false, "the stream carries RTCP only (SRTCP transforms)"},
    [ADD_MUX] = {"mux", NULL, false,
		 "RTP and RTCP share the port (RFC 5761): packet types 192..223 are RTCP"},
    [ADD_RX_SUITE] = {"rx-suite", "SUITE", false,
		      "unprotect arriving packets: AES_CM_128_HMAC_SHA1_80, "
		      "AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32, "
		      "AEAD_AES_128_GCM, AEAD_AES_256_GCM or none (default)"},
    [ADD_RX_KEY] = {"rx-key", "KEY", false,
		    "master key followed by master salt (as in SDES inline:), base64 or hex; "
		    "needed with --rx-suite"},
    [ADD_RX_MKI] = {"rx-mki", "HEX", false, "MKI carried in each packet, 1..4 bytes in hex"},
    [ADD_TX_SUITE] = {"tx-suite", "SUITE", false,
		      "protect packets sent to dst with SUITE (names as --rx-suite)"},
    [ADD_TX_KEY] = {"tx-key", "KEY", false, "as --rx-key, for --tx-suite"},
    [ADD_TX_MKI] = {"tx-mki", "HEX", false, "as --rx-mki, for --tx-suite"},
    [ADD_REPLAY] = {"replay-window", "N", false,
		    "SRTP replay window in packets, 64..32768 (default 0 = the dataplane's "
		    "--srtp-replay-window)"},
    {NULL, NULL, false, NULL},
};
_Static_assert(ADD_NOPTS + 1 == sizeof(add_opts) / sizeof(add_opts[0]), "add options");

static const struct cli_opt local_opts[] = {
    {"local", "IP:PORT", true, "the stream's local media address and UDP port"},
    {NULL, NULL, false, NULL},
};

static const struct cli_opt flush_opts[] = {
    {"tag", "N", false, "delete only the streams carrying tag N (default: every stream)"},
    {NULL, NULL, false, NULL},
};

static const struct cli_opt no_opts[] = {
    {NULL, NULL, false, NULL},
};

/* Dataplane text is shown as printable ASCII only. */
static const char *clean(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static const char *fmt_mac(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

static bool mac_is_zero(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) == 0;
}

static const char *fmt_duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		snprintf(buf, len,
			 "%" PRIu64 "d %02" PRIu64 "h %02" PRIu64 "m %02" PRIu64 ".%03" PRIu64 "s",
			 s / 86400, s / 3600 % 24, s / 60 % 60, s % 60, ms % 1000);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 "h %02" PRIu64 "m %02" PRIu64 ".%03" PRIu64 "s",
			 s / 3600, s / 60 % 60, s % 60, ms % 1000);
	else if (s >= 60)
		snprintf(buf, len, "%" PRIu64 "m %02" PRIu64 ".%03" PRIu64 "s", s / 60, s % 60,
			 ms % 1000);
	else
		snprintf(buf, len, "%" PRIu64 ".%03" PRIu64 "s", s, ms % 1000);
	return buf;
}

static const struct {
	uint32_t flag;
	const char *name;
} flag_names[] = {
    {RPA_DP_F_LATCH, "latch"},
    {RPA_DP_F_STRICT, "strict"},
    {RPA_DP_F_RTCP, "rtcp"},
    {RPA_DP_F_MUX, "mux"},
};

static const char *fmt_flags(uint32_t flags, char *buf, size_t len)
{
	uint32_t other = flags & ~RPA_DP_F_ALL;
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (flags & flag_names[i].flag)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
					      flag_names[i].name);
	if (other != 0)
		n +=
		    (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "," : "", other);
	if (n == 0)
		snprintf(buf, len, "none");
	return buf;
}

/* Short suite names for the list's SRTP column. */
static const char *suite_short(uint8_t suite)
{
	static const char *const names[RPA_DP_SRTP_SUITE_MAX] = {
	    [RPA_DP_SRTP_NONE] = "none",
	    [RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_80] = "cm128-80",
	    [RPA_DP_SRTP_AES_CM_128_HMAC_SHA1_32] = "cm128-32",
	    [RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_80] = "cm256-80",
	    [RPA_DP_SRTP_AES_256_CM_HMAC_SHA1_32] = "cm256-32",
	    [RPA_DP_SRTP_AEAD_AES_128_GCM] = "gcm128",
	    [RPA_DP_SRTP_AEAD_AES_256_GCM] = "gcm256",
	};

	return suite < RPA_DP_SRTP_SUITE_MAX ? names[suite] : "?";
}

/* "AES_CM_128_HMAC_SHA1_80 mki 0x0102" or "none". */
static const char *fmt_srtp(const struct rpa_dp_srtp *k, char *buf, size_t len)
{
	const char *name = rpa_dp_srtp_suite_name(k->suite);
	size_t n;

	if (k->suite == RPA_DP_SRTP_NONE) {
		snprintf(buf, len, "none");
		return buf;
	}
	n = (size_t)snprintf(buf, len, "%s", name != NULL ? name : "unknown");
	if (k->mki_len > 0 && k->mki_len <= RPA_DP_SRTP_MKI_MAX) {
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " mki 0x");
		for (unsigned i = 0; i < k->mki_len; i++)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%02x", k->mki[i]);
	}
	return buf;
}

static const char *neigh_state(uint8_t state)
{
	switch (state) {
	case RPA_DP_NEIGH_INCOMPLETE:
		return "incomplete";
	case RPA_DP_NEIGH_REACHABLE:
		return "reachable";
	case RPA_DP_NEIGH_STALE:
		return "stale";
	case RPA_DP_NEIGH_FAILED:
		return "failed";
	}
	return "unknown";
}

/* A failed call: the dataplane's refusal (exit 1) or a broken exchange (exit 3). */
static int call_failed(struct dpclient *c, const struct cli_globals *g, const char *what, int rc)
{
	char msg[DPCLIENT_ERRMSG_LEN + 64];
	const char *e = strerror(-rc);

	if (dpclient_remote_error(c))
		return cli_refused(g, what, dpclient_errmsg(c));
	if (strcmp(dpclient_errmsg(c), e) == 0)
		snprintf(msg, sizeof(msg), "%s", e);
	else
		snprintf(msg, sizeof(msg), "%s: %s (%s)", what, dpclient_errmsg(c), e);
	return cli_unreachable(g, msg);
}

static int parse_endpoint(const char *cmd, const char *opt, const char *v, struct rpa_endpoint *out)
{
	if (rpa_endpoint_parse(v, out) < 0)
		return cli_usage_error(cmd,
				       "--%s: '%s' is not IP:PORT (IPv4 a.b.c.d:port or "
				       "[IPv6]:port, port 1..65535)",
				       opt, v);
	return 0;
}

static int prepare_none(const char *cmd, const char **vals, struct dp_args *a)
{
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits (optional 0x) into out; returns the byte count or -1. */
static int parse_hex(const char *v, uint8_t *out, size_t max)
{
	size_t n = strlen(v), i;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		v += 2;
		n -= 2;
	}
	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)v[2 * i]), lo = hexval((unsigned char)v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

static int parse_suite(const char *v, uint8_t *suite)
{
	if (strcasecmp(v, "none") == 0) {
		*suite = RPA_DP_SRTP_NONE;
		return 0;
	}
	for (unsigned i = 1; i < RPA_DP_SRTP_SUITE_MAX; i++)
		if (strcasecmp(v, rpa_dp_srtp_suite_name(i)) == 0) {
			*suite = (uint8_t)i;
			return 0;
		}
	return -1;
}

/* --{rx,tx}-suite, -key, -mki into one side. The key is never echoed in a message. */
static int prepare_srtp(const char *cmd, const char *side, const char *suite, const char *key,
			const char *mki, struct rpa_dp_srtp *k)
{
	uint8_t buf[64];
	unsigned kl, sl;
	int n;

	if (suite == NULL) {
		if (key != NULL || mki != NULL)
			return cli_usage_error(cmd, "--%s-key and --%s-mki need --%s-suite", side,
					       side, side);
		return 0;
	}
	if (parse_suite(suite, &k->suite) < 0)
		return cli_usage_error(cmd, "--%s-suite: unknown suite '%s'", side, suite);
	if (k->suite == RPA_DP_SRTP_NONE) {
		if (key != NULL || mki != NULL)
			return cli_usage_error(cmd, "--%s-suite none takes no key or MKI", side);
		return 0;
	}
	kl = rpa_dp_srtp_key_len(k->suite);
	sl = rpa_dp_srtp_salt_len(k->suite);
	if (key == NULL)
		return cli_usage_error(cmd, "--%s-suite %s needs --%s-key", side, suite, side);
	/* Hex is exactly twice the length; base64 of the same bytes never is. */
	n = strlen(key) == 2 * (kl + sl) ? parse_hex(key, buf, sizeof(buf)) : -1;
	if (n < 0)
		n = rpa_base64_decode(key, strlen(key), buf, sizeof(buf));
	if (n != (int)(kl + sl)) {
		memset(buf, 0, sizeof(buf));
		return cli_usage_error(cmd,
				       "--%s-key: not %u bytes (%u key + %u salt) in base64 or "
				       "%u hex digits",
				       side, kl + sl, kl, sl, 2 * (kl + sl));
	}
	k->key_len = (uint8_t)kl;
	k->salt_len = (uint8_t)sl;
	memcpy(k->key, buf, kl);
	memcpy(k->salt, buf + kl, sl);
	memset(buf, 0, sizeof(buf));
	if (mki != NULL) {
		n = parse_hex(mki, k->mki, sizeof(k->mki));
		if (n < 0)
			return cli_usage_error(cmd, "--%s-mki: '%s' is not 1..4 bytes in hex", side,
					       mki);
		k->mki_len = (uint8_t)n;
	}
	return 0;
}

static int prepare_add(const char *cmd, const char **vals, struct dp_args *a)
{
	struct rpa_dp_stream *s = &a->stream;
	uint64_t v;
	int rc;

	rc = parse_endpoint(cmd, "local", vals[ADD_LOCAL], &s->local);
	if (rc == 0)
		rc = parse_endpoint(cmd, "src", vals[ADD_SRC], &s->src);
	if (rc == 0 && vals[ADD_DST] != NULL)
		rc = parse_endpoint(cmd, "dst", vals[ADD_DST], &s->dst);
	if (rc == 0 && vals[ADD_EXPECT] != NULL)
		rc = parse_endpoint(cmd, "expect", vals[ADD_EXPECT], &s->expect);
	if (rc != 0)
		return rc;
	s->flags = vals[ADD_NO_LATCH] != NULL ? 0 : RPA_DP_F_LATCH;
	if (vals[ADD_STRICT] != NULL)
		s->flags |= RPA_DP_F_STRICT;
	if (vals[ADD_WINDOW] != NULL) {
		if (cli_parse_u64(vals[ADD_WINDOW], UINT32_MAX, &v) < 0)
			return cli_usage_error(cmd, "--latch-window-ms: '%s' is not 0..%u",
					       vals[ADD_WINDOW], UINT32_MAX);
		s->latch_window_ms = (uint32_t)v;
	}
	if (vals[ADD_TAG] != NULL && cli_parse_u64(vals[ADD_TAG], UINT64_MAX, &s->tag) < 0)
		return cli_usage_error(cmd, "--tag: '%s' is not a 64-bit unsigned number",
				       vals[ADD_TAG]);
	if (vals[ADD_RTCP] != NULL)
		s->flags |= RPA_DP_F_RTCP;
	if (vals[ADD_MUX] != NULL)
		s->flags |= RPA_DP_F_MUX;
	rc =
	    prepare_srtp(cmd, "rx", vals[ADD_RX_SUITE], vals[ADD_RX_KEY], vals[ADD_RX_MKI], &s->rx);
	if (rc == 0)
		rc = prepare_srtp(cmd, "tx", vals[ADD_TX_SUITE], vals[ADD_TX_KEY], vals[ADD_TX_MKI],
				  &s->tx);
	if (rc != 0)
		return rc;
	if (vals[ADD_REPLAY] != NULL) {
		if (cli_parse_u64(vals[ADD_REPLAY], UINT32_MAX, &v) < 0)
			return cli_usage_error(cmd, "--replay-window: '%s' is not 0..%u",
					       vals[ADD_REPLAY], UINT32_MAX);
		s->replay_window = (uint32_t)v;
	}
	return 0;
}

static int prepare_local(const char *cmd, const char **vals, struct dp_args *a)
{
	return parse_endpoint(cmd, "local", vals[0], &a->local);
}

static int prepare_flush(const char *cmd, const char **vals, struct dp_args *a)
{
	if (vals[0] == NULL)
		return 0;
	a->by_tag = true;
	if (cli_parse_u64(vals[0], UINT64_MAX, &a->tag) < 0)
		return cli_usage_error(cmd, "--tag: '%s' is not a 64-bit unsigned number", vals[0]);
	return 0;
}

static int print_ok(const struct cli_globals *g, const char *text)
{
	json_t *j;

	if (!g->json) {
		printf("%s\n", text);
		return CLI_EXIT_OK;
	}
	j = json_object();
	json_object_set_new(j, "result", json_string("ok"));
	return cli_json_print(j) < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

static int run_hello(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	struct rpa_dp_hello_reply h;
	char up[64], b[RPA_DP_NAME_LEN];
	json_t *j;
	int rc;

	rc = dpclient_hello(c, &h);
	if (rc < 0)
		return call_failed(c, g, "hello", rc);
	clean(h.build, b, sizeof(b));
	if (g->json) {
		j = json_object();
		json_object_set_new(j, "version", json_integer(h.version));
		json_object_set_new(j, "pid", json_integer(h.pid));
		json_object_set_new(j, "boot_id", cli_json_u64(h.boot_id));
		json_object_set_new(j, "uptime_ms", cli_json_u64(h.uptime_ms));
		json_object_set_new(j, "build", cli_json_str(b));
		return cli_json_print(j) < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
	}
	printf("version:  %u\n"
	       "pid:      %u\n"
	       "boot_id:  0x%016" PRIx64 "\n"
	       "uptime:   %s\n"
	       "build:    %s\n",
	       h.version, h.pid, h.boot_id, fmt_duration(h.uptime_ms, up, sizeof(up)), b);
	return CLI_EXIT_OK;
}

static int run_add(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	char l[RPA_ENDPOINT_STRLEN], text[128];
	int rc;

	rc = dpclient_stream_add(c, &a->stream);
	if (rc < 0)
		return call_failed(c, g, "stream add", rc);
	snprintf(text, sizeof(text), "stream %s added",
		 rpa_endpoint_format(&a->stream.local, l, sizeof(l)));
	return print_ok(g, text);
}

static int run_del(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	char l[RPA_ENDPOINT_STRLEN], text[128];
	int rc;

	rc = dpclient_stream_del(c, &a->local);
	if (rc < 0)
		return call_failed(c, g, "stream del", rc);
	snprintf(text, sizeof(text), "stream %s deleted",
		 rpa_endpoint_format(&a->local, l, sizeof(l)));
	return print_ok(g, text);
}

static json_t *endpoint_json(const struct rpa_endpoint *e)
{
	char buf[RPA_ENDPOINT_STRLEN];

	if (rpa_addr_is_unspec(&e->addr))
		return json_null();
	return json_string(rpa_endpoint_format(e, buf, sizeof(buf)));
}

/* null for plain, else {"suite": NAME, "mki": HEX or null}: never a key. */
static json_t *srtp_json(const struct rpa_dp_srtp *k)
{
	const char *name = rpa_dp_srtp_suite_name(k->suite);
	char mki[2 * RPA_DP_SRTP_MKI_MAX + 1], buf[8];
	json_t *j;

	if (k->suite == RPA_DP_SRTP_NONE)
		return json_null();
	j = json_object();
	if (name == NULL) {
		snprintf(buf, sizeof(buf), "%u", k->suite);
		name = buf;
	}
	json_object_set_new(j, "suite", json_string(name));
	if (k->mki_len == 0 || k->mki_len > RPA_DP_SRTP_MKI_MAX) {
		json_object_set_new(j, "mki", json_null());
	} else {
		for (unsigned i = 0; i < k->mki_len; i++)
			snprintf(mki + 2 * i, sizeof(mki) - 2 * i, "%02x", k->mki[i]);
		json_object_set_new(j, "mki", json_string(mki));
	}
	return j;
}

static json_t *stream_json(const struct rpa_dp_stream_info *si)
{
	const struct rpa_dp_stream *s = &si->stream;
	json_t *j = json_object(), *flags = json_array();
	char buf[16];

	json_object_set_new(j, "local", endpoint_json(&s->local));
	json_object_set_new(j, "src", endpoint_json(&s->src));
	json_object_set_new(j, "dst", endpoint_json(&s->dst));
	json_object_set_new(j, "expect", endpoint_json(&s->expect));
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (s->flags & flag_names[i].flag)
			json_array_append_new(flags, json_string(flag_names[i].name));
	if (s->flags & ~RPA_DP_F_ALL) {
		snprintf(buf, sizeof(buf), "0x%x", s->flags & ~RPA_DP_F_ALL);
		json_array_append_new(flags, json_string(buf));
	}
	json_object_set_new(j, "flags", flags);
	json_object_set_new(j, "latch_window_ms", json_integer(s->latch_window_ms));
	json_object_set_new(j, "tag", cli_json_u64(s->tag));
	json_object_set_new(j, "packets", cli_json_u64(si->packets));
	json_object_set_new(j, "bytes", cli_json_u64(si->bytes));
	json_object_set_new(j, "drops", cli_json_u64(si->drops));
	json_object_set_new(j, "idle_ms",
			    si->idle_ms == UINT64_MAX ? json_null() : cli_json_u64(si->idle_ms));
	json_object_set_new(j, "owner", json_integer(si->owner));
	json_object_set_new(j, "latched", json_boolean(si->latched != 0));
	json_object_set_new(j, "rx_srtp", srtp_json(&s->rx));
	json_object_set_new(j, "tx_srtp", srtp_json(&s->tx));
	json_object_set_new(j, "replay_window", json_integer(s->replay_window));
	json_object_set_new(j, "srtp_auth_fail", cli_json_u64(si->srtp_auth_fail));
	json_object_set_new(j, "srtp_replay", cli_json_u64(si->srtp_replay));
	json_object_set_new(j, "srtp_other", cli_json_u64(si->srtp_other));
	return j;
}

static int run_get(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	char l[RPA_ENDPOINT_STRLEN], sr[RPA_ENDPOINT_STRLEN], d[RPA_ENDPOINT_STRLEN];
	char e[RPA_ENDPOINT_STRLEN], f[32], idle[32], rxs[64], txs[64];
	struct rpa_dp_stream_info si;
	const struct rpa_dp_stream *s = &si.stream;
	int rc;

	rc = dpclient_stream_get(c, &a->local, &si);
	if (rc < 0)
		return call_failed(c, g, "stream get", rc);
	if (g->json)
		return cli_json_print(stream_json(&si)) < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
	if (si.idle_ms == UINT64_MAX)
		snprintf(idle, sizeof(idle), "never (no packet yet)");
	else
		snprintf(idle, sizeof(idle), "%" PRIu64 " ms", si.idle_ms);
	printf("local:            %s\n"
	       "src:              %s\n"
	       "dst:              %s\n"
	       "expect:           %s\n"
	       "flags:            %s\n"
	       "latched:          %s\n"
	       "latch_window_ms:  %u%s\n"
	       "tag:              %" PRIu64 "\n"
	       "owner:            worker %u\n"
	       "packets:          %" PRIu64 "\n"
	       "bytes:            %" PRIu64 "\n"
	       "drops:            %" PRIu64 "\n"
	       "idle:             %s\n"
	       "rx srtp:          %s\n"
	       "tx srtp:          %s\n"
	       "replay_window:    %u\n"
	       "srtp drops:       auth %" PRIu64 ", replay %" PRIu64 ", other %" PRIu64 "\n",
	       rpa_endpoint_format(&s->local, l, sizeof(l)),
	       rpa_endpoint_format(&s->src, sr, sizeof(sr)),
	       rpa_endpoint_format(&s->dst, d, sizeof(d)),
	       rpa_endpoint_format(&s->expect, e, sizeof(e)), fmt_flags(s->flags, f, sizeof(f)),
	       si.latched ? "yes" : "no", s->latch_window_ms,
	       s->latch_window_ms == 0 ? " (dataplane default)" : "", s->tag, si.owner, si.packets,
	       si.bytes, si.drops, idle, fmt_srtp(&s->rx, rxs, sizeof(rxs)),
	       fmt_srtp(&s->tx, txs, sizeof(txs)), s->replay_window, si.srtp_auth_fail,
	       si.srtp_replay, si.srtp_other);
	return CLI_EXIT_OK;
}

/* Streams can number a million: the list is printed as it arrives, never held whole. */
struct list_out {
	const struct cli_globals *g;
	uint64_t n;
	bool failed;
};

#define LIST_FMT "%-21s  %-21s  %-21s  %-21s  %-12s  %-7s  %-17s  %10s  %10s  %12s  %8s  %8s  %5s\n"

static void list_begin(struct list_out *o)
{
	if (o->g->json)
		fputs("{\"streams\":[", stdout);
	else
		printf(LIST_FMT, "LOCAL", "SRC", "DST", "EXPECT", "FLAGS", "LATCHED", "SRTP RX>TX",
		       "TAG", "PACKETS", "BYTES", "DROPS", "IDLE_MS", "OWNER");
}

static int list_entry(const struct rpa_dp_stream_info *si, void *arg)
{
	struct list_out *o = arg;
	const struct rpa_dp_stream *s = &si->stream;
	char l[RPA_ENDPOINT_STRLEN], sr[RPA_ENDPOINT_STRLEN], d[RPA_ENDPOINT_STRLEN];
	char e[RPA_ENDPOINT_STRLEN], f[32], tag[24], pk[24], by[24], dr[24], idle[24], own[12];
	char sr_[24];
	json_t *j;
	char *txt;

	if (o->n++ == 0)
		list_begin(o);
	if (o->g->json) {
		j = stream_json(si);
		txt = cli_json_dumps(j);
		json_decref(j);
		if (txt == NULL) {
			o->failed = true;
			return -ENOMEM;
		}
		printf("%s%s", o->n > 1 ? "," : "", txt);
		free(txt);
		return 0;
	}
	snprintf(tag, sizeof(tag), "%" PRIu64, s->tag);
	snprintf(pk, sizeof(pk), "%" PRIu64, si->packets);
	snprintf(by, sizeof(by), "%" PRIu64, si->bytes);
	snprintf(dr, sizeof(dr), "%" PRIu64, si->drops);
	if (si->idle_ms == UINT64_MAX)
		snprintf(idle, sizeof(idle), "-");
	else
		snprintf(idle, sizeof(idle), "%" PRIu64, si->idle_ms);
	snprintf(own, sizeof(own), "%u", si->owner);
	snprintf(sr_, sizeof(sr_), "%s>%s", suite_short(s->rx.suite), suite_short(s->tx.suite));
	printf(LIST_FMT, rpa_endpoint_format(&s->local, l, sizeof(l)),
	       rpa_endpoint_format(&s->src, sr, sizeof(sr)),
	       rpa_endpoint_format(&s->dst, d, sizeof(d)),
	       rpa_endpoint_format(&s->expect, e, sizeof(e)), fmt_flags(s->flags, f, sizeof(f)),
	       si->latched ? "yes" : "no", sr_, tag, pk, by, dr, idle, own);
	return 0;
}

static int run_list(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	struct list_out o = {.g = g};
	struct cli_globals quiet = *g;
	json_t *err;
	char *txt;
	int rc;

	rc = dpclient_stream_list(c, list_entry, &o);
	if (rc < 0) {
		if (o.n > 0 && g->json) {
			/* Half a list is out: close the JSON, say why it stopped, and keep the
			 * error report to stderr. */
			err = cli_json_str(o.failed ? "out of memory" : dpclient_errmsg(c));
			txt = cli_json_dumps(err);
			json_decref(err);
			printf("],\"result\":\"error\",\"error\":%s}\n", txt ? txt : "null");
			free(txt);
			quiet.json = false;
		}
		fflush(stdout);
		if (o.failed) {
			fprintf(stderr, "rtpanchor: out of memory formatting JSON\n");
			return CLI_EXIT_REFUSED;
		}
		return call_failed(c, &quiet, "stream list", rc);
	}
	if (o.n == 0)
		list_begin(&o);
	if (g->json)
		printf("]}\n");
	else
		printf("%" PRIu64 " stream%s\n", o.n, o.n == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

static json_t *u64_array(const uint64_t *v, unsigned int n)
{
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, cli_json_u64(v[i]));
	return a;
}

static int stats_json(const struct dpclient_stats *st)
{
	const struct rpa_dp_stats *h = &st->hdr;
	json_t *j = json_object(), *ports = json_array(), *workers = json_array();
	json_t *drops = json_object(), *o;
	char buf[RPA_DP_NAME_LEN], mac[24];
	unsigned int i;

	json_object_set_new(j, "uptime_ms", cli_json_u64(h->uptime_ms));
	json_object_set_new(j, "streams", cli_json_u64(h->streams));
	json_object_set_new(j, "streams_max", cli_json_u64(h->streams_max));
	json_object_set_new(j, "neighbours", json_integer(h->neighbours));
	json_object_set_new(j, "tsc_hz", cli_json_u64(h->tsc_hz));
	for (i = 0; i < h->nports; i++) {
		const struct rpa_dp_port_stats *p = &st->ports[i];

		o = json_object();
		json_object_set_new(o, "name", cli_json_str(p->name));
		json_object_set_new(o, "port_id", json_integer(p->port_id));
		json_object_set_new(o, "mac", json_string(fmt_mac(p->mac, mac, sizeof(mac))));
		json_object_set_new(o, "rx_pkts", cli_json_u64(p->rx_pkts));
		json_object_set_new(o, "rx_bytes", cli_json_u64(p->rx_bytes));
		json_object_set_new(o, "tx_pkts", cli_json_u64(p->tx_pkts));
		json_object_set_new(o, "tx_bytes", cli_json_u64(p->tx_bytes));
		json_object_set_new(o, "drops", cli_json_u64(p->drops));
		json_object_set_new(o, "hw_ipackets", cli_json_u64(p->hw_ipackets));
		json_object_set_new(o, "hw_opackets", cli_json_u64(p->hw_opackets));
		json_object_set_new(o, "hw_imissed", cli_json_u64(p->hw_imissed));
		json_object_set_new(o, "hw_ierrors", cli_json_u64(p->hw_ierrors));
		json_object_set_new(o, "hw_oerrors", cli_json_u64(p->hw_oerrors));
		json_array_append_new(ports, o);
	}
	json_object_set_new(j, "ports", ports);
	for (i = 0; i < h->nworkers; i++) {
		const struct rpa_dp_worker_stats *w = &st->workers[i];

		o = json_object();
		json_object_set_new(o, "lcore", json_integer(w->lcore));
		json_object_set_new(o, "rx_pkts", cli_json_u64(w->rx_pkts));
		json_object_set_new(o, "tx_pkts", cli_json_u64(w->tx_pkts));
		json_object_set_new(o, "drops", cli_json_u64(w->drops));
		json_object_set_new(o, "handoff", cli_json_u64(w->handoff));
		json_object_set_new(o, "punted", cli_json_u64(w->punted));
		json_object_set_new(o, "order_timeouts", json_integer(w->order_timeouts));
		json_object_set_new(o, "busy_cycles", cli_json_u64(w->busy_cycles));
		json_object_set_new(o, "idle_cycles", cli_json_u64(w->idle_cycles));
		json_array_append_new(workers, o);
	}
	json_object_set_new(j, "workers", workers);
	for (i = 0; i < h->ndrops; i++) {
		const struct rpa_dp_drop_stats *d = &st->drops[i];

		o = json_object();
		json_object_set_new(o, "total", cli_json_u64(d->total));
		json_object_set_new(o, "per_port", u64_array(d->per_port, h->nports));
		json_object_set_new(o, "per_worker", u64_array(d->per_worker, h->nworkers));
		json_object_set_new(drops, clean(d->name, buf, sizeof(buf)), o);
	}
	json_object_set_new(j, "drops", drops);
	return cli_json_print(j) < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

static bool drop_nonzero(const struct dpclient_stats *st, const struct rpa_dp_drop_stats *d)
{
	unsigned int i;

	if (d->total != 0)
		return true;
	for (i = 0; i < st->hdr.nports; i++)
		if (d->per_port[i] != 0)
			return true;
	for (i = 0; i < st->hdr.nworkers; i++)
		if (d->per_worker[i] != 0)
			return true;
	return false;
}

static void stats_drops_text(const struct dpclient_stats *st)
{
	const struct rpa_dp_stats *h = &st->hdr;
	char align[2 + RPA_DP_MAX_PORTS + RPA_DP_MAX_WORKERS + 1];
	char hdrs[2 + RPA_DP_MAX_PORTS + RPA_DP_MAX_WORKERS][16];
	const char *hp[2 + RPA_DP_MAX_PORTS + RPA_DP_MAX_WORKERS];
	char buf[RPA_DP_NAME_LEN];
	struct cli_table *t;
	unsigned int i, k, ncols = 2u + h->nports + h->nworkers, shown = 0;

	for (i = 0; i < h->ndrops; i++)
		shown += drop_nonzero(st, &st->drops[i]);
	if (shown == 0) {
		printf("drops: none\n");
		return;
	}
	snprintf(hdrs[0], sizeof(hdrs[0]), "DROP REASON");
	snprintf(hdrs[1], sizeof(hdrs[1]), "TOTAL");
	for (k = 0; k < h->nports; k++)
		snprintf(hdrs[2 + k], sizeof(hdrs[0]), "PORT%u", st->ports[k].port_id);
	for (k = 0; k < h->nworkers; k++)
		snprintf(hdrs[2 + h->nports + k], sizeof(hdrs[0]), "W%u", k);
	for (k = 0; k < ncols; k++) {
		hp[k] = hdrs[k];
		align[k] = k == 0 ? 'l' : 'r';
	}
	align[ncols] = '\0';
	t = cli_table_new(align, hp);
	for (i = 0; i < h->ndrops; i++) {
		const struct rpa_dp_drop_stats *d = &st->drops[i];

		if (!drop_nonzero(st, d))
			continue;
		cli_table_cell(t, "%s", clean(d->name, buf, sizeof(buf)));
		cli_table_cell(t, "%" PRIu64, d->total);
		for (k = 0; k < h->nports; k++)
			cli_table_cell(t, "%" PRIu64, d->per_port[k]);
		for (k = 0; k < h->nworkers; k++)
			cli_table_cell(t, "%" PRIu64, d->per_worker[k]);
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
}

static void stats_text(const struct dpclient_stats *st)
{
	static const char *const port_hdr[] = {
	    "PORT",	  "NAME",	"MAC",	     "RX_PKTS",	    "RX_BYTES",
	    "TX_PKTS",	  "TX_BYTES",	"DROPS",     "HW_IPACKETS", "HW_OPACKETS",
	    "HW_IMISSED", "HW_IERRORS", "HW_OERRORS"};
	static const char *const worker_hdr[] = {"WORKER", "LCORE",   "RX_PKTS", "TX_PKTS",
						 "DROPS",  "HANDOFF", "PUNTED",	 "BUSY%"};
	const struct rpa_dp_stats *h = &st->hdr;
	char up[64], buf[RPA_DP_NAME_LEN], mac[24];
	struct cli_table *t;
	unsigned int i;
	uint64_t cyc;

	printf("uptime:      %s\n"
	       "streams:     %" PRIu64 " of %" PRIu64 "\n"
	       "neighbours:  %u\n"
	       "tsc_hz:      %" PRIu64 "\n\n",
	       fmt_duration(h->uptime_ms, up, sizeof(up)), h->streams, h->streams_max,
	       h->neighbours, h->tsc_hz);

	t = cli_table_new("rllrrrrrrrrrr", port_hdr);
	for (i = 0; i < h->nports; i++) {
		const struct rpa_dp_port_stats *p = &st->ports[i];

		cli_table_cell(t, "%u", p->port_id);
		cli_table_cell(t, "%s", clean(p->name, buf, sizeof(buf)));
		cli_table_cell(t, "%s", fmt_mac(p->mac, mac, sizeof(mac)));
		cli_table_cell(t, "%" PRIu64, p->rx_pkts);
		cli_table_cell(t, "%" PRIu64, p->rx_bytes);
		cli_table_cell(t, "%" PRIu64, p->tx_pkts);
		cli_table_cell(t, "%" PRIu64, p->tx_bytes);
		cli_table_cell(t, "%" PRIu64, p->drops);
		cli_table_cell(t, "%" PRIu64, p->hw_ipackets);
		cli_table_cell(t, "%" PRIu64, p->hw_opackets);
		cli_table_cell(t, "%" PRIu64, p->hw_imissed);
		cli_table_cell(t, "%" PRIu64, p->hw_ierrors);
		cli_table_cell(t, "%" PRIu64, p->hw_oerrors);
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
	printf("\n");

	t = cli_table_new("rrrrrrrr", worker_hdr);
	for (i = 0; i < h->nworkers; i++) {
		const struct rpa_dp_worker_stats *w = &st->workers[i];

		cli_table_cell(t, "%u", i);
		cli_table_cell(t, "%u", w->lcore);
		cli_table_cell(t, "%" PRIu64, w->rx_pkts);
		cli_table_cell(t, "%" PRIu64, w->tx_pkts);
		cli_table_cell(t, "%" PRIu64, w->drops);
		cli_table_cell(t, "%" PRIu64, w->handoff);
		cli_table_cell(t, "%" PRIu64, w->punted);
		cyc = w->busy_cycles + w->idle_cycles;
		if (cyc == 0)
			cli_table_cell(t, "-");
		else
			cli_table_cell(t, "%.1f", 100.0 * (double)w->busy_cycles / (double)cyc);
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
	printf("\n");
	stats_drops_text(st);
}

static int run_stats(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	struct dpclient_stats *st;
	int rc;

	st = malloc(sizeof(*st));
	if (st == NULL) {
		fprintf(stderr, "rtpanchor: out of memory\n");
		return CLI_EXIT_REFUSED;
	}
	rc = dpclient_stats(c, st);
	if (rc < 0) {
		free(st);
		return call_failed(c, g, "stats", rc);
	}
	if (g->json) {
		rc = stats_json(st);
	} else {
		stats_text(st);
		rc = CLI_EXIT_OK;
	}
	free(st);
	return rc;
}

/* Neighbours are bounded by the hosts on the media subnets: collected, then printed. */
struct neigh_out {
	const struct cli_globals *g;
	json_t *arr;
	struct cli_table *t;
	unsigned int n;
	bool failed; /* out of memory */
};

static int neigh_entry(const struct rpa_dp_neigh *nb, void *arg)
{
	struct neigh_out *o = arg;
	char ip[RPA_ADDR_STRLEN], mac[24];
	json_t *j;

	o->n++;
	rpa_addr_format(&nb->addr, ip, sizeof(ip));
	fmt_mac(nb->mac, mac, sizeof(mac));
	if (!o->g->json) {
		cli_table_cell(o->t, "%s", ip);
		cli_table_cell(o->t, "%u", nb->port_id);
		cli_table_cell(o->t, "%s", mac_is_zero(nb->mac) ? "-" : mac);
		cli_table_cell(o->t, "%s", neigh_state(nb->state));
		cli_table_cell(o->t, "%u", nb->refs);
		cli_table_cell(o->t, "%u", nb->age_ms);
		cli_table_cell(o->t, "%u", nb->held);
		cli_table_cell(o->t, "%u", nb->probes);
		return 0;
	}
	j = json_object();
	json_object_set_new(j, "ip", json_string(ip));
	json_object_set_new(j, "port_id", json_integer(nb->port_id));
	json_object_set_new(j, "mac", mac_is_zero(nb->mac) ? json_null() : json_string(mac));
	json_object_set_new(j, "state", json_string(neigh_state(nb->state)));
	json_object_set_new(j, "refs", json_integer(nb->refs));
	json_object_set_new(j, "age_ms", json_integer(nb->age_ms));
	json_object_set_new(j, "held", json_integer(nb->held));
	json_object_set_new(j, "probes", json_integer(nb->probes));
	if (json_array_append_new(o->arr, j) < 0) {
		o->failed = true;
		return -ENOMEM;
	}
	return 0;
}

static int run_neigh(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	static const char *const hdr[] = {"IP",	  "PORT",   "MAC",  "STATE",
					  "REFS", "AGE_MS", "HELD", "PROBES"};
	struct neigh_out o = {.g = g};
	json_t *j;
	int rc;

	if (g->json)
		o.arr = json_array();
	else
		o.t = cli_table_new("lrllrrrr", hdr);
	rc = dpclient_neigh_list(c, neigh_entry, &o);
	if (rc < 0) {
		json_decref(o.arr);
		cli_table_free(o.t);
		if (o.failed) {
			fprintf(stderr, "rtpanchor: out of memory\n");
			return CLI_EXIT_REFUSED;
		}
		return call_failed(c, g, "neighbour list", rc);
	}
	if (g->json) {
		j = json_object();
		json_object_set_new(j, "neighbours", o.arr);
		return cli_json_print(j) < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
	}
	cli_table_print(o.t, stdout);
	cli_table_free(o.t);
	printf("%u neighbour%s\n", o.n, o.n == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

static int run_flush(struct dpclient *c, const struct dp_args *a, const struct cli_globals *g)
{
	uint64_t deleted;
	json_t *j;
	int rc;

	rc = dpclient_flush(c, a->by_tag, a->tag, &deleted);
	if (rc < 0)
		return call_failed(c, g, "flush", rc);
	if (g->json) {
		j = json_object();
		json_object_set_new(j, "result", json_string("ok"));
		json_object_set_new(j, "deleted", cli_json_u64(deleted));
		return cli_json_print(j) < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
	}
	if (a->by_tag)
		printf("%" PRIu64 " stream%s with tag %" PRIu64 " deleted\n", deleted,
		       deleted == 1 ? "" : "s", a->tag);
	else
		printf("%" PRIu64 " stream%s deleted\n", deleted, deleted == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

static const struct dp_sub subs[] = {
    {"hello", "", "show the dataplane's protocol version, pid, boot id, uptime and build", no_opts,
     prepare_none, run_hello},
    {"add", "--local IP:PORT --src IP:PORT [OPTIONS]",
     "install a stream, or replace the one on the same --local", add_opts, prepare_add, run_add},
    {"del", "--local IP:PORT", "delete a stream", local_opts, prepare_local, run_del},
    {"get", "--local IP:PORT", "show one stream with its counters", local_opts, prepare_local,
     run_get},
    {"list", "", "list every stream with its counters", no_opts, prepare_none, run_list},
    {"stats", "", "show uptime, port, worker and drop counters (drops only where non-zero)",
     no_opts, prepare_none, run_stats},
    {"neigh", "", "list the neighbour (ARP) table", no_opts, prepare_none, run_neigh},
    {"flush", "[--tag N]", "delete every stream, or only those carrying a tag", flush_opts,
     prepare_flush, run_flush},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static void dataplane_usage(FILE *f)
{
	const struct dp_sub *s;
	char left[64];

	fprintf(f, "Usage: rtpanchor [GLOBAL OPTIONS] dataplane COMMAND [OPTIONS]\n"
		   "\n"
		   "Talk to rtpanchor-dataplane over its control socket.\n"
		   "\n"
		   "Commands:\n");
	for (s = subs; s->name != NULL; s++) {
		snprintf(left, sizeof(left), "%s%s%s", s->name, s->synopsis[0] ? " " : "",
			 s->synopsis);
		cli_print_item(f, left, s->summary);
	}
	for (s = subs; s->name != NULL; s++) {
		if (s->opts[0].name == NULL)
			continue;
		fprintf(f, "\n%s options:\n", s->name);
		cli_print_opt_list(f, s->opts);
	}
	fprintf(f, "\n");
	cli_print_global_opts(f);
	fprintf(f, "\n"
		   "Addresses are a.b.c.d:port (IPv4) or [v6addr]:port, port 1..65535.\n"
		   "--json prints one JSON object on stdout; errors give {\"result\":\"error\","
		   "\"error\":MSG}.\n"
		   "Exit status: 0 success; 1 the dataplane refused the request (its message is\n"
		   "printed); 2 usage error; 3 the dataplane cannot be reached.\n"
		   "'rtpanchor dataplane COMMAND --help' shows one command.\n");
}

static void sub_usage(FILE *f, const struct dp_sub *s)
{
	fprintf(f, "Usage: rtpanchor [GLOBAL OPTIONS] dataplane %s%s%s\n\n%c%s.\n\n", s->name,
		s->synopsis[0] ? " " : "", s->synopsis, toupper((unsigned char)s->summary[0]),
		s->summary + 1);
	cli_print_opts(f, s->opts);
}

int cmd_dataplane(int argc, char **argv, struct cli_globals *g)
{
	const char *vals[32];
	const struct dp_sub *s;
	struct dpclient *c;
	struct dp_args a;
	char cmd[32], eb[DPCLIENT_ERRMSG_LEN];
	int i, rc, err;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			dataplane_usage(stdout);
			return CLI_EXIT_OK;
		}
		rc = cli_global_opt("dataplane", argc, argv, &i, g);
		if (rc == 0)
			return cli_usage_error("dataplane", "unknown option '%s'", argv[i]);
		if (rc != 1)
			return rc;
	}
	if (i >= argc) {
		fprintf(stderr, "rtpanchor: dataplane: no command given\n\n");
		dataplane_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		dataplane_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (s = subs; s->name != NULL; s++)
		if (strcmp(argv[i], s->name) == 0)
			break;
	if (s->name == NULL) {
		fprintf(stderr, "rtpanchor: dataplane: unknown command '%s'\n\n", argv[i]);
		dataplane_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	snprintf(cmd, sizeof(cmd), "dataplane %s", s->name);
	rc = cli_parse(cmd, argc - i - 1, argv + i + 1, s->opts, vals, g);
	if (rc == -1) {
		sub_usage(stdout, s);
		return CLI_EXIT_OK;
	}
	if (rc != 0)
		return rc;
	memset(&a, 0, sizeof(a));
	rc = s->prepare(cmd, vals, &a);
	if (rc != 0)
		return rc;

	c = dpclient_open(cli_socket_path(g), g->timeout_ms, "rtpanchor-cli", &err, eb, sizeof(eb));
	if (c == NULL)
		return cli_unreachable(g, eb);
	rc = s->run(c, &a, g);
	dpclient_close(c);
	explicit_bzero(&a, sizeof(a)); /* SRTP keys */
	return rc;
}
