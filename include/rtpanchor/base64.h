/* Standard base64 (RFC 4648 section 4), the alphabet SDES key parameters use (RFC 4568
 * "inline:"). Pure functions, any thread. Decoding is strict where two spellings could
 * name one key: padding is optional (many SDES peers leave it out) but, when present,
 * exact; the unused low bits of the last character must be zero. */
#ifndef RTPANCHOR_BASE64_H
#define RTPANCHOR_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters rpa_base64_encode writes for n bytes (with padding), without the NUL. */
#define RPA_BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Encode in[0..n) into out, padded, NUL-terminated: out needs RPA_BASE64_LEN(n) + 1
 * bytes. Returns the characters written (without the NUL). */
size_t rpa_base64_encode(const uint8_t *in, size_t n, char *out);

/* Decode s[0..len) into out[0..cap). Returns the number of bytes, -EINVAL when s is empty
 * or not canonical base64 (a character outside the alphabet, bad padding, a length no
 * encoding has, non-zero leftover bits), -E2BIG when the bytes would not fit in cap. On
 * error out may hold part of the result: callers holding keys wipe it. */
int rpa_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap);

#endif
