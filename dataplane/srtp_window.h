/* HOT. SRTP packet index estimation (RFC 3711 §3.3.1, Appendix A) and the replay window
 * (§3.3.2) over a circular bitmap. Pure functions on state the caller owns; run by the
 * worker that owns the stream, no atomics.
 *
 * The bitmap holds `size` bits (a power of two, >= the window): bit (i & (size-1)) says
 * whether index i was accepted, meaningful for indices in (top - size, top]. An index more
 * than `window - 1` below top is too old, whatever its bit says. */
#ifndef DP_SRTP_WINDOW_H
#define DP_SRTP_WINDOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum srtp_window_check {
	SRTP_WIN_NEW = 0, /* not seen: accept (after authentication) */
	SRTP_WIN_DUP,	  /* accepted before */
	SRTP_WIN_OLD,	  /* below the window */
};

/* Bits of storage a window of `window` packets needs (power of two, at least 64). */
static inline uint32_t srtp_window_size(uint32_t window)
{
	uint32_t s = 64;

	while (s < window)
		s <<= 1;
	return s;
}

static inline enum srtp_window_check srtp_window_check(uint64_t top, bool started, uint32_t window,
						       uint32_t size, const uint64_t *map,
						       uint64_t i)
{
	uint32_t b;

	if (!started || i > top)
		return SRTP_WIN_NEW;
	if (top - i >= window)
		return SRTP_WIN_OLD;
	b = (uint32_t)(i & (size - 1));
	return (map[b >> 6] >> (b & 63)) & 1 ? SRTP_WIN_DUP : SRTP_WIN_NEW;
}

/* Clear `n` bits starting at bit `p` (circular). */
static inline void srtp_window_clear(uint64_t *map, uint32_t size, uint32_t p, uint32_t n)
{
	while (n > 0) {
		uint32_t off = p & 63, k = 64 - off < n ? 64 - off : n;
		uint64_t mask = k == 64 ? ~0ull : ((1ull << k) - 1) << off;

		map[p >> 6] &= ~mask;
		p = (p + k) & (size - 1);
		n -= k;
	}
}

/* Record index i as accepted; srtp_window_check(i) must have said SRTP_WIN_NEW. A window
 * not started yet starts at i (the caller then marks it started). */
static inline void srtp_window_accept(uint64_t *top, bool started, uint32_t size, uint64_t *map,
				      uint64_t i)
{
	uint32_t b;

	if (!started || i > *top) {
		uint64_t d = started ? i - *top : size;

		if (d >= size)
			memset(map, 0, size / 8);
		else if (d > 1)
			srtp_window_clear(map, size, (uint32_t)((*top + 1) & (size - 1)),
					  (uint32_t)d - 1);
		*top = i;
	}
	b = (uint32_t)(i & (size - 1));
	map[b >> 6] |= 1ull << (b & 63);
}

/* RFC 3711 §3.3.1: the rollover counter the sender most likely used for `seq`, given the
 * highest sequence s_l seen with rollover counter roc. Returns the 48-bit index, or -1
 * when the guess is ROC - 1 with ROC 0 (a packet from before the stream began). */
static inline int64_t srtp_index_guess(uint32_t roc, uint16_t s_l, uint16_t seq)
{
	int64_t v = roc;

	if (s_l < 32768) {
		if ((int32_t)seq - (int32_t)s_l > 32768)
			v = (int64_t)roc - 1;
	} else if ((int32_t)s_l - 32768 > (int32_t)seq) {
		v = (int64_t)roc + 1;
	}
	if (v < 0)
		return -1;
	return (int64_t)(((uint64_t)(uint32_t)v << 16) | seq) & 0xffffffffffffll;
}

#endif
