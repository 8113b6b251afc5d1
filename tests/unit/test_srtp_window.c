/* SRTP index estimation (RFC 3711 §3.3.1) and the replay window (§3.3.2): fixed cases, and
 * a random walk checked against a plain reference (a set of accepted indices). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "srtp_window.h"

static void test_guess(void **unused)
{
	/* Around the wrap: before it, a small SEQ is the next ROC. */
	assert_int_equal(srtp_index_guess(0, 65500, 10), 65536 + 10);
	assert_int_equal(srtp_index_guess(0, 65500, 65501), 65501);
	assert_int_equal(srtp_index_guess(0, 65500, 40000), 40000);
	/* After it, a large SEQ is the previous ROC (late packet). */
	assert_int_equal(srtp_index_guess(1, 5, 65530), 65530);
	assert_int_equal(srtp_index_guess(1, 5, 6), 65536 + 6);
	assert_int_equal(srtp_index_guess(1, 5, 32000), 65536 + 32000);
	/* ...which with ROC 0 is before the stream began. */
	assert_int_equal(srtp_index_guess(0, 5, 65530), -1);
	assert_int_equal(srtp_index_guess(7, 40000, 100), (8ll << 16) + 100);
	assert_int_equal(srtp_index_guess(7, 40000, 8000), (7ll << 16) + 8000);
	assert_int_equal(srtp_index_guess(7, 40000, 7000), (8ll << 16) + 7000);
	/* 48-bit index: ROC 2^32-1 wraps to 0. */
	assert_int_equal(srtp_index_guess(0xffffffffu, 65535, 1), 1);
}

static void test_sizes(void **unused)
{
	assert_int_equal(srtp_window_size(64), 64);
	assert_int_equal(srtp_window_size(65), 128);
	assert_int_equal(srtp_window_size(128), 128);
	assert_int_equal(srtp_window_size(1000), 1024);
	assert_int_equal(srtp_window_size(32768), 32768);
}

static void test_fixed(void **unused)
{
	uint64_t map[2] = {0}, top = 0;
	bool started = false;
	const uint32_t window = 100, size = 128;

	assert_int_equal(srtp_window_check(top, started, window, size, map, 5000), SRTP_WIN_NEW);
	srtp_window_accept(&top, started, size, map, 5000);
	started = true;
	assert_int_equal(srtp_window_check(top, started, window, size, map, 5000), SRTP_WIN_DUP);
	assert_int_equal(srtp_window_check(top, started, window, size, map, 4999), SRTP_WIN_NEW);
	assert_int_equal(srtp_window_check(top, started, window, size, map, 4901), SRTP_WIN_NEW);
	assert_int_equal(srtp_window_check(top, started, window, size, map, 4900), SRTP_WIN_OLD);
	srtp_window_accept(&top, started, size, map, 4950);
	assert_int_equal(srtp_window_check(top, started, window, size, map, 4950), SRTP_WIN_DUP);
	/* Moving up by more than the storage clears everything below. */
	srtp_window_accept(&top, started, size, map, 5000 + 1000);
	assert_int_equal(top, 6000);
	assert_int_equal(srtp_window_check(top, started, window, size, map, 5950), SRTP_WIN_NEW);
	/* Moving up by a bit less than the storage keeps nothing stale. */
	srtp_window_accept(&top, started, size, map, 5990);
	srtp_window_accept(&top, started, size, map, 6000 + 127);
	assert_int_equal(srtp_window_check(top, started, window, size, map, 5990 + 128),
			 SRTP_WIN_NEW);
	assert_int_equal(srtp_window_check(top, started, window, size, map, 6000), SRTP_WIN_OLD);
}

/* Random indices around a moving top against the reference: accepted[] holds every index
 * accepted; an index is OLD when top - i >= window, else DUP when accepted, else NEW. */
static void walk(uint32_t window, unsigned steps, unsigned spread)
{
	uint32_t size = srtp_window_size(window);
	uint64_t *map = calloc(size / 64, sizeof(uint64_t));
	uint8_t *accepted = calloc(1u << 22, 1);
	uint64_t top = 0, base = 1000;
	bool started = false;

	assert_non_null(map);
	assert_non_null(accepted);
	srand(window);
	for (unsigned s = 0; s < steps; s++) {
		uint64_t i = base + (uint64_t)(rand() % spread);
		enum srtp_window_check want, got;

		if (i >= (1u << 22))
			break;
		if (started && i <= top && top - i >= window)
			want = SRTP_WIN_OLD;
		else if (accepted[i])
			want = SRTP_WIN_DUP;
		else
			want = SRTP_WIN_NEW;
		got = srtp_window_check(top, started, window, size, map, i);
		assert_int_equal(got, want);
		if (got == SRTP_WIN_NEW) {
			srtp_window_accept(&top, started, size, map, i);
			started = true;
			accepted[i] = 1;
		}
		if (rand() % 4 == 0)
			base += (uint64_t)(rand() % (spread / 2 + 1));
	}
	free(map);
	free(accepted);
}

static void test_walk(void **unused)
{
	walk(64, 200000, 100);
	walk(128, 200000, 300);
	walk(1000, 200000, 3000);
	walk(32768, 100000, 70000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guess),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
