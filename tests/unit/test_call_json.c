/* Unit tests for a call's JSON state (control/call_json.c): a complex call (forked, held,
 * rejected video, trusted strict caller, rtcp-mux=require, NAT interface, delete-delay)
 * round-trips through text into a fresh table with its ports reserved and behaves the same
 * afterwards; -EEXIST, -EBUSY; and hostile JSON: every member swapped for every other JSON
 * type, and targeted bad values, each refused with a message and no port or call taken;
 * SRTP state (keys, MKIs, modes, profiles) round-trips too, its hostile forms are refused
 * without a key in any message, and format-1 state (before SDES) still restores. */
#include "call_fixture.h"

#include <jansson.h>

static const char SDP_AV[] = "v=0\r\n"
			     "o=- 1234567 1234567 IN IP4 203.0.113.10\r\n"
			     "s=Asterisk\r\n"
			     "c=IN IP4 203.0.113.10\r\n"
			     "t=0 0\r\n"
			     "m=audio 10000 RTP/AVP 0 8 101\r\n"
			     "a=rtpmap:0 PCMU/8000\r\n"
			     "a=rtcp-mux\r\n"
			     "a=sendrecv\r\n"
			     "m=video 10002 RTP/AVP 99\r\n"
			     "a=rtpmap:99 H264/90000\r\n";

static const char SDP_AV_HOLD[] = "v=0\r\n"
				  "o=- 1234567 1234568 IN IP4 203.0.113.10\r\n"
				  "s=Asterisk\r\n"
				  "c=IN IP4 0.0.0.0\r\n"
				  "t=0 0\r\n"
				  "m=audio 10000 RTP/AVP 0 8 101\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtcp-mux\r\n"
				  "a=sendonly\r\n"
				  "m=video 0 RTP/AVP 99\r\n";

static const char SDP_AV_RESUME[] = "v=0\r\n"
				    "o=- 1234567 1234569 IN IP4 203.0.113.10\r\n"
				    "s=Asterisk\r\n"
				    "c=IN IP4 203.0.113.10\r\n"
				    "t=0 0\r\n"
				    "m=audio 10000 RTP/AVP 0 8 101\r\n"
				    "a=rtpmap:0 PCMU/8000\r\n"
				    "a=rtcp-mux\r\n"
				    "a=sendrecv\r\n"
				    "m=video 0 RTP/AVP 99\r\n";

static const char SDP_AV_ANSWER[] = "v=0\r\n"
				    "o=- 99 99 IN IP4 198.51.100.20\r\n"
				    "s=-\r\n"
				    "c=IN IP4 198.51.100.20\r\n"
				    "t=0 0\r\n"
				    "m=audio 20000 RTP/AVP 0\r\n"
				    "a=rtcp-mux\r\n"
				    "m=video 0 RTP/AVP 99\r\n";

static const char SDP_AV_ANSWER2[] = "v=0\r\n"
				     "o=- 77 77 IN IP4 198.51.100.30\r\n"
				     "s=-\r\n"
				     "c=IN IP4 198.51.100.30\r\n"
				     "t=0 0\r\n"
				     "m=audio 2222 RTP/AVP 0\r\n"
				     "m=video 0 RTP/AVP 99\r\n";

/* Build the complex call "cx" in f. */
static struct call *complex_call(struct fix *f)
{
	struct call_result r;

	free(fx_ok(f, CALL_OP_OFFER, "cx", "alice", NULL, SDP_AV,
		   "direction=nat,b trust-address strict-source rtcp-mux=require", T0, NULL));
	free(fx_ok(f, CALL_OP_ANSWER, "cx", "alice", "bob-1", SDP_AV_ANSWER, "asymmetric", T0 + 100,
		   NULL));
	free(
	    fx_ok(f, CALL_OP_ANSWER, "cx", "alice", "bob-2", SDP_AV_ANSWER2, NULL, T0 + 200, NULL));
	free(fx_ok(f, CALL_OP_OFFER, "cx", "alice", "bob-2", SDP_AV_HOLD,
		   "trust-address strict-source", T0 + 300, NULL));
	free(fx_ok(f, CALL_OP_DELETE, "cx", "alice", NULL, NULL, "delete-delay=60", T0 + 400, &r));
	assert_non_null(r.call);
	return r.call;
}

static void check_no_keys(const char *msg);

static json_t *state_json(struct call *c)
{
	json_t *j = call_to_json(c);

	assert_non_null(j);
	return j;
}

static void test_round_trip(void **state)
{
	struct fix *f = fx_new_ranges(30000, 30999), *g = fx_new_ranges(30000, 30999);
	struct call_stream s1[64], s2[64];
	struct call *c, *d, *due[4];
	json_t *j1, *j2, *loaded;
	char err[CALL_ERRLEN] = "";
	char *text, *out1, *out2;
	unsigned n1, n2;

	(void)state;
	c = complex_call(f);
	j1 = state_json(c);
	/* Through text, as it is stored in Redis. */
	text = json_dumps(j1, JSON_COMPACT);
	assert_non_null(text);
	loaded = json_loads(text, 0, NULL);
	assert_non_null(loaded);
	free(text);
	assert_int_equal(calls_restore(g->t, loaded, &d, err, sizeof(err)), 0);
	json_decref(loaded);
	assert_non_null(d);
	assert_ptr_equal(calls_find(g->t, "cx"), d);
	j2 = state_json(d);
	if (!json_equal(j1, j2)) {
		char *a = json_dumps(j1, JSON_SORT_KEYS), *b = json_dumps(j2, JSON_SORT_KEYS);

		fail_msg("round trip differs:\n%s\n%s", a, b);
	}
	json_decref(j2);
	/* Its ports are reserved in the new table exactly as in the old. */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(portalloc_used(g->pa[i]), portalloc_used(f->pa[i]));
	assert_int_equal(portalloc_used(g->pa[1]), 1); /* video was rejected */
	assert_string_equal(call_owner(d), "node1");
	assert_int_equal(call_created_ms(d), T0);
	assert_int_equal(call_updated_ms(d), call_updated_ms(c));
	assert_int_equal(call_delete_at_ms(d), T0 + 60400);
	assert_int_equal(call_dp_tag(d), call_dp_tag(c));
	assert_int_equal(calls_due(g->t, T0 + 60400, due, 4), 1);
	assert_ptr_equal(due[0], d);
	/* The same streams, field by field. */
	n1 = call_streams(c, s1, 64);
	n2 = call_streams(d, s2, 64);
	assert_int_equal(n1, n2);
	assert_true(n1 > 0);
	assert_memory_equal(s1, s2, n1 * sizeof(s1[0]));
	/* And the same behaviour: the same re-offer gives the same SDP (the o= version
	 * continues from the restored one). */
	out1 = fx_ok(f, CALL_OP_OFFER, "cx", "alice", "bob-2", SDP_AV_RESUME, NULL, T0 + 500, NULL);
	out2 = fx_ok(g, CALL_OP_OFFER, "cx", "alice", "bob-2", SDP_AV_RESUME, NULL, T0 + 500, NULL);
	assert_string_equal(out1, out2);
	assert_non_null(strstr(out1, "o=- 1234567 1234569 IN IP4 203.0.113.10\r\n"));
	free(out1);
	free(out2);
	j2 = state_json(calls_find(g->t, "cx"));
	json_decref(j1);
	j1 = state_json(calls_find(f->t, "cx"));
	assert_true(json_equal(j1, j2));
	json_decref(j2);

	/* Loaded already: -EEXIST, nothing reserved twice. */
	assert_int_equal(calls_restore(g->t, j1, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "call 'cx' is loaded already"));
	assert_int_equal(portalloc_used(g->pa[2]), 1);
	json_decref(j1);
	fx_free(f);
	fx_free(g);
}

static void test_busy(void **state)
{
	struct fix *f = fx_new_ranges(30000, 30999), *g = fx_new_ranges(30000, 30999);
	char err[CALL_ERRLEN] = "";
	json_t *j;

	(void)state;
	j = state_json(complex_call(f));
	/* The callee side's pair (on "b") belongs to someone else in g. */
	assert_int_equal(portalloc_reserve(g->pa[1], 40000), 0);
	assert_int_equal(calls_restore(g->t, j, NULL, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "port 40000 on interface 'b' is taken already"));
	assert_null(calls_find(g->t, "cx"));
	/* The pair it had reserved on "nat" first went back. */
	assert_int_equal(portalloc_used(g->pa[2]), 0);
	assert_int_equal(portalloc_used(g->pa[1]), 1);
	assert_int_equal(calls_count(g->t), 0);
	json_decref(j);
	fx_free(f);
	fx_free(g);
}

/* Restore must refuse j (-EINVAL, a message, no call, no port), unless `may_pass`, when
 * it may also succeed (the call is then removed again). */
static void refuse(struct fix *g, json_t *j, bool may_pass, const char *what)
{
	char err[CALL_ERRLEN] = "";
	struct call *c = NULL;
	int rc = calls_restore(g->t, j, &c, err, sizeof(err));

	if (rc == 0 && may_pass) {
		calls_remove(g->t, c, 0);
	} else {
		if (rc != -EINVAL)
			fail_msg("%s: restore returned %d (%s)", what, rc, err);
		if (strncmp(err, "call state: ", 12) != 0)
			fail_msg("%s: message \"%s\"", what, err);
		check_no_keys(err);
		assert_null(c);
	}
	assert_int_equal(calls_count(g->t), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(portalloc_used(g->pa[i]), 0);
}

/* Swap every member and element below `node` for each JSON type it is not. Null is
 * legal for peers, sdp-out entries and addresses. */
static void swap_types(struct fix *g, json_t *root, json_t *node, const char *where)
{
	json_t *repl[6];
	const char *key;
	json_t *v;
	size_t i;

	repl[0] = json_null();
	repl[1] = json_true();
	repl[2] = json_integer(3);
	repl[3] = json_string("x");
	repl[4] = json_array();
	repl[5] = json_object();
	if (json_is_object(node)) {
		/* Keys first: deleting and re-adding a key moves it to the end. */
		json_t *keys = json_array();

		json_object_foreach(node, key, v) json_array_append_new(keys, json_string(key));
		json_array_foreach(keys, i, v)
		{
			json_t *orig;

			key = json_string_value(v);
			orig = json_incref(json_object_get(node, key));
			for (unsigned k = 0; k < 6; k++) {
				if (json_typeof(repl[k]) == json_typeof(orig) ||
				    (json_is_boolean(repl[k]) && json_is_boolean(orig)))
					continue;
				json_object_set(node, key, repl[k]);
				refuse(g, root,
				       k == 0 &&
					   (strcmp(key, "addr") == 0 || strcmp(key, "sdes") == 0 ||
					    strcmp(key, "crypto") == 0),
				       key);
			}
			json_object_del(node, key);
			refuse(g, root, false, key); /* missing */
			json_object_set(node, key, orig);
			swap_types(g, root, orig, key);
			json_decref(orig);
		}
		json_decref(keys);
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, v)
		{
			json_t *orig = json_incref(v);
			bool nullable =
			    strcmp(where, "peers") == 0 || strcmp(where, "sdp-out") == 0;

			for (unsigned k = 0; k < 6; k++) {
				if (json_typeof(repl[k]) == json_typeof(orig) ||
				    (json_is_boolean(repl[k]) && json_is_boolean(orig)))
					continue;
				json_array_set(node, i, repl[k]);
				refuse(g, root, k == 0 && nullable, where);
			}
			json_array_set(node, i, orig);
			swap_types(g, root, orig, where);
			json_decref(orig);
		}
	}
	for (unsigned k = 0; k < 6; k++)
		json_decref(repl[k]);
}

static json_t *path(json_t *root, const char *p)
{
	char buf[128], *save = NULL;
	json_t *n = root;

	snprintf(buf, sizeof(buf), "%s", p);
	for (char *tok = strtok_r(buf, ".", &save); tok != NULL; tok = strtok_r(NULL, ".", &save))
		n = (tok[0] >= '0' && tok[0] <= '9') ? json_array_get(n, (size_t)atoi(tok))
						     : json_object_get(n, tok);
	assert_non_null(n);
	return n;
}

/* Set member `key` of the node at `p` to v (stolen), check refusal, restore. */
static void bad_value(struct fix *g, json_t *root, const char *p, const char *key, json_t *v)
{
	json_t *node = path(root, p);
	json_t *orig = json_incref(json_is_object(node) ? json_object_get(node, key)
							: json_array_get(node, (size_t)atoi(key)));

	if (json_is_object(node))
		json_object_set_new(node, key, v);
	else
		json_array_set_new(node, (size_t)atoi(key), v);
	refuse(g, root, false, key);
	if (json_is_object(node))
		json_object_set_new(node, key, orig);
	else
		json_array_set_new(node, (size_t)atoi(key), orig);
}

static void test_hostile(void **state)
{
	struct fix *f = fx_new_ranges(30000, 30999), *g = fx_new_ranges(30000, 30999);
	char err[CALL_ERRLEN], big[400];
	json_t *j, *arr;

	(void)state;
	j = state_json(complex_call(f));
	/* Sanity: the untouched state restores (and is removed again). */
	refuse(g, j, true, "original");

	{
		json_t *x = json_string("cx"), *y = json_array();

		refuse(g, x, false, "string");
		refuse(g, y, false, "array");
		json_decref(x);
		json_decref(y);
	}
	swap_types(g, j, j, "");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad_value(g, j, "", "format", json_integer(3));
	bad_value(g, j, "", "format", json_integer(0));
	bad_value(g, j, "", "call-id", json_string(""));
	bad_value(g, j, "", "call-id", json_string(big));
	bad_value(g, j, "", "owner", json_string(big));
	bad_value(g, j, "", "created", json_integer(-1));
	bad_value(g, j, "", "active", json_integer(3));
	bad_value(g, j, "", "active", json_integer(0)); /* branches but none active */
	bad_value(g, j, "", "interfaces", json_pack("[s]", "nat"));
	bad_value(g, j, "", "interfaces", json_pack("[s,s]", "nat", "wan"));
	bad_value(g, j, "media.0", "ports", json_pack("[i,i]", 50001, 40000));
	bad_value(g, j, "media.0", "ports", json_pack("[i,i]", 0, 40000));
	bad_value(g, j, "media.0", "ports", json_pack("[i,i]", 70000, 40000));
	bad_value(g, j, "media.0", "ports", json_pack("[i,i,i]", 50000, 40000, 2));
	bad_value(g, j, "media.0", "ports", json_pack("[i,i]", 60000, 40000)); /* not nat's */
	bad_value(g, j, "media.0", "ports", json_pack("[i,i]", 50000, 50000)); /* not b's */
	bad_value(g, j, "parties.0", "tag", json_string(""));
	bad_value(g, j, "parties.1", "tag", json_string("bob-2")); /* twice */
	bad_value(g, j, "parties.0", "flags", json_pack("[s]", "bogus"));
	bad_value(g, j, "parties.0", "flags", json_pack("[s,s,s,s]", "a", "b", "c", "d"));
	bad_value(g, j, "parties.0", "peers", json_pack("[n]"));
	bad_value(g, j, "parties.0.peers.0.rtp", "addr", json_string("not-an-ip"));
	bad_value(g, j, "parties.0.peers.0.rtp", "port", json_integer(70000));
	bad_value(g, j, "parties.0.peers.0", "direction", json_string("sideways"));
	bad_value(g, j, "offer", "from", json_integer(3));
	bad_value(g, j, "offer", "rtcp-mux", json_string("sometimes"));
	bad_value(g, j, "offer", "offered-mux", json_integer(4)); /* 2 sections: bits 0..1 */
	bad_value(g, j, "sdp-out", "0",
		  json_pack("{s:s,s:s}", "version", "12x", "digest", "0123456789abcdef"));
	bad_value(g, j, "sdp-out", "0",
		  json_pack("{s:s,s:s}", "version", "-1", "digest", "0123456789abcdef"));
	bad_value(g, j, "sdp-out", "0",
		  json_pack("{s:s,s:s}", "version", "99999999999999999999", "digest",
			    "0123456789abcdef"));
	bad_value(g, j, "sdp-out", "0",
		  json_pack("{s:s,s:s}", "version", "1", "digest", "0123456789ABCDEZ"));
	/* 33 media sections and 10 parties. */
	arr = json_array();
	for (int i = 0; i < 33; i++)
		json_array_append_new(arr, json_deep_copy(path(j, "media.0")));
	bad_value(g, j, "", "media", arr);
	arr = json_array();
	for (int i = 0; i < 10; i++)
		json_array_append_new(arr, json_deep_copy(path(j, "parties.0")));
	bad_value(g, j, "", "parties", arr);

	/* Still intact after all that. */
	assert_int_equal(calls_restore(g->t, j, NULL, err, sizeof(err)), 0);
	json_decref(j);
	fx_free(f);
	fx_free(g);
}

/* ---- SRTP (SDES) state ---- */

#define KEY_A1 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define KEY_A2 "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"
#define KEY_B  "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj"
#define KEY_G  "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fw=="

static const char SDP_S_OFFER[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 203.0.113.10\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.10\r\n"
    "t=0 0\r\n"
    "m=audio 10000 RTP/SAVPF 0\r\n"
    "a=rtcp-mux\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A1 "|2^31|7:2\r\n"
    "a=crypto:2 AEAD_AES_128_GCM inline:" KEY_G "\r\n"
    "m=video 10002 RTP/SAVP 99\r\n"
    "a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A2 "\r\n";

static const char SDP_S_ANSWER1[] = "v=0\r\n"
				    "o=- 5 5 IN IP4 198.51.100.20\r\n"
				    "s=-\r\n"
				    "c=IN IP4 198.51.100.20\r\n"
				    "t=0 0\r\n"
				    "m=audio 20000 RTP/SAVPF 0\r\n"
				    "a=crypto:3 AEAD_AES_128_GCM inline:" KEY_G "\r\n"
				    "m=video 20002 RTP/SAVP 99\r\n"
				    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n";

static const char SDP_S_ANSWER2[] = "v=0\r\n"
				    "o=- 6 6 IN IP4 198.51.100.30\r\n"
				    "s=-\r\n"
				    "c=IN IP4 198.51.100.30\r\n"
				    "t=0 0\r\n"
				    "m=audio 2222 RTP/SAVPF 0\r\n"
				    "a=rtcp-mux\r\n"
				    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "|1:1\r\n"
				    "m=video 2224 RTP/SAVP 99\r\n"
				    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A1 "\r\n";

/* A re-keyed call "sx" (two sections, an MKI, rtcp-mux, two branches that chose other
 * suites) and a passthrough call "pt". */
static void srtp_calls(struct fix *f)
{
	free(fx_ok(f, CALL_OP_OFFER, "sx", "alice", NULL, SDP_S_OFFER, NULL, T0, NULL));
	free(fx_ok(f, CALL_OP_ANSWER, "sx", "alice", "bob-1", SDP_S_ANSWER1, NULL, T0 + 100, NULL));
	free(fx_ok(f, CALL_OP_ANSWER, "sx", "alice", "bob-2", SDP_S_ANSWER2, NULL, T0 + 200, NULL));
	free(fx_ok(f, CALL_OP_OFFER, "pt", "carol", NULL, SDP_S_OFFER, "sdes-passthrough", T0,
		   NULL));
	free(fx_ok(f, CALL_OP_ANSWER, "pt", "carol", "dave", SDP_S_ANSWER1, NULL, T0 + 100, NULL));
}

static void check_no_keys(const char *msg)
{
	static const char *const keys[] = {KEY_A1, KEY_A2, KEY_B, KEY_G};

	for (unsigned k = 0; k < 4; k++)
		for (size_t i = 0; i + 8 <= strlen(keys[k]); i++) {
			char piece[9];

			memcpy(piece, keys[k] + i, 8);
			piece[8] = '\0';
			if (strstr(msg, piece) != NULL)
				fail_msg("\"%s\" contains key material", msg);
		}
}

static void test_srtp_round_trip(void **state)
{
	struct fix *f = fx_new_ranges(30000, 30999), *g = fx_new_ranges(30000, 30999);
	static const char *const ids[] = {"sx", "pt"};
	char err[CALL_ERRLEN] = "";

	(void)state;
	srtp_calls(f);
	for (unsigned c = 0; c < 2; c++) {
		struct call_stream s1[64], s2[64];
		json_t *j1 = state_json(calls_find(f->t, ids[c])), *j2, *loaded;
		char *text = json_dumps(j1, JSON_COMPACT), *out1, *out2;
		unsigned n1, n2;
		struct call *d;

		assert_non_null(text);
		/* The keys live in the state: the parties' (sx) or nobody's (pt). */
		if (c == 0) {
			assert_non_null(strstr(text, "\"key\":\"" KEY_A1 "\""));
			assert_non_null(strstr(text, "\"mki\":7,\"mki-length\":2"));
		} else {
			check_no_keys(text);
			assert_non_null(strstr(text, "\"suite\":\"AEAD_AES_128_GCM\""));
		}
		loaded = json_loads(text, 0, NULL);
		assert_non_null(loaded);
		free(text);
		assert_int_equal(calls_restore(g->t, loaded, &d, err, sizeof(err)), 0);
		json_decref(loaded);
		j2 = state_json(d);
		if (!json_equal(j1, j2)) {
			char *a = json_dumps(j1, JSON_SORT_KEYS),
			     *b = json_dumps(j2, JSON_SORT_KEYS);

			fail_msg("round trip differs:\n%s\n%s", a, b);
		}
		json_decref(j1);
		json_decref(j2);
		/* The same streams, keys and all. */
		n1 = call_streams(calls_find(f->t, ids[c]), s1, 64);
		n2 = call_streams(d, s2, 64);
		assert_int_equal(n1, n2);
		assert_true(n1 >= 3);
		assert_memory_equal(s1, s2, n1 * sizeof(s1[0]));
		for (unsigned k = 0; k < n1 && c == 0; k++)
			assert_int_not_equal(s1[k].dp.rx.suite, RPA_DP_SRTP_NONE);
		/* And the same SDP for the same re-offer: the relay's keys were restored. */
		out1 = fx_ok(f, CALL_OP_OFFER, ids[c], c == 0 ? "alice" : "carol", NULL,
			     SDP_S_OFFER, NULL, T0 + 500, NULL);
		out2 = fx_ok(g, CALL_OP_OFFER, ids[c], c == 0 ? "alice" : "carol", NULL,
			     SDP_S_OFFER, NULL, T0 + 500, NULL);
		assert_string_equal(out1, out2);
		assert_non_null(strstr(out1, "a=crypto:"));
		free(out1);
		free(out2);
	}
	assert_int_equal(f->rnd, 254 + 254); /* sx's two sections; no key since */
	assert_int_equal(g->rnd, 0);
	fx_free(f);
	fx_free(g);
}

/* State written before SDES ("format": 1, no sdes or crypto members) restores as a call
 * without SDES. */
static void test_format_1(void **state)
{
	struct fix *f = fx_new_ranges(30000, 30999), *g = fx_new_ranges(30000, 30999);
	json_t *j = state_json(complex_call(f)), *old = json_deep_copy(j), *m, *p, *peer;
	char err[CALL_ERRLEN] = "";
	struct call *d;
	size_t i, k, q;

	(void)state;
	json_object_set_new(old, "format", json_integer(1));
	json_array_foreach(json_object_get(old, "media"), i, m) json_object_del(m, "sdes");
	json_array_foreach(json_object_get(old, "parties"), k, p)
	{
		json_array_foreach(json_object_get(p, "peers"), q, peer)
		{
			if (json_is_object(peer))
				json_object_del(peer, "crypto");
		}
	}
	assert_int_equal(calls_restore(g->t, old, &d, err, sizeof(err)), 0);
	{
		json_t *again = state_json(d);

		assert_true(json_equal(again, j));
		json_decref(again);
	}
	json_decref(old);
	json_decref(j);
	fx_free(f);
	fx_free(g);
}

static void test_srtp_hostile(void **state)
{
	struct fix *f = fx_new_ranges(30000, 30999), *g = fx_new_ranges(30000, 30999);
	char err[CALL_ERRLEN];
	json_t *j, *pt;

	(void)state;
	srtp_calls(f);
	j = state_json(calls_find(f->t, "sx"));
	pt = state_json(calls_find(f->t, "pt"));
	refuse(g, j, true, "original");
	refuse(g, pt, true, "original passthrough");
	swap_types(g, j, j, "");
	swap_types(g, pt, pt, "");

	bad_value(g, j, "media.0.sdes", "mode", json_string("sideways"));
	bad_value(g, j, "media.0.sdes", "mode", json_string("passthrough")); /* with keys */
	bad_value(g, j, "media.0.sdes", "profiles", json_pack("[s,s]", "RTP/SAVP", "RTP/AVP"));
	bad_value(g, j, "media.0.sdes", "profiles",
		  json_pack("[s,s]", "RTP/SAVP", "UDP/TLS/RTP/SAVPF"));
	bad_value(g, j, "media.0.sdes", "profiles", json_pack("[s]", "RTP/SAVP"));
	bad_value(g, j, "media.0.sdes", "suite", json_string("ROT13"));
	bad_value(g, j, "media.0.sdes.keys.0.0", "key", json_string(KEY_G)); /* 28 bytes */
	bad_value(g, j, "media.0.sdes.keys.0.0", "key", json_string("not base64!"));
	bad_value(g, j, "media.0.sdes.keys.0.0", "key", json_stringn(KEY_A1 "\0AAAA", 45));
	bad_value(g, j, "media.0.sdes.keys.0.0", "suite", json_string("none"));
	bad_value(g, j, "media.0.sdes.keys.0.0", "tag", json_integer(1000000000));
	bad_value(g, j, "media.0.sdes.keys.0.0", "tag", json_integer(-1));
	bad_value(g, j, "media.0.sdes.keys.0.0", "mki-length", json_integer(5));
	bad_value(g, j, "media.0.sdes.keys.0.0", "mki", json_integer(1)); /* length 0 */
	bad_value(g, j, "media.0.sdes.keys.1.1", "tag", json_integer(1)); /* twice */
	bad_value(g, j, "media.0.sdes.keys", "1", json_array());	  /* an SRTP side, no key */
	{
		json_t *seven = json_array();

		for (int k = 0; k < 7; k++)
			json_array_append_new(seven,
					      json_deep_copy(path(j, "media.0.sdes.keys.1.0")));
		bad_value(g, j, "media.0.sdes.keys", "1", seven);
	}
	bad_value(g, j, "parties.0.peers.0.crypto", "mki", json_integer(65536)); /* 2 bytes */
	bad_value(g, j, "parties.0.peers.0.crypto", "key", json_string(KEY_B "AAAA"));
	bad_value(g, j, "media.0", "sdes", json_null()); /* the parties' keys remain */
	bad_value(g, pt, "media.0.sdes.keys", "0",
		  json_pack("[O]", path(j, "media.0.sdes.keys.0.0"))); /* passthrough with keys */
	bad_value(g, pt, "media.0.sdes", "profiles", json_pack("[s,s]", "RTP/SAVP", "RTP/AVP"));
	bad_value(g, pt, "parties.0.peers.0", "crypto",
		  json_deep_copy(path(j, "parties.0.peers.0.crypto")));

	assert_int_equal(calls_restore(g->t, j, NULL, err, sizeof(err)), 0);
	assert_int_equal(calls_restore(g->t, pt, NULL, err, sizeof(err)), 0);
	json_decref(j);
	json_decref(pt);
	fx_free(f);
	fx_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip), cmocka_unit_test(test_busy),
	    cmocka_unit_test(test_hostile),    cmocka_unit_test(test_srtp_round_trip),
	    cmocka_unit_test(test_format_1),   cmocka_unit_test(test_srtp_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
