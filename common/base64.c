/* Standard base64 (RFC 4648 section 4) for SDES keys in control, the CLI and the traffic
 * generator. Pure; see include/rtpanchor/base64.h for the contract. */
#include <errno.h>

#include <rtpanchor/base64.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t rpa_base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int rpa_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0, pad = 0, data;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
		pad++;
	data = len - pad;
	if (data == 0 || (pad > 0 && len % 4 != 0) || data % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < data; i++) {
		int v = value_of(s[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -E2BIG;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -EINVAL; /* leftover bits not zero: two spellings would name one key */
	return (int)n;
}
