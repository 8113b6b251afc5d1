/* Unit tests for control/txn.c and control/keys.c: the RESP encoding of a transaction
 * (binary-safe arguments, command count) and the key names. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "txn.h"

static void test_resp(void **state)
{
	static const char want[] = "*1\r\n$5\r\nMULTI\r\n"
				   "*3\r\n$5\r\nLPUSH\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n"
				   "*2\r\n$3\r\nDEL\r\n$0\r\n\r\n"
				   "*1\r\n$4\r\nEXEC\r\n";
	const char *argv[] = {"LPUSH", "k", "a\0b\r\n"};
	const size_t lens[] = {5, 1, 5};
	struct txn t, moved;

	txn_init(&t, "1-1");
	assert_string_equal(t.entry_id, "1-1");
	txn_cmd(&t, 3, argv, lens);
	txn_cmdl(&t, "DEL", "", NULL);
	txn_end(&t);
	assert_int_equal(t.ncmds, 4);
	assert_false(t.failed);
	assert_int_equal(t.len, sizeof(want) - 1);
	assert_memory_equal(t.buf, want, sizeof(want) - 1);

	txn_move(&moved, &t);
	assert_null(t.buf);
	assert_int_equal(t.ncmds, 0);
	assert_int_equal(moved.ncmds, 4);
	txn_free(&moved);
	assert_null(moved.buf);
}

static void test_large(void **state)
{
	static char big[200000];
	struct txn t;

	memset(big, 'x', sizeof(big) - 1);
	txn_init(&t, NULL);
	assert_string_equal(t.entry_id, "");
	for (int i = 0; i < 20; i++)
		txn_cmdl(&t, "SET", "k", big, NULL);
	txn_end(&t);
	assert_false(t.failed);
	assert_int_equal(t.ncmds, 22);
	assert_true(t.len > 20 * sizeof(big));
	txn_free(&t);
}

/* A command list built after txn_clear (reused buffers, no MULTI) appended to a
 * transaction; metrics records move with it. */
static void test_append(void **state)
{
	static const char want[] = "*1\r\n$5\r\nMULTI\r\n"
				   "*2\r\n$3\r\nDEL\r\n$1\r\na\r\n"
				   "*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n"
				   "*2\r\n$3\r\nDEL\r\n$1\r\nc\r\n"
				   "*1\r\n$4\r\nEXEC\r\n";
	struct txn list, t, moved;
	char *buf;

	memset(&list, 0, sizeof(list));
	txn_clear(&list);
	txn_cmdl(&list, "DEL", "x", NULL);
	buf = list.buf;
	list.has_reply = true;
	txn_clear(&list);
	assert_ptr_equal(list.buf, buf); /* kept */
	assert_int_equal(list.len, 0);
	assert_int_equal(list.ncmds, 0);
	assert_false(list.has_reply);
	txn_cmdl(&list, "DEL", "a", NULL);
	txn_cmdl(&list, "DEL", "b", NULL);

	txn_init(&t, NULL);
	txn_append(&t, &list);
	txn_clear(&list);
	txn_append(&t, &list); /* empty: nothing */
	txn_cmdl(&list, "DEL", "c", NULL);
	txn_append(&t, &list);
	for (int i = 0; i < 100; i++)
		txn_count(&t, "offer", i % 2 ? "ok" : "error");
	txn_end(&t);
	assert_false(t.failed);
	assert_int_equal(t.ncmds, 5);
	assert_int_equal(t.len, sizeof(want) - 1);
	assert_memory_equal(t.buf, want, sizeof(want) - 1);
	assert_int_equal(t.ncounts, 100);
	assert_string_equal(t.counts[99].result, "ok");
	assert_string_equal(t.counts[98].result, "error");

	txn_move(&moved, &t);
	assert_null(t.counts);
	assert_int_equal(t.ncounts, 0);
	assert_int_equal(moved.ncounts, 100);
	txn_free(&moved);
	assert_null(moved.counts);

	/* A list that failed to build fails the transaction. */
	list.failed = true;
	txn_init(&t, NULL);
	txn_append(&t, &list);
	assert_true(t.failed);
	txn_free(&t);
	txn_free(&list);
}

static void test_u64(void **state)
{
	char buf[TXN_U64_LEN], ref[32];
	const uint64_t v[] = {0, 7, 10, 99, 1000, 1795609115176ull, UINT32_MAX, UINT64_MAX / 3,
			      UINT64_MAX};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(ref, sizeof(ref), "%" PRIu64, v[i]);
		assert_ptr_equal(txn_u64(v[i], buf), buf);
		assert_string_equal(buf, ref);
	}
	assert_int_equal(strlen(txn_u64(UINT64_MAX, buf)), TXN_U64_LEN - 1);
}

static void test_keys(void **state)
{
	struct options o;
	char buf[KEYS_MAX];

	memset(&o, 0, sizeof(o));
	strcpy(o.key_prefix, "rpa:");
	strcpy(o.node, "n1");
	keys_commands(&o, buf, sizeof(buf));
	assert_string_equal(buf, "rpa:commands");
	keys_events(&o, buf, sizeof(buf));
	assert_string_equal(buf, "rpa:events");
	assert_int_equal(keys_call(&o, "abc@host", buf, sizeof(buf)), strlen("rpa:call:abc@host"));
	assert_string_equal(buf, "rpa:call:abc@host");
	keys_node(&o, buf, sizeof(buf));
	assert_string_equal(buf, "rpa:node:n1");
	keys_node_calls(&o, buf, sizeof(buf));
	assert_string_equal(buf, "rpa:node:n1:calls");
	keys_reply(&o, "17-0", buf, sizeof(buf));
	assert_string_equal(buf, "rpa:reply:17-0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resp),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_u64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
