/* rtpanchor-bench-ctl's requests: an Asterisk-style offer and a FreeSWITCH-style answer,
 * as carriers see them, and the call's ids, different for every call. Built by appending
 * (no printf: this runs for every command, on the loop threads, whose CPU is taken from
 * Redis and control). Pure; any thread. */
#include "ctlbench.h"

#include <string.h>

struct sb {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct sb *b, const char *s, size_t n)
{
	if (b->full || n > b->cap - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void putu(struct sb *b, uint64_t v)
{
	char d[20];
	size_t n = ctlbench_utoa(v, d);

	put(b, d, n);
}

static size_t done(const struct sb *b)
{
	return b->full ? 0 : b->len;
}

size_t ctlbench_utoa(uint64_t v, char d[20])
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		d[i] = t[n - 1 - i];
	return n;
}

size_t ctlbench_sdp_offer(char *buf, size_t len, unsigned cl, uint64_t seq, bool video)
{
	unsigned host = 10 + cl % 200, port = 10000 + (unsigned)(seq % 20000) * 2;
	struct sb b = {.p = buf, .cap = len};

	PUTS(&b, "v=0\r\no=- ");
	putu(&b, 1700000000 + seq);
	PUTS(&b, " ");
	putu(&b, 1700000000 + seq);
	PUTS(&b, " IN IP4 192.0.2.");
	putu(&b, host);
	PUTS(&b, "\r\ns=Asterisk\r\nc=IN IP4 192.0.2.");
	putu(&b, host);
	PUTS(&b, "\r\nt=0 0\r\nm=audio ");
	putu(&b, port);
	PUTS(&b, " RTP/AVP 0 8 9 101\r\n"
		 "a=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:8 PCMA/8000\r\n"
		 "a=rtpmap:9 G722/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n"
		 "a=fmtp:101 0-16\r\n"
		 "a=ptime:20\r\n"
		 "a=maxptime:150\r\n"
		 "a=sendrecv\r\n");
	if (video) {
		PUTS(&b, "m=video ");
		putu(&b, port + 40000 < 65534 ? port + 40000 : port + 2);
		PUTS(&b, " RTP/AVP 99\r\n"
			 "b=AS:2048\r\n"
			 "a=rtpmap:99 H264/90000\r\n"
			 "a=fmtp:99 profile-level-id=42e01f;packetization-mode=1\r\n"
			 "a=sendrecv\r\n");
	}
	return done(&b);
}

size_t ctlbench_sdp_answer(char *buf, size_t len, unsigned cl, uint64_t seq, bool video)
{
	unsigned host = 10 + cl % 200, port = 20000 + (unsigned)(seq % 20000) * 2;
	struct sb b = {.p = buf, .cap = len};

	PUTS(&b, "v=0\r\no=FreeSWITCH ");
	putu(&b, 1600000000 + seq);
	PUTS(&b, " ");
	putu(&b, 1600000001 + seq);
	PUTS(&b, " IN IP4 198.51.100.");
	putu(&b, host);
	PUTS(&b, "\r\ns=FreeSWITCH\r\nc=IN IP4 198.51.100.");
	putu(&b, host);
	PUTS(&b, "\r\nt=0 0\r\nm=audio ");
	putu(&b, port);
	PUTS(&b, " RTP/AVP 8 101\r\n"
		 "a=rtpmap:8 PCMA/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n"
		 "a=fmtp:101 0-16\r\n"
		 "a=ptime:20\r\n"
		 "a=sendrecv\r\n"
		 "a=rtcp:");
	putu(&b, port + 1);
	PUTS(&b, " IN IP4 198.51.100.");
	putu(&b, host);
	PUTS(&b, "\r\n");
	if (video) {
		PUTS(&b, "m=video ");
		putu(&b, port + 2);
		PUTS(&b, " RTP/AVP 99\r\n"
			 "a=rtpmap:99 H264/90000\r\n"
			 "a=fmtp:99 profile-level-id=42e01f;packetization-mode=1\r\n"
			 "a=sendrecv\r\n");
	}
	return done(&b);
}

bool ctlbench_call_ids(char *call_id, size_t cl_len, char *from_tag, char *to_tag, size_t tag_len,
		       long pid, unsigned cl, uint64_t seq)
{
	struct sb b = {.p = call_id, .cap = cl_len - 1};
	struct sb f = {.p = from_tag, .cap = tag_len - 1};
	struct sb t = {.p = to_tag, .cap = tag_len - 1};

	PUTS(&b, "bench-");
	putu(&b, (uint64_t)pid);
	PUTS(&b, "-");
	putu(&b, cl);
	PUTS(&b, "-");
	putu(&b, seq);
	PUTS(&b, "@rtpanchor.test");
	PUTS(&f, "ft");
	putu(&f, cl);
	PUTS(&f, "-");
	putu(&f, seq);
	t.len = f.len;
	t.full = f.full;
	if (!f.full) {
		memcpy(to_tag, from_tag, f.len);
		to_tag[0] = 't';
	}
	call_id[b.full ? 0 : b.len] = '\0';
	from_tag[f.full ? 0 : f.len] = '\0';
	to_tag[t.full ? 0 : t.len] = '\0';
	return !b.full && !f.full;
}
